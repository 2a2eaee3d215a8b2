/*
 * senderkey.c - Sender Keys over libsodium (construction in senderkey.h).
 *
 * As in ratchet.c, decryption is transactional: the chain key and the keys
 * skipped over are computed in locals, room for them is made before the
 * AEAD, and the state changes only once the signature and the AEAD have
 * accepted the message, so a forged, replayed or tampered message leaves
 * the state exactly as it was. Encryption likewise advances the chain only
 * when the message is complete.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "chain.h"
#include "senderkey.h"

#define AD_LABEL_LEN (sizeof SK_LABEL_AD - 1)

/* KDF_CK and the message keys: chain.h. */
static int
kdf_ck(uint8_t mk[32], uint8_t ck[32])
{
	return chain_kdf_ck(mk, ck) == 0 ? SK_OK : SK_ERR_ARG;
}

static int
msg_keys(uint8_t kn[56], const uint8_t mk[32])
{
	return chain_msg_keys(kn, mk, SK_LABEL_MSG, sizeof SK_LABEL_MSG - 1) == 0 ? SK_OK
										   : SK_ERR_ARG;
}

/* ---- AD ----------------------------------------------------------------- */

/*
 * A malloc'd buffer of *ad_len + extra bytes that starts with the AD
 * (senderkey.h); the caller puts the message's bytes after it, so that one
 * buffer is both the AEAD's AD (its first *ad_len bytes) and what the
 * signature covers (all of it). NULL on a bad field or no memory.
 */
static uint8_t *
build_ad(const struct sk_ad *a, uint32_t key_id, uint32_t iteration, size_t extra, size_t *ad_len)
{
	uint8_t *buf, *p;
	size_t n;

	if (!chain_field_ok(a->chat_id, a->chat_id_len) || !chain_field_ok(a->msg_id, a->msg_id_len) ||
	    !chain_field_ok(a->sender_user, a->sender_user_len))
		return NULL;
	n = AD_LABEL_LEN + 2 + a->chat_id_len + 2 + a->msg_id_len + 2 + a->sender_user_len + 4 + 4 +
	    4;
	if (extra > SIZE_MAX - n)
		return NULL;
	buf = malloc(n + extra);
	if (buf == NULL)
		return NULL;
	memcpy(buf, SK_LABEL_AD, AD_LABEL_LEN);
	p = chain_put_field(buf + AD_LABEL_LEN, a->chat_id, a->chat_id_len);
	p = chain_put_field(p, a->msg_id, a->msg_id_len);
	p = chain_put_field(p, a->sender_user, a->sender_user_len);
	be32_put(p, a->sender_device);
	be32_put(p + 4, key_id);
	be32_put(p + 8, iteration);
	*ad_len = n;
	return buf;
}

/* ---- the sender --------------------------------------------------------- */

void
sk_own_wipe(struct sk_own *own)
{
	if (own != NULL)
		sodium_memzero(own, sizeof *own);
}

int
sk_own_new(struct sk_own *own, const uint8_t *fixed)
{
	uint8_t seed[32];
	int rc;

	if (own == NULL)
		return SK_ERR_ARG;
	memset(own, 0, sizeof *own);
	if (fixed != NULL) {
		own->key_id = be32_get(fixed);
		memcpy(own->ck, fixed + 4, 32);
		memcpy(seed, fixed + 36, 32);
	} else {
		own->key_id = randombytes_random();
		randombytes_buf(own->ck, 32);
		randombytes_buf(seed, 32);
	}
	rc = crypto_sign_seed_keypair(own->sign_pk, own->sign_sk, seed) == 0 ? SK_OK : SK_ERR_ARG;
	sodium_memzero(seed, sizeof seed);
	if (rc != SK_OK)
		sk_own_wipe(own);
	return rc;
}

int
sk_own_distribution(const struct sk_own *own, uint8_t out[SK_DIST_BYTES])
{
	if (own == NULL || out == NULL)
		return SK_ERR_ARG;
	out[0] = SK_DIST_KIND;
	be32_put(out + 1, own->key_id);
	be32_put(out + 5, own->iteration);
	memcpy(out + 9, own->ck, 32);
	memcpy(out + 41, own->sign_pk, 32);
	return SK_OK;
}

