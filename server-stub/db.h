/*
 * db.h - chat-server's store: users, devices and their public keys, chats
 * and members, message metadata and the per-device inbox, the metadata of
 * attachments.
 *
 * This header is the store's whole interface, and it says nothing of how the
 * data is kept: the SQLite store implements it (db*.c; db_sql.h maps its
 * files), and a second backend (PostgreSQL, DESIGN.md "Scale-out") would
 * implement the same calls.  Nothing here knows about JSON either: the store
 * takes and returns data, and the request layer (wire*.c) makes the frames.
 *
 * Every call that writes more than one row does it in one transaction, so a
 * failure leaves the store as it was and the request can be retried.  Every
 * call returns a db_status; DB_INTERNAL means the store failed, and the
 * reason has been logged.
 *
 * Strings passed in are validated by the caller (wire*.c): user names and
 * hex ids are of their protocol form.
 *
 * The calls come by area, as the files do: opening; accounts and devices;
 * presence; chats and groups; messages, receipts and the inbox; blobs;
 * retention.  The limits the store keeps are fields of the requests they
 * apply to (db_add_limits, db_send.max_inbox_bytes).
 */
#ifndef CHAT_SERVER_DB_H
#define CHAT_SERVER_DB_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct db;

enum db_status {
	DB_OK = 0,
	DB_INTERNAL,       /* the store failed (logged); nothing was changed */
	DB_EXISTS,         /* register: the user exists with another key */
	DB_KEY_TAKEN,      /* register, link: identity key belongs to another device */
	DB_NOT_FOUND,      /* no such user, device or chat (or not a member) */
	DB_DUPLICATE,      /* sendMessage: id taken by another device or chat */
	DB_MISMATCH,       /* sendMessage: envelopes do not match the devices */
	DB_TOO_MANY,       /* link: the user has PROTO_MAX_DEVICES devices */
	DB_UNKNOWN_USER,   /* group create or change: a named user does not exist */
	DB_WRONG_KIND,     /* group change of a direct chat */
	DB_NOT_ADMIN,      /* group change that needs an admin */
	DB_ALREADY_MEMBER, /* ADD of a member */
	DB_NOT_MEMBER,     /* REMOVE of a non-member */
	DB_TOO_LARGE,      /* a group over PROTO_MAX_MEMBERS */
	DB_NO_BLOB,        /* sendMessage: a blob not uploaded in full by the sender */
	DB_INBOX_FULL,     /* sendMessage: a recipient device's inbox is at its quota */
	DB_TOO_MANY_ADDS,  /* group create or ADD: a stranger added too often */
	DB_QUOTA,          /* uploadPrekeys: more one-time prekeys than a device may store */
	DB_LAST_ADMIN,     /* DEMOTE of every admin the group has */
	DB_ROLE_SAME,      /* PROMOTE of an admin, DEMOTE of a member who is not one */
	DB_BLOCKED         /* group create or ADD: a member has blocked the actor */
};

/* ---- open and close ---------------------------------------------------- */

/*
 * Open (creating if needed, mode 0600) the database at path, set WAL mode,
 * synchronous=FULL and foreign keys, and create or check the schema.
 * Returns NULL with a reason in err (naming path) on failure.
 */
struct db *db_open(const char *path, char *err, size_t errlen);
void db_close(struct db *st);

/*
 * Group commit: the network layer applies the requests of one pass of its
 * loop in one transaction, and sends their replies only after its COMMIT,
 * so a reply still means the change is on disk (synchronous=FULL: fsync'd
 * before COMMIT returns).
 *
 * db_batch_open begins the batch (BEGIN IMMEDIATE) if none is open: 0, or
 * -1 (the calls then run in transactions of their own, as without a batch).
 * On PostgreSQL it opens none (0, and db_batch_is_open stays 0): each call
 * commits alone there, which keeps several instances free of deadlocks
 * (db.c says why).
 * While it is open, each call of the store that writes runs in a SAVEPOINT
 * of it, so a call that fails (a refused request) undoes only itself.
 * db_batch_commit ends it: 0, or -1 if the COMMIT failed or SQLite had
 * already rolled the batch back; every change since db_batch_open is then
 * lost, and no reply of the batch may be sent.  Nothing (0) if none is open.
 */
