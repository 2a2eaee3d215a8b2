/*
 * cmd-daemon.c - chatctl daemon: one process holds the device's session
 * (connected, reconnecting, as rpc and listen) and serves JSON-RPC 2.0, one
 * object a line, to any number of clients at once (up to DAEMON_MAX_CLIENTS)
 * on a UNIX socket, and optionally on a TCP port of the loopback. The methods
 * are rpc's (cmd-rpc.c); a client gets notifications once it subscribes.
 *
 * One poll() loop: the listeners, the clients (POLLIN, and POLLOUT while
 * output waits for them), and libchat's fd. Nothing in it blocks: a client
 * that does not read has its output queued, up to RPC_MAX_QUEUE, then it is
 * dropped; the others never wait for it.
 */
#include "rpc.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto.h"

#define DAEMON_MAX_CLIENTS 64
#define DAEMON_MAX_LISTEN  3 /* the UNIX socket, 127.0.0.1, ::1 */

struct daemon {
	struct rpc rpc;
	int listen_fd[DAEMON_MAX_LISTEN];
	int nlisten;
	const char *path; /* the UNIX socket, unlinked at exit */
	unsigned next_client;
};

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* The directory of path is the user's, and no one else can write to it: no
 * one else can put a socket of their own in its place. */
static int
check_dir(const char *path)
{
	char dir[sizeof((struct sockaddr_un *)0)->sun_path];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	if (stat(dir, &st) != 0) {
		cli_error("daemon: %s: %s", out_esc(dir), strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		cli_error("daemon: %s is not a directory of yours that only you can write to: "
			  "put the socket in one (say, $XDG_RUNTIME_DIR)",
			  out_esc(dir));
		return -1;
	}
	return 0;
}

/* A socket file at path: 1 if a daemon answers there, 0 if it is stale (and
 * removed), -1 on an error (said). Not a socket: refused, never removed. */
static int
check_existing(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT
			       ? 0
			       : (cli_error("daemon: %s: %s", out_esc(path), strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		cli_error("daemon: %s exists and is not a socket: not removed", out_esc(path));
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		cli_error("daemon: socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
	close(fd);
	if (rc == 0) {
		cli_error("daemon: a daemon answers at %s already: one is enough", out_esc(path));
		return 1;
	}
	/* Nobody listening: a daemon that died without unlinking it. */
	if (unlink(path) != 0) {
		cli_error("daemon: removing the stale %s: %s", out_esc(path), strerror(errno));
		return -1;
	}
	fprintf(stderr, "chatctl daemon: removed the stale socket %s\n", out_esc(path));
	return 0;
}

static int
listen_unix(struct daemon *d, const char *path)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd, rc;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path) {
		cli_error("daemon: --socket: a path of at most %zu bytes", sizeof sa.sun_path - 1);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (check_dir(path) != 0 || check_existing(path, &sa) != 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		cli_error("daemon: socket: %s", strerror(errno));
		return -1;
	}
	/* 0600 from the start: no moment when another user could connect. */
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc != 0 || listen(fd, 16) != 0 || set_nonblock(fd) != 0) {
		cli_error("daemon: %s: %s", out_esc(path), strerror(errno));
		close(fd);
		return -1;
	}
	d->path = path;
	d->listen_fd[d->nlisten++] = fd;
	return 0;
}

/* One TCP listener on a loopback address; 1 if the address is missing here
 * (no IPv6), which is no error as long as the other one works. */
static int
listen_tcp_one(struct daemon *d, int family, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof *in;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		in6->sin6_addr = in6addr_loopback;
		len = sizeof *in6;
	}
	if ((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return errno == EAFNOSUPPORT ? 1 : -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 16) != 0 ||
	    set_nonblock(fd) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return family == AF_INET6 && e == EADDRNOTAVAIL ? 1 : -1;
	}
	d->listen_fd[d->nlisten++] = fd;
	return 0;
}

/* --tcp PORT: 127.0.0.1 and ::1 only, never another address. */
static int
listen_tcp(struct daemon *d, int port)
{
	int v4 = listen_tcp_one(d, AF_INET, port), v6;

	if (v4 < 0) {
		cli_error("daemon: --tcp %d: 127.0.0.1: %s", port, strerror(errno));
		return -1;
	}
	v6 = listen_tcp_one(d, AF_INET6, port);
	if (v6 < 0) {
		cli_error("daemon: --tcp %d: ::1: %s", port, strerror(errno));
		return -1;
	}
	return 0;
}

static void
accept_clients(struct daemon *d, int lfd, int is_unix)
{
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		char name[64];

		if (fd < 0)
			return; /* EAGAIN: all taken; else tried again next round */
		if (set_nonblock(fd) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
			close(fd);
			continue;
		}
		snprintf(name, sizeof name, "client %u (%s)", ++d->next_client,
			 is_unix ? "unix" : "tcp");
		if (d->rpc.npeers >= DAEMON_MAX_CLIENTS) {
			static const char busy[] =
				"{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32000,"
				"\"message\":\"too many clients: the daemon serves 64 at "
				"once\"}}\n";

			/* Said once, then closed: it is a new socket, with room for this. */
			if (write(fd, busy, sizeof busy - 1) < 0)
				(void)0;
			close(fd);
			fprintf(stderr, "chatctl daemon: %s refused: %d clients already\n", name,
				DAEMON_MAX_CLIENTS);
			continue;
		}
		if (rpc_peer_new(&d->rpc, fd, name, 0) == NULL)
			close(fd);
	}
}

