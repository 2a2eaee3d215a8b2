/*
 * db.c - chat-server's SQLite store (see db.h).
 *
 * Known limit: every call runs on the libwebsockets thread, so a slow disk
 * (synchronous=FULL fsyncs on every COMMIT) stalls all connections for the
 * length of a commit.  That is fine for a local server and for tests; a
 * server for many users would move the store to its own thread and batch
 * commits (one transaction per loop pass, replies and pushes after it).
 */
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "proto.h"

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
	"UPDATE devices SET inbox_bytes = (SELECT coalesce(sum(length(i.ciphertext) + " STR(
		DB_INBOX_ROW_BYTES) "), 0) FROM inbox i WHERE i.user = devices.user"
				    "  AND i.device_id = devices.device_id AND i.ciphertext IS NOT "
				    "NULL);"
				    "CREATE TRIGGER inbox_bytes_add AFTER INSERT ON inbox WHEN "
				    "new.ciphertext IS NOT NULL"
				    " BEGIN UPDATE devices SET inbox_bytes = inbox_bytes + "
				    "length(new.ciphertext) + " STR(
					    DB_INBOX_ROW_BYTES) " WHERE user = new.user AND "
								"device_id = new.device_id; END;"
								"CREATE TRIGGER inbox_bytes_sub "
								"AFTER DELETE ON inbox WHEN "
								"old.ciphertext IS NOT NULL"
								" BEGIN UPDATE devices SET "
								"inbox_bytes = inbox_bytes - "
								"length(old.ciphertext) - " STR(
									DB_INBOX_ROW_BYTES) " WHERE"
											    " user "
											    "= "
											    "old."
											    "user "
											    "AND "
											    "device"
											    "_id = "
											    "old."
											    "device"
											    "_id; "
											    "END;"
											    "CREATE"
											    " INDEX"
											    " blobs"
											    "_by_"
											    "device"
											    " ON "
											    "blobs("
											    "user, "
											    "device"
											    "_id);"
											    "ALTER "
											    "TABLE "
											    "chat_"
											    "member"
											    "s ADD "
											    "COLUMN"
											    " joine"
											    "d_seq "
											    "INTEGE"
											    "R NOT "
											    "NULL "
											    "DEFAUL"
											    "T 0;"
											    "CREATE"
											    " TABLE"
											    " chat_"
											    "activi"
											    "ty ("
											    "  "
											    "chat_"
											    "id "
											    "TEXT "
											    "NOT "
											    "NULL "
											    "REFERE"
											    "NCES "
											    "chats("
											    "chat_"
											    "id),"
											    "  "
											    "user "
											    "TEXT "
											    "NOT "
											    "NULL,"
											    "  "
											    "PRIMAR"
											    "Y KEY "
											    "(chat_"
											    "id, "
											    "user))"
											    ";"
											    "INSERT"
											    " OR "
											    "IGNORE"
											    " INTO "
											    "chat_"
											    "activi"
											    "ty "
											    "SELECT"
											    " chat_"
											    "id, "
											    "create"
											    "d_by "
											    "FROM "
											    "chats;"
											    "INSERT"
											    " OR "
											    "IGNORE"
											    " INTO "
											    "chat_"
											    "activi"
											    "ty "
											    "SELECT"
											    " DISTI"
											    "NCT "
											    "chat_"
											    "id, "
											    "sender"
											    "_user "
											    "FROM "
											    "messag"
											    "es"
											    "  "
											    "WHERE "
											    "kind "
											    "IN "
											    "('"
											    "messag"
											    "e', "
											    "'updat"
											    "e');"
											    "CREATE"
											    " TABLE"
											    " group"
											    "_adds "
											    "("
											    "  "
											    "target"
											    " TEXT "
											    "NOT "
											    "NULL,"
											    "  "
											    "adder "
											    "TEXT "
											    "NOT "
											    "NULL,"
											    "  at "
											    "INTEGE"
											    "R NOT "
											    "NULL);"
											    "CREATE"
											    " INDEX"
											    " group"
											    "_adds_"
											    "by_"
											    "target"
											    " ON "
											    "group_"
											    "adds("
											    "target"
											    ", at);"
											    "CREATE"
											    " INDEX"
											    " group"
											    "_adds_"
											    "by_"
											    "adder "
											    "ON "
											    "group_"
											    "adds("
											    "adder,"
											    " at);";

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

enum {
	ST_BEGIN,
	ST_BEGIN_READ,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_USER_EXISTS,
	ST_USER_INSERT,
	ST_USER_NEXT_DEVICE,
	ST_USER_SET_NEXT_DEVICE,
	ST_DEVICE_BY_KEY,
	ST_DEVICE_INSERT,
	ST_DEVICE_IDENTITY,
	ST_DEVICE_TOUCH,
	ST_DEVICE_COUNT,
	ST_DEVICE_RETIRE,
	ST_DEVICE_DELETE,
	ST_DEVICE_INBOX_DELETE,
	ST_USER_DEVICES,
	ST_CHAT_BY_DIRECT_KEY,
	ST_CHAT_INSERT,
	ST_GROUP_INSERT,
	ST_MEMBER_INSERT,
	ST_MEMBER_DELETE,
	ST_MEMBER_SET_ROLE,
	ST_MEMBER_FIRST,
	ST_CHAT_GET,
	ST_CHAT_MEMBERS,
	ST_MEMBER_ROLE,
	ST_MESSAGE_GET,
	ST_CHAT_DEVICES,
	ST_CHAT_NEXT_SEQ,
	ST_CHAT_SET_SEQ,
	ST_MESSAGE_INSERT,
	ST_UPDATE_INSERT,
	ST_INBOX_INSERT,
	ST_INBOX_UPDATE_MEMBERS,
	ST_INBOX_UPDATE_USER,
	ST_INBOX_RECIPIENTS,
	ST_INBOX_LOAD,
	ST_ACK,
	ST_PURGE_COUNT,
	ST_PURGE_INBOX,
	ST_PURGE_TOMB,
	ST_PURGE_MESSAGES,
	ST_PURGE_TOMBSTONES,
	ST_MISSED_GET,
	ST_MISSED_RESET,
	ST_LAST_SEEN,
	ST_SET_HIDE_LAST_SEEN,
	ST_BLOB_INSERT,
	ST_BLOB_GET,
	ST_BLOB_COMPLETE,
	ST_BLOB_READABLE,
	ST_MESSAGE_BLOB_INSERT,
	ST_BLOB_PURGE_LIST,
	ST_BLOB_PURGE_REFS,
	ST_BLOB_DELETE,
	ST_INBOX_BYTES,
	ST_BLOB_USAGE,
	ST_IS_CONTACT,
	ST_ACTIVITY,
	ST_ADDS_TARGET,
	ST_ADDS_ADDER,
	ST_ADDS_INSERT,
	ST_ADDS_PRUNE,
	ST_MEMBER_SET_JOINED,
	ST_COUNT
};
/* The transactions' statements come first: they are prepared before the
 * schema is checked, which runs in a transaction too. */
#define ST_TX_COUNT (ST_ROLLBACK + 1)

/* The sender's keys of a message: from its device, or from the retired
 * copy once the device is removed (device ids are never reused, so at most
 * one of the two exists). */
#define SENDER_COL(c) "CASE WHEN d.device_id IS NULL THEN r." c " ELSE d." c " END"

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_BEGIN_READ] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
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
	[ST_DEVICE_TOUCH] = "UPDATE devices SET last_seen = ?3 WHERE user = ?1 AND device_id = ?2",
	[ST_LAST_SEEN] = "SELECT u.hide_last_seen,"
			 " (SELECT max(d.last_seen) FROM devices d WHERE d.user = u.user)"
			 " FROM users u WHERE u.user = ?1",
	[ST_SET_HIDE_LAST_SEEN] = "UPDATE users SET hide_last_seen = ?2 WHERE user = ?1",
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
	[ST_CHAT_GET] = "SELECT c.kind, c.name, c.created_at FROM chats c"
			" JOIN chat_members m ON m.chat_id = c.chat_id AND m.user = ?2"
			" WHERE c.chat_id = ?1",
	[ST_CHAT_MEMBERS] = "SELECT user, role FROM chat_members WHERE chat_id = ?1 ORDER BY user",
	[ST_MEMBER_ROLE] = "SELECT role FROM chat_members WHERE chat_id = ?1 AND user = ?2",
	/* A message, or the tombstone the purge left of it. */
	[ST_MESSAGE_GET] = "SELECT chat_id, sender_user, sender_device, seq, sent_at, kind"
			   " FROM messages WHERE message_id = ?1 UNION ALL"
			   " SELECT chat_id, sender_user, sender_device, seq, sent_at, kind"
			   " FROM message_tombstones WHERE message_id = ?1 LIMIT 1",
	[ST_CHAT_DEVICES] = "SELECT d.user, d.device_id FROM chat_members m"
			    " JOIN devices d ON d.user = m.user WHERE m.chat_id = ?1"
			    " ORDER BY d.user, d.device_id",
	[ST_CHAT_NEXT_SEQ] = "SELECT next_seq FROM chats WHERE chat_id = ?1",
	[ST_CHAT_SET_SEQ] = "UPDATE chats SET next_seq = ?2 WHERE chat_id = ?1",
	[ST_MESSAGE_INSERT] = "INSERT INTO messages (message_id, chat_id, kind, sender_user,"
			      " sender_device, seq, sent_at)"
			      " VALUES (?1, ?2, ?7, ?3, ?4, ?5, ?6)",
	[ST_UPDATE_INSERT] = "INSERT INTO messages (message_id, chat_id, kind, sender_user,"
			     " sender_device, seq, sent_at, body)"
			     " VALUES (?1, ?2, 'update', ?3, ?4, ?5, ?6, ?7)",
	[ST_INBOX_INSERT] = "INSERT INTO inbox (user, device_id, message_id, nonce, ciphertext,"
			    " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_INBOX_UPDATE_MEMBERS] = "INSERT INTO inbox (user, device_id, message_id, created_at)"
				    " SELECT d.user, d.device_id, ?2, ?3 FROM chat_members m"
				    " JOIN devices d ON d.user = m.user WHERE m.chat_id = ?1"
				    " ORDER BY d.user, d.device_id",
	[ST_INBOX_UPDATE_USER] = "INSERT INTO inbox (user, device_id, message_id, created_at)"
				 " SELECT user, device_id, ?2, ?3 FROM devices WHERE user = ?1"
				 " ORDER BY device_id",
	[ST_INBOX_RECIPIENTS] = "SELECT user, device_id FROM inbox WHERE message_id = ?1"
				" ORDER BY user, device_id",
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
	/* Correlated per device: the inbox_by_device index finds its rows. */
	[ST_PURGE_COUNT] = "UPDATE devices SET"
			   " missed_count = missed_count + (SELECT count(*) FROM inbox i"
			   "  WHERE i.user = devices.user AND i.device_id = devices.device_id"
			   "  AND i.created_at < ?1),"
			   " missed_oldest = (SELECT min(x) FROM (SELECT devices.missed_oldest AS x"
			   "  UNION ALL SELECT m.sent_at FROM inbox i"
			   "  JOIN messages m ON m.message_id = i.message_id"
			   "  WHERE i.user = devices.user AND i.device_id = devices.device_id"
			   "  AND i.created_at < ?1))"
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
	[ST_MISSED_GET] = "SELECT missed_count, coalesce(missed_oldest, 0) FROM devices"
			  " WHERE user = ?1 AND device_id = ?2",
	[ST_MISSED_RESET] = "UPDATE devices SET missed_count = 0, missed_oldest = NULL"
			    " WHERE user = ?1 AND device_id = ?2",
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
	[ST_INBOX_BYTES] = "SELECT inbox_bytes FROM devices WHERE user = ?1 AND device_id = ?2",
	[ST_BLOB_USAGE] = "SELECT coalesce(sum(state = 'pending'), 0),"
			  " coalesce(sum(CASE WHEN state = 'pending' THEN max_size END), 0),"
			  " coalesce(sum(CASE WHEN state = 'complete' THEN size END), 0)"
			  " FROM blobs WHERE user = ?1 AND device_id = ?2",
	[ST_IS_CONTACT] = "SELECT 1 FROM chat_members a"
			  " JOIN chat_members b ON b.chat_id = a.chat_id AND b.user = ?2"
			  " JOIN chat_activity t ON t.chat_id = a.chat_id AND t.user = ?2"
			  " WHERE a.user = ?1 LIMIT 1",
	[ST_ACTIVITY] = "INSERT OR IGNORE INTO chat_activity (chat_id, user) VALUES (?1, ?2)",
	[ST_ADDS_TARGET] = "SELECT count(*) FROM group_adds WHERE target = ?1 AND at > ?2",
	[ST_ADDS_ADDER] = "SELECT count(*) FROM group_adds WHERE adder = ?1 AND at > ?2",
	[ST_ADDS_INSERT] = "INSERT INTO group_adds (target, adder, at) VALUES (?1, ?2, ?3)",
	[ST_ADDS_PRUNE] = "DELETE FROM group_adds WHERE at < ?1",
	[ST_MEMBER_SET_JOINED] = "UPDATE chat_members SET joined_seq = ?3"
				 " WHERE chat_id = ?1 AND user = ?2",
};

