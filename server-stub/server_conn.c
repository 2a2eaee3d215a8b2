/*
 * server_conn.c - chat-server's connections (see server_int.h): the
 * libwebsockets callback, a connection's life from handshake to close, the
 * frames it reads, and its outgoing queue and delivery.
 *
 * Each connection has an outgoing queue of whole frames, written as many
 * per WRITEABLE callback as the socket takes.  Replies are queued as
 * requests are handled, so they leave in request order.
 *
 * Group commit and delivery from memory (issue 12) are server_batch.c's:
 * frames queued while a batch is open are held until its COMMIT, and the
 * inbox is not read while it is open.  Pushes are never queued from memory by the
 * sender's request: a send only marks the recipient's connection "inbox
 * changed" (server_hooks.c), and that connection, when its queue runs low,
 * loads the next rows of its device's inbox past its cursor (the last inbox
 * id it pushed).  Live delivery and the drain after auth are thus one
 * ordered path, and a slow reader holds at most a batch in memory, not its
 * whole backlog.
 */
#include "server_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "addr.h"
#include "proto.h"

/* Inbox rows loaded per batch, and how full the queue may be for a load:
 * a batch is loaded only below FILL_FRAMES frames and stops growing past
 * FILL_BYTES, so a device with a large backlog costs about 1 MiB here. */
#define INBOX_BATCH 64
#define FILL_FRAMES 8
#define FILL_BYTES  (1024 * 1024)

/* A client that sends requests without reading the replies is paused (no
 * more reading from it) above the high mark, resumed below the low one. */
#define PAUSE_FRAMES  256
#define PAUSE_BYTES   (8 * 1024 * 1024)
#define RESUME_FRAMES 64
#define RESUME_BYTES  (2 * 1024 * 1024)

/* lws's receive buffer per connection, whole with its headroom: 1 KiB. */
#define RX_CHUNK (1024 - LWS_PRE - 4)

/* How long a connection being closed may take to flush its last frames. */
#define CLOSE_GRACE_SECS 5

/* What one WRITEABLE callback writes at most, so that one reader of a large
 * backlog does not hold up the others. */
#define WRITE_BUDGET (1024 * 1024)

struct frame {
	struct frame *next;
	size_t len;
	unsigned char buf[]; /* LWS_PRE bytes of headroom, then len */
};

struct conn *
conn_of(struct session *s)
{
	return (struct conn *)((char *)s - offsetof(struct conn, sess));
}

static const char *
conn_device(const struct conn *c, char *buf, size_t cap)
{
	if (!c->sess.authed)
		return "-";
	snprintf(buf, cap, "%s/%u", c->sess.user, (unsigned)c->sess.device_id);
	return buf;
}

/* "192.0.2.1:4321" or "[2001:db8::1]:4321", from the socket itself. */
static void
peer_name(struct lws *wsi, char *out, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char host[INET6_ADDRSTRLEN];
	int fd = lws_get_socket_fd(wsi);

	snprintf(out, cap, "?");
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		if (inet_ntop(AF_INET, &a->sin_addr, host, sizeof host))
			snprintf(out, cap, "%s:%u", host, ntohs(a->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
			if (inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], host, sizeof host))
				snprintf(out, cap, "%s:%u", host, ntohs(a->sin6_port));
		} else if (inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host)) {
			snprintf(out, cap, "[%s]:%u", host, ntohs(a->sin6_port));
		}
	}
}

/* ---- the outgoing queue ------------------------------------------------ */

/* Queue text (malloc'd JSON, taken over and freed here) as one frame.
 * Returns -1 if text is NULL or memory runs out. */