int db_batch_open(struct db *st);
int db_batch_commit(struct db *st);
int db_batch_is_open(const struct db *st);
/* For tests (chat-server --test-fail-commit): while the file path exists,
 * db_batch_commit rolls the batch back and fails.  NULL: never. */
void db_test_fail_commit(struct db *st, const char *path);

/* Whether the store answers now (a trivial query, outside any batch): DB_OK,
 * or DB_INTERNAL (logged).  For the health endpoint. */
enum db_status db_ping(struct db *st);

/* 1 if the store's last failure was its being out of reach for now, so
 * that the request is worth sending again as it is: PostgreSQL down,
 * restarting or refusing connections, a deadlock or serialization failure
 * it broke; SQLite busy (another process holds its lock).  0 for any other
 * failure (a bug, a full disk): those stay "internal". */
int db_unavailable(const struct db *st);

/* 1 if a device's inbox ids are dense: each row committed for it has the
 * id after the last one committed (PostgreSQL: they are taken from the
 * device's row, in commit order).  0 on SQLite, whose ids are the table's,
 * shared by every device (increasing, with gaps). */
int db_inbox_ids_dense(const struct db *st);

/* "sqlite" or "postgresql": which backend this handle is, for logs and
 * /healthz. */
const char *db_backend(const struct db *st);

/* How many statements the store has run since it was opened (each
 * BEGIN, SAVEPOINT, query, insert... once): for measuring. */
uint64_t db_statements(const struct db *st);

/* ---- accounts and devices (db_accounts.c) ------------------------------ */

/* A device address, (user, device id). */
struct db_addr {
	char user[PROTO_USER_MAX + 1];
	uint32_t device_id;
};

/* A device's directory entry. */
struct db_device {
	uint32_t device_id;
	int has_name; /* 0: registered without a name */
	char name[PROTO_DEVICE_NAME_MAX + 1];
	uint8_t identity_key[PROTO_KEY_BYTES];
	uint8_t exchange_key[PROTO_KEY_BYTES];
	uint8_t exchange_key_sig[PROTO_SIG_BYTES];
	int approved; /* 0: the user's first device, no approval */
	uint8_t approver_key[PROTO_KEY_BYTES];
	uint8_t approval[PROTO_SIG_BYTES];
};

/*
 * Register a new user with its first device (device id 1).  device_name may
 * be NULL.  If the user exists and its first device (the one register made,
 * if not removed) has this identity key, returns DB_OK with that device's
 * id and *created 0 (a retried registration); DB_EXISTS if the user exists
 * otherwise; DB_KEY_TAKEN if another user's device has this identity key.
 */
enum db_status db_register(struct db *st, const char *user, const char *device_name,
			   const uint8_t identity_key[PROTO_KEY_BYTES],
			   const uint8_t exchange_key[PROTO_KEY_BYTES],
			   const uint8_t exchange_key_sig[PROTO_SIG_BYTES], int64_t now,
			   uint32_t *device_id, int *created);

/* The identity key of a device, for auth; DB_NOT_FOUND if none (or
 * removed). */
enum db_status db_device_identity(struct db *st, const char *user, uint32_t device_id,
				  uint8_t identity_key[PROTO_KEY_BYTES]);

/* A user's devices in id order (at most cap); DB_NOT_FOUND if no user. */
enum db_status db_user_devices(struct db *st, const char *user, struct db_device *out, size_t cap,
			       size_t *n);

/* DB_OK if the user exists, DB_NOT_FOUND if not. */
enum db_status db_user_exists(struct db *st, const char *user);

/*
 * DB_OK if subject is a contact of viewer: the same user, or a member of a
 * chat viewer is in, in which subject has taken part (created it, added
 * members to it, or sent a message into it; receipts do not count, being
 * sent by themselves). DB_NOT_FOUND if not. A contact's device names and
 * last seen are shown to viewer, and viewer may add them to groups freely.
 */
enum db_status db_is_contact(struct db *st, const char *viewer, const char *subject);

