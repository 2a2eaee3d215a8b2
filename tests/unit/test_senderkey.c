/*
 * test_senderkey.c - Sender Keys of group chats (common/senderkey.c): each
 * test asserts a property a group member depends on (every device reads the
 * one message, out-of-order delivery, bounds, replay, tampering, forgery by
 * another member, a new member not reading the past, a stored state not
 * reading again, the stored forms), plus the worked example whose bytes
 * senderkey.h quotes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "senderkey.h"

#define MSG_MAX 512

struct msg {
	uint8_t b[MSG_MAX];
	size_t len;
};

static const uint8_t CHAT_ID[16] = {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
				    0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11};
static const uint8_t MSG_ID[16] = {0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
				   0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22};

/* The AD fields of a message alice/1 sends to the group. */
static struct sk_ad
ad_alice(void)
{
	struct sk_ad a = {
		CHAT_ID, sizeof CHAT_ID, MSG_ID, sizeof MSG_ID, (const uint8_t *)"alice", 5, 1};

	return a;
}

/* A receiver of own's current chain, as its distribution hands it over. */
static void
receiver(struct sk_peer *peer, const struct sk_own *own)
{
	uint8_t dist[SK_DIST_BYTES];

	assert_int_equal(sk_own_distribution(own, dist), SK_OK);
	assert_int_equal(sk_peer_from_distribution(peer, dist, sizeof dist), SK_OK);
}

static void
enc(struct sk_own *own, const char *text, struct msg *m)
{
	struct sk_ad a = ad_alice();

	assert_int_equal(sk_encrypt(own, &a, (const uint8_t *)text, strlen(text), m->b, sizeof m->b,
				    &m->len),
			 SK_OK);
	assert_int_equal(m->len, strlen(text) + SK_OVERHEAD);
}

/* Decrypt m under ad; on success check it reads `want`. Returns the code. */
static int
dec_ad(struct sk_peer *peer, const struct sk_ad *a, const struct msg *m, const char *want)
{
	uint8_t pt[MSG_MAX];
	size_t len = 99;
	int rc = sk_decrypt(peer, a, m->b, m->len, pt, sizeof pt, &len);

	if (rc == SK_OK && want != NULL) {
		assert_int_equal(len, strlen(want));
		assert_memory_equal(pt, want, len);
	}
	if (rc != SK_OK) {
		assert_int_equal(len, 0);
		assert_true(sodium_is_zero(pt, sizeof pt));
	}
	return rc;
}

static int
dec(struct sk_peer *peer, const struct msg *m, const char *want)
{
	struct sk_ad a = ad_alice();

	return dec_ad(peer, &a, m, want);
}

/* The serialised state, malloc'd: for equality and for copies. */
static uint8_t *
blob(const struct sk_peer *peer, size_t *len)
{
	size_t cap = sk_peer_serialized_size(peer);
	uint8_t *b = malloc(cap);

	assert_non_null(b);
	assert_int_equal(sk_peer_serialize(peer, b, cap, len), SK_OK);
	assert_int_equal(*len, cap);
	return b;
}

/* An independent deep copy, as one read back from the store. */
static void
copy_peer(struct sk_peer *dst, const struct sk_peer *src)
{
	size_t len;
	uint8_t *b = blob(src, &len);

	assert_int_equal(sk_peer_deserialize(dst, b, len), SK_OK);
	sodium_memzero(b, len);
	free(b);
}

static void
assert_same_peer(const struct sk_peer *x, const struct sk_peer *y)
{
	size_t lx, ly;
	uint8_t *bx = blob(x, &lx), *by = blob(y, &ly);

	assert_int_equal(lx, ly);
	assert_memory_equal(bx, by, lx);
	free(bx);
	free(by);
}

static void
assert_same_own(const struct sk_own *x, const struct sk_own *y)
{
	uint8_t bx[SK_OWN_BLOB_BYTES], by[SK_OWN_BLOB_BYTES];
	size_t lx = 0, ly = 0;

	assert_int_equal(sk_own_serialize(x, bx, sizeof bx, &lx), SK_OK);
	assert_int_equal(sk_own_serialize(y, by, sizeof by, &ly), SK_OK);
	assert_int_equal(lx, SK_OWN_BLOB_BYTES);
	assert_int_equal(ly, SK_OWN_BLOB_BYTES);
	assert_memory_equal(bx, by, lx);
}

/* Try m under ad; it must be refused with one of the refusals and leave
 * peer exactly as it was. Returns the code. */
