/*
 * test_server_wire.c - chat-server's request layer (server-stub/wire.c):
 * JSON frames in, reply frames out, with a real store in a temporary
 * directory and real signatures, but no network: groups, linking and
 * removing devices included, with the network layer's hooks played here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <sodium.h>
#include <sqlite3.h>

#include "addr.h"
#include "blob.h"
#include "db.h"
#include "e2e.h"
#include "proto.h"
#include "server.h"
#include "wire.h"

struct fixture {
	char dir[64];
	char path[96];
	struct db *db;
	struct wire_hooks hooks;
	int n_auth;
	struct session *last_auth;
	int n_inbox;
	char inbox_user[PROTO_USER_MAX + 1];
	uint32_t inbox_device;
	/* The live sessions, for find_link (open_session adds them). */
	struct session *sessions[16];
	size_t n_sessions;
	int n_linked;
	struct session *last_linked;
	int n_removed;
	char removed_user[PROTO_USER_MAX + 1];
	uint32_t removed_device;
	struct session *removed_by;
	/* register_wait: what it answers, and how many it took. */
	int64_t reg_wait;
	int reg_taken;
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

/* What server.c does, over the test's sessions (opened in order, so the
 * first of two requests for one key is the older). */
static size_t
on_list_links(void *udata, const char *user, int64_t now, struct session **out, size_t cap)
{
	struct fixture *f = udata;
	size_t i, j, n = 0;

	for (i = 0; i < f->n_sessions; i++) {
		struct session *s = f->sessions[i];
		int newest = 1;

		if (s->authed || !s->link.pending || now >= s->link.expires_at ||
		    strcmp(s->link.user, user) != 0)
			continue;
		for (j = i + 1; j < f->n_sessions; j++)
			if (!f->sessions[j]->authed && f->sessions[j]->link.pending &&
			    memcmp(f->sessions[j]->link.identity_key, s->link.identity_key, 32) ==
				    0 &&
			    strcmp(f->sessions[j]->link.user, user) == 0 &&
			    f->sessions[j]->link.created_at >= s->link.created_at)
				newest = 0;
		if (!newest)
			continue;
		if (n < cap)
			out[n] = s;
		n++;
	}
	return n;
}

static void
on_linked(void *udata, struct session *s)
{
	struct fixture *f = udata;

	f->n_linked++;
	f->last_linked = s;
	/* The request is still readable during the call. */
	assert_true(s->link.pending);
	assert_true(s->authed);
}

static void
on_removed(void *udata, const char *user, uint32_t device_id, struct session *by)
{
	struct fixture *f = udata;

	f->n_removed++;
	snprintf(f->removed_user, sizeof f->removed_user, "%s", user);
	f->removed_device = device_id;
	f->removed_by = by;
}

/* What server.c does: any authenticated session of user. */
static int
on_online(void *udata, const char *user)
{
	struct fixture *f = udata;
	size_t i;

	for (i = 0; i < f->n_sessions; i++) {
		if (f->sessions[i]->authed && strcmp(f->sessions[i]->user, user) == 0)
			return 1;
	}
	return 0;
}

/* The names the test server answers to. */
static char name_local[] = "127.0.0.1:8700", name_proxy[] = "proxy.example:443";
static char *name_list[] = {name_local, name_proxy};
static const struct server_names test_names = {name_list, 2, 2};
#define SERVER_NAME "127.0.0.1:8700"

static int64_t
on_register_wait(void *udata, struct session *s, int take)
{
	struct fixture *f = udata;

	(void)s;
	if (take) {
		f->reg_taken++;
		return 0;
	}
	return f->reg_wait;
}

/* Bytes 0 to 31: the key of the known answers below. */
static const uint8_t test_blob_key[BLOB_KEY_BYTES] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
						      11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
						      22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

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
		.blob_key = test_blob_key,
		.max_blob = 1000000,
		.retention_ms = 86400000,
		.authenticated = on_auth,
		.inbox_changed = on_inbox,
		.list_links = on_list_links,
		.names = &test_names,
		.linked = on_linked,
		.device_removed = on_removed,
		.online = on_online,
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
	size_t i;

	memset(s, 0, sizeof *s);
	s->conn_id = id;
	for (i = 0; i < f->n_sessions && f->sessions[i] != s; i++)
		;
	if (i == f->n_sessions) {
		assert_true(f->n_sessions < 16);
		f->sessions[f->n_sessions++] = s;
	}
	hello = wire_hello(&f->hooks, s);
	assert_non_null(hello);
	free(hello);
}

/* The session signature of me, under domain, over this session's challenge,
 * server and binding (PROTOCOL.md, "Session"), in base64 into sg. */
static void
session_sig(const struct session *s, const struct e2e_identity *me, const char *domain,
	    const char *server, const uint8_t *binding, size_t binding_len, char sg[100])
{
	uint8_t sig[64];

	assert_int_equal(e2e_sign_session(sig, domain, s->challenge, server, binding, binding_len,
					  me->sign_sk),
			 0);
	b64(sig, 64, sg, 100);
}

/* A register request for user with identity me, signing this session's
 * challenge under domain, for the server named server. */
static cJSON *
do_register_for(struct fixture *f, struct session *s, int id, const char *user,
		const struct e2e_identity *me, const char *domain, const char *server)
{
	char ik[64], xk[64], xs[100], sg[100];

	session_sig(s, me, domain, server, s->binding, s->binding_len, sg);
	b64(me->sign_pk, 32, ik, sizeof ik);
	b64(me->x_pk, 32, xk, sizeof xk);
	b64(me->x_sig, 64, xs, sizeof xs);
	return call(f, s,
		    "{\"id\":%d,\"type\":\"register\",\"user\":\"%s\","
		    "\"deviceName\":\"test\",\"identityKey\":\"%s\","
		    "\"exchangeKey\":\"%s\",\"exchangeKeySig\":\"%s\","
		    "\"server\":\"%s\",\"signature\":\"%s\"}",
		    id, user, ik, xk, xs, server, sg);
}

static cJSON *
do_register(struct fixture *f, struct session *s, int id, const char *user,
	    const struct e2e_identity *me, const char *domain)
{
	return do_register_for(f, s, id, user, me, domain, SERVER_NAME);
}

/* auth for the server named server, signed with binding. */
static cJSON *
do_auth_for(struct fixture *f, struct session *s, int id, const char *user, int dev,
	    const struct e2e_identity *me, const char *server, const uint8_t *binding,
	    size_t binding_len)
{
	char sg[100];

	session_sig(s, me, PROTO_LABEL_AUTH, server, binding, binding_len, sg);
	return call(f, s,
		    "{\"id\":%d,\"type\":\"auth\",\"user\":\"%s\","
		    "\"deviceId\":%d,\"server\":\"%s\",\"signature\":\"%s\"}",
		    id, user, dev, server, sg);
}

static cJSON *
do_auth(struct fixture *f, struct session *s, int id, const char *user, int dev,
	const struct e2e_identity *me)
{
	return do_auth_for(f, s, id, user, dev, me, SERVER_NAME, s->binding, s->binding_len);
}

static void
registered(struct fixture *f, struct session *s, uint64_t conn, const char *user,
	   struct e2e_identity *me)
{
	cJSON *r;

	assert_int_equal(e2e_identity_generate(me), 0);
	open_session(f, s, conn);
	r = do_register(f, s, 1, user, me, PROTO_LABEL_REGISTER);
	expect_ok(r, 1);
	cJSON_Delete(r);
	assert_true(s->authed);
}

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
	expect_error(do_register(f, &s1, 1, "alice", &alice, PROTO_LABEL_AUTH), "bad_signature", 1);
	expect_error(do_register(f, &s1, 2, "Alice", &alice, PROTO_LABEL_REGISTER), "invalid_user",
		     2);
	r = do_register(f, &s1, 3, "alice", &alice, PROTO_LABEL_REGISTER);
	expect_ok(r, 3);
	assert_string_equal(str(r, "user"), "alice");
	assert_true(num(r, "deviceId") == 1);
	cJSON_Delete(r);
	assert_int_equal(f->n_auth, 1);
	assert_ptr_equal(f->last_auth, &s1);
	assert_true(s1.authed);
	expect_error(do_register(f, &s1, 4, "alice", &alice, PROTO_LABEL_REGISTER),
		     "already_authenticated", 4);
	expect_error(do_auth(f, &s1, 5, "alice", 1, &alice), "already_authenticated", 5);

	/* A retry on a new connection gets the same reply; another key not. */
	open_session(f, &s2, 2);
	expect_error(do_register(f, &s2, 1, "alice", &other, PROTO_LABEL_REGISTER), "user_exists",
		     1);
	r = do_register(f, &s2, 2, "alice", &alice, PROTO_LABEL_REGISTER);
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
		char sg[100];

		session_sig(&s1, &alice, PROTO_LABEL_AUTH, SERVER_NAME, NULL, 0, sg);
		expect_error(call(f, &s3,
				  "{\"id\":5,\"type\":\"auth\",\"user\":"
				  "\"alice\",\"deviceId\":1,\"server\":\"" SERVER_NAME
				  "\",\"signature\":\"%s\"}",
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
	/* In the order first named (PROTOCOL.md, "getKeys"). */
	assert_string_equal(str(cJSON_GetArrayItem(u, 0), "user"), "bob");
	assert_string_equal(str(cJSON_GetArrayItem(u, 1), "user"), "carol");
	u = cJSON_GetArrayItem(cJSON_GetArrayItem(u, 0), 1); /* bob's devices */
	u = cJSON_GetArrayItem(u, 0);
	assert_true(num(u, "deviceId") == 1);
	/* bob has not taken part in a chat with alice: no names for her. */
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(u, "name")));
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
	/* bob made a chat with alice: he is her contact now, names and all. */
	r = call(f, &a, "{\"id\":4,\"type\":\"getKeys\",\"users\":[\"bob\"]}");
	expect_ok(r, 4);
	u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "users"), 0);
	u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(u, "devices"), 0);
	assert_string_equal(str(u, "name"), "test");
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

	/* The retry: same reply, no new push. (No envelope at all is refused
	 * first, as a malformed request is.) */
	expect_error(call(f, &a,
			  "{\"id\":11,\"type\":\"sendMessage\",\"chatId\":\"%s\","
			  "\"messageId\":\"%s\",\"envelopes\":[]}",
			  chat, mid),
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
			text, "{\"type\":\"chatUpdate\",\"chatId\":\"0123456789abcdef\","
			      "\"updateId\":\"00112233445566778899aabbccddeeff\",\"seq\":4,"
			      "\"sentAt\":1795000000456,\"kind\":\"group\",\"name\":\"climbing\","
			      "\"actor\":\"alice\",\"operation\":\"add\",\"users\":[\"carol\"],"
			      "\"participants\":[\"alice\",\"bob\",\"carol\"],\"admins\":[\"alice\"]}");
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

