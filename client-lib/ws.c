/*
 * ws.c - the transport of every handle: a WebSocket on libwebsockets (see
 * session.h for what a transport does). TLS and its checks, heartbeats, the
 * application's descriptor (chat_client_fd) and the reassembly of frames are
 * here; what the frames mean is the session's.
 *
 * libwebsockets is single-threaded and callback-driven: everything here runs
 * inside lws_service(), called from chat_client_loop() through service(), or
 * inside the call that starts a connection. lws frees a connection itself;
 * ws->wsi is cleared by whichever callback tells of its end first, and
 * nothing here touches a connection after that.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <libwebsockets.h>
#include <sodium.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#define RX_CHUNK 65536

/* What the transport keeps (c->tp), from setup() to stop(). */
struct ws {
	struct chat_client *c;
	struct lws_context *ctx;
	struct lws *wsi; /* the connection, or NULL */
	/* chat_client_fd: an epoll set of the socket and an eventfd. */
	int epfd;
	int wakefd;                   /* "call chat_client_loop, there is output" */
	int sockfd;                   /* the socket in epfd, or -1 */
	lws_sorted_usec_list_t wake;  /* bounds one lws_service() wait */
	lws_sorted_usec_list_t timer; /* the session's timer */
	/* Heartbeat: lws keeps a pointer to the policy, so it lives as long
	 * as the context. */
	lws_retry_bo_t heartbeat;
	int64_t valid_ms;  /* the handshake or the last pong */
	int peer_closed;   /* the server sent a close frame */
	int tls;           /* the server's URL is wss:// */
	char tls_why[384]; /* why the server's certificate failed verification, or "" */
	char *rx;          /* reassembly of a fragmented incoming frame */
	size_t rx_len, rx_cap;
	char *tx; /* the frame being written (lws masks it in place) */
	size_t tx_cap;
};

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len);

static const struct lws_protocols protocols[] = {
	{PROTO_SUBPROTOCOL, callback, 0, RX_CHUNK, 0, NULL, RX_CHUNK},
	{NULL, NULL, 0, 0, 0, NULL, 0}};

/* Heartbeats (PROTOCOL.md): lws pings the server when nothing has confirmed
 * the connection for the ping time, and drops it when no pong comes by the
 * hangup time. The server does the same, so a dead connection is noticed on
 * both sides within the hangup time (25 s unless set otherwise). */
static void
set_heartbeat(struct ws *ws, int secs)
{
	memset(&ws->heartbeat, 0, sizeof ws->heartbeat);
	ws->heartbeat.secs_since_valid_ping = (uint16_t)proto_heartbeat_ping(secs);
	ws->heartbeat.secs_since_valid_hangup = (uint16_t)secs;
}

/* Whether the connection that just closed was dropped for the heartbeat: no
 * pong for the hangup time (a healthy one has one about every ping time).
 * Half a second of slack covers the time between lws noting the proof and
 * our callback hearing of it. */
static int
heartbeat_expired(const struct chat_client *c, const struct ws *ws)
{
	return !ws->peer_closed &&
	       proto_mono_ms() - ws->valid_ms >= (int64_t)c->heartbeat_s * 1000 - 500;
}

/* The application's fd (chat_client_fd) is an epoll set holding the socket and
 * an eventfd. Debian's libwebsockets is built without external-poll callbacks,
 * so the socket is added by hand: lws creates it inside
 * lws_client_connect_via_info(), and it is writable once connected. */
static void
watch_socket(struct ws *ws, uint32_t events)
{
	struct epoll_event ev = {0};
	int fd = ws->wsi ? lws_get_socket_fd(ws->wsi) : -1;

	if (ws->sockfd >= 0 && ws->sockfd != fd) {
		epoll_ctl(ws->epfd, EPOLL_CTL_DEL, ws->sockfd, NULL);
		ws->sockfd = -1;
	}
	if (fd < 0)
		return;
	ev.events = events;
	ev.data.fd = fd;
	if (epoll_ctl(ws->epfd, ws->sockfd == fd ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) == 0)
		ws->sockfd = fd;
}

static void
unwatch_socket(struct ws *ws)
{
	/* The socket may be closed already (then epoll dropped it itself). */
	if (ws->sockfd >= 0)
		epoll_ctl(ws->epfd, EPOLL_CTL_DEL, ws->sockfd, NULL);
	ws->sockfd = -1;
}

