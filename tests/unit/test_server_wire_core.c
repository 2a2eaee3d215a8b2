/*
 * test_server_wire_core.c - chat-server's request layer, its core
 * (server-stub/wire.c): frames that cannot be read or routed, strings with
 * U+0000 or lone surrogates, and which check wins when several would refuse a
 * request.
 */
#include "server_fixture.h"

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

/*
 * Strings are read whole (issue 10, item 2): cJSON ends a string at an
 * escaped NUL, so "bob\u0000x" used to register bob, and a lone surrogate
 * made the whole frame unreadable (id null). Each is bad_request with the
 * request's id, and nothing is stored under a cut name or id.
 */
static void
test_nul_and_surrogates(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib, ix;
	struct session a, b, x;
	char chat[17];
	const char *env = "{\"user\":\"bob\",\"deviceId\":1,"
			  "\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
			  "\"ciphertext\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}";
	struct db_device devs[PROTO_MAX_DEVICES];
	size_t nd;
	cJSON *r;

	/* register: neither "bob" nor anyone else comes of it. */
	assert_int_equal(e2e_identity_generate(&ix), 0);
	open_session(f, &x, 9);
	expect_error(do_register(f, &x, 1, "bob\\u0000x", &ix, PROTO_LABEL_REGISTER), "bad_request",
		     1);
	expect_error(do_register(f, &x, 2, "bob\\ud800", &ix, PROTO_LABEL_REGISTER), "bad_request",
		     2);
	assert_false(x.authed);
	assert_int_equal(db_user_exists(f->db, "bob"), DB_NOT_FOUND);
	/* A NUL in a key names nothing either, and the message says what. */
	r = call(f, &x, "{\"id\":3,\"type\\u0000\":\"auth\"}");
	assert_non_null(strstr(str(cJSON_GetObjectItem(r, "error"), "message"), "U+0000"));
	expect_error(r, "bad_request", 3);
	r = call(f, &x, "{\"id\":4,\"type\":\"auth\",\"user\":\"\\udc00\"}");
	assert_non_null(strstr(str(cJSON_GetObjectItem(r, "error"), "message"), "lone surrogate"));
	expect_error(r, "bad_request", 4);
	/* A raw NUL byte, too, gets an answer with the id. */
	{
		static const char nul[] = "{\"id\":5,\"type\":\"a\0\"}";
		char *text = wire_handle(&f->hooks, &x, nul, sizeof nul - 1);

		r = cJSON_Parse(text);
		free(text);
		expect_error(r, "bad_request", 5);
	}

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	expect_error(call(f, &a, "{\"id\":6,\"type\":\"getKeys\",\"users\":[\"bob\\u0000x\"]}"),
		     "bad_request", 6);
	expect_error(
		call(f, &a, "{\"id\":7,\"type\":\"createChat\",\"participants\":[\"bob\\u0000\"]}"),
		"bad_request", 7);
	expect_error(call(f, &a,
			  "{\"id\":8,\"type\":\"createChat\",\"name\":\"a\\u0000b\","
			  "\"participants\":[\"bob\"]}"),
		     "bad_request", 8);
	r = call(f, &a, "{\"id\":9,\"type\":\"createChat\",\"participants\":[\"bob\"]}");
	expect_ok(r, 9);
	snprintf(chat, sizeof chat, "%s", str(r, "chatId"));
	cJSON_Delete(r);
	expect_error(
		call(f, &a, "{\"id\":10,\"type\":\"getChat\",\"chatId\":\"%s\\u0000zz\"}", chat),
		"bad_request", 10);
	/* A message id with a NUL and junk after it is not stored under its
	 * prefix. */
	expect_error(call(f, &a,
			  "{\"id\":11,\"type\":\"sendMessage\",\"chatId\":\"%s\","
			  "\"messageId\":\"00112233445566778899aabbccddeeff\\u0000junk\","
			  "\"envelopes\":[%s]}",
			  chat, env),
		     "bad_request", 11);
	r = call(f, &a,
		 "{\"id\":12,\"type\":\"sendMessage\",\"chatId\":\"%s\","
		 "\"messageId\":\"00112233445566778899aabbccddeeff\",\"envelopes\":[%s]}",
		 chat, env);
	expect_ok(r, 12);
	assert_true(num(r, "seq") == 1); /* the first, not a replay */
	cJSON_Delete(r);
	/* A device name with a NUL is not cut to its prefix. */
	{
		struct e2e_identity in;
		struct session n;
		char ik[64], xk[64], xs[100], sg[100];
		uint8_t sig[64];

		assert_int_equal(e2e_identity_generate(&in), 0);
		open_session(f, &n, 10);
		assert_int_equal(
			e2e_sign_challenge(sig, PROTO_LABEL_REGISTER, n.challenge, 32, in.sign_sk),
			0);
		b64(in.sign_pk, 32, ik, sizeof ik);
		b64(in.x_pk, 32, xk, sizeof xk);
		b64(in.x_sig, 64, xs, sizeof xs);
		b64(sig, 64, sg, sizeof sg);
		expect_error(call(f, &n,
				  "{\"id\":13,\"type\":\"register\",\"user\":\"dave\","
				  "\"deviceName\":\"pho\\u0000ne\",\"identityKey\":\"%s\","
				  "\"exchangeKey\":\"%s\",\"exchangeKeySig\":\"%s\","
				  "\"signature\":\"%s\"}",
				  ik, xk, xs, sg),
			     "bad_request", 13);
		assert_int_equal(db_user_devices(f->db, "dave", devs, PROTO_MAX_DEVICES, &nd),
				 DB_NOT_FOUND);
		e2e_identity_wipe(&in);
	}
	/* Sizes: over the limit is too_large, however far over (2^64 included);
	 * not a whole number, or below 1, is bad_request. */
	expect_error(
		call(f, &a,
		     "{\"id\":14,\"type\":\"getAttachmentTarget\",\"size\":18446744073709551616}"),
		"too_large", 14);
	expect_error(call(f, &a, "{\"id\":15,\"type\":\"getAttachmentTarget\",\"size\":1e300}"),
		     "too_large", 15);
	expect_error(call(f, &a, "{\"id\":16,\"type\":\"getAttachmentTarget\",\"size\":-5}"),
		     "bad_request", 16);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
	e2e_identity_wipe(&ix);
}

