/*
 * test_server_db_limits.c - the limits chat-server's store keeps
 * (server-stub/db_limits.c): adds of strangers to groups, per added user in a
 * day and per adder in an hour (db_add_limits), contacts added freely; and
 * the quota of what a device's inbox may hold (db_send's max_inbox_bytes).
 */
#include "server_fixture.h"

#define HOUR (60LL * 60 * 1000)
#define DAY  (24 * HOUR)

static const struct db_add_limits lim = {.per_target_day = 2, .per_adder_hour = 3};

/* A group of creator and member, under lim; res freed but for bad_user and
 * adder_limited. */
static enum db_status
group_of(struct db *db, const char *creator, const char *member, int64_t now,
	 struct db_change_result *res)
{
	name_t names[1];
	struct db_group_create req = {
		.creator = creator,
		.creator_device = 1,
		.name = "g",
		.members = (const name_t *)names,
		.n_members = 1,
		.now = now,
		.limits = lim,
	};
	enum db_status st;

	snprintf(names[0], sizeof names[0], "%s", member);
	st = db_create_group(db, &req, res);
	db_change_result_free(res);
	return st;
}

/* A user is added to at most 2 groups a day by strangers, and a user adds
 * at most 3 strangers an hour; a refusal names who, says which limit, and
 * stores nothing; the windows slide. */
static void
test_stranger_adds(void **state)
{
	struct fixture *f = *state;
	struct db_change_result *res = malloc(sizeof *res);
	const int64_t t = 10 * DAY;
	struct rows rows;

	assert_non_null(res);
	reg(f->db, "dave", NULL, 4, DB_OK, 1);
	assert_int_equal(group_of(f->db, "alice", "bob", t, res), DB_OK);
	assert_int_equal(group_of(f->db, "alice", "bob", t + 1, res), DB_OK);
	/* bob's day is full, whoever adds him. */
	assert_int_equal(group_of(f->db, "carol", "bob", t + 2, res), DB_TOO_MANY_ADDS);
	assert_string_equal(res->bad_user, "bob");
	assert_false(res->adder_limited);
	load_all(f->db, "bob", 1, &rows);
	assert_int_equal(rows.n, 2);
	load_all(f->db, "carol", 1, &rows);
	assert_int_equal(rows.n, 0);
	/* alice's third stranger this hour is fine, her fourth is not. */
	assert_int_equal(group_of(f->db, "alice", "carol", t + 3, res), DB_OK);
	assert_int_equal(group_of(f->db, "alice", "dave", t + 4, res), DB_TOO_MANY_ADDS);
	assert_string_equal(res->bad_user, "dave");
	assert_true(res->adder_limited);
	/* An hour on, alice may again; a day on, bob may be added again. */
	assert_int_equal(group_of(f->db, "alice", "dave", t + HOUR + 4, res), DB_OK);
	assert_int_equal(group_of(f->db, "carol", "bob", t + DAY + 2, res), DB_OK);
	free(res);
}

/* Someone who took part in a chat with the adder is no stranger: added
 * freely, whatever the counts.  An ADD counts as a creation does. */
static void
test_contacts_added_freely(void **state)
{
	struct fixture *f = *state;
	struct db_change_result *res = malloc(sizeof *res);
	const int64_t t = 10 * DAY;
	char chat[PROTO_CHAT_ID_LEN + 1], g[PROTO_CHAT_ID_LEN + 1];
	name_t names[1] = {"bob"};
	struct db_group_change add = {
		.chat_id = g,
		.actor = "carol",
		.actor_device = 1,
		.add = 1,
		.users = (const name_t *)names,
		.n_users = 1,
		.now = t + 4,
		.limits = lim,
	};
	int created;

	assert_non_null(res);
	/* bob's day full; carol's group of alice, which bob is not in. */
	assert_int_equal(group_of(f->db, "alice", "bob", t, res), DB_OK);
	assert_int_equal(group_of(f->db, "alice", "bob", t + 1, res), DB_OK);
	assert_int_equal(group_of(f->db, "carol", "alice", t + 2, res), DB_OK);
	memcpy(g, res->chat_id, sizeof g);
	assert_int_equal(db_change_group(f->db, &add, res), DB_TOO_MANY_ADDS);
	assert_string_equal(res->bad_user, "bob");
	db_change_result_free(res);
	/* bob asks for a chat with carol: he has taken part in one with her,
	 * and she adds him freely. */
	assert_int_equal(db_direct_chat(f->db, "bob", "carol", t + 5, chat, &created, NULL), DB_OK);
	add.now = t + 6;
	assert_int_equal(db_change_group(f->db, &add, res), DB_OK);
	assert_int_equal(res->op, DB_OP_ADD);
	db_change_result_free(res);
	free(res);
}

