/*
 * store.c - the device's local SQLite store.
 *
 * One database per device home, in WAL mode so that chatctl and chat-tui can use
 * one home at once: readers never wait for the writer, and writers wait for each
 * other at most busy_timeout. synchronous=FULL because a received message is
 * acknowledged to the server right after its commit: once acked, the server
 * forgets it, so the commit must survive a power cut, not only a crash.
 */
#include "store.h"
#include "attach.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define STORE_SCHEMA_VERSION 6

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
};

static int
fail(struct store *s, const char *what)
{
	snprintf(s->err, sizeof s->err, "%s: %s", what,
		 s->db ? sqlite3_errmsg(s->db) : "no database");
	return -1;
}

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

/* FNV-1a: the cache compares hashes before it compares texts. */
static uint32_t
sql_hash(const char *sql)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)sql; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

/* Prepares sql or records why not. The statement comes from the store's cache
 * when sql was prepared before: reset and with no bindings, as if new. Give it
 * back with release(), never sqlite3_finalize().
 *
 * The key is the text, not the pointer: every caller passes a literal today,
 * but the compiler may or may not merge equal literals, and a key on a pointer
 * would hand out the wrong statement the day one caller builds its SQL in a
 * buffer. Hashing a few hundred bytes costs far less than the prepare saved.
 *
 * A statement is handed out once at a time: a caller stepping through rows may
 * call a function that wants the same SQL (a callback of store_message_each
 * reading the history again), and must not have its rows reset under it. That
 * one gets a statement of its own, finalized by release(); so does any SQL past
 * STORE_STMT_CACHE, or when the copy of the key cannot be allocated. */
static sqlite3_stmt *
prep(struct store *s, const char *sql)
{
	uint32_t h = sql_hash(sql);
	struct store_stmt *e = NULL;
	sqlite3_stmt *st = NULL;
	int found = 0;

	for (size_t i = 0; i < s->n_cached; i++) {
		if (s->cache[i].hash == h && strcmp(s->cache[i].sql, sql) == 0) {
			found = 1;
			if (!s->cache[i].busy) {
				s->cache[i].busy = 1;
				return s->cache[i].st;
			}
			break;
		}
	}
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		fail(s, "prepare");
		return NULL;
	}
	/* st is NULL, and success, for SQL that is only a comment: nothing to keep. */
	if (st != NULL && !found && s->n_cached < STORE_STMT_CACHE) {
		e = &s->cache[s->n_cached];
		if ((e->sql = strdup(sql)) != NULL) {
			e->hash = h;
			e->busy = 1;
			e->st = st;
			s->n_cached++;
		}
	}
	return st;
}

/* Gives back a statement from prep() (NULL is fine). One of the cache's is
 * reset, so it holds no read transaction open, and its bindings cleared, so it
 * keeps no pointer to the caller's memory and the next user starts from NULLs;
 * any other is finalized. reset returns the error of the last step again,
 * which the caller has seen: not a failure of its own. */
static void
release(struct store *s, sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < s->n_cached; i++) {
		if (s->cache[i].st == st) {
			(void)sqlite3_reset(st);
			(void)sqlite3_clear_bindings(st);
			s->cache[i].busy = 0;
			return;
		}
	}
	sqlite3_finalize(st);
}

/* Runs a statement that returns no rows, then releases it. */
static int
run(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	release(s, st);
	if (rc != SQLITE_DONE)
		return fail(s, what);
	return 0;
}

static int
user_version(struct store *s)
{
	sqlite3_stmt *st = prep(s, "PRAGMA user_version");
	int v = -1;

	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	release(s, st);
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
		return fail(s, "read schema version");
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
		sqlite3_close(s->db);
		s->db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;") ||
	    exec(s, "BEGIN IMMEDIATE") || set_up(s) != 0 || exec(s, "COMMIT")) {
		char why[256];

		memcpy(why, s->err, sizeof why);
		snprintf(s->err, sizeof s->err, "cannot set up %s: %.160s", path, why);
		store_close(s);
		return -1;
	}
	return 0;
}

void
store_close(struct store *s)
{
	/* sqlite3_close() refuses (and leaks the connection) while any statement
	 * is left unfinalized. */
	for (size_t i = 0; i < s->n_cached; i++) {
		sqlite3_finalize(s->cache[i].st);
		free(s->cache[i].sql);
	}
	memset(s->cache, 0, sizeof s->cache);
	s->n_cached = 0;
	if (s->db != NULL)
		sqlite3_close(s->db);
	s->db = NULL;
}

int
store_meta_get(struct store *s, const char *key, char *buf, size_t cap)
{
	sqlite3_stmt *st = prep(s, "SELECT value FROM meta WHERE key = ?");
	int rc, found = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(buf, cap, "%s", (const char *)sqlite3_column_text(st, 0));
		found = 1;
	} else if (rc != SQLITE_DONE) {
		release(s, st);
		return fail(s, "read setting");
	}
	release(s, st);
	return found;
}

int
store_meta_set(struct store *s, const char *key, const char *value)
{
	sqlite3_stmt *st = prep(s, "INSERT INTO meta(key, value) VALUES(?, ?) "
				   "ON CONFLICT(key) DO UPDATE SET value = excluded.value");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	return run(s, st, "write setting");
}