/*
 * Which check wins (issue 10, item 26; PROTOCOL.md, "Errors"): a request's
 * fields are checked in the order the text lists them, form before state;
 * so a malformed field is bad_request (or too_large) even where the state
 * would also refuse it (device_mismatch, bad_signature).
 */
static void
test_error_precedence(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib;
	struct session a, b, s;
	char chat[PROTO_CHAT_ID_LEN + 1], *envs, sig63[100];
	uint8_t z[63] = {0};
	size_t len = 0;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	direct(f, &a, "bob", chat);
	/* 301 envelopes to the wrong devices: too_large, not device_mismatch. */
	envs = malloc(301 * 200);
	assert_non_null(envs);
	for (int i = 0; i < 301; i++)
		len += (size_t)snprintf(envs + len, 301 * 200 - len, "%s%s", i ? "," : "",
					envelope("alice", 16));
	{
		char *frame = malloc(len + 200);
		char *text;

		assert_non_null(frame);
		len = (size_t)snprintf(frame, len + 200,
				       "{\"id\":1,\"type\":\"sendMessage\",\"chatId\":\"%s\","
				       "\"messageId\":\"%032x\",\"envelopes\":[%s]}",
				       chat, 1, envs);
		text = wire_handle(&f->hooks, &a, frame, len);
		expect_error(cJSON_Parse(text), "too_large", 1);
		free(text);
		free(frame);
	}
	free(envs);
	/* A ciphertext under 16 bytes to the wrong device: bad_request. */
	expect_error(send_env(f, &a, 2, chat, 2, envelope("alice", 15)), "bad_request", 2);
	/* No envelope at all, in a chat with another device: device_mismatch
	 * (none is taken only where the chat has no other device: notes to
	 * self on one device). */
	expect_error(send_env(f, &a, 3, chat, 3, ""), "device_mismatch", 3);
	/* Well formed but to the wrong device: now device_mismatch. */
	expect_error(send_env(f, &a, 4, chat, 4, envelope("alice", 16)), "device_mismatch", 4);
	/* A signature of 63 bytes: bad_request, before it is checked. */
	b64(z, sizeof z, sig63, sizeof sig63);
	open_session(f, &s, 3);
	expect_error(call(f, &s,
			  "{\"id\":5,\"type\":\"auth\",\"user\":\"alice\",\"deviceId\":1,"
			  "\"signature\":\"%s\"}",
			  sig63),
		     "bad_request", 5);
	/* ... and unknown_device only for a well-formed request. */
	expect_error(call(f, &s,
			  "{\"id\":6,\"type\":\"auth\",\"user\":\"zed\",\"deviceId\":1,"
			  "\"signature\":\"%s\"}",
			  sig63),
		     "bad_request", 6);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unreadable_frames, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_nul_and_surrogates, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_error_precedence, setup_wire, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
