/*
 * test_server_db_prekeys.c - chat-server's store: the prekey directory
 * (server-stub/db_prekeys.c): one-time prekeys handed out once, even to two
 * bundles of one batch; exhaustion; the quota; running low once per
 * crossing; a removed device's prekeys gone with it.
 */
#include "server_fixture.h"

/* bob's signed prekey: id 7, key of seed 50 (the store does not check the
 * signature: the request layer does). */
static void
put_spk(struct fixture *f, const char *user, uint32_t dev)
{
	struct db_signed_prekey spk = {.id = 7};
	int64_t count;

	fill_key(spk.key, sizeof spk.key, 50);
	fill_key(spk.sig, sizeof spk.sig, 51);
	assert_int_equal(db_prekeys_upload(f->db, user, dev, &spk, NULL, 0, 200, 1000, &count),
			 DB_OK);
}

/* n one-time prekeys with ids first, first + 1, ...: the status, *count. */
static enum db_status
put_opks(struct fixture *f, const char *user, uint32_t dev, uint32_t first, size_t n,
	 int64_t *count)
{
	struct db_prekey k[PROTO_MAX_PREKEYS_STORED + 1];
	size_t i;

	assert_true(n <= PROTO_MAX_PREKEYS_STORED + 1);
	for (i = 0; i < n; i++) {
		k[i].id = first + (uint32_t)i;
		fill_key(k[i].key, sizeof k[i].key, (uint8_t)(first + i));
	}
	return db_prekeys_upload(f->db, user, dev, NULL, k, n, PROTO_MAX_PREKEYS_STORED, 1000,
				 count);
}

/* bob/1's bundle: asserts one device; returns it. */
static struct db_bundle
bundle(struct fixture *f, const char *user, uint32_t dev)
{
	struct db_bundle b[PROTO_MAX_DEVICES];
	size_t n;

	assert_int_equal(db_prekey_bundles(f->db, user, dev, b, PROTO_MAX_DEVICES, &n), DB_OK);
	assert_int_equal(n, 1);
	return b[0];
}

