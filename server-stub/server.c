/*
 * server.c - chat-server's network side (see server.h).
 *
 * Everything runs on the one libwebsockets service thread: the callbacks,
 * the request layer and the store.  That keeps the state below free of
 * locks; the cost is that a slow COMMIT stalls every connection for its
 * length (see the note at the top of db.c).
 *
 * Each connection has an outgoing queue of whole frames, written one per
 * WRITEABLE callback.  Replies are queued as requests are handled, so they
 * leave in request order.  Pushes are never queued from memory by the
 * sender's request: a send only marks the recipient's connection "inbox
 * changed", and that connection, when its queue runs low, loads the next
 * rows of its device's inbox past its cursor (the last inbox id it pushed).
 * Live delivery and the drain after auth are thus one ordered path, and a
 * slow reader holds at most a batch in memory, not its whole backlog.
 */
#include "server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <openssl/ssl.h>

#include "addr.h"
#include "blob.h"
#include "wire.h"
#include "db.h"
#include "proto.h"
#include "util.h"

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

/* How long a connection being closed may take to flush its last frames. */
#define CLOSE_GRACE_SECS 5

struct frame {
	struct frame *next;
	size_t len;
	unsigned char buf[]; /* LWS_PRE bytes of headroom, then len */
};

/* An upload in progress (PUT /blobs/<id>): the body goes to <id>.part as it
 * arrives, never whole in memory. */
struct xfer {
	int fd; /* of part; -1 once closed */
	char id[PROTO_BLOB_ID_LEN + 1];
	char part[PATH_MAX];
	char final[PATH_MAX];
	int64_t declared; /* Content-Length */
	int64_t got;
	/* The upload's deadline (--upload-min-rate): checked from this timer. */
	lws_sorted_usec_list_t sul;
	struct server *srv;
	struct conn *conn;
	struct lws *wsi;
	int64_t start_us; /* util_mono_us() when the body began */
};

/* One WebSocket connection; lws allocates it, zeroed, as the per-session
 * data of the chat.v1 protocol.  A plain HTTP connection gets one too (the
 * protocol is the vhost's first): it uses only xfer. */
struct conn {
	struct session sess;      /* first: proto hooks get &sess back */
	struct lws *wsi;          /* NULL until ESTABLISHED */
	struct conn *prev, *next; /* server's list of live connections */
	char peer[INET6_ADDRSTRLEN + 8];

	/* The message being reassembled from its fragments. */
	char *rx;
	size_t rx_len, rx_cap;
	int rx_binary;
	int rx_skip; /* skipping the rest of a refused message */

	/* Outgoing frames. */
	struct frame *head, *tail;
	size_t q_frames, q_bytes;
	int rx_paused;

	/* Delivery: see the comment at the top. */
	int64_t cursor;
	int inbox_dirty;
	int drained_sent;
	int missed_checked; /* the missed counter was looked at after auth */

	/* Nonzero once the connection is to be closed with this code: after
	 * the queue is flushed, or at once if close_now. */
	int close_code;
	const char *close_reason;
	int close_now;

	struct device_rate *rate; /* the device's buckets, once authenticated */
	/* Why it closed, for the log: the client sent a close frame, or no pong
	 * confirmed the connection since valid_us (util_mono_us). */
	int peer_closed;
	int64_t valid_us;

	struct xfer *xfer; /* HTTP: the upload being received, or NULL */

	/* HTTP: an upload was cut off; close at the next chance. */
	int doomed;

	/* Closes the connection if it has not authenticated in time. */
	lws_sorted_usec_list_t auth_sul;
	struct server *srv;
};

/* The rate buckets of one device, shared by all its connections (a receiving
 * one and any number of send-only ones), and kept after the last closes until
 * they are full again, so that reconnecting does not refill them. */
struct device_rate {
	struct device_rate *next;
	char user[PROTO_USER_MAX + 1];
	uint32_t device_id;
	int refs;
	struct rate_pair pair;
};

struct server {
	struct lws_context *ctx;
	struct db *db;
	struct wire_hooks hooks;
	struct server_names names; /* what register, auth and linkDevice may name */
	size_t max_frame;
	uint64_t next_conn_id;
	struct conn *conns;
	struct device_rate *rates;
	/* Retention: the purge runs on the service thread, from this timer. */
	lws_sorted_usec_list_t purge_sul;
	int64_t retention_ms;
	const char *retention_arg;
	/* lws keeps a pointer to it: it lives as long as the context. */
	lws_retry_bo_t heartbeat;
	const char *blobs_dir;
	const uint8_t *blob_key;
	int64_t max_blob;
	/* Connections (issue 10, item 11): every accepted socket, WebSocket or
	 * plain HTTP, counts from its adoption to its destruction, in total and
	 * per address (addr.h); over a cap a new one is closed at once. */
	struct addr_table *addrs;
	int n_conns;
	int max_conns;
	int max_per_addr;
	int auth_timeout_s;
	double register_rate; /* per second; 0: no limit */
	/* Uploads slower than this on average after the grace are cut off. */
	int64_t upload_min_rate;
	int upload_grace_s;
};

/* The registration bucket of an address: --register-rate a hour, all of it
 * at once at most. */
#define REGISTER_BURST(srv) ((srv)->register_rate * 3600.0)

static volatile sig_atomic_t stop_requested;
static struct lws_context *volatile live_ctx;

void
server_request_stop(void)
{
	struct lws_context *ctx = live_ctx;

	stop_requested = 1;
	if (ctx != NULL)
		lws_cancel_service(ctx);
}

static struct conn *
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
static int
queue_text(struct conn *c, char *text)
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

static void
queue_clear(struct conn *c)
{
	struct frame *f;

	while ((f = queue_pop(c)) != NULL)
		free(f);
}

/*
 * Close c with code once its queue is flushed (or at once if now).  Input
 * from it is ignored from here on.  The timeout is the backstop for a peer
 * that never reads: lws then drops the socket without a close frame.
 */