static void
copy_blob(uint8_t *dst, sqlite3_stmt *st, int col)
{
	const void *b = sqlite3_column_blob(st, col);

	if (b != NULL && sqlite3_column_bytes(st, col) == 32)
		memcpy(dst, b, 32);
	else
		memset(dst, 0, 32);
}

static void
row_to_peer(sqlite3_stmt *st, int col, struct store_peer *p)
{
	memset(p, 0, sizeof *p);
	copy_blob(p->identity_key, st, col);
	copy_blob(p->exchange_key, st, col + 1);
	p->has_pending = sqlite3_column_type(st, col + 2) == SQLITE_BLOB;
	if (p->has_pending) {
		copy_blob(p->pending_identity, st, col + 2);
		copy_blob(p->pending_exchange, st, col + 3);
	}
	p->active = sqlite3_column_int(st, col + 4);
	if (sqlite3_column_type(st, col + 5) == SQLITE_TEXT)
		snprintf(p->name, sizeof p->name, "%s",
			 (const char *)sqlite3_column_text(st, col + 5));
	p->removed = sqlite3_column_type(st, col + 6) == SQLITE_INTEGER;
	p->horizon = p->removed ? (uint32_t)sqlite3_column_int64(st, col + 6) : 0;
}

int
store_peer_get(struct store *s, const char *user, uint32_t device, struct store_peer *p)
{
	sqlite3_stmt *st = prep(s, "SELECT identity_key, exchange_key, pending_identity,"
				   " pending_exchange, active, name, removed_horizon FROM peers"
				   " WHERE user = ? AND device_id = ?");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, device);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_to_peer(st, 0, p);
	release(s, st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : fail(s, "read pinned key");
}

int
store_peer_pin(struct store *s, const char *user, uint32_t device, const uint8_t ik[32],
	       const uint8_t xk[32], const char *name)
{
	sqlite3_stmt *st =
		prep(s, "INSERT INTO peers(user, device_id, identity_key, exchange_key, active, "
			"pinned_at, name)"
			" VALUES(?, ?, ?, ?, 1, ?, ?) ON CONFLICT(user, device_id) DO UPDATE SET"
			" exchange_key = excluded.exchange_key, active = 1, name = "
			"coalesce(excluded.name, name),"
			" pending_identity = NULL, pending_exchange = NULL"
			/* Never a removed device: only the user brings one back
			 * (store_peer_trust). */
			" WHERE identity_key = excluded.identity_key AND removed_horizon IS NULL");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, device);
	sqlite3_bind_blob(st, 3, ik, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, xk, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, proto_now_ms());
	if (name != NULL)
		sqlite3_bind_text(st, 6, name, -1, SQLITE_STATIC);
	return run(s, st, "pin key");
}

int
store_peer_count_pins(struct store *s, const char *user, uint32_t skip)
{
	sqlite3_stmt *st = prep(s, "SELECT count(*) FROM peers WHERE user = ? AND device_id != ?");
	int n = -1;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, skip);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	else
		fail(s, "count pins");
	release(s, st);
	return n;
}

int
store_peer_find_identity(struct store *s, const char *user, const uint8_t ik[32], uint32_t *device,
			 struct store_peer *p)
{
	/* A key pinned twice (a device removed, then linked again with the same
	 * key) counts as its live pin first. */
	sqlite3_stmt *st = prep(s, "SELECT device_id, identity_key, exchange_key, pending_identity,"
				   " pending_exchange, active, name, removed_horizon FROM peers"
				   " WHERE user = ? AND identity_key = ?"
				   " ORDER BY active DESC, removed_horizon DESC LIMIT 1");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, ik, 32, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*device = (uint32_t)sqlite3_column_int64(st, 0);
		row_to_peer(st, 1, p);
	}
	release(s, st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : fail(s, "look up key");
}

int
store_peer_max_id(struct store *s, const char *user, uint32_t *max)
{
	sqlite3_stmt *st = prep(s, "SELECT coalesce(max(device_id), 0) FROM peers WHERE user = ?");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*max = (uint32_t)sqlite3_column_int64(st, 0);
	release(s, st);
	return rc == SQLITE_ROW ? 0 : fail(s, "read device ids");
}

int
store_peer_set_pending(struct store *s, const char *user, uint32_t device, const uint8_t ik[32],
		       const uint8_t xk[32])
{
	/* Active or removed, it stays as it is until the user accepts. */
	sqlite3_stmt *st = prep(s, "UPDATE peers SET pending_identity = ?, pending_exchange = ?"
				   " WHERE user = ? AND device_id = ?");

	if (st == NULL)
		return -1;
	sqlite3_bind_blob(st, 1, ik, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, xk, 32, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, device);
	return run(s, st, "record changed key");
}

int
store_peer_trust(struct store *s, const char *user)
{
	/* A removed device listed again comes back with it: the user's word. */
	sqlite3_stmt *st = prep(s, "UPDATE peers SET identity_key = pending_identity,"
				   " exchange_key = pending_exchange, pending_identity = NULL,"
				   " pending_exchange = NULL, pinned_at = ?, active = 1,"
				   " removed_horizon = NULL"
				   " WHERE user = ? AND pending_identity IS NOT NULL");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, proto_now_ms());
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	if (run(s, st, "accept key") != 0)
		return -1;
	return sqlite3_changes(s->db);
}

