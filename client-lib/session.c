/*
 * session.c - the WebSocket session to chat-server, on libwebsockets.
 *
 * libwebsockets is single-threaded and callback-driven: everything here runs
 * inside lws_service(), called from chat_client_loop(). Requests are queued as
 * serialized frames and written one per WRITEABLE callback; replies are matched
 * to requests by id. Before authentication only register/auth frames go out.
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <sodium.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#define RX_CHUNK 65536

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len);

static const struct lws_protocols protocols[] = {
	{PROTO_SUBPROTOCOL, callback, 0, RX_CHUNK, 0, NULL, RX_CHUNK},
	{NULL, NULL, 0, 0, 0, NULL, 0}};

/* Heartbeats (PROTOCOL.md): lws pings the server when nothing has confirmed
 * the connection for the ping time, and drops it when no pong comes by the
 * hangup time. The server does the same, so a dead connection is noticed on
 * both sides within the hangup time (25 s unless set otherwise). */
void
session_set_heartbeat(struct chat_client *c, int secs)
{
	c->heartbeat_s = secs;
	memset(&c->heartbeat, 0, sizeof c->heartbeat);
	c->heartbeat.secs_since_valid_ping = (uint16_t)proto_heartbeat_ping(secs);
	c->heartbeat.secs_since_valid_hangup = (uint16_t)secs;
}

/* Whether the connection that just closed was dropped for the heartbeat: no
 * pong for the hangup time (a healthy one has one about every ping time).
 * Half a second of slack covers the time between lws noting the proof and
 * our callback hearing of it. */
static int
heartbeat_expired(const struct chat_client *c)
{
	return !c->peer_closed &&
	       proto_mono_ms() - c->valid_ms >= (int64_t)c->heartbeat_s * 1000 - 500;
}

static struct chat_client *
client_of(struct lws *wsi)
{
	return wsi ? lws_context_user(lws_get_context(wsi)) : NULL;
}

/* The application's fd (chat_client_fd) is an epoll set holding the socket and
 * an eventfd. Debian's libwebsockets is built without external-poll callbacks,
 * so the socket is added by hand: lws creates it inside
 * lws_client_connect_via_info(), and it is writable once connected. */
static void
watch_socket(struct chat_client *c, uint32_t events)
{
	struct epoll_event ev = {0};
	int fd = c->wsi ? lws_get_socket_fd(c->wsi) : -1;

	if (c->epfd < 0)
		return;
	if (c->sockfd >= 0 && c->sockfd != fd) {
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->sockfd, NULL);
		c->sockfd = -1;
	}
	if (fd < 0)
		return;
	ev.events = events;
	ev.data.fd = fd;
	if (epoll_ctl(c->epfd, c->sockfd == fd ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) == 0)
		c->sockfd = fd;
}

static void
unwatch_socket(struct chat_client *c)
{
	/* The socket may be closed already (then epoll dropped it itself). */
	if (c->epfd >= 0 && c->sockfd >= 0)
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->sockfd, NULL);
	c->sockfd = -1;
}

void
session_set_state(struct chat_client *c, enum chat_state st, int err)
{
	if (c->state == st)
		return;
	c->state = st;
	if (c->cbs.on_state)
		c->cbs.on_state(c, c->udata, st, err);
}

void
session_want_write(struct chat_client *c)
{
	if (c->wsi != NULL) {
		lws_callback_on_writable(c->wsi);
		/* An application polling chat_client_fd must call us to write it. */
		if (c->wakefd >= 0)
			eventfd_write(c->wakefd, 1);
	}
}

static void
retry_due(lws_sorted_usec_list_t *sul)
{
	struct chat_client *c = lws_container_of(sul, struct chat_client, retry);

	session_want_write(c);
}

/* The next frame allowed out now, or NULL. A request the server asked to
 * wait holds back those behind it: they must not overtake it. */
static struct request *
next_frame(struct chat_client *c)
{
	int64_t now = proto_mono_ms();
	int in_flight = 0;

	for (struct request *r = c->reqs; r != NULL; r = r->next) {
		/* Slowed down: a window of requests in flight, 1 after a refusal and
		 * twice as many after each one taken, or a whole pipeline would be
		 * refused again and again. */
		if (r->sent && c->rate_window > 0 && ++in_flight >= c->rate_window)
			return NULL;
		if (r->sent || !(c->state == CHAT_STATE_ONLINE || r->preauth))
			continue;
		if (r->not_before > now) {
			/* Timers may fire a little early: look again when it is due. */
			lws_sul_schedule(c->ctx, 0, &c->retry, retry_due,
					 (lws_usec_t)(r->not_before - now + 1) * LWS_US_PER_MS);
			return NULL;
		}
		return r;
	}
	return NULL;
}

