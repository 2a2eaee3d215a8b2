/*
 * db_schema.c - the schema of chat-server's SQLite store and its migrations
 * (a new version is a migration here and DB_SCHEMA_VERSION in db_sql.h), and
 * the setting up of the file: created private, WAL, synchronous=FULL,
 * foreign keys (db_schema_setup, from db_open).
 */
#include "db_sql.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The SQL below is laid out by hand, one clause a line; clang-format would
 * break its strings at random. */
/* clang-format off */

/*
 * The schema is built the way an old database gets it: version 1 as the
 * first revision made it, then each migration in turn.  So a new database
 * and a migrated one are the same, and every open of a new one runs the
 * migrations the old ones will.
 *
 * Inbox ids come from AUTOINCREMENT on purpose: a connection's delivery
 * cursor is "the last inbox id pushed", which is only sound if ids are never
 * reused.  Plain rowids may reuse the largest id after it is deleted (acked),
 * and a row with a reused id below a cursor would never be pushed.
 */
static const char schema_v1_sql[] =
	"CREATE TABLE users ("
	"  user TEXT PRIMARY KEY,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE devices ("
	"  user TEXT NOT NULL REFERENCES users(user),"
	"  device_id INTEGER NOT NULL CHECK (device_id BETWEEN 1 AND 2147483647),"
	"  name TEXT,"
	"  identity_key BLOB NOT NULL UNIQUE CHECK (length(identity_key) = 32),"
	"  exchange_key BLOB NOT NULL CHECK (length(exchange_key) = 32),"
	"  exchange_key_sig BLOB NOT NULL CHECK (length(exchange_key_sig) = 64),"
	"  created_at INTEGER NOT NULL,"
	"  last_seen INTEGER,"
	"  PRIMARY KEY (user, device_id));"
	"CREATE TABLE chats ("
	"  chat_id TEXT PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('direct', 'group')),"
	"  name TEXT,"
	"  created_by TEXT NOT NULL REFERENCES users(user),"
	"  created_at INTEGER NOT NULL,"
	"  next_seq INTEGER NOT NULL DEFAULT 1,"
	/* "alice\nbob", the two names sorted: one direct chat per pair. */
	"  direct_key TEXT UNIQUE);"
	"CREATE TABLE chat_members ("
	"  chat_id TEXT NOT NULL REFERENCES chats(chat_id),"
	"  user TEXT NOT NULL REFERENCES users(user),"
	"  role TEXT NOT NULL,"
	"  joined_at INTEGER NOT NULL,"
	"  PRIMARY KEY (chat_id, user));"
	"CREATE INDEX chat_members_by_user ON chat_members(user);"
	/* Metadata only, kept after every inbox row is acked so that a late
	 * retry of a send is still recognised. */
	"CREATE TABLE messages ("
	"  message_id TEXT PRIMARY KEY,"
	"  chat_id TEXT NOT NULL REFERENCES chats(chat_id),"
	"  sender_user TEXT NOT NULL,"
	"  sender_device INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  sent_at INTEGER NOT NULL,"
	"  UNIQUE (chat_id, seq),"
	"  FOREIGN KEY (sender_user, sender_device)"
	"    REFERENCES devices(user, device_id));"
	"CREATE TABLE inbox ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  user TEXT NOT NULL,"
	"  device_id INTEGER NOT NULL,"
	"  message_id TEXT NOT NULL REFERENCES messages(message_id),"
	"  nonce BLOB NOT NULL CHECK (length(nonce) = 24),"
	"  ciphertext BLOB NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (user, device_id, message_id),"
	"  FOREIGN KEY (user, device_id) REFERENCES devices(user, device_id));"
	"CREATE INDEX inbox_by_device ON inbox(user, device_id, id);";

