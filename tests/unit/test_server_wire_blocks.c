/*
 * test_server_wire_blocks.c - chat-server's block, unblock and listBlocked,
 * the blocked push, the list in the auth reply, and what a block stops that
 * the request layer decides: typing, group adds and last seen
 * (server-stub/wire_blocks.c, wire_messages.c, wire_chats.c,
 * wire_presence.c).
 */
#include "server_fixture.h"

/* What the user_push and ephemeral hooks were handed. */
struct pushed_frames {
	int n_user;
	char user[PROTO_USER_MAX + 1];
	char frame[4096];
	int n_typing;
};

static void
user_push(void *udata, const char *user, const char *frame)
{
	struct pushed_frames *p = ((struct fixture *)udata)->hooks_extra;

	p->n_user++;
	snprintf(p->user, sizeof p->user, "%s", user);
	snprintf(p->frame, sizeof p->frame, "%s", frame);
}

static int
ephemeral(void *udata, const char *user, uint32_t device_id, const char *frame)
{
	struct pushed_frames *p = ((struct fixture *)udata)->hooks_extra;

	(void)user;
	(void)device_id;
	(void)frame;
	p->n_typing++;
	return 1;
}

/* The names of r's member k, joined by commas. */
static const char *
names_of(const cJSON *r, const char *k)
{
	static char out[256];
	const cJSON *v;

	out[0] = '\0';
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(r, k)) {
		if (out[0] != '\0')
			strncat(out, ",", sizeof out - strlen(out) - 1);
		strncat(out, cJSON_IsString(v) ? v->valuestring : "?",
			sizeof out - strlen(out) - 1);
	}
	return out;
}

static void
setup_hooks(struct fixture *f, struct pushed_frames *p)
{
	memset(p, 0, sizeof *p);
	f->hooks.user_push = user_push;
	f->hooks.ephemeral = ephemeral;
	f->hooks.udata = f;
	f->hooks_extra = p;
}

/* The requests: their errors, idempotence, the reply's list, the push to
 * the user's devices on a change only, and the list in the auth reply. */
static void
test_requests(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib;
	struct session a, b, b2;
	struct pushed_frames p;
	cJSON *r, *push;

	setup_hooks(f, &p);
	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	quick_user(f, "carol");

	expect_error(call(f, &b, "{\"id\":1,\"type\":\"block\",\"user\":\"bob\"}"), "bad_request",
		     1);
	expect_error(call(f, &b, "{\"id\":2,\"type\":\"block\",\"user\":\"nobody\"}"),
		     "unknown_user", 2);
	expect_error(call(f, &b, "{\"id\":3,\"type\":\"block\",\"user\":\"Bad!\"}"), "invalid_user",
		     3);
	expect_error(call(f, &b, "{\"id\":4,\"type\":\"block\"}"), "bad_request", 4);
	expect_error(call(f, &b, "{\"id\":5,\"type\":\"unblock\",\"user\":7}"), "bad_request", 5);
	expect_error(call(f, &b, "{\"id\":6,\"type\":\"unblock\",\"user\":\"nobody\"}"),
		     "unknown_user", 6);
	assert_int_equal(p.n_user, 0);

	r = call(f, &b, "{\"id\":7,\"type\":\"block\",\"user\":\"carol\"}");
	expect_ok(r, 7);
	assert_string_equal(str(r, "user"), "carol");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "changed")));
	assert_string_equal(names_of(r, "users"), "carol");
	cJSON_Delete(r);
	assert_int_equal(p.n_user, 1);
	assert_string_equal(p.user, "bob");
	push = cJSON_Parse(p.frame);
	assert_string_equal(str(push, "type"), "blocked");
	assert_string_equal(names_of(push, "users"), "carol");
	cJSON_Delete(push);

	r = call(f, &b, "{\"id\":8,\"type\":\"block\",\"user\":\"alice\"}");
	expect_ok(r, 8);
	assert_string_equal(names_of(r, "users"), "alice,carol");
	cJSON_Delete(r);
	/* Again: no change, no push. */
	r = call(f, &b, "{\"id\":9,\"type\":\"block\",\"user\":\"alice\"}");
	expect_ok(r, 9);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "changed")));
	cJSON_Delete(r);
	assert_int_equal(p.n_user, 2);

	r = call(f, &b, "{\"id\":10,\"type\":\"listBlocked\"}");
	expect_ok(r, 10);
	assert_string_equal(names_of(r, "users"), "alice,carol");
	cJSON_Delete(r);
	r = call(f, &a, "{\"id\":11,\"type\":\"listBlocked\"}");
	expect_ok(r, 11);
	assert_string_equal(names_of(r, "users"), "");
	cJSON_Delete(r);

	/* Any device of bob's gets the list with its auth. */
	open_session(f, &b2, 3);
	r = do_auth(f, &b2, 1, "bob", 1, &ib);
	expect_ok(r, 1);
	assert_string_equal(names_of(r, "blocked"), "alice,carol");
	cJSON_Delete(r);

	r = call(f, &b, "{\"id\":12,\"type\":\"unblock\",\"user\":\"carol\"}");
	expect_ok(r, 12);
	assert_string_equal(names_of(r, "users"), "alice");
	cJSON_Delete(r);
	assert_int_equal(p.n_user, 3);
	push = cJSON_Parse(p.frame);
	assert_string_equal(names_of(push, "users"), "alice");
	cJSON_Delete(push);
	r = call(f, &b, "{\"id\":13,\"type\":\"unblock\",\"user\":\"carol\"}");
	expect_ok(r, 13);
	cJSON_Delete(r);
	assert_int_equal(p.n_user, 3);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
}

