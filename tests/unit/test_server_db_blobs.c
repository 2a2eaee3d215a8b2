/*
 * test_server_db_blobs.c - chat-server's store: the metadata of attachments
 * (server-stub/db_blobs.c): pending and complete, who may send and read a
 * blob, and the blob purge.
 */
#include "server_fixture.h"

struct purged {
	int n;
	char ids[8][PROTO_MESSAGE_ID_LEN + 1];
};

static void
on_purged(void *udata, const char *blob_id)
{
	struct purged *p = udata;

	assert_true(p->n < 8);
	snprintf(p->ids[p->n++], sizeof p->ids[0], "%s", blob_id);
}

/* A blob is pending until completed (once, within its size); a message may
 * refer only to complete blobs of its sending device, all or nothing, and a
 * retry with the same blobs is still the same send. */
static void
test_blobs_send(void **state)
{
	struct fixture *f = *state;
	char g[17];
	uint8_t ct[16] = {0};
	struct db_envelope env = env_to("bob", 1, ct, sizeof ct);
	struct db_blob b;
	blob_id_t ids[2];
	int64_t size;

	chat_of(f->db, "alice", "bob", g, 1);
	assert_int_equal(db_blob_create(f->db, B1, "alice", 1, 100, 1000), DB_OK);
	assert_int_equal(db_blob_create(f->db, B1, "bob", 1, 100, 1000), DB_DUPLICATE);
	assert_int_equal(db_blob_create(f->db, B2, "alice", 1, 50, 1000), DB_OK);
	assert_int_equal(db_blob_create(f->db, B3, "bob", 1, 50, 1000), DB_OK);
	assert_int_equal(db_blob_get(f->db, B1, &b), DB_OK);
	assert_string_equal(b.user, "alice");
	assert_int_equal(b.device_id, 1);
	assert_int_equal(b.max_size, 100);
	assert_false(b.complete);
	assert_int_equal(db_blob_get(f->db, "ffffffffffffffffffffffffffffffff", &b), DB_NOT_FOUND);

	/* Over its size, or twice: refused. */
	assert_int_equal(db_blob_complete(f->db, B1, 101, 2000), DB_NOT_FOUND);
	assert_int_equal(db_blob_complete(f->db, B1, 100, 2000), DB_OK);
	assert_int_equal(db_blob_complete(f->db, B1, 100, 2000), DB_NOT_FOUND);
	assert_int_equal(db_blob_get(f->db, B1, &b), DB_OK);
	assert_true(b.complete);
	assert_int_equal(b.size, 100);
	assert_int_equal(db_blob_complete(f->db, B3, 10, 2000), DB_OK);

	/* Incomplete (B2), someone else's (B3), unknown: nothing stored. */
	memcpy(ids[0], B1, sizeof ids[0]);
	memcpy(ids[1], B2, sizeof ids[1]);
	assert_int_equal(send_blobs(f->db, g, M1, "alice", &env, 1, ids, 2), DB_NO_BLOB);
	memcpy(ids[1], B3, sizeof ids[1]);
	assert_int_equal(send_blobs(f->db, g, M1, "alice", &env, 1, ids, 2), DB_NO_BLOB);
	memcpy(ids[1], "ffffffffffffffffffffffffffffffff", sizeof ids[1]);
	assert_int_equal(send_blobs(f->db, g, M1, "alice", &env, 1, ids, 2), DB_NO_BLOB);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM messages"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM message_blobs"), 0);
	/* Nobody may read a blob no message refers to, not even its owner. */
	assert_int_equal(db_blob_readable(f->db, B1, "alice", &size), DB_NOT_FOUND);

	/* B1 twice in one list is one reference; a retry is fine. */
	memcpy(ids[1], B1, sizeof ids[1]);
	assert_int_equal(send_blobs(f->db, g, M1, "alice", &env, 1, ids, 2), DB_OK);
	assert_int_equal(send_blobs(f->db, g, M1, "alice", &env, 1, ids, 2), DB_OK);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM message_blobs"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM messages"), 1);

	/* Members of the chat read it; others do not. */
	assert_int_equal(db_blob_readable(f->db, B1, "bob", &size), DB_OK);
	assert_int_equal(size, 100);
	assert_int_equal(db_blob_readable(f->db, B1, "alice", &size), DB_OK);
	assert_int_equal(db_blob_readable(f->db, B1, "carol", &size), DB_NOT_FOUND);
}