static void
free_buffers(struct ws *ws)
{
	free(ws->rx);
	ws->rx = NULL;
	ws->rx_len = ws->rx_cap = 0;
	free(ws->tx);
	ws->tx = NULL;
	ws->tx_cap = 0;
}

/* The connection has ended (or never began): forget it, tell the session. */
static void
closed(struct chat_client *c, struct ws *ws, int err)
{
	unwatch_socket(ws);
	ws->wsi = NULL;
	free_buffers(ws);
	session_on_closed(c, err);
}

/* ---- the transport's calls ------------------------------------------------ */

static void
ws_want_write(struct chat_client *c)
{
	struct ws *ws = c->tp;

	if (ws != NULL && ws->wsi != NULL) {
		lws_callback_on_writable(ws->wsi);
		/* An application polling chat_client_fd must call us to write it. */
		eventfd_write(ws->wakefd, 1);
	}
}

static int
ws_write(struct chat_client *c, const char *frame, size_t len)
{
	struct ws *ws = c->tp;

	/* lws needs LWS_PRE bytes of headroom, and masks the payload in place:
	 * the request keeps its frame clean for a second sending
	 * (rate_limited), so a copy goes out. */
	if (ws->tx_cap < LWS_PRE + len) {
		char *p = realloc(ws->tx, LWS_PRE + len);

		if (p == NULL) {
			c->conn_err = CHAT_ERR_NOMEM;
			return -1;
		}
		ws->tx = p;
		ws->tx_cap = LWS_PRE + len;
	}
	memcpy(ws->tx + LWS_PRE, frame, len);
	if (lws_write(ws->wsi, (unsigned char *)ws->tx + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len)
		return -1;
	return 0;
}

static void
ws_abort(struct chat_client *c)
{
	struct ws *ws = c->tp;

	/* lws ends it from its loop, and tells us then (closed()). */
	if (ws != NULL && ws->wsi != NULL)
		lws_set_timeout(ws->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void
timer_due(lws_sorted_usec_list_t *sul)
{
	struct ws *ws = lws_container_of(sul, struct ws, timer);

	session_on_timer(ws->c);
}

static void
ws_timer(struct chat_client *c, int64_t delay_ms)
{
	struct ws *ws = c->tp;

	if (ws != NULL)
		lws_sul_schedule(ws->ctx, 0, &ws->timer, timer_due,
				 (lws_usec_t)delay_ms * LWS_US_PER_MS);
}

static void
wake(lws_sorted_usec_list_t *sul)
{
	(void)sul; /* firing is the point: it ends lws_service()'s wait */
}

static int
ws_service(struct chat_client *c, int timeout_ms)
{
	struct ws *ws = c->tp;
	eventfd_t pending;

	if (ws == NULL)
		return 0;
	eventfd_read(ws->wakefd, &pending); /* consumed by this pass */
	if (timeout_ms <= 0) {
		/* Only what is ready: a negative timeout makes lws poll without
		 * waiting. A due timer would not do: lws runs it before polling and
		 * then sleeps until its own next timer, up to 30 s. */
		return lws_service(ws->ctx, -1) < 0 ? -1 : 0;
	}
	/* lws_service() sleeps until an event or its next timer; ours bounds it. */
	lws_sul_schedule(ws->ctx, 0, &ws->wake, wake, (lws_usec_t)timeout_ms * LWS_US_PER_MS);
	if (lws_service(ws->ctx, 0) < 0)
		return -1;
	lws_sul_cancel(&ws->wake);
	return 0;
}

static int64_t
ws_now(const struct chat_client *c)
{
	(void)c;
	return proto_mono_ms();
}

static int
ws_poll_fd(const struct chat_client *c)
{
	const struct ws *ws = c->tp;

	return ws != NULL ? ws->epfd : -1;
}

static int
ws_wake_fd(const struct chat_client *c)
{
	const struct ws *ws = c->tp;

	return ws != NULL ? ws->wakefd : -1;
}

static void
ws_stop(struct chat_client *c)
{
	struct ws *ws = c->tp;

	if (ws == NULL)
		return;
	/* Destroying the context closes the connection and calls back: by then
	 * nothing must point at it, nor may a timer of ours stay in its lists. */
	lws_sul_cancel(&ws->timer);
	lws_sul_cancel(&ws->wake);
	ws->wsi = NULL;
	lws_context_destroy(ws->ctx);
	close(ws->epfd);
	close(ws->wakefd);
	free_buffers(ws);
	free(ws);
	c->tp = NULL;
}

/* ---- what lws tells ------------------------------------------------------- */

static int
on_receive(struct chat_client *c, struct ws *ws, struct lws *wsi, const void *in, size_t len)
{
	if (lws_frame_is_binary(wsi)) {
		client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a binary frame");
		return 0;
	}
	/* Bound what the network can make us allocate. */
	if (ws->rx_len + len > c->max_frame + 4096) {
		c->conn_err = CHAT_ERR_PROTOCOL;
		client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a frame over %zu bytes",
			    c->max_frame);
		return -1;
	}
	if (ws->rx_len + len > ws->rx_cap) {
		size_t cap = ws->rx_cap ? ws->rx_cap : 4096;
		char *p;

		while (cap < ws->rx_len + len)
			cap *= 2;
		p = realloc(ws->rx, cap);
		if (p == NULL) {
			c->conn_err = CHAT_ERR_NOMEM;
			return -1;
		}
		ws->rx = p;
		ws->rx_cap = cap;
	}
	memcpy(ws->rx + ws->rx_len, in, len);
	ws->rx_len += len;
	if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
		size_t n = ws->rx_len;

		ws->rx_len = 0;
		session_on_frame(c, ws->rx, n);
	}
	return 0;
}

static int
on_writeable(struct chat_client *c, struct lws *wsi)
{
	switch (session_on_writable(c)) {
	case SESSION_WRITE_BYE:
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"bye", 3);
		return -1;
	case SESSION_WRITE_DROP: return -1;
	default: return 0;
	}
}

