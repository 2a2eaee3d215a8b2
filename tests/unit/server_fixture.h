/*
 * server_fixture.h - what chat-server's unit tests (test_server_*.c) share:
 * a real store in a temporary directory, opened for a test and removed after
 * it (setup_store, which also registers alice, bob and carol; setup_wire,
 * which also plays the network layer's hooks for the request layer;
 * teardown), and the helpers that make users, chats, messages and frames.
 *
 * The helpers are static inline, so a test file compiles only those it uses;
 * a helper one file alone uses lives in that file.  Each of the store's areas
 * has its test file test_server_db_AREA.c, and each of the request layer's
 * test_server_wire_AREA.c, as the sources are split (server-stub/db_sql.h,
 * wire_req.h); test_server_util.c tests the small modules.
 *
 * At about 850 lines it is over the tree's 800 on purpose: it is the one
 * place the server's tests set up from, and cutting it by layer would bring
 * back the two near-identical set-ups it replaced.
 */
#ifndef CHAT_SERVER_FIXTURE_H
#define CHAT_SERVER_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <sodium.h>
#include <sqlite3.h>

#include "blob.h"
#include "db.h"
#include "e2e.h"
#include "proto.h"
#include "wire.h"

struct fixture {
	char dir[64];
	char path[96];
	struct db *db;
	/* setup_wire: the request layer's settings and hooks, and what the
	 * hooks were told. */
	struct wire_hooks hooks;
	int n_auth;
	struct session *last_auth;
	int n_inbox;
	char inbox_user[PROTO_USER_MAX + 1];
	uint32_t inbox_device;
	/* The live sessions, for the link hooks (open_session adds them). */
	struct session *sessions[16];
	size_t n_sessions;
	int n_linked;
	struct session *last_linked;
	int n_removed;
	char removed_user[PROTO_USER_MAX + 1];
	uint32_t removed_device;
	const struct session *removed_by;
	/* register_wait: what it answers, and how many it took. */
	int64_t reg_wait;
	int reg_taken;
	/* What a test's own hooks keep. */
	void *hooks_extra;
};

/* Ids the tests use: messages, a receipt, blobs. */
static const char M1[] = "0123456789abcdef0123456789abcdef";
static const char M2[] = "1123456789abcdef0123456789abcdef";
static const char M3[] = "2123456789abcdef0123456789abcdef";
static const char M4[] = "4123456789abcdef0123456789abcdef";
static const char M5[] = "5123456789abcdef0123456789abcdef";
static const char R1[] = "a123456789abcdef0123456789abcdef";
static const char B1[] = "b100000000000000000000000000000b";
static const char B2[] = "b200000000000000000000000000000b";
static const char B3[] = "b300000000000000000000000000000b";

typedef char name_t[PROTO_USER_MAX + 1];
typedef char blob_id_t[PROTO_MESSAGE_ID_LEN + 1];

/* ---- the store -------------------------------------------------------- */

/* A fresh store in a new temporary directory, or NULL (having said why). */
static inline struct fixture *
fixture_open(void)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[256];

	if (f == NULL)
		return NULL;
	snprintf(f->dir, sizeof f->dir, "/tmp/test_server.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		perror("mkdtemp");
		free(f);
		return NULL;
	}
	snprintf(f->path, sizeof f->path, "%s/chat.db", f->dir);
	if ((f->db = db_open(f->path, err, sizeof err)) == NULL) {
		fprintf(stderr, "db_open: %s\n", err);
		rmdir(f->dir);
		free(f);
		return NULL;
	}
	return f;
}

/* ---- the store's helpers ---------------------------------------------- */

static inline void
fill_key(uint8_t *k, size_t n, uint8_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		k[i] = (uint8_t)(seed * 31 + i);
}

