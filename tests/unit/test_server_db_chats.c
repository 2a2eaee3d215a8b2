/*
 * test_server_db_chats.c - chat-server's store: chats
 * (server-stub/db_chats.c): direct chats once per pair, groups, their members
 * and admins, and the updates in each chat's one sequence.
 */
#include "server_fixture.h"

#include "db_sql.h" /* db_update_parse */

static void
members_are(struct db *db, const char *chat, const char *viewer, const char *members,
	    const char *admins)
{
	struct db_chat *c = malloc(sizeof *c);
	char got[4096] = "";

	assert_non_null(c);
	assert_int_equal(db_get_chat(db, chat, viewer, c), DB_OK);
	join_names(got, sizeof got, (const name_t *)c->members, c->n_members);
	assert_string_equal(got, members);
	got[0] = '\0';
	join_names(got, sizeof got, (const name_t *)c->admins, c->n_admins);
	assert_string_equal(got, admins);
	free(c);
}

static void
test_direct_chat_dedup(void **state)
{
	struct fixture *f = *state;
	char ab[17], ba[17], ac[17], missing[33];
	struct db_chat *c = malloc(sizeof *c);
	int created;

	assert_non_null(c);
	chat_of(f->db, "alice", "bob", ab, 1);
	chat_of(f->db, "bob", "alice", ba, 0); /* either side, same chat */
	assert_string_equal(ab, ba);
	chat_of(f->db, "alice", "carol", ac, 1);
	assert_string_not_equal(ab, ac);
	assert_int_equal(strlen(ab), 16);

	assert_int_equal(db_direct_chat(f->db, "alice", "zed", 1, ac, &created, missing),
			 DB_NOT_FOUND);
	assert_string_equal(missing, "zed");

	assert_int_equal(db_get_chat(f->db, ab, "bob", c), DB_OK);
	assert_string_equal(c->chat_id, ab);
	assert_string_equal(c->kind, "direct");
	assert_false(c->has_name);
	assert_int_equal(c->created_at, 2000);
	assert_int_equal(c->n_members, 2);
	assert_string_equal(c->members[0], "alice");
	assert_string_equal(c->members[1], "bob");
	/* Not a member looks exactly like no such chat. */
	assert_int_equal(db_get_chat(f->db, ab, "carol", c), DB_NOT_FOUND);
	assert_int_equal(db_get_chat(f->db, "0123456789abcdef", "bob", c), DB_NOT_FOUND);
	free(c);
}

/* Chat ids drawn from a fixed sequence, to force a collision. */
static int draws;

static void
colliding_random(void *buf, size_t len)
{
	/* First two draws give the same id, the third a different one. */
	memset(buf, draws++ < 2 ? 0xaa : 0xbb, len);
}

static void
test_chat_id_collision_draws_again(void **state)
{
	struct fixture *f = *state;
	char ab[17], ac[17];

	draws = 0;
	db_random_fn = colliding_random;
	chat_of(f->db, "alice", "bob", ab, 1);
	chat_of(f->db, "alice", "carol", ac, 1);
	db_random_fn = randombytes_buf;
	assert_string_equal(ab, "aaaaaaaaaaaaaaaa");
	assert_string_equal(ac, "bbbbbbbbbbbbbbbb");
	assert_int_equal(draws, 3);
}

