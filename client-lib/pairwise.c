/*
 * pairwise.c - end-to-end encryption stage 2 between two devices
 * (PROTOCOL.md, "End-to-end encryption (stage 2)"): sessions started with
 * X3DH from the peer's prekey bundle (getPrekeyBundle), then the Double
 * Ratchet (common/x3dh.h, common/ratchet.h), kept in the home's store
 * (store_sessions.c).
 *
 * The rules this file keeps:
 *   - a session's new state is written in the caller's store transaction,
 *     with what it was used for: a received message and the state that read
 *     it land together (a crash reads it again), and a sent message's state
 *     is durable before the envelope can leave (the request waits for the
 *     commit), so no message key is ever used twice;
 *   - a session is only used with the peer device's exchange key it was made
 *     with: a key the user accepted since (chatctl trust) means a new one;
 *   - a device may hold a few sessions with one peer device (both ends
 *     started at once, or one started again); the one used last sends, and
 *     each is tried on what comes in;
 *   - an envelope no session can read (this device's state was lost or
 *     restored, or the peer's was) retires the sessions with that device
 *     (they still read, they no longer send) and says so: the next envelope
 *     to it, an undecryptable receipt at once, starts a new session, which
 *     the peer then uses too.
 */
#include "internal.h"
#include "ratchet.h"
#include "wire2.h"
#include "x3dh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

static void
fill_ad(struct ratchet_ad *ad, const char *chat_id, const char *msg_id, const char *sender,
	uint32_t sender_device, const char *recipient, uint32_t recipient_device)
{
	ad->chat_id = (const uint8_t *)chat_id;
	ad->chat_id_len = strlen(chat_id);
	ad->msg_id = (const uint8_t *)msg_id;
	ad->msg_id_len = strlen(msg_id);
	ad->sender_user = (const uint8_t *)sender;
	ad->sender_user_len = strlen(sender);
	ad->sender_device = sender_device;
	ad->recipient_user = (const uint8_t *)recipient;
	ad->recipient_user_len = strlen(recipient);
	ad->recipient_device = recipient_device;
}

/* The state blob of st, malloc'd (wipe and free it), or NULL. */
static uint8_t *
state_blob(const struct ratchet_state *st, size_t *len)
{
	size_t n = ratchet_serialized_size(st);
	uint8_t *b = malloc(n);

	if (b != NULL && ratchet_serialize(st, b, n, len) != RATCHET_OK) {
		sodium_memzero(b, n);
		free(b);
		b = NULL;
	}
	return b;
}

static void
blob_free(uint8_t *b, size_t len)
{
	if (b != NULL) {
		sodium_memzero(b, len);
		free(b);
	}
}

