/*
 * fuzz-wire.c - libFuzzer target: chat-server's request layer (wire_handle in
 * server-stub/wire.c), which reads every frame a client sends, over a real
 * store. The store starts with alice (device 1), bob (devices 1 and 2) and
 * carol registered, the direct chat of alice and bob (1010101010101010) and
 * the group "climbing" of all three (1111111111111111), made with the keys of
 * fuzz-keys.h, so that frames in the corpus can name real chats and devices.
 *
 * Input: one byte choosing the connection (mod 4: 0 a new one, not
 * authenticated; 1 alice/1; 2 bob/1; 3 carol/1; with 0 and the top bit set,
 * a new one that first authenticates as alice/1 with a real signature of its
 * challenge), then frames separated by '\n', each handled in turn on that
 * connection. After them, the inbox of the
 * connection's device is rendered as the server would push it, then acked.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "fuzz-keys.h"
#include "names.h"
#include "wire.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_DIRECT "1010101010101010"
#define FUZZ_GROUP  "1111111111111111"

static struct db *db;
static struct wire_hooks hooks;
static char dir[256], path[300];
static uint8_t counter = 0x10;
/* The names this server answers to, as a request's "server" gives them. */
#define FUZZ_SERVER "127.0.0.1:8700"
static char *name_list[] = {FUZZ_SERVER, "localhost:8700"};
static const struct server_names names = {name_list, 2, 2};
static const uint8_t blob_key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				     17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* New ids (chats, updates) from a counter: each call's bytes all alike. */
static void
counter_random(void *buf, size_t len)
{
	memset(buf, counter++, len);
}

static void
on_auth(void *udata, struct session *s)
{
	(void)udata;
	(void)s;
}

static void
on_inbox(void *udata, const char *user, uint32_t device_id)
{
	(void)udata;
	(void)user;
	(void)device_id;
}

/* No other connection waits on a link request. */
static size_t
on_list_links(void *udata, const char *user, int64_t now, struct session **out, size_t cap)
{
	(void)udata;
	(void)user;
	(void)now;
	(void)out;
	(void)cap;
	return 0;
}

static void
on_linked(void *udata, struct session *s)
{
	(void)udata;
	(void)s;
}

static void
on_removed(void *udata, const char *user, uint32_t device_id, const struct session *by)
{
	(void)udata;
	(void)user;
	(void)device_id;
	(void)by;
}

static int
on_online(void *udata, const char *user)
{
	(void)udata;
	return strcmp(user, "alice") == 0;
}

static void
cleanup(void)
{
	char p[320];

	if (db != NULL)
		db_close(db);
	db = NULL;
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	rmdir(dir);
}

static void
die(const char *what)
{
	fprintf(stderr, "fuzz-wire: setting up: %s\n", what);
	cleanup();
	exit(1);
}

/* Registers user's first device with the keys of tag. */
static void
add_user(const char *user, uint8_t tag)
{
	struct e2e_identity id;
	uint32_t dev;
	int created;

	if (fuzz_identity(&id, tag) != 0 ||
	    db_register(db, user, "fuzz", id.sign_pk, id.x_pk, id.x_sig, 1000, &dev, &created) !=
		    DB_OK)
		die(user);
}

/* bob's device 2 (tag 4), approved by his device 1 (tag 2). */
static void
add_bob_tablet(void)
{
	struct e2e_identity bob, tablet;
	uint8_t approval[64];
	uint32_t dev;
	struct db_new_device d;

	if (fuzz_identity(&bob, 2) != 0 || fuzz_identity(&tablet, 4) != 0 ||
	    e2e_sign_device(approval, "bob", tablet.sign_pk, tablet.x_pk, bob.sign_sk) != 0)
		die("bob's tablet keys");
	d = (struct db_new_device){"bob",        "tablet",      tablet.sign_pk, tablet.x_pk,
				   tablet.x_sig, bob.sign_pk, approval,       1000};
	if (db_link_device(db, &d, &dev) != DB_OK || dev != 2)
		die("bob's tablet");
}

