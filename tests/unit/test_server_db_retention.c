/*
 * test_server_db_retention.c - chat-server's store: the retention purge
 * (server-stub/db_retention.c), the missed counters, and the tombstones that
 * keep a late resend from being stored twice; the expiry of disappearing
 * messages' inbox rows (db_expire).
 */
#include "server_fixture.h"

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

/*
 * Disappearing messages (PROTOCOL.md, "Disappearing messages"): a message
 * sent with a ttl has its inbox rows deleted by db_expire once sentAt + ttl
 * is reached, acked or not, not before, and not counted as missed; a message
 * without one (sent before the timer was set) stays whatever the time; the
 * messages row stays, so that a resend is still answered as the first send.
 */
static void
test_expire_by_ttl(void **state)
{
	struct fixture *f = *state;
	struct db_send_result res;
	char ab[17];
	uint8_t ct[40] = {0};
	struct db_envelope e[2] = {env_to("bob", 1, ct, sizeof ct), env_to("bob", 2, ct, sizeof ct)};
	struct db_send req = {
		.message_id = M1,
		.sender_user = "alice",
		.sender_device = 1,
		.envelopes = e,
		.n_envelopes = 2,
		.now = 1000,
		.ttl_ms = 30000,
	};
	struct rows rows;
	int64_t n;

	chat_of(f->db, "alice", "bob", ab, 1);
	add_device(f, "bob", 2);
	send_to(f->db, ab, M2, "bob", 1, 900); /* before the timer: no ttl */
	req.chat_id = ab;
	assert_int_equal(db_send(f->db, &req, &res), DB_OK);
	db_send_result_free(&res);
	assert_int_equal(raw_int(f->path, "SELECT expires_at FROM messages WHERE message_id = "
					  "'0123456789abcdef0123456789abcdef'"),
			 31000);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox"), 4);

	/* Not yet. */
	assert_int_equal(db_expire(f->db, 30999, &n), DB_OK);
	assert_int_equal(n, 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox"), 4);
	/* At its expiry: both of bob's rows of M1 go, M2's stay. */
	assert_int_equal(db_expire(f->db, 31000, &n), DB_OK);
	assert_int_equal(n, 2);
	load_all(f->db, "bob", 1, &rows);
	assert_int_equal(rows.n, 1);
	assert_string_equal(rows.mid[0], M2);
	load_all(f->db, "bob", 2, &rows);
	assert_int_equal(rows.n, 1);
	assert_string_equal(rows.mid[0], M2);
	expect_missed(f->db, "bob", 1, 0, 0);
	/* Much later, the message without a ttl is still there. */
	assert_int_equal(db_expire(f->db, 1000000000, &n), DB_OK);
	assert_int_equal(n, 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox"), 2);
	/* The resend of M1 is the first send's answer, stored nowhere. */
	req.now = 40000;
	assert_int_equal(db_send(f->db, &req, &res), DB_OK);
	assert_true(res.replayed);
	assert_int_equal(res.sent_at, 1000);
	db_send_result_free(&res);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox"), 2);
	/* Only the message sent with a ttl has an expiry. */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM messages WHERE expires_at IS "
					  "NOT NULL"),
			 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_purge_retention, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_purge_keeps_tombstones, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_expire_by_ttl, setup_store, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
