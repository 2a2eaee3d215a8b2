/*
 * db.c - chat-server's SQLite store, its core (see db.h for the interface,
 * db_sql.h for how the store's files are split): the one table of
 * statements, the checked helpers every query goes through, transactions,
 * and opening and closing the store.
 *
 * Every call runs on the libwebsockets thread.  The network layer batches
 * the requests of one pass of its loop into one transaction (group commit,
 * db_batch_open below): a COMMIT, with its fsyncs (synchronous=FULL), is
 * paid once per pass, not once per request, and replies wait for it.
 */
#include "db_sql.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

/* The sender's keys of a message: from its device, or from the retired
 * copy once the device is removed (device ids are never reused, so at most
 * one of the two exists). */
#define SENDER_COL(c) "CASE WHEN d.device_id IS NULL THEN r." c " ELSE d." c " END"

static const char *const stmt_sql[ST_COUNT] = {
	/* db.c */
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_BEGIN_READ] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SAVEPOINT] = "SAVEPOINT tx",
	[ST_RELEASE] = "RELEASE tx",
	[ST_ROLLBACK_TO] = "ROLLBACK TO tx",
	/* db_accounts.c */
	[ST_USER_EXISTS] = "SELECT 1 FROM users WHERE user = ?1",
	[ST_USER_INSERT] =
		"INSERT INTO users (user, created_at, next_device_id) VALUES (?1, ?2, 2)",
	[ST_USER_NEXT_DEVICE] = "SELECT next_device_id FROM users WHERE user = ?1",
	[ST_USER_SET_NEXT_DEVICE] = "UPDATE users SET next_device_id = ?2 WHERE user = ?1",
	[ST_DEVICE_BY_KEY] = "SELECT user, device_id, approval IS NULL FROM devices"
			     " WHERE identity_key = ?1",
	[ST_DEVICE_INSERT] = "INSERT INTO devices (user, device_id, name, identity_key,"
			     " exchange_key, exchange_key_sig, created_at, last_seen,"
			     " approver_key, approval)"
			     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9)",
	[ST_DEVICE_IDENTITY] =
		"SELECT identity_key FROM devices WHERE user = ?1 AND device_id = ?2",
	[ST_DEVICE_COUNT] = "SELECT count(*) FROM devices WHERE user = ?1",
	[ST_DEVICE_RETIRE] = "INSERT INTO retired_devices (user, device_id, identity_key,"
			     " exchange_key, exchange_key_sig, approver_key, approval,"
			     " created_at, removed_at)"
			     " SELECT user, device_id, identity_key, exchange_key,"
			     " exchange_key_sig, approver_key, approval, created_at, ?3"
			     " FROM devices WHERE user = ?1 AND device_id = ?2",
	[ST_DEVICE_DELETE] = "DELETE FROM devices WHERE user = ?1 AND device_id = ?2",
	[ST_DEVICE_INBOX_DELETE] = "DELETE FROM inbox WHERE user = ?1 AND device_id = ?2",
	[ST_USER_DEVICES] = "SELECT device_id, name, identity_key, exchange_key, exchange_key_sig,"
			    " approver_key, approval"
			    " FROM devices WHERE user = ?1 ORDER BY device_id",
	[ST_IS_CONTACT] = "SELECT 1 FROM chat_members a"
			  " JOIN chat_members b ON b.chat_id = a.chat_id AND b.user = ?2"
			  " JOIN chat_activity t ON t.chat_id = a.chat_id AND t.user = ?2"
			  " WHERE a.user = ?1 LIMIT 1",
	/* db_presence.c */
	[ST_DEVICE_TOUCH] = "UPDATE devices SET last_seen = ?3 WHERE user = ?1 AND device_id = ?2",
	[ST_LAST_SEEN] = "SELECT u.hide_last_seen,"
			 " (SELECT max(d.last_seen) FROM devices d WHERE d.user = u.user)"
			 " FROM users u WHERE u.user = ?1",
	[ST_SET_HIDE_LAST_SEEN] = "UPDATE users SET hide_last_seen = ?2 WHERE user = ?1",
	/* db_chats.c */
	[ST_CHAT_BY_DIRECT_KEY] = "SELECT chat_id FROM chats WHERE direct_key = ?1",
	[ST_CHAT_INSERT] = "INSERT INTO chats (chat_id, kind, name, created_by, created_at,"
			   " next_seq, direct_key) VALUES (?1, 'direct', NULL, ?2, ?3, 1, ?4)",
	[ST_GROUP_INSERT] = "INSERT INTO chats (chat_id, kind, name, created_by, created_at,"
			    " next_seq, direct_key) VALUES (?1, 'group', ?4, ?2, ?3, 1, NULL)",
	[ST_MEMBER_INSERT] = "INSERT INTO chat_members (chat_id, user, role, joined_at)"
			     " VALUES (?1, ?2, ?4, ?3)",
	[ST_MEMBER_DELETE] = "DELETE FROM chat_members WHERE chat_id = ?1 AND user = ?2",
	[ST_MEMBER_SET_ROLE] = "UPDATE chat_members SET role = ?3 WHERE chat_id = ?1 AND user = ?2",
	[ST_MEMBER_FIRST] = "SELECT user FROM chat_members WHERE chat_id = ?1"
			    " ORDER BY joined_at, user LIMIT 1",
	[ST_MEMBER_SET_JOINED] = "UPDATE chat_members SET joined_seq = ?3"
				 " WHERE chat_id = ?1 AND user = ?2",
	[ST_CHAT_SET_NAME] = "UPDATE chats SET name = ?2 WHERE chat_id = ?1",
	[ST_CHAT_SET_DESCRIPTION] = "UPDATE chats SET description = ?2 WHERE chat_id = ?1",
	[ST_CHAT_GET] = "SELECT c.kind, c.name, c.created_at, c.description FROM chats c"
			" JOIN chat_members m ON m.chat_id = c.chat_id AND m.user = ?2"
			" WHERE c.chat_id = ?1",
	[ST_CHAT_MEMBERS] = "SELECT user, role FROM chat_members WHERE chat_id = ?1 ORDER BY user",
	[ST_MEMBER_ROLE] = "SELECT role FROM chat_members WHERE chat_id = ?1 AND user = ?2",
	/* Taken and bumped in one statement. */
	[ST_CHAT_TAKE_SEQ] = "UPDATE chats SET next_seq = next_seq + 1 WHERE chat_id = ?1"
			     " RETURNING next_seq - 1",
	[ST_ACTIVITY] = "INSERT OR IGNORE INTO chat_activity (chat_id, user) VALUES (?1, ?2)",
	[ST_UPDATE_INSERT] = "INSERT INTO messages (message_id, chat_id, kind, sender_user,"
			     " sender_device, seq, sent_at, body)"
			     " VALUES (?1, ?2, 'update', ?3, ?4, ?5, ?6, ?7)",
	[ST_INBOX_UPDATE_MEMBERS] = "INSERT INTO inbox (user, device_id, message_id, created_at)"
				    " SELECT d.user, d.device_id, ?2, ?3 FROM chat_members m"
				    " JOIN devices d ON d.user = m.user WHERE m.chat_id = ?1"
				    " ORDER BY d.user, d.device_id",
	[ST_INBOX_UPDATE_USER] = "INSERT INTO inbox (user, device_id, message_id, created_at)"
				 " SELECT user, device_id, ?2, ?3 FROM devices WHERE user = ?1"
				 " ORDER BY device_id",
	[ST_INBOX_RECIPIENTS] = "SELECT user, device_id FROM inbox WHERE message_id = ?1"
				" ORDER BY user, device_id",
	/* db_messages.c */
	/* A message, or the tombstone the purge left of it. */
	[ST_MESSAGE_GET] = "SELECT chat_id, sender_user, sender_device, seq, sent_at, kind"
			   " FROM messages WHERE message_id = ?1 UNION ALL"
			   " SELECT chat_id, sender_user, sender_device, seq, sent_at, kind"
			   " FROM message_tombstones WHERE message_id = ?1 LIMIT 1",
	/* With what each inbox holds, for the quota (db_limits.c). */
	[ST_CHAT_DEVICES] = "SELECT d.user, d.device_id, d.inbox_bytes FROM chat_members m"
			    " JOIN devices d ON d.user = m.user WHERE m.chat_id = ?1"
			    " ORDER BY d.user, d.device_id",
	/* A sender's keys, as ST_INBOX_LOAD reads them (SENDER_COL). */
	[ST_SENDER_KEYS] = "SELECT identity_key, exchange_key, exchange_key_sig, approver_key,"
			   " approval FROM devices WHERE user = ?1 AND device_id = ?2"
			   " UNION ALL SELECT identity_key, exchange_key, exchange_key_sig,"
			   " approver_key, approval FROM retired_devices"
			   " WHERE user = ?1 AND device_id = ?2 LIMIT 1",
	[ST_MESSAGE_INSERT] = "INSERT INTO messages (message_id, chat_id, kind, sender_user,"
			      " sender_device, seq, sent_at, expires_at)"
			      " VALUES (?1, ?2, ?7, ?3, ?4, ?5, ?6, ?8)",
	[ST_INBOX_INSERT] = "INSERT INTO inbox (user, device_id, message_id, nonce, ciphertext,"
			    " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
	/* clang-format off */
	[ST_INBOX_LOAD] =
		"SELECT i.id, m.chat_id, m.message_id, m.seq, m.sent_at,"
		" m.sender_user, m.sender_device,"
		" " SENDER_COL("identity_key") ","
		" " SENDER_COL("exchange_key") ","
		" " SENDER_COL("exchange_key_sig") ","
		" " SENDER_COL("approver_key") ","
		" " SENDER_COL("approval") ","
		" i.nonce, i.ciphertext, m.kind, m.body, c.kind, c.name"
		" FROM inbox i"
		" JOIN messages m ON m.message_id = i.message_id"
		" JOIN chats c ON c.chat_id = m.chat_id"
		" LEFT JOIN devices d ON d.user = m.sender_user"
		"  AND d.device_id = m.sender_device"
		" LEFT JOIN retired_devices r ON r.user = m.sender_user"
		"  AND r.device_id = m.sender_device"
		" WHERE i.user = ?1 AND i.device_id = ?2 AND i.id > ?3"
		" ORDER BY i.id LIMIT ?4",
	/* clang-format on */
	[ST_ACK] = "DELETE FROM inbox WHERE user = ?1 AND device_id = ?2"
		   " AND message_id = ?3",
	/* db_limits.c */
	[ST_ADDS_TARGET] = "SELECT count(*) FROM group_adds WHERE target = ?1 AND at > ?2",
	[ST_ADDS_ADDER] = "SELECT count(*) FROM group_adds WHERE adder = ?1 AND at > ?2",
	[ST_ADDS_INSERT] = "INSERT INTO group_adds (target, adder, at) VALUES (?1, ?2, ?3)",
	[ST_ADDS_PRUNE] = "DELETE FROM group_adds WHERE at < ?1",
	/* db_blobs.c */
	[ST_BLOB_INSERT] = "INSERT INTO blobs (blob_id, user, device_id, max_size, created_at)"
			   " VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_BLOB_GET] = "SELECT user, device_id, max_size, size, state = 'complete', created_at"
			" FROM blobs WHERE blob_id = ?1",
	[ST_BLOB_COMPLETE] = "UPDATE blobs SET state = 'complete', size = ?2, completed_at = ?3"
			     " WHERE blob_id = ?1 AND state = 'pending' AND ?2 <= max_size",
	/* Complete, and referred to by a message of a chat the user is in now,
	 * sent after they joined it. */
	[ST_BLOB_READABLE] = "SELECT b.size FROM blobs b WHERE b.blob_id = ?1"
			     " AND b.state = 'complete' AND EXISTS (SELECT 1"
			     "  FROM message_blobs mb"
			     "  JOIN messages m ON m.message_id = mb.message_id"
			     "  JOIN chat_members cm ON cm.chat_id = m.chat_id AND cm.user = ?2"
			     "  WHERE mb.blob_id = b.blob_id AND m.seq > cm.joined_seq)",
	[ST_MESSAGE_BLOB_INSERT] = "INSERT OR IGNORE INTO message_blobs (message_id, blob_id)"
				   " VALUES (?1, ?2)",
	/* No message refers to it, and either one did (and is gone) or it is
	 * older than the cutoff. */
	[ST_BLOB_PURGE_LIST] = "SELECT b.blob_id FROM blobs b WHERE NOT EXISTS (SELECT 1"
			       "  FROM message_blobs mb JOIN messages m"
			       "  ON m.message_id = mb.message_id WHERE mb.blob_id = b.blob_id)"
			       " AND (b.created_at < ?1 OR EXISTS (SELECT 1 FROM message_blobs mb"
			       "  WHERE mb.blob_id = b.blob_id))",
	[ST_BLOB_PURGE_REFS] = "DELETE FROM message_blobs WHERE NOT EXISTS (SELECT 1"
			       " FROM messages m WHERE m.message_id = message_blobs.message_id)",
	[ST_BLOB_DELETE] = "DELETE FROM blobs WHERE blob_id = ?1",
	[ST_BLOB_USAGE] = "SELECT coalesce(sum(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0),"
			  " coalesce(sum(CASE WHEN state = 'pending' THEN max_size END), 0),"
			  " coalesce(sum(CASE WHEN state = 'complete' THEN size END), 0)"
			  " FROM blobs WHERE user = ?1 AND device_id = ?2",
	/* db_retention.c */
	/* Correlated per device: the inbox_by_device index finds its rows. */
	[ST_PURGE_COUNT] = "UPDATE devices SET"
			   " missed_count = missed_count + (SELECT count(*) FROM inbox i"
			   "  WHERE i.user = devices.user AND i.device_id = devices.device_id"
			   "  AND i.created_at < ?1),"
			   " missed_oldest = (SELECT min(x) FROM (SELECT devices.missed_oldest AS x"
			   "  UNION ALL SELECT m.sent_at FROM inbox i"
			   "  JOIN messages m ON m.message_id = i.message_id"
			   "  WHERE i.user = devices.user AND i.device_id = devices.device_id"
			   "  AND i.created_at < ?1) AS t)"
			   " WHERE EXISTS (SELECT 1 FROM inbox i WHERE i.user = devices.user"
			   "  AND i.device_id = devices.device_id AND i.created_at < ?1)",
	[ST_PURGE_INBOX] = "DELETE FROM inbox WHERE created_at < ?1",
	/* The same rows as ST_PURGE_MESSAGES deletes, just before. */
	[ST_PURGE_TOMB] = "INSERT OR IGNORE INTO message_tombstones (message_id, chat_id, kind,"
			  " sender_user, sender_device, seq, sent_at)"
			  " SELECT message_id, chat_id, kind, sender_user, sender_device, seq,"
			  " sent_at FROM messages WHERE sent_at < ?1 AND NOT EXISTS"
			  " (SELECT 1 FROM inbox i WHERE i.message_id = messages.message_id)",
	[ST_PURGE_MESSAGES] = "DELETE FROM messages WHERE sent_at < ?1 AND NOT EXISTS"
			      " (SELECT 1 FROM inbox i WHERE i.message_id = messages.message_id)",
	[ST_PURGE_TOMBSTONES] = "DELETE FROM message_tombstones WHERE sent_at < ?1",
	/* Disappearing messages: the inbox rows of those past their expiry. */
	[ST_EXPIRE_INBOX] = "DELETE FROM inbox WHERE message_id IN (SELECT message_id FROM messages"
			    " WHERE expires_at IS NOT NULL AND expires_at <= ?1)",
	[ST_MISSED_GET] = "SELECT missed_count, coalesce(missed_oldest, 0) FROM devices"
			  " WHERE user = ?1 AND device_id = ?2",
	[ST_MISSED_RESET] = "UPDATE devices SET missed_count = 0, missed_oldest = NULL"
			    " WHERE user = ?1 AND device_id = ?2",
	/* db_prekeys.c */
	[ST_SPK_PUT] =
		"INSERT INTO signed_prekeys (user, device_id, prekey_id, prekey, sig,"
		" uploaded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT (user, device_id) DO UPDATE SET prekey_id = excluded.prekey_id,"
		" prekey = excluded.prekey, sig = excluded.sig,"
		" uploaded_at = excluded.uploaded_at",
	[ST_SPK_GET] = "SELECT prekey_id, prekey, sig, low_told FROM signed_prekeys"
		       " WHERE user = ?1 AND device_id = ?2",
	[ST_SPK_SET_LOW] = "UPDATE signed_prekeys SET low_told = ?3"
			   " WHERE user = ?1 AND device_id = ?2",
	/* A retried upload sends the same ids again: they are kept as stored. */
	[ST_OPK_INSERT] =
		"INSERT OR IGNORE INTO one_time_prekeys (user, device_id, prekey_id, prekey)"
		" VALUES (?1, ?2, ?3, ?4)",
	[ST_OPK_COUNT] = "SELECT count(*) FROM one_time_prekeys WHERE user = ?1 AND device_id = ?2",
	/* The oldest, deleted as it is read: the bundle's transaction holds it. */
	[ST_OPK_TAKE] = "DELETE FROM one_time_prekeys WHERE rowid = (SELECT rowid"
			" FROM one_time_prekeys WHERE user = ?1 AND device_id = ?2"
			" ORDER BY rowid LIMIT 1) RETURNING prekey_id, prekey",
	/* db_blocks.c */
	[ST_BLOCK_INSERT] = "INSERT OR IGNORE INTO blocks (user, blocked, created_at)"
			    " VALUES (?1, ?2, ?3)",
	[ST_BLOCK_DELETE] = "DELETE FROM blocks WHERE user = ?1 AND blocked = ?2",
	[ST_BLOCK_COUNT] = "SELECT count(*) FROM blocks WHERE user = ?1",
	[ST_BLOCK_LIST] = "SELECT blocked FROM blocks WHERE user = ?1 ORDER BY blocked",
	[ST_IS_BLOCKED] = "SELECT 1 FROM blocks WHERE user = ?1 AND blocked = ?2",
};

