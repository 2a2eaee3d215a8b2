/*
 * e2e.c - the client's end-to-end crypto: its identity kept on disk, the
 * sealed message envelope (AD, key derivation, padding), link codes as
 * people type them, and safety numbers. The keys' formats and the
 * signatures and MACs the server checks too are common/crypto.c's.
 *
 * Requires sodium_init() to have been called (see e2e.h).
 */
#include "e2e.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hkdf.h"

/* Labels, used without their terminating NUL. */
static const char E2E_AD_CTX_V1[] = PROTO_LABEL_AD_V1;
static const char E2E_AD_CTX_V2[] = PROTO_LABEL_AD_V2;
static const char E2E_KDF_CTX[] = PROTO_LABEL_KDF;
static const char E2E_BLOB_MAGIC[] = "CID1"; /* the identity blob's, kept on disk only */

#define E2E_KDF_CTX_LEN    (sizeof E2E_KDF_CTX - 1)
#define E2E_MAGIC_LEN      (sizeof E2E_BLOB_MAGIC - 1)
#define E2E_KDF_INFO_BYTES (E2E_KDF_CTX_LEN + 2 * PROTO_KEY_BYTES)
/* Longest decimal uint32_t is "4294967295": 10 digits + NUL. */
#define E2E_U32_DEC_BYTES 11

/* Compile-time check that the blob layout matches the documented size. */
_Static_assert(E2E_IDENTITY_BLOB_BYTES == 4 + 32 + 64 + 32 + 32 + 64, "identity blob size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == PROTO_NONCE_BYTES &&
		       crypto_aead_xchacha20poly1305_ietf_ABYTES == PROTO_TAG_BYTES &&
		       crypto_aead_xchacha20poly1305_ietf_KEYBYTES == E2E_KEY_BYTES,
	       "libsodium sizes match e2e.h");
_Static_assert(sizeof E2E_AD_CTX_V1 == sizeof E2E_AD_CTX_V2, "AD labels of one length");

/* ------------------------------------------------------------------ */
/* Identity                                                            */
/* ------------------------------------------------------------------ */

/* 0 iff x_pk == X25519(x_sk, 9).  Catches callers passing a mismatched
 * pair, which would otherwise silently derive a key nobody else can. */
static int
e2e_x_pair_matches(const uint8_t x_sk[32], const uint8_t x_pk[32])
{
	uint8_t calc[PROTO_KEY_BYTES];
	int rc = -1;

	if (crypto_scalarmult_base(calc, x_sk) == 0 && sodium_memcmp(calc, x_pk, sizeof calc) == 0)
		rc = 0;
	sodium_memzero(calc, sizeof calc);
	return rc;
}

static int
e2e_is_clamped(const uint8_t x_sk[32])
{
	return (x_sk[0] & 7) == 0 && (x_sk[31] & 0xc0) == 0x40;
}

void
e2e_identity_serialize(const struct e2e_identity *id, uint8_t out[E2E_IDENTITY_BLOB_BYTES])
{
	uint8_t *p = out;

	memcpy(p, E2E_BLOB_MAGIC, E2E_MAGIC_LEN);
	p += E2E_MAGIC_LEN;
	memcpy(p, id->sign_pk, sizeof id->sign_pk);
	p += sizeof id->sign_pk;
	memcpy(p, id->sign_sk, sizeof id->sign_sk);
	p += sizeof id->sign_sk;
	memcpy(p, id->x_pk, sizeof id->x_pk);
	p += sizeof id->x_pk;
	memcpy(p, id->x_sk, sizeof id->x_sk);
	p += sizeof id->x_sk;
	memcpy(p, id->x_sig, sizeof id->x_sig);
}

/* 0 iff sign_sk is exactly what libsodium derives from its own seed and
 * sign_pk is its public half.  (crypto_sign_ed25519_sk_to_pk would only copy
 * the stored pk, which proves nothing.) */
static int
e2e_sign_pair_matches(const uint8_t sign_sk[64], const uint8_t sign_pk[32])
{
	uint8_t seed[crypto_sign_SEEDBYTES];
	uint8_t pk[PROTO_KEY_BYTES];
	uint8_t sk[E2E_SIGN_SK_BYTES];
	int rc = -1;

	if (crypto_sign_ed25519_sk_to_seed(seed, sign_sk) == 0 &&
	    crypto_sign_seed_keypair(pk, sk, seed) == 0 &&
	    sodium_memcmp(sk, sign_sk, sizeof sk) == 0 &&
	    sodium_memcmp(pk, sign_pk, sizeof pk) == 0)
		rc = 0;
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(pk, sizeof pk);
	return rc;
}

