/*
 * test_ratchet.c - X3DH and the Double Ratchet of stage 2 (common/x3dh.c,
 * common/ratchet.c): each test asserts a property the sessions depend on
 * (agreement, refusal of forged prekeys, out-of-order delivery, bounds,
 * replay, tampering, forward secrecy, healing, persistence), plus the worked
 * example whose bytes ratchet.h quotes.
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

#include "crypto.h"
#include "ratchet.h"
#include "x3dh.h"

#define MSG_MAX 256

struct msg {
	uint8_t b[MSG_MAX];
	size_t len;
};

static const uint8_t CHAT_ID[16] = { 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
				     0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11 };
static const uint8_t MSG_ID[16] = { 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
				    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22 };

/* The AD fields of a message from alice/1 to bob/2 (to_bob) or back. */
static struct ratchet_ad
ad_for(int to_bob)
{
	struct ratchet_ad a = { CHAT_ID, sizeof CHAT_ID, MSG_ID, sizeof MSG_ID,
				(const uint8_t *)"alice", 5, 1, (const uint8_t *)"bob", 3, 2 };

	if (!to_bob) {
		a.sender_user = (const uint8_t *)"bob";
		a.sender_user_len = 3;
		a.sender_device = 2;
		a.recipient_user = (const uint8_t *)"alice";
		a.recipient_user_len = 5;
		a.recipient_device = 1;
	}
	return a;
}

/* Bob's published keys and their secrets. */
struct bob_keys {
	struct e2e_identity id;
	uint8_t spk_sk[32], spk_pk[32], opk_sk[32], opk_pk[32];
	struct x3dh_bundle bundle;
};

static void
bob_keys_make(struct bob_keys *k, int with_opk)
{
	memset(k, 0, sizeof *k);
	assert_int_equal(e2e_identity_generate(&k->id), 0);
	randombytes_buf(k->spk_sk, 32);
	assert_int_equal(crypto_scalarmult_base(k->spk_pk, k->spk_sk), 0);
	randombytes_buf(k->opk_sk, 32);
	assert_int_equal(crypto_scalarmult_base(k->opk_pk, k->opk_sk), 0);
	memcpy(k->bundle.identity_key, k->id.sign_pk, 32);
	memcpy(k->bundle.exchange_key, k->id.x_pk, 32);
	memcpy(k->bundle.exchange_key_sig, k->id.x_sig, 64);
	k->bundle.spk_id = 7;
	memcpy(k->bundle.spk, k->spk_pk, 32);
	assert_int_equal(x3dh_sign_spk(k->bundle.spk_sig, k->id.sign_sk, 7, k->spk_pk), X3DH_OK);
	k->bundle.has_opk = with_opk;
	k->bundle.opk_id = 42;
	memcpy(k->bundle.opk, k->opk_pk, 32);
}

/* A fresh session: X3DH, then both ratchets. */
static void
session(struct ratchet_state *a, struct ratchet_state *b)
{
	struct e2e_identity ida;
	struct bob_keys k;
	struct x3dh_result r;
	uint8_t sk_b[32], ad_b[64];

	assert_int_equal(e2e_identity_generate(&ida), 0);
	bob_keys_make(&k, 1);
	assert_int_equal(x3dh_initiate(&r, ida.x_sk, ida.x_pk, &k.bundle, NULL), X3DH_OK);
	assert_int_equal(x3dh_respond(sk_b, ad_b, k.id.x_sk, k.id.x_pk, k.spk_sk, k.opk_sk,
				      ida.x_pk, r.ek_pub),
			 X3DH_OK);
	assert_int_equal(ratchet_init_alice(a, r.sk, r.ad, k.spk_pk, NULL), RATCHET_OK);
	assert_int_equal(ratchet_init_bob(b, sk_b, ad_b, k.spk_sk, k.spk_pk), RATCHET_OK);
	e2e_identity_wipe(&ida);
	e2e_identity_wipe(&k.id);
}

static void
enc(struct ratchet_state *st, int to_bob, const char *text, struct msg *m)
{
	struct ratchet_ad a = ad_for(to_bob);

	assert_int_equal(ratchet_encrypt(st, &a, (const uint8_t *)text, strlen(text), m->b,
					 sizeof m->b, &m->len),
			 RATCHET_OK);
	assert_int_equal(m->len, strlen(text) + RATCHET_OVERHEAD);
}