int
conn_queue_text(struct conn *c, char *text)
{
	struct frame *f;
	size_t len;

	if (text == NULL)
		return -1;
	len = strlen(text);
	f = malloc(sizeof *f + LWS_PRE + len);
	if (f == NULL) {
		free(text);
		return -1;
	}
	f->next = NULL;
	f->len = len;
	memcpy(f->buf + LWS_PRE, text, len);
	free(text);
	if (c->tail)
		c->tail->next = f;
	else
		c->head = f;
	c->tail = f;
	c->q_frames++;
	c->q_bytes += len;
	if (db_batch_is_open(c->srv->db) && c->held == NULL) {
		/* Held until the COMMIT, which asks for the writable then. */
		c->held = f;
		if (batch_note(c->srv, c) != 0)
			return -1;
	}
	if (c->held == NULL)
		lws_callback_on_writable(c->wsi);
	return 0;
}

static struct frame *
queue_pop(struct conn *c)
{
	struct frame *f = c->head;

	if (f != NULL) {
		c->head = f->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->q_frames--;
		c->q_bytes -= f->len;
	}
	return f;
}

void
conn_queue_clear(struct conn *c)
{
	struct frame *f;

	while ((f = queue_pop(c)) != NULL)
		free(f);
	c->held = NULL;
}

/* 1 if c has a frame that may be written now. */
static int
queue_ready(const struct conn *c)
{
	return c->head != NULL && c->head != c->held;
}

/*
 * Close c with code once its queue is flushed (or at once if now).  Input
 * from it is ignored from here on.  The timeout is the backstop for a peer
 * that never reads: lws then drops the socket without a close frame.
 */
void
conn_close(struct conn *c, int code, const char *reason, int now)
{
	if (c->close_code)
		return;
	c->close_code = code;
	c->close_reason = reason;
	c->close_now = now;
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, CLOSE_GRACE_SECS);
	lws_callback_on_writable(c->wsi);
}

/* ---- delivery ---------------------------------------------------------- */

struct fill {
	struct conn *c;
	int failed;
	int stopped;
};

static int
fill_row(void *udata, const struct db_inbox_row *row)
{
	struct fill *f = udata;

	if (conn_queue_text(f->c, wire_inbox_push(row)) != 0) {
		f->failed = 1;
		return 1;
	}
	f->c->cursor = row->inbox_id;
	if (f->c->q_bytes >= FILL_BYTES) {
		f->stopped = 1;
		return 1;
	}
	return 0;
}

/* With --bus, other instances' rows may come first: server_batch.c's
 * next_row says which rows may still go from memory. */
int
conn_caught_up(const struct conn *c, size_t len)
{
	return c->drained_sent && !c->inbox_dirty && c->q_bytes + len <= FILL_BYTES;
}

static int
wants_fill(const struct conn *c)
{
	return c->sess.authed && !c->sess.send_only && !c->close_code &&
	       (c->inbox_dirty || !c->drained_sent || !c->prekeys_checked);
}

/*
 * The first time after auth, before any inbox row: if the device lost rows
 * to the retention purge, queue the missed push, then reset its counter.
 * Returns -1 if the connection is to be closed.
 */
static int
check_missed(struct server *srv, struct conn *c)
{
	int64_t count, oldest;

	if (c->missed_checked)
		return 0;
	if (db_missed(srv->db, c->sess.user, c->sess.device_id, &count, &oldest) != DB_OK)
		return -1;
	if (count > 0) {
		if (conn_queue_text(c, wire_missed(count, oldest)) != 0)
			return -1;
		/* Told: a failed reset would only tell it again next time. */
		if (db_missed_reset(srv->db, c->sess.user, c->sess.device_id) != DB_OK)
			srv_log("conn %llu cannot reset the missed counter",
				(unsigned long long)c->sess.conn_id);
		srv_log("conn %llu missed count=%lld", (unsigned long long)c->sess.conn_id,
			(long long)count);
	}
	c->missed_checked = 1;
	return 0;
}

/*
 * After auth, and after a bundle took the device below PROTO_PREKEYS_LOW:
 * queue prekeysLow if it runs low and is to be told (db_prekeys_low: once
 * per crossing, and at each auth while it stays low).  -1 if the
 * connection is to be closed.
 */
