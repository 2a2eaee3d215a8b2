/*
 * test_client_machine.c - the client's state machine (session.c, events.c,
 * send.c, outbox.c, receive.c) driven by a fake transport: no socket, no
 * libwebsockets, no server. The fake records every frame libchat writes and
 * lets a test hand it frames (hello, replies, pushes), drop the connection,
 * and move the clock, so what happens across connections is exact:
 *
 *   - the outbox: messages pending from an earlier session go out on the
 *     next connection, in the order they were written, under their ids;
 *   - a send cut off by a lost connection goes again on the next one under
 *     the same id, and its done runs once;
 *   - a newMessage pushed twice is stored and reported once, acked twice,
 *     and owes one delivered receipt;
 *   - a rate_limited request goes again after retryAfterMs, not before;
 *   - a store that cannot record what the server answered is reported as
 *     such, never swallowed;
 *   - the messages of one pass of the loop are stored in one synced commit,
 *     and none is acked before that commit (a second connection to the
 *     store sees each acked message when its ack is written);
 *   - a send costs one synced commit, the outbox's;
 *   - after auth the device publishes a signed prekey and 100 one-time
 *     prekeys whose secrets it keeps, and tops them up on prekeysLow.
 *
 * The handle is alice's device 1, with bob's device 1 pinned and the direct
 * chat CHAT of the two in its store.
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
#include <sodium.h>

#include "internal.h"
#include "ratchet.h"
#include "wire2.h"
#include "x3dh.h"

#define CHAT "0123456789abcdef"

/* ---- the fake transport ---------------------------------------------------- */

#define MAX_FRAMES 64
#define MAX_INCOMING 64

struct fake {
	int64_t now;    /* the clock, ms */
	int open;       /* a connection is under way or up */
	int opens;      /* connections started */
	int want_write; /* the session asked for a chance to write */
	int timer_set;  /* the session's timer, due at timer_at */
	int64_t timer_at;
	int aborted;               /* the session dropped the connection (a deadline) */
	cJSON *frames[MAX_FRAMES]; /* what libchat wrote, parsed */
	size_t n_frames;
	size_t seen; /* frames the test has looked at (next_frame) */
	/* Frames for the next pass to deliver, as one read from the network
	 * would: the server's pushes, in order. */
	char *incoming[MAX_INCOMING];
	size_t n_incoming;
	/* Set: each ack written is checked against this store, through a
	 * connection of its own (what is committed, nothing else). */
	const char *check_acks_in;
	int sessions_checked; /* sendMessage frames checked against committed sessions */
	int acks_checked; /* message ids found committed when their ack went */
};

static int
fake_setup(struct chat_client *c, int tls)
{
	(void)c;
	(void)tls;
	return CHAT_OK;
}

static int
fake_open(struct chat_client *c, const struct proto_url *u)
{
	struct fake *f = c->tp;

	(void)u;
	f->open = 1;
	f->opens++;
	return CHAT_OK;
}

static void
fake_want_write(struct chat_client *c)
{
	((struct fake *)c->tp)->want_write = 1;
}

/* Every id an ack carries is in the store's committed state: read through
 * a connection of its own, which cannot see a transaction still open. */
