/*
 * ratchet.c - the Double Ratchet over libsodium (construction in ratchet.h).
 *
 * Decryption is transactional: the candidate chain keys, skipped keys and
 * root key are computed in locals, and the state is changed only after the
 * AEAD has accepted the message, so a forged, replayed or tampered message
 * leaves the session exactly as it was.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "chain.h"
#include "hkdf.h"
#include "ratchet.h"

#define AD_LABEL_LEN (sizeof RATCHET_LABEL_AD - 1)
#define FIXED_BLOB   (1 + 1 + 6 * 32 + 12 + X3DH_AD_BYTES + 1 + 2)
#define SKIPPED_BLOB (32 + 4 + 32)

static int
kdf_rk(uint8_t rk_out[32], uint8_t ck_out[32], const uint8_t rk[32], const uint8_t dh[32])
{
	uint8_t okm[64];
	int rc = chat_hkdf_sha256(okm, sizeof okm, rk, 32, dh, 32,
				  (const uint8_t *)RATCHET_LABEL_ROOT, sizeof RATCHET_LABEL_ROOT - 1);

	if (rc == 0) {
		memcpy(rk_out, okm, 32);
		memcpy(ck_out, okm + 32, 32);
	}
	sodium_memzero(okm, sizeof okm);
	return rc == 0 ? RATCHET_OK : RATCHET_ERR_ARG;
}

/* KDF_CK and the message keys: chain.h. */
static int
kdf_ck(uint8_t mk[32], uint8_t ck[32])
{
	return chain_kdf_ck(mk, ck) == 0 ? RATCHET_OK : RATCHET_ERR_ARG;
}

static int
dh(uint8_t out[32], const uint8_t sk[32], const uint8_t pk[32])
{
	return crypto_scalarmult(out, sk, pk) == 0 ? RATCHET_OK : RATCHET_ERR_HEADER;
}

static int
new_pair(uint8_t sk[32], uint8_t pk[32], const uint8_t *fixed)
{
	if (fixed != NULL)
		memcpy(sk, fixed, 32);
	else
		randombytes_buf(sk, 32);
	return crypto_scalarmult_base(pk, sk) == 0 ? RATCHET_OK : RATCHET_ERR_ARG;
}

/* ---- AD ----------------------------------------------------------------- */

/* The AEAD's associated data (ratchet.h); malloc'd, NULL on a bad field. */
static uint8_t *
build_ad(const struct ratchet_state *st, const struct ratchet_ad *a, const uint8_t hdr[40],
	 size_t *len)
{
	uint8_t *buf, *p;
	size_t n;

	if (!chain_field_ok(a->chat_id, a->chat_id_len) || !chain_field_ok(a->msg_id, a->msg_id_len) ||
	    !chain_field_ok(a->sender_user, a->sender_user_len) ||
	    !chain_field_ok(a->recipient_user, a->recipient_user_len))
		return NULL;
	n = AD_LABEL_LEN + 2 + X3DH_AD_BYTES + RATCHET_HEADER_BYTES + 2 + a->chat_id_len + 2 +
	    a->msg_id_len + 2 + a->sender_user_len + 4 + 2 + a->recipient_user_len + 4;
	buf = malloc(n);
	if (buf == NULL)
		return NULL;
	memcpy(buf, RATCHET_LABEL_AD, AD_LABEL_LEN);
	p = chain_put_field(buf + AD_LABEL_LEN, st->ad, X3DH_AD_BYTES);
	memcpy(p, hdr, RATCHET_HEADER_BYTES);
	p += RATCHET_HEADER_BYTES;
	p = chain_put_field(p, a->chat_id, a->chat_id_len);
	p = chain_put_field(p, a->msg_id, a->msg_id_len);
	p = chain_put_field(p, a->sender_user, a->sender_user_len);
	be32_put(p, a->sender_device);
	p = chain_put_field(p + 4, a->recipient_user, a->recipient_user_len);
	be32_put(p, a->recipient_device);
	*len = n;
	return buf;
}

