/*
 * fuzz-frame.c - libFuzzer target: libchat's handling of what the server
 * sends (session.c's frames and everything a frame reaches: replies,
 * hello, newMessage, receipt, chatUpdate, missed, drained, linked, blocked), with no
 * network. The handle is bob's device 1 (keys of fuzz-keys.h), online, with
 * an in-memory store that knows alice/1, bob/2 and carol/1, the direct chat
 * 1010101010101010 (alice, bob), the group 1111111111111111 (alice, bob,
 * carol) and two messages of the direct chat: alice's aaaa...a and bob's
 * bbbb...b.
 *
 * Input: one byte choosing the mode (mod 4), then
 *   0: frames separated by '\n', dispatched in turn (request ids start at 1
 *      with each input, so a frame can answer one an earlier frame caused);
 *   1: a body (kind byte and all) sealed as a newMessage, then
 *   2: sealed as a receipt; for both, one byte first picks the sender
 *      (alice/1, bob/2, carol/1) and the chat (direct, group);
 *   3: as 0, after a getKeys of alice, carol and dave (request id 1), so
 *      that the frames can answer it: the key directory's checks.
 * The pins are put back after each input, so what one input made of them
 * does not keep the next from decrypting.
 * Every callback reads every string it is given, so a pointer to garbage is
 * caught there.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-keys.h"
#include "internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_DIRECT "1010101010101010"
#define FUZZ_GROUP  "1111111111111111"

static struct chat_client *c;
static char dir[256];
static volatile size_t sink; /* what the callbacks read goes here */

static void
touch(const char *s)
{
	if (s != NULL)
		sink += strlen(s);
}

static void
on_message(struct chat_client *cl, void *udata, const struct chat_message *m)
{
	(void)cl;
	(void)udata;
	touch(m->chat_id);
	touch(m->message_id);
	touch(m->sender);
	touch(m->state);
	touch(m->kind);
	if (strlen(m->text) != m->text_len)
		abort(); /* a text is handed over whole, without NUL */
	for (size_t i = 0; i < m->n_attachments; i++) {
		touch(m->attachments[i].name);
		touch(m->attachments[i].type);
	}
}

static void
on_state(struct chat_client *cl, void *udata, enum chat_state state, int err)
{
	(void)cl;
	(void)udata;
	sink += (size_t)state + (size_t)err;
}

static void
on_key_changed(struct chat_client *cl, void *udata, const char *user, uint32_t device)
{
	(void)cl;
	(void)udata;
	touch(user);
	sink += device;
}

static void
on_receive_error(struct chat_client *cl, void *udata, const char *id, int err, const char *detail)
{
	(void)cl;
	(void)udata;
	touch(id);
	touch(detail);
	sink += (size_t)err;
}

static void
on_update(struct chat_client *cl, void *udata, const struct chat_update *u)
{
	(void)cl;
	(void)udata;
	touch(u->chat_id);
	touch(u->update_id);
	touch(u->kind);
	touch(u->name);
	touch(u->actor);
	touch(u->operation);
	for (size_t i = 0; i < u->n_users; i++)
		touch(u->users[i]);
	for (size_t i = 0; i < u->n_participants; i++)
		touch(u->participants[i]);
	for (size_t i = 0; i < u->n_admins; i++)
		touch(u->admins[i]);
}

static void
on_device_change(struct chat_client *cl, void *udata, const char *user, uint32_t dev, int added)
{
	(void)cl;
	(void)udata;
	touch(user);
	sink += dev + (size_t)added;
}

static void
on_missed(struct chat_client *cl, void *udata, int64_t count, int64_t oldest)
{
	(void)cl;
	(void)udata;
	sink += (size_t)(count + oldest);
}

static void
on_receipt(struct chat_client *cl, void *udata, const struct chat_receipt *r)
{
	(void)cl;
	(void)udata;
	touch(r->chat_id);
	touch(r->message_id);
	touch(r->user);
	touch(r->state);
}

static void
on_send_failed(struct chat_client *cl, void *udata, const char *chat, const char *id, int err,
	       const char *detail)
{
	(void)cl;
	(void)udata;
	touch(chat);
	touch(id);
	touch(detail);
	sink += (size_t)err;
}