static void
check_acked_committed(struct fake *f, const cJSON *ack)
{
	const cJSON *id;
	sqlite3 *db;

	assert_int_equal(sqlite3_open_v2(f->check_acks_in, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	cJSON_ArrayForEach(id, cJSON_GetObjectItemCaseSensitive(ack, "messageIds"))
	{
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_prepare_v2(db, "SELECT 1 FROM messages WHERE message_id = ?1",
						    -1, &st, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_bind_text(st, 1, id->valuestring, -1, SQLITE_STATIC),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		sqlite3_finalize(st);
		f->acks_checked++;
	}
	sqlite3_close(db);
}

/* Every envelope a sendMessage carries was encrypted with a message key the
 * committed session state has moved past (its Ns, at offset 194 of the
 * serialised state, ratchet.h, is above the envelope's N): a crash after
 * the frame left cannot make the next send use that key again. */
static void
check_session_committed(struct fake *f, const cJSON *req)
{
	const cJSON *env;
	sqlite3 *db;

	assert_int_equal(sqlite3_open_v2(f->check_acks_in, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	cJSON_ArrayForEach(env, cJSON_GetObjectItemCaseSensitive(req, "envelopes"))
	{
		uint8_t ct[1024];
		size_t len = 0, head;
		uint32_t n, ns;
		const uint8_t *s;
		sqlite3_stmt *st;

		assert_int_equal(proto_get_b64(env, "ciphertext", ct, 0, sizeof ct, &len), 0);
		assert_true(ct[0] == WIRE2_MSG || ct[0] == WIRE2_PREKEY);
		head = ct[0] == WIRE2_PREKEY ? 1 + WIRE2_PREKEY_FIELDS : 1;
		assert_true(len > head + 40);
		n = (uint32_t)ct[head + 36] << 24 | (uint32_t)ct[head + 37] << 16 |
		    (uint32_t)ct[head + 38] << 8 | ct[head + 39];
		assert_int_equal(sqlite3_prepare_v2(db,
						    "SELECT state FROM dr_sessions WHERE user = 'bob'"
						    " ORDER BY used_at DESC LIMIT 1",
						    -1, &st, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_true(sqlite3_column_bytes(st, 0) >= 198);
		s = sqlite3_column_blob(st, 0);
		ns = (uint32_t)s[194] << 24 | (uint32_t)s[195] << 16 | (uint32_t)s[196] << 8 | s[197];
		assert_true(ns > n);
		sqlite3_finalize(st);
		f->sessions_checked++;
	}
	sqlite3_close(db);
}

static int
fake_write(struct chat_client *c, const char *frame, size_t len)
{
	struct fake *f = c->tp;
	cJSON *r;

	assert_true(f->open);
	assert_true(f->n_frames < MAX_FRAMES);
	r = f->frames[f->n_frames] = cJSON_ParseWithLength(frame, len);
	assert_non_null(r);
	f->n_frames++;
	if (f->check_acks_in != NULL && strcmp(proto_get_str(r, "type"), "ack") == 0)
		check_acked_committed(f, r);
	if (f->check_acks_in != NULL && strcmp(proto_get_str(r, "type"), "sendMessage") == 0)
		check_session_committed(f, r);
	return 0;
}

static void
fake_abort(struct chat_client *c)
{
	((struct fake *)c->tp)->aborted = 1;
}

static void
fake_timer(struct chat_client *c, int64_t delay_ms)
{
	struct fake *f = c->tp;

	f->timer_set = 1;
	f->timer_at = f->now + delay_ms;
}

/* Drops the connection, as a server gone away would. */
static void
fake_drop(struct chat_client *c)
{
	struct fake *f = c->tp;

	assert_true(f->open);
	f->open = 0;
	f->want_write = 0;
	session_on_closed(c, CHAT_ERR_CONNECTION_LOST);
}

/* One pass of the loop: the timer if due, then every chance to write that
 * was asked for, as the network would give them. */
static int
fake_service(struct chat_client *c, int timeout_ms)
{
	struct fake *f = c->tp;

	(void)timeout_ms;
	for (size_t i = 0; i < f->n_incoming; i++) {
		session_on_frame(c, f->incoming[i], strlen(f->incoming[i]));
		free(f->incoming[i]);
	}
	f->n_incoming = 0;
	if (f->timer_set && f->now >= f->timer_at) {
		f->timer_set = 0;
		session_on_timer(c);
	}
	while (f->open && f->want_write) {
		f->want_write = 0;
		if (session_on_writable(c) != SESSION_WRITE_OK) {
			fake_drop(c);
			return 0;
		}
	}
	if (f->open && f->aborted) {
		f->aborted = 0;
		fake_drop(c);
	}
	return 0;
}

static int64_t
fake_now(const struct chat_client *c)
{
	return ((const struct fake *)c->tp)->now;
}

static void
fake_stop(struct chat_client *c)
{
	((struct fake *)c->tp)->open = 0;
}

static int
no_fd(const struct chat_client *c)
{
	(void)c;
	return -1;
}

static const struct transport_ops fake_transport = {
	.setup = fake_setup,
	.open = fake_open,
	.want_write = fake_want_write,
	.write = fake_write,
	.abort = fake_abort,
	.timer = fake_timer,
	.service = fake_service,
	.now = fake_now,
	.stop = fake_stop,
	.poll_fd = no_fd,
	.wake_fd = no_fd,
};

/* ---- counting fsyncs ------------------------------------------------------- */

/* The default VFS with every file's xSync counted: a synced commit in WAL
 * mode is one xSync of the WAL (SQLite's sync of the directory after it
 * opens a WAL is part of that call). */
static sqlite3_vfs counting_vfs;
static int syncs;
/* The io methods the real VFS gave its files (one table per kind of file),
 * each with its copy whose xSync counts. */
static struct {
	const sqlite3_io_methods *real;
	sqlite3_io_methods counting;
} io[4];

static int fail_syncs; /* set: every sync fails, as on a failing disk */

static int
counting_sync(sqlite3_file *file, int flags)
{
	syncs++;
	if (fail_syncs)
		return SQLITE_IOERR_FSYNC;
	for (size_t i = 0; i < sizeof io / sizeof *io; i++)
		if (file->pMethods == &io[i].counting)
			return io[i].real->xSync(file, flags);
	fail();
	return SQLITE_IOERR;
}

static int
counting_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out)
{
	sqlite3_vfs *real = vfs->pAppData;
	int rc = real->xOpen(real, name, file, flags, out);
	size_t i;

	if (rc != SQLITE_OK || file->pMethods == NULL)
		return rc;
	for (i = 0; i < sizeof io / sizeof *io; i++) {
		if (io[i].real == NULL) {
			io[i].real = file->pMethods;
			io[i].counting = *file->pMethods;
			io[i].counting.xSync = counting_sync;
		}
		if (io[i].real == file->pMethods)
			break;
	}
	if (i == sizeof io / sizeof *io) {
		fail_msg("more kinds of file than the counting VFS knows");
		return SQLITE_ERROR;
	}
	file->pMethods = &io[i].counting;
	return rc;
}

/* Makes the counting VFS SQLite's default, for the stores opened after. */
static void
count_syncs(void)
{
	sqlite3_vfs *real = sqlite3_vfs_find(NULL);

	if (real == &counting_vfs)
		return;
	counting_vfs = *real;
	counting_vfs.zName = "counting";
	counting_vfs.pAppData = real;
	counting_vfs.xOpen = counting_open;
	assert_int_equal(sqlite3_vfs_register(&counting_vfs, 1), SQLITE_OK);
}

/* ---- the handle ------------------------------------------------------------ */

struct fixture {
	char home[64];
	struct chat_client *c;
	struct fake fake;
	struct e2e_identity bob;
	int messages; /* on_message calls */
	int receive_errors; /* on_receive_error calls */
	int receipts; /* on_receipt calls */
	char last_text[64];
	int send_failed, send_failed_err; /* on_send_failed calls, the last err */
	int64_t retention;                /* the hello's limits.retention, if not 0 */
};

static void
on_message(struct chat_client *c, void *udata, const struct chat_message *m)
{
	struct fixture *f = udata;

	(void)c;
	f->messages++;
	snprintf(f->last_text, sizeof f->last_text, "%s", m->text);
}

static void
on_receive_error(struct chat_client *c, void *udata, const char *message_id, int err,
		 const char *detail)
{
	struct fixture *f = udata;

	(void)c;
	(void)message_id;
	(void)detail;
	assert_int_equal(err, CHAT_ERR_STORE);
	f->receive_errors++;
}

static void
on_receipt(struct chat_client *c, void *udata, const struct chat_receipt *r)
{
	struct fixture *f = udata;

	(void)c;
	(void)r;
	f->receipts++;
}

static void
on_send_failed(struct chat_client *c, void *udata, const char *chat_id, const char *message_id,
	       int err, const char *detail)
{
	struct fixture *f = udata;

	(void)c;
	(void)chat_id;
	(void)message_id;
	(void)detail;
	f->send_failed++;
	f->send_failed_err = err;
}

/* A stage-2 session of alice's device with bob's device 1, as a prekey
 * bundle of bob's (signed prekey only) would have started it: sends to bob
 * go without asking the server for a bundle. */
static void
start_session_with_bob(struct chat_client *c, const struct e2e_identity *bob)
{
	struct x3dh_bundle b = {0};
	struct x3dh_result x;
	struct ratchet_state st = {0};
	uint8_t spk_sk[32], fields[WIRE2_PREKEY_FIELDS], blob[4096];
	size_t len = 0;

	memcpy(b.identity_key, bob->sign_pk, 32);
	memcpy(b.exchange_key, bob->x_pk, 32);
	memcpy(b.exchange_key_sig, bob->x_sig, 64);
	randombytes_buf(spk_sk, sizeof spk_sk);
	crypto_scalarmult_base(b.spk, spk_sk);
	b.spk_id = 1;
	assert_int_equal(x3dh_sign_spk(b.spk_sig, bob->sign_sk, 1, b.spk), X3DH_OK);
	assert_int_equal(x3dh_initiate(&x, c->id->x_sk, c->id->x_pk, &b, NULL), X3DH_OK);
	assert_int_equal(ratchet_init_alice(&st, x.sk, x.ad, b.spk, NULL), RATCHET_OK);
	assert_int_equal(ratchet_serialize(&st, blob, sizeof blob, &len), RATCHET_OK);
	wire2_prekey_fields(fields, x.ek_pub, 1, 0, 0);
	assert_int_equal(store_dr_insert(&c->store, "bob", 1, bob->x_pk, x.ek_pub, fields, blob, len,
					 NULL),
			 0);
	ratchet_wipe(&st);
}

static struct fixture *
open_handle(int reconnect)
{
	struct fixture *f = calloc(1, sizeof *f);
	const char *both[] = {"alice", "bob"};
	struct chat_client *c;

	assert_non_null(f);
	snprintf(f->home, sizeof f->home, "/tmp/test_client_machine.XXXXXX");
	assert_non_null(mkdtemp(f->home));
	c = chat_client_new(&(struct chat_opts)CHAT_OPTS_INIT(.home = f->home,
							      .server_url = "ws://127.0.0.1:9/",
							      .reconnect = reconnect),
			    f, NULL, NULL, 0);
	assert_non_null(c);
	f->c = c;
	c->transport = &fake_transport;
	c->tp = &f->fake;
	f->fake.now = 1000000;
	assert_int_equal(
		chat_client_set_callbacks(
			c, &(struct chat_callbacks)CHAT_CALLBACKS_INIT(.on_message = on_message,
								       .on_receipt = on_receipt,
								       .on_receive_error =
									       on_receive_error,
								       .on_send_failed =
									       on_send_failed)),
		CHAT_OK);
	/* alice's device 1, as registering would leave it. */
	assert_int_equal(client_ensure_identity(c), CHAT_OK);
	snprintf(c->user, sizeof c->user, "alice");
	c->device_id = 1;
	assert_int_equal(store_peer_pin(&c->store, "alice", 1, c->id->sign_pk, c->id->x_pk, NULL),
			 0);
	assert_int_equal(e2e_identity_generate(&f->bob), 0);
	assert_int_equal(store_peer_pin(&c->store, "bob", 1, f->bob.sign_pk, f->bob.x_pk, NULL), 0);
	start_session_with_bob(c, &f->bob);
	assert_int_equal(store_chat_put(&c->store, CHAT, "direct", NULL, NULL, 1, both, 2, NULL, 0),
			 0);
	/* A stage 1 server, as far as this home knows: no uploadPrekeys among
	 * the frames the other tests look at. The prekeys tests clear it. */
	assert_int_equal(store_meta_set(&c->store, "prekeys_unsupported", "1"), 0);
	return f;
}

static void
close_handle(struct fixture *f)
{
	char p[128];

	chat_client_destroy(f->c);
	for (size_t i = 0; i < f->fake.n_frames; i++)
		cJSON_Delete(f->fake.frames[i]);
	for (size_t i = 0; i < f->fake.n_incoming; i++)
		free(f->fake.incoming[i]);
	for (const char *const *n = (const char *const[]){"store.db", "store.db-wal",
							  "store.db-shm", "identity.key", NULL};
	     *n != NULL; n++) {
		snprintf(p, sizeof p, "%s/%s", f->home, *n);
		unlink(p);
	}
	assert_int_equal(rmdir(f->home), 0);
	e2e_identity_wipe(&f->bob);
	free(f);
}

/* ---- frames in and out ------------------------------------------------------- */

/* Hands the session a frame, as if the server had sent it. */
static void
inject(struct fixture *f, cJSON *msg)
{
	char *text = cJSON_PrintUnformatted(msg);

	assert_non_null(text);
	cJSON_Delete(msg);
	session_on_frame(f->c, text, strlen(text));
	free(text);
}

/* Queues a frame for the next pass to deliver (with those queued before it,
 * as one read from the network). */
static void
arrive(struct fixture *f, cJSON *msg)
{
	assert_true(f->fake.n_incoming < MAX_INCOMING);
	assert_non_null(f->fake.incoming[f->fake.n_incoming++] = cJSON_PrintUnformatted(msg));
	cJSON_Delete(msg);
}

static void
pass(struct fixture *f)
{
	assert_int_equal(chat_client_loop(f->c, 0), CHAT_OK);
}

/* The next frame libchat wrote that the test has not looked at, or NULL. */
static const cJSON *
next_frame(struct fixture *f)
{
	return f->fake.seen < f->fake.n_frames ? f->fake.frames[f->fake.seen++] : NULL;
}

/* The next frame, which must be a request of type. */
static const cJSON *
expect_request(struct fixture *f, const char *type)
{
	const cJSON *r = next_frame(f);

	assert_non_null(r);
	assert_string_equal(proto_get_str(r, "type"), type);
	return r;
}

static int64_t
request_id(const cJSON *r)
{
	int64_t id;

	assert_int_equal(proto_get_int(r, "id", 1, INT64_MAX / 2, &id), 0);
	return id;
}

/* {"id": id, "ok": true} with seq and sentAt (what sendMessage's reply has;
 * the other requests here ignore them). */
static void
reply_ok(struct fixture *f, int64_t id, int64_t seq)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddNumberToObject(r, "id", (double)id);
	cJSON_AddTrueToObject(r, "ok");
	cJSON_AddNumberToObject(r, "seq", (double)seq);
	cJSON_AddNumberToObject(r, "sentAt", 1795000000000.0 + (double)seq);
	inject(f, r);
}

/* Opens a connection and takes it online: the hello, the auth, its reply. */
static void
go_online(struct fixture *f)
{
	uint8_t challenge[PROTO_CHALLENGE_BYTES] = {1, 2, 3};
	cJSON *hello = cJSON_CreateObject(), *limits;

	if (f->c->state == CHAT_STATE_OFFLINE)
		assert_int_equal(chat_client_connect(f->c), CHAT_OK);
	assert_true(f->fake.open);
	assert_int_equal(f->c->state, CHAT_STATE_CONNECTING);
	session_on_open(f->c, challenge, 0);
	assert_int_equal(f->c->state, CHAT_STATE_AUTHENTICATING);
	cJSON_AddStringToObject(hello, "type", "hello");
	cJSON_AddNumberToObject(hello, "protocol", PROTO_VERSION);
	assert_int_equal(proto_add_b64(hello, "challenge", challenge, sizeof challenge), 0);
	limits = cJSON_AddObjectToObject(hello, "limits");
	if (f->retention > 0)
		cJSON_AddNumberToObject(limits, "retention", (double)f->retention);
	inject(f, hello);
	pass(f);
	reply_ok(f, request_id(expect_request(f, "auth")), 0);
	assert_int_equal(f->c->state, CHAT_STATE_ONLINE);
	pass(f); /* what going online starts */
}

/* A sendMessage of message id to bob's device 1, in CHAT. */
static int64_t
expect_send(struct fixture *f, const char *id)
{
	const cJSON *r = expect_request(f, "sendMessage");
	const cJSON *envs = cJSON_GetObjectItemCaseSensitive(r, "envelopes");

	assert_string_equal(proto_get_str(r, "chatId"), CHAT);
	assert_string_equal(proto_get_str(r, "messageId"), id);
	assert_int_equal(cJSON_GetArraySize(envs), 1);
	assert_string_equal(proto_get_str(cJSON_GetArrayItem(envs, 0), "user"), "bob");
	return request_id(r);
}

/* {"id": id, "ok": false, "error": {"code": code, ...}} */
static void
reply_error(struct fixture *f, int64_t id, const char *code)
{
	cJSON *r = cJSON_CreateObject(), *e;

	cJSON_AddNumberToObject(r, "id", (double)id);
	cJSON_AddFalseToObject(r, "ok");
	e = cJSON_AddObjectToObject(r, "error");
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", "refused by the test");
	inject(f, r);
}

/* From now on every write to the store fails (reads still work), as on a
 * disk that has gone read-only. */
static void
store_read_only(struct fixture *f)
{
	assert_int_equal(sqlite3_exec(f->c->store.db, "PRAGMA query_only = 1", NULL, NULL, NULL),
			 SQLITE_OK);
}

/* Makes a stored message look written long ago (past any retention). */
static void
store_age(struct fixture *f, const char *id)
{
	char sql[128];

	snprintf(sql, sizeof sql, "UPDATE messages SET stored_at = 1 WHERE message_id = '%s'", id);
	assert_int_equal(sqlite3_exec(f->c->store.db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static int
copy_state(void *arg, const struct chat_message *m)
{
	snprintf(arg, 16, "%s", m->state);
	return 0;
}

static const char *
state_of(struct fixture *f, const char *id)
{
	static char state[16];

	state[0] = '\0';
	assert_int_equal(store_message_get(&f->c->store, id, copy_state, state), 1);
	return state;
}

/* A message of alice's written by an earlier session and never confirmed. */
static void
store_pending(struct fixture *f, const char *id, const char *text)
{
	struct chat_message m = {0};

	m.chat_id = CHAT;
	m.message_id = id;
	m.sender = "alice";
	m.sender_device = 1;
	m.text = text;
	m.text_len = strlen(text);
	m.outgoing = 1;
	m.state = "pending";
	assert_int_equal(store_message_insert(&f->c->store, &m), 1);
}

struct done {
	int calls, err;
	char id[CHAT_MESSAGE_ID_LEN + 1];
};

static void
on_done(struct chat_client *c, void *arg, int err, const char *id)
{
	struct done *d = arg;

	(void)c;
	d->calls++;
	d->err = err;
	snprintf(d->id, sizeof d->id, "%s", id ? id : "");
}

/* ---- the tests ---------------------------------------------------------------- */

/* What an earlier session left pending goes out on connecting, oldest first,
 * each under the id it was stored with, and is sent once confirmed. */
static void
test_outbox_replay(void **state)
{
	static const char *ids[] = {"00000000000000000000000000000001",
				    "ffffffffffffffffffffffffffffff02",
				    "80000000000000000000000000000003"};
	struct fixture *f = open_handle(0);
	int64_t req[3];

	(void)state;
	for (int i = 0; i < 3; i++)
		store_pending(f, ids[i], (const char *[]){"one", "two", "three"}[i]);
	go_online(f);
	for (int i = 0; i < 3; i++)
		req[i] = expect_send(f, ids[i]);
	assert_null(next_frame(f));
	for (int i = 0; i < 3; i++) {
		assert_string_equal(state_of(f, ids[i]), "pending");
		reply_ok(f, req[i], i + 1);
		assert_string_equal(state_of(f, ids[i]), "sent");
	}
	/* Confirmed: nothing goes again. */
	pass(f);
	assert_null(next_frame(f));
	close_handle(f);
}

/* A send whose reply never came (the connection dropped) goes again on the
 * next connection under the same id; its done runs once, for that reply. */
static void
test_reconnect_mid_send(void **state)
{
	struct fixture *f = open_handle(1);
	char id[CHAT_MESSAGE_ID_LEN + 1];
	struct done d = {0};

	(void)state;
	go_online(f);
	assert_int_equal(chat_send_text(f->c, CHAT, "hi", 2, id, on_done, &d), CHAT_OK);
	pass(f);
	expect_send(f, id);
	fake_drop(f->c);
	assert_int_equal(f->c->state, CHAT_STATE_WAITING);
	assert_int_equal(d.calls, 0);
	assert_string_equal(state_of(f, id), "pending");
	/* Not before the backoff's time... */
	pass(f);
	assert_int_equal(f->fake.opens, 1);
	/* ...then a new connection, and the same message again. */
	f->fake.now += 30000;
	pass(f);
	assert_int_equal(f->fake.opens, 2);
	go_online(f);
	reply_ok(f, expect_send(f, id), 7);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.err, CHAT_OK);
	assert_string_equal(d.id, id);
	assert_string_equal(state_of(f, id), "sent");
	pass(f);
	assert_null(next_frame(f));
	close_handle(f);
}

/* A push of type from bob's device 1 to this one, its body sealed for it
 * under id (named idname). */
static cJSON *
sealed_push(struct fixture *f, const char *type, const char *idname, const char *id,
	    const uint8_t *body, size_t len)
{
	struct e2e_header h = {CHAT, id, "bob", 1, "alice", 1};
	uint8_t nonce[PROTO_NONCE_BYTES], *ct;
	cJSON *msg = cJSON_CreateObject(), *sender;
	size_t ct_len;

	assert_non_null(ct = malloc(e2e_sealed_len(len)));
	assert_int_equal(e2e_seal(ct, &ct_len, nonce, body, len, &h, f->bob.x_sk, f->bob.x_pk,
				  f->c->id->x_pk),
			 0);
	cJSON_AddStringToObject(msg, "type", type);
	cJSON_AddStringToObject(msg, "chatId", CHAT);
	cJSON_AddStringToObject(msg, idname, id);
	if (strcmp(type, "newMessage") == 0)
		cJSON_AddNumberToObject(msg, "seq", 5);
	cJSON_AddNumberToObject(msg, "sentAt", 1795000000000.0);
	sender = cJSON_AddObjectToObject(msg, "sender");
	cJSON_AddStringToObject(sender, "user", "bob");
	cJSON_AddNumberToObject(sender, "deviceId", 1);
	proto_add_b64(sender, "identityKey", f->bob.sign_pk, 32);
	proto_add_b64(sender, "exchangeKey", f->bob.x_pk, 32);
	proto_add_b64(sender, "exchangeKeySig", f->bob.x_sig, 64);
	proto_add_b64(msg, "nonce", nonce, sizeof nonce);
	proto_add_b64(msg, "ciphertext", ct, ct_len);
	free(ct);
	return msg;
}

/* A newMessage from bob's device 1 to this one, sealed for it. */
static cJSON *
new_message(struct fixture *f, const char *id, const char *text)
{
	uint8_t body[64];
	size_t len = strlen(text) + 1;

	assert_true(len <= sizeof body);
	body[0] = PROTO_BODY_TEXT;
	memcpy(body + 1, text, len - 1);
	return sealed_push(f, "newMessage", "messageId", id, body, len);
}

/* bob's device 1 says it stored message_id (a delivered receipt, under
 * receipt_id). */
static cJSON *
delivered(struct fixture *f, const char *receipt_id, const char *message_id)
{
	uint8_t body[PROTO_RECEIPT_HEAD + PROTO_RECEIPT_ID_BYTES] = {PROTO_BODY_RECEIPT,
								     PROTO_RECEIPT_DELIVERED};

	assert_int_equal(sodium_hex2bin(body + PROTO_RECEIPT_HEAD, PROTO_RECEIPT_ID_BYTES,
					message_id, strlen(message_id), NULL, NULL, NULL),
			 0);
	return sealed_push(f, "receipt", "receiptId", receipt_id, body, sizeof body);
}

/* The ack that follows, which must carry exactly id. */
static void
expect_ack(struct fixture *f, const char *id)
{
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive(expect_request(f, "ack"), "messageIds");

	assert_int_equal(cJSON_GetArraySize(ids), 1);
	assert_string_equal(cJSON_GetArrayItem(ids, 0)->valuestring, id);
}

/* The server sends a message again when it did not get the ack: the device
 * stores and shows it once, and acks it each time. */
static void
test_duplicate_push(void **state)
{
	static const char id[] = "abcdefabcdefabcdefabcdefabcdef01";
	struct fixture *f = open_handle(0);

	(void)state;
	go_online(f);
	arrive(f, new_message(f, id, "hello alice"));
	pass(f);
	assert_int_equal(f->messages, 1);
	assert_string_equal(f->last_text, "hello alice");
	assert_string_equal(state_of(f, id), "received");
	pass(f); /* the ack, queued at the end of the pass, goes in the next */
	expect_ack(f, id);
	arrive(f, new_message(f, id, "hello alice"));
	pass(f);
	assert_int_equal(f->messages, 1);
	pass(f);
	expect_ack(f, id);
	assert_null(next_frame(f));
	/* One delivered receipt is owed for it, after the batching delay. */
	f->fake.now += RECEIPT_DELAY_MS + 1;
	pass(f);
	expect_request(f, "sendReceipt");
	assert_null(next_frame(f));
	close_handle(f);
}

/* A drain: the messages that come in one pass of the loop are stored in one
 * synced commit, not one each; each is handed over once, and every ack goes
 * out only once its message is committed. */
static void
test_drain_one_commit(void **state)
{
	struct fixture *f = open_handle(0);
	char id[CHAT_MESSAGE_ID_LEN + 1], path[128];
	const cJSON *ids;
	int before;

	(void)state;
	go_online(f);
	snprintf(path, sizeof path, "%s/store.db", f->home);
	f->fake.check_acks_in = path;
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof id, "abcdefabcdefabcdefabcdefabcd%04d", i);
		arrive(f, new_message(f, id, "drained"));
	}
	before = syncs;
	pass(f);
	assert_int_equal(f->messages, 40);
	assert_in_range(syncs - before, 1, 2);
	pass(f);
	ids = cJSON_GetObjectItemCaseSensitive(expect_request(f, "ack"), "messageIds");
	assert_int_equal(cJSON_GetArraySize(ids), 40);
	assert_int_equal(f->fake.acks_checked, 40);
	assert_null(next_frame(f));
	close_handle(f);
}

/* No ack is written before its message's commit, even when the chance to
 * write comes in the same pass as the message (the ack is checked against
 * what a second connection to the store sees). */
static void
test_ack_after_commit(void **state)
{
	static const char id[] = "abcdefabcdefabcdefabcdefabcdef02";
	struct fixture *f = open_handle(0);
	char path[128], sent[CHAT_MESSAGE_ID_LEN + 1];
	struct done d = {0};

	(void)state;
	go_online(f);
	snprintf(path, sizeof path, "%s/store.db", f->home);
	f->fake.check_acks_in = path;
	/* A send is due to be written in the same pass as the message comes. */
	assert_int_equal(chat_send_text(f->c, CHAT, "hi", 2, sent, on_done, &d), CHAT_OK);
	arrive(f, new_message(f, id, "hello"));
	pass(f);
	expect_send(f, sent);
	assert_null(next_frame(f));
	assert_int_equal(f->messages, 1);
	pass(f);
	expect_ack(f, id);
	assert_int_equal(f->fake.acks_checked, 1);
	close_handle(f);
}

/* A message key is used once, whatever happens: the session state that
 * moved past it is committed before the envelope it sealed can leave (the
 * frame is checked against what a second connection to the store sees),
 * for a message sent at once as for one from the outbox. */
static void
test_session_state_before_frame(void **state)
{
	struct fixture *f = open_handle(0);
	char path[128], a[CHAT_MESSAGE_ID_LEN + 1], b[CHAT_MESSAGE_ID_LEN + 1];
	struct done d = {0};

	(void)state;
	snprintf(path, sizeof path, "%s/store.db", f->home);
	f->fake.check_acks_in = path;
	/* Written offline: it goes with the outbox on connecting. */
	assert_int_equal(chat_send_text(f->c, CHAT, "queued", 6, a, on_done, &d), CHAT_OK);
	go_online(f);
	reply_ok(f, expect_send(f, a), 1);
	assert_int_equal(chat_send_text(f->c, CHAT, "at once", 7, b, on_done, &d), CHAT_OK);
	pass(f);
	reply_ok(f, expect_send(f, b), 2);
	assert_int_equal(f->fake.sessions_checked, 2);
	assert_int_equal(d.calls, 2);
	close_handle(f);
}

/* A request made while received messages wait for their commit (here: the
 * members of a chat first seen in one) is held until that commit. */
static void
test_request_held_for_commit(void **state)
{
	static const char id[] = "abcdefabcdefabcdefabcdefabcdef03";
	struct fixture *f = open_handle(0);
	cJSON *msg;

	(void)state;
	go_online(f);
	msg = new_message(f, id, "hello");
	cJSON_ReplaceItemInObject(msg, "chatId", cJSON_CreateString("fedcba9876543210"));
	arrive(f, msg);
	pass(f);
	/* Not sealed for that chat: undecryptable, but stored and taken. */
	assert_null(next_frame(f));
	pass(f);
	expect_request(f, "getChat");
	expect_ack(f, id);
	close_handle(f);
}

/* Receipts that come in one pass share one commit too, each told once and
 * acked after it. */
static void
test_receipts_one_commit(void **state)
{
	struct fixture *f = open_handle(0);
	char id[CHAT_MESSAGE_ID_LEN + 1], rid[CHAT_MESSAGE_ID_LEN + 1];
	const cJSON *ids;
	int before;

	(void)state;
	go_online(f);
	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof id, "0123012301230123012301230123%04d", i);
		snprintf(rid, sizeof rid, "4567456745674567456745674567%04d", i);
		store_pending(f, id, "mine");
		assert_int_equal(store_message_sent(&f->c->store, id, 10 + i, 1), 0);
		arrive(f, delivered(f, rid, id));
	}
	before = syncs;
	pass(f);
	assert_int_equal(f->receipts, 20);
	assert_in_range(syncs - before, 1, 2);
	assert_string_equal(state_of(f, id), "delivered");
	pass(f);
	ids = cJSON_GetObjectItemCaseSensitive(expect_request(f, "ack"), "messageIds");
	assert_int_equal(cJSON_GetArraySize(ids), 20);
	assert_null(next_frame(f));
	close_handle(f);
}

/* A batch whose commit fails (the disk refuses to sync) is neither handed
 * over nor acked: each message is reported as not received, and when the
 * server delivers them again they are stored, shown and acked. */
static void
test_batch_commit_fails(void **state)
{
	struct fixture *f = open_handle(0);
	char id[CHAT_MESSAGE_ID_LEN + 1];

	(void)state;
	go_online(f);
	for (int i = 0; i < 3; i++) {
		snprintf(id, sizeof id, "abcdefabcdefabcdefabcdefabce%04d", i);
		arrive(f, new_message(f, id, "again"));
	}
	fail_syncs = 1;
	pass(f);
	fail_syncs = 0;
	assert_int_equal(f->receive_errors, 3);
	assert_int_equal(f->messages, 0);
	assert_int_equal(store_message_exists(&f->c->store, id), 0);
	pass(f);
	assert_null(next_frame(f));
	/* Delivered again. */
	for (int i = 0; i < 3; i++) {
		snprintf(id, sizeof id, "abcdefabcdefabcdefabcdefabce%04d", i);
		arrive(f, new_message(f, id, "again"));
	}
	pass(f);
	assert_int_equal(f->messages, 3);
	pass(f);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
				 expect_request(f, "ack"), "messageIds")),
			 3);
	close_handle(f);
}