/* ---- devices ----------------------------------------------------------- */

/* The names a server answers to (names.c): one spelling each, --name's
 * form, and what follows from --listen. */
static void
test_server_names(void **state)
{
	static const struct {
		const char *arg;
		int port;
		const char *want; /* NULL: refused */
	} parse[] = {
		{"chat.example.org", 443, "chat.example.org:443"},
		{"Chat.Example.ORG:8443", 443, "chat.example.org:8443"},
		{"127.0.0.1:8700", 80, "127.0.0.1:8700"},
		{"localhost", 80, "localhost:80"},
		{"[::1]:8700", 80, "[::1]:8700"},
		{"[0:0:0:0:0:0:0:1]:9", 80, "[::1]:9"},
		{"[2001:DB8::A]", 443, "[2001:db8::a]:443"},
		{"::1", 80, NULL}, /* a bare IPv6 address: brackets needed */
		{"[::1", 80, NULL},
		{"[::1]x", 80, NULL},
		{"[nonsense]:1", 80, NULL},
		{"host:0", 80, NULL},
		{"host:65536", 80, NULL},
		{"host:+80", 80, NULL},
		{"host:", 80, NULL},
		{":80", 80, NULL},
		{"", 80, NULL},
		{"ho st:80", 80, NULL},
		{"host/x:80", 80, NULL},
	};
	struct server_names n = {0};
	char out[PROTO_SERVER_NAME_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof parse / sizeof *parse; i++) {
		int rc = names_parse(parse[i].arg, parse[i].port, out, sizeof out);

		if (parse[i].want == NULL) {
			assert_int_equal(rc, -1);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_string_equal(out, parse[i].want);
		assert_true(names_valid_form(out));
	}
	/* --listen's host as it is: written the way a device signs it
	 * (proto_server_name), but only a plain host name or an address. */
	assert_int_equal(names_canonical("Chat_1.Example", 80, out, sizeof out), 0);
	assert_string_equal(out, "chat_1.example:80");
	assert_int_equal(names_canonical("::1", 80, out, sizeof out), 0);
	assert_string_equal(out, "[::1]:80");
	assert_int_equal(names_canonical("[", 80, out, sizeof out), -1);
	assert_int_equal(names_canonical("a]", 80, out, sizeof out), -1);
	assert_int_equal(names_canonical("a%b", 80, out, sizeof out), -1);
	assert_false(names_valid_form("Upper:80"));
	assert_false(names_valid_form(""));
	assert_false(names_valid_form("a b:1"));
	assert_false(names_valid_form("a\x1b:1"));

	/* A loopback listen answers to its own name and address, and to the
	 * usual names of the loopback, at the port bound; nothing else. */
	assert_int_equal(names_defaults(&n, "127.0.0.2", "127.0.0.2", 8700), 0);
	assert_true(names_has(&n, "127.0.0.2:8700"));
	assert_true(names_has(&n, "localhost:8700"));
	assert_true(names_has(&n, "127.0.0.1:8700"));
	assert_true(names_has(&n, "[::1]:8700"));
	assert_false(names_has(&n, "127.0.0.1:8701"));
	assert_false(names_has(&n, "localhost:80"));
	assert_int_equal(names_add(&n, "proxy:1"), 0);
	assert_int_equal(names_add(&n, "proxy:1"), 0);
	assert_int_equal(n.n, 5);
	names_free(&n);
	/* Another address answers to itself only. */
	assert_int_equal(names_defaults(&n, "chat.example.org", "192.0.2.7", 443), 0);
	assert_true(names_has(&n, "chat.example.org:443"));
	assert_true(names_has(&n, "192.0.2.7:443"));
	assert_false(names_has(&n, "localhost:443"));
	assert_int_equal(n.n, 2);
	names_free(&n);
	/* A wildcard one also to the loopback and every interface's address. */
	assert_int_equal(names_defaults(&n, "0.0.0.0", "0.0.0.0", 9), 0);
	assert_true(names_has(&n, "127.0.0.1:9"));
	assert_true(names_has(&n, "localhost:9"));
	names_free(&n);
}

/* The approval signature of a new device, by approver. */
static void
sign_approval(uint8_t sig[64], const char *user, const struct e2e_identity *dev,
	      const struct e2e_identity *approver)
{
	uint8_t msg[14 + 32 + 1 + 64];
	size_t n = 0, ulen = strlen(user);

	memcpy(msg, "chat-device-v1", 14);
	n = 14;
	memcpy(msg + n, user, ulen);
	n += ulen;
	msg[n++] = 0;
	memcpy(msg + n, dev->sign_pk, 32);
	n += 32;
	memcpy(msg + n, dev->x_pk, 32);
	n += 32;
	assert_int_equal(crypto_sign_detached(sig, NULL, msg, n, approver->sign_sk), 0);
}

/* The MAC a new device puts in its request (any 32 bytes will do for the
 * server, which cannot check it): here the keys' first bytes, so each
 * request's MAC differs. */
static void
fake_mac(const struct e2e_identity *me, char out[64])
{
	uint8_t mac[32];

	memcpy(mac, me->sign_pk, 16);
	memcpy(mac + 16, me->x_pk, 16);
	b64(mac, 32, out, 64);
}

/* A linkDevice request of session s for user with identity me. */
static cJSON *
do_link(struct fixture *f, struct session *s, int id, const char *user,
	const struct e2e_identity *me, const char *domain)
{
	char ik[64], xk[64], xs[100], sg[100], mac[64];

	session_sig(s, me, domain, SERVER_NAME, s->binding, s->binding_len, sg);
	b64(me->sign_pk, 32, ik, sizeof ik);
	b64(me->x_pk, 32, xk, sizeof xk);
	b64(me->x_sig, 64, xs, sizeof xs);
	fake_mac(me, mac);
	return call(f, s,
		    "{\"id\":%d,\"type\":\"linkDevice\",\"user\":\"%s\","
		    "\"deviceName\":\"phone\",\"identityKey\":\"%s\","
		    "\"exchangeKey\":\"%s\",\"exchangeKeySig\":\"%s\",\"linkMac\":\"%s\","
		    "\"server\":\"" SERVER_NAME "\",\"signature\":\"%s\"}",
		    id, user, ik, xk, xs, mac, sg);
}

/* approveLink of the request of the device with identity dev. */
static cJSON *
do_approve(struct fixture *f, struct session *s, int id, const struct e2e_identity *dev,
	   const uint8_t sig[64])
{
	char sg[100], ik[64];

	b64(sig, 64, sg, sizeof sg);
	b64(dev->sign_pk, 32, ik, sizeof ik);
	return call(f, s,
		    "{\"id\":%d,\"type\":\"approveLink\",\"identityKey\":\"%s\","
		    "\"approval\":\"%s\"}",
		    id, ik, sg);
}

/* Link a new device for the user of session a (device approver), through
 * session p; returns the new device id. */
static int
linked_device(struct fixture *f, struct session *a, const struct e2e_identity *approver,
	      struct session *p, uint64_t conn, struct e2e_identity *me)
{
	uint8_t sig[64];
	cJSON *r;
	int id;

	assert_int_equal(e2e_identity_generate(me), 0);
	open_session(f, p, conn);
	r = do_link(f, p, 1, a->user, me, PROTO_LABEL_LINK);
	expect_ok(r, 1);
	cJSON_Delete(r);
	sign_approval(sig, a->user, me, approver);
	r = do_approve(f, a, 50, me, sig);
	expect_ok(r, 50);
	id = (int)num(r, "deviceId");
	cJSON_Delete(r);
	return id;
}

/* getLink's requests, as an array the caller frees with the reply. */
static const cJSON *
requests(const cJSON *r)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(r, "requests");

	assert_true(cJSON_IsArray(arr));
	return arr;
}

