/*
 * test_server_wire.c - chat-server's request layer (server-stub/wire.c):
 * JSON frames in, reply frames out, with a real store in a temporary
 * directory and real signatures, but no network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <sodium.h>

#include "db.h"
#include "e2e.h"
#include "wire.h"

struct fixture {
	char dir[64];
	char path[96];
	struct db *db;
	struct wire_hooks hooks;
	int n_auth;
	struct session *last_auth;
	int n_inbox;
	char inbox_user[CHAT_USER_MAX + 1];
	uint32_t inbox_device;
};

static void
on_auth(void *udata, struct session *s)
{
	struct fixture *f = udata;

	f->n_auth++;
	f->last_auth = s;
}

static void
on_inbox(void *udata, const char *user, uint32_t device_id)
{
	struct fixture *f = udata;

	f->n_inbox++;
	snprintf(f->inbox_user, sizeof f->inbox_user, "%s", user);
	f->inbox_device = device_id;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[256];

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/test_server_wire.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof f->path, "%s/chat.db", f->dir);
	if ((f->db = db_open(f->path, err, sizeof err)) == NULL)
		return -1;
	f->hooks = (struct wire_hooks){
		.db = f->db,
		.max_frame = 4096,
		.authenticated = on_auth,
		.inbox_changed = on_inbox,
		.udata = f,
	};
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char p[128];

	db_close(f->db);
	unlink(f->path);
	snprintf(p, sizeof p, "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Send one frame (printf-style), return the parsed reply. */
static cJSON *call(struct fixture *f, struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static cJSON *
call(struct fixture *f, struct session *s, const char *fmt, ...)
{
	char frame[8192];
	char *text;
	cJSON *reply;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(frame, sizeof frame, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof frame);
	text = wire_handle(&f->hooks, s, frame, (size_t)n);
	assert_non_null(text);
	reply = cJSON_Parse(text);
	assert_non_null(reply);
	free(text);
	return reply;
}

static const char *
str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static double
num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

/* Assert an error reply with this code and id (0: id null); frees it. */
static void
expect_error(cJSON *r, const char *code, double id)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "id");
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");

	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "ok")));
	assert_true(cJSON_IsObject(e));
	assert_string_equal(str(e, "code"), code);
	(void)str(e, "message");
	if (id == 0)
		assert_true(cJSON_IsNull(v));
	else
		assert_true(cJSON_IsNumber(v) && v->valuedouble == id);
	cJSON_Delete(r);
}

static void
expect_ok(const cJSON *r, double id)
{
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok")));
	assert_true(num(r, "id") == id);
}

static void
b64(const uint8_t *bin, size_t len, char *out, size_t cap)
{
	sodium_bin2base64(out, cap, bin, len, sodium_base64_VARIANT_ORIGINAL);
}

/* A new session: hello drawn (challenge set), unauthenticated. */
static void
open_session(struct fixture *f, struct session *s, uint64_t id)
{
	char *hello;

	memset(s, 0, sizeof *s);
	s->conn_id = id;
	hello = wire_hello(&f->hooks, s);
	assert_non_null(hello);
	free(hello);
}

/* A register request for user with identity me, signing this session's
 * challenge under domain. */
static cJSON *
do_register(struct fixture *f, struct session *s, int id, const char *user,
	    const struct e2e_identity *me, const char *domain)
{
	char ik[64], xk[64], xs[100], sg[100];
	uint8_t sig[64];

	assert_int_equal(
		e2e_sign_challenge(sig, domain, s->challenge, sizeof s->challenge, me->sign_sk), 0);
	b64(me->sign_pk, 32, ik, sizeof ik);
	b64(me->x_pk, 32, xk, sizeof xk);
	b64(me->x_sig, 64, xs, sizeof xs);
	b64(sig, 64, sg, sizeof sg);
	return call(f, s,
		    "{\"id\":%d,\"type\":\"register\",\"user\":\"%s\","
		    "\"deviceName\":\"test\",\"identityKey\":\"%s\","
		    "\"exchangeKey\":\"%s\",\"exchangeKeySig\":\"%s\","
		    "\"signature\":\"%s\"}",
		    id, user, ik, xk, xs, sg);
}