/* Encrypt and sign into buf (AD || header || room for ct), mk from ck. */
static int
seal_and_sign(const struct sk_own *own, uint8_t *buf, size_t adl, const uint8_t mk[32],
	      const uint8_t *pt, size_t pt_len, uint8_t sig[64], size_t *ct_len)
{
	uint8_t kn[56];
	unsigned long long ctl = 0;
	int rc = msg_keys(kn, mk);

	if (rc == SK_OK &&
	    crypto_aead_xchacha20poly1305_ietf_encrypt(buf + adl + SK_HEADER_BYTES, &ctl, pt,
						       pt_len, buf, adl, NULL, kn + 32, kn) != 0)
		rc = SK_ERR_ARG;
	if (rc == SK_OK && crypto_sign_detached(sig, NULL, buf, adl + SK_HEADER_BYTES + (size_t)ctl,
						own->sign_sk) != 0)
		rc = SK_ERR_ARG;
	*ct_len = (size_t)ctl;
	sodium_memzero(kn, sizeof kn);
	return rc;
}

int
sk_encrypt(struct sk_own *own, const struct sk_ad *a, const uint8_t *pt, size_t pt_len,
	   uint8_t *out, size_t out_cap, size_t *out_len)
{
	uint8_t ck[32], mk[32], sig[SK_SIG_BYTES], *buf;
	size_t adl = 0, ct_len = 0;
	int rc;

	if (own == NULL || a == NULL || (pt == NULL && pt_len > 0) || out == NULL ||
	    out_len == NULL || pt_len > SIZE_MAX / 2 || out_cap < pt_len + SK_OVERHEAD)
		return SK_ERR_ARG;
	if (own->iteration == UINT32_MAX)
		return SK_ERR_ARG; /* 2^32-1 messages under one key: rotate (never in practice) */
	buf = build_ad(a, own->key_id, own->iteration, SK_HEADER_BYTES + pt_len + SK_TAG_BYTES,
		       &adl);
	if (buf == NULL)
		return SK_ERR_ARG;
	be32_put(buf + adl, own->key_id);
	be32_put(buf + adl + 4, own->iteration);
	memcpy(ck, own->ck, 32);
	rc = kdf_ck(mk, ck);
	if (rc == SK_OK)
		rc = seal_and_sign(own, buf, adl, mk, pt, pt_len, sig, &ct_len);
	if (rc == SK_OK) {
		memcpy(out, buf + adl, SK_HEADER_BYTES + ct_len);
		memcpy(out + SK_HEADER_BYTES + ct_len, sig, SK_SIG_BYTES);
		*out_len = SK_HEADER_BYTES + ct_len + SK_SIG_BYTES;
		memcpy(own->ck, ck, 32);
		own->iteration++;
	}
	sodium_memzero(ck, sizeof ck);
	sodium_memzero(mk, sizeof mk);
	free(buf);
	return rc;
}

int
sk_own_serialize(const struct sk_own *own, uint8_t *buf, size_t cap, size_t *len)
{
	if (own == NULL || buf == NULL || len == NULL || cap < SK_OWN_BLOB_BYTES)
		return SK_ERR_ARG;
	buf[0] = SK_VERSION;
	be32_put(buf + 1, own->key_id);
	be32_put(buf + 5, own->iteration);
	memcpy(buf + 9, own->ck, 32);
	/* The seed alone: the key pair follows from it, so one encoding. */
	if (crypto_sign_ed25519_sk_to_seed(buf + 41, own->sign_sk) != 0) {
		sodium_memzero(buf, SK_OWN_BLOB_BYTES);
		return SK_ERR_ARG;
	}
	*len = SK_OWN_BLOB_BYTES;
	return SK_OK;
}

int
sk_own_deserialize(struct sk_own *own, const uint8_t *buf, size_t len)
{
	if (own == NULL)
		return SK_ERR_ARG;
	memset(own, 0, sizeof *own);
	if (buf == NULL || len != SK_OWN_BLOB_BYTES || buf[0] != SK_VERSION)
		return SK_ERR_FORMAT;
	own->key_id = be32_get(buf + 1);
	own->iteration = be32_get(buf + 5);
	memcpy(own->ck, buf + 9, 32);
	if (crypto_sign_seed_keypair(own->sign_pk, own->sign_sk, buf + 41) != 0) {
		sk_own_wipe(own);
		return SK_ERR_ARG;
	}
	return SK_OK;
}

