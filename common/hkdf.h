/*
 * hkdf.h - RFC 5869 HKDF with SHA-256, built on libsodium's HMAC-SHA256:
 * the envelope key and the link MAC's key (PROTOCOL.md). Part of common/,
 * linked into libchat and chat-server; internal (not installed).
 *
 * libsodium 1.0.18 has no HKDF (crypto_kdf_hkdf_* arrived in 1.0.19), so we
 * implement the two RFC steps directly on crypto_auth_hmacsha256_*.
 *
 * All functions return 0 on success and -1 on a bad argument (or if a
 * libsodium call fails).  On failure the output buffer is zeroed, so a caller
 * that forgets to check the return value never uses half-derived key material.
 *
 * The caller must have called sodium_init() (libchat does it in
 * chat_client_new(), chat-server in main()).
 */
#ifndef CHAT_HKDF_H
#define CHAT_HKDF_H

#include <stddef.h>
#include <stdint.h>

#define CHAT_HKDF_SHA256_HASH_BYTES 32U
/* RFC 5869 section 2.3: L <= 255 * HashLen. */
#define CHAT_HKDF_SHA256_MAX_OUT (255U * CHAT_HKDF_SHA256_HASH_BYTES)

/*
 * HKDF-Extract + HKDF-Expand.  salt may be NULL/0 (then HashLen zero bytes are
 * used, as RFC 5869 section 2.2 specifies).  ikm and info may be NULL only if
 * their length is 0.  1 <= out_len <= 255*32.  out must not overlap the
 * inputs.
 */
int chat_hkdf_sha256(uint8_t *out, size_t out_len, const uint8_t *salt, size_t salt_len,
		     const uint8_t *ikm, size_t ikm_len, const uint8_t *info, size_t info_len);

/* HKDF-Extract: prk = HMAC-SHA256(salt, ikm).  Same salt/ikm rules as above. */
int chat_hkdf_sha256_extract(uint8_t prk[32], const uint8_t *salt, size_t salt_len,
			     const uint8_t *ikm, size_t ikm_len);

/*
 * HKDF-Expand: out = first out_len bytes of T(1) || T(2) || ...
 * 1 <= out_len <= 255*32.  out may overlap prk (prk is copied first) but
 * must not overlap info.
 */
int chat_hkdf_sha256_expand(uint8_t *out, size_t out_len, const uint8_t prk[32],
			    const uint8_t *info, size_t info_len);

#endif /* CHAT_HKDF_H */