/*
 * Whether a device with this identity key could join the user now:
 * DB_NOT_FOUND if there is no such user, DB_TOO_MANY if it has
 * PROTO_MAX_DEVICES devices, DB_KEY_TAKEN if a device has this identity key.
 */
enum db_status db_link_check(struct db *st, const char *user,
			     const uint8_t identity_key[PROTO_KEY_BYTES]);

/* A device joining an existing user with the approval of one it has. */
struct db_new_device {
	const char *user;
	const char *name;                /* may be NULL */
	const uint8_t *identity_key;     /* PROTO_KEY_BYTES */
	const uint8_t *exchange_key;     /* PROTO_KEY_BYTES */
	const uint8_t *exchange_key_sig; /* PROTO_SIG_BYTES */
	const uint8_t *approver_key;     /* PROTO_KEY_BYTES */
	const uint8_t *approval;         /* PROTO_SIG_BYTES */
	int64_t now;
};

/*
 * Store a linked device under the user's next device id (ids are never
 * reused), after the checks of db_link_check() (same statuses), all in one
 * transaction.
 */
enum db_status db_link_device(struct db *st, const struct db_new_device *d, uint32_t *device_id);

/*
 * Remove a device: its inbox rows go and it leaves the key directory, in
 * one transaction.  Its keys are kept aside so that the messages it sent
 * before can still be delivered with their sender entry.
 * DB_NOT_FOUND if the user has no such device.
 */
enum db_status db_remove_device(struct db *st, const char *user, uint32_t device_id, int64_t now);

/* ---- presence (db_presence.c) ------------------------------------------ */

/* Record that the device has just authenticated, or closed its connection. */
enum db_status db_touch_device(struct db *st, const char *user, uint32_t device_id, int64_t now);

/* Whether the user hides their last seen, and the newest last_seen (ms) of
 * their devices (-1 if none); DB_NOT_FOUND if no user. */
enum db_status db_last_seen(struct db *st, const char *user, int *hide, int64_t *last_seen);

/* Set whether the user hides their last seen; DB_NOT_FOUND if no user. */
enum db_status db_set_hide_last_seen(struct db *st, const char *user, int hide);

/* ---- block lists (db_blocks.c) ------------------------------------------
 *
 * A user's block list is the user's, not a device's: every device of the
 * user sees and changes the same one.  Names are valid user names. */

/* Most users one user may block (PROTOCOL.md, "Blocking"). */
#define DB_MAX_BLOCKED 10000

/* Add blocked to user's list (idempotent: *added 0 if it was there).
 * DB_NOT_FOUND if blocked is not a user, DB_TOO_MANY if the list holds
 * DB_MAX_BLOCKED already. The caller refuses blocking oneself. */
enum db_status db_block(struct db *st, const char *user, const char *blocked, int64_t now,
			int *added);
/* Take blocked off user's list (idempotent: *removed 0 if it was not
 * there). DB_NOT_FOUND if blocked is not a user. */
enum db_status db_unblock(struct db *st, const char *user, const char *blocked, int *removed);
/* User's list sorted by name, at most cap names into out (*n of them). */
enum db_status db_blocked_list(struct db *st, const char *user,
			       char (*out)[PROTO_USER_MAX + 1], size_t cap, size_t *n);
/* DB_OK if blocker has blocked user, DB_NOT_FOUND if not. */
enum db_status db_is_blocked(struct db *st, const char *blocker, const char *user);

/* ---- chats and groups (db_chats.c) ----------------------------------------
 *
 * A chat as a member sees it, and how direct chats and groups are made.
 *
 * A group's creation and every change of its members is one "update": a
 * message of the chat that takes the chat's next seq like a message, and
 * one inbox row (without nonce or ciphertext) for every device of every
 * member after the change and of every user removed.  The store keeps what
 * the update says as data and hands it back with the inbox rows
 * (db_inbox_row.update); the request layer makes the push of it.
 */
