/*
 * wire2.h - the forms of a stage-2 envelope's ciphertext (end-to-end
 * encryption stage 2, PROTOCOL.md): what the first byte says the rest is,
 * and where each part lies. Pure and bounded: it reads untrusted bytes from
 * the network (tests/fuzz/fuzz-wire2.c) and copies nothing.
 *
 *   0x21 message         0x21 || ratchet message (header 40 || AEAD ct)
 *   0x22 prekey message  0x22 || base key 32 || u32 spk id || u8 has opk (0 or 1)
 *                        || u32 opk id (0 when has opk is 0) || ratchet message
 *   0x23 group message   0x23 || u16 dist len || dist || sender-key message
 *                        dist: nothing (len 0), or a whole 0x21 or 0x22 form
 *                        whose plaintext is a sender key (body kind 0x04)
 * Integers big-endian. A ratchet message is at least 56 bytes (header and
 * tag), a sender-key message at least 88 (ids 8, tag 16, signature 64).
 */
#ifndef CHAT_WIRE2_H
#define CHAT_WIRE2_H

#include <stddef.h>
#include <stdint.h>

#define WIRE2_MSG    0x21
#define WIRE2_PREKEY 0x22
#define WIRE2_GROUP  0x23
/* What a prekey message carries after its form byte, before the ratchet
 * message: base key, spk id, has opk, opk id. */
#define WIRE2_PREKEY_FIELDS 41U
#define WIRE2_RATCHET_MIN   56U
#define WIRE2_SKMSG_MIN     88U

struct wire2 {
	int form;                /* WIRE2_* */
	const uint8_t *base_key; /* prekey: the initiator's ephemeral key (32) */
	uint32_t spk_id;
	int has_opk;
	uint32_t opk_id;
	const uint8_t *fields; /* prekey: the 41 bytes of the four above, as sent */
	const uint8_t *msg;    /* 0x21/0x22: the ratchet message; 0x23: the sender-key message */
	size_t msg_len;
	const uint8_t *dist; /* 0x23: the pairwise form carrying the sender key, or NULL */
	size_t dist_len;
};

/* 0 and *w pointing into b, or -1 if b is none of the forms above. */
int wire2_parse(const uint8_t *b, size_t len, struct wire2 *w);

/* The four prekey fields into out[41]. */
void wire2_prekey_fields(uint8_t out[WIRE2_PREKEY_FIELDS], const uint8_t base_key[32],
			 uint32_t spk_id, int has_opk, uint32_t opk_id);

#endif /* CHAT_WIRE2_H */
