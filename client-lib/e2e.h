/*
 * e2e.h - the client's end-to-end crypto (stage 1): its identity kept on
 * disk, the sealed message envelope, link codes as people type them, and
 * safety numbers. The keys' formats and the signatures and MACs the server
 * checks too (struct e2e_identity, e2e_sign_session, e2e_sign_device,
 * e2e_link_mac, ...) are common/crypto.h's, included here; the sizes and
 * labels are common/protocol.h's.
 *
 * Precondition for every function here: the caller has called sodium_init()
 * successfully (see crypto.h).
 *
 * Functions returning int return 0 on success and -1 on any failure.
 *
 * Internal to libchat, but not only libchat's: the unit tests and the
 * benchmark (bench/crypto-cost.c: e2e_seal per recipient device, e2e_open,
 * and e2e_verify_exchange_key, which every received envelope's sender key
 * goes through) include this header (-Iclient-lib -Icommon) and link
 * build/libchat.a, where these functions are visible; libchat.so does not
 * export them.
 */
#ifndef CHAT_E2E_H
#define CHAT_E2E_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define E2E_KEY_BYTES 32 /* an envelope's XChaCha20-Poly1305 key */

/*
 * Fixed 4+32+64+32+32+64 = 228 byte blob: magic "CID1" then the fields in
 * struct order.  The blob contains secret keys: wipe it after use.
 */
#define E2E_IDENTITY_BLOB_BYTES 228
void e2e_identity_serialize(const struct e2e_identity *id, uint8_t out[E2E_IDENTITY_BLOB_BYTES]);
/*
 * Parse a blob.  Checks: len == 228, magic, sign_sk regenerates from its seed
 * to exactly (sign_sk, sign_pk), x_sk is clamped, x_pk == X25519(x_sk, 9),
 * and x_sig verifies.  Returns -1 (and wipes *id) otherwise.
 */
int e2e_identity_parse(struct e2e_identity *id, const uint8_t *in, size_t len);

/* What is bound into every envelope as AEAD associated data. */
struct e2e_header {
	const char *chat_id, *message_id;
	const char *sender_user;
	uint32_t sender_device;
	const char *recipient_user;
	uint32_t recipient_device;
};

/*
 * The two forms of envelope.  Version 2 (what e2e_seal makes) pads the
 * plaintext to a size bucket, so the ciphertext's length says little about
 * what it holds; version 1 (older libchat) did not.  The AD's label tells
 * them apart, so a version-1 envelope cannot be taken for a padded one.
 */
#define E2E_AD_V1 1 /* "chat-e2e-v1": the plaintext as it is (legacy, open only) */
#define E2E_AD_V2 2 /* "chat-e2e-v2": the plaintext padded (e2e_pad_len) */

/*
 * Canonical AD: "chat-e2e-v2" (or "chat-e2e-v1") 0x00 chat_id 0x00
 * message_id 0x00 sender_user 0x00 <sender_device in decimal> 0x00
 * recipient_user 0x00 <recipient_device in decimal>   (no trailing NUL).
 * The ids go in as the text the protocol writes them in (hex digits), not
 * decoded.  Writes at most cap bytes; returns the length, or 0 if it does
 * not fit, a string is NULL or version is neither.  NUL separators are
 * unambiguous because C strings cannot contain NUL.
 */
size_t e2e_header_ad(const struct e2e_header *h, int version, uint8_t *out, size_t cap);

/*
 * Padding (version 2).  A plaintext of n bytes gets 0x80, then 0x00 bytes,
 * up to its bucket: the smallest power of two >= max(PROTO_PAD_MIN, n + 1),
 * but never more than PROTO_MAX_PADDED, the most one envelope holds (the
 * protocol's maxCiphertext, 66,560, less the tag).  So every plaintext of up
 * to 255 bytes makes a 256-byte one, 256 to 511 bytes a 512-byte one, ...,
 * 32,768 to 65,535 bytes a 65,536-byte one, and 65,536 to 66,543 bytes a
 * 66,544-byte one.  (ISO/IEC 7816-4 padding, as libsodium's sodium_pad
 * writes it.)
 */
/* The padded size of a plaintext of n bytes, or 0 if n > PROTO_MAX_PLAINTEXT. */
size_t e2e_pad_len(size_t n);
/* The ciphertext's size for a plaintext of n bytes: e2e_pad_len(n) plus the
 * tag, or 0 if n > PROTO_MAX_PLAINTEXT. */
size_t e2e_sealed_len(size_t n);
/*
 * Finds where the padding of buf[0..len) begins: *n is the plaintext's
 * length.  Returns -1 (and *n = 0) unless the buffer ends in 0x80 followed
 * only by 0x00 bytes.  The length need not be a bucket: how much to pad is
 * the sender's choice, only the form is checked.  Constant time in len.
 */