int
store_peer_remove(struct store *s, const char *user, uint32_t device, uint32_t horizon)
{
	sqlite3_stmt *st = prep(s, "UPDATE peers SET active = 0, removed_horizon = ?"
				   " WHERE user = ? AND device_id = ? AND removed_horizon IS NULL");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, horizon);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, device);
	return run(s, st, "mark device removed");
}

int
store_peer_drop_pending(struct store *s, const char *user, uint32_t device)
{
	sqlite3_stmt *st = prep(s, "UPDATE peers SET pending_identity = NULL,"
				   " pending_exchange = NULL WHERE user = ? AND device_id = ?");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, device);
	return run(s, st, "forget changed key");
}

int
store_peer_each_pin(struct store *s, const char *user, store_peer_fn fn, void *arg)
{
	sqlite3_stmt *st =
		prep(s, "SELECT device_id, identity_key, exchange_key, pending_identity,"
			" pending_exchange, active, name, removed_horizon FROM peers WHERE user = ?"
			" ORDER BY device_id");
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_peer p;

		row_to_peer(st, 1, &p);
		stop = fn(arg, user, (uint32_t)sqlite3_column_int64(st, 0), &p);
	}
	release(s, st);
	if (!stop && rc != SQLITE_DONE)
		return fail(s, "list devices");
	return stop;
}

int
store_peer_each(struct store *s, const char *user, store_peer_fn fn, void *arg)
{
	sqlite3_stmt *st = prep(s, "SELECT device_id, identity_key, exchange_key, pending_identity,"
				   " pending_exchange, active, name, removed_horizon FROM peers"
				   " WHERE user = ? AND active = 1 ORDER BY device_id");
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_peer p;

		row_to_peer(st, 1, &p);
		stop = fn(arg, user, (uint32_t)sqlite3_column_int64(st, 0), &p);
	}
	release(s, st);
	if (!stop && rc != SQLITE_DONE)
		return fail(s, "list devices");
	return stop;
}

int
store_peer_count(struct store *s, const char *user)
{
	sqlite3_stmt *st = prep(s, "SELECT count(*) FROM peers WHERE user = ? AND active = 1");
	int n = -1;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	else
		fail(s, "count devices");
	release(s, st);
	return n;
}

int
store_chat_put(struct store *s, const char *chat_id, const char *kind, const char *name,
	       int64_t created_at, const char *const *members, size_t n_members,
	       const char *const *admins, size_t n_admins)
{
	sqlite3_stmt *st;

	if (exec(s, "BEGIN IMMEDIATE") != 0)
		return -1;
	st = prep(s, "INSERT INTO chats(chat_id, kind, name, created_at, members_known)"
		     " VALUES(?, ?, ?, ?, ?) ON CONFLICT(chat_id) DO UPDATE SET"
		     " kind = excluded.kind, name = excluded.name,"
		     " members_known = max(members_known, excluded.members_known)");
	if (st == NULL)
		goto rollback;
	sqlite3_bind_text(st, 1, chat_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	if (name != NULL)
		sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, created_at);
	sqlite3_bind_int(st, 5, members != NULL);
	if (run(s, st, "store chat") != 0)
		goto rollback;
	if (members != NULL) {
		st = prep(s, "DELETE FROM chat_members WHERE chat_id = ?");
		if (st == NULL)
			goto rollback;
		sqlite3_bind_text(st, 1, chat_id, -1, SQLITE_STATIC);
		if (run(s, st, "store members") != 0)
			goto rollback;
		for (size_t i = 0; i < n_members; i++) {
			st = prep(s,
				  "INSERT OR IGNORE INTO chat_members(chat_id, user) VALUES(?, ?)");
			if (st == NULL)
				goto rollback;
			sqlite3_bind_text(st, 1, chat_id, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, members[i], -1, SQLITE_STATIC);
			if (run(s, st, "store members") != 0)
				goto rollback;
		}
		for (size_t i = 0; admins != NULL && i < n_admins; i++) {
			st = prep(
				s,
				"UPDATE chat_members SET admin = 1 WHERE chat_id = ? AND user = ?");
			if (st == NULL)
				goto rollback;
			sqlite3_bind_text(st, 1, chat_id, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, admins[i], -1, SQLITE_STATIC);
			if (run(s, st, "store admins") != 0)
				goto rollback;
		}
	}
	return exec(s, "COMMIT");
rollback:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int
store_chat_member_each(struct store *s, const char *chat_id, store_member_fn fn, void *arg)
{
	sqlite3_stmt *st = prep(s, "SELECT user, admin FROM chat_members WHERE chat_id = ?"
				   " ORDER BY user");
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, chat_id, -1, SQLITE_STATIC);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW)
		stop = fn(arg, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1));
	release(s, st);
	if (!stop && rc != SQLITE_DONE)
		return fail(s, "list members");
	return stop;
}

