/*
 * test_server_wire_chats.c - chat-server's requests of chats and groups
 * (server-stub/wire_chats.c): direct chats, groups and their changes with the
 * chatUpdate each leaves, the size of a group, and adds of strangers;
 * admins (PROMOTE, DEMOTE) and a group's name and description (updateChat).
 */
#include "server_fixture.h"

/* createChat of a direct chat, once per pair whoever asks; getChat for its
 * members only. */
static void
test_direct_chats(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib, ic;
	struct session a, b, c;
	char chat[17], self[17];
	cJSON *r, *u;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	registered(f, &c, 3, "carol", &ic);
	r = call(f, &b,
		 "{\"id\":4,\"type\":\"createChat\",\"participants\":"
		 "[\"alice\"]}");
	expect_ok(r, 4);
	snprintf(chat, sizeof chat, "%s", str(r, "chatId"));
	assert_string_equal(str(r, "kind"), "direct");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "created")));
	u = cJSON_GetObjectItemCaseSensitive(r, "participants");
	assert_string_equal(cJSON_GetArrayItem(u, 0)->valuestring, "alice");
	assert_string_equal(cJSON_GetArrayItem(u, 1)->valuestring, "bob");
	cJSON_Delete(r);
	r = call(f, &a,
		 "{\"id\":5,\"type\":\"createChat\",\"participants\":"
		 "[\"bob\",\"alice\"]}");
	expect_ok(r, 5);
	assert_string_equal(str(r, "chatId"), chat);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "created")));
	cJSON_Delete(r);
	/* Herself alone: notes to self, a direct chat of one member, the same
	 * one every time; not the chat with bob. [] names no one. */
	r = call(f, &a, "{\"id\":6,\"type\":\"createChat\",\"participants\":[\"alice\"]}");
	expect_ok(r, 6);
	assert_string_equal(str(r, "kind"), "direct");
	assert_string_not_equal(str(r, "chatId"), chat);
	u = cJSON_GetObjectItemCaseSensitive(r, "participants");
	assert_int_equal(cJSON_GetArraySize(u), 1);
	assert_string_equal(cJSON_GetArrayItem(u, 0)->valuestring, "alice");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "created")));
	snprintf(self, sizeof self, "%s", str(r, "chatId"));
	cJSON_Delete(r);
	r = call(f, &a,
		 "{\"id\":6,\"type\":\"createChat\",\"participants\":[\"alice\",\"alice\"]}");
	expect_ok(r, 6);
	assert_string_equal(str(r, "chatId"), self);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "created")));
	cJSON_Delete(r);
	expect_error(call(f, &b, "{\"id\":6,\"type\":\"getChat\",\"chatId\":\"%s\"}", self),
		     "no_such_chat", 6);
	/* alice's only device: a note goes with no envelope, and gets its seq;
	 * bob, no member, cannot write to it. */
	r = call(f, &a,
		 "{\"id\":6,\"type\":\"sendMessage\",\"chatId\":\"%s\","
		 "\"messageId\":\"00112233445566778899aabbccddeeff\",\"envelopes\":[]}",
		 self);
	expect_ok(r, 6);
	assert_true(num(r, "seq") >= 1);
	cJSON_Delete(r);
	expect_error(call(f, &b,
			  "{\"id\":6,\"type\":\"sendMessage\",\"chatId\":\"%s\","
			  "\"messageId\":\"00112233445566778899aabbccddee00\",\"envelopes\":[]}",
			  self),
		     "no_such_chat", 6);
	expect_error(call(f, &a, "{\"id\":6,\"type\":\"createChat\",\"participants\":[]}"),
		     "bad_participants", 6);
	r = call(f, &a, "{\"id\":7,\"type\":\"getChat\",\"chatId\":\"%s\"}", chat);
	expect_ok(r, 7);
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "name")));
	(void)num(r, "createdAt");
	cJSON_Delete(r);
	expect_error(call(f, &c, "{\"id\":8,\"type\":\"getChat\",\"chatId\":\"%s\"}", chat),
		     "no_such_chat", 8);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
	e2e_identity_wipe(&ic);
}

static void
names_are(const cJSON *o, const char *k, const char *want)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, k), *v;
	char got[4096] = "";
	size_t len = 0;

	assert_true(cJSON_IsArray(arr));
	cJSON_ArrayForEach(v, arr) {
		assert_true(cJSON_IsString(v));
		len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", len ? "," : "",
					v->valuestring);
	}
	assert_string_equal(got, want);
}