/* The lists of the update db_inbox_load hands out last: valid during its
 * call of the db_inbox_fn. */
struct db_update_lists {
	char users[PROTO_MAX_MEMBERS][PROTO_USER_MAX + 1];
	char participants[PROTO_MAX_MEMBERS][PROTO_USER_MAX + 1];
	char admins[PROTO_MAX_MEMBERS][PROTO_USER_MAX + 1];
};
_Static_assert(PROTO_MAX_MODIFY <= PROTO_MAX_MEMBERS, "an update names at most a group's members");

struct db {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	struct db_update update;
	struct db_update_lists lists;
};

/* Where chat ids come from; tests replace it to force a collision. */
void (*db_random_fn)(void *buf, size_t len) = randombytes_buf;

static void
db_fail(struct db *st, const char *what)
{
	srv_log("db: %s: %s", what, sqlite3_errmsg(st->db));
}

/* ---- statement helpers -------------------------------------------------
 *
 * Each returns 0 or -1 (having logged why).  Text and blobs are bound
 * SQLITE_STATIC: every use ends with stmt_done(), which clears the bindings
 * before the caller's buffers can go away. */

static sqlite3_stmt *
stmt(struct db *st, int which)
{
	return st->st[which];
}

static void
stmt_done(sqlite3_stmt *s)
{
	/* The return value of reset repeats the last step's error, which the
	 * caller has already handled. */
	(void)sqlite3_reset(s);
	(void)sqlite3_clear_bindings(s);
}

static int
bind_text(struct db *st, sqlite3_stmt *s, int i, const char *v)
{
	int rc = v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);

	if (rc != SQLITE_OK) {
		db_fail(st, "bind");
		return -1;
	}
	return 0;
}

static int
bind_int(struct db *st, sqlite3_stmt *s, int i, int64_t v)
{
	if (sqlite3_bind_int64(s, i, v) != SQLITE_OK) {
		db_fail(st, "bind");
		return -1;
	}
	return 0;
}

static int
bind_blob(struct db *st, sqlite3_stmt *s, int i, const void *v, size_t n)
{
	/* zeroblob-safe: a zero-length blob with a NULL pointer would bind
	 * NULL, which NOT NULL columns refuse; an empty string does not. */
	static const uint8_t empty[1];

	if (sqlite3_bind_blob64(s, i, n ? v : empty, n, SQLITE_STATIC) != SQLITE_OK) {
		db_fail(st, "bind");
		return -1;
	}
	return 0;
}

/* Step a statement that returns no rows; -1 on error. */
static int
step_done(struct db *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE) {
		db_fail(st, what);
		stmt_done(s);
		return -1;
	}
	stmt_done(s);
	return 0;
}

/* Step for at most one row: 1 row (statement left on it), 0 none, -1 error.
 * The caller calls stmt_done() after reading a row. */
static int
step_row(struct db *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		db_fail(st, what);
	stmt_done(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Transactions.  Every BEGIN, COMMIT and ROLLBACK of the store goes through
 * this pair, the schema's at open included.  Group commit (one transaction
 * per pass of the service loop, a savepoint per request, replies after the
 * COMMIT: DESIGN.md, "Performance") is then a change here alone: begin opens
 * a savepoint inside the loop's transaction, and end releases it or rolls
 * back to it.
 */
enum db_tx_kind { DB_TX_READ, DB_TX_WRITE };
enum db_tx_end { DB_TX_ROLLBACK, DB_TX_COMMIT };

/* BEGIN IMMEDIATE for a write (it takes the write lock at once, so a
 * transaction never fails half-way for want of it); BEGIN for a read, whose
 * snapshot then holds for every query until its end.  0, or -1. */
static int
db_tx_begin(struct db *st, enum db_tx_kind kind)
{
	return step_done(st, stmt(st, kind == DB_TX_WRITE ? ST_BEGIN : ST_BEGIN_READ), "begin");
}

/* COMMIT: 0, or -1, and then the transaction may still be open: end it
 * again with DB_TX_ROLLBACK.  ROLLBACK (of a read, or on any failure): of
 * the open transaction, if any, since a failed COMMIT may or may not have
 * ended it; always 0. */
static int
db_tx_end(struct db *st, enum db_tx_end end)
{
	if (end == DB_TX_COMMIT)
		return step_done(st, stmt(st, ST_COMMIT), "commit");
	if (!sqlite3_get_autocommit(st->db))
		(void)step_done(st, stmt(st, ST_ROLLBACK), "rollback");
	return 0;
}

/* Copy a text column into a fixed buffer; -1 if it does not fit. */
static int
col_text(sqlite3_stmt *s, int col, char *out, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	size_t n = (size_t)sqlite3_column_bytes(s, col);

	if (t == NULL || n >= cap)
		return -1;
	memcpy(out, t, n + 1);
	return 0;
}

static int
col_blob(sqlite3_stmt *s, int col, uint8_t *out, size_t len)
{
	const void *b = sqlite3_column_blob(s, col);

	if (b == NULL || (size_t)sqlite3_column_bytes(s, col) != len)
		return -1;
	memcpy(out, b, len);
	return 0;
}

/* ---- open and schema --------------------------------------------------- */

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
static const char *const migrations[] = {migrate_v2_sql, migrate_v3_sql, migrate_v4_sql,
					 migrate_v5_sql, migrate_v6_sql, migrate_v7_sql,
					 migrate_v8_sql};
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
static int
create_private(const char *path, char *err, size_t errlen)
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

/* ---- blobs ------------------------------------------------------------- */

enum db_status
db_blob_create(struct db *st, const char *blob_id, const char *user, uint32_t device_id,
	       int64_t max_size, int64_t now)
{
	sqlite3_stmt *s = stmt(st, ST_BLOB_INSERT);
	int rc;

	if (bind_text(st, s, 1, blob_id) || bind_text(st, s, 2, user) ||
	    bind_int(st, s, 3, device_id) || bind_int(st, s, 4, max_size) ||
	    bind_int(st, s, 5, now)) {
		stmt_done(s);
		return DB_INTERNAL;
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_CONSTRAINT_PRIMARYKEY)
		db_fail(st, "insert blob");
	stmt_done(s);
	return rc == SQLITE_DONE                    ? DB_OK
	       : rc == SQLITE_CONSTRAINT_PRIMARYKEY ? DB_DUPLICATE
						    : DB_INTERNAL;
}

enum db_status
db_blob_get(struct db *st, const char *blob_id, struct db_blob *out)
{
	sqlite3_stmt *s = stmt(st, ST_BLOB_GET);
	int r;

	memset(out, 0, sizeof *out);
	if (bind_text(st, s, 1, blob_id) != 0) {
		stmt_done(s);
		return DB_INTERNAL;
	}
	if ((r = step_row(st, s, "blob")) <= 0)
		return r == 0 ? DB_NOT_FOUND : DB_INTERNAL;
	if (col_text(s, 0, out->user, sizeof out->user) != 0) {
		srv_log("db: malformed blob row %s", blob_id);
		stmt_done(s);
		return DB_INTERNAL;
	}
	out->device_id = (uint32_t)sqlite3_column_int64(s, 1);
	out->max_size = sqlite3_column_int64(s, 2);
	out->size = sqlite3_column_int64(s, 3); /* NULL reads as 0 */
	out->complete = sqlite3_column_int(s, 4);
	out->created_at = sqlite3_column_int64(s, 5);
	stmt_done(s);
	return DB_OK;
}

enum db_status
db_blob_complete(struct db *st, const char *blob_id, int64_t size, int64_t now)
{
	sqlite3_stmt *s = stmt(st, ST_BLOB_COMPLETE);

	if (bind_text(st, s, 1, blob_id) || bind_int(st, s, 2, size) || bind_int(st, s, 3, now)) {
		stmt_done(s);
		return DB_INTERNAL;
	}
	if (step_done(st, s, "complete blob") != 0)
		return DB_INTERNAL;
	return sqlite3_changes(st->db) == 1 ? DB_OK : DB_NOT_FOUND;
}

enum db_status
db_blob_readable(struct db *st, const char *blob_id, const char *user, int64_t *size)
{
	sqlite3_stmt *s = stmt(st, ST_BLOB_READABLE);
	int r;

	*size = 0;
	if (bind_text(st, s, 1, blob_id) || bind_text(st, s, 2, user)) {
		stmt_done(s);
		return DB_INTERNAL;
	}
	if ((r = step_row(st, s, "blob readable")) <= 0)
		return r == 0 ? DB_NOT_FOUND : DB_INTERNAL;
	*size = sqlite3_column_int64(s, 0);
	stmt_done(s);
	return DB_OK;
}

enum db_status
db_blob_usage(struct db *st, const char *user, uint32_t device_id, struct db_blob_usage *out)
{
	sqlite3_stmt *s = stmt(st, ST_BLOB_USAGE);

	memset(out, 0, sizeof *out);
	if (bind_text(st, s, 1, user) || bind_int(st, s, 2, device_id)) {
		stmt_done(s);
		return DB_INTERNAL;
	}
	if (step_row(st, s, "blob usage") != 1)
		return DB_INTERNAL; /* an aggregate always has its row */
	out->pending = sqlite3_column_int64(s, 0);
	out->pending_bytes = sqlite3_column_int64(s, 1);
	out->stored_bytes = sqlite3_column_int64(s, 2);
	stmt_done(s);
	return DB_OK;
}

enum db_status
db_blob_purge(struct db *st, int64_t cutoff, db_blob_fn *fn, void *udata, int64_t *n)
{
	sqlite3_stmt *s = stmt(st, ST_BLOB_PURGE_LIST);
	char(*ids)[PROTO_MESSAGE_ID_LEN + 1] = NULL, (*nids)[PROTO_MESSAGE_ID_LEN + 1];
	size_t count = 0, cap = 0, i;
	int rc;

	*n = 0;
	if (db_tx_begin(st, DB_TX_WRITE) != 0)
		return DB_INTERNAL;
	if (bind_int(st, s, 1, cutoff) != 0) {
		stmt_done(s);
		goto fail;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nids = realloc(ids, cap * sizeof *ids)) == NULL) {
				srv_log("db: blob purge: out of memory");
				stmt_done(s);
				goto fail;
			}
			ids = nids;
		}
		if (col_text(s, 0, ids[count], sizeof ids[count]) != 0) {
			srv_log("db: malformed blob id");
			stmt_done(s);
			goto fail;
		}
		count++;
	}
	if (rc != SQLITE_DONE) {
		db_fail(st, "blob purge list");
		stmt_done(s);
		goto fail;
	}
	stmt_done(s);
	/* The dangling references first: message_blobs refers to blobs. */
	if (step_done(st, stmt(st, ST_BLOB_PURGE_REFS), "blob purge refs") != 0)
		goto fail;
	s = stmt(st, ST_BLOB_DELETE);
	for (i = 0; i < count; i++) {
		if (bind_text(st, s, 1, ids[i]) != 0) {
			stmt_done(s);
			goto fail;
		}
		if (step_done(st, s, "blob delete") != 0)
			goto fail;
	}
	if (db_tx_end(st, DB_TX_COMMIT) != 0)
		goto fail;
	for (i = 0; i < count; i++)
		fn(udata, ids[i]);
	*n = (int64_t)count;
	free(ids);
	return DB_OK;