static void
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

	if (queue_text(f->c, wire_inbox_push(row)) != 0) {
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

static int
wants_fill(const struct conn *c)
{
	return c->sess.authed && !c->sess.send_only && !c->close_code &&
	       (c->inbox_dirty || !c->drained_sent);
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
		if (queue_text(c, wire_missed(count, oldest)) != 0)
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
 * Queue the next inbox rows past the cursor, and the drained push the first
 * time there are none left.  Rows pushed but not acked stay in the inbox,
 * and go out again only on the device's next connection (cursor from 0).
 */
static void
fill(struct server *srv, struct conn *c)
{
	struct fill f = {.c = c};
	size_t n;

	if (!wants_fill(c) || c->q_frames >= FILL_FRAMES)
		return;
	if (check_missed(srv, c) != 0) {
		srv_log("conn %llu cannot read the missed counter; closing",
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
		if (queue_text(c, wire_drained()) != 0) {
			conn_close(c, PROTO_CLOSE_INTERNAL, "internal error", 0);
			return;
		}
		c->drained_sent = 1;
	}
}

/* ---- proto hooks ------------------------------------------------------- */

/* The device's shared buckets, created from s's own (what it spent before
 * auth counts); records nobody uses whose buckets are full again are freed on
 * the way. NULL if out of memory (the connection keeps its own). */
static struct device_rate *
device_rate_get(struct server *srv, const struct session *s)
{
	int64_t now = util_mono_us();
	struct device_rate **pp = &srv->rates, *d, *found = NULL;

	while ((d = *pp) != NULL) {
		if (d->device_id == s->device_id && strcmp(d->user, s->user) == 0) {
			found = d;
		} else if (d->refs == 0) {
			wire_rate_refill(&srv->hooks, &d->pair, now);
			if (wire_rate_full(&srv->hooks, &d->pair)) {
				*pp = d->next;
				free(d);
				continue;
			}
		}
		pp = &d->next;
	}
	if (found != NULL) {
		/* The connection's spending before auth joins the device's. */
		if (s->own.requests.started) {
			wire_rate_refill(&srv->hooks, &found->pair, now);
			found->pair.requests.tokens -=
				srv->hooks.rate * WIRE_RATE_BURST - s->own.requests.tokens;
		}
		return found;
	}
	if ((d = calloc(1, sizeof *d)) == NULL)
		return NULL;
	snprintf(d->user, sizeof d->user, "%s", s->user);
	d->device_id = s->device_id;
	d->pair = s->own;
	d->next = srv->rates;
	srv->rates = d;
	return d;
}

/* A device has one receiving session at a time: the newest wins. Send-only
 * sessions (several programs on one home) neither replace nor are replaced. */
static void
on_authenticated(void *udata, struct session *s)
{
	struct server *srv = udata;
	struct conn *c = conn_of(s), *o;

	if (c->rate == NULL && (c->rate = device_rate_get(srv, s)) != NULL) {
		c->rate->refs++;
		s->rate = &c->rate->pair;
	}
	if (s->send_only)
		return;
	for (o = srv->conns; o != NULL; o = o->next) {
		if (o == c || !o->sess.authed || o->sess.send_only || o->close_code ||
		    o->sess.device_id != s->device_id || strcmp(o->sess.user, s->user) != 0)
			continue;
		srv_log("conn %llu replaced by conn %llu device=%s/%u",
			(unsigned long long)o->sess.conn_id, (unsigned long long)s->conn_id,
			s->user, (unsigned)s->device_id);
		conn_close(o, PROTO_CLOSE_REPLACED, "replaced", 1);
	}
	c->cursor = 0;
	c->inbox_dirty = 1;
	c->drained_sent = 0;
	c->missed_checked = 0;
	/* The reply is queued after this returns, and rows only load from the
	 * WRITEABLE callback: the reply goes out before the first push. */
	lws_callback_on_writable(c->wsi);
}

static void
on_inbox_changed(void *udata, const char *user, uint32_t device_id)
{
	struct server *srv = udata;
	struct conn *o;

	/* A scan of every connection: fine for a local server; a hash by
	 * device is the fix if this ever shows in a profile. */
	for (o = srv->conns; o != NULL; o = o->next) {
		if (o->sess.authed && !o->sess.send_only && !o->close_code &&
		    o->sess.device_id == device_id && strcmp(o->sess.user, user) == 0) {
			o->inbox_dirty = 1;
			lws_callback_on_writable(o->wsi);
		}
	}
}

/* Like on_inbox_changed, a scan of every connection. Online is a receiving
 * session: a send-only one (chatctl send) does not make its user online, as
 * nothing sent to them would be shown then (PROTOCOL.md, "getLastSeen"). */
static int
on_online(void *udata, const char *user)
{
	struct server *srv = udata;
	struct conn *o;

	for (o = srv->conns; o != NULL; o = o->next) {
		if (o->sess.authed && !o->sess.send_only && !o->close_code &&
		    strcmp(o->sess.user, user) == 0)
			return 1;
	}
	return 0;
}

/* 1 if a's request is the newer of two for one key: later, or (in the same
 * millisecond) on the later connection. */
static int
newer_link(const struct conn *a, const struct conn *b)
{
	return a->sess.link.created_at > b->sess.link.created_at ||
	       (a->sess.link.created_at == b->sess.link.created_at &&
		a->sess.conn_id > b->sess.conn_id);
}

/* Whether c's request is one wire_hooks.list_links shows for user: live,
 * unexpired, and the newest for its key (a client that reconnected asks
 * again; the newest request is the one a person is looking at). */
static int
listed_link(struct server *srv, const struct conn *c, const char *user, int64_t now)
{
	const struct wire_link *l = &c->sess.link;
	const struct conn *o;

	if (c->sess.authed || c->close_code || !l->pending || now >= l->expires_at ||
	    strcmp(l->user, user) != 0)
		return 0;
	for (o = srv->conns; o != NULL; o = o->next)
		if (o != c && !o->sess.authed && !o->close_code && o->sess.link.pending &&
		    now < o->sess.link.expires_at && strcmp(o->sess.link.user, user) == 0 &&
		    memcmp(o->sess.link.identity_key, l->identity_key, sizeof l->identity_key) ==
			    0 &&
		    newer_link(o, c))
			return 0;
	return 1;
}

/* The pending link requests live in the sessions of the connections that
 * made them, so a request dies with its connection; expiry is checked here.
 * A scan of every connection (twice, for the rare key asked twice), as for
 * on_online: link requests are rare. Oldest first. */
static size_t
on_list_links(void *udata, const char *user, int64_t now, struct session **out, size_t cap)
{
	struct server *srv = udata;
	struct conn *o;
	size_t n = 0;

	for (o = srv->conns; o != NULL; o = o->next) {
		size_t i;

		if (!listed_link(srv, o, user, now))
			continue;
		/* Insertion sort by age: at most a handful are listed. */
		for (i = n < cap ? n : cap; i > 0; i--) {
			if (!newer_link(conn_of(out[i - 1]), o))
				break;
			if (i < cap)
				out[i] = out[i - 1];
		}
		if (i < cap)
			out[i] = &o->sess;
		n++;
	}
	return n;
}

/* s was waiting on a link request and is now a device: tell it, then
 * deliver as after auth (its inbox is empty; drained follows). */
static void
on_linked(void *udata, struct session *s)
{
	struct server *srv = udata;
	struct conn *c = conn_of(s), *o;

	/* Other requests for the same keys cannot succeed any more. */
	for (o = srv->conns; o != NULL; o = o->next) {
		if (o != c && !o->sess.authed && o->sess.link.pending &&
		    memcmp(o->sess.link.identity_key, s->link.identity_key,
			   sizeof s->link.identity_key) == 0)
			memset(&o->sess.link, 0, sizeof o->sess.link);
	}
	if (queue_text(c, wire_linked(s)) != 0) {
		conn_close(c, PROTO_CLOSE_INTERNAL, "internal error", 0);
		return;
	}
	on_authenticated(udata, s);
}

/* Close every connection of a removed device; the one that asked for its
 * own removal gets its reply first. */
static void
on_device_removed(void *udata, const char *user, uint32_t device_id, const struct session *by)
{
	struct server *srv = udata;
	struct conn *o;

	for (o = srv->conns; o != NULL; o = o->next) {
		if (!o->sess.authed || o->close_code || o->sess.device_id != device_id ||
		    strcmp(o->sess.user, user) != 0)
			continue;
		srv_log("conn %llu closed: device %s/%u removed",
			(unsigned long long)o->sess.conn_id, user, (unsigned)device_id);
		conn_close(o, PROTO_CLOSE_REMOVED, "device removed", &o->sess != by);
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

/*
 * A connection must authenticate within --auth-timeout (issue 10, item 11),
 * or it holds a socket for nothing. One waiting on a link request is waiting
 * for a person: it gets until the request expires, and the timeout again
 * after that for another request.
 */
static void
auth_deadline(lws_sorted_usec_list_t *sul)
{
	struct conn *c = lws_container_of(sul, struct conn, auth_sul);
	struct server *srv = c->srv;
	int64_t now = proto_now_ms();

	if (c->wsi == NULL || c->sess.authed || c->close_code)
		return;
	if (c->sess.link.pending && now < c->sess.link.expires_at) {
		lws_sul_schedule(srv->ctx, 0, &c->auth_sul, auth_deadline,
				 ((c->sess.link.expires_at - now) / 1000 + srv->auth_timeout_s) *
					 LWS_US_PER_SEC);
		return;
	}
	srv_log("conn %llu closed: not authenticated within %d s",
		(unsigned long long)c->sess.conn_id, srv->auth_timeout_s);
	conn_close(c, PROTO_CLOSE_AUTH_TIMEOUT, "authentication timeout", 0);
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
	lws_sul_schedule(srv->ctx, 0, &c->auth_sul, auth_deadline,
			 (lws_usec_t)srv->auth_timeout_s * LWS_US_PER_SEC);
	/* The handshake is the first proof the connection works. */
	c->valid_us = util_mono_us();
	peer_name(wsi, c->peer, sizeof c->peer);
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv_log("conn %llu open peer=%s", (unsigned long long)c->sess.conn_id, c->peer);
	if (bind_channel(&c->sess, wsi) != 0) {
		srv_log("conn %llu no TLS channel binding", (unsigned long long)c->sess.conn_id);
		return -1;
	}
	if (queue_text(c, wire_hello(&srv->hooks, &c->sess)) != 0) {
		srv_log("conn %llu out of memory for hello", (unsigned long long)c->sess.conn_id);
		return -1;
	}
	return 0;
}

/* Why c is closing, for its close line (chat-server(8), LOGGING). A pong
 * resets the heartbeat, so a connection that saw none for the hangup time
 * is one that lws dropped for it: a healthy one is confirmed about every
 * ping time. Half a second of slack covers the time between lws noting the
 * proof and our callback hearing of it. */
static const char *
close_why(const struct server *srv, const struct conn *c, char *buf, size_t cap)
{
	int64_t hangup_us = (int64_t)srv->heartbeat.secs_since_valid_hangup * 1000000;

	if (stop_requested)
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

	lws_sul_cancel(&c->auth_sul);
	if (c->wsi == NULL)
		return;
	srv_log("conn %llu close peer=%s device=%s why=%s", (unsigned long long)c->sess.conn_id,
		c->peer, conn_device(c, dev, sizeof dev), close_why(srv, c, why, sizeof why));
	/* Last seen: the close of an authenticated connection. */
	if (c->sess.authed &&
	    db_touch_device(srv->db, c->sess.user, c->sess.device_id, proto_now_ms()) != DB_OK)
		srv_log("conn %llu cannot record last seen", (unsigned long long)c->sess.conn_id);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	queue_clear(c);
	free(c->rx);
	c->rx = NULL;
	c->rx_len = c->rx_cap = 0;
	c->wsi = NULL;
	if (c->rate != NULL)
		c->rate->refs--;
	c->rate = NULL;
	c->sess.rate = NULL;
}

static void
queue_or_close(struct conn *c, char *text)
{
	if (queue_text(c, text) != 0)
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

static int
rx_reserve(struct conn *c, size_t need, size_t limit)
{
	size_t cap = c->rx_cap ? c->rx_cap : 4096;
	char *nb;

	if (need <= c->rx_cap)
		return 0;
	while (cap < need)
		cap *= 2;
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
	if (c->rx_binary) {
		queue_or_close(c, wire_frame_error(&c->sess, "bad_request",
						   "binary frames are not accepted; "
						   "send each request as JSON in a "
						   "text frame"));
	} else {
		c->rx[c->rx_len] = '\0';
		queue_or_close(c, wire_handle(&srv->hooks, &c->sess, c->rx, c->rx_len));
	}
	c->rx_len = 0;
	/* Do not keep a megabyte per idle connection after one big frame. */
	if (c->rx_cap > 65536) {
		free(c->rx);
		c->rx = NULL;
		c->rx_cap = 0;
	}
	check_pause(c);
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
		/* +1 for the NUL that wire.c wants after the frame. */
		if (rx_reserve(c, c->rx_len + len + 1, srv->max_frame + 1) != 0) {
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

static int
conn_writeable(struct server *srv, struct conn *c)
{
	struct frame *f;
	int n;

	if (c->close_code && (c->close_now || c->head == NULL)) {
		lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
				 (unsigned char *)c->close_reason, strlen(c->close_reason));
		return -1;
	}
	fill(srv, c);
	if ((f = queue_pop(c)) != NULL) {
		size_t len = f->len;

		n = lws_write(c->wsi, f->buf + LWS_PRE, len, LWS_WRITE_TEXT);
		free(f);
		/* lws buffers whatever the socket does not take at once, so a
		 * short count means the connection has failed. */
		if (n < 0 || (size_t)n < len) {
			srv_log("conn %llu write failed", (unsigned long long)c->sess.conn_id);
			return -1;
		}
	}
	if (c->head != NULL || c->close_code || wants_fill(c))
		lws_callback_on_writable(c->wsi);
	check_pause(c);
	return 0;
}

/* ---- HTTP: the blob store (PROTOCOL.md, "Attachments") -------------------
 *
 * PUT and GET of /blobs/<id>?exp=..[&max=..]&sig=.. on the WebSocket's own
 * listener.  A refused PUT closes the connection after its status: the body
 * the client may still be sending is not read.  Other paths keep lws's 404. */

static int
blob_file(const struct server *srv, const char *id, const char *suffix, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s%s", srv->blobs_dir, id, suffix);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Answer status; -1 (close) for a refused upload or when the answer cannot
 * be sent, else the connection stays for the next request. */
static int
http_status(struct lws *wsi, unsigned int code, int close_after)
{
	if (lws_return_http_status(wsi, code, NULL) != 0 || close_after)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Delete an upload's temporary file and forget it. */
static void
xfer_abort(struct conn *c, const char *why)
{
	struct xfer *x = c->xfer;

	if (x == NULL)
		return;
	lws_sul_cancel(&x->sul);
	if (x->fd >= 0)
		close(x->fd);
	if (unlink(x->part) != 0 && errno != ENOENT)
		srv_log("blob %s: cannot delete %s: %s", x->id, x->part, strerror(errno));
	if (why != NULL)
		srv_log("blob %s upload refused: %s after %lld of %lld bytes", x->id, why,
			(long long)x->got, (long long)x->declared);
	free(x);
	c->xfer = NULL;
}

/* A URL argument "name=value" into buf; NULL if absent or too long. */
static const char *
url_arg(struct lws *wsi, const char *name_eq, char *buf, int cap)
{
	const char *v = lws_get_urlarg_by_name(wsi, name_eq, buf, cap);

	return v != NULL && strlen(v) < (size_t)cap - 1 ? v : NULL;
}

/*
 * An upload must keep up an average of --upload-min-rate bytes a second
 * after a grace of --upload-grace seconds (issue 10, item 13): by t seconds
 * after its body began, at least rate x (t - grace) bytes. One that falls
 * behind is cut off: its temporary file goes and its connection closes, so
 * a trickle of bytes cannot hold a socket and a file for days. Checked when
 * the bytes in hand would run out, not on every chunk.
 */
static void
upload_deadline(lws_sorted_usec_list_t *sul)
{
	struct xfer *x = lws_container_of(sul, struct xfer, sul);
	struct server *srv = x->srv;
	int64_t now = util_mono_us(), grace_us = (int64_t)srv->upload_grace_s * 1000000;
	int64_t due_us = x->start_us + grace_us + x->got * 1000000 / srv->upload_min_rate;
	struct lws *wsi = x->wsi;
	char why[96];

	if (due_us > now) {
		lws_sul_schedule(srv->ctx, 0, &x->sul, upload_deadline, (lws_usec_t)(due_us - now));
		return;
	}
	snprintf(why, sizeof why, "too slow (under %lld bytes a second after %d s)",
		 (long long)srv->upload_min_rate, srv->upload_grace_s);
	/* Closed by the next callback of it (lws resets its own timeouts on
	 * every chunk of body, so a timeout alone would not do), or by the
	 * timeout if nothing more comes. */
	x->conn->doomed = 1;
	xfer_abort(x->conn, why);
	lws_callback_on_writable(wsi);
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static int
http_put(struct server *srv, struct conn *c, struct lws *wsi, const char *id, int64_t max)
{
	char cl[24], part[PATH_MAX], final[PATH_MAX];
	struct db_blob b;
	int64_t declared;
	int fd;

	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
		return http_status(wsi, HTTP_STATUS_LENGTH_REQUIRED, 1);
	if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 ||
	    blob_parse_number(cl, &declared) != 0 || declared < 1)
		return http_status(wsi, HTTP_STATUS_BAD_REQUEST, 1);
	if (declared > max || declared > srv->max_blob)
		return http_status(wsi, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, 1);
	switch (db_blob_get(srv->db, id, &b)) {
	case DB_OK: break;
	case DB_NOT_FOUND: return http_status(wsi, HTTP_STATUS_NOT_FOUND, 1);
	default: return http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, 1);
	}
	if (b.complete)
		return http_status(wsi, HTTP_STATUS_CONFLICT, 1);
	if (declared > b.max_size)
		return http_status(wsi, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, 1);
	if (blob_file(srv, id, ".part", part, sizeof part) != 0 ||
	    blob_file(srv, id, "", final, sizeof final) != 0)
		return http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, 1);
	/* Exclusive: a second upload of the same URL while the first runs is
	 * refused like one after it. */
	fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return http_status(wsi, HTTP_STATUS_CONFLICT, 1);
		srv_log("blob %s: cannot create %s: %s", id, part, strerror(errno));
		return http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, 1);
	}
	if ((c->xfer = calloc(1, sizeof *c->xfer)) == NULL) {
		close(fd);
		unlink(part);
		return http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, 1);
	}
	c->xfer->fd = fd;
	memcpy(c->xfer->id, id, sizeof c->xfer->id);
	memcpy(c->xfer->part, part, sizeof part);
	memcpy(c->xfer->final, final, sizeof final);
	c->xfer->declared = declared;
	c->xfer->srv = srv;
	c->xfer->conn = c;
	c->xfer->wsi = wsi;
	c->xfer->start_us = util_mono_us();
	if (srv->upload_min_rate > 0)
		lws_sul_schedule(srv->ctx, 0, &c->xfer->sul, upload_deadline,
				 (lws_usec_t)srv->upload_grace_s * LWS_US_PER_SEC);
	return 0; /* the body follows: LWS_CALLBACK_HTTP_BODY */
}

static int
http_body(struct conn *c, struct lws *wsi, const void *in, size_t len)
{
	struct xfer *x = c->xfer;
	const uint8_t *p = in;

	if (x == NULL)
		return -1; /* a body nobody asked for */
	if ((int64_t)len > x->declared - x->got) {
		xfer_abort(c, "longer than declared");
		return http_status(wsi, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, 1);
	}
	while (len > 0) {
		ssize_t n = write(x->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			srv_log("blob %s: cannot write %s: %s", x->id, x->part,
				n < 0 ? strerror(errno) : "short write");
			xfer_abort(c, "write failed");
			return http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, 1);
		}
		p += n;
		len -= (size_t)n;
		x->got += n;
	}
	return 0;
}

/* fsync a directory, so that a rename in it survives a crash. */
static int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Every byte is in: on disk, then visible, then 201. */
static int
http_body_done(struct server *srv, struct conn *c, struct lws *wsi)
{
	struct xfer *x = c->xfer;
	int rc;

	if (x == NULL)
		return -1;
	if (x->got != x->declared) {
		xfer_abort(c, "shorter than declared");
		return http_status(wsi, HTTP_STATUS_BAD_REQUEST, 1);
	}
	rc = fsync(x->fd);
	if (close(x->fd) != 0)
		rc = -1;
	x->fd = -1;
	if (rc != 0 || rename(x->part, x->final) != 0 || sync_dir(srv->blobs_dir) != 0) {
		srv_log("blob %s: cannot store %s: %s", x->id, x->final, strerror(errno));
		unlink(x->final);
		xfer_abort(c, "store failed");
		return http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, 1);
	}
	switch (db_blob_complete(srv->db, x->id, x->got, proto_now_ms())) {
	case DB_OK: break;
	case DB_NOT_FOUND:
		/* Purged or completed by another upload while this one ran. */
		unlink(x->final);
		xfer_abort(c, "no longer pending");
		return http_status(wsi, HTTP_STATUS_CONFLICT, 1);
	default:
		unlink(x->final);
		xfer_abort(c, "database failed");
		return http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, 1);
	}
	srv_log("blob %s stored size=%lld", x->id, (long long)x->got);
	lws_sul_cancel(&x->sul);
	free(x);
	c->xfer = NULL;
	return http_status(wsi, 201 /* Created */, 0);
}

static int
http_get(struct server *srv, struct lws *wsi, const char *id)
{
	char path[PATH_MAX];
	struct db_blob b;
	int n;

	switch (db_blob_get(srv->db, id, &b)) {
	case DB_OK: break;
	case DB_NOT_FOUND: return http_status(wsi, HTTP_STATUS_NOT_FOUND, 0);
	default: return http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, 0);
	}
	if (!b.complete || blob_file(srv, id, "", path, sizeof path) != 0 ||
	    access(path, R_OK) != 0)
		return http_status(wsi, HTTP_STATUS_NOT_FOUND, 0);
	n = lws_serve_http_file(wsi, path, "application/octet-stream", NULL, 0);
	if (n < 0)
		return -1;
	if (n > 0 && lws_http_transaction_completed(wsi))
		return -1;
	return 0; /* LWS_CALLBACK_HTTP_FILE_COMPLETION ends it */
}

