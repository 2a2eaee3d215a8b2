/*
 * db.h - chat-server's SQLite store: users, devices and their public
 * keys, chats and members, message metadata and the per-device inbox.
 *
 * Every call that writes more than one row runs in one BEGIN IMMEDIATE
 * transaction, so a failure leaves the database as it was and the request
 * can be retried.  Every call returns a db_status; DB_INTERNAL means
 * SQLite failed, and the reason has been logged.
 *
 * Strings passed in are validated by the caller (wire.c): user names and
 * hex ids are of their protocol form.  Nothing here knows about JSON.
 */
#ifndef CHAT_SERVER_DB_H
#define CHAT_SERVER_DB_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* The schema version kept in PRAGMA user_version. */
#define DB_SCHEMA_VERSION 1

struct db;

enum db_status {
	DB_OK = 0,
	DB_INTERNAL,  /* SQLite failed; nothing was changed */
	DB_EXISTS,    /* register: the user exists with another key */
	DB_KEY_TAKEN, /* register: identity key belongs to another user */
	DB_NOT_FOUND, /* no such user, device or chat (or not a member) */
	DB_DUPLICATE, /* sendMessage: id taken by another device or chat */
	DB_MISMATCH   /* sendMessage: envelopes do not match the devices */
};

/* A device address, (user, device id). */
struct db_addr {
	char user[CHAT_USER_MAX + 1];
	uint32_t device_id;
};

/* A device's directory entry. */
struct db_device {
	uint32_t device_id;
	int has_name; /* 0: registered without a name */
	char name[CHAT_DEVICE_NAME_MAX + 1];
	uint8_t identity_key[CHAT_KEY_BYTES];
	uint8_t exchange_key[CHAT_KEY_BYTES];
	uint8_t exchange_key_sig[CHAT_SIG_BYTES];
};

struct db_chat {
	char chat_id[CHAT_CHAT_ID_LEN + 1];
	char kind[16];
	int has_name;
	char name[128];
	int64_t created_at;
	size_t n_members; /* members sorted by name */
	char members[CHAT_MAX_MEMBERS][CHAT_USER_MAX + 1];
};

/* One envelope of a sendMessage: the recipient and its sealed copy. */
struct db_envelope {
	struct db_addr to;
	uint8_t nonce[CHAT_NONCE_BYTES];
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
};

struct db_send_result {
	int64_t seq;
	int64_t sent_at;
	int replayed; /* 1: an earlier send of the same message was found */
	/* DB_MISMATCH only; malloc'd, sorted by (user, device id). */
	struct db_addr *missing;
	size_t n_missing;
	struct db_addr *extra;
	size_t n_extra;
};

/* One inbox row joined with its message and the sender's current keys.
 * The pointers are valid only during the db_inbox_fn call. */
struct db_inbox_row {
	int64_t inbox_id;
	const char *chat_id;
	const char *message_id;
	int64_t seq;
	int64_t sent_at;
	const char *sender_user;
	uint32_t sender_device;
	const uint8_t *sender_identity_key;     /* CHAT_KEY_BYTES */
	const uint8_t *sender_exchange_key;     /* CHAT_KEY_BYTES */
	const uint8_t *sender_exchange_key_sig; /* CHAT_SIG_BYTES */
	const uint8_t *nonce;                   /* CHAT_NONCE_BYTES */
	const uint8_t *ciphertext;
	size_t ciphertext_len;
};

/* Return 0 to go on, nonzero to stop after this row. */
typedef int db_inbox_fn(void *udata, const struct db_inbox_row *row);

/*
 * Open (creating if needed, mode 0600) the database at path, set WAL mode,
 * synchronous=FULL and foreign keys, and create or check the schema.
 * Returns NULL with a reason in err (naming path) on failure.
 */
struct db *db_open(const char *path, char *err, size_t errlen);
void db_close(struct db *st);

/*
 * Register a new user with its first device (device id 1).  device_name may
 * be NULL.  If the user exists and one of its devices has this identity key,
 * returns DB_OK with that device's id and *created 0 (a retried
 * registration); DB_EXISTS if the user has other keys; DB_KEY_TAKEN if
 * another user's device has this identity key.
 */
enum db_status db_register(struct db *st, const char *user, const char *device_name,
			   const uint8_t identity_key[CHAT_KEY_BYTES],
			   const uint8_t exchange_key[CHAT_KEY_BYTES],
			   const uint8_t exchange_key_sig[CHAT_SIG_BYTES], int64_t now,
			   uint32_t *device_id, int *created);

/* The identity key of a device, for auth; DB_NOT_FOUND if none. */
enum db_status db_device_identity(struct db *st, const char *user, uint32_t device_id,
				  uint8_t identity_key[CHAT_KEY_BYTES]);

/* Record that the device has just authenticated. */
enum db_status db_touch_device(struct db *st, const char *user, uint32_t device_id, int64_t now);

/* A user's devices in id order (at most cap); DB_NOT_FOUND if no user. */
enum db_status db_user_devices(struct db *st, const char *user, struct db_device *out, size_t cap,
			       size_t *n);

/* DB_OK if the user exists, DB_NOT_FOUND if not. */
enum db_status db_user_exists(struct db *st, const char *user);

/*
 * Find or create the direct chat of two distinct users.  *created is 1 if
 * it was made now.  DB_NOT_FOUND if either user does not exist, with the
 * missing name copied to missing_user (may be NULL).
 */
enum db_status db_direct_chat(struct db *st, const char *creator, const char *other, int64_t now,
			      char chat_id[CHAT_CHAT_ID_LEN + 1], int *created,
			      char missing_user[CHAT_USER_MAX + 1]);

/* A chat as seen by viewer; DB_NOT_FOUND if no chat or not a member. */
enum db_status db_get_chat(struct db *st, const char *chat_id, const char *viewer,
			   struct db_chat *out);

/*
 * Store a message and one inbox row per envelope, after checking that the
 * sender is a member (else DB_NOT_FOUND), the message id is new or a
 * retry of the same send (DB_OK with replayed 1, nothing stored), and
 * the envelopes address exactly the chat's devices minus the sender's
 * (else DB_MISMATCH with missing/extra).  Free res with
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

/* Delete the device's inbox rows of these message ids; *acked is the
 * number of rows deleted. */
enum db_status db_ack(struct db *st, const char *user, uint32_t device_id,
		      const char (*message_ids)[CHAT_MESSAGE_ID_LEN + 1], size_t n, int64_t *acked);

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

/* Order of addresses: by user name, then device id. */
int db_addr_cmp(const void *a, const void *b);

/* Where new chat ids come from: randombytes_buf unless a test replaces it
 * (to force an id collision, for instance). */
extern void (*db_random_fn)(void *buf, size_t len);

#endif /* CHAT_SERVER_DB_H */
