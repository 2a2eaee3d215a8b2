/*
 * server_int.h - what the files of chat-server's network side share, and
 * nothing else includes: the server, its connections, and how the files
 * call each other.  The interface of the network side is server.h.
 *
 *   server.c         the loop: options into settings and hooks, the store,
 *                    the listener, the service loop, the stop
 *   server_conn.c    the libwebsockets callback; a connection's life, the
 *                    frames it reads, its outgoing queue and delivery
 *   server_hooks.c   what the request layer asks of the connections
 *                    (wire_hooks), found through the device index
 *                    (devtab.h), and each device's rate buckets
 *   server_http.c    the blob store over HTTP: uploads and downloads
 *   server_limits.c  heartbeats and the auth deadline (one timer wheel,
 *                    wheel.h), the connection caps, registrations per
 *                    address, open files, the retention purge's timer
 *   server_batch.c   group commit (one transaction per pass of the loop,
 *                    replies held until its COMMIT) and delivery from memory
 *   server_bus.c     --bus: the service thread's side of the routing
 *                    between instances (bus.c): what a batch publishes,
 *                    what arrives, the safety poll
 *
 * Everything runs on the one libwebsockets service thread (server.c says
 * why), so nothing here is locked.
 */
#ifndef CHAT_SERVER_SERVER_INT_H
#define CHAT_SERVER_SERVER_INT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "bus_msg.h"
#include "db.h"
#include "devtab.h"
#include "names.h"
#include "server.h"
#include "util.h"
#include "wheel.h"
#include "wire.h"

struct ev_loop;    /* libev's loop (server.c) */
struct frame;      /* an outgoing frame (server_conn.c) */
struct xfer;       /* an upload in progress (server_http.c) */
struct addr_table; /* connections and registrations per address (addr.h) */
/* An inbox row written in the batch (server_batch.c). */
struct inbox_event;
struct bus;      /* --bus (bus.h) */
struct bus_note; /* a publish held until the COMMIT (server_bus.c) */

/* One WebSocket connection; lws allocates it, zeroed, as the per-session
 * data of the chat.v1 protocol.  A plain HTTP connection gets one too (the
 * protocol is the vhost's first): it uses only xfer. */
struct conn {
	struct session sess;      /* first: proto hooks get &sess back */
	struct lws *wsi; /* NULL until ESTABLISHED */
	/* Until it authenticates, in the server's list of such connections
	 * (listed), where link requests are looked for; after, one of its
	 * device's connections (server_hooks.c). */
	struct conn *prev, *next;
	int listed;
	struct dev_entry *dev;
	struct dev_member member;
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
	/* The prekeys are to be looked at (check_prekeys): 0 after auth and
	 * after a bundle took the device below PROTO_PREKEYS_LOW; always: a
	 * new session, told even if it was told before. */
	int prekeys_checked;
	int prekeys_always;
	/* When it became its device's receiving connection (ms, wall clock):
	 * of two on different instances, the older is replaced (--bus). */
	int64_t authed_ms;

	/* Nonzero once the connection is to be closed with this code: after
	 * the queue is flushed, or at once if close_now. */
	int close_code;
	const char *close_reason;
	int close_now;

	/* Why it closed, for the log: the client sent a close frame, or no pong
	 * confirmed the connection since valid_us (util_mono_us). */
	int peer_closed;
	int64_t valid_us;
	/* The heartbeat and the auth deadline (server_limits.c): one node in
	 * the server's wheel, at the next of the two; a ping waits for the
	 * next WRITEABLE (ping_due), one per silence (ping_out). */
	struct wheel_node timer;
	int64_t auth_due_ms; /* util_mono_us / 1000; until authenticated */
	int ping_due;
	int ping_out;

	struct xfer *xfer; /* HTTP: the upload being received, or NULL */
	int holds_file;    /* HTTP: a file slot taken (limits_file_take) */

	/* HTTP: an upload was cut off; close at the next chance. */
	int doomed;