/* Register user with keys derived from seed; asserts the status. */
static inline uint32_t
reg(struct db *db, const char *user, const char *name, uint8_t seed, enum db_status want,
    int want_created)
{
	uint8_t ik[32], xk[32], xs[64];
	uint32_t dev = 0;
	int created = -1;

	fill_key(ik, sizeof ik, seed);
	fill_key(xk, sizeof xk, seed + 100);
	fill_key(xs, sizeof xs, seed + 200);
	assert_int_equal(db_register(db, user, name, ik, xk, xs, 1000, &dev, &created), want);
	if (want == DB_OK)
		assert_int_equal(created, want_created);
	return dev;
}

/* Run SQL on the database file behind the store's back (second handle). */
static inline void
raw_sql(const struct fixture *f, const char *sql)
{
	sqlite3 *h;

	assert_int_equal(sqlite3_open(f->path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_busy_timeout(h, 5000), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "PRAGMA foreign_keys=ON", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(h), SQLITE_OK);
}

/* One integer from the database file, read behind the store's back. */
static inline int64_t
raw_int(const char *path, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *q;
	int64_t v;

	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_close(h), SQLITE_OK);
	return v;
}

/* A device added behind the store's back, without an approval. */
static inline void
add_device(const struct fixture *f, const char *user, int id)
{
	char sql[512];

	snprintf(sql, sizeof sql,
		 "INSERT INTO devices (user, device_id, name, identity_key,"
		 " exchange_key, exchange_key_sig, created_at)"
		 " VALUES ('%s', %d, 'second', randomblob(32), randomblob(32),"
		 " randomblob(64), 1)",
		 user, id);
	raw_sql(f, sql);
}

/* setup for the store's tests: alice (device "laptop"), bob (no name) and
 * carol ("phone") registered at 1000 with the keys of seeds 1, 2 and 3. */
static inline int
setup_store(void **state)
{
	struct fixture *f = fixture_open();

	if (f == NULL)
		return -1;
	reg(f->db, "alice", "laptop", 1, DB_OK, 1);
	reg(f->db, "bob", NULL, 2, DB_OK, 1);
	reg(f->db, "carol", "phone", 3, DB_OK, 1);
	*state = f;
	return 0;
}

static inline int
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

static inline void
chat_of(struct db *db, const char *a, const char *b, char id[PROTO_CHAT_ID_LEN + 1],
	int want_created)
{
	int created = -1;

	assert_int_equal(db_direct_chat(db, a, b, 2000, id, &created, NULL), DB_OK);
	assert_int_equal(created, want_created);
}

static inline struct db_envelope
env_to(const char *user, uint32_t dev, const uint8_t *ct, size_t len)
{
	struct db_envelope e;

	memset(&e, 0, sizeof e);
	snprintf(e.to.user, sizeof e.to.user, "%s", user);
	e.to.device_id = dev;
	memset(e.nonce, 0x4e, sizeof e.nonce);
	e.ciphertext = ct;
	e.ciphertext_len = len;
	return e;
}

static inline enum db_status
send_msg(struct db *db, const char *chat, const char *mid, const char *user, uint32_t dev,
	 const struct db_envelope *env, size_t n, int64_t now, struct db_send_result *res)
{
	struct db_send req = {
		.chat_id = chat,
		.message_id = mid,
		.sender_user = user,
		.sender_device = dev,
		.envelopes = env,
		.n_envelopes = n,
		.now = now,
	};

	return db_send(db, &req, res);
}

/* Send mid in chat from alice/1 to (user, 1) and, if dev2, (user, 2). */
static inline void
send_to(struct db *db, const char *chat, const char *mid, const char *user, int dev2, int64_t now)
{
	uint8_t ct[40] = {0};
	struct db_envelope e[2];
	struct db_send_result res;

	e[0] = env_to(user, 1, ct, sizeof ct);
	e[1] = env_to(user, 2, ct, sizeof ct);
	assert_int_equal(send_msg(db, chat, mid, "alice", 1, e, dev2 ? 2 : 1, now, &res), DB_OK);
	db_send_result_free(&res);
}

