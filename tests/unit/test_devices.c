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
	assert_string_equal(PROTO_LABEL_AUTH, "chat-auth-v2");
	assert_string_equal(PROTO_LABEL_REGISTER, "chat-register-v2");
	assert_string_equal(PROTO_LABEL_LINK, "chat-link-v2");
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
	assert_int_equal(e2e_sign_session(sig, PROTO_LABEL_AUTH, e.challenge,
					  "chat.example.org:443", e.binding, 32, e.sk),
			 0);
	assert_int_equal(e2e_verify_session(sig, PROTO_LABEL_AUTH, e.challenge,
					    "chat.example.org:8443", e.binding, 32, e.ik),
			 -1);
	memcpy(other, e.binding, 32);
	other[31] ^= 1;
	assert_int_equal(e2e_verify_session(sig, PROTO_LABEL_AUTH, e.challenge,
					    "chat.example.org:443", other, 32, e.ik),
			 -1);
	assert_int_equal(e2e_verify_session(sig, PROTO_LABEL_AUTH, e.challenge,
					    "chat.example.org:443", NULL, 0, e.ik),
			 -1);
	assert_int_equal(e2e_verify_session(sig, PROTO_LABEL_REGISTER, e.challenge,
					    "chat.example.org:443", e.binding, 32, e.ik),
			 -1);
	memcpy(other, e.challenge, 32);
	other[0] ^= 1;
	assert_int_equal(e2e_verify_session(sig, PROTO_LABEL_AUTH, other, "chat.example.org:443",
					    e.binding, 32, e.ik),
			 -1);
	/* The old form (label and challenge only) does not pass for the new. */
	assert_int_equal(e2e_sign_challenge(sig, "chat-auth-v1", e.challenge, 32, e.sk), 0);
	assert_int_equal(e2e_verify_session(sig, PROTO_LABEL_AUTH, e.challenge, "127.0.0.1:8700",
					    NULL, 0, e.ik),
			 -1);
	/* No server name, a binding that is not 32 bytes: not signed at all. */
	assert_int_equal(e2e_sign_session(sig, PROTO_LABEL_AUTH, e.challenge, "", NULL, 0, e.sk),
			 -1);
	assert_int_equal(e2e_sign_session(sig, PROTO_LABEL_AUTH, e.challenge, NULL, NULL, 0, e.sk),
			 -1);
	assert_int_equal(
		e2e_sign_session(sig, PROTO_LABEL_AUTH, e.challenge, "a:1", e.binding, 16, e.sk),
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

/* ---- the key directory ------------------------------------------------- */

struct dir_fixture {
	char home[64];
	struct chat_client *c;
	struct e2e_identity id[8]; /* id[k]: the keys of device k (id[0]: no device's) */
	int added, removed;        /* on_device_change calls */
};

static void
on_change(struct chat_client *c, void *udata, const char *user, uint32_t device, int added)
{
	struct dir_fixture *f = udata;

	(void)c;
	(void)user;
	(void)device;
	if (added)
		f->added++;
	else
		f->removed++;
}

static int
dir_setup(void **state)
{
	struct dir_fixture *f = calloc(1, sizeof *f);
	struct chat_opts o = CHAT_OPTS_INIT();
	char msg[256];
	int err;

	if (f == NULL)
		return -1;
	snprintf(f->home, sizeof f->home, "/tmp/test_devices.XXXXXX");
	if (mkdtemp(f->home) == NULL) {
		free(f);
		return -1;
	}
	o.home = f->home;
	if ((f->c = chat_client_new(&o, f, &err, msg, sizeof msg)) == NULL) {
		free(f);
		return -1;
	}
	assert_int_equal(
		chat_client_set_callbacks(
			f->c,
			&(struct chat_callbacks)CHAT_CALLBACKS_INIT(.on_device_change = on_change)),
		CHAT_OK);
	/* This device is bob's 1; the tests look at alice's devices. */
	if (client_ensure_identity(f->c) != CHAT_OK)
		return -1;
	snprintf(f->c->user, sizeof f->c->user, "bob");
	f->c->device_id = 1;
	for (int i = 0; i < 8; i++)
		if (e2e_identity_generate(&f->id[i]) != 0)
			return -1;
	*state = f;
	return 0;
}

static int
dir_teardown(void **state)
{
	struct dir_fixture *f = *state;
	char p[128];

	chat_client_destroy(f->c);
	for (const char *const *n = (const char *const[]){"store.db", "store.db-wal",
							  "store.db-shm", "identity.key", NULL};
	     *n != NULL; n++) {
		snprintf(p, sizeof p, "%s/%s", f->home, *n);
		unlink(p);
	}
	assert_int_equal(rmdir(f->home), 0);
	for (int i = 0; i < 8; i++)
		e2e_identity_wipe(&f->id[i]);
	free(f);
	return 0;
}

static void
add_b64(cJSON *o, const char *k, const uint8_t *b, size_t n)
{
	assert_int_equal(proto_add_b64(o, k, b, n), 0);
}

/* One device of alice's listing: device d with the keys of id[d], approved
 * by the identity key of id[by] (-1: unapproved). */
static void
add_device(struct dir_fixture *f, cJSON *devs, int d, int by)
{
	cJSON *o = cJSON_CreateObject();
	uint8_t sig[64];

	cJSON_AddNumberToObject(o, "deviceId", d);
	cJSON_AddStringToObject(o, "name", "dev");
	add_b64(o, "identityKey", f->id[d].sign_pk, 32);
	add_b64(o, "exchangeKey", f->id[d].x_pk, 32);
	add_b64(o, "exchangeKeySig", f->id[d].x_sig, 64);
	if (by < 0) {
		cJSON_AddNullToObject(o, "approverKey");
		cJSON_AddNullToObject(o, "approval");
	} else {
		assert_int_equal(e2e_sign_device(sig, "alice", f->id[d].sign_pk, f->id[d].x_pk,
						 f->id[by].sign_sk),
				 0);
		add_b64(o, "approverKey", f->id[by].sign_pk, 32);
		add_b64(o, "approval", sig, 64);
	}
	cJSON_AddItemToArray(devs, o);
}

/* Applies a getKeys reply listing alice's devices: pairs (device, approver),
 * ended by 0. */
static int
apply(struct dir_fixture *f, ...)
{
	cJSON *reply = cJSON_CreateObject(), *users = cJSON_AddArrayToObject(reply, "users");
	cJSON *u = cJSON_CreateObject(), *devs;
	va_list ap;
	int d, rc;

	cJSON_AddStringToObject(u, "user", "alice");
	devs = cJSON_AddArrayToObject(u, "devices");
	cJSON_AddItemToArray(users, u);
	va_start(ap, f);
	while ((d = va_arg(ap, int)) != 0)
		add_device(f, devs, d, va_arg(ap, int));
	va_end(ap);
	rc = directory_apply(f->c, reply);
	cJSON_Delete(reply);
	return rc;
}

/* The active devices of alice, as "1,2,3". */
static int
list_id(void *arg, const char *user, uint32_t device, const struct store_peer *p)
{
	char *buf = arg;

	(void)user;
	(void)p;
	snprintf(buf + strlen(buf), 64 - strlen(buf), "%s%u", buf[0] ? "," : "", device);
	return 0;
}

static const char *
active(struct dir_fixture *f)
{
	static char buf[64];

	buf[0] = '\0';
	assert_true(store_peer_each(&f->c->store, "alice", list_id, buf, NULL) >= 0);
	return buf;
}

static int
pins(struct dir_fixture *f)
{
	return store_peer_count_pins(&f->c->store, "alice", 0);
}

/* First contact: a listing that leads back to one first device is taken. */
static void
test_first_contact_chain(void **state)
{
	struct dir_fixture *f = *state;

	assert_int_equal(apply(f, 1, -1, 2, 1, 3, 2, 0), CHAT_OK);
	assert_string_equal(active(f), "1,2,3");
	/* Nobody is told about devices of a first contact. */
	assert_int_equal(f->added, 0);
}

/* First contact: a device approved by a key of the server's own, beside the
 * real ones, makes the whole listing refused, and nothing is pinned. */
static void
test_first_contact_server_device(void **state)
{
	struct dir_fixture *f = *state;

	/* 5 is approved by id[0], a key no device of the listing has. */
	assert_int_equal(apply(f, 1, -1, 2, 1, 5, 0, 0), CHAT_ERR_BAD_KEY);
	assert_non_null(strstr(chat_client_errmsg(f->c), "does not lead back"));
	assert_int_equal(pins(f), 0);
	/* The same through a device it approved in turn. */
	assert_int_equal(apply(f, 1, -1, 5, 0, 6, 5, 0), CHAT_ERR_BAD_KEY);
	assert_int_equal(pins(f), 0);
	/* Two unapproved devices: only the first may be. */
	assert_int_equal(apply(f, 1, -1, 2, -1, 0), CHAT_ERR_BAD_KEY);
	assert_non_null(strstr(chat_client_errmsg(f->c), "both unapproved"));
	assert_int_equal(pins(f), 0);
	/* Devices approving each other, with no first device. */
	assert_int_equal(apply(f, 2, 3, 3, 2, 0), CHAT_ERR_BAD_KEY);
	assert_non_null(strstr(chat_client_errmsg(f->c), "circle"));
	assert_int_equal(pins(f), 0);
	/* The real listing is then taken. */
	assert_int_equal(apply(f, 1, -1, 2, 1, 0), CHAT_OK);
	assert_string_equal(active(f), "1,2");
}

/* First contact with a user whose first device was removed: every chain
 * ends at the one key the listing lacks (the removed device's). */
static void
test_first_contact_without_first_device(void **state)
{
	struct dir_fixture *f = *state;

	/* Two different missing keys: one of them is not the user's. */
	assert_int_equal(apply(f, 2, 1, 4, 0, 0), CHAT_ERR_BAD_KEY);
	assert_int_equal(pins(f), 0);
	assert_int_equal(apply(f, 2, 1, 3, 2, 4, 1, 0), CHAT_OK);
	assert_string_equal(active(f), "2,3,4");
}

/* A removed device that the server lists again stays removed: refused like a
 * changed key, never encrypted to, out of the safety number, until the user
 * accepts it. */
static void
test_removed_device_listed_again(void **state)
{
	struct dir_fixture *f = *state;
	char with[E2E_SAFETY_LEN + 1], without[E2E_SAFETY_LEN + 1], now[E2E_SAFETY_LEN + 1];
	struct store_peer p;

	assert_int_equal(
		store_peer_pin(&f->c->store, "bob", 1, f->c->id->sign_pk, f->c->id->x_pk, NULL), 0);
	assert_int_equal(apply(f, 1, -1, 2, 1, 0), CHAT_OK);
	assert_int_equal(chat_safety_number(f->c, "alice", with), CHAT_OK);
	/* 2 is gone from the listing: removed, and the application told. */
	assert_int_equal(apply(f, 1, -1, 0), CHAT_OK);
	assert_string_equal(active(f), "1");
	assert_int_equal(f->removed, 1);
	assert_int_equal(store_peer_get(&f->c->store, "alice", 2, &p), 1);
	assert_true(p.removed);
	assert_int_equal(p.horizon, 2);
	assert_int_equal(chat_safety_number(f->c, "alice", without), CHAT_OK);
	assert_string_not_equal(with, without);
	/* Listed again, keys and approval as they were: refused, still out. */
	assert_int_equal(apply(f, 1, -1, 2, 1, 0), CHAT_ERR_KEY_CHANGED);
	assert_non_null(strstr(chat_client_errmsg(f->c), "was removed"));
	/* What to do about it is the front end's to say, for whom it is told. */
	assert_null(strstr(chat_client_errmsg(f->c), "chatctl"));
	assert_string_equal(chat_client_error_user(f->c), "alice");
	assert_string_equal(active(f), "1");
	assert_int_equal(chat_safety_number(f->c, "alice", now), CHAT_OK);
	assert_string_equal(now, without);
	/* As the sender of a message too. */
	{
		cJSON *e = cJSON_CreateObject(), *devs = cJSON_CreateArray();
		uint8_t xk[32];

		add_device(f, devs, 2, 1);
		assert_int_equal(directory_check(f->c, "alice", 2, cJSON_GetArrayItem(devs, 0), xk),
				 CHAT_ERR_KEY_CHANGED);
		cJSON_Delete(devs);
		cJSON_Delete(e);
	}
	assert_string_equal(active(f), "1");
	/* A pin does not bring it back either. */
	assert_int_equal(
		store_peer_pin(&f->c->store, "alice", 2, f->id[2].sign_pk, f->id[2].x_pk, NULL), 0);
	assert_string_equal(active(f), "1");
	/* The user's word does. */
	assert_int_equal(chat_trust(f->c, "alice"), 1);
	assert_string_equal(active(f), "1,2");
	assert_int_equal(chat_safety_number(f->c, "alice", now), CHAT_OK);
	assert_string_equal(now, with);
	assert_int_equal(apply(f, 1, -1, 2, 1, 0), CHAT_OK);
}

/* Gone again before the user accepted it: nothing is left to accept. */
static void
test_removed_device_gone_again(void **state)
{
	struct dir_fixture *f = *state;

	assert_int_equal(apply(f, 1, -1, 2, 1, 0), CHAT_OK);
	assert_int_equal(apply(f, 1, -1, 0), CHAT_OK);
	assert_int_equal(apply(f, 1, -1, 2, 1, 0), CHAT_ERR_KEY_CHANGED);
	assert_int_equal(apply(f, 1, -1, 0), CHAT_OK);
	assert_int_equal(chat_trust(f->c, "alice"), 0);
	assert_string_equal(active(f), "1");
}

/* A removed device's key approves no device made after its removal (an id
 * above the highest known then); those made before still count. */
static void
test_removed_key_approves_nothing_new(void **state)
{
	struct dir_fixture *f = *state;

	assert_int_equal(apply(f, 1, -1, 2, 1, 0), CHAT_OK);
	assert_int_equal(apply(f, 1, -1, 0), CHAT_OK); /* 2 removed; horizon 2 */
	assert_int_equal(apply(f, 1, -1, 3, 2, 0), CHAT_ERR_BAD_KEY);
	assert_non_null(strstr(chat_client_errmsg(f->c), "removed before it was made"));
	assert_string_equal(active(f), "1");
	assert_int_equal(apply(f, 1, -1, 3, 1, 0), CHAT_OK);
	assert_string_equal(active(f), "1,3");
	assert_int_equal(f->added, 1);
}

static void
test_removed_key_approved_before(void **state)
{
	struct dir_fixture *f = *state;

	/* 4, approved by 2, appears in the listing 2 leaves: it was made while 2
	 * was there (4 is no higher than the highest id known then). */
	assert_int_equal(apply(f, 1, -1, 2, 1, 0), CHAT_OK);
	assert_int_equal(apply(f, 1, -1, 4, 2, 0), CHAT_OK);
	assert_string_equal(active(f), "1,4");
	/* Later devices it approved are refused. */
	assert_int_equal(apply(f, 1, -1, 4, 2, 5, 2, 0), CHAT_ERR_BAD_KEY);
	assert_string_equal(active(f), "1,4");
	/* And a device approved by no device known is refused, as before. */
	assert_int_equal(apply(f, 1, -1, 4, 2, 6, 0, 0), CHAT_ERR_BAD_KEY);
	assert_non_null(strstr(chat_client_errmsg(f->c), "not approved by a device of alice's"));
}

/* The sender of a message, never seen: a first device alone is a listing that
 * holds together; an approved device needs its user's listing. */
static void
test_unknown_sender(void **state)
{
	struct dir_fixture *f = *state;
	cJSON *devs = cJSON_CreateArray();
	uint8_t xk[32];

	add_device(f, devs, 2, 1);
	add_device(f, devs, 1, -1);
	assert_int_equal(directory_check(f->c, "alice", 2, cJSON_GetArrayItem(devs, 0), xk),
			 DIRECTORY_NEED_LISTING);
	assert_int_equal(pins(f), 0);
	/* Handled again once the listing came in, and alice is still unknown:
	 * refused, not asked for again. */
	f->c->listing_user = "alice";
	assert_int_equal(directory_check(f->c, "alice", 2, cJSON_GetArrayItem(devs, 0), xk),
			 CHAT_ERR_BAD_KEY);
	f->c->listing_user = NULL;
	assert_int_equal(pins(f), 0);
	assert_int_equal(directory_check(f->c, "alice", 1, cJSON_GetArrayItem(devs, 1), xk),
			 CHAT_OK);
	assert_memory_equal(xk, f->id[1].x_pk, 32);
	/* Once alice is known, her other devices are judged as usual. */
	assert_int_equal(directory_check(f->c, "alice", 2, cJSON_GetArrayItem(devs, 0), xk),
			 CHAT_OK);
	assert_string_equal(active(f), "1,2");
	cJSON_Delete(devs);
}

/* A store of schema 5 (devices only inactive) opens at 6: its inactive
 * devices become removed, with the highest id known as their horizon. */
static void
test_store_migrates_removed(void **state)
{
	char dir[] = "/tmp/test_devices_v5.XXXXXX", path[96], p[128];
	static const char *const v5[] = {
		"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
		"CREATE TABLE peers(user TEXT NOT NULL, device_id INTEGER NOT NULL,"
		" identity_key BLOB NOT NULL, exchange_key BLOB NOT NULL,"
		" pending_identity BLOB, pending_exchange BLOB,"
		" active INTEGER NOT NULL DEFAULT 1, pinned_at INTEGER NOT NULL, name TEXT,"
		" PRIMARY KEY(user, device_id))",
		"CREATE TABLE chats(chat_id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT,"
		" created_at INTEGER NOT NULL, members_known INTEGER NOT NULL DEFAULT 0)",
		"CREATE TABLE chat_members(chat_id TEXT NOT NULL, user TEXT NOT NULL,"
		" admin INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(chat_id, user))",
		"CREATE TABLE messages(message_id TEXT PRIMARY KEY, chat_id TEXT NOT NULL,"
		" seq INTEGER NOT NULL DEFAULT 0, sender TEXT NOT NULL,"
		" sender_device INTEGER NOT NULL, sent_at INTEGER NOT NULL DEFAULT 0,"
		" text TEXT NOT NULL, outgoing INTEGER NOT NULL, state TEXT NOT NULL,"
		" stored_at INTEGER NOT NULL, kind TEXT NOT NULL DEFAULT 'text',"
		" handed INTEGER NOT NULL DEFAULT 1)",
		"CREATE TABLE receipts(message_id TEXT NOT NULL, user TEXT NOT NULL,"
		" device_id INTEGER NOT NULL, status INTEGER NOT NULL, at INTEGER NOT NULL,"
		" PRIMARY KEY(message_id, user, device_id))",
		"CREATE TABLE receipt_outbox(id INTEGER PRIMARY KEY AUTOINCREMENT,"
		" chat_id TEXT NOT NULL, to_user TEXT NOT NULL, message_id TEXT NOT NULL,"
		" status INTEGER NOT NULL, created_at INTEGER NOT NULL, UNIQUE(message_id, "
		"status))",
		"CREATE TABLE attachments(message_id TEXT NOT NULL, idx INTEGER NOT NULL,"
		" blob_id TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,"
		" size INTEGER NOT NULL, enc_size INTEGER NOT NULL, key BLOB NOT NULL,"
		" sha256 BLOB NOT NULL, path TEXT, PRIMARY KEY(message_id, idx))",
		"INSERT INTO peers VALUES('alice', 1, zeroblob(32), zeroblob(32), NULL, NULL, 1, 5,"
		" 'laptop')",
		"INSERT INTO peers VALUES('alice', 2, zeroblob(32), zeroblob(32), NULL, NULL, 0, 5,"
		" 'phone')",
		"INSERT INTO peers VALUES('alice', 3, zeroblob(32), zeroblob(32), NULL, NULL, 1, 5,"
		" 'tablet')",
		"INSERT INTO peers VALUES('carol', 1, zeroblob(32), zeroblob(32), NULL, NULL, 0, 5,"
		" NULL)",
		"PRAGMA user_version=5",
		NULL};
	struct store s;
	struct store_peer peer;
	sqlite3 *db;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/store.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	for (const char *const *q = v5; *q != NULL; q++)
		assert_int_equal(sqlite3_exec(db, *q, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(store_open(&s, path), 0);
	assert_int_equal(store_peer_get(&s, "alice", 1, &peer), 1);
	assert_true(peer.active);
	assert_false(peer.removed);
	assert_string_equal(peer.name, "laptop");
	assert_int_equal(store_peer_get(&s, "alice", 2, &peer), 1);
	assert_false(peer.active);
	assert_true(peer.removed);
	assert_int_equal(peer.horizon, 3);
	assert_int_equal(store_peer_get(&s, "carol", 1, &peer), 1);
	assert_true(peer.removed);
	assert_int_equal(peer.horizon, 1);
	assert_int_equal(store_peer_count(&s, "alice"), 2);
	store_close(&s);
	/* Opening again does not migrate twice. */
	assert_int_equal(store_open(&s, path), 0);
	store_close(&s);
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	rmdir(dir);
}

int
main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_keys),
		cmocka_unit_test(test_session_signatures),
		cmocka_unit_test(test_link_code),
		cmocka_unit_test(test_link_mac),
		cmocka_unit_test(test_approval),
		cmocka_unit_test_setup_teardown(test_first_contact_chain, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_first_contact_server_device, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_first_contact_without_first_device, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_removed_device_listed_again, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_removed_device_gone_again, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_removed_key_approves_nothing_new, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_removed_key_approved_before, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_sender, dir_setup, dir_teardown),
		cmocka_unit_test(test_store_migrates_removed),
	};
	/* clang-format on */

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