static void
read_client(struct rpc_peer *p)
{
	char buf[65536];
	ssize_t n = read(p->fd, buf, sizeof buf);

	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n < 0) {
		/* Gone (reset): its calls under way still finish, answering nobody. */
		rpc_peer_drop(p, NULL);
		return;
	}
	if (n == 0) {
		/* The end of what it sends, maybe not of what it reads (echo ... |
		 * socat): its answers still go out, then it is closed (close_done). */
		p->eof = 1;
		return;
	}
	rpc_peer_input(p, buf, (size_t)n);
}

/* One round of the loop: wait for something, serve it. */
static void
serve_once(struct daemon *d)
{
	struct pollfd pf[DAEMON_MAX_LISTEN + 1 + DAEMON_MAX_CLIENTS];
	struct rpc_peer *who[DAEMON_MAX_CLIENTS];
	int n = 0, np = 0;

	for (int i = 0; i < d->nlisten; i++)
		pf[n++] = (struct pollfd){d->listen_fd[i], POLLIN, 0};
	pf[n++] = (struct pollfd){chat_client_fd(d->rpc.cli->c), POLLIN, 0};
	for (struct rpc_peer *p = d->rpc.peers; p != NULL && np < DAEMON_MAX_CLIENTS; p = p->next) {
		if (p->gone)
			continue;
		who[np++] = p;
		pf[n++] = (struct pollfd){
			p->fd,
			(short)((p->eof ? 0 : POLLIN) | (rpc_peer_wants_write(p) ? POLLOUT : 0)),
			0};
	}
	if (poll(pf, (nfds_t)n, d->rpc.waiting ? 100 : 500) < 0 && errno != EINTR)
		return;
	for (int i = 0; i < d->nlisten; i++)
		if (pf[i].revents & POLLIN)
			accept_clients(d, pf[i].fd, d->path != NULL && i == 0);
	for (int i = 0; i < np; i++) {
		short re = pf[d->nlisten + 1 + i].revents;

		if (re & POLLOUT)
			rpc_peer_flush(who[i]);
		if (who[i]->eof && (re & (POLLHUP | POLLERR)))
			rpc_peer_drop(who[i], NULL); /* nobody reads any more either */
		else if (re & (POLLIN | POLLHUP | POLLERR))
			read_client(who[i]);
	}
}

/* Clients that have said all they will, with every answer written: closed. */
static void
close_done(struct daemon *d)
{
	for (struct rpc_peer *p = d->rpc.peers; p != NULL; p = p->next)
		if (!p->gone && p->eof && p->pending == 0 && !rpc_peer_wants_write(p))
			rpc_peer_drop(p, NULL);
}

