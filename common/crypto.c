/*
 * crypto.c - the keys' formats and the signatures and MACs of
 * docs/PROTOCOL.md that both libchat and chat-server make or check
 * (crypto.h).
 *
 * Requires sodium_init() to have been called (see crypto.h).
 */
#include "crypto.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "hkdf.h"

/* Labels, used without their terminating NUL. */
static const char E2E_XKEY_CTX[] = PROTO_LABEL_XKEY;
static const char E2E_LINK_CTX[] = PROTO_LABEL_LINK_CODE;

#define E2E_XKEY_CTX_LEN   (sizeof E2E_XKEY_CTX - 1)
#define E2E_XKEY_MSG_BYTES (E2E_XKEY_CTX_LEN + PROTO_KEY_BYTES)
#define E2E_LINK_CTX_LEN   (sizeof E2E_LINK_CTX - 1)

_Static_assert(crypto_sign_PUBLICKEYBYTES == PROTO_KEY_BYTES &&
		       crypto_sign_SECRETKEYBYTES == E2E_SIGN_SK_BYTES &&
		       crypto_sign_BYTES == PROTO_SIG_BYTES &&
		       crypto_scalarmult_BYTES == PROTO_KEY_BYTES &&
		       crypto_scalarmult_SCALARBYTES == 32 &&
		       crypto_auth_hmacsha256_BYTES == PROTO_LINK_MAC_BYTES,
	       "libsodium sizes match protocol.h");

/* ------------------------------------------------------------------ */
/* Exchange-key binding                                                */
/* ------------------------------------------------------------------ */

/* The message the identity key signs to vouch for an exchange key. */
static void
e2e_xkey_message(uint8_t msg[E2E_XKEY_MSG_BYTES], const uint8_t x_pk[32])
{
	memcpy(msg, E2E_XKEY_CTX, E2E_XKEY_CTX_LEN);
	memcpy(msg + E2E_XKEY_CTX_LEN, x_pk, PROTO_KEY_BYTES);
}

int
e2e_verify_exchange_key(const uint8_t sign_pk[32], const uint8_t x_pk[32], const uint8_t sig[64])
{
	uint8_t msg[E2E_XKEY_MSG_BYTES];

	if (sign_pk == NULL || x_pk == NULL || sig == NULL)
		return -1;
	e2e_xkey_message(msg, x_pk);
	return crypto_sign_verify_detached(sig, msg, sizeof msg, sign_pk) == 0 ? 0 : -1;
}

/* RFC 7748 decodeScalar25519 clamping, applied to the stored secret so the
 * serialized identity is canonical (X25519 clamps internally anyway). */
static void
e2e_clamp(uint8_t x_sk[32])
{
	x_sk[0] &= 248;
	x_sk[31] &= 127;
	x_sk[31] |= 64;
}

/* ------------------------------------------------------------------ */
/* Identity                                                            */
/* ------------------------------------------------------------------ */

void
e2e_identity_wipe(struct e2e_identity *id)
{
	if (id != NULL)
		sodium_memzero(id, sizeof *id);
}