/* ---- the receiver ------------------------------------------------------- */

void
sk_peer_wipe(struct sk_peer *peer)
{
	if (peer == NULL)
		return;
	if (peer->skipped != NULL) {
		sodium_memzero(peer->skipped, peer->cap_skipped * sizeof *peer->skipped);
		free(peer->skipped);
	}
	sodium_memzero(peer, sizeof *peer);
}

int
sk_peer_from_distribution(struct sk_peer *peer, const uint8_t *body, size_t len)
{
	if (peer == NULL)
		return SK_ERR_ARG;
	memset(peer, 0, sizeof *peer);
	/* A small-order or non-canonical key would let anyone "sign". */
	if (body == NULL || len != SK_DIST_BYTES || body[0] != SK_DIST_KIND ||
	    crypto_core_ed25519_is_valid_point(body + 41) != 1)
		return SK_ERR_FORMAT;
	peer->key_id = be32_get(body + 1);
	peer->iteration = be32_get(body + 5);
	memcpy(peer->ck, body + 9, 32);
	memcpy(peer->sign_pk, body + 41, 32);
	return SK_OK;
}

int
sk_message_key_id(const uint8_t *msg, size_t len, uint32_t *key_id)
{
	if (msg == NULL || key_id == NULL)
		return SK_ERR_ARG;
	if (len < SK_OVERHEAD)
		return SK_ERR_HEADER;
	*key_id = be32_get(msg);
	return SK_OK;
}

/* Open ct with mk under the AD (buf's first adl bytes); SK_ERR_AUTH if refused. */
static int
open_msg(const uint8_t mk[32], const uint8_t *buf, size_t adl, const uint8_t *ct, size_t ct_len,
	 uint8_t *pt, size_t *pt_len)
{
	uint8_t kn[56];
	unsigned long long ptl = 0;
	int rc = msg_keys(kn, mk);

	if (rc == SK_OK && crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &ptl, NULL, ct, ct_len,
								      buf, adl, kn + 32, kn) != 0)
		rc = SK_ERR_AUTH;
	if (rc == SK_OK)
		*pt_len = (size_t)ptl;
	sodium_memzero(kn, sizeof kn);
	return rc;
}

static long
find_skipped(const struct sk_peer *peer, uint32_t iteration)
{
	size_t i;

	for (i = 0; i < peer->n_skipped; i++)
		if (peer->skipped[i].iteration == iteration)
			return (long)i;
	return -1;
}

static void
drop_skipped(struct sk_peer *peer, size_t i)
{
	memmove(&peer->skipped[i], &peer->skipped[i + 1],
		(peer->n_skipped - i - 1) * sizeof *peer->skipped);
	peer->n_skipped--;
	sodium_memzero(&peer->skipped[peer->n_skipped], sizeof *peer->skipped);
}

/* Room for add more skipped keys (at most SK_MAX_STORED in all), made before
 * the AEAD so that committing cannot fail. Grown as needed, not to the
 * bound at once: a member of many groups holds a state per sending device. */
static int
reserve_skipped(struct sk_peer *peer, size_t add)
{
	struct sk_skipped *k;
	size_t need = peer->n_skipped + add, cap;

	if (need > SK_MAX_STORED)
		need = SK_MAX_STORED;
	if (peer->cap_skipped >= need)
		return SK_OK;
	cap = peer->cap_skipped < 8 ? 16 : 2 * peer->cap_skipped;
	if (cap < need)
		cap = need;
	if (cap > SK_MAX_STORED)
		cap = SK_MAX_STORED;
	k = calloc(cap, sizeof *k);
	if (k == NULL)
		return SK_ERR_ARG;
	if (peer->n_skipped > 0)
		memcpy(k, peer->skipped, peer->n_skipped * sizeof *k);
	if (peer->skipped != NULL) {
		sodium_memzero(peer->skipped, peer->cap_skipped * sizeof *k);
		free(peer->skipped);
	}
	peer->skipped = k;
	peer->cap_skipped = cap;
	return SK_OK;
}

/* Append n new keys (n <= SK_MAX_SKIP == SK_MAX_STORED), dropping the oldest
 * beyond SK_MAX_STORED; reserve_skipped made the room. */