static void
test_link_flow(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib, ip, it, ix;
	/* y lives as long as the fixture's list of sessions points at it. */
	struct session a, b, p, t, x, p2, y;
	char b64k[100];
	uint8_t sig[64];
	double expires;
	cJSON *r, *u, *e;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	assert_int_equal(e2e_identity_generate(&ip), 0);
	open_session(f, &p, 3);

	/* The signature must be under chat-link-v2, for this server. */
	expect_error(do_link(f, &p, 1, "alice", &ip, PROTO_LABEL_REGISTER), "bad_signature", 1);
	expect_error(do_link(f, &p, 2, "zed", &ip, PROTO_LABEL_LINK), "unknown_user", 2);
	/* Another device's identity key. */
	expect_error(do_link(f, &p, 3, "alice", &ib, PROTO_LABEL_LINK), "bad_request", 3);
	expect_error(call(f, &p, "{\"id\":4,\"type\":\"getLink\"}"), "unauthenticated", 4);
	/* A linkMac that is not 32 bytes. */
	{
		char ik[64], xk[64], xs[100], sg[100];

		session_sig(&p, &ip, PROTO_LABEL_LINK, SERVER_NAME, NULL, 0, sg);
		b64(ip.sign_pk, 32, ik, sizeof ik);
		b64(ip.x_pk, 32, xk, sizeof xk);
		b64(ip.x_sig, 64, xs, sizeof xs);
		expect_error(call(f, &p,
				  "{\"id\":5,\"type\":\"linkDevice\",\"user\":\"alice\","
				  "\"identityKey\":\"%s\",\"exchangeKey\":\"%s\","
				  "\"exchangeKeySig\":\"%s\",\"linkMac\":\"AAAA\","
				  "\"server\":\"" SERVER_NAME "\",\"signature\":\"%s\"}",
				  ik, xk, xs, sg),
			     "bad_request", 5);
	}
	r = do_link(f, &p, 6, "alice", &ip, PROTO_LABEL_LINK);
	expect_ok(r, 6);
	/* The reply has no code: the code is the new device's secret. */
	assert_null(cJSON_GetObjectItemCaseSensitive(r, "code"));
	expires = num(r, "expiresAt");
	assert_true(expires > (double)proto_now_ms() + 9 * 60 * 1000);
	cJSON_Delete(r);
	assert_false(p.authed);

	/* getLink: only the same user's devices see the request, with its keys
	 * and MAC as they came. */
	r = call(f, &b, "{\"id\":6,\"type\":\"getLink\"}");
	expect_ok(r, 6);
	assert_string_equal(str(r, "user"), "bob");
	assert_int_equal(cJSON_GetArraySize(requests(r)), 0);
	cJSON_Delete(r);
	r = call(f, &a, "{\"id\":10,\"type\":\"getLink\"}");
	expect_ok(r, 10);
	assert_string_equal(str(r, "user"), "alice");
	assert_int_equal(cJSON_GetArraySize(requests(r)), 1);
	u = cJSON_GetArrayItem(requests(r), 0);
	assert_string_equal(str(u, "deviceName"), "phone");
	b64(ip.sign_pk, 32, b64k, sizeof b64k);
	assert_string_equal(str(u, "identityKey"), b64k);
	b64(ip.x_pk, 32, b64k, sizeof b64k);
	assert_string_equal(str(u, "exchangeKey"), b64k);
	b64(ip.x_sig, 64, b64k, sizeof b64k);
	assert_string_equal(str(u, "exchangeKeySig"), b64k);
	fake_mac(&ip, b64k);
	assert_string_equal(str(u, "linkMac"), b64k);
	assert_true(num(u, "expiresAt") == expires);
	cJSON_Delete(r);

	/* approveLink: bob cannot (no request of his has that key); a signature
	 * by another key, or over other keys, is refused. */
	sign_approval(sig, "alice", &ip, &ia);
	expect_error(do_approve(f, &b, 11, &ip, sig), "no_such_link", 11);
	expect_error(do_approve(f, &a, 12, &ib, sig), "no_such_link", 12);
	sign_approval(sig, "alice", &ip, &ib);
	expect_error(do_approve(f, &a, 13, &ip, sig), "bad_signature", 13);
	sign_approval(sig, "alice", &ib, &ia);
	expect_error(do_approve(f, &a, 14, &ip, sig), "bad_signature", 14);
	expect_error(call(f, &a, "{\"id\":15,\"type\":\"approveLink\",\"approval\":\"x\"}"),
		     "bad_request", 15);
	assert_int_equal(f->n_linked, 0);
	assert_false(p.authed);

	sign_approval(sig, "alice", &ip, &ia);
	r = do_approve(f, &a, 16, &ip, sig);
	expect_ok(r, 16);
	assert_string_equal(str(r, "user"), "alice");
	assert_true(num(r, "deviceId") == 2);
	cJSON_Delete(r);
	assert_int_equal(f->n_linked, 1);
	assert_ptr_equal(f->last_linked, &p);
	assert_true(p.authed);
	assert_string_equal(p.user, "alice");
	assert_int_equal(p.device_id, 2);
	assert_false(p.link.pending);
	{
		char *text = wire_linked(&p);

		assert_string_equal(text,
				    "{\"type\":\"linked\",\"user\":\"alice\",\"deviceId\":2}");
		free(text);
	}
	/* The request is used up. */
	expect_error(do_approve(f, &a, 17, &ip, sig), "no_such_link", 17);
	/* The phone is a device now; it can auth on a new connection. */
	open_session(f, &p2, 9);
	r = do_auth(f, &p2, 1, "alice", 2, &ip);
	expect_ok(r, 1);
	cJSON_Delete(r);

	/* getKeys shows who approved it. */
	r = call(f, &b, "{\"id\":16,\"type\":\"getKeys\",\"users\":[\"alice\"]}");
	expect_ok(r, 16);
	u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "users"), 0);
	u = cJSON_GetObjectItemCaseSensitive(u, "devices");
	assert_int_equal(cJSON_GetArraySize(u), 2);
	assert_true(cJSON_IsNull(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(u, 0), "approverKey")));
	assert_true(cJSON_IsNull(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(u, 0), "approval")));
	b64(ia.sign_pk, 32, b64k, sizeof b64k);
	assert_string_equal(str(cJSON_GetArrayItem(u, 1), "approverKey"), b64k);
	{
		uint8_t got[64];
		size_t n;

		assert_int_equal(sodium_base642bin(got, sizeof got,
						   str(cJSON_GetArrayItem(u, 1), "approval"), 88,
						   NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL),
				 0);
		assert_int_equal(n, 64);
		assert_int_equal(e2e_verify_device(got, "alice", ip.sign_pk, ip.x_pk, ia.sign_pk),
				 0);
	}
	cJSON_Delete(r);

	/* An expired request is not listed, nor can it be approved. */
	assert_int_equal(e2e_identity_generate(&it), 0);
	open_session(f, &t, 4);
	r = do_link(f, &t, 1, "alice", &it, PROTO_LABEL_LINK);
	expect_ok(r, 1);
	cJSON_Delete(r);
	t.link.expires_at = proto_now_ms() - 1;
	r = call(f, &a, "{\"id\":17,\"type\":\"getLink\"}");
	assert_int_equal(cJSON_GetArraySize(requests(r)), 0);
	cJSON_Delete(r);
	sign_approval(sig, "alice", &it, &ia);
	expect_error(do_approve(f, &a, 18, &it, sig), "no_such_link", 18);
	/* A third device, approved by the second; then a fourth is refused,
	 * when asking and (for a request made before) at approval. */
	e2e_identity_wipe(&it);
	assert_int_equal(e2e_identity_generate(&ix), 0);
	open_session(f, &x, 5);
	r = do_link(f, &x, 1, "alice", &ix, PROTO_LABEL_LINK);
	expect_ok(r, 1);
	cJSON_Delete(r);
	assert_int_equal(linked_device(f, &p2, &ip, &t, 6, &it), 3);
	/* x's request, made when alice had two devices, still waits. */
	r = call(f, &a, "{\"id\":18,\"type\":\"getLink\"}");
	expect_ok(r, 18);
	assert_int_equal(cJSON_GetArraySize(requests(r)), 1);
	cJSON_Delete(r);
	{
		struct e2e_identity iy;

		assert_int_equal(e2e_identity_generate(&iy), 0);
		open_session(f, &y, 7);
		r = do_link(f, &y, 1, "alice", &iy, PROTO_LABEL_LINK);
		e = cJSON_GetObjectItemCaseSensitive(r, "error");
		assert_non_null(strstr(str(e, "message"), "chatctl device remove"));
		expect_error(r, "too_many_devices", 1);
		e2e_identity_wipe(&iy);
	}
	sign_approval(sig, "alice", &ix, &ia);
	expect_error(do_approve(f, &a, 19, &ix, sig), "too_many_devices", 19);
	assert_false(x.authed);

	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
	e2e_identity_wipe(&ip);
	e2e_identity_wipe(&it);
	e2e_identity_wipe(&ix);
}

/* At most PROTO_MAX_LINKS requests wait for one user; the same keys asking
 * again (a reconnected client) replace their request and do not count
 * twice; another user's do not count. */
static void
test_link_cap(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib, id[PROTO_MAX_LINKS + 1];
	struct session a, b, w[PROTO_MAX_LINKS + 2], again;
	cJSON *r;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	for (int i = 0; i <= PROTO_MAX_LINKS; i++)
		assert_int_equal(e2e_identity_generate(&id[i]), 0);
	for (int i = 0; i < PROTO_MAX_LINKS; i++) {
		open_session(f, &w[i], 10 + (uint64_t)i);
		r = do_link(f, &w[i], 1, "alice", &id[i], PROTO_LABEL_LINK);
		expect_ok(r, 1);
		cJSON_Delete(r);
	}
	/* The first device asks again on a new connection: still five. */
	open_session(f, &again, 20);
	r = do_link(f, &again, 1, "alice", &id[0], PROTO_LABEL_LINK);
	expect_ok(r, 1);
	cJSON_Delete(r);
	r = call(f, &a, "{\"id\":2,\"type\":\"getLink\"}");
	assert_int_equal(cJSON_GetArraySize(requests(r)), PROTO_MAX_LINKS);
	cJSON_Delete(r);
	/* A sixth is refused, saying what to do. */
	open_session(f, &w[PROTO_MAX_LINKS], 30);
	r = do_link(f, &w[PROTO_MAX_LINKS], 1, "alice", &id[PROTO_MAX_LINKS], PROTO_LABEL_LINK);
	assert_non_null(strstr(str(cJSON_GetObjectItemCaseSensitive(r, "error"), "message"),
			       "approve one"));
	expect_error(r, "too_many_links", 1);
	/* bob's requests are counted apart. */
	open_session(f, &w[PROTO_MAX_LINKS + 1], 31);
	r = do_link(f, &w[PROTO_MAX_LINKS + 1], 1, "bob", &id[PROTO_MAX_LINKS], PROTO_LABEL_LINK);
	expect_ok(r, 1);
	cJSON_Delete(r);
	/* One expires: room for the sixth. */
	w[1].link.expires_at = proto_now_ms() - 1;
	r = do_link(f, &w[PROTO_MAX_LINKS], 2, "alice", &id[PROTO_MAX_LINKS], PROTO_LABEL_LINK);
	assert_null(cJSON_GetObjectItemCaseSensitive(r, "error"));
	cJSON_Delete(r);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
	for (int i = 0; i <= PROTO_MAX_LINKS; i++)
		e2e_identity_wipe(&id[i]);
}

/* The session signature names the server and binds the TLS connection:
 * for another server, or another TLS connection, it is refused; a client
 * of the old form (no server, the challenge alone) is told to update. */
