/*
 * db_sql.h - what the files of chat-server's SQLite store share, and nothing
 * outside them includes (but the store's own tests): the handle, the one
 * table of statements, and the checked helpers every query goes through.
 *
 * The interface of the store is db.h, which says nothing of SQLite: a second
 * backend (PostgreSQL, DESIGN.md "Scale-out") would implement db.h with files
 * of its own, and this header is what it would not share.
 *
 * The store is split the way the protocol is, so that each file holds the
 * queries of one area and none is a hub:
 *
 *   db.c            the statement table (all the SQL but the schema's), the
 *                   helpers below, transactions, opening and closing
 *   db_schema.c     the schema, its migrations, the file and its pragmas
 *   db_accounts.c   users and devices: register, link, remove, the key
 *                   directory, contacts
 *   db_presence.c   last seen, and hiding it
 *   db_chats.c      direct chats, groups and their updates
 *   db_messages.c   messages and receipts (db_send), the inbox, acks
 *   db_blobs.c      the metadata of attachments
 *   db_limits.c     what the store counts for limits: stranger adds, inbox
 *                   quotas
 *   db_retention.c  the retention purge, and what devices missed by it
 *   db_prekeys.c    the prekey directory: uploads, bundles, running low
 *   db_blocks.c     block lists: who a user has blocked
 *
 * Receipts have no file of their own: a receipt is a message without a seq
 * (db_send's receipt flag), and the few rules that differ sit on db_send's
 * path, next to the message's.
 *
 * A function of the store reads:
 *
 *	sqlite3_stmt *s = db_stmt(st, ST_MISSED_GET);
 *
 *	if (db_bind_text(st, s, 1, user) || db_bind_int(st, s, 2, device_id)) {
 *		db_done(s);
 *		return DB_INTERNAL;
 *	}
 *	if ((r = db_step_row(st, s, "missed")) <= 0)
 *		return r == 0 ? DB_NOT_FOUND : DB_INTERNAL;
 *	*count = sqlite3_column_int64(s, 0);
 *	db_done(s);
 *
 * Each helper returns 0 (or what it says) or -1, having logged why
 * (db_fail).  Text and blobs are bound SQLITE_STATIC: every use of a
 * statement ends with db_done(), which db_step_done calls, and db_step_row
 * when there is no row; it clears the bindings before the caller's buffers
 * can go away.  A call that writes more than one row runs in one
 * transaction, begun and ended by db_tx_begin and db_tx_end and by nothing
 * else.
 */
#ifndef CHAT_SERVER_DB_SQL_H
#define CHAT_SERVER_DB_SQL_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "db.h"

/* The schema version kept in PRAGMA user_version.  Older versions (1: the
 * first revision of the protocol, 2: before retention, 3: before last seen,
 * 4: before receipts, 5: before attachments, 6: before tombstones and
 * quotas, 7: updates kept as their push frames, 8: before prekeys, 9:
 * before stage 2 envelopes, which have no nonce; 12: before block lists) are
 * migrated in place when opened (db_schema.c). */
#define DB_SCHEMA_VERSION 13

/* The statements, by the file that runs them; their SQL is db.c's
 * stmt_sql[]. */