struct pushes {
	size_t n;
	char *text[16];
};

static int
push_row(void *udata, const struct db_inbox_row *row)
{
	struct pushes *p = udata;

	assert_true(p->n < 16);
	p->text[p->n] = wire_inbox_push(row);
	assert_non_null(p->text[p->n]);
	p->n++;
	return 0;
}

/* The device's inbox as the pushes the server would send. */
static cJSON *
pushes_of(struct fixture *f, const char *user, uint32_t dev, size_t want)
{
	struct pushes p = {0};
	cJSON *arr = cJSON_CreateArray();
	size_t n, i;

	assert_int_equal(db_inbox_load(f->db, user, dev, 0, 64, push_row, &p, &n), DB_OK);
	assert_int_equal(p.n, want);
	for (i = 0; i < p.n; i++) {
		cJSON_AddItemToArray(arr, cJSON_Parse(p.text[i]));
		free(p.text[i]);
	}
	return arr;
}

static void
test_groups(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib;
	struct session a, b;
	char big[70], frame[4096], g[17];
	size_t len, i;
	cJSON *r, *u, *pushes;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	quick_user(f, "carol");
	quick_user(f, "dave");

	/* The name: 1 to 64 bytes of UTF-8; null is no name (direct). */
	expect_error(call(f, &a,
			  "{\"id\":2,\"type\":\"createChat\",\"name\":\"\","
			  "\"participants\":[\"bob\"]}"),
		     "bad_request", 2);
	memset(big, 'x', 65);
	big[65] = '\0';
	expect_error(call(f, &a,
			  "{\"id\":3,\"type\":\"createChat\",\"name\":\"%s\","
			  "\"participants\":[\"bob\"]}",
			  big),
		     "too_large", 3);
	expect_error(call(f, &a,
			  "{\"id\":4,\"type\":\"createChat\",\"name\":\"\xc3\x28\","
			  "\"participants\":[\"bob\"]}"),
		     "bad_request", 4);
	expect_error(call(f, &a,
			  "{\"id\":5,\"type\":\"createChat\",\"name\":5,"
			  "\"participants\":[\"bob\"]}"),
		     "bad_request", 5);
	expect_error(call(f, &a,
			  "{\"id\":6,\"type\":\"createChat\",\"name\":\"x\","
			  "\"participants\":[\"bob\",\"zed\"]}"),
		     "unknown_user", 6);
	r = call(f, &a,
		 "{\"id\":7,\"type\":\"createChat\",\"name\":null,"
		 "\"participants\":[\"bob\"]}");
	expect_ok(r, 7);
	assert_string_equal(str(r, "kind"), "direct");
	assert_null(cJSON_GetObjectItemCaseSensitive(r, "seq"));
	cJSON_Delete(r);
	assert_int_equal(f->n_inbox, 0);

	/* 64 bytes of UTF-8 (32 two-byte letters) is a fine name. */
	for (len = 0; len < 64; len += 2)
		memcpy(big + len, "\xc3\xa9", 2);
	big[64] = '\0';
	r = call(f, &a,
		 "{\"id\":8,\"type\":\"createChat\",\"name\":\"%s\","
		 "\"participants\":[\"carol\",\"bob\",\"alice\",\"bob\"]}",
		 big);
	expect_ok(r, 8);
	snprintf(g, sizeof g, "%s", str(r, "chatId"));
	assert_string_equal(str(r, "kind"), "group");
	assert_string_equal(str(r, "name"), big);
	names_are(r, "participants", "alice,bob,carol");
	names_are(r, "admins", "alice");
	assert_true(num(r, "seq") == 1);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "created")));
	cJSON_Delete(r);
	assert_int_equal(f->n_inbox, 3); /* every device, the creator's too */

	/* The create update, as every member's device gets it. */
	pushes = pushes_of(f, "alice", 1, 1);
	u = cJSON_GetArrayItem(pushes, 0);
	assert_string_equal(str(u, "type"), "chatUpdate");
	assert_string_equal(str(u, "chatId"), g);
	assert_int_equal(strlen(str(u, "updateId")), 32);
	assert_true(num(u, "seq") == 1);
	(void)num(u, "sentAt");
	assert_string_equal(str(u, "kind"), "group");
	assert_string_equal(str(u, "name"), big);
	assert_string_equal(str(u, "actor"), "alice");
	assert_string_equal(str(u, "operation"), "create");
	names_are(u, "users", "alice,bob,carol");
	names_are(u, "participants", "alice,bob,carol");
	names_are(u, "admins", "alice");
	assert_null(cJSON_GetObjectItemCaseSensitive(u, "id"));
	cJSON_Delete(pushes);

	r = call(f, &b, "{\"id\":9,\"type\":\"getChat\",\"chatId\":\"%s\"}", g);
	expect_ok(r, 9);
	assert_string_equal(str(r, "name"), big);
	names_are(r, "admins", "alice");
	cJSON_Delete(r);

	/* modifyChatParticipants: the forms first. */
	expect_error(call(f, &a,
			  "{\"id\":10,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
			  "\"operation\":\"add\",\"users\":[\"dave\"]}",
			  g),
		     "bad_request", 10);
	expect_error(call(f, &a,
			  "{\"id\":11,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
			  "\"operation\":\"ADD\",\"users\":[]}",
			  g),
		     "bad_request", 11);
	len = (size_t)snprintf(frame, sizeof frame,
			       "{\"id\":12,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
			       "\"operation\":\"ADD\",\"users\":[",
			       g);
	for (i = 0; i < 100; i++)
		len += (size_t)snprintf(frame + len, sizeof frame - len, "%s\"u%zu\"", i ? "," : "",
					i);
	snprintf(frame + len, sizeof frame - len, "]}");
	expect_error(call(f, &a, "%s", frame), "too_large", 12);
	expect_error(call(f, &b,
			  "{\"id\":13,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
			  "\"operation\":\"ADD\",\"users\":[\"dave\"]}",
			  g),
		     "not_admin", 13);
	expect_error(call(f, &a,
			  "{\"id\":14,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
			  "\"operation\":\"ADD\",\"users\":[\"dave\",\"bob\"]}",
			  g),
		     "already_member", 14);
	expect_error(call(f, &a,
			  "{\"id\":15,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
			  "\"operation\":\"REMOVE\",\"users\":[\"dave\"]}",
			  g),
		     "not_member", 15);
	expect_error(call(f, &a,
			  "{\"id\":16,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
			  "\"operation\":\"ADD\",\"users\":[\"dave\",\"Zed\"]}",
			  g),
		     "invalid_user", 16);
	expect_error(call(f, &a,
			  "{\"id\":17,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
			  "\"operation\":\"ADD\",\"users\":[\"dave\",\"zed\"]}",
			  g),
		     "unknown_user", 17);
	expect_error(call(f, &a,
			  "{\"id\":18,\"type\":\"modifyChatParticipants\",\"chatId\":"
			  "\"0123456789abcdef\",\"operation\":\"ADD\",\"users\":[\"dave\"]}"),
		     "no_such_chat", 18);
	assert_int_equal(f->n_inbox, 3);

	r = call(f, &a,
		 "{\"id\":19,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
		 "\"operation\":\"ADD\",\"users\":[\"dave\",\"dave\"]}",
		 g);
	expect_ok(r, 19);
	assert_string_equal(str(r, "chatId"), g);
	assert_true(num(r, "seq") == 2);
	names_are(r, "participants", "alice,bob,carol,dave");
	names_are(r, "admins", "alice");
	cJSON_Delete(r);
	assert_int_equal(f->n_inbox, 7);

	/* bob leaves: his device gets the update too, as leave. */
	r = call(f, &b,
		 "{\"id\":20,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
		 "\"operation\":\"REMOVE\",\"users\":[\"bob\"]}",
		 g);
	expect_ok(r, 20);
	assert_true(num(r, "seq") == 3);
	names_are(r, "participants", "alice,carol,dave");
	cJSON_Delete(r);
	assert_int_equal(f->n_inbox, 11);
	pushes = pushes_of(f, "bob", 1, 3);
	u = cJSON_GetArrayItem(pushes, 2);
	assert_string_equal(str(u, "operation"), "leave");
	assert_string_equal(str(u, "actor"), "bob");
	names_are(u, "users", "bob");
	cJSON_Delete(pushes);
	expect_error(call(f, &b, "{\"id\":21,\"type\":\"getChat\",\"chatId\":\"%s\"}", g),
		     "no_such_chat", 21);

	/* A direct chat's members are fixed. */
	r = call(f, &a, "{\"id\":22,\"type\":\"createChat\",\"participants\":[\"carol\"]}");
	expect_ok(r, 22);
	snprintf(g, sizeof g, "%s", str(r, "chatId"));
	cJSON_Delete(r);
	expect_error(call(f, &a,
			  "{\"id\":23,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
			  "\"operation\":\"ADD\",\"users\":[\"dave\"]}",
			  g),
		     "bad_request", 23);
	r = call(f, &a, "{\"id\":24,\"type\":\"getChat\",\"chatId\":\"%s\"}", g);
	names_are(r, "admins", "");
	cJSON_Delete(r);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
}