/* Where chat ids come from; tests replace it to force a collision. */
void (*db_random_fn)(void *buf, size_t len) = randombytes_buf;

const char *
db_sql_text(int which)
{
	return stmt_sql[which];
}

void
db_fail(struct db *st, const char *what)
{
	srv_log("db: %s: %s", what, st->pg ? db_pg_error(st) : sqlite3_errmsg(st->db));
}

/* ---- statement helpers (db_sql.h says how they are used) ----------------
 *
 * Each of them is SQLite's, or hands over to db_pg.c when the store is on
 * PostgreSQL (st->pg): the files of the store never know which. */

struct db_q *
db_stmt(struct db *st, int which)
{
	return &st->q[which];
}

void
db_done(struct db_q *s)
{
	if (s->st->pg) {
		db_pg_done(s);
		return;
	}
	/* The return value of reset repeats the last step's error, which the
	 * caller has already handled. */
	(void)sqlite3_reset(s->lite);
	(void)sqlite3_clear_bindings(s->lite);
}

/* PostgreSQL: parameter i (from 1) is v, of n bytes (fmt 1) or text. */
static int
pg_bind(struct db *st, struct db_q *s, int i, const char *v, int n, int fmt)
{
	if (i < 1 || i > DB_MAX_PARAMS) {
		srv_log("db: bind: parameter %d of statement %d out of range", i, s->which);
		(void)st;
		return -1;
	}
	s->val[i - 1] = v;
	s->len[i - 1] = n;
	s->fmt[i - 1] = fmt;
	if (i > s->nparams)
		s->nparams = i;
	return 0;
}