int e2e_unpad(const uint8_t *buf, size_t len, size_t *n);
/* A malloc'd copy of pt padded to its bucket (*padded_len), or NULL (too
 * long, out of memory); wipe and free it. Stage 2 pads the same way. */
uint8_t *e2e_pad(const uint8_t *pt, size_t pt_len, size_t *padded_len);

/*
 * Seal pt for one recipient device.
 *   key   = HKDF-SHA256(salt = 32 zero bytes (RFC 5869's "not provided"),
 *                       IKM = X25519(sender_x_sk, recipient_x_pk),
 *                       info = "chat-e2e-v1 key" || sender_x_pk || recipient_x_pk,
 *                       L = 32)
 *   nonce = 24 random bytes (written to nonce_out)
 *   ct    = XChaCha20-Poly1305-IETF(key, nonce, pad(pt), AD = e2e_header_ad(h, E2E_AD_V2))
 * ct must have room for e2e_sealed_len(pt_len) bytes; *ct_len gets that.
 * pt may be NULL if pt_len is 0.  Fails if pt_len > PROTO_MAX_PLAINTEXT, if
 * the X25519 output is all-zero (small-order recipient key) or if
 * sender_x_pk is not the public key of sender_x_sk.
 */
int e2e_seal(uint8_t *ct, size_t *ct_len, uint8_t nonce_out[24], const uint8_t *pt,
	     size_t pt_len, const struct e2e_header *h, const uint8_t sender_x_sk[32],
	     const uint8_t sender_x_pk[32], const uint8_t recipient_x_pk[32]);
/* e2e_seal with the caller's nonce, for known-answer tests only: a nonce
 * used twice under one key gives away both plaintexts. */
int e2e_seal_with_nonce(uint8_t *ct, size_t *ct_len, const uint8_t nonce[24], const uint8_t *pt,
			size_t pt_len, const struct e2e_header *h, const uint8_t sender_x_sk[32],
			const uint8_t sender_x_pk[32], const uint8_t recipient_x_pk[32]);

/*
 * Open an envelope: same key derivation from the recipient side; the AD of
 * version 2 first, then (for envelopes older libchat sealed) version 1.
 * pt must have room for ct_len - 16 bytes (may be NULL if ct_len == 16);
 * *pt_len is set to the plaintext without its padding.  Returns 0,
 * E2E_OPEN_FAILED if ct is too short, if the tag fails under both labels
 * (tampered ct/nonce, different header, wrong keys) or if recipient_x_pk is
 * not the public key of recipient_x_sk, or E2E_OPEN_PADDING if it is an
 * authentic version-2 envelope whose padding is malformed (its sender's
 * client is broken or hostile).  On failure *pt_len = 0 and pt is zeroed.
 */
#define E2E_OPEN_FAILED  (-1)
#define E2E_OPEN_PADDING (-2)
int e2e_open(uint8_t *pt, size_t *pt_len, const uint8_t *ct, size_t ct_len, const uint8_t nonce[24],
	     const struct e2e_header *h, const uint8_t recipient_x_sk[32],
	     const uint8_t recipient_x_pk[32], const uint8_t sender_x_pk[32]);

/*
 * Link codes (PROTOCOL.md, "Devices"): the new device's secret of
 * PROTO_LINK_SECRET_BYTES, which keys its link MAC (crypto.h), as a person
 * reads and types it. The code is the secret in RFC 4648 base32 (16
 * characters, no padding), in four groups of four: "K7QM-2XWD-R4TP-9BNA".
 * out gets E2E_LINK_CODE_LEN + 1 bytes.
 */
#define E2E_LINK_CODE_LEN 19
void e2e_link_code(const uint8_t secret[PROTO_LINK_SECRET_BYTES], char out[E2E_LINK_CODE_LEN + 1]);
/* A code as a person typed it: the 16 base32 characters in either case, with
 * any dashes and spaces. 0 and the secret, or -1 if it is not one. */
int e2e_link_code_parse(const char *code, uint8_t secret[PROTO_LINK_SECRET_BYTES]);

/*
 * A safety number: SHA-512("chat-safety-v1" || a || 0x00 || b), where a and b are
 * two users' key lists (device id as 4 bytes big-endian, then the 32-byte identity
 * key, by device id), a being the list of the user whose name sorts first. The
 * first 30 bytes make 12 groups of 5 digits (20 bits each, mod 100000), separated
 * by spaces: out gets E2E_SAFETY_LEN + 1 bytes.
 */
#define E2E_SAFETY_LEN 71
void e2e_safety_number(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
		       char out[E2E_SAFETY_LEN + 1]);

#endif /* CHAT_E2E_H */