fail:
	db_tx_end(st, DB_TX_ROLLBACK);
	free(ids);
	return DB_INTERNAL;
}

/* Prepare the statements of the table from first to before end, kept for
 * the life of the handle: 0, or -1 with a reason in err. */
static int
prepare(struct db *st, int first, int end, char *err, size_t errlen, const char *path)
{
	for (int i = first; i < end; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &st->st[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "%s: prepare %s: %s", path, stmt_sql[i],
				 sqlite3_errmsg(st->db));
			return -1;
		}
	}
	return 0;
}

struct db *
db_open(const char *path, char *err, size_t errlen)
{
	struct db *st = calloc(1, sizeof *st);
	char inner[256];
	int64_t from = 0;

	if (st == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (create_private(path, err, errlen) != 0) {
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
	if (set_wal(st, inner, sizeof inner) != 0) {
		snprintf(err, errlen, "%s: %s", path, inner);
		goto fail;
	}
	if (exec(st, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;", "pragmas") != 0) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(st->db));
		goto fail;
	}
	/* The transactions' own statements first: the schema's check and
	 * migrations run in a transaction too. */
	if (prepare(st, 0, ST_TX_COUNT, err, errlen, path) != 0)
		goto fail;
	if (check_schema(st, &from, inner, sizeof inner) != 0) {
		snprintf(err, errlen, "%s: %s", path, inner);
		goto fail;
	}
	if (from != 0 && from != DB_SCHEMA_VERSION)
		srv_log("db: %s: migrated the schema from version %lld to %d", path,
			(long long)from, DB_SCHEMA_VERSION);
	if (exec(st, "PRAGMA foreign_keys=ON;", "pragmas") != 0) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(st->db));
		goto fail;
	}
	if (prepare(st, ST_TX_COUNT, ST_COUNT, err, errlen, path) != 0)
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
	for (i = 0; i < ST_COUNT; i++)
		(void)sqlite3_finalize(st->st[i]); /* NULL is a no-op */
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		srv_log("db: close: %s", sqlite3_errmsg(st->db));
	free(st);
}

/* ---- users and devices ------------------------------------------------- */

/* 1 the user exists, 0 not, -1 error. */
static int
user_exists(struct db *st, const char *user)
{
	sqlite3_stmt *s = stmt(st, ST_USER_EXISTS);
	int r;

	if (bind_text(st, s, 1, user) != 0) {
		stmt_done(s);
		return -1;
	}
	r = step_row(st, s, "user exists");
	if (r == 1)
		stmt_done(s);
	return r;
}

/* 1 if subject has taken part in a chat viewer is in, 0 not, -1 error. */
static int
is_contact(struct db *st, const char *viewer, const char *subject)
{
	sqlite3_stmt *s = stmt(st, ST_IS_CONTACT);
	int r;

	if (strcmp(viewer, subject) == 0)
		return 1;
	if (bind_text(st, s, 1, viewer) || bind_text(st, s, 2, subject)) {
		stmt_done(s);
		return -1;
	}
	r = step_row(st, s, "contact");
	if (r == 1)
		stmt_done(s);
	return r;
}

enum db_status
db_is_contact(struct db *st, const char *viewer, const char *subject)
{
	int r = is_contact(st, viewer, subject);

	return r < 0 ? DB_INTERNAL : r ? DB_OK : DB_NOT_FOUND;
}

/* user has taken part in the chat (see db_is_contact): 0 or -1. */
static int
note_activity(struct db *st, const char *chat_id, const char *user)
{
	sqlite3_stmt *s = stmt(st, ST_ACTIVITY);

	if (bind_text(st, s, 1, chat_id) || bind_text(st, s, 2, user)) {
		stmt_done(s);
		return -1;
	}
	return step_done(st, s, "chat activity");
}

enum db_status
db_user_exists(struct db *st, const char *user)
{
	int r = user_exists(st, user);

	return r < 0 ? DB_INTERNAL : r ? DB_OK : DB_NOT_FOUND;
}

/* Who holds this identity key: 1 found (owner filled; *first 1 if it is
 * the user's first device, the one register made), 0 none, -1 error. */
static int
key_owner(struct db *st, const uint8_t key[PROTO_KEY_BYTES], char owner[PROTO_USER_MAX + 1],
	  uint32_t *device_id, int *first)
{
	sqlite3_stmt *s = stmt(st, ST_DEVICE_BY_KEY);
	int r;

	if (bind_blob(st, s, 1, key, PROTO_KEY_BYTES) != 0) {
		stmt_done(s);
		return -1;
	}
	r = step_row(st, s, "device by key");
	if (r == 1) {
		if (col_text(s, 0, owner, PROTO_USER_MAX + 1) != 0)
			r = -1;
		*device_id = (uint32_t)sqlite3_column_int64(s, 1);
		*first = sqlite3_column_int(s, 2);
		stmt_done(s);
	}
	return r;
}

/* One integer of one row (bound to one text parameter): 0, or -1 on error
 * or no row. */
static int
query_text_int(struct db *st, int which, const char *arg, int64_t *out, const char *what)
{
	sqlite3_stmt *s = stmt(st, which);
	int r;

	if (bind_text(st, s, 1, arg) != 0) {
		stmt_done(s);
		return -1;
	}
	if ((r = step_row(st, s, what)) != 1) {
		if (r == 0)
			srv_log("db: %s: no row for %s", what, arg);
		return -1;
	}
	*out = sqlite3_column_int64(s, 0);
	stmt_done(s);
	return 0;
}

static int
insert_device(struct db *st, const char *user, uint32_t device_id, const char *name,
	      const uint8_t *ik, const uint8_t *xk, const uint8_t *xsig, const uint8_t *approver,
	      const uint8_t *approval, int64_t now)
{
	sqlite3_stmt *s = stmt(st, ST_DEVICE_INSERT);
	int rc = 0;

	if (bind_text(st, s, 1, user) || bind_int(st, s, 2, device_id) ||
	    bind_text(st, s, 3, name) || bind_blob(st, s, 4, ik, PROTO_KEY_BYTES) ||
	    bind_blob(st, s, 5, xk, PROTO_KEY_BYTES) ||
	    bind_blob(st, s, 6, xsig, PROTO_SIG_BYTES) || bind_int(st, s, 7, now))
		rc = -1;
	/* A first device has no approval: both stay NULL. */
	if (rc == 0 && approver != NULL &&
	    (bind_blob(st, s, 8, approver, PROTO_KEY_BYTES) ||
	     bind_blob(st, s, 9, approval, PROTO_SIG_BYTES)))
		rc = -1;
	if (rc != 0) {
		stmt_done(s);
		return -1;
	}
	return step_done(st, s, "insert device");
}

static int
insert_user_device(struct db *st, const char *user, const char *name, const uint8_t *ik,
		   const uint8_t *xk, const uint8_t *xsig, int64_t now)
{
	sqlite3_stmt *s = stmt(st, ST_USER_INSERT);

	if (bind_text(st, s, 1, user) || bind_int(st, s, 2, now)) {
		stmt_done(s);
		return -1;
	}
	if (step_done(st, s, "insert user") != 0)
		return -1;
	/* The user row starts with next_device_id 2. */
	return insert_device(st, user, 1, name, ik, xk, xsig, NULL, NULL, now);
}

enum db_status
db_register(struct db *st, const char *user, const char *device_name,
	    const uint8_t identity_key[PROTO_KEY_BYTES],
	    const uint8_t exchange_key[PROTO_KEY_BYTES],
	    const uint8_t exchange_key_sig[PROTO_SIG_BYTES], int64_t now, uint32_t *device_id,
	    int *created)
{
	char owner[PROTO_USER_MAX + 1];
	uint32_t owner_device = 0;
	enum db_status ret = DB_INTERNAL;
	int exists, held = 0, first = 0;

	*created = 0;
	if (db_tx_begin(st, DB_TX_WRITE) != 0)
		return DB_INTERNAL;
	if ((exists = user_exists(st, user)) < 0 ||
	    (held = key_owner(st, identity_key, owner, &owner_device, &first)) < 0)
		goto out;
	if (exists) {
		/* A retry whose reply was lost proves itself by the key; only
		 * of the device register made, which linking never does. */
		if (held && first && strcmp(owner, user) == 0) {
			*device_id = owner_device;
			ret = DB_OK;
		} else {
			ret = DB_EXISTS;
		}
		goto out;
	}
	if (held) {
		ret = DB_KEY_TAKEN;
		goto out;
	}
	if (insert_user_device(st, user, device_name, identity_key, exchange_key, exchange_key_sig,
			       now) != 0 ||
	    db_tx_end(st, DB_TX_COMMIT) != 0)
		goto out;
	*device_id = 1;
	*created = 1;
	return DB_OK;
out:
	db_tx_end(st, DB_TX_ROLLBACK);
	return ret;
}

/* The checks a link must pass, inside the caller's transaction. */
static enum db_status
link_checks(struct db *st, const char *user, const uint8_t identity_key[PROTO_KEY_BYTES])
{
	char owner[PROTO_USER_MAX + 1];
	uint32_t owner_device;
	int64_t count;
	int r, first;

	if ((r = user_exists(st, user)) <= 0)
		return r == 0 ? DB_NOT_FOUND : DB_INTERNAL;
	if (query_text_int(st, ST_DEVICE_COUNT, user, &count, "device count") != 0)
		return DB_INTERNAL;
	if (count >= PROTO_MAX_DEVICES)
		return DB_TOO_MANY;
	if ((r = key_owner(st, identity_key, owner, &owner_device, &first)) != 0)
		return r > 0 ? DB_KEY_TAKEN : DB_INTERNAL;
	return DB_OK;
}

enum db_status
db_link_check(struct db *st, const char *user, const uint8_t identity_key[PROTO_KEY_BYTES])
{
	enum db_status ret;

	if (db_tx_begin(st, DB_TX_READ) != 0)
		return DB_INTERNAL;
	ret = link_checks(st, user, identity_key);
	db_tx_end(st, DB_TX_ROLLBACK); /* read only: ends the snapshot */
	return ret;
}

enum db_status
db_link_device(struct db *st, const struct db_new_device *d, uint32_t *device_id)
{
	sqlite3_stmt *s;
	enum db_status ret;
	int64_t next;

	*device_id = 0;
	if (db_tx_begin(st, DB_TX_WRITE) != 0)
		return DB_INTERNAL;
	if ((ret = link_checks(st, d->user, d->identity_key)) != DB_OK)
		goto out;
	ret = DB_INTERNAL;
	if (query_text_int(st, ST_USER_NEXT_DEVICE, d->user, &next, "next device id") != 0)
		goto out;
	if (next < 1 || next > PROTO_DEVICE_ID_MAX) {
		srv_log("db: user %s has used up its device ids", d->user);
		goto out;
	}
	if (insert_device(st, d->user, (uint32_t)next, d->name, d->identity_key, d->exchange_key,
			  d->exchange_key_sig, d->approver_key, d->approval, d->now) != 0)
		goto out;
	s = stmt(st, ST_USER_SET_NEXT_DEVICE);
	if (bind_text(st, s, 1, d->user) || bind_int(st, s, 2, next + 1)) {
		stmt_done(s);
		goto out;
	}
	if (step_done(st, s, "bump device id") != 0 || db_tx_end(st, DB_TX_COMMIT) != 0)
		goto out;
	*device_id = (uint32_t)next;
	return DB_OK;
out:
	db_tx_end(st, DB_TX_ROLLBACK);
	return ret;
}

/* Run a statement bound to (user, device id[, now]) that returns no rows. */
static int
device_step(struct db *st, int which, const char *user, uint32_t device_id, int64_t now,
	    const char *what)
{
	sqlite3_stmt *s = stmt(st, which);

	if (bind_text(st, s, 1, user) || bind_int(st, s, 2, device_id) ||
	    (sqlite3_bind_parameter_count(s) >= 3 && bind_int(st, s, 3, now))) {
		stmt_done(s);
		return -1;
	}
	return step_done(st, s, what);
}

enum db_status
db_remove_device(struct db *st, const char *user, uint32_t device_id, int64_t now)
{
	uint8_t ik[PROTO_KEY_BYTES];
	enum db_status ret;

	if (db_tx_begin(st, DB_TX_WRITE) != 0)
		return DB_INTERNAL;
	if ((ret = db_device_identity(st, user, device_id, ik)) != DB_OK)
		goto out;
	ret = DB_INTERNAL;
	if (device_step(st, ST_DEVICE_INBOX_DELETE, user, device_id, now, "delete inbox") != 0 ||
	    device_step(st, ST_DEVICE_RETIRE, user, device_id, now, "retire device") != 0 ||
	    device_step(st, ST_DEVICE_DELETE, user, device_id, now, "delete device") != 0 ||
	    db_tx_end(st, DB_TX_COMMIT) != 0)
		goto out;
	return DB_OK;
out:
	db_tx_end(st, DB_TX_ROLLBACK);
	return ret;
}

enum db_status
db_device_identity(struct db *st, const char *user, uint32_t device_id,
		   uint8_t identity_key[PROTO_KEY_BYTES])
{
	sqlite3_stmt *s = stmt(st, ST_DEVICE_IDENTITY);
	int r;

	if (bind_text(st, s, 1, user) || bind_int(st, s, 2, device_id)) {
		stmt_done(s);
		return DB_INTERNAL;
	}
	r = step_row(st, s, "device identity");
	if (r <= 0)
		return r == 0 ? DB_NOT_FOUND : DB_INTERNAL;
	r = col_blob(s, 0, identity_key, PROTO_KEY_BYTES);
	stmt_done(s);
	if (r != 0) {
		srv_log("db: device %s/%u has a malformed identity key", user, (unsigned)device_id);
		return DB_INTERNAL;
	}
	return DB_OK;
}

enum db_status
db_touch_device(struct db *st, const char *user, uint32_t device_id, int64_t now)
{
	sqlite3_stmt *s = stmt(st, ST_DEVICE_TOUCH);

	if (bind_text(st, s, 1, user) || bind_int(st, s, 2, device_id) || bind_int(st, s, 3, now)) {
		stmt_done(s);
		return DB_INTERNAL;
	}
	return step_done(st, s, "touch device") == 0 ? DB_OK : DB_INTERNAL;
}

enum db_status
db_last_seen(struct db *st, const char *user, int *hide, int64_t *last_seen)
{
	sqlite3_stmt *s = stmt(st, ST_LAST_SEEN);
	int rc;

	if (bind_text(st, s, 1, user)) {
		stmt_done(s);
		return DB_INTERNAL;
	}
	rc = step_row(st, s, "last seen");
	if (rc == 1) {
		*hide = sqlite3_column_int64(s, 0) != 0;
		*last_seen =
			sqlite3_column_type(s, 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 1);
		stmt_done(s);
	}
	return rc < 0 ? DB_INTERNAL : rc == 0 ? DB_NOT_FOUND : DB_OK;
}

enum db_status
db_set_hide_last_seen(struct db *st, const char *user, int hide)
{
	sqlite3_stmt *s = stmt(st, ST_SET_HIDE_LAST_SEEN);

	if (bind_text(st, s, 1, user) || bind_int(st, s, 2, hide ? 1 : 0)) {
		stmt_done(s);
		return DB_INTERNAL;
	}
	if (step_done(st, s, "set hide last seen") != 0)
		return DB_INTERNAL;
	return sqlite3_changes(st->db) > 0 ? DB_OK : DB_NOT_FOUND;
}

static int
read_device(sqlite3_stmt *s, struct db_device *d)
{
	int64_t id = sqlite3_column_int64(s, 0);

	if (id < 1 || id > PROTO_DEVICE_ID_MAX)
		return -1;
	d->device_id = (uint32_t)id;
	d->has_name = sqlite3_column_type(s, 1) != SQLITE_NULL;
	d->name[0] = '\0';
	if (d->has_name && col_text(s, 1, d->name, sizeof d->name) != 0)
		return -1;
	if (col_blob(s, 2, d->identity_key, PROTO_KEY_BYTES) != 0 ||
	    col_blob(s, 3, d->exchange_key, PROTO_KEY_BYTES) != 0 ||
	    col_blob(s, 4, d->exchange_key_sig, PROTO_SIG_BYTES) != 0)
		return -1;
	d->approved = sqlite3_column_type(s, 5) != SQLITE_NULL;
	if (d->approved != (sqlite3_column_type(s, 6) != SQLITE_NULL))
		return -1;
	if (d->approved && (col_blob(s, 5, d->approver_key, PROTO_KEY_BYTES) != 0 ||
			    col_blob(s, 6, d->approval, PROTO_SIG_BYTES) != 0))
		return -1;
	return 0;
}

enum db_status
db_user_devices(struct db *st, const char *user, struct db_device *out, size_t cap, size_t *n)
{
	sqlite3_stmt *s = stmt(st, ST_USER_DEVICES);
	int rc, exists;

	*n = 0;
	/* A user always has a device, but ask the users table anyway: "no such
	 * user" must not depend on that invariant. */
	if ((exists = user_exists(st, user)) <= 0)
		return exists == 0 ? DB_NOT_FOUND : DB_INTERNAL;
	if (bind_text(st, s, 1, user) != 0) {
		stmt_done(s);
		return DB_INTERNAL;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < cap) {
		if (read_device(s, &out[*n]) != 0) {
			srv_log("db: user %s has a malformed device row", user);
			stmt_done(s);
			return DB_INTERNAL;
		}
		(*n)++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_fail(st, "user devices");
		stmt_done(s);
		return DB_INTERNAL;
	}
	stmt_done(s);
	return DB_OK;
}

/* ---- chats ------------------------------------------------------------- */

static void
new_chat_id(char out[PROTO_CHAT_ID_LEN + 1])
{
	uint8_t raw[PROTO_CHAT_ID_LEN / 2];

	db_random_fn(raw, sizeof raw);
	sodium_bin2hex(out, PROTO_CHAT_ID_LEN + 1, raw, sizeof raw);
}

/* 1 found (chat_id filled), 0 none, -1 error. */
static int
chat_by_direct_key(struct db *st, const char *key, char chat_id[PROTO_CHAT_ID_LEN + 1])
{
	sqlite3_stmt *s = stmt(st, ST_CHAT_BY_DIRECT_KEY);
	int r;

	if (bind_text(st, s, 1, key) != 0) {
		stmt_done(s);
		return -1;
	}
	r = step_row(st, s, "chat by direct key");
	if (r == 1) {
		if (col_text(s, 0, chat_id, PROTO_CHAT_ID_LEN + 1) != 0)
			r = -1;
		stmt_done(s);
	}
	return r;
}

/* Insert the chat row under a fresh random id: 0, or -1 on error.  A clash
 * with an existing id (2^-64 per pair, but cheap to handle) draws again.
 * key is the direct key of a direct chat, name the name of a group (the
 * other NULL). */
static int
insert_chat(struct db *st, const char *creator, const char *key, const char *name, int64_t now,
	    char chat_id[PROTO_CHAT_ID_LEN + 1])
{
	sqlite3_stmt *s = stmt(st, key != NULL ? ST_CHAT_INSERT : ST_GROUP_INSERT);
	int attempt, rc;

	for (attempt = 0; attempt < 8; attempt++) {
		new_chat_id(chat_id);
		if (bind_text(st, s, 1, chat_id) || bind_text(st, s, 2, creator) ||
		    bind_int(st, s, 3, now) || bind_text(st, s, 4, key != NULL ? key : name)) {
			stmt_done(s);
			return -1;
		}
		rc = sqlite3_step(s);
		stmt_done(s);
		if (rc == SQLITE_DONE)
			return 0;
		if (sqlite3_extended_errcode(st->db) != SQLITE_CONSTRAINT_PRIMARYKEY) {
			db_fail(st, "insert chat");
			return -1;
		}
	}
	srv_log("db: insert chat: no free chat id after %d draws", attempt);
	return -1;
}

static int
insert_member(struct db *st, const char *chat_id, const char *user, const char *role, int64_t now)
{
	sqlite3_stmt *s = stmt(st, ST_MEMBER_INSERT);

	if (bind_text(st, s, 1, chat_id) || bind_text(st, s, 2, user) || bind_int(st, s, 3, now) ||
	    bind_text(st, s, 4, role)) {
		stmt_done(s);
		return -1;
	}
	return step_done(st, s, "insert member");
}

enum db_status
db_direct_chat(struct db *st, const char *creator, const char *other, int64_t now,
	       char chat_id[PROTO_CHAT_ID_LEN + 1], int *created,
	       char missing_user[PROTO_USER_MAX + 1])
{
	char key[2 * (PROTO_USER_MAX + 1)];
	const char *users[2] = {creator, other};
	enum db_status ret = DB_INTERNAL;
	int i, r;

	*created = 0;
	if (strcmp(creator, other) > 0) {
		users[0] = other;
		users[1] = creator;
	}
	snprintf(key, sizeof key, "%s\n%s", users[0], users[1]);
	if (db_tx_begin(st, DB_TX_WRITE) != 0)
		return DB_INTERNAL;
	for (i = 0; i < 2; i++) {
		if ((r = user_exists(st, users[i])) < 0)
			goto out;
		if (r == 0) {
			if (missing_user != NULL)
				snprintf(missing_user, PROTO_USER_MAX + 1, "%s", users[i]);
			ret = DB_NOT_FOUND;
			goto out;
		}
	}
	if ((r = chat_by_direct_key(st, key, chat_id)) < 0)
		goto out;
	/* Both members of a direct chat are plain members: it has no admins.
	 * Asking for it, new or not, is taking part in it. */
	if ((r == 0 && (insert_chat(st, creator, key, NULL, now, chat_id) != 0 ||
			insert_member(st, chat_id, users[0], "member", now) != 0 ||
			insert_member(st, chat_id, users[1], "member", now) != 0)) ||
	    note_activity(st, chat_id, creator) != 0 || db_tx_end(st, DB_TX_COMMIT) != 0)
		goto out;
	*created = r == 0;
	return DB_OK;
out:
	db_tx_end(st, DB_TX_ROLLBACK);
	return ret;
}

/* The chat's members and its admins, each sorted by name: 0 or -1. */
static int
chat_members(struct db *st, const char *chat_id, char (*members)[PROTO_USER_MAX + 1],
	     size_t *n_members, char (*admins)[PROTO_USER_MAX + 1], size_t *n_admins)
{
	sqlite3_stmt *s = stmt(st, ST_CHAT_MEMBERS);
	const unsigned char *role;
	int rc;

	*n_members = *n_admins = 0;
	if (bind_text(st, s, 1, chat_id) != 0) {
		stmt_done(s);
		return -1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n_members >= PROTO_MAX_MEMBERS ||
		    col_text(s, 0, members[*n_members], PROTO_USER_MAX + 1) != 0 ||
		    (role = sqlite3_column_text(s, 1)) == NULL) {
			srv_log("db: chat %s has a malformed member list", chat_id);
			stmt_done(s);
			return -1;
		}
		if (strcmp((const char *)role, "admin") == 0)
			memcpy(admins[(*n_admins)++], members[*n_members], PROTO_USER_MAX + 1);
		(*n_members)++;
	}
	if (rc != SQLITE_DONE) {
		db_fail(st, "chat members");
		stmt_done(s);
		return -1;
	}
	stmt_done(s);
	return 0;
}