int
db_bind_text(struct db *st, struct db_q *s, int i, const char *v)
{
	int rc;

	if (st->pg)
		return pg_bind(st, s, i, v, 0, 0);
	rc = v ? sqlite3_bind_text(s->lite, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s->lite, i);
	if (rc != SQLITE_OK) {
		db_fail(st, "bind");
		return -1;
	}
	return 0;
}

int
db_bind_int(struct db *st, struct db_q *s, int i, int64_t v)
{
	if (st->pg) {
		if (i < 1 || i > DB_MAX_PARAMS)
			return pg_bind(st, s, i, NULL, 0, 0);
		snprintf(s->num[i - 1], sizeof s->num[i - 1], "%lld", (long long)v);
		return pg_bind(st, s, i, s->num[i - 1], 0, 0);
	}
	if (sqlite3_bind_int64(s->lite, i, v) != SQLITE_OK) {
		db_fail(st, "bind");
		return -1;
	}
	return 0;
}

int
db_bind_null(struct db *st, struct db_q *s, int i)
{
	if (st->pg)
		return pg_bind(st, s, i, NULL, 0, 0);
	if (sqlite3_bind_null(s->lite, i) != SQLITE_OK) {
		db_fail(st, "bind");
		return -1;
	}
	return 0;
}

int
db_bind_blob(struct db *st, struct db_q *s, int i, const void *v, size_t n)
{
	/* zeroblob-safe: a zero-length blob with a NULL pointer would bind
	 * NULL, which NOT NULL columns refuse; an empty string does not. */
	static const uint8_t empty[1];

	if (st->pg) {
		if (n > INT32_MAX) {
			srv_log("db: bind: %zu bytes is too large", n);
			return -1;
		}
		return pg_bind(st, s, i, n ? v : (const void *)empty, (int)n, 1);
	}
	if (sqlite3_bind_blob64(s->lite, i, n ? v : empty, n, SQLITE_STATIC) != SQLITE_OK) {
		db_fail(st, "bind");
		return -1;
	}
	return 0;
}