/* A send costs one synced commit: the outbox's, before the message leaves.
 * Marking it sent is not synced (lost to a power cut, it goes again under
 * its id, which the server takes once). */
static void
test_send_one_sync(void **state)
{
	struct fixture *f = open_handle(0);
	char id[CHAT_MESSAGE_ID_LEN + 1];
	struct done d = {0};
	int before;

	(void)state;
	go_online(f);
	before = syncs;
	assert_int_equal(chat_send_text(f->c, CHAT, "hi", 2, id, on_done, &d), CHAT_OK);
	assert_int_equal(syncs - before, 1);
	pass(f);
	reply_ok(f, expect_send(f, id), 7);
	pass(f);
	assert_int_equal(d.calls, 1);
	assert_string_equal(state_of(f, id), "sent");
	assert_int_equal(syncs - before, 1);
	close_handle(f);
}

/* A request refused as rate_limited goes again, whole and under the same id,
 * once retryAfterMs has passed on the session's clock, and not before. */
static void
test_rate_limited_retry(void **state)
{
	struct fixture *f = open_handle(0);
	char id[CHAT_MESSAGE_ID_LEN + 1], *first, *again;
	struct done d = {0};
	const cJSON *r;
	cJSON *refusal, *e;
	int64_t req;

	(void)state;
	go_online(f);
	assert_int_equal(chat_send_text(f->c, CHAT, "slow down", 9, id, on_done, &d), CHAT_OK);
	pass(f);
	r = expect_request(f, "sendMessage");
	req = request_id(r);
	first = cJSON_PrintUnformatted(r);
	refusal = cJSON_CreateObject();
	cJSON_AddNumberToObject(refusal, "id", (double)req);
	cJSON_AddFalseToObject(refusal, "ok");
	e = cJSON_AddObjectToObject(refusal, "error");
	cJSON_AddStringToObject(e, "code", "rate_limited");
	cJSON_AddStringToObject(e, "message", "too many requests; retry in 2000 ms");
	cJSON_AddNumberToObject(e, "retryAfterMs", 2000);
	inject(f, refusal);
	assert_int_equal(d.calls, 0);
	pass(f);
	f->fake.now += 1999;
	pass(f);
	assert_null(next_frame(f));
	f->fake.now += 2;
	pass(f);
	r = expect_request(f, "sendMessage");
	again = cJSON_PrintUnformatted(r);
	assert_string_equal(again, first);
	reply_ok(f, req, 3);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.err, CHAT_OK);
	assert_string_equal(state_of(f, id), "sent");
	free(first);
	free(again);
	close_handle(f);
}

