/*
 * test_server_wire_push.c - chat-server's pushes (server-stub/wire_push.c):
 * hello, newMessage, chatUpdate, missed and drained, byte for byte where it
 * matters.
 */
#include "server_fixture.h"

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
	/* What the server takes, stage 2 headers included (issue 13). */
	assert_true(num(lim, "maxCiphertext") == 67072);
	assert_true(num(lim, "maxDevices") == 3);
	assert_true(num(lim, "maxMembers") == 100);
	assert_true(num(lim, "maxBlob") == 1000000);
	assert_true(num(lim, "retention") == 86400000);
	cJSON_Delete(h);
	/* A new challenge every time. */
	assert_memory_not_equal(s.challenge, zero, 32);
	memcpy(first, s.challenge, 32);
	free(wire_hello(&f->hooks, &s));
	assert_memory_not_equal(s.challenge, first, 32);
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
	/* A first device: no approval. */
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(snd, "approverKey")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(snd, "approval")));
	assert_null(cJSON_GetObjectItemCaseSensitive(p, "id"));
	cJSON_Delete(p);

	/* A linked device's entry carries its approval, as in getKeys. */
	{
		uint8_t approver[32], approval[64];

		memset(approver, 6, sizeof approver);
		memset(approval, 7, sizeof approval);
		row.sender_approver_key = approver;
		row.sender_approval = approval;
		text = wire_inbox_push(&row);
	}
	p = cJSON_Parse(text);
	free(text);
	snd = cJSON_GetObjectItemCaseSensitive(p, "sender");
	assert_string_equal(str(snd, "approverKey"),
			    "BgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgYGBgY=");
	assert_int_equal(strlen(str(snd, "approval")), 88);
	assert_string_equal(str(p, "type"), "newMessage");
	cJSON_Delete(p);

	/* An update's row: its chatUpdate, every field in PROTOCOL.md's order. */
	{
		static const char users[1][PROTO_USER_MAX + 1] = {"carol"};
		static const char members[3][PROTO_USER_MAX + 1] = {"alice", "bob", "carol"};
		struct db_update u = {
			.chat_id = "0123456789abcdef",
			.update_id = "00112233445566778899aabbccddeeff",
			.seq = 4,
			.sent_at = 1795000000456LL,
			.kind = "group",
			.name = "climbing",
			.actor = "alice",
			.op = DB_OP_ADD,
			.users = users,
			.n_users = 1,
			.participants = members,
			.n_participants = 3,
			.admins = members,
			.n_admins = 1,
		};

		memset(&row, 0, sizeof row);
		row.is_update = 1;
		row.update = &u;
		text = wire_inbox_push(&row);
		assert_string_equal(
			text,
			"{\"type\":\"chatUpdate\",\"chatId\":\"0123456789abcdef\","
			"\"updateId\":\"00112233445566778899aabbccddeeff\",\"seq\":4,"
			"\"sentAt\":1795000000456,\"kind\":\"group\",\"name\":\"climbing\","
			"\"actor\":\"alice\",\"operation\":\"add\",\"users\":[\"carol\"],"
			"\"participants\":[\"alice\",\"bob\",\"carol\"],\"admins\":[\"alice\"]}");
		free(text);
		/* A creation names the group as it was made, not as it is now. */
		u.op = DB_OP_CREATE;
		u.text = "first name";
		text = wire_chat_update(&u);
		assert_non_null(strstr(text, "\"name\":\"first name\",\"actor\":\"alice\","
					     "\"operation\":\"create\""));
		free(text);
		/* Stored before the creation kept its name (no text): the latest. */
		u.text = NULL;
		text = wire_chat_update(&u);
		assert_non_null(strstr(text, "\"name\":\"climbing\""));
		free(text);
		/* No name is null; a leave of the last member leaves empty lists. */
		u.name = NULL;
		u.op = DB_OP_LEAVE;
		u.n_participants = u.n_admins = 0;
		text = wire_chat_update(&u);
		assert_non_null(strstr(text, "\"name\":null,\"actor\":\"alice\",\"operation\":"
					     "\"leave\",\"users\":[\"carol\"],\"participants\":[],"
					     "\"admins\":[]}"));
		free(text);
	}

	text = wire_drained();
	assert_string_equal(text, "{\"type\":\"drained\",\"pending\":0}");
	free(text);
}

/* The missed push: what the retention purge took from a device. */
static void
test_missed(void **state)
{
	char *t;

	(void)state;
	t = wire_missed(3, 1795000000000);
	assert_non_null(t);
	assert_string_equal(t, "{\"type\":\"missed\",\"count\":3,\"oldest\":1795000000000}");
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hello, setup_wire, teardown),
		cmocka_unit_test(test_pushes),
		cmocka_unit_test(test_missed),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