static void
test_group_create_limits(void **state)
{
	struct fixture *f = *state;
	struct db_change_result *res = malloc(sizeof *res);
	const char *names[101];
	char users[101][8];
	struct rows rows;
	size_t i;

	assert_non_null(res);
	/* u0 creates; u1..u100 are the others. */
	for (i = 0; i < 101; i++) {
		snprintf(users[i], sizeof users[i], "u%zu", i);
		reg(f->db, users[i], NULL, (uint8_t)(10 + i), DB_OK, 1);
		names[i] = users[i];
	}
	/* 101 members, the creator included: refused, nothing stored. */
	assert_int_equal(group(f->db, "u0", names + 1, 100, 1000, res), DB_TOO_LARGE);
	db_change_result_free(res);
	load_all(f->db, "u0", 1, &rows);
	assert_int_equal(rows.n, 0);
	/* Listing the creator too changes nothing: still 101. */
	assert_int_equal(group(f->db, "u0", names, 101, 1000, res), DB_TOO_LARGE);
	db_change_result_free(res);

	/* 100 members: fine; every device gets the create update, the
	 * creator's own included. */
	assert_int_equal(group(f->db, "u0", names, 100, 1000, res), DB_OK);
	assert_int_equal(res->op, DB_OP_CREATE);
	assert_int_equal(res->seq, 1);
	assert_int_equal(res->n_participants, 100);
	assert_int_equal(res->n_admins, 1);
	assert_string_equal(res->admins[0], "u0");
	assert_int_equal(res->n_recipients, 100);
	load_all(f->db, "u0", 1, &rows);
	assert_int_equal(rows.n, 1);
	assert_true(rows.update[0]);
	assert_string_equal(rows.mid[0], res->update_id);
	assert_non_null(strstr(rows.body[0], "create 1 u0 users=u0,u1,u10,"));
	load_all(f->db, "u99", 1, &rows);
	assert_int_equal(rows.n, 1);
	load_all(f->db, "u100", 1, &rows);
	assert_int_equal(rows.n, 0);
	/* ... and a 101st cannot be added. */
	{
		char chat[17];

		memcpy(chat, res->chat_id, sizeof chat);
		db_change_result_free(res);
		assert_int_equal(change(f->db, chat, "u0", 1, &names[100], 1, 2000, res),
				 DB_TOO_LARGE);
		db_change_result_free(res);
	}

	/* An unknown member: named, nothing stored. */
	names[1] = "nobody";
	assert_int_equal(group(f->db, "u0", names, 3, 1000, res), DB_UNKNOWN_USER);
	assert_string_equal(res->bad_user, "nobody");
	db_change_result_free(res);
	load_all(f->db, "u2", 1, &rows);
	assert_int_equal(rows.n, 1); /* the first group's only */
	/* A group of the creator alone is a group. */
	assert_int_equal(group(f->db, "u0", NULL, 0, 1000, res), DB_OK);
	assert_int_equal(res->n_participants, 1);
	assert_int_equal(res->n_recipients, 1);
	db_change_result_free(res);
	free(res);
}