static void
test_group_limit(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia;
	struct session a;
	char frame[4096], user[8];
	size_t len, i;
	cJSON *r, *e;

	registered(f, &a, 1, "u0", &ia);
	for (i = 1; i <= 100; i++) {
		snprintf(user, sizeof user, "u%zu", i);
		quick_user(f, user);
	}
	/* u0 and 100 others: 101, one too many; the message says how many. */
	for (int n = 100; n >= 99; n--) {
		len = (size_t)snprintf(frame, sizeof frame,
				       "{\"id\":%d,\"type\":\"createChat\",\"name\":\"big\","
				       "\"participants\":[",
				       n);
		for (i = 1; i <= (size_t)n; i++)
			len += (size_t)snprintf(frame + len, sizeof frame - len, "%s\"u%zu\"",
						i > 1 ? "," : "", i);
		snprintf(frame + len, sizeof frame - len, "]}");
		r = call(f, &a, "%s", frame);
		if (n == 100) {
			e = cJSON_GetObjectItemCaseSensitive(r, "error");
			assert_non_null(strstr(str(e, "message"), "100"));
			expect_error(r, "too_large", n);
		} else {
			expect_ok(r, n);
			assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
						 r, "participants")),
					 100);
			cJSON_Delete(r);
		}
	}
	e2e_identity_wipe(&ia);
}