/* ---- store failures: said, not swallowed ------------------------------------ */

/* A send the server refuses is marked failed; when the store cannot do it,
 * done hears of that (the message stays pending, and goes again), instead
 * of a refusal that the store contradicts. */
static void
test_refused_send_store_fails(void **state)
{
	struct fixture *f = open_handle(0);
	char id[CHAT_MESSAGE_ID_LEN + 1];
	struct done d = {0};

	(void)state;
	go_online(f);
	assert_int_equal(chat_send_text(f->c, CHAT, "no", 2, id, on_done, &d), CHAT_OK);
	pass(f);
	store_read_only(f);
	reply_error(f, expect_send(f, id), "bad_request");
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.err, CHAT_ERR_STORE);
	assert_string_equal(d.id, id);
	assert_non_null(strstr(chat_client_errmsg(f->c), "refused by the test"));
	assert_non_null(strstr(chat_client_errmsg(f->c), "cannot mark it failed"));
	assert_string_equal(state_of(f, id), "pending");
	close_handle(f);
}

/* A device removed on the server that this device cannot record as removed
 * is a store failure, not a success. */
static void
test_removed_device_store_fails(void **state)
{
	struct fixture *f = open_handle(0);
	struct done d = {0};

	(void)state;
	assert_int_equal(
		store_peer_pin(&f->c->store, "alice", 2, f->bob.sign_pk, f->bob.x_pk, NULL), 0);
	go_online(f);
	assert_int_equal(chat_remove_device(f->c, 2, on_done, &d), CHAT_OK);
	pass(f);
	store_read_only(f);
	reply_ok(f, request_id(expect_request(f, "removeDevice")), 0);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.err, CHAT_ERR_STORE);
	assert_non_null(strstr(chat_client_errmsg(f->c), "removed"));
	close_handle(f);
}