/* The chat's kind and name if user is a member: 1 (filled), 0 not (or no
 * such chat), -1 error. */
static int
chat_as_member(struct db *st, const char *chat_id, const char *user, struct db_chat *out)
{
	sqlite3_stmt *s = stmt(st, ST_CHAT_GET);
	int r;

	if (bind_text(st, s, 1, chat_id) || bind_text(st, s, 2, user)) {
		stmt_done(s);
		return -1;
	}
	r = step_row(st, s, "get chat");
	if (r <= 0)
		return r;
	snprintf(out->chat_id, sizeof out->chat_id, "%s", chat_id);
	out->has_name = sqlite3_column_type(s, 1) != SQLITE_NULL;
	out->name[0] = '\0';
	r = col_text(s, 0, out->kind, sizeof out->kind);
	if (r == 0 && out->has_name)
		r = col_text(s, 1, out->name, sizeof out->name);
	out->created_at = sqlite3_column_int64(s, 2);
	stmt_done(s);
	if (r != 0) {
		srv_log("db: chat %s has a malformed kind or name", chat_id);
		return -1;
	}
	return 1;
}

enum db_status
db_get_chat(struct db *st, const char *chat_id, const char *viewer, struct db_chat *out)
{
	enum db_status ret = DB_INTERNAL;
	int r;

	/* One read transaction: the members cannot change between the two
	 * queries. */
	if (db_tx_begin(st, DB_TX_READ) != 0)
		return DB_INTERNAL;
	if ((r = chat_as_member(st, chat_id, viewer, out)) <= 0) {
		if (r == 0)
			ret = DB_NOT_FOUND;
	} else if (chat_members(st, chat_id, out->members, &out->n_members, out->admins,
				&out->n_admins) == 0) {
		ret = DB_OK;
	}
	db_tx_end(st, DB_TX_ROLLBACK); /* read only: ends the snapshot */
	return ret;
}