static void
test_group_change_rules(void **state)
{
	struct fixture *f = *state;
	struct db_change_result *res = malloc(sizeof *res);
	const char *bc[] = {"bob", "carol"};
	char g[17], direct_id[17];
	struct rows rows;

	assert_non_null(res);
	reg(f->db, "dave", NULL, 4, DB_OK, 1);
	assert_int_equal(group(f->db, "alice", bc, 2, 1000, res), DB_OK);
	memcpy(g, res->chat_id, sizeof g);
	db_change_result_free(res);
	members_are(f->db, g, "bob", "alice,bob,carol", "alice");

	/* Each refusal changes nothing, even when only one user is wrong. */
	{
		const char *dave = "dave", *bob = "bob", *zed = "zed";
		const char *dave_zed[] = {"dave", "zed"}, *dave_bob[] = {"dave", "bob"};
		const char *bob_carol[] = {"bob", "carol"}, *carol_dave[] = {"carol", "dave"};

		assert_int_equal(change(f->db, g, "bob", 1, &dave, 1, 2, res), DB_NOT_ADMIN);
		assert_int_equal(change(f->db, g, "alice", 1, &bob, 1, 2, res), DB_ALREADY_MEMBER);
		assert_string_equal(res->bad_user, "bob");
		assert_int_equal(change(f->db, g, "alice", 0, &dave, 1, 2, res), DB_NOT_MEMBER);
		assert_string_equal(res->bad_user, "dave");
		assert_int_equal(change(f->db, g, "alice", 1, &zed, 1, 2, res), DB_UNKNOWN_USER);
		assert_int_equal(change(f->db, g, "alice", 1, dave_zed, 2, 2, res),
				 DB_UNKNOWN_USER);
		assert_string_equal(res->bad_user, "zed");
		assert_int_equal(change(f->db, g, "alice", 1, dave_bob, 2, 2, res),
				 DB_ALREADY_MEMBER);
		assert_int_equal(change(f->db, g, "alice", 0, carol_dave, 2, 2, res),
				 DB_NOT_MEMBER);
		/* A member removing others, or themselves with others. */
		assert_int_equal(change(f->db, g, "bob", 0, bob_carol, 2, 2, res), DB_NOT_ADMIN);
		assert_int_equal(change(f->db, g, "bob", 0, &zed, 1, 2, res), DB_NOT_ADMIN);
		/* Not in the chat, no such chat, a direct_id chat. */
		assert_int_equal(change(f->db, g, "dave", 1, &dave, 1, 2, res), DB_NOT_FOUND);
		assert_int_equal(change(f->db, "0123456789abcdef", "alice", 1, &dave, 1, 2, res),
				 DB_NOT_FOUND);
		chat_of(f->db, "alice", "bob", direct_id, 1);
		assert_int_equal(change(f->db, direct_id, "alice", 1, &dave, 1, 2, res),
				 DB_WRONG_KIND);
		assert_int_equal(change(f->db, direct_id, "carol", 1, &dave, 1, 2, res), DB_NOT_FOUND);
		db_change_result_free(res);
	}
	members_are(f->db, g, "alice", "alice,bob,carol", "alice");
	load_all(f->db, "bob", 1, &rows);
	assert_int_equal(rows.n, 1); /* the create update only */

	/* What is allowed: the next seq each, no seq used by the refusals. */
	assert_int_equal(change_ok(f->db, g, "alice", 1, "dave", 3000, DB_OP_ADD), 2);
	members_are(f->db, g, "dave", "alice,bob,carol,dave", "alice");
	/* A member leaves: any member may. */
	assert_int_equal(change_ok(f->db, g, "bob", 0, "bob", 4000, DB_OP_LEAVE), 3);
	assert_int_equal(change_ok(f->db, g, "alice", 0, "dave", 5000, DB_OP_REMOVE), 4);
	members_are(f->db, g, "alice", "alice,carol", "alice");
	assert_int_equal(db_get_chat(f->db, g, "bob", &(struct db_chat){0}), DB_NOT_FOUND);
	/* An admin removing only themselves leaves too. */
	assert_int_equal(change_ok(f->db, g, "alice", 0, "alice", 6000, DB_OP_LEAVE), 5);
	members_are(f->db, g, "carol", "carol", "carol");
	free(res);
}

static void
test_group_admin_promotion(void **state)
{
	struct fixture *f = *state;
	struct db_change_result *res = malloc(sizeof *res);
	const char *carol = "carol";
	char g[17];
	struct rows rows;

	assert_non_null(res);
	reg(f->db, "dave", NULL, 4, DB_OK, 1);
	/* carol joins at 1000, bob and dave later: the earliest comes first,
	 * whatever the names; at the same time, the first by name. */
	assert_int_equal(group(f->db, "alice", &carol, 1, 1000, res), DB_OK);
	memcpy(g, res->chat_id, sizeof g);
	db_change_result_free(res);
	change_ok(f->db, g, "alice", 1, "dave", 2000, DB_OP_ADD);
	change_ok(f->db, g, "alice", 1, "bob", 2000, DB_OP_ADD);
	assert_int_equal(change_ok(f->db, g, "alice", 0, "alice", 3000, DB_OP_LEAVE), 4);
	members_are(f->db, g, "bob", "bob,carol,dave", "carol");
	/* The leave update already shows the new admin. */
	load_all(f->db, "alice", 1, &rows);
	assert_string_equal(rows.body[rows.n - 1],
			    "leave 4 alice users=alice members=bob,carol,dave admins=carol");
	change_ok(f->db, g, "carol", 0, "carol", 4000, DB_OP_LEAVE);
	members_are(f->db, g, "bob", "bob,dave", "bob");
	/* An admin that is not the last one leaving changes no one. */
	change_ok(f->db, g, "bob", 1, "carol", 5000, DB_OP_ADD);
	change_ok(f->db, g, "dave", 0, "dave", 6000, DB_OP_LEAVE);
	members_are(f->db, g, "bob", "bob,carol", "bob");
	/* The last member leaves: an empty group, its update still reaches
	 * the one who left, and nobody can send or add any more. */
	change_ok(f->db, g, "bob", 0, "bob", 7000, DB_OP_LEAVE);
	change_ok(f->db, g, "carol", 0, "carol", 8000, DB_OP_LEAVE);
	load_all(f->db, "carol", 1, &rows);
	assert_string_equal(rows.body[rows.n - 1], "leave 9 carol users=carol members= admins=");
	assert_int_equal(change(f->db, g, "carol", 1, &carol, 1, 9000, res), DB_NOT_FOUND);
	db_change_result_free(res);
	free(res);
}