/* Decrypt m; on success check it reads `want`. Returns the ratchet's code. */
static int
dec(struct ratchet_state *st, int to_bob, const struct msg *m, const char *want)
{
	struct ratchet_ad a = ad_for(to_bob);
	uint8_t pt[MSG_MAX];
	size_t len = 99;
	int rc = ratchet_decrypt(st, &a, m->b, m->len, pt, sizeof pt, &len);

	if (rc == RATCHET_OK && want != NULL) {
		assert_int_equal(len, strlen(want));
		assert_memory_equal(pt, want, len);
	}
	if (rc != RATCHET_OK)
		assert_int_equal(len, 0);
	return rc;
}

/* The serialised state, malloc'd: for equality and for copies. */
static uint8_t *
blob(const struct ratchet_state *st, size_t *len)
{
	size_t cap = ratchet_serialized_size(st);
	uint8_t *b = malloc(cap);

	assert_non_null(b);
	assert_int_equal(ratchet_serialize(st, b, cap, len), RATCHET_OK);
	assert_int_equal(*len, cap);
	return b;
}

/* An independent deep copy, as an attacker copying the database would get. */
static void
copy_state(struct ratchet_state *dst, const struct ratchet_state *src)
{
	size_t len;
	uint8_t *b = blob(src, &len);

	assert_int_equal(ratchet_deserialize(dst, b, len), RATCHET_OK);
	sodium_memzero(b, len);
	free(b);
}

static void
assert_same_state(const struct ratchet_state *x, const struct ratchet_state *y)
{
	size_t lx, ly;
	uint8_t *bx = blob(x, &lx), *by = blob(y, &ly);

	assert_int_equal(lx, ly);
	assert_memory_equal(bx, by, lx);
	free(bx);
	free(by);
}

static int
group_setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

/* ---- X3DH --------------------------------------------------------------- */

static void
x3dh_agree(int with_opk)
{
	struct e2e_identity ida;
	struct bob_keys k;
	struct x3dh_result r;
	uint8_t sk_b[32], ad_b[64], sk_no_opk[32], ad_x[64];

	assert_int_equal(e2e_identity_generate(&ida), 0);
	bob_keys_make(&k, with_opk);
	assert_int_equal(x3dh_initiate(&r, ida.x_sk, ida.x_pk, &k.bundle, NULL), X3DH_OK);
	assert_int_equal(r.has_opk, with_opk);
	assert_int_equal(r.spk_id, 7);
	assert_int_equal(x3dh_respond(sk_b, ad_b, k.id.x_sk, k.id.x_pk, k.spk_sk,
				      with_opk ? k.opk_sk : NULL, ida.x_pk, r.ek_pub),
			 X3DH_OK);
	assert_memory_equal(r.sk, sk_b, 32);
	assert_memory_equal(r.ad, ad_b, 64);
	assert_memory_equal(r.ad, ida.x_pk, 32);
	assert_memory_equal(r.ad + 32, k.id.x_pk, 32);
	assert_false(sodium_is_zero(r.sk, 32));
	/* The OPK counts: Bob answering with the other choice gets another SK. */
	assert_int_equal(x3dh_respond(sk_no_opk, ad_x, k.id.x_sk, k.id.x_pk, k.spk_sk,
				      with_opk ? NULL : k.opk_sk, ida.x_pk, r.ek_pub),
			 X3DH_OK);
	assert_memory_not_equal(sk_no_opk, sk_b, 32);
	e2e_identity_wipe(&ida);
	e2e_identity_wipe(&k.id);
}

static void
test_x3dh_agree_with_opk(void **state)
{
	(void)state;
	x3dh_agree(1);
}

static void
test_x3dh_agree_without_opk(void **state)
{
	(void)state;
	x3dh_agree(0);
}

/* A forged signed prekey, a prekey swapped under a real signature, a signed
 * prekey id changed, or a forged exchange key: all refused, nothing derived. */