/* Someone removed from a group cannot read its blobs any more. */
static void
test_blobs_removed_member(void **state)
{
	struct fixture *f = *state;
	const char *members[] = {"bob", "carol"}, *gone[] = {"carol"};
	struct db_change_result cr;
	uint8_t ct[16] = {0};
	struct db_envelope env[2];
	blob_id_t ids[1];
	int64_t size;
	char g[17];

	assert_int_equal(group(f->db, "alice", members, 2, 1000, &cr), DB_OK);
	memcpy(g, cr.chat_id, sizeof g);
	db_change_result_free(&cr);
	assert_int_equal(db_blob_create(f->db, B1, "alice", 1, 10, 1000), DB_OK);
	assert_int_equal(db_blob_complete(f->db, B1, 10, 1000), DB_OK);
	env[0] = env_to("bob", 1, ct, sizeof ct);
	env[1] = env_to("carol", 1, ct, sizeof ct);
	memcpy(ids[0], B1, sizeof ids[0]);
	assert_int_equal(send_blobs(f->db, g, M1, "alice", env, 2, ids, 1), DB_OK);
	assert_int_equal(db_blob_readable(f->db, B1, "carol", &size), DB_OK);
	assert_int_equal(change(f->db, g, "alice", 0, gone, 1, 3000, &cr), DB_OK);
	db_change_result_free(&cr);
	assert_int_equal(db_blob_readable(f->db, B1, "carol", &size), DB_NOT_FOUND);
	assert_int_equal(db_blob_readable(f->db, B1, "bob", &size), DB_OK);
}

/* Unreferred blobs go after the cutoff; referred ones when their last
 * message is purged, whatever their age. */
static void
test_blobs_purge(void **state)
{
	struct fixture *f = *state;
	char g[17];
	uint8_t ct[16] = {0};
	struct db_envelope env = env_to("bob", 1, ct, sizeof ct);
	struct db_purge_result pr;
	struct purged p = {0};
	blob_id_t ids[1];
	int64_t n;

	chat_of(f->db, "alice", "bob", g, 1);
	assert_int_equal(db_blob_create(f->db, B1, "alice", 1, 10, 1000), DB_OK);
	assert_int_equal(db_blob_create(f->db, B2, "alice", 1, 10, 9000), DB_OK);
	assert_int_equal(db_blob_create(f->db, B3, "alice", 1, 10, 9000), DB_OK);
	assert_int_equal(db_blob_complete(f->db, B3, 10, 9000), DB_OK);
	memcpy(ids[0], B3, sizeof ids[0]);
	assert_int_equal(send_blobs(f->db, g, M1, "alice", &env, 1, ids, 1), DB_OK);

	/* Cutoff 5000: B1 (made at 1000, pending) goes; B2 is young, B3 referred. */
	assert_int_equal(db_blob_purge(f->db, 5000, on_purged, &p, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.ids[0], B1);
	/* Past everyone's cutoff, B3 stays while its message does. */
	p.n = 0;
	assert_int_equal(db_blob_purge(f->db, 100000, on_purged, &p, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_string_equal(p.ids[0], B2);
	/* The message goes (acked, then purged): B3 goes with it, even though
	 * the blob cutoff is before its creation. */
	int64_t acked;
	const char(*mids)[PROTO_MESSAGE_ID_LEN + 1] = (const char(*)[PROTO_MESSAGE_ID_LEN + 1]) M1;
	assert_int_equal(db_ack(f->db, "bob", 1, mids, 1, &acked), DB_OK);
	assert_int_equal(acked, 1);
	assert_int_equal(db_purge(f->db, 100000, 0, &pr), DB_OK);
	assert_int_equal(pr.messages, 1);
	p.n = 0;
	assert_int_equal(db_blob_purge(f->db, 0, on_purged, &p, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_string_equal(p.ids[0], B3);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM blobs"), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM message_blobs"), 0);
	assert_int_equal(db_blob_purge(f->db, 100000, on_purged, &p, &n), DB_OK);
	assert_int_equal(n, 0);
}

/* What a device holds in the blob store, for its quotas: blobs asked for and
 * not uploaded (and the bytes they may take), and the bytes of those
 * uploaded; another device's count apart. */
static void
test_blob_usage(void **state)
{
	struct fixture *f = *state;
	struct db_blob_usage u;

	assert_int_equal(db_blob_usage(f->db, "alice", 1, &u), DB_OK);
	assert_int_equal(u.pending + u.pending_bytes + u.stored_bytes, 0);
	assert_int_equal(db_blob_create(f->db, B1, "alice", 1, 100, 1000), DB_OK);
	assert_int_equal(db_blob_create(f->db, B2, "alice", 1, 50, 1000), DB_OK);
	assert_int_equal(db_blob_create(f->db, B3, "bob", 1, 70, 1000), DB_OK);
	assert_int_equal(db_blob_usage(f->db, "alice", 1, &u), DB_OK);
	assert_int_equal(u.pending, 2);
	assert_int_equal(u.pending_bytes, 150);
	assert_int_equal(u.stored_bytes, 0);
	/* Uploaded: its size counts, not the most it could have had. */
	assert_int_equal(db_blob_complete(f->db, B1, 40, 2000), DB_OK);
	assert_int_equal(db_blob_usage(f->db, "alice", 1, &u), DB_OK);
	assert_int_equal(u.pending, 1);
	assert_int_equal(u.pending_bytes, 50);
	assert_int_equal(u.stored_bytes, 40);
	assert_int_equal(db_blob_usage(f->db, "alice", 2, &u), DB_OK);
	assert_int_equal(u.pending + u.pending_bytes + u.stored_bytes, 0);
	assert_int_equal(db_blob_usage(f->db, "bob", 1, &u), DB_OK);
	assert_int_equal(u.pending_bytes, 70);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_blobs_send, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_blobs_removed_member, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_blobs_purge, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_blob_usage, setup_store, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
