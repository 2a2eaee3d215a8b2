/*
 * echo-bot - answer every text message with the same text, in the chat
 * it came in, until SIGINT or SIGTERM.
 *
 *	echo-bot [HOME]
 *
 * HOME is a device home registered already (say, with chatctl register
 * bot), by default $CHATCTL_HOME, else chatctl's own. Each answer's id
 * goes to standard output once the server has it; what goes wrong goes
 * to standard error. Exit status 0 after a signal, 1 when libchat gives
 * up (the server refused this device: it was removed, say).
 *
 * A program that lives in the library's own loop (chat_client_loop),
 * with everything done in callbacks. With .reconnect, a lost connection
 * or a restarted server is no end: libchat tries again (after 0.5 s,
 * then twice as long each time up to 30 s) and sends what was not
 * confirmed once it is back. See libchat(3).
 *
 * Two echo bots in one chat would answer each other for ever: this one
 * does not answer itself (or its user's other devices), but cannot tell
 * another bot from a person.
 *
 * Build it against the installed library:
 *	cc -std=c11 echo-bot.c \
 *		$(pkg-config --cflags --libs libchat) -o echo-bot
 */
#define _POSIX_C_SOURCE 200809L /* sigaction() */
#include <chat.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The server has an answer, or it failed. This may run inside
 * chat_client_destroy(), where nothing may be called on the handle: so
 * only err and id are used. */
static void
on_answered(struct chat_client *c, void *arg, int err, const char *id)
{
	(void)c;
	(void)arg;
	if (err == CHAT_OK)
		printf("%s\n", id);
	else
		fprintf(stderr, "echo-bot: answer %s: %s\n",
			id ? id : "not stored", chat_strerror(err));
	fflush(stdout);
}

/* A new message, stored here already: libchat acknowledges it to the
 * server once this returns, and hands no message over twice. */
static void
on_message(struct chat_client *c, void *udata,
	   const struct chat_message *m)
{
	int rc;

	(void)udata;
	/* Not what this user wrote (on another device: outgoing), not a
	 * membership change ("update") or a message that did not decrypt
	 * ("undecryptable"), and not files with no text. */
	if (m->outgoing || strcmp(m->kind, "text") != 0 ||
	    m->text_len == 0)
		return;
	/* Sending from a callback is allowed (chat.h, "Threads and
	 * reentrancy"): the text is copied and the answer stored before
	 * the call returns, and it goes out as the loop runs on. */
	rc = chat_send_text(c, m->chat_id, m->text, m->text_len, NULL,
			    on_answered, NULL);
	if (rc != CHAT_OK)
		fprintf(stderr, "echo-bot: cannot answer %s: %s\n",
			m->message_id, chat_client_errmsg(c));
}

/* Says when the connection comes and goes. */
static void
on_state(struct chat_client *c, void *udata, enum chat_state s, int err)
{
	(void)udata;
	if (s == CHAT_STATE_ONLINE)
		fprintf(stderr, "echo-bot: online as %s\n",
			chat_client_user(c));
	else if (s == CHAT_STATE_WAITING)
		fprintf(stderr, "echo-bot: %s; again in %d ms\n",
			chat_strerror(err), chat_client_retry_in(c));
}

int
main(int argc, char **argv)
{
	static const struct chat_callbacks cbs =
		CHAT_CALLBACKS_INIT(.on_message = on_message,
				    .on_state = on_state);
	struct chat_opts opts =
		CHAT_OPTS_INIT(.home = argc > 1 ? argv[1] : NULL,
			       .reconnect = 1);
	struct sigaction sa;
	char msg[256];
	int rc;
	struct chat_client *c;

	if (argc > 2) {
		fprintf(stderr, "usage: echo-bot [HOME]\n");
		return 2;
	}
	/* No SA_RESTART: a signal ends the wait inside the loop. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	c = chat_client_new(&opts, NULL, &rc, msg, sizeof msg);
	if (c == NULL) {
		fprintf(stderr, "echo-bot: %s\n", msg);
		return 1;
	}
	rc = chat_client_set_callbacks(c, &cbs);
	if (rc == CHAT_OK)
		rc = chat_client_connect(c);
	/* The callbacks run inside chat_client_loop(), which waits at
	 * most a second: the flag a signal sets is seen soon. It fails
	 * only once libchat stops trying to connect. */
	while (rc == CHAT_OK && !stop)
		rc = chat_client_loop(c, 1000);
	if (rc != CHAT_OK)
		fprintf(stderr, "echo-bot: %s\n",
			chat_client_errmsg(c));
	/* Sends the acknowledgements and answers still queued, then
	 * closes; an answer not confirmed by then stays in the home's
	 * outbox and goes out with the next connection. */
	chat_client_disconnect(c);
	chat_client_destroy(c);
	return rc == CHAT_OK ? 0 : 1;
}