/* Writes st as session id's state (pending as given): CHAT_OK or an error. */
static int
save_state(struct chat_client *c, int64_t id, const struct ratchet_state *st,
	   const uint8_t *pending)
{
	size_t len = 0;
	uint8_t *b = state_blob(st, &len);
	int rc = CHAT_OK;

	if (b == NULL)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	if (store_dr_update(&c->store, id, b, len, pending) != 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	blob_free(b, len);
	return rc;
}

int
pairwise_encrypt(struct chat_client *c, const char *chat_id, const char *msg_id, const char *user,
		 uint32_t device, const uint8_t peer_xk[32], const uint8_t *pt, size_t pt_len,
		 uint8_t **out, size_t *out_len)
{
	struct store_dr d = {0};
	struct ratchet_state st = {0};
	struct ratchet_ad ad;
	uint8_t *padded = NULL, *buf = NULL;
	size_t padded_len = 0, head, cap, n = 0;
	int rc = CHAT_OK, got;

	*out = NULL;
	got = store_dr_load(&c->store, user, device, &d, 1);
	if (got < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (got == 0 || sodium_memcmp(d.peer_key, peer_xk, 32) != 0) {
		store_dr_free(&d);
		return client_fail(c, CHAT_ERR_BAD_KEY,
				   "no secure session with %s's device %u; nothing was sent", user,
				   (unsigned)device);
	}
	if (ratchet_deserialize(&st, d.state, d.state_len) != RATCHET_OK) {
		store_dr_free(&d);
		return client_fail(c, CHAT_ERR_STORE,
				   "the session with %s's device %u in the store is damaged", user,
				   (unsigned)device);
	}
	padded = e2e_pad(pt, pt_len, &padded_len);
	head = 1 + (d.has_pending ? WIRE2_PREKEY_FIELDS : 0);
	cap = head + padded_len + RATCHET_OVERHEAD;
	if (padded == NULL || (buf = malloc(cap)) == NULL) {
		rc = padded == NULL && pt_len > PROTO_MAX_PLAINTEXT
			     ? client_fail(c, CHAT_ERR_TOO_LARGE,
					   "a message of %zu bytes does not fit one envelope", pt_len)
			     : client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		goto done;
	}
	/* Until the peer answers, every message carries what starts the session
	 * on its side (the first may be lost, or come after the second). */
	buf[0] = d.has_pending ? WIRE2_PREKEY : WIRE2_MSG;
	if (d.has_pending)
		memcpy(buf + 1, d.pending, WIRE2_PREKEY_FIELDS);
	fill_ad(&ad, chat_id, msg_id, c->user, c->device_id, user, device);
	if (ratchet_encrypt(&st, &ad, padded, padded_len, buf + head, cap - head, &n) !=
	    RATCHET_OK) {
		rc = client_fail(c, CHAT_ERR_BAD_KEY,
				 "cannot encrypt for %s's device %u: its session is unusable", user,
				 (unsigned)device);
		goto done;
	}
	if ((rc = save_state(c, d.id, &st, d.has_pending ? d.pending : NULL)) != CHAT_OK)
		goto done;
	*out = buf;
	*out_len = head + n;
	buf = NULL;
done:
	blob_free(buf, cap);
	blob_free(padded, padded_len);
	ratchet_wipe(&st);
	store_dr_free(&d);
	return rc;
}

/* Opens w's ratchet message with session d (st its state, made from d):
 * RATCHET_OK with *pt (malloc'd, unpadded length in *pt_len), or the error. */
static int
try_open(const struct wire2 *w, struct ratchet_state *st, const struct ratchet_ad *ad, uint8_t **pt,
	 size_t *pt_len)
{
	size_t cap = w->msg_len - RATCHET_OVERHEAD, n = 0;
	uint8_t *b = malloc(cap ? cap : 1);
	int rc;

	*pt = NULL;
	if (b == NULL)
		return RATCHET_ERR_ARG;
	rc = ratchet_decrypt(st, ad, w->msg, w->msg_len, b, cap, &n);
	if (rc == RATCHET_OK && e2e_unpad(b, n, pt_len) != 0)
		rc = RATCHET_ERR_FORMAT; /* authentic, but its padding is broken */
	if (rc != RATCHET_OK) {
		blob_free(b, cap ? cap : 1);
		return rc;
	}
	*pt = b;
	return RATCHET_OK;
}

/* A prekey message no session knows: X3DH as Bob, a new session. */
static int
respond(struct chat_client *c, const char *user, uint32_t device, const uint8_t peer_xk[32],
	const struct wire2 *w, const struct ratchet_ad *ad, uint8_t **pt, size_t *pt_len,
	char *why, size_t cap)
{
	uint8_t spk_sk[32], spk_pk[32], opk_sk[32], sk[32], x3ad[X3DH_AD_BYTES], *blob = NULL;
	struct ratchet_state st = {0};
	size_t len = 0;
	int rc, got;

	got = store_prekey_secret(&c->store, 1, w->spk_id, spk_sk);
	if (got == 1 && w->has_opk)
		got = store_prekey_secret(&c->store, 0, w->opk_id, opk_sk);
	if (got < 0) {
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		goto done;
	}
	if (got == 0) {
		snprintf(why, cap,
			 "it starts a session from a prekey this device no longer has (used "
			 "or expired)");
		rc = 2;
		goto done;
	}
	crypto_scalarmult_base(spk_pk, spk_sk);
	if (x3dh_respond(sk, x3ad, c->id->x_sk, c->id->x_pk, spk_sk, w->has_opk ? opk_sk : NULL,
			 peer_xk, w->base_key) != X3DH_OK ||
	    ratchet_init_bob(&st, sk, x3ad, spk_sk, spk_pk) != RATCHET_OK) {
		snprintf(why, cap, "its session keys are unusable");
		rc = 2;
		goto done;
	}
	switch (try_open(w, &st, ad, pt, pt_len)) {
	case RATCHET_OK: break;
	case RATCHET_ERR_ARG: rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory"); goto done;
	case RATCHET_ERR_FORMAT:
		snprintf(why, cap, "it opens, but its padding is malformed");
		rc = 1;
		goto done;
	default:
		snprintf(why, cap, "it was altered, or not made for this device");
		rc = 2;
		goto done;
	}
	/* The one-time prekey is spent with the session it made. */
	if ((blob = state_blob(&st, &len)) == NULL)
		rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	else if (store_dr_insert(&c->store, user, device, peer_xk, w->base_key, NULL, blob, len,
				 NULL) != 0 ||
		 (w->has_opk && store_opk_used(&c->store, w->opk_id) != 0))
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	else
		rc = CHAT_OK;
	if (rc != CHAT_OK) {
		blob_free(*pt, *pt_len);
		*pt = NULL;
	}
done:
	blob_free(blob, len);
	ratchet_wipe(&st);
	sodium_memzero(spk_sk, sizeof spk_sk);
	sodium_memzero(opk_sk, sizeof opk_sk);
	sodium_memzero(sk, sizeof sk);
	return rc;
}

int
pairwise_decrypt(struct chat_client *c, const char *chat_id, const char *msg_id, const char *user,
		 uint32_t device, const uint8_t peer_xk[32], const struct wire2 *w, uint8_t **pt,
		 size_t *pt_len, char *why, size_t cap)
{
	struct store_dr d[STORE_DR_MAX_PER_DEVICE];
	struct ratchet_ad ad;
	int n, rc = 2, dup = 0, too_far = 0;

	*pt = NULL;
	*pt_len = 0;
	fill_ad(&ad, chat_id, msg_id, user, device, c->user, c->device_id);
	/* A prekey message of a session this device has: that session reads it. */
	if (w->form == WIRE2_PREKEY) {
		n = store_dr_by_base(&c->store, user, device, w->base_key, &d[0]);
		if (n == 0)
			return respond(c, user, device, peer_xk, w, &ad, pt, pt_len, why, cap);
	} else {
		n = store_dr_load(&c->store, user, device, d, STORE_DR_MAX_PER_DEVICE);
	}
	if (n < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	for (int i = 0; i < n && rc == 2; i++) {
		struct ratchet_state st = {0};
		int r;

		if (sodium_memcmp(d[i].peer_key, peer_xk, 32) != 0 ||
		    ratchet_deserialize(&st, d[i].state, d[i].state_len) != RATCHET_OK)
			continue;
		r = try_open(w, &st, &ad, pt, pt_len);
		if (r == RATCHET_OK) {
			/* Answered: the session is the peer's too, prekeys no more. */
			rc = save_state(c, d[i].id, &st, NULL);
			typing_heard(c, user, device);
			if (rc != CHAT_OK) {
				blob_free(*pt, *pt_len);
				*pt = NULL;
			}
		} else if (r == RATCHET_ERR_ARG) {
			rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		} else if (r == RATCHET_ERR_FORMAT) {
			snprintf(why, cap, "it opens, but its padding is malformed");
			rc = 1;
		} else if (r == RATCHET_ERR_DUPLICATE) {
			dup = 1;
		} else if (r == RATCHET_ERR_TOO_FAR) {
			too_far = 1;
		}
		ratchet_wipe(&st);
	}
	for (int i = 0; i < n; i++)
		store_dr_free(&d[i]);
	if (rc == 2 && too_far) {
		/* Every later message of that chain would be too far as well, and
		 * only the peer can start another: a new session it is. */
		snprintf(why, cap,
			 "it comes more than %u messages after the last one read from that "
			 "device",
			 RATCHET_MAX_SKIP);
	} else if (rc == 2 && dup) {
		snprintf(why, cap, "it was read before (its key is used up): a replay");
		rc = 3;
	} else if (rc == 2) {
		snprintf(why, cap,
			 n > 0 ? "no session with that device can read it (its state or this "
				 "one's was lost or restored)"
			       : "this device has no session with that device (its state was "
				 "lost or restored)");
	}
	return rc;
}

int
pairwise_reset(struct chat_client *c, const char *chat_id, const char *msg_id, const char *user,
	       uint32_t device)
{
	/* The next envelope to that device starts a new session; the receipt
	 * makes it one (and tells its user which message was lost). The old
	 * ones still read what is on its way: a replayed or forged envelope
	 * costs a new session, never the messages of the old one. */
	if (store_dr_retire(&c->store, user, device) != 0 ||
	    store_receipt_queue(&c->store, chat_id, user, msg_id, CHAT_RECEIPT_UNDECRYPTABLE,
				proto_now_ms()) != 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return CHAT_OK;
}

/* ---- prekey bundles: starting sessions --------------------------------------- */

struct missing_ctx {
	struct chat_client *c;
	int missing;
	int err;
};

static int
note_missing(void *arg, const char *user, uint32_t device, const struct store_peer *p)
{
	struct missing_ctx *m = arg;
	int rc;

	if (p->has_pending || (strcmp(user, m->c->user) == 0 && device == m->c->device_id))
		return 0; /* a key change waits for the user; not to ourselves */
	rc = store_dr_has(&m->c->store, user, device, p->exchange_key);
	if (rc < 0) {
		m->err = client_fail(m->c, CHAT_ERR_STORE, "%s", m->c->store.err);
		return 1;
	}
	m->missing |= rc == 0;
	return rc == 0;
}

/* 1 if a trusted device of user has no session made with its current key. */
static int
user_missing(struct chat_client *c, const char *user)
{
	struct missing_ctx m = {c, 0, CHAT_OK};

	if (store_peer_each(&c->store, user, note_missing, &m, NULL) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return m.err != CHAT_OK ? m.err : m.missing;
}

/* Starts a session with one device of a bundle, as X3DH's initiator. */
static int
start_session(struct chat_client *c, const char *user, const cJSON *dev)
{
	const cJSON *spk = cJSON_GetObjectItemCaseSensitive(dev, "signedPrekey");
	const cJSON *opk = cJSON_GetObjectItemCaseSensitive(dev, "oneTimePrekey");
	struct x3dh_bundle b = {0};
	struct x3dh_result x = {0};
	struct ratchet_state st = {0};
	struct store_peer p;
	uint8_t fields[WIRE2_PREKEY_FIELDS], *blob = NULL;
	int64_t device, id;
	size_t len = 0;
	int rc = CHAT_OK;

	if (proto_get_int(dev, "deviceId", 1, PROTO_DEVICE_ID_MAX, &device) != 0 ||
	    proto_get_b64(dev, "identityKey", b.identity_key, 32, 0, NULL) != 0 ||
	    proto_get_b64(dev, "exchangeKey", b.exchange_key, 32, 0, NULL) != 0 ||
	    proto_get_b64(dev, "exchangeKeySig", b.exchange_key_sig, 64, 0, NULL) != 0)
		return client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a malformed prekey bundle");
	/* Only a device this one pinned, with the keys it pinned: the directory
	 * (getKeys) is where keys are checked and changes held for the user. */
	rc = store_peer_get(&c->store, user, (uint32_t)device, &p);
	if (rc < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == 0 || p.has_pending || !p.active ||
	    sodium_memcmp(p.identity_key, b.identity_key, 32) != 0 ||
	    sodium_memcmp(p.exchange_key, b.exchange_key, 32) != 0)
		return CHAT_OK;
	/* Another program on this home may have started one meanwhile (or the
	 * peer did, and this device read it): that one is used, not another. */
	rc = store_dr_has(&c->store, user, (uint32_t)device, b.exchange_key);
	if (rc != 0)
		return rc < 0 ? client_fail(c, CHAT_ERR_STORE, "%s", c->store.err) : CHAT_OK;
	if (spk == NULL)
		return client_fail(c, CHAT_ERR_UNSUPPORTED,
				   "%s's device %u runs a chat client of end-to-end encryption "
				   "stage 1, which cannot read what this one sends; nothing was "
				   "sent: %s needs to update it (or remove that device)",
				   user, (unsigned)device, user);
	if (proto_get_int(spk, "id", 0, UINT32_MAX, &id) != 0 ||
	    proto_get_b64(spk, "key", b.spk, 32, 0, NULL) != 0 ||
	    proto_get_b64(spk, "sig", b.spk_sig, 64, 0, NULL) != 0)
		return client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a malformed prekey bundle");
	b.spk_id = (uint32_t)id;
	if (opk != NULL) {
		if (proto_get_int(opk, "id", 0, UINT32_MAX, &id) != 0 ||
		    proto_get_b64(opk, "key", b.opk, 32, 0, NULL) != 0)
			return client_fail(c, CHAT_ERR_PROTOCOL,
					   "the server sent a malformed prekey bundle");
		b.has_opk = 1;
		b.opk_id = (uint32_t)id;
	}
	switch (x3dh_initiate(&x, c->id->x_sk, c->id->x_pk, &b, NULL)) {
	case X3DH_OK: break;
	case X3DH_ERR_SIGNATURE:
		return client_fail(c, CHAT_ERR_BAD_KEY,
				   "the signed prekey of %s's device %u does not verify: the "
				   "server, or someone, forged it; nothing was sent",
				   user, (unsigned)device);
	default:
		return client_fail(c, CHAT_ERR_BAD_KEY,
				   "the prekeys of %s's device %u are unusable; nothing was sent", user,
				   (unsigned)device);
	}
	wire2_prekey_fields(fields, x.ek_pub, x.spk_id, x.has_opk, x.opk_id);
	if (ratchet_init_alice(&st, x.sk, x.ad, b.spk, NULL) != RATCHET_OK ||
	    (blob = state_blob(&st, &len)) == NULL)
		rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	else if (store_dr_insert(&c->store, user, (uint32_t)device, b.exchange_key, x.ek_pub,
				 fields, blob, len, NULL) != 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	blob_free(blob, len);
	ratchet_wipe(&st);
	sodium_memzero(&x, sizeof x);
	return rc;
}

static int
apply_bundle(struct chat_client *c, const char *user, const cJSON *reply)
{
	const cJSON *devs = cJSON_GetObjectItemCaseSensitive(reply, "devices"), *d;
	const char *who = proto_get_str(reply, "user");
	int rc = CHAT_OK;

	if (!cJSON_IsArray(devs) || who == NULL || strcmp(who, user) != 0)
		return client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a malformed prekey bundle");
	if (store_begin(&c->store) != 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	cJSON_ArrayForEach(d, devs) {
		if ((rc = start_session(c, user, d)) != CHAT_OK)
			break;
	}
	if (rc == CHAT_OK && store_commit(&c->store) != 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc != CHAT_OK)
		store_rollback(&c->store);
	return rc;
}

/* What an op waits for while its bundles come: how many, the first error,
 * and where it goes on. Kept on the op (op->sessions). */
struct pairwise_wait {
	int waiting;
	int err;
	char errmsg[sizeof ((struct chat_client *)0)->errmsg];
	reply_fn next;
};

static void
bundle_in(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	struct pairwise_wait *w = op->sessions;
	reply_fn next;

	if (err == CHAT_OK) {
		const char *user = proto_get_str(reply, "user");

		if (user == NULL || !proto_valid_user(user))
			err = client_fail(c, CHAT_ERR_PROTOCOL,
					  "the server sent a malformed prekey bundle");
		else
			err = apply_bundle(c, user, reply);
	} else if (err == CHAT_ERR_REFUSED && strcmp(c->server_code, "unknown_type") == 0) {
		err = client_fail(c, CHAT_ERR_UNSUPPORTED,
				  "the server does not support end-to-end encryption stage 2 "
				  "(getPrekeyBundle); nothing was sent: update chat-server");
	}
	if (err != CHAT_OK && w->err == CHAT_OK) {
		w->err = err;
		memcpy(w->errmsg, c->errmsg, sizeof w->errmsg);
	}
	if (--w->waiting > 0)
		return;
	next = w->next;
	err = w->err;
	if (err != CHAT_OK)
		memcpy(c->errmsg, w->errmsg, sizeof c->errmsg);
	free(w);
	op->sessions = NULL;
	next(c, op, NULL, err);
}

int
pairwise_ensure(struct chat_client *c, struct op *op, char *const *users, size_t n, reply_fn next)
{
	struct pairwise_wait *w = NULL;
	int rc = CHAT_OK;

	pairwise_op_free(op); /* what a dropped try left */
	for (size_t i = 0; i < n && rc == CHAT_OK; i++) {
		cJSON *req;
		int m = 0, seen = 0;

		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(users[i], users[j]) == 0;
		if (!seen && (m = user_missing(c, users[i])) < 0)
			return m;
		if (m == 0)
			continue;
		if (w == NULL && (w = calloc(1, sizeof *w)) == NULL)
			return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		req = request_new("getPrekeyBundle");
		if (req == NULL || !cJSON_AddStringToObject(req, "user", users[i])) {
			cJSON_Delete(req);
			rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
			break;
		}
		op->sessions = w;
		w->next = next;
		w->waiting++;
		rc = session_request(c, req, bundle_in, op, 0);
		if (rc != CHAT_OK)
			w->waiting--;
	}
	if (w == NULL)
		return 0; /* every session is there */
	if (w->waiting == 0) {
		free(w);
		op->sessions = NULL;
		return rc != CHAT_OK ? rc : 0;
	}
	/* Requests are out: their replies go on (an error after one went out
	 * waits for those, and comes with them). */
	if (rc != CHAT_OK && w->err == CHAT_OK) {
		w->err = rc;
		memcpy(w->errmsg, c->errmsg, sizeof w->errmsg);
	}
	return 1;
}

void
pairwise_op_free(struct op *op)
{
	free(op->sessions);
	op->sessions = NULL;
}