static int
refused_unchanged(struct sk_peer *peer, const struct msg *m, const struct sk_ad *a)
{
	struct sk_peer before;
	int rc;

	copy_peer(&before, peer);
	rc = dec_ad(peer, a, m, NULL);
	assert_true(rc == SK_ERR_SIGNATURE || rc == SK_ERR_HEADER || rc == SK_ERR_AUTH ||
		    rc == SK_ERR_DUPLICATE || rc == SK_ERR_TOO_FAR);
	assert_same_peer(peer, &before);
	sk_peer_wipe(&before);
	return rc;
}

static int
group_setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

/* ---- delivery ----------------------------------------------------------- */

/* One message per send, read by every device that has the distribution; the
 * ciphertext is not the text, and no key is left behind in order. */
static void
test_in_order_every_device(void **state)
{
	struct sk_own own;
	struct sk_peer bob, carol;
	struct msg m;
	char text[64];
	int i;

	(void)state;
	assert_int_equal(sk_own_new(&own, NULL), SK_OK);
	receiver(&bob, &own);
	receiver(&carol, &own);
	for (i = 0; i < 50; i++) {
		uint32_t id = 0;

		snprintf(text, sizeof text, "group message %d", i);
		enc(&own, text, &m);
		assert_memory_not_equal(m.b + SK_HEADER_BYTES, text, strlen(text));
		assert_int_equal(sk_message_key_id(m.b, m.len, &id), SK_OK);
		assert_int_equal(id, own.key_id);
		assert_int_equal(dec(&bob, &m, text), SK_OK);
		assert_int_equal(dec(&carol, &m, text), SK_OK);
	}
	assert_int_equal(bob.iteration, 50);
	assert_int_equal(bob.n_skipped, 0);
	assert_int_equal(own.iteration, 50);
	sk_own_wipe(&own);
	sk_peer_wipe(&bob);
	sk_peer_wipe(&carol);
}

/* Out of order: every message reads, each exactly once, and the skipped
 * keys are gone once all are read. */
static void
test_out_of_order(void **state)
{
	struct sk_own own;
	struct sk_peer bob;
	struct sk_ad a = ad_alice();
	struct msg m[6];
	static const int order[6] = {4, 1, 5, 3, 0, 2};
	char text[6][16];
	int i;

	(void)state;
	assert_int_equal(sk_own_new(&own, NULL), SK_OK);
	receiver(&bob, &own);
	for (i = 0; i < 6; i++) {
		snprintf(text[i], sizeof text[i], "m%d", i);
		enc(&own, text[i], &m[i]);
	}
	assert_int_equal(dec(&bob, &m[4], text[4]), SK_OK);
	assert_int_equal(bob.n_skipped, 4);
	for (i = 1; i < 6; i++)
		assert_int_equal(dec(&bob, &m[order[i]], text[order[i]]), SK_OK);
	assert_int_equal(bob.n_skipped, 0);
	for (i = 0; i < 6; i++)
		assert_int_equal(refused_unchanged(&bob, &m[i], &a), SK_ERR_DUPLICATE);
	sk_own_wipe(&own);
	sk_peer_wipe(&bob);
}

/* A jump of more than MAX_SKIP keys is refused and changes nothing; a jump
 * of exactly MAX_SKIP is accepted, and then the far one too, and the keys
 * skipped over still read their messages. */
static void
test_gap_over_max_skip(void **state)
{
	struct sk_own own;
	struct sk_peer bob;
	struct sk_ad a = ad_alice();
	struct msg m, far, edge, fifth;
	unsigned i;

	(void)state;
	assert_int_equal(sk_own_new(&own, NULL), SK_OK);
	receiver(&bob, &own);
	for (i = 0; i <= SK_MAX_SKIP + 1; i++) {
		enc(&own, "x", &m);
		if (i == 5)
			fifth = m;
		if (i == SK_MAX_SKIP)
			edge = m;
	}
	far = m; /* iteration MAX_SKIP + 1: MAX_SKIP + 1 keys to skip */
	assert_int_equal(refused_unchanged(&bob, &far, &a), SK_ERR_TOO_FAR);
	assert_int_equal(bob.iteration, 0);
	assert_int_equal(dec(&bob, &edge, "x"), SK_OK);
	assert_int_equal(bob.n_skipped, SK_MAX_SKIP);
	assert_int_equal(dec(&bob, &far, "x"), SK_OK);
	assert_int_equal(dec(&bob, &fifth, "x"), SK_OK);
	assert_int_equal(bob.n_skipped, SK_MAX_SKIP - 1);
	enc(&own, "after", &m);
	assert_int_equal(dec(&bob, &m, "after"), SK_OK);
	sk_own_wipe(&own);
	sk_peer_wipe(&bob);
}

