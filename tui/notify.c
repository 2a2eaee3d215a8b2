/*
 * notify.c - desktop, terminal and bell notifications (notify.h).
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "notify.h"

static pid_t children[NOTIFY_CHILDREN];
/* notify-send's path, as found on PATH by notify_resolve: run as found,
 * not looked up again (execvp would also try PATH's empty entries, the
 * current directory). */
static char notify_send[PATH_MAX];

/* 1 if an executable name is in one of $PATH's directories (its path in
 * notify_send). */
static int
on_path(const char *name)
{
	const char *path = getenv("PATH"), *p;
	char *file = notify_send;

	if (path == NULL)
		return 0;
	for (p = path;; p++) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		/* An empty entry is the current directory: not trusted here. */
		if (n > 0 && p[0] == '/' &&
		    snprintf(file, sizeof notify_send, "%.*s/%s", (int)n, p, name) <
			    (int)sizeof notify_send &&
		    access(file, X_OK) == 0)
			return 1;
		if (end == NULL) {
			file[0] = '\0';
			return 0;
		}
		p = end;
	}
}

static int
env_has(const char *name, const char *part)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0' && (part == NULL || strstr(v, part) != NULL);
}

enum notify_mode
notify_resolve(enum notify_mode mode)
{
	int desktop = env_has("DBUS_SESSION_BUS_ADDRESS", NULL) && on_path("notify-send");

	if (mode == NOTIFY_DESKTOP)
		return desktop ? NOTIFY_DESKTOP : NOTIFY_BELL;
	if (mode != NOTIFY_AUTO)
		return mode;
	if (desktop)
		return NOTIFY_DESKTOP;
	/* Terminals that show OSC 777 (VTE's, foot, WezTerm, Ghostty) or OSC 9
	 * (kitty, iTerm2, Windows Terminal) as a notification; the others
	 * ignore both silently, so the bell is all they get. */
	if (env_has("VTE_VERSION", NULL) || env_has("TERM", "foot") ||
	    env_has("TERM_PROGRAM", "WezTerm") || env_has("TERM_PROGRAM", "ghostty"))
		return NOTIFY_OSC777;
	if (env_has("TERM", "kitty") || env_has("TERM_PROGRAM", "iTerm") ||
	    env_has("WT_SESSION", NULL))
		return NOTIFY_OSC9;
	return NOTIFY_BELL;
}

char *
notify_clean(const char *s, size_t n, int semicolon, char *out, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, o = 0;

	if (max == 0)
		return out;
	while (i < n && p[i] != '\0') {
		size_t len = p[i] < 0x80             ? 1
			     : (p[i] & 0xe0) == 0xc0 ? 2
			     : (p[i] & 0xf0) == 0xe0 ? 3
			     : (p[i] & 0xf8) == 0xf0 ? 4
						     : 0;
		int ok = len > 0 && i + len <= n;

		for (size_t k = 1; ok && k < len; k++)
			ok = (p[i + k] & 0xc0) == 0x80;
		/* Overlong forms, surrogates and beyond U+10FFFF are not text. */
		if (ok && len == 2 && p[i] < 0xc2)
			ok = 0;
		if (ok && len == 3 &&
		    ((p[i] == 0xe0 && p[i + 1] < 0xa0) || (p[i] == 0xed && p[i + 1] >= 0xa0)))
			ok = 0;
		if (ok && len == 4 &&
		    ((p[i] == 0xf0 && p[i + 1] < 0x90) || p[i] > 0xf4 ||
		     (p[i] == 0xf4 && p[i + 1] >= 0x90)))
			ok = 0;
		if (!ok) {
			if (o + 1 >= max)
				break;
			out[o++] = '?';
			i++;
			continue;
		}
		if (len == 1 && (p[i] < 0x20 || p[i] == 0x7f)) {
			if (o + 1 >= max)
				break;
			out[o++] = ' ';
		} else if (len == 1 && p[i] == ';' && !semicolon) {
			if (o + 1 >= max)
				break;
			out[o++] = ',';
		} else if (len == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
			/* C1 controls (U+0080..U+009F): 0x9b is a CSI by itself. */
			if (o + 1 >= max)
				break;
			out[o++] = ' ';
		} else {
			if (o + len >= max)
				break;
			memcpy(out + o, p + i, len);
			o += len;
		}
		i += len;
	}
	out[o] = '\0';
	return out;
}

size_t
notify_osc(enum notify_mode mode, const char *title, const char *body, char *out, size_t max)
{
	int n;

	if (mode == NOTIFY_OSC777)
		n = snprintf(out, max, "\033]777;notify;%s;%s\033\\", title, body);
	else if (mode == NOTIFY_OSC9)
		n = snprintf(out, max, "\033]9;%s: %s\033\\", title, body);
	else
		return 0;
	return n > 0 && (size_t)n < max ? (size_t)n : 0;
}

static int
spawn(const char *title, const char *body)
{
	int slot = -1, fd;
	pid_t pid;

	notify_reap();
	for (int i = 0; i < NOTIFY_CHILDREN; i++)
		if (children[i] == 0)
			slot = i;
	if (slot < 0 || notify_send[0] == '\0')
		return -1; /* a desktop that does not answer must not pile them up */
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		/* No shell: the text goes as arguments as it is ("--" ends the
		 * options, a body may start with '-'), and the child has
		 * nothing of the terminal's. */
		char *argv[] = {"notify-send", "-a",         "chat-tui", "--",
				(char *)title, (char *)body, NULL};

		signal(SIGPIPE, SIG_DFL);
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
		execv(notify_send, argv);
		_exit(127);
	}
	children[slot] = pid;
	return 0;
}

void
notify_reap(void)
{
	for (int i = 0; i < NOTIFY_CHILDREN; i++)
		if (children[i] > 0 && waitpid(children[i], NULL, WNOHANG) != 0)
			children[i] = 0;
}

enum notify_mode
notify_show(enum notify_mode mode, int bell, const char *title, const char *body, size_t body_len)
{
	char t[NOTIFY_TEXT_MAX], b[NOTIFY_TEXT_MAX], seq[2 * NOTIFY_TEXT_MAX + 32];
	size_t n;

	notify_clean(title, strlen(title), 0, t, sizeof t);
	notify_clean(body, body_len, mode != NOTIFY_OSC777, b, sizeof b);
	if (mode == NOTIFY_DESKTOP && spawn(t, b) != 0)
		mode = NOTIFY_BELL;
	if (mode == NOTIFY_OSC777 || mode == NOTIFY_OSC9) {
		/* Straight to the terminal: an OSC moves no cursor, so curses'
		 * idea of the screen stays right. */
		if ((n = notify_osc(mode, t, b, seq, sizeof seq)) > 0 &&
		    write(STDOUT_FILENO, seq, n) < 0)
			mode = NOTIFY_BELL;
	}
	if ((mode == NOTIFY_BELL || bell) && write(STDOUT_FILENO, "\a", 1) < 0)
		return NOTIFY_OFF;
	return mode;
}
