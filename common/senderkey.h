/*
 * senderkey.h - Sender Keys for group chats, end-to-end encryption stage 2
 * (issue 13): each device encrypts a group message once with its own sender
 * key, whose chain key and signing key it has handed to every device of the
 * chat over the pairwise sessions (ratchet.h), instead of sealing the message
 * once per recipient device. HMAC-SHA256, HKDF-SHA256, XChaCha20-Poly1305-IETF
 * and Ed25519. Pure: no I/O, no JSON, no store (libchat wires it). Part of
 * common/; internal (not installed).
 *
 * Construction (to move into PROTOCOL.md):
 *   All integers big-endian. u16(x), u32(x): 2 and 4 bytes.
 *   A sender key is one device's, for one group chat: a key id (u32, random),
 *   a chain key CK_i at iteration i (the number of the next message it
 *   sends), and an Ed25519 signing key pair.
 *   Chain:       mk_i = HMAC-SHA256(key = CK_i, msg = 0x01),
 *                CK_i+1 = HMAC-SHA256(key = CK_i, msg = 0x02).
 *   Message key: HKDF-SHA256(salt = 32 zero bytes, ikm = mk_i,
 *                info = "chat-sk-v1 msg" (14 bytes), L = 56)
 *                -> AEAD key = bytes 0..31, nonce = bytes 32..55.
 *   AD = "chat-sk-v1" (10 bytes) || u16(len) chat id || u16(len) message id
 *        || u16(len) sender user || u32(sender device) || u32(key id) || u32(i)
 *        (the chat and message ids as in the pairwise AD, their hex text;
 *        each field at most 65535 bytes).
 *   Sender-key message (SK_OVERHEAD = 88 bytes more than the plaintext):
 *        u32(key id) || u32(i) || ct || sig
 *        ct  = XChaCha20-Poly1305-IETF(key, nonce, AD, plaintext): plaintext + 16
 *              (the plaintext is pad(kind || body), padded by the caller)
 *        sig = Ed25519 detached signature (64 bytes) by the signing key over
 *              AD || u32(key id) || u32(i) || ct, i.e. over AD then every byte
 *              of the message before the signature.
 *   Distribution (body of kind 0x04, sent inside a pairwise message to each
 *   device of the chat that has not got this sender key yet), 73 bytes:
 *        0x04 || u32(key id) || u32(i) || CK_i (32) || signing public key (32)
 *        i and CK_i are the sender's current ones: the receiver can derive
 *        mk_i and every later key, never an earlier one (a device added to
 *        the chat cannot read what was sent before). The signing public key
 *        must be a valid Ed25519 point (canonical, not of small order).
 *   Sending: mk_i and CK_i+1 from CK_i; the message carries i; then i += 1.
 *   The sender never sends iteration 2^32-1 (SK_ERR_ARG): it rotates first.
 *   Receiving, with the state (key id, CK_n, next iteration n, signing
 *   public key, skipped keys) got from a distribution, in this order:
 *     1. a message shorter than SK_OVERHEAD, a key id not the state's, or
 *        i = 2^32-1 -> SK_ERR_HEADER;
 *     2. the signature is checked first, a cheap refusal of forgeries before
 *        any key is derived -> SK_ERR_SIGNATURE;
 *     3. i < n: a stored skipped key for i opens it and is then deleted;
 *        none -> SK_ERR_DUPLICATE (read already, before the distribution, or
 *        given up by the bounds);
 *     4. i - n > SK_MAX_SKIP -> SK_ERR_TOO_FAR; otherwise mk_n..mk_i-1 are
 *        stored as skipped keys, mk_i opens the message, CK becomes CK_i+1
 *        and n becomes i + 1.
 *     An AEAD failure -> SK_ERR_AUTH. Whatever the error, the state is left
 *     exactly as it was (the work is done on copies, committed on success)
 *     and the plaintext buffer is zeroed.
 *   Bounds: SK_MAX_SKIP = 2000 keys in one jump; at most SK_MAX_STORED = 2000
 *     skipped keys kept per state, the oldest dropped first.
 *
 * Serialised states, version 1, integers big-endian, each of one encoding
 * (the readers refuse anything else, so serialize(deserialize(b)) == b):
 *   sk_own, 73 bytes: u8 version (1) || u32 key id || u32 iteration || CK 32
 *     || Ed25519 seed 32 (the signing key pair is derived from it).
 *   sk_peer, 75 + 36 n bytes: u8 version (1) || u32 key id || u32 next
 *     iteration || CK 32 || signing public key 32 (a valid point) || u16 n
 *     (<= 2000) || n x (u32 iteration || mk 32), the iterations strictly
 *     rising and each below the next iteration.
 *
 * Worked example (tests/unit/test_senderkey.c, test_worked_example, checks
 * it). Key id 0x01020304, iteration 0, chain key 32 x 0x5c, signing seed
 * 32 x 0x5d. AD fields: chat id 16 x 0x11, message id 16 x 0x22, sender
 * "alice" device 1. Plaintext "hello, group" (12 bytes) || 0x80 || 243 x 0x00
 * (256 bytes). Computed independently with Python's hmac/hashlib and the
 * "cryptography" package (tests/vectors/protocol-examples.py recomputes it):
 *   sign pk  5e449ad6fa4b2d65746e8cd4f968e38c5a9679f8495db114ee06317f72f717db
 *   distribution 04 01020304 00000000 || 32 x 5c || sign pk     (73 bytes)
 *   mk_0     785aebc7e72172ef3836968e230dc2304b475124509a2513125964df51575c0a
 *   CK_1     6d201c32cbd2e89f6e0b20f78d40367f0b79476f4622dac6f0eea2bd83beeb9e
 *   message  01020304 00000000 || ct (272) || sig (64): 344 bytes, where
 *     ct begins 52dc2a54ff5c514d7feccd7d52944b26,
 *     sig      189ca296af98839aa759166c26cc16837fbcddc9d287ca1fab49a8ac837596e4
 *              f490502274f2febdf3ef7debaf3d5365afae6101d3b476716d11c42a1ef5650c
 *     SHA-256 of the 344 bytes:
 *              10e687377fdeed3c3055404f7ada1c3295628f69744446405bb257317ac537b7
 *   the second message, the same plaintext and AD fields again (iteration 1):
 *     SHA-256  87ca34bbc1ef7176d50bea79313162b33e038559a42c19ff51e3b27f1e9ea6b7
 *
 * The caller has called sodium_init(). Secrets are wiped with sodium_memzero.
 */
