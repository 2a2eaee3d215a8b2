/*
 * wire_prekeys.c - the prekey directory (PROTOCOL.md, "uploadPrekeys",
 * "getPrekeyBundle"): a device publishes its signed prekey, checked against
 * its identity key, and one-time prekeys; anyone authenticated fetches the
 * bundles of a user's devices, each with one one-time prekey taken out.
 * The prekeysLow push is wire_prekeys_low (wire_push.c's sibling here, as
 * only this area makes it).
 */
#include "wire_req.h"

#include <stdio.h>
#include <string.h>


#include "proto.h"
#include "x3dh.h"

/* The exhausted log line: at most one a second for the whole server, with
 * how many were left unsaid (a popular device can be fetched thousands of
 * times an hour).  The server is one thread. */
static int64_t exhausted_logged_us;
static uint64_t exhausted_quiet;

static void
log_exhausted(const struct req *r, const char *user, uint32_t device_id)
{
	int64_t now = util_mono_us();

	if (exhausted_logged_us != 0 && now - exhausted_logged_us < 1000000) {
		exhausted_quiet++;
		return;
	}
	srv_log("prekeys: %s/%u exhausted (%llu bundles without a one-time prekey since start, "
		"%llu lines left out)",
		user, (unsigned)device_id, (unsigned long long)db_prekeys_exhausted(r->h->db),
		(unsigned long long)exhausted_quiet);
	exhausted_logged_us = now;
	exhausted_quiet = 0;
}

/* A prekey's "id": an integer from 0 to 2^32-1. */
static int
prekey_id(struct req *r, const cJSON *o, const char *where, uint32_t *out)
{
	const cJSON *v = req_field(o, "id");

	if (!cJSON_IsNumber(v) || !proto_is_integer(v->valuedouble, 0, 4294967295.0)) {
		req_fail(r, "bad_request", "%s.id: %s", where,
			 v ? "must be an integer from 0 to 4294967295" : "missing");
		return -1;
	}
	*out = (uint32_t)v->valuedouble;
	return 0;
}

/* "signedPrekey", checked against the device's identity key: 0, or -1 with
 * the request failed (bad_signature if it does not verify). */
static int
read_spk(struct req *r, const cJSON *o, struct db_signed_prekey *spk)
{
	uint8_t ik[PROTO_KEY_BYTES];

	if (!cJSON_IsObject(o)) {
		req_fail(r, "bad_request", "signedPrekey: must be an object");
		return -1;
	}
	if (prekey_id(r, o, "signedPrekey", &spk->id) != 0 ||
	    req_bytes(r, o, "key", "signedPrekey.key", spk->key, sizeof spk->key) != 0 ||
	    req_bytes(r, o, "sig", "signedPrekey.sig", spk->sig, sizeof spk->sig) != 0)
		return -1;
	if (db_device_identity(r->h->db, r->s->user, r->s->device_id, ik) != DB_OK) {
		req_internal(r);
		return -1;
	}
	/* The signature X3DH's initiator checks too (x3dh.h). */
	if (x3dh_verify_spk(spk->sig, ik, spk->id, spk->key) != X3DH_OK) {
		req_fail(r, "bad_signature",
			 "signedPrekey.sig: does not verify with this device's identity key over "
			 "\"" PROTO_LABEL_SPK "\", the id and the key");
		return -1;
	}
	return 0;
}

/* "oneTimePrekeys" (may be absent: none) into out: 0, or -1 with the
 * request failed. */
static int
read_opks(struct req *r, struct db_prekey *out, size_t *n)
{
	const cJSON *list, *v;
	char where[40];

	*n = 0;
	if (req_field(r->msg, "oneTimePrekeys") == NULL)
		return 0;
	if ((list = req_array(r, "oneTimePrekeys", PROTO_MAX_PREKEYS_UPLOAD)) == NULL)
		return -1;
	cJSON_ArrayForEach(v, list) {
		snprintf(where, sizeof where, "oneTimePrekeys[%zu]", *n);
		if (!cJSON_IsObject(v)) {
			req_fail(r, "bad_request", "%s: must be an object", where);
			return -1;
		}
		if (prekey_id(r, v, where, &out[*n].id) != 0)
			return -1;
		snprintf(where, sizeof where, "oneTimePrekeys[%zu].key", *n);
		if (req_bytes(r, v, "key", where, out[*n].key, sizeof out[*n].key) != 0)
			return -1;
		(*n)++;
	}
	return 0;
}

