/*
 * fuzz-keys.h - shared by the fuzz targets: fixed device identities, so that
 * the saved corpus can hold envelopes and signatures made for them, and a
 * scratch directory for the stores the targets need.
 */
#ifndef CHAT_FUZZ_KEYS_H
#define CHAT_FUZZ_KEYS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "e2e.h"

/* The identity numbered tag: its seeds are 32 bytes of tag (and tag + 0x40).
 * 1 is alice's device 1, 2 bob's device 1, 3 carol's device 1, 4 bob's
 * device 2 in the targets. */
static inline int
fuzz_identity(struct e2e_identity *id, uint8_t tag)
{
	uint8_t seed[32], msg[12 + 32];

	memset(seed, tag, sizeof seed);
	memset(id->x_sk, tag + 0x40, sizeof id->x_sk);
	id->x_sk[0] &= 248;
	id->x_sk[31] &= 127;
	id->x_sk[31] |= 64;
	memcpy(msg, "chat-xkey-v1", 12);
	if (crypto_sign_seed_keypair(id->sign_pk, id->sign_sk, seed) != 0 ||
	    crypto_scalarmult_base(id->x_pk, id->x_sk) != 0)
		return -1;
	memcpy(msg + 12, id->x_pk, 32);
	return crypto_sign_detached(id->x_sig, NULL, msg, sizeof msg, id->sign_sk);
}

/* A fresh directory for a target's files: under /dev/shm when there is one
 * (the stores fsync on every commit), else $TMPDIR or /tmp. Never removed:
 * a fuzzer ends by being killed. */
static inline const char *
fuzz_scratch_dir(const char *name)
{
	static char scratch[256];
	const char *base = getenv("TMPDIR");

	if (access("/dev/shm", W_OK) == 0)
		base = "/dev/shm";
	else if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(scratch, sizeof scratch, "%s/chat-fuzz-%s.XXXXXX", base, name);
	return mkdtemp(scratch);
}

#endif
