/*
 * open.c - a message's files: /download fetches those of the message chosen
 * (the newest with files not downloaded yet by default), /openfile hands one
 * to the desktop's opener ($OPENER, else xdg-open), downloading it first.
 *
 * The opener runs as a child of its own, fork+execvp with no shell (a file's
 * name comes from another user and must never be parsed as a command), in a
 * session of its own, its input and output on /dev/null: it must not read
 * the keys nor scribble over the screen. chat-tui never waits for it; the
 * loop reaps it (open_reap), and says so if it failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app.h"
#include "text.h"

char *
open_files_text(const struct chat_message *m, const char *text, int *files, int *fetched)
{
	size_t len = strlen(text) + 2, used = 0;
	char *out;

	/* Room for each file's words and a size of up to 20 digits. */
	len += m->n_attachments * (sizeof "[file: , 1023.9 bytes, downloaded] " + 20);
	for (size_t i = 0; i < m->n_attachments; i++)
		len += text_sanitize(m->attachments[i].name, strlen(m->attachments[i].name), NULL,
				     0);
	if ((out = malloc(len)) == NULL)
		return NULL;
	for (size_t i = 0; i < m->n_attachments; i++) {
		const struct chat_attachment *f = &m->attachments[i];
		double sz = (double)f->size;
		const char *unit = sz >= 1048576 ? "MB" : sz >= 1024 ? "KB" : "bytes";

		sz = sz >= 1048576 ? sz / 1048576 : sz >= 1024 ? sz / 1024 : sz;
		used += (size_t)snprintf(out + used, len - used, "%s[file: ", i ? " " : "");
		used += text_sanitize(f->name, strlen(f->name), out + used, len - used);
		used += (size_t)snprintf(out + used, len - used, ", %.*f %s%s]",
					 unit[0] == 'b' ? 0 : 1, sz, unit,
					 f->path ? ", downloaded" : "");
		++*files;
		*fetched += f->path != NULL;
	}
	if (text[0] != '\0')
		snprintf(out + used, len - used, "\n%s", text);
	return out;
}

char *
open_expand(const char *path)
{
	const char *home = getenv("HOME");
	char *out;

	if (path[0] != '~' || (path[1] != '\0' && path[1] != '/') || home == NULL ||
	    home[0] == '\0')
		return strdup(path);
	if ((out = malloc(strlen(home) + strlen(path))) == NULL)
		return NULL;
	strcpy(out, home);
	strcat(out, path + 1);
	return out;
}

/* ---- the opener ------------------------------------------------------------------ */

/* 1 if prog names a program execvp would find: a path, or on $PATH. */
static int
on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (strchr(prog, '/') != NULL)
		return access(prog, X_OK) == 0;
	while (path != NULL && *path) {
		size_t n = strcspn(path, ":");

		if (snprintf(buf, sizeof buf, "%.*s/%s", (int)n, n ? path : ".", prog) <
			    (int)sizeof buf &&
		    access(buf, X_OK) == 0)
			return 1;
		path += n + (path[n] == ':');
	}
	return 0;
}

/* $OPENER if set (one program, no arguments: no shell splits it), else
 * xdg-open if installed, else NULL. */
static const char *
opener(void)
{
	const char *o = getenv("OPENER");

	if (o != NULL && o[0] != '\0')
		return o;
	return on_path("xdg-open") ? "xdg-open" : NULL;
}

static void
launch(struct app *a, const char *path)
{
	const char *prog = opener();
	pid_t pid;

	if (prog == NULL) {
		app_notice(a, "no opener ($OPENER is not set, no xdg-open): the file is %s", path);
		return;
	}
	if (a->n_openers == (int)(sizeof a->openers / sizeof a->openers[0]))
		open_reap(a);
	if (a->n_openers == (int)(sizeof a->openers / sizeof a->openers[0])) {
		app_notice(a, "too many openers still running; the file is %s", path);
		return;
	}
	pid = fork();
	if (pid < 0) {
		app_notice(a, "cannot start %s: %s; the file is %s", prog, strerror(errno), path);
		return;
	}
	if (pid == 0) {
		char *argv[3] = {(char *)prog, (char *)path, NULL};
		int fd = open("/dev/null", O_RDWR);

		/* Its own session: no signal of this terminal's reaches it, and it
		 * outlives chat-tui if it wants to (a viewer left open). */
		setsid();
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
		execvp(prog, argv);
		_exit(127);
	}
	a->openers[a->n_openers++] = (long)pid;
	app_status(a, "opening %s with %s", path, prog);
}

