/*
 * store.c - the device's local SQLite store: opening it, its schema, the one
 * table of its statements with the helpers that run them (store_sql.h says
 * how the store is split and why), settings and transactions.
 *
 * One database per device home, in WAL mode so that chatctl and chat-tui can use
 * one home at once: readers never wait for the writer, and writers wait for each
 * other at most busy_timeout. synchronous=FULL because a received message is
 * acknowledged to the server right after its commit: once acked, the server
 * forgets it, so the commit must survive a power cut, not only a crash.
 */
#include "store_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_SCHEMA_VERSION 15

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta("
	"  key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS peers("
	"  user TEXT NOT NULL, device_id INTEGER NOT NULL,"
	"  identity_key BLOB NOT NULL, exchange_key BLOB NOT NULL,"
	"  pending_identity BLOB, pending_exchange BLOB,"
	"  active INTEGER NOT NULL DEFAULT 1, pinned_at INTEGER NOT NULL,"
	"  PRIMARY KEY(user, device_id));"
	"CREATE TABLE IF NOT EXISTS chats("
	"  chat_id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT,"
	"  created_at INTEGER NOT NULL, members_known INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS chat_members("
	"  chat_id TEXT NOT NULL REFERENCES chats(chat_id) ON DELETE CASCADE,"
	"  user TEXT NOT NULL, PRIMARY KEY(chat_id, user));"
	"CREATE TABLE IF NOT EXISTS messages("
	"  message_id TEXT PRIMARY KEY, chat_id TEXT NOT NULL,"
	"  seq INTEGER NOT NULL DEFAULT 0, sender TEXT NOT NULL,"
	"  sender_device INTEGER NOT NULL, sent_at INTEGER NOT NULL DEFAULT 0,"
	"  text TEXT NOT NULL, outgoing INTEGER NOT NULL, state TEXT NOT NULL,"
	"  stored_at INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS messages_by_chat ON messages(chat_id, seq);";

/* Each step takes a store from version i+1 to i+2; run in one transaction. */
static const char *const migrations[] = {
	/* 1 -> 2: groups (admins, update events in the history) and device names. */
	"ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';"
	"ALTER TABLE chat_members ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE peers ADD COLUMN name TEXT;",
	/* 2 -> 3: receipts. What other devices said about our messages (the best
	 * status per device), and the receipts this device owes, kept until the
	 * server took them. */
	"CREATE TABLE receipts("
	"  message_id TEXT NOT NULL, user TEXT NOT NULL, device_id INTEGER NOT NULL,"
	"  status INTEGER NOT NULL, at INTEGER NOT NULL,"
	"  PRIMARY KEY(message_id, user, device_id));"
	"CREATE TABLE receipt_outbox("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT, chat_id TEXT NOT NULL,"
	"  to_user TEXT NOT NULL, message_id TEXT NOT NULL, status INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL, UNIQUE(message_id, status));"
	"CREATE INDEX receipt_outbox_by_batch ON receipt_outbox(chat_id, to_user, status, id);"
	"CREATE INDEX messages_unread ON messages(chat_id)"
	"  WHERE outgoing = 0 AND state = 'received';",
	/* 3 -> 4: handed: 0 while a received message (or event) is stored but the
	 * application has not had it yet (on_message has not returned); such a
	 * message is handed over again when the server delivers it again. What
	 * older versions stored was handed over. */
	"ALTER TABLE messages ADD COLUMN handed INTEGER NOT NULL DEFAULT 1;",
	/* 4 -> 5: attachments (PROTOCOL.md, "Attachments"): what a message says of
	 * each file, its key included (the store is the device's, 0600, like the
	 * texts), and where it was downloaded. */
	"CREATE TABLE attachments("
	"  message_id TEXT NOT NULL, idx INTEGER NOT NULL, blob_id TEXT NOT NULL,"
	"  name TEXT NOT NULL, type TEXT NOT NULL, size INTEGER NOT NULL,"
	"  enc_size INTEGER NOT NULL, key BLOB NOT NULL, sha256 BLOB NOT NULL, path TEXT,"
	"  PRIMARY KEY(message_id, idx));",
	/* 5 -> 6: removed devices (PROTOCOL.md, "What clients accept"). A device
	 * the directory stopped listing is removed for good: active 0, and the
	 * highest device id known of its user at that moment, past which its key
	 * approves nothing. Earlier versions marked such devices inactive only;
	 * the best horizon known for them is the highest id known now. */
	"ALTER TABLE peers ADD COLUMN removed_horizon INTEGER;"
	"UPDATE peers SET removed_horizon ="
	"  (SELECT max(p.device_id) FROM peers AS p WHERE p.user = peers.user)"
	"  WHERE active = 0;",
	/* 6 -> 7: prekeys (PROTOCOL.md, "Prekeys"): the secrets of this device's
	 * signed prekeys (the current one, and those retired less than 30 days
	 * ago, for late messages) and of its one-time prekeys, uploaded 0 until
	 * the server took them. Ids come from meta prekey_next_id, never reused. */
	"CREATE TABLE signed_prekeys("
	"  id INTEGER PRIMARY KEY, secret BLOB NOT NULL, public BLOB NOT NULL,"
	"  created_at INTEGER NOT NULL, retired_at INTEGER);"
	"CREATE TABLE one_time_prekeys("
	"  id INTEGER PRIMARY KEY, secret BLOB NOT NULL, public BLOB NOT NULL,"
	"  uploaded INTEGER NOT NULL DEFAULT 0);",
	/* 7 -> 8: end-to-end encryption stage 2 (PROTOCOL.md). The pairwise
	 * sessions with other devices (a few per device: the one in use is the
	 * last used, the others may still decrypt late or crossing messages):
	 * who, the exchange key the session was made with, the X3DH base key
	 * (the initiator's ephemeral key, which names the session in its
	 * prekey messages), what the initiator's messages carry until the
	 * first reply (pending), and the Double Ratchet's state; a retired one
	 * still reads, but sends nothing (a new one is started). Then the
	 * sender keys of group chats: this device's own per chat (and which
	 * devices have it), and those other devices sent it. */
	"CREATE TABLE dr_sessions("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL,"
	"  device_id INTEGER NOT NULL, peer_key BLOB NOT NULL, base_key BLOB NOT NULL,"
	"  pending BLOB, state BLOB NOT NULL, used_at INTEGER NOT NULL,"
	"  retired INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX dr_sessions_by_device ON dr_sessions(user, device_id, used_at);"
	"CREATE TABLE sk_own("
	"  chat_id TEXT PRIMARY KEY, state BLOB NOT NULL, created_at INTEGER NOT NULL);"
	"CREATE TABLE sk_own_sent("
	"  chat_id TEXT NOT NULL, user TEXT NOT NULL, device_id INTEGER NOT NULL,"
	"  peer_key BLOB NOT NULL, PRIMARY KEY(chat_id, user, device_id));"
	"CREATE TABLE sk_peer("
	"  chat_id TEXT NOT NULL, user TEXT NOT NULL, device_id INTEGER NOT NULL,"
	"  key_id INTEGER NOT NULL, state BLOB NOT NULL, got_at INTEGER NOT NULL,"
	"  PRIMARY KEY(chat_id, user, device_id, key_id));",
	/* 8 -> 9: full-text search (store_search.c). An FTS5 index over the
	 * text of the messages of kind 'text' (attachment-carrying ones
	 * included; not membership events, not undecryptable ones), external
	 * content: the texts stay in messages only, the index holds their
	 * tokens by messages' rowid (which nothing renumbers: the store is
	 * never VACUUMed, and history orders by rowid too). Case and
	 * diacritics are folded (unicode61, remove_diacritics 2). Triggers
	 * keep it in step with every insert, delete and change of text or
	 * kind; a change takes the old row out before it puts the new one in,
	 * in one trigger (two would fire in no set order). Rows of messages
	 * change by UPDATE and DELETE only: the delete inside an INSERT OR
	 * REPLACE fires no trigger (recursive_triggers is off) and would leave
	 * the index behind. Then the messages already stored are indexed. FTS5 is in Debian 12's libsqlite3
	 * (SQLITE_ENABLE_FTS5); the Makefile refuses to build without it. */
	"CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages',"
	"  content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');"
	"CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages"
	"  WHEN new.kind = 'text' BEGIN"
	"  INSERT INTO messages_fts(rowid, text) VALUES(new.rowid, new.text); END;"
	"CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages"
	"  WHEN old.kind = 'text' BEGIN"
	"  INSERT INTO messages_fts(messages_fts, rowid, text)"
	"   VALUES('delete', old.rowid, old.text); END;"
	"CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, kind ON messages BEGIN"
	"  INSERT INTO messages_fts(messages_fts, rowid, text)"
	"   SELECT 'delete', old.rowid, old.text WHERE old.kind = 'text';"
	"  INSERT INTO messages_fts(rowid, text)"
	"   SELECT new.rowid, new.text WHERE new.kind = 'text'; END;"
	"INSERT INTO messages_fts(rowid, text)"
	"  SELECT rowid, text FROM messages WHERE kind = 'text';",
	/* 9 -> 10: replies and reactions (PROTOCOL.md, "Replies and reactions").
	 * A reply keeps what it quotes as its sender wrote it (the quoted
	 * message may never reach this device); a reaction is a message row of
	 * kind 'reaction' (its id deduplicated, acked, replayed by the outbox;
	 * text is the emoji, reply_to the message it is on) that no history,
	 * count or unread shows, and one row per person per message in
	 * reactions: the one of the highest seq, emoji '' once taken back
	 * (seq 0: none yet); and, on this user's rows, the reaction this
	 * device wrote and has not had a seq for yet (pending_*), shown
	 * instead until it is sent (then the seq decides) or discarded (then
	 * the one in force shows again). A reaction may come before its
	 * message: it waits there, and shows when the message comes. */
	"ALTER TABLE messages ADD COLUMN reply_to TEXT;"
	"ALTER TABLE messages ADD COLUMN reply_sender TEXT;"
	"ALTER TABLE messages ADD COLUMN reply_preview TEXT;"
	"CREATE TABLE reactions("
	"  message_id TEXT NOT NULL, user TEXT NOT NULL, chat_id TEXT NOT NULL,"
	"  emoji TEXT NOT NULL, seq INTEGER NOT NULL, reaction_id TEXT NOT NULL,"
	"  pending_emoji TEXT, pending_id TEXT, PRIMARY KEY(message_id, user));",
	/* 10 -> 11: a group's description (PROTOCOL.md, "updateChat"), as the
	 * server last described it; NULL until it has. */
	"ALTER TABLE chats ADD COLUMN description TEXT;",
	/* 11 -> 12: edits and deletes for everyone (PROTOCOL.md, "Edits and
	 * deletes"). Each is a message row, like a reaction (kind 'edit' or
	 * 'delete', reply_to the message it changes, an edit's text its new
	 * text; deduplicated by id, acked, replayed by the outbox, shown by no
	 * history, count or search), kept whether or not it applies, and
	 * whatever came first: store_changes.c applies to a message what its
	 * sender's rows say each time one of them or the message arrives. The
	 * message then shows the text of its sender's edit of the highest seq
	 * (original keeps what was first written; edited_at is that edit's
	 * sentAt, 0 if none), or, once its sender deleted it within the window,
	 * deleted 1, text '' (and the texts of its edits ''). Its row changes
	 * by UPDATE only: the search index follows. edits lists an edit
	 * history (every edit, applied or not). */
	"ALTER TABLE messages ADD COLUMN edited_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE messages ADD COLUMN original TEXT;"
	"CREATE INDEX messages_by_reply_to ON messages(reply_to) WHERE reply_to IS NOT NULL;"
	"CREATE VIEW edits AS SELECT reply_to AS target, message_id AS edit_id, chat_id, sender,"
	"  seq, text, sent_at AS at FROM messages WHERE kind = 'edit';",
	/* 12 -> 13: disappearing messages (PROTOCOL.md, "Disappearing
	 * messages"; store_timer.c). A timer change is a message row of kind
	 * 'timer' (text its seconds, "0" off), stored only once accepted (a
	 * group's admin, any member of a direct chat); chats.disappear_seconds
	 * is that of the change of the highest seq. messages.expires_at (ms,
	 * NULL never) is a text message's sentAt + the timer of the change of
	 * the highest seq below its own: a message sent before a change keeps
	 * no expiry. The expiry sweep deletes rows past it (DELETE, so the
	 * search index follows). */
	"ALTER TABLE chats ADD COLUMN disappear_seconds INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE messages ADD COLUMN expires_at INTEGER;"
	"CREATE INDEX messages_by_expiry ON messages(expires_at) WHERE expires_at IS NOT NULL;",
	/* 13 -> 14: blocking (PROTOCOL.md, "Blocking"; store_blocks.c). blocked
	 * is this device's copy of the user's block list, as the server last
	 * gave it; dropped the ids of envelopes from a blocked user that were
	 * decrypted (their sessions kept in step) and thrown away, so that one
	 * delivered again (its ack lost) is acked again without a word; kept
	 * for twice the longest retention, then pruned. */
	"CREATE TABLE blocked(user TEXT PRIMARY KEY) WITHOUT ROWID;"
	"CREATE TABLE dropped(message_id TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;",
	/* 14 -> 15: chat preferences, this device's own (chat.h, "Chat
	 * preferences"; store_prefs.c). muted_until: ms, 0 not muted,
	 * INT64_MAX for good (a past time is no mute); pinned_at and
	 * archived_at: ms of the pin, of the archiving, 0 not. A message
	 * from someone else sent after the archiving un-archives the chat
	 * unless it is muted then: a trigger, so that every way a message
	 * is stored (live, offline, from history) follows the rule; an
	 * older message (history reaching this device later) does not. */
	"ALTER TABLE chats ADD COLUMN muted_until INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE chats ADD COLUMN pinned_at INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE chats ADD COLUMN archived_at INTEGER NOT NULL DEFAULT 0;"
	/* prefs_at: ms of the last change of the three, by this device or
	 * another of the user's (a 0x0b body, PROTOCOL.md "Chat settings"):
	 * the newest change wins, whichever arrives last. */
	"ALTER TABLE chats ADD COLUMN prefs_at INTEGER NOT NULL DEFAULT 0;"
	"CREATE TRIGGER chats_unarchive AFTER INSERT ON messages"
	"  WHEN new.outgoing = 0 AND new.kind = 'text' BEGIN"
	"  UPDATE chats SET archived_at = 0 WHERE chat_id = new.chat_id"
	"   AND archived_at > 0"
	"   AND (CASE WHEN new.sent_at > 0 THEN new.sent_at ELSE new.stored_at END) > archived_at"
	"   AND muted_until <= CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER);"
	"  END;",
};

/* ---- the statements -------------------------------------------------------------
 *
 * Every statement of the store, by the area that runs it (store_sql.h). Prepared
 * on first use, not at open: a statement names tables that a store being created
 * or migrated does not have yet, and a chatctl command uses a handful of them. */

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SAVEPOINT] = "SAVEPOINT nested",
	[ST_RELEASE] = "RELEASE nested",
	[ST_ROLLBACK_TO] = "ROLLBACK TO nested",
	[ST_USER_VERSION] = "PRAGMA user_version",
	[ST_SYNC_NORMAL] = "PRAGMA synchronous=NORMAL",
	[ST_SYNC_FULL] = "PRAGMA synchronous=FULL",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[ST_META_SET] = "INSERT INTO meta(key, value) VALUES(?1, ?2)"
			" ON CONFLICT(key) DO UPDATE SET value = excluded.value",

	/* store_prekeys.c */
	[ST_SPK_CURRENT] = "SELECT id, public, created_at FROM signed_prekeys"
			   " WHERE retired_at IS NULL ORDER BY id DESC LIMIT 1",
	[ST_SPK_RETIRE] = "UPDATE signed_prekeys SET retired_at = ?1 WHERE retired_at IS NULL",
	[ST_SPK_EXPIRE] = "DELETE FROM signed_prekeys WHERE retired_at < ?1",
	[ST_SPK_PUT] = "INSERT INTO signed_prekeys(id, secret, public, created_at)"
		       " VALUES(?1, ?2, ?3, ?4)",
	[ST_SPK_SECRET] = "SELECT secret FROM signed_prekeys WHERE id = ?1",
	[ST_OPK_PUT] = "INSERT INTO one_time_prekeys(id, secret, public) VALUES(?1, ?2, ?3)",
	[ST_OPK_PENDING] = "SELECT id, public FROM one_time_prekeys WHERE uploaded = 0"
			   " ORDER BY id LIMIT ?1",
	[ST_OPK_UPLOADED] = "UPDATE one_time_prekeys SET uploaded = 1"
			    " WHERE uploaded = 0 AND id <= ?1",
	[ST_OPK_DROP] = "DELETE FROM one_time_prekeys WHERE uploaded = 0 AND id <= ?1",
	[ST_OPK_SECRET] = "SELECT secret FROM one_time_prekeys WHERE id = ?1",
	[ST_OPK_USED] = "DELETE FROM one_time_prekeys WHERE id = ?1",

	/* store_sessions.c */
	[ST_DR_EACH] = "SELECT id, peer_key, base_key, pending, state FROM dr_sessions"
		       " WHERE user = ?1 AND device_id = ?2 ORDER BY used_at DESC, id DESC",
	[ST_DR_ACTIVE] = "SELECT id, peer_key, base_key, pending, state FROM dr_sessions"
			 " WHERE user = ?1 AND device_id = ?2 AND retired = 0"
			 " ORDER BY used_at DESC, id DESC LIMIT 1",
	[ST_DR_RETIRE] = "UPDATE dr_sessions SET retired = 1 WHERE user = ?1 AND device_id = ?2"
			 " AND NOT EXISTS (SELECT 1 FROM dr_sessions WHERE user = ?1"
			 " AND device_id = ?2 AND retired = 0 AND pending IS NOT NULL)",
	[ST_DR_BY_BASE] = "SELECT id, peer_key, base_key, pending, state FROM dr_sessions"
			  " WHERE user = ?1 AND device_id = ?2 AND base_key = ?3",
	[ST_DR_INSERT] = "INSERT INTO dr_sessions(user, device_id, peer_key, base_key, pending,"
			 " state, used_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_DR_UPDATE] = "UPDATE dr_sessions SET state = ?2, pending = ?3, used_at = ?4"
			 " WHERE id = ?1",
	[ST_DR_TRIM] = "DELETE FROM dr_sessions WHERE user = ?1 AND device_id = ?2 AND id NOT IN"
		       " (SELECT id FROM dr_sessions WHERE user = ?1 AND device_id = ?2"
		       " ORDER BY used_at DESC, id DESC LIMIT ?3)",
	[ST_DR_HAS] = "SELECT 1 FROM dr_sessions WHERE user = ?1 AND device_id = ?2"
		      " AND peer_key = ?3 AND retired = 0 LIMIT 1",
	[ST_DR_MAX_USED] = "SELECT coalesce(max(used_at), 0) FROM dr_sessions",
	[ST_SK_OWN_GET] = "SELECT state FROM sk_own WHERE chat_id = ?1",
	[ST_SK_OWN_PUT] = "INSERT INTO sk_own(chat_id, state, created_at) VALUES(?1, ?2, ?3)"
			  " ON CONFLICT(chat_id) DO UPDATE SET state = excluded.state,"
			  " created_at = CASE WHEN ?4 THEN excluded.created_at ELSE created_at END",
	[ST_SK_SENT_EACH] = "SELECT user, device_id, peer_key FROM sk_own_sent WHERE chat_id = ?1",
	[ST_SK_SENT_ADD] = "INSERT OR REPLACE INTO sk_own_sent(chat_id, user, device_id, peer_key)"
			   " VALUES(?1, ?2, ?3, ?4)",
	[ST_SK_SENT_CLEAR] = "DELETE FROM sk_own_sent WHERE chat_id = ?1",
	[ST_SK_SENT_DEL] = "DELETE FROM sk_own_sent WHERE chat_id = ?1 AND user = ?2"
			   " AND device_id = ?3",
	[ST_SK_PEER_GET] = "SELECT state FROM sk_peer WHERE chat_id = ?1 AND user = ?2"
			   " AND device_id = ?3 AND key_id = ?4",
	[ST_SK_PEER_PUT] = "INSERT INTO sk_peer(chat_id, user, device_id, key_id, state, got_at)"
			   " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(chat_id, user, device_id,"
			   " key_id) DO UPDATE SET state = excluded.state",
	[ST_SK_PEER_TRIM] = "DELETE FROM sk_peer WHERE chat_id = ?1 AND user = ?2 AND device_id = ?3"
			    " AND key_id NOT IN (SELECT key_id FROM sk_peer WHERE chat_id = ?1"
			    " AND user = ?2 AND device_id = ?3 ORDER BY got_at DESC, rowid DESC"
			    " LIMIT ?4)",

	/* store_peers.c */
	[ST_PEER_GET] = "SELECT " PEER_COLUMNS " FROM peers WHERE user = ?1 AND device_id = ?2",
	[ST_PEER_PIN] = "INSERT INTO peers(user, device_id, identity_key, exchange_key, active,"
			" pinned_at, name) VALUES(?1, ?2, ?3, ?4, 1, ?5, ?6)"
			" ON CONFLICT(user, device_id) DO UPDATE SET"
			" exchange_key = excluded.exchange_key, active = 1,"
			" name = coalesce(excluded.name, name),"
			" pending_identity = NULL, pending_exchange = NULL"
			/* Never a removed device: only the user brings one back
			 * (store_peer_trust). */
			" WHERE identity_key = excluded.identity_key AND removed_horizon IS NULL",
	[ST_PEER_COUNT_PINS] = "SELECT count(*) FROM peers WHERE user = ?1 AND device_id != ?2",
	/* A key pinned twice (a device removed, then linked again with the same
	 * key) counts as its live pin first. */
	[ST_PEER_FIND_IDENTITY] = "SELECT device_id, " PEER_COLUMNS " FROM peers"
				  " WHERE user = ?1 AND identity_key = ?2"
				  " ORDER BY active DESC, removed_horizon DESC LIMIT 1",
	[ST_PEER_MAX_ID] = "SELECT coalesce(max(device_id), 0) FROM peers WHERE user = ?1",
	/* Active or removed, it stays as it is until the user accepts. */
	[ST_PEER_SET_PENDING] = "UPDATE peers SET pending_identity = ?1, pending_exchange = ?2"
				" WHERE user = ?3 AND device_id = ?4",
	/* A removed device listed again comes back with it: the user's word. */
	[ST_PEER_TRUST] =
		"UPDATE peers SET identity_key = pending_identity,"
		" exchange_key = pending_exchange, pending_identity = NULL,"
		" pending_exchange = NULL, pinned_at = ?1, active = 1,"
		" removed_horizon = NULL WHERE user = ?2 AND pending_identity IS NOT NULL",
	[ST_PEER_REMOVE] = "UPDATE peers SET active = 0, removed_horizon = ?1"
			   " WHERE user = ?2 AND device_id = ?3 AND removed_horizon IS NULL",
	[ST_PEER_DROP_PENDING] = "UPDATE peers SET pending_identity = NULL,"
				 " pending_exchange = NULL WHERE user = ?1 AND device_id = ?2",
	[ST_PEER_EACH_PIN] = "SELECT device_id, " PEER_COLUMNS " FROM peers WHERE user = ?1"
			     " ORDER BY device_id",
	[ST_PEER_EACH] = "SELECT device_id, " PEER_COLUMNS " FROM peers"
			 " WHERE user = ?1 AND active = 1 ORDER BY device_id",
	[ST_PEER_COUNT] = "SELECT count(*) FROM peers WHERE user = ?1 AND active = 1",

	/* store_chats.c */
	[ST_CHAT_PUT] =
		"INSERT INTO chats(chat_id, kind, name, created_at, members_known,"
		" description) VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(chat_id) DO UPDATE"
		" SET kind = excluded.kind, name = excluded.name,"
		" description = coalesce(excluded.description, chats.description),"
		" members_known = max(members_known, excluded.members_known)",
	[ST_MEMBERS_CLEAR] = "DELETE FROM chat_members WHERE chat_id = ?1",
	[ST_MEMBER_ADD] = "INSERT OR IGNORE INTO chat_members(chat_id, user) VALUES(?1, ?2)",
	[ST_MEMBER_SET_ADMIN] =
		"UPDATE chat_members SET admin = 1 WHERE chat_id = ?1 AND user = ?2",
	[ST_MEMBER_EACH] = "SELECT user, admin FROM chat_members WHERE chat_id = ?1 ORDER BY user",
	[ST_CHAT_MEMBERS] = "SELECT user FROM chat_members WHERE chat_id = ?1 ORDER BY user",
	[ST_CHAT_EXISTS] = "SELECT 1 FROM chats WHERE chat_id = ?1",
	[ST_CHAT_IS_GROUP] = "SELECT 1 FROM chats WHERE chat_id = ?1 AND kind = 'group'",
	[ST_CHAT_HAS_MEMBERS] = "SELECT 1 FROM chats WHERE chat_id = ?1 AND members_known",
	[ST_CHAT_EACH] =
		"SELECT c.chat_id, c.kind, c.name,"
		" coalesce((SELECT max(CASE WHEN m.sent_at > 0 THEN m.sent_at ELSE m.stored_at END)"
		"           FROM messages m WHERE m.chat_id = c.chat_id"
		"            AND m.kind NOT IN ('reaction', 'edit', 'delete', 'timer-refused', 'prefs',"
		"             'history')),"
		"          c.created_at) AS last,"
		" (SELECT count(*) FROM messages m WHERE m.chat_id = c.chat_id"
		"   AND m.kind NOT IN ('reaction', 'edit', 'delete', 'timer-refused', 'prefs',"
		"    'history')),"
		" (SELECT count(*) FROM messages m WHERE m.chat_id = c.chat_id"
		"   AND m.outgoing = 0 AND m.kind = 'text' AND m.state = 'received'"
		"   AND m.deleted = 0),"
		" c.description, c.disappear_seconds, c.muted_until, c.pinned_at,"
		" c.archived_at"
		" FROM chats c ORDER BY c.pinned_at DESC, last DESC, c.chat_id",
	/* The chat's newest message, for its preview: text, sender, time,
	 * deleted, the name of its first file. */
	[ST_CHAT_LAST] =
		"SELECT m.text, m.sender, CASE WHEN m.sent_at > 0 THEN m.sent_at ELSE m.stored_at END"
		"  AS at, m.deleted,"
		" (SELECT a.name FROM attachments a WHERE a.message_id = m.message_id"
		"   ORDER BY a.idx LIMIT 1)"
		" FROM messages m WHERE m.chat_id = ?1 AND m.kind = 'text'"
		" ORDER BY at DESC, m.rowid DESC LIMIT 1",
	/* store_prefs.c */
	[ST_CHAT_SET_MUTED] = "UPDATE chats SET muted_until = ?2 WHERE chat_id = ?1",
	[ST_CHAT_SET_PINNED] = "UPDATE chats SET pinned_at = ?2 WHERE chat_id = ?1",
	[ST_CHAT_SET_ARCHIVED] = "UPDATE chats SET archived_at = ?2 WHERE chat_id = ?1",
	[ST_CHAT_MUTED] = "SELECT muted_until FROM chats WHERE chat_id = ?1",
	[ST_CHAT_PREFS_GET] = "SELECT muted_until, pinned_at, archived_at, prefs_at FROM chats"
			      " WHERE chat_id = ?1",
	[ST_CHAT_PREFS_TOUCH] = "UPDATE chats SET prefs_at = max(prefs_at + 1, ?2)"
				" WHERE chat_id = ?1",
	/* Another device's change: only if newer than what this one has. An
	 * archiving that a message here (from someone else, sent after it)
	 * has undone already, as the trigger chats_unarchive would have, is
	 * not taken: the chat is not muted (?2 is no mute now). */
	[ST_CHAT_PREFS_APPLY] =
		"UPDATE chats SET muted_until = ?2, pinned_at = ?3,"
		" archived_at = CASE WHEN ?4 > 0 AND ?2 != 9223372036854775807"
		"  AND ?2 <= CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
		"  AND EXISTS(SELECT 1 FROM messages m WHERE m.chat_id = ?1 AND m.outgoing = 0"
		"   AND m.kind = 'text'"
		"   AND (CASE WHEN m.sent_at > 0 THEN m.sent_at ELSE m.stored_at END) > ?4)"
		"  THEN 0 ELSE ?4 END,"
		" prefs_at = ?5 WHERE chat_id = ?1 AND prefs_at < ?5",
	[ST_CHAT_BY_USER] = "SELECT c.chat_id FROM chats c WHERE c.kind = 'direct'"
			    " AND EXISTS(SELECT 1 FROM chat_members m WHERE m.chat_id = c.chat_id"
			    "  AND m.user = ?1)"
			    " AND EXISTS(SELECT 1 FROM chat_members m WHERE m.chat_id = c.chat_id"
			    "  AND m.user = ?2) LIMIT 2",
	/* The user's notes to self: the direct chat whose only member is ?1. */
	[ST_CHAT_SELF] = "SELECT c.chat_id FROM chats c WHERE c.kind = 'direct'"
			 " AND EXISTS(SELECT 1 FROM chat_members m WHERE m.chat_id = c.chat_id"
			 "  AND m.user = ?1)"
			 " AND NOT EXISTS(SELECT 1 FROM chat_members m WHERE m.chat_id = c.chat_id"
			 "  AND m.user != ?1) LIMIT 2",
	/* A prefix is made of hex digits only, so it cannot carry LIKE wildcards. */
	[ST_CHAT_BY_PREFIX] = "SELECT chat_id FROM chats WHERE chat_id LIKE ?1 || '%' LIMIT 2",

	/* store_messages.c */
	[ST_MESSAGE_INSERT] = "INSERT OR IGNORE INTO messages(message_id, chat_id, seq, sender,"
			      " sender_device, sent_at, text, outgoing, state, stored_at, kind,"
			      " handed, reply_to, reply_sender, reply_preview)"
			      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
			      " ?15)",
	[ST_MESSAGE_EXISTS] = "SELECT 1 FROM messages WHERE message_id = ?1",
	/* A dropped envelope (store_blocks.c) counts as one handed over. */
	[ST_MESSAGE_RECEIVED] = "SELECT handed FROM messages WHERE message_id = ?1"
				" UNION ALL SELECT 1 FROM dropped WHERE message_id = ?1 LIMIT 1",
	[ST_MESSAGE_HANDED] = "UPDATE messages SET handed = 1 WHERE message_id = ?1",
	/* A receipt may have come first (the reply was lost): keep what it said. */
	[ST_MESSAGE_SENT] = "UPDATE messages SET seq = ?1, sent_at = ?2,"
			    " state = CASE WHEN state IN ('pending', 'failed') THEN 'sent'"
			    "  ELSE state END WHERE message_id = ?3",
	[ST_MESSAGE_SET_STATE] = "UPDATE messages SET state = ?1 WHERE message_id = ?2 AND seq = 0",
	[ST_MESSAGE_GET] = "SELECT " MESSAGE_COLUMNS " FROM messages WHERE message_id = ?1",
	/* Hex digits sort before 'g': the ids that start with a prefix are those
	 * from prefix up to prefix || 'g', a range of the primary key. */
	[ST_MESSAGE_BY_PREFIX] = "SELECT message_id FROM messages WHERE message_id >= ?1"
				 " AND message_id < ?1 || 'g' LIMIT 2",
	/* Server order (seq); messages not yet confirmed (seq 0) after all others,
	 * in the order they were written. The inner query picks the newest ?2. */
	[ST_MESSAGE_HISTORY] = "SELECT " MESSAGE_COLUMNS " FROM (SELECT *, seq = 0 AS unsent,"
			       "  rowid AS r FROM messages WHERE chat_id = ?1"
			       "  AND kind NOT IN ('reaction', 'edit', 'delete', 'timer-refused', 'prefs',"
			       "   'history')"
			       "  ORDER BY unsent DESC, seq DESC, r DESC LIMIT ?2)"
			       " ORDER BY unsent, seq, r",
	[ST_MESSAGE_BRIEF] = "SELECT chat_id, sender, outgoing, state, kind FROM messages"
			     " WHERE message_id = ?1",

	/* store_search.c. The hits in the index's rowid order, newest stored
	 * first, which FTS5 walks backwards itself (no sorter), so that the
	 * LIMIT stops it early however common the words, and the snippet is
	 * made only for the rows returned (not for those of other chats). The
	 * OR keeps the plan the same with ?2 (one chat) or without (NULL). */
	[ST_MESSAGE_SEARCH] =
		"SELECT " MESSAGE_COLUMNS_M ", snippet(messages_fts, 0, '[', ']', '...',"
		" " STORE_SNIPPET_TOKENS ") AS snippet"
		" FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid"
		" WHERE messages_fts MATCH ?1 AND (?2 IS NULL OR m.chat_id = ?2)"
		" ORDER BY messages_fts.rowid DESC LIMIT ?3",

	/* store_outbox.c */
	[ST_OUTBOX_EACH] = "SELECT " MESSAGE_COLUMNS " FROM messages WHERE outgoing = 1"
			   " AND state = 'pending' AND kind IN ('text', 'reaction', 'edit', 'delete', 'timer',"
			   " 'prefs', 'history')"
			   " ORDER BY rowid",
	[ST_OUTBOX_OLDER] = "SELECT message_id FROM messages WHERE outgoing = 1"
			    " AND state = 'pending' AND kind IN ('text', 'reaction', 'edit', 'delete', 'timer',"
			    " 'prefs', 'history')"
			    " AND stored_at < ?1"
			    " ORDER BY rowid",
	[ST_UNSENT_EACH] = "SELECT " MESSAGE_COLUMNS " FROM messages WHERE outgoing = 1"
			   " AND seq = 0 AND state IN ('pending', 'failed')"
			   " AND kind IN ('text', 'reaction', 'edit', 'delete', 'timer', 'prefs')"
			   " ORDER BY rowid",
	[ST_UNSENT_STATE] = "SELECT state FROM messages WHERE message_id = ?1 AND"
			    " outgoing = 1 AND seq = 0 AND state IN ('pending', 'failed')"
			    " AND kind IN ('text', 'reaction', 'edit', 'delete', 'timer', 'prefs',"
			    " 'history')",
	/* Only what no server confirmed: the row's guard decides, and the other
	 * two follow it in the same transaction. */
	[ST_UNSENT_DELETE] = "DELETE FROM messages WHERE message_id = ?1 AND outgoing = 1"
			     " AND seq = 0 AND state IN ('pending', 'failed')"
			     " AND kind IN ('text', 'reaction', 'edit', 'delete', 'timer', 'prefs')",
	[ST_UNSENT_DELETE_ATTACHMENTS] = "DELETE FROM attachments WHERE message_id = ?1",
	[ST_UNSENT_DELETE_RECEIPTS] = "DELETE FROM receipts WHERE message_id = ?1",
	/* An unsent reaction of this user taken away with its message: the
	 * one in force shows again. */
	[ST_UNSENT_DELETE_REACTION] = "UPDATE reactions SET pending_emoji = NULL, pending_id = NULL"
				      " WHERE pending_id = ?1",

	/* store_reactions.c */
	/* One per person per message: the higher seq wins, whatever the order
	 * of arrival. This device's own reaction is pending until sent, and
	 * then takes its place by its seq like any other. */
	[ST_REACTION_PUT] = "INSERT INTO reactions(message_id, user, chat_id, emoji, seq,"
			    " reaction_id) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
			    " ON CONFLICT(message_id, user) DO UPDATE SET chat_id = excluded.chat_id,"
			    " emoji = excluded.emoji, seq = excluded.seq,"
			    " reaction_id = excluded.reaction_id WHERE excluded.seq > reactions.seq",
	[ST_REACTION_SETTLE] = "UPDATE reactions SET pending_emoji = NULL, pending_id = NULL"
			       " WHERE message_id = ?1 AND user = ?2 AND pending_id = ?3",
	[ST_REACTION_PENDING] = "INSERT INTO reactions(message_id, user, chat_id, emoji, seq,"
				" reaction_id, pending_emoji, pending_id)"
				" VALUES(?1, ?2, ?3, '', 0, '', ?4, ?5)"
				" ON CONFLICT(message_id, user) DO UPDATE SET"
				" pending_emoji = excluded.pending_emoji,"
				" pending_id = excluded.pending_id",
	[ST_REACTION_LIST] = "SELECT coalesce(pending_emoji, emoji) AS e, user FROM reactions"
			     " WHERE message_id = ?1 AND chat_id = ?2"
			     " AND coalesce(pending_emoji, emoji) <> '' ORDER BY e, user LIMIT 1000",
	[ST_REACTION_MINE] = "SELECT coalesce(pending_emoji, emoji) FROM reactions"
			     " WHERE message_id = ?1 AND user = ?2",

	/* store_changes.c: the rules of PROTOCOL.md, "Edits and deletes", the
	 * message's chat and sender (?2, ?3) being those of the change. An own
	 * edit not sent yet (seq 0, sent_at 0) counts at once, as the newest; an
	 * own delete, final, only once the server has it (until then it can be
	 * discarded). (reply_to = ?1 implies the index's reply_to IS NOT NULL.) */
	[ST_CHANGE_TARGET] = "SELECT chat_id, sender, sent_at, deleted FROM messages"
			     " WHERE message_id = ?1 AND kind = 'text'",
	[ST_CHANGE_DELETE_VALID] = "SELECT 1 FROM messages WHERE kind = 'delete' AND reply_to = ?1"
				   " AND chat_id = ?2 AND sender = ?3 AND sent_at > 0 AND (?4 = 0"
				   " OR sent_at <= ?4 + ?5) LIMIT 1",
	[ST_CHANGE_LATEST_EDIT] = "SELECT text, CASE WHEN sent_at > 0 THEN sent_at ELSE stored_at END"
				  " FROM messages WHERE kind = 'edit' AND reply_to = ?1 AND chat_id = ?2"
				  " AND sender = ?3 ORDER BY seq = 0 DESC, seq DESC, rowid DESC LIMIT 1",
	[ST_CHANGE_SET_DELETED] = "UPDATE messages SET deleted = 1, text = '', original = NULL,"
				  " edited_at = 0, reply_to = NULL, reply_sender = NULL,"
				  " reply_preview = NULL WHERE message_id = ?1 AND deleted = 0",
	/* Not an own edit still to be sent (its text goes, then the delete). */
	[ST_CHANGE_WIPE_EDITS] = "UPDATE messages SET text = '' WHERE kind = 'edit'"
				 " AND reply_to = ?1 AND sender = ?2 AND seq > 0 AND text <> ''",
	/* No edit counts (the one shown was discarded): the first text again. */
	[ST_CHANGE_UNEDIT] = "UPDATE messages SET text = original, original = NULL, edited_at = 0"
			     " WHERE message_id = ?1 AND original IS NOT NULL AND deleted = 0",
	[ST_CHANGE_SET_EDITED] = "UPDATE messages SET original = coalesce(original, text), text = ?2,"
				 " edited_at = ?3 WHERE message_id = ?1 AND deleted = 0"
				 " AND (text <> ?2 OR edited_at <> ?3)",
	[ST_CHANGE_EDIT_LIST] = "SELECT message_id, text, seq, sent_at FROM messages"
				" WHERE kind = 'edit' AND reply_to = ?1 AND chat_id = ?2 AND sender = ?3"
				" ORDER BY seq = 0, seq, rowid",
	/* What an edit or delete does now (store_change_status). */
	[ST_CHANGE_STATUS] = "SELECT CASE WHEN t.message_id IS NULL THEN 0"
			     " WHEN t.kind <> 'text' OR t.sender <> c.sender OR t.chat_id <> c.chat_id"
			     "  THEN 2"
			     " WHEN c.kind = 'delete' AND t.deleted THEN 1"
			     " WHEN c.kind = 'edit' AND NOT t.deleted THEN 1"
			     " ELSE 3 END FROM messages c LEFT JOIN messages t"
			     " ON t.message_id = c.reply_to WHERE c.message_id = ?1",
	/* Delete for me: the message, what hangs on it, and the changes and
	 * reactions to it (they would apply to nothing). */
	[ST_FORGET_MESSAGE] = "DELETE FROM messages WHERE message_id = ?1 OR (reply_to = ?1"
			      " AND kind IN ('reaction', 'edit', 'delete'))",
	[ST_FORGET_MESSAGE_REACTIONS] = "DELETE FROM reactions WHERE message_id = ?1",
	[ST_FORGET_MESSAGE_RECEIPTS] = "DELETE FROM receipts WHERE message_id = ?1",
	[ST_FORGET_CHAT_ATTACHMENTS] = "DELETE FROM attachments WHERE message_id IN"
				       " (SELECT message_id FROM messages WHERE chat_id = ?1)",
	[ST_FORGET_CHAT_RECEIPTS] = "DELETE FROM receipts WHERE message_id IN"
				    " (SELECT message_id FROM messages WHERE chat_id = ?1)",
	[ST_FORGET_CHAT_REACTIONS] = "DELETE FROM reactions WHERE chat_id = ?1",
	/* Not the timer changes: they rule the messages to come, as on the
	 * other devices (PROTOCOL.md, "Disappearing messages"). */
	[ST_FORGET_CHAT] = "DELETE FROM messages WHERE chat_id = ?1 AND kind <> 'timer'",

	/* store_timer.c */
	[ST_TIMER_CHAT] = "UPDATE chats SET disappear_seconds = coalesce((SELECT"
			  " CAST(text AS INTEGER) FROM messages WHERE chat_id = ?1"
			  " AND kind = 'timer' AND seq > 0 ORDER BY seq DESC LIMIT 1), 0)"
			  " WHERE chat_id = ?1",
	[ST_TIMER_MESSAGES] = "UPDATE messages SET expires_at = (SELECT CASE WHEN"
			      " CAST(t.text AS INTEGER) > 0 THEN messages.sent_at +"
			      " CAST(t.text AS INTEGER) * 1000 END FROM messages t"
			      " WHERE t.chat_id = ?1 AND t.kind = 'timer' AND t.seq > 0"
			      " AND t.seq < messages.seq ORDER BY t.seq DESC LIMIT 1)"
			      " WHERE chat_id = ?1 AND kind = 'text' AND seq > 0",
	[ST_TIMER_LATEST] = "SELECT message_id FROM messages WHERE chat_id = ?1 AND kind = 'timer'"
			    " AND seq > 0 ORDER BY seq DESC LIMIT 1",
	[ST_TIMER_GET] = "SELECT disappear_seconds FROM chats WHERE chat_id = ?1",
	[ST_EXPIRED] = "SELECT message_id FROM messages WHERE expires_at IS NOT NULL"
		       " AND expires_at <= ?1 ORDER BY expires_at LIMIT 100",
	[ST_EXPIRE_NEXT] = "SELECT min(expires_at) FROM messages WHERE expires_at IS NOT NULL",
	/* ST_TIMER_MESSAGES for one message: what a new one costs. */
	[ST_TIMER_ONE] = "UPDATE messages SET expires_at = (SELECT CASE WHEN"
			 " CAST(t.text AS INTEGER) > 0 THEN messages.sent_at +"
			 " CAST(t.text AS INTEGER) * 1000 END FROM messages t"
			 " WHERE t.chat_id = ?1 AND t.kind = 'timer' AND t.seq > 0"
			 " AND t.seq < messages.seq ORDER BY t.seq DESC LIMIT 1)"
			 " WHERE message_id = ?2 AND chat_id = ?1 AND kind = 'text' AND seq > 0",
	/* The ttl of a message this device sends: the timer of the chat's
	 * change of the highest seq, unless this device wrote one before the
	 * message that has no seq yet (it will have a higher one): the newest
	 * of those. */
	[ST_TIMER_FOR_SEND] = "SELECT CAST(text AS INTEGER) FROM messages WHERE chat_id = ?1"
			      " AND kind = 'timer' AND (seq > 0 OR (state = 'pending' AND rowid <"
			      " (SELECT rowid FROM messages WHERE message_id = ?2)))"
			      " ORDER BY seq = 0 DESC, seq DESC, rowid DESC LIMIT 1",
	/* store_blocks.c */
	[ST_BLOCKED_EACH] = "SELECT user FROM blocked ORDER BY user",
	[ST_BLOCKED_HAS] = "SELECT 1 FROM blocked WHERE user = ?1",
	[ST_BLOCKED_CLEAR] = "DELETE FROM blocked",
	[ST_BLOCKED_ADD] = "INSERT OR IGNORE INTO blocked(user) VALUES (?1)",
	[ST_DROPPED_ADD] = "INSERT OR IGNORE INTO dropped(message_id, at) VALUES (?1, ?2)",
	[ST_DROPPED_PRUNE] = "DELETE FROM dropped WHERE at < ?1",

	/* store_history.c: a chat's rows a new device gets (PROTOCOL.md,
	 * "History sync"): what the server numbered (and membership events),
	 * sent at or after ?2, not yet expired at ?3; every timer change of the
	 * chat whatever its age, since the expiry of a message in the window
	 * follows the change in force at its seq. */
	[ST_HISTORY_ROWS] = "SELECT message_id, chat_id, seq, sender, sender_device, sent_at, text,"
			    " outgoing, state, kind, reply_to, reply_sender, reply_preview, deleted,"
			    " expires_at, original FROM messages WHERE chat_id = ?1"
			    " AND kind IN ('text', 'update', 'reaction', 'edit', 'delete', 'timer')"
			    " AND (seq > 0 OR kind = 'update')"
			    " AND state NOT IN ('pending', 'failed')"
			    " AND (sent_at >= ?2 OR kind = 'timer')"
			    " AND (expires_at IS NULL OR expires_at = 0 OR expires_at > ?3)"
			    " ORDER BY seq, rowid",
	/* A batch the server has: its text is of no use here any more. */
	[ST_HISTORY_WIPE] = "UPDATE messages SET text = '' WHERE message_id = ?1 AND kind = 'history'",

	/* store_receipts.c */
	[ST_RECEIPT_PUT] = "INSERT INTO receipts(message_id, user, device_id, status, at)"
			   " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(message_id, user, device_id)"
			   " DO UPDATE SET status = excluded.status, at = excluded.at"
			   " WHERE excluded.status > receipts.status",
	/* Every other member of the chat has a device at or past a status: the
	 * message has that status. Only messages the server has (seq > 0) move. */
	[ST_MESSAGE_REFRESH_STATE] =
		"UPDATE messages SET state = CASE"
		"  WHEN NOT EXISTS (SELECT 1 FROM chat_members cm WHERE cm.chat_id ="
		"   messages.chat_id AND cm.user <> ?2 AND NOT EXISTS (SELECT 1 FROM receipts r"
		"   WHERE r.message_id = ?1 AND r.user = cm.user AND r.status >= 2)) THEN 'read'"
		"  WHEN NOT EXISTS (SELECT 1 FROM chat_members cm WHERE cm.chat_id ="
		"   messages.chat_id AND cm.user <> ?2 AND NOT EXISTS (SELECT 1 FROM receipts r"
		"   WHERE r.message_id = ?1 AND r.user = cm.user)) THEN 'delivered'"
		"  ELSE 'sent' END"
		" WHERE message_id = ?1 AND outgoing = 1 AND kind = 'text' AND seq > 0"
		"  AND EXISTS (SELECT 1 FROM receipts r WHERE r.message_id = ?1)",
	[ST_READ_QUEUE] = "INSERT OR IGNORE INTO receipt_outbox(chat_id, to_user, message_id,"
			  " status, created_at) SELECT chat_id, sender, message_id, 2, ?3"
			  " FROM messages WHERE chat_id = ?1 AND (?2 IS NULL OR message_id = ?2)"
			  " AND outgoing = 0 AND kind = 'text' AND state = 'received'"
			  " AND sender <> ?4 ORDER BY seq",
	/* Read implies delivered: a delivered receipt still owed is not needed. */
	[ST_READ_DROP_DELIVERED] = "DELETE FROM receipt_outbox WHERE status = 1 AND message_id IN"
				   " (SELECT message_id FROM receipt_outbox WHERE status = 2)",
	[ST_READ_MARK] = "UPDATE messages SET state = 'read' WHERE chat_id = ?1"
			 " AND (?2 IS NULL OR message_id = ?2) AND outgoing = 0 AND kind = 'text'"
			 " AND state = 'received'",
	[ST_RECEIPT_QUEUE] = "INSERT OR IGNORE INTO receipt_outbox(chat_id, to_user,"
			     " message_id, status, created_at) VALUES(?1, ?2, ?3, ?4, ?5)",
	[ST_RECEIPT_OLDEST] = "SELECT chat_id, to_user, status FROM receipt_outbox"
			      " ORDER BY id LIMIT 1",
	[ST_RECEIPT_BATCH] = "SELECT message_id, created_at FROM receipt_outbox WHERE chat_id = ?1"
			     " AND to_user = ?2 AND status = ?3 ORDER BY id LIMIT ?4",
	[ST_RECEIPT_DONE] = "DELETE FROM receipt_outbox WHERE message_id = ?1 AND status = ?2",
	[ST_RECEIPTS_PENDING] = "SELECT 1 FROM receipt_outbox LIMIT 1",

	/* store_attach.c */
	[ST_ATTACH_PUT] =
		"INSERT OR IGNORE INTO attachments(message_id, idx, blob_id, name, type,"
		" size, enc_size, key, sha256) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_ATTACH_LIST] = "SELECT blob_id, name, type, size, enc_size, key, sha256, path"
			   " FROM attachments WHERE message_id = ?1 ORDER BY idx",
	[ST_ATTACH_SET_PATH] =
		"UPDATE attachments SET path = ?1 WHERE message_id = ?2 AND idx = ?3",
};