/* LWS_CALLBACK_HTTP: 1 if the path is not the blob store's (lws's 404
 * then), else what the callback returns. */
static int
http_request(struct server *srv, struct conn *c, struct lws *wsi, const char *uri, int *rc)
{
	char id[PROTO_BLOB_ID_LEN + 1], a_exp[32], a_max[32], a_sig[80], want[BLOB_SIG_LEN + 1];
	const char *exp_s, *max_s = NULL, *sig_s;
	int64_t exp, max = 0;
	int put = lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI) > 0;
	int get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;

	if (uri == NULL || strncmp(uri, "/blobs/", 7) != 0)
		return 1;
	if (c == NULL || c->xfer != NULL) {
		*rc = http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, 1);
		return 0;
	}
	if (!put && !get) {
		*rc = http_status(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, 1);
		return 0;
	}
	exp_s = url_arg(wsi, "exp=", a_exp, sizeof a_exp);
	sig_s = url_arg(wsi, "sig=", a_sig, sizeof a_sig);
	if (put)
		max_s = url_arg(wsi, "max=", a_max, sizeof a_max);
	if (blob_parse_path(uri, id) != 0 || exp_s == NULL || sig_s == NULL ||
	    blob_parse_number(exp_s, &exp) != 0 || !proto_valid_hex(sig_s, BLOB_SIG_LEN) ||
	    (put && (max_s == NULL || blob_parse_number(max_s, &max) != 0))) {
		*rc = http_status(wsi, HTTP_STATUS_BAD_REQUEST, put);
		return 0;
	}
	if (put)
		blob_sign_put(srv->blob_key, id, exp, max, want);
	else
		blob_sign_get(srv->blob_key, id, exp, want);
	if (!blob_sig_equal(sig_s, want) || exp < proto_now_ms() / 1000) {
		srv_log("blob %s %s refused: %s", id, put ? "upload" : "download",
			blob_sig_equal(sig_s, want) ? "expired" : "bad signature");
		*rc = http_status(wsi, HTTP_STATUS_FORBIDDEN, put);
		return 0;
	}
	*rc = put ? http_put(srv, c, wsi, id, max) : http_get(srv, wsi, id);
	return 0;
}

