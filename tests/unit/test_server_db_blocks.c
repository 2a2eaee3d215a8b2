/*
 * test_server_db_blocks.c - chat-server's store: block lists
 * (server-stub/db_blocks.c) and what they stop in db_send and group changes.
 */
#include "server_fixture.h"

static void
expect_list(struct db *db, const char *user, const char *want)
{
	char names[4][PROTO_USER_MAX + 1], got[256] = "";
	size_t n;

	assert_int_equal(db_blocked_list(db, user, names, 4, &n), DB_OK);
	join_names(got, sizeof got, (const char(*)[PROTO_USER_MAX + 1]) names, n);
	assert_string_equal(got, want);
}

/* Block and unblock: idempotent, by name, per user; unknown users refused. */
static void
test_block_list(void **state)
{
	struct fixture *f = *state;
	int changed;

	expect_list(f->db, "bob", "");
	assert_int_equal(db_block(f->db, "bob", "carol", 1, &changed), DB_OK);
	assert_int_equal(changed, 1);
	assert_int_equal(db_block(f->db, "bob", "alice", 2, &changed), DB_OK);
	assert_int_equal(db_block(f->db, "bob", "alice", 3, &changed), DB_OK);
	assert_int_equal(changed, 0);
	expect_list(f->db, "bob", "alice,carol");
	expect_list(f->db, "alice", "");
	assert_int_equal(db_is_blocked(f->db, "bob", "alice"), DB_OK);
	assert_int_equal(db_is_blocked(f->db, "alice", "bob"), DB_NOT_FOUND);
	assert_int_equal(db_block(f->db, "bob", "nobody", 4, &changed), DB_NOT_FOUND);
	assert_int_equal(db_unblock(f->db, "bob", "nobody", &changed), DB_NOT_FOUND);
	assert_int_equal(db_unblock(f->db, "bob", "alice", &changed), DB_OK);
	assert_int_equal(changed, 1);
	assert_int_equal(db_unblock(f->db, "bob", "alice", &changed), DB_OK);
	assert_int_equal(changed, 0);
	expect_list(f->db, "bob", "carol");
	assert_int_equal(db_is_blocked(f->db, "bob", "alice"), DB_NOT_FOUND);
}

/* At most DB_MAX_BLOCKED: one more is DB_TOO_MANY, a repeat is still fine. */
static void
test_block_limit(void **state)
{
	struct fixture *f = *state;
	char sql[512];
	int changed;

	snprintf(
		sql, sizeof sql,
		"PRAGMA foreign_keys=OFF;"
		"WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < %d)"
		" INSERT INTO blocks (user, blocked, created_at) SELECT 'bob', 'u' || i, 1 FROM k;",
		DB_MAX_BLOCKED - 1);
	raw_sql(f, sql);
	assert_int_equal(db_block(f->db, "bob", "alice", 1, &changed), DB_OK);
	assert_int_equal(db_block(f->db, "bob", "carol", 1, &changed), DB_TOO_MANY);
	assert_int_equal(changed, 0);
	assert_int_equal(db_block(f->db, "bob", "alice", 1, &changed), DB_OK);
	assert_int_equal(db_is_blocked(f->db, "bob", "carol"), DB_NOT_FOUND);
	/* Another user's list is not counted. */
	assert_int_equal(db_block(f->db, "carol", "bob", 1, &changed), DB_OK);
}

/* db_send: envelopes to a user who blocked the sender get no row (inbox id
 * 0), messages and receipts alike; the send is taken as any other. */