static void
test_x3dh_forged_refused(void **state)
{
	struct e2e_identity ida, mallory;
	struct bob_keys k;
	struct x3dh_result r;
	struct x3dh_bundle b;

	(void)state;
	assert_int_equal(e2e_identity_generate(&ida), 0);
	assert_int_equal(e2e_identity_generate(&mallory), 0);
	bob_keys_make(&k, 1);

	b = k.bundle;
	b.spk_sig[5] ^= 1;
	assert_int_equal(x3dh_initiate(&r, ida.x_sk, ida.x_pk, &b, NULL), X3DH_ERR_SIGNATURE);
	assert_true(sodium_is_zero(r.sk, 32));

	b = k.bundle; /* mallory's prekey, bob's signature */
	memcpy(b.spk, mallory.x_pk, 32);
	assert_int_equal(x3dh_initiate(&r, ida.x_sk, ida.x_pk, &b, NULL), X3DH_ERR_SIGNATURE);

	b = k.bundle; /* mallory signs her own prekey */
	memcpy(b.spk, mallory.x_pk, 32);
	assert_int_equal(x3dh_sign_spk(b.spk_sig, mallory.sign_sk, b.spk_id, b.spk), X3DH_OK);
	assert_int_equal(x3dh_initiate(&r, ida.x_sk, ida.x_pk, &b, NULL), X3DH_ERR_SIGNATURE);

	b = k.bundle;
	b.spk_id++;
	assert_int_equal(x3dh_initiate(&r, ida.x_sk, ida.x_pk, &b, NULL), X3DH_ERR_SIGNATURE);

	b = k.bundle;
	memcpy(b.exchange_key, mallory.x_pk, 32);
	assert_int_equal(x3dh_initiate(&r, ida.x_sk, ida.x_pk, &b, NULL), X3DH_ERR_SIGNATURE);

	b = k.bundle; /* a low-order one-time prekey (all zero): no all-zero DH */
	memset(b.opk, 0, 32);
	assert_int_equal(x3dh_initiate(&r, ida.x_sk, ida.x_pk, &b, NULL), X3DH_ERR_KEY);
	assert_true(sodium_is_zero(r.sk, 32));

	assert_int_equal(x3dh_initiate(&r, ida.x_sk, ida.x_pk, &k.bundle, NULL), X3DH_OK);
	e2e_identity_wipe(&ida);
	e2e_identity_wipe(&mallory);
	e2e_identity_wipe(&k.id);
}

/* ---- the ratchet -------------------------------------------------------- */

/* Bob cannot send before Alice's first message (he has no sending chain). */
static void
test_bob_cannot_send_first(void **state)
{
	struct ratchet_state a, b;
	struct ratchet_ad ad = ad_for(0);
	uint8_t out[MSG_MAX];
	size_t len = 0;

	(void)state;
	session(&a, &b);
	assert_int_equal(ratchet_encrypt(&b, &ad, (const uint8_t *)"hi", 2, out, sizeof out, &len),
			 RATCHET_ERR_NO_CHAIN);
	ratchet_wipe(&a);
	ratchet_wipe(&b);
}

/* Many turns each way, 1..4 messages a turn: every message reads back, and
 * each turn uses a new ratchet key (the DH ratchet advances). */
static void
test_round_trip_many_turns(void **state)
{
	struct ratchet_state st[2];
	struct msg m;
	uint8_t prev_dh[2][32];
	char text[64];
	int turn, i;

	(void)state;
	session(&st[0], &st[1]);
	memset(prev_dh, 0, sizeof prev_dh);
	for (turn = 0; turn < 60; turn++) {
		int from = turn % 2, to_bob = from == 0;

		for (i = 0; i < 1 + turn % 4; i++) {
			snprintf(text, sizeof text, "turn %d message %d", turn, i);
			enc(&st[from], to_bob, text, &m);
			assert_memory_not_equal(m.b + RATCHET_HEADER_BYTES, text, strlen(text));
			if (i == 0) {
				assert_memory_not_equal(m.b, prev_dh[from], 32);
				memcpy(prev_dh[from], m.b, 32);
			} else {
				assert_memory_equal(m.b, prev_dh[from], 32);
			}
			assert_int_equal(dec(&st[1 - from], to_bob, &m, text), RATCHET_OK);
		}
	}
	ratchet_wipe(&st[0]);
	ratchet_wipe(&st[1]);
}

/* Out of order within a chain, and a late message of an old chain after the
 * DH ratchet moved on: all decrypt, each exactly once. */