/*
 * Version 2: groups and linked devices.
 *
 * - users.next_device_id: device ids are never reused, even after the
 *   newest device is removed.
 * - devices.approver_key, approval: NULL for a user's first device.
 * - retired_devices: the keys of removed devices, for the sender entry of
 *   messages they sent before (a removed device leaves the devices table).
 * - messages.kind and body: a group's create and membership changes are
 *   'update' rows in the same sequence as the messages, body being their
 *   push frame (server-made metadata, not a secret).  The foreign key from
 *   messages to devices goes, so that a device that has sent can be removed.
 * - inbox.nonce and ciphertext become NULL for an update's rows.
 *
 * ADD COLUMN cannot drop a foreign key or a NOT NULL, so messages and inbox
 * are copied into new tables (SQLite's "12-step" procedure; it needs
 * foreign keys off, which db_open() arranges).  Inbox ids and the
 * AUTOINCREMENT high-water mark are kept.
 */
static const char migrate_v2_sql[] =
	"ALTER TABLE users ADD COLUMN next_device_id INTEGER NOT NULL DEFAULT 1"
	"  CHECK (next_device_id BETWEEN 1 AND 2147483648);"
	"UPDATE users SET next_device_id = 1 + coalesce("
	"  (SELECT max(d.device_id) FROM devices d WHERE d.user = users.user), 0);"
	"ALTER TABLE devices ADD COLUMN approver_key BLOB"
	"  CHECK (approver_key IS NULL OR length(approver_key) = 32);"
	"ALTER TABLE devices ADD COLUMN approval BLOB"
	"  CHECK (approval IS NULL OR length(approval) = 64);"
	"CREATE TABLE retired_devices ("
	"  user TEXT NOT NULL REFERENCES users(user),"
	"  device_id INTEGER NOT NULL,"
	"  identity_key BLOB NOT NULL,"
	"  exchange_key BLOB NOT NULL,"
	"  exchange_key_sig BLOB NOT NULL,"
	"  approver_key BLOB,"
	"  approval BLOB,"
	"  created_at INTEGER NOT NULL,"
	"  removed_at INTEGER NOT NULL,"
	"  PRIMARY KEY (user, device_id));"
	"CREATE TABLE messages_v2 ("
	"  message_id TEXT PRIMARY KEY,"
	"  chat_id TEXT NOT NULL REFERENCES chats(chat_id),"
	"  kind TEXT NOT NULL DEFAULT 'message' CHECK (kind IN ('message', 'update')),"
	"  sender_user TEXT NOT NULL,"
	"  sender_device INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  sent_at INTEGER NOT NULL,"
	"  body TEXT CHECK ((kind = 'update') = (body IS NOT NULL)),"
	"  UNIQUE (chat_id, seq));"
	"INSERT INTO messages_v2 (message_id, chat_id, kind, sender_user, sender_device,"
	"  seq, sent_at, body)"
	"  SELECT message_id, chat_id, 'message', sender_user, sender_device, seq,"
	"  sent_at, NULL FROM messages;"
	"DROP TABLE messages;"
	"ALTER TABLE messages_v2 RENAME TO messages;"
	"CREATE TABLE inbox_v2 ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  user TEXT NOT NULL,"
	"  device_id INTEGER NOT NULL,"
	"  message_id TEXT NOT NULL REFERENCES messages(message_id),"
	"  nonce BLOB CHECK (length(nonce) = 24),"
	"  ciphertext BLOB,"
	"  created_at INTEGER NOT NULL,"
	"  CHECK ((nonce IS NULL) = (ciphertext IS NULL)),"
	"  UNIQUE (user, device_id, message_id),"
	"  FOREIGN KEY (user, device_id) REFERENCES devices(user, device_id));"
	"INSERT INTO inbox_v2 (id, user, device_id, message_id, nonce, ciphertext, created_at)"
	"  SELECT id, user, device_id, message_id, nonce, ciphertext, created_at FROM inbox;"
	"DELETE FROM sqlite_sequence WHERE name = 'inbox_v2';"
	"INSERT INTO sqlite_sequence (name, seq)"
	"  SELECT 'inbox_v2', seq FROM sqlite_sequence WHERE name = 'inbox';"
	"DROP TABLE inbox;"
	"ALTER TABLE inbox_v2 RENAME TO inbox;"
	"CREATE INDEX inbox_by_device ON inbox(user, device_id, id);"
	"CREATE INDEX inbox_by_message ON inbox(message_id);";

