/*
 * crypto.h - the keys and the signatures and MACs of docs/PROTOCOL.md that
 * both sides make or check: a device's keys (an Ed25519 identity key that
 * signs an X25519 exchange key), the session signature of register, auth and
 * linkDevice, the approval of a new device, and the link MAC. Part of
 * common/, the protocol core linked into libchat and chat-server; internal
 * (not installed). The labels and sizes are protocol.h's; the client's
 * envelope, identity file, link codes and safety numbers are client-lib/e2e.h's.
 *
 * Precondition for every function here: the caller has called sodium_init()
 * successfully.  libchat does this in chat_client_new(), chat-server in
 * main(); stand-alone users (e.g. the unit tests) must do it themselves.  We
 * deliberately do not call it lazily: a hidden initialisation inside a
 * crypto primitive would hide a failed init (no entropy source) until the
 * worst possible moment.
 *
 * Functions returning int return 0 on success and -1 on any failure.
 */
#ifndef CHAT_CRYPTO_H
#define CHAT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

#define E2E_SIGN_SK_BYTES 64 /* libsodium ed25519 secret key (seed||pk) */

/* A device's keys. Its identity key (sign_pk) and exchange key (x_pk),
 * with x_sig, are what register, linkDevice and getKeys carry. */
struct e2e_identity {
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
 * domain is the request's label (PROTO_LABEL_REGISTER, _AUTH or _LINK);
 * server is the server's name as the client was given it, "host:port"
 * (proto_server_name(); PROTOCOL.md, "The session signature"); binding is
 * empty (binding_len 0) on ws:// and the connection's 32-byte TLS exporter
 * (RFC 9266) on wss://. So a signature made for one server, or one TLS
 * connection, is worth nothing on another: a server cannot relay another
 * server's challenge and act as the device. The server name ends at its 0x00
 * and the binding has a fixed length, so the encoding is unambiguous. server
 * must be 1 to PROTO_SERVER_NAME_MAX bytes.
 */
int e2e_sign_session(uint8_t sig[64], const char *domain, const uint8_t challenge[32],
		     const char *server, const uint8_t *binding, size_t binding_len,
		     const uint8_t sign_sk[64]);
int e2e_verify_session(const uint8_t sig[64], const char *domain, const uint8_t challenge[32],
		       const char *server, const uint8_t *binding, size_t binding_len,
		       const uint8_t sign_pk[32]);

/*
 * Device approval (PROTOCOL.md, "Devices"): an Ed25519 signature by an existing
 * device's identity key over "chat-device-v1" || user || 0x00 || ik || xk of the
 * device it lets join. Both return 0 on success, -1 otherwise.
 */
int e2e_sign_device(uint8_t sig[64], const char *user, const uint8_t ik[32], const uint8_t xk[32],
		    const uint8_t approver_sk[64]);
int e2e_verify_device(const uint8_t sig[64], const char *user, const uint8_t ik[32],
		      const uint8_t xk[32], const uint8_t approver_pk[32]);

/*
 * The link MAC (PROTOCOL.md, "Devices"). A new device draws a random secret
 * of PROTO_LINK_SECRET_BYTES (80 bits), shows it as its link code
 * (e2e_link_code() in client-lib/e2e.h), and proves its keys with this MAC
 * under it; the server never sees the secret, so it can neither swap the keys
 * nor grind a code for keys of its own. The MAC of a request to join user
 * with keys ik, xk:
 *   key = HKDF-SHA256(salt = 32 zero bytes, IKM = secret,
 *                     info = "chat-link-code-v2", L = 32)
 *   mac = HMAC-SHA256(key, "chat-link-code-v2" || user || 0x00 || ik || xk)
 * 0, or -1 (mac zeroed).
 */
int e2e_link_mac(uint8_t mac[PROTO_LINK_MAC_BYTES], const uint8_t secret[PROTO_LINK_SECRET_BYTES],
		 const char *user, const uint8_t ik[32], const uint8_t xk[32]);
/* 0 if mac is the link MAC of (user, ik, xk) under secret (compared in
 * constant time), else -1. */
int e2e_link_mac_verify(const uint8_t mac[PROTO_LINK_MAC_BYTES],
			const uint8_t secret[PROTO_LINK_SECRET_BYTES], const char *user,
			const uint8_t ik[32], const uint8_t xk[32]);

#endif /* CHAT_CRYPTO_H */
