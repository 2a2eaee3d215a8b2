/*
 * e2e.h - Stage-1 end-to-end encryption core of libchat: the per-device
 * identity (Ed25519 identity key + signed X25519 exchange key), challenge
 * signatures, and the sealed message envelope.
 *
 * Precondition for every function here: the caller has called sodium_init()
 * successfully.  libchat does this in chat_client_new(); stand-alone users
 * (e.g. the unit tests) must do it themselves.  We deliberately do not call
 * it lazily: a hidden initialisation inside a crypto primitive would hide a
 * failed init (no entropy source) until the worst possible moment.
 *
 * Functions returning int return 0 on success and -1 on any failure.
 */
#ifndef CHAT_E2E_H
#define CHAT_E2E_H

#include <stddef.h>
#include <stdint.h>

#define E2E_PK_BYTES      32
#define E2E_SIGN_SK_BYTES 64 /* libsodium ed25519 secret key (seed||pk) */
#define E2E_SIG_BYTES     64
#define E2E_NONCE_BYTES   24
#define E2E_TAG_BYTES     16
#define E2E_KEY_BYTES     32

/* Domain strings for e2e_sign_session() / e2e_verify_session(): what a device
 * signs to register, authenticate or ask to join a user (PROTOCOL.md,
 * "Session"). The -v1 forms, which covered the challenge alone, are gone. */
#define E2E_DOMAIN_AUTH     "chat-auth-v2"
#define E2E_DOMAIN_REGISTER "chat-register-v2"
#define E2E_DOMAIN_LINK     "chat-link-v2"

struct e2e_identity { /* one device */
	uint8_t sign_pk[32];
	uint8_t sign_sk[64]; /* Ed25519 identity key */
	uint8_t x_pk[32];
	uint8_t x_sk[32]; /* X25519 exchange key */
	/* Ed25519 signature by sign_sk over "chat-xkey-v1" || x_pk
	 * (12 ASCII bytes, no NUL, then 32 bytes). */
	uint8_t x_sig[64];
};

/*
 * Fresh random keys + x_sig.  x_sk is stored already clamped (RFC 7748
 * decodeScalar25519) so that every identity has exactly one serialized form;
 * e2e_identity_parse() relies on this.  On failure *id is wiped.
 */
int e2e_identity_generate(struct e2e_identity *id);
/* sodium_memzero the whole struct. */
void e2e_identity_wipe(struct e2e_identity *id);

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

/* 0 if sig is a valid identity-key signature over "chat-xkey-v1"||x_pk, else -1. */
int e2e_verify_exchange_key(const uint8_t sign_pk[32], const uint8_t x_pk[32],
			    const uint8_t sig[64]);

/*
 * Ed25519 signature over domain || challenge, where domain is the NUL-
 * terminated string without its NUL and challenge any bytes (the building
 * block of e2e_sign_session).  The encoding has no length prefix, so only use
 * fixed domains none of which is a prefix of another.
 * challenge may be NULL only if len == 0.
 */
int e2e_sign_challenge(uint8_t sig[64], const char *domain, const uint8_t *challenge, size_t len,
		       const uint8_t sign_sk[64]);
int e2e_verify_challenge(const uint8_t sig[64], const char *domain, const uint8_t *challenge,
			 size_t len, const uint8_t sign_pk[32]);

/*
 * The message a device signs to prove itself to one server over one
 * connection (register, auth, linkDevice):
 *
 *   domain || challenge (32 bytes) || server || 0x00 || binding
 *
 * server is the server's name as the client was given it, "host:port"
 * (PROTOCOL.md, "Session"); binding is empty (binding_len 0) on ws:// and
 * the connection's 32-byte TLS exporter (RFC 9266) on wss://. So a signature
 * made for one server, or one TLS connection, is worth nothing on another:
 * a server cannot relay another server's challenge and act as the device.
 * The server name ends at its 0x00 and the binding has a fixed length, so
 * the encoding is unambiguous. server must be 1 to E2E_SERVER_NAME_MAX bytes.
 */
#define E2E_SERVER_NAME_MAX 300
#define E2E_BINDING_BYTES   32
int e2e_sign_session(uint8_t sig[64], const char *domain, const uint8_t challenge[32],
		     const char *server, const uint8_t *binding, size_t binding_len,
		     const uint8_t sign_sk[64]);