static void
test_session_binding(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ip;
	struct session a, s, l;
	uint8_t other[32];
	char sg[100];
	cJSON *r, *e;

	assert_int_equal(e2e_identity_generate(&ia), 0);
	assert_int_equal(e2e_identity_generate(&ip), 0);
	open_session(f, &a, 1);
	/* register for another server: wrong_server, which names it. */
	r = do_register_for(f, &a, 1, "alice", &ia, PROTO_LABEL_REGISTER, "evil.example:8700");
	e = cJSON_GetObjectItemCaseSensitive(r, "error");
	assert_non_null(strstr(str(e, "message"), "this server is not evil.example:8700"));
	assert_non_null(strstr(str(e, "message"), "--name"));
	expect_error(r, "wrong_server", 1);
	/* Not the form of a name at all. */
	expect_error(do_register_for(f, &a, 2, "alice", &ia, PROTO_LABEL_REGISTER, "A B"),
		     "bad_request", 2);
	/* Every name of the server is good: its own, a proxy's (--name). */
	r = do_register_for(f, &a, 3, "alice", &ia, PROTO_LABEL_REGISTER, "proxy.example:443");
	expect_ok(r, 3);
	cJSON_Delete(r);

	/* auth: the name must match what was signed. */
	open_session(f, &s, 2);
	session_sig(&s, &ia, PROTO_LABEL_AUTH, "proxy.example:443", NULL, 0, sg);
	expect_error(call(f, &s,
			  "{\"id\":1,\"type\":\"auth\",\"user\":\"alice\",\"deviceId\":1,"
			  "\"server\":\"" SERVER_NAME "\",\"signature\":\"%s\"}",
			  sg),
		     "bad_signature", 1);
	expect_error(do_auth_for(f, &s, 2, "alice", 1, &ia, "localhost:8700", NULL, 0),
		     "wrong_server", 2);
	/* The old form: the challenge alone under chat-auth-v1, no server. */
	{
		uint8_t sig[64];
		char old[100];

		assert_int_equal(
			e2e_sign_challenge(sig, "chat-auth-v1", s.challenge, 32, ia.sign_sk), 0);
		b64(sig, 64, old, sizeof old);
		r = call(f, &s,
			 "{\"id\":3,\"type\":\"auth\",\"user\":\"alice\",\"deviceId\":1,"
			 "\"signature\":\"%s\"}",
			 old);
		e = cJSON_GetObjectItemCaseSensitive(r, "error");
		assert_non_null(strstr(str(e, "message"), "update the client"));
		expect_error(r, "bad_request", 3);
	}

	/* Over TLS the connection's binding is signed too: a signature made on
	 * another TLS connection (a relay's), or made without one, fails. */
	for (int i = 0; i < 32; i++)
		s.binding[i] = (uint8_t)(0xa0 + i);
	s.binding_len = 32;
	memcpy(other, s.binding, 32);
	other[7] ^= 0x10;
	expect_error(do_auth_for(f, &s, 4, "alice", 1, &ia, SERVER_NAME, other, 32),
		     "bad_signature", 4);
	expect_error(do_auth_for(f, &s, 5, "alice", 1, &ia, SERVER_NAME, NULL, 0), "bad_signature",
		     5);
	assert_false(s.authed);
	r = do_auth_for(f, &s, 6, "alice", 1, &ia, SERVER_NAME, s.binding, 32);
	expect_ok(r, 6);
	cJSON_Delete(r);
	assert_true(s.authed);

	/* linkDevice too: for another server, and over another TLS connection. */
	open_session(f, &l, 3);
	for (int i = 0; i < 32; i++)
		l.binding[i] = (uint8_t)i;
	l.binding_len = 32;
	{
		char ik[64], xk[64], xs[100], mac[64];

		b64(ip.sign_pk, 32, ik, sizeof ik);
		b64(ip.x_pk, 32, xk, sizeof xk);
		b64(ip.x_sig, 64, xs, sizeof xs);
		fake_mac(&ip, mac);
		session_sig(&l, &ip, PROTO_LABEL_LINK, SERVER_NAME, other, 32, sg);
		expect_error(call(f, &l,
				  "{\"id\":1,\"type\":\"linkDevice\",\"user\":\"alice\","
				  "\"identityKey\":\"%s\",\"exchangeKey\":\"%s\","
				  "\"exchangeKeySig\":\"%s\",\"linkMac\":\"%s\","
				  "\"server\":\"" SERVER_NAME "\",\"signature\":\"%s\"}",
				  ik, xk, xs, mac, sg),
			     "bad_signature", 1);
		session_sig(&l, &ip, PROTO_LABEL_LINK, "evil.example:1", l.binding, 32, sg);
		expect_error(call(f, &l,
				  "{\"id\":2,\"type\":\"linkDevice\",\"user\":\"alice\","
				  "\"identityKey\":\"%s\",\"exchangeKey\":\"%s\","
				  "\"exchangeKeySig\":\"%s\",\"linkMac\":\"%s\","
				  "\"server\":\"evil.example:1\",\"signature\":\"%s\"}",
				  ik, xk, xs, mac, sg),
			     "wrong_server", 2);
	}
	r = do_link(f, &l, 3, "alice", &ip, PROTO_LABEL_LINK);
	expect_ok(r, 3);
	cJSON_Delete(r);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ip);
}

/* --test-link-swap: the server plays the attacker, and hands out keys of its
 * own under the new device's MAC. (What the approving device makes of that
 * is libchat's: tests/integration/link-swap.sh.) */
static void
test_link_swap_hook(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ip;
	struct session a, p;
	char b64k[100];
	cJSON *r, *u;

	registered(f, &a, 1, "alice", &ia);
	f->hooks.test_link_swap = 1;
	assert_int_equal(e2e_identity_generate(&ip), 0);
	open_session(f, &p, 2);
	r = do_link(f, &p, 1, "alice", &ip, PROTO_LABEL_LINK);
	expect_ok(r, 1);
	cJSON_Delete(r);
	r = call(f, &a, "{\"id\":2,\"type\":\"getLink\"}");
	u = cJSON_GetArrayItem(requests(r), 0);
	b64(ip.sign_pk, 32, b64k, sizeof b64k);
	assert_string_not_equal(str(u, "identityKey"), b64k);
	fake_mac(&ip, b64k);
	assert_string_equal(str(u, "linkMac"), b64k);
	cJSON_Delete(r);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ip);
}

static void
test_remove_device(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ip;
	struct session a, p, a2;
	cJSON *r;

	registered(f, &a, 1, "alice", &ia);
	assert_int_equal(linked_device(f, &a, &ia, &p, 2, &ip), 2);
	expect_error(call(f, &a, "{\"id\":2,\"type\":\"removeDevice\",\"deviceId\":7}"),
		     "unknown_device", 2);
	expect_error(call(f, &a, "{\"id\":3,\"type\":\"removeDevice\",\"deviceId\":0}"),
		     "bad_request", 3);
	assert_int_equal(f->n_removed, 0);
	r = call(f, &p, "{\"id\":4,\"type\":\"removeDevice\",\"deviceId\":1}");
	expect_ok(r, 4);
	assert_true(num(r, "deviceId") == 1);
	cJSON_Delete(r);
	assert_int_equal(f->n_removed, 1);
	assert_string_equal(f->removed_user, "alice");
	assert_int_equal(f->removed_device, 1);
	assert_ptr_equal(f->removed_by, &p);
	/* The removed device cannot authenticate; it is unknown. */
	open_session(f, &a2, 3);
	expect_error(do_auth(f, &a2, 1, "alice", 1, &ia), "unknown_device", 1);
	expect_error(do_register(f, &a2, 2, "alice", &ia, PROTO_LABEL_REGISTER), "user_exists", 2);
	/* A device removes itself: the hook is told it was by itself. */
	r = call(f, &p, "{\"id\":5,\"type\":\"removeDevice\",\"deviceId\":2}");
	expect_ok(r, 5);
	cJSON_Delete(r);
	assert_ptr_equal(f->removed_by, &p);
	assert_int_equal(f->removed_device, 2);
	expect_error(call(f, &p, "{\"id\":6,\"type\":\"removeDevice\",\"deviceId\":2}"),
		     "unknown_device", 6);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ip);
}

/* ---- groups ------------------------------------------------------------ */