static void
close_listeners(struct daemon *d)
{
	for (int i = 0; i < d->nlisten; i++)
		close(d->listen_fd[i]);
	d->nlisten = 0;
	if (d->path != NULL)
		unlink(d->path);
	d->path = NULL;
}

static int
cmd_daemon_exec(struct cli *cli, struct args *args)
{
	/* Static: cli->cmd_state points at it while it runs (set back to NULL
	 * before this returns, after the handle and its calls are gone). */
	static struct daemon d;
	const char *path = args_get(args, "socket");
	long port = args_number(args, "tcp", 0);
	int rc;
	int64_t grace;

	memset(&d, 0, sizeof d);
	d.rpc.cli = cli;
	d.rpc.what = "daemon";
	if (path == NULL)
		return cli_usage(&cmd_daemon_entry, "--socket PATH is required");
	cli->receives = 1;
	cli->reconnect = 1;
	cli->json = 1;
	/* The sockets first: a second daemon on the same socket must not
	 * connect at all, as its session would take the device's over. */
	if (listen_unix(&d, path) != 0 || (port > 0 && listen_tcp(&d, (int)port) != 0)) {
		close_listeners(&d);
		return EXIT_FAIL;
	}
	if ((rc = cli_open(cli)) != EXIT_OK ||
	    (rc = cli_set_callbacks(cli, &rpc_callbacks)) != EXIT_OK) {
		close_listeners(&d);
		return rc;
	}
	cli->cmd_state = &d.rpc;
	/* No device yet: the clients make one (register, deviceLink) first. */
	if (!rpc_no_device(&d.rpc) && (rc = chat_client_connect(cli->c)) != CHAT_OK) {
		cli->cmd_state = NULL;
		close_listeners(&d);
		return cli_fail(cli, rc, "daemon");
	}
	fprintf(stderr, "chatctl daemon: listening on %s", out_esc(path));
	if (port > 0)
		fprintf(stderr, " and 127.0.0.1/::1 port %ld", port);
	if (d.rpc.no_device)
		fprintf(stderr, "; this home has no device yet: waiting for register or "
				"deviceLink");
	fprintf(stderr, "\n");
	rc = EXIT_OK;
	while (!cli_interrupted()) {
		serve_once(&d);
		/* With no device yet, only a register's or a link's connection
		 * runs, if any: its end (refused, say) is the call's answer. */
		if (chat_client_loop(cli->c, 0) != CHAT_OK && !d.rpc.no_device) {
			/* The device was refused (removed, say): nothing more will work. */
			cli_error("daemon: %s", chat_client_errmsg(cli->c));
			rc = EXIT_REFUSED;
			break;
		}
		rpc_tick(&d.rpc);
		close_done(&d);
	}
	/* No new clients; the acks of what was stored go out, as rpc's do. */
	close_listeners(&d);
	grace = proto_mono_ms() + 2000;
	while (chat_client_state(cli->c) == CHAT_STATE_ONLINE && !chat_client_idle(cli->c) &&
	       proto_mono_ms() < grace && chat_client_loop(cli->c, 100) == CHAT_OK)
		;
	/* Calls under way end with the handle and answer to their peers: both
	 * still here. */
	chat_client_disconnect(cli->c);
	chat_client_destroy(cli->c);
	cli->c = NULL;
	cli->cmd_state = NULL;
	rpc_free_peers(&d.rpc);
	fprintf(stderr, "chatctl daemon: stopped\n");
	return rc;
}

static const struct args_option daemon_options[] = {
	{.name = "socket",
	 .flags = ARGS_VALUE | ARGS_NONEMPTY,
	 .meta = "PATH",
	 .needs = "a socket path"},
	{.name = "tcp",
	 .flags = ARGS_NUMBER,
	 .meta = "PORT",
	 .needs = "a port number",
	 .min = 1,
	 .max = 65535},
	{0},
};

const struct cmd_entry cmd_daemon_entry = {
	.name = "daemon",
	.usage = "--socket PATH [--tcp PORT]",
	.summary = "serve rpc's methods to many clients on a UNIX socket (and loopback TCP)",
	.args = {.options = daemon_options, .max_args = 0, .too_many = "no arguments expected"},
	.exec = cmd_daemon_exec};