static inline enum db_status
link_dev(struct db *db, const char *user, uint8_t seed, uint32_t *id)
{
	uint8_t ik[32], xk[32], xs[64], approver[32], approval[64];
	struct db_new_device d = {
		.user = user,
		.name = "phone",
		.identity_key = ik,
		.exchange_key = xk,
		.exchange_key_sig = xs,
		.approver_key = approver,
		.approval = approval,
		.now = 5000,
	};

	fill_key(ik, sizeof ik, seed);
	fill_key(xk, sizeof xk, seed + 100);
	fill_key(xs, sizeof xs, seed + 200);
	fill_key(approver, sizeof approver, 1);
	memset(approval, 0xa5, sizeof approval);
	return db_link_device(db, &d, id);
}

/* What an update says, as one line: "op seq actor users=a,b members=a,b,c
 * admins=a". */
static const char *const op_names[] = {"create",  "add",    "remove", "leave",
				       "promote", "demote", "rename", "describe"};

static inline void
join_names(char *out, size_t cap, const char (*names)[PROTO_USER_MAX + 1], size_t n)
{
	size_t i, len = strlen(out);

	for (i = 0; i < n && len < cap; i++) /* cut at cap, as snprintf cuts */
		len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", names[i]);
}

static inline void
update_text(const struct db_update *u, char *out, size_t cap)
{
	assert_int_equal(strlen(u->update_id), 32);
	assert_string_equal(u->kind, "group");
	snprintf(out, cap, "%s %lld %s users=", op_names[u->op], (long long)u->seq, u->actor);
	join_names(out, cap, u->users, u->n_users);
	strncat(out, " members=", cap - strlen(out) - 1);
	join_names(out, cap, u->participants, u->n_participants);
	strncat(out, " admins=", cap - strlen(out) - 1);
	join_names(out, cap, u->admins, u->n_admins);
	if (u->text != NULL) { /* rename, describe */
		strncat(out, " text=", cap - strlen(out) - 1);
		strncat(out, u->text, cap - strlen(out) - 1);
	}
}

static inline enum db_status
group(struct db *db, const char *creator, const char *const *members, size_t n, int64_t now,
      struct db_change_result *res)
{
	name_t *names = calloc(n ? n : 1, sizeof *names);
	struct db_group_create req = {
		.creator = creator,
		.creator_device = 1,
		.name = "climbing",
		.members = (const name_t *)names,
		.n_members = n,
		.now = now,
	};
	enum db_status st;
	size_t i;

	assert_non_null(names);
	for (i = 0; i < n; i++)
		snprintf(names[i], sizeof names[i], "%s", members[i]);
	st = db_create_group(db, &req, res);
	free(names);
	return st;
}

static inline enum db_status
change(struct db *db, const char *chat, const char *actor, int add, const char *const *users,
       size_t n, int64_t now, struct db_change_result *res)
{
	name_t names[8];
	struct db_group_change req = {
		.chat_id = chat,
		.actor = actor,
		.actor_device = 1,
		.add = add,
		.users = (const name_t *)names,
		.n_users = n,
		.now = now,
	};
	size_t i;

	assert_true(n <= 8);
	for (i = 0; i < n; i++)
		snprintf(names[i], sizeof names[i], "%s", users[i]);
	return db_change_group(db, &req, res);
}

/* PROMOTE (promote 1) or DEMOTE of users. */
static inline enum db_status
change_admins(struct db *db, const char *chat, const char *actor, int promote,
	      const char *const *users, size_t n, int64_t now, struct db_change_result *res)
{
	name_t names[8];
	struct db_group_change req = {
		.chat_id = chat,
		.actor = actor,
		.actor_device = 1,
		.users = (const name_t *)names,
		.n_users = n,
		.now = now,
	};

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++)
		snprintf(names[i], sizeof names[i], "%s", users[i]);
	return db_change_admins(db, &req, promote, res);
}