enum db_update_op {
	DB_OP_CREATE,
	DB_OP_ADD,
	DB_OP_REMOVE,
	DB_OP_LEAVE,
	DB_OP_PROMOTE, /* users became admins */
	DB_OP_DEMOTE,  /* users are admins no longer */
	DB_OP_RENAME,  /* text: the new name */
	DB_OP_DESCRIBE /* text: the new description ("" none) */
};

struct db_chat {
	char chat_id[PROTO_CHAT_ID_LEN + 1];
	char kind[16];
	int has_name;
	char name[128];
	char description[PROTO_GROUP_DESC_MAX        + 1]; /* "" none */
	int64_t created_at;
	size_t n_members; /* members sorted by name */
	char members[PROTO_MAX_MEMBERS][PROTO_USER_MAX + 1];
	size_t n_admins; /* admins sorted by name */
	char admins[PROTO_MAX_MEMBERS][PROTO_USER_MAX + 1];
};

/* What an update says; every list is sorted by name. */
struct db_update {
	const char *chat_id;
	const char *update_id; /* 32 lowercase hex digits */
	int64_t seq;
	int64_t sent_at;
	const char *kind; /* "group" */
	const char *name; /* NULL if the chat has none */
	const char *actor;
	enum db_update_op op;
	const char (*users)[PROTO_USER_MAX + 1]; /* who joined or left */
	size_t n_users;
	const char (*participants)[PROTO_USER_MAX + 1]; /* after the change */
	size_t n_participants;
	const char (*admins)[PROTO_USER_MAX + 1];
	size_t n_admins;
	const char *text; /* DB_OP_RENAME: the new name; DB_OP_DESCRIBE: the
			   * new description; otherwise NULL */
};

/*
 * Adding to a group users who are strangers to the one adding (they have
 * not taken part in a chat with them: see db_is_contact) is limited: per
 * added user in the last day, per adder in the last hour. 0: no limit.
 */
struct db_add_limits {
	int per_target_day;
	int per_adder_hour;
};

struct db_group_create {
	const char *creator;
	uint32_t creator_device;
	const char *name;
	/* Distinct names, the creator among them or not. */
	const char (*members)[PROTO_USER_MAX + 1];
	size_t n_members;
	int64_t now;
	struct db_add_limits limits;
};

struct db_group_change {
	const char *chat_id;
	const char *actor;
	uint32_t actor_device;
	int add;                                 /* 1: ADD, 0: REMOVE */
	const char (*users)[PROTO_USER_MAX + 1]; /* distinct names */
	size_t n_users;
	int64_t now;
	struct db_add_limits limits;
};

/* A new name or description of a group: exactly one of the two set. */
struct db_group_edit {
	const char *chat_id;
	const char *actor;
	uint32_t actor_device;
	const char *name;        /* 1..PROTO_GROUP_NAME_MAX bytes, or NULL */
	const char *description; /* 0..PROTO_GROUP_DESC_MAX        bytes, or NULL */
	int64_t now;
};

struct db_change_result {
	char chat_id[PROTO_CHAT_ID_LEN + 1];
	int has_name;
	char name[128];                                    /* the group's name */
	char description[PROTO_GROUP_DESC_MAX        + 1]; /* the group's, "" none */
	char update_id[PROTO_MESSAGE_ID_LEN + 1];
	int64_t seq;
	int64_t sent_at;
	enum db_update_op op;
	size_t n_participants;
	char participants[PROTO_MAX_MEMBERS][PROTO_USER_MAX + 1];
	size_t n_admins;
	char admins[PROTO_MAX_MEMBERS][PROTO_USER_MAX + 1];
	/* DB_UNKNOWN_USER, DB_ALREADY_MEMBER, DB_NOT_MEMBER, DB_TOO_MANY_ADDS,
	 * DB_BLOCKED:
	 * the first user (in request order) that is wrong. */
	char bad_user[PROTO_USER_MAX + 1];
	/* DB_TOO_MANY_ADDS: 1 if the adder's hourly limit was reached, 0 if
	 * bad_user's daily one. */
	int adder_limited;
	/* DB_OK: the devices that got the update's inbox row (malloc'd). */
	struct db_addr *recipients;
	size_t n_recipients;
};

