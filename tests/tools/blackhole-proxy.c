/*
 * blackhole-proxy - a TCP proxy on 127.0.0.1 that can drop the network silently.
 *
 *   blackhole-proxy [--port PORT] TARGET_PORT
 *
 * Listens on 127.0.0.1:PORT (default 0: the kernel picks a free port), prints
 * the port on stdout as one line, and forwards every connection it accepts to
 * 127.0.0.1:TARGET_PORT, both ways, passing on each end's half-close. A
 * connection the target refuses is closed at once, as a server that is down
 * would be.
 *
 * SIGUSR1 pulls the cable: every connection open at that moment goes silent
 * for good. Its sockets stay open, but nothing more is read from either end
 * or written to either end, so no byte, no FIN and no RST reaches either
 * peer: each side sees a network that has stopped answering, and only its
 * own timers (heartbeats) can tell. Connections accepted later are forwarded
 * normally, so a client that notices can reconnect through the proxy.
 * "silenced N" on stderr says that it happened.
 *
 * SIGTERM or SIGINT closes everything and exits 0. Test-only; loopback only.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#define MAX_CONNS 64
#define BUF_SIZE  65536

/* One direction of a connection: bytes read from `from`, waiting for `to`. */
struct pipe_dir {
	int from, to;
	char buf[BUF_SIZE];
	size_t off, len;
	int eof;  /* `from` has closed its side */
	int shut; /* and that was passed on to `to` (shutdown SHUT_WR) */
};

struct conn {
	unsigned id;
	int client, server;
	int silent;               /* the cable is pulled: never touched again */
	struct pipe_dir up, down; /* client to server, server to client */
};

static struct conn *conns[MAX_CONNS];
static int sigpipe_fds[2] = {-1, -1};

static void
on_signal(int sig)
{
	char c = sig == SIGUSR1 ? 'u' : 't';
	int saved = errno;

	/* The pipe is non-blocking: a full pipe already holds a wake-up. */
	if (write(sigpipe_fds[1], &c, 1) < 0) {
		/* nothing to do: the loop wakes for the bytes already there */
	}
	errno = saved;
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static struct sockaddr_in
loopback(int port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static int
parse_port(const char *s, int min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > 65535)
		return -1;
	return (int)v;
}

static void
conn_free(struct conn *c)
{
	close(c->client);
	close(c->server);
	free(c);
}

static void
conn_drop(int i, const char *why)
{
	fprintf(stderr, "blackhole-proxy: conn %u closed (%s)\n", conns[i]->id, why);
	conn_free(conns[i]);
	conns[i] = NULL;
}

/* Accepts one connection and connects it to the target (on loopback a
 * blocking connect answers at once). */
static void
accept_one(int lfd, int target)
{
	static unsigned next_id;
	struct sockaddr_in a = loopback(target);
	struct conn *c;
	int cfd, sfd, i, one = 1;

	cfd = accept(lfd, NULL, NULL);
	if (cfd < 0)
		return;
	for (i = 0; i < MAX_CONNS && conns[i] != NULL; i++)
		;
	sfd = socket(AF_INET, SOCK_STREAM, 0);
	if (i == MAX_CONNS || sfd < 0 || connect(sfd, (struct sockaddr *)&a, sizeof a) != 0) {
		fprintf(stderr, "blackhole-proxy: refused a connection: %s\n",
			i == MAX_CONNS ? "too many connections" : strerror(errno));
		if (sfd >= 0)
			close(sfd);
		close(cfd);
		return;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL || set_nonblock(cfd) != 0 || set_nonblock(sfd) != 0) {
		fprintf(stderr, "blackhole-proxy: cannot set up a connection\n");
		free(c);
		close(sfd);
		close(cfd);
		return;
	}
	/* Small frames (pings) must not wait for Nagle. */
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->id = ++next_id;
	c->client = cfd;
	c->server = sfd;
	c->up.from = c->down.to = cfd;
	c->up.to = c->down.from = sfd;
	conns[i] = c;
	fprintf(stderr, "blackhole-proxy: conn %u open\n", c->id);
}

static void
silence_all(void)
{
	int n = 0;

	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i] != NULL && !conns[i]->silent) {
			conns[i]->silent = 1;
			n++;
		}
	fprintf(stderr, "blackhole-proxy: silenced %d\n", n);
}

/* What to poll `fd` for: reading for the direction it feeds, writing for
 * the one it drains. */
static short
events_for(const struct conn *c, int fd)
{
	const struct pipe_dir *in = fd == c->client ? &c->up : &c->down;
	const struct pipe_dir *out = fd == c->client ? &c->down : &c->up;
	short ev = 0;

	if (!in->eof && in->len < BUF_SIZE)
		ev |= POLLIN;
	if (out->len > 0)
		ev |= POLLOUT;
	return ev;
}

