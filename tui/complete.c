/*
 * complete.c - Tab on the word under the cursor: a file name in /attach and
 * /download --out (~ and ~/ read as the home, directories get a '/', a name
 * with spaces gets quotes), and @name in a message (the open chat's
 * members). Tab adds the longest prefix all candidates share; when that adds
 * nothing (a second Tab), the status line lists them.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyzer.h"
#include "app.h"

#define CANDS 256 /* names kept; a longer listing is cut */

struct cands {
	char *v[CANDS];
	int dir[CANDS];
	size_t n, more;
};

static void
cands_free(struct cands *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i]);
}

/* The copy goes into c->v, which cands_free() frees: the analyzer loses it
 * when c came through a callback's void pointer (add_member). */
ANALYZER_LEAK_FP_BEGIN
static void
cands_add(struct cands *c, const char *s, int dir)
{
	if (c->n == CANDS) {
		c->more++;
		return;
	}
	if ((c->v[c->n] = strdup(s)) != NULL)
		c->dir[c->n++] = dir;
}
ANALYZER_LEAK_FP_END

static int
by_name(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static size_t
common_prefix(const struct cands *c)
{
	size_t n = strlen(c->v[0]);

	for (size_t i = 1; i < c->n; i++) {
		size_t k = 0;

		while (k < n && c->v[i][k] == c->v[0][k])
			k++;
		n = k;
	}
	/* Never half a UTF-8 character. */
	while (n > 0 && ((unsigned char)c->v[0][n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* In name order (a directory's is arbitrary); dir[] goes with v[]. */
static void
list(struct app *a, struct cands *c)
{
	char line[400] = "";
	size_t used = 0;

	for (size_t i = 0; i < c->n; i++) {
		char *d = c->dir[i] ? realloc(c->v[i], strlen(c->v[i]) + 2) : NULL;

		if (d != NULL) {
			c->v[i] = d;
			strcat(d, "/");
		}
	}
	qsort(c->v, c->n, sizeof c->v[0], by_name);

	for (size_t i = 0; i < c->n && used < sizeof line - 1; i++)
		used += (size_t)snprintf(line + used, sizeof line - used, "%s ", c->v[i]);
	if (used >= sizeof line - 1 || c->more)
		app_status(a, "%s...", line);
	else
		app_status(a, "%s", line);
}

/* Replaces what the input line holds from start to the cursor by word
 * (quoted if asked), the rest after the cursor kept. */
static void
put_word(struct app *a, size_t start, const char *word, int quote, const char *end)
{
	const char *rest = a->ed.buf + a->ed.cursor;
	size_t n = start + strlen(word) + strlen(rest) + strlen(end) + 3;
	char *line = malloc(n);

	if (line == NULL)
		return;
	snprintf(line, n, "%.*s%s%s%s%s", (int)start, a->ed.buf, quote ? "\"" : "", word, end,
		 rest);
	n = strlen(rest);
	if (editor_set(&a->ed, line) == 0)
		a->ed.cursor = a->ed.len - n;
	free(line);
}

/* Where the word under the cursor starts (quotes hold spaces, as the
 * commands' split() reads them), and whether it is quoted. */
static size_t
word_start(const struct app *a, int *quoted)
{
	size_t start = 0;
	int in = 0;

	for (size_t i = 0; i < a->ed.cursor; i++) {
		if (a->ed.buf[i] == '"')
			in = !in;
		else if (!in && (a->ed.buf[i] == ' ' || a->ed.buf[i] == '\n'))
			start = i + 1;
	}
	*quoted = start < a->ed.cursor && a->ed.buf[start] == '"';
	return start;
}

/* 1 if the word at start is a file name of its command: any word of
 * /attach before "--" (the caption follows it), the word after --out in
 * /download. */
static int
is_path_word(const struct app *a, size_t start)
{
	const char *b = a->ed.buf;
	size_t cmd = strcspn(b + 1, " \n");

	if (start == 0)
		return 0;
	if (cmd == 6 && strncmp(b + 1, "attach", 6) == 0) {
		for (const char *p = b; (p = strstr(p, " -- ")) != NULL && (size_t)(p - b) < start;
		     p++)
			return 0;
		return 1;
	}
	if ((cmd == 8 && strncmp(b + 1, "download", 8) == 0) ||
	    (cmd == 8 && strncmp(b + 1, "openfile", 8) == 0))
		return start >= 6 && strncmp(b + start - 6, "--out ", 6) == 0;
	return 0;
}

static void
read_dir(const char *dir, const char *base, struct cands *c)
{
	char *path = open_expand(dir[0] ? dir : "."), full[4096];
	DIR *d = path ? opendir(path) : NULL;
	struct dirent *e;
	size_t bl = strlen(base);

	while (d != NULL && (e = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    strncmp(e->d_name, base, bl) != 0 || (e->d_name[0] == '.' && base[0] != '.'))
			continue;
		snprintf(full, sizeof full, "%s/%s", path, e->d_name);
		cands_add(c, e->d_name, stat(full, &st) == 0 && S_ISDIR(st.st_mode));
	}
	if (d != NULL)
		closedir(d);
	free(path);
}

int
complete_path(struct app *a)
{
	int quoted;
	size_t start = word_start(a, &quoted), cl;
	struct cands c = {.n = 0};
	char *word, *slash, *dir;
	int quote;

	if (!is_path_word(a, start))
		return 0;
	word = strndup(a->ed.buf + start + quoted, a->ed.cursor - start - (size_t)quoted);
	if (word == NULL)
		return 1;
	/* "~" alone is the home: "~/". */
	if (strcmp(word, "~") == 0) {
		put_word(a, start, "~/", 0, "");
		free(word);
		return 1;
	}
	slash = strrchr(word, '/');
	dir = strndup(word, slash ? (size_t)(slash - word + 1) : 0);
	if (dir != NULL)
		read_dir(dir, slash ? slash + 1 : word, &c);
	if (c.n == 0) {
		app_status(a, "no file name starts so");
	} else {
		const char *base = slash ? slash + 1 : word, *end;
		size_t bl = strlen(base);
		char *done;

		cl = common_prefix(&c);
		done = malloc(strlen(dir) + cl + 2);
		if (done != NULL) {
			sprintf(done, "%s%.*s", dir, (int)cl, c.v[0]);
			if (c.n == 1 && c.dir[0])
				strcat(done, "/");
			/* A space in what the word becomes: quoted, as split() reads. */
			quote = quoted || strchr(done, ' ') != NULL;
			/* A whole name ends its word; a directory's goes on. */
			end = c.dir[0] ? "" : quote ? "\" " : " ";
			if (c.n == 1)
				put_word(a, start, done, quote, end);
			else if (cl > bl || (quote && !quoted))
				put_word(a, start, done, quote, "");
			else
				list(a, &c);
			free(done);
		}
	}
	cands_free(&c);
	free(dir);
	free(word);
	return 1;
}

/* ---- @mentions ----------------------------------------------------------------------- */

struct members {
	struct cands *c;
	const char *prefix;
	const char *self;
};

static int
add_member(void *arg, const char *user, int admin)
{
	struct members *m = arg;

	(void)admin;
	if (strncmp(user, m->prefix, strlen(m->prefix)) == 0 &&
	    (m->self == NULL || strcmp(user, m->self) != 0))
		cands_add(m->c, user, 0);
	return 0;
}

int
complete_mention(struct app *a)
{
	int quoted;
	size_t start = word_start(a, &quoted), cl;
	struct cands c = {.n = 0};
	struct members m = {&c, NULL, NULL};
	char *word;

	if (a->open[0] == '\0' || a->ed.cursor <= start || a->ed.buf[start] != '@')
		return 0;
	if ((word = strndup(a->ed.buf + start, a->ed.cursor - start)) == NULL)
		return 1;
	m.prefix = word + 1;
	m.self = chat_client_user(a->c);
	(void)chat_members(a->c, a->open, add_member, &m);
	if (c.n == 0) {
		app_status(a, "no member of this chat is called %s...", word);
	} else {
		char done[CHAT_USER_MAX + 3];

		cl = common_prefix(&c);
		snprintf(done, sizeof done, "@%.*s", (int)cl, c.v[0]);
		if (c.n == 1)
			put_word(a, start, done, 0, " ");
		else if (cl > strlen(m.prefix))
			put_word(a, start, done, 0, "");
		else
			list(a, &c);
	}
	cands_free(&c);
	free(word);
	return 1;
}
