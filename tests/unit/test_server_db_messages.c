/*
 * test_server_db_messages.c - chat-server's store: messages and the inbox
 * (server-stub/db_messages.c): a send stored once whatever the retries, the
 * device check, the inbox in order past a cursor, acks, and a failed send
 * leaving nothing; and in a batch (group commit), a refused send undoing
 * only itself, nothing visible before the COMMIT, nothing kept if it fails.
 */
#include "server_fixture.h"

#include "db_sql.h" /* the batch's own connection, to make its COMMIT fail */

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

/* Group commit: in one batch, a send that fails half-way (its inbox row
 * refused after its message row and seq were written) undoes only itself;
 * the others are stored, in order, and nothing is visible to anyone else
 * before the COMMIT (which is why the network layer holds the replies). */
static void
test_batch_refused_undoes_only_itself(void **state)
{
	struct fixture *f = *state;
	char ab[17];
	uint8_t ct[40] = {1};
	struct db_envelope e = env_to("bob", 1, ct, sizeof ct);
	struct db_send_result res;
	struct seen s;
	size_t n;

	chat_of(f->db, "alice", "bob", ab, 1);
	raw_sql(f, "CREATE TRIGGER no_m2 BEFORE INSERT ON inbox WHEN new.message_id = '"
		   "1123456789abcdef0123456789abcdef'"
		   " BEGIN SELECT RAISE(ABORT, 'disk on fire'); END");
	assert_int_equal(db_batch_open(f->db), 0);
	assert_true(db_batch_is_open(f->db));
	assert_int_equal(send_msg(f->db, ab, M1, "alice", 1, &e, 1, 1, &res), DB_OK);
	assert_int_equal(res.seq, 1);
	db_send_result_free(&res);
	assert_int_equal(send_msg(f->db, ab, M2, "alice", 1, &e, 1, 2, &res), DB_INTERNAL);
	db_send_result_free(&res);
	ct[0] = 2; /* collect() wants the seq there */
	assert_int_equal(send_msg(f->db, ab, M3, "alice", 1, &e, 1, 3, &res), DB_OK);
	assert_int_equal(res.seq, 2); /* M2's seq was given back */
	db_send_result_free(&res);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM messages"), 0);
	assert_int_equal(db_batch_commit(f->db), 0);
	assert_false(db_batch_is_open(f->db));

	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM messages"), 2);
	memset(&s, 0, sizeof s);
	assert_int_equal(db_inbox_load(f->db, "bob", 1, 0, 64, collect, &s, &n), DB_OK);
	assert_int_equal(n, 2);
	assert_string_equal(s.mids[0], M1);
	assert_string_equal(s.mids[1], M3);
}

/* A COMMIT that fails loses the whole batch (the network layer then closes
 * the connections that wait on it, and their clients send again), and the
 * store goes on afterwards: the same send is new again. */