/*
 * Find or create the direct chat of two distinct users.  *created is 1 if
 * it was made now.  DB_NOT_FOUND if either user does not exist, with the
 * missing name copied to missing_user (may be NULL).
 */
enum db_status db_direct_chat(struct db *st, const char *creator, const char *other, int64_t now,
			      char chat_id[PROTO_CHAT_ID_LEN + 1], int *created,
			      char missing_user[PROTO_USER_MAX + 1]);

/* A chat as seen by viewer; DB_NOT_FOUND if no chat or not a member. */
enum db_status db_get_chat(struct db *st, const char *chat_id, const char *viewer,
			   struct db_chat *out);

/*
 * Create a group of the creator (its only admin) and the other members,
 * and its create update.  DB_TOO_LARGE over PROTO_MAX_MEMBERS (the creator
 * included), DB_UNKNOWN_USER (bad_user set) if a member does not exist.
 * Free res with db_change_result_free() whatever the status.
 */
enum db_status db_create_group(struct db *st, const struct db_group_create *req,
			       struct db_change_result *res);

/*
 * Add or remove members of a group, all or nothing, and store the update.
 * DB_NOT_FOUND if there is no such chat or the actor is not in it,
 * DB_WRONG_KIND for a direct chat, DB_NOT_ADMIN if the actor may not make
 * this change, DB_UNKNOWN_USER / DB_ALREADY_MEMBER / DB_NOT_MEMBER with
 * bad_user, DB_TOO_LARGE over PROTO_MAX_MEMBERS.  A member removing only
 * themselves is a leave (res->op DB_OP_LEAVE); when no admin is left, the
 * member who joined first (ties by name) becomes one.
 */
enum db_status db_change_group(struct db *st, const struct db_group_change *req,
			       struct db_change_result *res);
void db_change_result_free(struct db_change_result *res);

/*
 * Make members of a group admins (promote 1) or not (promote 0), all or
 * nothing, and store the update (DB_OP_PROMOTE, DB_OP_DEMOTE).  Uses req's
 * chat_id, actor, actor_device, users, n_users and now.  DB_NOT_FOUND,
 * DB_WRONG_KIND, DB_NOT_ADMIN (the actor is not an admin), DB_UNKNOWN_USER /
 * DB_NOT_MEMBER / DB_ROLE_SAME with bad_user, DB_LAST_ADMIN if no admin
 * would be left.
 */
enum db_status db_change_admins(struct db *st, const struct db_group_change *req, int promote,
				struct db_change_result *res);

/*
 * Set a group's name or description and store the update (DB_OP_RENAME,
 * DB_OP_DESCRIBE; its text the new value).  DB_NOT_FOUND, DB_WRONG_KIND,
 * DB_NOT_ADMIN.  The caller checks the value's length and form.
 */
enum db_status db_edit_group(struct db *st, const struct db_group_edit *req,
			     struct db_change_result *res);

/* ---- messages, receipts and the inbox (db_messages.c) ------------------ */

/* One envelope of a sendMessage: the recipient and its sealed copy. A stage
 * 2 envelope (issue 13) has no nonce (no_nonce 1, nonce unused); its row
 * stores NULL there. */
struct db_envelope {
	struct db_addr to;
	int no_nonce;
	uint8_t nonce[PROTO_NONCE_BYTES];
	const uint8_t *ciphertext;
	size_t ciphertext_len;
};

struct db_send {
	const char *chat_id;
	const char *message_id;
	const char *sender_user;
	uint32_t sender_device;
	const struct db_envelope *envelopes;
	size_t n_envelopes;
	int64_t now;
	/* 1: a receipt (sendReceipt): no seq, and the envelopes may address any
	 * of the chat's devices (at least one), not all of them. */
	int receipt;
	/* The blobs (attachments) the message refers to: each must be complete
	 * and uploaded by the sending device (else DB_NO_BLOB); may repeat. */
	const char (*blobs)[PROTO_MESSAGE_ID_LEN + 1];
	size_t n_blobs;
	/* The most a recipient device's inbox may hold, in bytes (each row
	 * counts its ciphertext and DB_INBOX_ROW_BYTES); 0: no limit. */
	int64_t max_inbox_bytes;
	/* Disappearing messages: 0, or the message's inbox rows go ttl_ms after
	 * now (db_expire); ignored for a receipt. */
	int64_t ttl_ms;
};