/* Skipped keys are bounded: past SK_MAX_STORED the oldest are dropped (their
 * messages refused as duplicates), the newer ones still read. */
static void
test_stored_keys_bounded(void **state)
{
	struct sk_own own;
	struct sk_peer bob;
	struct msg first, fourth, fifth, m;
	unsigned i;

	(void)state;
	assert_int_equal(sk_own_new(&own, NULL), SK_OK);
	receiver(&bob, &own);
	for (i = 0; i < SK_MAX_SKIP; i++) {
		enc(&own, "x", &m);
		if (i == 0)
			first = m;
		if (i == 3)
			fourth = m;
		if (i == 4)
			fifth = m;
	}
	assert_int_equal(dec(&bob, &m, "x"), SK_OK); /* iteration 1999: 1999 skipped */
	assert_int_equal(bob.n_skipped, SK_MAX_SKIP - 1);
	for (i = 0; i < 6; i++)
		enc(&own, "y", &m); /* iteration 2005: 5 more, 4 oldest dropped */
	assert_int_equal(dec(&bob, &m, "y"), SK_OK);
	assert_int_equal(bob.n_skipped, SK_MAX_STORED);
	assert_int_equal(dec(&bob, &first, "x"), SK_ERR_DUPLICATE);
	assert_int_equal(dec(&bob, &fourth, "x"), SK_ERR_DUPLICATE);
	assert_int_equal(dec(&bob, &fifth, "x"), SK_OK);
	sk_own_wipe(&own);
	sk_peer_wipe(&bob);
}

/* A message delivered twice reads once, from the chain and from the skipped
 * keys alike, and the refusal changes nothing. */
static void
test_replay_refused(void **state)
{
	struct sk_own own;
	struct sk_peer bob;
	struct sk_ad a = ad_alice();
	struct msg m0, m1, m2, m3;

	(void)state;
	assert_int_equal(sk_own_new(&own, NULL), SK_OK);
	receiver(&bob, &own);
	enc(&own, "m0", &m0);
	enc(&own, "m1", &m1);
	enc(&own, "m2", &m2);
	enc(&own, "m3", &m3);
	assert_int_equal(dec(&bob, &m0, "m0"), SK_OK);
	assert_int_equal(refused_unchanged(&bob, &m0, &a), SK_ERR_DUPLICATE);
	assert_int_equal(dec(&bob, &m2, "m2"), SK_OK);
	assert_int_equal(refused_unchanged(&bob, &m2, &a), SK_ERR_DUPLICATE);
	assert_int_equal(dec(&bob, &m1, "m1"), SK_OK); /* from the skipped keys */
	assert_int_equal(refused_unchanged(&bob, &m1, &a), SK_ERR_DUPLICATE);
	assert_int_equal(dec(&bob, &m3, "m3"), SK_OK);
	sk_own_wipe(&own);
	sk_peer_wipe(&bob);
}

/* ---- refusals ----------------------------------------------------------- */

/* Every byte of the message and each AD field are bound: a change anywhere
 * is refused (by the signature, or as another key id), the state stays, and
 * the original still reads. */
static void
test_tamper_refused(void **state)
{
	struct sk_own own;
	struct sk_peer bob;
	struct sk_ad a = ad_alice(), x;
	struct msg m0, skip, m, t;
	static const uint8_t other_id[16] = {0x33};
	size_t i;

	(void)state;
	assert_int_equal(sk_own_new(&own, NULL), SK_OK);
	receiver(&bob, &own);
	enc(&own, "first", &m0);
	assert_int_equal(dec(&bob, &m0, "first"), SK_OK);
	enc(&own, "skip me", &skip);
	enc(&own, "the message", &m); /* iteration 2: bob will hold a skipped key too */
	enc(&own, "later", &t);
	assert_int_equal(dec(&bob, &t, "later"), SK_OK);
	for (i = 0; i < m.len; i++) {
		t = m;
		t.b[i] ^= 0x80;
		assert_int_equal(refused_unchanged(&bob, &t, &a),
				 i < 4 ? SK_ERR_HEADER : SK_ERR_SIGNATURE);
	}
	t = m;
	t.len--;
	assert_int_equal(refused_unchanged(&bob, &t, &a), SK_ERR_SIGNATURE);
	t.len = SK_OVERHEAD - 1;
	assert_int_equal(refused_unchanged(&bob, &t, &a), SK_ERR_HEADER);
	x = a;
	x.chat_id = other_id;
	assert_int_equal(refused_unchanged(&bob, &m, &x), SK_ERR_SIGNATURE);
	x = a;
	x.msg_id = other_id;
	assert_int_equal(refused_unchanged(&bob, &m, &x), SK_ERR_SIGNATURE);
	x = a;
	x.msg_id_len = 15;
	assert_int_equal(refused_unchanged(&bob, &m, &x), SK_ERR_SIGNATURE);
	x = a;
	x.sender_user = (const uint8_t *)"alicf";
	assert_int_equal(refused_unchanged(&bob, &m, &x), SK_ERR_SIGNATURE);
	x = a;
	x.sender_device = 2;
	assert_int_equal(refused_unchanged(&bob, &m, &x), SK_ERR_SIGNATURE);
	assert_int_equal(dec(&bob, &m, "the message"), SK_OK);
	assert_int_equal(dec(&bob, &skip, "skip me"), SK_OK);
	sk_own_wipe(&own);
	sk_peer_wipe(&bob);
}

