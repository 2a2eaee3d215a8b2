/*
 * crypto-cost - the client's end-to-end crypto per message, in libchat's own
 * functions (client-lib/e2e.h, linked from libchat.a): what a device spends
 * on one envelope whatever the server does.
 *
 *   crypto-cost [-n ITERATIONS] [-t TEXT_BYTES]
 *
 *   seal_us        e2e_seal of one text for one recipient device (X25519,
 *                  HKDF, pad, XChaCha20-Poly1305): a group message of 100
 *                  costs its sender 99 of these
 *   open_us        e2e_open of one envelope
 *   verify_key_us  e2e_verify_exchange_key: the Ed25519 check of the
 *                  sender's signed exchange key a receiver makes per message
 *   sk_encrypt_us  sk_encrypt (common/senderkey.h) of the same text, padded
 *                  as e2e_seal pads it: a group message with sender keys,
 *                  made once whatever the group's size (HMAC chain, HKDF,
 *                  XChaCha20-Poly1305, Ed25519 signature)
 *   sk_decrypt_us  sk_decrypt of it by one member, signature check included
 *   sk_dist_us     ratchet_encrypt (common/ratchet.h) of a padded kind-0x04
 *                  distribution body: what the sender adds per device that
 *                  does not have its sender key yet (a new member, a new
 *                  device, everyone after a rotation)
 *
 * Figures (mean µs over -n) go to stdout as "name value" lines (bench.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "e2e.h"
#include "ratchet.h"
#include "senderkey.h"
#include "bench.h"

static const struct e2e_header hdr = {
	.chat_id = "9f1c0a6e2b7d4c13",
	.message_id = "4be0a1f3c2d94e6f8a7b6c5d4e3f2a1b",
	.sender_user = "alice",
	.sender_device = 1,
	.recipient_user = "bob",
	.recipient_device = 1,
};

/* Sender keys: sk_encrypt and sk_decrypt of pt (text_len bytes, padded
 * here), and a distribution's pairwise message, each timed n times. */
struct sk_cost {
	double enc, dec, dist;
	size_t msg_len;
};

static int
sk_cost(long n, const uint8_t *pt, size_t text_len, struct sk_cost *c)
{
	struct sk_ad ad = {.chat_id = (const uint8_t *)hdr.chat_id,
			   .chat_id_len = strlen(hdr.chat_id),
			   .msg_id = (const uint8_t *)hdr.message_id,
			   .msg_id_len = strlen(hdr.message_id),
			   .sender_user = (const uint8_t *)hdr.sender_user,
			   .sender_user_len = strlen(hdr.sender_user),
			   .sender_device = hdr.sender_device};
	struct ratchet_ad rad = {.chat_id = ad.chat_id,
				 .chat_id_len = ad.chat_id_len,
				 .msg_id = ad.msg_id,
				 .msg_id_len = ad.msg_id_len,
				 .sender_user = ad.sender_user,
				 .sender_user_len = ad.sender_user_len,
				 .sender_device = ad.sender_device,
				 .recipient_user = (const uint8_t *)hdr.recipient_user,
				 .recipient_user_len = strlen(hdr.recipient_user),
				 .recipient_device = hdr.recipient_device};
	struct sk_own own = {0};
	struct sk_peer peer = {0};
	struct ratchet_state rs = {0};
	size_t padded = e2e_pad_len(text_len), len = 0, out_len = 0;
	uint8_t *spt = calloc(1, padded), *msg = malloc(padded + SK_OVERHEAD),
		*out = malloc(padded);
	uint8_t dist[256], dmsg[256 + RATCHET_OVERHEAD], rk[32], rad64[X3DH_AD_BYTES], spk[32];
	double t0;
	int rc = -1;

	randombytes_buf(rk, sizeof rk);
	randombytes_buf(rad64, sizeof rad64);
	randombytes_buf(spk, sizeof spk);
	memset(dist, 0, sizeof dist);
	if (spt == NULL || msg == NULL || out == NULL || padded == 0 ||
	    sk_own_new(&own, NULL) != SK_OK || sk_own_distribution(&own, dist) != SK_OK ||
	    sk_peer_from_distribution(&peer, dist, SK_DIST_BYTES) != SK_OK ||
	    ratchet_init_alice(&rs, rk, rad64, spk, NULL) != RATCHET_OK)
		goto out;
	memcpy(spt, pt, text_len);
	spt[text_len] = 0x80;
	dist[SK_DIST_BYTES] = 0x80;
	memset(c, 0, sizeof *c);
	for (long i = 0; i < n; i++) {
		t0 = bench_now_us();
		if (sk_encrypt(&own, &ad, spt, padded, msg, padded + SK_OVERHEAD, &len) != SK_OK)
			goto out;
		c->enc += bench_now_us() - t0;
		t0 = bench_now_us();
		if (sk_decrypt(&peer, &ad, msg, len, out, padded, &out_len) != SK_OK ||
		    out_len != padded)
			goto out;
		c->dec += bench_now_us() - t0;
		t0 = bench_now_us();
		if (ratchet_encrypt(&rs, &rad, dist, sizeof dist, dmsg, sizeof dmsg, &out_len) !=
		    RATCHET_OK)
			goto out;
		c->dist += bench_now_us() - t0;
	}
	c->msg_len = len;
	rc = 0;
out:
	sk_own_wipe(&own);
	sk_peer_wipe(&peer);
	ratchet_wipe(&rs);
	sodium_memzero(rk, sizeof rk);
	free(spt);
	free(msg);
	free(out);
	return rc;
}

