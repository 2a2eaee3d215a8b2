/*
 * receive.c - newMessage pushes.
 *
 * Order matters and is the point of this file: check the sender's keys, decrypt,
 * commit to the local store, hand to the application, and only then queue the
 * ack. A message whose sender's keys do not check out (a key the user has not
 * accepted yet), or that the store cannot take, is not acked: it stays in the
 * server's inbox and comes again on the next connection, so nothing is lost to
 * a bug or a pending key. Once the keys are good, whatever the envelope holds
 * is taken: one that does not decrypt, or holds a malformed body, is stored as
 * undecryptable, told once and acked, or any user could jam another's inbox
 * for the server's whole retention time (PROTOCOL.md, "Undecryptable
 * envelopes"). A message already stored is acked again without being shown
 * again.
 *
 * The messages and receipts of one pass of the loop share one commit (a
 * batch, see store.h): a drain of thousands costs a few fsyncs, not one
 * each. Each is stored in the batch's transaction (a message with the
 * delivered receipt it owes), and waits in c->batch; receive_settle commits
 * the batch, and only then hands each over (on_message, on_receipt) and
 * queues its ack, in the order they came. Nothing is acked before the commit
 * that makes it durable, nor handed over before it. Any other push settles
 * the batch before it is handled (session.c), so the order of callbacks is
 * the order of the frames; requests made while a batch is open wait for its
 * commit (session_release_held).
 */
#include "internal.h"
#include "analyzer.h"
#include "attach.h"
#include "reply.h"
#include "wire2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

/* Queues an ack for message_id: it goes with the next chance to write.
 * gcc -fanalyzer: no leak; c->acks holds id until receive_flush_acks or
 * chat_client_destroy frees it (common/analyzer.h). */
ANALYZER_LEAK_FP_BEGIN
static int
receive_queue_ack(struct chat_client *c, const char *message_id)
{
	char *id;

	if (c->n_acks == c->cap_acks) {
		size_t cap = c->cap_acks ? c->cap_acks * 2 : 16;
		char **p = realloc(c->acks, cap * sizeof *p);

		if (p == NULL)
			return CHAT_ERR_NOMEM;
		c->acks = p;
		c->cap_acks = cap;
	}
	id = strdup(message_id);
	if (id == NULL)
		return CHAT_ERR_NOMEM;
	c->acks[c->n_acks++] = id;
	session_want_write(c);
	return CHAT_OK;
}
ANALYZER_LEAK_FP_END

static void
acked(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	(void)c;
	(void)op;
	(void)reply;
	(void)err; /* unacked rows come again next session; the store drops them */
}

void
receive_flush_acks(struct chat_client *c)
{
	cJSON *req, *arr;
	size_t n = c->n_acks;

	if (n == 0)
		return;
	if (n > PROTO_MAX_ACK)
		n = PROTO_MAX_ACK; /* the most one ack takes; the rest go next */
	req = cJSON_CreateObject();
	arr = req ? cJSON_AddArrayToObject(req, "messageIds") : NULL;
	if (arr == NULL || !cJSON_AddStringToObject(req, "type", "ack")) {
		cJSON_Delete(req);
		return; /* try again at the next write */
	}
	for (size_t i = 0; i < n; i++)
		if (!cJSON_AddItemToArray(arr, cJSON_CreateString(c->acks[i]))) {
			cJSON_Delete(req);
			return;
		}
	if (session_request(c, req, acked, NULL, 0) != CHAT_OK)
		return;
	for (size_t i = 0; i < n; i++)
		free(c->acks[i]);
	memmove(c->acks, c->acks + n, (c->n_acks - n) * sizeof *c->acks);
	c->n_acks -= n;
}

void
receive_forget_acks(struct chat_client *c)
{
	store_free_list(c->acks, c->n_acks);
	c->acks = NULL;
	c->n_acks = c->cap_acks = 0;
}

static void
report(struct chat_client *c, const char *message_id, int err)
{
	if (c->cbs.on_receive_error)
		c->cbs.on_receive_error(c, c->udata, message_id, err, c->errmsg);
}

/* ---- the batch -------------------------------------------------------- */

/* A message of the batch: stored in its transaction, to be handed over
 * (unless it was before) and acked once it commits. */
enum { RECV_ACK_ONLY, RECV_MESSAGE, RECV_UNDECRYPTABLE, RECV_RECEIPT };
struct received {
	char id[CHAT_MESSAGE_ID_LEN + 1];
	int what;  /* RECV_* */
	int owed;  /* a delivered receipt was queued with it */
	int receipt; /* RECV_UNDECRYPTABLE: a receipt's envelope (not stored) */
	char *why; /* RECV_UNDECRYPTABLE: why, and who sent it */
	char chat_id[CHAT_CHAT_ID_LEN + 1];
	char user[CHAT_USER_MAX + 1];
	uint32_t device;
	int64_t sent_at;
	/* RECV_RECEIPT: its status and time, and what it told (n_news). */
	int status;
	int64_t at;
	struct receipt_news *news;
	size_t n_news;
};

static struct received *
batch_find(struct chat_client *c, const char *id)
{
	for (size_t i = 0; i < c->n_batch; i++)
		if (strcmp(c->batch[i].id, id) == 0)
			return &c->batch[i];
	return NULL;
}

/* gcc -fanalyzer: no leak; c->batch holds why until receive_settle or
 * receive_forget_batch frees it (common/analyzer.h). */
ANALYZER_LEAK_FP_BEGIN
static struct received *
batch_add(struct chat_client *c, const char *id, int what, const char *why)
{
	struct received *r;

	if (c->n_batch == c->cap_batch) {
		size_t cap = c->cap_batch ? c->cap_batch * 2 : 64;
		struct received *p = realloc(c->batch, cap * sizeof *p);

		if (p == NULL)
			return NULL;
		c->batch = p;
		c->cap_batch = cap;
	}
	r = &c->batch[c->n_batch];
	memset(r, 0, sizeof *r);
	if (why != NULL && (r->why = strdup(why)) == NULL)
		return NULL;
	snprintf(r->id, sizeof r->id, "%s", id);
	r->what = what;
	c->n_batch++;
	return r;
}
ANALYZER_LEAK_FP_END