static void
e2e_identity_load(struct e2e_identity *id, const uint8_t *in)
{
	const uint8_t *p = in + E2E_MAGIC_LEN;

	memcpy(id->sign_pk, p, sizeof id->sign_pk);
	p += sizeof id->sign_pk;
	memcpy(id->sign_sk, p, sizeof id->sign_sk);
	p += sizeof id->sign_sk;
	memcpy(id->x_pk, p, sizeof id->x_pk);
	p += sizeof id->x_pk;
	memcpy(id->x_sk, p, sizeof id->x_sk);
	p += sizeof id->x_sk;
	memcpy(id->x_sig, p, sizeof id->x_sig);
}

int
e2e_identity_parse(struct e2e_identity *id, const uint8_t *in, size_t len)
{
	if (id == NULL)
		return -1;
	if (in == NULL || len != E2E_IDENTITY_BLOB_BYTES ||
	    memcmp(in, E2E_BLOB_MAGIC, E2E_MAGIC_LEN) != 0)
		goto fail;
	e2e_identity_load(id, in);
	if (e2e_sign_pair_matches(id->sign_sk, id->sign_pk) != 0 || !e2e_is_clamped(id->x_sk) ||
	    e2e_x_pair_matches(id->x_sk, id->x_pk) != 0 ||
	    e2e_verify_exchange_key(id->sign_pk, id->x_pk, id->x_sig) != 0)
		goto fail;
	return 0;
fail:
	e2e_identity_wipe(id);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Associated data                                                     */
/* ------------------------------------------------------------------ */

/* Append n bytes at *pos if they fit in cap; -1 otherwise. */
static int
e2e_put(uint8_t *out, size_t cap, size_t *pos, const void *data, size_t n)
{
	if (n > cap - *pos)
		return -1;
	if (n > 0)
		memcpy(out + *pos, data, n);
	*pos += n;
	return 0;
}

/* Append a string (without NUL) followed, if sep, by one 0x00 byte. */
static int
e2e_put_field(uint8_t *out, size_t cap, size_t *pos, const char *s, int sep)
{
	static const uint8_t zero = 0;

	if (e2e_put(out, cap, pos, s, strlen(s)) != 0)
		return -1;
	return sep ? e2e_put(out, cap, pos, &zero, 1) : 0;
}

/* Decimal, no leading zeros, so each device number has one encoding. */
static int
e2e_u32_dec(char buf[E2E_U32_DEC_BYTES], uint32_t v)
{
	int n = snprintf(buf, E2E_U32_DEC_BYTES, "%" PRIu32, v);

	return n > 0 && n < E2E_U32_DEC_BYTES ? 0 : -1;
}

static int
e2e_header_ok(const struct e2e_header *h)
{
	return h != NULL && h->chat_id != NULL && h->message_id != NULL && h->sender_user != NULL &&
	       h->recipient_user != NULL;
}

size_t
e2e_header_ad(const struct e2e_header *h, int version, uint8_t *out, size_t cap)
{
	char sdev[E2E_U32_DEC_BYTES], rdev[E2E_U32_DEC_BYTES];
	const char *label = version == E2E_AD_V2 ? E2E_AD_CTX_V2
			    : version == E2E_AD_V1 ? E2E_AD_CTX_V1
						   : NULL;
	size_t pos = 0;

	if (!e2e_header_ok(h) || out == NULL || label == NULL)
		return 0;
	if (e2e_u32_dec(sdev, h->sender_device) != 0 || e2e_u32_dec(rdev, h->recipient_device) != 0)
		return 0;
	if (e2e_put_field(out, cap, &pos, label, 1) != 0 ||
	    e2e_put_field(out, cap, &pos, h->chat_id, 1) != 0 ||
	    e2e_put_field(out, cap, &pos, h->message_id, 1) != 0 ||
	    e2e_put_field(out, cap, &pos, h->sender_user, 1) != 0 ||
	    e2e_put_field(out, cap, &pos, sdev, 1) != 0 ||
	    e2e_put_field(out, cap, &pos, h->recipient_user, 1) != 0 ||
	    e2e_put_field(out, cap, &pos, rdev, 0) != 0)
		return 0;
	return pos;
}

/* Upper bound on the AD length for h (0 if h is invalid), so seal/open can
 * allocate a buffer that always fits. */
static size_t
e2e_header_ad_len(const struct e2e_header *h)
{
	const char *parts[4];
	size_t total = (sizeof E2E_AD_CTX_V2 - 1) + 6; /* label + 6 separators */
	size_t i;

	if (!e2e_header_ok(h))
		return 0;
	parts[0] = h->chat_id;
	parts[1] = h->message_id;
	parts[2] = h->sender_user;
	parts[3] = h->recipient_user;
	for (i = 0; i < 4; i++) {
		size_t n = strlen(parts[i]);

		if (n > SIZE_MAX - total)
			return 0;
		total += n;
	}
	if (total > SIZE_MAX - 2 * (E2E_U32_DEC_BYTES - 1))
		return 0;
	return total + 2 * (E2E_U32_DEC_BYTES - 1); /* upper bound for digits */
}

/* Allocate and fill the AD of a version for h.  Caller frees.  NULL on error. */
static uint8_t *
e2e_header_ad_alloc(const struct e2e_header *h, int version, size_t *ad_len)
{
	size_t cap = e2e_header_ad_len(h);
	uint8_t *ad;

	if (cap == 0)
		return NULL;
	ad = malloc(cap);
	if (ad == NULL)
		return NULL;
	*ad_len = e2e_header_ad(h, version, ad, cap);
	if (*ad_len == 0) {
		free(ad);
		return NULL;
	}
	return ad;
}

/* ------------------------------------------------------------------ */
/* Key derivation                                                      */
/* ------------------------------------------------------------------ */

/*
 * key = HKDF-SHA256(salt = none, i.e. 32 zero bytes, ikm = X25519(my_sk, peer_pk),
 *                   info="chat-e2e-v1 key" || sender_pk || recipient_pk, 32)
 * Both sides put the keys into info in sender, recipient order, so the key
 * is bound to the direction of the message as well as to the two devices.
 */
static int
e2e_derive_key(uint8_t key[E2E_KEY_BYTES], const uint8_t my_sk[32], const uint8_t peer_pk[32],
	       const uint8_t sender_pk[32], const uint8_t recipient_pk[32])
{
	uint8_t shared[crypto_scalarmult_BYTES];
	uint8_t info[E2E_KDF_INFO_BYTES];
	int rc = -1;

	/* crypto_scalarmult returns -1 for an all-zero result (small-order
	 * peer key): refuse rather than encrypt under a predictable key. */
	if (crypto_scalarmult(shared, my_sk, peer_pk) != 0)
		goto out;
	memcpy(info, E2E_KDF_CTX, E2E_KDF_CTX_LEN);
	memcpy(info + E2E_KDF_CTX_LEN, sender_pk, PROTO_KEY_BYTES);
	memcpy(info + E2E_KDF_CTX_LEN + PROTO_KEY_BYTES, recipient_pk, PROTO_KEY_BYTES);
	if (chat_hkdf_sha256(key, E2E_KEY_BYTES, NULL, 0, shared, sizeof shared, info,
			     sizeof info) != 0)
		goto out;
	rc = 0;
out:
	sodium_memzero(shared, sizeof shared);
	if (rc != 0)
		sodium_memzero(key, E2E_KEY_BYTES);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Padding                                                             */
/* ------------------------------------------------------------------ */

size_t
e2e_pad_len(size_t n)
{
	size_t bucket = PROTO_PAD_MIN;

	if (n > PROTO_MAX_PLAINTEXT)
		return 0;
	while (bucket < n + 1)
		bucket *= 2;
	return bucket < PROTO_MAX_PADDED ? bucket : PROTO_MAX_PADDED;
}

size_t
e2e_sealed_len(size_t n)
{
	size_t padded = e2e_pad_len(n);

	return padded ? padded + PROTO_TAG_BYTES : 0;
}

int
e2e_unpad(const uint8_t *buf, size_t len, size_t *n)
{
	if (n == NULL)
		return -1;
	*n = 0;
	/* The whole buffer is one block: the 0x80 may be anywhere in it. */
	if (buf == NULL || len == 0 || sodium_unpad(n, buf, len, len) != 0) {
		*n = 0;
		return -1;
	}
	return 0;
}

uint8_t *
e2e_pad(const uint8_t *pt, size_t pt_len, size_t *padded_len)
{
	size_t bucket = e2e_pad_len(pt_len);
	uint8_t *buf;

	if (bucket == 0 || (buf = malloc(bucket)) == NULL)
		return NULL;
	if (pt_len > 0)
		memcpy(buf, pt, pt_len);
	/* One block of the bucket's size: exactly the bucket, 0x80 then zeros. */
	if (sodium_pad(padded_len, buf, pt_len, bucket, bucket) != 0 || *padded_len != bucket) {
		sodium_memzero(buf, bucket);
		free(buf);
		return NULL;
	}
	return buf;
}

/* ------------------------------------------------------------------ */
/* Envelope                                                            */
/* ------------------------------------------------------------------ */

int
e2e_seal_with_nonce(uint8_t *ct, size_t *ct_len, const uint8_t nonce[24], const uint8_t *pt,
		    size_t pt_len, const struct e2e_header *h, const uint8_t sender_x_sk[32],
		    const uint8_t sender_x_pk[32], const uint8_t recipient_x_pk[32])
{
	uint8_t key[E2E_KEY_BYTES];
	unsigned long long out_len = 0;
	uint8_t *ad = NULL, *padded = NULL;
	size_t ad_len = 0, padded_len = 0;
	int rc = -1;

	if (ct_len != NULL)
		*ct_len = 0;
	if (ct == NULL || ct_len == NULL || nonce == NULL || (pt == NULL && pt_len != 0) ||
	    sender_x_sk == NULL || sender_x_pk == NULL || recipient_x_pk == NULL ||
	    pt_len > PROTO_MAX_PLAINTEXT)
		return -1;
	ad = e2e_header_ad_alloc(h, E2E_AD_V2, &ad_len);
	padded = e2e_pad(pt, pt_len, &padded_len);
	if (ad == NULL || padded == NULL || e2e_x_pair_matches(sender_x_sk, sender_x_pk) != 0 ||
	    e2e_derive_key(key, sender_x_sk, recipient_x_pk, sender_x_pk, recipient_x_pk) != 0)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &out_len, padded, padded_len, ad, ad_len,
						       NULL, nonce, key) != 0 ||
	    out_len != (unsigned long long)padded_len + PROTO_TAG_BYTES)
		goto out;
	*ct_len = (size_t)out_len;
	rc = 0;
out:
	sodium_memzero(key, sizeof key);
	if (padded != NULL) {
		sodium_memzero(padded, padded_len);
		free(padded);
	}
	free(ad);
	return rc;
}