/* A user with throwaway keys, straight into the store. */
static void
quick_user(struct fixture *f, const char *user)
{
	uint8_t ik[32], xk[32], xs[64];
	uint32_t dev;
	int created;

	randombytes_buf(ik, sizeof ik);
	randombytes_buf(xk, sizeof xk);
	randombytes_buf(xs, sizeof xs);
	assert_int_equal(db_register(f->db, user, NULL, ik, xk, xs, 1, &dev, &created), DB_OK);
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

/* ---- retention --------------------------------------------------------- */

static void
test_retention_parts(void **state)
{
	static const char *const bad[] = {"",
					  "0s",
					  "10",
					  "5w",
					  "-1d",
					  "1.5h",
					  "1h2",
					  "s",
					  " 1s",
					  "36501d",
					  "99999999999999999999s"};
	int64_t ms;
	size_t i;
	char *t;

	(void)state;
	assert_int_equal(util_parse_duration("90s", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(util_parse_duration("2m", &ms), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(util_parse_duration("12h", &ms), 0);
	assert_int_equal(ms, 12LL * 3600 * 1000);
	assert_int_equal(util_parse_duration("30d", &ms), 0);
	assert_int_equal(ms, 30LL * 86400 * 1000);
	assert_int_equal(util_parse_duration("36500d", &ms), 0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(util_parse_duration(bad[i], &ms), -1);
	/* Half the retention, from 1 s to 1 hour. */
	assert_int_equal(server_purge_interval_ms(1000), 1000);
	assert_int_equal(server_purge_interval_ms(2000), 1000);
	assert_int_equal(server_purge_interval_ms(90000), 45000);
	assert_int_equal(server_purge_interval_ms(30LL * 86400 * 1000), 3600 * 1000);
	t = wire_missed(3, 1795000000000);
	assert_non_null(t);
	assert_string_equal(t, "{\"type\":\"missed\",\"count\":3,\"oldest\":1795000000000}");
	free(t);
}

/* Token bucket arithmetic, on a clock the test drives. */
static void
test_rate_bucket(void **state)
{
	struct rate_bucket b = {0};
	struct wire_hooks h = {.rate = 20, .rate_bytes = 1000};
	struct session s;
	int64_t t = 5000000; /* any monotonic time */
	int i;

	(void)state;
	/* The first refill fills it to the burst. */
	rate_refill(&b, 10, 40, t);
	assert_true(b.started && b.tokens == 40 && b.last_us == t);
	b.tokens = 0;
	/* 10 per second: one token back after 100 ms; 0.5 token after 50 ms. */
	assert_int_equal(rate_wait_ms(&b, 10), 100);
	rate_refill(&b, 10, 40, t + 50000);
	assert_true(b.tokens > 0.499 && b.tokens < 0.501);
	assert_int_equal(rate_wait_ms(&b, 10), 50);
	rate_refill(&b, 10, 40, t + 100000);
	assert_int_equal(rate_wait_ms(&b, 10), 0);
	/* Never above the burst, however long it was idle. */
	rate_refill(&b, 10, 40, t + 3600000000LL);
	assert_true(b.tokens == 40);
	/* A clock that does not move (or goes back) adds nothing. */
	b.tokens = 0.25;
	rate_refill(&b, 10, 40, t);
	assert_true(b.tokens == 0.25);
	/* Rounded up, and at least 1 ms. */
	assert_int_equal(rate_wait_ms(&b, 10), 75);
	b.tokens = 0.9999999;
	assert_int_equal(rate_wait_ms(&b, 10), 1);
	b.tokens = -5; /* a byte bucket in debt */
	assert_int_equal(rate_wait_ms(&b, 1000), 6);
	b.tokens = 0;
	assert_int_equal(rate_wait_ms(&b, 3), 334);

	/* Both buckets of a session: 20/s (burst 80), 1000 B/s (burst 8000). */
	memset(&s, 0, sizeof s);
	for (i = 0; i < 80; i++)
		assert_int_equal(wire_rate_check(&h, &s, 10, t), 0);
	assert_int_equal(wire_rate_check(&h, &s, 10, t), 50);
	/* Refused requests take nothing. */
	assert_true(s.own.requests.tokens == 0 && s.own.bytes.tokens == 8000 - 800);
	assert_int_equal(wire_rate_check(&h, &s, 10, t + 50000), 0);
	/* The gate keeps the order: request 7 refused, then 8 (sent behind it)
	 * is refused however many tokens there are, until 7 is taken. */
	{
		struct session g;

		memset(&g, 0, sizeof g);
		g.own.requests = (struct rate_bucket){.tokens = 0, .last_us = t, .started = 1};
		assert_true(wire_rate_gate(&h, &g, 1, 7, 10, t) > 0);
		g.own.requests.tokens = 5;
		assert_true(wire_rate_gate(&h, &g, 1, 8, 10, t + 500000) > 0);
		assert_true(wire_rate_gate(&h, &g, 0, 0, 10, t + 500000) > 0);
		assert_true(g.own.requests.tokens >= 5); /* refused: nothing taken */
		assert_int_equal(wire_rate_gate(&h, &g, 1, 7, 10, t + 500000), 0);
		assert_int_equal(wire_rate_gate(&h, &g, 1, 8, 10, t + 500000), 0);
		/* A client that never sends the refused one again is let go. */
		g.own.requests.tokens = -10;
		assert_true(wire_rate_gate(&h, &g, 1, 9, 10, t + 600000) > 0);
		g.own.requests.tokens = 5;
		assert_true(wire_rate_gate(&h, &g, 1, 10, 10, t + 700000) > 0);
		assert_int_equal(wire_rate_gate(&h, &g, 1, 10, 10, t + 31000000), 0);
	}
	/* A frame larger than the burst passes once, then the debt holds. */
	assert_int_equal(wire_rate_check(&h, &s, 9000, t + 1000000), 0);
	assert_true(s.own.bytes.tokens < 0);
	assert_true(wire_rate_check(&h, &s, 1, t + 1000000) > 1000);
	/* Sessions pointed at one pair (a device's connections) share it. */
	{
		struct session s2;
		struct rate_pair shared = {0};

		memset(&s2, 0, sizeof s2);
		s.rate = s2.rate = &shared;
		for (i = 0; i < 40; i++) {
			assert_int_equal(wire_rate_check(&h, &s, 10, t + 9000000), 0);
			assert_int_equal(wire_rate_check(&h, &s2, 10, t + 9000000), 0);
		}
		assert_true(wire_rate_check(&h, &s2, 10, t + 9000000) > 0);
		assert_true(wire_rate_full(&h, &(struct rate_pair){0}));
		assert_false(wire_rate_full(&h, &shared));
		wire_rate_refill(&h, &shared, t + 99000000);
		assert_true(wire_rate_full(&h, &shared));
		s.rate = NULL;
	}
	/* 0 disables a bucket. */
	h.rate = 0;
	h.rate_bytes = 0;
	for (i = 0; i < 1000; i++)
		assert_int_equal(wire_rate_check(&h, &s, 1000000, t), 0);
}

/* A request refused for its rate is not processed: rate_limited, with its
 * id and retryAfterMs, acks included. */
static void
test_rate_limited(void **state)
{
	struct fixture *f = *state;
	struct session s;
	const cJSON *e;
	cJSON *r;
	int i;

	f->hooks.rate = 1; /* burst 4 */
	open_session(f, &s, 1);
	for (i = 1; i <= 4; i++)
		expect_error(call(f, &s, "{\"id\":%d,\"type\":\"getKeys\",\"users\":[]}", i),
			     "unauthenticated", i);
	r = call(f, &s, "{\"id\":5,\"type\":\"ack\",\"messageIds\":[]}");
	e = cJSON_GetObjectItemCaseSensitive(r, "error");
	assert_non_null(e);
	assert_true(num(e, "retryAfterMs") >= 1 && num(e, "retryAfterMs") <= 1000);
	assert_non_null(strstr(str(e, "message"), "too many requests; retry in "));
	expect_error(r, "rate_limited", 5);
	/* Not even readable: still refused, id null. */
	expect_error(call(f, &s, "[1,2]"), "rate_limited", 0);
	/* Other sessions have their own buckets. */
	{
		struct session other;

		open_session(f, &other, 2);
		expect_error(call(f, &other, "{\"id\":1,\"type\":\"getKeys\",\"users\":[]}"),
			     "unauthenticated", 1);
	}
	assert_int_equal(f->n_auth, 0);
}

/* ---- last seen --------------------------------------------------------- */

/* Assert entry i of a getLastSeen reply: online -1 for null, else 0/1;
 * last -1 for null, 0 for any number, else that number. */
static void
expect_seen(const cJSON *r, int i, const char *user, int online, int64_t last)
{
	const cJSON *u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "users"), i);
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(u, "online");
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(u, "lastSeen");

	assert_non_null(u);
	assert_string_equal(str(u, "user"), user);
	if (online < 0)
		assert_true(cJSON_IsNull(o));
	else
		assert_true(cJSON_IsBool(o) && cJSON_IsTrue(o) == online);
	if (last < 0)
		assert_true(cJSON_IsNull(l));
	else if (last == 0)
		assert_true(cJSON_IsNumber(l) && l->valuedouble > 0);
	else
		assert_true(cJSON_IsNumber(l) && (int64_t)l->valuedouble == last);
}

static int64_t
last_seen_of(const cJSON *r, int i)
{
	const cJSON *u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "users"), i);

	return (int64_t)num(u, "lastSeen");
}

static void
test_last_seen(void **state)
{
	struct fixture *f = *state;
	struct session a, b, b2, anon;
	struct e2e_identity ia, ib;
	cJSON *r;
	int64_t before;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	quick_user(f, "carol");

	/* Strangers to alice: nothing shown (issue 10, item 14). */
	r = call(f, &a, "{\"id\":1,\"type\":\"getLastSeen\",\"users\":[\"bob\",\"carol\"]}");
	expect_ok(r, 1);
	expect_seen(r, 0, "bob", -1, -1);
	expect_seen(r, 1, "carol", -1, -1);
	cJSON_Delete(r);
	/* Each takes part in a chat with her: contacts. */
	{
		char id[PROTO_CHAT_ID_LEN + 1];
		int created;

		assert_int_equal(db_direct_chat(f->db, "bob", "alice", 1, id, &created, NULL),
				 DB_OK);
		assert_int_equal(db_direct_chat(f->db, "carol", "alice", 1, id, &created, NULL),
				 DB_OK);
		assert_int_equal(db_direct_chat(f->db, "carol", "bob", 1, id, &created, NULL),
				 DB_OK);
	}

	/* Request order, repeats answered; carol has no connection. */
	r = call(f, &a,
		 "{\"id\":2,\"type\":\"getLastSeen\","
		 "\"users\":[\"bob\",\"carol\",\"alice\",\"bob\"]}");
	expect_ok(r, 2);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "users")), 4);
	expect_seen(r, 0, "bob", 1, 0);
	expect_seen(r, 1, "carol", 0, 1);
	expect_seen(r, 2, "alice", 1, 0);
	expect_seen(r, 3, "bob", 1, 0);
	cJSON_Delete(r);

	/* Errors. */
	expect_error(call(f, &a,
			  "{\"id\":3,\"type\":\"getLastSeen\","
			  "\"users\":[\"bob\",\"nobody\"]}"),
		     "unknown_user", 3);
	expect_error(call(f, &a, "{\"id\":4,\"type\":\"getLastSeen\",\"users\":[]}"), "bad_request",
		     4);
	expect_error(call(f, &a, "{\"id\":5,\"type\":\"getLastSeen\"}"), "bad_request", 5);
	expect_error(call(f, &a, "{\"id\":6,\"type\":\"getLastSeen\",\"users\":[7]}"),
		     "bad_request", 6);
	expect_error(call(f, &a, "{\"id\":7,\"type\":\"setPrivacy\",\"hideLastSeen\":1}"),
		     "bad_request", 7);
	expect_error(call(f, &a, "{\"id\":8,\"type\":\"setPrivacy\"}"), "bad_request", 8);
	open_session(f, &anon, 9);
	expect_error(call(f, &anon, "{\"id\":1,\"type\":\"getLastSeen\",\"users\":[\"bob\"]}"),
		     "unauthenticated", 1);
	expect_error(call(f, &anon, "{\"id\":2,\"type\":\"setPrivacy\",\"hideLastSeen\":true}"),
		     "unauthenticated", 2);

	/* Auth updates last seen; a closed connection is offline. */
	b.authed = 0;
	before = proto_now_ms();
	open_session(f, &b2, 3);
	r = do_auth(f, &b2, 1, "bob", 1, &ib);
	expect_ok(r, 1);
	cJSON_Delete(r);
	r = call(f, &a, "{\"id\":9,\"type\":\"getLastSeen\",\"users\":[\"bob\"]}");
	expect_ok(r, 9);
	expect_seen(r, 0, "bob", 1, 0);
	assert_true(last_seen_of(r, 0) >= before);
	cJSON_Delete(r);
	b2.authed = 0;
	assert_int_equal(db_touch_device(f->db, "bob", 1, 1795000000000), DB_OK);
	r = call(f, &a, "{\"id\":10,\"type\":\"getLastSeen\",\"users\":[\"bob\"]}");
	expect_ok(r, 10);
	expect_seen(r, 0, "bob", 0, 1795000000000);
	cJSON_Delete(r);
	open_session(f, &b, 4);
	r = do_auth(f, &b, 1, "bob", 1, &ib);
	expect_ok(r, 1);
	cJSON_Delete(r);

	/* bob hides: nobody else sees his, he sees nobody else's, but his own. */
	r = call(f, &b, "{\"id\":2,\"type\":\"setPrivacy\",\"hideLastSeen\":true}");
	expect_ok(r, 2);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "hideLastSeen")));
	cJSON_Delete(r);
	r = call(f, &a, "{\"id\":11,\"type\":\"getLastSeen\",\"users\":[\"bob\",\"carol\"]}");
	expect_ok(r, 11);
	expect_seen(r, 0, "bob", -1, -1);
	expect_seen(r, 1, "carol", 0, 1);
	cJSON_Delete(r);
	r = call(f, &b, "{\"id\":3,\"type\":\"getLastSeen\",\"users\":[\"alice\",\"bob\"]}");
	expect_ok(r, 3);
	expect_seen(r, 0, "alice", -1, -1);
	expect_seen(r, 1, "bob", 1, 0);
	cJSON_Delete(r);

	/* bob shows it again, alice hides: the same the other way round. */
	r = call(f, &b, "{\"id\":4,\"type\":\"setPrivacy\",\"hideLastSeen\":false}");
	expect_ok(r, 4);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "hideLastSeen")));
	cJSON_Delete(r);
	r = call(f, &a, "{\"id\":12,\"type\":\"setPrivacy\",\"hideLastSeen\":true}");
	expect_ok(r, 12);
	cJSON_Delete(r);
	r = call(f, &b, "{\"id\":5,\"type\":\"getLastSeen\",\"users\":[\"alice\",\"carol\"]}");
	expect_ok(r, 5);
	expect_seen(r, 0, "alice", -1, -1);
	expect_seen(r, 1, "carol", 0, 1);
	cJSON_Delete(r);
	r = call(f, &a, "{\"id\":13,\"type\":\"getLastSeen\",\"users\":[\"bob\",\"alice\"]}");
	expect_ok(r, 13);
	expect_seen(r, 0, "bob", -1, -1);
	expect_seen(r, 1, "alice", 1, 0);
	cJSON_Delete(r);
}