int
receive_batching(const struct chat_client *c)
{
	return c->store.batch && c->n_batch < RECEIVE_BATCH_MAX &&
	       session_now(c) - c->batch_started < RECEIVE_BATCH_MS;
}

int
receive_holding(const struct chat_client *c)
{
	return c->store.batch;
}

/* A timer change to on_timer: "applied" if the chat's timer is now its. */
static void
hand_timer(struct chat_client *c, const struct chat_message *m)
{
	long long seconds = strtoll(m->text, NULL, 10);
	char latest[CHAT_MESSAGE_ID_LEN + 1];
	struct chat_timer_event e = {m->chat_id, m->message_id, m->sender, m->sender_device,
				     seconds,    m->seq,        m->sent_at,  "refused"};

	if (strcmp(m->kind, "timer") == 0)
		e.status = store_timer_latest(&c->store, m->chat_id, latest) == 1 &&
					   strcmp(latest, m->message_id) == 0
				   ? "applied"
				   : "older";
	if (c->cbs.on_timer)
		c->cbs.on_timer(c, c->udata, &e);
}

/* Hands a message over: a reaction to on_reaction (it is no message the
 * application shows), a timer change to on_timer, anything else to
 * on_message. */
static void
hand(struct chat_client *c, const struct chat_message *m)
{
	if (strcmp(m->kind, "edit") == 0 || strcmp(m->kind, "delete") == 0) {
		static const char *const names[] = {"waiting", "applied", "refused", "ignored"};
		int st = store_change_status(&c->store, m->message_id);
		struct chat_change_event e = {m->chat_id,
					      m->message_id,
					      m->reply_to,
					      m->sender,
					      m->sender_device,
					      m->kind,
					      m->text,
					      m->text_len,
					      m->seq,
					      m->sent_at,
					      names[st >= 0 && st <= 3 ? st : 0]};

		if (c->cbs.on_message_changed && e.target != NULL)
			c->cbs.on_message_changed(c, c->udata, &e);
		return;
	}
	if (strcmp(m->kind, "timer") == 0 || strcmp(m->kind, "timer-refused") == 0) {
		hand_timer(c, m);
		return;
	}
	/* Chat settings from another device: the chat list shows them. */
	if (strcmp(m->kind, "prefs") == 0)
		return;
	/* Past its time already (a device long offline): the sweep takes it
	 * at once; shown, it would vanish as it appears. */
	if (m->expires_at > 0 && m->expires_at <= proto_now_ms())
		return;
	if (strcmp(m->kind, "reaction") == 0) {
		struct chat_reaction_event r = {m->chat_id, m->message_id,    m->reply_to,
						m->sender,  m->sender_device, m->text,
						m->seq,     m->sent_at};

		if (c->cbs.on_reaction && r.target != NULL)
			c->cbs.on_reaction(c, c->udata, &r);
		return;
	}
	if (c->cbs.on_message)
		c->cbs.on_message(c, c->udata, m);
}

static int
hand_over(void *arg, const struct chat_message *m)
{
	hand(arg, m);
	return 0;
}

static void tell_undecryptable(struct chat_client *c, const char *chat_id, const char *id,
			       const char *user, uint32_t device, int64_t sent_at, int receipt,
			       const char *why);

/* A message of a committed batch: handed over (read back from the store,
 * as it was committed), then acked. */
static void
settle_one(struct chat_client *c, const struct received *r)
{
	if (r->what == RECV_MESSAGE && store_message_get(&c->store, r->id, hand_over, c) != 1) {
		client_fail(c, CHAT_ERR_STORE, "stored, but cannot read it back: %s",
			    c->store.err);
		report(c, r->id, CHAT_ERR_STORE);
		return;
	}
	if (r->what == RECV_UNDECRYPTABLE)
		tell_undecryptable(c, r->chat_id, r->id, r->user, r->device, r->sent_at,
				   r->receipt, r->why);
	if (r->what == RECV_RECEIPT || r->receipt) {
		struct chat_receipt t = {r->chat_id, NULL, r->user, r->device, r->status, r->at,
					 NULL};

		for (size_t i = 0; i < r->n_news && c->cbs.on_receipt; i++) {
			t.message_id = r->news[i].id;
			t.state = r->news[i].state;
			c->cbs.on_receipt(c, c->udata, &t);
		}
		(void)receive_queue_ack(c, r->id);
		return;
	}
	/* Handed over now: after this, a delivery again only acks it. */
	if (r->what != RECV_ACK_ONLY && store_message_handed(&c->store, r->id) != 0) {
		report(c, r->id, client_fail(c, CHAT_ERR_STORE, "%s", c->store.err));
		return;
	}
	if (r->owed)
		receipts_due(c, RECEIPT_DELAY_MS);
	(void)receive_queue_ack(c, r->id); /* no memory: it comes again */
}

void
receive_settle(struct chat_client *c)
{
	struct received *b = c->batch;
	size_t n = c->n_batch;

	if (!c->store.batch && n == 0)
		return;
	/* Taken off the handle first: a callback may receive again. */
	c->batch = NULL;
	c->n_batch = c->cap_batch = 0;
	if (store_batch_end(&c->store) != 0) {
		/* Nothing of it is stored: not acked, it all comes again. */
		client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		for (size_t i = 0; i < n; i++)
			report(c, b[i].id, CHAT_ERR_STORE);
	} else {
		for (size_t i = 0; i < n; i++)
			settle_one(c, &b[i]);
	}
	session_release_held(c);
	for (size_t i = 0; i < n; i++) {
		free(b[i].why);
		free(b[i].news);
	}
	free(b);
}