enum db_st {
	/* db.c */
	ST_BEGIN,
	ST_BEGIN_READ,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	/* db_accounts.c */
	ST_USER_EXISTS,
	ST_USER_INSERT,
	ST_USER_NEXT_DEVICE,
	ST_USER_SET_NEXT_DEVICE,
	ST_DEVICE_BY_KEY,
	ST_DEVICE_INSERT,
	ST_DEVICE_IDENTITY,
	ST_DEVICE_COUNT,
	ST_DEVICE_RETIRE,
	ST_DEVICE_DELETE,
	ST_DEVICE_INBOX_DELETE,
	ST_USER_DEVICES,
	ST_IS_CONTACT,
	/* db_presence.c */
	ST_DEVICE_TOUCH,
	ST_LAST_SEEN,
	ST_SET_HIDE_LAST_SEEN,
	/* db_chats.c */
	ST_CHAT_BY_DIRECT_KEY,
	ST_CHAT_INSERT,
	ST_GROUP_INSERT,
	ST_MEMBER_INSERT,
	ST_MEMBER_DELETE,
	ST_MEMBER_SET_ROLE,
	ST_MEMBER_FIRST,
	ST_MEMBER_SET_JOINED,
	ST_CHAT_SET_NAME,
	ST_CHAT_SET_DESCRIPTION,
	ST_CHAT_GET,
	ST_CHAT_MEMBERS,
	ST_MEMBER_ROLE,
	ST_CHAT_TAKE_SEQ,
	ST_ACTIVITY,
	ST_UPDATE_INSERT,
	ST_INBOX_UPDATE_MEMBERS,
	ST_INBOX_UPDATE_USER,
	ST_INBOX_RECIPIENTS,
	/* db_messages.c */
	ST_MESSAGE_GET,
	ST_CHAT_DEVICES,
	ST_SENDER_KEYS,
	ST_MESSAGE_INSERT,
	ST_INBOX_INSERT,
	ST_INBOX_LOAD,
	ST_ACK,
	/* db_limits.c */
	ST_ADDS_TARGET,
	ST_ADDS_ADDER,
	ST_ADDS_INSERT,
	ST_ADDS_PRUNE,
	/* db_blobs.c */
	ST_BLOB_INSERT,
	ST_BLOB_GET,
	ST_BLOB_COMPLETE,
	ST_BLOB_READABLE,
	ST_MESSAGE_BLOB_INSERT,
	ST_BLOB_PURGE_LIST,
	ST_BLOB_PURGE_REFS,
	ST_BLOB_DELETE,
	ST_BLOB_USAGE,
	/* db_retention.c */
	ST_PURGE_COUNT,
	ST_PURGE_INBOX,
	ST_PURGE_TOMB,
	ST_PURGE_MESSAGES,
	ST_PURGE_TOMBSTONES,
	ST_EXPIRE_INBOX,
	ST_MISSED_GET,
	ST_MISSED_RESET,
	/* db_prekeys.c */
	ST_SPK_PUT,
	ST_SPK_GET,
	ST_SPK_SET_LOW,
	ST_OPK_INSERT,
	ST_OPK_COUNT,
	ST_OPK_TAKE,
	/* db_blocks.c */
	ST_BLOCK_INSERT,
	ST_BLOCK_DELETE,
	ST_BLOCK_COUNT,
	ST_BLOCK_LIST,
	ST_IS_BLOCKED,
	ST_COUNT
};
/* The transactions' statements come first: they are prepared before the
 * schema is checked, which runs in a transaction too. */
#define ST_TX_COUNT (ST_ROLLBACK_TO + 1)

/* The lists of the update db_inbox_load hands out last: valid during its
 * call of the db_inbox_fn. */
struct db_update_lists {
	char users[PROTO_MAX_MEMBERS][PROTO_USER_MAX + 1];
	char participants[PROTO_MAX_MEMBERS][PROTO_USER_MAX + 1];
	char admins[PROTO_MAX_MEMBERS][PROTO_USER_MAX + 1];
};
_Static_assert(PROTO_MAX_MODIFY <= PROTO_MAX_MEMBERS, "an update names at most a group's members");

/* Entries of the cache of senders' keys (a power of two). */
#define DB_KEYS_CACHE 256

/* What db_step returns: a row, the end, a unique key taken (a primary key on
 * SQLite, any unique constraint on PostgreSQL), or another failure (logged by
 * the helpers that say so). */
enum { DB_STEP_ERR = -1, DB_DONE = 0, DB_ROW = 1, DB_DUP = 2 };

/* The most parameters a statement of the table takes. */
#define DB_MAX_PARAMS 12

struct pg_conn;   /* libpq's PGconn (db_pg.c) */
struct pg_result; /* libpq's PGresult */

/*
 * One statement of the table, as the files of the store hold it: the SQLite
 * statement, or what db_pg.c needs to run the PostgreSQL one (its
 * parameters as text or bytes, the result being read and the row reached).
 * The files of the store only pass it to the helpers below.
 */