/*
 * Version 3: retention.
 *
 * - devices.missed_count, missed_oldest: the inbox rows of the device that
 *   were deleted unread for their age since it was last told (missed
 *   push), and the send time of the oldest of them (NULL when none).
 * - indexes on the ages the purge looks for.
 */
static const char migrate_v3_sql[] =
	"ALTER TABLE devices ADD COLUMN missed_count INTEGER NOT NULL DEFAULT 0"
	"  CHECK (missed_count >= 0);"
	"ALTER TABLE devices ADD COLUMN missed_oldest INTEGER;"
	"CREATE INDEX inbox_by_created ON inbox(created_at);"
	"CREATE INDEX messages_by_sent ON messages(sent_at);";

/*
 * Version 4 adds users.hide_last_seen: 1 if the user hides when they were
 * last seen (and so sees nobody else's).
 */
static const char migrate_v4_sql[] =
	"ALTER TABLE users ADD COLUMN hide_last_seen INTEGER NOT NULL DEFAULT 0"
	"  CHECK (hide_last_seen IN (0, 1));";

/*
 * Version 5: receipts.  A receipt (delivered, read) is a row of messages
 * of kind 'receipt' with inbox rows for the devices it addresses, like a
 * message, but outside the chat's sequence: its seq is NULL.  The CHECK on
 * kind and the NOT NULL on seq cannot be changed in place, so messages is
 * copied (foreign keys are off during migrations, as for version 2).
 */
static const char migrate_v5_sql[] =
	"CREATE TABLE messages_v5 ("
	"  message_id TEXT PRIMARY KEY,"
	"  chat_id TEXT NOT NULL REFERENCES chats(chat_id),"
	"  kind TEXT NOT NULL DEFAULT 'message'"
	"    CHECK (kind IN ('message', 'update', 'receipt')),"
	"  sender_user TEXT NOT NULL,"
	"  sender_device INTEGER NOT NULL,"
	"  seq INTEGER CHECK ((kind = 'receipt') = (seq IS NULL)),"
	"  sent_at INTEGER NOT NULL,"
	"  body TEXT CHECK ((kind = 'update') = (body IS NOT NULL)),"
	"  UNIQUE (chat_id, seq));"
	"INSERT INTO messages_v5 (message_id, chat_id, kind, sender_user, sender_device,"
	"  seq, sent_at, body)"
	"  SELECT message_id, chat_id, kind, sender_user, sender_device, seq, sent_at, body"
	"  FROM messages;"
	"DROP TABLE messages;"
	"ALTER TABLE messages_v5 RENAME TO messages;"
	"CREATE INDEX messages_by_sent ON messages(sent_at);";

/*
 * Version 6: attachments (PROTOCOL.md, "Attachments").  A blob is made
 * 'pending' by getAttachmentTarget and becomes 'complete' once its upload is
 * on disk; message_blobs records which message refers to which blob, so
 * which chats may download it.  No foreign key from message_blobs to
 * messages: the retention purge deletes messages first, and the blob purge
 * then finds the references left dangling (db_blob_purge()).
 */
static const char migrate_v6_sql[] =
	"CREATE TABLE blobs ("
	"  blob_id TEXT PRIMARY KEY,"
	"  user TEXT NOT NULL,"
	"  device_id INTEGER NOT NULL,"
	"  max_size INTEGER NOT NULL CHECK (max_size >= 1),"
	"  size INTEGER,"
	"  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'complete')),"
	"  created_at INTEGER NOT NULL,"
	"  completed_at INTEGER,"
	"  CHECK ((state = 'complete') = (size IS NOT NULL AND completed_at IS NOT NULL)));"
	"CREATE INDEX blobs_by_created ON blobs(created_at);"
	"CREATE TABLE message_blobs ("
	"  message_id TEXT NOT NULL,"
	"  blob_id TEXT NOT NULL REFERENCES blobs(blob_id),"
	"  PRIMARY KEY (message_id, blob_id));"
	"CREATE INDEX message_blobs_by_blob ON message_blobs(blob_id);";

#define STR_(x) #x
#define STR(x)  STR_(x)