/* ---- groups ------------------------------------------------------------ */

/* Defined with the messages and the retention below. */
static int take_seq(struct db *st, const char *chat_id, int64_t *seq);
static int addr_push(struct db_addr **v, size_t *n, const struct db_addr *a);
static int cutoff_step(struct db *st, int which, int64_t cutoff, const char *what,
		       int64_t *changes);

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

void
db_change_result_free(struct db_change_result *res)
{
	free(res->recipients);
	res->recipients = NULL;
	res->n_recipients = 0;
}

/* ---- what an update says, as stored (version 8's form, at the schema) ---- */

static const char *const update_ops[] = {
	[DB_OP_CREATE] = "create",
	[DB_OP_ADD] = "add",
	[DB_OP_REMOVE] = "remove",
	[DB_OP_LEAVE] = "leave",
};

/* Write n names separated by spaces at p, then end; returns past it. */
static char *
put_names(char *p, const char (*names)[PROTO_USER_MAX + 1], size_t n, char end)
{
	size_t i, len;

	for (i = 0; i < n; i++) {
		len = strlen(names[i]);
		if (i > 0)
			*p++ = ' ';
		memcpy(p, names[i], len);
		p += len;
	}
	*p++ = end;
	return p;
}

/* The body an update is stored as; malloc'd, NULL when out of memory. */
static char *
update_body(const struct db_update *u)
{
	size_t n = u->n_users + u->n_participants + u->n_admins;
	char *body = malloc(16 + n * (PROTO_USER_MAX + 1)), *p = body;
	size_t len = strlen(update_ops[u->op]);

	if (body == NULL)
		return NULL;
	memcpy(p, update_ops[u->op], len);
	p[len] = '\n';
	p = put_names(p + len + 1, u->users, u->n_users, '\n');
	p = put_names(p, u->participants, u->n_participants, '\n');
	(void)put_names(p, u->admins, u->n_admins, '\0');
	return body;
}

/* Read the line of names at *p (up to end, a line break or the NUL) into
 * out, at most cap, and step *p past it: 0, or -1 if it is malformed. */
static int
take_names(const char **p, char end, char (*out)[PROTO_USER_MAX + 1], size_t cap, size_t *n)
{
	const char *s = *p, *stop = strchr(s, end), *sp;
	size_t len;

	*n = 0;
	if (stop == NULL)
		return -1;
	while (s < stop) {
		sp = memchr(s, ' ', (size_t)(stop - s));
		len = (size_t)((sp != NULL ? sp : stop) - s);
		if (*n == cap || len == 0 || len > PROTO_USER_MAX)
			return -1;
		memcpy(out[*n], s, len);
		out[*n][len] = '\0';
		if (!proto_valid_user(out[*n]))
			return -1;
		(*n)++;
		s += len;
		if (sp != NULL && ++s == stop)
			return -1; /* a space at the end */
	}
	*p = end != '\0' ? stop + 1 : stop;
	return 0;
}

/* Fill u's operation and lists (into st->lists) from a stored body: 0, or
 * -1 if it is malformed. */
static int
parse_update(struct db *st, const char *body, struct db_update *u)
{
	struct db_update_lists *l = &st->lists;
	const char *nl = strchr(body, '\n');
	size_t op;

	for (op = 0; nl != NULL && op < sizeof update_ops / sizeof *update_ops; op++) {
		if (strlen(update_ops[op]) == (size_t)(nl - body) &&
		    memcmp(update_ops[op], body, (size_t)(nl - body)) == 0)
			break;
	}
	if (nl == NULL || op == sizeof update_ops / sizeof *update_ops)
		return -1;
	u->op = (enum db_update_op)op;
	body = nl + 1;
	if (take_names(&body, '\n', l->users, PROTO_MAX_MEMBERS, &u->n_users) != 0 ||
	    take_names(&body, '\n', l->participants, PROTO_MAX_MEMBERS, &u->n_participants) != 0 ||
	    take_names(&body, '\0', l->admins, PROTO_MAX_MEMBERS, &u->n_admins) != 0)
		return -1;
	u->users = (const char(*)[PROTO_USER_MAX + 1]) l->users;
	u->participants = (const char(*)[PROTO_USER_MAX + 1]) l->participants;
	u->admins = (const char(*)[PROTO_USER_MAX + 1]) l->admins;
	return 0;
}

/* Run a statement bound to (text, text[, int]) that returns no rows. */
static int
text_step(struct db *st, int which, const char *a, const char *b, int64_t n, const char *what)
{
	sqlite3_stmt *s = stmt(st, which);

	if (bind_text(st, s, 1, a) || bind_text(st, s, 2, b) ||
	    (sqlite3_bind_parameter_count(s) >= 3 && bind_int(st, s, 3, n))) {
		stmt_done(s);
		return -1;
	}
	return step_done(st, s, what);
}

/* The devices that got the update's rows, into res->recipients. */
static int
update_recipients(struct db *st, struct db_change_result *res)
{
	sqlite3_stmt *s = stmt(st, ST_INBOX_RECIPIENTS);
	struct db_addr a;
	int rc;

	if (bind_text(st, s, 1, res->update_id) != 0) {
		stmt_done(s);
		return -1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (col_text(s, 0, a.user, sizeof a.user) != 0 ||
		    addr_push(&res->recipients, &res->n_recipients, &a) != 0) {
			srv_log("db: update recipients: malformed row or out of memory");
			stmt_done(s);
			return -1;
		}
		res->recipients[res->n_recipients - 1].device_id =
			(uint32_t)sqlite3_column_int64(s, 1);
	}
	stmt_done(s);
	if (rc != SQLITE_DONE) {
		db_fail(st, "update recipients");
		return -1;
	}
	return 0;
}

/*
 * Store the update of a change already written to chat_members: read the
 * members and admins after it into res, take the next seq, store what it
 * says and one inbox row for every device of every member and of every user
 * in removed.  Inside the caller's transaction; 0 or -1.
 */
static int
write_update(struct db *st, const struct db_chat *chat, const char *actor, uint32_t actor_device,
	     const char (*users)[PROTO_USER_MAX + 1], size_t n_users, int removed, int64_t now,
	     struct db_change_result *res)
{
	char(*sorted)[PROTO_USER_MAX + 1] = NULL;
	uint8_t raw[PROTO_MESSAGE_ID_LEN / 2];
	struct db_update u;
	sqlite3_stmt *s;
	char *body = NULL;
	size_t i;
	int rc = -1;