struct db_q {
	struct db *st;
	int which;
	sqlite3_stmt *lite;
	/* PostgreSQL: bound parameters (NULL value: SQL NULL), their formats
	 * (1: bytes) and lengths, the numbers' text; the result and the row
	 * db_step reached (-1 before the first step); bytea columns decoded
	 * on demand, one buffer per column, kept until db_done. */
	const char *val[DB_MAX_PARAMS];
	int len[DB_MAX_PARAMS], fmt[DB_MAX_PARAMS];
	char num[DB_MAX_PARAMS][24];
	int nparams;
	struct pg_result *res;
	int row, nrows;
	unsigned char *bytes[24];
	size_t nbytes[24];
};

struct db {
	sqlite3 *db;                   /* NULL on PostgreSQL */
	struct pg_conn *pg;            /* NULL on SQLite */
	struct db_q q[ST_COUNT]; /* SQLite: all prepared by db_open */
	struct db_update update;
	struct db_update_lists lists;
	/* Group commit (db_batch_open): 1 while the loop's transaction is
	 * open; failed once the engine has ended it early (an I/O error rolls a
	 * whole transaction back, a lost connection to PostgreSQL), so that its
	 * COMMIT reports the loss. */
	int batch;
	int batch_failed;
	/* Savepoints open in the batch: 0 or 1 (calls do not nest). */
	int savepoints;
	const char *test_fail_commit; /* db_test_fail_commit */
	/* Senders' keys (db_sender_keys), by a hash of the device: a device's
	 * keys never change and its id is never reused, so an entry is never
	 * stale. */
	struct db_keys_slot {
		int used;
		char user[PROTO_USER_MAX + 1];
		uint32_t device_id;
		struct db_keys keys;
	} keys_cache[DB_KEYS_CACHE];
	/* Bundles handed out without a one-time prekey since the start
	 * (db_prekeys_exhausted). */
	uint64_t prekeys_exhausted;
	/* Statements stepped, for the figures of issue 12 (db_statements). */
	uint64_t steps;
	/* Rows changed by the last statement that changed any (db_changes). */
	int64_t changes;
	/* The last statement that failed failed for want of the store
	 * (db_unavailable); set at each failure, either way. */
	int unavailable;
	/* PostgreSQL: which statements are prepared on the connection as it
	 * is now (none after a reconnect), and when a lost connection was
	 * last tried again (ms, util_mono_us / 1000). */
	unsigned char pg_prepared[ST_COUNT];
	int64_t pg_retry_ms;
	char conninfo[512];
};

/* ---- db.c: statements -----------------------------------------------------
 *
 * Binds and steps return 0 or -1 (having logged why).  A bind that fails
 * leaves the statement to the caller, who gives it back with db_done(). */

/* Log the engine's reason for the last failure, after what. */
void db_fail(struct db *st, const char *what);
/* The statement of the table, reset and without bindings. */
struct db_q *db_stmt(struct db *st, int which);
/* Give a statement back: reset, bindings cleared. */
void db_done(struct db_q *s);
/* Bind parameter i (from 1). Text NULL binds NULL; a blob of n 0 bytes binds
 * an empty blob, not NULL. */
int db_bind_text(struct db *st, struct db_q *s, int i, const char *v);
int db_bind_int(struct db *st, struct db_q *s, int i, int64_t v);
int db_bind_blob(struct db *st, struct db_q *s, int i, const void *v, size_t n);
int db_bind_null(struct db *st, struct db_q *s, int i);
/* Run or advance a statement (counting each statement run once,
 * db_statements): DB_ROW, DB_DONE, DB_DUP or DB_STEP_ERR. */
int db_step(struct db *st, struct db_q *s);
/* Step a statement that returns no rows, and give it back. */
int db_step_done(struct db *st, struct db_q *s, const char *what);
/* Step for at most one row: 1 a row (the statement stays on it: read it,
 * then db_done), 0 none, -1 error (given back either way). */
int db_step_row(struct db *st, struct db_q *s, const char *what);
/* The columns of the row the statement is on.  A NULL reads as 0, NULL and
 * 0 bytes; PostgreSQL's booleans as 1 and 0.  Pointers are valid until the
 * next step or db_done. */