/*
 * Version 7: limits (issue 10).
 *
 * - message_tombstones: what the retention purge keeps of a message it
 *   deletes, so that a late resend of it is answered as its first send was
 *   instead of being stored again (db_send); deleted a second retention
 *   period later (db_purge).
 * - devices.inbox_bytes: what the device's inbox holds toward its quota,
 *   kept by two triggers so that no path that adds or deletes inbox rows
 *   can forget it; updates' rows (no ciphertext) do not count.
 * - blobs_by_device: the blob quotas sum a device's blobs.
 * - chat_members.joined_seq: the seq of the update that added the member
 *   (0 for a direct chat's and for members of old): they may download the
 *   blobs of messages after it only.
 * - chat_activity: who took part in which chat (created it, added members,
 *   sent a message): whom a user is a contact of (db_is_contact).
 * - group_adds: each time a user was added to a group by someone they are
 *   not a contact of, for the limits on that (db_add_limits).
 */
static const char migrate_v7_sql[] =
	"CREATE TABLE message_tombstones ("
	"  message_id TEXT PRIMARY KEY,"
	"  chat_id TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  sender_user TEXT NOT NULL,"
	"  sender_device INTEGER NOT NULL,"
	"  seq INTEGER,"
	"  sent_at INTEGER NOT NULL);"
	"CREATE INDEX message_tombstones_by_sent ON message_tombstones(sent_at);"
	"ALTER TABLE devices ADD COLUMN inbox_bytes INTEGER NOT NULL DEFAULT 0;"
	"UPDATE devices SET inbox_bytes = (SELECT coalesce(sum(length(i.ciphertext) + "
	STR(DB_INBOX_ROW_BYTES) "), 0) FROM inbox i WHERE i.user = devices.user"
	"  AND i.device_id = devices.device_id AND i.ciphertext IS NOT NULL);"
	"CREATE TRIGGER inbox_bytes_add AFTER INSERT ON inbox WHEN new.ciphertext IS NOT NULL"
	" BEGIN UPDATE devices SET inbox_bytes = inbox_bytes + length(new.ciphertext) + "
	STR(DB_INBOX_ROW_BYTES) " WHERE user = new.user AND device_id = new.device_id; END;"
	"CREATE TRIGGER inbox_bytes_sub AFTER DELETE ON inbox WHEN old.ciphertext IS NOT NULL"
	" BEGIN UPDATE devices SET inbox_bytes = inbox_bytes - length(old.ciphertext) - "
	STR(DB_INBOX_ROW_BYTES) " WHERE user = old.user AND device_id = old.device_id; END;"
	"CREATE INDEX blobs_by_device ON blobs(user, device_id);"
	"ALTER TABLE chat_members ADD COLUMN joined_seq INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE chat_activity ("
	"  chat_id TEXT NOT NULL REFERENCES chats(chat_id),"
	"  user TEXT NOT NULL,"
	"  PRIMARY KEY (chat_id, user));"
	"INSERT OR IGNORE INTO chat_activity SELECT chat_id, created_by FROM chats;"
	"INSERT OR IGNORE INTO chat_activity SELECT DISTINCT chat_id, sender_user FROM messages"
	"  WHERE kind IN ('message', 'update');"
	"CREATE TABLE group_adds ("
	"  target TEXT NOT NULL,"
	"  adder TEXT NOT NULL,"
	"  at INTEGER NOT NULL);"
	"CREATE INDEX group_adds_by_target ON group_adds(target, at);"
	"CREATE INDEX group_adds_by_adder ON group_adds(adder, at);";

/*
 * Version 8: what a group update says is kept as data, not as its push frame
 * (the store hands data to the request layer, which alone makes JSON).  The
 * body of an update becomes four lines: its operation (create, add, remove,
 * leave), the users it names, the members after it and the admins after it,
 * each list its names separated by spaces (no name holds a space or a line
 * break: PROTO_USER_FORM).  The rest of the push comes from the row (chat, id,
 * seq, time, actor) and from its chat (kind, name; a group keeps its name).
 * Version 7's bodies were chatUpdate frames, read here once with SQLite's
 * JSON functions.
 */
#define UPDATE_NAMES(list)                                                                         \
	"coalesce((SELECT group_concat(value, ' ') FROM (SELECT value"                             \
	" FROM json_each(messages.body, '$." list "') ORDER BY key)), '')"