/* What an inbox row costs besides its ciphertext, toward the quota: so that
 * many tiny envelopes count too. */
#define DB_INBOX_ROW_BYTES 100

struct db_send_result {
	int64_t seq;
	int64_t sent_at;
	int replayed; /* 1: an earlier send of the same message was found */
	/* DB_INBOX_FULL: the first recipient device whose inbox is full. */
	struct db_addr full;
	/* DB_OK, not replayed: the inbox id of each envelope's row, in the
	 * order of the envelopes (malloc'd), so that the rows can be pushed
	 * without reading them back; 0 for an envelope dropped because its
	 * recipient has blocked the sender (no row was written). */
	int64_t *inbox_ids;
	/* DB_MISMATCH only; malloc'd, sorted by (user, device id). */
	struct db_addr *missing;
	size_t n_missing;
	struct db_addr *extra;
	size_t n_extra;
};

/* One inbox row joined with its message and the sender's keys.  The
 * pointers are valid only during the db_inbox_fn call. */
struct db_inbox_row {
	int64_t inbox_id;
	const char *chat_id;
	const char *message_id; /* a chatUpdate's updateId */
	int64_t seq;
	int64_t sent_at;
	/* 1: a group update (update says what it is), which has no sender
	 * keys, nonce or ciphertext (those are NULL). */
	int is_update;
	int is_receipt;                 /* 1: a receipt; seq is 0 */
	const struct db_update *update; /* is_update only, else NULL */
	const char *sender_user;
	uint32_t sender_device;
	const uint8_t *sender_identity_key;     /* PROTO_KEY_BYTES */
	const uint8_t *sender_exchange_key;     /* PROTO_KEY_BYTES */
	const uint8_t *sender_exchange_key_sig; /* PROTO_SIG_BYTES */
	const uint8_t *sender_approver_key;     /* PROTO_KEY_BYTES, NULL for a first device */
	const uint8_t *sender_approval;         /* PROTO_SIG_BYTES, NULL for a first device */
	const uint8_t *nonce;                   /* PROTO_NONCE_BYTES, NULL for stage 2 */
	const uint8_t *ciphertext;
	size_t ciphertext_len;
};

/* Return 0 to go on, nonzero to stop after this row. */
typedef int db_inbox_fn(void *udata, const struct db_inbox_row *row);

/*
 * Store a message and one inbox row per envelope, after checking that the
 * sender is a member (else DB_NOT_FOUND), the message id is new or a
 * retry of the same send (DB_OK with replayed 1, nothing stored), and
 * the envelopes address exactly the chat's devices minus the sender's
 * (else DB_MISMATCH with missing/extra; for a receipt, any of them but
 * at least one, so only extra counts).  A receipt takes no seq.  Free res with
 * db_send_result_free() whatever the status.
 */
enum db_status db_send(struct db *st, const struct db_send *req, struct db_send_result *res);
void db_send_result_free(struct db_send_result *res);

/*
 * Call fn for the device's inbox rows with inbox id > after_id, in id
 * order, at most max of them.  *n is the number of rows passed to fn.
 */
enum db_status db_inbox_load(struct db *st, const char *user, uint32_t device_id, int64_t after_id,
			     size_t max, db_inbox_fn *fn, void *udata, size_t *n);

/* Delete the device's inbox rows of these message (or update) ids; *acked
 * is the number of rows deleted. */
enum db_status db_ack(struct db *st, const char *user, uint32_t device_id,
		      const char (*message_ids)[PROTO_MESSAGE_ID_LEN + 1], size_t n,
		      int64_t *acked);

/*
 * The device-set comparison of sendMessage, on its own for testing:
 * want is what the chat has, got what the envelopes address (both in any
 * order; got may repeat).  Fills malloc'd, sorted missing (in want, not in
 * got) and extra (in got but not in want, plus every repeat).  Returns 0, or
 * -1 when out of memory.  The arrays are NULL when empty.
 */