int db_col_null(struct db_q *s, int col);
int64_t db_col_int64(struct db_q *s, int col);
int db_col_int(struct db_q *s, int col);
const unsigned char *db_col_str(struct db_q *s, int col);
const void *db_col_bytes(struct db_q *s, int col, size_t *len);
/* Rows changed by the last statement that changes rows. */
int64_t db_changes(const struct db *st);
/* Copy a text column into a fixed buffer, a blob column of exactly len
 * bytes into out: 0, or -1 if it does not fit or is NULL. */
int db_col_text(struct db_q *s, int col, char *out, size_t cap);
int db_col_blob(struct db_q *s, int col, uint8_t *out, size_t len);
/* 1 if the column is NULL or a blob of len bytes (*out set, NULL for a
 * NULL), 0 if it is malformed. */
int db_col_opt_blob(struct db_q *s, int col, size_t len, const uint8_t **out);

/* The shapes of statement the areas share, run whole (bound, stepped, given
 * back): one integer of one row bound to one text; no rows, bound to (user,
 * device id[, now]), to (text, text[, int]), or to (cutoff) with the number
 * of rows changed into *changes (may be NULL). */
int db_query_text_int(struct db *st, int which, const char *arg, int64_t *out, const char *what);
int db_device_step(struct db *st, int which, const char *user, uint32_t device_id, int64_t now,
		   const char *what);
int db_text_step(struct db *st, int which, const char *a, const char *b, int64_t n,
		 const char *what);
int db_cutoff_step(struct db *st, int which, int64_t cutoff, const char *what, int64_t *changes);

/* Append a to the malloc'd array *v of *n: 0, or -1 when out of memory. */
int db_addr_push(struct db_addr **v, size_t *n, const struct db_addr *a);

/* ---- db_pg.c: the PostgreSQL backend -------------------------------------
 *
 * The statements are the SQLite table's (db_sql_text), translated once
 * (db_pg_translate: ?N to $N, "user" quoted, INSERT OR IGNORE to ON
 * CONFLICT DO NOTHING), but for those db_pg.c writes in PostgreSQL's own
 * words; they are prepared on the connection when first run. */

/* 1 if path names a PostgreSQL database (postgresql:// or postgres://). */
int db_is_pg_url(const char *path);
struct db *db_pg_open(const char *url, char *err, size_t errlen);
void db_pg_close(struct db *st);
int db_pg_step(struct db *st, struct db_q *s);
void db_pg_done(struct db_q *s);
int db_pg_col_null(struct db_q *s, int col);
const char *db_pg_col_raw(struct db_q *s, int col);
const void *db_pg_col_bytes(struct db_q *s, int col, size_t *len);
/* 1 while a transaction is open on the connection (an aborted one too). */
int db_pg_in_tx(struct db *st);
const char *db_pg_error(struct db *st);
int db_pg_xact_lock(struct db *st, int key);
enum db_status db_pg_ping(struct db *st);
/* The SQLite text of a statement of the table. */
const char *db_sql_text(int which);
/* Rewrite SQLite's SQL of the table into PostgreSQL's: 0, or -1 if it does
 * not fit in cap. */
int db_pg_translate(const char *in, char *out, size_t cap);

/* Housekeeping that more than one instance runs (the retention purge, the
 * blob purge) takes this lock first, in its transaction, so that two
 * instances on one PostgreSQL store do not both count what a device missed:
 * a PostgreSQL advisory lock to the transaction's end.  SQLite (one writer
 * at a time): nothing to take.  0, or -1. */
enum db_lock { DB_LOCK_PURGE = 1, DB_LOCK_BLOB_PURGE = 2 };
int db_lock_housekeeping(struct db *st, enum db_lock which);

/* ---- db.c: transactions ---------------------------------------------------
 *
 * Every BEGIN, COMMIT and ROLLBACK of the store goes through this pair, the
 * schema's at open included, and db_batch_open/db_batch_commit (db.h).
 * Inside a batch (group commit: one transaction per pass of the service
 * loop), begin opens a SAVEPOINT in the loop's transaction, and end releases
 * it or rolls back to it, so a call that fails undoes only itself. */