/* ---- connection caps ----------------------------------------------------- */

/* FILTER_NETWORK_CONNECTION: a socket just accepted, before lws adopts it.
 * Over a cap it is closed at once (lws closes it when we return -1), before
 * any TLS or HTTP: nothing is spent on it, and nothing is said to it. */
static int
conn_admit(struct server *srv, const struct lws_filter_network_conn_args *a)
{
	static struct log_limit total_limit = {.rate = 1, .burst = 5},
				addr_limit = {.rate = 1, .burst = 5};
	char key[ADDR_KEY_MAX];
	struct addr_entry *e;

	addr_key((const struct sockaddr *)&a->cli_addr, a->clilen, key);
	if (srv->n_conns >= srv->max_conns) {
		srv_log_limited(&total_limit,
				"refused a connection from %s: %d connections open, the most "
				"allowed (--max-connections)",
				key, srv->n_conns);
		return -1;
	}
	e = addr_get(srv->addrs, key, 0);
	if (e != NULL && e->conns >= srv->max_per_addr) {
		srv_log_limited(&addr_limit,
				"refused a connection from %s: %d connections open from it, the "
				"most allowed (--max-connections-per-address)",
				key, e->conns);
		return -1;
	}
	return 0;
}

/* SERVER_NEW_CLIENT_INSTANTIATED: the socket is a connection now; count it
 * until WSI_DESTROY. The entry rides on the wsi (opaque user data, which
 * lws sets before this and leaves alone after). */