static void
test_out_of_order(void **state)
{
	struct ratchet_state a, b;
	struct msg m[5], a0, a1, b0, a2;
	static const int order[5] = { 4, 1, 3, 0, 2 };
	char text[5][16];
	int i;

	(void)state;
	session(&a, &b);
	for (i = 0; i < 5; i++) {
		snprintf(text[i], sizeof text[i], "m%d", i);
		enc(&a, 1, text[i], &m[i]);
	}
	for (i = 0; i < 5; i++)
		assert_int_equal(dec(&b, 1, &m[order[i]], text[order[i]]), RATCHET_OK);
	assert_int_equal(b.n_skipped, 0);

	enc(&a, 1, "a0", &a0);
	enc(&a, 1, "a1", &a1); /* delayed */
	assert_int_equal(dec(&b, 1, &a0, "a0"), RATCHET_OK);
	enc(&b, 0, "b0", &b0);
	assert_int_equal(dec(&a, 0, &b0, "b0"), RATCHET_OK);
	enc(&a, 1, "a2", &a2); /* new chain, pn = 7 */
	assert_memory_not_equal(a2.b, a1.b, 32);
	assert_int_equal(dec(&b, 1, &a2, "a2"), RATCHET_OK);
	assert_int_equal(b.n_skipped, 1); /* a1's key, from the old chain */
	assert_int_equal(dec(&b, 1, &a1, "a1"), RATCHET_OK);
	assert_int_equal(b.n_skipped, 0);
	ratchet_wipe(&a);
	ratchet_wipe(&b);
}

/* A jump of more than MAX_SKIP keys is refused, changes nothing, and the
 * session goes on: a jump of exactly MAX_SKIP is accepted, later messages too;
 * the same in a new chain after a DH step. */
static void
test_gap_over_max_skip(void **state)
{
	struct ratchet_state a, b, before;
	struct msg m, far, edge;
	unsigned i;

	(void)state;
	session(&a, &b);
	for (i = 0; i <= RATCHET_MAX_SKIP + 1; i++) {
		enc(&a, 1, "x", &m);
		if (i == RATCHET_MAX_SKIP)
			edge = m;
	}
	far = m; /* n = MAX_SKIP + 1: MAX_SKIP + 1 keys to skip */
	copy_state(&before, &b);
	assert_int_equal(dec(&b, 1, &far, "x"), RATCHET_ERR_TOO_FAR);
	assert_same_state(&b, &before);
	assert_int_equal(dec(&b, 1, &edge, "x"), RATCHET_OK);
	assert_int_equal(b.n_skipped, RATCHET_MAX_SKIP);
	assert_int_equal(dec(&b, 1, &far, "x"), RATCHET_OK);
	enc(&b, 0, "reply", &m);
	assert_int_equal(dec(&a, 0, &m, "reply"), RATCHET_OK);

	/* Bob's next chain: its message MAX_SKIP + 1 is too far, message 0 is fine. */
	ratchet_wipe(&before);
	enc(&b, 0, "c0", &edge);
	for (i = 1; i <= RATCHET_MAX_SKIP + 1; i++)
		enc(&b, 0, "c", &far);
	enc(&a, 1, "turn", &m); /* Alice moves to a new chain first */
	assert_int_equal(dec(&b, 1, &m, "turn"), RATCHET_OK);
	enc(&b, 0, "d0", &m); /* Bob's new chain; far/edge are of his previous one */
	ratchet_wipe(&before);
	copy_state(&before, &a);
	assert_int_equal(dec(&a, 0, &far, "c"), RATCHET_ERR_TOO_FAR);
	assert_same_state(&a, &before);
	assert_int_equal(dec(&a, 0, &edge, "c0"), RATCHET_OK);
	/* d0 says Bob's previous chain had 2003 messages: Alice keeps MAX_SKIP
	 * of their keys, gives up the rest, and the new chain reads. */
	assert_int_equal(dec(&a, 0, &m, "d0"), RATCHET_OK);
	assert_int_equal(a.n_skipped, RATCHET_MAX_SKIP);
	assert_int_not_equal(dec(&a, 0, &far, NULL), RATCHET_OK);
	ratchet_wipe(&before);
	ratchet_wipe(&a);
	ratchet_wipe(&b);
}

/* Skipped keys are bounded: past RATCHET_MAX_STORED the oldest are dropped
 * (their messages refused), the newer ones still decrypt. */
static void
test_stored_keys_bounded(void **state)
{
	struct ratchet_state a, b;
	struct msg first, fifth, m, r;
	unsigned i;

	(void)state;
	session(&a, &b);
	for (i = 0; i < RATCHET_MAX_SKIP; i++) {
		enc(&a, 1, "x", &m);
		if (i == 0)
			first = m;
		if (i == 4)
			fifth = m;
	}
	assert_int_equal(dec(&b, 1, &m, "x"), RATCHET_OK); /* n = 1999: 1999 skipped */
	assert_int_equal(b.n_skipped, RATCHET_MAX_SKIP - 1);
	enc(&b, 0, "r", &r);
	assert_int_equal(dec(&a, 0, &r, "r"), RATCHET_OK);
	for (i = 0; i < 6; i++)
		enc(&a, 1, "y", &m); /* new chain, n = 5: 5 more skipped */
	assert_int_equal(dec(&b, 1, &m, "y"), RATCHET_OK);
	assert_int_equal(b.n_skipped, RATCHET_MAX_STORED);
	assert_int_equal(dec(&b, 1, &first, "x"), RATCHET_ERR_DUPLICATE); /* dropped */
	assert_int_equal(dec(&b, 1, &fifth, "x"), RATCHET_OK);
	ratchet_wipe(&a);
	ratchet_wipe(&b);
}