static void
on_undecryptable(struct chat_client *cl, void *udata, const struct chat_undecryptable *u)
{
	(void)cl;
	(void)udata;
	touch(u->chat_id);
	touch(u->message_id);
	touch(u->sender);
	touch(u->reason);
}

static const struct chat_callbacks callbacks =
	CHAT_CALLBACKS_INIT(.on_message = on_message, .on_state = on_state,
			    .on_key_changed = on_key_changed, .on_receive_error = on_receive_error,
			    .on_update = on_update, .on_device_change = on_device_change,
			    .on_missed = on_missed, .on_receipt = on_receipt,
			    .on_send_failed = on_send_failed, .on_undecryptable = on_undecryptable);

static void
cleanup(void)
{
	char p[320];

	chat_client_destroy(c);
	c = NULL;
	snprintf(p, sizeof p, "%s/store.db", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/store.db-wal", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/store.db-shm", dir);
	unlink(p);
	rmdir(dir);
}

static void
die(const char *what)
{
	fprintf(stderr, "fuzz-frame: setting up: %s\n", what);
	cleanup();
	exit(1);
}

static void
pin(const char *user, uint32_t device, uint8_t tag)
{
	struct e2e_identity id;

	if (fuzz_identity(&id, tag) != 0 ||
	    store_peer_pin(&c->store, user, device, id.sign_pk, id.x_pk, "fuzz") != 0)
		die("pinning keys");
}

/* The pins of fill_store(), as they were (a pending key change dropped). */
static void
repin(void)
{
	pin("alice", 1, 1);
	pin("bob", 1, 2);
	pin("bob", 2, 4);
	pin("carol", 1, 3);
}

static void
add_message(const char *id, const char *sender, int outgoing, const char *state)
{
	struct chat_message m = {FUZZ_DIRECT, id,    sender, 1,    1, 1000, "hi", 2,
				 outgoing,    state, "text", NULL, 0, NULL, NULL, NULL,
				 NULL,        NULL,  0,      0,    0, 0,    NULL, 0, 0};

	if (store_message_insert(&c->store, &m) != 1 || store_message_handed(&c->store, id) != 0)
		die("a message");
}