static cJSON *
do_auth(struct fixture *f, struct session *s, int id, const char *user, int dev,
	const struct e2e_identity *me)
{
	uint8_t sig[64];
	char sg[100];

	assert_int_equal(e2e_sign_challenge(sig, E2E_DOMAIN_AUTH, s->challenge, sizeof s->challenge,
					    me->sign_sk),
			 0);
	b64(sig, 64, sg, sizeof sg);
	return call(f, s,
		    "{\"id\":%d,\"type\":\"auth\",\"user\":\"%s\","
		    "\"deviceId\":%d,\"signature\":\"%s\"}",
		    id, user, dev, sg);
}

static void
registered(struct fixture *f, struct session *s, uint64_t conn, const char *user,
	   struct e2e_identity *me)
{
	cJSON *r;

	assert_int_equal(e2e_identity_generate(me), 0);
	open_session(f, s, conn);
	r = do_register(f, s, 1, user, me, E2E_DOMAIN_REGISTER);
	expect_ok(r, 1);
	cJSON_Delete(r);
	assert_true(s->authed);
}

/* ---- tests ------------------------------------------------------------- */

static void
test_hello(void **state)
{
	struct fixture *f = *state;
	struct session s;
	uint8_t zero[32] = {0}, first[32];
	char *text;
	cJSON *h, *lim;

	memset(&s, 0, sizeof s);
	text = wire_hello(&f->hooks, &s);
	assert_non_null(text);
	h = cJSON_Parse(text);
	free(text);
	assert_string_equal(str(h, "type"), "hello");
	assert_true(num(h, "protocol") == 1);
	assert_string_equal(str(h, "server"), "chat-server/" CHAT_VERSION);
	assert_int_equal(strlen(str(h, "challenge")), 44);
	lim = cJSON_GetObjectItemCaseSensitive(h, "limits");
	assert_true(num(lim, "maxFrame") == 4096);
	assert_true(num(lim, "maxText") == 65536);
	assert_true(num(lim, "maxDevices") == 3);
	assert_true(num(lim, "maxMembers") == 100);
	cJSON_Delete(h);
	/* A new challenge every time. */
	assert_memory_not_equal(s.challenge, zero, 32);
	memcpy(first, s.challenge, 32);
	free(wire_hello(&f->hooks, &s));
	assert_memory_not_equal(s.challenge, first, 32);
}

static void
test_unreadable_frames(void **state)
{
	struct fixture *f = *state;
	struct session s;
	char *text;

	open_session(f, &s, 1);
	expect_error(call(f, &s, "nope"), "bad_request", 0);
	expect_error(call(f, &s, "[1,2]"), "bad_request", 0);
	expect_error(call(f, &s, "{\"id\":3}"), "bad_request", 3);
	expect_error(call(f, &s, "{\"type\":\"auth\"}"), "bad_request", 0);
	expect_error(call(f, &s, "{\"id\":\"3\",\"type\":\"auth\"}"), "bad_request", 0);
	expect_error(call(f, &s, "{\"id\":-1,\"type\":\"auth\"}"), "bad_request", 0);
	expect_error(call(f, &s, "{\"id\":4,\"type\":\"auth\"} {}"), "bad_request", 0);
	expect_error(call(f, &s, "{\"id\":5,\"type\":\"hello\"}"), "unknown_type", 5);
	expect_error(call(f, &s, "{\"id\":6,\"type\":\"getKeys\",\"users\":[]}"), "unauthenticated",
		     6);
	expect_error(call(f, &s, "{\"id\":7,\"type\":\"ack\",\"messageIds\":[]}"),
		     "unauthenticated", 7);

	/* A NUL inside the frame. */
	text = wire_handle(&f->hooks, &s, "{\"id\":8}\0xx", 11);
	assert_non_null(strstr(text, "bad_request"));
	free(text);

	/* The largest id comes back digit for digit. */
	{
		static const char big[] = "{\"id\":9007199254740992,\"type\":\"x\"}";

		text = wire_handle(&f->hooks, &s, big, sizeof big - 1);
	}
	assert_non_null(strstr(text, "\"id\":9007199254740992,"));
	free(text);
	assert_int_equal(f->n_auth, 0);
}