/* chat_retry of a message past the server's retention fails it for good;
 * when the store cannot mark it so, the call says the store failed. */
static void
test_retry_expired_store_fails(void **state)
{
	static const char id[] = "0000000000000000000000000000ab01";
	struct fixture *f = open_handle(0);
	struct done d = {0};

	(void)state;
	store_pending(f, id, "old");
	store_age(f, id);
	f->c->retention_ms = 1000; /* as a hello told it */
	store_read_only(f);
	assert_int_equal(chat_retry(f->c, id, on_done, &d), CHAT_ERR_STORE);
	assert_non_null(strstr(chat_client_errmsg(f->c), "retention"));
	assert_int_equal(d.calls, 0);
	close_handle(f);
}

/* On connecting, a pending message past the server's retention is given up,
 * never sent: the server may have forgotten its id and would store it twice.
 * When the store cannot mark it failed, it still does not go out, and the
 * application hears why. */
static void
test_expired_outbox_store_fails(void **state)
{
	static const char id[] = "0000000000000000000000000000ab02";
	struct fixture *f = open_handle(0);

	(void)state;
	store_pending(f, id, "old");
	store_age(f, id);
	store_read_only(f);
	f->retention = 1000;
	go_online(f);
	assert_null(next_frame(f));
	assert_int_equal(f->send_failed, 1);
	assert_int_equal(f->send_failed_err, CHAT_ERR_STORE);
	assert_string_equal(state_of(f, id), "pending");
	close_handle(f);
}