/* Requests in flight while slowed down, at most; past it, no limit again. */
#define RATE_WINDOW_MAX 64

/* A rate_limited answer: send r again (in its place) after the time the
 * server named. There is no count of tries: the server takes it once the
 * device's rate allows (a request queued behind a long burst is refused many
 * times over without being at fault). 1 if it will be sent again, 0 if not
 * (the connection is not online). */
static int
retry_later(struct chat_client *c, struct request *r, const cJSON *reply)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");
	int64_t wait = 1000;

	if (c->state != CHAT_STATE_ONLINE)
		return 0;
	proto_get_int(e, "retryAfterMs", 1, 60000, &wait);
	r->sent = 0;
	r->not_before = proto_mono_ms() + wait;
	c->rate_window = 1;
	lws_sul_schedule(c->ctx, 0, &c->retry, retry_due, (lws_usec_t)wait * LWS_US_PER_MS);
	return 1;
}

int
session_request(struct chat_client *c, cJSON *req, reply_fn fn, struct op *op, int preauth)
{
	struct request *r, **tail;
	char *json;
	size_t len;

	r = calloc(1, sizeof *r);
	if (r == NULL || !cJSON_AddNumberToObject(req, "id", (double)c->next_req_id) ||
	    (json = cJSON_PrintUnformatted(req)) == NULL) {
		free(r);
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	cJSON_Delete(req);
	len = strlen(json);
	if (len > c->max_frame) {
		free(json);
		free(r);
		return client_fail(c, CHAT_ERR_TOO_LARGE,
				   "request of %zu bytes is over the server's "
				   "frame limit of %zu bytes",
				   len, c->max_frame);
	}
	/* lws needs LWS_PRE bytes of headroom before the payload. */
	r->frame = malloc(LWS_PRE + len);
	if (r->frame == NULL) {
		free(json);
		free(r);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	memcpy(r->frame + LWS_PRE, json, len);
	free(json);
	r->frame_len = len;
	r->id = c->next_req_id++;
	r->fn = fn;
	r->op = op;
	r->preauth = preauth;
	for (tail = &c->reqs; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = r;
	session_want_write(c);
	return CHAT_OK;
}

int
session_reply_error(struct chat_client *c, const cJSON *reply)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");
	const char *code = proto_get_str(e, "code"), *msg = proto_get_str(e, "message");

	snprintf(c->server_code, sizeof c->server_code, "%s", code ? code : "unknown");
	c->err_user[0] = '\0';
	snprintf(c->errmsg, sizeof c->errmsg, "server refused: %s (%s)",
		 msg ? msg : "no reason given", c->server_code);
	return CHAT_ERR_REFUSED;
}

/* Removes r from the list and calls its reply function. */
static void
complete(struct chat_client *c, struct request *r, const cJSON *reply, int err)
{
	struct request **pp;

	for (pp = &c->reqs; *pp != NULL && *pp != r; pp = &(*pp)->next)
		;
	if (*pp == r)
		*pp = r->next;
	if (r->fn)
		r->fn(c, r->op, reply, err);
	free(r->frame);
	free(r);
}

void
session_drop_op_requests(struct chat_client *c, const struct op *op)
{
	struct request **pp = &c->reqs;

	while (*pp != NULL) {
		struct request *r = *pp;

		if (r->op == op) {
			*pp = r->next;
			free(r->frame);
			free(r);
		} else {
			pp = &r->next;
		}
	}
}

/* Fails every request: the connection is gone, so no reply will come. */
static void
fail_requests(struct chat_client *c, int err)
{
	while (c->reqs != NULL)
		complete(c, c->reqs, NULL, err);
}

/* Whether a lost connection is made again: with chat_opts.reconnect, unless the
 * server refused this device (retrying would be refused again) or the handle
 * is being destroyed. */
static int
will_retry(const struct chat_client *c)
{
	/* A refused certificate is a configuration to fix (a CA file, the URL's
	 * host), not a passing failure: retrying would be refused again. */
	return c->reconnect && !c->user_closed && c->ctx != NULL && c->user[0] != '\0' &&
	       c->conn_err != CHAT_ERR_REFUSED && c->conn_err != CHAT_ERR_PROTOCOL &&
	       c->conn_err != CHAT_ERR_NOT_REGISTERED && c->conn_err != CHAT_ERR_TLS;
}

/* 0.5 s, doubling up to 30 s, each +-25% so that many clients a restarted server
 * brings back do not all knock at once. */
static int64_t
retry_delay(unsigned attempt)
{
	int64_t ms = 500;

	while (attempt-- > 0 && ms < 30000)
		ms *= 2;
	if (ms > 30000)
		ms = 30000;
	return ms * 3 / 4 + (int64_t)randombytes_uniform((uint32_t)(ms / 2 + 1));
}

static void
connection_gone(struct chat_client *c, int err)
{
	char saved[sizeof c->errmsg], saved_user[sizeof c->err_user];

	unwatch_socket(c);
	c->wsi = NULL;
	c->drained = 0;
	c->closing = 0;
	c->linking = 0;
	if (c->conn_err == CHAT_OK)
		c->conn_err = err;
	/* Keep the first explanation (say, an auth refusal) over later echoes. */
	memcpy(saved, c->errmsg, sizeof saved);
	memcpy(saved_user, c->err_user, sizeof saved_user);
	if (will_retry(c)) {
		ops_hold_sends(c);
		fail_requests(c, c->conn_err);
		ops_fail_unheld(c, c->conn_err);
	} else {
		fail_requests(c, c->conn_err);
		ops_fail_all(c, c->conn_err);
	}
	memcpy(c->errmsg, saved, sizeof saved);
	memcpy(c->err_user, saved_user, sizeof saved_user);
	client_forget_buffers(c);
	if (will_retry(c)) {
		c->next_attempt = proto_mono_ms() + retry_delay(c->attempts++);
		session_set_state(c, CHAT_STATE_WAITING, c->conn_err);
	} else {
		session_set_state(c, CHAT_STATE_OFFLINE, c->conn_err);
	}
}

static void
on_reply(struct chat_client *c, const cJSON *msg)
{
	const cJSON *idv = cJSON_GetObjectItemCaseSensitive(msg, "id");
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(msg, "ok");
	struct request *r;
	int err;

	if (!cJSON_IsNumber(idv)) {
		/* The server could not read one of our frames: a bug on one side. */
		session_reply_error(c, msg);
		return;
	}
	for (r = c->reqs; r != NULL && (double)r->id != idv->valuedouble; r = r->next)
		;
	if (r == NULL || !r->sent)
		return; /* not ours (a late reply to a request that timed out) */
	if (cJSON_IsTrue(ok)) {
		/* Taken: open the window again, up to no window at all. */
		if (c->rate_window > 0 && (c->rate_window *= 2) > RATE_WINDOW_MAX)
			c->rate_window = 0;
		session_want_write(c);
		complete(c, r, msg, CHAT_OK);
		return;
	}
	err = session_reply_error(c, msg);
	if (strcmp(c->server_code, "rate_limited") == 0 && retry_later(c, r, msg))
		return;
	complete(c, r, msg, err);
}

static void
on_hello(struct chat_client *c, const cJSON *msg)
{
	const cJSON *limits = cJSON_GetObjectItemCaseSensitive(msg, "limits");
	int64_t proto, max_frame;

	if (proto_get_int(msg, "protocol", 0, 1 << 30, &proto) != 0 || proto != PROTO_VERSION ||
	    proto_get_b64(msg, "challenge", c->challenge, PROTO_CHALLENGE_BYTES, 0, NULL) != 0) {
		client_fail(c, CHAT_ERR_PROTOCOL,
			    "the server speaks another protocol version or sent "
			    "a malformed hello");
		c->conn_err = CHAT_ERR_PROTOCOL;
		c->closing = 1;
		session_want_write(c);
		return;
	}
	if (proto_get_int(limits, "maxFrame", PROTO_FRAME_LIMIT_MIN, PROTO_FRAME_LIMIT_MAX,
			  &max_frame) == 0)
		c->max_frame = (size_t)max_frame;
	if (proto_get_int(limits, "maxBlob", 1, INT64_MAX / 2, &max_frame) == 0)
		c->max_blob = (uint64_t)max_frame;
	if (proto_get_int(limits, "retention", 1000, INT64_MAX / 4, &c->retention_ms) != 0)
		c->retention_ms = 0;
	ops_on_hello(c);
}

/* A frame whose strings held U+0000 or a lone surrogate (bad: the scrub's
 * bits), rewritten so that it parses: never acted upon. A reply fails its
 * request; a push is reported (as a message that could not be received) and
 * not acked, so that nothing cut short is stored. */
static void
on_bad_strings(struct chat_client *c, const cJSON *msg, unsigned bad)
{
	static const char *const pushes[] = {"newMessage", "receipt", "chatUpdate", "hello",
					     "linked",     "missed",  "drained",    NULL};
	const cJSON *idv = cJSON_GetObjectItemCaseSensitive(msg, "id");
	const char *type = proto_get_str(msg, "type"), *name = "of an unknown type";
	struct request *r;

	if (cJSON_GetObjectItemCaseSensitive(msg, "ok") != NULL) {
		for (r = c->reqs;
		     r != NULL && cJSON_IsNumber(idv) && (double)r->id != idv->valuedouble;
		     r = r->next)
			;
		client_fail(c, CHAT_ERR_PROTOCOL,
			    "the server's reply broke the protocol: %s; it was not used",
			    proto_scrub_reason(bad));
		if (r != NULL && cJSON_IsNumber(idv) && r->sent)
			complete(c, r, NULL, CHAT_ERR_PROTOCOL);
		return;
	}
	/* Only a known name goes into the message: the type is the server's text. */
	for (size_t i = 0; type != NULL && pushes[i] != NULL; i++)
		if (strcmp(type, pushes[i]) == 0)
			name = pushes[i];
	client_fail(c, CHAT_ERR_PROTOCOL,
		    "the server sent a push (%s) that broke the protocol: %s; it was ignored", name,
		    proto_scrub_reason(bad));
	if (strcmp(name, "hello") == 0) {
		/* Nothing can follow a hello we cannot use. */
		c->conn_err = CHAT_ERR_PROTOCOL;
		c->closing = 1;
		session_want_write(c);
	} else if (c->cbs.on_receive_error) {
		c->cbs.on_receive_error(c, c->udata, NULL, CHAT_ERR_PROTOCOL, c->errmsg);
	}
}

void
session_dispatch(struct chat_client *c, char *buf, size_t len)
{
	/* cJSON would cut a string at U+0000 and refuse a lone surrogate: make
	 * the frame readable, and refuse it below if it held one. */
	unsigned bad = proto_json_scrub(buf, len);
	cJSON *msg = cJSON_ParseWithLength(buf, len);
	const char *type;

	if (!cJSON_IsObject(msg)) {
		client_fail(c, CHAT_ERR_PROTOCOL,
			    "the server sent a frame that is not a JSON object");
		cJSON_Delete(msg);
		return;
	}
	if (bad != 0) {
		on_bad_strings(c, msg, bad);
	} else if (cJSON_GetObjectItemCaseSensitive(msg, "ok") != NULL) {
		on_reply(c, msg);
	} else if ((type = proto_get_str(msg, "type")) == NULL) {
		client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a frame with no type");
	} else if (strcmp(type, "hello") == 0) {
		on_hello(c, msg);
	} else if (strcmp(type, "linked") == 0) {
		ops_on_linked(c, msg);
	} else if (c->state != CHAT_STATE_ONLINE) {
		/* Pushes before authentication would be a server bug; ignore them. */
	} else if (strcmp(type, "newMessage") == 0) {
		if (!c->send_only)
			receive_new_message(c, msg);
	} else if (strcmp(type, "chatUpdate") == 0) {
		if (!c->send_only)
			receive_chat_update(c, msg);
	} else if (strcmp(type, "receipt") == 0) {
		if (!c->send_only)
			receive_receipt(c, msg);
	} else if (strcmp(type, "missed") == 0) {
		int64_t count, oldest;

		if (!c->send_only && proto_get_int(msg, "count", 1, INT64_MAX / 2, &count) == 0 &&
		    proto_get_int(msg, "oldest", 0, INT64_MAX / 2, &oldest) == 0 &&
		    c->cbs.on_missed)
			c->cbs.on_missed(c, c->udata, count, oldest);
	} else if (strcmp(type, "drained") == 0) {
		c->drained = 1;
	}
	/* Other pushes are from a newer protocol revision: ignored, as the protocol says. */
	cJSON_Delete(msg);
}

static int
on_receive(struct chat_client *c, struct lws *wsi, const void *in, size_t len)
{
	if (lws_frame_is_binary(wsi)) {
		client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a binary frame");
		return 0;
	}
	/* Bound what the network can make us allocate. */
	if (c->rx_len + len > c->max_frame + 4096) {
		c->conn_err = CHAT_ERR_PROTOCOL;
		client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a frame over %zu bytes",
			    c->max_frame);
		return -1;
	}
	if (c->rx_len + len > c->rx_cap) {
		size_t cap = c->rx_cap ? c->rx_cap : 4096;
		char *p;

		while (cap < c->rx_len + len)
			cap *= 2;
		p = realloc(c->rx, cap);
		if (p == NULL) {
			c->conn_err = CHAT_ERR_NOMEM;
			return -1;
		}
		c->rx = p;
		c->rx_cap = cap;
	}
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
		size_t n = c->rx_len;

		c->rx_len = 0;
		session_dispatch(c, c->rx, n);
	}
	return 0;
}