static void
commit_skipped(struct sk_peer *peer, const struct sk_skipped *k, size_t n)
{
	size_t total = peer->n_skipped + n;
	size_t drop = total > SK_MAX_STORED ? total - SK_MAX_STORED : 0;

	if (n == 0)
		return;
	if (drop > 0) {
		sodium_memzero(peer->skipped, drop * sizeof *peer->skipped);
		memmove(peer->skipped, peer->skipped + drop,
			(peer->n_skipped - drop) * sizeof *peer->skipped);
		peer->n_skipped -= drop;
	}
	memcpy(peer->skipped + peer->n_skipped, k, n * sizeof *k);
	peer->n_skipped += n;
}

/* Step 3 of senderkey.h: an iteration before the next one expected. */
static int
decrypt_skipped(struct sk_peer *peer, const uint8_t *buf, size_t adl, uint32_t iteration,
		const uint8_t *ct, size_t ct_len, uint8_t *pt, size_t *pt_len)
{
	long idx = find_skipped(peer, iteration);
	int rc;

	if (idx < 0)
		return SK_ERR_DUPLICATE;
	rc = open_msg(peer->skipped[idx].mk, buf, adl, ct, ct_len, pt, pt_len);
	if (rc == SK_OK)
		drop_skipped(peer, (size_t)idx);
	return rc;
}

/* Step 4: the chain, from the next iteration expected up to this one. */
static int
decrypt_chain(struct sk_peer *peer, const uint8_t *buf, size_t adl, uint32_t iteration,
	      const uint8_t *ct, size_t ct_len, uint8_t *pt, size_t *pt_len)
{
	struct sk_skipped *k = NULL;
	uint8_t ck[32], mk[32];
	size_t gap = iteration - peer->iteration, i;
	int rc;

	if (gap > SK_MAX_SKIP)
		return SK_ERR_TOO_FAR;
	rc = reserve_skipped(peer, gap);
	if (rc != SK_OK)
		return rc;
	if (gap > 0 && (k = calloc(gap, sizeof *k)) == NULL)
		return SK_ERR_ARG;
	memcpy(ck, peer->ck, 32);
	for (i = 0; i < gap && rc == SK_OK; i++) {
		k[i].iteration = peer->iteration + (uint32_t)i;
		rc = kdf_ck(k[i].mk, ck);
	}
	if (rc == SK_OK)
		rc = kdf_ck(mk, ck);
	if (rc == SK_OK)
		rc = open_msg(mk, buf, adl, ct, ct_len, pt, pt_len);
	if (rc == SK_OK) {
		commit_skipped(peer, k, gap);
		memcpy(peer->ck, ck, 32);
		peer->iteration = iteration + 1;
	}
	sodium_memzero(ck, sizeof ck);
	sodium_memzero(mk, sizeof mk);
	if (k != NULL) {
		sodium_memzero(k, gap * sizeof *k);
		free(k);
	}
	return rc;
}

/* Steps 1 to 4, with pt_len already 0; the caller zeroes pt on failure. */
static int
decrypt_checked(struct sk_peer *peer, const struct sk_ad *a, const uint8_t *msg, size_t len,
		size_t pt_cap, uint8_t *pt, size_t *pt_len)
{
	const uint8_t *sig, *ct;
	uint8_t *buf;
	uint32_t key_id, iteration;
	size_t adl = 0, signed_len, ct_len;
	int rc;

	if (len < SK_OVERHEAD || len > SIZE_MAX / 2)
		return SK_ERR_HEADER;
	if (pt_cap < len - SK_OVERHEAD)
		return SK_ERR_ARG;
	key_id = be32_get(msg);
	iteration = be32_get(msg + 4);
	if (key_id != peer->key_id || iteration == UINT32_MAX)
		return SK_ERR_HEADER;
	signed_len = len - SK_SIG_BYTES;
	sig = msg + signed_len;
	ct = msg + SK_HEADER_BYTES;
	ct_len = signed_len - SK_HEADER_BYTES;
	buf = build_ad(a, key_id, iteration, signed_len, &adl);
	if (buf == NULL)
		return SK_ERR_ARG;
	memcpy(buf + adl, msg, signed_len);
	/* The signature first: a forgery is refused before any key is derived. */
	if (crypto_sign_verify_detached(sig, buf, adl + signed_len, peer->sign_pk) != 0)
		rc = SK_ERR_SIGNATURE;
	else if (iteration < peer->iteration)
		rc = decrypt_skipped(peer, buf, adl, iteration, ct, ct_len, pt, pt_len);
	else
		rc = decrypt_chain(peer, buf, adl, iteration, ct, ct_len, pt, pt_len);
	free(buf);
	return rc;
}

