/*
 * group.c - group chats' sender keys, end-to-end encryption stage 2
 * (PROTOCOL.md, "Groups: sender keys"; common/senderkey.h).
 *
 * A device encrypts a group message once, with its sender key for the
 * chat, and signs it; every device of the chat gets the same sender-key
 * message (form 0x23). A device that has not been given the current key
 * gets it in the same envelope, encrypted over its pairwise session: the
 * key at the iteration of this message, so it reads this message and the
 * ones after it, never one before.
 *
 * Who was given the key is recorded once the server took the message (a
 * send refused or lost gives nobody anything), with the exchange key each
 * device had. When a device that has the key is no longer among the chat's
 * (a member removed or gone, a device removed, a key changed), the next
 * message goes under a new key, given to the devices that remain: the one
 * that left reads nothing sent after. A device that says it could not read
 * a message (an undecryptable receipt) is given the key again.
 */
#include "internal.h"
#include "senderkey.h"
#include "wire2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

/* A device the message goes to. */
struct gdev {
	char user[CHAT_USER_MAX + 1];
	uint32_t device;
	uint8_t xk[32];
	int has_key; /* was given the current sender key */
};

struct gdevs {
	struct chat_client *c;
	struct gdev *v;
	size_t n, cap;
	int err;
};

static int
add_dev(void *arg, const char *user, uint32_t device, const struct store_peer *p)
{
	struct gdevs *g = arg;
	struct chat_client *c = g->c;

	if (strcmp(user, c->user) == 0 && device == c->device_id)
		return 0;
	if (p->has_pending) {
		g->err = client_fail_key(c, user,
					 "the identity key of %s's device %u changed; nothing was "
					 "sent",
					 user, device);
		return 1;
	}
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		struct gdev *v = realloc(g->v, cap * sizeof *v);

		if (v == NULL) {
			g->err = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
			return 1;
		}
		g->v = v;
		g->cap = cap;
	}
	memset(&g->v[g->n], 0, sizeof g->v[g->n]);
	snprintf(g->v[g->n].user, sizeof g->v[g->n].user, "%s", user);
	g->v[g->n].device = device;
	memcpy(g->v[g->n].xk, p->exchange_key, 32);
	g->n++;
	return 0;
}

struct sent_ctx {
	struct gdevs *g;
	int stale; /* a device that has the key is not among the chat's */
};

static int
mark_sent(void *arg, const char *user, uint32_t device, const uint8_t *peer_key)
{
	struct sent_ctx *s = arg;

	for (size_t i = 0; i < s->g->n; i++) {
		struct gdev *d = &s->g->v[i];

		if (d->device == device && strcmp(d->user, user) == 0) {
			if (sodium_memcmp(d->xk, peer_key, 32) == 0) {
				d->has_key = 1;
				return 0;
			}
			break; /* its key changed: another device, for the key */
		}
	}
	s->stale = 1;
	return 0;
}

static void
fill_ad(struct sk_ad *ad, const char *chat_id, const char *msg_id, const char *user,
	uint32_t device)
{
	ad->chat_id = (const uint8_t *)chat_id;
	ad->chat_id_len = strlen(chat_id);
	ad->msg_id = (const uint8_t *)msg_id;
	ad->msg_id_len = strlen(msg_id);
	ad->sender_user = (const uint8_t *)user;
	ad->sender_user_len = strlen(user);
	ad->sender_device = device;
}

static void
wipe_free(uint8_t *b, size_t len)
{
	if (b != NULL) {
		sodium_memzero(b, len);
		free(b);
	}
}

/* This device's sender key for the chat, a new one if it has none or must
 * rotate (*fresh 1); the distribution body of its current iteration. */