/* Names in a certificate come from the server: none of their bytes may reach
 * a terminal as a control sequence. ASCII only, '?' for the rest. */
static void
printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

/* OpenSSL checks the server's certificate chain (and lws has it check the
 * URL's host too): on the first failure, keep what it was and whose certificate,
 * for the CONNECTION_ERROR that follows. lws's own text for it is a bare
 * OpenSSL error code. */
static void
note_cert_failure(struct chat_client *c, struct ws *ws, X509_STORE_CTX *x509_ctx)
{
	int err = X509_STORE_CTX_get_error(x509_ctx);
	X509 *cert = X509_STORE_CTX_get_current_cert(x509_ctx);
	char subject[64] = "", issuer[64] = "";

	if (ws->tls_why[0] != '\0' || err == X509_V_OK)
		return;
	if (cert != NULL) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, subject,
					  sizeof subject);
		X509_NAME_get_text_by_NID(X509_get_issuer_name(cert), NID_commonName, issuer,
					  sizeof issuer);
	}
	printable(subject);
	printable(issuer);
	snprintf(ws->tls_why, sizeof ws->tls_why, "%s (%s presented a certificate%s%s%s%s%s%s)",
		 X509_verify_cert_error_string(err), c->server_url, subject[0] ? " for '" : "",
		 subject, subject[0] ? "'" : "", issuer[0] ? " issued by '" : "", issuer,
		 issuer[0] ? "'" : "");
}

/* wss://: this connection's TLS exporter value (RFC 9266, no context), which
 * the session signature covers: a relay that ends TLS and opens its own to
 * the server has another, and the server refuses the signature. Its length
 * (0 on ws://), or -1 if it cannot be had over TLS (the connection is given
 * up). */
static int
bind_channel(struct chat_client *c, struct ws *ws, struct lws *wsi,
	     uint8_t binding[PROTO_BINDING_BYTES])
{
	static const char label[] = "EXPORTER-Channel-Binding";
	SSL *ssl = ws->tls ? lws_get_ssl(wsi) : NULL;

	if (!ws->tls)
		return 0;
	if (ssl == NULL || SSL_export_keying_material(ssl, binding, PROTO_BINDING_BYTES, label,
						      sizeof label - 1, NULL, 0, 0) != 1) {
		c->conn_err = CHAT_ERR_TLS;
		client_fail(c, CHAT_ERR_TLS,
			    "cannot bind the session to the TLS connection to %s (no exporter)",
			    c->server_url);
		return -1;
	}
	return PROTO_BINDING_BYTES;
}

static int
on_established(struct chat_client *c, struct ws *ws, struct lws *wsi)
{
	uint8_t binding[PROTO_BINDING_BYTES];
	int n = bind_channel(c, ws, wsi, binding);

	if (n < 0)
		return -1;
	/* Connected: from now on only incoming data needs the application. */
	watch_socket(ws, EPOLLIN);
	ws->valid_ms = proto_mono_ms(); /* the heartbeat starts from here */
	session_on_open(c, binding, (size_t)n);
	sodium_memzero(binding, sizeof binding);
	return 0;
}