static int
exists(struct store *s, const char *sql, const char *key)
{
	sqlite3_stmt *st = prep(s, sql);
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	release(s, st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : fail(s, "look up");
}

int
store_chat_exists(struct store *s, const char *chat_id)
{
	return exists(s, "SELECT 1 FROM chats WHERE chat_id = ?", chat_id);
}

int
store_chat_has_members(struct store *s, const char *chat_id)
{
	return exists(s, "SELECT 1 FROM chats WHERE chat_id = ? AND members_known", chat_id);
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

/* Steps st (bound, from prep) to its end, collecting its first column's texts
 * into a malloc'd list (free with store_free_list); releases st. */
static int
collect_texts(struct store *s, sqlite3_stmt *st, const char *what, char ***out, size_t *n)
{
	char **list = NULL;
	size_t len = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char **grown = realloc(list, (len + 1) * sizeof *list);
		char *t;

		if (grown == NULL ||
		    (t = strdup((const char *)sqlite3_column_text(st, 0))) == NULL) {
			list = grown ? grown : list;
			rc = SQLITE_NOMEM;
			break;
		}
		list = grown;
		list[len++] = t;
	}
	release(s, st);
	if (rc != SQLITE_DONE) {
		store_free_list(list, len);
		return fail(s, what);
	}
	*out = list;
	*n = len;
	return 0;
}

int
store_chat_members(struct store *s, const char *chat_id, char ***users, size_t *n)
{
	sqlite3_stmt *st = prep(s, "SELECT user FROM chat_members WHERE chat_id = ? ORDER BY user");

	*users = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, chat_id, -1, SQLITE_STATIC);
	return collect_texts(s, st, "list members", users, n);
}

int
store_chat_each(struct store *s, chat_chat_cb fn, void *arg)
{
	sqlite3_stmt *st = prep(
		s,
		"SELECT c.chat_id, c.kind, c.name,"
		" coalesce((SELECT max(CASE WHEN m.sent_at > 0 THEN m.sent_at ELSE m.stored_at END)"
		"           FROM messages m WHERE m.chat_id = c.chat_id), c.created_at) AS last,"
		" (SELECT count(*) FROM messages m WHERE m.chat_id = c.chat_id),"
		" (SELECT count(*) FROM messages m WHERE m.chat_id = c.chat_id"
		"   AND m.outgoing = 0 AND m.kind = 'text' AND m.state = 'received')"
		" FROM chats c ORDER BY last DESC, c.chat_id");
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct chat_chat ch = {0};
		char **members;
		size_t n;

		ch.chat_id = (const char *)sqlite3_column_text(st, 0);
		ch.kind = (const char *)sqlite3_column_text(st, 1);
		ch.name = (const char *)sqlite3_column_text(st, 2);
		ch.last_activity = sqlite3_column_int64(st, 3);
		ch.n_messages = sqlite3_column_int64(st, 4);
		ch.n_unread = sqlite3_column_int64(st, 5);
		if (store_chat_members(s, ch.chat_id, &members, &n) != 0) {
			release(s, st);
			return -1;
		}
		ch.members = (const char *const *)members;
		ch.n_members = n;
		stop = fn(arg, &ch);
		store_free_list(members, n);
	}
	release(s, st);
	if (!stop && rc != SQLITE_DONE)
		return fail(s, "list chats");
	return stop;
}

int
store_chat_resolve(struct store *s, const char *self, const char *spec,
		   char out[CHAT_CHAT_ID_LEN + 1])
{
	sqlite3_stmt *st;
	int rc, found = 0;

	if (spec[0] == '@') {
		st = prep(s, "SELECT c.chat_id FROM chats c WHERE c.kind = 'direct'"
			     " AND EXISTS(SELECT 1 FROM chat_members m WHERE m.chat_id = c.chat_id "
			     "AND m.user = ?)"
			     " AND EXISTS(SELECT 1 FROM chat_members m WHERE m.chat_id = c.chat_id "
			     "AND m.user = ?)"
			     " LIMIT 2");
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, spec + 1, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, self ? self : "", -1, SQLITE_STATIC);
	} else {
		/* A prefix is made of hex digits only, so it cannot carry LIKE wildcards. */
		st = prep(s, "SELECT chat_id FROM chats WHERE chat_id LIKE ? || '%' LIMIT 2");
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, spec, -1, SQLITE_STATIC);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (found++ == 0)
			snprintf(out, CHAT_CHAT_ID_LEN + 1, "%s",
				 (const char *)sqlite3_column_text(st, 0));
	}
	release(s, st);
	if (rc != SQLITE_DONE)
		return fail(s, "find chat");
	return found > 1 ? 2 : found;
}

