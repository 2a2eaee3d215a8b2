/*
 * receipts.c - delivered and read receipts (PROTOCOL.md, "Receipts").
 *
 * A device owes a delivered receipt for every message it stores, and a read
 * receipt for every message chat_mark_read() covers. What is owed waits in the
 * store's receipt_outbox (in the same transaction as the message, or the
 * marking), so a crash or a dropped connection loses none: any session on this
 * home sends them, one batch at a time, each batch one sendReceipt to one
 * sender's devices (and, for read, this user's other devices), end-to-end
 * encrypted like a message. Receiving one updates the message's state.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <sodium.h>

/* A batch retries after device_mismatch with a fresh directory this many times. */
#define RECEIPT_ATTEMPTS 2

void
receipts_due(struct chat_client *c, int delay_ms)
{
	int64_t at = session_now(c) + delay_ms;

	if (c->receipts_due && c->receipts_at <= at)
		return; /* due as soon already */
	c->receipts_due = 1;
	c->receipts_at = at;
	if (delay_ms <= 0)
		session_want_write(c);
	else
		session_wake_at(c, at);
}

/* ---- sending --------------------------------------------------------------- */

static int receipt_send(struct chat_client *c, struct op *op);
static void receipt_keys(struct chat_client *c, struct op *op, const cJSON *reply, int err);

/* The plaintext: kind, status, time (big-endian ms), then the raw ids. */
static int
receipt_body(struct op *op, const struct store_receipt_batch *b)
{
	size_t len = PROTO_RECEIPT_HEAD + b->n * PROTO_RECEIPT_ID_BYTES;
	uint8_t *p = malloc(len);
	uint64_t at = (uint64_t)b->at;

	if (p == NULL)
		return CHAT_ERR_NOMEM;
	p[0] = PROTO_BODY_RECEIPT;
	p[1] = (uint8_t)b->status;
	for (int i = 0; i < 8; i++)
		p[2 + i] = (uint8_t)(at >> (56 - 8 * i));
	for (size_t i = 0; i < b->n; i++)
		if (sodium_hex2bin(p + PROTO_RECEIPT_HEAD + i * PROTO_RECEIPT_ID_BYTES,
				   PROTO_RECEIPT_ID_BYTES, b->ids[i], CHAT_MESSAGE_ID_LEN, NULL,
				   NULL, NULL) != 0) {
			free(p);
			return CHAT_ERR_INVALID;
		}
	op->text = (char *)p;
	op->text_len = len;
	return CHAT_OK;
}

/* The batch back from the op's body, to drop it from the outbox. */
static void
batch_of(const struct op *op, struct store_receipt_batch *b)
{
	const uint8_t *p = (const uint8_t *)op->text;

	b->status = p[1];
	b->n = (op->text_len - PROTO_RECEIPT_HEAD) / PROTO_RECEIPT_ID_BYTES;
	for (size_t i = 0; i < b->n; i++)
		sodium_bin2hex(b->ids[i], CHAT_MESSAGE_ID_LEN + 1,
			       p + PROTO_RECEIPT_HEAD + i * PROTO_RECEIPT_ID_BYTES,
			       PROTO_RECEIPT_ID_BYTES);
}