/* Several admins: only admins promote and demote, a group keeps one, every
 * refusal changes nothing and takes no seq; each change is an update to
 * every member's devices. */
static void
test_group_admins(void **state)
{
	struct fixture *f = *state;
	struct db_change_result *res = malloc(sizeof *res);
	const char *bc[] = {"bob", "carol"}, *bob = "bob", *carol = "carol", *alice = "alice";
	const char *dave = "dave", *zed = "zed", *alice_bob[] = {"alice", "bob"};
	char g[17], direct_id[17];
	struct rows rows;

	assert_non_null(res);
	reg(f->db, "dave", NULL, 4, DB_OK, 1);
	assert_int_equal(group(f->db, "alice", bc, 2, 1000, res), DB_OK);
	memcpy(g, res->chat_id, sizeof g);
	db_change_result_free(res);

	assert_int_equal(change_admins(f->db, g, "bob", 1, &bob, 1, 2000, res), DB_NOT_ADMIN);
	assert_int_equal(change_admins(f->db, g, "alice", 1, &dave, 1, 2000, res), DB_NOT_MEMBER);
	assert_string_equal(res->bad_user, "dave");
	assert_int_equal(change_admins(f->db, g, "alice", 1, &zed, 1, 2000, res), DB_UNKNOWN_USER);
	assert_int_equal(change_admins(f->db, g, "alice", 1, &alice, 1, 2000, res), DB_ROLE_SAME);
	assert_int_equal(change_admins(f->db, g, "alice", 0, &bob, 1, 2000, res), DB_ROLE_SAME);
	assert_string_equal(res->bad_user, "bob");
	/* The last admin cannot go, alone or with others. */
	assert_int_equal(change_admins(f->db, g, "alice", 0, &alice, 1, 2000, res), DB_LAST_ADMIN);
	assert_int_equal(change_admins(f->db, g, "dave", 1, &dave, 1, 2000, res), DB_NOT_FOUND);
	chat_of(f->db, "alice", "bob", direct_id, 1);
	assert_int_equal(change_admins(f->db, direct_id, "alice", 1, &bob, 1, 2000, res),
			 DB_WRONG_KIND);
	db_change_result_free(res);
	members_are(f->db, g, "bob", "alice,bob,carol", "alice");

	/* bob becomes an admin (seq 2, after the create), adds dave, and
	 * takes alice's role away; both at once would leave none. */
	assert_int_equal(change_admins(f->db, g, "alice", 1, &bob, 1, 3000, res), DB_OK);
	assert_int_equal(res->seq, 2);
	assert_int_equal(res->op, DB_OP_PROMOTE);
	assert_int_equal(res->n_recipients, 3);
	db_change_result_free(res);
	members_are(f->db, g, "carol", "alice,bob,carol", "alice,bob");
	assert_int_equal(change_ok(f->db, g, "bob", 1, "dave", 4000, DB_OP_ADD), 3);
	assert_int_equal(change_admins(f->db, g, "bob", 0, alice_bob, 2, 5000, res), DB_LAST_ADMIN);
	assert_int_equal(change_admins(f->db, g, "bob", 0, &alice, 1, 5000, res), DB_OK);
	assert_int_equal(res->seq, 4);
	db_change_result_free(res);
	members_are(f->db, g, "alice", "alice,bob,carol,dave", "bob");
	/* alice is a plain member now. */
	assert_int_equal(change_admins(f->db, g, "alice", 1, &carol, 1, 6000, res), DB_NOT_ADMIN);
	db_change_result_free(res);

	load_all(f->db, "carol", 1, &rows);
	assert_int_equal(rows.n, 4);
	assert_string_equal(rows.body[1],
			    "promote 2 alice users=bob members=alice,bob,carol admins=alice,bob");
	assert_string_equal(rows.body[3], "demote 4 bob users=alice members=alice,bob,carol,dave "
					  "admins=bob");
	load_all(f->db, "dave", 1, &rows);
	assert_int_equal(rows.n, 2); /* the add that let him in, the demote */
	free(res);
}