/* Run or advance a statement, counted: the first step of a statement is one
 * statement run (the count the "statements per message" is made
 * of). */
int
db_step(struct db *st, struct db_q *s)
{
	int rc;

	if (st->pg)
		return db_pg_step(st, s);
	if (!sqlite3_stmt_busy(s->lite))
		st->steps++;
	rc = sqlite3_step(s->lite);
	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE) {
		st->changes = sqlite3_changes(st->db);
		return DB_DONE;
	}
	st->unavailable = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
	return rc == SQLITE_CONSTRAINT_PRIMARYKEY ? DB_DUP : DB_STEP_ERR;
}

int
db_inbox_ids_dense(const struct db *st)
{
	return st->pg != NULL;
}

int
db_unavailable(const struct db *st)
{
	return st->unavailable;
}

uint64_t
db_statements(const struct db *st)
{
	return st->steps;
}

int64_t
db_changes(const struct db *st)
{
	return st->changes;
}

/* Step a statement that returns no rows; -1 on error. */
int
db_step_done(struct db *st, struct db_q *s, const char *what)
{
	int rc = db_step(st, s);

	if (rc != DB_DONE) {
		db_fail(st, what);
		db_done(s);
		return -1;
	}
	db_done(s);
	return 0;
}

/* Step for at most one row: 1 row (statement left on it), 0 none, -1 error.
 * The caller calls db_done() after reading a row. */