/*
 * Groups made of strangers (issue 10, item 12): being added to groups by
 * people one never took part in a chat with is limited per day, and adding
 * such people per hour; contacts are added freely.
 */
static void
test_stranger_adds(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity im, iv;
	struct session m, v;
	char chat[PROTO_CHAT_ID_LEN + 1], g[PROTO_CHAT_ID_LEN + 1];
	const cJSON *e;
	cJSON *r;
	int i;

	f->hooks.add_limits = (struct db_add_limits){.per_target_day = 2, .per_adder_hour = 4};
	registered(f, &m, 1, "mallory", &im);
	registered(f, &v, 2, "victim", &iv);
	quick_user(f, "s1");
	quick_user(f, "s2");
	quick_user(f, "s3");
	/* Two groups with the victim in them; the third is refused. */
	for (i = 1; i <= 3; i++) {
		r = call(f, &m,
			 "{\"id\":%d,\"type\":\"createChat\",\"name\":\"g%d\","
			 "\"participants\":[\"victim\"]}",
			 i, i);
		if (i < 3) {
			expect_ok(r, i);
			snprintf(g, sizeof g, "%s", str(r, "chatId"));
			cJSON_Delete(r);
			continue;
		}
		e = cJSON_GetObjectItemCaseSensitive(r, "error");
		assert_non_null(strstr(str(e, "message"), "'victim' was added to 2 groups"));
		expect_error(r, "too_many_group_adds", 3);
	}
	/* mallory's own hourly share: 2 spent, 2 left (s1, s2); s3 is one more. */
	r = call(f, &m,
		 "{\"id\":6,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
		 "\"operation\":\"ADD\",\"users\":[\"s1\"]}",
		 g);
	expect_ok(r, 6);
	cJSON_Delete(r);
	r = call(f, &m,
		 "{\"id\":7,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
		 "\"operation\":\"ADD\",\"users\":[\"s2\"]}",
		 g);
	expect_ok(r, 7);
	cJSON_Delete(r);
	r = call(f, &m,
		 "{\"id\":8,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
		 "\"operation\":\"ADD\",\"users\":[\"s3\"]}",
		 g);
	e = cJSON_GetObjectItemCaseSensitive(r, "error");
	assert_non_null(strstr(str(e, "message"), "in the last hour"));
	expect_error(r, "too_many_group_adds", 8);
	r = call(f, &m, "{\"id\":5,\"type\":\"getChat\",\"chatId\":\"%s\"}", g);
	names_are(r, "participants", "mallory,s1,s2,victim");
	cJSON_Delete(r);
	/* Once the victim writes to mallory, mallory adds them freely. */
	direct(f, &v, "mallory", chat);
	r = send_env(f, &v, 9, chat, 3, envelope("mallory", 16));
	expect_ok(r, 9);
	cJSON_Delete(r);
	r = call(f, &m,
		 "{\"id\":10,\"type\":\"createChat\",\"name\":\"g3\","
		 "\"participants\":[\"victim\"]}");
	expect_ok(r, 10);
	cJSON_Delete(r);
	e2e_identity_wipe(&im);
	e2e_identity_wipe(&iv);
}