static int
check_prekeys(struct server *srv, struct conn *c)
{
	int64_t count;
	int tell;

	if (c->prekeys_checked)
		return 0;
	if (db_prekeys_low(srv->db, c->sess.user, c->sess.device_id, c->prekeys_always, &tell,
			   &count) != DB_OK)
		return -1;
	if (tell) {
		if (conn_queue_text(c, wire_prekeys_low(count)) != 0)
			return -1;
		srv_log("prekeys: %s/%u %lld left", c->sess.user, (unsigned)c->sess.device_id,
			(long long)count);
	}
	c->prekeys_checked = 1;
	c->prekeys_always = 0;
	return 0;
}

/*
 * Queue the next inbox rows past the cursor, and the drained push the first
 * time there are none left.  Rows pushed but not acked stay in the inbox,
 * and go out again only on the device's next connection (cursor from 0).
 */
void
conn_fill(struct server *srv, struct conn *c)
{
	struct fill f = {.c = c};
	size_t n;

	if (!wants_fill(c) || c->q_frames >= FILL_FRAMES)
		return;
	/* Read between batches only (the batch's end loads it): rows of an
	 * open batch could still be rolled back. */
	if (db_batch_is_open(srv->db)) {
		if (batch_note(srv, c) != 0)
			conn_close(c, PROTO_CLOSE_INTERNAL, "internal error", 1);
		return;
	}
	if (check_missed(srv, c) != 0 || check_prekeys(srv, c) != 0) {
		srv_log("conn %llu cannot read the missed counter or the prekeys; closing",
			(unsigned long long)c->sess.conn_id);
		conn_close(c, PROTO_CLOSE_INTERNAL, "internal error", 0);
		return;
	}
	if (db_inbox_load(srv->db, c->sess.user, c->sess.device_id, c->cursor, INBOX_BATCH,
			  fill_row, &f, &n) != DB_OK ||
	    f.failed) {
		srv_log("conn %llu cannot load the inbox; closing",
			(unsigned long long)c->sess.conn_id);
		conn_close(c, PROTO_CLOSE_INTERNAL, "internal error", 0);
		return;
	}
	c->inbox_dirty = f.stopped || n == INBOX_BATCH;
	if (!c->inbox_dirty && !c->drained_sent) {
		if (conn_queue_text(c, wire_drained()) != 0) {
			conn_close(c, PROTO_CLOSE_INTERNAL, "internal error", 0);
			return;
		}
		c->drained_sent = 1;
	}
}

/* ---- connection events ------------------------------------------------- */

/* wss://: the connection's TLS exporter value (RFC 9266), which devices sign
 * into their session: a TLS-terminating relay has another. 0, or -1 if TLS
 * is on and the value cannot be had (the connection is refused). */
static int
bind_channel(struct session *s, struct lws *wsi)
{
	static const char label[] = "EXPORTER-Channel-Binding";
	SSL *ssl = lws_get_ssl(wsi);

	s->binding_len = 0;
	if (ssl == NULL)
		return 0;
	if (SSL_export_keying_material(ssl, s->binding, sizeof s->binding, label, sizeof label - 1,
				       NULL, 0, 0) != 1)
		return -1;
	s->binding_len = sizeof s->binding;
	return 0;
}

static int
conn_open(struct server *srv, struct conn *c, struct lws *wsi)
{
	struct addr_entry *e = lws_get_opaque_user_data(wsi);

	c->wsi = wsi;
	c->srv = srv;
	c->sess.conn_id = ++srv->next_conn_id;
	if (e != NULL)
		snprintf(c->sess.peer, sizeof c->sess.peer, "%s", e->key);
	limits_conn_open(srv, c);
	peer_name(wsi, c->peer, sizeof c->peer);
	hooks_conn_open(srv, c);
	srv_log("conn %llu open peer=%s", (unsigned long long)c->sess.conn_id, c->peer);
	if (bind_channel(&c->sess, wsi) != 0) {
		srv_log("conn %llu no TLS channel binding", (unsigned long long)c->sess.conn_id);
		return -1;
	}
	if (conn_queue_text(c, wire_hello(&srv->hooks, &c->sess)) != 0) {
		srv_log("conn %llu out of memory for hello", (unsigned long long)c->sess.conn_id);
		return -1;
	}
	return 0;
}

