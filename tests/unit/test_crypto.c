/*
 * test_crypto.c - known-answer and behaviour tests for the crypto of
 * common/ (hkdf.c; crypto.c: keys, challenge signatures, device approvals)
 * and of libchat's envelope (client-lib/e2e.c), and for the libsodium
 * primitives they rely on. (The session signatures' and link MACs' worked
 * examples of PROTOCOL.md are test_devices.c's.)
 *
 * Every vector below is copied from the published document named next to
 * it.  Hex strings may contain spaces and colons (ignored by the decoder) so
 * that they can be pasted in the layout the document uses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "e2e.h"
#include "hkdf.h"
#include "proto.h"

/* Decode hex (spaces and colons ignored) into out; fail the test unless the
 * whole string decodes to exactly want bytes. */
static void
unhex(uint8_t *out, size_t want, const char *hex)
{
	size_t bin_len = 0;
	const char *end = NULL;

	assert_int_equal(sodium_hex2bin(out, want, hex, strlen(hex), " :", &bin_len, &end), 0);
	assert_non_null(end);
	assert_int_equal(*end, '\0');
	assert_int_equal(bin_len, want);
}

static int
group_setup(void **state)
{
	(void)state;
	/* e2e.h requires the caller to initialise libsodium. */
	return sodium_init() < 0 ? -1 : 0;
}

/* ================================================================== */
/* HKDF-SHA256: RFC 5869 Appendix A, test cases 1-3                    */
/* ================================================================== */

struct hkdf_vector {
	const char *ikm, *salt, *info;
	size_t ikm_len, salt_len, info_len, l;
	const char *prk, *okm;
};

static void
check_hkdf(const struct hkdf_vector *v)
{
	uint8_t ikm[80], salt[80], info[80], prk[32], okm[82], want_prk[32], want_okm[82];
	const uint8_t *salt_p = v->salt_len ? salt : NULL;
	const uint8_t *info_p = v->info_len ? info : NULL;

	unhex(ikm, v->ikm_len, v->ikm);
	unhex(salt, v->salt_len, v->salt);
	unhex(info, v->info_len, v->info);
	unhex(want_prk, sizeof want_prk, v->prk);
	unhex(want_okm, v->l, v->okm);

	assert_int_equal(chat_hkdf_sha256_extract(prk, salt_p, v->salt_len, ikm, v->ikm_len), 0);
	assert_memory_equal(prk, want_prk, sizeof prk);

	memset(okm, 0xaa, sizeof okm);
	assert_int_equal(chat_hkdf_sha256_expand(okm, v->l, prk, info_p, v->info_len), 0);
	assert_memory_equal(okm, want_okm, v->l);

	memset(okm, 0xaa, sizeof okm);
	assert_int_equal(chat_hkdf_sha256(okm, v->l, salt_p, v->salt_len, ikm, v->ikm_len, info_p,
					  v->info_len),
			 0);
	assert_memory_equal(okm, want_okm, v->l);
	if (v->l < sizeof okm) /* nothing written past out_len */
		assert_int_equal(okm[v->l], 0xaa);
}

/* RFC 5869 A.1 "Basic test case with SHA-256" */
static void
test_hkdf_rfc5869_case1(void **state)
{
	static const struct hkdf_vector v = {
		.ikm = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		.ikm_len = 22,
		.salt = "000102030405060708090a0b0c",
		.salt_len = 13,
		.info = "f0f1f2f3f4f5f6f7f8f9",
		.info_len = 10,
		.l = 42,
		.prk = "077709362c2e32df0ddc3f0dc47bba63"
		       "90b6c73bb50f9c3122ec844ad7c2b3e5",
		.okm = "3cb25f25faacd57a90434f64d0362f2a"
		       "2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
		       "34007208d5b887185865",
	};
	(void)state;
	check_hkdf(&v);
}

/* RFC 5869 A.2 "Test with SHA-256 and longer inputs/outputs" */
static void
test_hkdf_rfc5869_case2(void **state)
{
	static const struct hkdf_vector v = {
		.ikm = "000102030405060708090a0b0c0d0e0f"
		       "101112131415161718191a1b1c1d1e1f"
		       "202122232425262728292a2b2c2d2e2f"
		       "303132333435363738393a3b3c3d3e3f"
		       "404142434445464748494a4b4c4d4e4f",
		.ikm_len = 80,
		.salt = "606162636465666768696a6b6c6d6e6f"
			"707172737475767778797a7b7c7d7e7f"
			"808182838485868788898a8b8c8d8e8f"
			"909192939495969798999a9b9c9d9e9f"
			"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		.salt_len = 80,
		.info = "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
			"c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
			"d0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
			"e0e1e2e3e4e5e6e7e8e9eaebecedeeef"
			"f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		.info_len = 80,
		.l = 82,
		.prk = "06a6b88c5853361a06104c9ceb35b45c"
		       "ef760014904671014a193f40c15fc244",
		.okm = "b11e398dc80327a1c8e7f78c596a4934"
		       "4f012eda2d4efad8a050cc4c19afa97c"
		       "59045a99cac7827271cb41c65e590e09"
		       "da3275600c2f09b8367793a9aca3db71"
		       "cc30c58179ec3e87c14c01d5c1f3434f"
		       "1d87",
	};
	(void)state;
	check_hkdf(&v);
}

/* RFC 5869 A.3 "Test with SHA-256 and zero-length salt/info" */
static void
test_hkdf_rfc5869_case3(void **state)
{
	static const struct hkdf_vector v = {
		.ikm = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		.ikm_len = 22,
		.salt = "",
		.salt_len = 0,
		.info = "",
		.info_len = 0,
		.l = 42,
		.prk = "19ef24a32c717b167f33a91d6f648bdf"
		       "96596776afdb6377ac434c1c293ccb04",
		.okm = "8da4e775a563c18f715f802a063c5a31"
		       "b8a11f5c5ee1879ec3454e5f3c738d2d"
		       "9d201395faa4b61a96c8",
	};
	uint8_t ikm[22], okm[42], want[42];
	(void)state;
	check_hkdf(&v);

	/* A non-NULL but empty salt means the same as no salt. */
	unhex(ikm, sizeof ikm, v.ikm);
	unhex(want, sizeof want, v.okm);
	assert_int_equal(chat_hkdf_sha256(okm, sizeof okm, ikm, 0, ikm, sizeof ikm, NULL, 0), 0);
	assert_memory_equal(okm, want, sizeof okm);
}