int db_diff_devices(const struct db_addr *want, size_t n_want, const struct db_addr *got,
		    size_t n_got, struct db_addr **missing, size_t *n_missing,
		    struct db_addr **extra, size_t *n_extra);

/* A device's keys, as a push of its message carries them. */
struct db_keys {
	uint8_t identity_key[PROTO_KEY_BYTES];
	uint8_t exchange_key[PROTO_KEY_BYTES];
	uint8_t exchange_key_sig[PROTO_SIG_BYTES];
	int has_approval; /* 0: a first device, with no approver */
	uint8_t approver_key[PROTO_KEY_BYTES];
	uint8_t approval[PROTO_SIG_BYTES];
};

/* The keys of a device, or of the device it was before its removal, from a
 * cache: DB_OK, DB_NOT_FOUND, DB_INTERNAL. */
enum db_status db_sender_keys(struct db *st, const char *user, uint32_t device_id,
			      struct db_keys *out);

/* Order of addresses: by user name, then device id. */
int db_addr_cmp(const void *a, const void *b);

/* ---- blobs: attachments (db_blobs.c) --------------------------------------
 *
 * The store keeps a blob's metadata; its bytes are files the network layer
 * writes and deletes (server_http.c, server_limits.c).  Blob ids are 32
 * lowercase hex digits. */
struct db_blob {
	char user[PROTO_USER_MAX + 1]; /* who asked for the upload */
	uint32_t device_id;
	int64_t max_size;
	int64_t size; /* 0 while pending */
	int complete;
	int64_t created_at;
};
/* A new pending blob of at most max_size bytes; DB_DUPLICATE if the id is
 * taken. */
enum db_status db_blob_create(struct db *st, const char *blob_id, const char *user,
			      uint32_t device_id, int64_t max_size, int64_t now);
/* A blob's row; DB_NOT_FOUND if none. */
enum db_status db_blob_get(struct db *st, const char *blob_id, struct db_blob *out);
/* A pending blob of at most size bytes becomes complete; DB_NOT_FOUND if
 * there is no such pending blob (gone, complete already, or size too big). */
enum db_status db_blob_complete(struct db *st, const char *blob_id, int64_t size, int64_t now);
/* DB_OK with *size if the blob is complete and a message of a chat user is
 * in now refers to it, sent after user joined the chat (a member added later
 * gets nothing from before); DB_NOT_FOUND otherwise. */
enum db_status db_blob_readable(struct db *st, const char *blob_id, const char *user,
				int64_t *size);
/* What a device holds in the blob store: blobs not uploaded yet (and the
 * bytes they may take), and the bytes of those uploaded. */
struct db_blob_usage {
	int64_t pending;
	int64_t pending_bytes;
	int64_t stored_bytes;
};
enum db_status db_blob_usage(struct db *st, const char *user, uint32_t device_id,
			     struct db_blob_usage *out);
/* Called for each blob whose row was deleted, after COMMIT. */
typedef void db_blob_fn(void *udata, const char *blob_id);
/*
 * In one transaction, delete the blobs no message refers to that were made
 * before cutoff (ms) or that were referred to by messages now gone (the
 * retention purge deleted them), and the dangling references; then call fn
 * with each deleted id.  *n is their number.
 */
enum db_status db_blob_purge(struct db *st, int64_t cutoff, db_blob_fn *fn, void *udata,
			     int64_t *n);

/* ---- retention (db_retention.c) -------------------------------------------
 *
 * Inbox rows older than the server's retention time are deleted, acked or
 * not; each device keeps a count of the rows it lost that way (and the
 * send time of the oldest of them) until it is told, on its next
 * connection, by the missed push. */

struct db_purge_result {
	int64_t inbox_rows; /* inbox rows deleted */
	int64_t messages;   /* messages rows deleted (each leaving a tombstone) */
	int64_t tombstones; /* tombstones deleted */
};