static void
conn_count(struct server *srv, struct lws *wsi)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char key[ADDR_KEY_MAX] = "?";
	struct addr_entry *e;
	int fd = lws_get_socket_fd(wsi);

	if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		addr_key((struct sockaddr *)&ss, len, key);
	if ((e = addr_get(srv->addrs, key, 1)) == NULL)
		return; /* out of memory: uncounted, like a connection of old */
	e->conns++;
	srv->n_conns++;
	lws_set_opaque_user_data(wsi, e);
}

static void
conn_uncount(struct server *srv, struct lws *wsi)
{
	struct addr_entry *e = lws_get_opaque_user_data(wsi);

	if (e == NULL)
		return;
	lws_set_opaque_user_data(wsi, NULL);
	e->conns--;
	srv->n_conns--;
	addr_release(srv->addrs, e, srv->register_rate, REGISTER_BURST(srv), util_mono_us());
}

/* register_wait hook: the registration bucket of the session's address. */
static int64_t
on_register_wait(void *udata, struct session *s, int take)
{
	struct server *srv = udata;
	struct addr_entry *e = s->peer[0] ? addr_get(srv->addrs, s->peer, 0) : NULL;

	/* No entry: the connection was not counted (out of memory); let it. */
	if (e == NULL || srv->register_rate <= 0)
		return 0;
	rate_refill(&e->reg, srv->register_rate, REGISTER_BURST(srv), util_mono_us());
	if (take) {
		e->reg.tokens -= 1.0;
		return 0;
	}
	return rate_wait_ms(&e->reg, srv->register_rate);
}