static void
test_register_and_auth(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity alice, other;
	struct session s1, s2, s3;
	cJSON *r;

	assert_int_equal(e2e_identity_generate(&alice), 0);
	assert_int_equal(e2e_identity_generate(&other), 0);
	open_session(f, &s1, 1);

	/* A register signature under the auth domain does not verify. */
	expect_error(do_register(f, &s1, 1, "alice", &alice, E2E_DOMAIN_AUTH), "bad_signature", 1);
	expect_error(do_register(f, &s1, 2, "Alice", &alice, E2E_DOMAIN_REGISTER), "invalid_user",
		     2);
	r = do_register(f, &s1, 3, "alice", &alice, E2E_DOMAIN_REGISTER);
	expect_ok(r, 3);
	assert_string_equal(str(r, "user"), "alice");
	assert_true(num(r, "deviceId") == 1);
	cJSON_Delete(r);
	assert_int_equal(f->n_auth, 1);
	assert_ptr_equal(f->last_auth, &s1);
	assert_true(s1.authed);
	expect_error(do_register(f, &s1, 4, "alice", &alice, E2E_DOMAIN_REGISTER),
		     "already_authenticated", 4);
	expect_error(do_auth(f, &s1, 5, "alice", 1, &alice), "already_authenticated", 5);

	/* A retry on a new connection gets the same reply; another key not. */
	open_session(f, &s2, 2);
	expect_error(do_register(f, &s2, 1, "alice", &other, E2E_DOMAIN_REGISTER), "user_exists",
		     1);
	r = do_register(f, &s2, 2, "alice", &alice, E2E_DOMAIN_REGISTER);
	expect_ok(r, 2);
	assert_true(num(r, "deviceId") == 1);
	cJSON_Delete(r);
	assert_int_equal(f->n_auth, 2);

	/* auth: unknown device, wrong key, a signature over another challenge,
	 * then the right one. */
	open_session(f, &s3, 3);
	expect_error(do_auth(f, &s3, 1, "alice", 2, &alice), "unknown_device", 1);
	expect_error(do_auth(f, &s3, 2, "bob", 1, &alice), "unknown_device", 2);
	expect_error(do_auth(f, &s3, 3, "alice", 1, &other), "bad_signature", 3);
	expect_error(call(f, &s3,
			  "{\"id\":4,\"type\":\"auth\",\"user\":\"alice\","
			  "\"deviceId\":1.5,\"signature\":\"\"}"),
		     "bad_request", 4);
	{
		/* A valid signature, but over another connection's challenge. */
		uint8_t sig[64];
		char sg[100];

		assert_int_equal(
			e2e_sign_challenge(sig, E2E_DOMAIN_AUTH, s1.challenge, 32, alice.sign_sk),
			0);
		b64(sig, 64, sg, sizeof sg);
		expect_error(call(f, &s3,
				  "{\"id\":5,\"type\":\"auth\",\"user\":"
				  "\"alice\",\"deviceId\":1,\"signature\":\"%s\"}",
				  sg),
			     "bad_signature", 5);
		expect_error(call(f, &s3,
				  "{\"id\":6,\"type\":\"getKeys\","
				  "\"users\":[]}"),
			     "unauthenticated", 6);
	}
	r = do_auth(f, &s3, 7, "alice", 1, &alice);
	expect_ok(r, 7);
	cJSON_Delete(r);
	assert_int_equal(f->n_auth, 3);
	e2e_identity_wipe(&alice);
	e2e_identity_wipe(&other);
}