#ifndef CHAT_SENDERKEY_H
#define CHAT_SENDERKEY_H

#include <stddef.h>
#include <stdint.h>

#define SK_HEADER_BYTES   8U
#define SK_TAG_BYTES      16U
#define SK_SIG_BYTES      64U
#define SK_OVERHEAD       (SK_HEADER_BYTES + SK_TAG_BYTES + SK_SIG_BYTES)
#define SK_DIST_KIND      0x04U
#define SK_DIST_BYTES     73U
#define SK_OWN_FIXED      (4U + 32U + 32U) /* sk_own_new's fixed: key id, CK, seed */
#define SK_OWN_BLOB_BYTES 73U
#define SK_PEER_BLOB_MIN  75U
#define SK_SKIPPED_BLOB   36U
#define SK_MAX_SKIP       2000U
#define SK_MAX_STORED     2000U
#define SK_VERSION        1U
#define SK_LABEL_MSG      "chat-sk-v1 msg"
#define SK_LABEL_AD       "chat-sk-v1"

enum sk_err {
	SK_OK = 0,
	SK_ERR_ARG = -1,       /* bad argument, buffer too small, out of memory, chain exhausted */
	SK_ERR_HEADER = -2,    /* message too short, another key id, iteration 2^32-1 */
	SK_ERR_TOO_FAR = -3,   /* would skip more than SK_MAX_SKIP keys */
	SK_ERR_DUPLICATE = -4, /* its key was used (replay), is before the state, or was dropped */
	SK_ERR_AUTH = -5,      /* AEAD refused though signed: sealed under another chain */
	SK_ERR_SIGNATURE = -6, /* the signature is not the sender key's over this AD and message */
	SK_ERR_FORMAT = -7,    /* a distribution body or serialised state not of its form */
};