static int
callback_chat(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct server *srv = lws_context_user(lws_get_context(wsi));
	struct conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
		/* user is lws's struct of the accepted socket here, not ours. */
		return conn_admit(srv, user);
	case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED: conn_count(srv, wsi); return 0;
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
	case LWS_CALLBACK_RECEIVE_PONG:
		/* lws has reset the heartbeat; remember when, for the close line. */
		c->valid_us = util_mono_us();
		return 0;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		c->peer_closed = 1;
		return 0; /* lws answers the close frame */
	case LWS_CALLBACK_CLOSED: conn_release(srv, c); return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		if (c != NULL) {
			xfer_abort(c, c->xfer ? "connection closed" : NULL);
			conn_release(srv, c);
		}
		conn_uncount(srv, wsi);
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
	case LWS_CALLBACK_CLOSED_HTTP:
		/* An upload cut off halfway leaves nothing (the blob stays pending,
		 * and its URL could be used again before it expires). */
		if (c != NULL)
			xfer_abort(c, c->xfer ? "connection closed" : NULL);
		break;
	default: break;
	}
	/* Other plain HTTP requests get lws's 404. */
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{
		.name = PROTO_SUBPROTOCOL,
		.callback = callback_chat,
		.per_session_data_size = sizeof(struct conn),
		.rx_buffer_size = 65536,
	},
	{0}};

/* ---- retention ---------------------------------------------------------- */

int64_t
server_purge_interval_ms(int64_t retention_ms)
{
	int64_t ms = retention_ms / 2;

	if (ms > 60 * 60 * 1000)
		ms = 60 * 60 * 1000;
	if (ms < 1000)
		ms = 1000;
	return ms;
}

/* The rows are gone (committed): the files follow. */
static void
unlink_blob(void *udata, const char *blob_id)
{
	struct server *srv = udata;
	char path[PATH_MAX];

	if (blob_file(srv, blob_id, "", path, sizeof path) == 0 && unlink(path) != 0 &&
	    errno != ENOENT)
		srv_log("retention: cannot delete %s: %s", path, strerror(errno));
}

/* Blobs no message refers to an hour after they were made, and those whose
 * last message the purge just took. */
static void
purge_blobs(struct server *srv)
{
	int64_t n;

	if (db_blob_purge(srv->db, proto_now_ms() - BLOB_ORPHAN_MS, unlink_blob, srv, &n) !=
	    DB_OK) {
		srv_log("retention: the blob purge failed; trying again later");
		return;
	}
	if (n > 0)
		srv_log("retention: deleted %lld blobs no message refers to", (long long)n);
}

/* Temporary files of uploads a stop or a crash cut off: nothing refers to
 * them (their blobs stay pending). */
static void
remove_stale_parts(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];
	size_t n;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		n = strlen(e->d_name);
		if (n != PROTO_BLOB_ID_LEN + 5 ||
		    strcmp(e->d_name + PROTO_BLOB_ID_LEN, ".part") != 0)
			continue;
		if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path &&
		    unlink(path) == 0)
			srv_log("blob: deleted %s, an upload cut off earlier", e->d_name);
	}
	closedir(d);
}

static void
purge(struct server *srv)
{
	struct db_purge_result r;

	int64_t now = proto_now_ms();

	/* Tombstones live a second retention period: past the first, no
	 * client's outbox still holds the message (libchat expires it). */
	if (db_purge(srv->db, now - srv->retention_ms, now - 2 * srv->retention_ms, &r) != DB_OK) {
		srv_log("retention: the purge failed; trying again later");
		return;
	}
	/* Addresses nothing counts any more (their registrations forgiven). */
	addr_sweep(srv->addrs, srv->register_rate, REGISTER_BURST(srv), util_mono_us());
	if (r.inbox_rows > 0 || r.messages > 0)
		srv_log("retention: deleted %lld inbox rows (%lld messages) older than %s",
			(long long)r.inbox_rows, (long long)r.messages, srv->retention_arg);
	purge_blobs(srv);
}

