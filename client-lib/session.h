/*
 * session.h - the session with the server, between what carries it and what
 * it is for.
 *
 *            transport_ops                      session_hooks
 *   ws.c  <---------------  session.c  --------------------->  events.c
 *         --------------->                                     (the client)
 *         session_on_*()
 *
 * session.c knows frames and requests, and neither libwebsockets nor what a
 * request is for: it queues requests and matches replies to them by id,
 * holds back what the server asked to wait (rate_limited), keeps the
 * deadlines, reads the hello, and makes the connection again after a loss.
 * A transport (struct transport_ops: ws.c's libwebsockets, or a test's fake)
 * connects, carries frames and keeps time; it tells the session what
 * happens through the session_on_*() calls. The session tells the client
 * through a table of hooks (struct session_hooks, events.c's), never by
 * name, so the client's state machine can be driven by a fake transport
 * (tests/unit/test_client_machine.c).
 */
#ifndef CHAT_SESSION_H
#define CHAT_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "chat.h"
#include "proto.h"

struct chat_client;
struct op;

/* ---- the transport ------------------------------------------------------ */

/*
 * What carries the session's frames. Every call gets the handle; what a
 * transport keeps of its own hangs off c->tp. Events come back by the
 * session_on_*() calls below, from inside service() (and, for a failure
 * to start, inside open()), never from another thread.
 */
struct transport_ops {
	/* Gets ready to connect: once per handle (tls: the URL is wss://).
	 * CHAT_OK, or an error with errmsg set; nothing was started then. */
	int (*setup)(struct chat_client *c, int tls);
	/* Starts a connection to u. CHAT_OK: session_on_open() or
	 * session_on_closed() follows; else CHAT_ERR_CONNECT (errmsg set) and
	 * nothing follows. */
	int (*open)(struct chat_client *c, const struct proto_url *u);
	/* Asks for a session_on_writable() call soon (from service()). */
	void (*want_write)(struct chat_client *c);
	/* Inside session_on_writable() only: sends one text frame. 0, or -1
	 * (c->conn_err says why if the transport knows). */
	int (*write)(struct chat_client *c, const char *frame, size_t len);
	/* Drops the connection at once (a deadline passed): session_on_closed()
	 * follows from service(). */
	void (*abort)(struct chat_client *c);
	/* session_on_timer() at least delay_ms from now. One timer: a call
	 * replaces the one set before. */
	void (*timer)(struct chat_client *c, int64_t delay_ms);
	/* Handles what is ready, waiting up to timeout_ms (0: not at all) for
	 * something to be: network events, the timer. 0, or -1 if the loop
	 * itself failed. */
	int (*service)(struct chat_client *c, int timeout_ms);
	/* The clock the session keeps its deadlines by: monotonic ms. */
	int64_t (*now)(const struct chat_client *c);
	/* Ends everything at once (the handle goes): no session_on_*() after. */
	void (*stop)(struct chat_client *c);
	/* The descriptor the application polls (chat_client_fd), and the one a
	 * file transfer's thread writes to wake that poll: -1 if none. */
	int (*poll_fd)(const struct chat_client *c);
	int (*wake_fd)(const struct chat_client *c);
};

/* libwebsockets (ws.c): every handle's, unless a test puts in its own. Its
 * heartbeat is c->heartbeat_s: hangup after that many seconds without a
 * pong, ping after 40% of it (PROTOCOL.md, "Heartbeats"). */
extern const struct transport_ops ws_transport;

/* What a transport tells the session. */
/* The connection is up (the WebSocket handshake done); binding: the TLS
 * channel binding the session signature covers (len 0 on ws://). */
void session_on_open(struct chat_client *c, const uint8_t *binding, size_t len);
/* One whole text frame from the server, buf[0..len), which may be rewritten
 * (see proto_json_scrub). */
void session_on_frame(struct chat_client *c, char *buf, size_t len);
/* The server closed with code and reason[0..len). */
void session_on_peer_close(struct chat_client *c, unsigned code, const char *reason, size_t len);
/* The transport may write: the session writes (transport_ops.write) what
 * is due and says what the transport does next. */
enum session_write {
	SESSION_WRITE_OK,  /* go on (want_write was called if more is due) */
	SESSION_WRITE_BYE, /* close now, with a normal close frame */
	SESSION_WRITE_DROP /* close now: the write failed */
};
enum session_write session_on_writable(struct chat_client *c);
/* The connection is gone, or never came (err CHAT_ERR_CONNECT: it never
 * opened; CHAT_ERR_CONNECTION_LOST: it was open). errmsg may say why. */