static const char migrate_v8_sql[] =
	"UPDATE messages SET body = json_extract(body, '$.operation')"
	" || char(10) || " UPDATE_NAMES("users") " || char(10) || " UPDATE_NAMES("participants")
	" || char(10) || " UPDATE_NAMES("admins") " WHERE kind = 'update';";

/*
 * Version 9: prekeys (PROTOCOL.md, "uploadPrekeys", issue 13).
 *
 * - signed_prekeys: a device's current signed prekey (one: an upload
 *   replaces it; the device keeps the old private key itself), and low_told:
 *   1 once the device has been told it runs low (prekeysLow), back to 0 when
 *   an upload brings it to PROTO_PREKEYS_LOW or more, so that it is told once
 *   per crossing.
 * - one_time_prekeys: handed out once each, oldest (lowest rowid) first, and
 *   deleted as they are.
 * Both go with their device (ON DELETE CASCADE: removeDevice deletes the
 * devices row; foreign keys are on outside migrations).
 */
static const char migrate_v9_sql[] =
	"CREATE TABLE signed_prekeys ("
	"  user TEXT NOT NULL,"
	"  device_id INTEGER NOT NULL,"
	"  prekey_id INTEGER NOT NULL CHECK (prekey_id BETWEEN 0 AND 4294967295),"
	"  prekey BLOB NOT NULL CHECK (length(prekey) = 32),"
	"  sig BLOB NOT NULL CHECK (length(sig) = 64),"
	"  low_told INTEGER NOT NULL DEFAULT 0 CHECK (low_told IN (0, 1)),"
	"  uploaded_at INTEGER NOT NULL,"
	"  PRIMARY KEY (user, device_id),"
	"  FOREIGN KEY (user, device_id) REFERENCES devices(user, device_id)"
	"    ON DELETE CASCADE);"
	"CREATE TABLE one_time_prekeys ("
	"  user TEXT NOT NULL,"
	"  device_id INTEGER NOT NULL,"
	"  prekey_id INTEGER NOT NULL CHECK (prekey_id BETWEEN 0 AND 4294967295),"
	"  prekey BLOB NOT NULL CHECK (length(prekey) = 32),"
	"  UNIQUE (user, device_id, prekey_id),"
	"  FOREIGN KEY (user, device_id) REFERENCES devices(user, device_id)"
	"    ON DELETE CASCADE);";

/*
 * Version 10: stage 2 envelopes (issue 13) have no nonce.  inbox.nonce may
 * be NULL beside a ciphertext (a stage 2 row); a row with a nonce still has
 * exactly 24 bytes of it and a ciphertext; an update's row has neither (its
 * kind is in messages).  A CHECK cannot change in place, so inbox is copied
 * as for version 2 (ids and the AUTOINCREMENT high-water mark kept), and its
 * indexes and version 7's quota triggers are made again (DROP TABLE drops
 * them, and fires no trigger: devices.inbox_bytes stays as it was).
 */
static const char migrate_v10_sql[] =
	"CREATE TABLE inbox_v10 ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  user TEXT NOT NULL,"
	"  device_id INTEGER NOT NULL,"
	"  message_id TEXT NOT NULL REFERENCES messages(message_id),"
	"  nonce BLOB CHECK (nonce IS NULL OR length(nonce) = 24),"
	"  ciphertext BLOB,"
	"  created_at INTEGER NOT NULL,"
	"  CHECK (nonce IS NULL OR ciphertext IS NOT NULL),"
	"  UNIQUE (user, device_id, message_id),"
	"  FOREIGN KEY (user, device_id) REFERENCES devices(user, device_id));"
	"INSERT INTO inbox_v10 (id, user, device_id, message_id, nonce, ciphertext, created_at)"
	"  SELECT id, user, device_id, message_id, nonce, ciphertext, created_at FROM inbox;"
	"DELETE FROM sqlite_sequence WHERE name = 'inbox_v10';"
	"INSERT INTO sqlite_sequence (name, seq)"
	"  SELECT 'inbox_v10', seq FROM sqlite_sequence WHERE name = 'inbox';"
	"DROP TABLE inbox;"
	"ALTER TABLE inbox_v10 RENAME TO inbox;"
	"CREATE INDEX inbox_by_device ON inbox(user, device_id, id);"
	"CREATE INDEX inbox_by_message ON inbox(message_id);"
	"CREATE INDEX inbox_by_created ON inbox(created_at);"
	"CREATE TRIGGER inbox_bytes_add AFTER INSERT ON inbox WHEN new.ciphertext IS NOT NULL"
	" BEGIN UPDATE devices SET inbox_bytes = inbox_bytes + length(new.ciphertext) + "
	STR(DB_INBOX_ROW_BYTES) " WHERE user = new.user AND device_id = new.device_id; END;"
	"CREATE TRIGGER inbox_bytes_sub AFTER DELETE ON inbox WHEN old.ciphertext IS NOT NULL"
	" BEGIN UPDATE devices SET inbox_bytes = inbox_bytes - length(old.ciphertext) - "
	STR(DB_INBOX_ROW_BYTES) " WHERE user = old.user AND device_id = old.device_id; END;";