	if (chat_members(st, chat->chat_id, res->participants, &res->n_participants, res->admins,
			 &res->n_admins) != 0 ||
	    take_seq(st, chat->chat_id, &res->seq) != 0)
		return -1;
	db_random_fn(raw, sizeof raw);
	sodium_bin2hex(res->update_id, sizeof res->update_id, raw, sizeof raw);
	snprintf(res->chat_id, sizeof res->chat_id, "%s", chat->chat_id);
	res->has_name = chat->has_name;
	snprintf(res->name, sizeof res->name, "%s", chat->has_name ? chat->name : "");
	res->sent_at = now;
	if ((sorted = malloc((n_users ? n_users : 1) * sizeof *sorted)) == NULL)
		goto out;
	memcpy(sorted, users, n_users * sizeof *sorted);
	qsort(sorted, n_users, sizeof *sorted, name_cmp);
	u = (struct db_update){
		.chat_id = chat->chat_id,
		.update_id = res->update_id,
		.seq = res->seq,
		.sent_at = now,
		.kind = chat->kind,
		.name = chat->has_name ? chat->name : NULL,
		.actor = actor,
		.op = res->op,
		.users = (const char(*)[PROTO_USER_MAX + 1]) sorted,
		.n_users = n_users,
		.participants = (const char(*)[PROTO_USER_MAX + 1]) res->participants,
		.n_participants = res->n_participants,
		.admins = (const char(*)[PROTO_USER_MAX + 1]) res->admins,
		.n_admins = res->n_admins,
	};
	if ((body = update_body(&u)) == NULL) {
		srv_log("db: out of memory storing an update");
		goto out;
	}
	s = stmt(st, ST_UPDATE_INSERT);
	if (bind_text(st, s, 1, res->update_id) || bind_text(st, s, 2, chat->chat_id) ||
	    bind_text(st, s, 3, actor) || bind_int(st, s, 4, actor_device) ||
	    bind_int(st, s, 5, res->seq) || bind_int(st, s, 6, now) || bind_text(st, s, 7, body)) {
		stmt_done(s);
		goto out;
	}
	if (step_done(st, s, "insert update") != 0 ||
	    text_step(st, ST_INBOX_UPDATE_MEMBERS, chat->chat_id, res->update_id, now,
		      "update rows of members") != 0)
		goto out;
	for (i = 0; removed && i < n_users; i++) {
		if (text_step(st, ST_INBOX_UPDATE_USER, users[i], res->update_id, now,
			      "update rows of the removed") != 0)
			goto out;
	}
	rc = update_recipients(st, res);
out:
	free(body);
	free(sorted);
	return rc;
}

/* A count query bound to (text, int): the count, or -1. */
static int64_t
count_since(struct db *st, int which, const char *who, int64_t since)
{
	sqlite3_stmt *s = stmt(st, which);
	int64_t n;

	if (bind_text(st, s, 1, who) || bind_int(st, s, 2, since)) {
		stmt_done(s);
		return -1;
	}
	if (step_row(st, s, "count adds") != 1)
		return -1;
	n = sqlite3_column_int64(s, 0);
	stmt_done(s);
	return n;
}

#define DAY_MS  (24LL * 60 * 60 * 1000)
#define HOUR_MS (60LL * 60 * 1000)

/*
 * The limits on adding strangers (db_add_limits): each of users (but the
 * actor) whom the actor is not a contact of counts once for them (per day)
 * and once for the actor (per hour). 0 if all may be added (and they are
 * recorded), 1 if not (res->bad_user, res->adder_limited), -1 on error.
 * Inside the caller's transaction.
 */
static int
check_adds(struct db *st, const char *actor, const char (*users)[PROTO_USER_MAX + 1], size_t n,
	   const struct db_add_limits *lim, int64_t now, struct db_change_result *res)
{
	int64_t by_actor = -1, count;
	size_t i;
	int r;

	if (lim->per_target_day <= 0 && lim->per_adder_hour <= 0)
		return 0;
	for (i = 0; i < n; i++) {
		if ((r = is_contact(st, actor, users[i])) < 0)
			return -1;
		if (r == 1)
			continue;
		if (by_actor < 0 &&
		    (by_actor = count_since(st, ST_ADDS_ADDER, actor, now - HOUR_MS)) < 0)
			return -1;
		if ((count = count_since(st, ST_ADDS_TARGET, users[i], now - DAY_MS)) < 0)
			return -1;
		res->adder_limited = lim->per_adder_hour > 0 && by_actor >= lim->per_adder_hour;
		if (res->adder_limited ||
		    (lim->per_target_day > 0 && count >= lim->per_target_day)) {
			snprintf(res->bad_user, sizeof res->bad_user, "%s", users[i]);
			return 1;
		}
		if (text_step(st, ST_ADDS_INSERT, users[i], actor, now, "record an add") != 0)
			return -1;
		by_actor++;
	}
	/* Records older than the longest window are of no more use. */
	return cutoff_step(st, ST_ADDS_PRUNE, now - DAY_MS, "prune adds", NULL);
}

/* The members just added took the update's place in the sequence: what they
 * may download starts after it. 0 or -1. */
static int
set_joined(struct db *st, const char *chat_id, const char (*users)[PROTO_USER_MAX + 1], size_t n,
	   int64_t seq)
{
	for (size_t i = 0; i < n; i++) {
		if (text_step(st, ST_MEMBER_SET_JOINED, chat_id, users[i], seq, "joined seq") != 0)
			return -1;
	}
	return 0;
}

enum db_status
db_create_group(struct db *st, const struct db_group_create *req, struct db_change_result *res)
{
	char(*all)[PROTO_USER_MAX + 1] = NULL;
	struct db_chat chat;
	enum db_status ret = DB_INTERNAL;
	size_t i, n = 1;
	int r;

	memset(res, 0, sizeof *res);
	res->op = DB_OP_CREATE;
	for (i = 0; i < req->n_members; i++)
		n += strcmp(req->members[i], req->creator) != 0;
	if (n > PROTO_MAX_MEMBERS)
		return DB_TOO_LARGE;
	/* Everyone joins by the creation: the update's users are all the
	 * members, the creator first (write_update sorts them). */
	if ((all = malloc(n * sizeof *all)) == NULL)
		return DB_INTERNAL;
	snprintf(all[0], sizeof all[0], "%s", req->creator);
	for (i = 0, n = 1; i < req->n_members; i++) {
		if (strcmp(req->members[i], req->creator) != 0)
			memcpy(all[n++], req->members[i], sizeof all[0]);
	}
	if (db_tx_begin(st, DB_TX_WRITE) != 0) {
		free(all);
		return DB_INTERNAL;
	}
	for (i = 1; i < n; i++) {
		if ((r = user_exists(st, all[i])) < 0)
			goto out;
		if (r == 0) {
			snprintf(res->bad_user, sizeof res->bad_user, "%s", all[i]);
			ret = DB_UNKNOWN_USER;
			goto out;
		}
	}
	if ((r = check_adds(st, req->creator, (const char(*)[PROTO_USER_MAX + 1]) all + 1, n - 1,
			    &req->limits, req->now, res)) != 0) {
		if (r == 1)
			ret = DB_TOO_MANY_ADDS;
		goto out;
	}
	memset(&chat, 0, sizeof chat);
	snprintf(chat.kind, sizeof chat.kind, "group");
	chat.has_name = 1;
	snprintf(chat.name, sizeof chat.name, "%s", req->name);
	if (insert_chat(st, req->creator, NULL, req->name, req->now, chat.chat_id) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (insert_member(st, chat.chat_id, all[i], i == 0 ? "admin" : "member",
				  req->now) != 0)
			goto out;
	}
	if (write_update(st, &chat, req->creator, req->creator_device,
			 (const char(*)[PROTO_USER_MAX + 1]) all, n, 0, req->now, res) != 0 ||
	    set_joined(st, chat.chat_id, (const char(*)[PROTO_USER_MAX + 1]) all, n, res->seq) !=
		    0 ||
	    note_activity(st, chat.chat_id, req->creator) != 0 || db_tx_end(st, DB_TX_COMMIT) != 0)
		goto out;
	free(all);
	return DB_OK;
out:
	db_tx_end(st, DB_TX_ROLLBACK);
	free(all);
	db_change_result_free(res);
	return ret;
}

/* The role of user in the chat: 1 admin, 0 member, -2 not a member, -1 error. */
static int
member_role(struct db *st, const char *chat_id, const char *user)
{
	sqlite3_stmt *s = stmt(st, ST_MEMBER_ROLE);
	const unsigned char *role;
	int r;

	if (bind_text(st, s, 1, chat_id) || bind_text(st, s, 2, user)) {
		stmt_done(s);
		return -1;
	}
	if ((r = step_row(st, s, "member role")) <= 0)
		return r == 0 ? -2 : -1;
	role = sqlite3_column_text(s, 0);
	r = role != NULL && strcmp((const char *)role, "admin") == 0;
	stmt_done(s);
	return r;
}

/* After a removal: if members remain and none is an admin, the one who
 * joined first (ties by name) becomes one.  0 or -1. */
static int
keep_an_admin(struct db *st, const char *chat_id)
{
	struct db_chat *c = malloc(sizeof *c);
	char first[PROTO_USER_MAX + 1];
	sqlite3_stmt *s;
	int r, rc = -1;

	if (c == NULL)
		return -1;
	if (chat_members(st, chat_id, c->members, &c->n_members, c->admins, &c->n_admins) != 0)
		goto out;
	rc = 0;
	if (c->n_members == 0 || c->n_admins > 0)
		goto out;
	rc = -1;
	s = stmt(st, ST_MEMBER_FIRST);
	if (bind_text(st, s, 1, chat_id) != 0) {
		stmt_done(s);
		goto out;
	}
	if ((r = step_row(st, s, "first member")) != 1)
		goto out;
	r = col_text(s, 0, first, sizeof first);
	stmt_done(s);
	if (r != 0)
		goto out;
	s = stmt(st, ST_MEMBER_SET_ROLE);
	if (bind_text(st, s, 1, chat_id) || bind_text(st, s, 2, first) ||
	    bind_text(st, s, 3, "admin")) {
		stmt_done(s);
		goto out;
	}
	if (step_done(st, s, "promote") != 0)
		goto out;
	srv_log("db: chat %s: %s is admin now, the last admin having left", chat_id, first);
	rc = 0;
out:
	free(c);
	return rc;
}

enum db_status
db_change_group(struct db *st, const struct db_group_change *req, struct db_change_result *res)
{
	struct db_chat *chat = malloc(sizeof *chat);
	enum db_status ret = DB_INTERNAL;
	size_t i, n_members;
	int r, role;

	memset(res, 0, sizeof *res);
	res->op = req->add ? DB_OP_ADD : DB_OP_REMOVE;
	if (chat == NULL)
		return DB_INTERNAL;
	if (db_tx_begin(st, DB_TX_WRITE) != 0) {
		free(chat);
		return DB_INTERNAL;
	}
	/* Checks first, in the order of PROTOCOL.md; nothing is written
	 * until every one has passed. */
	if ((r = chat_as_member(st, req->chat_id, req->actor, chat)) <= 0) {
		if (r == 0)
			ret = DB_NOT_FOUND;
		goto out;
	}
	if (strcmp(chat->kind, "group") != 0) {
		ret = DB_WRONG_KIND;
		goto out;
	}
	if ((role = member_role(st, req->chat_id, req->actor)) < 0)
		goto out;
	if (!req->add && req->n_users == 1 && strcmp(req->users[0], req->actor) == 0)
		res->op = DB_OP_LEAVE; /* anyone may leave */
	else if (!role) {
		ret = DB_NOT_ADMIN;
		goto out;
	}
	for (i = 0; i < req->n_users; i++) {
		if ((r = user_exists(st, req->users[i])) < 0)
			goto out;
		if (r == 0)
			ret = DB_UNKNOWN_USER;
		else if ((r = member_role(st, req->chat_id, req->users[i])) == -1)
			goto out;
		else if (req->add && r != -2)
			ret = DB_ALREADY_MEMBER;
		else if (!req->add && r == -2)
			ret = DB_NOT_MEMBER;
		if (ret != DB_INTERNAL) {
			snprintf(res->bad_user, sizeof res->bad_user, "%s", req->users[i]);
			goto out;
		}
	}
	if (chat_members(st, req->chat_id, chat->members, &n_members, chat->admins,
			 &chat->n_admins) != 0)
		goto out;
	if (req->add && n_members + req->n_users > PROTO_MAX_MEMBERS) {
		ret = DB_TOO_LARGE;
		goto out;
	}
	if (req->add && (r = check_adds(st, req->actor, req->users, req->n_users, &req->limits,
					req->now, res)) != 0) {
		if (r == 1)
			ret = DB_TOO_MANY_ADDS;
		goto out;
	}
	for (i = 0; i < req->n_users; i++) {
		if (req->add)
			r = insert_member(st, req->chat_id, req->users[i], "member", req->now);
		else
			r = text_step(st, ST_MEMBER_DELETE, req->chat_id, req->users[i], 0,
				      "remove member");
		if (r != 0)
			goto out;
	}
	if ((!req->add && keep_an_admin(st, req->chat_id) != 0) ||
	    write_update(st, chat, req->actor, req->actor_device, req->users, req->n_users,
			 !req->add, req->now, res) != 0 ||
	    (req->add && (set_joined(st, req->chat_id, req->users, req->n_users, res->seq) != 0 ||
			  note_activity(st, req->chat_id, req->actor) != 0)) ||
	    db_tx_end(st, DB_TX_COMMIT) != 0)
		goto out;
	free(chat);
	return DB_OK;
out:
	db_tx_end(st, DB_TX_ROLLBACK);
	free(chat);
	db_change_result_free(res);
	if (ret != DB_OK)
		res->seq = 0;
	return ret;
}