void
open_reap(struct app *a)
{
	for (int i = 0; i < a->n_openers;) {
		int st;
		pid_t r = waitpid((pid_t)a->openers[i], &st, WNOHANG);

		if (r == 0 || (r < 0 && errno == EINTR)) {
			i++;
			continue;
		}
		if (r > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 127)
			app_notice(a, "the opener %s could not be run", opener() ? opener() : "");
		else if (r > 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
			app_notice(a, "the opener %s failed (exit %d)", opener() ? opener() : "",
				   WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		a->openers[i] = a->openers[--a->n_openers];
	}
}

/* ---- which file ------------------------------------------------------------------ */

/* A message's files as the store has them now: count, and idx's path. */
struct files {
	int idx;
	size_t n;
	char *path; /* malloc'd, NULL: not downloaded */
	char chat[CHAT_CHAT_ID_LEN + 1];
};

static int
got_files(void *arg, const struct chat_message *m)
{
	struct files *f = arg;

	f->n = m->n_attachments;
	snprintf(f->chat, sizeof f->chat, "%s", m->chat_id);
	if (f->idx >= 0 && (size_t)f->idx < m->n_attachments && m->attachments[f->idx].path)
		f->path = strdup(m->attachments[f->idx].path);
	return 0;
}

static int
files_of(struct app *a, const char *id, int idx, struct files *f)
{
	memset(f, 0, sizeof *f);
	f->idx = idx;
	if (chat_message_get(a->c, id, got_files, f) != CHAT_OK) {
		app_notice(a, "no such message here: %s", app_error(a->c));
		return -1;
	}
	return 0;
}

/* The download's arg is what the status line says of it: OPENING for one
 * that goes on to open the file it saved. */
#define FETCHING "downloading"
#define OPENING  "downloading to open"

static void
progress(struct chat_client *c, void *arg, int64_t done, int64_t total)
{
	app_status(chat_client_udata(c), "%s: %d%%", (const char *)arg,
		   total > 0 ? (int)(done * 100 / total) : 100);
}

static void
fetched(struct chat_client *c, void *arg, int err, const char *path)
{
	struct app *a = chat_client_udata(c);
	int then_open = strcmp(arg, OPENING) == 0;

	if (err != CHAT_OK)
		app_notice(a, "download failed: %s", app_why(c, err));
	else
		app_notice(a, "saved %s", path);
	if (err == CHAT_OK && then_open)
		launch(a, path);
	a->dirty_msgs = 1;
}

static void
fetch(struct app *a, const char *id, int idx, const char *out, int then_open)
{
	if (chat_download(a->c, id, (size_t)idx, out, progress, fetched,
			  then_open ? OPENING : FETCHING) != CHAT_OK)
		app_notice(a, "download: %s", app_error(a->c));
	else
		app_status(a, "downloading...");
}

void
open_file(struct app *a, const char *id, int idx)
{
	struct files f;
	struct stat st;

	if (files_of(a, id, idx, &f) != 0)
		return;
	if (f.n == 0)
		app_notice(a, "that message has no file");
	else if ((size_t)idx >= f.n)
		app_notice(a, "that message has %zu file%s", f.n, f.n == 1 ? "" : "s");
	else if (f.path != NULL && stat(f.path, &st) == 0)
		launch(a, f.path);
	else
		/* Not downloaded, or the copy was removed since: fetch it again. */
		fetch(a, id, idx, NULL, 1);
	free(f.path);
}

/* The newest message of the open chat with files (not all downloaded, if
 * undone), or NULL. */
static const struct app_msg *
newest_with_files(const struct app *a, int undone)
{
	for (size_t i = a->n_msgs; i-- > 0;)
		if (a->msgs[i].files > 0 &&
		    (!undone || a->msgs[i].files_fetched < a->msgs[i].files))
			return &a->msgs[i];
	return NULL;
}

/* N of [MSG] [N]: a file's number, 1 the first; idx from 0, or -1. */
static int
file_number(struct app *a, const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || n < 1 || n > CHAT_MAX_ATTACHMENTS) {
		app_notice(a, "N is a file of the message: 1 to %d", CHAT_MAX_ATTACHMENTS);
		return -1;
	}
	return (int)n - 1;
}

/* /openfile [MSG] [N]: file N (1) of message MSG (the newest with files). */
void
open_command(struct app *a, int argc, char **argv)
{
	char id[CHAT_MESSAGE_ID_LEN + 1];
	int idx = 0;

	if (argc > 1) {
		if (app_msg_spec(a, argv[1], id) != 0)
			return;
	} else {
		const struct app_msg *m = newest_with_files(a, 0);

		if (m == NULL) {
			app_notice(a, "no file in this chat");
			return;
		}
		memcpy(id, m->id, sizeof id);
	}
	if (argc > 2 && (idx = file_number(a, argv[2])) < 0)
		return;
	open_file(a, id, idx);
}

/* /download [MSG] [N] [--out PATH]: the files of MSG (default: the newest
 * message with files not downloaded yet), or only its file N; --out names
 * where one file goes. */
void
download_command(struct app *a, int argc, char **argv)
{
	char id[CHAT_MESSAGE_ID_LEN + 1], *args[2] = {NULL, NULL}, *out = NULL;
	int n = 0, idx = -1;
	struct files f;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0) {
			if (++i == argc || out != NULL) {
				app_notice(a, "usage: /download [MSG] [N] [--out PATH]");
				free(out);
				return;
			}
			if ((out = open_expand(argv[i])) == NULL)
				return;
		} else if (n < 2) {
			args[n++] = argv[i];
		} else {
			app_notice(a, "usage: /download [MSG] [N] [--out PATH]");
			free(out);
			return;
		}
	}
	if (n > 0 && app_msg_spec(a, args[0], id) != 0)
		goto done;
	if (n == 0) {
		const struct app_msg *m = newest_with_files(a, 1);

		if (m == NULL) {
			app_notice(a, "no file to download in this chat");
			goto done;
		}
		memcpy(id, m->id, sizeof id);
	}
	if (n > 1 && (idx = file_number(a, args[1])) < 0)
		goto done;
	if (files_of(a, id, idx, &f) != 0)
		goto done;
	free(f.path);
	if (f.n == 0) {
		app_notice(a, "that message has no file");
	} else if (idx >= 0 && (size_t)idx >= f.n) {
		app_notice(a, "that message has %zu file%s", f.n, f.n == 1 ? "" : "s");
	} else if (out != NULL && idx < 0 && f.n > 1) {
		app_notice(a, "--out names one file: say which (/download MSG N --out PATH)");
	} else if (idx >= 0 || f.n == 1) {
		fetch(a, id, idx >= 0 ? idx : 0, out, 0);
	} else {
		for (size_t k = 0; k < f.n; k++)
			fetch(a, id, (int)k, NULL, 0);
	}
done:
	free(out);
}