/* A message delivered twice decrypts once: in the current chain, from the
 * skipped keys, and from a chain the DH ratchet has left. */
static void
test_replay_refused(void **state)
{
	struct ratchet_state a, b, before;
	struct msg m0, m1, m2, r, n0;

	(void)state;
	session(&a, &b);
	enc(&a, 1, "m0", &m0);
	enc(&a, 1, "m1", &m1);
	enc(&a, 1, "m2", &m2);
	assert_int_equal(dec(&b, 1, &m0, "m0"), RATCHET_OK);
	copy_state(&before, &b);
	assert_int_equal(dec(&b, 1, &m0, NULL), RATCHET_ERR_DUPLICATE);
	assert_same_state(&b, &before);
	ratchet_wipe(&before);
	assert_int_equal(dec(&b, 1, &m2, "m2"), RATCHET_OK);
	assert_int_equal(dec(&b, 1, &m1, "m1"), RATCHET_OK); /* from the skipped keys */
	assert_int_equal(dec(&b, 1, &m1, NULL), RATCHET_ERR_DUPLICATE);
	enc(&b, 0, "r", &r);
	assert_int_equal(dec(&a, 0, &r, "r"), RATCHET_OK);
	enc(&a, 1, "n0", &n0);
	assert_int_equal(dec(&b, 1, &n0, "n0"), RATCHET_OK);
	assert_int_equal(dec(&b, 1, &m2, NULL), RATCHET_ERR_DUPLICATE); /* old chain */
	assert_int_equal(dec(&b, 1, &n0, NULL), RATCHET_ERR_DUPLICATE);
	assert_int_equal(dec(&a, 0, &r, NULL), RATCHET_ERR_DUPLICATE);
	ratchet_wipe(&a);
	ratchet_wipe(&b);
}

/* Try m with one change; it must be refused and leave b as it was. */
static void
refused_unchanged(struct ratchet_state *b, const struct msg *m, const struct ratchet_ad *ad)
{
	struct ratchet_state before;
	uint8_t pt[MSG_MAX];
	size_t len = 1;
	int rc;

	copy_state(&before, b);
	rc = ratchet_decrypt(b, ad, m->b, m->len, pt, sizeof pt, &len);
	assert_true(rc == RATCHET_ERR_AUTH || rc == RATCHET_ERR_HEADER ||
		    rc == RATCHET_ERR_TOO_FAR || rc == RATCHET_ERR_DUPLICATE);
	assert_int_equal(len, 0);
	assert_same_state(b, &before);
	ratchet_wipe(&before);
}

/* Every header byte, the ciphertext, the tag and each AD field are bound: a
 * change anywhere is refused, the state stays, the original still reads. */
static void
test_tamper_refused(void **state)
{
	struct ratchet_state a, b;
	struct msg m0, m, t;
	struct ratchet_ad ad = ad_for(1), x;
	static const uint8_t other_id[16] = { 0x33 };
	size_t i;

	(void)state;
	session(&a, &b);
	enc(&a, 1, "first", &m0);
	assert_int_equal(dec(&b, 1, &m0, "first"), RATCHET_OK);
	enc(&a, 1, "skip me", &t);
	enc(&a, 1, "the message", &m); /* n = 2, so b holds a skipped key too */
	for (i = 0; i < m.len; i++) {
		t = m;
		t.b[i] ^= 0x80;
		refused_unchanged(&b, &t, &ad);
	}
	t = m;
	t.len--;
	refused_unchanged(&b, &t, &ad);
	x = ad;
	x.chat_id = other_id;
	refused_unchanged(&b, &m, &x);
	x = ad;
	x.msg_id = other_id;
	refused_unchanged(&b, &m, &x);
	x = ad;
	x.sender_user = (const uint8_t *)"alicf";
	refused_unchanged(&b, &m, &x);
	x = ad;
	x.sender_device = 3;
	refused_unchanged(&b, &m, &x);
	x = ad;
	x.recipient_user = (const uint8_t *)"bo";
	x.recipient_user_len = 2;
	refused_unchanged(&b, &m, &x);
	x = ad;
	x.recipient_device = 9;
	refused_unchanged(&b, &m, &x);
	x = ad_for(0); /* reflected: sender and recipient swapped */
	refused_unchanged(&b, &m, &x);
	assert_int_equal(dec(&b, 1, &m, "the message"), RATCHET_OK);
	ratchet_wipe(&a);
	ratchet_wipe(&b);
}