int
e2e_identity_generate(struct e2e_identity *id)
{
	uint8_t msg[E2E_XKEY_MSG_BYTES];

	if (id == NULL)
		return -1;
	if (crypto_sign_keypair(id->sign_pk, id->sign_sk) != 0)
		goto fail;
	randombytes_buf(id->x_sk, sizeof id->x_sk);
	e2e_clamp(id->x_sk);
	if (crypto_scalarmult_base(id->x_pk, id->x_sk) != 0)
		goto fail;
	e2e_xkey_message(msg, id->x_pk);
	if (crypto_sign_detached(id->x_sig, NULL, msg, sizeof msg, id->sign_sk) != 0)
		goto fail;
	return 0;
fail:
	e2e_identity_wipe(id);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Challenge signatures                                                */
/* ------------------------------------------------------------------ */

/* Heap buffer holding domain || challenge (Ed25519 in libsodium has no
 * streaming API for pure Ed25519, so the message must be contiguous).
 * Not secret.  Caller frees. */
static uint8_t *
e2e_challenge_message(const char *domain, const uint8_t *challenge, size_t len, size_t *msg_len)
{
	size_t dlen;
	uint8_t *msg;

	if (domain == NULL || (challenge == NULL && len != 0))
		return NULL;
	dlen = strlen(domain);
	if (dlen == 0 || len > SIZE_MAX - dlen)
		return NULL;
	msg = malloc(dlen + len > 0 ? dlen + len : 1);
	if (msg == NULL)
		return NULL;
	memcpy(msg, domain, dlen);
	if (len > 0)
		memcpy(msg + dlen, challenge, len);
	*msg_len = dlen + len;
	return msg;
}

int
e2e_sign_challenge(uint8_t sig[64], const char *domain, const uint8_t *challenge, size_t len,
		   const uint8_t sign_sk[64])
{
	size_t msg_len = 0;
	uint8_t *msg;
	int rc = -1;

	if (sig == NULL || sign_sk == NULL)
		return -1;
	msg = e2e_challenge_message(domain, challenge, len, &msg_len);
	if (msg != NULL && crypto_sign_detached(sig, NULL, msg, msg_len, sign_sk) == 0)
		rc = 0;
	free(msg);
	if (rc != 0)
		sodium_memzero(sig, PROTO_SIG_BYTES);
	return rc;
}

int
e2e_verify_challenge(const uint8_t sig[64], const char *domain, const uint8_t *challenge,
		     size_t len, const uint8_t sign_pk[32])
{
	size_t msg_len = 0;
	uint8_t *msg;
	int rc = -1;

	if (sig == NULL || sign_pk == NULL)
		return -1;
	msg = e2e_challenge_message(domain, challenge, len, &msg_len);
	if (msg != NULL && crypto_sign_verify_detached(sig, msg, msg_len, sign_pk) == 0)
		rc = 0;
	free(msg);
	return rc;
}

/* challenge || server || 0x00 || binding, the part of a session signature
 * after its domain (e2e.h), malloc'd; NULL on a bad argument. */
static uint8_t *
e2e_session_suffix(const uint8_t challenge[32], const char *server, const uint8_t *binding,
		   size_t binding_len, size_t *len)
{
	size_t sl = server != NULL ? strlen(server) : 0;
	uint8_t *m;

	if (challenge == NULL || sl == 0 || sl > PROTO_SERVER_NAME_MAX ||
	    (binding_len != 0 && binding_len != PROTO_BINDING_BYTES) ||
	    (binding == NULL && binding_len != 0))
		return NULL;
	*len = 32 + sl + 1 + binding_len;
	if ((m = malloc(*len)) == NULL)
		return NULL;
	memcpy(m, challenge, 32);
	memcpy(m + 32, server, sl);
	m[32 + sl] = 0x00;
	if (binding_len > 0)
		memcpy(m + 32 + sl + 1, binding, binding_len);
	return m;
}

int
e2e_sign_session(uint8_t sig[64], const char *domain, const uint8_t challenge[32],
		 const char *server, const uint8_t *binding, size_t binding_len,
		 const uint8_t sign_sk[64])
{
	size_t len = 0;
	uint8_t *m = e2e_session_suffix(challenge, server, binding, binding_len, &len);
	int rc = m != NULL ? e2e_sign_challenge(sig, domain, m, len, sign_sk) : -1;

	if (rc != 0 && sig != NULL)
		sodium_memzero(sig, PROTO_SIG_BYTES);
	free(m);
	return rc;
}

int
e2e_verify_session(const uint8_t sig[64], const char *domain, const uint8_t challenge[32],
		   const char *server, const uint8_t *binding, size_t binding_len,
		   const uint8_t sign_pk[32])
{
	size_t len = 0;
	uint8_t *m = e2e_session_suffix(challenge, server, binding, binding_len, &len);
	int rc = m != NULL ? e2e_verify_challenge(sig, domain, m, len, sign_pk) : -1;

	free(m);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Devices: approvals and link MACs                                    */
/* ------------------------------------------------------------------ */

/* "chat-device-v1" || user || 0x00 || ik || xk, malloc'd; NULL for a user
 * name longer than any the protocol allows. */
static uint8_t *
e2e_device_message(const char *user, const uint8_t ik[32], const uint8_t xk[32], size_t *len)
{
	size_t dl = strlen(PROTO_LABEL_DEVICE), ul = user != NULL ? strlen(user) : 0;
	uint8_t *m;

	if (user == NULL || ul > PROTO_USER_MAX || (m = malloc(dl + ul + 1 + 64)) == NULL)
		return NULL;
	memcpy(m, PROTO_LABEL_DEVICE, dl);
	memcpy(m + dl, user, ul);
	m[dl + ul] = 0;
	memcpy(m + dl + ul + 1, ik, 32);
	memcpy(m + dl + ul + 33, xk, 32);
	*len = dl + ul + 1 + 64;
	return m;
}

int
e2e_sign_device(uint8_t sig[64], const char *user, const uint8_t ik[32], const uint8_t xk[32],
		const uint8_t approver_sk[64])
{
	size_t len;
	uint8_t *m = e2e_device_message(user, ik, xk, &len);
	int rc = m != NULL && crypto_sign_detached(sig, NULL, m, len, approver_sk) == 0 ? 0 : -1;

	free(m);
	return rc;
}

int
e2e_verify_device(const uint8_t sig[64], const char *user, const uint8_t ik[32],
		  const uint8_t xk[32], const uint8_t approver_pk[32])
{
	size_t len;
	uint8_t *m = e2e_device_message(user, ik, xk, &len);
	int rc = m != NULL && crypto_sign_verify_detached(sig, m, len, approver_pk) == 0 ? 0 : -1;

	free(m);
	return rc;
}

int
e2e_link_mac(uint8_t mac[PROTO_LINK_MAC_BYTES], const uint8_t secret[PROTO_LINK_SECRET_BYTES],
	     const char *user, const uint8_t ik[32], const uint8_t xk[32])
{
	static const uint8_t zero_salt[32];
	crypto_auth_hmacsha256_state st;
	uint8_t key[32];
	int rc = -1;

	if (mac == NULL)
		return -1;
	if (secret != NULL && user != NULL && ik != NULL && xk != NULL &&
	    chat_hkdf_sha256(key, sizeof key, zero_salt, sizeof zero_salt, secret,
			     PROTO_LINK_SECRET_BYTES, (const uint8_t *)E2E_LINK_CTX,
			     E2E_LINK_CTX_LEN) == 0 &&
	    crypto_auth_hmacsha256_init(&st, key, sizeof key) == 0 &&
	    crypto_auth_hmacsha256_update(&st, (const uint8_t *)E2E_LINK_CTX, E2E_LINK_CTX_LEN) ==
		    0 &&
	    crypto_auth_hmacsha256_update(&st, (const uint8_t *)user, strlen(user) + 1) == 0 &&
	    crypto_auth_hmacsha256_update(&st, ik, 32) == 0 &&
	    crypto_auth_hmacsha256_update(&st, xk, 32) == 0 &&
	    crypto_auth_hmacsha256_final(&st, mac) == 0)
		rc = 0;
	sodium_memzero(key, sizeof key);
	sodium_memzero(&st, sizeof st);
	if (rc != 0)
		sodium_memzero(mac, PROTO_LINK_MAC_BYTES);
	return rc;
}

int
e2e_link_mac_verify(const uint8_t mac[PROTO_LINK_MAC_BYTES],
		    const uint8_t secret[PROTO_LINK_SECRET_BYTES], const char *user,
		    const uint8_t ik[32], const uint8_t xk[32])
{
	uint8_t want[PROTO_LINK_MAC_BYTES];
	int rc = -1;

	if (mac != NULL && e2e_link_mac(want, secret, user, ik, xk) == 0 &&
	    crypto_verify_32(want, mac) == 0)
		rc = 0;
	sodium_memzero(want, sizeof want);
	return rc;
}
