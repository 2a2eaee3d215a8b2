/*
 * ratchet.h - the Double Ratchet of end-to-end encryption stage 2 (issue 13),
 * after Signal's specification, over X25519, HMAC-SHA256, HKDF-SHA256 and
 * XChaCha20-Poly1305-IETF. Pure: no I/O, no wire, no store yet (libchat wires
 * it later). Part of common/; internal (not installed).
 *
 * Construction (to move into PROTOCOL.md):
 *   All integers big-endian. u16(x), u32(x): 2 and 4 bytes.
 *   DH(sk, pk)  = X25519; an all-zero output (low-order pk) is refused.
 *   KDF_RK(rk, dh) = HKDF-SHA256(salt = rk, ikm = dh,
 *                    info = "chat-dr-v1 root" (15 bytes), L = 64)
 *                    -> new rk = bytes 0..31, chain key = bytes 32..63.
 *   KDF_CK(ck): mk = HMAC-SHA256(key = ck, msg = 0x01),
 *               ck' = HMAC-SHA256(key = ck, msg = 0x02).
 *   Message key: HKDF-SHA256(salt = 32 zero bytes, ikm = mk,
 *                info = "chat-dr-v1 msg" (14 bytes), L = 56)
 *                -> AEAD key = bytes 0..31, nonce = bytes 32..55.
 *   Init (SK and AD from X3DH, x3dh.h; SPK_B Bob's signed prekey):
 *     Alice: DHs = fresh X25519 pair, DHr = SPK_B,
 *            (RK, CKs) = KDF_RK(SK, DH(DHs, SPK_B)); CKr none; Ns = Nr = PN = 0.
 *     Bob:   DHs = SPK_B pair, RK = SK; no chains until Alice's first message
 *            (Bob cannot send first: RATCHET_ERR_NO_CHAIN).
 *   Header (40 bytes): DHs pub (32) || u32(PN) || u32(N).
 *   AD of the AEAD:
 *     "chat-dr-v1" (10 bytes) || u16(64) || X3DH AD (IK_A || IK_B, 64)
 *     || header (40) || u16(len) chat id || u16(len) message id
 *     || u16(len) sender user || u32(sender device)
 *     || u16(len) recipient user || u32(recipient device)
 *     (sender/recipient: of this message; each field at most 65535 bytes).
 *   Message on the wire: header (40) || XChaCha20-Poly1305-IETF ciphertext
 *     of the plaintext with that key, nonce and AD (plaintext + 16 bytes).
 *   Sending: (mk, CKs) = KDF_CK(CKs); header N = Ns; Ns += 1.
 *   Receiving, in this order (Signal's RatchetDecrypt):
 *     1. (header dh, N) is a stored skipped key: open with it, then delete it.
 *     2. dh == DHr: N < Nr -> RATCHET_ERR_DUPLICATE (key used or dropped);
 *        N - Nr > MAX_SKIP -> RATCHET_ERR_TOO_FAR; store the keys Nr..N-1 as
 *        skipped, open with key N.
 *     3. dh is one of the last RATCHET_OLD_CHAINS receiving keys ->
 *        RATCHET_ERR_DUPLICATE.
 *     4. Otherwise a DH ratchet step: store the old chain's keys Nr..PN-1,
 *        at most MAX_SKIP of them (Nr..Nr+MAX_SKIP-1; the later ones are
 *        given up, not refused, so that the session goes on after more than
 *        MAX_SKIP lost messages), then (RK, CKr) = KDF_RK(RK, DH(DHs,
 *        dh)), skip 0..N-1 (N > MAX_SKIP -> TOO_FAR), open with key N; only
 *        then DHs = fresh pair, (RK, CKs) = KDF_RK(RK, DH(DHs, dh)), PN = Ns,
 *        Ns = 0, DHr = dh.
 *     An AEAD failure -> RATCHET_ERR_AUTH. Whatever the error, the state is
 *     left exactly as it was (the work is done on copies, committed on
 *     success), so a forged or replayed message changes nothing.
 *   Bounds: MAX_SKIP = 2000 keys in one jump (per chain); at most
 *     RATCHET_MAX_STORED = 2000 skipped keys kept (oldest dropped first);
 *     the last RATCHET_OLD_CHAINS = 8 receiving ratchet keys remembered.
 *
 * Serialised state (ratchet_serialize), version 1, all integers big-endian:
 *   u8 version (1) || u8 flags (bit0 DHr set, bit1 CKs set, bit2 CKr set;
 *   others 0) || RK 32 || DHs secret 32 || DHs public 32 || DHr 32 || CKs 32
 *   || CKr 32 (absent ones: zero bytes) || u32 Ns || u32 Nr || u32 PN
 *   || X3DH AD 64 || u8 n_old (<= 8) || n_old x 32 old receiving keys
 *   || u16 n_skipped (<= 2000) || n_skipped x (dh 32 || u32 N || mk 32),
 *   oldest first. Exactly that long: 1+1+6*32+12+64+1+32*n_old+2+68*n_skipped.
 *   The reader refuses anything else (unknown version or flag, a count over
 *   its bound, a length that does not match, nonzero bytes for an absent
 *   field, a DHs public key that is not DHs secret's), so a valid blob has one
 *   encoding: serialize(deserialize(b)) == b.
 *
 * Worked example (tests/unit/test_ratchet.c, test_worked_example, checks it).
 *   Every secret is 32 copies of one byte. Alice: exchange key (IK_A) 0x0a,
 *   ephemeral EK_A 0xea, first ratchet key 0xa1. Bob: identityKey (Ed25519)
 *   seed 0x1b, exchange key (IK_B) 0x0b, signed prekey 0x5b (id 7, signed as
 *   x3dh.h says), one-time prekey 0x6b (id 42). AD fields: chat id 16 x 0x11,
 *   message id 16 x 0x22, sender "alice" device 1, recipient "bob" device 2.
 *   Plaintext "hello, Bob" (10 bytes), Alice's first message:
 *     SK     9090a6f9bf6fabaaecab16e1195acfd29eed20bbaa543a48a370b18c264f92f0
 *     header c306fb0ef2bf8b7f93bad98155fa37daec74db0c4cbeda6c6f1dba9d36558252
 *            00000000 00000000                      (DHs pub, PN 0, N 0)
 *     ct     72f31eb56f280da48801ab5a098f82ea1c656b94af273cf834b3
 *
 * The caller has called sodium_init(). Secrets are wiped with sodium_memzero.
 */
