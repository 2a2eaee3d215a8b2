/*
 * test_server_db_schema.c - chat-server's store opened (server-stub/db.c,
 * db_schema.c): a new file is private, a newer schema refused, and every older
 * version migrated in place, whole or not at all, keeping its data.
 */
#include "server_fixture.h"
#include "db_sql.h" /* DB_SCHEMA_VERSION */

static void
test_open_creates_private_file(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	char err[256];
	struct db *again;

	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* A second open of an existing file checks, not recreates, the schema. */
	again = db_open(f->path, err, sizeof err);
	assert_non_null(again);
	db_close(again);
}

static void
test_open_refuses_newer_schema(void **state)
{
	struct fixture *f = *state;
	char err[256];

	raw_sql(f, "PRAGMA user_version = 99");
	assert_null(db_open(f->path, err, sizeof err));
	assert_non_null(strstr(err, "99"));
	raw_sql(f, "PRAGMA user_version = 2");
}

static void
test_open_bad_path(void **state)
{
	char err[256];

	(void)state;
	assert_null(db_open("/nonexistent-dir/x/chat.db", err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent-dir/x/chat.db"));
}

/* The schema of version 1, as the first revision of the server made it. */
static const char v1_schema[] =
	"CREATE TABLE users (user TEXT PRIMARY KEY, created_at INTEGER NOT NULL);"
	"CREATE TABLE devices (user TEXT NOT NULL REFERENCES users(user),"
	"  device_id INTEGER NOT NULL CHECK (device_id BETWEEN 1 AND 2147483647),"
	"  name TEXT,"
	"  identity_key BLOB NOT NULL UNIQUE CHECK (length(identity_key) = 32),"
	"  exchange_key BLOB NOT NULL CHECK (length(exchange_key) = 32),"
	"  exchange_key_sig BLOB NOT NULL CHECK (length(exchange_key_sig) = 64),"
	"  created_at INTEGER NOT NULL, last_seen INTEGER,"
	"  PRIMARY KEY (user, device_id));"
	"CREATE TABLE chats (chat_id TEXT PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('direct', 'group')), name TEXT,"
	"  created_by TEXT NOT NULL REFERENCES users(user), created_at INTEGER NOT NULL,"
	"  next_seq INTEGER NOT NULL DEFAULT 1, direct_key TEXT UNIQUE);"
	"CREATE TABLE chat_members (chat_id TEXT NOT NULL REFERENCES chats(chat_id),"
	"  user TEXT NOT NULL REFERENCES users(user), role TEXT NOT NULL,"
	"  joined_at INTEGER NOT NULL, PRIMARY KEY (chat_id, user));"
	"CREATE INDEX chat_members_by_user ON chat_members(user);"
	"CREATE TABLE messages (message_id TEXT PRIMARY KEY,"
	"  chat_id TEXT NOT NULL REFERENCES chats(chat_id), sender_user TEXT NOT NULL,"
	"  sender_device INTEGER NOT NULL, seq INTEGER NOT NULL, sent_at INTEGER NOT NULL,"
	"  UNIQUE (chat_id, seq),"
	"  FOREIGN KEY (sender_user, sender_device) REFERENCES devices(user, device_id));"
	"CREATE TABLE inbox (id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL,"
	"  device_id INTEGER NOT NULL,"
	"  message_id TEXT NOT NULL REFERENCES messages(message_id),"
	"  nonce BLOB NOT NULL CHECK (length(nonce) = 24), ciphertext BLOB NOT NULL,"
	"  created_at INTEGER NOT NULL, UNIQUE (user, device_id, message_id),"
	"  FOREIGN KEY (user, device_id) REFERENCES devices(user, device_id));"
	"CREATE INDEX inbox_by_device ON inbox(user, device_id, id);"
	"PRAGMA user_version = 1;";

/* A version-1 database with alice (devices 1 and 2) and bob, their direct
 * chat with one message (seq 1) waiting for bob, inbox ids up to 7 used. */
static const char v1_data[] =
	"INSERT INTO users VALUES ('alice', 1), ('bob', 1);"
	"INSERT INTO devices VALUES"
	"  ('alice', 1, 'laptop', randomblob(32), randomblob(32), randomblob(64), 1, 1),"
	"  ('alice', 2, NULL, randomblob(32), randomblob(32), randomblob(64), 1, NULL),"
	"  ('bob', 1, NULL, randomblob(32), randomblob(32), randomblob(64), 1, NULL);"
	"INSERT INTO chats VALUES ('00000000000000ab', 'direct', NULL, 'alice', 1, 2,"
	"  'alice' || char(10) || 'bob');"
	"INSERT INTO chat_members VALUES ('00000000000000ab', 'alice', 'member', 1),"
	"  ('00000000000000ab', 'bob', 'member', 1);"
	"INSERT INTO messages VALUES ('0123456789abcdef0123456789abcdef',"
	"  '00000000000000ab', 'alice', 1, 1, 1234);"
	"INSERT INTO inbox (id, user, device_id, message_id, nonce, ciphertext, created_at)"
	"  VALUES (5, 'bob', 1, '0123456789abcdef0123456789abcdef', zeroblob(24),"
	"  x'0102030405060708090a0b0c0d0e0f10', 1234),"
	"  (7, 'alice', 2, '0123456789abcdef0123456789abcdef', zeroblob(24),"
	"  x'0102030405060708090a0b0c0d0e0f10', 1234);"
	"DELETE FROM inbox WHERE id = 7;";

static void
test_migrate_v1(void **state)
{
	struct fixture *f = *state;
	struct db_device d[PROTO_MAX_DEVICES];
	uint8_t ct[40] = {0};
	struct db_envelope e[2];
	struct db_send_result sr;
	struct db_chat *c = malloc(sizeof *c);
	struct rows rows;
	char err[256];
	uint32_t id;
	size_t n;

	assert_non_null(c);
	/* Replace the fixture's database by a version-1 one. */
	db_close(f->db);
	unlink(f->path);
	raw_sql(f, v1_schema);
	raw_sql(f, v1_data);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 1);

	f->db = db_open(f->path, err, sizeof err);
	assert_non_null(f->db);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), DB_SCHEMA_VERSION);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);

	/* The data survived: devices (first devices, unapproved), the chat, the
	 * waiting message with its envelope. */
	assert_int_equal(db_user_devices(f->db, "alice", d, PROTO_MAX_DEVICES, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].name, "laptop");
	assert_false(d[0].approved);
	assert_false(d[1].approved);
	assert_int_equal(db_get_chat(f->db, "00000000000000ab", "bob", c), DB_OK);
	assert_string_equal(c->kind, "direct");
	assert_int_equal(c->n_members, 2);
	assert_int_equal(c->n_admins, 0);
	load_all(f->db, "bob", 1, &rows);
	assert_int_equal(rows.n, 1);
	assert_int_equal(rows.seq[0], 1);
	assert_false(rows.update[0]);
	assert_string_equal(rows.mid[0], M1);
	/* A retry of the old message is still recognised. */
	e[0] = env_to("bob", 1, ct, sizeof ct);
	e[1] = env_to("alice", 2, ct, sizeof ct);
	assert_int_equal(send_msg(f->db, "00000000000000ab", M1, "alice", 1, e, 2, 1, &sr), DB_OK);
	assert_true(sr.replayed);
	assert_int_equal(sr.seq, 1);
	db_send_result_free(&sr);
	/* New sends go on with the seq and above the old inbox ids. */
	assert_int_equal(send_msg(f->db, "00000000000000ab", M2, "alice", 1, e, 2, 1, &sr), DB_OK);
	assert_int_equal(sr.seq, 2);
	db_send_result_free(&sr);
	assert_int_equal(raw_int(f->path, "SELECT min(id) FROM inbox WHERE message_id ="
					  " '1123456789abcdef0123456789abcdef'"),
			 8);
	/* Device ids go on after the highest: alice's next is 3. */
	assert_int_equal(link_dev(f->db, "alice", 70, &id), DB_OK);
	assert_int_equal(id, 3);
	/* A device that has sent can be removed (no foreign key in the way). */
	assert_int_equal(db_remove_device(f->db, "alice", 1, 9), DB_OK);
	load_all(f->db, "bob", 1, &rows);
	assert_int_equal(rows.n, 2);

	/* Opened again: nothing to migrate, nothing lost. */
	db_close(f->db);
	f->db = db_open(f->path, err, sizeof err);
	assert_non_null(f->db);
	load_all(f->db, "bob", 1, &rows);
	assert_int_equal(rows.n, 2);
	free(c);
}

