/*
 * test_client.c - libchat's dispatch of frames and its local store (the
 * protocol's forms, common/proto.c, are test_common.c's).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <sodium.h>

#include "internal.h"
#include "proto.h"
#include "store.h"
#include "store_sql.h"

/* ---- store ------------------------------------------------------------- */

struct fixture {
	char dir[64];
	char path[96];
	struct store s;
};

static int
store_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/test_client.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
	if (store_open(&f->s, f->path) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
store_teardown(void **state)
{
	struct fixture *f = *state;
	char p[128];

	store_close(&f->s);
	unlink(f->path);
	snprintf(p, sizeof p, "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct chat_message
msg(const char *id, const char *chat, int64_t seq, const char *text)
{
	struct chat_message m = {0};

	m.message_id = id;
	m.chat_id = chat;
	m.seq = seq;
	m.sender = "bob";
	m.sender_device = 1;
	m.sent_at = seq ? 1000 + seq : 0;
	m.text = text;
	m.text_len = strlen(text);
	m.state = seq ? "received" : "pending";
	return m;
}

struct collect {
	char texts[8][32];
	int n;
};

static int
collect(void *arg, const struct chat_message *m)
{
	struct collect *c = arg;

	if (c->n < 8)
		snprintf(c->texts[c->n++], sizeof c->texts[0], "%s", m->text);
	return 0;
}

static void
test_message_stored_once(void **state)
{
	struct fixture *f = *state;
	struct chat_message m =
		msg("00000000000000000000000000000001", "aaaaaaaaaaaaaaaa", 1, "hi");
	struct chat_message dup =
		msg("00000000000000000000000000000001", "aaaaaaaaaaaaaaaa", 1, "other");
	struct collect c = {0};

	assert_int_equal(store_message_insert(&f->s, &m), 1);
	assert_int_equal(store_message_insert(&f->s, &dup), 0); /* same id: kept once */
	assert_int_equal(store_message_exists(&f->s, m.message_id), 1);
	assert_int_equal(store_message_each(&f->s, "aaaaaaaaaaaaaaaa", 0, collect, &c, NULL), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.texts[0], "hi");
}

static void
test_history_order_and_limit(void **state)
{
	struct fixture *f = *state;
	const char *chat = "bbbbbbbbbbbbbbbb";
	struct chat_message a = msg("00000000000000000000000000000003", chat, 3, "three");
	struct chat_message b = msg("00000000000000000000000000000001", chat, 1, "one");
	struct chat_message p = msg("00000000000000000000000000000009", chat, 0, "pending");
	struct chat_message d = msg("00000000000000000000000000000002", chat, 2, "two");
	struct collect c = {0}, last2 = {0};

	/* Stored out of order (pending first): shown in server order, unsent last. */
	store_message_insert(&f->s, &p);
	store_message_insert(&f->s, &a);
	store_message_insert(&f->s, &b);
	store_message_insert(&f->s, &d);
	assert_int_equal(store_message_each(&f->s, chat, 0, collect, &c, NULL), 0);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.texts[0], "one");
	assert_string_equal(c.texts[1], "two");
	assert_string_equal(c.texts[2], "three");
	assert_string_equal(c.texts[3], "pending");
	/* --limit 2 keeps the newest two, still oldest first. */
	assert_int_equal(store_message_each(&f->s, chat, 2, collect, &last2, NULL), 0);
	assert_int_equal(last2.n, 2);
	assert_string_equal(last2.texts[0], "three");
	assert_string_equal(last2.texts[1], "pending");
	/* Confirming the pending one gives it its place. */
	assert_int_equal(store_message_sent(&f->s, p.message_id, 4, 2000), 0);
	memset(&c, 0, sizeof c);
	store_message_each(&f->s, chat, 1, collect, &c, NULL);
	assert_string_equal(c.texts[0], "pending");
}

static void
test_pins(void **state)
{
	struct fixture *f = *state;
	uint8_t ik[32], xk[32], ik2[32], xk2[32];
	struct store_peer p;

	memset(ik, 1, 32);
	memset(xk, 2, 32);
	memset(ik2, 3, 32);
	memset(xk2, 4, 32);
	assert_int_equal(store_peer_get(&f->s, "bob", 1, &p), 0);
	assert_int_equal(store_peer_pin(&f->s, "bob", 1, ik, xk, "laptop"), 0);
	assert_int_equal(store_peer_get(&f->s, "bob", 1, &p), 1);
	assert_memory_equal(p.identity_key, ik, 32);
	assert_false(p.has_pending);
	/* Pinning another identity for the same device changes nothing. */
	assert_int_equal(store_peer_pin(&f->s, "bob", 1, ik2, xk2, NULL), 0);
	store_peer_get(&f->s, "bob", 1, &p);
	assert_memory_equal(p.identity_key, ik, 32);
	/* A change is pending until trusted; trusting swaps it in. */
	assert_int_equal(store_peer_set_pending(&f->s, "bob", 1, ik2, xk2), 0);
	store_peer_get(&f->s, "bob", 1, &p);
	assert_true(p.has_pending);
	assert_memory_equal(p.pending_identity, ik2, 32);
	assert_int_equal(store_peer_trust(&f->s, "carol"), 0);
	assert_int_equal(store_peer_trust(&f->s, "bob"), 1);
	store_peer_get(&f->s, "bob", 1, &p);
	assert_false(p.has_pending);
	assert_memory_equal(p.identity_key, ik2, 32);
	assert_memory_equal(p.exchange_key, xk2, 32);
	assert_int_equal(store_peer_trust(&f->s, "bob"), 0);
	/* Devices the directory stops listing are no longer counted. */
	assert_int_equal(store_peer_count(&f->s, "bob"), 1);
	assert_int_equal(store_peer_remove(&f->s, "bob", 1, 1), 0);
	assert_int_equal(store_peer_count(&f->s, "bob"), 0);
}

static void
test_resolve(void **state)
{
	struct fixture *f = *state;
	const char *ab[] = {"alice", "bob"}, *ac[] = {"alice", "carol"};
	char out[CHAT_CHAT_ID_LEN + 1];

	assert_int_equal(
		store_chat_put(&f->s, "abcd000000000001", "direct", NULL, NULL, 1, ab, 2, NULL, 0),
		0);
	assert_int_equal(
		store_chat_put(&f->s, "abcd000000000002", "direct", NULL, NULL, 1, ac, 2, NULL, 0),
		0);
	assert_int_equal(store_chat_resolve(&f->s, "alice", "@bob", out), 1);
	assert_string_equal(out, "abcd000000000001");
	assert_int_equal(store_chat_resolve(&f->s, "alice", "@carol", out), 1);
	assert_string_equal(out, "abcd000000000002");
	assert_int_equal(store_chat_resolve(&f->s, "alice", "@dave", out), 0);
	assert_int_equal(store_chat_resolve(&f->s, "alice", "abcd", out), 2); /* ambiguous */
	assert_int_equal(store_chat_resolve(&f->s, "alice", "abcd000000000002", out), 1);
	assert_int_equal(store_chat_resolve(&f->s, "alice", "ffff", out), 0);
	assert_int_equal(store_chat_has_members(&f->s, "abcd000000000001"), 1);
	/* A chat first seen in a message has no members yet; a later put fills them. */
	assert_int_equal(store_chat_put(&f->s, "abcd000000000003", "direct", NULL, NULL, 1, NULL, 0,
					NULL, 0),
			 0);
	assert_int_equal(store_chat_has_members(&f->s, "abcd000000000003"), 0);
	assert_int_equal(
		store_chat_put(&f->s, "abcd000000000003", "direct", NULL, NULL, 1, ab, 2, NULL, 0),
		0);
	assert_int_equal(store_chat_has_members(&f->s, "abcd000000000003"), 1);
}

static void
expect_state(struct store *s, const char *id, const char *state)
{
	struct store_brief b;

	assert_int_equal(store_message_brief(s, id, &b), 1);
	assert_string_equal(b.state, state);
}

/* Our message in a group: delivered once every other member has a device that
 * stored it, read once every other member read it; a device's later, lesser
 * receipt changes nothing. */
static void
test_receipt_states(void **state)
{
	struct fixture *f = *state;
	const char *chat = "cccccccccccccccc", *id = "0000000000000000000000000000000a";
	const char *members[] = {"alice", "bob", "carol"};
	struct chat_message m = msg(id, chat, 4, "ours");

	m.sender = "alice";
	m.outgoing = 1;
	m.state = "sent";
	assert_int_equal(store_chat_put(&f->s, chat, "group", "g", NULL, 1, members, 3, NULL, 0),
			 0);
	assert_int_equal(store_message_insert(&f->s, &m), 1);
	assert_int_equal(store_receipt_put(&f->s, id, "bob", 2, CHAT_RECEIPT_DELIVERED, 5), 1);
	assert_int_equal(store_message_refresh_state(&f->s, id, "alice"), 0);
	expect_state(&f->s, id, "sent");
	assert_int_equal(store_receipt_put(&f->s, id, "carol", 1, CHAT_RECEIPT_READ, 6), 1);
	assert_int_equal(store_message_refresh_state(&f->s, id, "alice"), 0);
	expect_state(&f->s, id, "delivered");
	/* Nothing new: the same, or a lesser status. */
	assert_int_equal(store_receipt_put(&f->s, id, "carol", 1, CHAT_RECEIPT_DELIVERED, 7), 0);
	assert_int_equal(store_receipt_put(&f->s, id, "carol", 1, CHAT_RECEIPT_READ, 8), 0);
	assert_int_equal(store_receipt_put(&f->s, id, "bob", 1, CHAT_RECEIPT_READ, 9), 1);
	assert_int_equal(store_message_refresh_state(&f->s, id, "alice"), 0);
	expect_state(&f->s, id, "read");
	/* A late confirmation of the send (a lost reply) does not undo it. */
	assert_int_equal(store_message_sent(&f->s, id, 4, 1004), 0);
	expect_state(&f->s, id, "read");
}

/* Marking read: incoming messages only, each sender owed one read receipt (in
 * place of a delivered one still owed), batched per chat, sender and status. */
static void
test_mark_read_and_owed(void **state)
{
	struct fixture *f = *state;
	const char *chat = "dddddddddddddddd";
	const char *members[] = {"alice", "bob", "carol"};
	struct chat_message a = msg("00000000000000000000000000000001", chat, 1, "from bob");
	struct chat_message b = msg("00000000000000000000000000000002", chat, 2, "from carol");
	struct chat_message o = msg("00000000000000000000000000000003", chat, 3, "ours");
	char ids[4][CHAT_MESSAGE_ID_LEN + 1];
	struct store_receipt_batch batch = {.ids = ids};

	b.sender = "carol";
	o.sender = "alice";
	o.outgoing = 1;
	o.state = "sent";
	assert_int_equal(store_chat_put(&f->s, chat, "group", "g", NULL, 1, members, 3, NULL, 0),
			 0);
	store_message_insert(&f->s, &a);
	store_message_insert(&f->s, &b);
	store_message_insert(&f->s, &o);
	assert_int_equal(store_receipts_pending(&f->s), 0);
	assert_int_equal(
		store_receipt_queue(&f->s, chat, "bob", a.message_id, CHAT_RECEIPT_DELIVERED, 10),
		0);
	assert_int_equal(store_mark_read(&f->s, chat, NULL, "alice", 1, 20), 2);
	assert_int_equal(store_mark_read(&f->s, chat, NULL, "alice", 1, 30), 0);
	expect_state(&f->s, a.message_id, "read");
	expect_state(&f->s, o.message_id, "sent");
	/* Owed: a read for bob (the delivered one dropped), a read for carol. */
	assert_int_equal(store_receipt_next(&f->s, &batch, 4), 1);
	assert_string_equal(batch.to_user, "bob");
	assert_int_equal(batch.status, CHAT_RECEIPT_READ);
	assert_int_equal(batch.n, 1);
	assert_string_equal(batch.ids[0], a.message_id);
	assert_int_equal(batch.at, 20);
	assert_int_equal(store_receipt_done(&f->s, &batch), 0);
	assert_int_equal(store_receipt_next(&f->s, &batch, 4), 1);
	assert_string_equal(batch.to_user, "carol");
	assert_int_equal(store_receipt_done(&f->s, &batch), 0);
	assert_int_equal(store_receipt_next(&f->s, &batch, 4), 0);
	assert_int_equal(store_receipts_pending(&f->s), 0);
}

/* ---- failures: a clear error, and nothing lost ---------------------------- */

static int
count_rows(void *arg, const struct chat_message *m)
{
	(void)m;
	(*(int *)arg)++;
	return 0;
}

/* One message more: 1. */
static int
fill_some(struct store *s, const char *chat, int *next)
{
	char id[CHAT_MESSAGE_ID_LEN + 1];
	struct chat_message m;

	snprintf(id, sizeof id, "%032x", *next);
	m = msg(id, chat, *next, "after");
	assert_int_equal(store_message_insert(s, &m), 1);
	(*next)++;
	return 1;
}

static int
history_count(struct store *s, const char *chat)
{
	int n = 0;

	assert_int_equal(store_message_each(s, chat, 0, count_rows, &n, NULL), 0);
	return n;
}

struct members {
	char names[8][CHAT_USER_MAX + 1];
	int n;
};

static int
collect_member(void *arg, const char *user, int admin)
{
	struct members *m = arg;

	(void)admin;
	if (m->n < 8)
		snprintf(m->names[m->n++], sizeof m->names[0], "%s", user);
	return 0;
}

/* A value the database will not take fails its bind: the write is refused
 * with a reason, not made with NULL in its place (a chat without its name, a
 * device without its name), and the rest of the transaction goes with it. */
static void
test_bind_failure_refuses(void **state)
{
	struct fixture *f = *state;
	const char *chat = "abab000000000001", *ab[] = {"alice", "bob"}, *ac[] = {"alice", "carol"};
	char long_name[200];
	uint8_t ik[32], xk[32];
	struct store_peer p;
	struct members m = {0};

	memset(ik, 1, 32);
	memset(xk, 2, 32);
	assert_int_equal(store_chat_put(&f->s, chat, "group", "old", NULL, 1, ab, 2, NULL, 0), 0);
	/* Longer than the connection takes: SQLITE_TOOBIG at bind time. */
	sqlite3_limit(f->s.db, SQLITE_LIMIT_LENGTH, 100);
	memset(long_name, 'n', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';

	assert_int_equal(store_chat_put(&f->s, chat, "group", long_name, NULL, 1, ac, 2, NULL, 0),
			 -1);
	assert_non_null(strstr(f->s.err, "store chat"));
	assert_non_null(strstr(f->s.err, "bind parameter 3"));
	assert_non_null(strstr(f->s.err, "too big"));
	/* Nothing of it landed: the members are still alice and bob. */
	assert_int_equal(store_chat_member_each(&f->s, chat, collect_member, &m, NULL), 0);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.names[1], "bob");

	assert_int_equal(store_peer_pin(&f->s, "bob", 1, ik, xk, long_name), -1);
	assert_non_null(strstr(f->s.err, "pin key"));
	assert_int_equal(store_peer_get(&f->s, "bob", 1, &p), 0);

	/* What fits goes through on the same statements. */
	sqlite3_limit(f->s.db, SQLITE_LIMIT_LENGTH, 1000000);
	assert_int_equal(store_chat_put(&f->s, chat, "group", long_name, NULL, 1, ac, 2, NULL, 0),
			 0);
	assert_int_equal(store_peer_pin(&f->s, "bob", 1, ik, xk, long_name), 0);
	assert_int_equal(store_peer_get(&f->s, "bob", 1, &p), 1);
	assert_int_equal(strncmp(p.name, long_name, sizeof p.name - 1), 0);
}

/* Inserts messages of len bytes into chat until the store refuses one;
 * returns how many it took, from *next on (the ids). */
static int
fill(struct store *s, const char *chat, size_t len, int *next)
{
	char text[2048], id[CHAT_MESSAGE_ID_LEN + 1];
	int n = 0, rc;

	memset(text, 'x', len);
	text[len] = '\0';
	for (;;) {
		struct chat_message m;

		snprintf(id, sizeof id, "%032x", *next);
		m = msg(id, chat, *next, text);
		if ((rc = store_message_insert(s, &m)) != 1)
			break;
		n++;
		(*next)++;
	}
	assert_int_equal(rc, -1);
	return n;
}

/* A full disk (here: a database that may not grow) fails the write that
 * needs the room, says so, and loses nothing: what was stored stays readable,
 * a transaction that failed half-way leaves nothing of itself, and once there
 * is room again the same writes go through. */
static void
test_disk_full_loses_nothing(void **state)
{
	struct fixture *f = *state;
	const char *chat = "fafafafafafafafa", *two[] = {"alice", "bob"};
	char names[100][CHAT_USER_MAX + 1];
	const char *many[100];
	struct members m = {0};
	int next = 1, stored = 0;

	for (int i = 0; i < 100; i++) {
		snprintf(names[i], sizeof names[i], "member-%025d", i);
		many[i] = names[i];
	}
	assert_int_equal(store_chat_put(&f->s, chat, "group", "g", NULL, 1, two, 2, NULL, 0), 0);
	assert_int_equal(sqlite3_exec(f->s.db, "PRAGMA max_page_count = 40", NULL, NULL, NULL),
			 SQLITE_OK);
	/* Fill it up, to the last small gap. */
	stored += fill(&f->s, chat, 2000, &next);
	assert_true(stored > 0);
	assert_non_null(strstr(f->s.err, "store message"));
	assert_non_null(strstr(f->s.err, "full"));
	stored += fill(&f->s, chat, 100, &next);
	stored += fill(&f->s, chat, 1, &next);
	assert_int_equal(history_count(&f->s, chat), stored);

	/* A hundred members need room: all of them or none. */
	assert_int_equal(store_chat_put(&f->s, chat, "group", "g", NULL, 1, many, 100, many, 1),
			 -1);
	assert_non_null(strstr(f->s.err, "full"));
	assert_int_equal(store_chat_member_each(&f->s, chat, collect_member, &m, NULL), 0);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.names[0], "alice");
	assert_string_equal(m.names[1], "bob");

	/* Room again: the store works as before, on the same connection. */
	assert_int_equal(sqlite3_exec(f->s.db, "PRAGMA max_page_count = 100000", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(store_chat_put(&f->s, chat, "group", "g", NULL, 1, many, 100, many, 1), 0);
	stored += fill_some(&f->s, chat, &next);
	assert_int_equal(history_count(&f->s, chat), stored);
}

/* A store closed under its user answers every call with an error that says
 * so, and never touches a connection that is gone. */
static void
test_closed_store(void **state)
{
	struct fixture *f = *state;
	struct chat_message m = msg("00000000000000000000000000000021", "abcdabcdabcdabcd", 1, "x");
	char buf[16];

	store_close(&f->s);
	assert_int_equal(store_message_insert(&f->s, &m), -1);
	assert_non_null(strstr(f->s.err, "closed"));
	assert_int_equal(store_meta_get(&f->s, "user", buf, sizeof buf), -1);
	assert_int_equal(store_begin(&f->s), -1);
	store_rollback(&f->s);
	assert_non_null(strstr(f->s.err, "closed"));
}

/* ---- the statement cache ---------------------------------------------- */

/* Statements the connection has prepared and not finalized, but FTS5's
 * own: the search index (store.c, schema 9) keeps statements on its shadow
 * tables, all of which it names 'main'.'messages_fts_...', for the life of
 * the connection. */
static size_t
live_statements(struct store *s)
{
	size_t n = 0;

	for (sqlite3_stmt *st = sqlite3_next_stmt(s->db, NULL); st != NULL;
	     st = sqlite3_next_stmt(s->db, st)) {
		const char *sql = sqlite3_sql(st);

		n += sql == NULL || strstr(sql, "'main'.") == NULL;
	}
	return n;
}

/* Statements of the table prepared and kept. */
static size_t
prepared(const struct store *s)
{
	size_t n = 0;

	for (int i = 0; s->stmts != NULL && i < ST_COUNT; i++)
		n += s->stmts->st[i] != NULL;
	return n;
}

static int
any_busy(const struct store *s)
{
	for (int i = 0; i < ST_COUNT; i++)
		if (s->stmts->busy[i])
			return 1;
	return 0;
}

struct nested {
	struct store *s;
	const char *chat;
	int outer, inner;
	char texts[4][32];
};

static int
count_row(void *arg, const struct chat_message *m)
{
	(void)m;
	((struct nested *)arg)->inner++;
	return 0;
}

/* Reads the whole history again from inside the history's callback. */
static int
reread_row(void *arg, const struct chat_message *m)
{
	struct nested *n = arg;

	if (store_message_each(n->s, n->chat, 0, count_row, n, NULL) != 0 || n->outer >= 4)
		return -1;
	/* After the inner read: the row under the outer statement is intact. */
	snprintf(n->texts[n->outer++], sizeof n->texts[0], "%s", m->text);
	return 0;
}

static int
collect_first(void *arg, const struct chat_message *m)
{
	collect(arg, m);
	return 1;
}

static void
insert_three(struct store *s, const char *chat)
{
	struct chat_message a = msg("00000000000000000000000000000011", chat, 1, "one");
	struct chat_message b = msg("00000000000000000000000000000012", chat, 2, "two");
	struct chat_message c = msg("00000000000000000000000000000013", chat, 3, "three");

	assert_int_equal(store_message_insert(s, &a), 1);
	assert_int_equal(store_message_insert(s, &b), 1);
	assert_int_equal(store_message_insert(s, &c), 1);
}

static int
close_store(void *arg, const struct chat_message *m)
{
	(void)m;
	store_close(arg);
	return 0;
}

/* Closed from a walk's callback (the statement under the walk still held):
 * the walk ends with an error that says so, and the connection goes away
 * with the statement (ASan would report the connection leaked). */
static void
test_closed_under_walk(void **state)
{
	struct fixture *f = *state;
	int stop = 7;

	insert_three(&f->s, "eeeeeeeeeeeeeeee");
	assert_int_equal(
		store_message_each(&f->s, "eeeeeeeeeeeeeeee", 0, close_store, &f->s, &stop), -1);
	assert_int_equal(stop, 0);
	assert_non_null(strstr(f->s.err, "read history: the store was closed"));
	assert_null(f->s.db);
	/* It opens again and has everything. */
	assert_int_equal(store_open(&f->s, f->path), 0);
	assert_int_equal(history_count(&f->s, "eeeeeeeeeeeeeeee"), 3);
}

/* Statements are prepared on first use: a typo in a rare one would only show
 * the day it runs. Every one of the table prepares on a new store. */
static void
test_every_statement_prepares(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < ST_COUNT; i++) {
		sqlite3_stmt *st = store_stmt(&f->s, (enum store_st)i);

		if (st == NULL)
			fail_msg("statement %d: %s", i, f->s.err);
		store_done(&f->s, st);
	}
	assert_int_equal(prepared(&f->s), ST_COUNT);
	assert_false(any_busy(&f->s));
}

/* A statement still stepping through rows is not handed out again: the same
 * SQL used meanwhile (here from the row callback) gets a statement of its own,
 * finalized when given back; the outer rows go on as if alone. */
static void
test_stmt_cache_nested(void **state)
{
	struct fixture *f = *state;
	const char *chat = "eeeeeeeeeeeeeeee";
	struct nested n = {.s = &f->s, .chat = chat};
	size_t cached;

	insert_three(&f->s, chat);
	assert_int_equal(store_message_each(&f->s, chat, 0, reread_row, &n, NULL), 0);
	assert_int_equal(n.outer, 3);
	assert_int_equal(n.inner, 9);
	assert_string_equal(n.texts[0], "one");
	assert_string_equal(n.texts[1], "two");
	assert_string_equal(n.texts[2], "three");
	/* The inner statements are gone; the cached ones are all given back. */
	cached = prepared(&f->s);
	assert_true(cached > 0);
	assert_int_equal(live_statements(&f->s), cached);
	assert_false(any_busy(&f->s));
	/* Again, from the cache: nothing more is kept. */
	n.outer = n.inner = 0;
	assert_int_equal(store_message_each(&f->s, chat, 0, reread_row, &n, NULL), 0);
	assert_int_equal(n.outer, 3);
	assert_int_equal(n.inner, 9);
	assert_int_equal(prepared(&f->s), cached);
	assert_int_equal(live_statements(&f->s), cached);
}

/* A cached statement comes back as new: from its first row after a caller
 * stopped early, and with no value left bound by the previous caller. */
static void
test_stmt_cache_reset(void **state)
{
	struct fixture *f = *state;
	const char *chat = "eeeeeeeeeeeeeeee";
	uint8_t ik[32], xk[32];
	struct store_peer p;
	struct collect c = {0};

	int stop;

	insert_three(&f->s, chat);
	assert_int_equal(store_message_each(&f->s, chat, 0, collect_first, &c, &stop), 0);
	assert_int_equal(stop, 1);
	assert_int_equal(c.n, 1);
	memset(&c, 0, sizeof c);
	assert_int_equal(store_message_each(&f->s, chat, 0, collect, &c, NULL), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.texts[0], "one");
	/* The name is bound only when given. */
	memset(ik, 1, 32);
	memset(xk, 2, 32);
	assert_int_equal(store_peer_pin(&f->s, "bob", 1, ik, xk, "laptop"), 0);
	assert_int_equal(store_peer_pin(&f->s, "bob", 2, ik, xk, NULL), 0);
	assert_int_equal(store_peer_get(&f->s, "bob", 2, &p), 1);
	assert_string_equal(p.name, "");
	assert_int_equal(store_peer_get(&f->s, "bob", 1, &p), 1);
	assert_string_equal(p.name, "laptop");
}

/* How many of this process's descriptors are open on a path starting with
 * prefix. */
static int
open_fds(const char *prefix)
{
	char link[64], target[256];
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		ssize_t len;

		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		len = readlink(link, target, sizeof target - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		n += strncmp(target, prefix, strlen(prefix)) == 0;
	}
	return n;
}

/* Closing finalizes what the cache keeps: sqlite3_close() would refuse
 * otherwise, leaking the connection (ASan says so) with its files open. */
static void
test_stmt_cache_close(void **state)
{
	struct fixture *f = *state;

	insert_three(&f->s, "eeeeeeeeeeeeeeee");
	assert_true(prepared(&f->s) > 0);
	assert_true(open_fds(f->path) > 0);
	store_close(&f->s);
	assert_null(f->s.db);
	assert_null(f->s.stmts);
	assert_int_equal(open_fds(f->path), 0);
	/* It opens again, with an empty cache, and the teardown's close is a no-op. */
	assert_int_equal(store_open(&f->s, f->path), 0);
	assert_int_equal(store_message_exists(&f->s, "00000000000000000000000000000013"), 1);
	store_close(&f->s);
}

/* ---- search (store_search.c) ---------------------------------------------- */

/* The hits' ids' last two digits, in the order they came. */
struct hits {
	char ids[16][3];
	char snippet[128];
	int n;
};

static int
collect_hit(void *arg, const struct chat_message *m)
{
	struct hits *h = arg;

	if (h->n == 0 && m->snippet != NULL)
		snprintf(h->snippet, sizeof h->snippet, "%s", m->snippet);
	if (h->n < 16)
		snprintf(h->ids[h->n++], sizeof h->ids[0], "%s", m->message_id + 30);
	return 0;
}

/* The hits of words (in chat, or all), as "01 02 ..." in the order given. */
static const char *
search(struct store *s, const char *words, const char *chat, int limit)
{
	static char out[64];
	struct hits h = {0};
	size_t used = 0;

	out[0] = '\0';
	assert_int_equal(store_message_search(s, words, chat, limit, collect_hit, &h, NULL), 0);
	for (int i = 0; i < h.n; i++)
		used += (size_t)snprintf(out + used, sizeof out - used, "%s%s", i ? " " : "",
					 h.ids[i]);
	return out;
}

static void
put(struct store *s, const char *id2, const char *chat, const char *kind, const char *text)
{
	char id[CHAT_MESSAGE_ID_LEN + 1];
	struct chat_message m;

	snprintf(id, sizeof id, "000000000000000000000000000000%s", id2);
	m = msg(id, chat, 1, text);
	m.kind = kind;
	assert_int_equal(store_message_insert(s, &m), 1);
}

/* The index holds exactly what messages hold. */
static void
assert_index_consistent(struct store *s)
{
	assert_int_equal(
		sqlite3_exec(s->db,
			     "INSERT INTO messages_fts(messages_fts) VALUES('integrity-check')",
			     NULL, NULL, NULL),
		SQLITE_OK);
}

static void
test_search_query_rule(void **state)
{
	char *q = NULL;

	(void)state;
	assert_int_equal(store_search_query("  lunch \t Friday ", &q), 2);
	assert_string_equal(q, "\"lunch\"* \"Friday\"*");
	free(q);
	assert_int_equal(store_search_query("\"foo NEAR( a\"\"b *", &q), 4);
	assert_string_equal(q, "\"\"\"foo\"* \"NEAR(\"* \"a\"\"\"\"b\"* \"*\"*");
	free(q);
	assert_int_equal(store_search_query(" \t\n", &q), 0);
	assert_null(q);
}

/* Words, prefixes, case and accents, every word needed, newest first, one
 * chat or all, a limit; and the snippet marks the words found. */
static void
test_search_finds_words(void **state)
{
	struct fixture *f = *state;
	const char *a = "aaaaaaaaaaaaaaaa", *b = "bbbbbbbbbbbbbbbb";
	struct hits h = {0};

	put(&f->s, "01", a, "text", "Lunch on Friday at the café?");
	put(&f->s, "02", b, "text", "no lunch for me");
	put(&f->s, "03", a, "text", "the e-mail about lunches");
	put(&f->s, "04", a, "update", "lunch was renamed"); /* an event: not searched */
	put(&f->s, "05", a, "undecryptable", "");
	assert_string_equal(search(&f->s, "lunch", NULL, 0), "03 02 01");
	assert_string_equal(search(&f->s, "LUN", NULL, 0), "03 02 01");
	assert_string_equal(search(&f->s, "lunch friday", NULL, 0), "01");
	assert_string_equal(search(&f->s, "cafe", NULL, 0), "01");
	assert_string_equal(search(&f->s, "e-mail", NULL, 0), "03");
	assert_string_equal(search(&f->s, "lunch", a, 0), "03 01");
	assert_string_equal(search(&f->s, "lunch", b, 0), "02");
	assert_string_equal(search(&f->s, "lunch", NULL, 2), "03 02");
	assert_string_equal(search(&f->s, "renamed", NULL, 0), "");
	assert_string_equal(search(&f->s, "dinner", NULL, 0), "");
	assert_int_equal(store_message_search(&f->s, "friday", NULL, 0, collect_hit, &h, NULL), 0);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.snippet, "Lunch on [Friday] at the café?");
}

/* What a user types is never an FTS5 error: operators, quotes and
 * parentheses are words like any other. */
static void
test_search_never_fails(void **state)
{
	struct fixture *f = *state;
	static const char *const odd[] = {
		"\"foo", "AND",     "*",         "NEAR(", "foo OR",  "(",       ")",
		"\"",    "^foo",    "text:foo",  "-foo",  "foo AND", "NOT foo", "\"\"",
		"'",     "foo*and", "{text}: x", "+",     "\\",
	};

	put(&f->s, "01", "aaaaaaaaaaaaaaaa", "text", "foo and bar, not near");
	for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
		struct hits h = {0};

		assert_int_equal(
			store_message_search(&f->s, odd[i], NULL, 0, collect_hit, &h, NULL), 0);
	}
	/* The words in them still count. */
	assert_string_equal(search(&f->s, "\"foo", NULL, 0), "01");
	assert_string_equal(search(&f->s, "AND", NULL, 0), "01");
	assert_string_equal(search(&f->s, "NEAR(", NULL, 0), "01");
	assert_string_equal(search(&f->s, "NOT foo", NULL, 0), "01");
	/* "*" splits words as any punctuation: the phrase "foo and". */
	assert_string_equal(search(&f->s, "foo*and", NULL, 0), "01");
	/* No letter or digit: nothing, not everything. */
	assert_string_equal(search(&f->s, "*", NULL, 0), "");
	assert_string_equal(search(&f->s, "\"", NULL, 0), "");
}