int
db_step_row(struct db *st, struct db_q *s, const char *what)
{
	int rc = db_step(st, s);

	if (rc == DB_ROW)
		return 1;
	if (rc != DB_DONE)
		db_fail(st, what);
	db_done(s);
	return rc == DB_DONE ? 0 : -1;
}

int
db_col_null(struct db_q *s, int col)
{
	if (s->st->pg)
		return db_pg_col_null(s, col);
	return sqlite3_column_type(s->lite, col) == SQLITE_NULL;
}

int64_t
db_col_int64(struct db_q *s, int col)
{
	const char *t;

	if (!s->st->pg)
		return sqlite3_column_int64(s->lite, col);
	/* PostgreSQL's text form: a number, or t / f for a boolean. */
	if ((t = db_pg_col_raw(s, col)) == NULL)
		return 0;
	if (t[0] == 't' || t[0] == 'f')
		return t[0] == 't';
	return strtoll(t, NULL, 10);
}

int
db_col_int(struct db_q *s, int col)
{
	return (int)db_col_int64(s, col);
}

const unsigned char *
db_col_str(struct db_q *s, int col)
{
	if (s->st->pg)
		return (const unsigned char *)db_pg_col_raw(s, col);
	return sqlite3_column_text(s->lite, col);
}

const void *
db_col_bytes(struct db_q *s, int col, size_t *len)
{
	const void *b;

	if (s->st->pg)
		return db_pg_col_bytes(s, col, len);
	b = sqlite3_column_blob(s->lite, col);
	*len = (size_t)sqlite3_column_bytes(s->lite, col);
	return b;
}