void session_on_closed(struct chat_client *c, int err);
/* The timer set by transport_ops.timer is due. */
void session_on_timer(struct chat_client *c);

/* ---- the client's hooks ------------------------------------------------- */

/* How the session hands events to the client (events.c's client_hooks). */
struct session_hooks {
	/* The hello is in (challenge and limits read): authenticate. */
	void (*on_hello)(struct chat_client *c);
	/* Authenticated (session_online): what waited for it may go. */
	void (*on_online)(struct chat_client *c);
	/* A push of type. Before online only "linked" comes here. */
	void (*on_push)(struct chat_client *c, const char *type, const cJSON *msg);
	/* A push that broke the protocol was dropped; errmsg says how. */
	void (*on_bad_push)(struct chat_client *c);
	/* Online and about to write: queue what is owed (acks, receipts). */
	void (*on_writable)(struct chat_client *c);
	/* The connection is gone (err: why); retrying: another will be made.
	 * The requests still queued fail after this returns; the hook may fail
	 * them sooner (session_fail_requests) to order what it does around it. */
	void (*on_closed)(struct chat_client *c, int err, int retrying);
	/* The session's state changed. */
	void (*on_state)(struct chat_client *c, enum chat_state st, int err);
	/* After each pass of the loop. */
	void (*on_tick)(struct chat_client *c);
	/* What the client holds for one commit (the messages and receipts
	 * received in a pass): batching says it can take more; settle commits
	 * it and hands it on. The session settles before any other push is
	 * handled, on a close, and at the end of each pass (after taking what
	 * keeps coming, within the batch's bounds), so no callback of another
	 * kind of push runs before the commit. */
	int (*batching)(const struct chat_client *c);
	void (*settle)(struct chat_client *c);
	/* 1 while such a commit is pending: a request queued now is held until
	 * session_release_held (it may depend on what is not committed yet). */
	int (*holding)(const struct chat_client *c);
};

/* ---- the session's calls ------------------------------------------------ */

/* What a reply to a request is for: reply is NULL when err is not CHAT_OK
 * and no reply came (a lost connection, a deadline). */
typedef void (*reply_fn)(struct chat_client *c, struct op *op, const cJSON *reply, int err);

/* A request queued, kept until answered (it may go again). */
struct request {
	struct request *next;
	int64_t id;
	int64_t deadline; /* session clock: ms */
	reply_fn fn;
	struct op *op; /* may be NULL (internal requests) */
	int preauth;   /* register/auth/linkDevice: may go before authentication */
	char *frame;   /* serialized */
	size_t frame_len;
	int sent;
	int64_t not_before; /* rate_limited: not again before (session clock) */
	int held;           /* queued while a commit was pending: waits for it */
};

/* Connects (CONNECTING), unless a connection exists or is being made. */
int session_start(struct chat_client *c);
/* Ends the session for good (the handle goes): the transport stops, and
 * what waited on the connection fails. */
void session_stop(struct chat_client *c);
/* 1 while a connection exists or is being made. */
int session_has_connection(const struct chat_client *c);
/* The session's clock (the transport's): monotonic ms. */
int64_t session_now(const struct chat_client *c);
/* {"type": type}, for session_request; NULL if out of memory. */
cJSON *request_new(const char *type);
/* Queues a request (takes ownership of req); its reply goes to fn with op.
 * preauth: it may go before authentication. CHAT_OK or an error. */
int session_request(struct chat_client *c, cJSON *req, reply_fn fn, struct op *op, int preauth);
/* Asks the transport for a chance to write (what was queued goes out). */
void session_want_write(struct chat_client *c);
/* A chance to write at (session clock) at the latest: for what must wait a
 * little (receipts' batching). */
void session_wake_at(struct chat_client *c, int64_t at);
/* Authenticated: ONLINE, and the client's on_online. */
void session_online(struct chat_client *c);
/* Closes the connection once what is queued has gone (err CHAT_OK), or at
 * once with err as the reason the connection ends. */
void session_close(struct chat_client *c, int err);
/* The client's pending commit is done: the requests held for it may go. */
void session_release_held(struct chat_client *c);
/* Forgets the requests waiting on op, unanswered (op ends early). */
void session_drop_op_requests(struct chat_client *c, const struct op *op);
/* Fails every queued request with err: no reply will come. */
void session_fail_requests(struct chat_client *c, int err);
/* Frees every queued request, calling back none (the handle goes, or a test
 * starts over). */
void session_forget_requests(struct chat_client *c);

#endif