/* A failed migration leaves the version-1 file as it was. */
static void
test_migrate_v1_fails_whole(void **state)
{
	struct fixture *f = *state;
	char err[256];

	db_close(f->db);
	f->db = NULL;
	unlink(f->path);
	raw_sql(f, v1_schema);
	raw_sql(f, v1_data);
	/* A table in the way of the migration. */
	raw_sql(f, "CREATE TABLE retired_devices (x)");
	assert_null(db_open(f->path, err, sizeof err));
	assert_non_null(strstr(err, "version 2"));
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_table_info('users')"), 2);
}

/* What version 13 added (block lists), taken away again. */
#define UNDO_V13 "DROP TABLE blocks;"

/* What version 12 added (disappearing messages' expiry), taken away again;
 * and 13's. */
#define UNDO_V12                                                                                   \
	UNDO_V13 "DROP INDEX messages_by_expiry; ALTER TABLE messages DROP COLUMN expires_at;"

/* What version 11 added (a group's description), taken away again; and 12's. */
#define UNDO_V11 UNDO_V12 "ALTER TABLE chats DROP COLUMN description;"

/* What version 9 added (prekeys), taken away again; UNDO_V9 version 11's too. */
#define UNDO_V9_ONLY "DROP TABLE IF EXISTS one_time_prekeys; DROP TABLE IF EXISTS signed_prekeys;"
#define UNDO_V9      UNDO_V11 UNDO_V9_ONLY

