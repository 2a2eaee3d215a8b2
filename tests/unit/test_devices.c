/*
 * test_devices.c - device identity on the wire (PROTOCOL.md, "Session" and
 * "Devices"): the bytes a device signs for a server, link codes and their
 * MAC, approvals, and what the key directory accepts (directory.c) from
 * listings a hostile server could craft.
 *
 * The known answers were computed independently of libchat, with Python's
 * hashlib and hmac and the cryptography package's Ed25519 (see
 * tests/unit/vectors_devices.py), and are the worked examples PROTOCOL.md
 * prints: a change here is a change of the protocol.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "e2e.h"
#include "internal.h"
#include "store.h"

static void
hex(const char *h, uint8_t *out, size_t n)
{
	size_t len = 0;

	assert_int_equal(sodium_hex2bin(out, n, h, strlen(h), NULL, &len, NULL), 0);
	assert_int_equal(len, n);
}

/* The worked example's keys: identity seed 00..1f, exchange secret 20..3f,
 * challenge 40..5f, TLS binding 60..7f, approver seed 80..9f. */
struct example {
	uint8_t sk[64], ik[32], xsk[32], xk[32], challenge[32], binding[32];
	uint8_t ask[64], aik[32];
};

static void
example(struct example *e)
{
	uint8_t seed[32];

	for (int i = 0; i < 32; i++) {
		seed[i] = (uint8_t)i;
		e->xsk[i] = (uint8_t)(32 + i);
		e->challenge[i] = (uint8_t)(64 + i);
		e->binding[i] = (uint8_t)(96 + i);
	}
	assert_int_equal(crypto_sign_seed_keypair(e->ik, e->sk, seed), 0);
	assert_int_equal(crypto_scalarmult_base(e->xk, e->xsk), 0);
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(128 + i);
	assert_int_equal(crypto_sign_seed_keypair(e->aik, e->ask, seed), 0);
}

static void
test_example_keys(void **state)
{
	struct example e;
	uint8_t want[32];

	(void)state;
	example(&e);
	hex("03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8", want, 32);
	assert_memory_equal(e.ik, want, 32);
	hex("358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254", want, 32);
	assert_memory_equal(e.xk, want, 32);
	hex("cd14b37f956e953194ff7fb73b3d81dcc561d61a7538094b7c3e1a643ee5f3aa", want, 32);
	assert_memory_equal(e.aik, want, 32);
}

/* The session signatures: exact bytes for the examples, and each part of the
 * message matters (domain, challenge, server name, binding). */
