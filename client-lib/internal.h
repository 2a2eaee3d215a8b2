/*
 * internal.h - libchat's handle and the calls its modules make to each other.
 *
 *   client.c    the handle, the device home, identity, errors, local-store calls
 *   session.c   the WebSocket (libwebsockets), the loop, frames in and out, requests
 *   ops.c       multi-step calls: register, create a chat, send a message
 *   receive.c   newMessage pushes: check keys, decrypt, store, hand over, ack
 *   receipts.c  delivered and read receipts: owing, sending, applying
 *   directory.c checking and pinning keys from the directory
 */
#ifndef CHAT_INTERNAL_H
#define CHAT_INTERNAL_H

#include <stdarg.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <libwebsockets.h>

#include "chat.h"
#include "e2e.h"
#include "proto.h"
#include "store.h"

struct op;

/* What a reply to a request is for. */
typedef void (*reply_fn)(struct chat_client *c, struct op *op, const cJSON *reply, int err);

struct request {
	struct request *next;
	int64_t id;
	int64_t deadline; /* monotonic ms */
	reply_fn fn;
	struct op *op; /* may be NULL (internal requests) */
	int preauth;   /* register/auth: may go before authentication */
	char *frame;   /* serialized, kept until answered (it may go again) */
	size_t frame_len;
	int sent;
	int64_t not_before; /* rate_limited: not again before (monotonic ms) */
};

/* A multi-step call (see ops.c). Lives until it calls its done callback. */
struct op {
	struct op *next;
	int kind;
	chat_done_cb done;
	void *arg;
	char chat_id[CHAT_CHAT_ID_LEN + 1];
	char message_id[CHAT_MESSAGE_ID_LEN + 1];
	char user[CHAT_USER_MAX + 1];
	char *device_name;
	char **users; /* create: requested; send: chat members */
	size_t n_users;
	char *text;
	size_t text_len;
	int attempts;
	chat_code_cb code_cb;                    /* link: where the code goes */
	char code[E2E_LINK_CODE_LEN + 1];        /* link/approve: the code, as shown */
	uint8_t secret[PROTO_LINK_SECRET_BYTES]; /* link/approve: what the code says */
	uint32_t device_id;                      /* remove device */
	int fresh_chat;            /* send: members were read from the server for this try */
	int held;                  /* send: waiting for the connection to come back */
	int outbox;                /* send: from the store, nobody waits on it */
	chat_last_seen_cb seen_cb; /* last seen: where the answer goes */

	/* send: its place in this session's order of sends (see send_in_turn);
	 * ready to be encrypted and sent, but waiting for an older send of its
	 * chat; its sendMessage queued or sent. */
	uint64_t turn;
	int ready;
	int on_wire;

	struct media_job *media;  /* attachments: the files and their transfer */
	struct attach_meta *atts; /* send: the files the message carries */
	size_t n_atts;
};

struct chat_client {
	void *udata;
	struct chat_callbacks cbs;
	char *home;
	char *server_url;
	char *ca_file; /* wss://: the CAs to trust; NULL: the system's */
	int timeout_ms;
	int send_only;
	int reconnect;
	unsigned attempts;    /* failed connection attempts in a row */
	uint64_t send_turns;  /* sends started in this session (send_in_turn) */
	int user_closed;      /* chat_client_disconnect: do not reconnect */
	int64_t next_attempt; /* monotonic ms, in CHAT_STATE_WAITING */

	struct store store;
	struct e2e_identity *id; /* sodium_malloc'd; NULL until created or loaded */
	char user[CHAT_USER_MAX + 1];
	uint32_t device_id;

	/* session */
	struct lws_context *ctx;
	struct lws *wsi;
	enum chat_state state;
	int conn_err; /* why the last connection ended */
	int was_online;
	int64_t connect_deadline;
	int epfd;                     /* chat_client_fd: the socket and wakefd */
	int wakefd;                   /* eventfd: "call chat_client_loop, there is output" */
	int sockfd;                   /* the socket in epfd, or -1 */
	lws_sorted_usec_list_t wake;  /* bounds one lws_service() wait */
	lws_sorted_usec_list_t retry; /* a rate-limited request may go again */
	int rate_window;              /* rate_limited: requests in flight at most; 0: any */
	uint8_t challenge[PROTO_CHALLENGE_BYTES];
	/* What the session signature covers beside the challenge: the server's
	 * name from its URL, and on wss:// the TLS exporter value (RFC 9266) of
	 * this connection (binding_len 0 on ws://). */
	char server_name[PROTO_SERVER_NAME_MAX + 1];
	uint8_t binding[PROTO_BINDING_BYTES];
	size_t binding_len;
	size_t max_frame;
	uint64_t max_blob; /* the server's limit on a blob (hello), 0 if unknown */
	/* The server's retention time in ms (hello), 0 if unknown: an unsent
	 * message older than it is given up (ops_resume_sends). */
	int64_t retention_ms;
	int drained;
	char *rx; /* reassembly of a fragmented incoming frame */
	size_t rx_len, rx_cap;
	char *tx; /* the frame being written (lws masks it in place) */
	size_t tx_cap;
	int closing;
	int linking;       /* a link request waits for approval: no connect deadline */
	int tls;           /* the server's URL is wss:// */
	char tls_why[384]; /* why the server's certificate failed verification, or "" */
	/* Heartbeat (chat_opts.heartbeat_s): lws keeps a pointer to the policy,
	 * so it lives with the handle, which outlives the context. */
	int heartbeat_s;
	lws_retry_bo_t heartbeat;
	int64_t valid_ms; /* monotonic ms: the handshake or the last pong */
	int peer_closed;  /* the server sent a close frame */