/* ---- attachments --------------------------------------------------------- */

/* Known answers (Python's hmac over the contract's texts), and the paths. */
static void
test_blob_signatures(void **state)
{
	static const char id[] = "5e1d0000000000000000000000000001";
	char sig[BLOB_SIG_LEN + 1], want[BLOB_SIG_LEN + 1], *p, bid[PROTO_BLOB_ID_LEN + 1];
	int64_t v;

	(void)state;
	blob_sign_put(test_blob_key, id, 1795000300, 1048616, sig);
	assert_string_equal(sig,
			    "494ae64e5fc940fddd4c1fc5df138a1bdff36d1c2e1dfb400fd671bdc16d2f3c");
	blob_sign_get(test_blob_key, id, 1795000300, sig);
	assert_string_equal(sig,
			    "3704f59880ec656c025c7f69fee0a38d561291d968c1e12108f9bd4402b8c306");
	p = blob_upload_path(test_blob_key, id, 1795000300, 1048616);
	assert_string_equal(
		p, "/blobs/5e1d0000000000000000000000000001?exp=1795000300&max=1048616"
		   "&sig=494ae64e5fc940fddd4c1fc5df138a1bdff36d1c2e1dfb400fd671bdc16d2f3c");
	free(p);
	p = blob_download_path(test_blob_key, id, 1795000300);
	assert_string_equal(
		p, "/blobs/5e1d0000000000000000000000000001?exp=1795000300"
		   "&sig=3704f59880ec656c025c7f69fee0a38d561291d968c1e12108f9bd4402b8c306");
	free(p);

	/* Comparison: equal only for the same lowercase digits. */
	memcpy(want, sig, sizeof want);
	assert_true(blob_sig_equal(sig, want));
	sig[10] ^= 1;
	assert_false(blob_sig_equal(sig, want));
	assert_false(blob_sig_equal(
		"3704F59880EC656C025C7F69FEE0A38D561291D968C1E12108F9BD4402B8C306", want));
	assert_false(blob_sig_equal("", want));
	assert_false(blob_sig_equal(want, ""));
	/* A longer text is not a prefix match. */
	char longer[BLOB_SIG_LEN + 2];
	snprintf(longer, sizeof longer, "%s0", want);
	assert_false(blob_sig_equal(longer, want));

	/* Paths and numbers. */
	assert_int_equal(blob_parse_path("/blobs/5e1d0000000000000000000000000001", bid), 0);
	assert_string_equal(bid, id);
	assert_int_equal(blob_parse_path("/blobs/5e1d000000000000000000000000000", bid), -1);
	assert_int_equal(blob_parse_path("/blobs/5e1d00000000000000000000000000011", bid), -1);
	assert_int_equal(blob_parse_path("/blobs/5E1D0000000000000000000000000001", bid), -1);
	assert_int_equal(blob_parse_path("/blob/5e1d0000000000000000000000000001", bid), -1);
	assert_int_equal(blob_parse_path("/blobs/../5e1d00000000000000000000000001", bid), -1);
	assert_int_equal(blob_parse_number("1795000300", &v), 0);
	assert_int_equal(v, 1795000300);
	assert_int_equal(blob_parse_number("0", &v), 0);
	assert_int_equal(blob_parse_number("01", &v), -1);
	assert_int_equal(blob_parse_number("", &v), -1);
	assert_int_equal(blob_parse_number("-1", &v), -1);
	assert_int_equal(blob_parse_number("12a", &v), -1);
	assert_int_equal(blob_parse_number("1234567890123456789", &v), -1);
}

