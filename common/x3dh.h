/*
 * x3dh.h - the X3DH key agreement of end-to-end encryption stage 2 (issue
 * 13), after Signal's specification (X25519, SHA-256). Pure: no I/O, no wire,
 * no store; libchat wires it later. Part of common/; internal (not installed).
 *
 * Keys (PROTOCOL.md, "Keys"): a device's identityKey (Ed25519) signs; its
 * exchangeKey (X25519) is the X3DH identity key IK. Bob publishes a signed
 * prekey SPK_B (X25519, id uint32) and one-time prekeys OPK_B (X25519, id).
 *
 * Signed prekey signature (64 bytes, Ed25519 by identityKey) over
 *     "chat-spk-v1" (11 ASCII bytes, no NUL) || id (uint32 BE) || SPK_B (32)
 *
 * Alice (initiator), with bundle {identityKey_B, IK_B, exchangeKeySig_B,
 * SPK_B, spk id, spkSig, OPK_B? + opk id}:
 *   1. verify exchangeKeySig_B (identityKey_B over "chat-xkey-v1" || IK_B)
 *      and spkSig; either failing -> X3DH_ERR_SIGNATURE, nothing derived;
 *   2. EK_A: 32 random bytes (X25519 secret), EK_A pub = X25519(EK_A, 9);
 *   3. DH1 = X25519(IK_A, SPK_B), DH2 = X25519(EK_A, IK_B),
 *      DH3 = X25519(EK_A, SPK_B), DH4 = X25519(EK_A, OPK_B) if OPK_B;
 *      a DH output of 32 zero bytes (low-order key) -> X3DH_ERR_KEY;
 *   4. SK = HKDF-SHA256(salt = 32 zero bytes,
 *                       ikm  = 0xFF x 32 || DH1 || DH2 || DH3 [|| DH4],
 *                       info = "chat-x3dh-v1" (12 bytes), L = 32);
 *   5. AD = IK_A (32) || IK_B (32)   (exchange keys; 64 bytes).
 * The initial message carries EK_A pub, the spk id and the opk id (or none);
 * IK_A is known from the sender's device keys.
 * Bob (responder) computes the same DHs from his secrets and Alice's IK_A,
 * EK_A and gets the same SK and AD. Both then start the Double Ratchet
 * (ratchet.h) with SK, AD and SPK_B as Bob's first ratchet key pair.
 *
 * Functions return X3DH_OK (0) or a negative X3DH_ERR_*; on failure every
 * output is zeroed. The caller has called sodium_init().
 */
#ifndef CHAT_X3DH_H
#define CHAT_X3DH_H

#include <stddef.h>
#include <stdint.h>
#include "protocol.h"

#define X3DH_KEY_BYTES 32U
#define X3DH_SIG_BYTES 64U
#define X3DH_AD_BYTES  64U
#define X3DH_LABEL_SPK  PROTO_LABEL_SPK /* "chat-spk-v1" */
#define X3DH_LABEL_INFO "chat-x3dh-v1"

enum x3dh_err {
	X3DH_OK = 0,
	X3DH_ERR_ARG = -1,       /* NULL argument, or a libsodium call failed */
	X3DH_ERR_SIGNATURE = -2, /* exchangeKeySig or the signed prekey's signature is forged */
	X3DH_ERR_KEY = -3,       /* a public key of low order (a DH gives all zeros) */
};

/* What getPrekeyBundle gives for one of Bob's devices. */
struct x3dh_bundle {
	uint8_t identity_key[32]; /* Ed25519: verifies the two signatures */
	uint8_t exchange_key[32]; /* IK_B, X25519 */
	uint8_t exchange_key_sig[64];
	uint32_t spk_id;
	uint8_t spk[32];
	uint8_t spk_sig[64];
	int has_opk; /* 0: Bob has no one-time prekey left; SPK only */
	uint32_t opk_id;
	uint8_t opk[32];
};

/* What Alice gets: the shared secret, the AD, and what the first message carries. */
struct x3dh_result {
	uint8_t sk[32];
	uint8_t ad[X3DH_AD_BYTES];
	uint8_t ek_pub[32];
	uint32_t spk_id;
	int has_opk;
	uint32_t opk_id;
};

/* sig = Ed25519(sign_sk, "chat-spk-v1" || id BE || spk). */
int x3dh_sign_spk(uint8_t sig[64], const uint8_t sign_sk[64], uint32_t id, const uint8_t spk[32]);
/* X3DH_OK if sig is identity_key's signature of (id, spk), else X3DH_ERR_SIGNATURE. */
int x3dh_verify_spk(const uint8_t sig[64], const uint8_t identity_key[32], uint32_t id,
		    const uint8_t spk[32]);

/*
 * Alice's side. ik_sk/ik_pk: her exchange key pair. ek_sk: her ephemeral
 * secret, or NULL for a fresh random one (the tests pass fixed bytes for the
 * worked example). On success out holds SK, AD, EK_A pub and the ids.
 */
int x3dh_initiate(struct x3dh_result *out, const uint8_t ik_sk[32], const uint8_t ik_pk[32],
		  const struct x3dh_bundle *b, const uint8_t *ek_sk);

/*
 * Bob's side. ik_sk/ik_pk: his exchange key pair; spk_sk: the signed
 * prekey's secret named by the message's spk id; opk_sk: the one-time
 * prekey's secret named by its opk id, or NULL when the message names none.
 * ik_a/ek_a: Alice's exchange key and ephemeral key. Gives SK and AD.
 */
int x3dh_respond(uint8_t sk[32], uint8_t ad[X3DH_AD_BYTES], const uint8_t ik_sk[32],
		 const uint8_t ik_pk[32], const uint8_t spk_sk[32], const uint8_t *opk_sk,
		 const uint8_t ik_a[32], const uint8_t ek_a[32]);

#endif /* CHAT_X3DH_H */