static void
test_batch_commit_fails(void **state)
{
	struct fixture *f = *state;
	char ab[17];
	uint8_t ct[40] = {1};
	struct db_envelope e = env_to("bob", 1, ct, sizeof ct);
	struct db_send_result res;

	chat_of(f->db, "alice", "bob", ab, 1);
	assert_int_equal(db_batch_open(f->db), 0);
	assert_int_equal(send_msg(f->db, ab, M1, "alice", 1, &e, 1, 1, &res), DB_OK);
	db_send_result_free(&res);
	/* A foreign key checked at the COMMIT only: it fails there. */
	assert_int_equal(sqlite3_exec(f->db->db, "PRAGMA defer_foreign_keys=ON", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_exec(f->db->db,
				      "INSERT INTO inbox (user, device_id, message_id, created_at)"
				      " VALUES ('bob', 1, 'no such message', 1)",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(db_batch_commit(f->db), -1);
	assert_false(db_batch_is_open(f->db));
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM messages"), 0);

	assert_int_equal(send_msg(f->db, ab, M1, "alice", 1, &e, 1, 5, &res), DB_OK);
	assert_false(res.replayed);
	assert_int_equal(res.seq, 1);
	db_send_result_free(&res);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM messages"), 1);
}

/* The sender's keys a push from memory carries (db_sender_keys, cached) are
 * those a load of the row carries: for a first device (no approval), for a
 * linked one (approver and approval), and for a removed one (from the
 * retired copy), read from the store and from the cache alike. */
struct keys_row {
	struct db_keys k;
	int n;
};

static int
keys_of_row(void *udata, const struct db_inbox_row *row)
{
	struct keys_row *r = udata;

	memcpy(r->k.identity_key, row->sender_identity_key, PROTO_KEY_BYTES);
	memcpy(r->k.exchange_key, row->sender_exchange_key, PROTO_KEY_BYTES);
	memcpy(r->k.exchange_key_sig, row->sender_exchange_key_sig, PROTO_SIG_BYTES);
	r->k.has_approval = row->sender_approver_key != NULL;
	if (r->k.has_approval) {
		memcpy(r->k.approver_key, row->sender_approver_key, PROTO_KEY_BYTES);
		memcpy(r->k.approval, row->sender_approval, PROTO_SIG_BYTES);
	}
	r->n++;
	return 0;
}

static void
expect_keys(struct db *db, const char *user, uint32_t dev, const struct db_keys *want)
{
	struct db_keys k;

	memset(&k, 0, sizeof k);
	assert_int_equal(db_sender_keys(db, user, dev, &k), DB_OK);
	assert_int_equal(k.has_approval, want->has_approval);
	assert_memory_equal(k.identity_key, want->identity_key, PROTO_KEY_BYTES);
	assert_memory_equal(k.exchange_key, want->exchange_key, PROTO_KEY_BYTES);
	assert_memory_equal(k.exchange_key_sig, want->exchange_key_sig, PROTO_SIG_BYTES);
	if (want->has_approval) {
		assert_memory_equal(k.approver_key, want->approver_key, PROTO_KEY_BYTES);
		assert_memory_equal(k.approval, want->approval, PROTO_SIG_BYTES);
	}
}

static void
test_sender_keys_as_loaded(void **state)
{
	struct fixture *f = *state;
	char ab[17];
	uint8_t ct[40] = {1};
	struct db_envelope e[2] = {env_to("bob", 1, ct, sizeof ct),
				   env_to("alice", 1, ct, sizeof ct)};
	struct db_send_result res;
	struct keys_row first = {0}, linked = {0};
	struct db_keys k;
	uint32_t dev2 = 0;
	int64_t bob_first;
	size_t n;

	chat_of(f->db, "alice", "bob", ab, 1);
	assert_int_equal(link_dev(f->db, "alice", 9, &dev2), DB_OK);
	e[1] = env_to("alice", dev2, ct, sizeof ct);
	assert_int_equal(send_msg(f->db, ab, M1, "alice", 1, e, 2, 1, &res), DB_OK);
	/* Each envelope's inbox id is its row's own, and the rows are
	 * written in the devices' order (alice's before bob's), not the
	 * envelopes', so that two sends lock device rows in one order. */
	assert_non_null(res.inbox_ids);
	assert_true(res.inbox_ids[1] > 0 && res.inbox_ids[0] > res.inbox_ids[1]);
	bob_first = res.inbox_ids[0];
	db_send_result_free(&res);
	e[1] = env_to("alice", 1, ct, sizeof ct);
	ct[0] = 2;
	assert_int_equal(send_msg(f->db, ab, M2, "alice", dev2, e, 2, 2, &res), DB_OK);
	db_send_result_free(&res);
	assert_int_equal(db_inbox_load(f->db, "bob", 1, 0, 1, keys_of_row, &first, &n), DB_OK);
	assert_int_equal(db_inbox_load(f->db, "bob", 1, bob_first, 64, keys_of_row, &linked, &n),
			 DB_OK);
	assert_int_equal(linked.n, 1);
	assert_int_equal(first.n, 1);
	assert_false(first.k.has_approval);
	assert_true(linked.k.has_approval);
	expect_keys(f->db, "alice", 1, &first.k);     /* read */
	expect_keys(f->db, "alice", 1, &first.k);     /* cached */
	expect_keys(f->db, "alice", dev2, &linked.k); /* read */
	db_keys_forget(f->db);
	assert_int_equal(db_remove_device(f->db, "alice", dev2, 3), DB_OK);
	expect_keys(f->db, "alice", dev2, &linked.k); /* the retired copy */
	assert_int_equal(db_sender_keys(f->db, "alice", 77, &k), DB_NOT_FOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_send_idempotent_and_duplicate, setup_store,
						teardown),
		cmocka_unit_test_setup_teardown(test_send_device_mismatch, setup_store, teardown),
		cmocka_unit_test(test_diff_devices),
		cmocka_unit_test_setup_teardown(test_inbox_order_and_ack, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_inbox_ids_not_reused, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_send_rolls_back, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_batch_refused_undoes_only_itself, setup_store,
						teardown),
		cmocka_unit_test_setup_teardown(test_batch_commit_fails, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_sender_keys_as_loaded, setup_store, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