int
store_message_insert(struct store *s, const struct chat_message *m)
{
	sqlite3_stmt *st = prep(
		s, "INSERT OR IGNORE INTO messages(message_id, chat_id, seq, sender, sender_device,"
		   " sent_at, text, outgoing, state, stored_at, kind, handed)"
		   " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, m->message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->chat_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, m->seq);
	sqlite3_bind_text(st, 4, m->sender, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, m->sender_device);
	sqlite3_bind_int64(st, 6, m->sent_at);
	sqlite3_bind_text(st, 7, m->text, (int)m->text_len, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, m->outgoing);
	sqlite3_bind_text(st, 9, m->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, proto_now_ms());
	sqlite3_bind_text(st, 11, m->kind ? m->kind : "text", -1, SQLITE_STATIC);
	/* What arrives is not handed over until store_message_handed(). */
	sqlite3_bind_int(st, 12, strcmp(m->state, "received") != 0);
	if (run(s, st, "store message") != 0)
		return -1;
	return sqlite3_changes(s->db) > 0;
}

int
store_message_exists(struct store *s, const char *message_id)
{
	return exists(s, "SELECT 1 FROM messages WHERE message_id = ?", message_id);
}

int
store_message_received(struct store *s, const char *message_id)
{
	int rc = exists(s, "SELECT 1 FROM messages WHERE message_id = ?", message_id);

	if (rc != 1)
		return rc;
	rc = exists(s, "SELECT 1 FROM messages WHERE message_id = ? AND handed = 0", message_id);
	return rc < 0 ? -1 : rc == 1 ? 2 : 1;
}

int
store_message_handed(struct store *s, const char *message_id)
{
	sqlite3_stmt *st = prep(s, "UPDATE messages SET handed = 1 WHERE message_id = ?");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	/* Without an fsync of its own: in WAL mode a commit at synchronous=NORMAL
	 * survives the process dying (what this flag is about), only not a power
	 * cut, after which a message may be shown twice. It is on every received
	 * message's path, and an fsync there halves the receive rate. */
	if (exec(s, "PRAGMA synchronous=NORMAL") != 0) {
		release(s, st);
		return -1;
	}
	rc = run(s, st, "mark message handed over");
	if (exec(s, "PRAGMA synchronous=FULL") != 0)
		rc = -1;
	return rc;
}

int
store_message_sent(struct store *s, const char *message_id, int64_t seq, int64_t sent_at)
{
	/* A receipt may have come first (the reply was lost): keep what it said. */
	sqlite3_stmt *st = prep(s, "UPDATE messages SET seq = ?, sent_at = ?,"
				   " state = CASE WHEN state IN ('pending', 'failed') THEN 'sent'"
				   "  ELSE state END WHERE message_id = ?");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, sent_at);
	sqlite3_bind_text(st, 3, message_id, -1, SQLITE_STATIC);
	return run(s, st, "mark message sent");
}

int
store_message_set_state(struct store *s, const char *message_id, const char *state)
{
	sqlite3_stmt *st =
		prep(s, "UPDATE messages SET state = ? WHERE message_id = ? AND seq = 0");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, message_id, -1, SQLITE_STATIC);
	return run(s, st, "update message");
}

#define MESSAGE_COLUMNS                                                                            \
	"message_id, chat_id, seq, sender, sender_device, sent_at, text,"                          \
	" outgoing, state, kind"

/* Reads a row whose first columns are MESSAGE_COLUMNS and calls fn with it. */
static int
emit_message(struct store *s, sqlite3_stmt *st, chat_history_cb fn, void *arg)
{
	struct chat_message m = {0};
	struct chat_attachment a[PROTO_MAX_BLOBS];
	struct attach_meta *metas = NULL;
	char **paths = NULL;
	size_t n = 0;
	int rc;

	m.message_id = (const char *)sqlite3_column_text(st, 0);
	m.chat_id = (const char *)sqlite3_column_text(st, 1);
	m.seq = sqlite3_column_int64(st, 2);
	m.sender = (const char *)sqlite3_column_text(st, 3);
	m.sender_device = (uint32_t)sqlite3_column_int64(st, 4);
	m.sent_at = sqlite3_column_int64(st, 5);
	m.text = (const char *)sqlite3_column_text(st, 6);
	m.text_len = (size_t)sqlite3_column_bytes(st, 6);
	m.outgoing = sqlite3_column_int(st, 7);
	m.state = (const char *)sqlite3_column_text(st, 8);
	m.kind = (const char *)sqlite3_column_text(st, 9);
	/* A message's files, if it has any (never a membership event). */
	if (m.kind != NULL && strcmp(m.kind, "text") == 0 && m.message_id != NULL &&
	    store_attachments(s, m.message_id, &metas, &paths, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			a[i] = (struct chat_attachment){metas[i].name, metas[i].type,
							(int64_t)metas[i].size, paths[i]};
		m.attachments = n ? a : NULL;
		m.n_attachments = n;
	}
	rc = fn(arg, &m);
	attach_meta_free(metas, n);
	store_free_list(paths, n);
	return rc;
}

int
store_message_get(struct store *s, const char *message_id, chat_history_cb fn, void *arg)
{
	sqlite3_stmt *st = prep(s, "SELECT " MESSAGE_COLUMNS " FROM messages WHERE message_id = ?");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		emit_message(s, st, fn, arg);
	release(s, st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : fail(s, "read message");
}

int
store_outbox_each(struct store *s, chat_history_cb fn, void *arg)
{
	sqlite3_stmt *st = prep(s, "SELECT " MESSAGE_COLUMNS " FROM messages WHERE outgoing = 1"
				   " AND state = 'pending' AND kind = 'text' ORDER BY rowid");
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW)
		stop = emit_message(s, st, fn, arg);
	release(s, st);
	if (!stop && rc != SQLITE_DONE)
		return fail(s, "read the outbox");
	return stop;
}

int
store_unsent_each(struct store *s, chat_history_cb fn, void *arg)
{
	sqlite3_stmt *st = prep(s, "SELECT " MESSAGE_COLUMNS " FROM messages WHERE outgoing = 1"
				   " AND seq = 0 AND state IN ('pending', 'failed') AND kind = 'text'"
				   " ORDER BY rowid");
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW)
		stop = emit_message(s, st, fn, arg);
	release(s, st);
	if (!stop && rc != SQLITE_DONE)
		return fail(s, "read the outbox");
	return stop;
}

