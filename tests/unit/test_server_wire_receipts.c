/*
 * test_server_wire_receipts.c - chat-server's sendReceipt and the receipt
 * push (server-stub/wire_messages.c, wire_push.c; PROTOCOL.md, "Receipts"):
 * sendMessage's rules, but to any non-empty subset of the chat's devices,
 * with no seq, under a receiptId that shares the message ids' space.
 */
#include "server_fixture.h"

static cJSON *
send_receipt(struct fixture *f, struct session *s, int id, const char *chat, int rid,
	     const char *envs)
{
	return call(f, s,
		    "{\"id\":%d,\"type\":\"sendReceipt\",\"chatId\":\"%s\","
		    "\"receiptId\":\"%032x\",\"envelopes\":[%s]}",
		    id, chat, rid, envs);
}

struct receipt_pushes {
	size_t n;
	cJSON *frame[8];
};

static int
take_push(void *udata, const struct db_inbox_row *row)
{
	struct receipt_pushes *p = udata;
	char *text = wire_inbox_push(row);

	assert_non_null(text);
	assert_true(p->n < 8);
	p->frame[p->n++] = cJSON_Parse(text);
	free(text);
	return 0;
}

/* A receipt to one of the sender's devices: its reply has no seq, the
 * device it addresses (and only that one) is told, and the push it gets is
 * a receipt, not a message; a retry is answered as the first send was. */
static void
test_send_receipt(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib, ip;
	struct session a, b;
	struct receipt_pushes got = {0};
	char chat[PROTO_CHAT_ID_LEN + 1], rid[PROTO_MESSAGE_ID_LEN + 1], envs[1024];
	double sent_at;
	size_t n;
	cJSON *r, *snd;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	/* alice has a second device, which the receipt leaves out. */
	assert_int_equal(e2e_identity_generate(&ip), 0);
	{
		struct db_new_device d = {"alice",
					  "phone",
					  ip.sign_pk,
					  ip.x_pk,
					  ip.x_sig,
					  ia.sign_pk,
					  ip.x_sig /* any 64 bytes */,
					  1};
		uint32_t dev;

		assert_int_equal(db_link_device(f->db, &d, &dev), DB_OK);
		assert_int_equal(dev, 2);
	}
	direct(f, &a, "bob", chat);
	snprintf(envs, sizeof envs,
		 "%s,{\"user\":\"alice\",\"deviceId\":2,"
		 "\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
		 "\"ciphertext\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}",
		 envelope("bob", 16));
	r = send_env(f, &a, 1, chat, 1, envs);
	expect_ok(r, 1);
	assert_true(num(r, "seq") == 1);
	cJSON_Delete(r);

	f->n_inbox = 0;
	r = send_receipt(f, &b, 2, chat, 7, envelope("alice", 16));
	expect_ok(r, 2);
	snprintf(rid, sizeof rid, "%032x", 7);
	assert_string_equal(str(r, "receiptId"), rid);
	sent_at = num(r, "sentAt");
	assert_null(cJSON_GetObjectItemCaseSensitive(r, "seq"));
	assert_null(cJSON_GetObjectItemCaseSensitive(r, "messageId"));
	cJSON_Delete(r);
	assert_int_equal(f->n_inbox, 1);
	assert_string_equal(f->inbox_user, "alice");
	assert_int_equal(f->inbox_device, 1);

	/* alice/1's push: a receipt from bob/1, no seq; alice/2 has the message
	 * only. */
	assert_int_equal(db_inbox_load(f->db, "alice", 1, 0, 64, take_push, &got, &n), DB_OK);
	assert_int_equal(got.n, 1);
	assert_string_equal(str(got.frame[0], "type"), "receipt");
	assert_string_equal(str(got.frame[0], "chatId"), chat);
	assert_string_equal(str(got.frame[0], "receiptId"), rid);
	assert_true(num(got.frame[0], "sentAt") == sent_at);
	assert_null(cJSON_GetObjectItemCaseSensitive(got.frame[0], "seq"));
	assert_null(cJSON_GetObjectItemCaseSensitive(got.frame[0], "messageId"));
	snd = cJSON_GetObjectItemCaseSensitive(got.frame[0], "sender");
	assert_string_equal(str(snd, "user"), "bob");
	assert_true(num(snd, "deviceId") == 1);
	(void)str(got.frame[0], "ciphertext");
	cJSON_Delete(got.frame[0]);
	got.n = 0;
	assert_int_equal(db_inbox_load(f->db, "alice", 2, 0, 64, take_push, &got, &n), DB_OK);
	assert_int_equal(got.n, 1);
	assert_string_equal(str(got.frame[0], "type"), "newMessage");
	cJSON_Delete(got.frame[0]);

	/* Again: the first reply, nobody told twice. */
	r = send_receipt(f, &b, 3, chat, 7, envelope("alice", 16));
	expect_ok(r, 3);
	assert_true(num(r, "sentAt") == sent_at);
	cJSON_Delete(r);
	assert_int_equal(f->n_inbox, 1);

	/* No seq was taken: alice's next message is 2. */
	r = send_env(f, &a, 4, chat, 2, envs);
	expect_ok(r, 4);
	assert_true(num(r, "seq") == 2);
	cJSON_Delete(r);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
	e2e_identity_wipe(&ip);
}