static int
msg_keys(uint8_t kn[56], const uint8_t mk[32])
{
	return chain_msg_keys(kn, mk, RATCHET_LABEL_MSG, sizeof RATCHET_LABEL_MSG - 1) == 0
		       ? RATCHET_OK
		       : RATCHET_ERR_ARG;
}

/* Open in (header || ct) with mk into pt; RATCHET_ERR_AUTH if refused. */
static int
open_msg(const struct ratchet_state *st, const struct ratchet_ad *a, const uint8_t mk[32],
	 const uint8_t *in, size_t in_len, uint8_t *pt, size_t *pt_len)
{
	uint8_t kn[56], *adb;
	size_t adl = 0;
	unsigned long long ptl = 0;
	int rc;

	adb = build_ad(st, a, in, &adl);
	if (adb == NULL)
		return RATCHET_ERR_ARG;
	rc = msg_keys(kn, mk);
	if (rc == RATCHET_OK &&
	    crypto_aead_xchacha20poly1305_ietf_decrypt(
		    pt, &ptl, NULL, in + RATCHET_HEADER_BYTES, in_len - RATCHET_HEADER_BYTES, adb,
		    adl, kn + 32, kn) != 0)
		rc = RATCHET_ERR_AUTH;
	sodium_memzero(kn, sizeof kn);
	free(adb);
	if (rc == RATCHET_OK)
		*pt_len = (size_t)ptl;
	return rc;
}

/* ---- init, encrypt ------------------------------------------------------ */

void
ratchet_wipe(struct ratchet_state *st)
{
	if (st == NULL)
		return;
	if (st->skipped != NULL) {
		sodium_memzero(st->skipped, st->cap_skipped * sizeof *st->skipped);
		free(st->skipped);
	}
	sodium_memzero(st, sizeof *st);
}

int
ratchet_init_alice(struct ratchet_state *st, const uint8_t sk[32],
		   const uint8_t ad[X3DH_AD_BYTES], const uint8_t spk_b[32], const uint8_t *dhs_sk)
{
	uint8_t d[32];
	int rc;

	if (st == NULL)
		return RATCHET_ERR_ARG;
	memset(st, 0, sizeof *st);
	if (sk == NULL || ad == NULL || spk_b == NULL)
		return RATCHET_ERR_ARG;
	rc = new_pair(st->dhs_sk, st->dhs_pk, dhs_sk);
	if (rc == RATCHET_OK)
		rc = dh(d, st->dhs_sk, spk_b);
	if (rc == RATCHET_OK)
		rc = kdf_rk(st->rk, st->cks, sk, d);
	sodium_memzero(d, sizeof d);
	if (rc != RATCHET_OK) {
		ratchet_wipe(st);
		return rc;
	}
	memcpy(st->dhr, spk_b, 32);
	memcpy(st->ad, ad, X3DH_AD_BYTES);
	st->flags = RATCHET_HAS_DHR | RATCHET_HAS_CKS;
	return RATCHET_OK;
}

int
ratchet_init_bob(struct ratchet_state *st, const uint8_t sk[32],
		 const uint8_t ad[X3DH_AD_BYTES], const uint8_t spk_sk[32],
		 const uint8_t spk_pk[32])
{
	if (st == NULL)
		return RATCHET_ERR_ARG;
	memset(st, 0, sizeof *st);
	if (sk == NULL || ad == NULL || spk_sk == NULL || spk_pk == NULL)
		return RATCHET_ERR_ARG;
	memcpy(st->rk, sk, 32);
	memcpy(st->dhs_sk, spk_sk, 32);
	memcpy(st->dhs_pk, spk_pk, 32);
	memcpy(st->ad, ad, X3DH_AD_BYTES);
	return RATCHET_OK;
}

static void
make_header(uint8_t hdr[40], const uint8_t dh_pub[32], uint32_t pn, uint32_t n)
{
	memcpy(hdr, dh_pub, 32);
	be32_put(hdr + 32, pn);
	be32_put(hdr + 36, n);
}

