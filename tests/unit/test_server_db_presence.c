/*
 * test_server_db_presence.c - chat-server's store: last seen
 * (server-stub/db_presence.c).
 */
#include "server_fixture.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_last_seen, setup_store, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
