/*
 * internal.h - libchat's handle, and what its modules share.
 *
 * The files of client-lib/, by what they hold:
 *
 *   client.c       the handle: device home, identity, errors, the calls that
 *                  only read or write the local store
 *   session.c      the session, whatever carries it (session.h): requests and
 *                  replies by id, rate limits, deadlines, hello, states,
 *                  reconnecting, the loop
 *   ws.c           what carries it: libwebsockets, TLS, heartbeats, the
 *                  application's fd
 *   events.c       the client's answer to the session (its session_hooks):
 *                  where each push and each turn of the connection goes
 *   op.c           the machinery of multi-step calls (ops)
 *   account.c      register, authenticate, link, approve and remove devices;
 *                  device lists, safety numbers
 *   chats.c        create and fetch chats, groups and their members
 *   send.c         one message's send; outbox.c: what is unsent, replayed on
 *                  every connection, expired, retried, listed
 *   receive.c      newMessage and chatUpdate pushes: check, decrypt, store,
 *                  hand over, ack
 *   receipts.c     delivered and read receipts: owing, sending, applying
 *   directory.c    the key directory: checking and pinning keys, getKeys
 *   media.c        attachments: upload and download (attach.c and
 *                  attach_body.c: their crypto and format; transfer.c: HTTP)
 *   presence.c     last seen, and hiding it
 *   block.c        blocking users: the requests, the push, the local copy
 *                  that receive.c, typing.c and send.c ask
 *   prefs.c        the mute, pin and archive of each chat (kept and listed by
 *                  store_prefs.c), sent to the user's other devices in their
 *                  notes to self (prefs_body.c: the 0x0b body; receive.c
 *                  applies theirs)
 *   reply_body.c, reaction_body.c  the reply (0x05) and reaction (0x06)
 *                  bodies (reply.h); sent by send.c, read by receive.c, kept
 *                  by store_reactions.c
 *   change_body.c  the edit (0x08) and delete (0x09) bodies (reply.h);
 *   timer_body.c   the disappearing-timer (0x0a) body (reply.h);
 *   store_timer.c  a chat's timer and its messages' expiries, the expiry sweep's
 *                  list (store.h); disappear.c: setting a timer, who may,
 *                  the sweep the loop runs
 *   changes.c      applying them (rules: store_changes.c), delete for me,
 *                  a message's edits; sent by send.c, read by receive.c
 *   e2e.c          the envelope's crypto (e2e.h); store*.c: the local SQLite
 *                  store (store.h); termtext.c: text safe for a terminal
 */
#ifndef CHAT_INTERNAL_H
#define CHAT_INTERNAL_H

#include <stdarg.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "chat.h"
#include "e2e.h"
#include "proto.h"
#include "session.h"
#include "store.h"

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

/* What a kind of op adds to its end (op_finish). end runs first, the op out
 * of the list and its requests dropped: it returns the error done gets and
 * may set the id done gets (NULL on a failure, unless end says otherwise).
 * ended runs after done, the op not yet freed. */
typedef int (*op_end_fn)(struct chat_client *c, struct op *op, int err, const char **id);
typedef void (*op_ended_fn)(struct chat_client *c, struct op *op);

/* A multi-step call (see op.c). Lives until it calls its done callback. */
struct op {
	struct op *next;
	int kind;
	chat_done_cb done;
	void *arg;
	op_end_fn end;     /* may be NULL */
	op_ended_fn ended; /* may be NULL */
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
	/* send: a reply (reply_to not ""): what it quotes; a reaction
	 * (reaction 1): reply_to is the message it is on, text the emoji. */
	int reaction;
	/* an edit or delete (PROTO_BODY_EDIT, PROTO_BODY_DELETE; 0 none):
	 * reply_to is the message it changes, text an edit's new text. */
	int change;
	int timer; /* a disappearing-timer change: text its seconds */
	int prefs; /* chat settings (0x0b): text the body's JSON */
	int history; /* a history batch (history.c): text its JSON */
	char reply_to[CHAT_MESSAGE_ID_LEN + 1];
	char reply_sender[CHAT_USER_MAX + 1];
	char reply_preview[CHAT_REPLY_PREVIEW_MAX + 1];