int
e2e_seal(uint8_t *ct, size_t *ct_len, uint8_t nonce_out[24], const uint8_t *pt, size_t pt_len,
	 const struct e2e_header *h, const uint8_t sender_x_sk[32], const uint8_t sender_x_pk[32],
	 const uint8_t recipient_x_pk[32])
{
	if (nonce_out == NULL)
		return -1;
	/* 192-bit random nonces: collisions are negligible even without state. */
	randombytes_buf(nonce_out, PROTO_NONCE_BYTES);
	return e2e_seal_with_nonce(ct, ct_len, nonce_out, pt, pt_len, h, sender_x_sk, sender_x_pk,
				   recipient_x_pk);
}

/* Decrypts under the AD of one version: 0, or -1 if the tag fails. */
static int
e2e_decrypt(uint8_t *pt, size_t *pt_len, const uint8_t *ct, size_t ct_len, const uint8_t nonce[24],
	    const struct e2e_header *h, int version, const uint8_t key[E2E_KEY_BYTES])
{
	unsigned long long m_len = 0;
	size_t ad_len = 0;
	uint8_t *ad = e2e_header_ad_alloc(h, version, &ad_len);
	int rc = -1;

	if (ad != NULL && crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &m_len, NULL, ct, ct_len,
								     ad, ad_len, nonce, key) == 0) {
		*pt_len = (size_t)m_len;
		rc = 0;
	}
	free(ad);
	return rc;
}