int
store_unsent_state(struct store *s, const char *message_id, char *state, size_t cap)
{
	sqlite3_stmt *st = prep(s, "SELECT state FROM messages WHERE message_id = ? AND"
				   " outgoing = 1 AND seq = 0 AND state IN ('pending', 'failed')"
				   " AND kind = 'text'");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(state, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	release(s, st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : fail(s, "look up the outbox");
}

int
store_unsent_delete(struct store *s, const char *message_id)
{
	static const char *const sql[] = {
		/* Only what no server confirmed: the row's guard decides, and the
		 * others follow it in the same transaction. */
		("DELETE FROM messages WHERE message_id = ?1 AND outgoing = 1 AND seq = 0"
		 " AND state IN ('pending', 'failed') AND kind = 'text'"),
		"DELETE FROM attachments WHERE message_id = ?1",
		"DELETE FROM receipts WHERE message_id = ?1",
	};
	int n = 0;

	if (store_begin(s) != 0)
		return -1;
	for (size_t i = 0; i < sizeof sql / sizeof *sql && (i == 0 || n > 0); i++) {
		sqlite3_stmt *st = prep(s, sql[i]);

		if (st == NULL) {
			store_rollback(s);
			return -1;
		}
		sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
		if (run(s, st, "discard a message") != 0) {
			store_rollback(s);
			return -1;
		}
		if (i == 0)
			n = sqlite3_changes(s->db);
	}
	if (store_commit(s) != 0)
		return -1;
	return n > 0;
}

int
store_message_resolve(struct store *s, const char *prefix, char out[CHAT_MESSAGE_ID_LEN + 1])
{
	/* Hex digits sort before 'g': the ids that start with prefix are those
	 * from prefix up to prefix || 'g', a range of the primary key. */
	sqlite3_stmt *st = prep(s, "SELECT message_id FROM messages WHERE message_id >= ?1"
				   " AND message_id < ?1 || 'g' LIMIT 2");
	int rc, found = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (found++ == 0)
			snprintf(out, CHAT_MESSAGE_ID_LEN + 1, "%s",
				 (const char *)sqlite3_column_text(st, 0));
	release(s, st);
	if (rc != SQLITE_DONE)
		return fail(s, "find message");
	return found > 1 ? 2 : found;
}

int
store_outbox_older(struct store *s, int64_t cutoff, char ***ids, size_t *n)
{
	sqlite3_stmt *st = prep(s, "SELECT message_id FROM messages WHERE outgoing = 1"
				   " AND state = 'pending' AND kind = 'text' AND stored_at < ?"
				   " ORDER BY rowid");

	*ids = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, cutoff);
	return collect_texts(s, st, "read the outbox", ids, n);
}

int
store_message_each(struct store *s, const char *chat_id, int limit, chat_history_cb fn, void *arg)
{
	/* Server order (seq); messages not yet confirmed (seq 0) after all others,
	 * in the order they were written. The inner query picks the newest `limit`. */
	sqlite3_stmt *st =
		prep(s, "SELECT " MESSAGE_COLUMNS " FROM (SELECT *, seq = 0 AS unsent, rowid AS r"
			"  FROM messages WHERE chat_id = ?1 ORDER BY unsent DESC, seq DESC, r DESC "
			"LIMIT ?2)"
			" ORDER BY unsent, seq, r");
	int rc, stop = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, chat_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, limit > 0 ? limit : -1);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW)
		stop = emit_message(s, st, fn, arg);
	release(s, st);
	if (!stop && rc != SQLITE_DONE)
		return fail(s, "read history");
	return stop;
}

/* ---- transactions ------------------------------------------------------------ */

int
store_begin(struct store *s)
{
	return exec(s, "BEGIN IMMEDIATE");
}

int
store_commit(struct store *s)
{
	if (exec(s, "COMMIT") == 0)
		return 0;
	store_rollback(s);
	return -1;
}

void
store_rollback(struct store *s)
{
	char keep[sizeof s->err];

	/* Keep the reason the caller is rolling back for. */
	memcpy(keep, s->err, sizeof keep);
	if (!sqlite3_get_autocommit(s->db))
		(void)exec(s, "ROLLBACK");
	memcpy(s->err, keep, sizeof keep);
}

/* ---- receipts ------------------------------------------------------------------ */