	struct server *srv;

	/* Group commit (issue 12, server_batch.c): frames from held
	 * to the tail were queued while the batch was open and wait for its
	 * COMMIT; in_batch: c is srv->batch_conns[batch_idx], to be released
	 * (and its inbox loaded) after it. */
	struct frame *held;
	int in_batch;
	size_t batch_idx;
};

struct server {
	struct lws_context *ctx;
	struct ev_loop *ev; /* --event-loop libev: lws's loop, ours; NULL: poll() */
	struct db *db;
	struct wire_hooks hooks;
	struct server_names names; /* what register, auth and linkDevice may name */
	size_t max_frame;
	uint64_t next_conn_id;
	/* The connections not authenticated yet (few: they have
	 * --auth-timeout), and every device with connections (devtab.h). */
	struct conn *unauthed;
	struct devtab devices;
	/* Retention: the purge runs on the service thread, from this timer. */
	lws_sorted_usec_list_t purge_sul;
	lws_sorted_usec_list_t expire_sul; /* disappearing messages (server_limits.c) */
	int64_t retention_ms;
	const char *retention_arg;
	/* Heartbeats are ours (server_limits.c): lws's own, per connection, is
	 * off (a policy with no hangup; lws keeps a pointer to it). */
	lws_retry_bo_t no_validity;
	int64_t ping_ms, hangup_ms;
	/* Every connection's deadline, advanced by one lws timer. */
	struct wheel wheel;
	lws_sorted_usec_list_t tick_sul;
	const char *blobs_dir;
	const uint8_t *blob_key;
	int64_t max_blob;
	/* Connections (issue 10, item 11): every accepted socket, WebSocket or
	 * plain HTTP, counts from its adoption to its destruction, in total and
	 * per address (addr.h); over a cap a new one is closed at once. */
	struct addr_table *addrs;
	int n_conns;
	int max_conns;
	int n_files, max_files; /* blob files open (SERVER_FILE_SLOTS_MAX) */
	int max_per_addr;
	int auth_timeout_s;
	double register_rate; /* per second; 0: no limit */
	/* Uploads slower than this on average after the grace are cut off. */
	int64_t upload_min_rate;
	int upload_grace_s;

	/* Group commit (issue 12, server_batch.c): the connections
	 * with held frames or an inbox to load after the COMMIT (NULL: closed
	 * since), and the requests and bytes of frames in the batch, which
	 * bound it. */
	struct conn **batch_conns;
	size_t n_batch_conns, cap_batch_conns;
	size_t batch_reqs, batch_bytes;
	/* What the batch wrote to inboxes, in the order written, delivered
	 * after its COMMIT (server_batch.c, delivery from memory). */
	struct inbox_event *events;
	size_t n_events, cap_events;

	/* --bus (server_bus.c): the bus, or NULL; the safety poll; what the
	 * open batch will publish after its COMMIT. */
	struct bus *bus;
	int bus_poll_s;
	lws_sorted_usec_list_t bus_poll_sul;
	struct bus_note *bus_notes;
	size_t n_bus_notes, cap_bus_notes;
};

/* ---- server.c ------------------------------------------------------------ */

/* 1 once server_request_stop() has been called. */
int server_stopping(void);

/* ---- server_conn.c ------------------------------------------------------- */

/* The one protocol of the vhost: chat.v1, whose callback serves plain HTTP
 * requests (the blob store) too. */
extern const struct lws_protocols server_protocols[];

/* The connection whose session s is. */
struct conn *conn_of(struct session *s);
/* Queue text (malloc'd JSON, taken over and freed here) as one frame:
 * 0, or -1 if text is NULL or memory runs out. */
int conn_queue_text(struct conn *c, char *text);
/* Close c with code once its queue is flushed (or at once if now); input
 * from it is ignored from here on. */