int
ratchet_encrypt(struct ratchet_state *st, const struct ratchet_ad *a, const uint8_t *pt,
		size_t pt_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
	uint8_t ck[32], mk[32], kn[56], *adb;
	size_t adl = 0;
	unsigned long long ctl = 0;
	int rc;

	if (st == NULL || a == NULL || (pt == NULL && pt_len > 0) || out == NULL ||
	    out_len == NULL || pt_len > SIZE_MAX - RATCHET_OVERHEAD ||
	    out_cap < pt_len + RATCHET_OVERHEAD)
		return RATCHET_ERR_ARG;
	if (!(st->flags & RATCHET_HAS_CKS))
		return RATCHET_ERR_NO_CHAIN;
	if (st->ns == UINT32_MAX)
		return RATCHET_ERR_ARG; /* 2^32 messages in one chain: never in practice */
	make_header(out, st->dhs_pk, st->pn, st->ns);
	adb = build_ad(st, a, out, &adl);
	if (adb == NULL)
		return RATCHET_ERR_ARG;
	memcpy(ck, st->cks, 32);
	rc = kdf_ck(mk, ck);
	if (rc == RATCHET_OK)
		rc = msg_keys(kn, mk);
	if (rc == RATCHET_OK &&
	    crypto_aead_xchacha20poly1305_ietf_encrypt(out + RATCHET_HEADER_BYTES, &ctl, pt,
						       pt_len, adb, adl, NULL, kn + 32, kn) != 0)
		rc = RATCHET_ERR_ARG;
	if (rc == RATCHET_OK) {
		memcpy(st->cks, ck, 32);
		st->ns++;
		*out_len = RATCHET_HEADER_BYTES + (size_t)ctl;
	}
	sodium_memzero(ck, sizeof ck);
	sodium_memzero(mk, sizeof mk);
	sodium_memzero(kn, sizeof kn);
	free(adb);
	return rc;
}

/* ---- decrypt ------------------------------------------------------------ */

/* Skipped keys computed during one decryption, committed on success. */
struct pending {
	struct ratchet_skipped *k;
	size_t n, cap;
};

static void
pending_free(struct pending *p)
{
	if (p->k != NULL) {
		sodium_memzero(p->k, p->cap * sizeof *p->k);
		free(p->k);
	}
	memset(p, 0, sizeof *p);
}

/* Advance ck from *from to until (exclusive), appending each key to p. */
static int
skip_keys(struct pending *p, uint8_t ck[32], const uint8_t dh_pub[32], uint32_t from,
	  uint32_t until)
{
	uint32_t i;

	for (i = from; i < until; i++) {
		struct ratchet_skipped *s;

		if (p->k == NULL || p->n >= p->cap)
			return RATCHET_ERR_ARG; /* sized by the caller; cannot happen */
		s = &p->k[p->n];
		memcpy(s->dh, dh_pub, 32);
		s->n = i;
		if (kdf_ck(s->mk, ck) != RATCHET_OK)
			return RATCHET_ERR_ARG;
		p->n++;
	}
	return RATCHET_OK;
}

static long
find_skipped(const struct ratchet_state *st, const uint8_t dh_pub[32], uint32_t n)
{
	size_t i;

	for (i = 0; i < st->n_skipped; i++)
		if (st->skipped[i].n == n && sodium_memcmp(st->skipped[i].dh, dh_pub, 32) == 0)
			return (long)i;
	return -1;
}

static void
drop_skipped(struct ratchet_state *st, size_t i)
{
	memmove(&st->skipped[i], &st->skipped[i + 1],
		(st->n_skipped - i - 1) * sizeof *st->skipped);
	st->n_skipped--;
	sodium_memzero(&st->skipped[st->n_skipped], sizeof *st->skipped);
}

