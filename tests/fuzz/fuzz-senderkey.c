/*
 * fuzz-senderkey.c - libFuzzer target: the untrusted inputs of Sender Keys
 * (common/senderkey.h). The first byte picks one:
 *   0: the rest is a receiver's stored state (sk_peer), as libchat reads it
 *      back from the home database: sk_peer_deserialize refuses it or
 *      accepts a form that serialises back to the very same bytes, and a
 *      state it accepts takes a message without harm;
 *   1: the same for the sender's stored state (sk_own), which must then
 *      encrypt a message its own distribution's receiver reads;
 *   2: the rest is a sender-key message to a fixed receiver: refused, or read
 *      with the plaintext's length and the skipped keys within bounds;
 *   3: the rest is a delivery order: each byte names one of 128 messages the
 *      fixed sender made (bits 0-6), bit 7 asks to store and reload the
 *      receiver first. Each message must read exactly once, whatever the
 *      order (the gaps stay far below the bounds), and reloading changes
 *      nothing: this reaches the chain and skipped keys past the signature;
 *   4: the rest is a distribution body: refused, or 73 bytes whose state
 *      serialises and reads back the same.
 * With SENDERKEY_WRITE_SEEDS=DIR in the environment, LLVMFuzzerInitialize
 * writes the starting corpus (tests/fuzz/corpus/senderkey) into DIR: its
 * files are made by senderkey.c itself, so seeds.py does not write them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "senderkey.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_IN  (SK_OVERHEAD + 4096)
#define N_SEQ   128
#define SEQ_LEN (SK_OVERHEAD + 1)

static const struct sk_ad AD = {(const uint8_t *)"chat", 4, (const uint8_t *)"msg", 3,
				(const uint8_t *)"alice", 5, 1};

/* The fixed sender: the worked example's key (key id 0x01020304, chain key
 * 0x5c.., signing seed 0x5d..), at iteration 0. */
static void
sender_fixed(struct sk_own *own)
{
	uint8_t fixed[SK_OWN_FIXED];

	fixed[0] = 1;
	fixed[1] = 2;
	fixed[2] = 3;
	fixed[3] = 4;
	memset(fixed + 4, 0x5c, 32);
	memset(fixed + 36, 0x5d, 32);
	if (sk_own_new(own, fixed) != SK_OK)
		abort();
}

/* A receiver of own's current chain. */
static void
receiver_of(struct sk_peer *peer, const struct sk_own *own)
{
	uint8_t d[SK_DIST_BYTES];

	if (sk_own_distribution(own, d) != SK_OK ||
	    sk_peer_from_distribution(peer, d, sizeof d) != SK_OK)
		abort();
}

/* Mode 3's messages: message i carries the byte i, at iteration i. */
static uint8_t seq[N_SEQ][SEQ_LEN];
static int seq_ready;

