/*
 * poll-chat - one chat, line by line: print each message that comes in
 * CHAT as "USER: TEXT", send each line of standard input to CHAT; at the
 * end of the input, exit once all of it is confirmed sent (or at SIGINT
 * or SIGTERM).
 *
 *	poll-chat CHAT [HOME]
 *
 * CHAT and HOME as for send-lines. Exit status 0 when everything read
 * was sent, 1 when something failed, 2 for a usage error.
 *
 * A program with descriptors of its own runs libchat from its own poll()
 * loop, as chat-tui does: chat_client_fd() is one descriptor among its
 * others, chat_client_loop(c, 0) does what is ready without waiting,
 * and runs at least once a second, since deadlines (heartbeats, the next
 * attempt to connect) are checked there. See libchat(3).
 *
 * Build it against the installed library:
 *	cc -std=c11 poll-chat.c \
 *		$(pkg-config --cflags --libs libchat) -o poll-chat
 */
#define _POSIX_C_SOURCE 200809L /* poll(), sigaction() */
#include <chat.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static char chat[CHAT_CHAT_ID_LEN + 1]; /* the chat's full id */
static int unconfirmed; /* sends whose done has not run */
static int failed;      /* one of them failed */

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Prints text that anyone may have written to a terminal: the control
 * characters (C0, DEL and, in UTF-8, C1) that could drive it are shown
 * as '?'. */
static void
put_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char b = (unsigned char)s[i];

		if (b == 0xc2 && i + 1 < n &&
		    (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f) {
			putchar('?');
			i++;
		} else {
			putchar(b < 0x20 || b == 0x7f ? '?' : b);
		}
	}
}

static void
on_message(struct chat_client *c, void *udata,
	   const struct chat_message *m)
{
	(void)c;
	(void)udata;
	/* Messages of other chats are stored all the same: they are in
	 * the history (chatctl history) and acknowledged. */
	if (strcmp(m->chat_id, chat) != 0 ||
	    strcmp(m->kind, "text") != 0)
		return;
	put_text(m->sender, strlen(m->sender));
	printf(": ");
	put_text(m->text, m->text_len);
	printf("\n");
	fflush(stdout);
}

/* May run inside chat_client_destroy(): calls nothing on the handle. */
static void
on_sent(struct chat_client *c, void *arg, int err, const char *id)
{
	(void)c;
	(void)arg;
	unconfirmed--;
	if (err != CHAT_OK) {
		failed = 1;
		fprintf(stderr, "poll-chat: %s: %s\n",
			id ? id : "not sent", chat_strerror(err));
	}
}

/* Sends one line; an empty one is nothing to send. */
static void
send_line(struct chat_client *c, const char *line, size_t len)
{
	int rc;

	if (len == 0)
		return;
	/* Queued at once; libchat sends a chat's messages in the order
	 * they were written, one after another. */
	rc = chat_send_text(c, chat, line, len, NULL, on_sent, NULL);
	if (rc == CHAT_OK) {
		unconfirmed++;
	} else {
		failed = 1;
		fprintf(stderr, "poll-chat: %s\n",
			chat_client_errmsg(c));
	}
}

/* Room for the longest line libchat sends, and its newline. */
static char in[CHAT_MAX_TEXT + 1];
static size_t have;

/* Reads what standard input has (it is readable: this does not block)
 * and sends each whole line. Returns 0 at the end of the input (the
 * last line sent even without its newline), 1 to go on, -1 when it
 * fails. */
static int
read_input(struct chat_client *c)
{
	ssize_t n = read(STDIN_FILENO, in + have, sizeof in - have);
	char *nl;

	if (n < 0 && errno != EINTR)
		perror("poll-chat: standard input");
	if (n < 0)
		return errno == EINTR ? 1 : -1;
	if (n == 0) {
		send_line(c, in, have);
		have = 0;
		return 0;
	}
	have += (size_t)n;
	while ((nl = memchr(in, '\n', have)) != NULL) {
		size_t len = (size_t)(nl - in);

		send_line(c, in, len);
		have -= len + 1;
		memmove(in, nl + 1, have);
	}
	if (have == sizeof in) {
		fprintf(stderr, "poll-chat: a line over %d bytes\n",
			CHAT_MAX_TEXT);
		return -1;
	}
	return 1;
}

int
main(int argc, char **argv)
{
	static const struct chat_callbacks cbs =
		CHAT_CALLBACKS_INIT(.on_message = on_message);
	struct chat_opts opts =
		CHAT_OPTS_INIT(.home = argc > 2 ? argv[2] : NULL,
			       .reconnect = 1);
	struct sigaction sa;
	char msg[256];
	int rc, input = 1; /* 1 until the end of standard input */
	struct chat_client *c;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: poll-chat CHAT [HOME]\n");
		return 2;
	}
	memset(&sa, 0, sizeof sa); /* no SA_RESTART: poll() returns */
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	c = chat_client_new(&opts, NULL, &rc, msg, sizeof msg);
	if (c == NULL) {
		fprintf(stderr, "poll-chat: %s\n", msg);
		return 1;
	}
	rc = chat_client_set_callbacks(c, &cbs);
	if (rc == CHAT_OK)
		rc = chat_resolve_chat(c, argv[1], chat);
	if (rc == CHAT_OK)
		rc = chat_client_connect(c);
	while (rc == CHAT_OK && !stop && (input || unconfirmed > 0)) {
		/* A negative fd is left out by poll(): stdin once it has
		 * ended; libchat's fd is -1 only before it connects. */
		struct pollfd p[2] = {
			{input ? STDIN_FILENO : -1, POLLIN, 0},
			{chat_client_fd(c), POLLIN, 0},
		};
		/* A second, or until the next attempt to connect
		 * (-1: none due). */
		int ms = chat_client_retry_in(c);

		if (ms < 0 || ms > 1000)
			ms = 1000;
		if (poll(p, 2, ms) < 0 && errno != EINTR) {
			perror("poll-chat: poll");
			failed = 1;
			break;
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			int r = read_input(c);

			if (r < 0) {
				failed = 1;
				break;
			}
			input = r > 0;
		}
		/* Whether its fd woke us or not: deadlines too. */
		rc = chat_client_loop(c, 0);
	}
	if (rc != CHAT_OK)
		fprintf(stderr, "poll-chat: %s\n",
			chat_client_errmsg(c));
	/* What is not confirmed by the end of the disconnect fails with
	 * CHAT_ERR_CONNECTION_LOST inside destroy, and stays "pending" in
	 * the home's outbox: it goes out with the next connection. */
	chat_client_disconnect(c);
	chat_client_destroy(c);
	return rc == CHAT_OK && !failed ? 0 : 1;
}