/*
 * Version 11: a group's description (PROTOCOL.md, "updateChat"), NULL or ""
 * when it has none.  Updates of the new operations (promote, demote, rename,
 * describe) need no change: a rename's or describe's body has a fifth part,
 * the new name or description, after the admins' line (db_chats.c).
 */
static const char migrate_v11_sql[] = "ALTER TABLE chats ADD COLUMN description TEXT;";

/*
 * Version 12: disappearing messages (PROTOCOL.md, "Disappearing messages").
 * messages.expires_at (ms, NULL: never) is sentAt + the message's "ttl"; the
 * expiry sweep (db_expire) deletes the inbox rows of messages past it. The
 * partial index keeps that sweep a lookup of the few messages that have one.
 */
static const char migrate_v12_sql[] =
	"ALTER TABLE messages ADD COLUMN expires_at INTEGER;"
	"CREATE INDEX messages_by_expiry ON messages(expires_at) WHERE expires_at IS NOT NULL;";

/*
 * Version 13: block lists (PROTOCOL.md, "Blocking"). One row per (user,
 * blocked user), shared by all the user's devices; db_send drops the
 * envelopes a blocker's devices would get from a user they blocked, a
 * lookup of this primary key per recipient user.
 */
static const char migrate_v13_sql[] =
	"CREATE TABLE blocks ("
	"  user TEXT NOT NULL REFERENCES users(user),"
	"  blocked TEXT NOT NULL REFERENCES users(user),"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY (user, blocked)) WITHOUT ROWID;";

/* clang-format on */

static int
exec(struct db *st, const char *sql, const char *what)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		srv_log("db: %s: %s", what, msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Read one integer from a PRAGMA (or any one-row query). */
static int
query_int(struct db *st, const char *sql, int64_t *out)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		db_fail(st, sql);
		return -1;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	else
		db_fail(st, sql);
	if (sqlite3_finalize(s) != SQLITE_OK && rc == SQLITE_ROW)
		rc = SQLITE_ERROR;
	return rc == SQLITE_ROW ? 0 : -1;
}

static int
set_wal(struct db *st, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	const unsigned char *mode;
	int ok = 0;

	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "journal_mode: %s", sqlite3_errmsg(st->db));
		return -1;
	}
	/* The pragma answers with the mode in force: WAL can be refused (e.g.
	 * on a file system without shared memory), and we want to know. */
	if (sqlite3_step(s) == SQLITE_ROW) {
		mode = sqlite3_column_text(s, 0);
		ok = mode != NULL && strcmp((const char *)mode, "wal") == 0;
	}
	if (!ok)
		snprintf(err, errlen, "cannot switch the database to WAL mode: %s",
			 sqlite3_errmsg(st->db));
	if (sqlite3_finalize(s) != SQLITE_OK && ok) {
		snprintf(err, errlen, "journal_mode: %s", sqlite3_errmsg(st->db));
		ok = 0;
	}
	return ok ? 0 : -1;
}