/* The key file: made once (0600), read again, refused when damaged. */
static void
test_blob_key_file(void **state)
{
	char dir[] = "/tmp/test_blob_key.XXXXXX", path[64], err[256];
	uint8_t k1[BLOB_KEY_BYTES], k2[BLOB_KEY_BYTES];
	struct stat st;
	FILE *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/blob.key", dir);
	assert_int_equal(blob_key_load(path, k1, err, sizeof err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, BLOB_KEY_BYTES);
	assert_int_equal(blob_key_load(path, k2, err, sizeof err), 0);
	assert_memory_equal(k1, k2, sizeof k1);
	/* Short, then long: errors naming the file, and the file is kept. */
	assert_int_equal(truncate(path, 31), 0);
	assert_int_equal(blob_key_load(path, k2, err, sizeof err), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(fp = fopen(path, "a"));
	fputs("xx", fp);
	fclose(fp);
	assert_int_equal(blob_key_load(path, k2, err, sizeof err), -1);
	assert_non_null(strstr(err, "not 32 bytes"));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 33);
	unlink(path);
	rmdir(dir);
}

/* getAttachmentTarget, sendMessage with blobs, getAttachmentDownload. */
static void
test_attachments(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib, ic;
	struct session a, b, c;
	char chat[17], blob[PROTO_BLOB_ID_LEN + 1], path[256], sig[BLOB_SIG_LEN + 1],
		other[PROTO_BLOB_ID_LEN + 1];
	const char *mid = "00112233445566778899aabbccddeeff";
	const char *env = "{\"user\":\"bob\",\"deviceId\":1,"
			  "\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
			  "\"ciphertext\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}";
	double exp;
	cJSON *r;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	registered(f, &c, 3, "carol", &ic);
	r = call(f, &a, "{\"id\":2,\"type\":\"createChat\",\"participants\":[\"bob\"]}");
	expect_ok(r, 2);
	snprintf(chat, sizeof chat, "%s", str(r, "chatId"));
	cJSON_Delete(r);

	/* Sizes: 1 to max_blob. */
	expect_error(call(f, &a, "{\"id\":3,\"type\":\"getAttachmentTarget\",\"size\":0}"),
		     "bad_request", 3);
	expect_error(call(f, &a, "{\"id\":3,\"type\":\"getAttachmentTarget\",\"size\":1.5}"),
		     "bad_request", 3);
	expect_error(call(f, &a, "{\"id\":3,\"type\":\"getAttachmentTarget\"}"), "bad_request", 3);
	expect_error(call(f, &a, "{\"id\":3,\"type\":\"getAttachmentTarget\",\"size\":1000001}"),
		     "too_large", 3);
	r = call(f, &a, "{\"id\":4,\"type\":\"getAttachmentTarget\",\"size\":1000000}");
	expect_ok(r, 4);
	snprintf(blob, sizeof blob, "%s", str(r, "blobId"));
	assert_true(proto_valid_hex(blob, PROTO_BLOB_ID_LEN));
	assert_true(num(r, "maxSize") == 1000000);
	exp = num(r, "expiresAt");
	assert_true(exp / 1000 >= (double)(proto_now_ms() / 1000 + BLOB_URL_TTL - 2));
	assert_true(exp / 1000 <= (double)(proto_now_ms() / 1000 + BLOB_URL_TTL));
	blob_sign_put(test_blob_key, blob, (int64_t)(exp / 1000), 1000000, sig);
	snprintf(path, sizeof path, "/blobs/%s?exp=%lld&max=1000000&sig=%s", blob,
		 (long long)(exp / 1000), sig);
	assert_string_equal(str(r, "uploadPath"), path);
	cJSON_Delete(r);
	/* Not before auth. */
	struct session anon;
	open_session(f, &anon, 9);
	expect_error(call(f, &anon, "{\"id\":5,\"type\":\"getAttachmentTarget\",\"size\":1}"),
		     "unauthenticated", 5);

	/* Pending: neither sendable nor downloadable. */
	expect_error(call(f, &a,
			  "{\"id\":6,\"type\":\"sendMessage\",\"chatId\":\"%s\","
			  "\"messageId\":\"%s\",\"envelopes\":[%s],\"blobs\":[\"%s\"]}",
			  chat, mid, env, blob),
		     "no_such_blob", 6);
	expect_error(call(f, &a, "{\"id\":7,\"type\":\"getAttachmentDownload\",\"blobId\":\"%s\"}",
			  blob),
		     "no_such_blob", 7);
	/* Malformed lists. */
	expect_error(call(f, &a,
			  "{\"id\":8,\"type\":\"sendMessage\",\"chatId\":\"%s\","
			  "\"messageId\":\"%s\",\"envelopes\":[%s],\"blobs\":[\"xyz\"]}",
			  chat, mid, env),
		     "bad_request", 8);
	expect_error(call(f, &a,
			  "{\"id\":8,\"type\":\"sendMessage\",\"chatId\":\"%s\","
			  "\"messageId\":\"%s\",\"envelopes\":[%s],\"blobs\":\"%s\"}",
			  chat, mid, env, blob),
		     "bad_request", 8);
	expect_error(call(f, &a,
			  "{\"id\":8,\"type\":\"sendMessage\",\"chatId\":\"%s\","
			  "\"messageId\":\"%s\",\"envelopes\":[%s],\"blobs\":[\"%s\",\"%s\","
			  "\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"]}",
			  chat, mid, env, blob, blob, blob, blob, blob, blob, blob, blob, blob,
			  blob, blob),
		     "too_large", 8);

	/* Uploaded (as the HTTP side would mark it): bob's own blob is not
	 * alice's to send. */
	assert_int_equal(db_blob_complete(f->db, blob, 1000, proto_now_ms()), DB_OK);
	r = call(f, &b, "{\"id\":9,\"type\":\"getAttachmentTarget\",\"size\":10}");
	expect_ok(r, 9);
	snprintf(other, sizeof other, "%s", str(r, "blobId"));
	cJSON_Delete(r);
	assert_int_equal(db_blob_complete(f->db, other, 10, proto_now_ms()), DB_OK);
	expect_error(call(f, &a,
			  "{\"id\":10,\"type\":\"sendMessage\",\"chatId\":\"%s\","
			  "\"messageId\":\"%s\",\"envelopes\":[%s],\"blobs\":[\"%s\",\"%s\"]}",
			  chat, mid, env, blob, other),
		     "no_such_blob", 10);
	r = call(f, &a,
		 "{\"id\":11,\"type\":\"sendMessage\",\"chatId\":\"%s\","
		 "\"messageId\":\"%s\",\"envelopes\":[%s],\"blobs\":[\"%s\"]}",
		 chat, mid, env, blob);
	expect_ok(r, 11);
	cJSON_Delete(r);

	/* bob downloads; carol, outside the chat, cannot. */
	r = call(f, &b, "{\"id\":12,\"type\":\"getAttachmentDownload\",\"blobId\":\"%s\"}", blob);
	expect_ok(r, 12);
	assert_true(num(r, "size") == 1000);
	exp = num(r, "expiresAt");
	blob_sign_get(test_blob_key, blob, (int64_t)(exp / 1000), sig);
	snprintf(path, sizeof path, "/blobs/%s?exp=%lld&sig=%s", blob, (long long)(exp / 1000),
		 sig);
	assert_string_equal(str(r, "downloadPath"), path);
	cJSON_Delete(r);
	expect_error(call(f, &c, "{\"id\":13,\"type\":\"getAttachmentDownload\",\"blobId\":\"%s\"}",
			  blob),
		     "no_such_blob", 13);
	expect_error(call(f, &c, "{\"id\":14,\"type\":\"getAttachmentDownload\",\"blobId\":\"X\"}"),
		     "bad_request", 14);
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
 * Registrations per address (issue 10, item 12): a new user is refused with
 * too_many_registrations (and retryAfterMs) when the address's bucket is
 * empty, and counted when made; a retry of a registration that was made is
 * not a new user and goes through.
 */
static void
test_register_rate(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib;
	struct session a, a2, b;
	const cJSON *e;
	cJSON *r;

	f->hooks.register_wait = on_register_wait;
	f->hooks.register_rate = 10;
	registered(f, &a, 1, "alice", &ia);
	assert_int_equal(f->reg_taken, 1);
	f->reg_wait = 1500;
	assert_int_equal(e2e_identity_generate(&ib), 0);
	open_session(f, &b, 2);
	r = do_register(f, &b, 7, "bob", &ib, PROTO_LABEL_REGISTER);
	e = cJSON_GetObjectItem(r, "error");
	assert_true(num(e, "retryAfterMs") == 1500);
	assert_non_null(strstr(str(e, "message"), "at most 10 an hour"));
	expect_error(r, "too_many_registrations", 7);
	assert_int_equal(db_user_exists(f->db, "bob"), DB_NOT_FOUND);
	/* alice's registration again: answered as the first time. */
	open_session(f, &a2, 3);
	r = do_register(f, &a2, 8, "alice", &ia, PROTO_LABEL_REGISTER);
	expect_ok(r, 8);
	cJSON_Delete(r);
	assert_int_equal(f->reg_taken, 1);
	/* Room again: bob goes through, and is counted. */
	f->reg_wait = 0;
	r = do_register(f, &b, 9, "bob", &ib, PROTO_LABEL_REGISTER);
	expect_ok(r, 9);
	cJSON_Delete(r);
	assert_int_equal(f->reg_taken, 2);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
}

/* Per-address accounting: the keys (an IPv6 /64 counts as one address) and
 * the table's life cycle. */
static void
test_addr_table(void **state)
{
	struct sockaddr_in v4 = {.sin_family = AF_INET};
	struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
	struct addr_table *t = addr_table_new();
	struct addr_entry *e;
	char key[ADDR_KEY_MAX];

	(void)state;
	assert_int_equal(inet_pton(AF_INET, "192.0.2.7", &v4.sin_addr), 1);
	addr_key((struct sockaddr *)&v4, sizeof v4, key);
	assert_string_equal(key, "192.0.2.7");
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:1:2:aaaa:bbbb:cccc:dddd", &v6.sin6_addr), 1);
	addr_key((struct sockaddr *)&v6, sizeof v6, key);
	assert_string_equal(key, "2001:db8:1:2::/64");
	assert_int_equal(inet_pton(AF_INET6, "::ffff:198.51.100.1", &v6.sin6_addr), 1);
	addr_key((struct sockaddr *)&v6, sizeof v6, key);
	assert_string_equal(key, "198.51.100.1");
	addr_key((struct sockaddr *)&v4, 2, key);
	assert_string_equal(key, "?");

	assert_non_null(t);
	assert_null(addr_get(t, "192.0.2.7", 0));
	e = addr_get(t, "192.0.2.7", 1);
	assert_non_null(e);
	assert_ptr_equal(addr_get(t, "192.0.2.7", 1), e);
	e->conns = 1;
	addr_release(t, e, 1.0, 10.0, 0); /* a connection holds it */
	assert_int_equal(addr_count(t), 1);
	/* No connection, but a registration bucket not full yet. */
	e->conns = 0;
	rate_refill(&e->reg, 1.0, 10.0, 0);
	e->reg.tokens -= 3;
	addr_release(t, e, 1.0, 10.0, 1000000);
	assert_int_equal(addr_count(t), 1);
	addr_sweep(t, 1.0, 10.0, 3000000); /* full again after 3 s */
	assert_int_equal(addr_count(t), 0);
	assert_null(addr_get(t, "192.0.2.7", 0));
	addr_table_free(t);
}

/* An envelope to (user, 1) with a ciphertext of ct_len zero bytes. */
static const char *
envelope(const char *user, size_t ct_len)
{
	static char buf[4][512];
	static int next;
	uint8_t ct[256] = {0};
	char b[400];
	char *out = buf[next++ % 4];

	assert_true(ct_len <= sizeof ct);
	b64(ct, ct_len, b, sizeof b);
	snprintf(out, sizeof buf[0],
		 "{\"user\":\"%s\",\"deviceId\":1,\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
		 "\"ciphertext\":\"%s\"}",
		 user, b);
	return out;
}

/* sendMessage of message id number mid into chat with these envelopes. */
static cJSON *
send_env(struct fixture *f, struct session *s, int id, const char *chat, int mid, const char *envs)
{
	return call(f, s,
		    "{\"id\":%d,\"type\":\"sendMessage\",\"chatId\":\"%s\","
		    "\"messageId\":\"%032x\",\"envelopes\":[%s]}",
		    id, chat, mid, envs);
}

/* A direct chat of a and b, made by a (a takes part). */
static void
direct(struct fixture *f, struct session *s, const char *other, char chat[PROTO_CHAT_ID_LEN + 1])
{
	cJSON *r =
		call(f, s, "{\"id\":90,\"type\":\"createChat\",\"participants\":[\"%s\"]}", other);

	expect_ok(r, 90);
	snprintf(chat, PROTO_CHAT_ID_LEN + 1, "%s", str(r, "chatId"));
	cJSON_Delete(r);
}

/* The first device's name in a getKeys reply about user, or NULL if null. */
static const char *
device_name(struct fixture *f, struct session *s, const char *user, cJSON **keep)
{
	const cJSON *u, *n;

	*keep = call(f, s, "{\"id\":91,\"type\":\"getKeys\",\"users\":[\"%s\"]}", user);
	expect_ok(*keep, 91);
	u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(*keep, "users"), 0);
	u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(u, "devices"), 0);
	n = cJSON_GetObjectItemCaseSensitive(u, "name");
	return cJSON_IsString(n) ? n->valuestring : NULL;
}