static void
on_connection_error(struct chat_client *c, struct ws *ws, const char *in)
{
	if (ws->tls_why[0] != '\0' && c->conn_err == CHAT_OK) {
		c->conn_err = CHAT_ERR_TLS;
		client_fail(c, CHAT_ERR_TLS, "the server's certificate was refused: %s",
			    ws->tls_why);
	} else if (c->conn_err == CHAT_OK && ws->tls && in != NULL &&
		   strncmp(in, "connect SSL", 11) == 0) {
		/* lws's text for it is a bare error number: say what it means. */
		client_fail(c, CHAT_ERR_CONNECT,
			    "cannot connect to %s: the TLS handshake failed "
			    "(a ws:// server?)",
			    c->server_url);
	} else if (c->conn_err == CHAT_OK) {
		client_fail(c, CHAT_ERR_CONNECT, "cannot connect to %s: %s", c->server_url,
			    in ? in : "connection failed");
	}
	closed(c, ws, CHAT_ERR_CONNECT);
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct chat_client *c = wsi ? lws_context_user(lws_get_context(wsi)) : NULL;
	struct ws *ws = c ? c->tp : NULL;

	if (ws == NULL || wsi != ws->wsi)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED: return on_established(c, ws, wsi);
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		/* user is OpenSSL's X509_STORE_CTX, len its preverify_ok. Returning
		 * 0 leaves OpenSSL's verdict as it is. */
		if (len == 0 && user != NULL)
			note_cert_failure(c, ws, user);
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: on_connection_error(c, ws, in); break;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		/* Until the server's upgrade answer is in, lws holds the
		 * connection as an HTTP client's: closed then (our connect
		 * deadline, or lws's own), it says so with this, not with
		 * CLIENT_CONNECTION_ERROR. The attempt failed all the same. */
		if (c->conn_err == CHAT_OK)
			client_fail(c, CHAT_ERR_CONNECT,
				    "cannot connect to %s: the WebSocket handshake did not finish",
				    c->server_url);
		closed(c, ws, CHAT_ERR_CONNECT);
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		/* lws frees the connection now. Every way it ends is handled
		 * above; should one be missed, ws->wsi must still not outlive it. */
		closed(c, ws, CHAT_ERR_CONNECT);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE: return on_receive(c, ws, wsi, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE: return on_writeable(c, wsi);
	case LWS_CALLBACK_CLIENT_RECEIVE_PONG: ws->valid_ms = proto_mono_ms(); break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		ws->peer_closed = 1;
		if (len >= 2) {
			const unsigned char *p = in;

			session_on_peer_close(c, (unsigned)p[0] << 8 | p[1], (const char *)p + 2,
					      len - 2);
		}
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		/* Said over any earlier message: nothing else explains the loss. */
		if (c->conn_err == CHAT_OK && heartbeat_expired(c, ws))
			client_fail(c, CHAT_ERR_CONNECTION_LOST,
				    "no answer from the server for %d s (heartbeat): the "
				    "connection is dead",
				    c->heartbeat_s);
		else if (c->conn_err == CHAT_OK && c->errmsg[0] == '\0')
			client_fail(c, CHAT_ERR_CONNECTION_LOST,
				    "the server closed the connection");
		closed(c, ws, CHAT_ERR_CONNECTION_LOST);
		break;
	default: break;
	}
	return 0;
}

/* ---- setting up, connecting ------------------------------------------------- */

/* lws only logs a CA file it cannot load, and every certificate is then
 * refused as from an unknown CA: say what is wrong with the file instead. */
static int
check_ca_file(struct chat_client *c)
{
	FILE *f = fopen(c->ca_file, "r");
	X509 *x;

	if (f == NULL)
		return client_fail(c, CHAT_ERR_INVALID, "cannot read the CA file %s: %s",
				   c->ca_file, strerror(errno));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error(); /* what PEM_read_X509 left on this thread's queue */
	if (x == NULL)
		return client_fail(c, CHAT_ERR_INVALID,
				   "the CA file %s holds no PEM certificate "
				   "(-----BEGIN CERTIFICATE-----)",
				   c->ca_file);
	X509_free(x);
	return CHAT_OK;
}