/* Moves what it can along d. Returns -1 if the connection failed. */
static int
pump_read(struct pipe_dir *d)
{
	ssize_t n;

	if (d->eof || d->len == BUF_SIZE)
		return 0;
	if (d->off > 0 && d->len > 0)
		memmove(d->buf, d->buf + d->off, d->len);
	d->off = 0;
	n = recv(d->from, d->buf + d->len, BUF_SIZE - d->len, 0);
	if (n > 0)
		d->len += (size_t)n;
	else if (n == 0)
		d->eof = 1;
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return -1;
	return 0;
}

static int
pump_write(struct pipe_dir *d)
{
	ssize_t n;

	if (d->len > 0) {
		n = send(d->to, d->buf + d->off, d->len, MSG_NOSIGNAL);
		if (n > 0) {
			d->off += (size_t)n;
			d->len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			return -1;
		}
	}
	/* Everything passed on: pass the end of the stream on too. */
	if (d->eof && d->len == 0 && !d->shut) {
		shutdown(d->to, SHUT_WR);
		d->shut = 1;
	}
	return 0;
}

/* Services one connection after poll: revents of its client and server fds. */
static void
service(int i, short rc, short rs)
{
	struct conn *c = conns[i];

	if (((rc | rs) & POLLERR) != 0) {
		conn_drop(i, "reset");
		return;
	}
	/* POLLHUP: read what is left (and the end of it). */
	if (((rc & (POLLIN | POLLHUP)) && pump_read(&c->up) != 0) ||
	    ((rs & (POLLIN | POLLHUP)) && pump_read(&c->down) != 0) || pump_write(&c->up) != 0 ||
	    pump_write(&c->down) != 0) {
		conn_drop(i, "reset");
		return;
	}
	if (c->up.shut && c->down.shut) {
		conn_drop(i, "both ends closed");
		return;
	}
	/* A hung-up end with no room to read into would wake us forever. */
	if (((rc & POLLHUP) && c->up.len == BUF_SIZE) ||
	    ((rs & POLLHUP) && c->down.len == BUF_SIZE))
		conn_drop(i, "hung up");
}

static int
run(int lfd, int target)
{
	struct pollfd pfd[2 + 2 * MAX_CONNS];
	int idx[MAX_CONNS];

	for (;;) {
		int n = 0;
		char sig[16];
		ssize_t got;

		pfd[n++] = (struct pollfd){sigpipe_fds[0], POLLIN, 0};
		pfd[n++] = (struct pollfd){lfd, POLLIN, 0};
		for (int i = 0; i < MAX_CONNS; i++) {
			idx[i] = -1;
			if (conns[i] == NULL || conns[i]->silent)
				continue;
			idx[i] = n;
			pfd[n++] = (struct pollfd){conns[i]->client,
						   events_for(conns[i], conns[i]->client), 0};
			pfd[n++] = (struct pollfd){conns[i]->server,
						   events_for(conns[i], conns[i]->server), 0};
		}
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("blackhole-proxy: poll");
			return 1;
		}
		if (pfd[0].revents & POLLIN) {
			while ((got = read(sigpipe_fds[0], sig, sizeof sig)) > 0) {
				for (ssize_t k = 0; k < got; k++) {
					if (sig[k] == 't')
						return 0;
					silence_all();
				}
			}
		}
		/* Connections silenced just now are not serviced: not one more byte. */
		for (int i = 0; i < MAX_CONNS; i++)
			if (idx[i] >= 0 && conns[i] != NULL && !conns[i]->silent)
				service(i, pfd[idx[i]].revents, pfd[idx[i] + 1].revents);
		if (pfd[1].revents & POLLIN)
			accept_one(lfd, target);
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof a;
	struct sigaction sa;
	int port = 0, target, lfd, one = 1, rc, i = 1;

	if (argc == 4 && strcmp(argv[1], "--port") == 0) {
		port = parse_port(argv[2], 0);
		i = 3;
	}
	if (argc != i + 1 || port < 0 || (target = parse_port(argv[i], 1)) < 0) {
		fprintf(stderr, "usage: blackhole-proxy [--port PORT] TARGET_PORT\n");
		return 2;
	}
	if (pipe(sigpipe_fds) != 0 || set_nonblock(sigpipe_fds[0]) != 0 ||
	    set_nonblock(sigpipe_fds[1]) != 0) {
		perror("blackhole-proxy: pipe");
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGINT, &sa, NULL) != 0) {
		perror("blackhole-proxy: sigaction");
		return 1;
	}
	a = loopback(port);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 16) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
		perror("blackhole-proxy: listen");
		return 1;
	}
	printf("%u\n", (unsigned)ntohs(a.sin_port));
	fflush(stdout);
	rc = run(lfd, target);
	for (i = 0; i < MAX_CONNS; i++)
		if (conns[i] != NULL)
			conn_free(conns[i]);
	close(lfd);
	close(sigpipe_fds[0]);
	close(sigpipe_fds[1]);
	return rc;
}