/* A recipient device's inbox holds at most max_inbox_bytes, each row
 * counting its ciphertext and DB_INBOX_ROW_BYTES: a send that would pass it
 * is refused whole, naming the device; an ack makes room; an update's rows
 * count for nothing; 0 is no limit. */
static void
test_inbox_quota(void **state)
{
	struct fixture *f = *state;
	char ab[PROTO_CHAT_ID_LEN + 1], ack[1][PROTO_MESSAGE_ID_LEN + 1];
	uint8_t ct[16] = {0};
	struct db_envelope e = env_to("bob", 1, ct, sizeof ct);
	struct db_send req = {
		.message_id = M1,
		.sender_user = "alice",
		.sender_device = 1,
		.envelopes = &e,
		.n_envelopes = 1,
		.now = 5000,
		.max_inbox_bytes = 2 * (16 + DB_INBOX_ROW_BYTES) + 50,
	};
	struct db_change_result *cr = malloc(sizeof *cr);
	struct db_send_result res;
	const char *bc[] = {"bob", "carol"};
	int64_t acked;

	assert_non_null(cr);
	chat_of(f->db, "alice", "bob", ab, 1);
	req.chat_id = ab;
	assert_int_equal(db_send(f->db, &req, &res), DB_OK);
	db_send_result_free(&res);
	req.message_id = M2;
	assert_int_equal(db_send(f->db, &req, &res), DB_OK);
	db_send_result_free(&res);
	assert_int_equal(raw_int(f->path, "SELECT inbox_bytes FROM devices"
					  " WHERE user = 'bob' AND device_id = 1"),
			 2 * (16 + DB_INBOX_ROW_BYTES));
	/* A group's update reaches bob too, and costs nothing. */
	assert_int_equal(group(f->db, "alice", bc, 2, 5000, cr), DB_OK);
	db_change_result_free(cr);
	assert_int_equal(raw_int(f->path, "SELECT inbox_bytes FROM devices"
					  " WHERE user = 'bob' AND device_id = 1"),
			 2 * (16 + DB_INBOX_ROW_BYTES));

	req.message_id = M3;
	assert_int_equal(db_send(f->db, &req, &res), DB_INBOX_FULL);
	assert_string_equal(res.full.user, "bob");
	assert_int_equal(res.full.device_id, 1);
	assert_int_equal(res.seq, 0);
	db_send_result_free(&res);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM messages WHERE kind = 'message'"),
			 2);
	/* No limit at all. */
	req.max_inbox_bytes = 0;
	req.message_id = M4;
	assert_int_equal(db_send(f->db, &req, &res), DB_OK);
	db_send_result_free(&res);
	/* bob acks two: room for one more under the quota. */
	req.max_inbox_bytes = 2 * (16 + DB_INBOX_ROW_BYTES) + 50;
	snprintf(ack[0], sizeof ack[0], "%s", M1);
	assert_int_equal(db_ack(f->db, "bob", 1, ack, 1, &acked), DB_OK);
	snprintf(ack[0], sizeof ack[0], "%s", M2);
	assert_int_equal(db_ack(f->db, "bob", 1, ack, 1, &acked), DB_OK);
	req.message_id = M3; /* refused before: nothing of it was kept */
	assert_int_equal(db_send(f->db, &req, &res), DB_OK);
	assert_false(res.replayed);
	db_send_result_free(&res);
	free(cr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stranger_adds, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_contacts_added_freely, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_inbox_quota, setup_store, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
