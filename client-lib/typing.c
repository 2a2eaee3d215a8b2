/*
 * typing.c - typing indicators (PROTOCOL.md, "typing"): body kind 0x07 in
 * stage-2 pairwise envelopes, relayed by the server to the devices connected
 * at the time and stored nowhere, on either side. Best effort by design:
 * nothing is queued, retried, acked or written but the sessions' states.
 */
#include "internal.h"
#include "wire2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

/* A typing 1 again for the same chat is dropped within this time. */
#define TYPING_RESEND_MS 3000
/* Each typing envelope uses up a message key of its session, and one for a
 * device that is not connected is dropped by the server: its receiver will
 * skip that key. Past this many sent to a device without a word read from
 * it, it gets no more typing (until something comes from it), so that
 * typing alone never takes a session near RATCHET_MAX_SKIP. */
#define TYPING_UNHEARD_MAX 50

struct typing_unheard {
	char user[CHAT_USER_MAX + 1];
	uint32_t device;
	int n;
};

static struct typing_unheard *
unheard(struct chat_client *c, const char *user, uint32_t device, int add)
{
	struct typing_unheard *u;

	for (size_t i = 0; i < c->n_unheard; i++)
		if (c->unheard[i].device == device && strcmp(c->unheard[i].user, user) == 0)
			return &c->unheard[i];
	if (!add || (u = realloc(c->unheard, (c->n_unheard + 1) * sizeof *u)) == NULL)
		return NULL;
	c->unheard = u;
	u = &c->unheard[c->n_unheard++];
	snprintf(u->user, sizeof u->user, "%s", user);
	u->device = device;
	u->n = 0;
	return u;
}

void
typing_heard(struct chat_client *c, const char *user, uint32_t device)
{
	struct typing_unheard *u = unheard(c, user, device, 0);

	if (u != NULL)
		u->n = 0;
}

void
typing_free(struct chat_client *c)
{
	free(c->unheard);
	c->unheard = NULL;
	c->n_unheard = 0;
}
#define TYPING_HIDDEN    "typing_hidden"