/* ---- helpers (store_sql.h) ------------------------------------------------------- */

int
store_fail(struct store *s, const char *what)
{
	snprintf(s->err, sizeof s->err, "%s: %s", what,
		 s->db ? sqlite3_errmsg(s->db) : "the store is closed");
	return -1;
}

/*
 * A statement is handed out once at a time: a caller stepping through rows may
 * call a function that wants the same statement (a callback of a walk of the
 * history reading the history again), and must not have its rows reset under
 * it. That one gets a statement of its own, finalized when given back.
 */
sqlite3_stmt *
store_stmt(struct store *s, enum store_st which)
{
	struct store_stmts *t = s->stmts;
	sqlite3_stmt *st = NULL;

	if (s->db == NULL || t == NULL) {
		snprintf(s->err, sizeof s->err, "the store is closed");
		return NULL;
	}
	if (t->st[which] != NULL && !t->busy[which]) {
		t->busy[which] = 1;
		return t->st[which];
	}
	if (t->st[which] == NULL) {
		/* Kept for the life of the store: tell SQLite so. */
		if (sqlite3_prepare_v3(s->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
				       &t->st[which], NULL) != SQLITE_OK) {
			t->st[which] = NULL;
			store_fail(s, "prepare");
			return NULL;
		}
		t->busy[which] = 1;
		return t->st[which];
	}
	if (sqlite3_prepare_v2(s->db, stmt_sql[which], -1, &st, NULL) != SQLITE_OK) {
		store_fail(s, "prepare");
		return NULL;
	}
	return st;
}