void
receive_forget_batch(struct chat_client *c)
{
	for (size_t i = 0; i < c->n_batch; i++) {
		free(c->batch[i].why);
		free(c->batch[i].news);
	}
	free(c->batch);
	c->batch = NULL;
	c->n_batch = c->cap_batch = 0;
}

int
receive_defer_receipt(struct chat_client *c, const char *receipt_id, const struct chat_receipt *r,
		      struct receipt_news *news, size_t n)
{
	struct received *e = batch_find(c, receipt_id);

	if (e != NULL) {
		free(news); /* twice in one batch: the second told nothing new */
		return CHAT_OK;
	}
	if ((e = batch_add(c, receipt_id, RECV_RECEIPT, NULL)) == NULL) {
		free(news);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	snprintf(e->chat_id, sizeof e->chat_id, "%s", r->chat_id);
	snprintf(e->user, sizeof e->user, "%s", r->user);
	e->device = r->device;
	e->status = r->status;
	e->at = r->at;
	e->news = news;
	e->n_news = n;
	return CHAT_OK;
}

/* A message taken: its ack now, or, in a batch, once the batch commits
 * (with its hand-over, if it is the batch's already). */
static int
receive_done(struct chat_client *c, const char *id)
{
	if (!c->store.batch)
		return receive_queue_ack(c, id);
	if (batch_find(c, id) != NULL)
		return CHAT_OK;
	return batch_add(c, id, RECV_ACK_ONLY, NULL) ? CHAT_OK : CHAT_ERR_NOMEM;
}

/* The parts of a newMessage, checked for form and size. */
struct incoming {
	const cJSON *msg;
	const char *chat_id, *message_id, *user;
	int64_t seq, sent_at, device;
	const cJSON *sender;
	int receipt;
};

/* A newMessage, or a receipt: the same but for its id's name and no seq. The
 * nonce and ciphertext are the envelope's content: open_envelope reads them. */
static int
parse(struct chat_client *c, const cJSON *msg, int receipt, struct incoming *in)
{
	memset(in, 0, sizeof *in);
	in->msg = msg;
	in->receipt = receipt;
	in->chat_id = proto_get_str(msg, "chatId");
	in->message_id = proto_get_str(msg, receipt ? "receiptId" : "messageId");
	in->sender = cJSON_GetObjectItemCaseSensitive(msg, "sender");
	in->user = proto_get_str(in->sender, "user");
	if (!proto_valid_hex(in->chat_id, CHAT_CHAT_ID_LEN) ||
	    !proto_valid_hex(in->message_id, CHAT_MESSAGE_ID_LEN) || !proto_valid_user(in->user) ||
	    proto_get_int(in->sender, "deviceId", 1, PROTO_DEVICE_ID_MAX, &in->device) != 0 ||
	    (!receipt && proto_get_int(msg, "seq", 1, INT64_MAX / 2, &in->seq) != 0) ||
	    proto_get_int(msg, "sentAt", 0, INT64_MAX / 2, &in->sent_at) != 0)
		return client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a malformed message");
	return CHAT_OK;
}

/* A stage-2 envelope (no nonce, PROTOCOL.md "End-to-end encryption (stage
 * 2)"): its form, then the pairwise session that reads it. */
static int
open_stage2(struct chat_client *c, const struct incoming *in, const uint8_t sender_xk[32],
	    uint8_t **pt, size_t *pt_len, char *why, size_t cap)
{
	uint8_t *ct = malloc(PROTO_MAX_ENVELOPE);
	size_t ct_len = 0;
	struct wire2 w;
	int rc;

	if (ct == NULL)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	if (proto_get_b64(in->msg, "ciphertext", ct, 0, PROTO_MAX_ENVELOPE, &ct_len) != 0 ||
	    wire2_parse(ct, ct_len, &w) != 0) {
		snprintf(why, cap, "its ciphertext is malformed");
		rc = 1;
	} else if (w.form == WIRE2_GROUP) {
		rc = group_open(c, in->chat_id, in->message_id, in->user, (uint32_t)in->device,
				sender_xk, &w, pt, pt_len, why, cap);
	} else {
		rc = pairwise_decrypt(c, in->chat_id, in->message_id, in->user,
				      (uint32_t)in->device, sender_xk, &w, pt, pt_len, why, cap);
	}
	free(ct);
	return rc;
}

/*
 * Decrypts the envelope into a malloc'd buffer (*pt, *pt_len; wipe and free it
 * after use), writing what its session learnt in the store's current
 * transaction. CHAT_OK; 1 if it cannot be read (why says how), which from a
 * sender whose keys are valid makes it undecryptable; 2 the same, and no
 * session with that device can read it (the caller resets them); 3 it was
 * read before (a replay); or an error. A nonce or ciphertext of the wrong
 * form counts as not decrypting: the server refuses those, so only it could
 * have made them, and nothing here can do better with one than with any
 * other envelope that does not open. An envelope with a nonce is stage 1's
 * (sent before its sender upgraded): it still opens.
 */
static int
open_envelope(struct chat_client *c, const struct incoming *in, const uint8_t sender_xk[32],
	      uint8_t **pt, size_t *pt_len, char *why, size_t cap)
{
	struct e2e_header h = {in->chat_id,          in->message_id, in->user,
			       (uint32_t)in->device, c->user,        c->device_id};
	uint8_t nonce[PROTO_NONCE_BYTES], *ct;
	size_t ct_len = 0;
	int rc = CHAT_OK;

	*pt = NULL;
	if (cJSON_GetObjectItemCaseSensitive(in->msg, "nonce") == NULL)
		return open_stage2(c, in, sender_xk, pt, pt_len, why, cap);
	if ((ct = malloc(PROTO_MAX_CIPHERTEXT)) == NULL)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	if (proto_get_b64(in->msg, "nonce", nonce, sizeof nonce, 0, NULL) != 0 ||
	    proto_get_b64(in->msg, "ciphertext", ct, 0, PROTO_MAX_CIPHERTEXT, &ct_len) != 0 ||
	    ct_len < PROTO_TAG_BYTES) {
		snprintf(why, cap, "its nonce or ciphertext is malformed");
		rc = 1;
	} else if ((*pt = malloc(ct_len)) == NULL) {
		rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	} else {
		switch (e2e_open(*pt, pt_len, ct, ct_len, nonce, &h, c->id->x_sk, c->id->x_pk,
				 sender_xk)) {
		case 0: break;
		case E2E_OPEN_PADDING:
			snprintf(why, cap, "it opens, but its padding is malformed");
			rc = 1;
			break;
		default:
			snprintf(why, cap, "it was altered, or not made for this device");
			rc = 1;
		}
	}
	free(ct);
	if (rc != CHAT_OK) {
		free(*pt);
		*pt = NULL;
	}
	return rc;
}

/* A message's plaintext, read: text (malloc'd, wipe it) and its files; or
 * a reply's text and quote; or a reaction (text its emoji, reply.id the
 * message it is on). */
struct body {
	char *text;
	size_t text_len;
	struct attach_meta *atts;
	size_t n_atts;
	int reply, reaction;
	int change;              /* PROTO_BODY_EDIT or PROTO_BODY_DELETE: quote.id its target */
	int timer;               /* PROTO_BODY_TIMER: text its seconds in decimal */
	int prefs;               /* PROTO_BODY_PREFS: text its JSON, prefs its values */
	struct prefs_body settings;
	int history;             /* PROTO_BODY_HISTORY: text the whole body, unread yet */
	struct reply_body quote; /* its text is moved to text */
};

static void
body_free(struct body *b)
{
	if (b->text != NULL)
		sodium_memzero(b->text, b->text_len);
	free(b->text);
	attach_meta_free(b->atts, b->n_atts);
	reply_body_free(&b->quote);
	memset(b, 0, sizeof *b);
}

/* Reads the plaintext of a message: CHAT_OK (b filled), 1 if it is malformed
 * (why says how; b is empty), or CHAT_ERR_NOMEM. A kind this version does not
 * know is not malformed: it is kept as a placeholder, so one new feature
 * never blocks a device's inbox. */
static int
read_body(struct chat_client *c, const uint8_t *pt, size_t len, struct body *b, char *why,
	  size_t cap)
{
	static const char unknown[] = "(a message this version of libchat cannot show)";

	memset(b, 0, sizeof *b);
	if (len == 0) {
		snprintf(why, cap, "it is empty");
		return 1;
	}
	switch (pt[0]) {
	case PROTO_BODY_TEXT:
		if (len - 1 > CHAT_MAX_TEXT) {
			snprintf(why, cap, "its text is over %d bytes", CHAT_MAX_TEXT);
			return 1;
		}
		if (!proto_valid_utf8((const char *)pt + 1, len - 1)) {
			snprintf(why, cap, "its text is not UTF-8 (or holds a NUL)");
			return 1;
		}
		if ((b->text = malloc(len)) == NULL)
			return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		memcpy(b->text, pt + 1, len - 1);
		b->text[len - 1] = '\0';
		b->text_len = len - 1;
		return CHAT_OK;
	case PROTO_BODY_ATTACH: {
		char err[200];
		int rc = attach_body_parse(pt, len, &b->text, &b->atts, &b->n_atts, err, sizeof err);

		if (rc == ATTACH_ERR_NOMEM)
			return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		if (rc != ATTACH_OK) {
			snprintf(why, cap, "its files do not read: %s", err);
			return 1;
		}
		b->text_len = strlen(b->text);
		return CHAT_OK;
	}
	case PROTO_BODY_REPLY: {
		char err[200];
		int rc = reply_body_parse(pt, len, &b->quote, err, sizeof err);

		if (rc == REPLY_ERR_NOMEM)
			return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		if (rc != REPLY_OK) {
			snprintf(why, cap, "its reply does not read: %s", err);
			return 1;
		}
		b->reply = 1;
		b->text = b->quote.text;
		b->text_len = b->quote.text_len;
		b->quote.text = NULL;
		return CHAT_OK;
	}
	case PROTO_BODY_REACTION: {
		char err[200];
		struct reaction_body r;

		if (reaction_body_parse(pt, len, &r, err, sizeof err) != REPLY_OK) {
			snprintf(why, cap, "its reaction does not read: %s", err);
			return 1;
		}
		if ((b->text = strdup(r.emoji)) == NULL)
			return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		b->reaction = 1;
		b->text_len = strlen(r.emoji);
		memcpy(b->quote.id, r.target, sizeof b->quote.id);
		return CHAT_OK;
	}
	case PROTO_BODY_EDIT:
	case PROTO_BODY_DELETE: {
		char err[200];
		struct change_body ch;
		int rc = change_body_parse(pt, len, &ch, err, sizeof err);

		if (rc == REPLY_ERR_NOMEM)
			return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		if (rc != REPLY_OK) {
			snprintf(why, cap, "its %s does not read: %s",
				 pt[0] == PROTO_BODY_EDIT ? "edit" : "delete", err);
			return 1;
		}
		b->change = ch.kind;
		memcpy(b->quote.id, ch.target, sizeof b->quote.id);
		if (ch.text != NULL) {
			b->text = ch.text;
			b->text_len = ch.text_len;
			ch.text = NULL;
		} else if ((b->text = strdup("")) == NULL) {
			return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		}
		return CHAT_OK;
	}
	case PROTO_BODY_TIMER: {
		char err[200], num[24];
		long long seconds;

		if (timer_body_parse(pt, len, &seconds, err, sizeof err) != REPLY_OK) {
			snprintf(why, cap, "its disappearing timer does not read: %s", err);
			return 1;
		}
		snprintf(num, sizeof num, "%lld", seconds);
		if ((b->text = strdup(num)) == NULL)
			return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		b->text_len = strlen(num);
		b->timer = 1;
		return CHAT_OK;
	}
	case PROTO_BODY_PREFS: {
		char err[200];
		uint8_t *again;
		size_t n;

		if (prefs_body_parse(pt, len, &b->settings, err, sizeof err) != REPLY_OK) {
			snprintf(why, cap, "its chat settings do not read: %s", err);
			return 1;
		}
		/* Kept as the builder writes it: what it does not know left out. */
		if ((again = prefs_body_build(&b->settings, &n, err, sizeof err)) == NULL ||
		    (b->text = malloc(n)) == NULL) {
			free(again);
			return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		}
		memcpy(b->text, again + 1, n - 1);
		b->text[n - 1] = '\0';
		b->text_len = n - 1;
		free(again);
		b->prefs = 1;
		return CHAT_OK;
	}
	case PROTO_BODY_HISTORY:
		/* Read by history_take, once its sender is known to be one of
		 * this user's devices (store_body). */
		if (len > PROTO_HISTORY_MAX_JSON + 1) {
			snprintf(why, cap, "its history batch is over %d bytes",
				 PROTO_HISTORY_MAX_JSON);
			return 1;
		}
		if ((b->text = malloc(len)) == NULL)
			return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		memcpy(b->text, pt, len);
		b->text_len = len;
		b->history = 1;
		return CHAT_OK;
	case PROTO_BODY_RECEIPT:
		snprintf(why, cap, "it is a receipt sent as a message");
		return 1;
	default:
		/* A kind from a later version: keep a placeholder. */
		if ((b->text = strdup(unknown)) == NULL)
			return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		b->text_len = strlen(b->text);
		return CHAT_OK;
	}
}

/* Tells the application of an envelope it will never see the content of. */
static void
tell_undecryptable(struct chat_client *c, const char *chat_id, const char *id, const char *user,
		   uint32_t device, int64_t sent_at, int receipt, const char *why)
{
	struct chat_undecryptable u = {chat_id, id, user, device, sent_at, receipt, NULL};

	client_fail(c, CHAT_ERR_DECRYPT, "%s %s from %s's device %u could not be decrypted: %s",
		    receipt ? "receipt" : "message", id, user, (unsigned)device, why);
	u.reason = c->errmsg;
	if (c->cbs.on_undecryptable)
		c->cbs.on_undecryptable(c, c->udata, &u);
}

static void
tell_undecryptable_in(struct chat_client *c, const struct incoming *in, const char *why)
{
	tell_undecryptable(c, in->chat_id, in->message_id, in->user, (uint32_t)in->device,
			   in->sent_at, in->receipt, why);
}

/* In a batch: the message waits for its commit to be handed over and acked. */
static int
defer(struct chat_client *c, const struct incoming *in, const char *why, int owed)
{
	struct received *r;

	if (batch_find(c, in->message_id) != NULL)
		return CHAT_OK; /* twice in one batch: handed over once */
	r = batch_add(c, in->message_id, why ? RECV_UNDECRYPTABLE : RECV_MESSAGE, why);
	if (r == NULL)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	r->owed = owed;
	r->receipt = in->receipt;
	snprintf(r->chat_id, sizeof r->chat_id, "%s", in->chat_id);
	snprintf(r->user, sizeof r->user, "%s", in->user);
	r->device = (uint32_t)in->device;
	r->sent_at = in->sent_at;
	return CHAT_OK;
}

/* Stores the message (an undecryptable one as such, when why is not NULL);
 * on_message (or on_undecryptable) fires if it was new. (One stored before
 * but never handed over is take_unhanded's.) */
static int
store_body(struct chat_client *c, const struct incoming *in, const struct body *b,
	   const char *why)
{
	struct chat_message m = {0};
	struct chat_attachment a[PROTO_MAX_BLOBS];
	int rc, owed, accepted = 1;

	/* A history batch is no message of the history: applied (or dropped)
	 * whole, or, malformed, stored as undecryptable like any body. */
	if (why == NULL && b->history) {
		char bad[300];

		rc = history_take(c, in->message_id, in->user, (uint32_t)in->device,
				  (const uint8_t *)b->text, b->text_len, bad, sizeof bad);
		if (rc != 1)
			return rc;
		{
			struct body none = {0};

			return store_body(c, in, &none, bad);
		}
	}
	for (size_t i = 0; i < b->n_atts; i++)
		a[i] = (struct chat_attachment){b->atts[i].name, b->atts[i].type,
						(int64_t)b->atts[i].size, NULL};
	m.attachments = b->n_atts ? a : NULL;
	m.n_attachments = b->n_atts;
	m.chat_id = in->chat_id;
	m.message_id = in->message_id;
	m.sender = in->user;
	m.sender_device = (uint32_t)in->device;
	m.seq = in->seq;
	m.sent_at = in->sent_at;
	m.text = why ? "" : b->text;
	m.text_len = why ? 0 : b->text_len;
	m.outgoing = strcmp(in->user, c->user) == 0;
	m.state = "received";
	/* A timer change from one who may not set it (a group's non-admin, as
	 * this store knows the group now) is kept, acked, and never applied. */
	if (why == NULL && b->timer &&
	    (accepted = disappear_accepts(c, in->chat_id, in->user)) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	m.kind = why                              ? "undecryptable"
		 : b->prefs                       ? "prefs"
		 : b->timer                       ? (accepted ? "timer" : "timer-refused")
		 : b->change == PROTO_BODY_EDIT   ? "edit"
		 : b->change == PROTO_BODY_DELETE ? "delete"
		 : b->reaction                    ? "reaction"
						  : "text";
	if (why == NULL && (b->reply || b->reaction || b->change)) {
		m.reply_to = b->quote.id;
		m.reply_sender = b->reply ? b->quote.sender : NULL;
		m.reply_preview = b->reply ? b->quote.preview : NULL;
	}
	/* What did not decrypt is not acknowledged to its sender as delivered;
	 * nor is a reaction (no message to its sender's eyes). */
	owed = !m.outgoing && why == NULL && !b->reaction && !b->change && !b->timer && !b->prefs;
	/* The message and the delivered receipt this device now owes its sender
	 * land together: a crash cannot leave one without the other. */
	rc = store_begin(&c->store) != 0 ? -1 : store_message_insert(&c->store, &m);
	if (rc == 1 && owed &&
	    store_receipt_queue(&c->store, m.chat_id, m.sender, m.message_id,
				CHAT_RECEIPT_DELIVERED, proto_now_ms()) != 0)
		rc = -1;
	for (size_t i = 0; rc == 1 && i < b->n_atts; i++)
		if (store_attachment_put(&c->store, m.message_id, (int)i, &b->atts[i]) != 0)
			rc = -1;
	/* A reaction, new: in force if it is the person's latest (seq). */
	if (rc == 1 && why == NULL && b->reaction &&
	    store_reaction_put(&c->store, b->quote.id, in->user, in->chat_id, b->text, in->seq,
			       in->message_id) != 0)
		rc = -1;
	/* An edit or delete applies to its message if it is here and the rules
	 * allow; a message applies the changes that came before it. */
	if (rc == 1 && why == NULL && changes_apply(c, b->change ? b->quote.id : m.message_id) < 0)
		rc = -1;
	/* A timer change rules the chat's messages from its seq on (those that
	 * came before it included); a message expires by the change in force
	 * at its seq, whenever that came. */
	if (rc == 1 && why == NULL && b->timer && accepted &&
	    store_timer_refresh(&c->store, in->chat_id) != 0)
		rc = -1;
	if (rc == 1 && why == NULL && !b->timer &&
	    store_timer_message(&c->store, in->chat_id, in->message_id) != 0)
		rc = -1;
	/* Chat settings: only the user's own devices set the user's (anyone
	 * else's are kept, acked, and never applied), the newest change wins. */
	if (rc == 1 && why == NULL && b->prefs && m.outgoing &&
	    store_chat_prefs_apply(&c->store, b->settings.chat_id,
				   b->settings.muted_until < 0 ? INT64_MAX
							       : b->settings.muted_until,
				   b->settings.pinned_at, b->settings.archived_at,
				   b->settings.at) < 0)
		rc = -1;
	if (rc >= 0 && store_commit(&c->store) != 0)
		rc = -1;
	if (rc < 0) {
		store_rollback(&c->store);
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	}
	if (c->store.batch)
		return rc == 1 ? defer(c, in, why, owed) : CHAT_OK;
	if (rc == 1 && owed)
		receipts_due(c, RECEIPT_DELAY_MS);
	if (rc == 1) {
		/* Read back, as the batch does: with the reactions that came
		 * before it. */
		if (why != NULL)
			tell_undecryptable_in(c, in, why);
		else if (store_message_get(&c->store, m.message_id, hand_over, c) != 1)
			hand(c, &m);
		/* Handed over now: after this, a delivery again only acks it. */
		if (store_message_handed(&c->store, m.message_id) != 0)
			return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	}
	return CHAT_OK;
}

/* Makes sure the chat is in the store; asks the server for its members if new. */
static int
note_chat(struct chat_client *c, const char *chat_id)
{
	int rc = store_chat_exists(&c->store, chat_id);

	if (rc < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == 1)
		return CHAT_OK;
	if (store_chat_put(&c->store, chat_id, "direct", NULL, NULL, proto_now_ms(), NULL, 0, NULL,
			   0) != 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return chats_fetch(c, chat_id);
}

/* A message from a sender whose keys checked out: read it (or find it
 * undecryptable), store it, hand it over. */
/* The transaction the session's new state and what it read land in. */
static int
take_begin(struct chat_client *c)
{
	return store_begin(&c->store) != 0 ? client_fail(c, CHAT_ERR_STORE, "%s", c->store.err)
					   : CHAT_OK;
}

static int
take_end(struct chat_client *c, int rc)
{
	if (rc == CHAT_OK && store_commit(&c->store) != 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc != CHAT_OK)
		store_rollback(&c->store);
	return rc;
}

/*
 * A message (or reaction, edit...) of a user this one has blocked
 * (PROTOCOL.md, "Blocking"), opened by open_envelope with result rc: read
 * so that the session's state moves on with its sender's, then thrown
 * away. Nothing is stored or shown but its id, so that one delivered again
 * is acked without a word; nothing goes back to its sender, not even a
 * receipt for one that did not decrypt, nor a new session.
 */
static int
drop_blocked(struct chat_client *c, const struct incoming *in, int rc)
{
	if (rc < 0)
		return rc;
	if (store_dropped_add(&c->store, in->message_id, proto_now_ms()) != 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return CHAT_OK;
}

/* A message from a sender whose keys checked out: read it (or find it
 * undecryptable), store it, hand it over. The session's new state, the
 * message and (when no session could read it) the reset land together. */
static int
take_message(struct chat_client *c, const struct incoming *in, const uint8_t sender_xk[32])
{
	struct body b = {0};
	uint8_t *pt = NULL;
	size_t pt_len = 0;
	char why[300];
	int rc = take_begin(c), unreadable, reset;

	if (rc != CHAT_OK)
		return rc;
	rc = open_envelope(c, in, sender_xk, &pt, &pt_len, why, sizeof why);
	if (blocks_has(c, in->user)) {
		if (pt != NULL) {
			sodium_memzero(pt, pt_len);
			free(pt);
		}
		return take_end(c, drop_blocked(c, in, rc));
	}
	reset = rc == 2;
	/* Not given the sender key: its sender is told, and gives it again. */
	if (rc == 4 && store_receipt_queue(&c->store, in->chat_id, in->user, in->message_id,
					   CHAT_RECEIPT_UNDECRYPTABLE, proto_now_ms()) != 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == 2 || rc == 3 || rc == 4)
		rc = 1;
	if (rc == CHAT_OK)
		rc = read_body(c, pt, pt_len, &b, why, sizeof why);
	if (pt != NULL) {
		sodium_memzero(pt, pt_len);
		free(pt);
	}
	unreadable = rc == 1;
	if (reset) {
		/* Said to the user with the message, and to its sender's device
		 * by a receipt that starts the new session. */
		size_t n = strlen(why);

		snprintf(why + n, sizeof why - n,
			 "; a new secure session was started: ask %s to send it again",
			 in->user);
		rc = pairwise_reset(c, in->chat_id, in->message_id, in->user,
				    (uint32_t)in->device);
	}
	if (rc >= 0 && (rc = note_chat(c, in->chat_id)) == CHAT_OK)
		rc = store_body(c, in, &b, unreadable ? why : NULL);
	body_free(&b);
	rc = take_end(c, rc);
	if (rc == CHAT_OK && unreadable)
		receipts_due(c, 0);
	return rc;
}

/* A message stored but never handed over (the program died in between):
 * handed over now as it was stored. Not decrypted again: its session's
 * keys moved on with the commit that stored it. */
static int
take_unhanded(struct chat_client *c, const struct incoming *in)
{
	if (c->store.batch)
		return defer(c, in, NULL, 0);
	if (store_message_get(&c->store, in->message_id, hand_over, c) != 1 ||
	    store_message_handed(&c->store, in->message_id) != 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return CHAT_OK;
}

/* A receipt from a sender whose keys checked out: apply it, or, if it does
 * not decrypt or is malformed, say so once and take it all the same. */
static int
take_receipt(struct chat_client *c, const struct incoming *in, const uint8_t sender_xk[32])
{
	uint8_t *pt = NULL;
	size_t pt_len = 0;
	char why[sizeof c->errmsg];
	int rc = take_begin(c), unreadable;

	if (rc != CHAT_OK)
		return rc;
	rc = open_envelope(c, in, sender_xk, &pt, &pt_len, why, sizeof why);
	/* From a blocked user: read (the session moves on), not applied. */
	if (blocks_has(c, in->user)) {
		if (pt != NULL) {
			sodium_memzero(pt, pt_len);
			free(pt);
		}
		return take_end(c, rc < 0 ? rc : CHAT_OK);
	}
	if (rc == 4)
		rc = 1; /* receipts are pairwise: no sender key to miss */
	if (rc == 3) {
		/* Read (and applied) before: its ack was lost. Nothing to tell. */
		return take_end(c, CHAT_OK);
	}
	if (rc == CHAT_OK) {
		rc = receipts_apply(c, in->message_id, in->chat_id, in->user, (uint32_t)in->device,
				    pt, pt_len);
		if (rc == 1)
			snprintf(why, sizeof why, "%s", c->errmsg);
	}
	/* A receipt no session reads: start again, as for a message (the
	 * receipt that starts the new session names an id its reader has no
	 * message of, and it ignores it). */
	if (rc == 2 && (rc = pairwise_reset(c, in->chat_id, in->message_id, in->user,
					    (uint32_t)in->device)) == CHAT_OK) {
		receipts_due(c, 0);
		rc = 1;
	}
	if (pt != NULL) {
		sodium_memzero(pt, pt_len);
		free(pt);
	}
	if (rc < 0)
		return take_end(c, rc);
	unreadable = rc == 1;
	if ((rc = take_end(c, CHAT_OK)) != CHAT_OK)
		return rc;
	rc = unreadable;
	if (rc == 1 && c->store.batch) {
		rc = defer(c, in, why, 0); /* told in its turn, after the commit */
	} else if (rc == 1) {
		tell_undecryptable_in(c, in, why);
		rc = CHAT_OK;
	}
	return rc;
}

/* Shared by messages and receipts: parse, check the sender's keys, then take
 * it (take_message, take_receipt), then ack. A message already stored is
 * acked again without being shown again. What fails before the sender's keys
 * are known good is not acked: it comes again, once the user accepted a
 * changed key, or the store works again. */
static void
receive_envelope(struct chat_client *c, const cJSON *msg, int receipt)
{
	struct incoming in;
	uint8_t sender_xk[32];
	int rc, unhanded = 0;

	rc = parse(c, msg, receipt, &in);
	if (rc == CHAT_OK && !receipt) {
		rc = store_message_received(&c->store, in.message_id);
		unhanded = rc == 2;
		if (rc < 0) {
			rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		} else if (rc == 1) {
			/* Delivered before, and the ack was lost: ack again, show nothing. */
			(void)receive_done(c, in.message_id);
			return;
		} else {
			rc = CHAT_OK;
		}
	}
	if (rc == CHAT_OK)
		rc = directory_check(c, in.user, (uint32_t)in.device, in.sender, sender_xk);
	if (rc == DIRECTORY_NEED_LISTING) {
		/* A sender never seen, approved by another of their devices: the
		 * frame comes back here once their whole listing is in. */
		if ((rc = directory_hold(c, in.user, msg, receipt)) == CHAT_OK)
			return;
	}
	if (rc == CHAT_ERR_KEY_CHANGED && c->cbs.on_key_changed)
		c->cbs.on_key_changed(c, c->udata, in.user, (uint32_t)in.device);
	if (rc == CHAT_OK)
		rc = receipt    ? take_receipt(c, &in, sender_xk)
		     : unhanded ? take_unhanded(c, &in)
				: take_message(c, &in, sender_xk);
	if (rc == CHAT_OK) {
		/* No memory for the ack only delays it: the server sends the
		 * message again next session, and the store knows it. */
		(void)receive_done(c, in.message_id);
	} else if (rc != CHAT_ERR_KEY_CHANGED) {
		report(c, in.message_id, rc);
	}
	sodium_memzero(sender_xk, sizeof sender_xk);
}

/* Takes a message or a receipt into the pass's batch, opening it if none
 * is (a store that cannot open one, busy with another program, say, takes
 * it in a commit of its own). */
static void
receive_batched(struct chat_client *c, const cJSON *msg, int receipt)
{
	if (!c->store.batch && store_batch_begin(&c->store) == 0)
		c->batch_started = session_now(c);
	receive_envelope(c, msg, receipt);
	if (c->store.batch && !receive_batching(c))
		receive_settle(c); /* full: the batch's bound keeps latency bounded */
}

void
receive_new_message(struct chat_client *c, const cJSON *msg)
{
	receive_batched(c, msg, 0);
}

void
receive_receipt(struct chat_client *c, const cJSON *msg)
{
	receive_batched(c, msg, 1);
}

/* ---- chatUpdate ----------------------------------------------------------- */

/* "alice added bob, carol", for the chat's history. */
static void
describe(const struct chat_update *u, char *buf, size_t cap)
{
	int promote = strcmp(u->operation, "promote") == 0;
	const char *verb = "removed";
	size_t o;

	if (strcmp(u->operation, "create") == 0) {
		snprintf(buf, cap, "%s created the group \"%s\"", u->actor, u->name ? u->name : "");
		return;
	}
	if (strcmp(u->operation, "leave") == 0) {
		snprintf(buf, cap, "%s left", u->actor);
		return;
	}
	if (strcmp(u->operation, "rename") == 0) {
		snprintf(buf, cap, "%s renamed the group to \"%s\"", u->actor,
			 u->name ? u->name : "");
		return;
	}
	if (strcmp(u->operation, "describe") == 0) {
		if (u->description == NULL || u->description[0] == '\0')
			snprintf(buf, cap, "%s removed the description", u->actor);
		else
			snprintf(buf, cap, "%s changed the description to \"%s\"", u->actor,
				 u->description);
		return;
	}
	/* add: "added"; promote: "made ... an admin"; remove, demote:
	 * "removed", demote adding " as admin". */
	if (promote)
		verb = "made";
	else if (strcmp(u->operation, "add") == 0)
		verb = "added";
	o = (size_t)snprintf(buf, cap, "%s %s ", u->actor, verb);
	for (size_t i = 0; i < u->n_users && o < cap; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", u->users[i]);
	if (o < cap && promote)
		snprintf(buf + o, cap - o, "%s", u->n_users == 1 ? " an admin" : " admins");
	else if (o < cap && strcmp(u->operation, "demote") == 0)
		snprintf(buf + o, cap - o, "%s", u->n_users == 1 ? " as admin" : " as admins");
}

static int
handle_update(struct chat_client *c, const cJSON *msg, struct chat_update *u)
{
	char **users = NULL, **members = NULL, **admins = NULL, text[1024];
	size_t n_users = 0, n_members = 0, n_admins = 0;
	struct chat_message m = {0};
	int rc;

	u->update_id = proto_get_str(msg, "updateId");
	u->actor = proto_get_str(msg, "actor");
	u->operation = proto_get_str(msg, "operation");
	if (!proto_valid_hex(u->update_id, CHAT_MESSAGE_ID_LEN) || !proto_valid_user(u->actor) ||
	    u->operation == NULL || proto_get_int(msg, "seq", 1, INT64_MAX / 2, &u->seq) != 0 ||
	    proto_get_int(msg, "sentAt", 0, INT64_MAX / 2, &u->sent_at) != 0 ||
	    chats_read_users(cJSON_GetObjectItemCaseSensitive(msg, "users"), &users, &n_users) != 0)
		return client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a malformed chat update");
	/* Stored and handed over before: done. Stored but never handed over (the
	 * program died in between): again, as new; nothing after it was applied. */
	rc = store_message_received(&c->store, u->update_id);
	if (rc == 1 || rc < 0) {
		store_free_list(users, n_users);
		return rc < 0 ? client_fail(c, CHAT_ERR_STORE, "%s", c->store.err) : 1;
	}
	rc = chats_store(c, msg, &members, &n_members);
	if (rc == CHAT_OK &&
	    chats_read_users(cJSON_GetObjectItemCaseSensitive(msg, "admins"), &admins, &n_admins) != 0)
		rc = client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a malformed chat update");
	if (rc == CHAT_OK) {
		u->chat_id = proto_get_str(msg, "chatId");
		u->kind = proto_get_str(msg, "kind");
		u->name = proto_get_str(msg, "name");
		u->description = proto_get_str(msg, "description");
		u->users = (const char *const *)users;
		u->n_users = n_users;
		u->participants = (const char *const *)members;
		u->n_participants = n_members;
		u->admins = (const char *const *)admins;
		u->n_admins = n_admins;
		/* Kept in the history as an event, in its place in the sequence. */
		describe(u, text, sizeof text);
		m.chat_id = u->chat_id;
		m.message_id = u->update_id;
		m.sender = u->actor;
		m.seq = u->seq;
		m.sent_at = u->sent_at;
		m.text = text;
		m.text_len = strlen(text);
		m.outgoing = strcmp(u->actor, c->user) == 0;
		m.state = "received";
		m.kind = "update";
		if (store_message_insert(&c->store, &m) < 0)
			rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	}
	if (rc == CHAT_OK && c->cbs.on_update)
		c->cbs.on_update(c, c->udata, u);
	if (rc == CHAT_OK && store_message_handed(&c->store, u->update_id) != 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	store_free_list(users, n_users);
	store_free_list(members, n_members);
	store_free_list(admins, n_admins);
	return rc;
}

void
receive_chat_update(struct chat_client *c, const cJSON *msg)
{
	struct chat_update u = {0};
	int rc;

	receive_settle(c);
	rc = handle_update(c, msg, &u);

	/* Stored now (rc 0), or before (1): either way the server may forget it. */
	if (rc >= 0)
		rc = receive_queue_ack(c, u.update_id);
	if (rc < 0)
		report(c, u.update_id, rc);
}