static enum db_status
edit(struct db *db, const char *chat, const char *actor, const char *name, const char *desc,
     int64_t now, struct db_change_result *res)
{
	struct db_group_edit req = {.chat_id = chat,
				    .actor = actor,
				    .actor_device = 1,
				    .name = name,
				    .description = desc,
				    .now = now};

	return db_edit_group(db, &req, res);
}

/* A stored creation reads back with its name, and one stored before it
 * kept the name (no fifth part) still reads, with no text. */
static void
test_update_parse_create(void **state)
{
	struct fixture *f = *state;
	struct db_update u;

	memset(&u, 0, sizeof u);
	assert_int_equal(db_update_parse(f->db, "create\nalice bob\nalice bob\nalice", &u), 0);
	assert_int_equal(u.op, DB_OP_CREATE);
	assert_int_equal(u.n_admins, 1);
	assert_null(u.text);
	assert_int_equal(db_update_parse(f->db, "create\nalice bob\nalice bob\nalice\nrope club", &u),
			 0);
	assert_int_equal(u.n_admins, 1);
	assert_string_equal(u.text, "rope club");
	/* add never had a text: a fifth part is malformed as before. */
	assert_int_equal(db_update_parse(f->db, "add\nbob\nalice bob\nalice\nx", &u), -1);
}

/* Rename and describe: admins only, an update each with its text (a
 * description's line breaks kept), getChat the latest. */