int
store_receipt_put(struct store *s, const char *message_id, const char *user, uint32_t device,
		  int status, int64_t at)
{
	sqlite3_stmt *st =
		prep(s, "INSERT INTO receipts(message_id, user, device_id, status, at)"
			" VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(message_id, user, device_id)"
			" DO UPDATE SET status = excluded.status, at = excluded.at"
			" WHERE excluded.status > receipts.status");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, device);
	sqlite3_bind_int(st, 4, status);
	sqlite3_bind_int64(st, 5, at);
	if (run(s, st, "store receipt") != 0)
		return -1;
	return sqlite3_changes(s->db) > 0;
}

int
store_message_refresh_state(struct store *s, const char *message_id, const char *self)
{
	/* Every other member of the chat has a device at or past a status: the
	 * message has that status. Only messages the server has (seq > 0) move. */
	sqlite3_stmt *st = prep(
		s, "UPDATE messages SET state = CASE"
		   "  WHEN NOT EXISTS (SELECT 1 FROM chat_members cm WHERE cm.chat_id ="
		   "   messages.chat_id AND cm.user <> ?2 AND NOT EXISTS (SELECT 1 FROM receipts r"
		   "   WHERE r.message_id = ?1 AND r.user = cm.user AND r.status >= 2)) THEN 'read'"
		   "  WHEN NOT EXISTS (SELECT 1 FROM chat_members cm WHERE cm.chat_id ="
		   "   messages.chat_id AND cm.user <> ?2 AND NOT EXISTS (SELECT 1 FROM receipts r"
		   "   WHERE r.message_id = ?1 AND r.user = cm.user)) THEN 'delivered'"
		   "  ELSE 'sent' END"
		   " WHERE message_id = ?1 AND outgoing = 1 AND kind = 'text' AND seq > 0"
		   "  AND EXISTS (SELECT 1 FROM receipts r WHERE r.message_id = ?1)");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, self, -1, SQLITE_STATIC);
	return run(s, st, "update message state");
}

int
store_mark_read(struct store *s, const char *chat_id, const char *message_id, const char *self,
		int queue, int64_t now)
{
	sqlite3_stmt *st;
	int64_t n;

	/* Read implies delivered: a delivered receipt still owed is not needed. */
	if (queue) {
		st = prep(s, "INSERT OR IGNORE INTO receipt_outbox(chat_id, to_user, message_id,"
			     " status, created_at) SELECT chat_id, sender, message_id, 2, ?3"
			     " FROM messages WHERE chat_id = ?1 AND (?2 IS NULL OR message_id = ?2)"
			     " AND outgoing = 0 AND kind = 'text' AND state = 'received'"
			     " AND sender <> ?4 ORDER BY seq");
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, chat_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, message_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now);
		sqlite3_bind_text(st, 4, self, -1, SQLITE_STATIC);
		if (run(s, st, "queue read receipts") != 0)
			return -1;
		st = prep(s, "DELETE FROM receipt_outbox WHERE status = 1 AND message_id IN"
			     " (SELECT message_id FROM receipt_outbox WHERE status = 2)");
		if (st == NULL || run(s, st, "drop delivered receipts") != 0)
			return -1;
	}
	st = prep(s, "UPDATE messages SET state = 'read' WHERE chat_id = ?1"
		     " AND (?2 IS NULL OR message_id = ?2) AND outgoing = 0 AND kind = 'text'"
		     " AND state = 'received'");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, chat_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, message_id, -1, SQLITE_STATIC);
	if (run(s, st, "mark read") != 0)
		return -1;
	n = sqlite3_changes(s->db);
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

int
store_receipt_queue(struct store *s, const char *chat_id, const char *to_user,
		    const char *message_id, int status, int64_t now)
{
	sqlite3_stmt *st = prep(s, "INSERT OR IGNORE INTO receipt_outbox(chat_id, to_user,"
				   " message_id, status, created_at) VALUES(?, ?, ?, ?, ?)");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, chat_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, to_user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, message_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, status);
	sqlite3_bind_int64(st, 5, now);
	return run(s, st, "queue receipt");
}

int
store_receipt_next(struct store *s, struct store_receipt_batch *b, size_t max)
{
	sqlite3_stmt *st = prep(s, "SELECT chat_id, to_user, status FROM receipt_outbox"
				   " ORDER BY id LIMIT 1");
	int rc;

	b->n = 0;
	b->at = 0;
	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(b->chat_id, sizeof b->chat_id, "%s",
			 (const char *)sqlite3_column_text(st, 0));
		snprintf(b->to_user, sizeof b->to_user, "%s",
			 (const char *)sqlite3_column_text(st, 1));
		b->status = sqlite3_column_int(st, 2);
	}
	release(s, st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : fail(s, "read receipts");
	st = prep(s, "SELECT message_id, created_at FROM receipt_outbox WHERE chat_id = ?"
		     " AND to_user = ? AND status = ? ORDER BY id LIMIT ?");
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, b->chat_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b->to_user, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, b->status);
	sqlite3_bind_int64(st, 4, (int64_t)max);
	while (b->n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);

		if (id == NULL || strlen(id) != CHAT_MESSAGE_ID_LEN)
			continue;
		memcpy(b->ids[b->n++], id, CHAT_MESSAGE_ID_LEN + 1);
		if (sqlite3_column_int64(st, 1) > b->at)
			b->at = sqlite3_column_int64(st, 1);
	}
	release(s, st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(s, "read receipts");
	return 1;
}