/* A statement of the table is reset, so that it holds no read transaction
 * open, and its bindings cleared, so that it keeps no pointer to the caller's
 * memory; any other (one of its own, or one a closed store left to its
 * holder) is finalized. Looking it up costs a few dozen compares, nothing
 * beside the reset. reset and finalize return the error of the last step
 * again, which the caller has had: not a failure of their own. */
void
store_done(struct store *s, sqlite3_stmt *st)
{
	struct store_stmts *t = s->stmts;

	if (st == NULL)
		return;
	for (int i = 0; t != NULL && i < ST_COUNT; i++) {
		if (t->st[i] == st) {
			(void)sqlite3_reset(st);
			(void)sqlite3_clear_bindings(st);
			t->busy[i] = 0;
			return;
		}
	}
	(void)sqlite3_finalize(st);
}

/* A bind's failure in err; the caller's store_abandon puts its what before it. */
static int
bind_failed(struct store *s, int i, int rc)
{
	snprintf(s->err, sizeof s->err, "bind parameter %d: %s", i, sqlite3_errstr(rc));
	return -1;
}

int
store_bind_text(struct store *s, sqlite3_stmt *st, int i, const char *v)
{
	int rc = v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);

	return rc == SQLITE_OK ? 0 : bind_failed(s, i, rc);
}