static void
test_group_rename_describe(void **state)
{
	struct fixture *f = *state;
	struct db_change_result *res = malloc(sizeof *res);
	const char *bob = "bob";
	struct db_chat *c = malloc(sizeof *c);
	char g[17], direct_id[17];
	struct rows rows;

	assert_non_null(res);
	assert_non_null(c);
	assert_int_equal(group(f->db, "alice", &bob, 1, 1000, res), DB_OK);
	memcpy(g, res->chat_id, sizeof g);
	db_change_result_free(res);
	assert_int_equal(db_get_chat(f->db, g, "bob", c), DB_OK);
	assert_string_equal(c->description, "");

	assert_int_equal(edit(f->db, g, "bob", "mine", NULL, 2000, res), DB_NOT_ADMIN);
	assert_int_equal(edit(f->db, g, "carol", "mine", NULL, 2000, res), DB_NOT_FOUND);
	chat_of(f->db, "alice", "bob", direct_id, 1);
	assert_int_equal(edit(f->db, direct_id, "alice", NULL, "x", 2000, res), DB_WRONG_KIND);
	db_change_result_free(res);

	assert_int_equal(edit(f->db, g, "alice", "ropes", NULL, 3000, res), DB_OK);
	assert_int_equal(res->seq, 2);
	assert_int_equal(res->op, DB_OP_RENAME);
	assert_string_equal(res->name, "ropes");
	db_change_result_free(res);
	assert_int_equal(edit(f->db, g, "alice", NULL, "line one\nline two", 4000, res), DB_OK);
	assert_int_equal(res->seq, 3);
	assert_string_equal(res->description, "line one\nline two");
	db_change_result_free(res);
	assert_int_equal(edit(f->db, g, "alice", "knots", NULL, 5000, res), DB_OK);
	db_change_result_free(res);
	assert_int_equal(db_get_chat(f->db, g, "bob", c), DB_OK);
	assert_string_equal(c->name, "knots");
	assert_string_equal(c->description, "line one\nline two");

	/* Each update keeps the text it set, not the chat's latest: the
	 * creation its first name too (a device that catches up later shows
	 * "created the group "climbing"", then the renames). */
	load_all(f->db, "bob", 1, &rows);
	assert_int_equal(rows.n, 4);
	assert_string_equal(rows.body[0], "create 1 alice users=alice,bob members=alice,bob "
					  "admins=alice text=climbing");
	assert_string_equal(rows.body[1], "rename 2 alice users= members=alice,bob admins=alice "
					  "text=ropes");
	assert_string_equal(rows.body[2], "describe 3 alice users= members=alice,bob "
					  "admins=alice text=line one\nline two");
	assert_string_equal(rows.body[3], "rename 4 alice users= members=alice,bob admins=alice "
					  "text=knots");
	/* An empty description removes it, and is an update too. */
	assert_int_equal(edit(f->db, g, "alice", NULL, "", 6000, res), DB_OK);
	db_change_result_free(res);
	load_all(f->db, "bob", 1, &rows);
	assert_string_equal(rows.body[4], "describe 5 alice users= members=alice,bob admins=alice "
					  "text=");
	assert_int_equal(db_get_chat(f->db, g, "bob", c), DB_OK);
	assert_string_equal(c->description, "");
	free(c);
	free(res);
}

/* Messages and updates share the chat's one sequence, and each device gets
 * them in commit order. */
static void
test_group_shared_sequence(void **state)
{
	struct fixture *f = *state;
	struct db_change_result *res = malloc(sizeof *res);
	const char *bob = "bob";
	uint8_t ct[40] = {0};
	struct db_envelope e[2];
	struct db_send_result sr;
	struct rows rows;
	char g[17];

	assert_non_null(res);
	assert_int_equal(group(f->db, "alice", &bob, 1, 1000, res), DB_OK);
	assert_int_equal(res->seq, 1);
	memcpy(g, res->chat_id, sizeof g);
	db_change_result_free(res);
	e[0] = env_to("bob", 1, ct, sizeof ct);
	assert_int_equal(send_msg(f->db, g, M1, "alice", 1, e, 1, 2000, &sr), DB_OK);
	assert_int_equal(sr.seq, 2);
	db_send_result_free(&sr);
	assert_int_equal(change_ok(f->db, g, "alice", 1, "carol", 3000, DB_OP_ADD), 3);
	/* carol is in the device set now. */
	assert_int_equal(send_msg(f->db, g, M2, "bob", 1, e, 0, 4000, &sr), DB_MISMATCH);
	assert_int_equal(sr.n_missing, 2);
	db_send_result_free(&sr);
	e[0] = env_to("alice", 1, ct, sizeof ct);
	e[1] = env_to("carol", 1, ct, sizeof ct);
	assert_int_equal(send_msg(f->db, g, M2, "bob", 1, e, 2, 4000, &sr), DB_OK);
	assert_int_equal(sr.seq, 4);
	db_send_result_free(&sr);

	load_all(f->db, "bob", 1, &rows);
	assert_int_equal(rows.n, 3); /* create, alice's message, the add */
	assert_int_equal(rows.seq[0], 1);
	assert_true(rows.update[0]);
	assert_int_equal(rows.seq[1], 2);
	assert_false(rows.update[1]);
	assert_string_equal(rows.mid[1], M1);
	assert_int_equal(rows.seq[2], 3);
	assert_string_equal(rows.body[2], "add 3 alice users=carol members=alice,bob,carol "
					  "admins=alice");
	/* carol has nothing from before she joined. */
	load_all(f->db, "carol", 1, &rows);
	assert_int_equal(rows.n, 2);
	assert_int_equal(rows.seq[0], 3);
	assert_int_equal(rows.seq[1], 4);

	/* An update is acked like a message; its id is not a message id. */
	{
		char ack[1][PROTO_MESSAGE_ID_LEN + 1];
		int64_t acked;

		memcpy(ack[0], rows.mid[0], sizeof ack[0]);
		assert_int_equal(db_ack(f->db, "carol", 1,
					(const char(*)[PROTO_MESSAGE_ID_LEN + 1]) ack, 1, &acked),
				 DB_OK);
		assert_int_equal(acked, 1);
		assert_int_equal(send_msg(f->db, g, ack[0], "alice", 1, e, 0, 1, &sr),
				 DB_DUPLICATE);
		db_send_result_free(&sr);
	}
	free(res);
}