/*
 * In one transaction: add to each device's missed counter its inbox rows
 * created before cutoff (ms) and lower its oldest to the earliest sent_at
 * among them, delete those rows, then delete the messages sent before
 * cutoff that no inbox row refers to any more, keeping a tombstone of each
 * (id, chat, kind, sender, seq, time: what db_send needs to recognise a late
 * resend), and delete the tombstones of messages sent before tomb_cutoff.
 * The server passes now - retention and now - 2 x retention: a message id
 * is recognised for twice the retention time after its send.
 */
enum db_status db_purge(struct db *st, int64_t cutoff, int64_t tomb_cutoff,
			struct db_purge_result *res);

/* Disappearing messages: delete the inbox rows of messages whose expiry
 * (sent_at + their ttl) is at or before now (ms); *rows, how many. Their
 * messages rows (metadata: no ciphertext) stay for the retention purge, so
 * that a late resend is still recognised. Not counted as missed: the sender
 * asked for them to go. */
enum db_status db_expire(struct db *st, int64_t now, int64_t *rows);

/* The device's missed counter: *count 0 (and *oldest 0) if nothing was
 * lost since it was last reset. */
enum db_status db_missed(struct db *st, const char *user, uint32_t device_id, int64_t *count,
			 int64_t *oldest);

/* Reset the device's missed counter, once the missed push is queued. */
enum db_status db_missed_reset(struct db *st, const char *user, uint32_t device_id);

/* ---- prekeys (db_prekeys.c) -------------------------------------------- */

struct db_prekey {
	uint32_t id;
	uint8_t key[PROTO_KEY_BYTES];
};

struct db_signed_prekey {
	uint32_t id;
	uint8_t key[PROTO_KEY_BYTES];
	uint8_t sig[PROTO_SIG_BYTES];
};

/*
 * A device's upload, in one transaction: spk (NULL: none) replaces its
 * signed prekey; the n one-time prekeys are added, those whose id the device
 * has stored already kept as they are (a retried upload).  DB_OK with *count
 * the one-time prekeys stored now; DB_QUOTA with *count those stored before
 * if they would be more than max_stored (nothing changed); DB_NOT_FOUND if
 * one-time prekeys come before any signed prekey (nothing changed).  The
 * signature is the caller's to check.
 */
enum db_status db_prekeys_upload(struct db *st, const char *user, uint32_t device_id,
				 const struct db_signed_prekey *spk, const struct db_prekey *opks,
				 size_t n, int64_t max_stored, int64_t now, int64_t *count);

/* One device's bundle (getPrekeyBundle). */
struct db_bundle {
	struct db_device dev;
	int has_spk; /* 0: the device has uploaded no prekeys (stage 1) */
	struct db_signed_prekey spk;
	int has_opk; /* 0: none left (or no spk) */
	struct db_prekey opk;
	int64_t left; /* one-time prekeys left after this bundle's */
	int low;      /* this bundle took the device below PROTO_PREKEYS_LOW */
};

/*
 * The bundles of user's devices (device_id 0: every device, in id order, at
 * most cap), each device's oldest one-time prekey taken out in one
 * transaction: no two calls ever get the same one.  DB_NOT_FOUND if there is
 * no such user; *n 0 if there is no such device.  Counts the bundles without
 * a one-time prekey of devices that have a signed prekey
 * (db_prekeys_exhausted).
 */
enum db_status db_prekey_bundles(struct db *st, const char *user, uint32_t device_id,
				 struct db_bundle *out, size_t cap, size_t *n);

/*
 * Whether to tell the device it runs low (prekeysLow): *tell 1, with *count,
 * if it has a signed prekey and fewer than PROTO_PREKEYS_LOW one-time ones,
 * and always is set (a new session) or it has not been told since it last
 * had enough; then it is marked told.
 */
enum db_status db_prekeys_low(struct db *st, const char *user, uint32_t device_id, int always,
			      int *tell, int64_t *count);

/* Bundles handed out without a one-time prekey since the store was opened. */
uint64_t db_prekeys_exhausted(const struct db *st);

/* ---- ids --------------------------------------------------------------- */

/* Where new chat and update ids come from: randombytes_buf unless a test
 * replaces it (to force an id collision, for instance). */
extern void (*db_random_fn)(void *buf, size_t len);

#endif /* CHAT_SERVER_DB_H */