int
store_bind_text_len(struct store *s, sqlite3_stmt *st, int i, const char *v, size_t len)
{
	int rc = sqlite3_bind_text64(st, i, v, len, SQLITE_STATIC, SQLITE_UTF8);

	return rc == SQLITE_OK ? 0 : bind_failed(s, i, rc);
}

int
store_bind_int(struct store *s, sqlite3_stmt *st, int i, int64_t v)
{
	int rc = sqlite3_bind_int64(st, i, v);

	return rc == SQLITE_OK ? 0 : bind_failed(s, i, rc);
}

int
store_bind_blob(struct store *s, sqlite3_stmt *st, int i, const void *v, size_t len)
{
	int rc = sqlite3_bind_blob64(st, i, v, len, SQLITE_STATIC);

	return rc == SQLITE_OK ? 0 : bind_failed(s, i, rc);
}

int
store_step(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc;

	/* Closed under a walk (from its callback): the statement still works on
	 * the closed connection, but what it reads is no longer anybody's. */
	if (s->db == NULL) {
		snprintf(s->err, sizeof s->err, "%s: the store was closed", what);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return store_fail(s, what);
}

int
store_run(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = store_step(s, st, what);

	store_done(s, st);
	if (rc == 1) {
		snprintf(s->err, sizeof s->err, "%s: a row where none was expected", what);
		return -1;
	}
	return rc;
}

int
store_abandon(struct store *s, sqlite3_stmt *st, const char *what)
{
	char why[sizeof s->err];

	memcpy(why, s->err, sizeof why);
	snprintf(s->err, sizeof s->err, "%s: %.200s", what, why);
	store_done(s, st);
	return -1;
}

int
store_exists(struct store *s, enum store_st which, const char *key)
{
	sqlite3_stmt *st = store_stmt(s, which);
	int rc;

	if (st == NULL || store_bind_text(s, st, 1, key))
		return store_abandon(s, st, "look up");
	rc = store_step(s, st, "look up");
	store_done(s, st);
	return rc;
}

const char *
store_col_text(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);

	return t != NULL ? t : "";
}