/* Malformed input gets its own error and changes nothing: a message shorter
 * than header + tag, a low-order ratchet key (all zero: DH gives zeros), an
 * AD field too long for its 2-byte length. */
static void
test_bad_header(void **state)
{
	struct ratchet_state a, b, before;
	struct msg m, t;
	struct ratchet_ad ad = ad_for(1);
	uint8_t pt[MSG_MAX], out[MSG_MAX];
	size_t len = 1;
	static uint8_t big[0x10000];

	(void)state;
	session(&a, &b);
	enc(&a, 1, "ok", &m);
	copy_state(&before, &b);
	assert_int_equal(ratchet_decrypt(&b, &ad, m.b, RATCHET_OVERHEAD - 1, pt, sizeof pt, &len),
			 RATCHET_ERR_HEADER);
	assert_int_equal(len, 0);
	t = m;
	memset(t.b, 0, 32);
	assert_int_equal(dec(&b, 1, &t, NULL), RATCHET_ERR_HEADER);
	assert_same_state(&b, &before);
	ad.chat_id = big;
	ad.chat_id_len = sizeof big;
	assert_int_equal(ratchet_decrypt(&b, &ad, m.b, m.len, pt, sizeof pt, &len), RATCHET_ERR_ARG);
	assert_int_equal(ratchet_encrypt(&a, &ad, (const uint8_t *)"x", 1, out, sizeof out, &len),
			 RATCHET_ERR_ARG);
	assert_same_state(&b, &before);
	assert_int_equal(dec(&b, 1, &m, "ok"), RATCHET_OK);
	ratchet_wipe(&before);
	ratchet_wipe(&a);
	ratchet_wipe(&b);
}

/* Forward secrecy: the receiver's whole state, copied after it read messages
 * 1..n, decrypts none of them. */
static void
test_forward_secrecy(void **state)
{
	struct ratchet_state a, b, stolen;
	struct msg m[12];
	int i;

	(void)state;
	session(&a, &b);
	for (i = 0; i < 12; i++) {
		if (i == 6) { /* a round trip in the middle: two chains captured */
			struct msg r;

			enc(&b, 0, "r", &r);
			assert_int_equal(dec(&a, 0, &r, "r"), RATCHET_OK);
		}
		enc(&a, 1, "secret", &m[i]);
		assert_int_equal(dec(&b, 1, &m[i], "secret"), RATCHET_OK);
	}
	copy_state(&stolen, &b);
	for (i = 0; i < 12; i++)
		assert_int_not_equal(dec(&stolen, 1, &m[i], NULL), RATCHET_OK);
	ratchet_wipe(&stolen);
	ratchet_wipe(&a);
	ratchet_wipe(&b);
}

/* Healing: a copy of Alice's state reads Bob's messages of the current chain
 * (the compromise is real), but not those after one round trip each way. */
static void
test_healing(void **state)
{
	struct ratchet_state a, b, stolen;
	struct msg m, b1, a1, b2, a2;

	(void)state;
	session(&a, &b);
	enc(&a, 1, "hi", &m);
	assert_int_equal(dec(&b, 1, &m, "hi"), RATCHET_OK);
	copy_state(&stolen, &a); /* time t */
	enc(&b, 0, "b1", &b1);
	assert_int_equal(dec(&a, 0, &b1, "b1"), RATCHET_OK);
	assert_int_equal(dec(&stolen, 0, &b1, "b1"), RATCHET_OK); /* compromised now */
	enc(&a, 1, "a1", &a1);
	assert_int_equal(dec(&b, 1, &a1, "a1"), RATCHET_OK);
	enc(&b, 0, "b2", &b2);
	assert_int_equal(dec(&a, 0, &b2, "b2"), RATCHET_OK);
	assert_int_not_equal(dec(&stolen, 0, &b2, NULL), RATCHET_OK); /* healed */
	enc(&a, 1, "a2", &a2);
	assert_int_equal(dec(&b, 1, &a2, "a2"), RATCHET_OK);
	enc(&b, 0, "b3", &b2);
	assert_int_equal(dec(&a, 0, &b2, "b3"), RATCHET_OK);
	assert_int_not_equal(dec(&stolen, 0, &b2, NULL), RATCHET_OK);
	ratchet_wipe(&stolen);
	ratchet_wipe(&a);
	ratchet_wipe(&b);
}

