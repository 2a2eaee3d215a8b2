/*
 * test_server_db_receipts.c - chat-server's store: receipts (db_send with its
 * receipt flag, server-stub/db_messages.c).
 */
#include "server_fixture.h"

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
	struct db_send rq = {g, R1, "bob", 1, env, 1, 2000, 1, NULL, 0, 0, 0};
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
	/* cppcheck-suppress redundantAssignment ; rq (sent above) points to env */
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
	/* cppcheck-suppress [redundantAssignment, unreadVariable] ; rq points to env */
	env[0] = env_to("alice", 1, ct, sizeof ct);
	assert_int_equal(db_send(f->db, &rq, &res), DB_NOT_FOUND);
	db_send_result_free(&res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_receipts, setup_store, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