static void
test_consumed_once(void **state)
{
	struct fixture *f = *state;
	struct db_bundle a, b, c;
	int64_t count;

	put_spk(f, "bob", 1);
	assert_int_equal(put_opks(f, "bob", 1, 100, 2, &count), DB_OK);
	assert_int_equal(count, 2);
	a = bundle(f, "bob", 1);
	b = bundle(f, "bob", 1);
	assert_true(a.has_spk && a.has_opk && b.has_opk);
	assert_int_equal(a.spk.id, 7);
	/* Oldest first, and never the same one twice. */
	assert_int_equal(a.opk.id, 100);
	assert_int_equal(b.opk.id, 101);
	assert_int_equal(a.left, 1);
	assert_int_equal(b.left, 0);
	/* Exhausted: the signed prekey alone, and counted. */
	assert_int_equal(db_prekeys_exhausted(f->db), 0);
	c = bundle(f, "bob", 1);
	assert_true(c.has_spk);
	assert_false(c.has_opk);
	assert_int_equal(c.spk.id, 7);
	assert_int_equal(db_prekeys_exhausted(f->db), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM one_time_prekeys"), 0);
}

/* Two bundles of one batch (the service loop's group commit): each is a
 * savepoint of its own, and they still get different keys; after the
 * COMMIT both are gone from the store. */
static void
test_two_bundles_in_one_batch(void **state)
{
	struct fixture *f = *state;
	struct db_bundle a, b;
	int64_t count;

	put_spk(f, "bob", 1);
	assert_int_equal(put_opks(f, "bob", 1, 1, 50, &count), DB_OK);
	assert_int_equal(db_batch_open(f->db), 0);
	a = bundle(f, "bob", 1);
	b = bundle(f, "bob", 1);
	assert_int_equal(db_batch_commit(f->db), 0);
	assert_true(a.has_opk && b.has_opk);
	assert_int_not_equal(a.opk.id, b.opk.id);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM one_time_prekeys"), 48);
}

static void
test_stage1_device_and_all_devices(void **state)
{
	struct fixture *f = *state;
	struct db_bundle b[PROTO_MAX_DEVICES];
	int64_t count;
	size_t n;

	add_device(f, "bob", 2);
	put_spk(f, "bob", 2);
	assert_int_equal(put_opks(f, "bob", 2, 1, 1, &count), DB_OK);
	assert_int_equal(db_prekey_bundles(f->db, "bob", 0, b, PROTO_MAX_DEVICES, &n), DB_OK);
	assert_int_equal(n, 2);
	/* bob/1 never uploaded: listed, without prekeys, and not counted as
	 * exhausted. */
	assert_int_equal(b[0].dev.device_id, 1);
	assert_false(b[0].has_spk);
	assert_false(b[0].has_opk);
	assert_int_equal(b[1].dev.device_id, 2);
	assert_true(b[1].has_spk && b[1].has_opk);
	assert_int_equal(db_prekeys_exhausted(f->db), 0);
	/* No such device, no such user. */
	assert_int_equal(db_prekey_bundles(f->db, "bob", 9, b, PROTO_MAX_DEVICES, &n), DB_OK);
	assert_int_equal(n, 0);
	assert_int_equal(db_prekey_bundles(f->db, "nobody", 0, b, PROTO_MAX_DEVICES, &n),
			 DB_NOT_FOUND);
}

static void
test_quota_and_duplicates(void **state)
{
	struct fixture *f = *state;
	int64_t count;

	/* One-time prekeys before any signed prekey: refused. */
	assert_int_equal(put_opks(f, "bob", 1, 1, 1, &count), DB_NOT_FOUND);
	put_spk(f, "bob", 1);
	assert_int_equal(put_opks(f, "bob", 1, 1, 100, &count), DB_OK);
	assert_int_equal(count, 100);
	/* The same ids again (a retried upload) are kept as stored. */
	assert_int_equal(put_opks(f, "bob", 1, 51, 100, &count), DB_OK);
	assert_int_equal(count, 150);
	assert_int_equal(put_opks(f, "bob", 1, 1000, 50, &count), DB_OK);
	assert_int_equal(count, 200);
	/* One more is over the quota: nothing of the upload is stored. */
	assert_int_equal(put_opks(f, "bob", 1, 2000, 1, &count), DB_QUOTA);
	assert_int_equal(count, 200);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM one_time_prekeys"), 200);
}

static void
expect_low(struct fixture *f, int always, int want_tell, int64_t want_count)
{
	int64_t count;
	int tell;

	assert_int_equal(db_prekeys_low(f->db, "bob", 1, always, &tell, &count), DB_OK);
	assert_int_equal(tell, want_tell);
	if (want_tell)
		assert_int_equal(count, want_count);
}

static void
test_low_once_per_crossing(void **state)
{
	struct fixture *f = *state;
	struct db_bundle b;
	int64_t count;

	/* A stage 1 device (no signed prekey) is never told. */
	expect_low(f, 1, 0, 0);
	put_spk(f, "bob", 1);
	assert_int_equal(put_opks(f, "bob", 1, 1, 20, &count), DB_OK);
	expect_low(f, 0, 0, 0);
	b = bundle(f, "bob", 1);
	assert_true(b.low); /* 20 -> 19: the crossing */
	expect_low(f, 0, 1, 19);
	expect_low(f, 0, 0, 0); /* told once */
	b = bundle(f, "bob", 1);
	assert_false(b.low);
	expect_low(f, 0, 0, 0);
	expect_low(f, 1, 1, 18); /* a new session is told again */
	/* Topped up, then below again: a new crossing. */
	assert_int_equal(put_opks(f, "bob", 1, 100, 5, &count), DB_OK);
	assert_int_equal(count, 23);
	expect_low(f, 0, 0, 0);
	bundle(f, "bob", 1);
	bundle(f, "bob", 1);
	bundle(f, "bob", 1);
	b = bundle(f, "bob", 1);
	assert_true(b.low);
	expect_low(f, 0, 1, 19);
}

static void
test_removed_device_loses_prekeys(void **state)
{
	struct fixture *f = *state;
	int64_t count;

	add_device(f, "bob", 2);
	put_spk(f, "bob", 2);
	assert_int_equal(put_opks(f, "bob", 2, 1, 10, &count), DB_OK);
	put_spk(f, "bob", 1);
	assert_int_equal(put_opks(f, "bob", 1, 1, 3, &count), DB_OK);
	assert_int_equal(db_remove_device(f->db, "bob", 2, 2000), DB_OK);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM one_time_prekeys"
					  " WHERE device_id = 2"),
			 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM signed_prekeys"
					  " WHERE device_id = 2"),
			 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM one_time_prekeys"), 3);
}

/* A new signed prekey replaces the old one. */
static void
test_signed_prekey_replaced(void **state)
{
	struct fixture *f = *state;
	struct db_signed_prekey spk = {.id = 8};
	struct db_bundle b;
	int64_t count;

	put_spk(f, "bob", 1);
	fill_key(spk.key, sizeof spk.key, 60);
	fill_key(spk.sig, sizeof spk.sig, 61);
	assert_int_equal(db_prekeys_upload(f->db, "bob", 1, &spk, NULL, 0, 200, 2000, &count),
			 DB_OK);
	b = bundle(f, "bob", 1);
	assert_int_equal(b.spk.id, 8);
	assert_memory_equal(b.spk.key, spk.key, sizeof spk.key);
	assert_memory_equal(b.spk.sig, spk.sig, sizeof spk.sig);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM signed_prekeys"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_consumed_once, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_two_bundles_in_one_batch, setup_store,
						teardown),
		cmocka_unit_test_setup_teardown(test_stage1_device_and_all_devices, setup_store,
						teardown),
		cmocka_unit_test_setup_teardown(test_quota_and_duplicates, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_low_once_per_crossing, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_removed_device_loses_prekeys, setup_store,
						teardown),
		cmocka_unit_test_setup_teardown(test_signed_prekey_replaced, setup_store, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