/* ---- messages ---------------------------------------------------------- */

int
db_addr_cmp(const void *a, const void *b)
{
	const struct db_addr *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	if (c != 0)
		return c;
	return x->device_id < y->device_id ? -1 : x->device_id > y->device_id;
}

static int
addr_push(struct db_addr **v, size_t *n, const struct db_addr *a)
{
	struct db_addr *nv = realloc(*v, (*n + 1) * sizeof **v);

	if (nv == NULL)
		return -1;
	nv[*n] = *a;
	*v = nv;
	(*n)++;
	return 0;
}

int
db_diff_devices(const struct db_addr *want, size_t n_want, const struct db_addr *got, size_t n_got,
		struct db_addr **missing, size_t *n_missing, struct db_addr **extra,
		size_t *n_extra)
{
	struct db_addr *w = NULL, *g = NULL;
	size_t i = 0, j = 0;
	int rc = -1;

	*missing = *extra = NULL;
	*n_missing = *n_extra = 0;
	if ((n_want && (w = malloc(n_want * sizeof *w)) == NULL) ||
	    (n_got && (g = malloc(n_got * sizeof *g)) == NULL))
		goto out;
	if (n_want) {
		memcpy(w, want, n_want * sizeof *w);
		qsort(w, n_want, sizeof *w, db_addr_cmp);
	}
	if (n_got) {
		memcpy(g, got, n_got * sizeof *g);
		qsort(g, n_got, sizeof *g, db_addr_cmp);
	}
	/* One merge pass over the two sorted lists. */
	while (i < n_want || j < n_got) {
		int c;

		if (j > 0 && j < n_got && db_addr_cmp(&g[j], &g[j - 1]) == 0) {
			if (addr_push(extra, n_extra, &g[j++]) != 0)
				goto out; /* the same device addressed twice */
			continue;
		}
		c = i >= n_want ? 1 : j >= n_got ? -1 : db_addr_cmp(&w[i], &g[j]);
		if (c < 0) {
			if (addr_push(missing, n_missing, &w[i++]) != 0)
				goto out;
		} else if (c > 0) {
			if (addr_push(extra, n_extra, &g[j++]) != 0)
				goto out;
		} else {
			i++;
			j++;
		}
	}
	rc = 0;
out:
	free(w);
	free(g);
	if (rc != 0) {
		free(*missing);
		free(*extra);
		*missing = *extra = NULL;
		*n_missing = *n_extra = 0;
	}
	return rc;
}

void
db_send_result_free(struct db_send_result *res)
{
	free(res->missing);
	free(res->extra);
	res->missing = res->extra = NULL;
	res->n_missing = res->n_extra = 0;
}

/* 1 member, 0 not (or no such chat), -1 error. */
static int
is_member(struct db *st, const char *chat_id, const char *user)
{
	int r = member_role(st, chat_id, user);

	return r == -2 ? 0 : r < 0 ? -1 : 1;
}

/*
 * An earlier message with this id: -1 error, 0 none, 1 a retry of this same
 * send (seq and sent_at filled), 2 someone else's.
 */
static int
prior_message(struct db *st, const struct db_send *req, struct db_send_result *res)
{
	sqlite3_stmt *s = stmt(st, ST_MESSAGE_GET);
	const unsigned char *chat, *sender, *kind;
	int r;

	if (bind_text(st, s, 1, req->message_id) != 0) {
		stmt_done(s);
		return -1;
	}
	r = step_row(st, s, "message by id");
	if (r <= 0)
		return r;
	chat = sqlite3_column_text(s, 0);
	sender = sqlite3_column_text(s, 1);
	kind = sqlite3_column_text(s, 5);
	/* An update's id is never a message's, even for its own actor, nor is
	 * a receipt's a message's. */
	if (chat && sender && kind &&
	    strcmp((const char *)kind, req->receipt ? "receipt" : "message") == 0 &&
	    strcmp((const char *)chat, req->chat_id) == 0 &&
	    strcmp((const char *)sender, req->sender_user) == 0 &&
	    sqlite3_column_int64(s, 2) == req->sender_device) {
		res->seq = sqlite3_column_int64(s, 3);
		res->sent_at = sqlite3_column_int64(s, 4);
		r = 1;
	} else {
		r = 2;
	}
	stmt_done(s);
	return r;
}

/* Every device of every member, minus the sender's; malloc'd into *out. */
static int
chat_devices(struct db *st, const struct db_send *req, struct db_addr **out, size_t *n)
{
	sqlite3_stmt *s = stmt(st, ST_CHAT_DEVICES);
	struct db_addr a;
	int rc;

	*out = NULL;
	*n = 0;
	if (bind_text(st, s, 1, req->chat_id) != 0) {
		stmt_done(s);
		return -1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (col_text(s, 0, a.user, sizeof a.user) != 0)
			goto fail;
		a.device_id = (uint32_t)sqlite3_column_int64(s, 1);
		if (strcmp(a.user, req->sender_user) == 0 && a.device_id == req->sender_device)
			continue;
		if (addr_push(out, n, &a) != 0)
			goto fail;
	}
	if (rc != SQLITE_DONE) {
		db_fail(st, "chat devices");
		goto fail;
	}
	stmt_done(s);
	return 0;
fail:
	stmt_done(s);
	free(*out);
	*out = NULL;
	*n = 0;
	return -1;
}

/* 0 if the envelopes match the chat's devices, 1 if not (res filled), -1
 * on error. */
static int
check_devices(struct db *st, const struct db_send *req, struct db_send_result *res)
{
	struct db_addr *want = NULL, *got = NULL;
	size_t n_want, i;
	int rc = -1;

	if (chat_devices(st, req, &want, &n_want) != 0)
		return -1;
	if (req->n_envelopes && (got = malloc(req->n_envelopes * sizeof *got)) == NULL)
		goto out;
	for (i = 0; i < req->n_envelopes; i++)
		got[i] = req->envelopes[i].to;
	if (db_diff_devices(want, n_want, got, req->n_envelopes, &res->missing, &res->n_missing,
			    &res->extra, &res->n_extra) != 0)
		goto out;
	/* A receipt goes to some of the chat's devices: only extra ones count,
	 * and it must go somewhere. */
	if (req->receipt) {
		free(res->missing);
		res->missing = NULL;
		res->n_missing = 0;
		rc = res->n_extra || req->n_envelopes == 0;
	} else {
		rc = res->n_missing || res->n_extra;
	}
out:
	if (rc < 0)
		srv_log("db: check devices: out of memory");
	free(want);
	free(got);
	return rc;
}

/* Take the chat's next seq and bump the counter: 0, or -1 on error. */
static int
take_seq(struct db *st, const char *chat_id, int64_t *seq)
{
	sqlite3_stmt *s = stmt(st, ST_CHAT_NEXT_SEQ);
	int r;

	if (bind_text(st, s, 1, chat_id) != 0) {
		stmt_done(s);
		return -1;
	}
	if ((r = step_row(st, s, "next seq")) != 1) {
		if (r == 0)
			srv_log("db: chat %s vanished", chat_id);
		return -1;
	}
	*seq = sqlite3_column_int64(s, 0);
	stmt_done(s);
	s = stmt(st, ST_CHAT_SET_SEQ);
	if (bind_text(st, s, 1, chat_id) || bind_int(st, s, 2, *seq + 1)) {
		stmt_done(s);
		return -1;
	}
	return step_done(st, s, "bump seq");
}

static int
insert_message(struct db *st, const struct db_send *req, int64_t seq)
{
	sqlite3_stmt *s = stmt(st, ST_MESSAGE_INSERT);

	if (bind_text(st, s, 1, req->message_id) || bind_text(st, s, 2, req->chat_id) ||
	    bind_text(st, s, 3, req->sender_user) || bind_int(st, s, 4, req->sender_device) ||
	    /* A receipt leaves ?5 unbound: NULL, it has no seq. */
	    (!req->receipt && bind_int(st, s, 5, seq)) || bind_int(st, s, 6, req->now) ||
	    bind_text(st, s, 7, req->receipt ? "receipt" : "message")) {
		stmt_done(s);
		return -1;
	}
	return step_done(st, s, "insert message");
}

static int
insert_inbox(struct db *st, const struct db_send *req, const struct db_envelope *e)
{
	sqlite3_stmt *s = stmt(st, ST_INBOX_INSERT);

	if (bind_text(st, s, 1, e->to.user) || bind_int(st, s, 2, e->to.device_id) ||
	    bind_text(st, s, 3, req->message_id) ||
	    bind_blob(st, s, 4, e->nonce, PROTO_NONCE_BYTES) ||
	    bind_blob(st, s, 5, e->ciphertext, e->ciphertext_len) || bind_int(st, s, 6, req->now)) {
		stmt_done(s);
		return -1;
	}
	return step_done(st, s, "insert inbox");
}

/* 0 if every blob of req is complete and the sender device's, 1 if one is
 * not, -1 on error. */
static int
check_blobs(struct db *st, const struct db_send *req)
{
	struct db_blob b;
	enum db_status r;
	size_t i;

	for (i = 0; i < req->n_blobs; i++) {
		if ((r = db_blob_get(st, req->blobs[i], &b)) == DB_NOT_FOUND)
			return 1;
		if (r != DB_OK)
			return -1;
		if (!b.complete || b.device_id != req->sender_device ||
		    strcmp(b.user, req->sender_user) != 0)
			return 1;
	}
	return 0;
}

/* 0 if every recipient device's inbox has room for its envelope (quota
 * req->max_inbox_bytes), 1 if one has not (res->full), -1 on error. */
