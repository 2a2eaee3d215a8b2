/*
 * test_ws.c - the libwebsockets transport against servers that fail while
 * a connection is being made: a port that refuses, a server that accepts
 * the TCP connection and never answers the WebSocket handshake, and one
 * that hangs up during it. Each time the attempt must end (the call's done
 * gets CHAT_ERR_CONNECT, the state goes OFFLINE), and nothing of the
 * connection lws has freed may be touched afterwards (ASan watches).
 *
 * Real sockets on 127.0.0.1, no chat-server: what is tested is what lws
 * tells libchat when a handshake goes wrong, and what libchat does with it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "chat.h"

/* How the listening socket behaves. */
enum server {
	REFUSE, /* nothing listens on the port */
	SILENT, /* the kernel accepts, the server never reads nor answers */
	HANG_UP /* the server accepts and closes at once (killed mid-handshake) */
};

struct attempt {
	int done, err;
};

static void
on_done(struct chat_client *c, void *arg, int err, const char *id)
{
	struct attempt *a = arg;

	(void)c;
	(void)id;
	a->done++;
	a->err = err;
}

/* A listening socket on 127.0.0.1 (for REFUSE, closed again: the port
 * refuses); *port gets its port. Returns the socket, or -1 for REFUSE. */
static int
listener(enum server how, int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	if (how == REFUSE) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
remove_home(const char *home)
{
	char p[128];

	for (const char *const *f = (const char *const[]){"store.db", "store.db-wal",
							  "store.db-shm", "identity.key", NULL};
	     *f != NULL; f++) {
		snprintf(p, sizeof p, "%s/%s", home, *f);
		unlink(p);
	}
	rmdir(home);
}

/* One registration against a server that behaves as how says: it fails
 * with CHAT_ERR_CONNECT, once, and the handle is offline after it. */
static void
attempt(enum server how)
{
	char home[] = "/tmp/test_ws.XXXXXX", url[64];
	struct attempt a = {0};
	struct chat_client *c;
	int port, lfd = listener(how, &port);

	assert_non_null(mkdtemp(home));
	snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
	c = chat_client_new(&(struct chat_opts)CHAT_OPTS_INIT(.home = home, .server_url = url,
							      .timeout_ms = 200),
			    NULL, NULL, NULL, 0);
	assert_non_null(c);
	if (chat_register(c, "alice", NULL, on_done, &a) != CHAT_OK) {
		/* Refused at once, inside the call: done is not called. */
		assert_int_equal(how, REFUSE);
		assert_int_equal(chat_client_state(c), CHAT_STATE_OFFLINE);
	} else {
		/* Well past the 200 ms deadline: the loop goes on after it, which
		 * is where a connection lws freed would be touched again. */
		for (int loops = 0; loops < 60 && chat_client_loop(c, 20) == CHAT_OK; loops++) {
			int s = lfd >= 0 && how == HANG_UP ? accept(lfd, NULL, NULL) : -1;

			if (s >= 0)
				close(s);
		}
		assert_int_equal(a.done, 1);
		assert_int_equal(a.err, CHAT_ERR_CONNECT);
		assert_int_equal(chat_client_state(c), CHAT_STATE_OFFLINE);
	}
	chat_client_destroy(c);
	if (lfd >= 0)
		close(lfd);
	remove_home(home);
}

static void
test_refused(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++)
		attempt(REFUSE);
}

/*
 * The server's process is alive but does not answer (stopped, or busy): the
 * kernel completes the TCP handshake, the WebSocket one never comes. The
 * connect deadline ends it; lws then closes the connection as an HTTP
 * client's (LWS_CALLBACK_CLOSED_CLIENT_HTTP), not as a failed connection,
 * and a session that missed that kept pointing at the freed connection.
 */
static void
test_silent_server(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++)
		attempt(SILENT);
}

static void
test_hang_up(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++)
		attempt(HANG_UP);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_silent_server),
		cmocka_unit_test(test_hang_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