/* The batch is settled (taken by the server, or undeliverable for good). */
static int
batch_done(struct chat_client *c, struct op *op)
{
	char(*ids)[CHAT_MESSAGE_ID_LEN + 1] = malloc(PROTO_MAX_RECEIPT_IDS * sizeof *ids);
	struct store_receipt_batch b = {.ids = ids};
	int rc = CHAT_OK;

	if (ids == NULL)
		return CHAT_ERR_NOMEM;
	batch_of(op, &b);
	if (store_receipt_done(&c->store, &b) != 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	free(ids);
	return rc;
}

static void
receipt_sent(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	(void)reply;
	if (err == CHAT_ERR_REFUSED && strcmp(c->server_code, "device_mismatch") == 0 &&
	    op->attempts < RECEIPT_ATTEMPTS) {
		/* A device is gone, or the sender left: ask the directory again. */
		char *users[2] = {op->user, c->user};

		err = directory_request(c, op, users, 2, receipt_keys);
		if (err != CHAT_OK)
			op_finish(c, op, err, NULL);
		return;
	}
	/* Taken; or refused for good (we or the sender left the chat, the
	 * sender's devices are all gone): either way nothing more can be done
	 * with it. Lost connections and rate limits keep it owed. */
	if (err == CHAT_OK ||
	    (err == CHAT_ERR_REFUSED && (strcmp(c->server_code, "no_such_chat") == 0 ||
					 strcmp(c->server_code, "device_mismatch") == 0 ||
					 strcmp(c->server_code, "bad_request") == 0))) {
		err = batch_done(c, op);
		if (err == CHAT_OK)
			receipts_due(c, 0); /* the next batch, if any */
	}
	op_finish(c, op, err, NULL);
}

static void
receipt_keys(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	if (err == CHAT_OK)
		err = directory_apply(c, reply);
	if (err == CHAT_OK)
		err = receipt_send(c, op);
	if (err != CHAT_OK)
		op_finish(c, op, err, NULL);
}

static int
receipt_encrypt_send(struct chat_client *c, struct op *op)
{
	cJSON *req = request_new("sendReceipt"), *arr;
	int rc = CHAT_OK;

	arr = req ? cJSON_AddArrayToObject(req, "envelopes") : NULL;
	if (arr == NULL || !cJSON_AddStringToObject(req, "chatId", op->chat_id) ||
	    !cJSON_AddStringToObject(req, "receiptId", op->message_id))
		rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	/* The sessions' states, durable before the request can leave. */
	if (rc == CHAT_OK && store_begin(&c->store) != 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	else if (rc == CHAT_OK) {
		/* None to a user this one blocked (PROTOCOL.md, "Blocking"):
		 * a read of their older messages tells them nothing. */
		if (!blocks_has(c, op->user))
			rc = send_envelopes(c, arr, op->chat_id, op->message_id, op->user,
					    (const uint8_t *)op->text, op->text_len, 1);
		/* This user's other devices get it too: a read makes them show
		 * the messages read. A delivered one tells them nothing new, but
		 * goes all the same, so that who gets a receipt (which the server
		 * sees) does not say which kind it is (which only the devices see). */
		if (rc == CHAT_OK)
			rc = send_envelopes(c, arr, op->chat_id, op->message_id, c->user,
					    (const uint8_t *)op->text, op->text_len, 1);
		if (rc == CHAT_OK && store_commit(&c->store) != 0)
			rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		else if (rc != CHAT_OK)
			store_rollback(&c->store);
	}
	if (rc == CHAT_OK && cJSON_GetArraySize(arr) == 0) {
		/* Nobody to tell (no device of theirs is trusted): settled. */
		cJSON_Delete(req);
		rc = batch_done(c, op);
		if (rc == CHAT_OK)
			receipts_due(c, 0);
		op_finish(c, op, rc, NULL);
		return CHAT_OK;
	}
	if (rc != CHAT_OK) {
		cJSON_Delete(req);
		return rc;
	}
	op->attempts++;
	return session_request(c, req, receipt_sent, op, 0);
}

/* The sessions are there, or cannot be made: a receipt for devices that
 * cannot read stage 2 (or whose prekeys are forged) can never go, and is
 * settled rather than tried for ever. */
static void
receipt_sessions(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	(void)reply;
	if (err == CHAT_OK) {
		err = receipt_encrypt_send(c, op);
	} else if (err == CHAT_ERR_UNSUPPORTED || err == CHAT_ERR_BAD_KEY) {
		if (batch_done(c, op) == CHAT_OK)
			receipts_due(c, 0);
	}
	if (err != CHAT_OK)
		op_finish(c, op, err, NULL);
}

/* Sessions with every device it goes to first (pairwise.c), then it goes. */
static int
receipt_send(struct chat_client *c, struct op *op)
{
	char *users[2] = {op->user, c->user};
	int rc = pairwise_ensure(c, op, users, 2, receipt_sessions);

	if (rc == 0)
		return receipt_encrypt_send(c, op);
	return rc == 1 ? CHAT_OK : rc;
}

static struct op *
receipt_op(const struct chat_client *c)
{
	for (struct op *op = c->ops; op != NULL; op = op->next)
		if (op->kind == OP_RECEIPT)
			return op;
	return NULL;
}

void
receipts_flush(struct chat_client *c)
{
	char(*ids)[CHAT_MESSAGE_ID_LEN + 1];
	struct store_receipt_batch b;
	uint8_t raw[CHAT_MESSAGE_ID_LEN / 2];
	struct op *op;
	int rc;

	/* Not while received messages wait for their commit: the delivered
	 * receipts they owe are not durable yet (receive_settle calls again). */
	if (!c->receipts_due || c->state != CHAT_STATE_ONLINE || receipt_op(c) != NULL ||
	    c->store.batch)
		return;
	if (session_now(c) < c->receipts_at) {
		/* Timers may fire a little early: look again when it is due. */
		session_wake_at(c, c->receipts_at + 1);
		return;
	}
	c->receipts_due = 0;
	if ((ids = malloc(PROTO_MAX_RECEIPT_IDS * sizeof *ids)) == NULL)
		return;
	b.ids = ids;
	rc = store_receipt_next(&c->store, &b, PROTO_MAX_RECEIPT_IDS);
	if (rc <= 0 || b.n == 0) {
		if (rc < 0)
			client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		free(ids);
		return;
	}
	op = op_new(c, OP_RECEIPT, NULL, NULL);
	if (op == NULL) {
		free(ids);
		return;
	}
	snprintf(op->chat_id, sizeof op->chat_id, "%s", b.chat_id);
	snprintf(op->user, sizeof op->user, "%s", b.to_user);
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(op->message_id, sizeof op->message_id, raw, sizeof raw);
	rc = receipt_body(op, &b);
	free(ids);
	if (rc == CHAT_OK)
		rc = receipt_send(c, op);
	if (rc != CHAT_OK)
		op_finish(c, op, rc, NULL);
}

int
chat_mark_read(struct chat_client *c, const char *chat_id)
{
	int rc = client_check_registered(c), n;

	if (rc != CHAT_OK || (rc = chats_check_local(c, chat_id)) != CHAT_OK)
		return rc;
	if (store_begin(&c->store) != 0 ||
	    (n = store_mark_read(&c->store, chat_id, NULL, c->user, 1, proto_now_ms())) < 0 ||
	    store_commit(&c->store) != 0) {
		store_rollback(&c->store);
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	}
	if (n > 0)
		receipts_due(c, 0); /* the user acted: at once */
	return n;
}

int
chat_receipts_pending(struct chat_client *c)
{
	int rc = store_receipts_pending(&c->store);

	return rc < 0 ? client_fail(c, CHAT_ERR_STORE, "%s", c->store.err) : rc;
}

/* ---- receiving --------------------------------------------------------------- */

/* What a receipt changed, told to the application once it is committed. */

/* One message id of a receipt from (user, device): 1 news (*out filled), 0
 * nothing new, -1 error. */
static int
apply_one(struct chat_client *c, const char *chat_id, const char *message_id, const char *user,
	  uint32_t device, int status, int64_t at, struct receipt_news *out)
{
	struct store_brief m;
	int rc = store_message_brief(&c->store, message_id, &m);

	/* Only about a message of that chat we have; others are ignored (this
	 * device may have joined after it, or the sender lies). */
	if (rc <= 0 || strcmp(m.chat_id, chat_id) != 0 || !m.is_text)
		return rc < 0 ? -1 : 0;
	/* A device could not read one of our messages: news, but no status
	 * of the message (it is not less delivered than it was). */
	if (status == CHAT_RECEIPT_UNDECRYPTABLE) {
		if (!m.outgoing)
			return 0;
		/* In a group, it may lack our sender key: it gets it again. */
		if (store_sk_sent_del(&c->store, chat_id, user, device) != 0)
			return -1;
		memcpy(out->id, message_id, sizeof out->id);
		memcpy(out->state, m.state, sizeof out->state);
		return 1;
	}
	if (strcmp(user, c->user) != 0) {
		/* Someone else's receipt for one of our messages. */
		if (!m.outgoing)
			return 0;
		if ((rc = store_receipt_put(&c->store, message_id, user, device, status, at)) <= 0)
			return rc;
		if (store_message_refresh_state(&c->store, message_id, c->user) != 0 ||
		    store_message_brief(&c->store, message_id, &m) < 0)
			return -1;
	} else {
		/* Another of our devices read it: so have we, here. That it
		 * stored it (delivered) is no news to this one. */
		if (m.outgoing || status != CHAT_RECEIPT_READ)
			return 0;
		if ((rc = store_mark_read(&c->store, chat_id, message_id, c->user, 0, 0)) <= 0)
			return rc;
		snprintf(m.state, sizeof m.state, "read");
	}
	memcpy(out->id, message_id, sizeof out->id);
	memcpy(out->state, m.state, sizeof out->state);
	return 1;
}

int
receipt_body_parse(const uint8_t *pt, size_t len, struct receipt_body *out)
{
	uint64_t at = 0;

	memset(out, 0, sizeof *out);
	if (pt == NULL || len < PROTO_RECEIPT_HEAD + PROTO_RECEIPT_ID_BYTES ||
	    pt[0] != PROTO_BODY_RECEIPT ||
	    (len - PROTO_RECEIPT_HEAD) % PROTO_RECEIPT_ID_BYTES != 0 ||
	    (len - PROTO_RECEIPT_HEAD) / PROTO_RECEIPT_ID_BYTES > PROTO_MAX_RECEIPT_IDS ||
	    (pt[1] != PROTO_RECEIPT_DELIVERED && pt[1] != PROTO_RECEIPT_READ &&
	     pt[1] != PROTO_RECEIPT_UNDECRYPTABLE))
		return -1;
	out->status = pt[1];
	for (int i = 0; i < 8; i++)
		at = at << 8 | pt[2 + i];
	/* A time past 2^63 (the reader's clock, so anything) reads as 0. */
	out->at = at > INT64_MAX ? 0 : (int64_t)at;
	out->ids = pt + PROTO_RECEIPT_HEAD;
	out->n = (len - PROTO_RECEIPT_HEAD) / PROTO_RECEIPT_ID_BYTES;
	return 0;
}

int
receipts_apply(struct chat_client *c, const char *receipt_id, const char *chat_id,
	       const char *user, uint32_t device, const uint8_t *pt, size_t len)
{
	struct chat_receipt r = {chat_id, NULL, user, device, 0, 0, NULL};
	struct receipt_body body;
	struct receipt_news *news;
	size_t n, n_news = 0;
	int rc;

	if (receipt_body_parse(pt, len, &body) != 0) {
		client_fail(c, CHAT_ERR_PROTOCOL, "its body is not a well-formed receipt");
		return 1;
	}
	r.status = body.status;
	r.at = body.at;
	n = body.n;
	if ((news = malloc(n * sizeof *news)) == NULL)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	rc = store_begin(&c->store);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char id[CHAT_MESSAGE_ID_LEN + 1];

		sodium_bin2hex(id, sizeof id, body.ids + i * PROTO_RECEIPT_ID_BYTES,
			       PROTO_RECEIPT_ID_BYTES);
		rc = apply_one(c, chat_id, id, user, device, r.status, r.at, &news[n_news]);
		if (rc == 1)
			n_news++;
		rc = rc < 0 ? -1 : 0;
	}
	if (rc == 0)
		rc = store_commit(&c->store);
	else
		store_rollback(&c->store);
	if (rc != 0) {
		free(news);
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	}
	/* In a batch, what it said is told once the batch commits. */
	if (c->store.batch)
		return receive_defer_receipt(c, receipt_id, &r, news, n_news);
	for (size_t i = 0; i < n_news && c->cbs.on_receipt; i++) {
		r.message_id = news[i].id;
		r.state = news[i].state;
		c->cbs.on_receipt(c, c->udata, &r);
	}
	free(news);
	return CHAT_OK;
}
