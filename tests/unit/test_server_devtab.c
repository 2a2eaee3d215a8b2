/*
 * test_server_devtab.c - the device index (devtab.c) the server finds a
 * device's connections by: every device found again after the table grew,
 * a user's devices listed (and no one else's), entries removed, connections
 * joining and leaving a device.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "devtab.h"

#define USERS   3000
#define DEVICES 3

static void
name(char *buf, size_t cap, int i)
{
	snprintf(buf, cap, "user%d", i);
}

static void
test_find_after_growth(void **state)
{
	struct devtab t;
	char user[32];
	int i, d;

	(void)state;
	assert_int_equal(devtab_init(&t), 0);
	for (i = 0; i < USERS; i++) {
		name(user, sizeof user, i);
		for (d = 1; d <= DEVICES; d++) {
			struct dev_entry *e = devtab_get(&t, user, (uint32_t)d, 1);

			assert_non_null(e);
			assert_null(e->recv);
			e->recv = e; /* marks it */
			assert_ptr_equal(devtab_get(&t, user, (uint32_t)d, 1), e);
		}
	}
	assert_int_equal(t.n, USERS * DEVICES);
	assert_true(t.n_buckets >= t.n); /* grew: chains stay short */
	for (i = 0; i < USERS; i++) {
		name(user, sizeof user, i);
		for (d = 1; d <= DEVICES; d++) {
			struct dev_entry *e = devtab_get(&t, user, (uint32_t)d, 0);

			assert_non_null(e);
			assert_ptr_equal(e->recv, e);
			assert_string_equal(e->user, user);
			assert_int_equal(e->device_id, d);
		}
		assert_null(devtab_get(&t, user, DEVICES + 1, 0));
	}
	assert_null(devtab_get(&t, "nobody", 1, 0));
	devtab_free(&t);
}

/* A user's devices, each once, and nobody else's ("user1" is a prefix of
 * "user10"). */
static void
test_devices_of_user(void **state)
{
	struct devtab t;
	const struct dev_entry *e = NULL;
	int seen[DEVICES + 1] = {0}, n = 0;

	(void)state;
	assert_int_equal(devtab_init(&t), 0);
	for (int d = 1; d <= DEVICES; d++) {
		assert_non_null(devtab_get(&t, "user1", (uint32_t)d, 1));
		assert_non_null(devtab_get(&t, "user10", (uint32_t)d, 1));
	}
	while ((e = devtab_next_of_user(&t, "user1", e)) != NULL) {
		assert_string_equal(e->user, "user1");
		seen[e->device_id]++;
		n++;
	}
	assert_int_equal(n, DEVICES);
	for (int d = 1; d <= DEVICES; d++)
		assert_int_equal(seen[d], 1);
	assert_null(devtab_next_of_user(&t, "user2", NULL));
	devtab_free(&t);
}

static void
test_remove(void **state)
{
	struct devtab t;
	struct dev_entry *a, *b;

	(void)state;
	assert_int_equal(devtab_init(&t), 0);
	a = devtab_get(&t, "alice", 1, 1);
	b = devtab_get(&t, "alice", 2, 1);
	assert_non_null(a);
	assert_non_null(b);
	devtab_remove(&t, a);
	assert_null(devtab_get(&t, "alice", 1, 0));
	assert_ptr_equal(devtab_get(&t, "alice", 2, 0), b);
	assert_int_equal(t.n, 1);
	devtab_remove(&t, b);
	assert_null(devtab_next_of_user(&t, "alice", NULL));
	assert_int_equal(t.n, 0);
	devtab_free(&t);
}

/* Connections join a device and leave it in any order. */
static void
test_members(void **state)
{
	struct devtab t;
	struct dev_entry *e;
	struct dev_member m[4];
	struct dev_member *p;
	int n;

	(void)state;
	memset(m, 0, sizeof m);
	assert_int_equal(devtab_init(&t), 0);
	e = devtab_get(&t, "bob", 7, 1);
	assert_non_null(e);
	for (int i = 0; i < 4; i++)
		devtab_join(e, &m[i]);
	devtab_leave(&m[2]);
	devtab_leave(&m[2]); /* twice is harmless */
	devtab_leave(&m[0]);
	for (n = 0, p = e->members; p != NULL; p = p->next, n++)
		assert_true(p == &m[1] || p == &m[3]);
	assert_int_equal(n, 2);
	devtab_leave(&m[3]);
	devtab_leave(&m[1]);
	assert_null(e->members);
	devtab_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_after_growth),
		cmocka_unit_test(test_devices_of_user),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_members),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