/* Another member has alice's chain key (every member has), so she can make a
 * ciphertext bob's state opens; she cannot sign it as alice: her message,
 * signed with her own key, is refused and changes nothing. */
static void
test_other_signer_refused(void **state)
{
	struct sk_own alice, mallory;
	struct sk_peer bob;
	struct sk_ad a = ad_alice();
	struct msg forged, real;

	(void)state;
	assert_int_equal(sk_own_new(&alice, NULL), SK_OK);
	receiver(&bob, &alice);
	mallory = alice; /* alice's chain and key id, mallory's signing key */
	assert_int_equal(crypto_sign_keypair(mallory.sign_pk, mallory.sign_sk), 0);
	enc(&mallory, "from alice, honest", &forged);
	assert_int_equal(refused_unchanged(&bob, &forged, &a), SK_ERR_SIGNATURE);
	enc(&alice, "really alice", &real);
	assert_int_equal(dec(&bob, &real, "really alice"), SK_OK);
	sk_own_wipe(&alice);
	sk_own_wipe(&mallory);
	sk_peer_wipe(&bob);
}

/* The AEAD is checked too: a message signed with the right key but sealed
 * under another chain (the sender's bug, or a state gone wrong) is refused. */
static void
test_wrong_chain_refused(void **state)
{
	struct sk_own alice, other;
	struct sk_peer bob;
	struct sk_ad a = ad_alice();
	struct msg m;

	(void)state;
	assert_int_equal(sk_own_new(&alice, NULL), SK_OK);
	receiver(&bob, &alice);
	other = alice;
	other.ck[0] ^= 1;
	enc(&other, "wrong chain", &m);
	assert_int_equal(refused_unchanged(&bob, &m, &a), SK_ERR_AUTH);
	enc(&alice, "right chain", &m);
	assert_int_equal(dec(&bob, &m, "right chain"), SK_OK);
	sk_own_wipe(&alice);
	sk_own_wipe(&other);
	sk_peer_wipe(&bob);
}

/* A new member, given the distribution at iteration 5, reads from message 5
 * on and none of messages 0..4; its chain key is not one of theirs (put at
 * iteration 0, it still opens nothing). */
static void
test_new_member_cannot_read_past(void **state)
{
	struct sk_own own;
	struct sk_peer dave, back;
	struct sk_ad a = ad_alice();
	struct msg m[6];
	uint8_t *b;
	size_t len;
	int i;

	(void)state;
	assert_int_equal(sk_own_new(&own, NULL), SK_OK);
	for (i = 0; i < 5; i++)
		enc(&own, "before dave", &m[i]);
	receiver(&dave, &own);
	assert_int_equal(dave.iteration, 5);
	enc(&own, "welcome dave", &m[5]);
	for (i = 0; i < 5; i++)
		assert_int_equal(refused_unchanged(&dave, &m[i], &a), SK_ERR_DUPLICATE);
	b = blob(&dave, &len);
	memset(b + 5, 0, 4); /* iteration 0, chain key still CK_5 */
	assert_int_equal(sk_peer_deserialize(&back, b, len), SK_OK);
	free(b);
	for (i = 0; i < 5; i++)
		assert_int_equal(dec(&back, &m[i], NULL), SK_ERR_AUTH);
	assert_int_equal(dec(&dave, &m[5], "welcome dave"), SK_OK);
	sk_peer_wipe(&back);
	sk_own_wipe(&own);
	sk_peer_wipe(&dave);
}

/* A state stored after reading messages 0..n does not read them again once
 * loaded back (their keys are gone), but still reads the one it skipped. */