static int
on_writeable(struct chat_client *c, struct lws *wsi)
{
	struct request *r;

	if (c->state == CHAT_STATE_ONLINE) {
		receive_flush_acks(c);
		receipts_flush(c);
	}
	r = next_frame(c);
	if (r == NULL || (c->closing && c->conn_err != CHAT_OK)) {
		/* A clean close still sends what is queued (acks above all) first;
		 * a close for an error does not. */
		if (c->closing) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"bye", 3);
			return -1;
		}
		return 0;
	}
	/* lws masks the payload in place; the request keeps its frame clean
	 * for a second sending (rate_limited), so a copy goes out. */
	if (c->tx_cap < LWS_PRE + r->frame_len) {
		char *p = realloc(c->tx, LWS_PRE + r->frame_len);

		if (p == NULL) {
			c->conn_err = CHAT_ERR_NOMEM;
			return -1;
		}
		c->tx = p;
		c->tx_cap = LWS_PRE + r->frame_len;
	}
	memcpy(c->tx + LWS_PRE, r->frame + LWS_PRE, r->frame_len);
	if (lws_write(wsi, (unsigned char *)c->tx + LWS_PRE, r->frame_len, LWS_WRITE_TEXT) <
	    (int)r->frame_len) {
		c->conn_err = CHAT_ERR_CONNECTION_LOST;
		return -1;
	}
	r->sent = 1;
	r->deadline = proto_mono_ms() + c->timeout_ms;
	if (next_frame(c) != NULL || c->closing)
		lws_callback_on_writable(wsi);
	return 0;
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
note_cert_failure(struct chat_client *c, X509_STORE_CTX *x509_ctx)
{
	int err = X509_STORE_CTX_get_error(x509_ctx);
	X509 *cert = X509_STORE_CTX_get_current_cert(x509_ctx);
	char subject[64] = "", issuer[64] = "";

	if (c->tls_why[0] != '\0' || err == X509_V_OK)
		return;
	if (cert != NULL) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, subject,
					  sizeof subject);
		X509_NAME_get_text_by_NID(X509_get_issuer_name(cert), NID_commonName, issuer,
					  sizeof issuer);
	}
	printable(subject);
	printable(issuer);
	snprintf(c->tls_why, sizeof c->tls_why, "%s (%s presented a certificate%s%s%s%s%s%s)",
		 X509_verify_cert_error_string(err), c->server_url, subject[0] ? " for '" : "",
		 subject, subject[0] ? "'" : "", issuer[0] ? " issued by '" : "", issuer,
		 issuer[0] ? "'" : "");
}