/*
 * Who sees what (issue 10, item 14): a user's device names and last seen go
 * to their contacts only, the users who share a chat with them in which they
 * took part (made it, added someone, sent a message). Making a chat with
 * someone does not make them show anything to you; a receipt (sent by
 * itself) does not count as taking part.
 */
static void
test_contacts_only(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib;
	struct session a, b;
	char chat[PROTO_CHAT_ID_LEN + 1];
	cJSON *r, *keep;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	assert_null(device_name(f, &a, "bob", &keep));
	cJSON_Delete(keep);
	assert_string_equal(device_name(f, &a, "alice", &keep), "test"); /* her own */
	cJSON_Delete(keep);

	/* alice writes to bob: she is his contact, he is not hers yet. */
	direct(f, &a, "bob", chat);
	r = send_env(f, &a, 2, chat, 1, envelope("bob", 16));
	expect_ok(r, 2);
	cJSON_Delete(r);
	assert_string_equal(device_name(f, &b, "alice", &keep), "test");
	cJSON_Delete(keep);
	assert_null(device_name(f, &a, "bob", &keep));
	cJSON_Delete(keep);
	r = call(f, &a, "{\"id\":3,\"type\":\"getLastSeen\",\"users\":[\"bob\"]}");
	expect_ok(r, 3);
	expect_seen(r, 0, "bob", -1, -1);
	cJSON_Delete(r);
	r = call(f, &b, "{\"id\":3,\"type\":\"getLastSeen\",\"users\":[\"alice\"]}");
	expect_ok(r, 3);
	expect_seen(r, 0, "alice", 1, 0);
	cJSON_Delete(r);
	/* bob's delivered receipt: still not taking part. */
	r = call(f, &b,
		 "{\"id\":4,\"type\":\"sendReceipt\",\"chatId\":\"%s\","
		 "\"receiptId\":\"%032x\",\"envelopes\":[%s]}",
		 chat, 77, envelope("alice", 16));
	expect_ok(r, 4);
	cJSON_Delete(r);
	assert_null(device_name(f, &a, "bob", &keep));
	cJSON_Delete(keep);
	/* bob answers: now each is the other's contact. */
	r = send_env(f, &b, 5, chat, 2, envelope("alice", 16));
	expect_ok(r, 5);
	cJSON_Delete(r);
	assert_string_equal(device_name(f, &a, "bob", &keep), "test");
	cJSON_Delete(keep);
	r = call(f, &a, "{\"id\":6,\"type\":\"getLastSeen\",\"users\":[\"bob\"]}");
	expect_ok(r, 6);
	expect_seen(r, 0, "bob", 1, 0);
	cJSON_Delete(r);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
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

/*
 * A device's quotas in the blob store (issue 10, item 12): blobs asked for
 * and not uploaded, the bytes they may take, and the bytes uploaded.
 */
static void
test_blob_quotas(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia;
	struct session a;
	char blob[PROTO_BLOB_ID_LEN + 1];
	const cJSON *e;
	cJSON *r;

	f->hooks.max_pending_blobs = 2;
	f->hooks.max_pending_blob_bytes = 1500;
	f->hooks.max_blob_bytes = 2000;
	registered(f, &a, 1, "alice", &ia);
	r = call(f, &a, "{\"id\":1,\"type\":\"getAttachmentTarget\",\"size\":1000}");
	expect_ok(r, 1);
	snprintf(blob, sizeof blob, "%s", str(r, "blobId"));
	cJSON_Delete(r);
	/* 1000 + 600 bytes would be pending: over 1500. */
	r = call(f, &a, "{\"id\":2,\"type\":\"getAttachmentTarget\",\"size\":600}");
	e = cJSON_GetObjectItemCaseSensitive(r, "error");
	assert_non_null(strstr(str(e, "message"), "not uploaded yet"));
	expect_error(r, "quota_exceeded", 2);
	r = call(f, &a, "{\"id\":3,\"type\":\"getAttachmentTarget\",\"size\":400}");
	expect_ok(r, 3);
	cJSON_Delete(r);
	/* Two pending: a third is refused whatever its size. */
	r = call(f, &a, "{\"id\":4,\"type\":\"getAttachmentTarget\",\"size\":1}");
	e = cJSON_GetObjectItemCaseSensitive(r, "error");
	assert_non_null(strstr(str(e, "message"), "2 attachments asked for"));
	expect_error(r, "quota_exceeded", 4);
	/* The first uploaded (1000 stored): another 1001 would be over 2000. */
	assert_int_equal(db_blob_complete(f->db, blob, 1000, proto_now_ms()), DB_OK);
	r = call(f, &a, "{\"id\":5,\"type\":\"getAttachmentTarget\",\"size\":1001}");
	e = cJSON_GetObjectItemCaseSensitive(r, "error");
	assert_non_null(strstr(str(e, "message"), "on the server"));
	expect_error(r, "quota_exceeded", 5);
	r = call(f, &a, "{\"id\":6,\"type\":\"getAttachmentTarget\",\"size\":1000}");
	expect_ok(r, 6);
	cJSON_Delete(r);
	e2e_identity_wipe(&ia);
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
	/* No envelope at all: bad_request, not device_mismatch. */
	expect_error(send_env(f, &a, 3, chat, 3, ""), "bad_request", 3);
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

/*
 * Blobs and members added later (issue 10, item 26): a member may download
 * the files of messages sent after they joined, not of those before (whose
 * keys they never got either).
 */
static void
test_blob_after_join(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib, ic;
	struct session a, b, c;
	char g[PROTO_CHAT_ID_LEN + 1], early[PROTO_BLOB_ID_LEN + 1], late[PROTO_BLOB_ID_LEN + 1];
	char envs[1024];
	cJSON *r;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	registered(f, &c, 3, "carol", &ic);
	r = call(f, &a,
		 "{\"id\":1,\"type\":\"createChat\",\"name\":\"g\",\"participants\":[\"bob\"]}");
	expect_ok(r, 1);
	snprintf(g, sizeof g, "%s", str(r, "chatId"));
	cJSON_Delete(r);
	for (int i = 0; i < 2; i++) {
		char *id = i == 0 ? early : late;

		r = call(f, &a, "{\"id\":2,\"type\":\"getAttachmentTarget\",\"size\":10}");
		expect_ok(r, 2);
		snprintf(id, PROTO_BLOB_ID_LEN + 1, "%s", str(r, "blobId"));
		cJSON_Delete(r);
		assert_int_equal(db_blob_complete(f->db, id, 10, proto_now_ms()), DB_OK);
		if (i == 1) {
			r = call(f, &a,
				 "{\"id\":3,\"type\":\"modifyChatParticipants\",\"chatId\":\"%s\","
				 "\"operation\":\"ADD\",\"users\":[\"carol\"]}",
				 g);
			expect_ok(r, 3);
			cJSON_Delete(r);
		}
		snprintf(envs, sizeof envs, "%s%s%s", envelope("bob", 16), i ? "," : "",
			 i ? envelope("carol", 16) : "");
		r = call(f, &a,
			 "{\"id\":4,\"type\":\"sendMessage\",\"chatId\":\"%s\","
			 "\"messageId\":\"%032x\",\"envelopes\":[%s],\"blobs\":[\"%s\"]}",
			 g, 10 + i, envs, id);
		expect_ok(r, 4);
		cJSON_Delete(r);
	}
	expect_error(call(f, &c, "{\"id\":5,\"type\":\"getAttachmentDownload\",\"blobId\":\"%s\"}",
			  early),
		     "no_such_blob", 5);
	r = call(f, &c, "{\"id\":6,\"type\":\"getAttachmentDownload\",\"blobId\":\"%s\"}", late);
	expect_ok(r, 6);
	cJSON_Delete(r);
	/* bob, there from the start, gets both. */
	r = call(f, &b, "{\"id\":7,\"type\":\"getAttachmentDownload\",\"blobId\":\"%s\"}", early);
	expect_ok(r, 7);
	cJSON_Delete(r);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
	e2e_identity_wipe(&ic);
}

/*
 * Log lines (issue 10, items 11 and 25): each starts with the UTC time, and a
 * kind of line that repeats (a refused connection, lws complaining) is let
 * through only as its bucket allows; the next line let through says how many
 * were left out.
 */
static void
test_log_lines(void **state)
{
	struct log_limit l = {.rate = 1, .burst = 3};
	char path[] = "/tmp/test_server_log.XXXXXX", line[512];
	int fd = mkstemp(path), saved = dup(2), n = 0, noted = 0;
	FILE *f;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	srv_quiet = 0;
	for (int i = 0; i < 10; i++)
		srv_log_limited(&l, "refused %d", i);
	l.tokens = 1; /* as if a second had passed */
	srv_log_limited(&l, "refused again");
	fflush(stderr);
	srv_quiet = 1;
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	f = fdopen(fd, "r");
	assert_non_null(f);
	rewind(f);
	while (fgets(line, sizeof line, f) != NULL) {
		/* 2026-11-28T03:29:22.123Z chat-server: ... */
		assert_true(strlen(line) > 25 && line[4] == '-' && line[10] == 'T' &&
			    line[19] == '.' && line[23] == 'Z' && line[24] == ' ');
		assert_memory_equal(line + 25, "chat-server: ", 13);
		n++;
		noted += strstr(line, "(7 lines like the next were not logged)") != NULL;
	}
	fclose(f);
	unlink(path);
	assert_int_equal(n, 5); /* three, the note, the last */
	assert_int_equal(noted, 1);
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
		cmocka_unit_test(test_retention_parts),
		cmocka_unit_test(test_server_names),
		cmocka_unit_test(test_rate_bucket),
		cmocka_unit_test_setup_teardown(test_rate_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_binding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_swap_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_seen, setup, teardown),
		cmocka_unit_test(test_blob_signatures),
		cmocka_unit_test(test_blob_key_file),
		cmocka_unit_test_setup_teardown(test_attachments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nul_and_surrogates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_rate, setup, teardown),
		cmocka_unit_test(test_addr_table),
		cmocka_unit_test_setup_teardown(test_contacts_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stranger_adds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbox_quota, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blob_quotas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blob_after_join, setup, teardown),
		cmocka_unit_test(test_log_lines),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