/* A change that must succeed; returns its seq. */
static inline int64_t
change_ok(struct db *db, const char *chat, const char *actor, int add, const char *user,
	  int64_t now, enum db_update_op want_op)
{
	struct db_change_result *res = malloc(sizeof *res);
	int64_t seq;

	assert_non_null(res);
	assert_int_equal(change(db, chat, actor, add, &user, 1, now, res), DB_OK);
	assert_int_equal(res->op, want_op);
	seq = res->seq;
	db_change_result_free(res);
	free(res);
	return seq;
}

/* Everything in a device's inbox, updates and messages alike. */
struct rows {
	size_t n;
	int64_t seq[32];
	int update[32];
	char mid[32][33];
	char body[32][512];
};

static inline int
collect_any(void *udata, const struct db_inbox_row *row)
{
	struct rows *r = udata;

	assert_true(r->n < 32);
	r->seq[r->n] = row->seq;
	r->update[r->n] = row->is_update;
	snprintf(r->mid[r->n], sizeof r->mid[0], "%s", row->message_id);
	r->body[r->n][0] = '\0';
	if (row->is_update)
		update_text(row->update, r->body[r->n], sizeof r->body[0]);
	else
		assert_null(row->update);
	if (row->is_update) {
		assert_null(row->nonce);
		assert_null(row->ciphertext);
	} else {
		/* A stage 2 envelope's row has no nonce (issue 13). */
		assert_non_null(row->ciphertext);
		assert_non_null(row->sender_identity_key);
	}
	r->n++;
	return 0;
}

static inline void
load_all(struct db *db, const char *user, uint32_t dev, struct rows *r)
{
	size_t n;

	memset(r, 0, sizeof *r);
	assert_int_equal(db_inbox_load(db, user, dev, 0, 64, collect_any, r, &n), DB_OK);
	assert_int_equal(n, r->n);
}

static inline void
expect_missed(struct db *db, const char *user, uint32_t dev, int64_t count, int64_t oldest)
{
	int64_t c = -1, o = -1;

	assert_int_equal(db_missed(db, user, dev, &c, &o), DB_OK);
	assert_int_equal(c, count);
	assert_int_equal(o, oldest);
}

static inline void
expect_last_seen(struct db *db, const char *user, int hide, int64_t last)
{
	int h = -1;
	int64_t l = -2;

	assert_int_equal(db_last_seen(db, user, &h, &l), DB_OK);
	assert_int_equal(h, hide);
	assert_int_equal(l, last);
}

static inline enum db_status
send_blobs(struct db *db, const char *chat, const char *mid, const char *user,
	   const struct db_envelope *env, size_t n, const blob_id_t *blobs, size_t n_blobs)
{
	struct db_send_result res;
	struct db_send req = {
		.chat_id = chat,
		.message_id = mid,
		.sender_user = user,
		.sender_device = 1,
		.envelopes = env,
		.n_envelopes = n,
		.now = 5000,
		.blobs = blobs,
		.n_blobs = n_blobs,
	};
	enum db_status st = db_send(db, &req, &res);

	db_send_result_free(&res);
	return st;
}

/* ---- the request layer -------------------------------------------------
 *
 * The hooks do what server_hooks.c does, over the test's sessions, and note
 * what they were told. */

static inline void
on_auth(void *udata, struct session *s)
{
	struct fixture *f = udata;

	f->n_auth++;
	f->last_auth = s;
}

static inline void
on_inbox(void *udata, const char *user, uint32_t device_id)
{
	struct fixture *f = udata;

	f->n_inbox++;
	snprintf(f->inbox_user, sizeof f->inbox_user, "%s", user);
	f->inbox_device = device_id;
}

/* What server_hooks.c does, over the test's sessions (opened in order, so the
 * first of two requests for one key is the older). */
static inline size_t
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

