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
 *
 * Figures (mean µs over -n) go to stdout as "name value" lines (bench.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "e2e.h"
#include "bench.h"

static const struct e2e_header hdr = {
	.chat_id = "9f1c0a6e2b7d4c13",
	.message_id = "4be0a1f3c2d94e6f8a7b6c5d4e3f2a1b",
	.sender_user = "alice",
	.sender_device = 1,
	.recipient_user = "bob",
	.recipient_device = 1,
};

int
main(int argc, char **argv)
{
	struct e2e_identity a = {0}, b = {0};
	long n = 2000, text = 64;
	uint8_t *pt, *ct, *out, nonce[24];
	size_t ct_len = 0, out_len = 0;
	double t0, seal = 0, open = 0, verify = 0;
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
	bench_put("crypto.text_bytes", (double)text);
	bench_put("crypto.ciphertext_bytes", (double)ct_len);
	bench_put("crypto.seal_us", seal / (double)n);
	bench_put("crypto.open_us", open / (double)n);
	bench_put("crypto.verify_key_us", verify / (double)n);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "crypto-cost: a seal, open or check failed\n");
out:
	e2e_identity_wipe(&a);
	e2e_identity_wipe(&b);
	free(pt);
	free(ct);
	free(out);
	return rc;
}