void
store_col_copy(sqlite3_stmt *st, int col, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", store_col_text(st, col));
}

int
store_collect_texts(struct store *s, sqlite3_stmt *st, const char *what, char ***out, size_t *n)
{
	char **list = NULL;
	size_t len = 0;
	int rc;

	while ((rc = store_step(s, st, what)) == 1) {
		char **grown = realloc(list, (len + 1) * sizeof *list);
		char *t;

		if (grown == NULL || (t = strdup(store_col_text(st, 0))) == NULL) {
			list = grown ? grown : list;
			snprintf(s->err, sizeof s->err, "%s: out of memory", what);
			rc = -1;
			break;
		}
		list = grown;
		list[len++] = t;
	}
	store_done(s, st);
	if (rc != 0) {
		store_free_list(list, len);
		return -1;
	}
	*out = list;
	*n = len;
	return 0;
}

void
store_free_list(char **list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* ---- open and close ------------------------------------------------------------ */

/* Runs a script of several statements: the schema, a migration, pragmas. */
static int
exec(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(s->err, sizeof s->err, "%s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
user_version(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, ST_USER_VERSION);
	int v = -1;

	if (st != NULL && store_step(s, st, "read schema version") == 1)
		v = sqlite3_column_int(st, 0);
	store_done(s, st);
	return v;
}

/* Creates a new store at the current version, or brings an older one up to it.
 * Runs inside the caller's transaction, so a failure changes nothing. */
static int
set_up(struct store *s)
{
	char sql[64];
	int v = user_version(s);

	if (v < 0)
		return -1;
	if (v > STORE_SCHEMA_VERSION) {
		snprintf(s->err, sizeof s->err, "store is from a newer libchat (schema %d > %d)", v,
			 STORE_SCHEMA_VERSION);
		return -1;
	}
	if (v == 0) {
		/* New: version 1, then the same migrations an old store takes. */
		if (exec(s, schema) != 0)
			return -1;
		v = 1;
	}
	for (; v < STORE_SCHEMA_VERSION; v++)
		if (exec(s, migrations[v - 1]) != 0)
			return -1;
	snprintf(sql, sizeof sql, "PRAGMA user_version=%d", STORE_SCHEMA_VERSION);
	return exec(s, sql);
}

/*
 * What every connection sets, none of which writes to a store that has it
 * already: journal_mode is persistent in the file, so it is set only on a new
 * store (setting it costs a write lock). No checkpoint on close: a cold
 * command would otherwise pay for copying the WAL into the database and
 * deleting it (fsyncs of both) on every run; the WAL stays for the next
 * connection, and SQLite checkpoints it as it grows (wal_autocheckpoint).
 */
static int
configure(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int wal = 0, rc;

	if (sqlite3_busy_timeout(s->db, 5000) != SQLITE_OK ||
	    sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL) != SQLITE_OK)
		return store_fail(s, "configure");
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, "read journal mode");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		wal = sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	(void)sqlite3_finalize(st); /* the step's error, if any, is told below */
	if (rc != SQLITE_ROW)
		return store_fail(s, "read journal mode");
	if (!wal && exec(s, "PRAGMA journal_mode=WAL;") != 0)
		return -1;
	return exec(s, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
}

int
store_open(struct store *s, const char *path)
{
	int rc;

	memset(s, 0, sizeof *s);
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		snprintf(s->err, sizeof s->err, "cannot open %s: %s", path,
			 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		(void)sqlite3_close(s->db); /* the handle of a failed open: nothing to keep */
		s->db = NULL;
		return -1;
	}
	if ((s->stmts = calloc(1, sizeof *s->stmts)) == NULL) {
		snprintf(s->err, sizeof s->err, "cannot open %s: out of memory", path);
		store_close(s);
		return -1;
	}
	/* A store at the current version is used as it is: reading its version
	 * takes no write lock and no fsync. Anything else is created or migrated
	 * under a write transaction, which reads the version again (another
	 * process may have done it meanwhile). */
	if (configure(s) != 0 || (rc = user_version(s)) < 0 ||
	    (rc != STORE_SCHEMA_VERSION &&
	     (store_begin(s) != 0 || set_up(s) != 0 || store_commit(s) != 0))) {
		char why[256];

		memcpy(why, s->err, sizeof why);
		snprintf(s->err, sizeof s->err, "cannot set up %s: %.160s", path, why);
		store_close(s);
		return -1;
	}
	return 0;
}

/*
 * Finalizes the table's statements and closes the database. A statement a
 * caller still holds (the store is closed from a walk's callback) is left to
 * it: the connection lives on as a "zombie" (sqlite3_close_v2) until that
 * statement is given back, store_step refuses to go on with it, and store_done
 * finalizes it. sqlite3_close() would refuse to close instead, leaking the
 * connection and its WAL file.
 */
void
store_close(struct store *s)
{
	if (s->stmts != NULL) {
		for (int i = 0; i < ST_COUNT; i++)
			if (!s->stmts->busy[i])
				(void)sqlite3_finalize(s->stmts->st[i]); /* NULL is a no-op */
		free(s->stmts);
		s->stmts = NULL;
	}
	/* sqlite3_close_v2 defers what it cannot do now; it returns SQLITE_OK
	 * for any connection it was given. */
	if (s->db != NULL)
		(void)sqlite3_close_v2(s->db); /* rolls back a batch still open */
	s->db = NULL;
	s->batch = s->nested = 0;
}

/* ---- settings ------------------------------------------------------------------- */

int
store_meta_get(struct store *s, const char *key, char *buf, size_t cap)
{
	sqlite3_stmt *st = store_stmt(s, ST_META_GET);
	int rc;

	if (st == NULL || store_bind_text(s, st, 1, key))
		return store_abandon(s, st, "read setting");
	if ((rc = store_step(s, st, "read setting")) == 1)
		store_col_copy(st, 0, buf, cap);
	store_done(s, st);
	return rc;
}

int
store_meta_set(struct store *s, const char *key, const char *value)
{
	sqlite3_stmt *st = store_stmt(s, ST_META_SET);

	if (st == NULL || store_bind_text(s, st, 1, key) || store_bind_text(s, st, 2, value))
		return store_abandon(s, st, "write setting");
	return store_run(s, st, "write setting");
}

/* ---- durability ---------------------------------------------------------------- */

int
store_synced(struct store *s, int full)
{
	sqlite3_stmt *st = store_stmt(s, full ? ST_SYNC_FULL : ST_SYNC_NORMAL);

	return st == NULL ? store_abandon(s, st, "set synchronous")
			  : store_run(s, st, "set synchronous");
}

/* ---- transactions ------------------------------------------------------------
 *
 * Inside a batch (store_batch_begin), a transaction is a savepoint of the
 * batch's: its commit is a RELEASE, its rollback undoes only itself, and what
 * it wrote is durable with the batch's commit. */

/* Runs one statement of the table that takes no parameters. */
static int
run_plain(struct store *s, enum store_st which, const char *what)
{
	sqlite3_stmt *st = store_stmt(s, which);

	return st == NULL ? store_abandon(s, st, what) : store_run(s, st, what);
}

int
store_begin(struct store *s)
{
	/* Outside a batch and any transaction: a transaction of its own. Inside
	 * one (a batch, or a caller's store_begin): a savepoint of it. */
	if (!s->batch && s->nested == 0 && (s->db == NULL || sqlite3_get_autocommit(s->db)))
		return run_plain(s, ST_BEGIN, "begin");
	if (run_plain(s, ST_SAVEPOINT, "begin") != 0)
		return -1;
	s->nested++;
	return 0;
}

int
store_commit(struct store *s)
{
	if (run_plain(s, s->nested > 0 ? ST_RELEASE : ST_COMMIT, "commit") == 0) {
		if (s->nested > 0)
			s->nested--;
		return 0;
	}
	store_rollback(s);
	return -1;
}

/* Keeps the reason the caller is rolling back for, and adds to it if the
 * rollback fails too (the transaction is then still open). */
static void
roll_back(struct store *s, int nested)
{
	char keep[sizeof s->err];
	int rc;

	memcpy(keep, s->err, sizeof keep);
	rc = nested ? run_plain(s, ST_ROLLBACK_TO, "rollback") ||
			      run_plain(s, ST_RELEASE, "rollback")
		    : run_plain(s, ST_ROLLBACK, "rollback");
	if (rc != 0) {
		char why[sizeof s->err];

		memcpy(why, s->err, sizeof why);
		snprintf(s->err, sizeof s->err, "%.120s; %.120s", keep, why);
		return;
	}
	memcpy(s->err, keep, sizeof keep);
}

/* A failed statement may or may not have ended the transaction (SQLITE_FULL
 * can roll it back by itself): look before rolling back. In a batch, a
 * rollback with no savepoint open is the batch's to do (store_batch_end):
 * the savepoint it follows was rolled back already. */
void
store_rollback(struct store *s)
{
	if (s->db == NULL || sqlite3_get_autocommit(s->db))
		return;
	if (s->nested > 0) {
		s->nested--;
		roll_back(s, 1);
	} else if (!s->batch) {
		roll_back(s, 0);
	}
}

int
store_batch_begin(struct store *s)
{
	if (s->batch)
		return 0;
	if (run_plain(s, ST_BEGIN, "begin") != 0)
		return -1;
	s->batch = 1;
	s->nested = 0;
	return 0;
}

int
store_batch_end(struct store *s)
{
	if (!s->batch)
		return 0;
	s->batch = 0;
	s->nested = 0;
	/* An error that rolled the transaction back by itself (SQLITE_FULL,
	 * an I/O error) took the batch with it: what came after ran in
	 * autocommit mode, on its own. */
	if (s->db == NULL || sqlite3_get_autocommit(s->db)) {
		snprintf(s->err, sizeof s->err, "the batch's transaction was rolled back");
		return -1;
	}
	return store_commit(s);
}