static void
test_stored_state_cannot_read_again(void **state)
{
	struct sk_own own;
	struct sk_peer bob, stolen;
	struct msg m[5];
	int i;

	(void)state;
	assert_int_equal(sk_own_new(&own, NULL), SK_OK);
	receiver(&bob, &own);
	for (i = 0; i < 5; i++)
		enc(&own, "secret", &m[i]);
	for (i = 0; i < 5; i++)
		if (i != 2)
			assert_int_equal(dec(&bob, &m[i], "secret"), SK_OK);
	copy_peer(&stolen, &bob);
	for (i = 0; i < 5; i++)
		if (i != 2)
			assert_int_equal(dec(&stolen, &m[i], NULL), SK_ERR_DUPLICATE);
	assert_int_equal(dec(&stolen, &m[2], "secret"), SK_OK);
	assert_int_equal(dec(&stolen, &m[2], NULL), SK_ERR_DUPLICATE);
	sk_peer_wipe(&stolen);
	sk_own_wipe(&own);
	sk_peer_wipe(&bob);
}

/* Malformed input and arguments get their own errors and change nothing. */
static void
test_bad_input(void **state)
{
	struct sk_own own, before, stranger;
	struct sk_peer bob, other;
	struct sk_ad a = ad_alice(), big_ad;
	struct msg m, t;
	uint8_t pt[MSG_MAX];
	uint32_t id = 0;
	size_t len = 1;
	static uint8_t big[0x10000];

	(void)state;
	assert_int_equal(sk_own_new(&own, NULL), SK_OK);
	receiver(&bob, &own);
	enc(&own, "ok", &m);
	assert_int_equal(sk_message_key_id(m.b, SK_OVERHEAD - 1, &id), SK_ERR_HEADER);
	assert_int_equal(sk_message_key_id(m.b, SK_OVERHEAD, &id), SK_OK);
	assert_int_equal(id, own.key_id);
	/* another sender key's state */
	assert_int_equal(sk_own_new(&stranger, NULL), SK_OK);
	receiver(&other, &stranger);
	assert_int_equal(refused_unchanged(&other, &m, &a), SK_ERR_HEADER);
	sk_peer_wipe(&other);
	/* iteration 2^32-1 is never valid */
	t = m;
	memset(t.b + 4, 0xff, 4);
	assert_int_equal(refused_unchanged(&bob, &t, &a), SK_ERR_HEADER);
	/* a plaintext buffer too small */
	assert_int_equal(sk_decrypt(&bob, &a, m.b, m.len, pt, 1, &len), SK_ERR_ARG);
	assert_int_equal(len, 0);
	/* an AD field too long for its 2-byte length, on both sides */
	big_ad = a;
	big_ad.chat_id = big;
	big_ad.chat_id_len = sizeof big;
	assert_int_equal(sk_decrypt(&bob, &big_ad, m.b, m.len, pt, sizeof pt, &len), SK_ERR_ARG);
	before = own;
	assert_int_equal(sk_encrypt(&own, &big_ad, (const uint8_t *)"x", 1, t.b, sizeof t.b, &len),
			 SK_ERR_ARG);
	assert_int_equal(sk_encrypt(&own, &a, (const uint8_t *)"x", 1, t.b, SK_OVERHEAD, &len),
			 SK_ERR_ARG);
	assert_same_own(&own, &before);
	assert_int_equal(own.iteration, before.iteration);
	/* the last iteration is not sent */
	own.iteration = UINT32_MAX - 1;
	assert_int_equal(sk_encrypt(&own, &a, (const uint8_t *)"x", 1, t.b, sizeof t.b, &len),
			 SK_OK);
	assert_int_equal(sk_encrypt(&own, &a, (const uint8_t *)"x", 1, t.b, sizeof t.b, &len),
			 SK_ERR_ARG);
	assert_int_equal(own.iteration, UINT32_MAX);
	assert_int_equal(dec(&bob, &m, "ok"), SK_OK);
	sk_own_wipe(&stranger);
	sk_own_wipe(&before);
	sk_own_wipe(&own);
	sk_peer_wipe(&bob);
}

/* ---- stored forms ------------------------------------------------------- */

/* A distribution body is exactly 73 bytes of kind 0x04 with a usable
 * signing key; anything else is refused. */