/* wss://: this connection's TLS exporter value (RFC 9266, no context), which
 * the session signature covers: a relay that ends TLS and opens its own to
 * the server has another, and the server refuses the signature. 0, or -1 if
 * it cannot be had over TLS (the connection is given up). */
static int
bind_channel(struct chat_client *c, struct lws *wsi)
{
	static const char label[] = "EXPORTER-Channel-Binding";
	SSL *ssl = c->tls ? lws_get_ssl(wsi) : NULL;

	c->binding_len = 0;
	if (!c->tls)
		return 0;
	if (ssl == NULL || SSL_export_keying_material(ssl, c->binding, sizeof c->binding, label,
						      sizeof label - 1, NULL, 0, 0) != 1) {
		c->conn_err = CHAT_ERR_TLS;
		client_fail(c, CHAT_ERR_TLS,
			    "cannot bind the session to the TLS connection to %s (no exporter)",
			    c->server_url);
		return -1;
	}
	c->binding_len = sizeof c->binding;
	return 0;
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct chat_client *c = client_of(wsi);

	(void)user;
	if (c == NULL || wsi != c->wsi)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (bind_channel(c, wsi) != 0)
			return -1;
		/* Connected: from now on only incoming data needs the application. */
		watch_socket(c, EPOLLIN);
		c->valid_ms = proto_mono_ms(); /* the heartbeat starts from here */
		session_set_state(c, CHAT_STATE_AUTHENTICATING, CHAT_OK);
		break;
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		/* user is OpenSSL's X509_STORE_CTX, len its preverify_ok. Returning
		 * 0 leaves OpenSSL's verdict as it is. */
		if (len == 0 && user != NULL)
			note_cert_failure(c, user);
		return 0;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c->tls_why[0] != '\0' && c->conn_err == CHAT_OK) {
			c->conn_err = CHAT_ERR_TLS;
			client_fail(c, CHAT_ERR_TLS, "the server's certificate was refused: %s",
				    c->tls_why);
		} else if (c->conn_err == CHAT_OK && c->tls && in != NULL &&
			   strncmp(in, "connect SSL", 11) == 0) {
			/* lws's text for it is a bare error number: say what it means. */
			client_fail(c, CHAT_ERR_CONNECT,
				    "cannot connect to %s: the TLS handshake failed "
				    "(a ws:// server?)",
				    c->server_url);
		} else if (c->conn_err == CHAT_OK) {
			client_fail(c, CHAT_ERR_CONNECT, "cannot connect to %s: %s", c->server_url,
				    in ? (const char *)in : "connection failed");
		}
		connection_gone(c, c->was_online ? CHAT_ERR_CONNECTION_LOST : CHAT_ERR_CONNECT);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE: return on_receive(c, wsi, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE: return on_writeable(c, wsi);
	case LWS_CALLBACK_CLIENT_RECEIVE_PONG: c->valid_ms = proto_mono_ms(); break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		c->peer_closed = 1;
		if (len >= 2) {
			const unsigned char *p = in;
			unsigned code = (unsigned)p[0] << 8 | p[1];

			/* Another program took this device's session: fighting back
			 * (reconnecting) would only throw it out in turn. */
			if (code == PROTO_CLOSE_REPLACED || code == PROTO_CLOSE_REMOVED)
				c->user_closed = 1;
			if (c->conn_err == CHAT_OK)
				client_fail(c, CHAT_ERR_CONNECTION_LOST,
					    "the server closed the connection "
					    "(%u %.*s)%s",
					    code, (int)(len - 2 > 120 ? 120 : len - 2),
					    (const char *)p + 2,
					    code == PROTO_CLOSE_REPLACED
						    ? ": another program connected as this device"
						    : "");
		}
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		/* Said over any earlier message: nothing else explains the loss. */
		if (c->conn_err == CHAT_OK && heartbeat_expired(c))
			client_fail(c, CHAT_ERR_CONNECTION_LOST,
				    "no answer from the server for %d s (heartbeat): the "
				    "connection is dead",
				    c->heartbeat_s);
		else if (c->conn_err == CHAT_OK && c->errmsg[0] == '\0')
			client_fail(c, CHAT_ERR_CONNECTION_LOST,
				    "the server closed the connection");
		connection_gone(c, CHAT_ERR_CONNECTION_LOST);
		break;
	default: break;
	}
	return 0;
}