/* Why c is closing, for its close line (chat-server(8), LOGGING). A pong
 * resets the heartbeat, so a connection that saw none for the hangup time
 * is one that the heartbeat dropped (server_limits.c): a healthy one is
 * confirmed about every ping time. Half a second of slack, as when lws
 * kept the heartbeat. */
static const char *
close_why(const struct server *srv, const struct conn *c, char *buf, size_t cap)
{
	int64_t hangup_us = srv->hangup_ms * 1000;

	if (server_stopping())
		return "stop";
	if (c->close_code) {
		snprintf(buf, cap, "server/%d", c->close_code);
		return buf;
	}
	if (c->peer_closed)
		return "client";
	if (util_mono_us() - c->valid_us >= hangup_us - 500000)
		return "heartbeat";
	return "lost";
}

/* Called on CLOSED and again on WSI_DESTROY; does its work once. */
static void
conn_release(struct server *srv, struct conn *c)
{
	char dev[PROTO_USER_MAX + 16], why[32];

	if (c->wsi == NULL)
		return;
	limits_conn_close(srv, c);
	srv_log("conn %llu close peer=%s device=%s why=%s", (unsigned long long)c->sess.conn_id,
		c->peer, conn_device(c, dev, sizeof dev), close_why(srv, c, why, sizeof why));
	/* Last seen: the close of an authenticated connection, written with
	 * the batch (nobody waits on it: no fsync of its own). */
	if (c->sess.authed &&
	    (db_batch_open(srv->db) != 0 ||
	     db_touch_device(srv->db, c->sess.user, c->sess.device_id, proto_now_ms()) != DB_OK))
		srv_log("conn %llu cannot record last seen", (unsigned long long)c->sess.conn_id);
	batch_forget(srv, c);
	hooks_conn_closed(srv, c);
	conn_queue_clear(c);
	free(c->rx);
	c->rx = NULL;
	c->rx_len = c->rx_cap = 0;
	c->wsi = NULL;
}

static void
queue_or_close(struct conn *c, char *text)
{
	if (conn_queue_text(c, text) != 0)
		conn_close(c, PROTO_CLOSE_INTERNAL, "internal error", 0);
}

/* Stop reading from a client that does not read its replies. */
static void
check_pause(struct conn *c)
{
	if (!c->rx_paused && (c->q_frames > PAUSE_FRAMES || c->q_bytes > PAUSE_BYTES)) {
		c->rx_paused = 1;
		lws_rx_flow_control(c->wsi, 0);
	} else if (c->rx_paused && c->q_frames < RESUME_FRAMES && c->q_bytes < RESUME_BYTES) {
		c->rx_paused = 0;
		lws_rx_flow_control(c->wsi, 1);
	}
}

/* Room for need bytes in c->rx. The first allocation is what the frame
 * announces, so that a message in one frame (nearly all) is one exact
 * allocation; a message in fragments doubles it as it grows. */
static int
rx_reserve(struct conn *c, size_t need, size_t limit)
{
	size_t cap = c->rx_cap * 2;
	char *nb;

	if (need <= c->rx_cap)
		return 0;
	if (cap < need)
		cap = need;
	if (cap > limit)
		cap = limit;
	if ((nb = realloc(c->rx, cap)) == NULL)
		return -1;
	c->rx = nb;
	c->rx_cap = cap;
	return 0;
}