/* Serialise -> deserialise -> continue behaves as never serialised: the same
 * plaintexts, the same state after each step, the same bytes sent. */
static void
test_serialize_continue(void **state)
{
	struct ratchet_state a, b, b2, a2;
	struct msg m[6], r1, r2;
	int i;

	(void)state;
	session(&a, &b);
	for (i = 0; i < 6; i++)
		enc(&a, 1, "s", &m[i]);
	assert_int_equal(dec(&b, 1, &m[3], "s"), RATCHET_OK); /* 3 skipped keys */
	enc(&b, 0, "r", &r1);
	assert_int_equal(dec(&a, 0, &r1, "r"), RATCHET_OK);
	copy_state(&b2, &b);
	copy_state(&a2, &a);
	assert_same_state(&b, &b2);
	assert_int_equal(b2.n_skipped, 3);
	for (i = 0; i < 6; i++) {
		int rc = dec(&b, 1, &m[i], "s");

		assert_int_equal(dec(&b2, 1, &m[i], "s"), rc);
		assert_same_state(&b, &b2);
	}
	enc(&b, 0, "after", &r1);
	enc(&b2, 0, "after", &r2);
	assert_int_equal(r1.len, r2.len);
	assert_memory_equal(r1.b, r2.b, r1.len);
	assert_int_equal(dec(&a, 0, &r1, "after"), RATCHET_OK);
	assert_int_equal(dec(&a2, 0, &r2, "after"), RATCHET_OK);
	ratchet_wipe(&a);
	ratchet_wipe(&a2);
	ratchet_wipe(&b);
	ratchet_wipe(&b2);
}

/* The reader of the stored blob refuses every malformed form. */
static void
test_deserialize_refuses(void **state)
{
	struct ratchet_state a, b, x;
	struct msg m;
	uint8_t *bb, *t;
	size_t len, i;

	(void)state;
	session(&a, &b);
	enc(&a, 1, "1", &m);
	enc(&a, 1, "2", &m);
	assert_int_equal(dec(&b, 1, &m, "2"), RATCHET_OK);
	bb = blob(&b, &len);
	t = malloc(len + 1);
	assert_non_null(t);
	for (i = 0; i < len; i++) /* every truncation */
		assert_int_equal(ratchet_deserialize(&x, bb, i), RATCHET_ERR_FORMAT);
	memcpy(t, bb, len);
	t[len] = 0;
	assert_int_equal(ratchet_deserialize(&x, t, len + 1), RATCHET_ERR_FORMAT);
	t[0] = 2; /* version */
	assert_int_equal(ratchet_deserialize(&x, t, len), RATCHET_ERR_FORMAT);
	memcpy(t, bb, len);
	t[1] |= 0x08; /* unknown flag */
	assert_int_equal(ratchet_deserialize(&x, t, len), RATCHET_ERR_FORMAT);
	memcpy(t, bb, len);
	t[2 + 64] ^= 1; /* DHs public not the secret's */
	assert_int_equal(ratchet_deserialize(&x, t, len), RATCHET_ERR_FORMAT);
	memcpy(t, bb, len);
	t[len - 68 - 2] = 0x07; /* n_skipped 0x07d1 = 2001 */
	t[len - 68 - 1] = 0xd1;
	assert_int_equal(ratchet_deserialize(&x, t, len), RATCHET_ERR_FORMAT);
	memcpy(t, bb, len);
	t[1 + 1 + 6 * 32 + 12 + 64] = 9; /* n_old 9 */
	assert_int_equal(ratchet_deserialize(&x, t, len), RATCHET_ERR_FORMAT);
	assert_int_equal(ratchet_deserialize(&x, bb, len), RATCHET_OK);
	assert_same_state(&x, &b);
	ratchet_wipe(&x);
	free(t);
	free(bb);
	ratchet_wipe(&a);
	ratchet_wipe(&b);
}

/* ---- the worked example (ratchet.h quotes these bytes) ------------------ */

