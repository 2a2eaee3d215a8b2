/*
 * test_server_db.c - chat-server's store (server-stub/db.c): registration,
 * direct chats, sending with its idempotence and device checks, the inbox
 * and acks, groups and their updates, linked and removed devices, and the
 * migration of version-1 and version-2 databases, retention (the purge
 * and the missed counters), against a real SQLite file in a
 * temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "db.h"
#include "db_sql.h" /* DB_SCHEMA_VERSION */
#include "wire.h"

struct fixture {
	char dir[64];
	char path[96];
	struct db *db;
};

static void
fill_key(uint8_t *k, size_t n, uint8_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		k[i] = (uint8_t)(seed * 31 + i);
}

/* Register user with keys derived from seed; asserts the status. */
static uint32_t
reg(struct db *db, const char *user, const char *name, uint8_t seed, enum db_status want,
    int want_created)
{
	uint8_t ik[32], xk[32], xs[64];
	uint32_t dev = 0;
	int created = -1;

	fill_key(ik, sizeof ik, seed);
	fill_key(xk, sizeof xk, seed + 100);
	fill_key(xs, sizeof xs, seed + 200);
	assert_int_equal(db_register(db, user, name, ik, xk, xs, 1000, &dev, &created), want);
	if (want == DB_OK)
		assert_int_equal(created, want_created);
	return dev;
}

/* Run SQL on the database file behind the store's back (second handle). */
static void
raw_sql(const struct fixture *f, const char *sql)
{
	sqlite3 *h;

	assert_int_equal(sqlite3_open(f->path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_busy_timeout(h, 5000), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "PRAGMA foreign_keys=ON", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(h), SQLITE_OK);
}

/* One integer from the database file, read behind the store's back. */
static int64_t
raw_int(const char *path, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *q;
	int64_t v;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_close(h), SQLITE_OK);
	return v;
}