int e2e_verify_session(const uint8_t sig[64], const char *domain, const uint8_t challenge[32],
		       const char *server, const uint8_t *binding, size_t binding_len,
		       const uint8_t sign_pk[32]);

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
 * up to its bucket: the smallest power of two >= max(E2E_PAD_MIN, n + 1),
 * but never more than E2E_MAX_PADDED, the most one envelope holds (the
 * protocol's maxCiphertext, 66,560, less the tag).  So every plaintext of up
 * to 255 bytes makes a 256-byte one, 256 to 511 bytes a 512-byte one, ...,
 * 32,768 to 65,535 bytes a 65,536-byte one, and 65,536 to 66,543 bytes a
 * 66,544-byte one.  (ISO/IEC 7816-4 padding, as libsodium's sodium_pad
 * writes it.)
 */
#define E2E_PAD_MIN       256
#define E2E_MAX_PADDED    (66560 - E2E_TAG_BYTES)
#define E2E_MAX_PLAINTEXT (E2E_MAX_PADDED - 1) /* at least one byte of padding */
/* The padded size of a plaintext of n bytes, or 0 if n > E2E_MAX_PLAINTEXT. */
size_t e2e_pad_len(size_t n);
/* The ciphertext's size for a plaintext of n bytes: e2e_pad_len(n) plus the
 * tag, or 0 if n > E2E_MAX_PLAINTEXT. */
size_t e2e_sealed_len(size_t n);
/*
 * Finds where the padding of buf[0..len) begins: *n is the plaintext's
 * length.  Returns -1 (and *n = 0) unless the buffer ends in 0x80 followed
 * only by 0x00 bytes.  The length need not be a bucket: how much to pad is
 * the sender's choice, only the form is checked.  Constant time in len.
 */
int e2e_unpad(const uint8_t *buf, size_t len, size_t *n);

/*
 * Seal pt for one recipient device.
 *   key   = HKDF-SHA256(salt = 32 zero bytes (RFC 5869's "not provided"),
 *                       IKM = X25519(sender_x_sk, recipient_x_pk),
 *                       info = "chat-e2e-v1 key" || sender_x_pk || recipient_x_pk,
 *                       L = 32)
 *   nonce = 24 random bytes (written to nonce_out)
 *   ct    = XChaCha20-Poly1305-IETF(key, nonce, pad(pt), AD = e2e_header_ad(h, E2E_AD_V2))
 * ct must have room for e2e_sealed_len(pt_len) bytes; *ct_len gets that.
 * pt may be NULL if pt_len is 0.  Fails if pt_len > E2E_MAX_PLAINTEXT, if
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
 * Device approval (PROTOCOL.md, "Devices"): an Ed25519 signature by an existing
 * device's identity key over "chat-device-v1" || user || 0x00 || ik || xk of the
 * device it lets join. Both return 0 on success, -1 otherwise.
 */
#define E2E_DOMAIN_DEVICE "chat-device-v1"
int e2e_sign_device(uint8_t sig[64], const char *user, const uint8_t ik[32], const uint8_t xk[32],
		    const uint8_t approver_sk[64]);
int e2e_verify_device(const uint8_t sig[64], const char *user, const uint8_t ik[32],
		      const uint8_t xk[32], const uint8_t approver_pk[32]);

/*
 * Link codes (PROTOCOL.md, "Devices"). A new device draws a random secret of
 * E2E_LINK_SECRET_BYTES (80 bits), shows it as its code, and proves its keys
 * with a MAC under it; the server never sees the secret, so it can neither
 * swap the keys nor grind a code for keys of its own.
 *
 * The code is the secret in RFC 4648 base32 (16 characters, no padding), in
 * four groups of four: "K7QM-2XWD-R4TP-9BNA". out gets E2E_LINK_CODE_LEN + 1
 * bytes.
 */
#define E2E_LINK_SECRET_BYTES 10
#define E2E_LINK_CODE_LEN     19
#define E2E_LINK_MAC_BYTES    32
void e2e_link_code(const uint8_t secret[E2E_LINK_SECRET_BYTES], char out[E2E_LINK_CODE_LEN + 1]);
/* A code as a person typed it: the 16 base32 characters in either case, with
 * any dashes and spaces. 0 and the secret, or -1 if it is not one. */
int e2e_link_code_parse(const char *code, uint8_t secret[E2E_LINK_SECRET_BYTES]);
/*
 * The link MAC of a request to join user with keys ik, xk:
 *   key = HKDF-SHA256(salt = 32 zero bytes, IKM = secret,
 *                     info = "chat-link-code-v2", L = 32)
 *   mac = HMAC-SHA256(key, "chat-link-code-v2" || user || 0x00 || ik || xk)
 * 0, or -1 (mac zeroed).
 */
int e2e_link_mac(uint8_t mac[E2E_LINK_MAC_BYTES], const uint8_t secret[E2E_LINK_SECRET_BYTES],
		 const char *user, const uint8_t ik[32], const uint8_t xk[32]);
/* 0 if mac is the link MAC of (user, ik, xk) under secret (compared in
 * constant time), else -1. */
int e2e_link_mac_verify(const uint8_t mac[E2E_LINK_MAC_BYTES],
			const uint8_t secret[E2E_LINK_SECRET_BYTES], const char *user,
			const uint8_t ik[32], const uint8_t xk[32]);

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
