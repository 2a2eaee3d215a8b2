/*
 * send.c - sending one message: chat_send_text(), and the send op every
 * message goes out by (outbox.c's replays and media.c's files too). A send
 * learns the chat's members (getChat) and their devices' keys (getKeys) when
 * this device does not know them, seals one envelope per device, and sends
 * them in one sendMessage under the message's id, which the client draws:
 * a send that goes again after a lost reply is recognised by the server.
 * The message is in the store (pending) before anything goes out, and is
 * marked sent when the server has committed it, or failed when it refused.
 */
#include "internal.h"
#include "attach.h"
#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

/* A send retries after device_mismatch with a fresh directory this many times. */
#define SEND_ATTEMPTS 3

static int send_step(struct chat_client *c, struct op *op);
static void release_ready(struct chat_client *c, const char *chat_id);

int
send_add_envelope(struct chat_client *c, cJSON *arr, const char *user, uint32_t device,
		  const uint8_t *ct, size_t len)
{
	cJSON *env = cJSON_CreateObject();

	/* Stage 2: no nonce (the ratchet's or the sender key's message key gives it). */
	if (env == NULL || !cJSON_AddItemToArray(arr, env)) {
		cJSON_Delete(env);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	if (!cJSON_AddStringToObject(env, "user", user) ||
	    !cJSON_AddNumberToObject(env, "deviceId", device) ||
	    proto_add_b64(env, "ciphertext", ct, len))
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	return CHAT_OK;
}

/* Builds one envelope per active device of a user, but ours. */
struct envelope_ctx {
	struct chat_client *c;
	const char *chat_id, *id;
	cJSON *arr;
	const uint8_t *body;
	size_t body_len;
	int skip_changed;
	int err;
};

static int
add_envelope(void *arg, const char *user, uint32_t device, const struct store_peer *p)
{
	struct envelope_ctx *e = arg;
	struct chat_client *c = e->c;
	uint8_t *ct = NULL;
	size_t ct_len = 0;

	if (strcmp(user, c->user) == 0 && device == c->device_id)
		return 0;
	if (p->has_pending && e->skip_changed)
		return 0;
	if (p->has_pending) {
		e->err = client_fail_key(c, user,
					 "the identity key of %s's device %u changed; nothing was "
					 "sent",
					 user, device);
		return 1;
	}
	if (e2e_sealed_len(e->body_len) == 0) {
		/* The callers bound what they build; this is the last line. */
		e->err = client_fail(c, CHAT_ERR_TOO_LARGE,
				     "a message of %zu bytes does not fit one envelope",
				     e->body_len);
		return 1;
	}
	e->err = pairwise_encrypt(c, e->chat_id, e->id, user, device, p->exchange_key, e->body,
				  e->body_len, &ct, &ct_len);
	if (e->err == CHAT_OK)
		e->err = send_add_envelope(c, e->arr, user, device, ct, ct_len);
	free(ct);
	return e->err != CHAT_OK;
}

int
send_envelopes(struct chat_client *c, cJSON *arr, const char *chat_id, const char *id,
	       const char *user, const uint8_t *body, size_t len, int skip_changed)
{
	struct envelope_ctx e = {c, chat_id, id, arr, body, len, skip_changed, CHAT_OK};

	if (store_peer_each(&c->store, user, add_envelope, &e, NULL) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return e.err;
}

/* The plaintext of a text message: kind 0x01, then the UTF-8 text; with files,
 * kind 0x03 and the JSON that carries their keys; a reply, 0x05, a reaction,
 * 0x06, JSON too (PROTOCOL.md). NULL with the reason said (CHAT_ERR_TOO_LARGE)
 * when a JSON body cannot be built. */
static uint8_t *
message_body(struct chat_client *c, const struct op *op, size_t *len)
{
	uint8_t *b;

	if (op->prefs || op->history) {
		/* The JSON prefs.c built (prefs_body_build), as it was stored;
		 * or a history batch (history.c): its JSON was built and bounded
		 * when it was written. */
		if ((b = malloc(op->text_len + 1)) == NULL)
			return NULL;
		b[0] = op->prefs ? PROTO_BODY_PREFS : PROTO_BODY_HISTORY;
		memcpy(b + 1, op->text, op->text_len);
		*len = op->text_len + 1;
		return b;
	}
	if (op->timer) {
		char err[256];

		b = timer_body_build(strtoll(op->text, NULL, 10), len, err, sizeof err);
		if (b == NULL)
			client_fail(c, CHAT_ERR_INVALID, "%s", err);
		return b;
	}
	if (op->n_atts > 0 || op->reaction || op->reply_to[0] != '\0') {
		char err[256];

		if (op->change)
			b = change_body_build((uint8_t)op->change, op->reply_to, op->text,
					      op->text_len, len, err, sizeof err);
		else if (op->reaction)
			b = reaction_body_build(op->reply_to, op->text, len, err, sizeof err);
		else if (op->reply_to[0] != '\0')
			b = reply_body_build(op->text, op->text_len, op->reply_to, op->reply_sender,
					     op->reply_preview, len, err, sizeof err);
		else
			b = attach_body_build(op->text, op->atts, op->n_atts, len, err, sizeof err);
		if (b == NULL)
			client_fail(c, CHAT_ERR_TOO_LARGE, "%s", err);
		return b;
	}
	b = malloc(op->text_len + 1);

	if (b == NULL)
		return NULL;
	b[0] = PROTO_BODY_TEXT;
	memcpy(b + 1, op->text, op->text_len);
	*len = op->text_len + 1;
	return b;
}

static void
sent(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	int64_t seq, at;
	int was_pending = 0;

	if (err == CHAT_ERR_REFUSED && strcmp(c->server_code, "device_mismatch") == 0 &&
	    op->attempts < SEND_ATTEMPTS) {
		/* The chat's devices changed, or its members did and this device has
		 * not heard yet: read both again and encrypt again. */
		store_free_list(op->users, op->n_users);
		op->users = NULL;
		op->n_users = 0;
		op->fresh_chat = 0;
		op->on_wire = 0; /* and newer sends of the chat wait for it again */
		err = send_step(c, op);
		if (err != CHAT_OK)
			op_finish(c, op, err, NULL);
		return;
	}
	if (err == CHAT_OK && (proto_get_int(reply, "seq", 1, INT64_MAX / 2, &seq) != 0 ||
			       proto_get_int(reply, "sentAt", 0, INT64_MAX / 2, &at) != 0))
		err = client_fail(c, CHAT_ERR_PROTOCOL,
				  "the server's send reply has no seq or time");
	if (err == CHAT_OK)
		err = group_sent(c, op);
	if (err == CHAT_OK && op->history) {
		char state[16];

		was_pending = store_unsent_state(&c->store, op->message_id, state, sizeof state) == 1;
	}
	if (err == CHAT_OK && store_message_sent(&c->store, op->message_id, seq, at) != 0)
		err = client_fail(c, CHAT_ERR_STORE, "sent, but cannot record it: %s",
				  c->store.err);
	/* A reaction takes its place among the others by the seq it got. */
	if (err == CHAT_OK && op->reaction &&
	    store_reaction_put(&c->store, op->reply_to, c->user, op->chat_id, op->text, seq,
			       op->message_id) != 0)
		err = client_fail(c, CHAT_ERR_STORE, "sent, but cannot record it: %s",
				  c->store.err);
	/* A timer change rules the chat from its seq on; a message expires by
	 * the change in force at its seq. */
	if (err == CHAT_OK &&
	    (op->timer ? store_timer_refresh(&c->store, op->chat_id)
		       : store_timer_message(&c->store, op->chat_id, op->message_id)) != 0)
		err = client_fail(c, CHAT_ERR_STORE, "sent, but cannot record it: %s",
				  c->store.err);
	/* An edit or delete, sent: its sentAt judges it now (the window). */
	if (err == CHAT_OK && op->change && changes_apply(c, op->reply_to) < 0)
		err = client_fail(c, CHAT_ERR_STORE, "sent, but cannot apply it: %s", c->store.err);
	/* A history batch the server has: the sync's progress. */
	if (err == CHAT_OK && op->history)
		history_sent(c, op->message_id, op->text, was_pending);
	err = chats_no_such(c, err, op->chat_id);
	op_finish(c, op, err, op->message_id);
}

static int
encrypt_and_send(struct chat_client *c, struct op *op)
{
	cJSON *req = request_new("sendMessage"), *arr;
	size_t body_len = 0;
	uint8_t *body = message_body(c, op, &body_len);
	int rc = CHAT_OK;

	int64_t ttl = 0;

	arr = req ? cJSON_AddArrayToObject(req, "envelopes") : NULL;
	if (body == NULL && op->timer)
		rc = CHAT_ERR_INVALID; /* message_body said why */
	else if (body == NULL && (op->n_atts > 0 || op->reaction || op->reply_to[0] != '\0'))
		rc = CHAT_ERR_TOO_LARGE; /* message_body said why */
	else if (arr == NULL || body == NULL ||
		 !cJSON_AddStringToObject(req, "chatId", op->chat_id) ||
		 !cJSON_AddStringToObject(req, "messageId", op->message_id))
		rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	/* In a chat with a timer, the server keeps it no longer than that. Not a
	 * timer change: a device offline longer must still learn of it. */
	if (rc == CHAT_OK && !op->timer && !op->history &&
	    (ttl = store_timer_for_send(&c->store, op->chat_id, op->message_id)) < 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == CHAT_OK && ttl > 0 && !cJSON_AddNumberToObject(req, "ttl", (double)ttl))
		rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	/* The blobs it refers to: the server checks they arrived, and lets the
	 * chat's members fetch them. */
	if (rc == CHAT_OK && op->n_atts > 0) {
		cJSON *blobs = cJSON_AddArrayToObject(req, "blobs");

		for (size_t i = 0; blobs != NULL && i < op->n_atts; i++)
			if (!cJSON_AddItemToArray(blobs, cJSON_CreateString(op->atts[i].blob_id)))
				blobs = NULL;
		if (blobs == NULL)
			rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	/* The sessions' new states land in one transaction, before anything
	 * encrypted with them can leave (a request waits for the commit). */
	if (rc == CHAT_OK && store_begin(&c->store) != 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	else if (rc == CHAT_OK) {
		int group = store_chat_is_group(&c->store, op->chat_id);

		/* A group's message is encrypted once, under this device's
		 * sender key; a direct chat's, once per device. */
		if (group < 0)
			rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		else if (group)
			rc = group_envelopes(c, op, arr, body, body_len);
		for (size_t i = 0; !group && rc == CHAT_OK && i < op->n_users; i++)
			rc = send_envelopes(c, arr, op->chat_id, op->message_id, op->users[i],
					    body, body_len, 0);
		if (rc == CHAT_OK && store_commit(&c->store) != 0)
			rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		else if (rc != CHAT_OK)
			store_rollback(&c->store);
	}
	/* No other device in the chat (notes to self on the user's only
	 * device): the server takes the message with no envelope, for its
	 * place in the chat; not with files, which nobody could fetch. */
	if (rc == CHAT_OK && cJSON_GetArraySize(arr) == 0 && op->n_atts > 0)
		rc = client_fail(c, CHAT_ERR_INVALID,
				 "nobody else in this chat to send files to: the message was not sent");
	/* Any other chat with nobody to send to (a group everyone else left)
	 * is refused here, with why, as before notes to self. */
	if (rc == CHAT_OK && cJSON_GetArraySize(arr) == 0 &&
	    !(op->n_users == 1 && strcmp(op->users[0], c->user) == 0 &&
	      store_chat_is_group(&c->store, op->chat_id) == 0))
		rc = client_fail(c, CHAT_ERR_INVALID,
				 "nobody else in this chat: the message was not sent");
	if (body != NULL) {
		sodium_memzero(body, body_len);
		free(body);
	}
	if (rc != CHAT_OK) {
		cJSON_Delete(req);
		return rc;
	}
	op->attempts++;
	return session_request(c, req, sent, op, 0);
}

/* The oldest send of chat_id in this session that has not gone out yet (it
 * is fetching the chat or keys, or ready and waiting), or NULL. */
static struct op *
oldest_unsent(const struct chat_client *c, const char *chat_id)
{
	struct op *oldest = NULL;

	for (struct op *op = c->ops; op != NULL; op = op->next)
		if (op->kind == OP_SEND && !op->held && !op->on_wire &&
		    strcmp(op->chat_id, chat_id) == 0 &&
		    (oldest == NULL || op->turn < oldest->turn))
			oldest = op;
	return oldest;
}

/*
 * Sends go out in the order they were written, per chat, since the server
 * numbers them in the order they come. A send may need a getChat or getKeys
 * reply before it can be encrypted, and one that does not would overtake it:
 * after a reconnection the first pending message asks for keys, the keys
 * come, and a message written meanwhile went out before the other pending
 * ones. So a send that is ready waits while an older send of its chat has
 * not gone out, and goes when that one does (or ends).
 *
 * In its turn, a send first makes sure of a session with every device it
 * goes to (pairwise.c; a prekey bundle from the server where there is
 * none), then is encrypted and goes. Only the send whose turn it is asks
 * for bundles: the ones after it find the sessions it started.
 */
static void send_sessions(struct chat_client *c, struct op *op, const cJSON *reply, int err);

/* op's turn: CHAT_OK with op on the wire, or waiting for bundles (not on
 * the wire, not ready); or an error (the caller ends op). */
static int
send_go(struct chat_client *c, struct op *op)
{
	int rc = pairwise_ensure(c, op, op->users, op->n_users, send_sessions);

	if (rc == 1)
		return CHAT_OK;
	if (rc == 0 && (rc = encrypt_and_send(c, op)) == CHAT_OK)
		op->on_wire = 1;
	return rc;
}

static int
send_in_turn(struct chat_client *c, struct op *op)
{
	int rc;

	if (oldest_unsent(c, op->chat_id) != op) {
		op->ready = 1;
		return CHAT_OK;
	}
	op->ready = 0;
	if ((rc = send_go(c, op)) != CHAT_OK)
		return rc;
	if (op->on_wire)
		release_ready(c, op->chat_id);
	return CHAT_OK;
}

/* The bundles op waited for are in (or could not be had): on, in turn. */
static void
send_sessions(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	(void)reply;
	if (err == CHAT_OK && (err = encrypt_and_send(c, op)) == CHAT_OK) {
		op->on_wire = 1;
		release_ready(c, op->chat_id);
		return;
	}
	op_finish(c, op, err, NULL);
}

/* Sends the waiting sends of chat_id that are next in turn. */
static void
release_ready(struct chat_client *c, const char *chat_id)
{
	struct op *op;

	/* Not while the connection is going away: the sends are held or failed. */
	while (c->has_conn && c->state == CHAT_STATE_ONLINE &&
	       (op = oldest_unsent(c, chat_id)) != NULL && op->ready) {
		int rc;

		op->ready = 0;
		if ((rc = send_go(c, op)) != CHAT_OK)
			op_finish(c, op, rc, NULL);
		else if (!op->on_wire)
			break; /* waits for its bundles; send_sessions goes on */
	}
}

/*
 * A send the server never committed (it refused, or we refused to encrypt)
 * is failed; one cut off by the network stays pending: it may have landed.
 * So does one the server only asked to slow down (rate_limited), or could
 * not take for want of its store (unavailable): the outbox sends it again
 * on the next connection. A failed send tells its id all the
 * same: the message is in the store (pending or failed), and the caller may
 * want to retry or discard it.
 */
static int
send_end(struct chat_client *c, struct op *op, int err, const char **id)
{
	/* A history batch is nobody's message: it waits and goes again
	 * (history.c), since the new device may not be ready for it yet. */
	if (op->history && err != CHAT_OK && history_failed(c, err)) {
		*id = op->message_id;
		return err;
	}
	if (err != CHAT_OK && err != CHAT_ERR_CONNECTION_LOST && err != CHAT_ERR_TIMEOUT &&
	    err != CHAT_ERR_CONNECT &&
	    !(err == CHAT_ERR_REFUSED && (strcmp(c->server_code, "rate_limited") == 0 ||
					  strcmp(c->server_code, "unavailable") == 0))) {
		if (store_message_set_state(&c->store, op->message_id, "failed") != 0) {
			char why[sizeof c->errmsg];

			/* Said with the reason it failed: pending, it goes again. */
			snprintf(why, sizeof why, "%s", c->errmsg);
			err = client_fail(c, CHAT_ERR_STORE,
					  "%s; and the store cannot mark it failed (it stays "
					  "pending, and goes again): %s",
					  why, c->store.err);
		}
		/* An outbox send has no caller waiting: tell the application. */
		if (op->outbox && c->cbs.on_send_failed)
			c->cbs.on_send_failed(c, c->udata, op->chat_id, op->message_id, err,
					      c->errmsg);
	}
	if (err != CHAT_OK)
		*id = op->message_id;
	return err;
}

/* A send that never went out no longer holds back the newer ones. */
static void
send_ended(struct chat_client *c, struct op *op)
{
	release_ready(c, op->chat_id);
}

struct op *
send_op_new(struct chat_client *c, chat_done_cb done, void *arg)
{
	struct op *op = op_new(c, OP_SEND, done, arg);

	if (op != NULL) {
		op->end = send_end;
		op->ended = send_ended;
	}
	return op;
}

static void
send_keys(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	if (err == CHAT_OK)
		err = directory_apply(c, reply);
	if (err == CHAT_OK)
		err = send_in_turn(c, op);
	if (err != CHAT_OK)
		op_finish(c, op, err, NULL);
}

static void
send_chat(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	char **members = NULL;
	size_t n = 0;

	err = chats_no_such(c, err, op->chat_id);
	if (err == CHAT_OK)
		err = chats_store(c, reply, &members, &n);
	store_free_list(members, n);
	op->fresh_chat = 1;
	if (err == CHAT_OK)
		err = send_step(c, op);
	if (err != CHAT_OK)
		op_finish(c, op, err, NULL);
}

/* Moves a send on: learn the chat's members, then their keys, then send. */
static int
send_step(struct chat_client *c, struct op *op)
{
	if (op->users == NULL) {
		int rc = store_chat_has_members(&c->store, op->chat_id);

		if (rc < 0)
			return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		if (rc == 0 || (op->attempts > 0 && !op->fresh_chat))
			return chats_request(c, op->chat_id, send_chat, op);
		if (store_chat_members(&c->store, op->chat_id, &op->users, &op->n_users) != 0)
			return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		/* Ask the directory on a retry, and whenever a member has no pinned device. */
		for (size_t i = 0; i < op->n_users; i++) {
			rc = store_peer_count(&c->store, op->users[i]);
			if (rc < 0)
				return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
			if (rc == 0 || op->attempts > 0)
				return directory_request(c, op, op->users, op->n_users, send_keys);
		}
	}
	return send_in_turn(c, op);
}

/* Starts (or restarts) a send from its first step: the chat and the keys may
 * have changed while the connection was away. On failure the caller ends op. */
static int
restart_send_step(struct chat_client *c, struct op *op)
{
	op->held = 0;
	store_free_list(op->users, op->n_users);
	op->users = NULL;
	op->n_users = 0;
	op->fresh_chat = 0;
	op->attempts = 0;
	op->ready = op->on_wire = 0;
	op->turn = ++c->send_turns; /* restarts come in the store's order */
	return send_step(c, op);
}

void
send_restart(struct chat_client *c, struct op *op)
{
	int rc = restart_send_step(c, op);

	if (rc != CHAT_OK)
		op_finish(c, op, rc, NULL);
}

struct op *
send_find(const struct chat_client *c, const char *message_id)
{
	for (struct op *op = c->ops; op != NULL; op = op->next)
		if (op->kind == OP_SEND && strcmp(op->message_id, message_id) == 0)
			return op;
	return NULL;
}

void
send_hold_all(struct chat_client *c)
{
	for (struct op *op = c->ops; op != NULL; op = op->next)
		if (op->kind == OP_SEND) {
			op->held = 1;
			op->ready = op->on_wire = 0;
			session_drop_op_requests(c, op);
		}
}

/* What a new message is besides its text: a reply's quote, or a reaction. */
struct send_extra {
	int reaction;
	int timer; /* a timer change: text its seconds */
	int change; /* PROTO_BODY_EDIT or PROTO_BODY_DELETE, or 0 */
	const char *reply_to, *reply_sender, *reply_preview;
	int prefs; /* chat settings: text the 0x0b body's JSON */
};

/* A new message of this user: stored (pending) and sent, or held for the
 * connection. text (len bytes) was checked by the caller. */
static int
send_new(struct chat_client *c, const char *chat_id, const char *text, size_t len,
	 const struct send_extra *x, char *message_id, chat_done_cb done, void *arg)
{
	uint8_t raw[CHAT_MESSAGE_ID_LEN / 2];
	struct chat_message m = {0};
	struct op *op;
	int rc;

	if ((rc = blocks_check_send(c, chat_id)) != CHAT_OK)
		return rc;
	op = send_op_new(c, done, arg);
	if (op == NULL || (op->text = malloc(len + 1)) == NULL) {
		if (op)
			op_finish(c, op, CHAT_ERR_NOMEM, NULL);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	memcpy(op->text, text, len);
	op->text[len] = '\0';
	op->text_len = len;
	snprintf(op->chat_id, sizeof op->chat_id, "%s", chat_id);
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(op->message_id, sizeof op->message_id, raw, sizeof raw);
	/* Into the store first: the message is the user's the moment they sent it. */
	m.chat_id = op->chat_id;
	m.message_id = op->message_id;
	m.sender = c->user;
	m.sender_device = c->device_id;
	m.text = op->text;
	m.text_len = len;
	m.outgoing = 1;
	m.state = "pending";
	if (x != NULL) {
		op->reaction = x->reaction;
		op->timer = x->timer;
		op->prefs = x->prefs;
		op->change = x->change;
		snprintf(op->reply_to, sizeof op->reply_to, "%s", x->reply_to);
		snprintf(op->reply_sender, sizeof op->reply_sender, "%s",
			 x->reply_sender ? x->reply_sender : "");
		snprintf(op->reply_preview, sizeof op->reply_preview, "%s",
			 x->reply_preview ? x->reply_preview : "");
		m.kind = x->prefs                         ? "prefs"
			 : x->timer                       ? "timer"
			 : x->change == PROTO_BODY_EDIT   ? "edit"
			 : x->change == PROTO_BODY_DELETE ? "delete"
			 : x->reaction                    ? "reaction"
							  : "text";
		m.reply_to = op->reply_to[0] ? op->reply_to : NULL;
		m.reply_sender = x->reaction || x->change ? NULL : op->reply_sender;
		m.reply_preview = x->reaction || x->change ? NULL : op->reply_preview;
	}
	/* The message and the sessions' states its envelopes need land in one
	 * commit, before this returns: the request is written by the loop,
	 * after it. A reaction shows at once, pending until it has a seq. */
	if (store_begin(&c->store) != 0)
		return op_launch(c, op, client_fail(c, CHAT_ERR_STORE, "%s", c->store.err));
	if (store_message_insert(&c->store, &m) < 0 ||
	    (op->reaction && store_reaction_pending(&c->store, op->reply_to, c->user, op->chat_id,
						    op->text, op->message_id) != 0) ||
	    (op->change && changes_apply(c, op->reply_to) < 0)) {
		store_rollback(&c->store);
		return op_launch(c, op, client_fail(c, CHAT_ERR_STORE, "%s", c->store.err));
	}
	/* Online: send now (the outbox went out when the session began). Not yet:
	 * wait, so that on connecting everything pending goes out in order. A
	 * send refused before anything went out (a key changed) keeps its
	 * message all the same: it is the user's (send_end marks it failed). */
	if (c->state == CHAT_STATE_ONLINE) {
		op->turn = ++c->send_turns;
		rc = send_step(c, op);
	} else {
		op->held = 1;
		rc = CHAT_OK;
	}
	if (store_commit(&c->store) != 0) {
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	} else if (message_id != NULL) {
		/* stored: the caller may need it even if connecting fails (the
		 * message is kept) */
		memcpy(message_id, op->message_id, CHAT_MESSAGE_ID_LEN + 1);
	}
	return op_launch(c, op, rc);
}

/* Checks a message's text as chat_send_text takes it. */
static int
check_text(struct chat_client *c, const char *text, size_t len)
{
	if (text == NULL || len == 0)
		return client_fail(c, CHAT_ERR_INVALID, "empty message; nothing was sent");
	if (len > CHAT_MAX_TEXT)
		return client_fail(c, CHAT_ERR_TOO_LARGE,
				   "message of %zu bytes is over the limit of "
				   "%d bytes; nothing was sent",
				   len, CHAT_MAX_TEXT);
	if (!proto_valid_utf8(text, len))
		return client_fail(c, CHAT_ERR_INVALID,
				   "message is not valid UTF-8 text (or contains "
				   "a NUL byte); nothing was sent");
	return CHAT_OK;
}

int
chat_send_text(struct chat_client *c, const char *chat_id, const char *text, size_t len,
	       char *message_id, chat_done_cb done, void *arg)
{
	int rc = client_check_registered(c);

	if (rc != CHAT_OK || (rc = chats_check_id(c, chat_id)) != CHAT_OK ||
	    (rc = check_text(c, text, len)) != CHAT_OK)
		return rc;
	return send_new(c, chat_id, text, len, NULL, message_id, done, arg);
}

/* What a reply quotes, or a reaction is on: a message (text or files) of
 * the chat in the store; its sender and preview. */
struct quoted {
	const char *chat_id;
	int found;
	char sender[CHAT_USER_MAX + 1];
	char preview[CHAT_REPLY_PREVIEW_MAX + 1];
};

static int
copy_quoted(void *arg, const struct chat_message *m)
{
	struct quoted *q = arg;
	size_t n = reply_preview_len(m->text, m->text_len);

	if (strcmp(m->chat_id, q->chat_id) != 0 || strcmp(m->kind, "text") != 0)
		return 0;
	q->found = 1;
	snprintf(q->sender, sizeof q->sender, "%s", m->sender);
	memcpy(q->preview, m->text, n);
	q->preview[n] = '\0';
	return 0;
}

static int
find_quoted(struct chat_client *c, const char *chat_id, const char *id, struct quoted *q)
{
	memset(q, 0, sizeof *q);
	q->chat_id = chat_id;
	if (!proto_valid_hex(id, CHAT_MESSAGE_ID_LEN))
		return client_fail(c, CHAT_ERR_INVALID,
				   "a message id is 32 lowercase hex digits; nothing was sent");
	if (store_message_get(&c->store, id, copy_quoted, q) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (!q->found)
		return client_fail(c, CHAT_ERR_INVALID,
				   "message %s is not in this chat's local history; nothing "
				   "was sent",
				   id);
	return CHAT_OK;
}

int
chat_send_reply(struct chat_client *c, const char *chat_id, const char *reply_to, const char *text,
		size_t len, char *message_id, chat_done_cb done, void *arg)
{
	struct send_extra x = {0};
	struct quoted q;
	int rc = client_check_registered(c);

	if (rc != CHAT_OK || (rc = chats_check_id(c, chat_id)) != CHAT_OK ||
	    (rc = check_text(c, text, len)) != CHAT_OK ||
	    (rc = find_quoted(c, chat_id, reply_to, &q)) != CHAT_OK)
		return rc;
	x.reply_to = reply_to;
	x.reply_sender = q.sender;
	x.reply_preview = q.preview;
	rc = send_new(c, chat_id, text, len, &x, message_id, done, arg);
	sodium_memzero(&q, sizeof q);
	return rc;
}

int
chat_react(struct chat_client *c, const char *chat_id, const char *message_id, const char *emoji,
	   char *reaction_id, chat_done_cb done, void *arg)
{
	struct send_extra x = {1, 0, 0, message_id, NULL, NULL, 0};
	struct quoted q;
	size_t len = emoji ? strnlen(emoji, CHAT_EMOJI_MAX + 1) : 0;
	int rc = client_check_registered(c);

	if (rc != CHAT_OK || (rc = chats_check_id(c, chat_id)) != CHAT_OK)
		return rc;
	if (emoji == NULL || !reaction_valid_emoji(emoji, len))
		return client_fail(c, CHAT_ERR_INVALID,
				   "a reaction is 1 to %d bytes of UTF-8 with no control "
				   "character (or \"\" to take it back); nothing was sent",
				   CHAT_EMOJI_MAX);
	if ((rc = find_quoted(c, chat_id, message_id, &q)) != CHAT_OK)
		return rc;
	sodium_memzero(&q, sizeof q);
	return send_new(c, chat_id, emoji, len, &x, reaction_id, done, arg);
}

static int
copy_stored(void *arg, const struct chat_message *m)
{
	struct op *op = arg;

	if ((op->text = malloc(m->text_len + 1)) == NULL)
		return 1;
	memcpy(op->text, m->text, m->text_len + 1);
	op->text_len = m->text_len;
	snprintf(op->chat_id, sizeof op->chat_id, "%s", m->chat_id);
	send_op_extra(op, m);
	return 0;
}

void
send_op_extra(struct op *op, const struct chat_message *m)
{
	op->reaction = strcmp(m->kind, "reaction") == 0;
	op->timer = strcmp(m->kind, "timer") == 0;
	op->prefs = strcmp(m->kind, "prefs") == 0;
	op->history = strcmp(m->kind, "history") == 0;
	op->change = strcmp(m->kind, "edit") == 0     ? PROTO_BODY_EDIT
		     : strcmp(m->kind, "delete") == 0 ? PROTO_BODY_DELETE
						      : 0;
	if (m->reply_to != NULL) {
		snprintf(op->reply_to, sizeof op->reply_to, "%s", m->reply_to);
		snprintf(op->reply_sender, sizeof op->reply_sender, "%s", m->reply_sender);
		snprintf(op->reply_preview, sizeof op->reply_preview, "%s", m->reply_preview);
	}
}

/* Sends a message already in the store as pending (one whose files are all
 * uploaded), done reporting it as chat_send_text's would: now if online, else
 * with the outbox when the connection comes. */
int
send_stored(struct chat_client *c, const char *message_id, chat_done_cb done, void *arg)
{
	struct op *op = send_op_new(c, done, arg);
	int rc;

	if (op == NULL)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	snprintf(op->message_id, sizeof op->message_id, "%s", message_id);
	if (store_message_get(&c->store, message_id, copy_stored, op) != 1 || op->text == NULL ||
	    store_attachments(&c->store, message_id, &op->atts, NULL, &op->n_atts) != 0) {
		op->done = NULL;
		op_finish(c, op, CHAT_ERR_STORE, NULL);
		return client_fail(c, CHAT_ERR_STORE, "cannot read back message %s", message_id);
	}
	if (c->state != CHAT_STATE_ONLINE) {
		op->held = 1;
		return CHAT_OK;
	}
	/* A send that fails before anything went out (a recipient's key changed)
	 * fails the call, as in chat_send_text: done is not called for it. */
	if ((rc = restart_send_step(c, op)) != CHAT_OK) {
		op->done = NULL;
		op_finish(c, op, rc, NULL);
	}
	return rc;
}

int
send_busy(const struct chat_client *c, const char *message_id)
{
	return send_find(c, message_id) != NULL;
}

/* What an edit or delete for everyone may change: a message (text or files)
 * of the chat in the store, written by this user, not deleted. */
struct own_target {
	const char *chat_id;
	const char *user;
	int found, mine, deleted;
	int64_t sent_at;
};

static int
copy_target(void *arg, const struct chat_message *m)
{
	struct own_target *t = arg;

	if (strcmp(m->chat_id, t->chat_id) != 0 || strcmp(m->kind, "text") != 0)
		return 0;
	t->found = 1;
	t->mine = strcmp(m->sender, t->user) == 0;
	t->deleted = m->deleted;
	t->sent_at = m->sent_at;
	return 0;
}

static int
send_change(struct chat_client *c, int change, const char *chat_id, const char *message_id,
	    const char *text, size_t len, char *change_id, chat_done_cb done, void *arg)
{
	struct send_extra x = {0, 0, change, message_id, NULL, NULL, 0};
	struct own_target t = {chat_id, c->user, 0, 0, 0, 0};
	const char *what = change == PROTO_BODY_EDIT ? "edit" : "delete";
	int rc = client_check_registered(c);

	if (rc != CHAT_OK || (rc = chats_check_id(c, chat_id)) != CHAT_OK)
		return rc;
	if (change == PROTO_BODY_EDIT && (rc = check_text(c, text, len)) != CHAT_OK)
		return rc;
	if (!proto_valid_hex(message_id, CHAT_MESSAGE_ID_LEN))
		return client_fail(c, CHAT_ERR_INVALID,
				   "a message id is 32 lowercase hex digits; nothing was sent");
	if (store_message_get(&c->store, message_id, copy_target, &t) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (!t.found)
		return client_fail(c, CHAT_ERR_INVALID,
				   "message %s is not in this chat's local history; nothing "
				   "was sent",
				   message_id);
	if (!t.mine)
		return client_fail(c, CHAT_ERR_INVALID,
				   "message %s is not yours: only its sender can %s it for "
				   "everyone; nothing was sent",
				   message_id, what);
	if (t.deleted)
		return client_fail(c, CHAT_ERR_INVALID,
				   "message %s is deleted already; nothing was sent", message_id);
	if (change == PROTO_BODY_DELETE && t.sent_at > 0 &&
	    proto_now_ms() > t.sent_at + PROTO_DELETE_WINDOW_MS)
		return client_fail(c, CHAT_ERR_INVALID,
				   "message %s was sent over 48 hours ago: it can be deleted "
				   "for everyone only within 48 hours (delete it for you "
				   "instead); nothing was sent",
				   message_id);
	return send_new(c, chat_id, change == PROTO_BODY_EDIT ? text : "",
			change == PROTO_BODY_EDIT ? len : 0, &x, change_id, done, arg);
}

int
chat_edit(struct chat_client *c, const char *chat_id, const char *message_id, const char *text,
	  size_t len, char *edit_id, chat_done_cb done, void *arg)
{
	return send_change(c, PROTO_BODY_EDIT, chat_id, message_id, text, len, edit_id, done, arg);
}

int
chat_delete_for_everyone(struct chat_client *c, const char *chat_id, const char *message_id,
			 char *delete_id, chat_done_cb done, void *arg)
{
	return send_change(c, PROTO_BODY_DELETE, chat_id, message_id, NULL, 0, delete_id, done,
			   arg);
}

int
send_timer(struct chat_client *c, const char *chat_id, long long seconds, char *change_id,
	   chat_done_cb done, void *arg)
{
	struct send_extra x = {0};
	char text[24];
	int n = snprintf(text, sizeof text, "%lld", seconds);

	x.timer = 1;
	x.reply_to = "";
	return send_new(c, chat_id, text, (size_t)n, &x, change_id, done, arg);
}

int
send_prefs(struct chat_client *c, const char *chat_id, const char *json, size_t json_len)
{
	struct send_extra x = {0};

	x.prefs = 1;
	x.reply_to = "";
	return send_new(c, chat_id, json, json_len, &x, NULL, NULL, NULL);
}