#define EX_SK  "9090a6f9bf6fabaaecab16e1195acfd29eed20bbaa543a48a370b18c264f92f0"
#define EX_HDR "c306fb0ef2bf8b7f93bad98155fa37daec74db0c4cbeda6c6f1dba9d365582520000000000000000"
#define EX_CT  "72f31eb56f280da48801ab5a098f82ea1c656b94af273cf834b3"

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
 * Fixed keys: every secret is 32 copies of one byte. Alice: exchange key
 * secret 0x0a, ephemeral 0xea, first ratchet key 0xa1. Bob: identity key
 * (Ed25519) seed 0x1b, exchange key secret 0x0b, signed prekey secret 0x5b
 * (id 7), one-time prekey secret 0x6b (id 42). AD fields: chat id 16 x 0x11,
 * message id 16 x 0x22, "alice" device 1 to "bob" device 2. Plaintext
 * "hello, Bob". Bob reads it back.
 */
static void
test_worked_example(void **state)
{
	uint8_t ik_a[32], ik_a_pk[32], ek[32], dhs[32], seed[32], sign_pk[32], sign_sk[64];
	uint8_t ik_b[32], spk[32], opk[32], xmsg[12 + 32], sk_b[32], ad_b[64];
	struct x3dh_bundle bd;
	struct x3dh_result r;
	struct ratchet_state a, b;
	struct msg m;

	(void)state;
	memset(ik_a, 0x0a, 32);
	memset(ek, 0xea, 32);
	memset(dhs, 0xa1, 32);
	memset(seed, 0x1b, 32);
	memset(ik_b, 0x0b, 32);
	memset(spk, 0x5b, 32);
	memset(opk, 0x6b, 32);
	memset(&bd, 0, sizeof bd);
	assert_int_equal(crypto_scalarmult_base(ik_a_pk, ik_a), 0);
	assert_int_equal(crypto_sign_seed_keypair(sign_pk, sign_sk, seed), 0);
	memcpy(bd.identity_key, sign_pk, 32);
	assert_int_equal(crypto_scalarmult_base(bd.exchange_key, ik_b), 0);
	memcpy(xmsg, "chat-xkey-v1", 12);
	memcpy(xmsg + 12, bd.exchange_key, 32);
	assert_int_equal(crypto_sign_detached(bd.exchange_key_sig, NULL, xmsg, sizeof xmsg, sign_sk),
			 0);
	bd.spk_id = 7;
	assert_int_equal(crypto_scalarmult_base(bd.spk, spk), 0);
	assert_int_equal(x3dh_sign_spk(bd.spk_sig, sign_sk, 7, bd.spk), X3DH_OK);
	bd.has_opk = 1;
	bd.opk_id = 42;
	assert_int_equal(crypto_scalarmult_base(bd.opk, opk), 0);

	assert_int_equal(x3dh_initiate(&r, ik_a, ik_a_pk, &bd, ek), X3DH_OK);
	assert_hex(r.sk, 32, EX_SK);
	assert_int_equal(ratchet_init_alice(&a, r.sk, r.ad, bd.spk, dhs), RATCHET_OK);
	enc(&a, 1, "hello, Bob", &m);
	assert_hex(m.b, RATCHET_HEADER_BYTES, EX_HDR);
	assert_hex(m.b + RATCHET_HEADER_BYTES, m.len - RATCHET_HEADER_BYTES, EX_CT);

	assert_int_equal(x3dh_respond(sk_b, ad_b, ik_b, bd.exchange_key, spk, opk, ik_a_pk,
				      r.ek_pub),
			 X3DH_OK);
	assert_int_equal(ratchet_init_bob(&b, sk_b, ad_b, spk, bd.spk), RATCHET_OK);
	assert_int_equal(dec(&b, 1, &m, "hello, Bob"), RATCHET_OK);
	ratchet_wipe(&a);
	ratchet_wipe(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x3dh_agree_with_opk),
		cmocka_unit_test(test_x3dh_agree_without_opk),
		cmocka_unit_test(test_x3dh_forged_refused),
		cmocka_unit_test(test_bob_cannot_send_first),
		cmocka_unit_test(test_round_trip_many_turns),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_gap_over_max_skip),
		cmocka_unit_test(test_stored_keys_bounded),
		cmocka_unit_test(test_replay_refused),
		cmocka_unit_test(test_tamper_refused),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_forward_secrecy),
		cmocka_unit_test(test_healing),
		cmocka_unit_test(test_serialize_continue),
		cmocka_unit_test(test_deserialize_refuses),
		cmocka_unit_test(test_worked_example),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