	struct request *reqs; /* in the order they were queued */
	int64_t next_req_id;
	struct op *ops;
	char **acks; /* message ids stored and not yet acked */
	size_t n_acks, cap_acks;
	int receipts_due;    /* the store may owe receipts: look when online */
	int64_t receipts_at; /* not before then (monotonic ms): batching */
	lws_sorted_usec_list_t receipts_sul;

	/* Frames waiting for their senders' listings (directory_hold), and the
	 * user whose listing has just come in while they are handled again. */
	struct held_frame *held;
	size_t n_held;
	const char *listing_user;

	char errmsg[512];
	char server_code[64];
	char err_user[CHAT_USER_MAX + 1]; /* chat_client_error_user */
};

/* client.c */
int client_fail(struct chat_client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* client_fail for CHAT_ERR_KEY_CHANGED (returned): a key of user's that this
 * device has not accepted, user kept for chat_client_error_user. */
int client_fail_key(struct chat_client *c, const char *user, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int client_save_identity(struct chat_client *c);
int client_ensure_identity(struct chat_client *c);
void client_forget_session(struct chat_client *c);
void client_forget_buffers(struct chat_client *c);

/* session.c */
/* Sets the heartbeat: hangup after secs without a pong, ping after 40% of it. */
void session_set_heartbeat(struct chat_client *c, int secs);
int session_start(struct chat_client *c);
void session_stop(struct chat_client *c);
/* Queues a request (takes ownership of req). Returns CHAT_OK or an error. */
int session_request(struct chat_client *c, cJSON *req, reply_fn fn, struct op *op, int preauth);
void session_want_write(struct chat_client *c);
void session_set_state(struct chat_client *c, enum chat_state st, int err);
void session_online(struct chat_client *c);
/* Fails every request waiting on op (used when an op ends early). */
void session_drop_op_requests(struct chat_client *c, const struct op *op);
/* Handles one whole frame from the server (buf[0..len), which it may rewrite:
 * see proto_json_scrub). */
void session_dispatch(struct chat_client *c, char *buf, size_t len);
/* Sets errmsg/server_code from an error reply; returns CHAT_ERR_REFUSED. */
int session_reply_error(struct chat_client *c, const cJSON *reply);

/* The kinds of op. */
enum {
	OP_REGISTER = 1,
	OP_CREATE,
	OP_SEND,
	OP_GROUP,
	OP_MODIFY,
	OP_FETCH,
	OP_LINK,
	OP_APPROVE,
	OP_REMOVE_DEVICE,
	OP_KEYS,
	OP_PRESENCE,
	OP_RECEIPT,
	OP_MEDIA
};

/* ops.c */
struct op *op_new(struct chat_client *c, int kind, chat_done_cb done, void *arg);
int op_launch(struct chat_client *c, struct op *op, int rc);
int check_registered(struct chat_client *c);
int check_chat_id(struct chat_client *c, const char *chat_id);
int check_local_chat(struct chat_client *c, const char *chat_id);
int read_users(const cJSON *arr, char ***out, size_t *n);
int store_chat_reply(struct chat_client *c, const cJSON *reply, char ***members, size_t *n);
cJSON *new_request(const char *type);
int request_keys(struct chat_client *c, struct op *op, char **users, size_t n, reply_fn fn);
int ops_no_such_chat(struct chat_client *c, int err, const char *chat_id);
/* A direct chat with this user itself (no notes to self yet): CHAT_ERR_INVALID. */
int ops_self_chat(struct chat_client *c, const char *user);
int ops_new_device_op(struct chat_client *c, int kind, const char *user, const char *device_name,
		      chat_done_cb done, void *arg, struct op **opp);
void ops_become_device(struct chat_client *c, struct op *op, const char *user, uint32_t dev);
/* Reply to createChat: stores the chat, pins its members' keys, ends the op. */
void ops_chat_created(struct chat_client *c, struct op *op, const cJSON *reply, int err);
void ops_on_hello(struct chat_client *c);
void ops_fail_all(struct chat_client *c, int err);
void ops_fail_unheld(struct chat_client *c, int err);
/* The connection dropped and will be made again: sends wait for it instead of
 * failing (their requests are gone). */
void ops_hold_sends(struct chat_client *c);
/* Online again: restarts held sends, oldest first, then sends what the store
 * holds as pending from earlier sessions (the outbox). */
void ops_resume_sends(struct chat_client *c);
void op_finish(struct chat_client *c, struct op *op, int err, const char *id);
int ops_pending_register(const struct chat_client *c);
int ops_fetch_chat(struct chat_client *c, const char *chat_id);
/* Sends getChat for chat_id; the reply goes to fn (with op, which may be NULL). */
int ops_request_chat(struct chat_client *c, const char *chat_id, reply_fn fn, struct op *op);
void ops_chat_fetched(struct chat_client *c, struct op *op, const cJSON *reply, int err);

/* Adds to arr one envelope per active pinned device of user (but this one),
 * sealing body under (chat_id, id). A device whose key changed and is not
 * accepted fails with CHAT_ERR_KEY_CHANGED, or is left out if skip_changed. */
int ops_add_envelopes(struct chat_client *c, cJSON *arr, const char *chat_id, const char *id,
		      const char *user, const uint8_t *body, size_t len, int skip_changed);

/* media.c */
struct media_job;
void media_free(struct media_job *j);
/* Moves transfers on: progress, and what follows their end. From the loop. */
void media_poll(struct chat_client *c);
/* ops.c: sends a pending message of the store (files uploaded) with done.
 * An error returned means done will not be called (the message is failed,
 * or still pending if the network failed). */
int ops_send_stored(struct chat_client *c, const char *message_id, chat_done_cb done, void *arg);
/* The same, and connects if needed (chat_retry): the send goes out once online. */
int ops_retry_stored(struct chat_client *c, const char *message_id, chat_done_cb done, void *arg);
/* 1 if this handle is sending message_id now (or holds it for the connection). */
int ops_sending(const struct chat_client *c, const char *message_id);

/* receipts.c */
/* Delivered receipts wait this long for more to join their batch: a burst of
 * messages costs a few receipts, not one each. */
#define RECEIPT_DELAY_MS 100
/* The store may owe receipts: send them when the connection allows, and not
 * before delay_ms from now (or sooner, if already due sooner). */
void receipts_due(struct chat_client *c, int delay_ms);
/* Sends the next batch owed, if online and none is under way. */
void receipts_flush(struct chat_client *c);
/* A receipt's plaintext (kind 0x02), read: 0, or -1 if it is malformed.
 * ids points into pt: n raw 16-byte message ids. */
struct receipt_body {
	int status; /* CHAT_RECEIPT_DELIVERED or CHAT_RECEIPT_READ */
	int64_t at; /* ms since the epoch, the reader's clock; 0 if past 2^63 */
	const uint8_t *ids;
	size_t n; /* 1 to PROTO_MAX_RECEIPT_IDS */
};
int receipt_body_parse(const uint8_t *pt, size_t len, struct receipt_body *out);
/* Applies a decrypted receipt from (user, device): CHAT_OK, 1 if it is
 * malformed (errmsg says how; it is undecryptable: told once and acked), or
 * an error. */
int receipts_apply(struct chat_client *c, const char *chat_id, const char *user, uint32_t device,
		   const uint8_t *pt, size_t len);
void ops_receipt_keys(struct chat_client *c, struct op *op, const cJSON *reply, int err);

/* devices.c */
/* Reply to linkDevice: show the code, wait for the linked push. */
void ops_link_requested(struct chat_client *c, struct op *op, const cJSON *reply, int err);
/* The linkMac of a link op (PROTOCOL.md, "Devices"): 0, or -1. */
int ops_link_mac(struct chat_client *c, const struct op *op, uint8_t mac[PROTO_LINK_MAC_BYTES]);
void ops_on_linked(struct chat_client *c, const cJSON *msg);

/* receive.c */
void receive_chat_update(struct chat_client *c, const cJSON *msg);
void receive_new_message(struct chat_client *c, const cJSON *msg);
void receive_receipt(struct chat_client *c, const cJSON *msg);
int receive_queue_ack(struct chat_client *c, const char *message_id);
/* Builds the next ack request from queued ids, if any. */
void receive_flush_acks(struct chat_client *c);

/* directory.c */
/* directory_check: the entry is of a user never seen and approved by another
 * of their devices; it can only be judged with their whole listing. */
#define DIRECTORY_NEED_LISTING 1
/* Checks one directory entry (a newMessage or receipt sender) against the
 * pins: pins it when new, records a changed identity key. Returns CHAT_OK,
 * CHAT_ERR_KEY_CHANGED, CHAT_ERR_BAD_KEY, CHAT_ERR_STORE (errmsg set), or
 * DIRECTORY_NEED_LISTING. */
int directory_check(struct chat_client *c, const char *user, uint32_t device, const cJSON *entry,
		    uint8_t xk_out[32]);
/* Applies a getKeys reply: pins, marks removed the devices no longer listed. */
int directory_apply(struct chat_client *c, const cJSON *reply);
/* Keeps a copy of a newMessage (or receipt) whose sender needs its listing
 * (DIRECTORY_NEED_LISTING), asks for it, and hands the frame to
 * receive_new_message (receive_receipt) again once it is in. CHAT_OK, or an
 * error (the frame is then not kept: it comes again next connection). */
int directory_hold(struct chat_client *c, const char *user, const cJSON *msg, int receipt);
/* Drops the held frames (the connection is gone: the server sends them again). */
void directory_forget_held(struct chat_client *c);

#endif