/* A message deleted, its text changed, or turned into another kind: the
 * index follows, and stays consistent. */
static void
test_search_follows_changes(void **state)
{
	struct fixture *f = *state;
	const char *chat = "aaaaaaaaaaaaaaaa";

	put(&f->s, "01", chat, "text", "walrus one");
	put(&f->s, "02", chat, "text", "walrus two");
	put(&f->s, "03", chat, "text", "walrus three");
	put(&f->s, "04", chat, "update", "walrus event");
	assert_string_equal(search(&f->s, "walrus", NULL, 0), "03 02 01");
	assert_int_equal(sqlite3_exec(f->s.db,
				      "UPDATE messages SET text = 'pelican one' WHERE message_id"
				      " = '00000000000000000000000000000001';"
				      "UPDATE messages SET kind = 'deleted' WHERE message_id"
				      " = '00000000000000000000000000000002';"
				      "UPDATE messages SET kind = 'text' WHERE message_id"
				      " = '00000000000000000000000000000004';"
				      "UPDATE messages SET state = 'read';"
				      "DELETE FROM messages WHERE message_id"
				      " = '00000000000000000000000000000003';",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_string_equal(search(&f->s, "walrus", NULL, 0), "04");
	assert_string_equal(search(&f->s, "pelican", NULL, 0), "01");
	assert_string_equal(search(&f->s, "one", NULL, 0), "01");
	assert_index_consistent(&f->s);
	/* An unsent message discarded (store_unsent_delete's path). */
	{
		struct chat_message m =
			msg("00000000000000000000000000000009", chat, 0, "walrus 9");

		m.outgoing = 1;
		assert_int_equal(store_message_insert(&f->s, &m), 1);
		assert_string_equal(search(&f->s, "walrus", NULL, 0), "09 04");
		assert_true(store_unsent_delete(&f->s, m.message_id) >= 0);
		assert_string_equal(search(&f->s, "walrus", NULL, 0), "04");
	}
	assert_index_consistent(&f->s);
}

/* A home made by the first release (schema 1) opens, keeps its messages, and
 * gains what groups need. */
static void
test_store_migrates_v1(void **state)
{
	char dir[] = "/tmp/test_client_v1.XXXXXX", path[96], p[128];
	struct collect c = {0};
	struct store s;
	sqlite3 *db;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/store.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(
			db,
			"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
			"CREATE TABLE peers(user TEXT NOT NULL, device_id INTEGER NOT NULL,"
			" identity_key BLOB NOT NULL, exchange_key BLOB NOT NULL,"
			" pending_identity BLOB, pending_exchange BLOB,"
			" active INTEGER NOT NULL DEFAULT 1, pinned_at INTEGER NOT NULL,"
			" PRIMARY KEY(user, device_id));"
			"CREATE TABLE chats(chat_id TEXT PRIMARY KEY, kind TEXT NOT NULL, name "
			"TEXT,"
			" created_at INTEGER NOT NULL, members_known INTEGER NOT NULL DEFAULT 0);"
			"CREATE TABLE chat_members(chat_id TEXT NOT NULL, user TEXT NOT NULL,"
			" PRIMARY KEY(chat_id, user));"
			"CREATE TABLE messages(message_id TEXT PRIMARY KEY, chat_id TEXT NOT NULL,"
			" seq INTEGER NOT NULL DEFAULT 0, sender TEXT NOT NULL,"
			" sender_device INTEGER NOT NULL, sent_at INTEGER NOT NULL DEFAULT 0,"
			" text TEXT NOT NULL, outgoing INTEGER NOT NULL, state TEXT NOT NULL,"
			" stored_at INTEGER NOT NULL);"
			"INSERT INTO chats VALUES('cccccccccccccccc', 'direct', NULL, 1, 1);"
			"INSERT INTO chat_members VALUES('cccccccccccccccc', 'alice');"
			"INSERT INTO messages VALUES('00000000000000000000000000000007',"
			" 'cccccccccccccccc', 1, 'bob', 1, 5, 'kept', 0, 'received', 5);"
			"PRAGMA user_version=1;",
			NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(store_open(&s, path), 0);
	assert_int_equal(store_message_each(&s, "cccccccccccccccc", 0, collect, &c, NULL), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.texts[0], "kept");
	/* Search (schema 9): what was stored before is indexed too. */
	assert_string_equal(search(&s, "kept", NULL, 0), "07");
	assert_string_equal(search(&s, "KEP", "cccccccccccccccc", 0), "07");
	assert_index_consistent(&s);
	/* The new columns and tables work. */
	assert_int_equal(store_chat_put(&s, "cccccccccccccccc", "group", "g", NULL, 1,
					(const char *const[]){"alice", "bob"}, 2,
					(const char *const[]){"alice"}, 1),
			 0);
	assert_int_equal(store_mark_read(&s, "cccccccccccccccc", NULL, "alice", 1, 9), 1);
	assert_int_equal(store_receipts_pending(&s), 1);
	/* Prekeys (schema 7): ids from the counter, a secret kept under its id. */
	{
		uint32_t id1, id2;
		uint8_t sk[32], pk[32] = {9}, got[32];

		memset(sk, 7, sizeof sk);
		assert_int_equal(store_prekey_next_id(&s, &id1), 0);
		assert_int_equal(store_prekey_next_id(&s, &id2), 0);
		assert_true(id1 >= 1 && id2 == id1 + 1);
		assert_int_equal(store_opk_add(&s, id2, sk, pk), 0);
		assert_int_equal(store_prekey_secret(&s, 0, id2, got), 1);
		assert_memory_equal(got, sk, 32);
		assert_int_equal(store_prekey_secret(&s, 0, id1, got), 0);
	}
	/* Sessions (schema 8): stored, the newest sends, a retired one only
	 * reads; sender keys kept per chat and device. */
	{
		uint8_t key[32] = {1}, base[32] = {2}, base2[32] = {3}, blob8[8] = {4, 5};
		uint8_t *blob = NULL;
		size_t len = 0;
		struct store_dr d[2];

		assert_int_equal(store_dr_insert(&s, "bob", 1, key, base, NULL, blob8, 8, NULL), 0);
		assert_int_equal(store_dr_insert(&s, "bob", 1, key, base2, NULL, blob8, 8, NULL), 0);
		assert_int_equal(store_dr_has(&s, "bob", 1, key), 1);
		assert_int_equal(store_dr_load(&s, "bob", 1, d, 1), 1);
		assert_memory_equal(d[0].base_key, base2, 32);
		store_dr_free(&d[0]);
		assert_int_equal(store_dr_retire(&s, "bob", 1), 0);
		assert_int_equal(store_dr_has(&s, "bob", 1, key), 0);
		assert_int_equal(store_dr_load(&s, "bob", 1, d, 1), 0);
		assert_int_equal(store_dr_load(&s, "bob", 1, d, 2), 2);
		store_dr_free(&d[0]);
		store_dr_free(&d[1]);
		assert_int_equal(store_sk_peer_put(&s, "cccccccccccccccc", "bob", 1, 77, blob8, 8, 1), 0);
		assert_int_equal(store_sk_peer_get(&s, "cccccccccccccccc", "bob", 1, 77, &blob, &len), 1);
		assert_int_equal(len, 8);
		free(blob);
	}
	/* Edits (schema 12): a message stored before is edited by its sender,
	 * and search follows its text. */
	{
		struct chat_message e = {0};

		e.chat_id = "cccccccccccccccc";
		e.message_id = "00000000000000000000000000000008";
		e.sender = "bob";
		e.sender_device = 1;
		e.seq = 2;
		e.sent_at = 6;
		e.text = "renewed";
		e.text_len = 7;
		e.state = "received";
		e.kind = "edit";
		e.reply_to = "00000000000000000000000000000007";
		assert_int_equal(store_message_insert(&s, &e), 1);
		assert_int_equal(store_changes_apply(&s, e.reply_to),
				 STORE_CHANGE_EDITED | STORE_CHANGE_NEW);
		assert_string_equal(search(&s, "renewed", NULL, 0), "07");
		assert_string_equal(search(&s, "kept", NULL, 0), "");
		assert_index_consistent(&s);
	}
	store_close(&s);
	/* Opening again does not migrate twice. */
	assert_int_equal(store_open(&s, path), 0);
	store_close(&s);
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	rmdir(dir);
}

/* A cold command opens the store and closes it: when the schema is current
 * that writes nothing (no set-up transaction, no fsync), and the close leaves
 * the WAL as it is (no checkpoint, no delete: each costs fsyncs). What the WAL
 * holds is still read by the next open. */
static off_t
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void
test_store_open_writes_nothing(void **state)
{
	struct fixture *f = *state;
	char wal[128], buf[32];
	off_t before;

	snprintf(wal, sizeof wal, "%s-wal", f->path);
	assert_int_equal(store_meta_set(&f->s, "user", "alice"), 0);
	store_close(&f->s);
	before = file_size(wal);
	assert_true(before > 0);
	assert_int_equal(store_open(&f->s, f->path), 0);
	assert_int_equal(store_meta_get(&f->s, "user", buf, sizeof buf), 1);
	assert_string_equal(buf, "alice");
	store_close(&f->s);
	assert_int_equal(file_size(wal), before);
	/* The teardown closes it again. */
	assert_int_equal(store_open(&f->s, f->path), 0);
}

/* The heartbeat: from the option, else $CHAT_HEARTBEAT, else 25 s; the ping
 * at 40% of it; out-of-range values refused, not quietly replaced. */
static struct chat_client *
open_with_heartbeat(const char *home, int opt, const char *env, int *err)
{
	struct chat_opts o = CHAT_OPTS_INIT(.home = home, .heartbeat_s = opt);
	char errbuf[256];

	if (env != NULL)
		setenv("CHAT_HEARTBEAT", env, 1);
	else
		unsetenv("CHAT_HEARTBEAT");
	*err = CHAT_OK;
	return chat_client_new(&o, NULL, err, errbuf, sizeof errbuf);
}

static void
test_heartbeat(void **state)
{
	char home[] = "/tmp/test_client_hb.XXXXXX", p[128];
	static const struct {
		int opt;
		const char *env;
		int ping, hangup; /* 0: refused */
	} cases[] = {
		{0, NULL, 10, 25},       {0, "", 10, 25}, {0, "4", 1, 4},  {0, "2", 1, 2},
		{0, "3600", 1440, 3600}, {7, "4", 2, 7},  {0, "1", 0, 0},  {0, "3601", 0, 0},
		{0, "abc", 0, 0},        {0, "4s", 0, 0}, {1, NULL, 0, 0}, {-5, NULL, 0, 0},
		{3601, NULL, 0, 0},
	};

	(void)state;
	assert_non_null(mkdtemp(home));
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int err;
		struct chat_client *c = open_with_heartbeat(home, cases[i].opt, cases[i].env, &err);

		if (cases[i].hangup == 0) {
			assert_null(c);
			assert_int_equal(err, CHAT_ERR_INVALID);
			continue;
		}
		assert_non_null(c);
		assert_int_equal(proto_heartbeat_ping(c->heartbeat_s), cases[i].ping);
		assert_int_equal(c->heartbeat_s, cases[i].hangup);
		chat_client_destroy(c);
	}
	unsetenv("CHAT_HEARTBEAT");
	for (const char *const *f =
		     (const char *const[]){"store.db", "store.db-wal", "store.db-shm", NULL};
	     *f != NULL; f++) {
		snprintf(p, sizeof p, "%s/%s", home, *f);
		unlink(p);
	}
	rmdir(home);
}

/* ---- the handle's contract (chat.h) ------------------------------------------- */

static void
remove_home(const char *home)
{
	char p[128];

	for (const char *const *f =
		     (const char *const[]){"store.db", "store.db-wal", "store.db-shm", NULL};
	     *f != NULL; f++) {
		snprintf(p, sizeof p, "%s/%s", home, *f);
		unlink(p);
	}
	rmdir(home);
}

/* A program built against a newer chat.h: one member more. */
struct opts_v2 {
	struct chat_opts o;
	int future;
};

/* struct chat_opts is read as far as the program's size says: refused
 * without a size (or with what a libchat.so.0 program has there), taken from
 * a newer program as long as it sets nothing this library does not know. */
static void
test_sized_opts(void **state)
{
	char home[] = "/tmp/test_client_opts.XXXXXX", errbuf[256];
	struct chat_opts none = {.home = home};
	struct opts_v2 v2 = {.o = CHAT_OPTS_INIT(.home = home, .heartbeat_s = 7)};
	struct chat_client *c;
	int err = 0;

	(void)state;
	assert_non_null(mkdtemp(home));
	unsetenv("CHAT_HEARTBEAT");
	assert_null(chat_client_new(&none, NULL, &err, errbuf, sizeof errbuf));
	assert_int_equal(err, CHAT_ERR_INVALID);
	assert_non_null(strstr(errbuf, "CHAT_OPTS_INIT"));
	/* A pointer where the size goes (the layout of libchat.so.0). */
	memcpy(&none.size, &(const char *){home}, sizeof none.size);
	assert_null(chat_client_new(&none, NULL, &err, errbuf, sizeof errbuf));
	assert_int_equal(err, CHAT_ERR_INVALID);
	/* Newer, with its new member unset: fine, and what it set is used. */
	v2.o.size = sizeof v2;
	assert_non_null(c = chat_client_new(&v2.o, NULL, &err, errbuf, sizeof errbuf));
	assert_int_equal(c->heartbeat_s, 7);
	chat_client_destroy(c);
	/* Newer, asking for something this library cannot do: refused. */
	v2.future = 1;
	assert_null(chat_client_new(&v2.o, NULL, &err, errbuf, sizeof errbuf));
	assert_int_equal(err, CHAT_ERR_INVALID);
	assert_non_null(strstr(errbuf, "does not know"));
	/* The macro alone: every default. */
	assert_non_null(c = chat_client_new(&(struct chat_opts)CHAT_OPTS_INIT(.home = home), NULL,
					    &err, errbuf, sizeof errbuf));
	chat_client_destroy(c);
	remove_home(home);
}

/* chat_resolve_chat refuses what is no chat, NULL too, with the forms it
 * takes; a full id it has not seen is taken as it is (it may be on the
 * server). */
static void
test_resolve_chat_forms(void **state)
{
	char home[] = "/tmp/test_client_resolve.XXXXXX", errbuf[256];
	char out[CHAT_CHAT_ID_LEN + 1];
	struct chat_client *c;
	int err = 0;

	(void)state;
	assert_non_null(mkdtemp(home));
	assert_non_null(c = chat_client_new(&(struct chat_opts)CHAT_OPTS_INIT(.home = home), NULL,
					    &err, errbuf, sizeof errbuf));
	assert_int_equal(chat_resolve_chat(c, NULL, out), CHAT_ERR_INVALID);
	assert_non_null(strstr(chat_client_errmsg(c), "is not a chat id"));
	assert_int_equal(chat_resolve_chat(c, "abc", out), CHAT_ERR_INVALID);
	assert_int_equal(chat_resolve_chat(c, "@", out), CHAT_ERR_INVALID);
	assert_int_equal(chat_resolve_chat(c, "abcd", out), CHAT_ERR_NO_SUCH_CHAT);
	assert_int_equal(chat_resolve_chat(c, "0123456789abcdef", out), CHAT_OK);
	assert_string_equal(out, "0123456789abcdef");
	chat_client_destroy(c);
	remove_home(home);
}

/* chat_search refuses no words, too many bytes, and chats it does not have. */
static void
test_search_refuses(void **state)
{
	char home[] = "/tmp/test_client_search.XXXXXX", errbuf[256], big[CHAT_SEARCH_MAX + 2];
	struct chat_client *c;
	struct hits h = {0};
	int err = 0;

	(void)state;
	assert_non_null(mkdtemp(home));
	assert_non_null(c = chat_client_new(&(struct chat_opts)CHAT_OPTS_INIT(.home = home), NULL,
					    &err, errbuf, sizeof errbuf));
	assert_int_equal(chat_search(c, NULL, NULL, 0, collect_hit, &h), CHAT_ERR_INVALID);
	assert_int_equal(chat_search(c, " \t ", NULL, 0, collect_hit, &h), CHAT_ERR_INVALID);
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(chat_search(c, big, NULL, 0, collect_hit, &h), CHAT_ERR_INVALID);
	big[CHAT_SEARCH_MAX] = '\0';
	assert_int_equal(chat_search(c, big, NULL, 0, collect_hit, &h), 0);
	assert_int_equal(chat_search(c, "\xff", NULL, 0, collect_hit, &h), CHAT_ERR_INVALID);
	assert_int_equal(chat_search(c, "x", "abc", 0, collect_hit, &h), CHAT_ERR_INVALID);
	assert_int_equal(chat_search(c, "x", "0123456789abcdef", 0, collect_hit, &h),
			 CHAT_ERR_NO_SUCH_CHAT);
	assert_int_equal(chat_search(c, "NEAR(", NULL, 0, collect_hit, &h), 0);
	assert_int_equal(h.n, 0);
	chat_client_destroy(c);
	remove_home(home);
}

static int seen_messages;

static void
seen_message(struct chat_client *c, void *udata, const struct chat_message *m)
{
	(void)c;
	(void)udata;
	(void)m;
	seen_messages++;
}

/* struct chat_callbacks likewise; a refused one leaves the callbacks as they
 * were. */
static void
test_sized_callbacks(void **state)
{
	char home[] = "/tmp/test_client_cbs.XXXXXX";
	struct chat_callbacks good = CHAT_CALLBACKS_INIT(.on_message = seen_message);
	struct chat_callbacks bad = good;
	struct {
		struct chat_callbacks cbs;
		void (*on_future)(void);
	} v2 = {.cbs = good};
	struct chat_message m = {0};
	struct chat_client *c;

	(void)state;
	assert_non_null(mkdtemp(home));
	assert_non_null(c = chat_client_new(&(struct chat_opts)CHAT_OPTS_INIT(.home = home), NULL,
					    NULL, NULL, 0));
	assert_int_equal(chat_client_set_callbacks(c, &good), CHAT_OK);
	bad.size = 0;
	assert_int_equal(chat_client_set_callbacks(c, &bad), CHAT_ERR_INVALID);
	assert_non_null(strstr(chat_client_errmsg(c), "CHAT_CALLBACKS_INIT"));
	c->cbs.on_message(c, NULL, &m); /* still the good ones */
	assert_int_equal(seen_messages, 1);
	v2.cbs.size = sizeof v2;
	v2.on_future = (void (*)(void))seen_message;
	assert_int_equal(chat_client_set_callbacks(c, &v2.cbs), CHAT_ERR_INVALID);
	/* cppcheck-suppress redundantAssignment ; the call above read it in v2.cbs */
	v2.on_future = NULL;
	assert_int_equal(chat_client_set_callbacks(c, &v2.cbs), CHAT_OK);
	assert_int_equal(chat_client_set_callbacks(c, NULL), CHAT_OK);
	assert_null(c->cbs.on_message);
	chat_client_destroy(c);
	remove_home(home);
}

static int
stop_with(void *arg, const struct chat_message *m)
{
	(void)m;
	return *(int *)arg;
}

static int
stop_chat_with(void *arg, const struct chat_chat *ch)
{
	(void)ch;
	return *(int *)arg;
}

/* One stop rule for every walk: what each() stops with is what the call
 * returns, negative values too (they used to come back as CHAT_ERR_STORE,
 * with the message of some earlier failure). */
static void
test_walk_stop_rule(void **state)
{
	char home[] = "/tmp/test_client_walk.XXXXXX";
	const char *chat = "abababababababab", *two[] = {"alice", "bob"};
	struct chat_message m = msg("00000000000000000000000000000031", chat, 1, "hi");
	struct chat_client *c;
	int stop;

	(void)state;
	assert_non_null(mkdtemp(home));
	assert_non_null(c = chat_client_new(&(struct chat_opts)CHAT_OPTS_INIT(.home = home), NULL,
					    NULL, NULL, 0));
	assert_int_equal(store_chat_put(&c->store, chat, "direct", NULL, NULL, 1, two, 2, NULL, 0),
			 0);
	assert_int_equal(store_message_insert(&c->store, &m), 1);
	for (int i = 0; i < 3; i++) {
		stop = (int[]){7, -7, CHAT_ERR_STORE}[i];
		assert_int_equal(chat_history(c, chat, 0, stop_with, &stop), stop);
		assert_int_equal(chat_list_chats(c, stop_chat_with, &stop), stop);
		assert_string_equal(chat_client_errmsg(c), "");
	}
	stop = 0;
	assert_int_equal(chat_history(c, chat, 0, stop_with, &stop), 0);
	chat_client_destroy(c);
	remove_home(home);
}

/* What the dispatch test's callbacks saw. */
static int bad_reports, bad_err, bad_reply_err;

static void
count_receive_error(struct chat_client *c, void *udata, const char *message_id, int err,
		    const char *detail)
{
	(void)c;
	(void)udata;
	(void)message_id;
	bad_reports++;
	bad_err = err;
	assert_non_null(strstr(detail, "U+0000"));
}

static void
note_reply(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	(void)c;
	(void)op;
	(void)reply;
	bad_reply_err = err;
}

/* Feed one frame (a C string) to the session, as if received. */
static void
feed(struct chat_client *c, const char *frame)
{
	char buf[1024];
	size_t n = strlen(frame);

	assert_true(n < sizeof buf);
	memcpy(buf, frame, n + 1);
	session_on_frame(c, buf, n);
}

/*
 * Frames from the server get the same scrub as the server gives requests
 * (issue 10, item 2): a push holding U+0000 is reported and ignored, never
 * acked (cJSON would have stored the group's name cut at the NUL), and a
 * reply holding one fails its request as a protocol error.
 */
static void
test_dispatch_bad_strings(void **state)
{
	char home[] = "/tmp/test_client_scrub.XXXXXX", p[128];
	struct chat_opts o = CHAT_OPTS_INIT(.home = home);
	struct chat_client *c;
	cJSON *req;
	int err;
	static const char update[] =
		"{\"type\":\"chatUpdate\",\"chatId\":\"0123456789abcdef\","
		"\"updateId\":\"00112233445566778899aabbccddeeff\",\"seq\":1,\"sentAt\":5,"
		"\"kind\":\"group\",\"name\":\"climb%sing\",\"actor\":\"bob\","
		"\"operation\":\"create\",\"users\":[\"alice\",\"bob\"],"
		"\"participants\":[\"alice\",\"bob\"],\"admins\":[\"bob\"]}";
	char frame[1024];

	(void)state;
	assert_non_null(mkdtemp(home));
	c = chat_client_new(&o, NULL, &err, NULL, 0);
	assert_non_null(c);
	c->cbs.on_receive_error = count_receive_error;
	snprintf(c->user, sizeof c->user, "alice");
	c->state = CHAT_STATE_ONLINE;

	snprintf(frame, sizeof frame, update, "\\u0000");
	feed(c, frame);
	assert_int_equal(bad_reports, 1);
	assert_int_equal(bad_err, CHAT_ERR_PROTOCOL);
	assert_int_equal(c->n_acks, 0);
	/* The same push whole is taken, and acked. */
	snprintf(frame, sizeof frame, update, "");
	feed(c, frame);
	assert_int_equal(bad_reports, 1);
	assert_int_equal(c->n_acks, 1);

	/* A reply: the request ends with a protocol error. */
	req = cJSON_CreateObject();
	assert_non_null(req);
	assert_non_null(cJSON_AddStringToObject(req, "type", "getChat"));
	assert_int_equal(session_request(c, req, note_reply, NULL, 0), CHAT_OK);
	c->reqs->sent = 1;
	bad_reply_err = 1;
	snprintf(frame, sizeof frame, "{\"id\":%lld,\"ok\":true,\"name\":\"\\u0000\"}",
		 (long long)c->reqs->id);
	feed(c, frame);
	assert_int_equal(bad_reply_err, CHAT_ERR_PROTOCOL);
	assert_null(c->reqs);
	assert_non_null(strstr(chat_client_errmsg(c), "U+0000"));

	chat_client_destroy(c);
	for (const char *const *f =
		     (const char *const[]){"store.db", "store.db-wal", "store.db-shm", NULL};
	     *f != NULL; f++) {
		snprintf(p, sizeof p, "%s/%s", home, *f);
		unlink(p);
	}
	rmdir(home);
}

/* What test_admin_updates saw: the updates handed over, the history. */
static char seen_desc[64];
static int seen_updates;

static void
note_update(struct chat_client *c, void *udata, const struct chat_update *u)
{
	(void)c;
	(void)udata;
	seen_updates++;
	snprintf(seen_desc, sizeof seen_desc, "%s", u->description ? u->description : "(null)");
}

static int
join_history(void *arg, const struct chat_message *m)
{
	char *out = arg;
	size_t len = strlen(out);

	snprintf(out + len, 1024 - len, "%s|", m->text);
	return 0;
}

static int
note_chat(void *arg, const struct chat_chat *ch)
{
	snprintf(arg, 128, "%s/%s", ch->name ? ch->name : "(null)",
		 ch->description ? ch->description : "(null)");
	return 0;
}

static int
join_admins(void *arg, const char *user, int admin)
{
	if (admin)
		strcat(arg, user);
	return 0;
}

/*
 * The updates of group administration (issue 14): promote, demote, rename
 * and describe are stored as history events worded for people, the chat
 * keeps its latest name and description (a later update without one keeps
 * it), and on_update gets the description of a describe only.
 */
static void
test_admin_updates(void **state)
{
	char home[] = "/tmp/test_client_admin.XXXXXX", p[128], hist[1024] = "", about[128];
	char admins[64] = "";
	struct chat_opts o = CHAT_OPTS_INIT(.home = home);
	struct chat_client *c;
	int err;
	static const char update[] =
		"{\"type\":\"chatUpdate\",\"chatId\":\"0123456789abcdef\","
		"\"updateId\":\"00112233445566778899aabbccddee%02d\",\"seq\":%d,\"sentAt\":5,"
		"\"kind\":\"group\",\"name\":\"%s\",\"actor\":\"%s\",\"operation\":\"%s\","
		"\"users\":[%s],\"participants\":[\"alice\",\"bob\",\"carol\"],"
		"\"admins\":[%s]%s}";
	char frame[1024];

	(void)state;
	assert_non_null(mkdtemp(home));
	c = chat_client_new(&o, NULL, &err, NULL, 0);
	assert_non_null(c);
	c->cbs.on_update = note_update;
	snprintf(c->user, sizeof c->user, "alice");
	c->state = CHAT_STATE_ONLINE;

	snprintf(frame, sizeof frame, update, 1, 1, "club", "alice", "create",
		 "\"alice\",\"bob\",\"carol\"", "\"alice\"", "");
	feed(c, frame);
	snprintf(frame, sizeof frame, update, 2, 2, "club", "alice", "promote", "\"bob\",\"carol\"",
		 "\"alice\",\"bob\",\"carol\"", "");
	feed(c, frame);
	assert_string_equal(seen_desc, "(null)");
	snprintf(frame, sizeof frame, update, 3, 3, "club", "bob", "demote", "\"alice\"",
		 "\"bob\",\"carol\"", "");
	feed(c, frame);
	snprintf(frame, sizeof frame, update, 4, 4, "book club", "bob", "rename", "",
		 "\"bob\",\"carol\"", "");
	feed(c, frame);
	snprintf(frame, sizeof frame, update, 5, 5, "book club", "carol", "describe", "",
		 "\"bob\",\"carol\"", ",\"description\":\"we read\"");
	feed(c, frame);
	assert_string_equal(seen_desc, "we read");
	/* A later update without a description keeps the one known. */
	snprintf(frame, sizeof frame, update, 6, 6, "book club", "carol", "promote", "\"alice\"",
		 "\"alice\",\"bob\",\"carol\"", "");
	feed(c, frame);
	assert_int_equal(seen_updates, 6);
	assert_int_equal(c->n_acks, 6);

	assert_int_equal(chat_history(c, "0123456789abcdef", 0, join_history, hist), 0);
	assert_string_equal(hist, "alice created the group \"club\"|"
				  "alice made bob, carol admins|"
				  "bob removed alice as admin|"
				  "bob renamed the group to \"book club\"|"
				  "carol changed the description to \"we read\"|"
				  "carol made alice an admin|");
	assert_int_equal(chat_get_chat(c, "0123456789abcdef", note_chat, about), 0);
	assert_string_equal(about, "book club/we read");
	assert_int_equal(chat_members(c, "0123456789abcdef", join_admins, admins), 0);
	assert_string_equal(admins, "alicebobcarol");
	assert_int_equal(chat_get_chat(c, "0123456789abcdee", note_chat, about),
			 CHAT_ERR_NO_SUCH_CHAT);
	chat_client_destroy(c);
	for (const char *const *f =
		     (const char *const[]){"store.db", "store.db-wal", "store.db-shm", NULL};
	     *f != NULL; f++) {
		snprintf(p, sizeof p, "%s/%s", home, *f);
		unlink(p);
	}
	rmdir(home);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dispatch_bad_strings),
		cmocka_unit_test(test_admin_updates),
		cmocka_unit_test_setup_teardown(test_message_stored_once, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_history_order_and_limit, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_pins, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_resolve, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_receipt_states, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_mark_read_and_owed, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_stmt_cache_nested, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_stmt_cache_reset, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_stmt_cache_close, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_bind_failure_refuses, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_disk_full_loses_nothing, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_closed_store, store_setup, store_teardown),
		cmocka_unit_test_setup_teardown(test_closed_under_walk, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_every_statement_prepares, store_setup,
						store_teardown),
		cmocka_unit_test(test_search_query_rule),
		cmocka_unit_test_setup_teardown(test_search_finds_words, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_search_never_fails, store_setup,
						store_teardown),
		cmocka_unit_test_setup_teardown(test_search_follows_changes, store_setup,
						store_teardown),
		cmocka_unit_test(test_store_migrates_v1),
		cmocka_unit_test_setup_teardown(test_store_open_writes_nothing, store_setup,
						store_teardown),
		cmocka_unit_test(test_heartbeat),
		cmocka_unit_test(test_sized_opts),
		cmocka_unit_test(test_resolve_chat_forms),
		cmocka_unit_test(test_search_refuses),
		cmocka_unit_test(test_sized_callbacks),
		cmocka_unit_test(test_walk_stop_rule),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