static void
test_distribution_refuses(void **state)
{
	struct sk_own own;
	struct sk_peer p;
	uint8_t d[SK_DIST_BYTES + 1], t[SK_DIST_BYTES];
	size_t i;

	(void)state;
	assert_int_equal(sk_own_new(&own, NULL), SK_OK);
	own.iteration = 0x0a0b0c0d;
	assert_int_equal(sk_own_distribution(&own, d), SK_OK);
	d[SK_DIST_BYTES] = 0;
	assert_int_equal(d[0], 0x04);
	for (i = 0; i < SK_DIST_BYTES; i++)
		assert_int_equal(sk_peer_from_distribution(&p, d, i), SK_ERR_FORMAT);
	assert_int_equal(sk_peer_from_distribution(&p, d, SK_DIST_BYTES + 1), SK_ERR_FORMAT);
	memcpy(t, d, sizeof t);
	t[0] = 0x05;
	assert_int_equal(sk_peer_from_distribution(&p, t, sizeof t), SK_ERR_FORMAT);
	memcpy(t, d, sizeof t);
	memset(t + 41, 0, 32); /* small order */
	assert_int_equal(sk_peer_from_distribution(&p, t, sizeof t), SK_ERR_FORMAT);
	t[41] = 1; /* the identity point */
	assert_int_equal(sk_peer_from_distribution(&p, t, sizeof t), SK_ERR_FORMAT);
	assert_int_equal(sk_peer_from_distribution(&p, d, SK_DIST_BYTES), SK_OK);
	assert_int_equal(p.key_id, own.key_id);
	assert_int_equal(p.iteration, 0x0a0b0c0d);
	assert_memory_equal(p.ck, own.ck, 32);
	assert_memory_equal(p.sign_pk, own.sign_pk, 32);
	assert_int_equal(p.n_skipped, 0);
	sk_peer_wipe(&p);
	sk_own_wipe(&own);
}

/* Serialise -> deserialise -> continue behaves as never serialised, on both
 * sides: the same plaintexts, the same state after each step, the same bytes
 * sent. */
static void
test_serialize_continue(void **state)
{
	struct sk_own own, own2;
	struct sk_peer bob, bob2;
	struct msg m[6], r1, r2;
	uint8_t ob[SK_OWN_BLOB_BYTES];
	size_t len = 0;
	int i;

	(void)state;
	assert_int_equal(sk_own_new(&own, NULL), SK_OK);
	receiver(&bob, &own);
	for (i = 0; i < 6; i++)
		enc(&own, "s", &m[i]);
	assert_int_equal(dec(&bob, &m[3], "s"), SK_OK); /* 3 skipped keys */
	copy_peer(&bob2, &bob);
	assert_same_peer(&bob, &bob2);
	assert_int_equal(bob2.n_skipped, 3);
	for (i = 0; i < 6; i++) {
		int rc = dec(&bob, &m[i], "s");

		assert_int_equal(dec(&bob2, &m[i], "s"), rc);
		assert_same_peer(&bob, &bob2);
	}
	assert_int_equal(sk_own_serialize(&own, ob, sizeof ob, &len), SK_OK);
	assert_int_equal(len, SK_OWN_BLOB_BYTES);
	assert_int_equal(sk_own_deserialize(&own2, ob, len), SK_OK);
	assert_same_own(&own, &own2);
	assert_memory_equal(own2.sign_sk, own.sign_sk, 64);
	assert_memory_equal(own2.sign_pk, own.sign_pk, 32);
	enc(&own, "after", &r1);
	enc(&own2, "after", &r2);
	assert_int_equal(r1.len, r2.len);
	assert_memory_equal(r1.b, r2.b, r1.len);
	assert_int_equal(dec(&bob, &r1, "after"), SK_OK);
	assert_int_equal(dec(&bob2, &r2, "after"), SK_OK);
	sk_own_wipe(&own);
	sk_own_wipe(&own2);
	sk_peer_wipe(&bob);
	sk_peer_wipe(&bob2);
}

/* The readers of the stored blobs refuse every malformed form, so each state
 * has one encoding. */