static inline void
on_linked(void *udata, struct session *s)
{
	struct fixture *f = udata;

	f->n_linked++;
	f->last_linked = s;
	/* The request is still readable during the call. */
	assert_true(s->link.pending);
	assert_true(s->authed);
}

static inline void
on_removed(void *udata, const char *user, uint32_t device_id, const struct session *by)
{
	struct fixture *f = udata;

	f->n_removed++;
	snprintf(f->removed_user, sizeof f->removed_user, "%s", user);
	f->removed_device = device_id;
	f->removed_by = by;
}

/* What server_hooks.c does: any authenticated session of user. */
static inline int
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

static inline int64_t
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

/* The names the test server answers to. */
#define SERVER_NAME "127.0.0.1:8700"

/* Bytes 0 to 31: the key of the known answers of test_server_wire_blobs.c. */
static const uint8_t test_blob_key[BLOB_KEY_BYTES] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
						      11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
						      22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

/* setup for the request layer's tests: an empty store, and the hooks. */
static inline int
setup_wire(void **state)
{
	static char name_local[] = "127.0.0.1:8700", name_proxy[] = "proxy.example:443";
	static char *name_list[] = {name_local, name_proxy};
	static const struct server_names test_names = {name_list, 2, 2};
	struct fixture *f = fixture_open();

	if (f == NULL)
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

/* Send one frame (printf-style), return the parsed reply. */
static inline cJSON *call(struct fixture *f, struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline cJSON *
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

static inline const char *
str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static inline double
num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

/* Assert an error reply with this code and id (0: id null); frees it. */
static inline void
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

static inline void
expect_ok(const cJSON *r, double id)
{
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok")));
	assert_true(num(r, "id") == id);
}

static inline void
b64(const uint8_t *bin, size_t len, char *out, size_t cap)
{
	sodium_bin2base64(out, cap, bin, len, sodium_base64_VARIANT_ORIGINAL);
}

/* A new session: hello drawn (challenge set), unauthenticated. */
static inline void
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
static inline void
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
static inline cJSON *
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

static inline cJSON *
do_register(struct fixture *f, struct session *s, int id, const char *user,
	    const struct e2e_identity *me, const char *domain)
{
	return do_register_for(f, s, id, user, me, domain, SERVER_NAME);
}

/* auth for the server named server, signed with binding. */
static inline cJSON *
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

static inline cJSON *
do_auth(struct fixture *f, struct session *s, int id, const char *user, int dev,
	const struct e2e_identity *me)
{
	return do_auth_for(f, s, id, user, dev, me, SERVER_NAME, s->binding, s->binding_len);
}

static inline void
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

/* A user with throwaway keys, straight into the store. */
static inline void
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

/* An envelope to (user, 1) with a ciphertext of ct_len zero bytes. */
static inline const char *
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
static inline cJSON *
send_env(struct fixture *f, struct session *s, int id, const char *chat, int mid, const char *envs)
{
	return call(f, s,
		    "{\"id\":%d,\"type\":\"sendMessage\",\"chatId\":\"%s\","
		    "\"messageId\":\"%032x\",\"envelopes\":[%s]}",
		    id, chat, mid, envs);
}

/* A direct chat of a and b, made by a (a takes part). */
static inline void
direct(struct fixture *f, struct session *s, const char *other, char chat[PROTO_CHAT_ID_LEN + 1])
{
	cJSON *r =
		call(f, s, "{\"id\":90,\"type\":\"createChat\",\"participants\":[\"%s\"]}", other);

	expect_ok(r, 90);
	snprintf(chat, PROTO_CHAT_ID_LEN + 1, "%s", str(r, "chatId"));
	cJSON_Delete(r);
}

/* Assert entry i of a getLastSeen reply: online -1 for null, else 0/1;
 * last -1 for null, 0 for any number, else that number. */
static inline void
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

#endif /* CHAT_SERVER_FIXTURE_H */