static void
handle_message(struct server *srv, struct conn *c)
{
	size_t len = c->rx_len;

	if (c->rx_binary) {
		queue_or_close(c, wire_frame_error(&c->sess, "bad_request",
						   "binary frames are not accepted; "
						   "send each request as JSON in a "
						   "text frame"));
	} else {
		c->rx[c->rx_len] = '\0';
		/* Without a batch (BEGIN failed), each request commits alone. */
		if (db_batch_open(srv->db) != 0)
			srv_log("conn %llu cannot begin a batch; the request commits alone",
				(unsigned long long)c->sess.conn_id);
		queue_or_close(c, wire_handle(&srv->hooks, &c->sess, c->rx, c->rx_len));
	}
	/* Released between messages: an idle connection holds no buffer of
	 * ours (issue 12: memory per idle session). */
	c->rx_len = 0;
	free(c->rx);
	c->rx = NULL;
	c->rx_cap = 0;
	check_pause(c);
	if (!c->rx_binary)
		server_batch_count(srv, len);
}

static int
conn_receive(struct server *srv, struct conn *c, const void *in, size_t len)
{
	struct lws *wsi = c->wsi;
	size_t remaining = lws_remaining_packet_payload(wsi);

	if (c->close_code)
		return 0; /* closing: the rest of the stream is not read */
	if (lws_is_first_fragment(wsi)) {
		c->rx_len = 0;
		c->rx_binary = lws_frame_is_binary(wsi);
		c->rx_skip = 0;
	}
	if (c->rx_skip) {
		/* The rest of a message already refused as too large. */
		if (lws_is_final_fragment(wsi))
			c->rx_skip = 0;
		return 0;
	}
	/* remaining is what is left of this WebSocket frame, so a frame that
	 * announces too much is refused before it is read in. WebSocket framing
	 * keeps the stream in step, so the rest of that message is skipped and the
	 * connection stays open. Closing instead would race: unread input makes
	 * the kernel answer the close with a reset, which can destroy the error
	 * reply before the client reads it. */
	if (len > srv->max_frame - c->rx_len || remaining > srv->max_frame - c->rx_len - len) {
		char msg[96];

		snprintf(msg, sizeof msg, "frames are limited to %zu bytes", srv->max_frame);
		queue_or_close(c, wire_frame_error(&c->sess, "frame_too_large", msg));
		free(c->rx);
		c->rx = NULL;
		c->rx_len = c->rx_cap = 0;
		c->rx_skip = !lws_is_final_fragment(wsi);
		return 0;
	}
	if (!c->rx_binary) {
		/* All this frame announces (bounded above), +1 for the NUL that
		 * wire.c wants after the message. */
		if (rx_reserve(c, c->rx_len + len + remaining + 1, srv->max_frame + 1) != 0) {
			srv_log("conn %llu out of memory reading a frame",
				(unsigned long long)c->sess.conn_id);
			return -1;
		}
		memcpy(c->rx + c->rx_len, in, len);
	}
	c->rx_len += len; /* binary: counted for the limit, not kept */
	if (lws_is_final_fragment(wsi))
		handle_message(srv, c);
	return 0;
}

/* Write the frames the socket takes (lws_send_pipe_choked between them),
 * up to WRITE_BUDGET bytes, keeping the queue fed from the inbox: 0, or -1
 * if the connection has failed. */
static int
write_frames(struct server *srv, struct conn *c)
{
	size_t written = 0;
	struct frame *f;
	int n;

	while (queue_ready(c) && written < WRITE_BUDGET) {
		/* The callback itself means the first frame can go. */
		if (written > 0 && lws_send_pipe_choked(c->wsi))
			break;
		f = queue_pop(c);
		n = lws_write(c->wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT);
		written += f->len;
		/* lws buffers whatever the socket does not take at once, so a
		 * short count means the connection has failed. */
		if (n < 0 || (size_t)n < f->len) {
			free(f);
			srv_log("conn %llu write failed", (unsigned long long)c->sess.conn_id);
			return -1;
		}
		free(f);
		if (c->head == NULL)
			conn_fill(srv, c);
	}
	return 0;
}

