/*
 * test_server_db_accounts.c - chat-server's store: users and devices
 * (server-stub/db_accounts.c): registration and its retry, linked devices and
 * their ids, removal.
 */
#include "server_fixture.h"

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

/*
 * db_is_contact: subject is a contact of viewer when it is viewer, or when
 * both are in a chat in which subject has taken part: made it, added
 * members to it, or sent a message into it. A receipt, sent by itself, is
 * no taking part; being added is not either.
 */
static void
test_contacts(void **state)
{
	struct fixture *f = *state;
	struct db_change_result *cr = malloc(sizeof *cr);
	char ab[PROTO_CHAT_ID_LEN + 1], g[PROTO_CHAT_ID_LEN + 1];
	uint8_t ct[16] = {0};
	struct db_envelope e = env_to("alice", 1, ct, sizeof ct);
	struct db_send rq = {.message_id = R1,
			     .sender_user = "bob",
			     .sender_device = 1,
			     .envelopes = &e,
			     .n_envelopes = 1,
			     .now = 3000,
			     .receipt = 1};
	struct db_send_result res;
	const char *dave = "dave";

	assert_non_null(cr);
	reg(f->db, "dave", NULL, 4, DB_OK, 1);
	assert_int_equal(db_is_contact(f->db, "alice", "alice"), DB_OK);
	assert_int_equal(db_is_contact(f->db, "alice", "bob"), DB_NOT_FOUND);
	assert_int_equal(db_is_contact(f->db, "bob", "alice"), DB_NOT_FOUND);
	/* alice asks for the chat: she takes part, bob does not. */
	chat_of(f->db, "alice", "bob", ab, 1);
	assert_int_equal(db_is_contact(f->db, "bob", "alice"), DB_OK);
	assert_int_equal(db_is_contact(f->db, "alice", "bob"), DB_NOT_FOUND);
	/* bob's receipt is no taking part; his message is. */
	rq.chat_id = ab;
	assert_int_equal(db_send(f->db, &rq, &res), DB_OK);
	db_send_result_free(&res);
	assert_int_equal(db_is_contact(f->db, "alice", "bob"), DB_NOT_FOUND);
	assert_int_equal(send_msg(f->db, ab, M1, "bob", 1, &e, 1, 4000, &res), DB_OK);
	db_send_result_free(&res);
	assert_int_equal(db_is_contact(f->db, "alice", "bob"), DB_OK);
	/* carol makes a group of alice: she takes part, alice does not; dave,
	 * added later by carol, neither. */
	assert_int_equal(group(f->db, "carol", (const char *const[]){"alice"}, 1, 5000, cr), DB_OK);
	memcpy(g, cr->chat_id, sizeof g);
	db_change_result_free(cr);
	assert_int_equal(change(f->db, g, "carol", 1, &dave, 1, 6000, cr), DB_OK);
	db_change_result_free(cr);
	assert_int_equal(db_is_contact(f->db, "alice", "carol"), DB_OK);
	assert_int_equal(db_is_contact(f->db, "dave", "carol"), DB_OK);
	assert_int_equal(db_is_contact(f->db, "carol", "alice"), DB_NOT_FOUND);
	assert_int_equal(db_is_contact(f->db, "alice", "dave"), DB_NOT_FOUND);
	free(cr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_devices_limit_and_ids, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_remove_device_deletes_inbox, setup_store,
						teardown),
		cmocka_unit_test_setup_teardown(test_contacts, setup_store, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