	void *sessions; /* send, receipt: waiting for prekey bundles (pairwise.c) */
	void *given;    /* send, group: devices this try gives the sender key (group.c) */
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
	int heartbeat_s; /* chat_opts.heartbeat_s, or its default */

	struct store store;
	struct e2e_identity *id; /* sodium_malloc'd; NULL until created or loaded */
	char user[CHAT_USER_MAX + 1];
	uint32_t device_id;

	/* The session (session.c), carried by transport (ws_transport unless a
	 * test puts in its own), whose own state is tp; it tells the client
	 * through hooks (events.c's client_hooks). */
	const struct transport_ops *transport;
	void *tp;
	const struct session_hooks *hooks;
	enum chat_state state;
	int has_conn; /* a connection exists or is being made */
	int conn_err; /* why the last connection ended */
	int closing;  /* session_close: ends once the frames due are out */
	int linking;  /* a link request waits for approval: no connect deadline */
	int64_t link_expires; /* then: when the server drops it (ms since the epoch) */
	int was_online;
	int user_closed;      /* chat_client_disconnect: do not reconnect */
	unsigned attempts;    /* failed connection attempts in a row */
	int64_t next_attempt; /* session clock, in CHAT_STATE_WAITING */
	int64_t connect_deadline;
	int timer_set;        /* the transport's timer is set for timer_at */
	int64_t timer_at;     /* session clock */
	int rate_window;      /* rate_limited: requests in flight at most; 0: any */
	struct request *reqs; /* in the order they were queued */
	int64_t next_req_id;
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
	 * message older than it is given up (outbox_resume). */
	int64_t retention_ms;

	/* The client */
	int drained;                 /* the server said the inbox is delivered */
	int prekeys_busy;            /* an uploadPrekeys is in flight (prekeys.c) */
	uint32_t prekeys_sent_up_to; /* its highest one-time id, 0 if none */
	struct op *ops;
	uint64_t send_turns; /* sends started in this session (send_in_turn) */
	/* typing.c: the chat of the last typing sent, when (session clock),
	 * and whether it said typing. */
	/* block.c: this connection was authenticated by a link, not by an
	 * auth whose reply carries the block list: on_online asks for it. */
	int blocks_fetch;
	char typing_chat[CHAT_CHAT_ID_LEN + 1];
	int64_t typing_at;
	int typing_on;
	/* Typing envelopes sent to a device since anything was read from it
	 * (each uses up one of the session's message keys; see typing.c). */
	struct typing_unheard *unheard;
	size_t n_unheard;
	char **acks;         /* message ids stored and not yet acked */
	size_t n_acks, cap_acks;
	/* The messages of this pass, stored in the store's batch and waiting
	 * for its commit to be handed over and acked (receive.c). */
	struct received *batch;
	size_t n_batch, cap_batch;
	int64_t batch_started; /* session clock */
	uint64_t frames_in;    /* frames received so far (session.c) */
	int streak;            /* the last pass of the loop received frames */
	int receipts_due;    /* the store may owe receipts: look when online */
	int64_t receipts_at; /* not before then (session clock): batching */
	/* Frames waiting for their senders' listings (directory_hold), and the
	 * user whose listing has just come in while they are handled again. */
	struct held_frame *held;
	size_t n_held;
	const char *listing_user;

	/* disappear.c: the next look for expired messages (ms since the
	 * epoch), and a sweep under way (the reads it runs before never nest
	 * one). */
	int64_t expire_look_at;
	int sweeping;