void
handle_upload_prekeys(struct req *r)
{
	const cJSON *o = req_field(r->msg, "signedPrekey");
	struct db_prekey opks[PROTO_MAX_PREKEYS_UPLOAD];
	struct db_signed_prekey spk;
	int64_t count;
	size_t n;

	if ((o != NULL && read_spk(r, o, &spk) != 0) || read_opks(r, opks, &n) != 0)
		return;
	switch (db_prekeys_upload(r->h->db, r->s->user, r->s->device_id, o ? &spk : NULL, opks, n,
				  PROTO_MAX_PREKEYS_STORED, proto_now_ms(), &count)) {
	case DB_OK: break;
	case DB_QUOTA:
		req_fail(r, "quota_exceeded",
			 "oneTimePrekeys: this device has %lld stored and may have at most %d; "
			 "upload at most %lld",
			 (long long)count, PROTO_MAX_PREKEYS_STORED,
			 (long long)(PROTO_MAX_PREKEYS_STORED - count));
		return;
	case DB_NOT_FOUND:
		req_fail(r, "bad_request",
			 "signedPrekey: missing, and this device has none yet; upload it with "
			 "the first one-time prekeys");
		return;
	default: req_internal(r); return;
	}
	req_reply(r);
	j_int(&r->oom, r->reply, "oneTimePrekeys", count);
}

static void
add_bundle(struct req *r, cJSON *arr, const char *user, const struct db_bundle *b)
{
	const struct db_device *d = &b->dev;
	int *oom = &r->oom;
	cJSON *o = j_obj_in_array(oom, arr), *k;

	j_int(oom, o, "deviceId", d->device_id);
	j_b64(oom, o, "identityKey", d->identity_key, PROTO_KEY_BYTES);
	j_b64(oom, o, "exchangeKey", d->exchange_key, PROTO_KEY_BYTES);
	j_b64(oom, o, "exchangeKeySig", d->exchange_key_sig, PROTO_SIG_BYTES);
	j_opt_b64(oom, o, "approverKey", d->approved ? d->approver_key : NULL, PROTO_KEY_BYTES);
	j_opt_b64(oom, o, "approval", d->approved ? d->approval : NULL, PROTO_SIG_BYTES);
	if (!b->has_spk)
		return; /* a stage 1 device: no prekeys yet */
	k = j_check(oom, cJSON_AddObjectToObject(o, "signedPrekey"));
	j_int(oom, k, "id", b->spk.id);
	j_b64(oom, k, "key", b->spk.key, PROTO_KEY_BYTES);
	j_b64(oom, k, "sig", b->spk.sig, PROTO_SIG_BYTES);
	if (!b->has_opk) {
		log_exhausted(r, user, d->device_id);
		return;
	}
	k = j_check(oom, cJSON_AddObjectToObject(o, "oneTimePrekey"));
	j_int(oom, k, "id", b->opk.id);
	j_b64(oom, k, "key", b->opk.key, PROTO_KEY_BYTES);
	if (b->low && r->h->prekeys_low != NULL)
		r->h->prekeys_low(r->h->udata, user, d->device_id);
}

void
handle_get_prekey_bundle(struct req *r)
{
	struct db_bundle b[PROTO_MAX_DEVICES];
	char user[PROTO_USER_MAX + 1];
	uint32_t device_id = 0;
	cJSON *out;
	size_t n, i;

	if (req_user(r, req_field(r->msg, "user"), "user", user) != 0 ||
	    (req_field(r->msg, "deviceId") != NULL &&
	     req_device_id(r, r->msg, "deviceId", &device_id) != 0))
		return;
	switch (db_prekey_bundles(r->h->db, user, device_id, b, PROTO_MAX_DEVICES, &n)) {
	case DB_OK: break;
	case DB_NOT_FOUND: req_fail(r, "unknown_user", "no user named '%s'", user); return;
	default: req_internal(r); return;
	}
	if (n == 0) {
		req_fail(r, "unknown_device", "%s has no device %u", user, (unsigned)device_id);
		return;
	}
	req_reply(r);
	j_str(&r->oom, r->reply, "user", user);
	out = j_check(&r->oom, cJSON_AddArrayToObject(r->reply, "devices"));
	for (i = 0; i < n; i++)
		add_bundle(r, out, user, &b[i]);
}

char *
wire_prekeys_low(int64_t count)
{
	cJSON *root = cJSON_CreateObject();
	int oom = root == NULL;

	j_str(&oom, root, "type", "prekeysLow");
	j_int(&oom, root, "count", count);
	return j_finish(oom, root);
}