static void
test_send_dropped(void **state)
{
	struct fixture *f = *state;
	static const char *const members[] = {"bob", "carol"};
	uint8_t ct[40] = {0};
	struct db_change_result *cr = calloc(1, sizeof *cr);
	struct db_send_result res;
	struct db_envelope env[3];
	struct db_send req;
	int changed;

	assert_non_null(cr);
	add_device(f, "bob", 2);
	assert_int_equal(group(f->db, "alice", members, 2, 1000, cr), DB_OK);
	assert_int_equal(db_block(f->db, "bob", "alice", 1, &changed), DB_OK);
	env[0] = env_to("bob", 1, ct, sizeof ct);
	env[1] = env_to("bob", 2, ct, sizeof ct);
	env[2] = env_to("carol", 1, ct, sizeof ct);
	assert_int_equal(send_msg(f->db, cr->chat_id, M1, "alice", 1, env, 3, 2000, &res), DB_OK);
	assert_true(res.seq > 0);
	assert_int_equal(res.inbox_ids[0], 0);
	assert_int_equal(res.inbox_ids[1], 0);
	assert_true(res.inbox_ids[2] > 0);
	db_send_result_free(&res);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox i JOIN messages m"
					  " USING (message_id) WHERE i.user = 'bob'"
					  " AND m.sender_user = 'alice' AND m.kind != 'update'"),
			 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox i JOIN messages m"
					  " USING (message_id) WHERE i.user = 'carol'"
					  " AND m.kind != 'update'"),
			 1);
	/* Still a device_mismatch without bob's: the sender addresses everyone. */
	assert_int_equal(send_msg(f->db, cr->chat_id, M2, "alice", 1, env + 2, 1, 2000, &res),
			 DB_MISMATCH);
	db_send_result_free(&res);
	/* A receipt of alice's to bob: dropped too. */
	req = (struct db_send){.chat_id = cr->chat_id,
			       .message_id = R1,
			       .sender_user = "alice",
			       .sender_device = 1,
			       .envelopes = env,
			       .n_envelopes = 1,
			       .now = 3000,
			       .receipt = 1};
	assert_int_equal(db_send(f->db, &req, &res), DB_OK);
	assert_int_equal(res.inbox_ids[0], 0);
	db_send_result_free(&res);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox i JOIN messages m"
					  " USING (message_id) WHERE i.user = 'bob'"
					  " AND m.sender_user = 'alice' AND m.kind != 'update'"),
			 0);
	/* bob's to alice go through (alice did not block him), and once he
	 * unblocks her, hers do again. */
	assert_int_equal(send_msg(f->db, cr->chat_id, M3, "bob", 2,
				  (struct db_envelope[]){env_to("alice", 1, ct, sizeof ct),
							 env_to("bob", 1, ct, sizeof ct),
							 env_to("carol", 1, ct, sizeof ct)},
				  3, 4000, &res),
			 DB_OK);
	assert_true(res.inbox_ids[0] > 0 && res.inbox_ids[1] > 0);
	db_send_result_free(&res);
	assert_int_equal(db_unblock(f->db, "bob", "alice", &changed), DB_OK);
	env[0] = env_to("bob", 1, ct, sizeof ct);
	assert_int_equal(send_msg(f->db, cr->chat_id, M4, "alice", 1, env, 3, 5000, &res), DB_OK);
	assert_true(res.inbox_ids[0] > 0 && res.inbox_ids[1] > 0);
	db_send_result_free(&res);
	db_change_result_free(cr);
	free(cr);
}

/* A blocker's full inbox does not refuse the blocked sender's send: it
 * would tell them of the block. */
static void
test_dropped_no_quota(void **state)
{
	struct fixture *f = *state;
	uint8_t ct[40] = {0};
	char chat[PROTO_CHAT_ID_LEN + 1];
	struct db_envelope e = env_to("bob", 1, ct, sizeof ct);
	struct db_send_result res;
	struct db_send req;
	int changed;

	chat_of(f->db, "alice", "bob", chat, 1);
	assert_int_equal(db_block(f->db, "bob", "alice", 1, &changed), DB_OK);
	req = (struct db_send){.chat_id = chat,
			       .message_id = M1,
			       .sender_user = "alice",
			       .sender_device = 1,
			       .envelopes = &e,
			       .n_envelopes = 1,
			       .now = 3000,
			       .max_inbox_bytes = 10};
	assert_int_equal(db_send(f->db, &req, &res), DB_OK);
	db_send_result_free(&res);
}

/* Groups: a member who blocked the creator or adder refuses the whole
 * change (DB_BLOCKED naming them); others may add them. */
static void
test_group_adds(void **state)
{
	struct fixture *f = *state;
	static const char *const both[] = {"carol", "bob"}, *const carol[] = {"carol"},
				 *const bob[] = {"bob"};
	struct db_change_result *cr = calloc(1, sizeof *cr);
	char g[PROTO_CHAT_ID_LEN + 1];
	int changed;

	assert_non_null(cr);
	assert_int_equal(db_block(f->db, "bob", "alice", 1, &changed), DB_OK);
	assert_int_equal(group(f->db, "alice", both, 2, 1000, cr), DB_BLOCKED);
	assert_string_equal(cr->bad_user, "bob");
	db_change_result_free(cr);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM chats"), 0);
	assert_int_equal(group(f->db, "alice", carol, 1, 1000, cr), DB_OK);
	snprintf(g, sizeof g, "%s", cr->chat_id);
	db_change_result_free(cr);
	assert_int_equal(change(f->db, g, "alice", 1, bob, 1, 2000, cr), DB_BLOCKED);
	assert_string_equal(cr->bad_user, "bob");
	db_change_result_free(cr);
	/* carol is not blocked: she may add bob (once an admin). */
	assert_int_equal(change_admins(f->db, g, "alice", 1, carol, 1, 2000, cr), DB_OK);
	db_change_result_free(cr);
	assert_int_equal(change(f->db, g, "carol", 1, bob, 1, 3000, cr), DB_OK);
	db_change_result_free(cr);
	free(cr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_block_list, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_block_limit, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_send_dropped, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_dropped_no_quota, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_group_adds, setup_store, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