static void
purge_timer(lws_sorted_usec_list_t *sul)
{
	struct server *srv = lws_container_of(sul, struct server, purge_sul);

	purge(srv);
	lws_sul_schedule(srv->ctx, 0, &srv->purge_sul, purge_timer,
			 server_purge_interval_ms(srv->retention_ms) * LWS_US_PER_MS);
}

/* ---- the loop ---------------------------------------------------------- */

/*
 * lws reports a failed bind only as a log line with a bare errno; bind the
 * same address ourselves to say why in words ("Address already in use").
 */
static const char *
bind_error(const struct server_opts *opts)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, err = 0;

	memset(&ss, 0, sizeof ss);
	if (opts->ipv6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)opts->port);
		if (inet_pton(AF_INET6, opts->bind_addr, &a->sin6_addr) != 1)
			return "not an address";
		len = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)opts->port);
		if (inet_pton(AF_INET, opts->bind_addr, &a->sin_addr) != 1)
			return "not an address";
		len = sizeof *a;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) < 0)
		return strerror(errno);
	if (bind(fd, (struct sockaddr *)&ss, len) != 0)
		err = errno;
	close(fd);
	return err ? strerror(err) : "libwebsockets refused it";
}

/* lws's own log lines (errors and warnings; notices too with --verbose),
 * at most a few a second: under a flood lws can log one per event. */
static void
lws_log(int level, const char *line)
{
	static struct log_limit limit = {.rate = 5, .burst = 50};
	size_t n = strlen(line);

	(void)level;
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	srv_log_limited(&limit, "lws: %.*s", (int)n, line);
}

/* The names devices may sign for (names.h): --listen's, once its port is
 * known, and each --name. Logged, for whoever reads a wrong_server. */
static int
set_names(struct server *srv, const struct server_opts *opts, int port)
{
	char line[1024];
	size_t o = 0;

	if (names_defaults(&srv->names, opts->host, opts->bind_addr, port) != 0)
		return -1;
	for (size_t i = 0; i < opts->n_names; i++)
		if (names_add(&srv->names, opts->names[i]) != 0)
			return -1;
	for (size_t i = 0; i < srv->names.n && o < sizeof line; i++)
		o += (size_t)snprintf(line + o, sizeof line - o, " %s", srv->names.v[i]);
	srv_log("names:%s%s", line, o >= sizeof line ? " ..." : "");
	return 0;
}

/*
 * Raise the soft limit on open files to the hard one (at most
 * SERVER_FD_CEILING) and derive the connection cap from it, so that accept()
 * never meets EMFILE: libwebsockets retries a failed accept at once, forever
 * (issue 10, item 11). 0, or -1 with a log line if the limit is too low to
 * serve anyone.
 */
static int
set_fd_limits(struct server *srv, int wanted)
{
	struct rlimit rl;
	rlim_t target;
	int cap;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		srv_log("cannot read the limit on open files: %s", strerror(errno));
		return -1;
	}
	/* RLIM_INFINITY is the largest rlim_t: capped like any large value. */
	target = rl.rlim_max > SERVER_FD_CEILING ? SERVER_FD_CEILING : rl.rlim_max;
	if (rl.rlim_cur != target) {
		rl.rlim_cur = target;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0) {
			srv_log("cannot set the limit on open files to %llu: %s",
				(unsigned long long)target, strerror(errno));
			return -1;
		}
	}
	if (rl.rlim_cur < SERVER_FD_RESERVE + 2) {
		srv_log("the limit on open files (%llu, ulimit -n) is too low: at least %d are "
			"needed",
			(unsigned long long)rl.rlim_cur, SERVER_FD_RESERVE + 2);
		return -1;
	}
	cap = (int)((rl.rlim_cur - SERVER_FD_RESERVE) / 2);
	if (wanted > cap)
		srv_log("--max-connections %d is more than %llu open files allow; using %d", wanted,
			(unsigned long long)rl.rlim_cur, cap);
	srv->max_conns = wanted > 0 && wanted < cap ? wanted : cap;
	return 0;
}

/* An option's value: 0 is its default, below 0 no limit (0 in the hooks). */
static int64_t
pick(int64_t v, int64_t dflt)
{
	return v == 0 ? dflt : v < 0 ? 0 : v;
}

/* The limits in force, once at start: so that what applies can be seen. */
static void
log_limits(const struct server *srv)
{
	const struct wire_hooks *h = &srv->hooks;

	srv_log("limits: %d connections, %d per address, %d s to authenticate, %.0f new users "
		"per address an hour, uploads of %lld bytes a second after %d s",
		srv->max_conns, srv->max_per_addr, srv->auth_timeout_s, srv->register_rate * 3600,
		(long long)srv->upload_min_rate, srv->upload_grace_s);
	srv_log("quotas: %lld pending blobs, %lld pending blob bytes, %lld blob bytes per "
		"device, %lld inbox bytes per device, %d adds by strangers a day per user, %d "
		"adds of strangers an hour per user",
		(long long)h->max_pending_blobs, (long long)h->max_pending_blob_bytes,
		(long long)h->max_blob_bytes, (long long)h->max_inbox_bytes,
		h->add_limits.per_target_day, h->add_limits.per_adder_hour);
}