/* Checks an uploadPrekeys: its signed prekey verifies under alice's identity
 * key and is the public key of the secret stored under its id; it carries n
 * one-time prekeys, each the public key of its stored secret, none of whose
 * ids is in seen (nor among its own); adds them to seen. */
static void
check_upload(struct fixture *f, const cJSON *r, int n, uint32_t *seen, int *n_seen)
{
	const cJSON *spk = cJSON_GetObjectItemCaseSensitive(r, "signedPrekey");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(r, "oneTimePrekeys"), *k;
	uint8_t pk[32], sig[64], sk[32], derived[32];
	int64_t id;

	assert_int_equal(proto_get_int(spk, "id", 1, UINT32_MAX, &id), 0);
	assert_int_equal(proto_get_b64(spk, "key", pk, sizeof pk, sizeof pk, NULL), 0);
	assert_int_equal(proto_get_b64(spk, "sig", sig, sizeof sig, sizeof sig, NULL), 0);
	assert_int_equal(x3dh_verify_spk(sig, f->c->id->sign_pk, (uint32_t)id, pk), X3DH_OK);
	assert_int_equal(store_prekey_secret(&f->c->store, 1, (uint32_t)id, sk), 1);
	assert_int_equal(crypto_scalarmult_base(derived, sk), 0);
	assert_memory_equal(derived, pk, 32);
	assert_int_equal(cJSON_GetArraySize(list), n);
	cJSON_ArrayForEach(k, list) {
		assert_int_equal(proto_get_int(k, "id", 1, UINT32_MAX, &id), 0);
		for (int i = 0; i < *n_seen; i++)
			assert_true(seen[i] != (uint32_t)id);
		seen[(*n_seen)++] = (uint32_t)id;
		assert_int_equal(proto_get_b64(k, "key", pk, sizeof pk, sizeof pk, NULL), 0);
		assert_int_equal(store_prekey_secret(&f->c->store, 0, (uint32_t)id, sk), 1);
		assert_int_equal(crypto_scalarmult_base(derived, sk), 0);
		assert_memory_equal(derived, pk, 32);
	}
	sodium_memzero(sk, sizeof sk);
}