/* Splits the server's URL (see proto_parse_url), or says what is wrong with it. */
static int
parse_url(struct chat_client *c, const char *url, struct proto_url *u)
{
	if (url == NULL)
		return client_fail(c, CHAT_ERR_INVALID,
				   "no server URL: none was given, and none is remembered");
	switch (proto_parse_url(url, u)) {
	case PROTO_URL_OK: return CHAT_OK;
	case PROTO_URL_SCHEME:
		return client_fail(c, CHAT_ERR_INVALID, "'%s' is not a ws:// or wss:// URL", url);
	case PROTO_URL_PORT: return client_fail(c, CHAT_ERR_INVALID, "bad port in URL '%s'", url);
	case PROTO_URL_PATH:
		return client_fail(c, CHAT_ERR_INVALID, "path too long in URL '%s'", url);
	case PROTO_URL_IPV6:
		return client_fail(c, CHAT_ERR_INVALID,
				   "an IPv6 address in a URL goes in brackets: ws://[::1]:8700/, "
				   "not '%s'",
				   url);
	default: return client_fail(c, CHAT_ERR_INVALID, "bad host in URL '%s'", url);
	}
}

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

/* The lws context, made once per handle; tls: for a wss:// server, which a
 * handle's URL stays for its life. */
static int
make_context(struct chat_client *c, int tls)
{
	struct lws_context_creation_info info;

	if (c->ctx != NULL)
		return CHAT_OK;
	if (tls && c->ca_file != NULL && check_ca_file(c) != CHAT_OK)
		return CHAT_ERR_INVALID;
	/* lws logs to stderr by itself; a library must not. CHAT_DEBUG turns it on. */
	lws_set_log_level(getenv("CHAT_DEBUG") ? LLL_ERR | LLL_WARN | LLL_NOTICE : 0, NULL);
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	c->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->epfd < 0 || c->wakefd < 0) {
		int e = errno;

		if (c->epfd >= 0)
			close(c->epfd);
		if (c->wakefd >= 0)
			close(c->wakefd);
		c->epfd = c->wakefd = -1;
		return client_fail(c, CHAT_ERR_NOMEM, "cannot set up the event descriptors: %s",
				   strerror(e));
	} else {
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = c->wakefd};

		epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->wakefd, &ev);
	}
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
	c->ctx = lws_create_context(&info);
	if (c->ctx == NULL) {
		close(c->epfd);
		close(c->wakefd);
		c->epfd = c->wakefd = -1;
		return client_fail(c, CHAT_ERR_NOMEM, "cannot create the network context");
	}
	return CHAT_OK;
}