static void
add_chats(void)
{
	static const char members[3][PROTO_USER_MAX + 1] = {"alice", "bob", "carol"};
	char chat[PROTO_CHAT_ID_LEN + 1], missing[PROTO_USER_MAX + 1];
	struct db_group_create g = {.creator = "alice",
				    .creator_device = 1,
				    .name = "climbing",
				    .members = members,
				    .n_members = 3,
				    .now = 1000};
	struct db_change_result res;
	int created;

	if (db_direct_chat(db, "alice", "bob", 1000, chat, &created, missing) != DB_OK ||
	    strcmp(chat, FUZZ_DIRECT) != 0)
		die("the direct chat");
	memset(&res, 0, sizeof res);
	if (db_create_group(db, &g, &res) != DB_OK || strcmp(res.chat_id, FUZZ_GROUP) != 0)
		die("the group");
	db_change_result_free(&res);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *d;
	char err[256];

	(void)argc;
	(void)argv;
	if (sodium_init() < 0 || (d = fuzz_scratch_dir("wire")) == NULL)
		die("libsodium or a scratch directory");
	snprintf(dir, sizeof dir, "%s", d);
	snprintf(path, sizeof path, "%s/chat.db", dir);
	atexit(cleanup);
	if ((db = db_open(path, err, sizeof err)) == NULL)
		die(err);
	db_random_fn = counter_random;
	/* The log of every refusal would be most of the output; FUZZ_LOG=1 keeps it. */
	srv_quiet = getenv("FUZZ_LOG") == NULL;
	add_user("alice", 1);
	add_user("bob", 2);
	add_user("carol", 3);
	add_bob_tablet();
	add_chats();
	hooks = (struct wire_hooks){
		.db = db,
		.max_frame = 1 << 20,
		.blob_key = blob_key,
		.max_blob = 1 << 20,
		.blob_url_ttl = 300,
		.authenticated = on_auth,
		.inbox_changed = on_inbox,
		.names = &names,
		.list_links = on_list_links,
		.linked = on_linked,
		.device_removed = on_removed,
		.online = on_online,
	};
	return 0;
}

/* Renders one inbox row as the server pushes it, and acks it. */
static int
push(void *udata, const struct db_inbox_row *row)
{
	struct session *s = udata;
	char *text = wire_inbox_push(row);
	char id[1][PROTO_MESSAGE_ID_LEN + 1];
	int64_t acked;

	free(text);
	snprintf(id[0], sizeof id[0], "%s", row->message_id);
	(void)db_ack(db, s->user, s->device_id, (const char(*)[PROTO_MESSAGE_ID_LEN + 1])id, 1,
		     &acked);
	return 0;
}

/* auth as alice/1, signed for this connection's challenge, as a client would. */
static void
sign_in(struct session *s)
{
	struct e2e_identity alice;
	uint8_t sig[64];
	char sig64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)], frame[512];
	int n;

	if (fuzz_identity(&alice, 1) != 0 ||
	    e2e_sign_session(sig, PROTO_LABEL_AUTH, s->challenge, FUZZ_SERVER, NULL, 0,
			     alice.sign_sk) != 0)
		abort();
	e2e_identity_wipe(&alice);
	sodium_bin2base64(sig64, sizeof sig64, sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(frame, sizeof frame,
		     "{\"id\":1,\"type\":\"auth\",\"user\":\"alice\",\"deviceId\":1,"
		     "\"server\":\"%s\",\"signature\":\"%s\"}",
		     FUZZ_SERVER, sig64);
	free(wire_handle(&hooks, s, frame, (size_t)n));
	if (!s->authed)
		abort(); /* the target's own auth must pass, or it tests nothing */
}

static void
as_device(struct session *s, const char *user, uint32_t device)
{
	s->authed = 1;
	snprintf(s->user, sizeof s->user, "%s", user);
	s->device_id = device;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session s;
	char *frame, *reply;
	size_t n;

	if (size == 0)
		return 0;
	memset(&s, 0, sizeof s);
	s.conn_id = 1;
	free(wire_hello(&hooks, &s)); /* draws the challenge */
	switch (data[0] % 4) {
	case 0:
		if (data[0] & 0x80)
			sign_in(&s);
		break;
	case 1: as_device(&s, "alice", 1); break;
	case 2: as_device(&s, "bob", 1); break;
	case 3: as_device(&s, "carol", 1); break;
	}
	data++;
	size--;
	if ((frame = malloc(size + 1)) == NULL)
		return 0;
	while (size > 0) {
		const uint8_t *nl = memchr(data, '\n', size);

		n = nl ? (size_t)(nl - data) : size;
		/* wire_handle wants the NUL after the frame; one inside is the frame's. */
		memcpy(frame, data, n);
		frame[n] = '\0';
		reply = wire_handle(&hooks, &s, frame, n);
		free(reply);
		data += nl ? n + 1 : n;
		size -= nl ? n + 1 : n;
	}
	free(frame);
	if (s.authed) {
		size_t pushed;

		(void)db_inbox_load(db, s.user, s.device_id, 0, 16, push, &s, &pushed);
	}
	return 0;
}
