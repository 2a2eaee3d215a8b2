/*
 * hkdf.c - RFC 5869 HKDF-SHA256 on top of libsodium's HMAC-SHA256.
 */
#include "hkdf.h"

#include <string.h>

#include <sodium.h>

/* A (pointer, length) pair is acceptable if the pointer is only NULL when
 * the length is 0. */
static int
chat_hkdf_span_ok(const uint8_t *p, size_t len)
{
	return p != NULL || len == 0;
}

int
chat_hkdf_sha256_extract(uint8_t prk[32], const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
			 size_t ikm_len)
{
	/* RFC 5869 2.2: "if not provided, [salt] is set to a string of HashLen
	 * zeros".  HMAC would pad an empty key with zeros anyway, but being
	 * explicit keeps us independent of that detail. */
	static const uint8_t zero_salt[CHAT_HKDF_SHA256_HASH_BYTES];
	crypto_auth_hmacsha256_state st;
	int rc = -1;

	if (prk == NULL)
		return -1;
	if (!chat_hkdf_span_ok(salt, salt_len) || !chat_hkdf_span_ok(ikm, ikm_len))
		goto out;
	if (salt_len == 0) {
		salt = zero_salt;
		salt_len = sizeof zero_salt;
	}
	if (crypto_auth_hmacsha256_init(&st, salt, salt_len) != 0 ||
	    crypto_auth_hmacsha256_update(&st, ikm, ikm_len) != 0 ||
	    crypto_auth_hmacsha256_final(&st, prk) != 0)
		goto out;
	rc = 0;
out:
	/* The HMAC state holds key-derived pads; never leave it on the stack. */
	sodium_memzero(&st, sizeof st);
	if (rc != 0)
		sodium_memzero(prk, CHAT_HKDF_SHA256_HASH_BYTES);
	return rc;
}

/* T(i) = HMAC(PRK, T(i-1) || info || i), with T(0) the empty string. */
static int
chat_hkdf_expand_block(uint8_t t[32], const uint8_t prk[32], const uint8_t *info, size_t info_len,
		       uint8_t counter)
{
	crypto_auth_hmacsha256_state st;
	int rc = -1;

	if (crypto_auth_hmacsha256_init(&st, prk, CHAT_HKDF_SHA256_HASH_BYTES) != 0)
		goto out;
	/* For i > 1 the buffer t still holds T(i-1). */
	if (counter > 1 && crypto_auth_hmacsha256_update(&st, t, CHAT_HKDF_SHA256_HASH_BYTES) != 0)
		goto out;
	if (crypto_auth_hmacsha256_update(&st, info, info_len) != 0 ||
	    crypto_auth_hmacsha256_update(&st, &counter, 1) != 0 ||
	    crypto_auth_hmacsha256_final(&st, t) != 0)
		goto out;
	rc = 0;
out:
	sodium_memzero(&st, sizeof st);
	return rc;
}

int
chat_hkdf_sha256_expand(uint8_t *out, size_t out_len, const uint8_t prk[32], const uint8_t *info,
			size_t info_len)
{
	uint8_t prk_copy[CHAT_HKDF_SHA256_HASH_BYTES];
	uint8_t t[CHAT_HKDF_SHA256_HASH_BYTES];
	size_t done = 0;
	unsigned counter = 1;
	int rc = -1;

	if (out == NULL)
		return -1;
	if (out_len == 0 || out_len > CHAT_HKDF_SHA256_MAX_OUT)
		return -1; /* nothing safe to zero for 0, and RFC bound for max */
	if (prk == NULL || !chat_hkdf_span_ok(info, info_len)) {
		sodium_memzero(out, out_len);
		return -1;
	}
	/* Copy the PRK first so callers may derive into the PRK's own buffer. */
	memcpy(prk_copy, prk, sizeof prk_copy);
	while (done < out_len) {
		size_t take = out_len - done;

		if (take > sizeof t)
			take = sizeof t;
		if (chat_hkdf_expand_block(t, prk_copy, info, info_len, (uint8_t)counter) != 0)
			goto out;
		memcpy(out + done, t, take);
		done += take;
		counter++; /* at most 255 thanks to the out_len bound */
	}
	rc = 0;
out:
	sodium_memzero(prk_copy, sizeof prk_copy);
	sodium_memzero(t, sizeof t);
	if (rc != 0)
		sodium_memzero(out, out_len);
	return rc;
}

int
chat_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *salt, size_t salt_len,
		 const uint8_t *ikm, size_t ikm_len, const uint8_t *info, size_t info_len)
{
	uint8_t prk[CHAT_HKDF_SHA256_HASH_BYTES];
	int rc = -1;

	if (out == NULL || out_len == 0 || out_len > CHAT_HKDF_SHA256_MAX_OUT)
		return -1;
	if (chat_hkdf_sha256_extract(prk, salt, salt_len, ikm, ikm_len) == 0 &&
	    chat_hkdf_sha256_expand(out, out_len, prk, info, info_len) == 0)
		rc = 0;
	sodium_memzero(prk, sizeof prk);
	if (rc != 0)
		sodium_memzero(out, out_len);
	return rc;
}