/* This device's sending state for one group chat. */
struct sk_own {
	uint32_t key_id;
	uint8_t ck[32];
	uint32_t iteration; /* of the next message sent */
	uint8_t sign_sk[64], sign_pk[32];
};

struct sk_skipped {
	uint32_t iteration;
	uint8_t mk[32];
};

/* What a receiver holds for one (chat, sender device, key id). One in use is
 * sk_peer_wipe'd before sk_peer_from_distribution or sk_peer_deserialize
 * overwrite it, or its skipped keys leak. */
struct sk_peer {
	uint32_t key_id;
	uint8_t ck[32];
	uint32_t iteration; /* the next one expected: ck is its chain key */
	uint8_t sign_pk[32];
	struct sk_skipped *skipped; /* iterations rising; heap, owned */
	size_t n_skipped, cap_skipped;
};

/* The message's fields bound into the AD and the signature. */
struct sk_ad {
	const uint8_t *chat_id;
	size_t chat_id_len;
	const uint8_t *msg_id;
	size_t msg_id_len;
	const uint8_t *sender_user;
	size_t sender_user_len;
	uint32_t sender_device;
};

/* A new sender key at iteration 0 (overwrites own). fixed is NULL for a fresh
 * random one, or SK_OWN_FIXED bytes: u32 key id || CK 32 || Ed25519 seed 32
 * (tests pass fixed ones). */
int sk_own_new(struct sk_own *own, const uint8_t *fixed);
/* The kind-0x04 body handing own's current chain to another device. */
int sk_own_distribution(const struct sk_own *own, uint8_t out[SK_DIST_BYTES]);
/* out (capacity out_cap >= pt_len + SK_OVERHEAD) gets the sender-key message
 * for the already padded pt; own's chain advances only on success. */
int sk_encrypt(struct sk_own *own, const struct sk_ad *ad, const uint8_t *pt, size_t pt_len,
	       uint8_t *out, size_t out_cap, size_t *out_len);
int sk_own_serialize(const struct sk_own *own, uint8_t *buf, size_t cap, size_t *len);
/* Reads untrusted bytes into own (overwritten; wiped on failure). */
int sk_own_deserialize(struct sk_own *own, const uint8_t *buf, size_t len);
void sk_own_wipe(struct sk_own *own);

/* A receiver's state from a distribution body (exactly SK_DIST_BYTES bytes,
 * kind 0x04; SK_ERR_FORMAT otherwise). peer is overwritten: wipe an old one
 * first. A distribution for a key id already held does not replace a state
 * at a later iteration: the messages in between would read a second time. */
int sk_peer_from_distribution(struct sk_peer *peer, const uint8_t *body, size_t len);
/* The key id of a sender-key message, to find its state; SK_ERR_HEADER if
 * msg is shorter than SK_OVERHEAD. Reads the first 4 bytes only. */
int sk_message_key_id(const uint8_t *msg, size_t len, uint32_t *key_id);
/* msg = a sender-key message; pt (capacity >= len - SK_OVERHEAD) gets the
 * plaintext (still padded). On any error peer is unchanged and pt is zeroed. */
int sk_decrypt(struct sk_peer *peer, const struct sk_ad *ad, const uint8_t *msg, size_t len,
	       uint8_t *pt, size_t pt_cap, size_t *pt_len);
/* The serialised length of peer, and the blob itself (buf of at least that). */
size_t sk_peer_serialized_size(const struct sk_peer *peer);
int sk_peer_serialize(const struct sk_peer *peer, uint8_t *buf, size_t cap, size_t *len);
/* Reads untrusted bytes into peer (overwritten; wiped on failure). */
int sk_peer_deserialize(struct sk_peer *peer, const uint8_t *buf, size_t len);
/* Wipe every secret and free the skipped keys; peer is then all zero. */
void sk_peer_wipe(struct sk_peer *peer);

#endif /* CHAT_SENDERKEY_H */