/* What version 7 added, taken away again (and version 9's): for the tests
 * that make older versions out of the fixture's database. (Version 8 changed
 * only the bodies of group updates, and the databases made older hold
 * none.) */
#define UNDO_V7                                                                                    \
	UNDO_V9 "DROP TABLE message_tombstones; DROP TRIGGER inbox_bytes_add;"                             \
	"DROP TRIGGER inbox_bytes_sub; ALTER TABLE devices DROP COLUMN inbox_bytes;"               \
	"DROP INDEX blobs_by_device; ALTER TABLE chat_members DROP COLUMN joined_seq;"             \
	"DROP TABLE chat_activity; DROP TABLE group_adds;"

/* A version-2 database: the fixture's, with what version 3 added taken
 * away again, and bob's direct chat with M1 waiting. */
static void
make_v2(struct fixture *f)
{
	char ab[17];

	chat_of(f->db, "alice", "bob", ab, 1);
	send_to(f->db, ab, M1, "bob", 0, 100);
	db_close(f->db);
	f->db = NULL;
	raw_sql(f, "DROP INDEX inbox_by_created; DROP INDEX messages_by_sent;"
		   "ALTER TABLE devices DROP COLUMN missed_count;"
		   "ALTER TABLE devices DROP COLUMN missed_oldest;"
		   "ALTER TABLE users DROP COLUMN hide_last_seen;" UNDO_V7
		   "DROP TABLE message_blobs; DROP TABLE blobs;"
		   "PRAGMA user_version = 2;");
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_table_info('devices')"
					  " WHERE name LIKE 'missed%'"),
			 0);
}