/* 0 if PRAGMA foreign_key_check finds nothing, -1 otherwise. */
static int
foreign_keys_hold(struct db *st)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, "PRAGMA foreign_key_check", -1, &s, NULL) != SQLITE_OK) {
		db_fail(st, "foreign_key_check");
		return -1;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		srv_log("db: foreign_key_check: a row of %s breaks a foreign key",
			(const char *)sqlite3_column_text(s, 0));
	else if (rc != SQLITE_DONE)
		db_fail(st, "foreign_key_check");
	(void)sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* migrations[i] takes a database from version i + 1 to i + 2. */
static const char *const migrations[] = {
	migrate_v2_sql, migrate_v3_sql, migrate_v4_sql, migrate_v5_sql,  migrate_v6_sql,
	migrate_v7_sql, migrate_v8_sql, migrate_v9_sql, migrate_v10_sql, migrate_v11_sql,
	migrate_v12_sql, migrate_v13_sql};
_Static_assert(sizeof migrations / sizeof *migrations == DB_SCHEMA_VERSION - 1,
	       "one migration per schema version after the first");

/*
 * Create the schema, or migrate it to DB_SCHEMA_VERSION, in one
 * transaction: a failure leaves the file as it was.  Runs with foreign keys
 * off (the migrations rebuild tables), and checks them before COMMIT.
 * *from is the version found.
 */
static int
check_schema(struct db *st, int64_t *from, char *err, size_t errlen)
{
	int64_t version;
	char sql[64];

	if (db_tx_begin(st, DB_TX_WRITE) != 0 ||
	    query_int(st, "PRAGMA user_version", &version) != 0) {
		snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(st->db));
		goto fail;
	}
	*from = version;
	if (version < 0 || version > DB_SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "database schema version %lld, this server "
			 "knows version %d",
			 (long long)version, DB_SCHEMA_VERSION);
		goto fail;
	}
	if (version == 0) {
		if (exec(st, schema_v1_sql, "create schema") != 0) {
			snprintf(err, errlen, "cannot create the schema: %s",
				 sqlite3_errmsg(st->db));
			goto fail;
		}
		version = 1;
	}
	for (; version < DB_SCHEMA_VERSION; version++) {
		if (exec(st, migrations[version - 1], "migrate") != 0) {
			snprintf(err, errlen, "cannot migrate the schema to version %lld: %s",
				 (long long)version + 1, sqlite3_errmsg(st->db));
			goto fail;
		}
	}
	if (*from != version) {
		snprintf(sql, sizeof sql, "PRAGMA user_version = %lld", (long long)version);
		if (foreign_keys_hold(st) != 0 || exec(st, sql, "user_version") != 0) {
			snprintf(err, errlen, "cannot set up schema version %lld",
				 (long long)version);
			goto fail;
		}
	}
	if (db_tx_end(st, DB_TX_COMMIT) != 0) {
		snprintf(err, errlen, "commit: %s", sqlite3_errmsg(st->db));
		goto fail;
	}
	return 0;
fail:
	db_tx_end(st, DB_TX_ROLLBACK);
	return -1;
}

/*
 * Create the file ourselves so that it is born 0600: SQLite would create it
 * 0644 (less the umask), and it creates the -wal and -shm files with the
 * main file's mode, so this covers all three.
 */
int
db_schema_create_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (close(fd) != 0) {
		snprintf(err, errlen, "cannot close %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
db_schema_setup(struct db *st, const char *path, char *err, size_t errlen)
{
	char inner[256];
	int64_t from = 0;

	if (set_wal(st, inner, sizeof inner) != 0) {
		snprintf(err, errlen, "%s: %s", path, inner);
		return -1;
	}
	if (exec(st, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;", "pragmas") != 0) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(st->db));
		return -1;
	}
	if (check_schema(st, &from, inner, sizeof inner) != 0) {
		snprintf(err, errlen, "%s: %s", path, inner);
		return -1;
	}
	if (from != 0 && from != DB_SCHEMA_VERSION)
		srv_log("db: %s: migrated the schema from version %lld to %d", path,
			(long long)from, DB_SCHEMA_VERSION);
	if (exec(st, "PRAGMA foreign_keys=ON;", "pragmas") != 0) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}