int
session_start(struct chat_client *c)
{
	struct lws_client_connect_info ci;
	struct proto_url u;
	char host[sizeof u.host + 2];
	int rc;

	if (c->wsi != NULL)
		return CHAT_OK;
	rc = parse_url(c, c->server_url, &u);
	if (rc == CHAT_OK &&
	    proto_server_name(u.host, u.port, c->server_name, sizeof c->server_name) != 0)
		rc = client_fail(c, CHAT_ERR_INVALID, "bad host in URL '%s'", c->server_url);
	if (rc == CHAT_OK)
		rc = make_context(c, u.tls);
	if (rc != CHAT_OK)
		return rc;
	memset(&ci, 0, sizeof ci);
	/* The address to connect to is bare; the Host header of an IPv6 address
	 * has its brackets (RFC 7230, 5.4). */
	snprintf(host, sizeof host, u.ipv6 ? "[%s]" : "%s", u.host);
	ci.context = c->ctx;
	ci.address = u.host;
	ci.port = u.port;
	ci.path = u.path;
	ci.host = host;
	ci.origin = host;
	ci.protocol = PROTO_SUBPROTOCOL;
	/* Full verification: a known CA, valid dates, and the host's name (lws
	 * checks ci.host against the certificate). No LCCSCF_ALLOW_* here. */
	ci.ssl_connection = u.tls ? LCCSCF_USE_SSL : 0;
	c->tls = u.tls;
	c->tls_why[0] = '\0';
	ci.pwsi = &c->wsi;
	ci.retry_and_idle_policy = &c->heartbeat;
	c->conn_err = CHAT_OK;
	c->user_closed = 0;
	c->errmsg[0] = '\0';
	c->err_user[0] = '\0';
	c->drained = 0;
	c->rate_window = 0;
	c->peer_closed = 0;
	c->max_frame = PROTO_MAX_FRAME;
	c->connect_deadline = proto_mono_ms() + c->timeout_ms;
	session_set_state(c, CHAT_STATE_CONNECTING, CHAT_OK);
	if (lws_client_connect_via_info(&ci) == NULL) {
		c->wsi = NULL;
		session_set_state(c, CHAT_STATE_OFFLINE, CHAT_ERR_CONNECT);
		return client_fail(c, CHAT_ERR_CONNECT, "cannot connect to %s", c->server_url);
	}
	/* Until the handshake is done lws waits for the socket to be writable. */
	watch_socket(c, EPOLLIN | EPOLLOUT);
	return CHAT_OK;
}