static void
test_migrate_v2(void **state)
{
	struct fixture *f = *state;
	struct db_purge_result r;
	struct rows rows;
	char err[256];

	make_v2(f);
	f->db = db_open(f->path, err, sizeof err);
	assert_non_null(f->db);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), DB_SCHEMA_VERSION);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	/* Data kept, counters start at zero. */
	load_all(f->db, "bob", 1, &rows);
	assert_int_equal(rows.n, 1);
	assert_string_equal(rows.mid[0], M1);
	expect_missed(f->db, "bob", 1, 0, 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM devices"), 3);
	/* And retention works on it. */
	assert_int_equal(db_purge(f->db, 1000, 0, &r), DB_OK);
	assert_int_equal(r.inbox_rows, 1);
	expect_missed(f->db, "bob", 1, 1, 100);
	/* Opened again: nothing to migrate, nothing lost. */
	db_close(f->db);
	f->db = db_open(f->path, err, sizeof err);
	assert_non_null(f->db);
	expect_missed(f->db, "bob", 1, 1, 100);
}

/* A failed migration leaves the version-2 file as it was. */
static void
test_migrate_v2_fails_whole(void **state)
{
	struct fixture *f = *state;
	char err[256];

	make_v2(f);
	raw_sql(f, "CREATE INDEX inbox_by_created ON inbox(id)"); /* in the way */
	assert_null(db_open(f->path, err, sizeof err));
	assert_non_null(strstr(err, "version 3"));
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 2);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_table_info('devices')"
					  " WHERE name LIKE 'missed%'"),
			 0);
}

/* A version-3 database: the fixture's, without hide_last_seen. */
static void
test_migrate_v3(void **state)
{
	struct fixture *f = *state;
	char err[256];

	assert_int_equal(db_touch_device(f->db, "alice", 1, 4000), DB_OK);
	db_close(f->db);
	f->db = NULL;
	raw_sql(f, "ALTER TABLE users DROP COLUMN hide_last_seen;" UNDO_V7
		   "DROP TABLE message_blobs; DROP TABLE blobs;"
		   "PRAGMA user_version = 3;");
	f->db = db_open(f->path, err, sizeof err);
	assert_non_null(f->db);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), DB_SCHEMA_VERSION);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM users WHERE hide_last_seen = 0"),
			 raw_int(f->path, "SELECT count(*) FROM users"));
	/* Data kept, nobody hides. */
	expect_last_seen(f->db, "alice", 0, 4000);
	expect_last_seen(f->db, "bob", 0, 1000);
	assert_int_equal(db_set_hide_last_seen(f->db, "bob", 1), DB_OK);
	/* Opened again: nothing to migrate, nothing lost. */
	db_close(f->db);
	f->db = db_open(f->path, err, sizeof err);
	assert_non_null(f->db);
	expect_last_seen(f->db, "bob", 1, 1000);
}

/* A version-4 database (no receipts) becomes version 5 with its messages. */
static void
test_migrate_v4(void **state)
{
	struct fixture *f = *state;
	char g[17], err[256];
	uint8_t ct[16] = {0};
	struct db_send_result res;
	struct db_envelope env = env_to("bob", 1, ct, sizeof ct);
	struct rows r;

	chat_of(f->db, "alice", "bob", g, 1);
	assert_int_equal(send_msg(f->db, g, M1, "alice", 1, &env, 1, 1000, &res), DB_OK);
	db_send_result_free(&res);
	db_close(f->db);
	f->db = NULL;
	/* Version 4's messages table: seq NOT NULL, no 'receipt' kind. */
	raw_sql(f, "PRAGMA foreign_keys = OFF;"
		   "CREATE TABLE m4 (message_id TEXT PRIMARY KEY,"
		   " chat_id TEXT NOT NULL REFERENCES chats(chat_id),"
		   " kind TEXT NOT NULL DEFAULT 'message' CHECK (kind IN ('message', 'update')),"
		   " sender_user TEXT NOT NULL, sender_device INTEGER NOT NULL,"
		   " seq INTEGER NOT NULL, sent_at INTEGER NOT NULL,"
		   " body TEXT CHECK ((kind = 'update') = (body IS NOT NULL)),"
		   /* version 12's, for UNDO_V7 to take away again */
		   " expires_at INTEGER,"
		   " UNIQUE (chat_id, seq));"
		   "INSERT INTO m4 SELECT * FROM messages; DROP TABLE messages;"
		   "ALTER TABLE m4 RENAME TO messages;"
		   "CREATE INDEX messages_by_expiry ON messages(expires_at);"
		   "CREATE INDEX messages_by_sent ON messages(sent_at);" UNDO_V7
		   "DROP TABLE message_blobs; DROP TABLE blobs;"
		   "PRAGMA user_version = 4;");
	f->db = db_open(f->path, err, sizeof err);
	assert_non_null(f->db);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), DB_SCHEMA_VERSION);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	load_all(f->db, "bob", 1, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.seq[0], 1);
	/* And receipts can be stored now. */
	struct db_send rq = {g, R1, "bob", 1, &env, 1, 2000, 1, NULL, 0, 0, 0};
	env = env_to("alice", 1, ct, sizeof ct);
	assert_int_equal(db_send(f->db, &rq, &res), DB_OK);
	db_send_result_free(&res);
}