/* A device added behind the store's back, without an approval. */
static void
add_device(const struct fixture *f, const char *user, int id)
{
	char sql[512];

	snprintf(sql, sizeof sql,
		 "INSERT INTO devices (user, device_id, name, identity_key,"
		 " exchange_key, exchange_key_sig, created_at)"
		 " VALUES ('%s', %d, 'second', randomblob(32), randomblob(32),"
		 " randomblob(64), 1)",
		 user, id);
	raw_sql(f, sql);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[256];

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/test_server_db.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof f->path, "%s/chat.db", f->dir);
	f->db = db_open(f->path, err, sizeof err);
	if (f->db == NULL) {
		fprintf(stderr, "db_open: %s\n", err);
		return -1;
	}
	reg(f->db, "alice", "laptop", 1, DB_OK, 1);
	reg(f->db, "bob", NULL, 2, DB_OK, 1);
	reg(f->db, "carol", "phone", 3, DB_OK, 1);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char p[128];

	db_close(f->db);
	unlink(f->path);
	snprintf(p, sizeof p, "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
chat_of(struct db *db, const char *a, const char *b, char id[PROTO_CHAT_ID_LEN + 1],
	int want_created)
{
	int created = -1;

	assert_int_equal(db_direct_chat(db, a, b, 2000, id, &created, NULL), DB_OK);
	assert_int_equal(created, want_created);
}

static struct db_envelope
env_to(const char *user, uint32_t dev, const uint8_t *ct, size_t len)
{
	struct db_envelope e;

	memset(&e, 0, sizeof e);
	snprintf(e.to.user, sizeof e.to.user, "%s", user);
	e.to.device_id = dev;
	memset(e.nonce, 0x4e, sizeof e.nonce);
	e.ciphertext = ct;
	e.ciphertext_len = len;
	return e;
}

static enum db_status
send_msg(struct db *db, const char *chat, const char *mid, const char *user, uint32_t dev,
	 const struct db_envelope *env, size_t n, int64_t now, struct db_send_result *res)
{
	struct db_send req = {
		.chat_id = chat,
		.message_id = mid,
		.sender_user = user,
		.sender_device = dev,
		.envelopes = env,
		.n_envelopes = n,
		.now = now,
	};

	return db_send(db, &req, res);
}

/* ---- open -------------------------------------------------------------- */

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

/* ---- register ---------------------------------------------------------- */

static void
test_register(void **state)
{
	struct fixture *f = *state;
	struct db_device d[PROTO_MAX_DEVICES];
	uint8_t ik[32], want[32];
	size_t n;

	/* Retry with the same key: same device, nothing new. */
	assert_int_equal(reg(f->db, "alice", "other name", 1, DB_OK, 0), 1);
	/* Taken name, another key. */
	reg(f->db, "alice", NULL, 9, DB_EXISTS, 0);
	/* Free name, but the key is bob's device's. */
	reg(f->db, "dave", NULL, 2, DB_KEY_TAKEN, 0);
	assert_int_equal(db_user_exists(f->db, "dave"), DB_NOT_FOUND);
	assert_int_equal(db_user_exists(f->db, "bob"), DB_OK);

	assert_int_equal(db_device_identity(f->db, "alice", 1, ik), DB_OK);
	fill_key(want, sizeof want, 1);
	assert_memory_equal(ik, want, 32);
	assert_int_equal(db_device_identity(f->db, "alice", 2, ik), DB_NOT_FOUND);
	assert_int_equal(db_device_identity(f->db, "zed", 1, ik), DB_NOT_FOUND);
	assert_int_equal(db_touch_device(f->db, "alice", 1, 5000), DB_OK);

	assert_int_equal(db_user_devices(f->db, "alice", d, PROTO_MAX_DEVICES, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].device_id, 1);
	assert_true(d[0].has_name);
	assert_string_equal(d[0].name, "laptop"); /* the retry changed nothing */
	fill_key(want, sizeof want, 101);
	assert_memory_equal(d[0].exchange_key, want, 32);
	assert_int_equal(db_user_devices(f->db, "bob", d, PROTO_MAX_DEVICES, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_false(d[0].has_name);
	assert_int_equal(db_user_devices(f->db, "zed", d, PROTO_MAX_DEVICES, &n), DB_NOT_FOUND);
}

/* ---- chats ------------------------------------------------------------- */

static void
test_direct_chat_dedup(void **state)
{
	struct fixture *f = *state;
	char ab[17], ba[17], ac[17], missing[33];
	struct db_chat *c = malloc(sizeof *c);
	int created;

	assert_non_null(c);
	chat_of(f->db, "alice", "bob", ab, 1);
	chat_of(f->db, "bob", "alice", ba, 0); /* either side, same chat */
	assert_string_equal(ab, ba);
	chat_of(f->db, "alice", "carol", ac, 1);
	assert_string_not_equal(ab, ac);
	assert_int_equal(strlen(ab), 16);

	assert_int_equal(db_direct_chat(f->db, "alice", "zed", 1, ac, &created, missing),
			 DB_NOT_FOUND);
	assert_string_equal(missing, "zed");

	assert_int_equal(db_get_chat(f->db, ab, "bob", c), DB_OK);
	assert_string_equal(c->chat_id, ab);
	assert_string_equal(c->kind, "direct");
	assert_false(c->has_name);
	assert_int_equal(c->created_at, 2000);
	assert_int_equal(c->n_members, 2);
	assert_string_equal(c->members[0], "alice");
	assert_string_equal(c->members[1], "bob");
	/* Not a member looks exactly like no such chat. */
	assert_int_equal(db_get_chat(f->db, ab, "carol", c), DB_NOT_FOUND);
	assert_int_equal(db_get_chat(f->db, "0123456789abcdef", "bob", c), DB_NOT_FOUND);
	free(c);
}

/* Chat ids drawn from a fixed sequence, to force a collision. */
static int draws;

static void
colliding_random(void *buf, size_t len)
{
	/* First two draws give the same id, the third a different one. */
	memset(buf, draws++ < 2 ? 0xaa : 0xbb, len);
}

static void
test_chat_id_collision_draws_again(void **state)
{
	struct fixture *f = *state;
	char ab[17], ac[17];

	draws = 0;
	db_random_fn = colliding_random;
	chat_of(f->db, "alice", "bob", ab, 1);
	chat_of(f->db, "alice", "carol", ac, 1);
	db_random_fn = randombytes_buf;
	assert_string_equal(ab, "aaaaaaaaaaaaaaaa");
	assert_string_equal(ac, "bbbbbbbbbbbbbbbb");
	assert_int_equal(draws, 3);
}

/* ---- send -------------------------------------------------------------- */

static const char M1[] = "0123456789abcdef0123456789abcdef";
static const char M2[] = "1123456789abcdef0123456789abcdef";
static const char M3[] = "2123456789abcdef0123456789abcdef";

static void
test_send_idempotent_and_duplicate(void **state)
{
	struct fixture *f = *state;
	char ab[17], ac[17];
	uint8_t ct[40] = {1, 2, 3};
	struct db_envelope to_bob = env_to("bob", 1, ct, sizeof ct);
	struct db_envelope to_alice = env_to("alice", 1, ct, sizeof ct);
	struct db_envelope to_carol = env_to("carol", 1, ct, sizeof ct);
	struct db_send_result res;

	chat_of(f->db, "alice", "bob", ab, 1);
	chat_of(f->db, "alice", "carol", ac, 1);

	assert_int_equal(send_msg(f->db, ab, M1, "alice", 1, &to_bob, 1, 7000, &res), DB_OK);
	assert_int_equal(res.seq, 1);
	assert_int_equal(res.sent_at, 7000);
	assert_false(res.replayed);
	db_send_result_free(&res);

	/* The same send again, later and even with other envelopes: the first
	 * reply, nothing stored. */
	assert_int_equal(send_msg(f->db, ab, M1, "alice", 1, NULL, 0, 9999, &res), DB_OK);
	assert_int_equal(res.seq, 1);
	assert_int_equal(res.sent_at, 7000);
	assert_true(res.replayed);
	db_send_result_free(&res);

	/* Same id from another device (bob's), or for another chat. */
	assert_int_equal(send_msg(f->db, ab, M1, "bob", 1, &to_alice, 1, 1, &res), DB_DUPLICATE);
	db_send_result_free(&res);
	assert_int_equal(send_msg(f->db, ac, M1, "alice", 1, &to_carol, 1, 1, &res), DB_DUPLICATE);
	db_send_result_free(&res);
	/* ... or from the same user's other device. */
	add_device(f, "alice", 2);
	{
		struct db_envelope two[2] = {to_bob, to_alice};

		assert_int_equal(send_msg(f->db, ab, M1, "alice", 2, two, 2, 1, &res),
				 DB_DUPLICATE);
		db_send_result_free(&res);
	}

	/* Seq counts per chat, in commit order. */
	assert_int_equal(send_msg(f->db, ac, M2, "carol", 1, &to_alice, 1, 1, &res),
			 DB_MISMATCH); /* alice/2 now exists */
	db_send_result_free(&res);
	{
		struct db_envelope two[2] = {to_alice, env_to("alice", 2, ct, 20)};

		assert_int_equal(send_msg(f->db, ac, M2, "carol", 1, two, 2, 8000, &res), DB_OK);
		assert_int_equal(res.seq, 1);
		db_send_result_free(&res);
	}

	/* Not a member of the chat, or no such chat. */
	assert_int_equal(send_msg(f->db, ab, M3, "carol", 1, &to_bob, 1, 1, &res), DB_NOT_FOUND);
	db_send_result_free(&res);
	assert_int_equal(send_msg(f->db, "ffffffffffffffff", M3, "alice", 1, &to_bob, 1, 1, &res),
			 DB_NOT_FOUND);
	db_send_result_free(&res);
}

static void
test_send_device_mismatch(void **state)
{
	struct fixture *f = *state;
	char ab[17];
	uint8_t ct[16] = {0};
	struct db_send_result res;
	struct db_envelope env[3];

	add_device(f, "alice", 2);
	chat_of(f->db, "alice", "bob", ab, 1);

	/* From alice/1 the chat's devices are alice/2 and bob/1. */
	env[0] = env_to("bob", 1, ct, sizeof ct);
	env[1] = env_to("alice", 1, ct, sizeof ct); /* the sender itself */
	env[2] = env_to("bob", 1, ct, sizeof ct);   /* twice */
	assert_int_equal(send_msg(f->db, ab, M1, "alice", 1, env, 3, 1, &res), DB_MISMATCH);
	assert_int_equal(res.n_missing, 1);
	assert_string_equal(res.missing[0].user, "alice");
	assert_int_equal(res.missing[0].device_id, 2);
	assert_int_equal(res.n_extra, 2);
	assert_string_equal(res.extra[0].user, "alice");
	assert_int_equal(res.extra[0].device_id, 1);
	assert_string_equal(res.extra[1].user, "bob");
	assert_int_equal(res.extra[1].device_id, 1);
	db_send_result_free(&res);

	/* Nothing was stored: the id is still free, the seq still 1. */
	env[1] = env_to("alice", 2, ct, sizeof ct);
	assert_int_equal(send_msg(f->db, ab, M1, "alice", 1, env, 2, 1, &res), DB_OK);
	assert_int_equal(res.seq, 1);
	db_send_result_free(&res);
}

static void
test_diff_devices(void **state)
{
	struct db_addr want[] = {{"bob", 2}, {"alice", 2}, {"bob", 1}};
	struct db_addr got[] = {
		{"carol", 1}, {"bob", 1}, {"bob", 10}, {"bob", 1}, {"alice", 2},
	};
	struct db_addr *missing, *extra;
	size_t nm, nx;

	(void)state;
	assert_int_equal(db_diff_devices(want, 3, got, 5, &missing, &nm, &extra, &nx), 0);
	assert_int_equal(nm, 1);
	assert_string_equal(missing[0].user, "bob");
	assert_int_equal(missing[0].device_id, 2);
	assert_int_equal(nx, 3); /* sorted: bob/1 (repeat), bob/10, carol/1 */
	assert_string_equal(extra[0].user, "bob");
	assert_int_equal(extra[0].device_id, 1);
	assert_int_equal(extra[1].device_id, 10);
	assert_string_equal(extra[2].user, "carol");
	free(missing);
	free(extra);

	/* Equal sets in another order: nothing either way. */
	assert_int_equal(db_diff_devices(want, 3, want, 3, &missing, &nm, &extra, &nx), 0);
	assert_int_equal(nm + nx, 0);
	assert_null(missing);
	assert_null(extra);

	/* Empty sides. */
	assert_int_equal(db_diff_devices(NULL, 0, got, 2, &missing, &nm, &extra, &nx), 0);
	assert_int_equal(nm, 0);
	assert_int_equal(nx, 2);
	free(extra);
	assert_int_equal(db_diff_devices(want, 3, NULL, 0, &missing, &nm, &extra, &nx), 0);
	assert_int_equal(nm, 3);
	assert_int_equal(nx, 0);
	free(missing);
}

/* ---- inbox and ack ----------------------------------------------------- */

struct seen {
	size_t n;
	int stop_after;
	int64_t ids[16];
	int64_t seqs[16];
	char mids[16][33];
};

static int
collect(void *udata, const struct db_inbox_row *row)
{
	struct seen *s = udata;
	uint8_t want[32];

	assert_true(s->n < 16);
	s->ids[s->n] = row->inbox_id;
	s->seqs[s->n] = row->seq;
	memcpy(s->mids[s->n], row->message_id, 33);
	s->n++;
	/* The sender's current keys travel with the row. */
	assert_string_equal(row->sender_user, "alice");
	fill_key(want, sizeof want, 1);
	assert_memory_equal(row->sender_identity_key, want, 32);
	assert_int_equal(row->ciphertext_len, 40);
	assert_int_equal(row->ciphertext[0], (uint8_t)row->seq);
	assert_int_equal(row->nonce[0], 0x4e);
	return s->stop_after && (int)s->n >= s->stop_after;
}

static void
test_inbox_order_and_ack(void **state)
{
	struct fixture *f = *state;
	char ab[17], ac[17];
	const char *mids[4] = {M1, M2, M3, "3123456789abcdef0123456789abcdef"};
	char acks[3][PROTO_MESSAGE_ID_LEN + 1];
	struct db_send_result res;
	struct seen s;
	uint8_t ct[4][40];
	int64_t acked;
	size_t n, i;

	chat_of(f->db, "alice", "bob", ab, 1);
	chat_of(f->db, "alice", "carol", ac, 1);
	/* Four messages interleaved across two chats; bob gets 0, 2, 3 and
	 * carol 1. */
	for (i = 0; i < 4; i++) {
		struct db_envelope e;

		memset(ct[i], 0, sizeof ct[i]);
		ct[i][0] = (uint8_t)(i == 1 ? 1 : i == 0 ? 1 : i);
		e = env_to(i == 1 ? "carol" : "bob", 1, ct[i], sizeof ct[i]);
		assert_int_equal(send_msg(f->db, i == 1 ? ac : ab, mids[i], "alice", 1, &e, 1,
					  100 + (int64_t)i, &res),
				 DB_OK);
		db_send_result_free(&res);
	}

	memset(&s, 0, sizeof s);
	assert_int_equal(db_inbox_load(f->db, "bob", 1, 0, 64, collect, &s, &n), DB_OK);
	assert_int_equal(n, 3);
	assert_string_equal(s.mids[0], M1);
	assert_string_equal(s.mids[1], M3);
	assert_string_equal(s.mids[2], mids[3]);
	assert_int_equal(s.seqs[0], 1);
	assert_int_equal(s.seqs[1], 2);
	assert_int_equal(s.seqs[2], 3);
	assert_true(s.ids[0] < s.ids[1] && s.ids[1] < s.ids[2]);

	/* Past a cursor, with a batch limit, and stopped by the callback. */
	{
		struct seen t;

		memset(&t, 0, sizeof t);
		assert_int_equal(db_inbox_load(f->db, "bob", 1, s.ids[0], 64, collect, &t, &n),
				 DB_OK);
		assert_int_equal(n, 2);
		assert_string_equal(t.mids[0], M3);
		memset(&t, 0, sizeof t);
		assert_int_equal(db_inbox_load(f->db, "bob", 1, s.ids[0], 1, collect, &t, &n),
				 DB_OK);
		assert_int_equal(n, 1);
		assert_string_equal(t.mids[0], M3);
		memset(&t, 0, sizeof t);
		assert_int_equal(db_inbox_load(f->db, "bob", 1, s.ids[2], 64, collect, &t, &n),
				 DB_OK);
		assert_int_equal(n, 0);
		memset(&t, 0, sizeof t);
		t.stop_after = 1;
		assert_int_equal(db_inbox_load(f->db, "bob", 1, 0, 64, collect, &t, &n), DB_OK);
		assert_int_equal(n, 1);
		assert_string_equal(t.mids[0], M1);
	}

	/* Acks remove only the acking device's own rows. */
	memcpy(acks[0], M2, sizeof acks[0]); /* carol's row */
	memcpy(acks[1], M1, sizeof acks[1]);
	memcpy(acks[2], "ffffffffffffffffffffffffffffffff", sizeof acks[2]);
	assert_int_equal(
		db_ack(f->db, "bob", 1, (const char(*)[PROTO_MESSAGE_ID_LEN + 1]) acks, 3, &acked),
		DB_OK);
	assert_int_equal(acked, 1);
	assert_int_equal(
		db_ack(f->db, "bob", 1, (const char(*)[PROTO_MESSAGE_ID_LEN + 1]) acks, 3, &acked),
		DB_OK);
	assert_int_equal(acked, 0); /* twice is harmless */
	assert_int_equal(db_ack(f->db, "bob", 1, NULL, 0, &acked), DB_OK);
	assert_int_equal(acked, 0);

	memset(&s, 0, sizeof s);
	assert_int_equal(db_inbox_load(f->db, "bob", 1, 0, 64, collect, &s, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(s.mids[0], M3);
	memset(&s, 0, sizeof s);
	assert_int_equal(db_inbox_load(f->db, "carol", 1, 0, 64, collect, &s, &n), DB_OK);
	assert_int_equal(n, 1); /* bob's ack of M2 did not touch it */
	assert_string_equal(s.mids[0], M2);

	/* The message metadata outlives its inbox rows: a late retry of M1 is
	 * still recognised. */
	assert_int_equal(send_msg(f->db, ab, M1, "alice", 1, NULL, 0, 1, &res), DB_OK);
	assert_true(res.replayed);
	assert_int_equal(res.seq, 1);
	db_send_result_free(&res);
}

/* Inbox ids are never reused, so a connection's cursor stays sound after
 * the newest row is acked. */
static void
test_inbox_ids_not_reused(void **state)
{
	struct fixture *f = *state;
	char ab[17], ack[1][PROTO_MESSAGE_ID_LEN + 1];
	uint8_t ct[40] = {1};
	struct db_envelope e = env_to("bob", 1, ct, sizeof ct);
	struct db_send_result res;
	struct seen s;
	int64_t acked, first;
	size_t n;

	chat_of(f->db, "alice", "bob", ab, 1);
	assert_int_equal(send_msg(f->db, ab, M1, "alice", 1, &e, 1, 1, &res), DB_OK);
	db_send_result_free(&res);
	memset(&s, 0, sizeof s);
	assert_int_equal(db_inbox_load(f->db, "bob", 1, 0, 64, collect, &s, &n), DB_OK);
	first = s.ids[0];
	memcpy(ack[0], M1, sizeof ack[0]);
	assert_int_equal(
		db_ack(f->db, "bob", 1, (const char(*)[PROTO_MESSAGE_ID_LEN + 1]) ack, 1, &acked),
		DB_OK);
	assert_int_equal(acked, 1);
	ct[0] = 2;
	assert_int_equal(send_msg(f->db, ab, M2, "alice", 1, &e, 1, 1, &res), DB_OK);
	db_send_result_free(&res);
	memset(&s, 0, sizeof s);
	assert_int_equal(db_inbox_load(f->db, "bob", 1, first, 64, collect, &s, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_true(s.ids[0] > first);
}

/* A failure inside the send transaction leaves nothing behind: no message,
 * no inbox row, no used seq. */
static void
test_send_rolls_back(void **state)
{
	struct fixture *f = *state;
	char ab[17];
	uint8_t ct[40] = {1};
	struct db_envelope e = env_to("bob", 1, ct, sizeof ct);
	struct db_send_result res;
	struct seen s;
	size_t n;

	chat_of(f->db, "alice", "bob", ab, 1);
	raw_sql(f, "CREATE TRIGGER no_inbox BEFORE INSERT ON inbox"
		   " BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
	assert_int_equal(send_msg(f->db, ab, M1, "alice", 1, &e, 1, 1, &res), DB_INTERNAL);
	assert_int_equal(res.seq, 0);
	assert_null(res.missing);
	db_send_result_free(&res);
	raw_sql(f, "DROP TRIGGER no_inbox");

	assert_int_equal(send_msg(f->db, ab, M1, "alice", 1, &e, 1, 5, &res), DB_OK);
	assert_false(res.replayed);   /* the id was not taken */
	assert_int_equal(res.seq, 1); /* nor the seq */
	db_send_result_free(&res);
	memset(&s, 0, sizeof s);
	assert_int_equal(db_inbox_load(f->db, "bob", 1, 0, 64, collect, &s, &n), DB_OK);
	assert_int_equal(n, 1);
}

/* ---- groups ------------------------------------------------------------ */

typedef char name_t[PROTO_USER_MAX + 1];

/* What an update says, as one line: "op seq actor users=a,b members=a,b,c
 * admins=a". */
static const char *const op_names[] = {"create", "add", "remove", "leave"};

static void
join_names(char *out, size_t cap, const char (*names)[PROTO_USER_MAX + 1], size_t n)
{
	size_t i, len = strlen(out);

	for (i = 0; i < n && len < cap; i++) /* cut at cap, as snprintf cuts */
		len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", names[i]);
}

static void
update_text(const struct db_update *u, char *out, size_t cap)
{
	assert_int_equal(strlen(u->update_id), 32);
	assert_string_equal(u->kind, "group");
	snprintf(out, cap, "%s %lld %s users=", op_names[u->op], (long long)u->seq, u->actor);
	join_names(out, cap, u->users, u->n_users);
	strncat(out, " members=", cap - strlen(out) - 1);
	join_names(out, cap, u->participants, u->n_participants);
	strncat(out, " admins=", cap - strlen(out) - 1);
	join_names(out, cap, u->admins, u->n_admins);
}

static enum db_status
group(struct db *db, const char *creator, const char *const *members, size_t n, int64_t now,
      struct db_change_result *res)
{
	name_t *names = calloc(n ? n : 1, sizeof *names);
	struct db_group_create req = {
		.creator = creator,
		.creator_device = 1,
		.name = "climbing",
		.members = (const name_t *)names,
		.n_members = n,
		.now = now,
	};
	enum db_status st;
	size_t i;

	assert_non_null(names);
	for (i = 0; i < n; i++)
		snprintf(names[i], sizeof names[i], "%s", members[i]);
	st = db_create_group(db, &req, res);
	free(names);
	return st;
}

static enum db_status
change(struct db *db, const char *chat, const char *actor, int add, const char *const *users,
       size_t n, int64_t now, struct db_change_result *res)
{
	name_t names[8];
	struct db_group_change req = {
		.chat_id = chat,
		.actor = actor,
		.actor_device = 1,
		.add = add,
		.users = (const name_t *)names,
		.n_users = n,
		.now = now,
	};
	size_t i;

	assert_true(n <= 8);
	for (i = 0; i < n; i++)
		snprintf(names[i], sizeof names[i], "%s", users[i]);
	return db_change_group(db, &req, res);
}

/* A change that must succeed; returns its seq. */
static int64_t
change_ok(struct db *db, const char *chat, const char *actor, int add, const char *user,
	  int64_t now, enum db_update_op want_op)
{
	struct db_change_result *res = malloc(sizeof *res);
	int64_t seq;

	assert_non_null(res);
	assert_int_equal(change(db, chat, actor, add, &user, 1, now, res), DB_OK);
	assert_int_equal(res->op, want_op);
	seq = res->seq;
	db_change_result_free(res);
	free(res);
	return seq;
}

/* Everything in a device's inbox, updates and messages alike. */
struct rows {
	size_t n;
	int64_t seq[32];
	int update[32];
	char mid[32][33];
	char body[32][512];
};

static int
collect_any(void *udata, const struct db_inbox_row *row)
{
	struct rows *r = udata;

	assert_true(r->n < 32);
	r->seq[r->n] = row->seq;
	r->update[r->n] = row->is_update;
	snprintf(r->mid[r->n], sizeof r->mid[0], "%s", row->message_id);
	r->body[r->n][0] = '\0';
	if (row->is_update)
		update_text(row->update, r->body[r->n], sizeof r->body[0]);
	else
		assert_null(row->update);
	if (row->is_update) {
		assert_null(row->nonce);
		assert_null(row->ciphertext);
	} else {
		assert_non_null(row->nonce);
		assert_non_null(row->sender_identity_key);
	}
	r->n++;
	return 0;
}

static void
load_all(struct db *db, const char *user, uint32_t dev, struct rows *r)
{
	size_t n;

	memset(r, 0, sizeof *r);
	assert_int_equal(db_inbox_load(db, user, dev, 0, 64, collect_any, r, &n), DB_OK);
	assert_int_equal(n, r->n);
}

static void
members_are(struct db *db, const char *chat, const char *viewer, const char *members,
	    const char *admins)
{
	struct db_chat *c = malloc(sizeof *c);
	char got[4096] = "";

	assert_non_null(c);
	assert_int_equal(db_get_chat(db, chat, viewer, c), DB_OK);
	join_names(got, sizeof got, (const name_t *)c->members, c->n_members);
	assert_string_equal(got, members);
	got[0] = '\0';
	join_names(got, sizeof got, (const name_t *)c->admins, c->n_admins);
	assert_string_equal(got, admins);
	free(c);
}

static void
test_group_create_limits(void **state)
{
	struct fixture *f = *state;
	struct db_change_result *res = malloc(sizeof *res);
	const char *names[101];
	char users[101][8];
	struct rows rows;
	size_t i;

	assert_non_null(res);
	/* u0 creates; u1..u100 are the others. */
	for (i = 0; i < 101; i++) {
		snprintf(users[i], sizeof users[i], "u%zu", i);
		reg(f->db, users[i], NULL, (uint8_t)(10 + i), DB_OK, 1);
		names[i] = users[i];
	}
	/* 101 members, the creator included: refused, nothing stored. */
	assert_int_equal(group(f->db, "u0", names + 1, 100, 1000, res), DB_TOO_LARGE);
	db_change_result_free(res);
	load_all(f->db, "u0", 1, &rows);
	assert_int_equal(rows.n, 0);
	/* Listing the creator too changes nothing: still 101. */
	assert_int_equal(group(f->db, "u0", names, 101, 1000, res), DB_TOO_LARGE);
	db_change_result_free(res);

	/* 100 members: fine; every device gets the create update, the
	 * creator's own included. */
	assert_int_equal(group(f->db, "u0", names, 100, 1000, res), DB_OK);
	assert_int_equal(res->op, DB_OP_CREATE);
	assert_int_equal(res->seq, 1);
	assert_int_equal(res->n_participants, 100);
	assert_int_equal(res->n_admins, 1);
	assert_string_equal(res->admins[0], "u0");
	assert_int_equal(res->n_recipients, 100);
	load_all(f->db, "u0", 1, &rows);
	assert_int_equal(rows.n, 1);
	assert_true(rows.update[0]);
	assert_string_equal(rows.mid[0], res->update_id);
	assert_non_null(strstr(rows.body[0], "create 1 u0 users=u0,u1,u10,"));
	load_all(f->db, "u99", 1, &rows);
	assert_int_equal(rows.n, 1);
	load_all(f->db, "u100", 1, &rows);
	assert_int_equal(rows.n, 0);
	/* ... and a 101st cannot be added. */
	{
		char chat[17];

		memcpy(chat, res->chat_id, sizeof chat);
		db_change_result_free(res);
		assert_int_equal(change(f->db, chat, "u0", 1, &names[100], 1, 2000, res),
				 DB_TOO_LARGE);
		db_change_result_free(res);
	}

	/* An unknown member: named, nothing stored. */
	names[1] = "nobody";
	assert_int_equal(group(f->db, "u0", names, 3, 1000, res), DB_UNKNOWN_USER);
	assert_string_equal(res->bad_user, "nobody");
	db_change_result_free(res);
	load_all(f->db, "u2", 1, &rows);
	assert_int_equal(rows.n, 1); /* the first group's only */
	/* A group of the creator alone is a group. */
	assert_int_equal(group(f->db, "u0", NULL, 0, 1000, res), DB_OK);
	assert_int_equal(res->n_participants, 1);
	assert_int_equal(res->n_recipients, 1);
	db_change_result_free(res);
	free(res);
}

static void
test_group_change_rules(void **state)
{
	struct fixture *f = *state;
	struct db_change_result *res = malloc(sizeof *res);
	const char *bc[] = {"bob", "carol"};
	char g[17], direct[17];
	struct rows rows;

	assert_non_null(res);
	reg(f->db, "dave", NULL, 4, DB_OK, 1);
	assert_int_equal(group(f->db, "alice", bc, 2, 1000, res), DB_OK);
	memcpy(g, res->chat_id, sizeof g);
	db_change_result_free(res);
	members_are(f->db, g, "bob", "alice,bob,carol", "alice");

	/* Each refusal changes nothing, even when only one user is wrong. */
	{
		const char *dave = "dave", *bob = "bob", *zed = "zed";
		const char *dave_zed[] = {"dave", "zed"}, *dave_bob[] = {"dave", "bob"};
		const char *bob_carol[] = {"bob", "carol"}, *carol_dave[] = {"carol", "dave"};

		assert_int_equal(change(f->db, g, "bob", 1, &dave, 1, 2, res), DB_NOT_ADMIN);
		assert_int_equal(change(f->db, g, "alice", 1, &bob, 1, 2, res), DB_ALREADY_MEMBER);
		assert_string_equal(res->bad_user, "bob");
		assert_int_equal(change(f->db, g, "alice", 0, &dave, 1, 2, res), DB_NOT_MEMBER);
		assert_string_equal(res->bad_user, "dave");
		assert_int_equal(change(f->db, g, "alice", 1, &zed, 1, 2, res), DB_UNKNOWN_USER);
		assert_int_equal(change(f->db, g, "alice", 1, dave_zed, 2, 2, res),
				 DB_UNKNOWN_USER);
		assert_string_equal(res->bad_user, "zed");
		assert_int_equal(change(f->db, g, "alice", 1, dave_bob, 2, 2, res),
				 DB_ALREADY_MEMBER);
		assert_int_equal(change(f->db, g, "alice", 0, carol_dave, 2, 2, res),
				 DB_NOT_MEMBER);
		/* A member removing others, or themselves with others. */
		assert_int_equal(change(f->db, g, "bob", 0, bob_carol, 2, 2, res), DB_NOT_ADMIN);
		assert_int_equal(change(f->db, g, "bob", 0, &zed, 1, 2, res), DB_NOT_ADMIN);
		/* Not in the chat, no such chat, a direct chat. */
		assert_int_equal(change(f->db, g, "dave", 1, &dave, 1, 2, res), DB_NOT_FOUND);
		assert_int_equal(change(f->db, "0123456789abcdef", "alice", 1, &dave, 1, 2, res),
				 DB_NOT_FOUND);
		chat_of(f->db, "alice", "bob", direct, 1);
		assert_int_equal(change(f->db, direct, "alice", 1, &dave, 1, 2, res),
				 DB_WRONG_KIND);
		assert_int_equal(change(f->db, direct, "carol", 1, &dave, 1, 2, res), DB_NOT_FOUND);
		db_change_result_free(res);
	}
	members_are(f->db, g, "alice", "alice,bob,carol", "alice");
	load_all(f->db, "bob", 1, &rows);
	assert_int_equal(rows.n, 1); /* the create update only */

	/* What is allowed: the next seq each, no seq used by the refusals. */
	assert_int_equal(change_ok(f->db, g, "alice", 1, "dave", 3000, DB_OP_ADD), 2);
	members_are(f->db, g, "dave", "alice,bob,carol,dave", "alice");
	/* A member leaves: any member may. */
	assert_int_equal(change_ok(f->db, g, "bob", 0, "bob", 4000, DB_OP_LEAVE), 3);
	assert_int_equal(change_ok(f->db, g, "alice", 0, "dave", 5000, DB_OP_REMOVE), 4);
	members_are(f->db, g, "alice", "alice,carol", "alice");
	assert_int_equal(db_get_chat(f->db, g, "bob", &(struct db_chat){0}), DB_NOT_FOUND);
	/* An admin removing only themselves leaves too. */
	assert_int_equal(change_ok(f->db, g, "alice", 0, "alice", 6000, DB_OP_LEAVE), 5);
	members_are(f->db, g, "carol", "carol", "carol");
	free(res);
}

static void
test_group_admin_promotion(void **state)
{
	struct fixture *f = *state;
	struct db_change_result *res = malloc(sizeof *res);
	const char *carol = "carol";
	char g[17];
	struct rows rows;

	assert_non_null(res);
	reg(f->db, "dave", NULL, 4, DB_OK, 1);
	/* carol joins at 1000, bob and dave later: the earliest comes first,
	 * whatever the names; at the same time, the first by name. */
	assert_int_equal(group(f->db, "alice", &carol, 1, 1000, res), DB_OK);
	memcpy(g, res->chat_id, sizeof g);
	db_change_result_free(res);
	change_ok(f->db, g, "alice", 1, "dave", 2000, DB_OP_ADD);
	change_ok(f->db, g, "alice", 1, "bob", 2000, DB_OP_ADD);
	assert_int_equal(change_ok(f->db, g, "alice", 0, "alice", 3000, DB_OP_LEAVE), 4);
	members_are(f->db, g, "bob", "bob,carol,dave", "carol");
	/* The leave update already shows the new admin. */
	load_all(f->db, "alice", 1, &rows);
	assert_string_equal(rows.body[rows.n - 1],
			    "leave 4 alice users=alice members=bob,carol,dave admins=carol");
	change_ok(f->db, g, "carol", 0, "carol", 4000, DB_OP_LEAVE);
	members_are(f->db, g, "bob", "bob,dave", "bob");
	/* An admin that is not the last one leaving changes no one. */
	change_ok(f->db, g, "bob", 1, "carol", 5000, DB_OP_ADD);
	change_ok(f->db, g, "dave", 0, "dave", 6000, DB_OP_LEAVE);
	members_are(f->db, g, "bob", "bob,carol", "bob");
	/* The last member leaves: an empty group, its update still reaches
	 * the one who left, and nobody can send or add any more. */
	change_ok(f->db, g, "bob", 0, "bob", 7000, DB_OP_LEAVE);
	change_ok(f->db, g, "carol", 0, "carol", 8000, DB_OP_LEAVE);
	load_all(f->db, "carol", 1, &rows);
	assert_string_equal(rows.body[rows.n - 1], "leave 9 carol users=carol members= admins=");
	assert_int_equal(change(f->db, g, "carol", 1, &carol, 1, 9000, res), DB_NOT_FOUND);
	db_change_result_free(res);
	free(res);
}

/* Messages and updates share the chat's one sequence, and each device gets
 * them in commit order. */
static void
test_group_shared_sequence(void **state)
{
	struct fixture *f = *state;
	struct db_change_result *res = malloc(sizeof *res);
	const char *bob = "bob";
	uint8_t ct[40] = {0};
	struct db_envelope e[2];
	struct db_send_result sr;
	struct rows rows;
	char g[17];

	assert_non_null(res);
	assert_int_equal(group(f->db, "alice", &bob, 1, 1000, res), DB_OK);
	assert_int_equal(res->seq, 1);
	memcpy(g, res->chat_id, sizeof g);
	db_change_result_free(res);
	e[0] = env_to("bob", 1, ct, sizeof ct);
	assert_int_equal(send_msg(f->db, g, M1, "alice", 1, e, 1, 2000, &sr), DB_OK);
	assert_int_equal(sr.seq, 2);
	db_send_result_free(&sr);
	assert_int_equal(change_ok(f->db, g, "alice", 1, "carol", 3000, DB_OP_ADD), 3);
	/* carol is in the device set now. */
	assert_int_equal(send_msg(f->db, g, M2, "bob", 1, e, 0, 4000, &sr), DB_MISMATCH);
	assert_int_equal(sr.n_missing, 2);
	db_send_result_free(&sr);
	e[0] = env_to("alice", 1, ct, sizeof ct);
	e[1] = env_to("carol", 1, ct, sizeof ct);
	assert_int_equal(send_msg(f->db, g, M2, "bob", 1, e, 2, 4000, &sr), DB_OK);
	assert_int_equal(sr.seq, 4);
	db_send_result_free(&sr);

	load_all(f->db, "bob", 1, &rows);
	assert_int_equal(rows.n, 3); /* create, alice's message, the add */
	assert_int_equal(rows.seq[0], 1);
	assert_true(rows.update[0]);
	assert_int_equal(rows.seq[1], 2);
	assert_false(rows.update[1]);
	assert_string_equal(rows.mid[1], M1);
	assert_int_equal(rows.seq[2], 3);
	assert_string_equal(rows.body[2], "add 3 alice users=carol members=alice,bob,carol "
					  "admins=alice");
	/* carol has nothing from before she joined. */
	load_all(f->db, "carol", 1, &rows);
	assert_int_equal(rows.n, 2);
	assert_int_equal(rows.seq[0], 3);
	assert_int_equal(rows.seq[1], 4);

	/* An update is acked like a message; its id is not a message id. */
	{
		char ack[1][PROTO_MESSAGE_ID_LEN + 1];
		int64_t acked;

		memcpy(ack[0], rows.mid[0], sizeof ack[0]);
		assert_int_equal(db_ack(f->db, "carol", 1,
					(const char(*)[PROTO_MESSAGE_ID_LEN + 1]) ack, 1, &acked),
				 DB_OK);
		assert_int_equal(acked, 1);
		assert_int_equal(send_msg(f->db, g, ack[0], "alice", 1, e, 0, 1, &sr),
				 DB_DUPLICATE);
		db_send_result_free(&sr);
	}
	free(res);
}

/* Removed members get the update, then nothing; they cannot send. */
static void
test_group_removed_members(void **state)
{
	struct fixture *f = *state;
	struct db_change_result *res = malloc(sizeof *res);
	const char *bc[] = {"bob", "carol"};
	uint8_t ct[40] = {0};
	struct db_envelope e[2];
	struct db_send_result sr;
	struct rows rows;
	char g[17];
	size_t i;

	assert_non_null(res);
	add_device(f, "carol", 2);
	assert_int_equal(group(f->db, "alice", bc, 2, 1000, res), DB_OK);
	memcpy(g, res->chat_id, sizeof g);
	assert_int_equal(res->n_recipients, 4); /* carol has two devices */
	db_change_result_free(res);
	{
		const char *carol = "carol";

		assert_int_equal(change(f->db, g, "alice", 0, &carol, 1, 2000, res), DB_OK);
	}
	/* The update went to every device of the members after it and of
	 * carol. */
	assert_int_equal(res->n_recipients, 4);
	for (i = 0; i < res->n_recipients; i++)
		assert_true(strcmp(res->recipients[i].user, "bob") != 0 ||
			    res->recipients[i].device_id == 1);
	assert_string_equal(res->recipients[2].user, "carol");
	assert_int_equal(res->recipients[3].device_id, 2);
	db_change_result_free(res);
	load_all(f->db, "carol", 2, &rows);
	assert_int_equal(rows.n, 2);
	assert_string_equal(rows.body[1], "remove 2 alice users=carol members=alice,bob "
					  "admins=alice");

	/* carol's devices are out of the device set; she cannot send. */
	e[0] = env_to("bob", 1, ct, sizeof ct);
	e[1] = env_to("carol", 1, ct, sizeof ct);
	assert_int_equal(send_msg(f->db, g, M1, "alice", 1, e, 2, 3000, &sr), DB_MISMATCH);
	assert_int_equal(sr.n_extra, 1);
	assert_string_equal(sr.extra[0].user, "carol");
	db_send_result_free(&sr);
	assert_int_equal(send_msg(f->db, g, M1, "alice", 1, e, 1, 3000, &sr), DB_OK);
	db_send_result_free(&sr);
	e[0] = env_to("alice", 1, ct, sizeof ct);
	e[1] = env_to("bob", 1, ct, sizeof ct);
	assert_int_equal(send_msg(f->db, g, M2, "carol", 1, e, 2, 3000, &sr), DB_NOT_FOUND);
	db_send_result_free(&sr);
	load_all(f->db, "carol", 1, &rows);
	assert_int_equal(rows.n, 2); /* nothing after the remove */
	free(res);
}

/* ---- devices ----------------------------------------------------------- */

static enum db_status
link_dev(struct db *db, const char *user, uint8_t seed, uint32_t *id)
{
	uint8_t ik[32], xk[32], xs[64], approver[32], approval[64];
	struct db_new_device d = {
		.user = user,
		.name = "phone",
		.identity_key = ik,
		.exchange_key = xk,
		.exchange_key_sig = xs,
		.approver_key = approver,
		.approval = approval,
		.now = 5000,
	};

	fill_key(ik, sizeof ik, seed);
	fill_key(xk, sizeof xk, seed + 100);
	fill_key(xs, sizeof xs, seed + 200);
	fill_key(approver, sizeof approver, 1);
	memset(approval, 0xa5, sizeof approval);
	return db_link_device(db, &d, id);
}

static void
test_devices_limit_and_ids(void **state)
{
	struct fixture *f = *state;
	struct db_device d[PROTO_MAX_DEVICES];
	uint8_t ik[32];
	uint32_t id = 0;
	size_t n;

	assert_int_equal(link_dev(f->db, "alice", 50, &id), DB_OK);
	assert_int_equal(id, 2);
	assert_int_equal(link_dev(f->db, "alice", 51, &id), DB_OK);
	assert_int_equal(id, 3);
	/* A fourth device, checked before asking and again when storing. */
	fill_key(ik, sizeof ik, 52);
	assert_int_equal(db_link_check(f->db, "alice", ik), DB_TOO_MANY);
	assert_int_equal(link_dev(f->db, "alice", 52, &id), DB_TOO_MANY);
	assert_int_equal(db_link_check(f->db, "zed", ik), DB_NOT_FOUND);
	assert_int_equal(link_dev(f->db, "zed", 52, &id), DB_NOT_FOUND);
	/* A key another device has (bob's, or alice's own). */
	fill_key(ik, sizeof ik, 2);
	assert_int_equal(db_link_check(f->db, "carol", ik), DB_KEY_TAKEN);
	assert_int_equal(link_dev(f->db, "carol", 2, &id), DB_KEY_TAKEN);
	assert_int_equal(link_dev(f->db, "carol", 50, &id), DB_KEY_TAKEN);
	assert_int_equal(db_link_check(f->db, "carol", (uint8_t[32]){0}), DB_OK);

	/* The directory: the first device unapproved, the others approved. */
	assert_int_equal(db_user_devices(f->db, "alice", d, PROTO_MAX_DEVICES, &n), DB_OK);
	assert_int_equal(n, 3);
	assert_false(d[0].approved);
	assert_true(d[1].approved);
	fill_key(ik, sizeof ik, 1);
	assert_memory_equal(d[1].approver_key, ik, 32);
	assert_int_equal(d[1].approval[0], 0xa5);
	assert_string_equal(d[2].name, "phone");

	/* register of an existing user stays user_exists, even with the key of
	 * a linked device; a retry with the first device's key still works. */
	reg(f->db, "alice", NULL, 50, DB_EXISTS, 0);
	assert_int_equal(reg(f->db, "alice", NULL, 1, DB_OK, 0), 1);

	/* Ids are never reused: remove the newest, link again. */
	assert_int_equal(db_remove_device(f->db, "alice", 3, 6000), DB_OK);
	assert_int_equal(db_remove_device(f->db, "alice", 3, 6000), DB_NOT_FOUND);
	assert_int_equal(db_device_identity(f->db, "alice", 3, ik), DB_NOT_FOUND);
	assert_int_equal(link_dev(f->db, "alice", 52, &id), DB_OK);
	assert_int_equal(id, 4);
	/* The first device can go too; then the others remain. */
	assert_int_equal(db_remove_device(f->db, "alice", 1, 7000), DB_OK);
	assert_int_equal(db_user_devices(f->db, "alice", d, PROTO_MAX_DEVICES, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_int_equal(d[0].device_id, 2);
	assert_int_equal(d[1].device_id, 4);
	reg(f->db, "alice", NULL, 1, DB_EXISTS, 0); /* no retry of a removed device */
	/* A removed device's key may be linked again, under a new id. */
	assert_int_equal(link_dev(f->db, "alice", 51, &id), DB_OK);
	assert_int_equal(id, 5);
}

static void
test_remove_device_deletes_inbox(void **state)
{
	struct fixture *f = *state;
	char ab[17];
	uint8_t ct[40] = {1};
	struct db_envelope e[2];
	struct db_send_result sr;
	struct rows rows;
	uint32_t id;

	chat_of(f->db, "alice", "bob", ab, 1);
	assert_int_equal(link_dev(f->db, "bob", 60, &id), DB_OK);
	e[0] = env_to("bob", 1, ct, sizeof ct);
	e[1] = env_to("bob", 2, ct, sizeof ct);
	assert_int_equal(send_msg(f->db, ab, M1, "alice", 1, e, 2, 1, &sr), DB_OK);
	db_send_result_free(&sr);
	/* bob/2 sends to alice and bob/1, then is removed before alice reads. */
	e[0] = env_to("alice", 1, ct, sizeof ct);
	e[1] = env_to("bob", 1, ct, sizeof ct);
	assert_int_equal(send_msg(f->db, ab, M2, "bob", 2, e, 2, 2, &sr), DB_OK);
	db_send_result_free(&sr);
	load_all(f->db, "bob", 2, &rows);
	assert_int_equal(rows.n, 1);

	assert_int_equal(db_remove_device(f->db, "bob", 2, 3), DB_OK);
	load_all(f->db, "bob", 2, &rows);
	assert_int_equal(rows.n, 0);
	load_all(f->db, "bob", 1, &rows);
	assert_int_equal(rows.n, 2); /* the other device's inbox is untouched */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox"
					  " WHERE user = 'bob' AND device_id = 2"),
			 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM devices WHERE user = 'bob'"), 1);
	/* What it sent before still reaches alice, with its keys. */
	load_all(f->db, "alice", 1, &rows);
	assert_int_equal(rows.n, 1);
	assert_string_equal(rows.mid[0], M2);
	/* From then on nothing is addressed to it. */
	e[0] = env_to("bob", 1, ct, sizeof ct);
	e[1] = env_to("bob", 2, ct, sizeof ct);
	assert_int_equal(send_msg(f->db, ab, M3, "alice", 1, e, 2, 4, &sr), DB_MISMATCH);
	assert_int_equal(sr.n_extra, 1);
	assert_int_equal(sr.extra[0].device_id, 2);
	db_send_result_free(&sr);
}

/* ---- migration --------------------------------------------------------- */

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

/* What version 7 added, taken away again: for the tests that make older
 * versions out of the fixture's database. (Version 8 changed only the bodies
 * of group updates, and the databases made older hold none.) */
#define UNDO_V7                                                                                    \
	"DROP TABLE message_tombstones; DROP TRIGGER inbox_bytes_add;"                             \
	"DROP TRIGGER inbox_bytes_sub; ALTER TABLE devices DROP COLUMN inbox_bytes;"               \
	"DROP INDEX blobs_by_device; ALTER TABLE chat_members DROP COLUMN joined_seq;"             \
	"DROP TABLE chat_activity; DROP TABLE group_adds;"

/* ---- retention --------------------------------------------------------- */

static const char M4[] = "4123456789abcdef0123456789abcdef";
static const char M5[] = "5123456789abcdef0123456789abcdef";

/* Send mid in chat from alice/1 to (user, 1) and, if dev2, (user, 2). */
static void
send_to(struct db *db, const char *chat, const char *mid, const char *user, int dev2, int64_t now)
{
	uint8_t ct[40] = {0};
	struct db_envelope e[2];
	struct db_send_result res;

	e[0] = env_to(user, 1, ct, sizeof ct);
	e[1] = env_to(user, 2, ct, sizeof ct);
	assert_int_equal(send_msg(db, chat, mid, "alice", 1, e, dev2 ? 2 : 1, now, &res), DB_OK);
	db_send_result_free(&res);
}

static void
expect_missed(struct db *db, const char *user, uint32_t dev, int64_t count, int64_t oldest)
{
	int64_t c = -1, o = -1;

	assert_int_equal(db_missed(db, user, dev, &c, &o), DB_OK);
	assert_int_equal(c, count);
	assert_int_equal(o, oldest);
}

static void
test_purge_retention(void **state)
{
	struct fixture *f = *state;
	struct db_purge_result r;
	char ab[17], ac[17], ack[1][PROTO_MESSAGE_ID_LEN + 1];
	struct rows rows;
	int64_t acked, c, o;

	chat_of(f->db, "alice", "bob", ab, 1);
	chat_of(f->db, "alice", "carol", ac, 1);
	add_device(f, "bob", 2);
	send_to(f->db, ab, M1, "bob", 1, 100);   /* old, both of bob's devices */
	send_to(f->db, ac, M2, "carol", 0, 200); /* old, carol */
	send_to(f->db, ab, M4, "bob", 1, 300);   /* old; bob/1 acks it */
	send_to(f->db, ac, M5, "carol", 0, 150); /* old; carol acks it */
	send_to(f->db, ab, M3, "bob", 1, 5000);  /* new */
	snprintf(ack[0], sizeof ack[0], "%s", M4);
	assert_int_equal(db_ack(f->db, "bob", 1, ack, 1, &acked), DB_OK);
	assert_int_equal(acked, 1);
	snprintf(ack[0], sizeof ack[0], "%s", M5);
	assert_int_equal(db_ack(f->db, "carol", 1, ack, 1, &acked), DB_OK);
	/* oldest is the send time, not the inbox row's: M1 sent at 50; M3
	 * sent long ago but queued recently (still referenced, kept). */
	raw_sql(f, "UPDATE messages SET sent_at = 50 WHERE message_id = "
		   "'0123456789abcdef0123456789abcdef';"
		   "UPDATE messages SET sent_at = 10 WHERE message_id = "
		   "'2123456789abcdef0123456789abcdef';");
	expect_missed(f->db, "bob", 1, 0, 0);

	assert_int_equal(db_purge(f->db, 1000, 0, &r), DB_OK);
	assert_int_equal(r.inbox_rows, 4); /* bob/1 M1, bob/2 M1 M4, carol M2 */
	assert_int_equal(r.messages, 4);   /* M1 M2 M4 M5; not M3 */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox"), 2);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM messages"), 1);
	load_all(f->db, "bob", 1, &rows);
	assert_int_equal(rows.n, 1);
	assert_string_equal(rows.mid[0], M3);
	load_all(f->db, "bob", 2, &rows);
	assert_int_equal(rows.n, 1);
	expect_missed(f->db, "bob", 1, 1, 50);
	expect_missed(f->db, "bob", 2, 2, 50);
	expect_missed(f->db, "carol", 1, 1, 200);
	expect_missed(f->db, "alice", 1, 0, 0);

	/* Nothing more to do at the same cutoff. */
	assert_int_equal(db_purge(f->db, 1000, 0, &r), DB_OK);
	assert_int_equal(r.inbox_rows, 0);
	assert_int_equal(r.messages, 0);
	expect_missed(f->db, "bob", 2, 2, 50);

	/* Counts add up until reset; oldest is the oldest of all. */
	assert_int_equal(db_purge(f->db, 6000, 0, &r), DB_OK);
	assert_int_equal(r.inbox_rows, 2);
	assert_int_equal(r.messages, 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM messages"), 0);
	expect_missed(f->db, "bob", 1, 2, 10);
	expect_missed(f->db, "bob", 2, 3, 10);

	/* Reset: once told, the counter starts over; others keep theirs. */
	assert_int_equal(db_missed_reset(f->db, "bob", 2), DB_OK);
	expect_missed(f->db, "bob", 2, 0, 0);
	expect_missed(f->db, "bob", 1, 2, 10);
	send_to(f->db, ab, "6123456789abcdef0123456789abcdef", "bob", 1, 7000);
	assert_int_equal(db_purge(f->db, 8000, 0, &r), DB_OK);
	expect_missed(f->db, "bob", 2, 1, 7000);
	expect_missed(f->db, "bob", 1, 3, 10);
	assert_int_equal(db_missed(f->db, "bob", 9, &c, &o), DB_NOT_FOUND);
}

/*
 * A late resend after the retention purge (issue 10, item 3): the purge takes
 * the message's rows and ciphertexts but keeps a tombstone of its id for a
 * further retention period, so a resend is answered as the first send was
 * (same seq and time) and stored nowhere, whether the message was acked or
 * purged unread; only after the tombstone's own cutoff is the id forgotten.
 */
static void
test_purge_keeps_tombstones(void **state)
{
	struct fixture *f = *state;
	struct db_purge_result r;
	struct db_send_result res;
	char ab[17], ac[17], ack[1][PROTO_MESSAGE_ID_LEN + 1];
	uint8_t ct[40] = {0};
	struct db_envelope e = env_to("bob", 1, ct, sizeof ct);
	int64_t acked, seq1;

	chat_of(f->db, "alice", "bob", ab, 1);
	chat_of(f->db, "alice", "carol", ac, 1);
	assert_int_equal(send_msg(f->db, ab, M1, "alice", 1, &e, 1, 100, &res), DB_OK);
	seq1 = res.seq;
	db_send_result_free(&res);
	send_to(f->db, ab, M2, "bob", 0, 200); /* never acked */
	snprintf(ack[0], sizeof ack[0], "%s", M1);
	assert_int_equal(db_ack(f->db, "bob", 1, ack, 1, &acked), DB_OK);
	assert_int_equal(acked, 1);

	assert_int_equal(db_purge(f->db, 1000, 0, &r), DB_OK);
	assert_int_equal(r.messages, 2);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM messages"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM message_tombstones"), 2);

	/* Resent after the purge: the first reply, nothing stored. */
	assert_int_equal(send_msg(f->db, ab, M1, "alice", 1, &e, 1, 1500, &res), DB_OK);
	assert_true(res.replayed);
	assert_int_equal(res.seq, seq1);
	assert_int_equal(res.sent_at, 100);
	db_send_result_free(&res);
	assert_int_equal(send_msg(f->db, ab, M2, "alice", 1, &e, 1, 1500, &res), DB_OK);
	assert_true(res.replayed);
	assert_int_equal(res.sent_at, 200);
	db_send_result_free(&res);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM messages"), 0);
	/* The id is still nobody else's. */
	assert_int_equal(send_msg(f->db, ac, M1, "alice", 1, &e, 1, 1500, &res), DB_DUPLICATE);
	db_send_result_free(&res);

	/* A second retention period later the tombstones go too. */
	assert_int_equal(db_purge(f->db, 3000, 150, &r), DB_OK);
	assert_int_equal(r.tombstones, 1); /* M1, sent at 100 */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM message_tombstones"), 1);
	assert_int_equal(db_purge(f->db, 3000, 2000, &r), DB_OK);
	assert_int_equal(r.tombstones, 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM message_tombstones"), 0);
}

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

/* ---- last seen --------------------------------------------------------- */

static void
expect_last_seen(struct db *db, const char *user, int hide, int64_t last)
{
	int h = -1;
	int64_t l = -2;

	assert_int_equal(db_last_seen(db, user, &h, &l), DB_OK);
	assert_int_equal(h, hide);
	assert_int_equal(l, last);
}

static void
test_last_seen(void **state)
{
	struct fixture *f = *state;
	int h;
	int64_t l;

	/* The fixture registered alice and bob at 1000. */
	expect_last_seen(f->db, "alice", 0, 1000);
	/* The newest of the user's devices; a device never seen counts for
	 * nothing. */
	add_device(f, "alice", 2);
	expect_last_seen(f->db, "alice", 0, 1000);
	assert_int_equal(db_touch_device(f->db, "alice", 2, 5000), DB_OK);
	expect_last_seen(f->db, "alice", 0, 5000);
	assert_int_equal(db_touch_device(f->db, "alice", 1, 3000), DB_OK);
	expect_last_seen(f->db, "alice", 0, 5000);
	assert_int_equal(db_touch_device(f->db, "alice", 1, 7000), DB_OK);
	expect_last_seen(f->db, "alice", 0, 7000);
	expect_last_seen(f->db, "bob", 0, 1000);
	/* Hiding is per user and undone. */
	assert_int_equal(db_set_hide_last_seen(f->db, "alice", 1), DB_OK);
	expect_last_seen(f->db, "alice", 1, 7000);
	expect_last_seen(f->db, "bob", 0, 1000);
	assert_int_equal(db_set_hide_last_seen(f->db, "alice", 0), DB_OK);
	expect_last_seen(f->db, "alice", 0, 7000);
	/* Unknown users. */
	assert_int_equal(db_last_seen(f->db, "nobody", &h, &l), DB_NOT_FOUND);
	assert_int_equal(db_set_hide_last_seen(f->db, "nobody", 1), DB_NOT_FOUND);
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

/* ---- receipts ------------------------------------------------------------ */

static const char R1[] = "a123456789abcdef0123456789abcdef";

/* A receipt goes to some of the chat's devices, takes no seq, is pushed in
 * inbox order with the messages, and is idempotent like a send. */
static void
test_receipts(void **state)
{
	struct fixture *f = *state;
	char g[17];
	uint8_t ct[16] = {0};
	struct db_send_result res;
	struct db_envelope env[3];
	struct rows r;

	add_device(f, "alice", 2);
	chat_of(f->db, "alice", "bob", g, 1);
	env[0] = env_to("bob", 1, ct, sizeof ct);
	env[1] = env_to("alice", 2, ct, sizeof ct);
	assert_int_equal(send_msg(f->db, g, M1, "alice", 1, env, 2, 1000, &res), DB_OK);
	assert_int_equal(res.seq, 1);
	db_send_result_free(&res);

	/* bob tells alice/1 only (a subset is fine); no seq is taken. */
	struct db_send rq = {g, R1, "bob", 1, env, 1, 2000, 1, NULL, 0, 0};
	env[0] = env_to("alice", 1, ct, sizeof ct);
	assert_int_equal(db_send(f->db, &rq, &res), DB_OK);
	assert_int_equal(res.seq, 0);
	assert_int_equal(res.sent_at, 2000);
	db_send_result_free(&res);
	/* Again: the first reply, nothing stored twice. */
	rq.now = 3000;
	assert_int_equal(db_send(f->db, &rq, &res), DB_OK);
	assert_true(res.replayed);
	assert_int_equal(res.sent_at, 2000);
	db_send_result_free(&res);
	load_all(f->db, "alice", 1, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.mid[0], R1);
	assert_int_equal(r.seq[0], 0);
	load_all(f->db, "alice", 2, &r);
	assert_int_equal(r.n, 1); /* only the message */
	/* The next message still gets seq 2. */
	env[0] = env_to("alice", 1, ct, sizeof ct);
	env[1] = env_to("alice", 2, ct, sizeof ct);
	assert_int_equal(send_msg(f->db, g, M2, "bob", 1, env, 2, 4000, &res), DB_OK);
	assert_int_equal(res.seq, 2);
	db_send_result_free(&res);

	/* A receipt id is not a message id, nor one for another sender. */
	assert_int_equal(send_msg(f->db, g, R1, "bob", 1, env, 2, 5000, &res), DB_DUPLICATE);
	db_send_result_free(&res);
	/* Devices outside the chat, the sender's own, or none at all are refused. */
	rq.message_id = M3;
	env[0] = env_to("carol", 1, ct, sizeof ct);
	assert_int_equal(db_send(f->db, &rq, &res), DB_MISMATCH);
	assert_int_equal(res.n_extra, 1);
	assert_int_equal(res.n_missing, 0);
	db_send_result_free(&res);
	rq.n_envelopes = 0;
	assert_int_equal(db_send(f->db, &rq, &res), DB_MISMATCH);
	db_send_result_free(&res);
	/* Not a member: no such chat. */
	rq.sender_user = "carol";
	rq.n_envelopes = 1;
	env[0] = env_to("alice", 1, ct, sizeof ct);
	assert_int_equal(db_send(f->db, &rq, &res), DB_NOT_FOUND);
	db_send_result_free(&res);
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
		   " UNIQUE (chat_id, seq));"
		   "INSERT INTO m4 SELECT * FROM messages; DROP TABLE messages;"
		   "ALTER TABLE m4 RENAME TO messages;"
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
	struct db_send rq = {g, R1, "bob", 1, &env, 1, 2000, 1, NULL, 0, 0};
	env = env_to("alice", 1, ct, sizeof ct);
	assert_int_equal(db_send(f->db, &rq, &res), DB_OK);
	db_send_result_free(&res);
}

/* ---- blobs (attachments) ------------------------------------------------ */

static const char B1[] = "b100000000000000000000000000000b";
static const char B2[] = "b200000000000000000000000000000b";
static const char B3[] = "b300000000000000000000000000000b";

typedef char blob_id_t[PROTO_MESSAGE_ID_LEN + 1];

static enum db_status
send_blobs(struct db *db, const char *chat, const char *mid, const char *user,
	   const struct db_envelope *env, size_t n, const blob_id_t *blobs, size_t n_blobs)
{
	struct db_send_result res;
	struct db_send req = {
		.chat_id = chat,
		.message_id = mid,
		.sender_user = user,
		.sender_device = 1,
		.envelopes = env,
		.n_envelopes = n,
		.now = 5000,
		.blobs = blobs,
		.n_blobs = n_blobs,
	};
	enum db_status st = db_send(db, &req, &res);

	db_send_result_free(&res);
	return st;
}

struct purged {
	int n;
	char ids[8][PROTO_MESSAGE_ID_LEN + 1];
};

static void
on_purged(void *udata, const char *blob_id)
{
	struct purged *p = udata;

	assert_true(p->n < 8);
	snprintf(p->ids[p->n++], sizeof p->ids[0], "%s", blob_id);
}

/* A blob is pending until completed (once, within its size); a message may
 * refer only to complete blobs of its sending device, all or nothing, and a
 * retry with the same blobs is still the same send. */
static void
test_blobs_send(void **state)
{
	struct fixture *f = *state;
	char g[17];
	uint8_t ct[16] = {0};
	struct db_envelope env = env_to("bob", 1, ct, sizeof ct);
	struct db_blob b;
	blob_id_t ids[2];
	int64_t size;

	chat_of(f->db, "alice", "bob", g, 1);
	assert_int_equal(db_blob_create(f->db, B1, "alice", 1, 100, 1000), DB_OK);
	assert_int_equal(db_blob_create(f->db, B1, "bob", 1, 100, 1000), DB_DUPLICATE);
	assert_int_equal(db_blob_create(f->db, B2, "alice", 1, 50, 1000), DB_OK);
	assert_int_equal(db_blob_create(f->db, B3, "bob", 1, 50, 1000), DB_OK);
	assert_int_equal(db_blob_get(f->db, B1, &b), DB_OK);
	assert_string_equal(b.user, "alice");
	assert_int_equal(b.device_id, 1);
	assert_int_equal(b.max_size, 100);
	assert_false(b.complete);
	assert_int_equal(db_blob_get(f->db, "ffffffffffffffffffffffffffffffff", &b), DB_NOT_FOUND);

	/* Over its size, or twice: refused. */
	assert_int_equal(db_blob_complete(f->db, B1, 101, 2000), DB_NOT_FOUND);
	assert_int_equal(db_blob_complete(f->db, B1, 100, 2000), DB_OK);
	assert_int_equal(db_blob_complete(f->db, B1, 100, 2000), DB_NOT_FOUND);
	assert_int_equal(db_blob_get(f->db, B1, &b), DB_OK);
	assert_true(b.complete);
	assert_int_equal(b.size, 100);
	assert_int_equal(db_blob_complete(f->db, B3, 10, 2000), DB_OK);

	/* Incomplete (B2), someone else's (B3), unknown: nothing stored. */
	memcpy(ids[0], B1, sizeof ids[0]);
	memcpy(ids[1], B2, sizeof ids[1]);
	assert_int_equal(send_blobs(f->db, g, M1, "alice", &env, 1, ids, 2), DB_NO_BLOB);
	memcpy(ids[1], B3, sizeof ids[1]);
	assert_int_equal(send_blobs(f->db, g, M1, "alice", &env, 1, ids, 2), DB_NO_BLOB);
	memcpy(ids[1], "ffffffffffffffffffffffffffffffff", sizeof ids[1]);
	assert_int_equal(send_blobs(f->db, g, M1, "alice", &env, 1, ids, 2), DB_NO_BLOB);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM messages"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM message_blobs"), 0);
	/* Nobody may read a blob no message refers to, not even its owner. */
	assert_int_equal(db_blob_readable(f->db, B1, "alice", &size), DB_NOT_FOUND);

	/* B1 twice in one list is one reference; a retry is fine. */
	memcpy(ids[1], B1, sizeof ids[1]);
	assert_int_equal(send_blobs(f->db, g, M1, "alice", &env, 1, ids, 2), DB_OK);
	assert_int_equal(send_blobs(f->db, g, M1, "alice", &env, 1, ids, 2), DB_OK);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM message_blobs"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM messages"), 1);

	/* Members of the chat read it; others do not. */
	assert_int_equal(db_blob_readable(f->db, B1, "bob", &size), DB_OK);
	assert_int_equal(size, 100);
	assert_int_equal(db_blob_readable(f->db, B1, "alice", &size), DB_OK);
	assert_int_equal(db_blob_readable(f->db, B1, "carol", &size), DB_NOT_FOUND);
}

/* Someone removed from a group cannot read its blobs any more. */
static void
test_blobs_removed_member(void **state)
{
	struct fixture *f = *state;
	const char *members[] = {"bob", "carol"}, *gone[] = {"carol"};
	struct db_change_result cr;
	uint8_t ct[16] = {0};
	struct db_envelope env[2];
	blob_id_t ids[1];
	int64_t size;
	char g[17];

	assert_int_equal(group(f->db, "alice", members, 2, 1000, &cr), DB_OK);
	memcpy(g, cr.chat_id, sizeof g);
	db_change_result_free(&cr);
	assert_int_equal(db_blob_create(f->db, B1, "alice", 1, 10, 1000), DB_OK);
	assert_int_equal(db_blob_complete(f->db, B1, 10, 1000), DB_OK);
	env[0] = env_to("bob", 1, ct, sizeof ct);
	env[1] = env_to("carol", 1, ct, sizeof ct);
	memcpy(ids[0], B1, sizeof ids[0]);
	assert_int_equal(send_blobs(f->db, g, M1, "alice", env, 2, ids, 1), DB_OK);
	assert_int_equal(db_blob_readable(f->db, B1, "carol", &size), DB_OK);
	assert_int_equal(change(f->db, g, "alice", 0, gone, 1, 3000, &cr), DB_OK);
	db_change_result_free(&cr);
	assert_int_equal(db_blob_readable(f->db, B1, "carol", &size), DB_NOT_FOUND);
	assert_int_equal(db_blob_readable(f->db, B1, "bob", &size), DB_OK);
}

/* Unreferred blobs go after the cutoff; referred ones when their last
 * message is purged, whatever their age. */
static void
test_blobs_purge(void **state)
{
	struct fixture *f = *state;
	char g[17];
	uint8_t ct[16] = {0};
	struct db_envelope env = env_to("bob", 1, ct, sizeof ct);
	struct db_purge_result pr;
	struct purged p = {0};
	blob_id_t ids[1];
	int64_t n;

	chat_of(f->db, "alice", "bob", g, 1);
	assert_int_equal(db_blob_create(f->db, B1, "alice", 1, 10, 1000), DB_OK);
	assert_int_equal(db_blob_create(f->db, B2, "alice", 1, 10, 9000), DB_OK);
	assert_int_equal(db_blob_create(f->db, B3, "alice", 1, 10, 9000), DB_OK);
	assert_int_equal(db_blob_complete(f->db, B3, 10, 9000), DB_OK);
	memcpy(ids[0], B3, sizeof ids[0]);
	assert_int_equal(send_blobs(f->db, g, M1, "alice", &env, 1, ids, 1), DB_OK);

	/* Cutoff 5000: B1 (made at 1000, pending) goes; B2 is young, B3 referred. */
	assert_int_equal(db_blob_purge(f->db, 5000, on_purged, &p, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.ids[0], B1);
	/* Past everyone's cutoff, B3 stays while its message does. */
	p.n = 0;
	assert_int_equal(db_blob_purge(f->db, 100000, on_purged, &p, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_string_equal(p.ids[0], B2);
	/* The message goes (acked, then purged): B3 goes with it, even though
	 * the blob cutoff is before its creation. */
	int64_t acked;
	const char(*mids)[PROTO_MESSAGE_ID_LEN + 1] = (const char(*)[PROTO_MESSAGE_ID_LEN + 1]) M1;
	assert_int_equal(db_ack(f->db, "bob", 1, mids, 1, &acked), DB_OK);
	assert_int_equal(acked, 1);
	assert_int_equal(db_purge(f->db, 100000, 0, &pr), DB_OK);
	assert_int_equal(pr.messages, 1);
	p.n = 0;
	assert_int_equal(db_blob_purge(f->db, 0, on_purged, &p, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_string_equal(p.ids[0], B3);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM blobs"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM message_blobs"), 0);
	assert_int_equal(db_blob_purge(f->db, 100000, on_purged, &p, &n), DB_OK);
	assert_int_equal(n, 0);
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

/* ---- version 8: updates kept as data ------------------------------------ */

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
	assert_non_null(strstr(before.text[2], "\"operation\":\"leave\",\"users\":[\"bob\"],"
						"\"participants\":[\"alice\"],\"admins\":[\"alice\"]}"));
	/* What version 7 held: the frames themselves. */
	db_close(f->db);
	f->db = NULL;
	for (i = 0; i < before.n; i++) {
		snprintf(sql, sizeof sql, "UPDATE messages SET body = '%s' WHERE message_id = '%s'",
			 before.text[i], before.id[i]);
		raw_sql(f, sql);
	}
	raw_sql(f, "PRAGMA user_version = 7");
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
		 "PRAGMA user_version = 7",
		 before.id[0]);
	raw_sql(f, sql);
	assert_null(db_open(f->path, err, sizeof err));
	assert_non_null(strstr(err, "version 8"));
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 7);
	/* Version 8 refuses to push a body it cannot read, rather than guess. */
	snprintf(sql, sizeof sql,
		 "UPDATE messages SET body = 'join' || char(10) || 'bob' || char(10) ||"
		 " 'bob' || char(10) || 'bob' WHERE message_id = '%s'; PRAGMA user_version = 8",
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_private_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refuses_newer_schema, setup, teardown),
		cmocka_unit_test(test_open_bad_path),
		cmocka_unit_test_setup_teardown(test_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_direct_chat_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chat_id_collision_draws_again, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_send_idempotent_and_duplicate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_send_device_mismatch, setup, teardown),
		cmocka_unit_test(test_diff_devices),
		cmocka_unit_test_setup_teardown(test_inbox_order_and_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbox_ids_not_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_create_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_change_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_admin_promotion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_shared_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_removed_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_devices_limit_and_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_device_deletes_inbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1_fails_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_retention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_keeps_tombstones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v2_fails_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receipts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blobs_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blobs_removed_member, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blobs_purge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v7, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