int
chat_set_typing_privacy(struct chat_client *c, int hide)
{
	if (store_meta_set(&c->store, TYPING_HIDDEN, hide ? "1" : "0") != 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return CHAT_OK;
}

int
chat_typing_privacy(struct chat_client *c)
{
	char v[8] = "";
	int rc = store_meta_get(&c->store, TYPING_HIDDEN, v, sizeof v);

	if (rc < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return rc == 1 && strcmp(v, "1") == 0;
}

struct typing_ctx {
	struct chat_client *c;
	const char *chat_id;
	cJSON *arr;
	uint8_t body[2];
	int err;
};

/* One envelope for a device this one has a session with, now. */
static int
add_typing(void *arg, const char *user, uint32_t device, const struct store_peer *p)
{
	struct typing_ctx *t = arg;
	struct chat_client *c = t->c;
	struct typing_unheard *u;
	uint8_t *ct = NULL;
	size_t len = 0;
	int rc;

	if ((strcmp(user, c->user) == 0 && device == c->device_id) || p->has_pending)
		return 0;
	u = unheard(c, user, device, 1);
	if (u != NULL && u->n >= TYPING_UNHEARD_MAX)
		return 0;
	rc = store_dr_has(&c->store, user, device, p->exchange_key);
	if (rc != 1) {
		if (rc < 0)
			t->err = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		return rc < 0;
	}
	/* The id slot of the AD holds 32 zeros: typing has no message id. */
	t->err = pairwise_encrypt(c, t->chat_id, "00000000000000000000000000000000", user, device,
				  p->exchange_key, t->body, sizeof t->body, &ct, &len);
	if (t->err == CHAT_OK && u != NULL)
		u->n++;
	if (t->err == CHAT_OK)
		t->err = send_add_envelope(c, t->arr, user, device, ct, len);
	free(ct);
	return t->err != CHAT_OK;
}

static void
typing_sent(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	(void)c, (void)op, (void)reply, (void)err; /* best effort: nothing to do */
}

int
chat_typing(struct chat_client *c, const char *chat_id, int typing)
{
	struct typing_ctx t = {c, chat_id, NULL, {PROTO_BODY_TYPING, typing ? 1 : 0}, CHAT_OK};
	char **users = NULL;
	size_t n = 0;
	cJSON *req;
	int rc = client_check_registered(c), same;

	if (rc != CHAT_OK || (rc = chats_check_local(c, chat_id)) != CHAT_OK)
		return rc;
	if (c->state != CHAT_STATE_ONLINE)
		return client_fail(c, CHAT_ERR_NOT_CONNECTED, "not online: typing is not sent");
	same = strcmp(c->typing_chat, chat_id) == 0;
	if (typing && same && c->typing_on && session_now(c) - c->typing_at < TYPING_RESEND_MS)
		return CHAT_OK;
	/* The server relays one a chat a second from a connection: one sooner
	 * would be dropped there, so it is here (the next keystroke says it). */
	if (typing && same && session_now(c) - c->typing_at < PROTO_TYPING_INTERVAL_MS)
		return CHAT_OK;
	if (!typing && same && !c->typing_on)
		return CHAT_OK; /* said stopped there already */
	/* Read from the store only for what would go out: not each keystroke. */
	if ((rc = chat_typing_privacy(c)) != 0)
		return rc < 0 ? rc : CHAT_OK;
	if (store_chat_members(&c->store, chat_id, &users, &n) != 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	req = request_new("typing");
	t.arr = req ? cJSON_AddArrayToObject(req, "envelopes") : NULL;
	if (t.arr == NULL || !cJSON_AddStringToObject(req, "chatId", chat_id))
		rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	/* The sessions' states are durable before the request can leave. */
	else if (store_begin(&c->store) != 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	else {
		for (size_t i = 0; i < n && t.err == CHAT_OK; i++)
			if (store_peer_each(&c->store, users[i], add_typing, &t, NULL) < 0)
				t.err = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		rc = t.err;
		if (rc == CHAT_OK && store_commit(&c->store) != 0)
			rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		else if (rc != CHAT_OK)
			store_rollback(&c->store);
	}
	store_free_list(users, n);
	if (rc != CHAT_OK || cJSON_GetArraySize(t.arr) == 0) {
		cJSON_Delete(req);
		return rc;
	}
	snprintf(c->typing_chat, sizeof c->typing_chat, "%s", chat_id);
	c->typing_at = session_now(c);
	c->typing_on = typing != 0;
	return session_request(c, req, typing_sent, NULL, 0);
}

/* A typing push: the sender's keys as for a message, then its session.
 * Whatever does not check out is dropped without a word: it is never
 * delivered again, and a broken session shows with the next message. */
void
typing_receive(struct chat_client *c, const cJSON *msg)
{
	const cJSON *sender = cJSON_GetObjectItemCaseSensitive(msg, "sender");
	const char *chat_id = proto_get_str(msg, "chatId"), *user = proto_get_str(sender, "user");
	uint8_t xk[32], ct[PROTO_MAX_TYPING_CIPHERTEXT], *pt = NULL;
	size_t ct_len = 0, pt_len = 0;
	char why[300];
	struct wire2 w;
	int64_t device;
	int rc;

	if (!proto_valid_hex(chat_id, CHAT_CHAT_ID_LEN) || !proto_valid_user(user) ||
	    proto_get_int(sender, "deviceId", 1, PROTO_DEVICE_ID_MAX, &device) != 0 ||
	    proto_get_b64(msg, "ciphertext", ct, 0, sizeof ct, &ct_len) != 0 ||
	    wire2_parse(ct, ct_len, &w) != 0 || w.form == WIRE2_GROUP)
		return;
	if (chat_typing_privacy(c) != 0 || store_chat_exists(&c->store, chat_id) != 1 ||
	    directory_check(c, user, (uint32_t)device, sender, xk) != CHAT_OK)
		return;
	if (store_begin(&c->store) != 0)
		return;
	rc = pairwise_decrypt(c, chat_id, "00000000000000000000000000000000", user,
			      (uint32_t)device, xk, &w, &pt, &pt_len, why, sizeof why);
	if (rc != CHAT_OK || store_commit(&c->store) != 0) {
		store_rollback(&c->store);
	} else if (pt_len == 2 && pt[0] == PROTO_BODY_TYPING && pt[1] <= 1 && c->cbs.on_typing &&
		   !blocks_has(c, user)) { /* read, for the session; not shown */
		struct chat_typing t = {chat_id, user, (uint32_t)device, pt[1]};

		c->cbs.on_typing(c, c->udata, &t);
	}
	if (pt != NULL) {
		sodium_memzero(pt, pt_len);
		free(pt);
	}
	sodium_memzero(xk, sizeof xk);
}