static int
own_key(struct chat_client *c, const char *chat_id, int rotate, struct sk_own *own, int *fresh)
{
	uint8_t *blob = NULL;
	size_t len = 0;
	int rc = rotate ? 0 : store_sk_own_get(&c->store, chat_id, &blob, &len);

	*fresh = 0;
	if (rc < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == 1 && sk_own_deserialize(own, blob, len) != SK_OK)
		rc = -2;
	wipe_free(blob, len);
	if (rc == -2)
		return client_fail(c, CHAT_ERR_STORE,
				   "this device's sender key for chat %s in the store is damaged",
				   chat_id);
	if (rc == 1)
		return CHAT_OK;
	if (sk_own_new(own, NULL) != SK_OK)
		return client_fail(c, CHAT_ERR_NOMEM, "cannot make a sender key");
	*fresh = 1;
	return CHAT_OK;
}

static int
save_own(struct chat_client *c, const char *chat_id, const struct sk_own *own, int fresh)
{
	uint8_t blob[SK_OWN_BLOB_BYTES];
	size_t len = 0;
	int rc = CHAT_OK;

	if (sk_own_serialize(own, blob, sizeof blob, &len) != SK_OK)
		rc = client_fail(c, CHAT_ERR_NOMEM, "cannot save the sender key");
	else if ((fresh && store_sk_sent_del(&c->store, chat_id, NULL, 0) != 0) ||
		 store_sk_own_put(&c->store, chat_id, blob, len, fresh, proto_now_ms()) != 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	sodium_memzero(blob, sizeof blob);
	return rc;
}

/* One envelope: 0x23 || u16 dist len || dist || the sender-key message. */
static int
add_envelope(struct chat_client *c, cJSON *arr, const struct gdev *d, const uint8_t *dist,
	     size_t dist_len, const uint8_t *skm, size_t skm_len)
{
	size_t len = 3 + dist_len + skm_len;
	uint8_t *b = malloc(len);
	int rc;

	if (b == NULL)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	b[0] = WIRE2_GROUP;
	b[1] = (uint8_t)(dist_len >> 8);
	b[2] = (uint8_t)dist_len;
	if (dist_len > 0)
		memcpy(b + 3, dist, dist_len);
	memcpy(b + 3 + dist_len, skm, skm_len);
	rc = send_add_envelope(c, arr, d->user, d->device, b, len);
	free(b);
	return rc;
}

/* The devices this try gives the key to (recorded when the server takes it). */
struct group_given {
	size_t n;
	struct gdev v[];
};

void
group_op_free(struct op *op)
{
	free(op->given);
	op->given = NULL;
}

int
group_envelopes(struct chat_client *c, struct op *op, cJSON *arr, const uint8_t *body,
		size_t body_len)
{
	struct gdevs g = {c, NULL, 0, 0, CHAT_OK};
	struct sent_ctx s = {&g, 0};
	struct sk_own own = {0};
	struct sk_ad ad;
	struct group_given *given = NULL;
	uint8_t dist[SK_DIST_BYTES], *padded = NULL, *skm = NULL;
	size_t padded_len = 0, skm_len = 0;
	int rc = CHAT_OK, fresh = 0;

	group_op_free(op);
	for (size_t i = 0; i < op->n_users && g.err == CHAT_OK; i++)
		if (store_peer_each(&c->store, op->users[i], add_dev, &g, NULL) < 0)
			g.err = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if ((rc = g.err) != CHAT_OK)
		goto done;
	if (store_sk_sent_each(&c->store, op->chat_id, mark_sent, &s) != 0) {
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		goto done;
	}
	/* Someone who has the key is gone: a new key, for those who remain. */
	if ((rc = own_key(c, op->chat_id, s.stale, &own, &fresh)) != CHAT_OK)
		goto done;
	if (fresh)
		for (size_t i = 0; i < g.n; i++)
			g.v[i].has_key = 0;
	/* The key as it is before this message: it reads this one on. */
	if (sk_own_distribution(&own, dist) != SK_OK ||
	    (padded = e2e_pad(body, body_len, &padded_len)) == NULL ||
	    (skm = malloc(padded_len + SK_OVERHEAD)) == NULL ||
	    (given = calloc(1, sizeof *given + (g.n ? g.n : 1) * sizeof given->v[0])) == NULL) {
		rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		goto done;
	}
	fill_ad(&ad, op->chat_id, op->message_id, c->user, c->device_id);
	if (sk_encrypt(&own, &ad, padded, padded_len, skm, padded_len + SK_OVERHEAD, &skm_len) !=
	    SK_OK) {
		rc = client_fail(c, CHAT_ERR_BAD_KEY, "cannot encrypt with this device's sender key");
		goto done;
	}
	if ((rc = save_own(c, op->chat_id, &own, fresh)) != CHAT_OK)
		goto done;
	for (size_t i = 0; rc == CHAT_OK && i < g.n; i++) {
		uint8_t *pw = NULL;
		size_t pw_len = 0;

		if (g.v[i].has_key) {
			rc = add_envelope(c, arr, &g.v[i], NULL, 0, skm, skm_len);
			continue;
		}
		rc = pairwise_encrypt(c, op->chat_id, op->message_id, g.v[i].user, g.v[i].device,
				      g.v[i].xk, dist, sizeof dist, &pw, &pw_len);
		if (rc == CHAT_OK)
			rc = add_envelope(c, arr, &g.v[i], pw, pw_len, skm, skm_len);
		wipe_free(pw, pw_len);
		given->v[given->n++] = g.v[i];
	}
	if (rc == CHAT_OK) {
		op->given = given;
		given = NULL;
	}
done:
	free(given);
	free(g.v);
	free(skm);
	wipe_free(padded, padded_len);
	sodium_memzero(dist, sizeof dist);
	sk_own_wipe(&own);
	return rc;
}

int
group_sent(struct chat_client *c, struct op *op)
{
	const struct group_given *given = op->given;
	int rc = CHAT_OK;

	if (given == NULL)
		return CHAT_OK;
	if (store_begin(&c->store) != 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	for (size_t i = 0; rc == CHAT_OK && i < given->n; i++)
		if (store_sk_sent_add(&c->store, op->chat_id, given->v[i].user, given->v[i].device,
				      given->v[i].xk) != 0)
			rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == CHAT_OK && store_commit(&c->store) != 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc != CHAT_OK)
		store_rollback(&c->store);
	group_op_free(op);
	return rc;
}

/* ---- receiving ----------------------------------------------------------------- */

/* The sender key a 0x23 form carries: stored (unless one of that id is). */
static int
take_distribution(struct chat_client *c, const char *chat_id, const char *msg_id,
		  const char *user, uint32_t device, const uint8_t peer_xk[32],
		  const struct wire2 *w, char *why, size_t cap)
{
	struct wire2 inner;
	struct sk_peer peer = {0};
	uint8_t *pt = NULL, *blob = NULL, *old = NULL;
	size_t pt_len = 0, len = 0, old_len = 0;
	int rc;

	if (wire2_parse(w->dist, w->dist_len, &inner) != 0) {
		snprintf(why, cap, "the sender key it carries is malformed");
		return 1;
	}
	rc = pairwise_decrypt(c, chat_id, msg_id, user, device, peer_xk, &inner, &pt, &pt_len, why,
			      cap);
	if (rc == 3)
		return CHAT_OK; /* read before: the key is stored already */
	if (rc != CHAT_OK)
		return rc;
	if (sk_peer_from_distribution(&peer, pt, pt_len) != SK_OK) {
		snprintf(why, cap, "the sender key it carries is malformed");
		rc = 1;
		goto done;
	}
	/* A key of that id held already is kept when it is as far on (with the
	 * keys of late messages it holds): a distribution again must never take
	 * it back. One further on replaces it (the sender gave it again after
	 * this device said it could not read a message too far ahead). */
	rc = store_sk_peer_get(&c->store, chat_id, user, device, peer.key_id, &old, &old_len);
	if (rc < 0) {
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		goto done;
	}
	if (rc == 1) {
		struct sk_peer held = {0};
		int behind = sk_peer_deserialize(&held, old, old_len) == SK_OK &&
			     held.iteration < peer.iteration;

		sk_peer_wipe(&held);
		if (!behind) {
			rc = CHAT_OK;
			goto done;
		}
	}
	len = sk_peer_serialized_size(&peer);
	if ((blob = malloc(len)) == NULL || sk_peer_serialize(&peer, blob, len, &len) != SK_OK)
		rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	else if (store_sk_peer_put(&c->store, chat_id, user, device, peer.key_id, blob, len,
				   proto_now_ms()) != 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	else
		rc = CHAT_OK;
done:
	wipe_free(pt, pt_len);
	wipe_free(blob, len);
	wipe_free(old, old_len);
	sk_peer_wipe(&peer);
	return rc;
}

int
group_open(struct chat_client *c, const char *chat_id, const char *msg_id, const char *user,
	   uint32_t device, const uint8_t peer_xk[32], const struct wire2 *w, uint8_t **pt,
	   size_t *pt_len, char *why, size_t cap)
{
	struct sk_peer peer = {0};
	struct sk_ad ad;
	uint8_t *blob = NULL, *buf = NULL;
	size_t len = 0, n = 0, buf_cap = w->msg_len - SK_OVERHEAD;
	uint32_t key_id;
	int rc = CHAT_OK;

	*pt = NULL;
	*pt_len = 0;
	if (w->dist != NULL &&
	    (rc = take_distribution(c, chat_id, msg_id, user, device, peer_xk, w, why, cap)) !=
		    CHAT_OK)
		return rc;
	if (sk_message_key_id(w->msg, w->msg_len, &key_id) != SK_OK) {
		snprintf(why, cap, "its sender-key message is malformed");
		return 1;
	}
	rc = store_sk_peer_get(&c->store, chat_id, user, device, key_id, &blob, &len);
	if (rc < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == 0) {
		snprintf(why, cap,
			 "this device was not given the sender key it is under (it joined "
			 "after it was sent, or the key was lost)");
		return 4;
	}
	rc = CHAT_OK;
	if (sk_peer_deserialize(&peer, blob, len) != SK_OK) {
		rc = client_fail(c, CHAT_ERR_STORE, "a sender key in the store is damaged");
		goto done;
	}
	wipe_free(blob, len);
	blob = NULL;
	if ((buf = malloc(buf_cap ? buf_cap : 1)) == NULL) {
		rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		goto done;
	}
	fill_ad(&ad, chat_id, msg_id, user, device);
	switch (sk_decrypt(&peer, &ad, w->msg, w->msg_len, buf, buf_cap, &n)) {
	case SK_OK: break;
	case SK_ERR_DUPLICATE:
		snprintf(why, cap, "it was read before (its key is used up): a replay");
		rc = 3;
		goto done;
	case SK_ERR_TOO_FAR:
		/* Every later one would be too: the sender is asked for its key
		 * again, as it is now (take_distribution takes it). */
		snprintf(why, cap, "it comes more than %u messages after the last one read",
			 SK_MAX_SKIP);
		rc = 4;
		goto done;
	case SK_ERR_ARG: rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory"); goto done;
	default:
		snprintf(why, cap, "it was altered, or not signed by its sender's key");
		rc = 1;
		goto done;
	}
	if (e2e_unpad(buf, n, pt_len) != 0) {
		snprintf(why, cap, "it opens, but its padding is malformed");
		rc = 1;
		goto done;
	}
	len = sk_peer_serialized_size(&peer);
	if ((blob = malloc(len)) == NULL || sk_peer_serialize(&peer, blob, len, &len) != SK_OK)
		rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	else if (store_sk_peer_put(&c->store, chat_id, user, device, key_id, blob, len,
				   proto_now_ms()) != 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == CHAT_OK) {
		*pt = buf;
		buf = NULL;
	} else {
		*pt_len = 0;
	}
done:
	wipe_free(buf, buf_cap ? buf_cap : 1);
	wipe_free(blob, len);
	sk_peer_wipe(&peer);
	return rc;
}