/* Removed members get the update, then nothing; they cannot send. */
static void
test_group_removed_members(void **state)
{
	struct fixture *f = *state;
	struct db_change_result *res = malloc(sizeof *res);
	const char *bc[] = {"bob", "carol"};
	uint8_t ct[40] = {0};
	struct db_envelope e[2];
	struct db_send_result sr;
	struct rows rows;
	char g[17];
	size_t i;

	assert_non_null(res);
	add_device(f, "carol", 2);
	assert_int_equal(group(f->db, "alice", bc, 2, 1000, res), DB_OK);
	memcpy(g, res->chat_id, sizeof g);
	assert_int_equal(res->n_recipients, 4); /* carol has two devices */
	db_change_result_free(res);
	{
		const char *carol = "carol";

		assert_int_equal(change(f->db, g, "alice", 0, &carol, 1, 2000, res), DB_OK);
	}
	/* The update went to every device of the members after it and of
	 * carol. */
	assert_int_equal(res->n_recipients, 4);
	for (i = 0; i < res->n_recipients; i++)
		assert_true(strcmp(res->recipients[i].user, "bob") != 0 ||
			    res->recipients[i].device_id == 1);
	assert_string_equal(res->recipients[2].user, "carol");
	assert_int_equal(res->recipients[3].device_id, 2);
	db_change_result_free(res);
	load_all(f->db, "carol", 2, &rows);
	assert_int_equal(rows.n, 2);
	assert_string_equal(rows.body[1], "remove 2 alice users=carol members=alice,bob "
					  "admins=alice");

	/* carol's devices are out of the device set; she cannot send. */
	e[0] = env_to("bob", 1, ct, sizeof ct);
	e[1] = env_to("carol", 1, ct, sizeof ct);
	assert_int_equal(send_msg(f->db, g, M1, "alice", 1, e, 2, 3000, &sr), DB_MISMATCH);
	assert_int_equal(sr.n_extra, 1);
	assert_string_equal(sr.extra[0].user, "carol");
	db_send_result_free(&sr);
	assert_int_equal(send_msg(f->db, g, M1, "alice", 1, e, 1, 3000, &sr), DB_OK);
	db_send_result_free(&sr);
	e[0] = env_to("alice", 1, ct, sizeof ct);
	e[1] = env_to("bob", 1, ct, sizeof ct);
	assert_int_equal(send_msg(f->db, g, M2, "carol", 1, e, 2, 3000, &sr), DB_NOT_FOUND);
	db_send_result_free(&sr);
	load_all(f->db, "carol", 1, &rows);
	assert_int_equal(rows.n, 2); /* nothing after the remove */
	free(res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_direct_chat_dedup, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_chat_id_collision_draws_again, setup_store,
						teardown),
		cmocka_unit_test_setup_teardown(test_group_create_limits, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_group_change_rules, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_group_admin_promotion, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_group_admins, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_group_rename_describe, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_update_parse_create, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_group_shared_sequence, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_group_removed_members, setup_store, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