int
main(int argc, char **argv)
{
	struct e2e_identity a = {0}, b = {0};
	long n = 2000, text = 64;
	uint8_t *pt, *ct, *out, nonce[24];
	size_t ct_len = 0, out_len = 0;
	double t0, seal = 0, open = 0, verify = 0;
	struct sk_cost sk = {0};
	int opt, rc = 1;

	while ((opt = getopt(argc, argv, "n:t:")) != -1) {
		switch (opt) {
		case 'n': n = bench_count("crypto-cost", optarg, 10000000); break;
		case 't': text = bench_count("crypto-cost", optarg, 65536); break;
		default:
			fprintf(stderr, "usage: crypto-cost [-n ITERATIONS] [-t TEXT_BYTES]\n");
			return 2;
		}
	}
	pt = calloc(1, (size_t)text + 1);
	ct = malloc(e2e_sealed_len((size_t)text + 1));
	out = malloc(e2e_sealed_len((size_t)text + 1));
	if (sodium_init() < 0 || pt == NULL || ct == NULL || out == NULL ||
	    e2e_identity_generate(&a) != 0 || e2e_identity_generate(&b) != 0) {
		fprintf(stderr, "crypto-cost: cannot set up\n");
		goto out;
	}
	pt[0] = 0x01; /* a text body */
	memset(pt + 1, 'x', (size_t)text);
	for (long i = 0; i < n; i++) {
		t0 = bench_now_us();
		if (e2e_seal(ct, &ct_len, nonce, pt, (size_t)text + 1, &hdr, a.x_sk, a.x_pk,
			     b.x_pk) != 0)
			goto fail;
		seal += bench_now_us() - t0;
		t0 = bench_now_us();
		if (e2e_open(out, &out_len, ct, ct_len, nonce, &hdr, b.x_sk, b.x_pk, a.x_pk) != 0 ||
		    out_len != (size_t)text + 1)
			goto fail;
		open += bench_now_us() - t0;
		t0 = bench_now_us();
		if (e2e_verify_exchange_key(a.sign_pk, a.x_pk, a.x_sig) != 0)
			goto fail;
		verify += bench_now_us() - t0;
	}
	if (sk_cost(n, pt, (size_t)text + 1, &sk) != 0)
		goto fail;
	bench_put("crypto.text_bytes", (double)text);
	bench_put("crypto.ciphertext_bytes", (double)ct_len);
	bench_put("crypto.seal_us", seal / (double)n);
	bench_put("crypto.open_us", open / (double)n);
	bench_put("crypto.verify_key_us", verify / (double)n);
	bench_put("crypto.sk_message_bytes", (double)sk.msg_len);
	bench_put("crypto.sk_encrypt_us", sk.enc / (double)n);
	bench_put("crypto.sk_decrypt_us", sk.dec / (double)n);
	bench_put("crypto.sk_dist_us", sk.dist / (double)n);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "crypto-cost: a seal, open, check or sender-key step failed\n");
out:
	e2e_identity_wipe(&a);
	e2e_identity_wipe(&b);
	free(pt);
	free(ct);
	free(out);
	return rc;
}