/* Copy a text column into a fixed buffer; -1 if it does not fit. */
int
db_col_text(struct db_q *s, int col, char *out, size_t cap)
{
	const unsigned char *t = db_col_str(s, col);
	size_t n;

	if (t == NULL || (n = strlen((const char *)t)) >= cap)
		return -1;
	memcpy(out, t, n + 1);
	return 0;
}

int
db_col_blob(struct db_q *s, int col, uint8_t *out, size_t len)
{
	size_t n;
	const void *b = db_col_bytes(s, col, &n);

	if (b == NULL || n != len)
		return -1;
	memcpy(out, b, len);
	return 0;
}

/* 1 if the column is NULL or a blob of len bytes (*out set, NULL for a
 * NULL), 0 if it is malformed. */
int
db_col_opt_blob(struct db_q *s, int col, size_t len, const uint8_t **out)
{
	size_t n;

	*out = NULL;
	if (db_col_null(s, col))
		return 1;
	*out = db_col_bytes(s, col, &n);
	return *out != NULL && n == len;
}

/* One integer of one row (bound to one text parameter): 0, or -1 on error
 * or no row. */
int
db_query_text_int(struct db *st, int which, const char *arg, int64_t *out, const char *what)
{
	struct db_q *s = db_stmt(st, which);
	int r;

	if (db_bind_text(st, s, 1, arg) != 0) {
		db_done(s);
		return -1;
	}
	if ((r = db_step_row(st, s, what)) != 1) {
		if (r == 0)
			srv_log("db: %s: no row for %s", what, arg);
		return -1;
	}
	*out = db_col_int64(s, 0);
	db_done(s);
	return 0;
}

/* How many parameters the statement takes (?N in its SQL). */
static int
param_count(struct db_q *s)
{
	const char *q;
	int n = 0;

	if (!s->st->pg)
		return sqlite3_bind_parameter_count(s->lite);
	for (q = stmt_sql[s->which]; (q = strchr(q, '?')) != NULL; q++)
		if (atoi(q + 1) > n)
			n = atoi(q + 1);
	return n;
}

/* Run a statement bound to (user, device id[, now]) that returns no rows. */
int
db_device_step(struct db *st, int which, const char *user, uint32_t device_id, int64_t now,
	       const char *what)
{
	struct db_q *s = db_stmt(st, which);

	if (db_bind_text(st, s, 1, user) || db_bind_int(st, s, 2, device_id) ||
	    (param_count(s) >= 3 && db_bind_int(st, s, 3, now))) {
		db_done(s);
		return -1;
	}
	return db_step_done(st, s, what);
}

/* Run a statement bound to (text, text[, int]) that returns no rows. */
int
db_text_step(struct db *st, int which, const char *a, const char *b, int64_t n, const char *what)
{
	struct db_q *s = db_stmt(st, which);

	if (db_bind_text(st, s, 1, a) || db_bind_text(st, s, 2, b) ||
	    (param_count(s) >= 3 && db_bind_int(st, s, 3, n))) {
		db_done(s);
		return -1;
	}
	return db_step_done(st, s, what);
}

int
db_cutoff_step(struct db *st, int which, int64_t cutoff, const char *what, int64_t *changes)
{
	struct db_q *s = db_stmt(st, which);

	if (db_bind_int(st, s, 1, cutoff)) {
		db_done(s);
		return -1;
	}
	if (db_step_done(st, s, what) != 0)
		return -1;
	if (changes != NULL)
		*changes = db_changes(st);
	return 0;
}

int
db_addr_push(struct db_addr **v, size_t *n, const struct db_addr *a)
{
	struct db_addr *nv = realloc(*v, (*n + 1) * sizeof **v);

	if (nv == NULL)
		return -1;
	nv[*n] = *a;
	*v = nv;
	(*n)++;
	return 0;
}

/* ---- transactions ------------------------------------------------------
 *
 * The store's only BEGIN, COMMIT and ROLLBACK: db_sql.h says why, and what
 * group commit would change here. */