static int
conn_writeable(struct server *srv, struct conn *c)
{
	if (c->close_code && (c->close_now || c->head == NULL)) {
		lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
				 (unsigned char *)c->close_reason, strlen(c->close_reason));
		return -1;
	}
	if (c->ping_due) {
		/* The heartbeat's ping, alone in its callback. */
		lws_callback_on_writable(c->wsi);
		return limits_write_ping(c);
	}
	conn_fill(srv, c);
	if (write_frames(srv, c) != 0)
		return -1;
	/* Held frames, and a load that waits for the batch, ask again when
	 * the batch ends. */
	if (queue_ready(c) || (c->close_code && c->held == NULL) ||
	    (!db_batch_is_open(srv->db) && wants_fill(c)))
		lws_callback_on_writable(c->wsi);
	check_pause(c);
	return 0;
}

/* ---- the callback ------------------------------------------------------ */

static int
callback_chat(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct server *srv = lws_context_user(lws_get_context(wsi));
	struct conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		/* user is lws's struct of the accepted socket here, not ours. */
		return limits_admit(srv, user);
	case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED: limits_count(srv, wsi); return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* lws refuses a list without chat.v1 itself, but binds a request
		 * with no Sec-WebSocket-Protocol at all to the first protocol: a
		 * client must ask for chat.v1 by name. */
		if (in == NULL || *(const char *)in == '\0') {
			srv_log("refused a connection that did not ask for %s", PROTO_SUBPROTOCOL);
			return -1;
		}
		return 0;
	case LWS_CALLBACK_ESTABLISHED: return conn_open(srv, c, wsi);
	case LWS_CALLBACK_RECEIVE: return conn_receive(srv, c, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE: return conn_writeable(srv, c);
	case LWS_CALLBACK_RECEIVE_PONG: limits_pong(srv, c); return 0;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		c->peer_closed = 1;
		return 0; /* lws answers the close frame */
	case LWS_CALLBACK_CLOSED: conn_release(srv, c); return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		if (c != NULL) {
			http_xfer_abort(c, c->xfer ? "connection closed" : NULL);
			limits_file_give(srv, c);
			conn_release(srv, c);
		}
		limits_uncount(srv, wsi);
		return 0;
	case LWS_CALLBACK_HTTP: {
		int rc = 0;

		if (http_request(srv, c, wsi, in, &rc) == 0)
			return rc;
		break; /* lws's 404 */
	}
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (c != NULL && c->doomed)
			return -1;
		break;
	case LWS_CALLBACK_HTTP_BODY:
		if (c != NULL && c->doomed)
			return -1;
		if (c == NULL || c->xfer == NULL)
			break; /* not an upload: as before, lws's */
		return http_body(c, wsi, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (c == NULL || c->xfer == NULL)
			break;
		return http_body_done(srv, c, wsi);
	case LWS_CALLBACK_HTTP_FILE_COMPLETION:
		if (c != NULL)
			limits_file_give(srv, c);
		break;
	case LWS_CALLBACK_CLOSED_HTTP:
		/* An upload cut off halfway leaves nothing (the blob stays pending,
		 * and its URL could be used again before it expires). */
		if (c != NULL) {
			http_xfer_abort(c, c->xfer ? "connection closed" : NULL);
			limits_file_give(srv, c);
		}
		break;
	default: break;
	}
	/* Other plain HTTP requests get lws's 404. */
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

const struct lws_protocols server_protocols[] = {
	{
		.name = PROTO_SUBPROTOCOL,
		.callback = callback_chat,
		.per_session_data_size = sizeof(struct conn),
		/* lws keeps a buffer of this + LWS_PRE + 4 bytes for each
		 * connection, for its life: 1 KiB, not the 64 KiB it was, of
		 * which two pages were resident (issue 12: 10.5 KiB per idle
		 * session, 3.7 now). Messages arrive in pieces of this size at
		 * most; rx_reserve() puts them together. */
		.rx_buffer_size = RX_CHUNK,
		/* Frames go out in writes of up to this, as when the receive
		 * buffer (which lws uses by default) was 64 KiB. */
		.tx_packet_size = 65536,
	},
	{0}};