/* What a receipt may not be: to no device, to a device outside the chat
 * (device_mismatch, missing always empty), to a device twice, from outside
 * the chat, or under an id a message (or another receipt) has. */
static void
test_receipt_refusals(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib, ic;
	struct session a, b, c;
	char chat[PROTO_CHAT_ID_LEN + 1], twice[1024];
	const cJSON *e;
	cJSON *r;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	registered(f, &c, 3, "carol", &ic);
	direct(f, &a, "bob", chat);
	r = send_env(f, &a, 1, chat, 1, envelope("bob", 16));
	expect_ok(r, 1);
	cJSON_Delete(r);

	expect_error(send_receipt(f, &b, 2, chat, 7, ""), "bad_request", 2);
	r = send_receipt(f, &b, 3, chat, 7, envelope("carol", 16));
	e = cJSON_GetObjectItemCaseSensitive(r, "error");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e, "missing")), 0);
	assert_string_equal(
		str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "extra"), 0), "user"),
		"carol");
	expect_error(r, "device_mismatch", 3);
	snprintf(twice, sizeof twice, "%s,%s", envelope("alice", 16), envelope("alice", 16));
	expect_error(send_receipt(f, &b, 4, chat, 7, twice), "device_mismatch", 4);
	expect_error(send_receipt(f, &c, 5, chat, 7, envelope("alice", 16)), "no_such_chat", 5);
	expect_error(call(f, &b,
			  "{\"id\":6,\"type\":\"sendReceipt\",\"chatId\":\"%s\","
			  "\"messageId\":\"%032x\",\"envelopes\":[%s]}",
			  chat, 7, envelope("alice", 16)),
		     "bad_request", 6);
	/* alice's message 1 has the id 0...01: no receipt may take it. */
	expect_error(send_receipt(f, &b, 7, chat, 1, envelope("alice", 16)), "duplicate_message_id",
		     7);
	r = send_receipt(f, &b, 8, chat, 7, envelope("alice", 16));
	expect_ok(r, 8);
	cJSON_Delete(r);
	/* ... nor a message a receipt's. */
	expect_error(send_env(f, &b, 9, chat, 7, envelope("alice", 16)), "duplicate_message_id", 9);
	/* One message, one receipt: nothing else was stored. */
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM messages"), 2);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
	e2e_identity_wipe(&ic);
}

/* A stage 2 receipt (issue 13) has no nonce: accepted, pushed without one,
 * and a resend answered as the first; beside it a stage 1 receipt keeps its
 * nonce, and a nonce of 23 bytes is still refused. */
static void
test_stage2_receipt(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib;
	struct session a, b;
	struct receipt_pushes got = {0};
	char chat[PROTO_CHAT_ID_LEN + 1];
	const char *s2 = "{\"user\":\"alice\",\"deviceId\":1,"
			 "\"ciphertext\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}";
	double sent_at;
	size_t n;
	cJSON *r;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	direct(f, &a, "bob", chat);
	r = send_env(f, &a, 1, chat, 1, envelope("bob", 16));
	expect_ok(r, 1);
	cJSON_Delete(r);

	expect_error(send_receipt(f, &b, 2, chat, 7,
				  "{\"user\":\"alice\",\"deviceId\":1,"
				  "\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\","
				  "\"ciphertext\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}"),
		     "bad_request", 2);
	f->n_inbox = 0;
	r = send_receipt(f, &b, 3, chat, 7, s2);
	expect_ok(r, 3);
	sent_at = num(r, "sentAt");
	cJSON_Delete(r);
	assert_int_equal(f->n_inbox, 1);
	r = send_receipt(f, &b, 4, chat, 7, s2);
	expect_ok(r, 4);
	assert_true(num(r, "sentAt") == sent_at);
	cJSON_Delete(r);
	assert_int_equal(f->n_inbox, 1);
	r = send_receipt(f, &b, 5, chat, 8, envelope("alice", 16));
	expect_ok(r, 5);
	cJSON_Delete(r);

	assert_int_equal(db_inbox_load(f->db, "alice", 1, 0, 64, take_push, &got, &n), DB_OK);
	assert_int_equal(got.n, 2);
	assert_string_equal(str(got.frame[0], "type"), "receipt");
	assert_null(cJSON_GetObjectItemCaseSensitive(got.frame[0], "nonce"));
	assert_string_equal(str(got.frame[0], "ciphertext"), "AAAAAAAAAAAAAAAAAAAAAA==");
	assert_string_equal(str(got.frame[1], "type"), "receipt");
	assert_string_equal(str(got.frame[1], "nonce"), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	cJSON_Delete(got.frame[0]);
	cJSON_Delete(got.frame[1]);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_send_receipt, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_receipt_refusals, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_stage2_receipt, setup_wire, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