/* PROMOTE and DEMOTE, updateChat: their forms, rules and errors, the
 * replies, the pushes every member's device gets, getChat's description. */
static void
test_group_admin(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib;
	struct session a, b;
	char g[17], d[17], big[600];
	cJSON *r, *pushes, *u;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	quick_user(f, "carol");
	r = call(f, &a,
		 "{\"id\":2,\"type\":\"createChat\",\"name\":\"club\","
		 "\"participants\":[\"bob\",\"carol\"]}");
	expect_ok(r, 2);
	snprintf(g, sizeof g, "%s", str(r, "chatId"));
	cJSON_Delete(r);
	r = call(f, &a, "{\"id\":3,\"type\":\"createChat\",\"participants\":[\"bob\"]}");
	expect_ok(r, 3);
	snprintf(d, sizeof d, "%s", str(r, "chatId"));
	cJSON_Delete(r);

	/* getChat: a group has a description, "" until set; a direct chat none. */
	r = call(f, &b, "{\"id\":4,\"type\":\"getChat\",\"chatId\":\"%s\"}", g);
	expect_ok(r, 4);
	assert_string_equal(str(r, "description"), "");
	cJSON_Delete(r);
	r = call(f, &b, "{\"id\":5,\"type\":\"getChat\",\"chatId\":\"%s\"}", d);
	expect_ok(r, 5);
	assert_null(cJSON_GetObjectItemCaseSensitive(r, "description"));
	cJSON_Delete(r);

	/* PROMOTE/DEMOTE refusals, each with its code. */
	expect_error(call(f, &b,
			  "{\"id\":6,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
			  "\"operation\":\"PROMOTE\",\"users\":[\"bob\"]}",
			  g),
		     "not_admin", 6);
	expect_error(call(f, &a,
			  "{\"id\":7,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
			  "\"operation\":\"DEMOTE\",\"users\":[\"alice\"]}",
			  g),
		     "last_admin", 7);
	expect_error(call(f, &a,
			  "{\"id\":8,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
			  "\"operation\":\"DEMOTE\",\"users\":[\"bob\"]}",
			  g),
		     "not_an_admin", 8);
	expect_error(call(f, &a,
			  "{\"id\":9,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
			  "\"operation\":\"PROMOTE\",\"users\":[\"alice\"]}",
			  g),
		     "already_admin", 9);
	expect_error(call(f, &a,
			  "{\"id\":10,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
			  "\"operation\":\"PROMOTE\",\"users\":[\"bob\"]}",
			  d),
		     "bad_request", 10);
	expect_error(call(f, &a,
			  "{\"id\":11,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
			  "\"operation\":\"promote\",\"users\":[\"bob\"]}",
			  g),
		     "bad_request", 11);
	assert_int_equal(f->n_inbox, 3); /* the create's only */

	r = call(f, &a,
		 "{\"id\":12,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
		 "\"operation\":\"PROMOTE\",\"users\":[\"bob\"]}",
		 g);
	expect_ok(r, 12);
	assert_true(num(r, "seq") == 2);
	names_are(r, "admins", "alice,bob");
	cJSON_Delete(r);
	/* A retry is refused: the change is made once. */
	expect_error(call(f, &a,
			  "{\"id\":13,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
			  "\"operation\":\"PROMOTE\",\"users\":[\"bob\"]}",
			  g),
		     "already_admin", 13);
	r = call(f, &b,
		 "{\"id\":14,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
		 "\"operation\":\"DEMOTE\",\"users\":[\"alice\"]}",
		 g);
	expect_ok(r, 14);
	names_are(r, "admins", "bob");
	cJSON_Delete(r);

	/* updateChat: forms and limits, then the rules. */
	expect_error(call(f, &b, "{\"id\":15,\"type\":\"updateChat\",\"chatId\":\"%s\"}", g),
		     "bad_request", 15);
	expect_error(call(f, &b,
			  "{\"id\":16,\"type\":\"updateChat\",\"chatId\":\"%s\",\"name\":\"x\","
			  "\"description\":\"y\"}",
			  g),
		     "bad_request", 16);
	expect_error(call(f, &b,
			  "{\"id\":17,\"type\":\"updateChat\",\"chatId\":\"%s\",\"name\":\"\"}", g),
		     "bad_request", 17);
	expect_error(call(f, &b,
			  "{\"id\":18,\"type\":\"updateChat\",\"chatId\":\"%s\","
			  "\"name\":\"a\\nb\"}",
			  g),
		     "bad_request", 18);
	expect_error(call(f, &b,
			  "{\"id\":19,\"type\":\"updateChat\",\"chatId\":\"%s\","
			  "\"description\":\"bell\\u0007\"}",
			  g),
		     "bad_request", 19);
	memset(big, 'x', 513);
	big[513] = '\0';
	expect_error(call(f, &b,
			  "{\"id\":20,\"type\":\"updateChat\",\"chatId\":\"%s\","
			  "\"description\":\"%s\"}",
			  g, big),
		     "too_large", 20);
	expect_error(call(f, &a,
			  "{\"id\":21,\"type\":\"updateChat\",\"chatId\":\"%s\",\"name\":\"x\"}",
			  g),
		     "not_admin", 21);
	expect_error(call(f, &a,
			  "{\"id\":22,\"type\":\"updateChat\",\"chatId\":\"%s\",\"name\":\"x\"}",
			  d),
		     "bad_request", 22);
	r = call(f, &b, "{\"id\":23,\"type\":\"updateChat\",\"chatId\":\"%s\",\"name\":\"books\"}",
		 g);
	expect_ok(r, 23);
	assert_string_equal(str(r, "name"), "books");
	assert_true(num(r, "seq") == 4);
	cJSON_Delete(r);
	big[512] = '\0'; /* the most a description may be */
	memcpy(big, "two\\nlines", 10);
	r = call(f, &b,
		 "{\"id\":24,\"type\":\"updateChat\",\"chatId\":\"%s\",\"description\":\"%s\"}", g,
		 big);
	expect_ok(r, 24);
	assert_int_equal(strlen(str(r, "description")), 511); /* "\n" is one byte */
	assert_true(num(r, "seq") == 5);
	cJSON_Delete(r);
	r = call(f, &a, "{\"id\":25,\"type\":\"getChat\",\"chatId\":\"%s\"}", g);
	expect_ok(r, 25);
	assert_string_equal(str(r, "name"), "books");
	assert_int_equal(strncmp(str(r, "description"), "two\nlines", 9), 0);
	cJSON_Delete(r);

	/* carol's device gets every change as a chatUpdate, in order. */
	pushes = pushes_of(f, "carol", 1, 5);
	u = cJSON_GetArrayItem(pushes, 1);
	assert_string_equal(str(u, "operation"), "promote");
	assert_string_equal(str(u, "actor"), "alice");
	names_are(u, "users", "bob");
	names_are(u, "admins", "alice,bob");
	u = cJSON_GetArrayItem(pushes, 2);
	assert_string_equal(str(u, "operation"), "demote");
	names_are(u, "users", "alice");
	names_are(u, "admins", "bob");
	u = cJSON_GetArrayItem(pushes, 3);
	assert_string_equal(str(u, "operation"), "rename");
	assert_string_equal(str(u, "name"), "books");
	names_are(u, "users", "");
	assert_null(cJSON_GetObjectItemCaseSensitive(u, "description"));
	u = cJSON_GetArrayItem(pushes, 4);
	assert_string_equal(str(u, "operation"), "describe");
	assert_true(num(u, "seq") == 5);
	assert_int_equal(strncmp(str(u, "description"), "two\nlines", 9), 0);
	cJSON_Delete(pushes);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_direct_chats, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_groups, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_group_limit, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_stranger_adds, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_group_admin, setup_wire, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