static void
test_session_signatures(void **state)
{
	static const struct {
		const char *domain, *server;
		int binding;
		const char *sig;
	} cases[] = {
		{"chat-auth-v2", "127.0.0.1:8700", 0,
		 "df9c0cef614c2ae0412b8e918202823bc7e5e8675bf82bad7e1e2f0e711fb00c"
		 "c75adb3a388c25990f4b37278ee9610653dd32604f9792c94cc832a309c2bc0a"},
		{"chat-auth-v2", "chat.example.org:443", 1,
		 "26c73c02f1446d7ffc1cf6829416ad9aeb6bc27c421729b5f88cad99d47dbd26"
		 "1d5351a4d0d8a133bc43cdbeb9df9f988b7658bfc33d97b04aafeb3570149a08"},
		{"chat-register-v2", "127.0.0.1:8700", 0,
		 "95902d72a43b01760042feda80e345271a46bc642beaedb2f2c32797525477d3"
		 "3219c0278dd7c942cb5046699c0c0914c2e1f7355f6959ac29963084afd8c90e"},
		{"chat-link-v2", "[::1]:8700", 0,
		 "e323ec80116c259d0b30c7f64349c6c3500d967b98b84b739595fa54030206fc"
		 "340eb78716d9443afd884bf9dd7ed5ea5dfb2ea3941a8c56261c6b7faa894604"},
	};
	struct example e;
	uint8_t sig[64], want[64], other[32];

	(void)state;
	example(&e);
	assert_string_equal(E2E_DOMAIN_AUTH, "chat-auth-v2");
	assert_string_equal(E2E_DOMAIN_REGISTER, "chat-register-v2");
	assert_string_equal(E2E_DOMAIN_LINK, "chat-link-v2");
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		size_t bl = cases[i].binding ? 32 : 0;

		assert_int_equal(e2e_sign_session(sig, cases[i].domain, e.challenge,
						  cases[i].server, e.binding, bl, e.sk),
				 0);
		hex(cases[i].sig, want, 64);
		assert_memory_equal(sig, want, 64);
		assert_int_equal(e2e_verify_session(sig, cases[i].domain, e.challenge,
						    cases[i].server, e.binding, bl, e.ik),
				 0);
	}
	/* Another server, another binding, none where there was one, another
	 * challenge, another domain: refused. */
	assert_int_equal(e2e_sign_session(sig, E2E_DOMAIN_AUTH, e.challenge, "chat.example.org:443",
					  e.binding, 32, e.sk),
			 0);
	assert_int_equal(e2e_verify_session(sig, E2E_DOMAIN_AUTH, e.challenge,
					    "chat.example.org:8443", e.binding, 32, e.ik),
			 -1);
	memcpy(other, e.binding, 32);
	other[31] ^= 1;
	assert_int_equal(e2e_verify_session(sig, E2E_DOMAIN_AUTH, e.challenge,
					    "chat.example.org:443", other, 32, e.ik),
			 -1);
	assert_int_equal(e2e_verify_session(sig, E2E_DOMAIN_AUTH, e.challenge,
					    "chat.example.org:443", NULL, 0, e.ik),
			 -1);
	assert_int_equal(e2e_verify_session(sig, E2E_DOMAIN_REGISTER, e.challenge,
					    "chat.example.org:443", e.binding, 32, e.ik),
			 -1);
	memcpy(other, e.challenge, 32);
	other[0] ^= 1;
	assert_int_equal(e2e_verify_session(sig, E2E_DOMAIN_AUTH, other, "chat.example.org:443",
					    e.binding, 32, e.ik),
			 -1);
	/* The old form (label and challenge only) does not pass for the new. */
	assert_int_equal(e2e_sign_challenge(sig, "chat-auth-v1", e.challenge, 32, e.sk), 0);
	assert_int_equal(e2e_verify_session(sig, E2E_DOMAIN_AUTH, e.challenge, "127.0.0.1:8700",
					    NULL, 0, e.ik),
			 -1);
	/* No server name, a binding that is not 32 bytes: not signed at all. */
	assert_int_equal(e2e_sign_session(sig, E2E_DOMAIN_AUTH, e.challenge, "", NULL, 0, e.sk),
			 -1);
	assert_int_equal(e2e_sign_session(sig, E2E_DOMAIN_AUTH, e.challenge, NULL, NULL, 0, e.sk),
			 -1);
	assert_int_equal(
		e2e_sign_session(sig, E2E_DOMAIN_AUTH, e.challenge, "a:1", e.binding, 16, e.sk),
		-1);
}

static void
test_link_code(void **state)
{
	static const uint8_t secret[10] = {0x57, 0xe6, 0x5d, 0x56, 0xc8,
					   0x8f, 0x23, 0x9e, 0x4f, 0x03};
	static const char *const same[] = {"K7TF-2VWI-R4RZ-4TYD", "k7tf2vwir4rz4tyd",
					   "k7tf 2vwi r4rz 4tyd", " K7tF-2vWi R4RZ4TYD "};
	static const char *const bad[] = {"",
					  "K7TF-2VWI-R4RZ-4TY",   /* 15 digits */
					  "K7TF-2VWI-R4RZ-4TYDA", /* 17 */
					  "K7TF-2VWI-R4RZ-4TY1",  /* 1 is no base32 digit */
					  "K7TF-2VWI-R4RZ-4TY8",
					  "K7TF_2VWI_R4RZ_4TYD",
					  "K7QM-2XWD", /* an old code */
					  "K7TF-2VWI-R4RZ-4TYD=="};
	char code[E2E_LINK_CODE_LEN + 1];
	uint8_t got[10];

	(void)state;
	e2e_link_code(secret, code);
	assert_string_equal(code, "K7TF-2VWI-R4RZ-4TYD");
	for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
		memset(got, 0xff, sizeof got);
		assert_int_equal(e2e_link_code_parse(same[i], got), 0);
		assert_memory_equal(got, secret, 10);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(e2e_link_code_parse(bad[i], got), -1);
	assert_int_equal(e2e_link_code_parse(NULL, got), -1);
	/* Every secret comes back from its code. */
	for (int n = 0; n < 200; n++) {
		uint8_t s[10];

		randombytes_buf(s, sizeof s);
		e2e_link_code(s, code);
		assert_int_equal(strlen(code), 19);
		assert_int_equal(e2e_link_code_parse(code, got), 0);
		assert_memory_equal(got, s, 10);
	}
}

