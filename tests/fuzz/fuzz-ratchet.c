/*
 * fuzz-ratchet.c - libFuzzer target: the Double Ratchet's untrusted inputs
 * (common/ratchet.h). The first byte picks one:
 *   0: the rest is a stored session state, as libchat will read it back
 *      from the home database: ratchet_deserialize must refuse it or accept
 *      a form that serialises back to the very same bytes, and a state it
 *      accepts must take a message without harm;
 *   1: the rest is a message (header || ciphertext) to a fixed session of
 *      Bob's: refused or read, and the skipped keys stay within their bound.
 * With RATCHET_WRITE_SEEDS=DIR in the environment, LLVMFuzzerInitialize
 * writes the starting corpus (tests/fuzz/corpus/ratchet) into DIR: its
 * files are made by the ratchet itself, so seeds.py does not write them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "ratchet.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_IN (RATCHET_OVERHEAD + 4096)

static const struct ratchet_ad AD = { (const uint8_t *)"chat", 4, (const uint8_t *)"msg", 3,
				      (const uint8_t *)"alice", 5, 1, (const uint8_t *)"bob", 3,
				      2 };

/* Bob's fixed session (SK 0x5c.., AD 0xad.., signed prekey secret 0x5b..). */
static int
bob_fixed(struct ratchet_state *st, uint8_t spk_pk[32])
{
	uint8_t sk[32], ad[X3DH_AD_BYTES], spk[32];

	memset(sk, 0x5c, sizeof sk);
	memset(ad, 0xad, sizeof ad);
	memset(spk, 0x5b, sizeof spk);
	if (crypto_scalarmult_base(spk_pk, spk) != 0)
		return -1;
	return ratchet_init_bob(st, sk, ad, spk, spk_pk);
}

static void
write_file(const char *dir, const char *name, uint8_t mode, const uint8_t *p, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fputc(mode, f) == EOF || (len > 0 && fwrite(p, 1, len, f) != len))
		abort();
	if (fclose(f) != 0)
		abort();
}

static void
write_blob(const char *dir, const char *name, const struct ratchet_state *st)
{
	uint8_t *b = malloc(ratchet_serialized_size(st));
	size_t len = 0;

	if (b == NULL || ratchet_serialize(st, b, ratchet_serialized_size(st), &len) != 0)
		abort();
	write_file(dir, name, 0, b, len);
	free(b);
}

/* Seeds: states of each shape, and messages Bob's fixed session reads. */
static void
write_seeds(const char *dir)
{
	struct ratchet_state a, b;
	uint8_t sk[32], ad[X3DH_AD_BYTES], spk_pk[32], m[3][64], pt[64];
	size_t len[3], n;
	int i;

	memset(sk, 0x5c, sizeof sk);
	memset(ad, 0xad, sizeof ad);
	if (bob_fixed(&b, spk_pk) != 0 || ratchet_init_alice(&a, sk, ad, spk_pk, NULL) != 0)
		abort();
	write_blob(dir, "state-bob-new", &b);
	write_blob(dir, "state-alice-new", &a);
	for (i = 0; i < 3; i++)
		if (ratchet_encrypt(&a, &AD, (const uint8_t *)"seed", 4, m[i], sizeof m[i],
				    &len[i]) != 0)
			abort();
	write_file(dir, "msg-0", 1, m[0], len[0]);
	write_file(dir, "msg-2", 1, m[2], len[2]);
	write_file(dir, "msg-short", 1, m[0], RATCHET_HEADER_BYTES);
	if (ratchet_decrypt(&b, &AD, m[2], len[2], pt, sizeof pt, &n) != 0)
		abort();
	write_blob(dir, "state-skipped", &b); /* two skipped keys, chains set */
	write_file(dir, "empty", 0, NULL, 0);
	ratchet_wipe(&a);
	ratchet_wipe(&b);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("RATCHET_WRITE_SEEDS");

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		return -1;
	if (dir != NULL)
		write_seeds(dir);
	return 0;
}

/* A state the reader accepted: canonical, and it takes a message. */
static void
check_state(struct ratchet_state *st, const uint8_t *blob, size_t len)
{
	static const uint8_t msg[RATCHET_OVERHEAD + 1] = { 9 };
	uint8_t *again = malloc(len), pt[8], out[RATCHET_OVERHEAD + 1];
	size_t n = 0;

	if (again == NULL)
		abort();
	if (ratchet_serialize(st, again, len, &n) != 0 || n != len || memcmp(again, blob, len) != 0)
		abort(); /* one encoding per state */
	free(again);
	(void)ratchet_decrypt(st, &AD, msg, sizeof msg, pt, sizeof pt, &n);
	(void)ratchet_encrypt(st, &AD, (const uint8_t *)"x", 1, out, sizeof out, &n);
	if (st->n_skipped > RATCHET_MAX_STORED || st->n_old > RATCHET_OLD_CHAINS)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ratchet_state st;
	uint8_t spk_pk[32], pt[MAX_IN];
	size_t n = 0;

	if (size < 1 || size - 1 > 1 + 2 + 6 * 32 + 12 + 64 + 32 * 8 + 68 * 2000)
		return 0;
	if (data[0] == 0) {
		if (ratchet_deserialize(&st, data + 1, size - 1) == RATCHET_OK)
			check_state(&st, data + 1, size - 1);
	} else {
		if (size - 1 > MAX_IN || bob_fixed(&st, spk_pk) != 0)
			return 0;
		if (ratchet_decrypt(&st, &AD, data + 1, size - 1, pt, sizeof pt, &n) == RATCHET_OK &&
		    (n != size - 1 - RATCHET_OVERHEAD || st.n_skipped > RATCHET_MAX_SKIP))
			abort();
	}
	ratchet_wipe(&st);
	return 0;
}