enum db_tx_kind { DB_TX_READ, DB_TX_WRITE };
enum db_tx_end { DB_TX_ROLLBACK, DB_TX_COMMIT };

/* BEGIN IMMEDIATE for a write (it takes the write lock at once, so that a
 * transaction never fails half-way for want of it); BEGIN for a read, whose
 * snapshot then holds for every query until its end.  0, or -1. */
int db_tx_begin(struct db *st, enum db_tx_kind kind);
/* COMMIT: 0, or -1, and then the transaction may still be open: end it
 * again with DB_TX_ROLLBACK.  ROLLBACK (of a read, or on any failure): of
 * the open transaction, if any, since a failed COMMIT may or may not have
 * ended it; always 0. */
int db_tx_end(struct db *st, enum db_tx_end end);

/* ---- db_schema.c ------------------------------------------------------- */

/* Create the file if needed, mode 0600 (before SQLite opens it, so that its
 * -wal and -shm files get that mode too): 0, or -1 with why in err. */
int db_schema_create_file(const char *path, char *err, size_t errlen);
/* WAL, synchronous=FULL, then the schema created or migrated to
 * DB_SCHEMA_VERSION in one transaction (a failure leaves the file as it
 * was), then foreign keys on: 0, or -1 with why in err (naming path). */
int db_schema_setup(struct db *st, const char *path, char *err, size_t errlen);

/* ---- what the areas ask of each other ---------------------------------- */

/* db_accounts.c: 1 the user exists, 0 not, -1 error; 1 if subject is a
 * contact of viewer (db_is_contact), 0 not, -1 error. */
int db_find_user(struct db *st, const char *user);
int db_find_contact(struct db *st, const char *viewer, const char *subject);

/* db_messages.c: empty the cache of senders' keys (after a rollback). */
void db_keys_forget(struct db *st);

/* db_chats.c: user has taken part in the chat (db_is_contact): 0 or -1.
 * The role of user in the chat: 1 admin, 0 member, -2 not a member, -1
 * error.  Take the chat's next seq and bump the counter: 0 or -1.  Fill u's
 * operation and lists (into st->lists) from an update's stored body: 0, or
 * -1 if it is malformed. */
int db_note_activity(struct db *st, const char *chat_id, const char *user);
int db_member_role(struct db *st, const char *chat_id, const char *user);
int db_take_seq(struct db *st, const char *chat_id, int64_t *seq);
int db_update_parse(struct db *st, const char *body, struct db_update *u);

/* db_limits.c: inside the caller's transaction, whether the actor may add
 * these users (db_add_limits), recording the adds of strangers: 0 yes, 1 no
 * (res->bad_user, res->adder_limited), -1 error; whether every recipient
 * device's inbox has room for its envelope, from the chat's devices devs
 * (sorted, as ST_CHAT_DEVICES reads them) and the bytes their inboxes hold:
 * 0 yes, 1 no (res->full). */
int db_check_adds(struct db *st, const char *actor, const char (*users)[PROTO_USER_MAX + 1],
		  size_t n, const struct db_add_limits *lim, int64_t now,
		  struct db_change_result *res);
int db_check_inboxes(const struct db_send *req, const struct db_addr *devs, const int64_t *bytes,
		     size_t n_devs, const unsigned char *dropped, struct db_send_result *res);

/* db_blocks.c: 1 if blocker has blocked user, 0 not, -1 error; the first
 * of users (n) who has blocked actor into res->bad_user: 1 one has, 0 none,
 * -1 error. */
int db_find_blocked(struct db *st, const char *blocker, const char *user);
int db_check_blocked_adds(struct db *st, const char *actor,
			  const char (*users)[PROTO_USER_MAX + 1], size_t n,
			  struct db_change_result *res);

/* db_blobs.c: 0 if every blob of req is complete and the sending device's,
 * 1 if one is not, -1 error; record that a message refers to a blob (once):
 * 0 or -1. */
int db_check_blobs(struct db *st, const struct db_send *req);
int db_blob_refer(struct db *st, const char *message_id, const char *blob_id);

#endif /* CHAT_SERVER_DB_SQL_H */