static int
all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void
test_hkdf_bad_arguments(void **state)
{
	static uint8_t big[CHAT_HKDF_SHA256_MAX_OUT + 1];
	uint8_t prk[32] = {1}, out[32];
	(void)state;

	assert_int_equal(chat_hkdf_sha256_expand(big, CHAT_HKDF_SHA256_MAX_OUT + 1, prk, NULL, 0),
			 -1);
	assert_int_equal(chat_hkdf_sha256_expand(big, CHAT_HKDF_SHA256_MAX_OUT, prk, NULL, 0), 0);
	assert_int_equal(
		chat_hkdf_sha256(big, CHAT_HKDF_SHA256_MAX_OUT + 1, NULL, 0, prk, 32, NULL, 0), -1);
	assert_int_equal(chat_hkdf_sha256_expand(out, 0, prk, NULL, 0), -1);
	assert_int_equal(chat_hkdf_sha256_expand(NULL, 32, prk, NULL, 0), -1);

	memset(out, 0xaa, sizeof out);
	assert_int_equal(chat_hkdf_sha256_expand(out, 32, NULL, NULL, 0), -1);
	assert_true(all_zero(out, sizeof out)); /* failure wipes output */
	memset(out, 0xaa, sizeof out);
	assert_int_equal(chat_hkdf_sha256_expand(out, 32, prk, NULL, 5), -1);
	assert_true(all_zero(out, sizeof out));
	memset(out, 0xaa, sizeof out);
	assert_int_equal(chat_hkdf_sha256_extract(out, NULL, 3, prk, 32), -1);
	assert_true(all_zero(out, sizeof out));
	assert_int_equal(chat_hkdf_sha256_extract(out, NULL, 0, NULL, 4), -1);
	assert_int_equal(chat_hkdf_sha256(out, 32, NULL, 0, NULL, 4, NULL, 0), -1);
}

/* ================================================================== */
/* X25519: RFC 7748 sections 5.2 and 6.1                               */
/* ================================================================== */

static void
check_x25519(const char *scalar_hex, const char *u_hex, const char *out_hex)
{
	uint8_t k[32], u[32], want[32], got[32];

	unhex(k, sizeof k, scalar_hex);
	unhex(u, sizeof u, u_hex);
	unhex(want, sizeof want, out_hex);
	assert_int_equal(crypto_scalarmult(got, k, u), 0);
	assert_memory_equal(got, want, sizeof got);
}