/* Typing to a blocker is not relayed (nor counted); group adds by the
 * blocked user are refused, naming the member; last seen is hidden both
 * ways. */
static void
test_enforced(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib, ic;
	struct session a, b, c;
	struct pushed_frames p;
	char chat[PROTO_CHAT_ID_LEN + 1], ct[64];
	uint8_t raw[40];
	const cJSON *u;
	cJSON *r;

	setup_hooks(f, &p);
	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	registered(f, &c, 3, "carol", &ic);
	direct(f, &a, "bob", chat);
	direct(f, &b, "alice", chat);
	r = call(f, &b, "{\"id\":1,\"type\":\"block\",\"user\":\"alice\"}");
	expect_ok(r, 1);
	cJSON_Delete(r);

	randombytes_buf(raw, sizeof raw);
	b64(raw, sizeof raw, ct, sizeof ct);
	r = call(f, &a,
		 "{\"id\":2,\"type\":\"typing\",\"chatId\":\"%s\",\"envelopes\":"
		 "[{\"user\":\"bob\",\"deviceId\":1,\"ciphertext\":\"%s\"}]}",
		 chat, ct);
	expect_ok(r, 2);
	assert_true(num(r, "relayed") == 0);
	cJSON_Delete(r);
	assert_int_equal(p.n_typing, 0);
	/* The other way it goes. */
	r = call(f, &b,
		 "{\"id\":3,\"type\":\"typing\",\"chatId\":\"%s\",\"envelopes\":"
		 "[{\"user\":\"alice\",\"deviceId\":1,\"ciphertext\":\"%s\"}]}",
		 chat, ct);
	expect_ok(r, 3);
	assert_true(num(r, "relayed") == 1);
	cJSON_Delete(r);

	r = call(f, &a,
		 "{\"id\":4,\"type\":\"createChat\",\"name\":\"g\","
		 "\"participants\":[\"carol\",\"bob\"]}");
	expect_error(r, "blocked", 4);
	r = call(f, &c,
		 "{\"id\":5,\"type\":\"createChat\",\"name\":\"g\","
		 "\"participants\":[\"alice\",\"bob\"]}");
	expect_ok(r, 5);
	cJSON_Delete(r);

	r = call(f, &a, "{\"id\":6,\"type\":\"getLastSeen\",\"users\":[\"bob\"]}");
	expect_ok(r, 6);
	u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "users"), 0);
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(u, "lastSeen")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(u, "online")));
	cJSON_Delete(r);
	r = call(f, &b, "{\"id\":7,\"type\":\"getLastSeen\",\"users\":[\"alice\"]}");
	expect_ok(r, 7);
	u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "users"), 0);
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(u, "online")));
	cJSON_Delete(r);
	/* Unblocked, they are contacts again. */
	r = call(f, &b, "{\"id\":8,\"type\":\"unblock\",\"user\":\"alice\"}");
	cJSON_Delete(r);
	r = call(f, &a, "{\"id\":9,\"type\":\"getLastSeen\",\"users\":[\"bob\"]}");
	u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "users"), 0);
	assert_true(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(u, "online")));
	cJSON_Delete(r);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
	e2e_identity_wipe(&ic);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_requests, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_enforced, setup_wire, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