/* A version-5 database (no blobs) becomes version 6 with its messages. */
static void
test_migrate_v5(void **state)
{
	struct fixture *f = *state;
	char g[17], err[256];
	uint8_t ct[16] = {0};
	struct db_send_result res;
	struct db_envelope env = env_to("bob", 1, ct, sizeof ct);
	struct rows r;
	blob_id_t ids[1];

	chat_of(f->db, "alice", "bob", g, 1);
	assert_int_equal(send_msg(f->db, g, M1, "alice", 1, &env, 1, 1000, &res), DB_OK);
	db_send_result_free(&res);
	db_close(f->db);
	f->db = NULL;
	raw_sql(f, UNDO_V7 "DROP TABLE message_blobs; DROP TABLE blobs; PRAGMA user_version = 5;");
	f->db = db_open(f->path, err, sizeof err);
	assert_non_null(f->db);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), DB_SCHEMA_VERSION);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	load_all(f->db, "bob", 1, &r);
	assert_int_equal(r.n, 1);
	/* And blobs work. */
	assert_int_equal(db_blob_create(f->db, B1, "alice", 1, 10, 1000), DB_OK);
	assert_int_equal(db_blob_complete(f->db, B1, 3, 1000), DB_OK);
	memcpy(ids[0], B1, sizeof ids[0]);
	assert_int_equal(send_blobs(f->db, g, M2, "alice", &env, 1, ids, 1), DB_OK);
}

/* A device's inbox as the request layer pushes it: each update's chatUpdate,
 * "message" for anything else. */
struct frames {
	size_t n;
	char id[8][PROTO_MESSAGE_ID_LEN + 1];
	char *text[8];
};

static int
collect_frames(void *udata, const struct db_inbox_row *row)
{
	struct frames *fr = udata;

	assert_true(fr->n < 8);
	snprintf(fr->id[fr->n], sizeof fr->id[0], "%s", row->message_id);
	fr->text[fr->n] = row->is_update ? wire_chat_update(row->update) : strdup("message");
	assert_non_null(fr->text[fr->n]);
	fr->n++;
	return 0;
}

static void
frames_of(struct db *db, const char *user, struct frames *fr)
{
	size_t n;

	memset(fr, 0, sizeof *fr);
	assert_int_equal(db_inbox_load(db, user, 1, 0, 64, collect_frames, fr, &n), DB_OK);
}

static void
frames_free(struct frames *fr)
{
	for (size_t i = 0; i < fr->n; i++)
		free(fr->text[i]);
}

/*
 * Version 7 kept each update as the chatUpdate frame it pushes; version 8
 * keeps what it says, and the request layer makes the frame. A version-7
 * database's waiting updates are pushed byte for byte as before; a body
 * version 8 cannot read fails the migration, which leaves the file as it was.
 */