/* The epoll set of chat_client_fd, with the eventfd in it. */
static int
make_fds(struct chat_client *c, struct ws *ws)
{
	struct epoll_event ev = {.events = EPOLLIN};

	ws->epfd = epoll_create1(EPOLL_CLOEXEC);
	ws->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ev.data.fd = ws->wakefd;
	if (ws->epfd < 0 || ws->wakefd < 0 ||
	    epoll_ctl(ws->epfd, EPOLL_CTL_ADD, ws->wakefd, &ev) != 0) {
		int e = errno;

		if (ws->epfd >= 0)
			close(ws->epfd);
		if (ws->wakefd >= 0)
			close(ws->wakefd);
		return client_fail(c, CHAT_ERR_NOMEM, "cannot set up the event descriptors: %s",
				   strerror(e));
	}
	return CHAT_OK;
}

/* The lws context, made once per handle; tls: for a wss:// server, which a
 * handle's URL stays for its life. */
static int
ws_setup(struct chat_client *c, int tls)
{
	struct lws_context_creation_info info;
	struct ws *ws;

	if (c->tp != NULL)
		return CHAT_OK;
	if (tls && c->ca_file != NULL && check_ca_file(c) != CHAT_OK)
		return CHAT_ERR_INVALID;
	if ((ws = calloc(1, sizeof *ws)) == NULL)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	ws->c = c;
	ws->sockfd = -1;
	set_heartbeat(ws, c->heartbeat_s);
	if (make_fds(c, ws) != CHAT_OK) {
		free(ws);
		return CHAT_ERR_NOMEM;
	}
	/* lws logs to stderr by itself; a library must not. CHAT_DEBUG turns it on. */
	lws_set_log_level(getenv("CHAT_DEBUG") ? LLL_ERR | LLL_WARN | LLL_NOTICE : 0, NULL);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	info.user = c;
	if (tls) {
		/* The system's CAs (OpenSSL's default paths), or only the CA file:
		 * a development CA must not add to what is trusted elsewhere. */
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		if (c->ca_file != NULL) {
			info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
			info.client_ssl_ca_filepath = c->ca_file;
		}
	}
	ws->ctx = lws_create_context(&info);
	if (ws->ctx == NULL) {
		close(ws->epfd);
		close(ws->wakefd);
		free(ws);
		return client_fail(c, CHAT_ERR_NOMEM, "cannot create the network context");
	}
	c->tp = ws;
	return CHAT_OK;
}

static int
ws_open(struct chat_client *c, const struct proto_url *u)
{
	struct ws *ws = c->tp;
	struct lws_client_connect_info ci;
	char host[sizeof u->host + 2];

	memset(&ci, 0, sizeof ci);
	/* The address to connect to is bare; the Host header of an IPv6 address
	 * has its brackets (RFC 7230, 5.4). */
	snprintf(host, sizeof host, u->ipv6 ? "[%s]" : "%s", u->host);
	ci.context = ws->ctx;
	ci.address = u->host;
	ci.port = u->port;
	ci.path = u->path;
	ci.host = host;
	ci.origin = host;
	ci.protocol = PROTO_SUBPROTOCOL;
	/* Full verification: a known CA, valid dates, and the host's name (lws
	 * checks ci.host against the certificate). No LCCSCF_ALLOW_* here. */
	ci.ssl_connection = u->tls ? LCCSCF_USE_SSL : 0;
	ws->tls = u->tls;
	ws->tls_why[0] = '\0';
	ws->peer_closed = 0;
	ci.pwsi = &ws->wsi;
	ci.retry_and_idle_policy = &ws->heartbeat;
	if (lws_client_connect_via_info(&ci) == NULL) {
		ws->wsi = NULL;
		return client_fail(c, CHAT_ERR_CONNECT, "cannot connect to %s", c->server_url);
	}
	/* Until the handshake is done lws waits for the socket to be writable. */
	watch_socket(ws, EPOLLIN | EPOLLOUT);
	return CHAT_OK;
}

const struct transport_ops ws_transport = {
	.setup = ws_setup,
	.open = ws_open,
	.want_write = ws_want_write,
	.write = ws_write,
	.abort = ws_abort,
	.timer = ws_timer,
	.service = ws_service,
	.now = ws_now,
	.stop = ws_stop,
	.poll_fd = ws_poll_fd,
	.wake_fd = ws_wake_fd,
};
