/*
 * send-lines - send each line of standard input to one chat, in order,
 * and exit once the server has confirmed every one.
 *
 *	send-lines CHAT [HOME]
 *
 * CHAT is a chat id, an unambiguous prefix of one, or @USER for the
 * direct chat with USER; HOME is a device home registered already (say,
 * with chatctl register), by default $CHATCTL_HOME, else chatctl's own.
 * Each message's id goes to standard output once the server has it.
 * Empty lines are skipped: a message has text. Exit status 0 when every
 * line was sent, 1 when one failed (those before it were sent), 2 for a
 * usage error.
 *
 * A program that blocks: each call runs the library's loop until its
 * callback has run (chat_client_run_until). See libchat(3).
 *
 * Build it against the installed library:
 *	cc -std=c11 send-lines.c \
 *		$(pkg-config --cflags --libs libchat) -o send-lines
 */
#define _POSIX_C_SOURCE 200809L /* getline() */
#include <chat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One asynchronous call: its done callback fills this in. */
struct call {
	volatile int done; /* what chat_client_run_until() waits for */
	int err;
	char id[64];
};

static void
on_done(struct chat_client *c, void *arg, int err, const char *id)
{
	struct call *k = arg;

	(void)c;
	k->err = err;
	snprintf(k->id, sizeof k->id, "%s", id ? id : "");
	k->done = 1;
}

/* Runs the loop until the call that returned rc is done (when rc is
 * CHAT_OK: else its done never runs); returns the call's result. */
static int
finish(struct chat_client *c, struct call *k, int rc)
{
	if (rc == CHAT_OK)
		rc = chat_client_run_until(c, &k->done, 30000);
	return rc == CHAT_OK ? k->err : rc;
}

int
main(int argc, char **argv)
{
	/* send_only: this program takes no delivery, so what arrives
	 * meanwhile stays on the server for a program that shows it. */
	struct chat_opts opts =
		CHAT_OPTS_INIT(.home = argc > 2 ? argv[2] : NULL,
			       .send_only = 1);
	/* Lives until chat_client_destroy(): a call that timed out may
	 * still complete inside it, and its done writes here. */
	struct call send;
	char chat[CHAT_CHAT_ID_LEN + 1], msg[256], *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long n = 0; /* lines read */
	int rc, status;
	struct chat_client *c;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: send-lines CHAT [HOME]\n");
		return 2;
	}
	c = chat_client_new(&opts, NULL, &rc, msg, sizeof msg);
	if (c == NULL) {
		fprintf(stderr, "send-lines: %s\n", msg);
		return 1;
	}
	/* "@bob" or a prefix to the full id, from the local store. */
	rc = chat_resolve_chat(c, argv[1], chat);
	while (rc == CHAT_OK &&
	       (len = getline(&line, &cap, stdin)) > 0) {
		n++;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		/* The first send connects. The next line goes only once
		 * this one is confirmed: that keeps them in order (so
		 * would libchat, which sends a chat's messages in the
		 * order they were written) and stops at the first that
		 * fails. */
		memset(&send, 0, sizeof send);
		rc = finish(c, &send,
			    chat_send_text(c, chat, line, (size_t)len,
					   NULL, on_done, &send));
		if (rc == CHAT_OK)
			printf("%s\n", send.id);
	}
	/* A line whose send failed for the network stays in the home's
	 * outbox, "pending": it goes out with the next connection of any
	 * program on this home. */
	if (rc != CHAT_OK && n == 0)
		fprintf(stderr, "send-lines: %s: %s\n", argv[1],
			chat_client_errmsg(c));
	else if (rc != CHAT_OK)
		fprintf(stderr, "send-lines: line %ld: %s\n", n,
			chat_client_errmsg(c));
	else if (ferror(stdin))
		perror("send-lines: standard input");
	status = rc == CHAT_OK && !ferror(stdin) ? 0 : 1;
	chat_client_disconnect(c);
	chat_client_destroy(c);
	free(line);
	return status;
}