int
store_receipt_done(struct store *s, const struct store_receipt_batch *b)
{
	sqlite3_stmt *st;

	if (store_begin(s) != 0)
		return -1;
	for (size_t i = 0; i < b->n; i++) {
		st = prep(s, "DELETE FROM receipt_outbox WHERE message_id = ? AND status = ?");
		if (st == NULL) {
			store_rollback(s);
			return -1;
		}
		sqlite3_bind_text(st, 1, b->ids[i], -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, b->status);
		if (run(s, st, "drop sent receipt") != 0) {
			store_rollback(s);
			return -1;
		}
	}
	return store_commit(s);
}

int
store_receipts_pending(struct store *s)
{
	sqlite3_stmt *st = prep(s, "SELECT 1 FROM receipt_outbox LIMIT 1");
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	release(s, st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : fail(s, "read receipts");
}

int
store_message_brief(struct store *s, const char *message_id, struct store_brief *b)
{
	sqlite3_stmt *st = prep(s, "SELECT chat_id, sender, outgoing, state, kind FROM messages"
				   " WHERE message_id = ?");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(b->chat_id, sizeof b->chat_id, "%s",
			 (const char *)sqlite3_column_text(st, 0));
		snprintf(b->sender, sizeof b->sender, "%s",
			 (const char *)sqlite3_column_text(st, 1));
		b->outgoing = sqlite3_column_int(st, 2);
		snprintf(b->state, sizeof b->state, "%s", (const char *)sqlite3_column_text(st, 3));
		b->is_text = strcmp((const char *)sqlite3_column_text(st, 4), "text") == 0;
	}
	release(s, st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : fail(s, "read message");
}

/* ---- attachments ------------------------------------------------------------------ */

int
store_attachment_put(struct store *s, const char *message_id, int idx, const struct attach_meta *m)
{
	sqlite3_stmt *st = prep(s, "INSERT OR IGNORE INTO attachments(message_id, idx, blob_id,"
				   " name, type, size, enc_size, key, sha256)"
				   " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, idx);
	sqlite3_bind_text(st, 3, m->blob_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, m->type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (int64_t)m->size);
	sqlite3_bind_int64(st, 7, (int64_t)m->enc_size);
	sqlite3_bind_blob(st, 8, m->key, sizeof m->key, SQLITE_STATIC);
	sqlite3_bind_blob(st, 9, m->sha256, sizeof m->sha256, SQLITE_STATIC);
	return run(s, st, "store attachment");
}

int
store_attachments(struct store *s, const char *message_id, struct attach_meta **out, char ***paths,
		  size_t *n)
{
	sqlite3_stmt *st = prep(s, "SELECT blob_id, name, type, size, enc_size, key, sha256, path"
				   " FROM attachments WHERE message_id = ? ORDER BY idx");
	struct attach_meta *v = NULL;
	char **p = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (paths != NULL)
		*paths = NULL;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && len < PROTO_MAX_BLOBS) {
		struct attach_meta *nv = realloc(v, (len + 1) * sizeof *nv);
		char **np = paths ? realloc(p, (len + 1) * sizeof *np) : NULL;
		const char *path = (const char *)sqlite3_column_text(st, 7);
		struct attach_meta *m;

		if (nv != NULL)
			v = nv;
		if (np != NULL)
			p = np;
		if (nv == NULL || (paths != NULL && np == NULL)) {
			rc = SQLITE_NOMEM;
			break;
		}
		m = &v[len];
		memset(m, 0, sizeof *m);
		snprintf(m->blob_id, sizeof m->blob_id, "%s",
			 (const char *)sqlite3_column_text(st, 0));
		snprintf(m->name, sizeof m->name, "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(m->type, sizeof m->type, "%s", (const char *)sqlite3_column_text(st, 2));
		m->size = (uint64_t)sqlite3_column_int64(st, 3);
		m->enc_size = (uint64_t)sqlite3_column_int64(st, 4);
		if (sqlite3_column_bytes(st, 5) == sizeof m->key)
			memcpy(m->key, sqlite3_column_blob(st, 5), sizeof m->key);
		if (sqlite3_column_bytes(st, 6) == sizeof m->sha256)
			memcpy(m->sha256, sqlite3_column_blob(st, 6), sizeof m->sha256);
		if (paths != NULL)
			p[len] = path ? strdup(path) : NULL;
		len++;
	}
	release(s, st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		attach_meta_free(v, len);
		if (paths != NULL)
			store_free_list(p, len);
		return fail(s, "read attachments");
	}
	*out = v;
	*n = len;
	if (paths != NULL)
		*paths = p;
	return 0;
}

int
store_attachment_set_path(struct store *s, const char *message_id, int idx, const char *path)
{
	sqlite3_stmt *st =
		prep(s, "UPDATE attachments SET path = ? WHERE message_id = ? AND idx = ?");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, message_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, idx);
	return run(s, st, "record download");
}