static void
test_migrate_v7(void **state)
{
	struct fixture *f = *state;
	struct db_change_result *res = malloc(sizeof *res);
	const char *bc[] = {"bob", "carol"};
	struct frames before, after;
	char sql[1024], err[256], g[17];
	size_t i;

	assert_non_null(res);
	assert_int_equal(group(f->db, "alice", bc, 2, 1000, res), DB_OK);
	memcpy(g, res->chat_id, sizeof g);
	db_change_result_free(res);
	change_ok(f->db, g, "alice", 0, "carol", 2000, DB_OP_REMOVE);
	change_ok(f->db, g, "bob", 0, "bob", 3000, DB_OP_LEAVE);
	frames_of(f->db, "bob", &before);
	assert_int_equal(before.n, 3);
	assert_non_null(strstr(before.text[2],
			       "\"operation\":\"leave\",\"users\":[\"bob\"],"
			       "\"participants\":[\"alice\"],\"admins\":[\"alice\"]}"));
	/* What version 7 held: the frames themselves. */
	db_close(f->db);
	f->db = NULL;
	for (i = 0; i < before.n; i++) {
		snprintf(sql, sizeof sql, "UPDATE messages SET body = '%s' WHERE message_id = '%s'",
			 before.text[i], before.id[i]);
		raw_sql(f, sql);
	}
	raw_sql(f, UNDO_V9 "PRAGMA user_version = 7");
	f->db = db_open(f->path, err, sizeof err);
	assert_non_null(f->db);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), DB_SCHEMA_VERSION);
	frames_of(f->db, "bob", &after);
	assert_int_equal(after.n, before.n);
	for (i = 0; i < before.n; i++)
		assert_string_equal(after.text[i], before.text[i]);
	frames_free(&after);

	/* A body that is no frame: the migration fails, nothing changes. */
	db_close(f->db);
	f->db = NULL;
	snprintf(sql, sizeof sql,
		 "UPDATE messages SET body = '{\"operation\":' WHERE message_id = '%s';"
		 UNDO_V9 "PRAGMA user_version = 7",
		 before.id[0]);
	raw_sql(f, sql);
	assert_null(db_open(f->path, err, sizeof err));
	assert_non_null(strstr(err, "version 8"));
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 7);
	/* Version 8 refuses to push a body it cannot read, rather than guess. */
	snprintf(sql, sizeof sql,
		 "UPDATE messages SET body = 'join' || char(10) || 'bob' || char(10) ||"
		 " 'bob' || char(10) || 'bob' WHERE message_id = '%s';" UNDO_V9_ONLY
		 "PRAGMA user_version = 8", /* the failed open left version 7: no v11 */
		 before.id[0]);
	raw_sql(f, sql);
	f->db = db_open(f->path, err, sizeof err);
	assert_non_null(f->db);
	{
		struct frames fr = {0};
		size_t n;

		assert_int_equal(db_inbox_load(f->db, "bob", 1, 0, 64, collect_frames, &fr, &n),
				 DB_INTERNAL);
		frames_free(&fr);
	}
	frames_free(&before);
	free(res);
}

/* Version 9's inbox (version 2's table, version 3's and 7's index and
 * triggers), which holds no row without a nonce: made again in place of
 * version 10's, the rows and the AUTOINCREMENT high-water mark kept. */