static void
test_keys_chats_messages(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib, ic;
	struct session a, b, c;
	char chat[17], nonce[64], ct[64], ikb[64];
	const char *mid = "00112233445566778899aabbccddeeff";
	uint8_t raw[40];
	cJSON *r, *u, *e;
	double seq, sent_at;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	registered(f, &c, 3, "carol", &ic);

	/* getKeys */
	r = call(f, &a,
		 "{\"id\":2,\"type\":\"getKeys\",\"users\":[\"bob\","
		 "\"carol\",\"bob\"]}");
	expect_ok(r, 2);
	u = cJSON_GetObjectItemCaseSensitive(r, "users");
	assert_int_equal(cJSON_GetArraySize(u), 2);
	u = cJSON_GetArrayItem(cJSON_GetArrayItem(u, 0), 1); /* bob's devices */
	u = cJSON_GetArrayItem(u, 0);
	assert_true(num(u, "deviceId") == 1);
	assert_string_equal(str(u, "name"), "test");
	b64(ib.sign_pk, 32, ikb, sizeof ikb);
	assert_string_equal(str(u, "identityKey"), ikb);
	cJSON_Delete(r);
	expect_error(call(f, &a,
			  "{\"id\":3,\"type\":\"getKeys\",\"users\":"
			  "[\"bob\",\"zed\"]}"),
		     "unknown_user", 3);

	/* createChat, getChat */
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
	expect_error(call(f, &a,
			  "{\"id\":6,\"type\":\"createChat\","
			  "\"participants\":[\"alice\"]}"),
		     "bad_participants", 6);
	r = call(f, &a, "{\"id\":7,\"type\":\"getChat\",\"chatId\":\"%s\"}", chat);
	expect_ok(r, 7);
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(r, "name")));
	(void)num(r, "createdAt");
	cJSON_Delete(r);
	expect_error(call(f, &c, "{\"id\":8,\"type\":\"getChat\",\"chatId\":\"%s\"}", chat),
		     "no_such_chat", 8);

	/* sendMessage: mismatch first, with the server's view. */
	randombytes_buf(raw, sizeof raw);
	b64(raw, 24, nonce, sizeof nonce);
	b64(raw, sizeof raw, ct, sizeof ct);
	r = call(f, &a,
		 "{\"id\":9,\"type\":\"sendMessage\",\"chatId\":\"%s\","
		 "\"messageId\":\"%s\",\"envelopes\":[{\"user\":\"carol\","
		 "\"deviceId\":1,\"nonce\":\"%s\",\"ciphertext\":\"%s\"}]}",
		 chat, mid, nonce, ct);
	e = cJSON_GetObjectItemCaseSensitive(r, "error");
	u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "missing"), 0);
	assert_string_equal(str(u, "user"), "bob");
	assert_true(num(u, "deviceId") == 1);
	u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "extra"), 0);
	assert_string_equal(str(u, "user"), "carol");
	expect_error(r, "device_mismatch", 9);
	assert_int_equal(f->n_inbox, 0);

	r = call(f, &a,
		 "{\"id\":10,\"type\":\"sendMessage\",\"chatId\":\"%s\","
		 "\"messageId\":\"%s\",\"envelopes\":[{\"user\":\"bob\","
		 "\"deviceId\":1,\"nonce\":\"%s\",\"ciphertext\":\"%s\"}]}",
		 chat, mid, nonce, ct);
	expect_ok(r, 10);
	assert_string_equal(str(r, "messageId"), mid);
	seq = num(r, "seq");
	sent_at = num(r, "sentAt");
	assert_true(seq == 1);
	cJSON_Delete(r);
	assert_int_equal(f->n_inbox, 1);
	assert_string_equal(f->inbox_user, "bob");
	assert_int_equal(f->inbox_device, 1);

	/* The retry: same reply, no new push. */
	r = call(f, &a,
		 "{\"id\":11,\"type\":\"sendMessage\",\"chatId\":\"%s\","
		 "\"messageId\":\"%s\",\"envelopes\":[]}",
		 chat, mid);
	expect_ok(r, 11);
	assert_true(num(r, "seq") == seq && num(r, "sentAt") == sent_at);
	cJSON_Delete(r);
	assert_int_equal(f->n_inbox, 1);
	expect_error(call(f, &b,
			  "{\"id\":12,\"type\":\"sendMessage\",\"chatId\":"
			  "\"%s\",\"messageId\":\"%s\",\"envelopes\":[]}",
			  chat, mid),
		     "duplicate_message_id", 12);

	/* ack */
	r = call(f, &a, "{\"id\":13,\"type\":\"ack\",\"messageIds\":[\"%s\"]}", mid);
	expect_ok(r, 13);
	assert_true(num(r, "acked") == 0); /* not alice's row */
	cJSON_Delete(r);
	r = call(f, &b,
		 "{\"id\":14,\"type\":\"ack\",\"messageIds\":[\"%s\","
		 "\"%s\"]}",
		 mid, mid);
	expect_ok(r, 14);
	assert_true(num(r, "acked") == 1);
	cJSON_Delete(r);
	expect_error(call(f, &b,
			  "{\"id\":15,\"type\":\"ack\",\"messageIds\":"
			  "[\"ABC\"]}"),
		     "bad_request", 15);

	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
	e2e_identity_wipe(&ic);
}