int
e2e_open(uint8_t *pt, size_t *pt_len, const uint8_t *ct, size_t ct_len, const uint8_t nonce[24],
	 const struct e2e_header *h, const uint8_t recipient_x_sk[32],
	 const uint8_t recipient_x_pk[32], const uint8_t sender_x_pk[32])
{
	uint8_t key[E2E_KEY_BYTES];
	uint8_t scratch; /* stand-in for a NULL pt when empty */
	size_t m_len = 0;
	int rc = E2E_OPEN_FAILED;

	if (pt_len == NULL)
		return E2E_OPEN_FAILED;
	*pt_len = 0;
	if (ct == NULL || ct_len < PROTO_TAG_BYTES || nonce == NULL || recipient_x_sk == NULL ||
	    recipient_x_pk == NULL || sender_x_pk == NULL ||
	    (pt == NULL && ct_len != PROTO_TAG_BYTES) || !e2e_header_ok(h))
		return E2E_OPEN_FAILED;
	if (pt == NULL)
		pt = &scratch;
	if (e2e_x_pair_matches(recipient_x_sk, recipient_x_pk) != 0 ||
	    e2e_derive_key(key, recipient_x_sk, sender_x_pk, sender_x_pk, recipient_x_pk) != 0)
		goto out;
	if (e2e_decrypt(pt, &m_len, ct, ct_len, nonce, h, E2E_AD_V2, key) == 0) {
		/* Authentic, so the sender padded it: bad padding is their fault. */
		rc = e2e_unpad(pt, m_len, pt_len) == 0 ? 0 : E2E_OPEN_PADDING;
	} else if (e2e_decrypt(pt, &m_len, ct, ct_len, nonce, h, E2E_AD_V1, key) == 0) {
		/* Sealed by an older libchat: not padded. */
		*pt_len = m_len;
		rc = 0;
	}
out:
	sodium_memzero(key, sizeof key);
	/* Never hand back unauthenticated (or malformed) plaintext. */
	if (rc != 0) {
		*pt_len = 0;
		if (pt != &scratch)
			sodium_memzero(pt, ct_len - PROTO_TAG_BYTES);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Link codes, safety numbers                                          */
/* ------------------------------------------------------------------ */

/* RFC 4648 base32, most significant bit first; the code's four groups. */
static const char e2e_b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void
e2e_link_code(const uint8_t secret[PROTO_LINK_SECRET_BYTES], char out[E2E_LINK_CODE_LEN + 1])
{
	int o = 0;

	/* 80 bits are 16 digits of 5 bits; bit i is bit 7 - i % 8 of byte i / 8. */
	for (int d = 0; d < 16; d++) {
		unsigned v = 0;

		for (int k = 0, bit = d * 5; k < 5; k++, bit++)
			v = v << 1 | ((secret[bit / 8] >> (7 - bit % 8)) & 1);
		if (d > 0 && d % 4 == 0)
			out[o++] = '-';
		out[o++] = e2e_b32[v];
	}
	out[o] = '\0';
}

int
e2e_link_code_parse(const char *code, uint8_t secret[PROTO_LINK_SECRET_BYTES])
{
	int bit = 0;

	if (code == NULL)
		return -1;
	memset(secret, 0, PROTO_LINK_SECRET_BYTES);
	for (; *code != '\0'; code++) {
		int ch = *code >= 'a' && *code <= 'z' ? *code - 'a' + 'A' : *code;
		const char *p;

		if (ch == '-' || ch == ' ')
			continue;
		p = ch != '\0' ? strchr(e2e_b32, ch) : NULL;
		if (p == NULL || bit == PROTO_LINK_SECRET_BYTES * 8) {
			sodium_memzero(secret, PROTO_LINK_SECRET_BYTES);
			return -1;
		}
		for (int k = 4; k >= 0; k--, bit++)
			if (((p - e2e_b32) >> k) & 1)
				secret[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	}
	if (bit != PROTO_LINK_SECRET_BYTES * 8) {
		sodium_memzero(secret, PROTO_LINK_SECRET_BYTES);
		return -1;
	}
	return 0;
}

void
e2e_safety_number(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
		  char out[E2E_SAFETY_LEN + 1])
{
	static const char domain[] = PROTO_LABEL_SAFETY;
	crypto_hash_sha512_state st;
	uint8_t h[64], zero = 0;
	size_t o = 0;

	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, (const uint8_t *)domain, sizeof domain - 1);
	crypto_hash_sha512_update(&st, a, a_len);
	crypto_hash_sha512_update(&st, &zero, 1);
	crypto_hash_sha512_update(&st, b, b_len);
	crypto_hash_sha512_final(&st, h);
	/* 30 bytes = 240 bits = 12 groups of 20 bits. */
	for (int g = 0; g < 12; g++) {
		int bit = g * 20;
		uint32_t v = 0;

		for (int k = 0; k < 20; k++, bit++)
			v = v << 1 | ((h[bit / 8] >> (7 - bit % 8)) & 1);
		o += (size_t)snprintf(out + o, E2E_SAFETY_LEN + 1 - o, g ? " %05u" : "%05u",
				      (unsigned)(v % 100000));
	}
}