#define INBOX_V9                                                                                   \
	"CREATE TABLE inbox_v9 (id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL,"         \
	" device_id INTEGER NOT NULL, message_id TEXT NOT NULL REFERENCES messages(message_id),"   \
	" nonce BLOB CHECK (length(nonce) = 24), ciphertext BLOB, created_at INTEGER NOT NULL,"    \
	" CHECK ((nonce IS NULL) = (ciphertext IS NULL)), UNIQUE (user, device_id, message_id),"   \
	" FOREIGN KEY (user, device_id) REFERENCES devices(user, device_id));"                     \
	"INSERT INTO inbox_v9 SELECT id, user, device_id, message_id, nonce, ciphertext,"          \
	" created_at FROM inbox;"                                                                  \
	"INSERT INTO sqlite_sequence (name, seq)"                                                  \
	" SELECT 'inbox_v9', seq FROM sqlite_sequence WHERE name = 'inbox';"                       \
	"DROP TABLE inbox; ALTER TABLE inbox_v9 RENAME TO inbox;"                                  \
	"CREATE INDEX inbox_by_device ON inbox(user, device_id, id);"                              \
	"CREATE INDEX inbox_by_message ON inbox(message_id);"                                      \
	"CREATE INDEX inbox_by_created ON inbox(created_at);"                                      \
	"CREATE TRIGGER inbox_bytes_add AFTER INSERT ON inbox WHEN new.ciphertext IS NOT NULL"     \
	" BEGIN UPDATE devices SET inbox_bytes = inbox_bytes + length(new.ciphertext) + 100"       \
	" WHERE user = new.user AND device_id = new.device_id; END;"                               \
	"CREATE TRIGGER inbox_bytes_sub AFTER DELETE ON inbox WHEN old.ciphertext IS NOT NULL"     \
	" BEGIN UPDATE devices SET inbox_bytes = inbox_bytes - length(old.ciphertext) - 100"       \
	" WHERE user = old.user AND device_id = old.device_id; END;"

static int
nonce_of(void *udata, const struct db_inbox_row *row)
{
	int *has = udata;

	*has = row->nonce != NULL;
	return 1;
}

/*
 * Version 10 (issue 13): a stage 2 envelope's row has no nonce. A version-9
 * database keeps its waiting row (id, nonce, what it counts toward the
 * quota) and then takes a row without a nonce, which counts toward the quota
 * as any other and gets a later id.
 */
static void
test_migrate_v9(void **state)
{
	struct fixture *f = *state;
	const char *bytes = "SELECT inbox_bytes FROM devices WHERE user = 'bob' AND device_id = 1";
	const char *stage2 = "SELECT count(*) FROM sqlite_master WHERE name = 'inbox'"
			     " AND sql LIKE '%nonce IS NULL OR length(nonce) = 24%'";
	uint8_t ct[40] = {0};
	struct db_envelope e;
	struct db_send_result res;
	char ab[17], err[256];
	int64_t before, id;
	size_t n;
	int has = -1;

	chat_of(f->db, "alice", "bob", ab, 1);
	send_to(f->db, ab, M1, "bob", 0, 100);
	db_close(f->db);
	f->db = NULL;
	before = raw_int(f->path, bytes);
	id = raw_int(f->path, "SELECT id FROM inbox");
	assert_int_equal(before, sizeof ct + DB_INBOX_ROW_BYTES);
	raw_sql(f, UNDO_V11 INBOX_V9 "PRAGMA user_version = 9;");
	assert_int_equal(raw_int(f->path, stage2), 0);

	f->db = db_open(f->path, err, sizeof err);
	if (f->db == NULL)
		fail_msg("%s", err);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), DB_SCHEMA_VERSION);
	assert_int_equal(raw_int(f->path, stage2), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	assert_int_equal(raw_int(f->path, bytes), before);
	assert_int_equal(db_inbox_load(f->db, "bob", 1, 0, 1, nonce_of, &has, &n), DB_OK);
	assert_int_equal(has, 1);

	e = env_to("bob", 1, ct, sizeof ct);
	e.no_nonce = 1;
	assert_int_equal(send_msg(f->db, ab, M2, "alice", 1, &e, 1, 200, &res), DB_OK);
	db_send_result_free(&res);
	assert_int_equal(raw_int(f->path, bytes), 2 * before);
	assert_true(raw_int(f->path, "SELECT max(id) FROM inbox") > id);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox WHERE nonce IS NULL"), 1);
	assert_int_equal(db_inbox_load(f->db, "bob", 1, id, 1, nonce_of, &has, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_int_equal(has, 0);
	/* The quota triggers are back on the new table. */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master"
					  " WHERE type = 'trigger' AND tbl_name = 'inbox'"),
			 2);
}

/*
 * Version 11 (issue 14): a group's description. A version-10 database keeps
 * its group, whose description is then "" (none), and takes a new one.
 */