	/* history.c: the days of history an approval sends the new device
	 * (chat_set_history_days), and the device a sync waits to go to while
	 * the notes-to-self chat it goes by is being made (0 none). */
	int history_days;
	uint32_t history_to;
	/* A batch that could not go (the new device had no prekeys up yet,
	 * say) stays pending and the outbox goes again then (ms since the
	 * epoch, 0 none); how many times in a row. */
	int64_t history_retry_at;
	int history_tries;

	/* prefs.c: a notes-to-self chat is being made to send owed settings
	 * by (one request at a time). */
	int prefs_self_making;

	char errmsg[512];
	char server_code[64];
	char err_user[CHAT_USER_MAX + 1]; /* chat_client_error_user */
};

/* history.c: after an approval, send the new device its history; a batch
 * the server took (was_pending: it was not counted yet); a batch that
 * arrived (CHAT_OK handled, 1 malformed with why, or an error). */
void history_start(struct chat_client *c, uint32_t device);
void history_sent(struct chat_client *c, const char *message_id, const char *json,
		  int was_pending);
/* A batch's send failed with err: 1 if it stays pending for a retry (the
 * tick runs it), 0 if it is failed for good. */
int history_failed(struct chat_client *c, int err);
void history_tick(struct chat_client *c);

/* prefs.c: settings changed with no notes to self to send them by are owed
 * (1) until sent; online, they go (the notes made first if need be). */
int prefs_owed(struct chat_client *c);
void prefs_online(struct chat_client *c);
int history_take(struct chat_client *c, const char *message_id, const char *user,
		 uint32_t device, const uint8_t *body, size_t len, char *why, size_t cap);

