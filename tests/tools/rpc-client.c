/*
 * rpc-client - a tiny line client for chatctl daemon's tests (socat is not
 * a dependency): standard input's lines go to the socket, the socket's lines
 * to standard output, each flushed as it comes.
 *
 *	rpc-client [-q | -s] [-t SECONDS] SOCKET-PATH | HOST:PORT
 *
 * At the end of standard input it waits until every line sent (each gets
 * one answer, a line without "method", even one that is not JSON) has had
 * its answer, then exits 0;
 * 1 if the daemon closed first or SECONDS (default 30) passed. -q: exits at
 * the end of standard input at once, closing the socket (a client that goes
 * away in the middle of its calls). -s: at the end of standard input, shuts
 * down its sending side (as socat and nc do) and waits for the daemon to
 * close the connection once it has answered; exits 0 then.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int
dial(const char *where)
{
	const char *colon = strrchr(where, ':');
	int fd;

	if (strchr(where, '/') != NULL || colon == NULL) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		if (strlen(where) >= sizeof sa.sun_path)
			return -1;
		memcpy(sa.sun_path, where, strlen(where) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
			close(fd);
			return -1;
		}
		return fd;
	} else {
		char host[256];
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;

		snprintf(host, sizeof host, "%.*s", (int)(colon - where), where);
		if (host[0] == '[') { /* [::1]:PORT */
			memmove(host, host + 1, strlen(host));
			host[strcspn(host, "]")] = '\0';
		}
		if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
			return -1;
		fd = -1;
		for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
			fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
			if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
				close(fd);
				fd = -1;
			}
		}
		freeaddrinfo(res);
		return fd;
	}
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Counts what one complete line is: a request sent, or an answer got. */
static void
count(const char *line, size_t len, int sent, long *requests, long *answers)
{
	char buf[8192];

	snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf - 1 ? len : sizeof buf - 1), line);
	if (sent && buf[strspn(buf, " \t\r\n")] != '\0')
		(*requests)++;
	if (!sent && strstr(buf, "\"method\"") == NULL)
		(*answers)++;
}

int
main(int argc, char **argv)
{
	long requests = 0, answers = 0, deadline = -1, timeout = 30;
	int quit = 0, half = 0, in_open = 1, fd, opt;
	static char in_line[1 << 20], out_line[1 << 20];
	size_t in_len = 0, out_len = 0;

	while ((opt = getopt(argc, argv, "qst:")) != -1) {
		if (opt == 'q')
			quit = 1;
		else if (opt == 's')
			half = 1;
		else if (opt == 't')
			timeout = atol(optarg);
		else
			return 2;
	}
	if (optind != argc - 1) {
		fprintf(stderr,
			"usage: rpc-client [-q | -s] [-t SECONDS] SOCKET-PATH | HOST:PORT\n");
		return 2;
	}
	/* A daemon that closes at once (too many clients) is read, not a death. */
	signal(SIGPIPE, SIG_IGN);
	if ((fd = dial(argv[optind])) < 0) {
		fprintf(stderr, "rpc-client: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	for (;;) {
		struct pollfd p[2] = {{in_open ? 0 : -1, POLLIN, 0}, {fd, POLLIN, 0}};
		char buf[65536];
		ssize_t n;

		if (!in_open && answers >= requests && !half)
			return 0;
		if (deadline >= 0 && now_ms() >= deadline) {
			fprintf(stderr, "rpc-client: %ld of %ld answers in %ld s\n", answers,
				requests, timeout);
			return 1;
		}
		if (poll(p, 2, 100) < 0 && errno != EINTR)
			return 1;
		if (p[0].revents & (POLLIN | POLLHUP)) {
			n = read(0, buf, sizeof buf);
			if (n <= 0) {
				in_open = 0;
				if (quit)
					return 0;
				if (half)
					shutdown(fd, SHUT_WR);
				deadline = now_ms() + timeout * 1000;
			}
			for (ssize_t i = 0; i < n; i++) {
				if (in_len < sizeof in_line)
					in_line[in_len++] = buf[i];
				if (buf[i] == '\n') {
					count(in_line, in_len, 1, &requests, &answers);
					in_len = 0;
				}
			}
			for (ssize_t off = 0; off < n;) {
				ssize_t w = write(fd, buf + off, (size_t)(n - off));

				if (w <= 0) {
					/* Closed on us: what it said before is still to read. */
					in_open = 0;
					deadline = now_ms() + timeout * 1000;
					break;
				}
				off += w;
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(fd, buf, sizeof buf);
			if (n <= 0 && half && !in_open && answers >= requests)
				return 0; /* answered, then closed: as it should */
			if (n <= 0) {
				fprintf(stderr, "rpc-client: the daemon closed the connection\n");
				return 1;
			}
			fwrite(buf, 1, (size_t)n, stdout);
			fflush(stdout);
			for (ssize_t i = 0; i < n; i++) {
				if (out_len < sizeof out_line)
					out_line[out_len++] = buf[i];
				if (buf[i] == '\n') {
					count(out_line, out_len, 0, &requests, &answers);
					out_len = 0;
				}
			}
		}
	}
}