static void
reply_count(struct fixture *f, int64_t id, int count)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddNumberToObject(r, "id", (double)id);
	cJSON_AddTrueToObject(r, "ok");
	cJSON_AddNumberToObject(r, "oneTimePrekeys", count);
	inject(f, r);
}

/* After auth a new device uploads a signed prekey and 100 one-time prekeys;
 * the next connection uploads nothing; prekeysLow tops the server up to
 * 100 with new ids. */
static void
test_prekeys_published(void **state)
{
	struct fixture *f = open_handle(0);
	uint32_t seen[300] = {0};
	int n_seen = 0;
	const cJSON *r;
	cJSON *low;

	(void)state;
	assert_int_equal(sqlite3_exec(f->c->store.db,
				      "DELETE FROM meta WHERE key ="
				      " 'prekeys_unsupported'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	go_online(f);
	r = expect_request(f, "uploadPrekeys");
	check_upload(f, r, PROTO_MAX_PREKEYS_UPLOAD, seen, &n_seen);
	reply_count(f, request_id(r), 100);
	pass(f);
	assert_null(next_frame(f));

	/* The server hands out 85: it says 15 are left. */
	low = cJSON_CreateObject();
	cJSON_AddStringToObject(low, "type", "prekeysLow");
	cJSON_AddNumberToObject(low, "count", 15);
	inject(f, low);
	pass(f);
	r = expect_request(f, "uploadPrekeys");
	check_upload(f, r, 85, seen, &n_seen);
	reply_count(f, request_id(r), 100);
	pass(f);
	assert_null(next_frame(f));
	close_handle(f);
}

/* A signed prekey a week old is replaced on the next connection, under a
 * new id; the one before keeps its secret (late messages), one retired more
 * than 30 days ago is forgotten. */
static void
test_prekeys_rotated(void **state)
{
	struct fixture *f = open_handle(0);
	uint32_t seen[200] = {0};
	int n_seen = 0;
	int64_t first, second;
	uint8_t sk[32];
	const cJSON *r;

	(void)state;
	assert_int_equal(sqlite3_exec(f->c->store.db, "DELETE FROM meta WHERE key ="
				      " 'prekeys_unsupported'", NULL, NULL, NULL), SQLITE_OK);
	go_online(f);
	r = expect_request(f, "uploadPrekeys");
	check_upload(f, r, PROTO_MAX_PREKEYS_UPLOAD, seen, &n_seen);
	assert_int_equal(proto_get_int(cJSON_GetObjectItemCaseSensitive(r, "signedPrekey"), "id",
				       1, UINT32_MAX, &first), 0);
	reply_count(f, request_id(r), 100);
	pass(f);
	fake_drop(f->c);

	assert_int_equal(sqlite3_exec(f->c->store.db,
				      "UPDATE signed_prekeys SET created_at = created_at - 8 * 86400000;"
				      "INSERT INTO signed_prekeys VALUES(4000000000, zeroblob(32),"
				      " zeroblob(32), 1, 2)", NULL, NULL, NULL), SQLITE_OK);
	go_online(f);
	r = expect_request(f, "uploadPrekeys");
	check_upload(f, r, 0, seen, &n_seen);
	assert_int_equal(proto_get_int(cJSON_GetObjectItemCaseSensitive(r, "signedPrekey"), "id",
				       1, UINT32_MAX, &second), 0);
	assert_true(second > first);
	assert_true(second > seen[n_seen - 1]); /* the counter: no id of before */
	assert_int_equal(store_prekey_secret(&f->c->store, 1, (uint32_t)first, sk), 1);
	assert_int_equal(store_prekey_secret(&f->c->store, 1, 4000000000u, sk), 0);
	sodium_memzero(sk, sizeof sk);
	reply_count(f, request_id(r), 100);
	pass(f);
	assert_null(next_frame(f));
	close_handle(f);
}

/* One-time prekeys a full server refused (quota_exceeded) are not sent again
 * on every connection. */
static void
test_prekeys_quota_exceeded(void **state)
{
	struct fixture *f = open_handle(0);

	(void)state;
	assert_int_equal(sqlite3_exec(f->c->store.db, "DELETE FROM meta WHERE key ="
				      " 'prekeys_unsupported'", NULL, NULL, NULL), SQLITE_OK);
	go_online(f);
	reply_error(f, request_id(expect_request(f, "uploadPrekeys")), "quota_exceeded");
	pass(f);
	assert_int_equal(f->c->state, CHAT_STATE_ONLINE);
	fake_drop(f->c);
	go_online(f);
	assert_null(next_frame(f));
	close_handle(f);
}

/* A server that does not know uploadPrekeys is not asked again. */
static void
test_prekeys_unknown_type(void **state)
{
	struct fixture *f = open_handle(0);

	(void)state;
	assert_int_equal(sqlite3_exec(f->c->store.db,
				      "DELETE FROM meta WHERE key ="
				      " 'prekeys_unsupported'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	go_online(f);
	reply_error(f, request_id(expect_request(f, "uploadPrekeys")), "unknown_type");
	assert_int_equal(f->c->state, CHAT_STATE_ONLINE);
	fake_drop(f->c);
	go_online(f);
	assert_null(next_frame(f));
	close_handle(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outbox_replay),
		cmocka_unit_test(test_reconnect_mid_send),
		cmocka_unit_test(test_duplicate_push),
		cmocka_unit_test(test_drain_one_commit),
		cmocka_unit_test(test_ack_after_commit),
		cmocka_unit_test(test_session_state_before_frame),
		cmocka_unit_test(test_request_held_for_commit),
		cmocka_unit_test(test_receipts_one_commit),
		cmocka_unit_test(test_batch_commit_fails),
		cmocka_unit_test(test_send_one_sync),
		cmocka_unit_test(test_rate_limited_retry),
		cmocka_unit_test(test_refused_send_store_fails),
		cmocka_unit_test(test_removed_device_store_fails),
		cmocka_unit_test(test_retry_expired_store_fails),
		cmocka_unit_test(test_expired_outbox_store_fails),
		cmocka_unit_test(test_prekeys_published),
		cmocka_unit_test(test_prekeys_rotated),
		cmocka_unit_test(test_prekeys_quota_exceeded),
		cmocka_unit_test(test_prekeys_unknown_type),
	};

	if (sodium_init() < 0)
		return 1;
	count_syncs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