/* BEGIN IMMEDIATE for a write (it takes the write lock at once, so a
 * transaction never fails half-way for want of it); BEGIN for a read, whose
 * snapshot then holds for every query until its end.  In a batch, either is
 * a SAVEPOINT of the batch's transaction.  0, or -1. */
int
db_tx_begin(struct db *st, enum db_tx_kind kind)
{
	if (st->batch) {
		if (st->batch_failed ||
		    db_step_done(st, db_stmt(st, ST_SAVEPOINT), "savepoint") != 0)
			return -1;
		st->savepoints++;
		return 0;
	}
	return db_step_done(st, db_stmt(st, kind == DB_TX_WRITE ? ST_BEGIN : ST_BEGIN_READ),
			    "begin");
}

/* 1 while a transaction is open (PostgreSQL: an aborted one too). */
static int
in_tx(struct db *st)
{
	return st->pg ? db_pg_in_tx(st) : !sqlite3_get_autocommit(st->db);
}

/* SQLite ends a transaction by itself on some errors (I/O, full disk, out
 * of memory), PostgreSQL when the connection is lost: then the batch, and
 * every call in it so far, is lost. */
static void
batch_check(struct db *st)
{
	if (st->batch && !in_tx(st)) {
		srv_log("db: the batch's transaction was rolled back");
		st->batch_failed = 1;
	}
}

/* In a batch: RELEASE, or ROLLBACK TO and RELEASE, the call's savepoint.
 * A savepoint that cannot be released is rolled back: the call fails. */
static int
savepoint_end(struct db *st, enum db_tx_end end)
{
	int rc = 0;

	if (st->savepoints == 0) /* ended already (a failed release) */
		return end == DB_TX_COMMIT ? -1 : 0;
	st->savepoints--;
	batch_check(st);
	if (st->batch_failed)
		return end == DB_TX_COMMIT ? -1 : 0;
	if (end == DB_TX_COMMIT && (rc = db_step_done(st, db_stmt(st, ST_RELEASE), "release")) == 0)
		return 0;
	db_keys_forget(st);
	if (db_step_done(st, db_stmt(st, ST_ROLLBACK_TO), "rollback to") != 0 ||
	    db_step_done(st, db_stmt(st, ST_RELEASE), "release") != 0)
		st->batch_failed = 1;
	batch_check(st);
	return rc;
}

/* COMMIT: 0, or -1, and then the transaction may still be open: end it
 * again with DB_TX_ROLLBACK.  ROLLBACK (of a read, or on any failure): of
 * the open transaction, if any, since a failed COMMIT may or may not have
 * ended it; always 0.  In a batch, of the call's savepoint only (a failed
 * release is rolled back at once, so the second call does nothing). */
int
db_tx_end(struct db *st, enum db_tx_end end)
{
	if (st->batch)
		return savepoint_end(st, end);
	if (end == DB_TX_COMMIT)
		return db_step_done(st, db_stmt(st, ST_COMMIT), "commit");
	if (in_tx(st)) {
		db_keys_forget(st);
		(void)db_step_done(st, db_stmt(st, ST_ROLLBACK), "rollback");
	}
	return 0;
}

int
db_lock_housekeeping(struct db *st, enum db_lock which)
{
	return st->pg ? db_pg_xact_lock(st, (int)which) : 0;
}

/* ---- group commit (db.h) ----------------------------------------------- */

int
db_batch_open(struct db *st)
{
	/* PostgreSQL: no batch, each request commits alone.  Requests of one
	 * pass lock the rows of their chats and devices in no common order, and
	 * two instances' batches deadlocked under load (PostgreSQL breaks it
	 * after a second, failing one request); alone, a request locks its
	 * chat's row, then its devices' in order (db_send), and two never wait
	 * on each other in a circle.  Measured on 32 pairs: one instance 664
	 * deliveries/s alone against 749 batched (each statement is a round
	 * trip either way), two instances 811/s and no deadlock against
	 * requests refused. */
	if (st->batch || st->pg)
		return 0;
	if (db_step_done(st, db_stmt(st, ST_BEGIN), "begin batch") != 0)
		return -1;
	st->batch = 1;
	st->batch_failed = 0;
	return 0;
}

int
db_batch_is_open(const struct db *st)
{
	return st->batch;
}

void
db_test_fail_commit(struct db *st, const char *path)
{
	st->test_fail_commit = path;
}

int
db_batch_commit(struct db *st)
{
	int failed;

	if (!st->batch)
		return 0;
	batch_check(st);
	if (st->test_fail_commit != NULL && access(st->test_fail_commit, F_OK) == 0) {
		srv_log("db: commit batch: failed on purpose (--test-fail-commit)");
		st->batch_failed = 1;
	}
	failed = st->batch_failed || db_step_done(st, db_stmt(st, ST_COMMIT), "commit batch") != 0;
	st->batch = 0;
	st->batch_failed = 0;
	st->savepoints = 0;
	if (failed)
		db_keys_forget(st);
	if (failed && in_tx(st))
		(void)db_step_done(st, db_stmt(st, ST_ROLLBACK), "rollback batch");
	return failed ? -1 : 0;
}