static void
test_migrate_v10(void **state)
{
	struct fixture *f = *state;
	struct db_change_result *res = malloc(sizeof *res);
	struct db_chat *c = malloc(sizeof *c);
	struct db_group_edit edit = {.actor = "alice", .actor_device = 1, .now = 3000};
	const char *bob = "bob";
	char g[17], err[256];

	assert_non_null(res);
	assert_non_null(c);
	assert_int_equal(group(f->db, "alice", &bob, 1, 1000, res), DB_OK);
	memcpy(g, res->chat_id, sizeof g);
	db_change_result_free(res);
	db_close(f->db);
	f->db = NULL;
	raw_sql(f, UNDO_V11 "PRAGMA user_version = 10;");

	f->db = db_open(f->path, err, sizeof err);
	if (f->db == NULL)
		fail_msg("%s", err);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), DB_SCHEMA_VERSION);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM chats WHERE description IS NULL"),
			 1);
	assert_int_equal(db_get_chat(f->db, g, "bob", c), DB_OK);
	assert_string_equal(c->name, "climbing");
	assert_string_equal(c->description, "");
	edit.chat_id = g;
	edit.description = "now with one";
	assert_int_equal(db_edit_group(f->db, &edit, res), DB_OK);
	assert_int_equal(res->seq, 2);
	db_change_result_free(res);
	assert_int_equal(db_get_chat(f->db, g, "bob", c), DB_OK);
	assert_string_equal(c->description, "now with one");
	free(c);
	free(res);
}

/*
 * Version 12 (issue 14): disappearing messages. A version-11 database keeps
 * its messages, none of which expires, and takes one with a ttl.
 */
static void
test_migrate_v11(void **state)
{
	struct fixture *f = *state;
	struct db_send_result res;
	char ab[17], err[256];
	uint8_t ct[40] = {0};
	struct db_envelope e = env_to("bob", 1, ct, sizeof ct);
	struct db_send req = {.message_id = M2, .sender_user = "alice", .sender_device = 1,
			      .envelopes = &e, .n_envelopes = 1, .now = 2000, .ttl_ms = 60000};
	int64_t n;

	chat_of(f->db, "alice", "bob", ab, 1);
	send_to(f->db, ab, M1, "bob", 0, 1000);
	db_close(f->db);
	f->db = NULL;
	raw_sql(f, UNDO_V12 "PRAGMA user_version = 11;");

	f->db = db_open(f->path, err, sizeof err);
	if (f->db == NULL)
		fail_msg("%s", err);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), DB_SCHEMA_VERSION);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM messages WHERE expires_at IS NULL"),
			 1);
	req.chat_id = ab;
	assert_int_equal(db_send(f->db, &req, &res), DB_OK);
	db_send_result_free(&res);
	assert_int_equal(db_expire(f->db, 62000, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox"), 1);
}

/* 12 -> 13: block lists, empty; a block then drops as it should. */
static void
test_migrate_v12(void **state)
{
	struct fixture *f = *state;
	char ab[17], err[256];
	int changed;

	chat_of(f->db, "alice", "bob", ab, 1);
	send_to(f->db, ab, M1, "bob", 0, 1000);
	db_close(f->db);
	f->db = NULL;
	raw_sql(f, UNDO_V13 "PRAGMA user_version = 12;");

	f->db = db_open(f->path, err, sizeof err);
	if (f->db == NULL)
		fail_msg("%s", err);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), DB_SCHEMA_VERSION);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM blocks"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox"), 1);
	assert_int_equal(db_block(f->db, "bob", "alice", 2000, &changed), DB_OK);
	send_to(f->db, ab, M2, "bob", 0, 3000);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_private_file, setup_store,
						teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_newer_schema, setup_store,
						teardown),
		cmocka_unit_test(test_open_bad_path),
		cmocka_unit_test_setup_teardown(test_migrate_v1, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1_fails_whole, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v2, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v2_fails_whole, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v3, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v4, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v5, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v7, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v9, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v10, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v11, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v12, setup_store, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