static void
test_deserialize_refuses(void **state)
{
	struct sk_own own, ox;
	struct sk_peer bob, x;
	struct msg m;
	uint8_t *bb, *t, ob[SK_OWN_BLOB_BYTES + 1];
	size_t len, olen = 0, i;
	int k;

	(void)state;
	assert_int_equal(sk_own_new(&own, NULL), SK_OK);
	receiver(&bob, &own);
	for (k = 0; k < 4; k++)
		enc(&own, "m", &m);
	assert_int_equal(dec(&bob, &m, "m"), SK_OK); /* 3 skipped keys: 0, 1, 2 */
	bb = blob(&bob, &len);
	assert_int_equal(len, SK_PEER_BLOB_MIN + 3 * SK_SKIPPED_BLOB);
	t = malloc(len + 1);
	assert_non_null(t);
	for (i = 0; i < len; i++) /* every truncation */
		assert_int_equal(sk_peer_deserialize(&x, bb, i), SK_ERR_FORMAT);
	memcpy(t, bb, len);
	t[len] = 0;
	assert_int_equal(sk_peer_deserialize(&x, t, len + 1), SK_ERR_FORMAT);
	t[0] = 2; /* version */
	assert_int_equal(sk_peer_deserialize(&x, t, len), SK_ERR_FORMAT);
	memcpy(t, bb, len);
	memset(t + 41, 0, 32); /* a small-order signing key */
	assert_int_equal(sk_peer_deserialize(&x, t, len), SK_ERR_FORMAT);
	memcpy(t, bb, len);
	t[73] = 0x07; /* n_skipped 0x07d1 = 2001 */
	t[74] = 0xd1;
	assert_int_equal(sk_peer_deserialize(&x, t, len), SK_ERR_FORMAT);
	memcpy(t, bb, len);
	t[74] = 2; /* a count that does not match the length */
	assert_int_equal(sk_peer_deserialize(&x, t, len), SK_ERR_FORMAT);
	memcpy(t, bb, len); /* skipped keys out of order: 1, 0, 2 */
	memcpy(t + SK_PEER_BLOB_MIN, bb + SK_PEER_BLOB_MIN + SK_SKIPPED_BLOB, SK_SKIPPED_BLOB);
	memcpy(t + SK_PEER_BLOB_MIN + SK_SKIPPED_BLOB, bb + SK_PEER_BLOB_MIN, SK_SKIPPED_BLOB);
	assert_int_equal(sk_peer_deserialize(&x, t, len), SK_ERR_FORMAT);
	memcpy(t, bb, len); /* the same skipped key twice: 0, 0, 2 */
	memcpy(t + SK_PEER_BLOB_MIN + SK_SKIPPED_BLOB, bb + SK_PEER_BLOB_MIN, SK_SKIPPED_BLOB);
	assert_int_equal(sk_peer_deserialize(&x, t, len), SK_ERR_FORMAT);
	memcpy(t, bb, len); /* a skipped key at the next iteration (3) */
	t[5 + 3] = 2;
	assert_int_equal(sk_peer_deserialize(&x, t, len), SK_ERR_FORMAT);
	assert_int_equal(sk_peer_deserialize(&x, bb, len), SK_OK);
	assert_same_peer(&x, &bob);
	sk_peer_wipe(&x);
	free(t);
	free(bb);

	assert_int_equal(sk_own_serialize(&own, ob, SK_OWN_BLOB_BYTES - 1, &olen), SK_ERR_ARG);
	assert_int_equal(sk_own_serialize(&own, ob, sizeof ob, &olen), SK_OK);
	for (i = 0; i < SK_OWN_BLOB_BYTES; i++)
		assert_int_equal(sk_own_deserialize(&ox, ob, i), SK_ERR_FORMAT);
	assert_int_equal(sk_own_deserialize(&ox, ob, SK_OWN_BLOB_BYTES + 1), SK_ERR_FORMAT);
	ob[0] = 0;
	assert_int_equal(sk_own_deserialize(&ox, ob, SK_OWN_BLOB_BYTES), SK_ERR_FORMAT);
	ob[0] = SK_VERSION;
	assert_int_equal(sk_own_deserialize(&ox, ob, SK_OWN_BLOB_BYTES), SK_OK);
	assert_same_own(&ox, &own);
	sk_own_wipe(&ox);
	sk_own_wipe(&own);
	sk_peer_wipe(&bob);
}

/* ---- the worked example (senderkey.h quotes these bytes) ---------------- */

#define EX_SIGN_PK "5e449ad6fa4b2d65746e8cd4f968e38c5a9679f8495db114ee06317f72f717db"
#define EX_MK      "785aebc7e72172ef3836968e230dc2304b475124509a2513125964df51575c0a"
#define EX_CK1     "6d201c32cbd2e89f6e0b20f78d40367f0b79476f4622dac6f0eea2bd83beeb9e"
#define EX_CT16    "52dc2a54ff5c514d7feccd7d52944b26"
#define EX_SIG                                                                                     \
	"189ca296af98839aa759166c26cc16837fbcddc9d287ca1fab49a8ac837596e4"                         \
	"f490502274f2febdf3ef7debaf3d5365afae6101d3b476716d11c42a1ef5650c"