/* Room for RATCHET_MAX_STORED keys, made before the AEAD so commit cannot fail. */
static int
reserve_skipped(struct ratchet_state *st)
{
	struct ratchet_skipped *k;

	if (st->cap_skipped >= RATCHET_MAX_STORED)
		return RATCHET_OK;
	k = calloc(RATCHET_MAX_STORED, sizeof *k);
	if (k == NULL)
		return RATCHET_ERR_ARG;
	if (st->n_skipped > 0)
		memcpy(k, st->skipped, st->n_skipped * sizeof *k);
	if (st->skipped != NULL) {
		sodium_memzero(st->skipped, st->cap_skipped * sizeof *k);
		free(st->skipped);
	}
	st->skipped = k;
	st->cap_skipped = RATCHET_MAX_STORED;
	return RATCHET_OK;
}

/* Append p's keys, dropping the oldest beyond RATCHET_MAX_STORED. */
static void
commit_skipped(struct ratchet_state *st, const struct pending *p)
{
	size_t add = p->n, from = 0, total, drop;

	if (add == 0)
		return;
	if (add > RATCHET_MAX_STORED) {
		from = add - RATCHET_MAX_STORED;
		add = RATCHET_MAX_STORED;
	}
	total = st->n_skipped + add;
	drop = total > RATCHET_MAX_STORED ? total - RATCHET_MAX_STORED : 0;
	if (drop > 0) {
		sodium_memzero(st->skipped, drop * sizeof *st->skipped);
		memmove(st->skipped, st->skipped + drop,
			(st->n_skipped - drop) * sizeof *st->skipped);
		st->n_skipped -= drop;
	}
	memcpy(st->skipped + st->n_skipped, p->k + from, add * sizeof *p->k);
	st->n_skipped += add;
}

static int
is_old_chain(const struct ratchet_state *st, const uint8_t dh_pub[32])
{
	unsigned i;

	for (i = 0; i < st->n_old; i++)
		if (sodium_memcmp(st->old_dhr[i], dh_pub, 32) == 0)
			return 1;
	return 0;
}

static void
push_old_chain(struct ratchet_state *st)
{
	if (st->n_old == RATCHET_OLD_CHAINS) {
		memmove(st->old_dhr[0], st->old_dhr[1], (RATCHET_OLD_CHAINS - 1) * 32);
		st->n_old--;
	}
	memcpy(st->old_dhr[st->n_old++], st->dhr, 32);
}

/* Step 1 of ratchet.h: a stored skipped key. */
static int
decrypt_skipped(struct ratchet_state *st, const struct ratchet_ad *a, size_t idx,
		const uint8_t *in, size_t in_len, uint8_t *pt, size_t *pt_len)
{
	int rc = open_msg(st, a, st->skipped[idx].mk, in, in_len, pt, pt_len);

	if (rc == RATCHET_OK)
		drop_skipped(st, idx);
	return rc;
}

/* Step 2: the current receiving chain. */
static int
decrypt_current(struct ratchet_state *st, const struct ratchet_ad *a, uint32_t n,
		const uint8_t *in, size_t in_len, uint8_t *pt, size_t *pt_len)
{
	struct pending p = { 0 };
	uint8_t ck[32], mk[32];
	int rc;

	if (!(st->flags & RATCHET_HAS_CKR))
		return RATCHET_ERR_AUTH; /* Alice's DHr is Bob's prekey: he never sends on it */
	if (n < st->nr)
		return RATCHET_ERR_DUPLICATE;
	if (n - st->nr > RATCHET_MAX_SKIP)
		return RATCHET_ERR_TOO_FAR;
	rc = reserve_skipped(st);
	if (rc != RATCHET_OK)
		return rc;
	p.cap = n - st->nr;
	p.k = p.cap > 0 ? calloc(p.cap, sizeof *p.k) : NULL;
	if (p.cap > 0 && p.k == NULL)
		return RATCHET_ERR_ARG;
	memcpy(ck, st->ckr, 32);
	rc = skip_keys(&p, ck, st->dhr, st->nr, n);
	if (rc == RATCHET_OK)
		rc = kdf_ck(mk, ck);
	if (rc == RATCHET_OK)
		rc = open_msg(st, a, mk, in, in_len, pt, pt_len);
	if (rc == RATCHET_OK) {
		commit_skipped(st, &p);
		memcpy(st->ckr, ck, 32);
		st->nr = n + 1;
	}
	sodium_memzero(ck, sizeof ck);
	sodium_memzero(mk, sizeof mk);
	pending_free(&p);
	return rc;
}