static void
test_link_mac(void **state)
{
	static const uint8_t secret[10] = {0x57, 0xe6, 0x5d, 0x56, 0xc8,
					   0x8f, 0x23, 0x9e, 0x4f, 0x03};
	struct example e;
	uint8_t mac[32], want[32], s2[10];

	(void)state;
	example(&e);
	assert_int_equal(e2e_link_mac(mac, secret, "alice", e.ik, e.xk), 0);
	hex("c1c5654e3518dddab27a5fda873c394d5f09dd396f7d4e0828f793e4243a3f56", want, 32);
	assert_memory_equal(mac, want, 32);
	assert_int_equal(e2e_link_mac_verify(mac, secret, "alice", e.ik, e.xk), 0);
	/* Other keys (the server's), another user, another secret: no match. */
	assert_int_equal(e2e_link_mac_verify(mac, secret, "alice", e.aik, e.xk), -1);
	assert_int_equal(e2e_link_mac_verify(mac, secret, "alice", e.ik, e.ik), -1);
	assert_int_equal(e2e_link_mac_verify(mac, secret, "alicf", e.ik, e.xk), -1);
	memcpy(s2, secret, 10);
	s2[9] ^= 1;
	assert_int_equal(e2e_link_mac_verify(mac, s2, "alice", e.ik, e.xk), -1);
	mac[0] ^= 1;
	assert_int_equal(e2e_link_mac_verify(mac, secret, "alice", e.ik, e.xk), -1);
}

/* The server's name as a device signs it, from the URL it was given. */
static void
test_server_name(void **state)
{
	static const struct {
		const char *url, *want;
	} cases[] = {
		{"ws://127.0.0.1:8700/", "127.0.0.1:8700"},
		{"ws://Chat.Example.ORG/", "chat.example.org:80"},
		{"wss://chat.example.org", "chat.example.org:443"},
		{"wss://chat.example.org:8443/chat", "chat.example.org:8443"},
		{"ws://localhost:9/", "localhost:9"},
	};
	struct proto_url u;
	char name[E2E_SERVER_NAME_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		assert_int_equal(proto_parse_url(cases[i].url, &u), PROTO_URL_OK);
		assert_int_equal(proto_server_name(&u, name, sizeof name), 0);
		assert_string_equal(name, cases[i].want);
	}
	/* IPv6 hosts, however the URL parser hands them over: bracketed, in
	 * inet_ntop's one spelling. */
	memset(&u, 0, sizeof u);
	u.port = 8700;
	snprintf(u.host, sizeof u.host, "::1");
	assert_int_equal(proto_server_name(&u, name, sizeof name), 0);
	assert_string_equal(name, "[::1]:8700");
	snprintf(u.host, sizeof u.host, "[0:0:0:0:0:0:0:1]");
	assert_int_equal(proto_server_name(&u, name, sizeof name), 0);
	assert_string_equal(name, "[::1]:8700");
	snprintf(u.host, sizeof u.host, "[2001:DB8::A]");
	assert_int_equal(proto_server_name(&u, name, sizeof name), 0);
	assert_string_equal(name, "[2001:db8::a]:8700");
	snprintf(u.host, sizeof u.host, "[not:an:address]");
	assert_int_equal(proto_server_name(&u, name, sizeof name), -1);
	snprintf(u.host, sizeof u.host, "a.example");
	assert_int_equal(proto_server_name(&u, name, 5), -1);
}

/* An approval signs the raw keys: "chat-device-v1" || user || 0x00 || ik || xk. */
static void
test_approval(void **state)
{
	struct example e;
	uint8_t sig[64], want[64];

	(void)state;
	example(&e);
	assert_int_equal(e2e_sign_device(sig, "alice", e.ik, e.xk, e.ask), 0);
	hex("56861777c5b38d50414a423669d6b7a0a163de7cb22a1006b30d8524ec294a31"
	    "581cba24337ec19da1ba207ae497cacc455a288e87e6b6a0f5f1e75b2b2b7b0a",
	    want, 64);
	assert_memory_equal(sig, want, 64);
	assert_int_equal(e2e_verify_device(sig, "alice", e.ik, e.xk, e.aik), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_keys), cmocka_unit_test(test_session_signatures),
		cmocka_unit_test(test_link_code),    cmocka_unit_test(test_link_mac),
		cmocka_unit_test(test_approval),     cmocka_unit_test(test_server_name),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