/* client.c */
int client_fail(struct chat_client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* client_fail for CHAT_ERR_KEY_CHANGED (returned): a key of user's that this
 * device has not accepted, user kept for chat_client_error_user. */
int client_fail_key(struct chat_client *c, const char *user, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* CHAT_OK if this home is a registered device, else CHAT_ERR_NOT_REGISTERED. */
int client_check_registered(struct chat_client *c);
int client_ensure_identity(struct chat_client *c);

/* prekeys.c: publishing this device's prekeys (PROTOCOL.md, "Prekeys"). None
 * of it fails a user's operation: what fails is tried on the next connection. */
void prekeys_online(struct chat_client *c);
void prekeys_on_low(struct chat_client *c, const cJSON *msg);

/* events.c */
/* The client's hooks: what the session's events do. */
extern const struct session_hooks client_hooks;
/* Drops what only made sense on one connection: acks not yet sent (the
 * server sends those messages again) and frames held for their senders'
 * keys. */
void events_forget_connection(struct chat_client *c);

/* op.c */
struct op *op_new(struct chat_client *c, int kind, chat_done_cb done, void *arg);
/* Sends a new op on its way: connects if needed. If that fails (or rc already
 * says so) the op ends without calling back, since the caller returns rc. */
int op_launch(struct chat_client *c, struct op *op, int rc);
/* Ends op: drops its requests, runs its kind's end, calls done once (with
 * id on success), frees it. Nothing if op has ended already. */
void op_finish(struct chat_client *c, struct op *op, int err, const char *id);
void ops_fail_all(struct chat_client *c, int err);
/* Ends every op but the sends held for a reconnection. */
void ops_fail_unheld(struct chat_client *c, int err);

/* account.c */
/* 1 while a register or link op waits for the connection or the server. */
int account_pending(const struct chat_client *c);
/* The server's hello is in: register, link or authenticate, as ops say. */
void account_on_hello(struct chat_client *c);
/* A "linked" push: the link op (if any) becomes this device. */
void account_on_linked(struct chat_client *c, const cJSON *msg);

/* chats.c */
int chats_check_id(struct chat_client *c, const char *chat_id);
/* A chat this device's store holds: CHAT_OK, CHAT_ERR_INVALID,
 * CHAT_ERR_NO_SUCH_CHAT or CHAT_ERR_STORE. */
int chats_check_local(struct chat_client *c, const char *chat_id);
/* Reads a list of user names (a reply's participants) into a malloc'd
 * array (free with store_free_list): 0, or -1 if malformed. */
int chats_read_users(const cJSON *arr, char ***out, size_t *n);
/* Stores a chat as a reply or a chatUpdate describes it; *members gets its
 * members (free with store_free_list). */
int chats_store(struct chat_client *c, const cJSON *reply, char ***members, size_t *n);
/* A refusal with no_such_chat becomes CHAT_ERR_NO_SUCH_CHAT, with a message. */
int chats_no_such(struct chat_client *c, int err, const char *chat_id);
/* A direct chat with this user itself (no notes to self yet): CHAT_ERR_INVALID. */
/* Sends getChat for chat_id; the reply goes to fn (with op, which may be NULL). */
int chats_request(struct chat_client *c, const char *chat_id, reply_fn fn, struct op *op);
/* Asks for a chat first seen in a message, for the store alone. */
int chats_fetch(struct chat_client *c, const char *chat_id);

/* send.c */
/* A send op (kind OP_SEND), with what every send does at its end. */
struct op *send_op_new(struct chat_client *c, chat_done_cb done, void *arg);
/* Adds to arr one envelope per active pinned device of user (but this one),
 * encrypting body under (chat_id, id) with the pairwise session of each
 * (pairwise_encrypt: call it inside a store transaction). A device whose key
 * changed and is not accepted fails with CHAT_ERR_KEY_CHANGED, or is left
 * out if skip_changed. */
/* Adds {"user", "deviceId", "ciphertext"} (a stage-2 envelope: no nonce) to arr. */
int send_add_envelope(struct chat_client *c, cJSON *arr, const char *user, uint32_t device,
		      const uint8_t *ct, size_t len);
/* A disappearing-timer change (seconds checked by the caller) of this user,
 * stored and sent as chat_send_text's message: disappear.c's. */
/* Sends a chat-settings body (the 0x0b JSON, json_len bytes) in the user's
 * notes to self chat_id, stored as a row of kind "prefs" that no history
 * shows, to the user's other devices (prefs.c). */
int send_prefs(struct chat_client *c, const char *chat_id, const char *json, size_t json_len);
int send_timer(struct chat_client *c, const char *chat_id, long long seconds, char *change_id,
	       chat_done_cb done, void *arg);
int send_envelopes(struct chat_client *c, cJSON *arr, const char *chat_id, const char *id,
		   const char *user, const uint8_t *body, size_t len, int skip_changed);
/*
 * Pairwise sessions, end-to-end encryption stage 2 (pairwise.c).
 * pairwise_encrypt: the stage-2 form (0x21, or 0x22 while the peer has not
 * answered) of pt, padded, for (user, device) whose pinned exchange key is
 * peer_xk, into *out (malloc'd); the session's new state is written in the
 * store's current transaction. pairwise_decrypt: the plaintext (unpadded,
 * malloc'd: wipe and free) of a pairwise form w from (user, device), its
 * new state written in the current transaction; returns CHAT_OK, 1 when it
 * does not read (why says why), 2 when no session can read it (the caller
 * resets: pairwise_reset), 3 when it was read before (a replay), or an error.
 * pairwise_reset: forgets the sessions with that device and owes it an
 * undecryptable receipt for msg_id (which starts a new session).
 * pairwise_ensure: starts sessions (getPrekeyBundle) with every trusted
 * device of users that has none: 0 when none is missing, 1 when requests
 * went out (next(c, op, NULL, err) runs once all are in), or an error.
 */
struct wire2;
int pairwise_encrypt(struct chat_client *c, const char *chat_id, const char *msg_id,
		     const char *user, uint32_t device, const uint8_t peer_xk[32],
		     const uint8_t *pt, size_t pt_len, uint8_t **out, size_t *out_len);
int pairwise_decrypt(struct chat_client *c, const char *chat_id, const char *msg_id,
		     const char *user, uint32_t device, const uint8_t peer_xk[32],
		     const struct wire2 *w, uint8_t **pt, size_t *pt_len, char *why, size_t cap);
int pairwise_reset(struct chat_client *c, const char *chat_id, const char *msg_id,
		   const char *user, uint32_t device);
int pairwise_ensure(struct chat_client *c, struct op *op, char *const *users, size_t n,
		    reply_fn next);
void pairwise_op_free(struct op *op);
/* Blocking (block.c): 1 if this user has blocked user (never oneself; 0
 * when the store cannot say, the server enforcing too); the list fetched on
 * each connection; the blocked push. */
int blocks_has(struct chat_client *c, const char *user);
/* CHAT_OK, or CHAT_ERR_BLOCKED (said why) for a direct chat with a user
 * this one blocked. */
int blocks_check_send(struct chat_client *c, const char *chat_id);
void blocks_online(struct chat_client *c);
/* The auth reply's "blocked" (if any) into the copy, before any push of
 * the inbox is read: CHAT_OK or an error (the session then closes). */
int blocks_on_auth(struct chat_client *c, const cJSON *reply);
void blocks_on_push(struct chat_client *c, const cJSON *msg);
/* A typing push (typing.c): told to on_typing, stored nowhere. */
void typing_receive(struct chat_client *c, const cJSON *msg);
/* Something was read from (user, device): typing may go to it again. */
void typing_heard(struct chat_client *c, const char *user, uint32_t device);
void typing_free(struct chat_client *c);

/* Group chats' sender keys (group.c). group_envelopes: one envelope per
 * device of op's chat (op->users' devices but this one), the message
 * encrypted once under this device's sender key, which goes along to the
 * devices that do not have it yet (inside the store's current
 * transaction, as pairwise_encrypt). group_sent: the server took the
 * message: those devices have the key now. group_open: a group form (0x23)
 * from (user, device): its sender key, if it carries one, then its
 * message; returns as pairwise_decrypt does, or 4 when this device has
 * not the sender key it is under (an undecryptable receipt asks for it). */
int group_envelopes(struct chat_client *c, struct op *op, cJSON *arr, const uint8_t *body,
		    size_t body_len);
int group_sent(struct chat_client *c, struct op *op);
void group_op_free(struct op *op);
int group_open(struct chat_client *c, const char *chat_id, const char *msg_id, const char *user,
	       uint32_t device, const uint8_t peer_xk[32], const struct wire2 *w, uint8_t **pt,
	       size_t *pt_len, char *why, size_t cap);

/* The send op of message_id in this handle, or NULL. */
struct op *send_find(const struct chat_client *c, const char *message_id);
/* 1 if this handle is sending message_id now (or holds it for the connection). */
int send_busy(const struct chat_client *c, const char *message_id);
/* (Re)starts a send from its first step (online); ends it if that fails. */
void send_restart(struct chat_client *c, struct op *op);
/* The connection dropped and will be made again: sends wait for it instead of
 * failing (their requests are gone). */
void send_hold_all(struct chat_client *c);
/* Sends a pending message of the store (files uploaded) with done: now if
 * online, else once the connection comes. An error returned means done will
 * not be called (the message is failed, or still pending if the network
 * failed). */
int send_stored(struct chat_client *c, const char *message_id, chat_done_cb done, void *arg);
/* A send op read back from the store (outbox, retry): its reply quote or
 * reaction, from the stored message m. */
void send_op_extra(struct op *op, const struct chat_message *m);
/* changes.c: applies the edits and deletes in the store to message target
 * (store_changes_apply), removing the downloaded files under the home of a
 * message it deletes. What store_changes_apply returns. */
int changes_apply(struct chat_client *c, const char *target);
/* Removes downloaded files, those under the home only (NULL entries skipped). */
void changes_remove_files(struct chat_client *c, char **paths, size_t n);

/* disappear.c (PROTOCOL.md, "Disappearing messages"). accepts: 1 if user
 * may set chat_id's timer as this store knows the chat (any member of a
 * direct chat, an admin of a group), 0 not, -1 store error. sweep: deletes
 * every expired message with what hangs on it and its files under the home,
 * telling on_expired of each if tell; how many went, or -1. tick: the loop's
 * sweep, at most once a second. */
int disappear_accepts(struct chat_client *c, const char *chat_id, const char *user);
int disappear_sweep(struct chat_client *c, int tell);
void disappear_tick(struct chat_client *c);

/* outbox.c */
/* Online again: gives up what is older than the server's retention, then
 * sends what the store holds as pending, oldest first (this session's held
 * sends and earlier sessions' messages alike). */
void outbox_resume(struct chat_client *c);

/* media.c */
struct media_job;
void media_free(struct media_job *j);
/* Moves transfers on: progress, and what follows their end. From the loop. */
void media_poll(struct chat_client *c);

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
int receipts_apply(struct chat_client *c, const char *receipt_id, const char *chat_id,
		   const char *user, uint32_t device, const uint8_t *pt, size_t len);
/* What a receipt told of one message: its id, and its state after it. */
struct receipt_news {
	char id[CHAT_MESSAGE_ID_LEN + 1];
	char state[16];
};

/* receive.c */
void receive_chat_update(struct chat_client *c, const cJSON *msg);
void receive_new_message(struct chat_client *c, const cJSON *msg);
void receive_receipt(struct chat_client *c, const cJSON *msg);
/* A batch of received messages ends at this many, or this long after its
 * first, whichever comes first: a drain costs a commit per thousand
 * messages, and the first of them waits a bounded time to be shown. */
#define RECEIVE_BATCH_MAX 1024
#define RECEIVE_BATCH_MS  200
/* Once frames come in a stream, how long a pass waits for the next before
 * it commits what it has: about the time a frame of a server's drain takes
 * to come. */
#define RECEIVE_LINGER_MS 3
/* 1 while the pass's batch is open and can take more. */
int receive_batching(const struct chat_client *c);
/* 1 while it is open at all. */
int receive_holding(const struct chat_client *c);
/* Commits the pass's batch, then hands over each of its messages and queues
 * its ack, in order; if the commit fails, none is acked (they come again).
 * Nothing if no batch is open. */
void receive_settle(struct chat_client *c);
/* In a batch: the receipt receipt_id (r: what it says, but for message_id
 * and state, which news has, n of them) is told to on_receipt and acked once
 * the batch commits. Takes news (malloc'd), whatever it returns. */
int receive_defer_receipt(struct chat_client *c, const char *receipt_id,
			  const struct chat_receipt *r, struct receipt_news *news, size_t n);
/* Frees the batch's list (the handle goes; closing the store rolls it back). */
void receive_forget_batch(struct chat_client *c);
/* Builds the next ack request from queued ids, if any. */
void receive_flush_acks(struct chat_client *c);
/* Drops the queued acks (the connection is gone). */
void receive_forget_acks(struct chat_client *c);

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
/* A getKeys request for users (for op, which may be NULL); reply goes to fn. */
int directory_request(struct chat_client *c, struct op *op, char **users, size_t n, reply_fn fn);
/* Keeps a copy of a newMessage (or receipt) whose sender needs its listing
 * (DIRECTORY_NEED_LISTING), asks for it, and hands the frame to
 * receive_new_message (receive_receipt) again once it is in. CHAT_OK, or an
 * error (the frame is then not kept: it comes again next connection). */
int directory_hold(struct chat_client *c, const char *user, const cJSON *msg, int receipt);
/* Drops the held frames (the connection is gone: the server sends them again). */
void directory_forget_held(struct chat_client *c);

#endif