static void
test_x25519_rfc7748_5_2(void **state)
{
	(void)state;
	check_x25519("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
		     "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
		     "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
	/* Input u has its top bit set (0x93); X25519 must mask it. */
	check_x25519("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
		     "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
		     "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

static void
test_x25519_rfc7748_6_1(void **state)
{
	uint8_t a[32], a_pub[32], b[32], b_pub[32], k[32], got[32];
	(void)state;

	unhex(a, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex(a_pub, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	unhex(b, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	unhex(b_pub, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	unhex(k, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");

	assert_int_equal(crypto_scalarmult_base(got, a), 0);
	assert_memory_equal(got, a_pub, 32);
	assert_int_equal(crypto_scalarmult_base(got, b), 0);
	assert_memory_equal(got, b_pub, 32);
	assert_int_equal(crypto_scalarmult(got, a, b_pub), 0);
	assert_memory_equal(got, k, 32);
	assert_int_equal(crypto_scalarmult(got, b, a_pub), 0);
	assert_memory_equal(got, k, 32);
}

/* ================================================================== */
/* Ed25519: RFC 8032 section 7.1, TEST 1-3                             */
/* ================================================================== */

static void
check_ed25519(const char *seed_hex, const char *pk_hex, const char *msg_hex, size_t msg_len,
	      const char *sig_hex)
{
	uint8_t seed[32], want_pk[32], pk[32], sk[64], want_sig[64], sig[64];
	uint8_t msg[8] = {0}; /* non-NULL even for the empty message */
	unsigned long long sig_len = 0;

	assert_true(msg_len <= sizeof msg);
	unhex(seed, sizeof seed, seed_hex);
	unhex(want_pk, sizeof want_pk, pk_hex);
	unhex(msg, msg_len, msg_hex);
	unhex(want_sig, sizeof want_sig, sig_hex);

	assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
	assert_memory_equal(pk, want_pk, sizeof pk);
	assert_int_equal(crypto_sign_detached(sig, &sig_len, msg, msg_len, sk), 0);
	assert_int_equal(sig_len, 64);
	assert_memory_equal(sig, want_sig, sizeof sig);
	assert_int_equal(crypto_sign_verify_detached(sig, msg, msg_len, pk), 0);

	/* One flipped bit in R, in S, or in the message must not verify. */
	sig[0] ^= 0x01;
	assert_int_equal(crypto_sign_verify_detached(sig, msg, msg_len, pk), -1);
	sig[0] ^= 0x01;
	sig[40] ^= 0x01;
	assert_int_equal(crypto_sign_verify_detached(sig, msg, msg_len, pk), -1);
	sig[40] ^= 0x01;
	if (msg_len > 0) {
		msg[0] ^= 0x01;
		assert_int_equal(crypto_sign_verify_detached(sig, msg, msg_len, pk), -1);
	}
	sodium_memzero(sk, sizeof sk);
}

static void
test_ed25519_rfc8032_test1(void **state)
{
	(void)state;
	check_ed25519("9d61b19deffd5a60ba844af492ec2cc4 4449c5697b326919703bac031cae7f60",
		      "d75a980182b10ab7d54bfed3c964073a 0ee172f3daa62325af021a68f707511a", "", 0,
		      "e5564300c360ac729086e2cc806e828a 84877f1eb8e5d974d873e06522490155"
		      "5fb8821590a33bacc61e39701cf9b46b d25bf5f0595bbe24655141438e7a100b");
}

static void
test_ed25519_rfc8032_test2(void **state)
{
	(void)state;
	check_ed25519("4ccd089b28ff96da9db6c346ec114e0f 5b8a319f35aba624da8cf6ed4fb8a6fb",
		      "3d4017c3e843895a92b70aa74d1b7ebc 9c982ccf2ec4968cc0cd55f12af4660c", "72", 1,
		      "92a009a9f0d4cab8720e820b5f642540 a2b27b5416503f8fb3762223ebdb69da"
		      "085ac1e43e15996e458f3613d0f11d8c 387b2eaeb4302aeeb00d291612bb0c00");
}

static void
test_ed25519_rfc8032_test3(void **state)
{
	(void)state;
	check_ed25519("c5aa8df43f9f837bedb7442f31dcb7b1 66d38535076f094b85ce3a2e0b4458f7",
		      "fc51cd8e6218a1a38da47ed00230f058 0816ed13ba3303ac5deb911548908025", "af82",
		      2,
		      "6291d657deec24024827e69c3abe01a3 0ce548a284743a445e3680d7db5ac3ac"
		      "18ff9b538d16f290ae67f760984dc659 4a7c15e9716ed28dc027beceea1ec40a");
}

/* ================================================================== */
/* XChaCha20-Poly1305: draft-irtf-cfrg-xchacha-03 Appendix A.3.1       */
/* ================================================================== */

static void
test_xchacha20poly1305_draft_a_3_1(void **state)
{
	static const char sunscreen[] =
		"Ladies and Gentlemen of the class of '99: If I could offer you "
		"only one tip for the future, sunscreen would be it.";
	uint8_t pt[114], aad[12], key[32], iv[24], want_ct[114], want_tag[16];
	uint8_t ct[114 + 16], back[114];
	unsigned long long ct_len = 0, back_len = 0;
	(void)state;

	unhex(pt, sizeof pt,
	      "4c 61 64 69 65 73 20 61 6e 64 20 47 65 6e 74 6c"
	      "65 6d 65 6e 20 6f 66 20 74 68 65 20 63 6c 61 73"
	      "73 20 6f 66 20 27 39 39 3a 20 49 66 20 49 20 63"
	      "6f 75 6c 64 20 6f 66 66 65 72 20 79 6f 75 20 6f"
	      "6e 6c 79 20 6f 6e 65 20 74 69 70 20 66 6f 72 20"
	      "74 68 65 20 66 75 74 75 72 65 2c 20 73 75 6e 73"
	      "63 72 65 65 6e 20 77 6f 75 6c 64 20 62 65 20 69"
	      "74 2e");
	assert_int_equal(sizeof sunscreen - 1, sizeof pt);
	assert_memory_equal(pt, sunscreen, sizeof pt);
	unhex(aad, sizeof aad, "50 51 52 53 c0 c1 c2 c3 c4 c5 c6 c7");
	unhex(key, sizeof key,
	      "80 81 82 83 84 85 86 87 88 89 8a 8b 8c 8d 8e 8f"
	      "90 91 92 93 94 95 96 97 98 99 9a 9b 9c 9d 9e 9f");
	unhex(iv, sizeof iv,
	      "40 41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f"
	      "50 51 52 53 54 55 56 57");
	unhex(want_ct, sizeof want_ct,
	      "bd 6d 17 9d 3e 83 d4 3b 95 76 57 94 93 c0 e9 39"
	      "57 2a 17 00 25 2b fa cc be d2 90 2c 21 39 6c bb"
	      "73 1c 7f 1b 0b 4a a6 44 0b f3 a8 2f 4e da 7e 39"
	      "ae 64 c6 70 8c 54 c2 16 cb 96 b7 2e 12 13 b4 52"
	      "2f 8c 9b a4 0d b5 d9 45 b1 1b 69 b9 82 c1 bb 9e"
	      "3f 3f ac 2b c3 69 48 8f 76 b2 38 35 65 d3 ff f9"
	      "21 f9 66 4c 97 63 7d a9 76 88 12 f6 15 c6 8b 13"
	      "b5 2e");
	unhex(want_tag, sizeof want_tag, "c0:87:59:24:c1:c7:98:79:47:de:af:d8:78:0a:cf:49");

	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ct_len, pt, sizeof pt, aad,
								    sizeof aad, NULL, iv, key),
			 0);
	assert_int_equal(ct_len, sizeof ct);
	assert_memory_equal(ct, want_ct, sizeof want_ct);
	assert_memory_equal(ct + sizeof want_ct, want_tag, sizeof want_tag);

	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(
				 back, &back_len, NULL, ct, sizeof ct, aad, sizeof aad, iv, key),
			 0);
	assert_int_equal(back_len, sizeof pt);
	assert_memory_equal(back, pt, sizeof pt);

	ct[sizeof ct - 1] ^= 0x01; /* a bad tag must be rejected */
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(
				 back, &back_len, NULL, ct, sizeof ct, aad, sizeof aad, iv, key),
			 -1);
}

/* ================================================================== */
/* Envelope, identity and challenge signatures (libchat e2e.c)         */
/* ================================================================== */

static const struct e2e_header base_header = {
	.chat_id = "chat-42",
	.message_id = "msg-0001",
	.sender_user = "alice",
	.sender_device = 1,
	.recipient_user = "bob",
	.recipient_device = 7,
};

static const uint8_t hello[] = "hello, bob"; /* includes its NUL; fine */

/* hello, sealed: padded to the smallest bucket. */
struct sealed {
	uint8_t ct[PROTO_PAD_MIN + PROTO_TAG_BYTES];
	size_t ct_len;
	uint8_t nonce[PROTO_NONCE_BYTES];
};

static void
gen(struct e2e_identity *id)
{
	assert_int_equal(e2e_identity_generate(id), 0);
}

static void
seal_hello(struct sealed *s, const struct e2e_identity *from, const struct e2e_identity *to)
{
	assert_int_equal(e2e_seal(s->ct, &s->ct_len, s->nonce, hello, sizeof hello, &base_header,
				  from->x_sk, from->x_pk, to->x_pk),
			 0);
	assert_int_equal(s->ct_len, sizeof s->ct);
}

/* Try to open s as `to` from `from` under header h; return e2e_open's rc. */
static int
open_as(const struct sealed *s, size_t ct_len, const struct e2e_header *h,
	const struct e2e_identity *to, const struct e2e_identity *from)
{
	uint8_t pt[PROTO_PAD_MIN];
	size_t pt_len = 12345;
	int rc = e2e_open(pt, &pt_len, s->ct, ct_len, s->nonce, h, to->x_sk, to->x_pk, from->x_pk);

	if (rc == 0) {
		assert_int_equal(pt_len, sizeof hello);
		assert_memory_equal(pt, hello, sizeof hello);
	} else {
		assert_int_equal(pt_len, 0);
	}
	return rc;
}

/*
 * An envelope made from the primitives, as PROTOCOL.md describes it, not
 * through e2e_seal: version 1 (what older libchat sent, no padding), or a
 * version 2 one whose plaintext the caller padded (or failed to). The key:
 * HKDF-SHA256 with no salt over X25519, info "chat-e2e-v1 key" || S || R.
 */
static size_t
seal_by_hand(uint8_t *ct, const uint8_t nonce[24], const uint8_t *pt, size_t len,
	     const struct e2e_header *h, int version, const struct e2e_identity *from,
	     const uint8_t to_pk[32])
{
	uint8_t shared[32], info[15 + 64], key[32], ad[256];
	unsigned long long ct_len = 0;
	size_t ad_len = e2e_header_ad(h, version, ad, sizeof ad);

	assert_true(ad_len > 0);
	assert_int_equal(crypto_scalarmult(shared, from->x_sk, to_pk), 0);
	memcpy(info, "chat-e2e-v1 key", 15);
	memcpy(info + 15, from->x_pk, 32);
	memcpy(info + 47, to_pk, 32);
	assert_int_equal(chat_hkdf_sha256(key, 32, NULL, 0, shared, 32, info, sizeof info), 0);
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ct_len, pt, len, ad,
								    ad_len, NULL, nonce, key),
			 0);
	return (size_t)ct_len;
}

static void
test_header_ad_format(void **state)
{
	static const uint8_t want[] = "chat-e2e-v2\0chat-42\0msg-0001\0alice\0001\0bob\0007";
	const size_t want_len = sizeof want - 1; /* no trailing NUL in the AD */
	uint8_t ad[128];
	struct e2e_header h = base_header;
	(void)state;

	assert_int_equal(e2e_header_ad(&h, E2E_AD_V2, ad, sizeof ad), want_len);
	assert_memory_equal(ad, want, want_len);
	assert_int_equal(e2e_header_ad(&h, E2E_AD_V2, ad, want_len), want_len);
	assert_int_equal(e2e_header_ad(&h, E2E_AD_V2, ad, want_len - 1), 0);
	/* Version 1 differs in its label only. */
	assert_int_equal(e2e_header_ad(&h, E2E_AD_V1, ad, sizeof ad), want_len);
	assert_memory_equal(ad, "chat-e2e-v1", 11);
	assert_memory_equal(ad + 11, want + 11, want_len - 11);
	assert_int_equal(e2e_header_ad(&h, 3, ad, sizeof ad), 0);
	assert_int_equal(e2e_header_ad(&h, 0, ad, sizeof ad), 0);

	h.sender_device = 4294967295u;
	h.recipient_device = 0;
	assert_int_equal(e2e_header_ad(&h, E2E_AD_V2, ad, sizeof ad), want_len + 9);
	/* ... "alice" 0x00 | "4294967295" 0x00 "bob" 0x00 "0" */
	assert_memory_equal(ad + want_len - 8, "\0004294967295\0bob\0000", 17);

	h = base_header;
	h.message_id = NULL;
	assert_int_equal(e2e_header_ad(&h, E2E_AD_V2, ad, sizeof ad), 0);
	assert_int_equal(e2e_header_ad(NULL, E2E_AD_V2, ad, sizeof ad), 0);
}

static void
test_envelope_roundtrip(void **state)
{
	struct e2e_identity alice, bob;
	struct sealed s;
	(void)state;

	gen(&alice);
	gen(&bob);
	seal_hello(&s, &alice, &bob);
	assert_int_equal(open_as(&s, s.ct_len, &base_header, &bob, &alice), 0);
	e2e_identity_wipe(&alice);
	e2e_identity_wipe(&bob);
}

static void
test_envelope_tampered_ct_or_nonce(void **state)
{
	struct e2e_identity alice, bob;
	struct sealed s;
	size_t i;
	(void)state;

	gen(&alice);
	gen(&bob);
	seal_hello(&s, &alice, &bob);
	for (i = 0; i < sizeof s.ct; i++) {
		s.ct[i] ^= 0x01;
		assert_int_equal(open_as(&s, sizeof s.ct, &base_header, &bob, &alice), -1);
		s.ct[i] ^= 0x81;
		assert_int_equal(open_as(&s, sizeof s.ct, &base_header, &bob, &alice), -1);
		s.ct[i] ^= 0x80;
	}
	for (i = 0; i < sizeof s.nonce; i++) {
		s.nonce[i] ^= 0x01;
		assert_int_equal(open_as(&s, sizeof s.ct, &base_header, &bob, &alice), -1);
		s.nonce[i] ^= 0x01;
	}
	/* Untouched again: must still open. */
	assert_int_equal(open_as(&s, sizeof s.ct, &base_header, &bob, &alice), 0);
	e2e_identity_wipe(&alice);
	e2e_identity_wipe(&bob);
}

static void
test_envelope_header_is_bound(void **state)
{
	struct e2e_identity alice, bob;
	struct sealed s;
	struct e2e_header h;
	int field;
	(void)state;

	gen(&alice);
	gen(&bob);
	seal_hello(&s, &alice, &bob);
	for (field = 0; field < 6; field++) {
		h = base_header;
		switch (field) {
		case 0: h.chat_id = "chat-43"; break;
		case 1: h.message_id = "msg-0002"; break;
		case 2: h.sender_user = "mallory"; break;
		case 3: h.sender_device = 2; break;
		case 4: h.recipient_user = "carol"; break;
		default: h.recipient_device = 8; break;
		}
		assert_int_equal(open_as(&s, sizeof s.ct, &h, &bob, &alice), -1);
	}
	/* Moving bytes across a field boundary must not keep the AD equal. */
	h = base_header;
	h.chat_id = "chat-42msg";
	h.message_id = "-0001";
	assert_int_equal(open_as(&s, sizeof s.ct, &h, &bob, &alice), -1);
	e2e_identity_wipe(&alice);
	e2e_identity_wipe(&bob);
}

static void
test_envelope_wrong_keys(void **state)
{
	struct e2e_identity alice, bob, carol;
	struct sealed s;
	(void)state;

	gen(&alice);
	gen(&bob);
	gen(&carol);
	seal_hello(&s, &alice, &bob);
	/* A third device cannot open it... */
	assert_int_equal(open_as(&s, sizeof s.ct, &base_header, &carol, &alice), -1);
	/* ...and bob rejects it if he believes carol sent it. */
	assert_int_equal(open_as(&s, sizeof s.ct, &base_header, &bob, &carol), -1);
	/* The sender cannot open its own envelope as if it were the recipient. */
	assert_int_equal(open_as(&s, sizeof s.ct, &base_header, &alice, &bob), -1);
	e2e_identity_wipe(&alice);
	e2e_identity_wipe(&bob);
	e2e_identity_wipe(&carol);
}

static void
test_envelope_short_ct(void **state)
{
	struct e2e_identity alice, bob;
	struct sealed s;
	size_t len;
	(void)state;

	gen(&alice);
	gen(&bob);
	seal_hello(&s, &alice, &bob);
	for (len = 0; len < PROTO_TAG_BYTES; len++)
		assert_int_equal(open_as(&s, len, &base_header, &bob, &alice), -1);
	/* Truncating a real envelope also breaks the tag. */
	assert_int_equal(open_as(&s, sizeof s.ct - 1, &base_header, &bob, &alice), -1);
	e2e_identity_wipe(&alice);
	e2e_identity_wipe(&bob);
}

static void
test_envelope_empty_plaintext(void **state)
{
	struct e2e_identity alice, bob;
	uint8_t ct[PROTO_PAD_MIN + PROTO_TAG_BYTES], nonce[PROTO_NONCE_BYTES], pt[PROTO_PAD_MIN];
	size_t ct_len = 0, pt_len = 99;
	(void)state;

	gen(&alice);
	gen(&bob);
	/* Nothing is padded to a whole bucket too: 0x80 and 255 zeros. */
	assert_int_equal(e2e_seal(ct, &ct_len, nonce, NULL, 0, &base_header, alice.x_sk,
				  alice.x_pk, bob.x_pk),
			 0);
	assert_int_equal(ct_len, sizeof ct);
	assert_int_equal(e2e_open(pt, &pt_len, ct, ct_len, nonce, &base_header, bob.x_sk, bob.x_pk,
				  alice.x_pk),
			 0);
	assert_int_equal(pt_len, 0);
	ct[3] ^= 0x01;
	assert_int_equal(e2e_open(pt, &pt_len, ct, ct_len, nonce, &base_header, bob.x_sk, bob.x_pk,
				  alice.x_pk),
			 -1);
	/* A version-1 empty envelope is the tag alone, and opens with no buffer. */
	ct_len = seal_by_hand(ct, nonce, NULL, 0, &base_header, E2E_AD_V1, &alice, bob.x_pk);
	assert_int_equal(ct_len, PROTO_TAG_BYTES);
	pt_len = 99;
	assert_int_equal(e2e_open(NULL, &pt_len, ct, ct_len, nonce, &base_header, bob.x_sk,
				  bob.x_pk, alice.x_pk),
			 0);
	assert_int_equal(pt_len, 0);
	ct[3] ^= 0x01; /* the tag alone still authenticates the header */
	assert_int_equal(e2e_open(pt, &pt_len, ct, ct_len, nonce, &base_header, bob.x_sk, bob.x_pk,
				  alice.x_pk),
			 -1);
	e2e_identity_wipe(&alice);
	e2e_identity_wipe(&bob);
}

static void
test_envelope_refuses_bad_keys(void **state)
{
	/* Small-order points make X25519 output all zeros. */
	static const uint8_t zero_pk[32] = {0};
	static const uint8_t one_pk[32] = {1};
	struct e2e_identity alice, bob;
	uint8_t ct[PROTO_PAD_MIN + PROTO_TAG_BYTES], nonce[PROTO_NONCE_BYTES];
	size_t ct_len = 7;
	(void)state;

	gen(&alice);
	gen(&bob);
	assert_int_equal(e2e_seal(ct, &ct_len, nonce, hello, sizeof hello, &base_header,
				  alice.x_sk, alice.x_pk, zero_pk),
			 -1);
	assert_int_equal(ct_len, 0);
	assert_int_equal(e2e_seal(ct, &ct_len, nonce, hello, sizeof hello, &base_header,
				  alice.x_sk, alice.x_pk, one_pk),
			 -1);
	/* A sender public key that does not belong to the secret key. */
	assert_int_equal(e2e_seal(ct, &ct_len, nonce, hello, sizeof hello, &base_header,
				  alice.x_sk, bob.x_pk, bob.x_pk),
			 -1);
	/* A NULL header string. */
	{
		struct e2e_header h = base_header;

		h.recipient_user = NULL;
		assert_int_equal(e2e_seal(ct, &ct_len, nonce, hello, sizeof hello, &h, alice.x_sk,
					  alice.x_pk, bob.x_pk),
				 -1);
	}
	e2e_identity_wipe(&alice);
	e2e_identity_wipe(&bob);
}

/* ---- padding (PROTOCOL.md, "Padding") ------------------------------------ */

static void
test_pad_buckets(void **state)
{
	(void)state;
	assert_int_equal(e2e_pad_len(0), 256);
	assert_int_equal(e2e_pad_len(1), 256);
	assert_int_equal(e2e_pad_len(255), 256); /* + 0x80 = 256 */
	assert_int_equal(e2e_pad_len(256), 512); /* no room for the 0x80 */
	assert_int_equal(e2e_pad_len(511), 512);
	assert_int_equal(e2e_pad_len(512), 1024);
	assert_int_equal(e2e_pad_len(16383), 16384);
	assert_int_equal(e2e_pad_len(32767), 32768);
	assert_int_equal(e2e_pad_len(32768), 65536);
	assert_int_equal(e2e_pad_len(65535), 65536);
	/* Past 64 KiB the next power of two would not fit: the cap. */
	assert_int_equal(e2e_pad_len(65536), 66544);
	assert_int_equal(e2e_pad_len(65537), 66544); /* the longest text message */
	assert_int_equal(e2e_pad_len(66543), 66544);
	assert_int_equal(e2e_pad_len(66544), 0);
	assert_int_equal(PROTO_MAX_PADDED + PROTO_TAG_BYTES, 66560); /* maxCiphertext */
	assert_int_equal(e2e_sealed_len(3), 272);
	assert_int_equal(e2e_sealed_len(66543), 66560);
	assert_int_equal(e2e_sealed_len(66544), 0);
}

/* The length of the ciphertext of pt, sealed alice to bob. */
static size_t
sealed_size(const uint8_t *pt, size_t len, const struct e2e_identity *alice,
	    const struct e2e_identity *bob)
{
	static uint8_t ct[PROTO_MAX_PADDED + PROTO_TAG_BYTES];
	uint8_t nonce[PROTO_NONCE_BYTES];
	size_t ct_len = 0;

	assert_int_equal(e2e_seal(ct, &ct_len, nonce, pt, len, &base_header, alice->x_sk,
				  alice->x_pk, bob->x_pk),
			 0);
	return ct_len;
}

/* What a receipt says (how many message ids), and how long a text is,
 * does not show in the envelope's length within a bucket. */
static void
test_pad_hides_length(void **state)
{
	static uint8_t body[1 + 65536];
	struct e2e_identity alice, bob;
	size_t one, ten;
	(void)state;

	gen(&alice);
	gen(&bob);
	memset(body, 0xab, sizeof body);
	body[0] = 0x02; /* receipt: kind, status, time (8), ids (16 each) */
	body[1] = 1;
	one = sealed_size(body, 10 + 16, &alice, &bob);
	ten = sealed_size(body, 10 + 10 * 16, &alice, &bob);
	assert_int_equal(one, ten);
	assert_int_equal(one, 256 + PROTO_TAG_BYTES);
	body[0] = 0x01; /* text: "hi" and 200 bytes */
	assert_int_equal(sealed_size(body, 3, &alice, &bob), one);
	assert_int_equal(sealed_size(body, 201, &alice, &bob), one);
	/* Past the bucket, the next one; and the largest text fills the cap. */
	assert_int_equal(sealed_size(body, 300, &alice, &bob), 512 + PROTO_TAG_BYTES);
	assert_int_equal(sealed_size(body, 1 + 65536, &alice, &bob), 66560);
	e2e_identity_wipe(&alice);
	e2e_identity_wipe(&bob);
}

static void
test_unpad(void **state)
{
	uint8_t b[300];
	size_t n = 77;
	(void)state;

	memset(b, 0, sizeof b);
	memcpy(b, "\x01hi\x80", 4);
	assert_int_equal(e2e_unpad(b, 256, &n), 0);
	assert_int_equal(n, 3);
	/* Only the form counts, not the length: 0x80 last is 0 bytes of zeros. */
	assert_int_equal(e2e_unpad(b, 4, &n), 0);
	assert_int_equal(n, 3);
	b[0] = 0x80;
	assert_int_equal(e2e_unpad(b, 1, &n), 0); /* an empty plaintext */
	assert_int_equal(n, 0);
	/* No 0x80 at all: nothing but zeros. */
	memset(b, 0, sizeof b);
	assert_int_equal(e2e_unpad(b, 256, &n), -1);
	assert_int_equal(n, 0);
	/* Something other than 0x00 after the 0x80, or another marker. */
	memcpy(b, "\x01hi\x80", 4);
	b[100] = 0x01;
	assert_int_equal(e2e_unpad(b, 256, &n), -1);
	b[100] = 0x80;
	assert_int_equal(e2e_unpad(b, 256, &n), 0); /* the last 0x80 is the marker */
	assert_int_equal(n, 100);
	b[255] = 0x81;
	assert_int_equal(e2e_unpad(b, 256, &n), -1);
	assert_int_equal(e2e_unpad(b, 0, &n), -1);
	assert_int_equal(e2e_unpad(NULL, 0, &n), -1);
}

/* An authentic version-2 envelope whose plaintext is not padded right: the
 * sender's fault, told apart from one that does not authenticate. */
static void
test_envelope_bad_padding(void **state)
{
	struct e2e_identity alice, bob;
	uint8_t pad[256], ct[256 + PROTO_TAG_BYTES], pt[256], nonce[PROTO_NONCE_BYTES];
	size_t ct_len, pt_len = 5;
	(void)state;

	gen(&alice);
	gen(&bob);
	randombytes_buf(nonce, sizeof nonce);
	memset(pad, 0, sizeof pad); /* no 0x80 */
	pad[0] = 0x01;
	ct_len = seal_by_hand(ct, nonce, pad, sizeof pad, &base_header, E2E_AD_V2, &alice, bob.x_pk);
	assert_int_equal(e2e_open(pt, &pt_len, ct, ct_len, nonce, &base_header, bob.x_sk, bob.x_pk,
				  alice.x_pk),
			 E2E_OPEN_PADDING);
	assert_int_equal(pt_len, 0);
	for (size_t i = 0; i < sizeof pt; i++)
		assert_int_equal(pt[i], 0); /* nothing of it handed back */
	pad[9] = 0x80; /* now padded: opens, to 9 bytes */
	ct_len = seal_by_hand(ct, nonce, pad, sizeof pad, &base_header, E2E_AD_V2, &alice, bob.x_pk);
	assert_int_equal(e2e_open(pt, &pt_len, ct, ct_len, nonce, &base_header, bob.x_sk, bob.x_pk,
				  alice.x_pk),
			 0);
	assert_int_equal(pt_len, 9);
	e2e_identity_wipe(&alice);
	e2e_identity_wipe(&bob);
}

/* Envelopes older libchat sealed (label v1, no padding) still open, and keep
 * every byte: a v1 plaintext is never unpadded, even one that ends in 0x80. */
static void
test_envelope_v1_still_opens(void **state)
{
	static const uint8_t old[] = "\x01text\x80";
	struct e2e_identity alice, bob;
	uint8_t ct[64], pt[64], nonce[PROTO_NONCE_BYTES];
	size_t ct_len, pt_len = 0;
	(void)state;

	gen(&alice);
	gen(&bob);
	randombytes_buf(nonce, sizeof nonce);
	ct_len = seal_by_hand(ct, nonce, old, sizeof old - 1, &base_header, E2E_AD_V1, &alice,
			      bob.x_pk);
	assert_int_equal(ct_len, sizeof old - 1 + PROTO_TAG_BYTES);
	assert_int_equal(e2e_open(pt, &pt_len, ct, ct_len, nonce, &base_header, bob.x_sk, bob.x_pk,
				  alice.x_pk),
			 0);
	assert_int_equal(pt_len, sizeof old - 1);
	assert_memory_equal(pt, old, sizeof old - 1);
	/* Bound to its header like any other. */
	{
		struct e2e_header h = base_header;

		h.message_id = "msg-0002";
		assert_int_equal(e2e_open(pt, &pt_len, ct, ct_len, nonce, &h, bob.x_sk, bob.x_pk,
					  alice.x_pk),
				 -1);
	}
	e2e_identity_wipe(&alice);
	e2e_identity_wipe(&bob);
}

/*
 * PROTOCOL.md's worked example ("End-to-end encryption", "A worked example"),
 * byte for byte. The expected values were computed apart from libchat and
 * libsodium: Python's hashlib and hmac (HKDF), the "cryptography" package
 * (X25519, ChaCha20-Poly1305) and HChaCha20 written out from
 * draft-irtf-cfrg-xchacha (checked on the draft's own vectors). The keys are
 * RFC 7748 section 6.1's, so the shared secret is a published value too.
 * tests/vectors/protocol-examples.py recomputes every value.
 */
static const char ex_alice_sk[] = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char ex_bob_sk[] = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
static const struct e2e_header ex_header = {
	.chat_id = "9f1c0a6e2b7d4c13",
	.message_id = "4be0a1f3c2d94e6f8a7b6c5d4e3f2a1b",
	.sender_user = "alice",
	.sender_device = 1,
	.recipient_user = "bob",
	.recipient_device = 2,
};

static void
test_envelope_worked_example(void **state)
{
	static const char want_ad[] =
		"636861742d6532652d7632003966316330613665326237643463313300346265306131663363"
		"326439346536663861376236633564346533663261316200616c696365003100626f620032";
	static const char want_key[] =
		"018479e0d2158c2ca76d203b91cf2f12c5cd1b3b9285a02768c5ca701d8b76a6";
	static const char want_ct[] =
		"97583c6e58f51fbae2bfdbc9674e0c00c210f7e37bcb1c70f18f28c818c08d8c"
		"fc90152b4df2c890e48c5f387a5630f7309e927833bd408f2e1364c2e3db7dbd"
		"da80bc656a7b0aac095f5d0ec85a5a2d6f61326d452a644356393cb43497491b"
		"bf8cdd0550c1ff787758d4859b7075025cb7c80b65b3dacbef7bd36308ebff7d"
		"68a1bf27c8bf9209f259ab7936b418cd9bd02d0372061c9ad5e7269686e2d9c8"
		"abb36bfe1fff3c85d26505f325f6fa6fe8fdc9bc1077ea7e0be4ca9968ab7302"
		"18a128de1a65ef0e5e31a2a83e6df8b9cdf20cd101821c554243c8b61c85a610"
		"517b3750ed398051fe32b1f1c6ad41b903cd141d664533d3b0e3850a9e60e52a"
		"3035f0591336850bc64808f9978795ff";
	static const char want_v1_ct[] = "97583c46a9ee5266355ccf39914f1eba79d7be";
	uint8_t a_sk[32], a_pk[32], b_sk[32], b_pk[32], shared[32], info[79], key[32], got_key[32];
	uint8_t ad[75], want[75], nonce[24], ct[272], ct_want[272], v1[19], pt[256];
	size_t ct_len = 0, pt_len = 0;
	(void)state;

	unhex(a_sk, 32, ex_alice_sk);
	unhex(b_sk, 32, ex_bob_sk);
	assert_int_equal(crypto_scalarmult_base(a_pk, a_sk), 0);
	assert_int_equal(crypto_scalarmult_base(b_pk, b_sk), 0);
	for (int i = 0; i < 24; i++)
		nonce[i] = (uint8_t)i;

	/* AD: the label, then the ids as the hex text they are on the wire. */
	unhex(want, sizeof want, want_ad);
	assert_int_equal(e2e_header_ad(&ex_header, E2E_AD_V2, ad, sizeof ad), sizeof ad);
	assert_memory_equal(ad, want, sizeof ad);
	assert_memory_equal(ad, "chat-e2e-v2\0" "9f1c0a6e2b7d4c13\0", 29);

	/* key = HKDF-SHA256(no salt, X25519, "chat-e2e-v1 key" || S || R). */
	assert_int_equal(crypto_scalarmult(shared, a_sk, b_pk), 0);
	memcpy(info, "chat-e2e-v1 key", 15);
	memcpy(info + 15, a_pk, 32);
	memcpy(info + 47, b_pk, 32);
	unhex(key, 32, want_key);
	assert_int_equal(chat_hkdf_sha256(got_key, 32, NULL, 0, shared, 32, info, sizeof info), 0);
	assert_memory_equal(got_key, key, 32);
	{
		/* "salt = none" is RFC 5869's HashLen zero bytes. */
		static const uint8_t zeros[32];

		assert_int_equal(
			chat_hkdf_sha256(got_key, 32, zeros, 32, shared, 32, info, sizeof info), 0);
		assert_memory_equal(got_key, key, 32);
	}

	/* 0x01 "hi", padded to 256 bytes, sealed. */
	unhex(ct_want, sizeof ct_want, want_ct);
	assert_int_equal(e2e_seal_with_nonce(ct, &ct_len, nonce, (const uint8_t *)"\x01hi", 3,
					     &ex_header, a_sk, a_pk, b_pk),
			 0);
	assert_int_equal(ct_len, sizeof ct);
	assert_memory_equal(ct, ct_want, sizeof ct);
	assert_int_equal(
		e2e_open(pt, &pt_len, ct, ct_len, nonce, &ex_header, b_sk, b_pk, a_pk), 0);
	assert_int_equal(pt_len, 3);
	assert_memory_equal(pt, "\x01hi", 3);

	/* The same message as an older libchat sealed it (v1: no padding). */
	unhex(v1, sizeof v1, want_v1_ct);
	assert_int_equal(
		e2e_open(pt, &pt_len, v1, sizeof v1, nonce, &ex_header, b_sk, b_pk, a_pk), 0);
	assert_int_equal(pt_len, 3);
	assert_memory_equal(pt, "\x01hi", 3);
	sodium_memzero(a_sk, sizeof a_sk);
	sodium_memzero(b_sk, sizeof b_sk);
}

static void
test_identity_serialize_parse(void **state)
{
	struct e2e_identity id, back;
	uint8_t blob[E2E_IDENTITY_BLOB_BYTES + 1];
	(void)state;

	gen(&id);
	assert_int_equal(e2e_verify_exchange_key(id.sign_pk, id.x_pk, id.x_sig), 0);
	e2e_identity_serialize(&id, blob);
	assert_memory_equal(blob, "CID1", 4);
	assert_memory_equal(blob + 4, id.sign_pk, 32);
	assert_memory_equal(blob + 4 + 32 + 64 + 32 + 32, id.x_sig, 64);
	assert_int_equal(e2e_identity_parse(&back, blob, E2E_IDENTITY_BLOB_BYTES), 0);
	assert_memory_equal(&back, &id, sizeof id);

	/* Wrong lengths. */
	blob[E2E_IDENTITY_BLOB_BYTES] = 0;
	assert_int_equal(e2e_identity_parse(&back, blob, E2E_IDENTITY_BLOB_BYTES + 1), -1);
	assert_true(all_zero((const uint8_t *)&back, sizeof back));
	assert_int_equal(e2e_identity_parse(&back, blob, E2E_IDENTITY_BLOB_BYTES - 1), -1);
	assert_int_equal(e2e_identity_parse(&back, blob, 0), -1);
	assert_int_equal(e2e_identity_parse(&back, NULL, E2E_IDENTITY_BLOB_BYTES), -1);

	e2e_identity_wipe(&id);
	assert_true(all_zero((const uint8_t *)&id, sizeof id));
	e2e_identity_wipe(&back);
	sodium_memzero(blob, sizeof blob);
}

static void
test_identity_parse_rejects_corruption(void **state)
{
	static const uint8_t flips[] = {0x01, 0x80, 0xff};
	struct e2e_identity id, back;
	uint8_t blob[E2E_IDENTITY_BLOB_BYTES];
	size_t i, f;
	(void)state;

	gen(&id);
	e2e_identity_serialize(&id, blob);
	/* Any change to any byte of the blob must be rejected. */
	for (i = 0; i < sizeof blob; i++) {
		for (f = 0; f < sizeof flips; f++) {
			blob[i] ^= flips[f];
			assert_int_equal(e2e_identity_parse(&back, blob, sizeof blob), -1);
			assert_true(all_zero((const uint8_t *)&back, sizeof back));
			blob[i] ^= flips[f];
		}
	}
	assert_int_equal(e2e_identity_parse(&back, blob, sizeof blob), 0);
	e2e_identity_wipe(&id);
	e2e_identity_wipe(&back);
	sodium_memzero(blob, sizeof blob);
}

static void
test_verify_exchange_key(void **state)
{
	struct e2e_identity a, b;
	(void)state;

	gen(&a);
	gen(&b);
	assert_int_equal(e2e_verify_exchange_key(a.sign_pk, a.x_pk, a.x_sig), 0);
	assert_int_equal(e2e_verify_exchange_key(b.sign_pk, b.x_pk, b.x_sig), 0);
	/* Another identity's signature does not vouch for a's key... */
	assert_int_equal(e2e_verify_exchange_key(a.sign_pk, a.x_pk, b.x_sig), -1);
	/* ...nor does a's signature vouch for b's exchange key. */
	assert_int_equal(e2e_verify_exchange_key(a.sign_pk, b.x_pk, a.x_sig), -1);
	assert_int_equal(e2e_verify_exchange_key(b.sign_pk, a.x_pk, a.x_sig), -1);
	e2e_identity_wipe(&a);
	e2e_identity_wipe(&b);
}

static void
test_challenge_domain_separation(void **state)
{
	static const uint8_t challenge[32] = {0xde, 0xad, 0xbe, 0xef, 7};
	struct e2e_identity a, b;
	uint8_t sig[PROTO_SIG_BYTES], other[32];
	(void)state;

	gen(&a);
	gen(&b);
	memcpy(other, challenge, sizeof other);
	other[31] ^= 0x01;

	assert_int_equal(
		e2e_sign_challenge(sig, PROTO_LABEL_AUTH, challenge, sizeof challenge, a.sign_sk),
		0);
	assert_int_equal(
		e2e_verify_challenge(sig, "chat-auth-v2", challenge, sizeof challenge, a.sign_pk),
		0);
	assert_int_equal(e2e_verify_challenge(sig, "chat-register-v1", challenge, sizeof challenge,
					      a.sign_pk),
			 -1);
	assert_int_equal(
		e2e_verify_challenge(sig, PROTO_LABEL_AUTH, other, sizeof other, a.sign_pk), -1);
	assert_int_equal(
		e2e_verify_challenge(sig, PROTO_LABEL_AUTH, challenge, sizeof challenge, b.sign_pk),
		-1);

	assert_int_equal(e2e_sign_challenge(sig, PROTO_LABEL_REGISTER, challenge, sizeof challenge,
					    a.sign_sk),
			 0);
	assert_int_equal(e2e_verify_challenge(sig, PROTO_LABEL_REGISTER, challenge,
					      sizeof challenge, a.sign_pk),
			 0);
	assert_int_equal(
		e2e_verify_challenge(sig, PROTO_LABEL_AUTH, challenge, sizeof challenge, a.sign_pk),
		-1);

	/* The identity's exchange-key signature is not a valid login proof. */
	assert_int_equal(
		e2e_verify_challenge(a.x_sig, "chat-xkey-v1", a.x_pk, sizeof a.x_pk, a.sign_pk), 0);
	assert_int_equal(
		e2e_verify_challenge(a.x_sig, PROTO_LABEL_AUTH, a.x_pk, sizeof a.x_pk, a.sign_pk),
		-1);

	assert_int_equal(e2e_sign_challenge(sig, NULL, challenge, sizeof challenge, a.sign_sk), -1);
	assert_int_equal(e2e_sign_challenge(sig, PROTO_LABEL_AUTH, NULL, 4, a.sign_sk), -1);
	e2e_identity_wipe(&a);
	e2e_identity_wipe(&b);
}

/* Safety numbers: a vector computed independently with Python's hashlib
 * from the definition in docs/PROTOCOL.md. (Link codes: test_devices.c.) It
 * is PROTOCOL.md's "Safety numbers, exactly" example: the first 30 bytes of
 * the hash as one big-endian number, 20 bits per group from the top, each mod
 * 100000 in 5 digits, single spaces. */
static void
test_safety_number_vector(void **state)
{
	uint8_t a[36], b[72];
	char n1[E2E_SAFETY_LEN + 1];

	(void)state;
	memset(a, 7, sizeof a);
	memset(b, 9, 36);
	memset(b + 36, 11, 36);
	memcpy(a, "\0\0\0\1", 4);
	memcpy(b, "\0\0\0\1", 4);
	memcpy(b + 36, "\0\0\0\2", 4);
	e2e_safety_number(a, sizeof a, b, sizeof b, n1);
	assert_string_equal(
		n1, "80234 07850 53886 29672 05736 41732 09185 46797 24623 21477 42297 86331");
	assert_int_equal(strlen(n1), E2E_SAFETY_LEN);
}

static void
test_device_approval(void **state)
{
	struct e2e_identity approver, newcomer, other;
	uint8_t sig[64];

	(void)state;
	assert_int_equal(e2e_identity_generate(&approver), 0);
	assert_int_equal(e2e_identity_generate(&newcomer), 0);
	assert_int_equal(e2e_identity_generate(&other), 0);
	assert_int_equal(
		e2e_sign_device(sig, "alice", newcomer.sign_pk, newcomer.x_pk, approver.sign_sk),
		0);
	assert_int_equal(
		e2e_verify_device(sig, "alice", newcomer.sign_pk, newcomer.x_pk, approver.sign_pk),
		0);
	/* Bound to the user, both keys, and the approver. */
	assert_int_equal(
		e2e_verify_device(sig, "alicf", newcomer.sign_pk, newcomer.x_pk, approver.sign_pk),
		-1);
	assert_int_equal(
		e2e_verify_device(sig, "alice", other.sign_pk, newcomer.x_pk, approver.sign_pk),
		-1);
	assert_int_equal(
		e2e_verify_device(sig, "alice", newcomer.sign_pk, other.x_pk, approver.sign_pk),
		-1);
	assert_int_equal(
		e2e_verify_device(sig, "alice", newcomer.sign_pk, newcomer.x_pk, other.sign_pk),
		-1);
	/* No user name is longer than 32 bytes: nothing is signed or checked
	 * for one (chat-server relied on this before it shared the code). */
	assert_int_equal(e2e_sign_device(sig, "abcdefghijklmnopqrstuvwxyz0123456", newcomer.sign_pk,
					 newcomer.x_pk, approver.sign_sk),
			 -1);
	assert_int_equal(
		e2e_sign_device(sig, "alice", newcomer.sign_pk, newcomer.x_pk, approver.sign_sk),
		0);
	sig[10] ^= 1;
	assert_int_equal(
		e2e_verify_device(sig, "alice", newcomer.sign_pk, newcomer.x_pk, approver.sign_pk),
		-1);
	e2e_identity_wipe(&approver);
	e2e_identity_wipe(&newcomer);
	e2e_identity_wipe(&other);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hkdf_rfc5869_case1),
		cmocka_unit_test(test_hkdf_rfc5869_case2),
		cmocka_unit_test(test_hkdf_rfc5869_case3),
		cmocka_unit_test(test_hkdf_bad_arguments),
		cmocka_unit_test(test_x25519_rfc7748_5_2),
		cmocka_unit_test(test_x25519_rfc7748_6_1),
		cmocka_unit_test(test_ed25519_rfc8032_test1),
		cmocka_unit_test(test_ed25519_rfc8032_test2),
		cmocka_unit_test(test_ed25519_rfc8032_test3),
		cmocka_unit_test(test_xchacha20poly1305_draft_a_3_1),
		cmocka_unit_test(test_header_ad_format),
		cmocka_unit_test(test_envelope_roundtrip),
		cmocka_unit_test(test_envelope_tampered_ct_or_nonce),
		cmocka_unit_test(test_envelope_header_is_bound),
		cmocka_unit_test(test_envelope_wrong_keys),
		cmocka_unit_test(test_envelope_short_ct),
		cmocka_unit_test(test_envelope_empty_plaintext),
		cmocka_unit_test(test_envelope_refuses_bad_keys),
		cmocka_unit_test(test_pad_buckets),
		cmocka_unit_test(test_pad_hides_length),
		cmocka_unit_test(test_unpad),
		cmocka_unit_test(test_envelope_bad_padding),
		cmocka_unit_test(test_envelope_v1_still_opens),
		cmocka_unit_test(test_envelope_worked_example),
		cmocka_unit_test(test_identity_serialize_parse),
		cmocka_unit_test(test_identity_parse_rejects_corruption),
		cmocka_unit_test(test_verify_exchange_key),
		cmocka_unit_test(test_challenge_domain_separation),
		cmocka_unit_test(test_safety_number_vector),
		cmocka_unit_test(test_device_approval),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