static void
fill_store(void)
{
	static const char *const two[] = {"alice", "bob"};
	static const char *const three[] = {"alice", "bob", "carol"};
	static const char *const admins[] = {"alice"};

	repin();
	if (store_chat_put(&c->store, FUZZ_DIRECT, "direct", NULL, NULL, 1000, two, 2, NULL, 0) !=
		    0 ||
	    store_chat_put(&c->store, FUZZ_GROUP, "group", "climbing", NULL, 1000, three, 3, admins,
			   1) != 0)
		die("chats");
	add_message("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "alice", 0, "received");
	add_message("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "bob", 1, "sent");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct chat_opts o = CHAT_OPTS_INIT();
	const char *d;
	char err[256];

	(void)argc;
	(void)argv;
	if (sodium_init() < 0 || (d = fuzz_scratch_dir("frame")) == NULL)
		die("libsodium or a scratch directory");
	snprintf(dir, sizeof dir, "%s", d);
	o.home = dir;
	atexit(cleanup);
	if ((c = chat_client_new(&o, NULL, NULL, err, sizeof err)) == NULL)
		die(err);
	/* In memory: the store's fsyncs would be most of the time spent. */
	store_close(&c->store);
	if (store_open(&c->store, ":memory:") != 0)
		die(c->store.err);
	if ((c->id = sodium_malloc(sizeof *c->id)) == NULL || fuzz_identity(c->id, 2) != 0)
		die("bob's identity");
	snprintf(c->user, sizeof c->user, "bob");
	c->device_id = 1;
	fill_store();
	if (chat_client_set_callbacks(c, &callbacks) != CHAT_OK)
		die(chat_client_errmsg(c));
	return 0;
}

/* The keys of the sender of mode 1 and 2. */
static const struct {
	const char *user;
	uint32_t device;
	uint8_t tag;
} senders[3] = {{"alice", 1, 1}, {"bob", 2, 4}, {"carol", 1, 3}};

/* Seals body from a sender for bob/1 and dispatches it as a push. */
static void
sealed_push(const uint8_t *data, size_t size, int receipt)
{
	struct e2e_identity from;
	uint8_t nonce[PROTO_NONCE_BYTES], digest[32], *ct;
	char id[CHAT_MESSAGE_ID_LEN + 1], *text;
	size_t ct_len = 0;
	int who, group;
	cJSON *msg, *sender;

	if (size < 1 || size - 1 > PROTO_MAX_PLAINTEXT)
		return;
	who = data[0] % 3;
	group = (data[0] / 3) % 2;
	data++;
	size--;
	/* The id from the content: the same input makes the same push. */
	crypto_hash_sha256(digest, data, size);
	sodium_bin2hex(id, sizeof id, digest, 16);
	if (fuzz_identity(&from, senders[who].tag) != 0 ||
	    (ct = malloc(e2e_sealed_len(size))) == NULL)
		return;
	{
		struct e2e_header h = {group ? FUZZ_GROUP : FUZZ_DIRECT,
				       id,
				       senders[who].user,
				       senders[who].device,
				       "bob",
				       1};

		if (e2e_seal(ct, &ct_len, nonce, data, size, &h, from.x_sk, from.x_pk,
			     c->id->x_pk) != 0) {
			free(ct);
			return;
		}
	}
	msg = cJSON_CreateObject();
	cJSON_AddStringToObject(msg, "type", receipt ? "receipt" : "newMessage");
	cJSON_AddStringToObject(msg, "chatId", group ? FUZZ_GROUP : FUZZ_DIRECT);
	cJSON_AddStringToObject(msg, receipt ? "receiptId" : "messageId", id);
	if (!receipt)
		cJSON_AddNumberToObject(msg, "seq", 2 + digest[16]);
	cJSON_AddNumberToObject(msg, "sentAt", 1795000000000);
	sender = cJSON_AddObjectToObject(msg, "sender");
	cJSON_AddStringToObject(sender, "user", senders[who].user);
	cJSON_AddNumberToObject(sender, "deviceId", senders[who].device);
	proto_add_b64(sender, "identityKey", from.sign_pk, 32);
	proto_add_b64(sender, "exchangeKey", from.x_pk, 32);
	proto_add_b64(sender, "exchangeKeySig", from.x_sig, 64);
	proto_add_b64(msg, "nonce", nonce, sizeof nonce);
	proto_add_b64(msg, "ciphertext", ct, ct_len);
	free(ct);
	if ((text = cJSON_PrintUnformatted(msg)) != NULL)
		session_on_frame(c, text, strlen(text));
	free(text);
	cJSON_Delete(msg);
	e2e_identity_wipe(&from);
}

static void
frames(const uint8_t *data, size_t size)
{
	while (size > 0) {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t n = nl ? (size_t)(nl - data) : size;
		char *frame = malloc(n ? n : 1);

		/* An exact copy: ASan sees any read past the frame. */
		if (frame == NULL)
			return;
		memcpy(frame, data, n);
		session_on_frame(c, frame, n);
		free(frame);
		data += nl ? n + 1 : n;
		size -= nl ? n + 1 : n;
	}
}

static void
keys_reply(struct chat_client *cl, struct op *op, const cJSON *reply, int err)
{
	if (err == CHAT_OK)
		err = directory_apply(cl, reply);
	op_finish(cl, op, err, NULL);
}

/* A getKeys under way, as chat_refresh_keys() starts one (without its
 * connecting, which the target cannot). */
static void
ask_keys(void)
{
	static char *users[] = {"alice", "carol", "dave"};
	struct op *op = op_new(c, OP_KEYS, NULL, NULL);

	if (op != NULL && directory_request(c, op, users, 3, keys_reply) != CHAT_OK)
		op_finish(c, op, CHAT_ERR_NOMEM, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	c->state = CHAT_STATE_ONLINE;
	c->next_req_id = 1;
	switch (data[0] % 4) {
	case 0: frames(data + 1, size - 1); break;
	case 1: sealed_push(data + 1, size - 1, 0); break;
	case 2: sealed_push(data + 1, size - 1, 1); break;
	default:
		ask_keys();
		frames(data + 1, size - 1);
		break;
	}
	/* What a connection would leave behind: no requests, acks or ops carry
	 * over to the next input. */
	ops_fail_all(c, CHAT_ERR_CONNECTION_LOST);
	session_forget_requests(c);
	events_forget_connection(c);
	c->closing = 0;
	c->drained = 0;
	c->linking = 0;
	if (data[0] % 4 == 0 || data[0] % 4 == 3)
		repin();
	return 0;
}
