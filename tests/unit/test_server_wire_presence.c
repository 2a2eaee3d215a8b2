/*
 * test_server_wire_presence.c - chat-server's getLastSeen and setPrivacy
 * (server-stub/wire_presence.c).
 */
#include "server_fixture.h"

static int64_t
last_seen_of(const cJSON *r, int i)
{
	const cJSON *u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "users"), i);

	return (int64_t)num(u, "lastSeen");
}

static void
test_last_seen(void **state)
{
	struct fixture *f = *state;
	struct session a, b, b2, anon;
	struct e2e_identity ia, ib;
	cJSON *r;
	int64_t before;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	quick_user(f, "carol");

	/* Strangers to alice: nothing shown (issue 10, item 14). */
	r = call(f, &a, "{\"id\":1,\"type\":\"getLastSeen\",\"users\":[\"bob\",\"carol\"]}");
	expect_ok(r, 1);
	expect_seen(r, 0, "bob", -1, -1);
	expect_seen(r, 1, "carol", -1, -1);
	cJSON_Delete(r);
	/* Each takes part in a chat with her: contacts. */
	{
		char id[PROTO_CHAT_ID_LEN + 1];
		int created;

		assert_int_equal(db_direct_chat(f->db, "bob", "alice", 1, id, &created, NULL),
				 DB_OK);
		assert_int_equal(db_direct_chat(f->db, "carol", "alice", 1, id, &created, NULL),
				 DB_OK);
		assert_int_equal(db_direct_chat(f->db, "carol", "bob", 1, id, &created, NULL),
				 DB_OK);
	}

	/* Request order, repeats answered; carol has no connection. */
	r = call(f, &a,
		 "{\"id\":2,\"type\":\"getLastSeen\","
		 "\"users\":[\"bob\",\"carol\",\"alice\",\"bob\"]}");
	expect_ok(r, 2);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "users")), 4);
	expect_seen(r, 0, "bob", 1, 0);
	expect_seen(r, 1, "carol", 0, 1);
	expect_seen(r, 2, "alice", 1, 0);
	expect_seen(r, 3, "bob", 1, 0);
	cJSON_Delete(r);

	/* Errors. */
	expect_error(call(f, &a,
			  "{\"id\":3,\"type\":\"getLastSeen\","
			  "\"users\":[\"bob\",\"nobody\"]}"),
		     "unknown_user", 3);
	expect_error(call(f, &a, "{\"id\":4,\"type\":\"getLastSeen\",\"users\":[]}"), "bad_request",
		     4);
	expect_error(call(f, &a, "{\"id\":5,\"type\":\"getLastSeen\"}"), "bad_request", 5);
	expect_error(call(f, &a, "{\"id\":6,\"type\":\"getLastSeen\",\"users\":[7]}"),
		     "bad_request", 6);
	expect_error(call(f, &a, "{\"id\":7,\"type\":\"setPrivacy\",\"hideLastSeen\":1}"),
		     "bad_request", 7);
	expect_error(call(f, &a, "{\"id\":8,\"type\":\"setPrivacy\"}"), "bad_request", 8);
	open_session(f, &anon, 9);
	expect_error(call(f, &anon, "{\"id\":1,\"type\":\"getLastSeen\",\"users\":[\"bob\"]}"),
		     "unauthenticated", 1);
	expect_error(call(f, &anon, "{\"id\":2,\"type\":\"setPrivacy\",\"hideLastSeen\":true}"),
		     "unauthenticated", 2);

	/* Auth updates last seen; a closed connection is offline. */
	b.authed = 0;
	before = proto_now_ms();
	open_session(f, &b2, 3);
	r = do_auth(f, &b2, 1, "bob", 1, &ib);
	expect_ok(r, 1);
	cJSON_Delete(r);
	r = call(f, &a, "{\"id\":9,\"type\":\"getLastSeen\",\"users\":[\"bob\"]}");
	expect_ok(r, 9);
	expect_seen(r, 0, "bob", 1, 0);
	assert_true(last_seen_of(r, 0) >= before);
	cJSON_Delete(r);
	b2.authed = 0;
	assert_int_equal(db_touch_device(f->db, "bob", 1, 1795000000000), DB_OK);
	r = call(f, &a, "{\"id\":10,\"type\":\"getLastSeen\",\"users\":[\"bob\"]}");
	expect_ok(r, 10);
	expect_seen(r, 0, "bob", 0, 1795000000000);
	cJSON_Delete(r);
	open_session(f, &b, 4);
	r = do_auth(f, &b, 1, "bob", 1, &ib);
	expect_ok(r, 1);
	cJSON_Delete(r);

	/* bob hides: nobody else sees his, he sees nobody else's, but his own. */
	r = call(f, &b, "{\"id\":2,\"type\":\"setPrivacy\",\"hideLastSeen\":true}");
	expect_ok(r, 2);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "hideLastSeen")));
	cJSON_Delete(r);
	r = call(f, &a, "{\"id\":11,\"type\":\"getLastSeen\",\"users\":[\"bob\",\"carol\"]}");
	expect_ok(r, 11);
	expect_seen(r, 0, "bob", -1, -1);
	expect_seen(r, 1, "carol", 0, 1);
	cJSON_Delete(r);
	r = call(f, &b, "{\"id\":3,\"type\":\"getLastSeen\",\"users\":[\"alice\",\"bob\"]}");
	expect_ok(r, 3);
	expect_seen(r, 0, "alice", -1, -1);
	expect_seen(r, 1, "bob", 1, 0);
	cJSON_Delete(r);

	/* bob shows it again, alice hides: the same the other way round. */
	r = call(f, &b, "{\"id\":4,\"type\":\"setPrivacy\",\"hideLastSeen\":false}");
	expect_ok(r, 4);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "hideLastSeen")));
	cJSON_Delete(r);
	r = call(f, &a, "{\"id\":12,\"type\":\"setPrivacy\",\"hideLastSeen\":true}");
	expect_ok(r, 12);
	cJSON_Delete(r);
	r = call(f, &b, "{\"id\":5,\"type\":\"getLastSeen\",\"users\":[\"alice\",\"carol\"]}");
	expect_ok(r, 5);
	expect_seen(r, 0, "alice", -1, -1);
	expect_seen(r, 1, "carol", 0, 1);
	cJSON_Delete(r);
	r = call(f, &a, "{\"id\":13,\"type\":\"getLastSeen\",\"users\":[\"bob\",\"alice\"]}");
	expect_ok(r, 13);
	expect_seen(r, 0, "bob", -1, -1);
	expect_seen(r, 1, "alice", 1, 0);
	cJSON_Delete(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_last_seen, setup_wire, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