static int
check_inboxes(struct db *st, const struct db_send *req, struct db_send_result *res)
{
	sqlite3_stmt *s = stmt(st, ST_INBOX_BYTES);
	int64_t held;
	size_t i;
	int r;

	if (req->max_inbox_bytes <= 0)
		return 0;
	for (i = 0; i < req->n_envelopes; i++) {
		const struct db_envelope *e = &req->envelopes[i];

		if (bind_text(st, s, 1, e->to.user) || bind_int(st, s, 2, e->to.device_id)) {
			stmt_done(s);
			return -1;
		}
		if ((r = step_row(st, s, "inbox bytes")) <= 0)
			return r; /* no such device: check_devices said so already */
		held = sqlite3_column_int64(s, 0);
		stmt_done(s);
		if (held + (int64_t)e->ciphertext_len + DB_INBOX_ROW_BYTES > req->max_inbox_bytes) {
			res->full = e->to;
			return 1;
		}
	}
	return 0;
}

static int
insert_message_blob(struct db *st, const char *message_id, const char *blob_id)
{
	sqlite3_stmt *s = stmt(st, ST_MESSAGE_BLOB_INSERT);

	if (bind_text(st, s, 1, message_id) || bind_text(st, s, 2, blob_id)) {
		stmt_done(s);
		return -1;
	}
	return step_done(st, s, "insert message blob");
}

enum db_status
db_send(struct db *st, const struct db_send *req, struct db_send_result *res)
{
	enum db_status ret = DB_INTERNAL;
	size_t i;
	int r;

	memset(res, 0, sizeof *res);
	if (db_tx_begin(st, DB_TX_WRITE) != 0)
		return DB_INTERNAL;
	if ((r = is_member(st, req->chat_id, req->sender_user)) <= 0) {
		ret = r == 0 ? DB_NOT_FOUND : DB_INTERNAL;
		goto out;
	}
	/* Before the device check: a retry must get its first reply even if
	 * the chat's devices have changed since. */
	if ((r = prior_message(st, req, res)) != 0) {
		if (r == 1) {
			res->replayed = 1;
			ret = DB_OK;
		} else if (r == 2) {
			ret = DB_DUPLICATE;
		}
		goto out;
	}
	if ((r = check_devices(st, req, res)) != 0) {
		if (r == 1)
			ret = DB_MISMATCH;
		goto out;
	}
	if ((r = check_blobs(st, req)) != 0) {
		if (r == 1)
			ret = DB_NO_BLOB;
		goto out;
	}
	if ((r = check_inboxes(st, req, res)) != 0) {
		if (r == 1)
			ret = DB_INBOX_FULL;
		goto out;
	}
	if ((!req->receipt && take_seq(st, req->chat_id, &res->seq) != 0) ||
	    insert_message(st, req, res->seq) != 0)
		goto out;
	for (i = 0; i < req->n_envelopes; i++) {
		if (insert_inbox(st, req, &req->envelopes[i]) != 0)
			goto out;
	}
	for (i = 0; i < req->n_blobs; i++) {
		if (insert_message_blob(st, req->message_id, req->blobs[i]) != 0)
			goto out;
	}
	/* A message is taking part in the chat; a receipt, sent by itself, not. */
	if ((!req->receipt && note_activity(st, req->chat_id, req->sender_user) != 0) ||
	    db_tx_end(st, DB_TX_COMMIT) != 0)
		goto out;
	res->sent_at = req->now;
	return DB_OK;
out:
	db_tx_end(st, DB_TX_ROLLBACK);
	if (ret != DB_MISMATCH)
		db_send_result_free(res);
	if (ret != DB_OK || !res->replayed)
		res->seq = res->sent_at = 0;
	return ret;
}

/* ---- inbox ------------------------------------------------------------- */

/* 1 if the column is NULL or a blob of len bytes (*out set, NULL for a
 * NULL), 0 if it is malformed. */
static int
col_opt_blob(sqlite3_stmt *s, int col, size_t len, const uint8_t **out)
{
	*out = NULL;
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return 1;
	*out = sqlite3_column_blob(s, col);
	return *out != NULL && (size_t)sqlite3_column_bytes(s, col) == len;
}

/* The update of an inbox row, from ST_INBOX_LOAD's columns, into
 * st->update: 0, or -1 if it is malformed. */
static int
read_update(struct db *st, sqlite3_stmt *s, struct db_inbox_row *row)
{
	struct db_update *u = &st->update;
	const char *body = (const char *)sqlite3_column_text(s, 15);

	memset(u, 0, sizeof *u);
	u->chat_id = row->chat_id;
	u->update_id = row->message_id;
	u->seq = row->seq;
	u->sent_at = row->sent_at;
	u->actor = row->sender_user;
	u->kind = (const char *)sqlite3_column_text(s, 16);
	u->name = (const char *)sqlite3_column_text(s, 17); /* NULL: no name */
	if (body == NULL || u->kind == NULL || parse_update(st, body, u) != 0)
		return -1;
	row->is_update = 1;
	row->update = u;
	return 0;
}

/* Fill a row from ST_INBOX_LOAD's columns; -1 if it is malformed. */
static int
read_inbox_row(struct db *st, sqlite3_stmt *s, struct db_inbox_row *row)
{
	int64_t dev = sqlite3_column_int64(s, 6);
	const unsigned char *kind = sqlite3_column_text(s, 14);

	memset(row, 0, sizeof *row);
	row->inbox_id = sqlite3_column_int64(s, 0);
	row->chat_id = (const char *)sqlite3_column_text(s, 1);
	row->message_id = (const char *)sqlite3_column_text(s, 2);
	row->seq = sqlite3_column_int64(s, 3);
	row->sent_at = sqlite3_column_int64(s, 4);
	row->sender_user = (const char *)sqlite3_column_text(s, 5);
	row->sender_device = (uint32_t)dev;
	if (!row->chat_id || !row->message_id || !row->sender_user || !kind)
		return -1;
	if (strcmp((const char *)kind, "update") == 0)
		return read_update(st, s, row); /* no keys, nonce or ciphertext */
	row->is_receipt = strcmp((const char *)kind, "receipt") == 0;
	row->ciphertext = sqlite3_column_blob(s, 13);
	row->ciphertext_len = (size_t)sqlite3_column_bytes(s, 13);
	if (dev < 1 || dev > PROTO_DEVICE_ID_MAX ||
	    !col_opt_blob(s, 7, PROTO_KEY_BYTES, &row->sender_identity_key) ||
	    !col_opt_blob(s, 8, PROTO_KEY_BYTES, &row->sender_exchange_key) ||
	    !col_opt_blob(s, 9, PROTO_SIG_BYTES, &row->sender_exchange_key_sig) ||
	    !col_opt_blob(s, 10, PROTO_KEY_BYTES, &row->sender_approver_key) ||
	    !col_opt_blob(s, 11, PROTO_SIG_BYTES, &row->sender_approval) ||
	    !col_opt_blob(s, 12, PROTO_NONCE_BYTES, &row->nonce) || !row->sender_identity_key ||
	    !row->sender_exchange_key || !row->sender_exchange_key_sig || !row->nonce ||
	    !row->ciphertext ||
	    (row->sender_approver_key == NULL) != (row->sender_approval == NULL))
		return -1;
	return 0;
}

enum db_status
db_inbox_load(struct db *st, const char *user, uint32_t device_id, int64_t after_id, size_t max,
	      db_inbox_fn *fn, void *udata, size_t *n)
{
	sqlite3_stmt *s = stmt(st, ST_INBOX_LOAD);
	struct db_inbox_row row;
	int rc;

	*n = 0;
	if (bind_text(st, s, 1, user) || bind_int(st, s, 2, device_id) ||
	    bind_int(st, s, 3, after_id) || bind_int(st, s, 4, (int64_t)max)) {
		stmt_done(s);
		return DB_INTERNAL;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (read_inbox_row(st, s, &row) != 0) {
			srv_log("db: malformed inbox row %lld",
				(long long)sqlite3_column_int64(s, 0));
			stmt_done(s);
			return DB_INTERNAL;
		}
		(*n)++;
		if (fn(udata, &row) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		db_fail(st, "inbox load");
		stmt_done(s);
		return DB_INTERNAL;
	}
	stmt_done(s);
	return DB_OK;
}

enum db_status
db_ack(struct db *st, const char *user, uint32_t device_id,
       const char (*message_ids)[PROTO_MESSAGE_ID_LEN + 1], size_t n, int64_t *acked)
{
	sqlite3_stmt *s = stmt(st, ST_ACK);
	size_t i;

	*acked = 0;
	if (n == 0)
		return DB_OK;
	if (db_tx_begin(st, DB_TX_WRITE) != 0)
		return DB_INTERNAL;
	for (i = 0; i < n; i++) {
		if (bind_text(st, s, 1, user) || bind_int(st, s, 2, device_id) ||
		    bind_text(st, s, 3, message_ids[i])) {
			stmt_done(s);
			goto fail;
		}
		if (step_done(st, s, "ack") != 0)
			goto fail;
		*acked += sqlite3_changes(st->db);
	}
	if (db_tx_end(st, DB_TX_COMMIT) != 0)
		goto fail;
	return DB_OK;
fail:
	db_tx_end(st, DB_TX_ROLLBACK);
	*acked = 0;
	return DB_INTERNAL;
}

/* ---- retention --------------------------------------------------------- */

static int
cutoff_step(struct db *st, int which, int64_t cutoff, const char *what, int64_t *changes)
{
	sqlite3_stmt *s = stmt(st, which);

	if (bind_int(st, s, 1, cutoff)) {
		stmt_done(s);
		return -1;
	}
	if (step_done(st, s, what) != 0)
		return -1;
	if (changes != NULL)
		*changes = sqlite3_changes(st->db);
	return 0;
}

enum db_status
db_purge(struct db *st, int64_t cutoff, int64_t tomb_cutoff, struct db_purge_result *res)
{
	memset(res, 0, sizeof *res);
	if (db_tx_begin(st, DB_TX_WRITE) != 0)
		return DB_INTERNAL;
	if (cutoff_step(st, ST_PURGE_COUNT, cutoff, "purge: count", NULL) != 0 ||
	    cutoff_step(st, ST_PURGE_INBOX, cutoff, "purge: inbox", &res->inbox_rows) != 0 ||
	    cutoff_step(st, ST_PURGE_TOMB, cutoff, "purge: tombstones", NULL) != 0 ||
	    cutoff_step(st, ST_PURGE_MESSAGES, cutoff, "purge: messages", &res->messages) != 0 ||
	    cutoff_step(st, ST_PURGE_TOMBSTONES, tomb_cutoff, "purge: old tombstones",
			&res->tombstones) != 0 ||
	    db_tx_end(st, DB_TX_COMMIT) != 0) {
		db_tx_end(st, DB_TX_ROLLBACK);
		memset(res, 0, sizeof *res);
		return DB_INTERNAL;
	}
	return DB_OK;
}

enum db_status
db_missed(struct db *st, const char *user, uint32_t device_id, int64_t *count, int64_t *oldest)
{
	sqlite3_stmt *s = stmt(st, ST_MISSED_GET);
	int r;

	*count = *oldest = 0;
	if (bind_text(st, s, 1, user) || bind_int(st, s, 2, device_id)) {
		stmt_done(s);
		return DB_INTERNAL;
	}
	r = step_row(st, s, "missed");
	if (r <= 0)
		return r == 0 ? DB_NOT_FOUND : DB_INTERNAL;
	*count = sqlite3_column_int64(s, 0);
	*oldest = sqlite3_column_int64(s, 1);
	stmt_done(s);
	return DB_OK;
}

enum db_status
db_missed_reset(struct db *st, const char *user, uint32_t device_id)
{
	return device_step(st, ST_MISSED_RESET, user, device_id, 0, "missed reset") == 0
		       ? DB_OK
		       : DB_INTERNAL;
}