int
sk_decrypt(struct sk_peer *peer, const struct sk_ad *a, const uint8_t *msg, size_t len, uint8_t *pt,
	   size_t pt_cap, size_t *pt_len)
{
	int rc;

	if (peer == NULL || a == NULL || msg == NULL || pt_len == NULL ||
	    (pt == NULL && pt_cap > 0))
		return SK_ERR_ARG;
	*pt_len = 0;
	rc = decrypt_checked(peer, a, msg, len, pt_cap, pt, pt_len);
	if (rc != SK_OK) {
		if (pt_cap > 0)
			sodium_memzero(pt, pt_cap);
		*pt_len = 0;
	}
	return rc;
}

/* ---- the receiver's serialised state ------------------------------------ */

size_t
sk_peer_serialized_size(const struct sk_peer *peer)
{
	return SK_PEER_BLOB_MIN + SK_SKIPPED_BLOB * peer->n_skipped;
}

int
sk_peer_serialize(const struct sk_peer *peer, uint8_t *buf, size_t cap, size_t *len)
{
	uint8_t *p;
	size_t i, need;

	if (peer == NULL || buf == NULL || len == NULL || peer->n_skipped > SK_MAX_STORED)
		return SK_ERR_ARG;
	need = sk_peer_serialized_size(peer);
	if (cap < need)
		return SK_ERR_ARG;
	buf[0] = SK_VERSION;
	be32_put(buf + 1, peer->key_id);
	be32_put(buf + 5, peer->iteration);
	memcpy(buf + 9, peer->ck, 32);
	memcpy(buf + 41, peer->sign_pk, 32);
	buf[73] = (uint8_t)(peer->n_skipped >> 8);
	buf[74] = (uint8_t)peer->n_skipped;
	p = buf + SK_PEER_BLOB_MIN;
	for (i = 0; i < peer->n_skipped; i++, p += SK_SKIPPED_BLOB) {
		be32_put(p, peer->skipped[i].iteration);
		memcpy(p + 4, peer->skipped[i].mk, 32);
	}
	*len = need;
	return SK_OK;
}

/* The skipped keys' iterations: strictly rising, each below next. */
static int
skipped_canonical(const uint8_t *p, size_t n, uint32_t next)
{
	uint32_t prev = 0, it;
	size_t i;

	for (i = 0; i < n; i++, p += SK_SKIPPED_BLOB) {
		it = be32_get(p);
		if (it >= next || (i > 0 && it <= prev))
			return 0;
		prev = it;
	}
	return 1;
}

int
sk_peer_deserialize(struct sk_peer *peer, const uint8_t *buf, size_t len)
{
	const uint8_t *p;
	size_t n, i;

	if (peer == NULL)
		return SK_ERR_ARG;
	memset(peer, 0, sizeof *peer);
	if (buf == NULL || len < SK_PEER_BLOB_MIN || buf[0] != SK_VERSION)
		return SK_ERR_FORMAT;
	n = (size_t)buf[73] << 8 | buf[74];
	if (n > SK_MAX_STORED || len != SK_PEER_BLOB_MIN + SK_SKIPPED_BLOB * n ||
	    crypto_core_ed25519_is_valid_point(buf + 41) != 1 ||
	    !skipped_canonical(buf + SK_PEER_BLOB_MIN, n, be32_get(buf + 5)))
		return SK_ERR_FORMAT;
	if (n > 0 && reserve_skipped(peer, n) != SK_OK)
		return SK_ERR_ARG;
	peer->key_id = be32_get(buf + 1);
	peer->iteration = be32_get(buf + 5);
	memcpy(peer->ck, buf + 9, 32);
	memcpy(peer->sign_pk, buf + 41, 32);
	p = buf + SK_PEER_BLOB_MIN;
	for (i = 0; i < n; i++, p += SK_SKIPPED_BLOB) {
		peer->skipped[i].iteration = be32_get(p);
		memcpy(peer->skipped[i].mk, p + 4, 32);
	}
	peer->n_skipped = n;
	return SK_OK;
}