int
server_run(const struct server_opts *opts)
{
	struct lws_context_creation_info info;
	struct server srv;
	struct lws_vhost *vh;
	char err[512];
	uint64_t options;
	int hangup;

	memset(&srv, 0, sizeof srv);
	if (set_fd_limits(&srv, opts->max_connections) != 0)
		return 1;
	srv.max_per_addr = opts->max_connections_per_addr > 0 ? opts->max_connections_per_addr
							      : SERVER_MAX_PER_ADDR_DEFAULT;
	srv.auth_timeout_s =
		opts->auth_timeout_s > 0 ? opts->auth_timeout_s : SERVER_AUTH_TIMEOUT_DEFAULT;
	srv.register_rate = opts->register_rate < 0    ? 0
			    : opts->register_rate == 0 ? SERVER_REGISTER_RATE_DEFAULT / 3600.0
						       : opts->register_rate / 3600.0;
	srv.upload_min_rate = opts->upload_min_rate < 0    ? 0
			      : opts->upload_min_rate == 0 ? SERVER_UPLOAD_MIN_RATE_DEFAULT
							   : opts->upload_min_rate;
	srv.upload_grace_s =
		opts->upload_grace_s > 0 ? opts->upload_grace_s : SERVER_UPLOAD_GRACE_DEFAULT;
	if ((srv.addrs = addr_table_new()) == NULL) {
		srv_log("out of memory");
		return 1;
	}
	srv.max_frame = opts->max_frame;
	srv.retention_ms = opts->retention_ms;
	srv.retention_arg = opts->retention_arg;
	srv.blobs_dir = opts->blobs_dir;
	srv.blob_key = opts->blob_key;
	srv.max_blob = opts->max_blob;
	/* Heartbeats (PROTOCOL.md): lws pings a client whose connection nothing
	 * has confirmed for the ping time, and drops it when no pong comes by
	 * the hangup time; libchat does the same from its side. So a dead
	 * client is noticed within the hangup time, and its inbox waits for its
	 * next connection. */
	hangup = opts->heartbeat_s > 0 ? opts->heartbeat_s : PROTO_HEARTBEAT_DEFAULT;
	srv.heartbeat.secs_since_valid_ping = (uint16_t)proto_heartbeat_ping(hangup);
	srv.heartbeat.secs_since_valid_hangup = (uint16_t)hangup;
	srv.db = db_open(opts->db_path, err, sizeof err);
	if (srv.db == NULL) {
		srv_log("cannot open the database: %s", err);
		addr_table_free(srv.addrs);
		return 1;
	}
	srv.hooks = (struct wire_hooks){
		.db = srv.db,
		.max_frame = opts->max_frame,
		.rate = opts->rate,
		.rate_bytes = opts->rate_bytes,
		.blob_key = opts->blob_key,
		.max_blob = opts->max_blob,
		.blob_url_ttl = opts->blob_url_ttl,
		.retention_ms = opts->retention_ms,
		.authenticated = on_authenticated,
		.inbox_changed = on_inbox_changed,
		.list_links = on_list_links,
		.names = &srv.names,
		.test_link_swap = opts->test_link_swap,
		.linked = on_linked,
		.device_removed = on_device_removed,
		.online = on_online,
		.register_wait = on_register_wait,
		.register_rate = srv.register_rate * 3600.0,
		.max_pending_blobs =
			pick(opts->max_pending_blobs, SERVER_MAX_PENDING_BLOBS_DEFAULT),
		.max_pending_blob_bytes =
			pick(opts->max_pending_blob_bytes, SERVER_MAX_PENDING_BLOB_BYTES_DEFAULT),
		.max_blob_bytes = pick(opts->max_blob_bytes, SERVER_MAX_BLOB_BYTES_DEFAULT),
		.max_inbox_bytes = pick(opts->max_inbox_bytes, SERVER_MAX_INBOX_BYTES_DEFAULT),
		.add_limits = {(int)pick(opts->stranger_adds_per_day,
					 SERVER_STRANGER_ADDS_DAY_DEFAULT),
			       (int)pick(opts->stranger_adds_per_hour,
					 SERVER_STRANGER_ADDS_HOUR_DEFAULT)},
		.udata = &srv,
	};

	lws_set_log_level(LLL_ERR | LLL_WARN | (srv_verbose ? LLL_NOTICE : 0), lws_log);
	options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8 |
		  LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
		  (opts->ipv6 ? 0 : LWS_SERVER_OPTION_DISABLE_IPV6) |
		  (opts->cert_path ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0);
	memset(&info, 0, sizeof info);
	info.options = options;
	info.user = &srv;
	info.port = CONTEXT_PORT_NO_LISTEN;
	srv.ctx = lws_create_context(&info);
	if (srv.ctx == NULL) {
		srv_log("cannot start libwebsockets");
		db_close(srv.db);
		addr_table_free(srv.addrs);
		return 1;
	}

	memset(&info, 0, sizeof info);
	info.options = options;
	info.vhost_name = "chat";
	info.iface = opts->bind_addr;
	info.port = opts->port;
	info.protocols = protocols;
	info.retry_and_idle_policy = &srv.heartbeat;
	/* TLS on the one listener: WebSocket (wss://) and plain HTTP requests
	 * (https://) alike; main() checked the pair can be loaded. */
	info.ssl_cert_filepath = opts->cert_path;
	info.ssl_private_key_filepath = opts->key_path;
	/* HTTP/1.1 only: uploads and downloads are plain request bodies and
	 * files, and libchat's WebSocket speaks nothing else. */
	info.alpn = "http/1.1";
	vh = lws_create_vhost(srv.ctx, &info);
	if (vh == NULL) {
		srv_log("cannot listen on %s%s%s:%d: %s", opts->ipv6 ? "[" : "", opts->host,
			opts->ipv6 ? "]" : "", opts->port, bind_error(opts));
		lws_context_destroy(srv.ctx);
		db_close(srv.db);
		addr_table_free(srv.addrs);
		return 1;
	}
	/* Scripts wait for this line and read the port from it (chat-server(8)):
	 * its plain form stays as it always was. */
	srv_log("listening on %s%s%s%s:%d%s", opts->cert_path ? "wss://" : "",
		opts->ipv6 ? "[" : "", opts->host, opts->ipv6 ? "]" : "",
		lws_get_vhost_listen_port(vh), opts->cert_path ? "/" : "");
	if (set_names(&srv, opts, lws_get_vhost_listen_port(vh)) != 0) {
		srv_log("out of memory for the server's names");
		lws_context_destroy(srv.ctx);
		names_free(&srv.names);
		db_close(srv.db);
		addr_table_free(srv.addrs);
		return 1;
	}

	log_limits(&srv);
	remove_stale_parts(srv.blobs_dir);
	/* Once now, then on the timer. */
	purge(&srv);
	lws_sul_schedule(srv.ctx, 0, &srv.purge_sul, purge_timer,
			 server_purge_interval_ms(srv.retention_ms) * LWS_US_PER_MS);

	live_ctx = srv.ctx;
	while (!stop_requested) {
		if (lws_service(srv.ctx, 0) < 0) {
			srv_log("the service loop failed");
			break;
		}
	}
	live_ctx = NULL;
	lws_sul_cancel(&srv.purge_sul);
	/* Closes every connection, each through LWS_CALLBACK_CLOSED, which
	 * frees its queue before the store goes. */
	lws_context_destroy(srv.ctx);
	while (srv.rates != NULL) {
		struct device_rate *d = srv.rates;

		srv.rates = d->next;
		free(d);
	}
	db_close(srv.db);
	names_free(&srv.names);
	addr_table_free(srv.addrs);
	srv_log("stopped");
	return stop_requested ? 0 : 1;
}