#define EX_SHA  "10e687377fdeed3c3055404f7ada1c3295628f69744446405bb257317ac537b7"
#define EX_SHA1 "87ca34bbc1ef7176d50bea79313162b33e038559a42c19ff51e3b27f1e9ea6b7"

static void
assert_hex(const uint8_t *b, size_t len, const char *want)
{
	char hex[2 * MSG_MAX + 1];

	sodium_bin2hex(hex, sizeof hex, b, len);
	if (strcmp(hex, want) != 0)
		print_message("got %s\n", hex);
	assert_string_equal(hex, want);
}

/*
 * Key id 0x01020304, iteration 0, chain key 32 x 0x5c, signing seed
 * 32 x 0x5d; AD: chat id 16 x 0x11, message id 16 x 0x22, "alice" device 1;
 * plaintext "hello, group" padded to 256 bytes (0x80 then zeros). A
 * receiver of the distribution reads it back. The same plaintext and AD
 * again make the second message (iteration 1).
 */
static void
test_worked_example(void **state)
{
	uint8_t fixed[SK_OWN_FIXED], pt[256], dist[SK_DIST_BYTES], mk[32], ck[32], h[32];
	uint8_t out[MSG_MAX], back[MSG_MAX];
	struct sk_own own;
	struct sk_peer bob;
	struct sk_ad a = ad_alice();
	size_t len = 0, n = 0;

	(void)state;
	fixed[0] = 0x01;
	fixed[1] = 0x02;
	fixed[2] = 0x03;
	fixed[3] = 0x04;
	memset(fixed + 4, 0x5c, 32);
	memset(fixed + 36, 0x5d, 32);
	memset(pt, 0, sizeof pt);
	memcpy(pt, "hello, group", 12);
	pt[12] = 0x80;
	assert_int_equal(sk_own_new(&own, fixed), SK_OK);
	assert_int_equal(own.key_id, 0x01020304);
	assert_int_equal(own.iteration, 0);
	assert_hex(own.sign_pk, 32, EX_SIGN_PK);
	assert_int_equal(sk_own_distribution(&own, dist), SK_OK);
	assert_hex(dist, 9, "040102030400000000");
	assert_memory_equal(dist + 9, fixed + 4, 32);
	assert_memory_equal(dist + 41, own.sign_pk, 32);
	/* the chain step, by hand */
	memset(ck, 0x5c, 32);
	assert_int_equal(crypto_auth_hmacsha256(mk, (const uint8_t *)"\x01", 1, ck), 0);
	assert_hex(mk, 32, EX_MK);
	assert_int_equal(sk_encrypt(&own, &a, pt, sizeof pt, out, sizeof out, &len), SK_OK);
	assert_int_equal(len, 344);
	assert_hex(own.ck, 32, EX_CK1);
	assert_int_equal(own.iteration, 1);
	assert_hex(out, 8, "0102030400000000");
	assert_hex(out + 8, 16, EX_CT16);
	assert_hex(out + len - 64, 64, EX_SIG);
	assert_int_equal(crypto_hash_sha256(h, out, len), 0);
	assert_hex(h, 32, EX_SHA);

	assert_int_equal(sk_peer_from_distribution(&bob, dist, sizeof dist), SK_OK);
	assert_int_equal(sk_decrypt(&bob, &a, out, len, back, sizeof back, &n), SK_OK);
	assert_int_equal(n, sizeof pt);
	assert_memory_equal(back, pt, sizeof pt);
	assert_int_equal(sk_encrypt(&own, &a, pt, sizeof pt, out, sizeof out, &len), SK_OK);
	assert_hex(out, 8, "0102030400000001");
	assert_int_equal(crypto_hash_sha256(h, out, len), 0);
	assert_hex(h, 32, EX_SHA1);
	assert_int_equal(sk_decrypt(&bob, &a, out, len, back, sizeof back, &n), SK_OK);
	sodium_memzero(ck, sizeof ck);
	sodium_memzero(mk, sizeof mk);
	sk_own_wipe(&own);
	sk_peer_wipe(&bob);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_every_device),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_gap_over_max_skip),
		cmocka_unit_test(test_stored_keys_bounded),
		cmocka_unit_test(test_replay_refused),
		cmocka_unit_test(test_tamper_refused),
		cmocka_unit_test(test_other_signer_refused),
		cmocka_unit_test(test_wrong_chain_refused),
		cmocka_unit_test(test_new_member_cannot_read_past),
		cmocka_unit_test(test_stored_state_cannot_read_again),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_distribution_refuses),
		cmocka_unit_test(test_serialize_continue),
		cmocka_unit_test(test_deserialize_refuses),
		cmocka_unit_test(test_worked_example),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
