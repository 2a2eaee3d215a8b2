/*
 * x3dh.c - X3DH over libsodium (construction in x3dh.h).
 */
#include <string.h>
#include <sodium.h>

#include "crypto.h"
#include "hkdf.h"
#include "x3dh.h"

#define SPK_LABEL_LEN (sizeof X3DH_LABEL_SPK - 1)
#define SPK_MSG_LEN   (SPK_LABEL_LEN + 4 + 32)

static void
spk_message(uint8_t m[SPK_MSG_LEN], uint32_t id, const uint8_t spk[32])
{
	memcpy(m, X3DH_LABEL_SPK, SPK_LABEL_LEN);
	m[SPK_LABEL_LEN] = (uint8_t)(id >> 24);
	m[SPK_LABEL_LEN + 1] = (uint8_t)(id >> 16);
	m[SPK_LABEL_LEN + 2] = (uint8_t)(id >> 8);
	m[SPK_LABEL_LEN + 3] = (uint8_t)id;
	memcpy(m + SPK_LABEL_LEN + 4, spk, 32);
}

int
x3dh_sign_spk(uint8_t sig[64], const uint8_t sign_sk[64], uint32_t id, const uint8_t spk[32])
{
	uint8_t m[SPK_MSG_LEN];

	if (sig == NULL || sign_sk == NULL || spk == NULL)
		return X3DH_ERR_ARG;
	spk_message(m, id, spk);
	if (crypto_sign_detached(sig, NULL, m, sizeof m, sign_sk) != 0) {
		sodium_memzero(sig, 64);
		return X3DH_ERR_ARG;
	}
	return X3DH_OK;
}

int
x3dh_verify_spk(const uint8_t sig[64], const uint8_t identity_key[32], uint32_t id,
		const uint8_t spk[32])
{
	uint8_t m[SPK_MSG_LEN];

	if (sig == NULL || identity_key == NULL || spk == NULL)
		return X3DH_ERR_ARG;
	spk_message(m, id, spk);
	return crypto_sign_verify_detached(sig, m, sizeof m, identity_key) == 0
		       ? X3DH_OK
		       : X3DH_ERR_SIGNATURE;
}

/*
 * SK from the DH outputs: HKDF(salt 0^32, 0xFF^32 || dh[0] || ... , info).
 * n is 3 or 4. The ikm holds secrets and is wiped.
 */
static int
derive_sk(uint8_t sk[32], uint8_t dh[4][32], size_t n)
{
	uint8_t ikm[32 + 4 * 32];
	size_t i;
	int rc;

	memset(ikm, 0xFF, 32);
	for (i = 0; i < n; i++)
		memcpy(ikm + 32 + 32 * i, dh[i], 32);
	rc = chat_hkdf_sha256(sk, 32, NULL, 0, ikm, 32 + 32 * n, (const uint8_t *)X3DH_LABEL_INFO,
			      sizeof X3DH_LABEL_INFO - 1);
	sodium_memzero(ikm, sizeof ikm);
	return rc == 0 ? X3DH_OK : X3DH_ERR_ARG;
}

/* X25519 that refuses a low-order public key (output all zeros). */
static int
dh(uint8_t out[32], const uint8_t sk[32], const uint8_t pk[32])
{
	return crypto_scalarmult(out, sk, pk) == 0 ? X3DH_OK : X3DH_ERR_KEY;
}

int
x3dh_initiate(struct x3dh_result *out, const uint8_t ik_sk[32], const uint8_t ik_pk[32],
	      const struct x3dh_bundle *b, const uint8_t *ek_sk)
{
	uint8_t ek[32], d[4][32];
	size_t n = 3;
	int rc;

	if (out == NULL)
		return X3DH_ERR_ARG;
	memset(out, 0, sizeof *out);
	if (ik_sk == NULL || ik_pk == NULL || b == NULL)
		return X3DH_ERR_ARG;
	/* Both signatures before any secret is used with Bob's keys. */
	if (e2e_verify_exchange_key(b->identity_key, b->exchange_key, b->exchange_key_sig) != 0 ||
	    x3dh_verify_spk(b->spk_sig, b->identity_key, b->spk_id, b->spk) != X3DH_OK)
		return X3DH_ERR_SIGNATURE;
	if (ek_sk != NULL)
		memcpy(ek, ek_sk, 32);
	else
		randombytes_buf(ek, sizeof ek);
	rc = crypto_scalarmult_base(out->ek_pub, ek) == 0 ? X3DH_OK : X3DH_ERR_KEY;
	if (rc == X3DH_OK)
		rc = dh(d[0], ik_sk, b->spk);
	if (rc == X3DH_OK)
		rc = dh(d[1], ek, b->exchange_key);
	if (rc == X3DH_OK)
		rc = dh(d[2], ek, b->spk);
	if (rc == X3DH_OK && b->has_opk) {
		rc = dh(d[3], ek, b->opk);
		n = 4;
	}
	if (rc == X3DH_OK)
		rc = derive_sk(out->sk, d, n);
	sodium_memzero(ek, sizeof ek);
	sodium_memzero(d, sizeof d);
	if (rc != X3DH_OK) {
		sodium_memzero(out, sizeof *out);
		return rc;
	}
	memcpy(out->ad, ik_pk, 32);
	memcpy(out->ad + 32, b->exchange_key, 32);
	out->spk_id = b->spk_id;
	out->has_opk = b->has_opk != 0;
	out->opk_id = b->has_opk ? b->opk_id : 0;
	return X3DH_OK;
}

int
x3dh_respond(uint8_t sk[32], uint8_t ad[X3DH_AD_BYTES], const uint8_t ik_sk[32],
	     const uint8_t ik_pk[32], const uint8_t spk_sk[32], const uint8_t *opk_sk,
	     const uint8_t ik_a[32], const uint8_t ek_a[32])
{
	uint8_t d[4][32];
	size_t n = 3;
	int rc;

	if (sk == NULL || ad == NULL)
		return X3DH_ERR_ARG;
	sodium_memzero(sk, 32);
	memset(ad, 0, X3DH_AD_BYTES);
	if (ik_sk == NULL || ik_pk == NULL || spk_sk == NULL || ik_a == NULL || ek_a == NULL)
		return X3DH_ERR_ARG;
	rc = dh(d[0], spk_sk, ik_a);
	if (rc == X3DH_OK)
		rc = dh(d[1], ik_sk, ek_a);
	if (rc == X3DH_OK)
		rc = dh(d[2], spk_sk, ek_a);
	if (rc == X3DH_OK && opk_sk != NULL) {
		rc = dh(d[3], opk_sk, ek_a);
		n = 4;
	}
	if (rc == X3DH_OK)
		rc = derive_sk(sk, d, n);
	sodium_memzero(d, sizeof d);
	if (rc != X3DH_OK) {
		sodium_memzero(sk, 32);
		return rc;
	}
	memcpy(ad, ik_a, 32);
	memcpy(ad + 32, ik_pk, 32);
	return X3DH_OK;
}