void conn_close(struct conn *c, int code, const char *reason, int now);
/* Empty c's queue. */
void conn_queue_clear(struct conn *c);
/* Queue the next rows of c's inbox if it wants them (between batches only:
 * while one is open, c is noted for the batch's end instead). */
void conn_fill(struct server *srv, struct conn *c);
/* 1 if c has pushed every row of its device so far and has room for len
 * more bytes: the next row may be pushed from memory (with --bus, if it
 * is the next: server_batch.c's next_row). */
int conn_caught_up(const struct conn *c, size_t len);

/* ---- server_batch.c: group commit, delivery from memory ------------------- */

/* Put c on the list of connections the batch's end releases: 0, or -1 if
 * memory runs out (the caller closes c).  Take it off: it is closing. */
int batch_note(struct server *srv, struct conn *c);
void batch_forget(struct server *srv, struct conn *c);
/* A request of bytes has run in the batch: end the batch if it is full. */
void server_batch_count(struct server *srv, size_t bytes);
/* End the batch, if one is open: COMMIT, then deliver what it wrote to
 * inboxes, send the held frames and load the inboxes that waited for it;
 * if the COMMIT fails, close every connection with a held frame (1011).
 * Called after each pass of the loop, when a batch is full, and before
 * what must not join one. */
void server_batch_end(struct server *srv);
/* Free what the batch keeps (at the stop). */
void server_batch_free(struct server *srv);
/* The wire_hooks inbox_changed and inbox_row: noted in the batch, acted
 * on after its COMMIT (at once if none is open). */
void conn_inbox_changed(void *udata, const char *user, uint32_t device_id);
void conn_inbox_row(void *udata, const char *user, uint32_t device_id,
		    const struct db_inbox_row *row);

/* ---- server_hooks.c: the wire_hooks (see wire.h for what each does) ------ */

/* ESTABLISHED: c joins the connections not authenticated yet. Closed: c
 * leaves its device (or that list); a device with no connections left is
 * forgotten once its rate buckets are full again. */
void hooks_conn_open(struct server *srv, struct conn *c);
void hooks_conn_closed(struct server *srv, struct conn *c);
/* The device's receiving connection, if it has a live one: O(1), through
 * the device index. */
struct conn *hooks_receiver(struct server *srv, const char *user, uint32_t device_id);

void hook_authenticated(void *udata, struct session *s);
void hook_inbox_changed(void *udata, const char *user, uint32_t device_id);
int hook_online(void *udata, const char *user);
void hook_user_push(void *udata, const char *user, const char *frame);
/* Typing frames are dropped for a connection with this much queued. */
#define EPHEMERAL_MAX_QUEUED (256 * 1024)
int hook_ephemeral(void *udata, const char *user, uint32_t device_id, const char *frame);
void hook_prekeys_low(void *udata, const char *user, uint32_t device_id);
size_t hook_list_links(void *udata, const char *user, int64_t now, struct session **out,
		       size_t cap);
void hook_linked(void *udata, struct session *s);
void hook_device_removed(void *udata, const char *user, uint32_t device_id,
			 const struct session *by);

/* The local halves of the hooks, for what arrives over the bus (which
 * must not publish it again): reload the device's inbox, look at its
 * prekeys, a typing frame (-1: no receiving connection here, 0: skipped,
 * 1: queued), a push to the user's devices, close a removed device's
 * connections (by: the session that removed it, or NULL). */
void hooks_reload(struct server *srv, const char *user, uint32_t device_id);
void hooks_prekeys_local(struct server *srv, const char *user, uint32_t device_id);
int hooks_ephemeral_local(struct server *srv, const char *user, uint32_t device_id,
			  const char *frame);
void hooks_user_push_local(struct server *srv, const char *user, const char *frame);
void hooks_close_device(struct server *srv, const char *user, uint32_t device_id,
			const struct session *by);

/* ---- server_bus.c: --bus ---------------------------------------------------- */