/*
 * "SELECT 1" alone never fails on SQLite: it reads no page.  What does go
 * wrong under a running server is the file: deleted, renamed or replaced
 * (a restore copied over it, a volume swapped), after which every write
 * goes to a file nobody will open again.  So the ping also asks whether
 * the file at the path is still the one open, and reads the schema, which
 * touches the file (a read transaction: the WAL's index at least).  At most
 * a line a minute about it: a load balancer asks every few seconds.
 */
enum db_status
db_ping(struct db *st)
{
	static struct log_limit limit = {.rate = 1.0 / 60, .burst = 1};
	char *msg = NULL;
	int moved = 0;

	if (st->pg)
		return db_pg_ping(st);
	if (sqlite3_file_control(st->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK &&
	    moved) {
		srv_log_limited(&limit, "db: ping: the database file was deleted, moved or "
					"replaced since it was opened: restart the server");
		return DB_INTERNAL;
	}
	if (sqlite3_exec(st->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, &msg) !=
	    SQLITE_OK) {
		srv_log_limited(&limit, "db: ping: %s", msg != NULL ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return DB_INTERNAL;
	}
	return DB_OK;
}

const char *
db_backend(const struct db *st)
{
	return st->pg ? "postgresql" : "sqlite";
}

/* ---- open and close ---------------------------------------------------- */

/* Prepare the statements of the table from first to before end, kept for
 * the life of the handle: 0, or -1 with a reason in err. */
static int
prepare(struct db *st, int first, int end, char *err, size_t errlen, const char *path)
{
	for (int i = first; i < end; i++) {
		st->q[i].st = st;
		st->q[i].which = i;
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &st->q[i].lite, NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s: prepare %s: %s", path, stmt_sql[i],
				 sqlite3_errmsg(st->db));
			return -1;
		}
	}
	return 0;
}

/*
 * Each request of a batch runs in a SAVEPOINT, and SQLite keeps the pages a
 * savepoint may have to restore in a statement journal, in memory up to
 * this many bytes, then in a temporary file for the rest of the transaction.
 * At SQLite's default (64 KiB) nearly every batch spilled: ~16 page writes
 * to that file per 1:1 message, more than the WAL's own.  Held in one chunk
 * of this size (temp_store=MEMORY would allocate it 1 KiB at a time, which
 * measured slower); a batch of 32 busy pairs journals ~3 MiB, and a batch
 * at the bounds of server_batch.c that needs more only spills, as before.
 * It serves only ROLLBACK TO: a COMMIT is synchronous=FULL as ever.
 */
#define STMT_JOURNAL_SPILL (16 << 20)

/* SQLite takes its settings only before it is initialised, so only the
 * first open of the process can set them; a later one runs at SQLite's
 * defaults, which are as safe, only slower. */
static void
configure_sqlite(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	if (sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STMT_JOURNAL_SPILL) != SQLITE_OK)
		srv_log("db: SQLite was already initialised: its statement journal "
			"spills to disk at its default size");
}

struct db *
db_open(const char *path, char *err, size_t errlen)
{
	struct db *st = calloc(1, sizeof *st);

	if (db_is_pg_url(path)) {
		free(st);
		return db_pg_open(path, err, errlen);
	}
	if (st == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	configure_sqlite();
	if (db_schema_create_file(path, err, errlen) != 0) {
		free(st);
		return NULL;
	}
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", path,
			 st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	if (sqlite3_extended_result_codes(st->db, 1) != SQLITE_OK ||
	    sqlite3_busy_timeout(st->db, 5000) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(st->db));
		goto fail;
	}
	/* The transactions' own statements first: the schema's check and
	 * migrations run in a transaction too.  The others are prepared against
	 * the schema as it is after them. */
	if (prepare(st, 0, ST_TX_COUNT, err, errlen, path) != 0 ||
	    db_schema_setup(st, path, err, errlen) != 0 ||
	    prepare(st, ST_TX_COUNT, ST_COUNT, err, errlen, path) != 0)
		goto fail;
	return st;
fail:
	db_close(st);
	return NULL;
}

void
db_close(struct db *st)
{
	int i;

	if (st == NULL)
		return;
	if (st->pg) {
		db_pg_close(st);
		return;
	}
	for (i = 0; i < ST_COUNT; i++)
		(void)sqlite3_finalize(st->q[i].lite); /* NULL is a no-op */
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		srv_log("db: close: %s", sqlite3_errmsg(st->db));
	free(st);
}
