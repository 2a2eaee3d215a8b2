/*
 * test_server_wire_messages.c - chat-server's sendMessage and ack
 * (server-stub/wire_messages.c), and the inbox quota.
 */
#include "server_fixture.h"

/* Messages the store holds (of every kind). */
static int
db_message_count(struct fixture *f)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int n = -1;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT count(*) FROM messages WHERE kind = 'message'",
					    -1, &st, NULL),
			 SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* sendMessage: device_mismatch with the server's view, then stored and
 * bob's device told; a retry gets the first reply and tells nobody again;
 * the id is the sender's alone. ack: only the acking device's own rows. */
static void
test_send_and_ack(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib, ic;
	struct session a, b, c;
	char chat[17], nonce[64], ct[64];
	const char *mid = "00112233445566778899aabbccddeeff";
	uint8_t raw[40];
	cJSON *r, *u, *e;
	double seq, sent_at;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	registered(f, &c, 3, "carol", &ic);
	direct(f, &b, "alice", chat);

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

	/* A disappearing message's ttl: a whole number of seconds, 1 .. 90 days. */
	{
		static const char *const bad_ttl[] = {"0", "-5", "1.5", "\"60\"", "7776001",
						      "null"};
		size_t i;

		for (i = 0; i < sizeof bad_ttl / sizeof bad_ttl[0]; i++)
			expect_error(call(f, &a,
					  "{\"id\":30,\"type\":\"sendMessage\",\"chatId\":\"%s\","
					  "\"messageId\":\"%s\",\"ttl\":%s,\"envelopes\":[{\"user\":"
					  "\"bob\",\"deviceId\":1,\"nonce\":\"%s\",\"ciphertext\":"
					  "\"%s\"}]}",
					  chat, mid, bad_ttl[i], nonce, ct),
				     "bad_request", 30);
		assert_int_equal(f->n_inbox, 0);
	}

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

	/* The retry: same reply, no new push. (No envelope at all, in a chat
	 * with another device, is refused: bob's is missing. Only a chat of
	 * the sender's devices alone takes none, notes to self.) */
	expect_error(call(f, &a,
			  "{\"id\":11,\"type\":\"sendMessage\",\"chatId\":\"%s\","
			  "\"messageId\":\"f%.31s\",\"envelopes\":[]}",
			  chat, mid + 1),
		     "device_mismatch", 11);
	expect_error(call(f, &a,
			  "{\"id\":11,\"type\":\"sendReceipt\",\"chatId\":\"%s\","
			  "\"receiptId\":\"f%.31s\",\"envelopes\":[]}",
			  chat, mid + 1),
		     "bad_request", 11);
	r = call(f, &a,
		 "{\"id\":11,\"type\":\"sendMessage\",\"chatId\":\"%s\","
		 "\"messageId\":\"%s\",\"envelopes\":[{\"user\":\"bob\","
		 "\"deviceId\":1,\"nonce\":\"%s\",\"ciphertext\":\"%s\"}]}",
		 chat, mid, nonce, ct);
	expect_ok(r, 11);
	assert_true(num(r, "seq") == seq && num(r, "sentAt") == sent_at);
	cJSON_Delete(r);
	assert_int_equal(f->n_inbox, 1);
	expect_error(call(f, &b,
			  "{\"id\":12,\"type\":\"sendMessage\",\"chatId\":"
			  "\"%s\",\"messageId\":\"%s\",\"envelopes\":[{\"user\":\"alice\","
			  "\"deviceId\":1,\"nonce\":\"%s\",\"ciphertext\":\"%s\"}]}",
			  chat, mid, nonce, ct),
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

/*
 * A recipient device's inbox has a quota (issue 10, item 12): a send that
 * would take it over is refused with inbox_full, naming the device, and
 * nothing is stored for anyone; acks make room again.
 */
static void
test_inbox_quota(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib;
	struct session a, b;
	char chat[PROTO_CHAT_ID_LEN + 1];
	const cJSON *e;
	cJSON *r;

	/* Two rows of 16 bytes (116 each toward the quota), not three. */
	f->hooks.max_inbox_bytes = 300;
	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	direct(f, &a, "bob", chat);
	for (int i = 1; i <= 3; i++) {
		r = send_env(f, &a, i, chat, i, envelope("bob", 16));
		if (i < 3) {
			expect_ok(r, i);
			cJSON_Delete(r);
			continue;
		}
		e = cJSON_GetObjectItemCaseSensitive(r, "error");
		assert_string_equal(str(e, "user"), "bob");
		assert_true(num(e, "deviceId") == 1);
		assert_non_null(strstr(str(e, "message"), "bob's device 1"));
		expect_error(r, "inbox_full", 3);
	}
	assert_int_equal(db_message_count(f), 2);
	r = call(f, &b, "{\"id\":1,\"type\":\"ack\",\"messageIds\":[\"%032x\"]}", 1);
	expect_ok(r, 1);
	cJSON_Delete(r);
	r = send_env(f, &a, 4, chat, 3, envelope("bob", 16));
	expect_ok(r, 4);
	cJSON_Delete(r);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
}

/* Delivery from memory (issue 12): the push the network layer makes from a
 * send's own data (inbox_row) is the very frame a load from the store makes
 * of the row, with the same inbox id, for a message and for a receipt. */
struct pushed {
	size_t n;
	int64_t ids[4];
	char *frames[4];
	char users[4][PROTO_USER_MAX + 1];
};

static void
on_row(void *udata, const char *user, uint32_t device_id, const struct db_inbox_row *row)
{
	struct pushed *p = ((struct fixture *)udata)->hooks_extra;

	(void)device_id;
	assert_true(p->n < 4);
	p->ids[p->n] = row->inbox_id;
	p->frames[p->n] = wire_inbox_push(row);
	assert_non_null(p->frames[p->n]);
	snprintf(p->users[p->n], sizeof p->users[p->n], "%s", user);
	p->n++;
}

struct loaded {
	int64_t id;
	char *frame;
};

static int
load_one(void *udata, const struct db_inbox_row *row)
{
	struct loaded *l = udata;

	l->id = row->inbox_id;
	l->frame = wire_inbox_push(row);
	return 1;
}

static void
expect_same_as_stored(struct fixture *f, const struct pushed *p, size_t i, int64_t after)
{
	struct loaded l = {0};
	size_t n;

	assert_int_equal(db_inbox_load(f->db, p->users[i], 1, after, 1, load_one, &l, &n), DB_OK);
	assert_int_equal(n, 1);
	assert_int_equal(l.id, p->ids[i]);
	assert_string_equal(l.frame, p->frames[i]);
	free(l.frame);
}

static void
test_push_from_memory_is_the_stored_row(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib;
	struct session a, b;
	struct pushed p = {0};
	char chat[17], nonce[64], ct[64];
	uint8_t raw[40];
	cJSON *r;
	size_t i;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	direct(f, &a, "bob", chat);
	f->hooks.inbox_row = on_row;
	f->hooks_extra = &p;
	randombytes_buf(raw, sizeof raw);
	b64(raw, 24, nonce, sizeof nonce);
	b64(raw, sizeof raw, ct, sizeof ct);
	r = call(f, &a,
		 "{\"id\":5,\"type\":\"sendMessage\",\"chatId\":\"%s\","
		 "\"messageId\":\"%s\",\"envelopes\":[{\"user\":\"bob\","
		 "\"deviceId\":1,\"nonce\":\"%s\",\"ciphertext\":\"%s\"}]}",
		 chat, M1, nonce, ct);
	expect_ok(r, 5);
	cJSON_Delete(r);
	r = call(f, &b,
		 "{\"id\":6,\"type\":\"sendReceipt\",\"chatId\":\"%s\","
		 "\"receiptId\":\"%s\",\"envelopes\":[{\"user\":\"alice\","
		 "\"deviceId\":1,\"nonce\":\"%s\",\"ciphertext\":\"%s\"}]}",
		 chat, R1, nonce, ct);
	expect_ok(r, 6);
	cJSON_Delete(r);
	/* A retry stores nothing, so it pushes nothing. */
	r = call(f, &a,
		 "{\"id\":7,\"type\":\"sendMessage\",\"chatId\":\"%s\","
		 "\"messageId\":\"%s\",\"envelopes\":[{\"user\":\"bob\","
		 "\"deviceId\":1,\"nonce\":\"%s\",\"ciphertext\":\"%s\"}]}",
		 chat, M1, nonce, ct);
	expect_ok(r, 7);
	cJSON_Delete(r);

	assert_int_equal(p.n, 2);
	assert_string_equal(p.users[0], "bob");
	assert_string_equal(p.users[1], "alice");
	/* on_row asserted each frame; "" keeps the analyzer from a NULL. */
	assert_non_null(strstr(p.frames[1] ? p.frames[1] : "", "\"type\":\"receipt\""));
	expect_same_as_stored(f, &p, 0, 0);
	expect_same_as_stored(f, &p, 1, 0);
	for (i = 0; i < p.n; i++)
		free(p.frames[i]);
}

/*
 * Stage 2 envelopes (issue 13) have no nonce: one is accepted beside a
 * stage 1 one in the same send, stored without a nonce and pushed (from
 * memory and from the store alike) without one, while the stage 1 one keeps
 * its nonce; a resend gets the first reply. Its ciphertext may be
 * PROTO_MAX_ENVELOPE bytes, not one more; a nonce, when there is one, is
 * still exactly 24 bytes.
 */
static char *
stage2_frame(int id, const char *chat, int mid, size_t ct_len, const char *bob2_nonce)
{
	uint8_t *ct = calloc(ct_len, 1);
	size_t b64_cap = ct_len / 3 * 4 + 8, cap = b64_cap + 512;
	char *b = malloc(b64_cap), *frame = malloc(cap);

	assert_non_null(ct);
	assert_non_null(b);
	assert_non_null(frame);
	b64(ct, ct_len, b, b64_cap);
	snprintf(frame, cap,
		 "{\"id\":%d,\"type\":\"sendMessage\",\"chatId\":\"%s\",\"messageId\":\"%032x\","
		 "\"envelopes\":[{\"user\":\"bob\",\"deviceId\":1,\"ciphertext\":\"%s\"},"
		 "{\"user\":\"bob\",\"deviceId\":2,\"nonce\":\"%s\","
		 "\"ciphertext\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}]}",
		 id, chat, mid, b, bob2_nonce);
	free(b);
	free(ct);
	return frame;
}

static cJSON *
call_frame(struct fixture *f, struct session *s, char *frame)
{
	char *text = wire_handle(&f->hooks, s, frame, strlen(frame));
	cJSON *reply;

	free(frame);
	assert_non_null(text);
	reply = cJSON_Parse(text);
	assert_non_null(reply);
	free(text);
	return reply;
}

static void
test_stage2_envelopes(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib, ip;
	struct session a, b;
	struct pushed p = {0};
	char chat[PROTO_CHAT_ID_LEN + 1];
	const char *n24 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	cJSON *r, *push;
	static uint8_t ct[PROTO_MAX_ENVELOPE];
	size_t i, len;
	double seq;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	assert_int_equal(e2e_identity_generate(&ip), 0);
	{
		struct db_new_device d = {"bob",
					  "phone",
					  ip.sign_pk,
					  ip.x_pk,
					  ip.x_sig,
					  ib.sign_pk,
					  ip.x_sig /* any 64 bytes */,
					  1};
		uint32_t dev;

		assert_int_equal(db_link_device(f->db, &d, &dev), DB_OK);
		assert_int_equal(dev, 2);
	}
	direct(f, &a, "bob", chat);
	f->hooks.inbox_row = on_row;
	f->hooks_extra = &p;

	/* A nonce of 23 bytes, one too many ciphertext bytes: refused, nothing
	 * stored or pushed. */
	expect_error(
		call_frame(f, &a, stage2_frame(1, chat, 1, 16, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")),
		"bad_request", 1);
	expect_error(call_frame(f, &a, stage2_frame(2, chat, 1, PROTO_MAX_ENVELOPE + 1, n24)),
		     "too_large", 2);
	assert_int_equal(p.n, 0);
	assert_int_equal(db_message_count(f), 0);

	/* The largest stage 2 envelope beside a stage 1 one. */
	r = call_frame(f, &a, stage2_frame(3, chat, 1, PROTO_MAX_ENVELOPE, n24));
	expect_ok(r, 3);
	seq = num(r, "seq");
	cJSON_Delete(r);
	assert_int_equal(p.n, 2);
	/* Pushed in the envelopes' order: bob/1's has no nonce and all its
	 * bytes, bob/2's its nonce; each is what a load from the store makes. */
	push = cJSON_Parse(p.frames[0]);
	assert_non_null(push);
	assert_string_equal(str(push, "type"), "newMessage");
	assert_null(cJSON_GetObjectItemCaseSensitive(push, "nonce"));
	assert_int_equal(proto_b64_decode(str(push, "ciphertext"), ct, sizeof ct, &len), 0);
	assert_int_equal(len, PROTO_MAX_ENVELOPE);
	cJSON_Delete(push);
	push = cJSON_Parse(p.frames[1]);
	assert_non_null(push);
	assert_string_equal(str(push, "nonce"), n24);
	cJSON_Delete(push);
	expect_same_as_stored(f, &p, 0, 0);
	{
		struct loaded l = {0};

		assert_int_equal(db_inbox_load(f->db, "bob", 2, 0, 1, load_one, &l, &len), DB_OK);
		assert_int_equal(len, 1);
		assert_string_equal(l.frame, p.frames[1]);
		free(l.frame);
	}

	/* The resend: the first reply, nothing pushed again. */
	r = call_frame(f, &a, stage2_frame(4, chat, 1, PROTO_MAX_ENVELOPE, n24));
	expect_ok(r, 4);
	assert_true(num(r, "seq") == seq);
	cJSON_Delete(r);
	assert_int_equal(p.n, 2);
	for (i = 0; i < p.n; i++)
		free(p.frames[i]);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
	e2e_identity_wipe(&ip);
}

/* What the typing test's ephemeral hook was handed. */
struct relayed {
	int n;
	char user[PROTO_USER_MAX + 1];
	uint32_t device;
	char frame[4096];
	int online; /* what the hook answers: 1 the device has a receiving connection */
};

static int
ephemeral(void *udata, const char *user, uint32_t device_id, const char *frame)
{
	struct relayed *r = ((struct fixture *)udata)->hooks_extra;

	r->n++;
	snprintf(r->user, sizeof r->user, "%s", user);
	r->device = device_id;
	snprintf(r->frame, sizeof r->frame, "%s", frame);
	return r->online;
}

/* typing: relayed to the addressed devices as a typing push with the
 * sender's keys, stored nowhere (no inbox row, no hook of the inbox), one
 * a chat a second from a connection (more are dropped, relayed 0); stage 2
 * only; members only; a ciphertext over 1024 bytes is too_large. */
static void
test_typing(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib, ic;
	struct session a, b, c;
	struct relayed rel = {.online = 1};
	char chat[17], ct[64], big[2000], nonce[64];
	uint8_t raw[1100];
	cJSON *r, *push;

	f->hooks.ephemeral = ephemeral;
	f->hooks.udata = f;
	f->hooks_extra = &rel;
	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	registered(f, &c, 3, "carol", &ic);
	direct(f, &a, "bob", chat);
	randombytes_buf(raw, sizeof raw);
	b64(raw, 40, ct, sizeof ct);
	b64(raw, 24, nonce, sizeof nonce);
	r = call(f, &a,
		 "{\"id\":1,\"type\":\"typing\",\"chatId\":\"%s\",\"envelopes\":"
		 "[{\"user\":\"bob\",\"deviceId\":1,\"ciphertext\":\"%s\"}]}",
		 chat, ct);
	expect_ok(r, 1);
	assert_true(num(r, "relayed") == 1);
	cJSON_Delete(r);
	assert_int_equal(rel.n, 1);
	assert_string_equal(rel.user, "bob");
	assert_int_equal(rel.device, 1);
	push = cJSON_Parse(rel.frame);
	assert_string_equal(str(push, "type"), "typing");
	assert_string_equal(str(push, "chatId"), chat);
	assert_string_equal(str(push, "ciphertext"), ct);
	assert_string_equal(str(cJSON_GetObjectItemCaseSensitive(push, "sender"), "user"), "alice");
	assert_null(cJSON_GetObjectItemCaseSensitive(push, "nonce"));
	cJSON_Delete(push);
	assert_int_equal(f->n_inbox, 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox"), 0);
	/* Again at once: dropped. */
	r = call(f, &a,
		 "{\"id\":2,\"type\":\"typing\",\"chatId\":\"%s\",\"envelopes\":"
		 "[{\"user\":\"bob\",\"deviceId\":1,\"ciphertext\":\"%s\"}]}",
		 chat, ct);
	expect_ok(r, 2);
	assert_true(num(r, "relayed") == 0);
	cJSON_Delete(r);
	assert_int_equal(rel.n, 1);
	/* Not a member; a stage 1 envelope; too large. */
	r = call(f, &c,
		 "{\"id\":3,\"type\":\"typing\",\"chatId\":\"%s\",\"envelopes\":"
		 "[{\"user\":\"bob\",\"deviceId\":1,\"ciphertext\":\"%s\"}]}",
		 chat, ct);
	expect_error(r, "no_such_chat", 3);
	r = call(f, &b,
		 "{\"id\":4,\"type\":\"typing\",\"chatId\":\"%s\",\"envelopes\":"
		 "[{\"user\":\"alice\",\"deviceId\":1,\"nonce\":\"%s\",\"ciphertext\":\"%s\"}]}",
		 chat, nonce, ct);
	expect_error(r, "bad_request", 4);
	b64(raw, 1025, big, sizeof big);
	r = call(f, &b,
		 "{\"id\":5,\"type\":\"typing\",\"chatId\":\"%s\",\"envelopes\":"
		 "[{\"user\":\"alice\",\"deviceId\":1,\"ciphertext\":\"%s\"}]}",
		 chat, big);
	expect_error(r, "too_large", 5);
	r = call(f, &b,
		 "{\"id\":6,\"type\":\"typing\",\"chatId\":\"%s\",\"envelopes\":"
		 "[{\"user\":\"carol\",\"deviceId\":1,\"ciphertext\":\"%s\"}]}",
		 chat, ct);
	expect_error(r, "device_mismatch", 6);
	/* bob's device is not connected: relayed to nobody, still ok. */
	rel.online = 0;
	r = call(f, &b,
		 "{\"id\":7,\"type\":\"typing\",\"chatId\":\"%s\",\"envelopes\":"
		 "[{\"user\":\"alice\",\"deviceId\":1,\"ciphertext\":\"%s\"}]}",
		 chat, ct);
	expect_ok(r, 7);
	assert_true(num(r, "relayed") == 0);
	cJSON_Delete(r);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbox"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_push_from_memory_is_the_stored_row, setup_wire,
						teardown),
		cmocka_unit_test_setup_teardown(test_send_and_ack, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_inbox_quota, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_stage2_envelopes, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_typing, setup_wire, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