void
session_online(struct chat_client *c)
{
	c->was_online = 1;
	c->attempts = 0;
	session_set_state(c, CHAT_STATE_ONLINE, CHAT_OK);
	ops_resume_sends(c);
	receipts_due(c, 0); /* whatever the store owes from earlier */
	session_want_write(c);
}

void
session_stop(struct chat_client *c)
{
	if (c->ctx != NULL) {
		struct lws_context *ctx = c->ctx;

		/* Destroying the context closes the connection and calls back: by then
		 * nothing must point at it, nor may a timer of ours stay in its lists. */
		lws_sul_cancel(&c->retry);
		lws_sul_cancel(&c->receipts_sul);
		c->wsi = NULL;
		c->ctx = NULL;
		lws_context_destroy(ctx);
	}
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->wakefd >= 0)
		close(c->wakefd);
	c->epfd = c->wakefd = -1;
	c->sockfd = -1;
	if (c->state != CHAT_STATE_OFFLINE)
		connection_gone(c, CHAT_ERR_CONNECTION_LOST);
}

/* Fails requests whose answer is overdue, and a connection that takes too long. */
static void
check_deadlines(struct chat_client *c)
{
	int64_t now = proto_mono_ms();
	struct request *r;

	/* A link request waits for a person to approve it: no deadline then. */
	if (c->wsi != NULL && c->state != CHAT_STATE_ONLINE && !c->linking &&
	    now > c->connect_deadline) {
		c->conn_err =
			c->state == CHAT_STATE_CONNECTING ? CHAT_ERR_CONNECT : CHAT_ERR_TIMEOUT;
		client_fail(c, c->conn_err, "no answer from %s within %d ms", c->server_url,
			    c->timeout_ms);
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return;
	}
	for (r = c->reqs; r != NULL; r = r->next) {
		if (r->sent && now > r->deadline) {
			client_fail(c, CHAT_ERR_TIMEOUT, "the server did not answer within %d ms",
				    c->timeout_ms);
			complete(c, r, NULL, CHAT_ERR_TIMEOUT);
			r = c->reqs; /* the list changed under us */
			if (r == NULL)
				break;
		}
	}
}