/* Start the bus on url (nothing if NULL) with the safety poll every
 * poll_s seconds (0: BUS_POLL_DEFAULT), once the context is made: 0, or
 * -1 logged (a malformed URL; an unreachable Redis is no failure). */
int server_bus_start(struct server *srv, const char *url, int poll_s);
void server_bus_stop(struct server *srv);
/* Publish on the device's channel (device_id 0: the user's) once the open
 * batch commits, at once if none is open; frame is copied. */
void server_bus_note(struct server *srv, const char *user, uint32_t device_id, enum bus_kind kind,
		     const char *frame);
/* The batch has ended: publish what it held, or drop it. */
void server_bus_batch_end(struct server *srv, int committed);
/* Act on what arrived; after each pass of the loop, outside a batch. */
void server_bus_drain(struct server *srv);
/* 1 if Redis says a device of user is online on some instance. */
int server_bus_online(struct server *srv, const char *user);

/* ---- server_http.c --------------------------------------------------------- */

/* LWS_CALLBACK_HTTP: 1 if the path is not the blob store's (lws's 404
 * then), else 0 with what the callback returns in *rc. */
int http_request(struct server *srv, struct conn *c, struct lws *wsi, const char *uri, int *rc);
/* LWS_CALLBACK_HTTP_BODY and _BODY_COMPLETION of an upload: what the
 * callback returns. */
int http_body(struct conn *c, struct lws *wsi, const void *in, size_t len);
int http_body_done(struct server *srv, struct conn *c, struct lws *wsi);
/* Delete an upload's temporary file and forget it (why, if not NULL, is
 * logged); nothing if c has none. */
void http_xfer_abort(struct conn *c, const char *why);
/* The path of blob id's file (with suffix) in the blob directory: 0, or -1
 * if it does not fit in cap. */
int http_blob_file(const struct server *srv, const char *id, const char *suffix, char *out,
		   size_t cap);

/* ---- server_limits.c ------------------------------------------------------- */

/* The wheel and the one lws timer that drives it: start once the context
 * is made; stop before it is destroyed. */
void limits_timers_start(struct server *srv);
void limits_timers_stop(struct server *srv);
/* ESTABLISHED: the heartbeat and the auth deadline start. */
void limits_conn_open(struct server *srv, struct conn *c);
/* Closed: its deadline goes. */
void limits_conn_close(struct server *srv, struct conn *c);
/* A pong confirmed the connection. */
void limits_pong(struct server *srv, struct conn *c);
/* WRITEABLE with c->ping_due: write the ping. 0, or -1 to close. */
int limits_write_ping(struct conn *c);
/* FILTER_NETWORK_CONNECTION: 0 to accept a socket, -1 over a cap. */
int limits_admit(struct server *srv, const struct lws_filter_network_conn_args *a);
/* Count a connection from its adoption (SERVER_NEW_CLIENT_INSTANTIATED) to
 * its destruction (WSI_DESTROY). */
void limits_count(struct server *srv, struct lws *wsi);
void limits_uncount(struct server *srv, struct lws *wsi);
/* The wire_hooks register_wait: registrations from the session's address. */
int64_t limits_register_wait(void *udata, struct session *s, int take);
/* Raise the limit on open files and set srv->max_conns from it (wanted:
 * --max-connections, 0 for as many as it allows): 0, or -1 logged. */
int limits_fd(struct server *srv, int wanted);
/* A file slot for c's blob transfer: 0 (also if c already holds one), or
 * -1 if every slot is taken (answer 503). limits_file_give returns it;
 * nothing if c holds none. */
int limits_file_take(struct server *srv, struct conn *c);
void limits_file_give(struct server *srv, struct conn *c);
/* Log the limits in force, once at start. */
void limits_log(const struct server *srv);
/* Delete what uploads cut off earlier left, purge once, then every
 * server_purge_interval_ms; stop: cancel the timer. */
void limits_purge_start(struct server *srv);
void limits_purge_stop(struct server *srv);

#endif /* CHAT_SERVER_SERVER_INT_H */
