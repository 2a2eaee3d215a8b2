/*
 * tls-relay - a TLS-terminating relay on 127.0.0.1: what a hostile server
 * between a client and the real one looks like when it holds a certificate
 * the client trusts.
 *
 *   tls-relay --cert FILE --key FILE TARGET_PORT
 *
 * Listens on 127.0.0.1 at a port the kernel picks, prints the port on stdout
 * as one line, and for each connection it accepts ends the client's TLS
 * there (with FILE's certificate) and opens a TLS connection of its own to
 * 127.0.0.1:TARGET_PORT (the target's certificate is not checked), passing
 * the bytes both ways. So the client and the target each see a TLS session
 * with the relay, and no two of them share keying material: the channel
 * binding of one is not that of the other.
 *
 * One process per connection. SIGTERM or SIGINT ends it (and its
 * connections). Test-only; loopback only.
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
#include <sys/prctl.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static int
listen_loopback(int *port)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static int
connect_loopback(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
		return -1;
	return fd;
}

/* Moves what from has to to; 0 (also when it has nothing yet: a TLS record
 * that is no data, a ticket say), or -1 when from has ended or failed. The
 * sockets are non-blocking, so that neither direction waits on the other. */
static int
pass(SSL *from, SSL *to)
{
	char buf[16384];
	int n = SSL_read(from, buf, sizeof buf), e;

	if (n <= 0) {
		e = SSL_get_error(from, n);
		return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
	}
	for (;;) {
		struct pollfd w = {.fd = SSL_get_fd(to), .events = POLLOUT};
		int m = SSL_write(to, buf, n);

		if (m > 0)
			return 0;
		e = SSL_get_error(to, m);
		if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ)
			return -1;
		poll(&w, 1, 100);
	}
}

/* One connection, in its own process: both TLS sessions, then the bytes. */
static int
relay(SSL_CTX *server_ctx, SSL_CTX *client_ctx, int cfd, int target_port)
{
	SSL *c = SSL_new(server_ctx), *s = SSL_new(client_ctx);
	int sfd = connect_loopback(target_port);
	struct pollfd p[2];

	if (c == NULL || s == NULL || sfd < 0 || SSL_set_fd(c, cfd) != 1 ||
	    SSL_set_fd(s, sfd) != 1 || SSL_accept(c) != 1 || SSL_connect(s) != 1) {
		fprintf(stderr, "tls-relay: cannot set up the connection\n");
		return 1;
	}
	if (fcntl(cfd, F_SETFL, O_NONBLOCK) != 0 || fcntl(sfd, F_SETFL, O_NONBLOCK) != 0)
		return 1;
	p[0] = (struct pollfd){.fd = cfd, .events = POLLIN};
	p[1] = (struct pollfd){.fd = sfd, .events = POLLIN};
	for (;;) {
		/* What OpenSSL has read already does not wake poll(). */
		if (SSL_pending(c) == 0 && SSL_pending(s) == 0 && poll(p, 2, -1) < 0 &&
		    errno != EINTR)
			break;
		if ((SSL_pending(c) > 0 || (p[0].revents & (POLLIN | POLLHUP | POLLERR))) &&
		    pass(c, s) != 0)
			break;
		if ((SSL_pending(s) > 0 || (p[1].revents & (POLLIN | POLLHUP | POLLERR))) &&
		    pass(s, c) != 0)
			break;
		p[0].revents = p[1].revents = 0;
	}
	SSL_shutdown(c);
	SSL_shutdown(s);
	SSL_free(c);
	SSL_free(s);
	close(cfd);
	close(sfd);
	return 0;
}

int
main(int argc, char **argv)
{
	SSL_CTX *server_ctx, *client_ctx;
	int lfd, port, target;

	if (argc != 6 || strcmp(argv[1], "--cert") != 0 || strcmp(argv[3], "--key") != 0 ||
	    (target = atoi(argv[5])) <= 0 || target > 65535) {
		fprintf(stderr, "usage: tls-relay --cert FILE --key FILE TARGET_PORT\n");
		return 2;
	}
	server_ctx = SSL_CTX_new(TLS_server_method());
	client_ctx = SSL_CTX_new(TLS_client_method());
	if (server_ctx == NULL || client_ctx == NULL ||
	    SSL_CTX_use_certificate_chain_file(server_ctx, argv[2]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(server_ctx, argv[4], SSL_FILETYPE_PEM) != 1) {
		fprintf(stderr, "tls-relay: cannot load %s and %s\n", argv[2], argv[4]);
		return 1;
	}
	SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
	if ((lfd = listen_loopback(&port)) < 0) {
		perror("tls-relay: listen");
		return 1;
	}
	signal(SIGCHLD, SIG_IGN); /* children reap themselves */
	signal(SIGPIPE, SIG_IGN);
	printf("%d\n", port);
	fflush(stdout);
	for (;;) {
		int cfd = accept(lfd, NULL, NULL);
		pid_t pid;

		if (cfd < 0) {
			if (errno == EINTR)
				continue;
			perror("tls-relay: accept");
			return 1;
		}
		if ((pid = fork()) == 0) {
			/* Gone with the relay, whatever the client does. */
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			close(lfd);
			_exit(relay(server_ctx, client_ctx, cfd, target));
		}
		if (pid < 0) /* this client goes unserved; the next may not */
			perror("tls-relay: fork");
		close(cfd);
	}
}