static void
make_seq(void)
{
	struct sk_own own;
	size_t len = 0;
	uint8_t i;

	sender_fixed(&own);
	for (i = 0; i < N_SEQ; i++)
		if (sk_encrypt(&own, &AD, &i, 1, seq[i], SEQ_LEN, &len) != SK_OK || len != SEQ_LEN)
			abort();
	sk_own_wipe(&own);
	seq_ready = 1;
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
write_peer(const char *dir, const char *name, const struct sk_peer *peer)
{
	uint8_t *b = malloc(sk_peer_serialized_size(peer));
	size_t len = 0;

	if (b == NULL || sk_peer_serialize(peer, b, sk_peer_serialized_size(peer), &len) != 0)
		abort();
	write_file(dir, name, 0, b, len);
	free(b);
}

/* Seeds: each mode's inputs, made by the module itself. */
static void
write_seeds(const char *dir)
{
	static const uint8_t in_order[] = {0, 1, 2, 3}, shuffled[] = {5, 0x82, 1, 5, 0x80, 0, 2,
								     0x83, 3, 4, 0x84};
	struct sk_own own;
	struct sk_peer peer;
	uint8_t m[3][SK_OVERHEAD + 8], ob[SK_OWN_BLOB_BYTES], d[SK_DIST_BYTES], pt[8];
	size_t len[3], n;
	int i;

	sender_fixed(&own);
	receiver_of(&peer, &own);
	write_peer(dir, "peer-new", &peer);
	if (sk_own_serialize(&own, ob, sizeof ob, &n) != SK_OK)
		abort();
	write_file(dir, "own", 1, ob, n);
	if (sk_own_distribution(&own, d) != SK_OK)
		abort();
	write_file(dir, "dist", 4, d, sizeof d);
	d[0] = 0x05;
	write_file(dir, "dist-kind", 4, d, sizeof d);
	for (i = 0; i < 3; i++)
		if (sk_encrypt(&own, &AD, (const uint8_t *)"seed", 4, m[i], sizeof m[i], &len[i]) !=
		    SK_OK)
			abort();
	write_file(dir, "msg-0", 2, m[0], len[0]);
	write_file(dir, "msg-2", 2, m[2], len[2]);
	write_file(dir, "msg-short", 2, m[0], SK_OVERHEAD - 1);
	if (sk_decrypt(&peer, &AD, m[2], len[2], pt, sizeof pt, &n) != SK_OK)
		abort();
	write_peer(dir, "peer-skipped", &peer); /* two skipped keys */
	write_file(dir, "seq-in-order", 3, in_order, sizeof in_order);
	write_file(dir, "seq-shuffled", 3, shuffled, sizeof shuffled);
	write_file(dir, "empty", 0, NULL, 0);
	sk_own_wipe(&own);
	sk_peer_wipe(&peer);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("SENDERKEY_WRITE_SEEDS");

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		return -1;
	make_seq();
	if (dir != NULL)
		write_seeds(dir);
	return 0;
}

/* peer serialises to exactly blob[0..len). */
static void
check_canonical(const struct sk_peer *peer, const uint8_t *blob, size_t len)
{
	uint8_t *again = malloc(len);
	size_t n = 0;

	if (again == NULL)
		abort();
	if (sk_peer_serialize(peer, again, len, &n) != SK_OK || n != len ||
	    memcmp(again, blob, len) != 0)
		abort(); /* one encoding per state */
	free(again);
}

/* Mode 0: a stored receiver's state. */
static void
fuzz_peer_blob(const uint8_t *data, size_t size)
{
	struct sk_peer peer;
	uint8_t pt[SEQ_LEN];
	size_t n = 0;

	if (sk_peer_deserialize(&peer, data, size) != SK_OK)
		return;
	check_canonical(&peer, data, size);
	(void)sk_decrypt(&peer, &AD, seq[3], SEQ_LEN, pt, sizeof pt, &n); /* any result */
	if (peer.n_skipped > SK_MAX_STORED)
		abort();
	sk_peer_wipe(&peer);
}

/* Mode 1: a stored sender's state; what it sends, its receiver reads. */
static void
fuzz_own_blob(const uint8_t *data, size_t size)
{
	struct sk_own own;
	struct sk_peer peer;
	uint8_t again[SK_OWN_BLOB_BYTES], m[SK_OVERHEAD + 1], pt[1];
	size_t n = 0;
	int rc;

	if (sk_own_deserialize(&own, data, size) != SK_OK)
		return;
	if (sk_own_serialize(&own, again, sizeof again, &n) != SK_OK || n != size ||
	    memcmp(again, data, size) != 0)
		abort();
	receiver_of(&peer, &own);
	rc = sk_encrypt(&own, &AD, (const uint8_t *)"x", 1, m, sizeof m, &n);
	if (rc == SK_OK && (sk_decrypt(&peer, &AD, m, n, pt, sizeof pt, &n) != SK_OK || n != 1 ||
			    pt[0] != 'x'))
		abort();
	if (rc != SK_OK && peer.iteration != UINT32_MAX)
		abort(); /* only an exhausted chain refuses to send */
	sk_own_wipe(&own);
	sk_peer_wipe(&peer);
}

/* Mode 2: a message to the fixed receiver. */
static void
fuzz_message(const uint8_t *data, size_t size)
{
	struct sk_own own;
	struct sk_peer peer;
	uint8_t pt[MAX_IN];
	uint32_t id;
	size_t n = 0;
	int rc;

	if (size > MAX_IN)
		return;
	if (sk_message_key_id(data, size, &id) == SK_OK && size < SK_OVERHEAD)
		abort();
	sender_fixed(&own);
	receiver_of(&peer, &own);
	rc = sk_decrypt(&peer, &AD, data, size, pt, sizeof pt, &n);
	if (rc == SK_OK && (n != size - SK_OVERHEAD || peer.n_skipped > SK_MAX_SKIP))
		abort();
	if (rc != SK_OK && (n != 0 || peer.iteration != 0 || peer.n_skipped != 0))
		abort(); /* a refusal changes nothing */
	sk_own_wipe(&own);
	sk_peer_wipe(&peer);
}

/* Store peer and read it back in its place. */
static void
reload(struct sk_peer *peer)
{
	size_t cap = sk_peer_serialized_size(peer), n = 0;
	uint8_t *b = malloc(cap);

	if (b == NULL || sk_peer_serialize(peer, b, cap, &n) != SK_OK)
		abort();
	sk_peer_wipe(peer);
	if (sk_peer_deserialize(peer, b, n) != SK_OK)
		abort();
	check_canonical(peer, b, n);
	free(b);
}

/* Mode 3: a delivery order of the fixed sender's messages. */
static void
fuzz_order(const uint8_t *data, size_t size)
{
	struct sk_own own;
	struct sk_peer peer;
	uint8_t read[N_SEQ] = {0}, pt[1];
	size_t i, n;

	sender_fixed(&own);
	receiver_of(&peer, &own);
	sk_own_wipe(&own);
	for (i = 0; i < size && i < 4 * N_SEQ; i++) {
		uint8_t k = data[i] & 0x7f;
		int rc;

		if (data[i] & 0x80)
			reload(&peer);
		n = 0;
		rc = sk_decrypt(&peer, &AD, seq[k], SEQ_LEN, pt, sizeof pt, &n);
		if (read[k] ? rc != SK_ERR_DUPLICATE : (rc != SK_OK || n != 1 || pt[0] != k))
			abort(); /* each message reads exactly once */
		read[k] = 1;
	}
	sk_peer_wipe(&peer);
}

/* Mode 4: a distribution body. */
static void
fuzz_distribution(const uint8_t *data, size_t size)
{
	struct sk_peer peer;
	uint8_t b[SK_PEER_BLOB_MIN];
	size_t n = 0;

	if (sk_peer_from_distribution(&peer, data, size) != SK_OK)
		return;
	if (size != SK_DIST_BYTES || data[0] != SK_DIST_KIND || peer.n_skipped != 0 ||
	    sk_peer_serialize(&peer, b, sizeof b, &n) != SK_OK || n != sizeof b)
		abort();
	sk_peer_wipe(&peer);
	if (sk_peer_deserialize(&peer, b, n) != SK_OK)
		abort(); /* what a distribution gives can be stored */
	check_canonical(&peer, b, n);
	sk_peer_wipe(&peer);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size - 1 > SK_PEER_BLOB_MIN + SK_SKIPPED_BLOB * SK_MAX_STORED)
		return 0;
	if (!seq_ready)
		return 0; /* LLVMFuzzerInitialize failed */
	switch (data[0]) {
	case 0: fuzz_peer_blob(data + 1, size - 1); break;
	case 1: fuzz_own_blob(data + 1, size - 1); break;
	case 2: fuzz_message(data + 1, size - 1); break;
	case 3: fuzz_order(data + 1, size - 1); break;
	case 4: fuzz_distribution(data + 1, size - 1); break;
	default: break;
	}
	return 0;
}
