/*
 * daemon-bot - a bot on chatctl daemon: answers "!ping" with "pong"
 * and "!time" with the time (UTC), each as a reply quoting the
 * message it answers, until SIGINT or SIGTERM.
 *
 *	chatctl --home BOTHOME daemon --socket SOCKET &
 *	daemon-bot SOCKET
 *
 * It links no libchat: it speaks JSON-RPC 2.0 to the daemon, one
 * object a line, over the daemon's UNIX socket, with plain sockets
 * and cJSON. The daemon holds the device's session (keys, store,
 * reconnecting); any number of programs like this one share it.
 *
 * It subscribes to "message" notifications only, and for each
 * message that is not its own (outgoing: sent by this user) whose
 * text is a command, calls "reply" with the chat, the message id and
 * the answer. Answers to its calls come back as lines with the id it
 * gave; it only reports the failed ones. A message that came while
 * no bot was connected was stored (and acked) by the daemon all the
 * same: ask "history" for it.
 *
 * Exit status 0 after a signal, 1 when the daemon goes away or cannot
 * be reached, 2 for a bad command line.
 *
 * Build it (no libchat needed):
 *	cc -std=c11 daemon-bot.c $(pkg-config --cflags --libs libcjson) \
 *		-o daemon-bot
 */
#define _POSIX_C_SOURCE 200809L /* sigaction() */
#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES (1024 * 1024)

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
dial(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Writes all of s and a newline; -1 if the daemon is gone. */
static int
send_line(int fd, const char *s)
{
	size_t len = strlen(s), off = 0;

	while (off < len) {
		ssize_t n = write(fd, s + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return write(fd, "\n", 1) == 1 ? 0 : -1;
}

/* Sends {"jsonrpc":"2.0","id":id,"method":method,"params":params}
 * (params is the request's now). */
static int
call(int fd, int id, const char *method, cJSON *params)
{
	cJSON *req = cJSON_CreateObject();
	char *s;
	int rc = -1;

	cJSON_AddStringToObject(req, "jsonrpc", "2.0");
	cJSON_AddNumberToObject(req, "id", id);
	cJSON_AddStringToObject(req, "method", method);
	if (params != NULL)
		cJSON_AddItemToObject(req, "params", params);
	if ((s = cJSON_PrintUnformatted(req)) != NULL) {
		rc = send_line(fd, s);
		cJSON_free(s);
	}
	cJSON_Delete(req);
	return rc;
}

/* The answer to a command, in buf; NULL if text is none. */
static const char *
answer_for(const char *text, char *buf, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;

	if (strcmp(text, "!ping") == 0)
		return "pong";
	if (strcmp(text, "!time") == 0 && gmtime_r(&now, &tm) != NULL &&
	    strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm) > 0)
		return buf;
	return NULL;
}

static int next_id = 1;

/* o's string member name, or NULL. */
static const char *
str(const cJSON *o, const char *name)
{
	return cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(o, name));
}

/* A message notification's params: a reply if it is a command. */
static int
on_message(int fd, const cJSON *m)
{
	const char *text = str(m, "text"), *chat = str(m, "chatId");
	const char *msg = str(m, "messageId"), *answer;
	cJSON *params;
	char buf[64];

	/* Its own messages (sent by this user, here or elsewhere) too
	 * come as notifications: never answered. */
	if (cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(m, "outgoing")))
		return 0;
	if (text == NULL || chat == NULL || msg == NULL ||
	    (answer = answer_for(text, buf, sizeof buf)) == NULL)
		return 0;
	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "chat", chat);
	cJSON_AddStringToObject(params, "message", msg);
	cJSON_AddStringToObject(params, "text", answer);
	printf("%s %s\n", msg, answer);
	fflush(stdout);
	return call(fd, next_id++, "reply", params);
}

/* One line from the daemon: a notification, or an answer. */
static int
handle(int fd, const char *line, size_t len)
{
	cJSON *o = cJSON_ParseWithLength(line, len);
	const cJSON *err;
	const char *method;
	int rc = 0;

	if (o == NULL)
		return 0;
	method = str(o, "method");
	err = cJSON_GetObjectItemCaseSensitive(o, "error");
	if (method == NULL && err != NULL)
		fprintf(stderr, "daemon-bot: call failed: %s\n",
			str(err, "message"));
	else if (method != NULL && strcmp(method, "message") == 0)
		rc = on_message(fd, cJSON_GetObjectItemCaseSensitive(
					    o, "params"));
	cJSON_Delete(o);
	return rc;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	static char line[LINE_MAX_BYTES];
	size_t len = 0;
	int fd, skipping = 0;
	cJSON *params, *events;

	if (argc != 2) {
		fprintf(stderr, "usage: daemon-bot SOCKET\n");
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: read() returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((fd = dial(argv[1])) < 0) {
		fprintf(stderr, "daemon-bot: %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	params = cJSON_CreateObject();
	events = cJSON_AddArrayToObject(params, "events");
	cJSON_AddItemToArray(events, cJSON_CreateString("message"));
	if (call(fd, next_id++, "subscribe", params) != 0) {
		fprintf(stderr, "daemon-bot: the daemon went away\n");
		return 1;
	}
	fprintf(stderr, "daemon-bot: subscribed at %s\n", argv[1]);
	while (!stop) {
		char buf[65536];
		ssize_t n = read(fd, buf, sizeof buf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr,
				"daemon-bot: the daemon went away\n");
			close(fd);
			return 1;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				if (!skipping &&
				    handle(fd, line, len) != 0)
					stop = 1;
				len = 0;
				skipping = 0;
			} else if (len == sizeof line) {
				skipping = 1; /* not ours to read */
			} else if (!skipping) {
				line[len++] = buf[i];
			}
		}
	}
	close(fd);
	return 0;
}