/* What a DH ratchet step would make; copied into the state on success. */
struct step {
	uint8_t rk[32], ckr[32], cks[32], dhs_sk[32], dhs_pk[32], mk[32];
};

/* Step 4: a new ratchet key from the peer. */
static int
decrypt_step(struct ratchet_state *st, const struct ratchet_ad *a, const uint8_t dh_pub[32],
	     uint32_t pn, uint32_t n, const uint8_t *in, size_t in_len, uint8_t *pt,
	     size_t *pt_len)
{
	struct pending p = { 0 };
	struct step s;
	uint8_t old_ck[32], d[32];
	uint32_t old_skip = 0;
	int rc;

	/* The old chain's late messages: at most MAX_SKIP keys, the rest are
	 * given up rather than refusing the new chain (the session must go on
	 * even after more than MAX_SKIP messages were lost). */
	if ((st->flags & RATCHET_HAS_CKR) && pn > st->nr)
		old_skip = pn - st->nr > RATCHET_MAX_SKIP ? RATCHET_MAX_SKIP : pn - st->nr;
	if (n > RATCHET_MAX_SKIP)
		return RATCHET_ERR_TOO_FAR;
	rc = reserve_skipped(st);
	if (rc != RATCHET_OK)
		return rc;
	p.cap = (size_t)old_skip + n;
	p.k = p.cap > 0 ? calloc(p.cap, sizeof *p.k) : NULL;
	if (p.cap > 0 && p.k == NULL)
		return RATCHET_ERR_ARG;
	memset(&s, 0, sizeof s);
	memcpy(old_ck, st->ckr, 32);
	rc = skip_keys(&p, old_ck, st->dhr, st->nr, st->nr + old_skip);
	if (rc == RATCHET_OK)
		rc = dh(d, st->dhs_sk, dh_pub);
	if (rc == RATCHET_OK)
		rc = kdf_rk(s.rk, s.ckr, st->rk, d);
	if (rc == RATCHET_OK)
		rc = skip_keys(&p, s.ckr, dh_pub, 0, n);
	if (rc == RATCHET_OK)
		rc = kdf_ck(s.mk, s.ckr);
	/* The next sending pair before the AEAD, so that commit cannot fail. */
	if (rc == RATCHET_OK)
		rc = new_pair(s.dhs_sk, s.dhs_pk, NULL);
	if (rc == RATCHET_OK)
		rc = dh(d, s.dhs_sk, dh_pub);
	if (rc == RATCHET_OK)
		rc = kdf_rk(s.rk, s.cks, s.rk, d);
	if (rc == RATCHET_OK)
		rc = open_msg(st, a, s.mk, in, in_len, pt, pt_len);
	if (rc == RATCHET_OK) {
		commit_skipped(st, &p);
		if (st->flags & RATCHET_HAS_DHR)
			push_old_chain(st);
		memcpy(st->rk, s.rk, 32);
		memcpy(st->ckr, s.ckr, 32);
		memcpy(st->cks, s.cks, 32);
		memcpy(st->dhs_sk, s.dhs_sk, 32);
		memcpy(st->dhs_pk, s.dhs_pk, 32);
		memcpy(st->dhr, dh_pub, 32);
		st->pn = st->ns;
		st->ns = 0;
		st->nr = n + 1;
		st->flags = RATCHET_HAS_DHR | RATCHET_HAS_CKS | RATCHET_HAS_CKR;
	}
	sodium_memzero(&s, sizeof s);
	sodium_memzero(old_ck, sizeof old_ck);
	sodium_memzero(d, sizeof d);
	pending_free(&p);
	return rc;
}