static void
wake(lws_sorted_usec_list_t *sul)
{
	(void)sul; /* firing is the point: it ends lws_service()'s wait */
}

int
chat_client_connect(struct chat_client *c)
{
	if (c->id == NULL || c->user[0] == '\0') {
		if (!ops_pending_register(c))
			return client_fail(c, CHAT_ERR_NOT_REGISTERED,
					   "this device is not registered");
	}
	return session_start(c);
}

void
chat_client_disconnect(struct chat_client *c)
{
	int64_t until = proto_mono_ms() + 1000;

	c->user_closed = 1;
	if (c->wsi == NULL) {
		/* Waiting to reconnect: stop waiting. */
		if (c->state == CHAT_STATE_WAITING)
			connection_gone(c, CHAT_ERR_CONNECTION_LOST);
		return;
	}
	c->closing = 1;
	session_want_write(c);
	while (c->wsi != NULL && proto_mono_ms() < until)
		chat_client_loop(c, 100);
}

enum chat_state
chat_client_state(const struct chat_client *c)
{
	return c->state;
}

int
chat_client_loop(struct chat_client *c, int timeout_ms)
{
	eventfd_t pending;

	if (c->ctx == NULL || (c->wsi == NULL && c->state == CHAT_STATE_OFFLINE))
		return CHAT_ERR_NOT_CONNECTED;
	if (c->state == CHAT_STATE_WAITING) {
		int64_t left = c->next_attempt - proto_mono_ms();

		if (left <= 0) {
			/* A failed start is one more failed attempt: wait again. */
			if (session_start(c) != CHAT_OK && c->wsi == NULL) {
				c->next_attempt = proto_mono_ms() + retry_delay(c->attempts++);
				session_set_state(c, CHAT_STATE_WAITING, CHAT_ERR_CONNECT);
			}
			return CHAT_OK;
		}
		if (timeout_ms > left)
			timeout_ms = (int)left;
	}
	if (c->wakefd >= 0)
		eventfd_read(c->wakefd, &pending); /* consumed by this pass */
	if (timeout_ms <= 0) {
		/* Only what is ready: a negative timeout makes lws poll without
		 * waiting. A due timer would not do: lws runs it before polling and
		 * then sleeps until its own next timer, up to 30 s. */
		if (lws_service(c->ctx, -1) < 0)
			return client_fail(c, CHAT_ERR_CONNECTION_LOST, "network loop failed");
	} else {
		/* lws_service() sleeps until an event or its next timer; ours bounds it. */
		lws_sul_schedule(c->ctx, 0, &c->wake, wake, (lws_usec_t)timeout_ms * LWS_US_PER_MS);
		if (lws_service(c->ctx, 0) < 0)
			return client_fail(c, CHAT_ERR_CONNECTION_LOST, "network loop failed");
		if (c->ctx != NULL)
			lws_sul_cancel(&c->wake);
	}
	check_deadlines(c);
	media_poll(c);
	return CHAT_OK;
}

int
chat_client_retry_in(const struct chat_client *c)
{
	int64_t left;

	if (c->state != CHAT_STATE_WAITING)
		return -1;
	left = c->next_attempt - proto_mono_ms();
	return left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

int
chat_client_fd(const struct chat_client *c)
{
	return c->epfd;
}

int
chat_client_drained(const struct chat_client *c)
{
	return c->drained;
}

int
chat_client_idle(const struct chat_client *c)
{
	return c->reqs == NULL && c->n_acks == 0 && !c->receipts_due;
}

int
chat_client_run_until(struct chat_client *c, const volatile int *flag, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? INT64_MAX : proto_mono_ms() + timeout_ms;

	while (!*flag) {
		int64_t left = deadline - proto_mono_ms();

		if (left <= 0)
			return client_fail(c, CHAT_ERR_TIMEOUT, "timed out after %d ms",
					   timeout_ms);
		if (chat_client_loop(c, left > 250 ? 250 : (int)left) != CHAT_OK)
			return c->conn_err != CHAT_OK ? c->conn_err : CHAT_ERR_NOT_CONNECTED;
	}
	return CHAT_OK;
}