#ifndef CHAT_RATCHET_H
#define CHAT_RATCHET_H

#include <stddef.h>
#include <stdint.h>

#include "x3dh.h"

#define RATCHET_HEADER_BYTES 40U
#define RATCHET_TAG_BYTES    16U
#define RATCHET_OVERHEAD     (RATCHET_HEADER_BYTES + RATCHET_TAG_BYTES)
#define RATCHET_MAX_SKIP     2000U
#define RATCHET_MAX_STORED   2000U
#define RATCHET_OLD_CHAINS   8U
#define RATCHET_VERSION      1U
#define RATCHET_LABEL_ROOT   "chat-dr-v1 root"
#define RATCHET_LABEL_MSG    "chat-dr-v1 msg"
#define RATCHET_LABEL_AD     "chat-dr-v1"

enum ratchet_err {
	RATCHET_OK = 0,
	RATCHET_ERR_ARG = -1,       /* bad argument, buffer too small, out of memory */
	RATCHET_ERR_HEADER = -2,    /* message shorter than header + tag, low-order dh */
	RATCHET_ERR_TOO_FAR = -3,   /* would skip more than RATCHET_MAX_SKIP keys */
	RATCHET_ERR_DUPLICATE = -4, /* its key was used (replay) or given up (bounds) */
	RATCHET_ERR_AUTH = -5,      /* AEAD refused: forged, tampered or wrong AD */
	RATCHET_ERR_NO_CHAIN = -6,  /* Bob cannot send before Alice's first message */
	RATCHET_ERR_FORMAT = -7,    /* a serialised state that is not version 1's form */
};

#define RATCHET_HAS_DHR 0x01U
#define RATCHET_HAS_CKS 0x02U
#define RATCHET_HAS_CKR 0x04U

struct ratchet_skipped {
	uint8_t dh[32];
	uint32_t n;
	uint8_t mk[32];
};

/* One pairwise session's state. Zero it (or ratchet_wipe it) before init. */
struct ratchet_state {
	uint8_t rk[32];
	uint8_t dhs_sk[32], dhs_pk[32];
	uint8_t dhr[32];
	uint8_t cks[32], ckr[32];
	uint32_t ns, nr, pn;
	unsigned flags; /* RATCHET_HAS_* */
	uint8_t ad[X3DH_AD_BYTES];
	uint8_t old_dhr[RATCHET_OLD_CHAINS][32]; /* oldest first */
	unsigned n_old;
	struct ratchet_skipped *skipped; /* oldest first; heap, owned */
	size_t n_skipped, cap_skipped;
};

/* The message's fields bound into the AD (sender/recipient of this message). */
struct ratchet_ad {
	const uint8_t *chat_id;
	size_t chat_id_len;
	const uint8_t *msg_id;
	size_t msg_id_len;
	const uint8_t *sender_user;
	size_t sender_user_len;
	uint32_t sender_device;
	const uint8_t *recipient_user;
	size_t recipient_user_len;
	uint32_t recipient_device;
};

/* Alice: sk/ad from x3dh_initiate, spk_b Bob's signed prekey; dhs_sk her
 * first ratchet secret, or NULL for a fresh random one (tests pass fixed ones). */
int ratchet_init_alice(struct ratchet_state *st, const uint8_t sk[32],
		       const uint8_t ad[X3DH_AD_BYTES], const uint8_t spk_b[32],
		       const uint8_t *dhs_sk);
/* Bob: sk/ad from x3dh_respond, his signed prekey pair. */
int ratchet_init_bob(struct ratchet_state *st, const uint8_t sk[32],
		     const uint8_t ad[X3DH_AD_BYTES], const uint8_t spk_sk[32],
		     const uint8_t spk_pk[32]);

/* out (capacity out_cap >= pt_len + RATCHET_OVERHEAD) gets header || ciphertext. */
int ratchet_encrypt(struct ratchet_state *st, const struct ratchet_ad *ad, const uint8_t *pt,
		    size_t pt_len, uint8_t *out, size_t out_cap, size_t *out_len);
/* in = header || ciphertext; pt (capacity >= in_len - RATCHET_OVERHEAD) gets
 * the plaintext. On any error the state is unchanged and pt is zeroed. */
int ratchet_decrypt(struct ratchet_state *st, const struct ratchet_ad *ad, const uint8_t *in,
		    size_t in_len, uint8_t *pt, size_t pt_cap, size_t *pt_len);

/* The serialised length of st, and the blob itself (buf of at least that). */
size_t ratchet_serialized_size(const struct ratchet_state *st);
int ratchet_serialize(const struct ratchet_state *st, uint8_t *buf, size_t cap, size_t *len);
/* Reads untrusted bytes into st (overwritten; wiped on failure). */
int ratchet_deserialize(struct ratchet_state *st, const uint8_t *buf, size_t len);

/* Wipe every secret and free the skipped keys; st is then all zero. */
void ratchet_wipe(struct ratchet_state *st);

#endif /* CHAT_RATCHET_H */