int
ratchet_decrypt(struct ratchet_state *st, const struct ratchet_ad *a, const uint8_t *in,
		size_t in_len, uint8_t *pt, size_t pt_cap, size_t *pt_len)
{
	const uint8_t *dh_pub;
	uint32_t pn, n;
	long idx;
	int rc;

	if (st == NULL || a == NULL || in == NULL || pt_len == NULL || (pt == NULL && pt_cap > 0))
		return RATCHET_ERR_ARG;
	*pt_len = 0;
	if (in_len < RATCHET_OVERHEAD)
		return RATCHET_ERR_HEADER;
	if (pt_cap < in_len - RATCHET_OVERHEAD)
		return RATCHET_ERR_ARG;
	dh_pub = in;
	pn = be32_get(in + 32);
	n = be32_get(in + 36);
	idx = find_skipped(st, dh_pub, n);
	if (idx >= 0)
		rc = decrypt_skipped(st, a, (size_t)idx, in, in_len, pt, pt_len);
	else if ((st->flags & RATCHET_HAS_DHR) && sodium_memcmp(dh_pub, st->dhr, 32) == 0)
		rc = decrypt_current(st, a, n, in, in_len, pt, pt_len);
	else if (is_old_chain(st, dh_pub))
		rc = RATCHET_ERR_DUPLICATE;
	else
		rc = decrypt_step(st, a, dh_pub, pn, n, in, in_len, pt, pt_len);
	if (rc != RATCHET_OK) {
		if (pt_cap > 0)
			sodium_memzero(pt, pt_cap);
		*pt_len = 0;
	}
	return rc;
}

/* ---- serialisation ------------------------------------------------------ */

size_t
ratchet_serialized_size(const struct ratchet_state *st)
{
	return FIXED_BLOB + 32 * (size_t)st->n_old + SKIPPED_BLOB * st->n_skipped;
}

int
ratchet_serialize(const struct ratchet_state *st, uint8_t *buf, size_t cap, size_t *len)
{
	uint8_t *p = buf;
	size_t i, need;

	if (st == NULL || buf == NULL || len == NULL || st->n_old > RATCHET_OLD_CHAINS ||
	    st->n_skipped > RATCHET_MAX_STORED || (st->flags & ~7U) != 0)
		return RATCHET_ERR_ARG;
	need = ratchet_serialized_size(st);
	if (cap < need)
		return RATCHET_ERR_ARG;
	*p++ = RATCHET_VERSION;
	*p++ = (uint8_t)st->flags;
	memcpy(p, st->rk, 32);
	memcpy(p + 32, st->dhs_sk, 32);
	memcpy(p + 64, st->dhs_pk, 32);
	p += 96;
	/* Absent fields are written as zeros: one encoding per state. */
	if (st->flags & RATCHET_HAS_DHR)
		memcpy(p, st->dhr, 32);
	else
		memset(p, 0, 32);
	if (st->flags & RATCHET_HAS_CKS)
		memcpy(p + 32, st->cks, 32);
	else
		memset(p + 32, 0, 32);
	if (st->flags & RATCHET_HAS_CKR)
		memcpy(p + 64, st->ckr, 32);
	else
		memset(p + 64, 0, 32);
	p += 96;
	be32_put(p, st->ns);
	be32_put(p + 4, st->nr);
	be32_put(p + 8, st->pn);
	p += 12;
	memcpy(p, st->ad, X3DH_AD_BYTES);
	p += X3DH_AD_BYTES;
	*p++ = (uint8_t)st->n_old;
	for (i = 0; i < st->n_old; i++, p += 32)
		memcpy(p, st->old_dhr[i], 32);
	*p++ = (uint8_t)(st->n_skipped >> 8);
	*p++ = (uint8_t)st->n_skipped;
	for (i = 0; i < st->n_skipped; i++, p += SKIPPED_BLOB) {
		memcpy(p, st->skipped[i].dh, 32);
		be32_put(p + 32, st->skipped[i].n);
		memcpy(p + 36, st->skipped[i].mk, 32);
	}
	*len = need;
	return RATCHET_OK;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	return sodium_is_zero(p, n);
}