static void
test_pushes(void **state)
{
	uint8_t ik[32], xk[32], xs[64], nonce[24], ct[20];
	struct db_inbox_row row = {
		.inbox_id = 5,
		.chat_id = "0123456789abcdef",
		.message_id = "00112233445566778899aabbccddeeff",
		.seq = 3,
		.sent_at = 1795000000123LL,
		.sender_user = "alice",
		.sender_device = 1,
		.sender_identity_key = ik,
		.sender_exchange_key = xk,
		.sender_exchange_key_sig = xs,
		.nonce = nonce,
		.ciphertext = ct,
		.ciphertext_len = sizeof ct,
	};
	char *text;
	cJSON *p, *snd;

	(void)state;
	memset(ik, 1, sizeof ik);
	memset(xk, 2, sizeof xk);
	memset(xs, 3, sizeof xs);
	memset(nonce, 4, sizeof nonce);
	memset(ct, 5, sizeof ct);
	text = wire_new_message(&row);
	assert_non_null(strstr(text, "\"sentAt\":1795000000123"));
	p = cJSON_Parse(text);
	free(text);
	assert_string_equal(str(p, "type"), "newMessage");
	assert_string_equal(str(p, "chatId"), "0123456789abcdef");
	assert_true(num(p, "seq") == 3);
	assert_string_equal(str(p, "ciphertext"), "BQUFBQUFBQUFBQUFBQUFBQUFBQU=");
	assert_string_equal(str(p, "nonce"), "BAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE");
	snd = cJSON_GetObjectItemCaseSensitive(p, "sender");
	assert_string_equal(str(snd, "user"), "alice");
	assert_true(num(snd, "deviceId") == 1);
	assert_string_equal(str(snd, "identityKey"),
			    "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=");
	(void)str(snd, "exchangeKey");
	(void)str(snd, "exchangeKeySig");
	assert_null(cJSON_GetObjectItemCaseSensitive(p, "id"));
	cJSON_Delete(p);

	text = wire_drained();
	assert_string_equal(text, "{\"type\":\"drained\",\"pending\":0}");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_and_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_chats_messages, setup, teardown),
		cmocka_unit_test(test_pushes),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
