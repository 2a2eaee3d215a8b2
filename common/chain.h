/*
 * chain.h - what the Double Ratchet (ratchet.h) and sender keys
 * (senderkey.h) share, and the forms of stage 2 (wire2.h) read: big-endian
 * integers, a length-prefixed AD field, and the symmetric-key chain.
 *
 *   KDF_CK(ck):  mk = HMAC-SHA256(key = ck, msg = 0x01),
 *                ck' = HMAC-SHA256(key = ck, msg = 0x02)
 *   message key: HKDF-SHA256(salt = 32 zero bytes, ikm = mk, info = label,
 *                L = 56) -> AEAD key = bytes 0..31, nonce = bytes 32..55
 *   AD field:    u16 length (big-endian) || the bytes (at most 65535)
 *
 * Pure; the caller has called sodium_init(). Secrets are wiped.
 */
#ifndef CHAT_CHAIN_H
#define CHAT_CHAIN_H

#include <stddef.h>
#include <stdint.h>

static inline void
be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* 1 if (p, len) can be an AD field: at most 65535 bytes, p only NULL if empty. */
static inline int
chain_field_ok(const uint8_t *p, size_t len)
{
	return len <= 0xFFFF && (p != NULL || len == 0);
}

/* Writes the field at p (2 + len bytes); returns where the next one goes. */
uint8_t *chain_put_field(uint8_t *p, const uint8_t *f, size_t len);

/* KDF_CK in place: mk out, ck advanced. 0, or -1 (a libsodium failure). */
int chain_kdf_ck(uint8_t mk[32], uint8_t ck[32]);

/* The AEAD key (0..31) and nonce (32..55) of message key mk under label
 * (label_len bytes, no NUL). 0 or -1. */
int chain_msg_keys(uint8_t kn[56], const uint8_t mk[32], const char *label, size_t label_len);

#endif /* CHAT_CHAIN_H */
