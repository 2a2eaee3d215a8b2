/*
 * prekeys.c - publishing this device's prekeys for X3DH (PROTOCOL.md,
 * "Prekeys"): a signed prekey, rotated weekly (the one before kept 30 days
 * for late messages), and one-time prekeys topped up to 100 on the server.
 * Other devices start their sessions with this one from them (pairwise.c,
 * respond); nothing here may fail or hold up what the
 * user asked for: a failure is tried again on the next connection, and a
 * server that does not know uploadPrekeys is remembered and not asked again.
 */
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "x3dh.h"

#define DAY_MS            (24 * 3600 * (int64_t)1000)
#define SPK_ROTATE_MS     (7 * DAY_MS)
#define SPK_KEEP_MS       (30 * DAY_MS)
#define OPK_TARGET        PROTO_MAX_PREKEYS_UPLOAD
#define META_UNSUPPORTED  "prekeys_unsupported"
#define META_SERVER_COUNT "prekeys_server_count"

/* What one upload carries, read back from the store. */
struct upload {
	uint32_t spk_id;
	uint8_t spk[32];
	int64_t spk_created;
	int n;
	uint32_t ids[OPK_TARGET];
	uint8_t pks[OPK_TARGET][32];
};

/* A fresh X25519 pair stored by put under a new id; the secret wiped. */
static int
new_key(struct chat_client *c, int spk, int64_t now)
{
	uint8_t sk[32], pk[32];
	uint32_t id;
	int rc;

	if (store_prekey_next_id(&c->store, &id) != 0)
		return -1;
	randombytes_buf(sk, sizeof sk);
	if (crypto_scalarmult_base(pk, sk) != 0) {
		sodium_memzero(sk, sizeof sk);
		return -1;
	}
	rc = spk ? store_spk_add(&c->store, id, sk, pk, now, now - SPK_KEEP_MS)
		 : store_opk_add(&c->store, id, sk, pk);
	sodium_memzero(sk, sizeof sk);
	return rc;
}

/* Makes what is missing (a signed prekey younger than a week, want one-time
 * prekeys not yet uploaded) and reads back what to upload, in one
 * transaction. 1 if there is something to send, 0 if not, -1 on failure. */
static int
prepare(struct chat_client *c, int want, struct upload *u)
{
	int64_t now = proto_now_ms();
	int fresh = 0, rc;

	if (store_begin(&c->store) != 0)
		return -1;
	rc = store_spk_current(&c->store, &u->spk_id, u->spk, &u->spk_created);
	if (rc == 0 || (rc == 1 && now - u->spk_created >= SPK_ROTATE_MS)) {
		fresh = 1;
		rc = new_key(c, 1, now) != 0
			     ? -1
			     : store_spk_current(&c->store, &u->spk_id, u->spk, &u->spk_created);
	}
	if (rc == 1 && (u->n = store_opk_pending(&c->store, u->ids, u->pks, OPK_TARGET)) >= 0) {
		for (int i = u->n; i < want && rc == 1; i++)
			if (new_key(c, 0, now) != 0)
				rc = -1;
		if (rc == 1 && u->n < want)
			u->n = store_opk_pending(&c->store, u->ids, u->pks, OPK_TARGET);
	}
	if (rc != 1 || u->n < 0 || store_commit(&c->store) != 0) {
		store_rollback(&c->store);
		return -1;
	}
	return fresh || u->n > 0;
}

static void
uploaded(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	int64_t count;
	char buf[24];
	uint32_t up_to;

	(void)op;
	c->prekeys_busy = 0;
	if (err == CHAT_ERR_REFUSED && strcmp(c->server_code, "unknown_type") == 0) {
		/* A stage 1 server: remembered, so that no connection asks again. */
		(void)store_meta_set(&c->store, META_UNSUPPORTED, "1");
		return;
	}
	if (err == CHAT_ERR_REFUSED && strcmp(c->server_code, "quota_exceeded") == 0 &&
	    c->prekeys_sent_up_to != 0) {
		/* The server is full (its store and this home's disagree) and took
		 * none of them: never in a bundle, they can go, instead of being
		 * refused again on every connection; prekeysLow asks for more. */
		if (store_opk_drop(&c->store, c->prekeys_sent_up_to) == 0)
			(void)store_meta_set(&c->store, META_SERVER_COUNT, "200");
		return;
	}
	if (err != CHAT_OK || proto_get_int(reply, "oneTimePrekeys", 0, INT32_MAX, &count) != 0 ||
	    (up_to = (uint32_t)c->prekeys_sent_up_to) == 0)
		return; /* the keys stay pending: sent again next time */
	snprintf(buf, sizeof buf, "%" PRId64, count);
	/* A failure leaves them pending: sent again, and ignored by the server. */
	if (store_opk_uploaded(&c->store, up_to) == 0)
		(void)store_meta_set(&c->store, META_SERVER_COUNT, buf);
}

static cJSON *
build(struct chat_client *c, const struct upload *u)
{
	cJSON *req = request_new("uploadPrekeys"), *spk, *list, *k;
	uint8_t sig[64];

	if (req == NULL || x3dh_sign_spk(sig, c->id->sign_sk, u->spk_id, u->spk) != 0 ||
	    (spk = cJSON_AddObjectToObject(req, "signedPrekey")) == NULL ||
	    !cJSON_AddNumberToObject(spk, "id", u->spk_id) ||
	    proto_add_b64(spk, "key", u->spk, 32) || proto_add_b64(spk, "sig", sig, 64) ||
	    (list = cJSON_AddArrayToObject(req, "oneTimePrekeys")) == NULL)
		goto fail;
	for (int i = 0; i < u->n; i++) {
		if ((k = cJSON_CreateObject()) == NULL)
			goto fail;
		cJSON_AddItemToArray(list, k);
		if (!cJSON_AddNumberToObject(k, "id", u->ids[i]) ||
		    proto_add_b64(k, "key", u->pks[i], 32))
			goto fail;
	}
	return req;
fail:
	cJSON_Delete(req);
	return NULL;
}

/* Tops the server up with want more one-time prekeys (and a signed prekey if
 * due), unless an upload is in flight or the server does not know them. */
static void
publish(struct chat_client *c, int want)
{
	struct upload u;
	char buf[8];
	cJSON *req;

	if (c->id == NULL || c->prekeys_busy ||
	    store_meta_get(&c->store, META_UNSUPPORTED, buf, sizeof buf) != 0)
		return;
	if (want > OPK_TARGET)
		want = OPK_TARGET;
	if (prepare(c, want, &u) != 1 || (req = build(c, &u)) == NULL)
		return;
	c->prekeys_sent_up_to = u.n > 0 ? u.ids[u.n - 1] : 0;
	if (session_request(c, req, uploaded, NULL, 0) == CHAT_OK)
		c->prekeys_busy = 1;
}

void
prekeys_online(struct chat_client *c)
{
	char buf[24];
	int known = store_meta_get(&c->store, META_SERVER_COUNT, buf, sizeof buf);

	/* Unknown: a first upload (or one whose answer never came). Known and
	 * low, the server says so itself (prekeysLow, on every auth). */
	publish(c, known == 1 ? 0 : OPK_TARGET);
}

void
prekeys_on_low(struct chat_client *c, const cJSON *msg)
{
	int64_t count;

	if (proto_get_int(msg, "count", 0, OPK_TARGET, &count) != 0)
		return;
	publish(c, OPK_TARGET - (int)count);
}