/* The fixed part (everything before the old chains); FORMAT if not canonical. */
static int
read_fixed(struct ratchet_state *st, const uint8_t *p)
{
	uint8_t pk[32];

	if (p[0] != RATCHET_VERSION || (p[1] & ~7U) != 0)
		return RATCHET_ERR_FORMAT;
	st->flags = p[1];
	p += 2;
	memcpy(st->rk, p, 32);
	memcpy(st->dhs_sk, p + 32, 32);
	memcpy(st->dhs_pk, p + 64, 32);
	p += 96;
	if (crypto_scalarmult_base(pk, st->dhs_sk) != 0 || sodium_memcmp(pk, st->dhs_pk, 32) != 0)
		return RATCHET_ERR_FORMAT;
	memcpy(st->dhr, p, 32);
	memcpy(st->cks, p + 32, 32);
	memcpy(st->ckr, p + 64, 32);
	if ((!(st->flags & RATCHET_HAS_DHR) && !all_zero(st->dhr, 32)) ||
	    (!(st->flags & RATCHET_HAS_CKS) && !all_zero(st->cks, 32)) ||
	    (!(st->flags & RATCHET_HAS_CKR) && !all_zero(st->ckr, 32)) ||
	    ((st->flags & RATCHET_HAS_CKR) && !(st->flags & RATCHET_HAS_DHR)))
		return RATCHET_ERR_FORMAT;
	p += 96;
	st->ns = be32_get(p);
	st->nr = be32_get(p + 4);
	st->pn = be32_get(p + 8);
	memcpy(st->ad, p + 12, X3DH_AD_BYTES);
	return RATCHET_OK;
}

int
ratchet_deserialize(struct ratchet_state *st, const uint8_t *buf, size_t len)
{
	const uint8_t *p;
	size_t n_old, n_skipped, i;
	int rc;

	if (st == NULL)
		return RATCHET_ERR_ARG;
	memset(st, 0, sizeof *st);
	if (buf == NULL || len < FIXED_BLOB)
		return RATCHET_ERR_FORMAT;
	rc = read_fixed(st, buf);
	p = buf + FIXED_BLOB - 3;
	n_old = p[0];
	if (rc == RATCHET_OK && n_old > RATCHET_OLD_CHAINS)
		rc = RATCHET_ERR_FORMAT;
	/* n_skipped sits after the old chains: check the length in two steps. */
	if (rc == RATCHET_OK && len < FIXED_BLOB + 32 * n_old)
		rc = RATCHET_ERR_FORMAT;
	if (rc != RATCHET_OK) {
		ratchet_wipe(st);
		return rc;
	}
	p++;
	st->n_old = (unsigned)n_old;
	memcpy(st->old_dhr, p, 32 * n_old);
	p += 32 * n_old;
	n_skipped = (size_t)p[0] << 8 | p[1];
	p += 2;
	if (n_skipped > RATCHET_MAX_STORED || len != FIXED_BLOB + 32 * n_old + SKIPPED_BLOB * n_skipped) {
		ratchet_wipe(st);
		return RATCHET_ERR_FORMAT;
	}
	if (n_skipped > 0 && reserve_skipped(st) != RATCHET_OK) {
		ratchet_wipe(st);
		return RATCHET_ERR_ARG;
	}
	for (i = 0; i < n_skipped; i++, p += SKIPPED_BLOB) {
		memcpy(st->skipped[i].dh, p, 32);
		st->skipped[i].n = be32_get(p + 32);
		memcpy(st->skipped[i].mk, p + 36, 32);
	}
	st->n_skipped = n_skipped;
	return RATCHET_OK;
}
