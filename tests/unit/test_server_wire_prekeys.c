/*
 * test_server_wire_prekeys.c - chat-server's prekey requests
 * (server-stub/wire_prekeys.c): uploadPrekeys checks the signed prekey's
 * signature and bounds every field; getPrekeyBundle hands each one-time
 * prekey out once, falls back to the signed prekey alone, and tells the
 * network layer when a device runs low; the prekeysLow push.
 */
#include "server_fixture.h"

/* The prekeys_low hook: how often, and for whom last. */
static int n_low;
static char low_user[PROTO_USER_MAX + 1];
static uint32_t low_device;

static void
on_low(void *udata, const char *user, uint32_t device_id)
{
	(void)udata;
	n_low++;
	snprintf(low_user, sizeof low_user, "%s", user);
	low_device = device_id;
}

/* The signedPrekey object for id and key of seed, signed by me over the
 * label, the id (big-endian) and the key; with wrong_id the signature
 * covers id + 1 instead (a forgery's). */
static void
spk_json(const struct e2e_identity *me, uint32_t id, uint8_t seed, int wrong_id, char *out,
	 size_t cap)
{
	uint8_t key[32], sig[64], m[sizeof PROTO_LABEL_SPK - 1 + 4 + 32];
	uint32_t signed_id = wrong_id ? id + 1 : id;
	size_t n = sizeof PROTO_LABEL_SPK - 1;
	char k64[64], s64[100];

	fill_key(key, sizeof key, seed);
	memcpy(m, PROTO_LABEL_SPK, n);
	m[n++] = (uint8_t)(signed_id >> 24);
	m[n++] = (uint8_t)(signed_id >> 16);
	m[n++] = (uint8_t)(signed_id >> 8);
	m[n++] = (uint8_t)signed_id;
	memcpy(m + n, key, sizeof key);
	assert_int_equal(crypto_sign_detached(sig, NULL, m, sizeof m, me->sign_sk), 0);
	b64(key, sizeof key, k64, sizeof k64);
	b64(sig, sizeof sig, s64, sizeof s64);
	snprintf(out, cap, "{\"id\":%u,\"key\":\"%s\",\"sig\":\"%s\"}", id, k64, s64);
}

/* A malloc'd list of n one-time prekeys, ids first.. (for frames too big
 * for call()'s buffer). */
static char *
opks_json(uint32_t first, size_t n)
{
	char *out = malloc(n * 80 + 3), k64[64];
	uint8_t key[32];
	size_t i, len = 0;

	assert_non_null(out);
	out[len++] = '[';
	for (i = 0; i < n; i++) {
		fill_key(key, sizeof key, (uint8_t)(first + i));
		b64(key, sizeof key, k64, sizeof k64);
		len += (size_t)sprintf(out + len, "%s{\"id\":%u,\"key\":\"%s\"}", i ? "," : "",
				       (unsigned)(first + i), k64);
	}
	out[len++] = ']';
	out[len] = '\0';
	return out;
}

/* Send a frame of any size; the parsed reply. */
static cJSON *
big_call(struct fixture *f, struct session *s, const char *frame)
{
	char *text = wire_handle(&f->hooks, s, frame, strlen(frame));
	cJSON *r;

	assert_non_null(text);
	r = cJSON_Parse(text);
	assert_non_null(r);
	free(text);
	return r;
}

/* uploadPrekeys with spk (NULL: none) and n one-time prekeys from first. */
static cJSON *
upload(struct fixture *f, struct session *s, int id, const char *spk, uint32_t first, size_t n)
{
	char *list = opks_json(first, n), *frame = malloc(strlen(list) + 400);
	cJSON *r;

	assert_non_null(frame);
	sprintf(frame, "{\"id\":%d,\"type\":\"uploadPrekeys\"%s%s,\"oneTimePrekeys\":%s}", id,
		spk ? ",\"signedPrekey\":" : "", spk ? spk : "", list);
	r = big_call(f, s, frame);
	free(frame);
	free(list);
	return r;
}

static void
expect_stored(cJSON *r, int id, int count)
{
	expect_ok(r, id);
	assert_int_equal(num(r, "oneTimePrekeys"), count);
	cJSON_Delete(r);
}

/* The one device of a bundle reply. */
static const cJSON *
only_device(const cJSON *r)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(r, "devices");

	assert_int_equal(cJSON_GetArraySize(d), 1);
	return cJSON_GetArrayItem(d, 0);
}

/* The id of the bundle's one-time prekey, or -1 if it has none. */
static double
opk_id(const cJSON *dev)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(dev, "oneTimePrekey");

	return k ? num(k, "id") : -1;
}

static void
test_upload_and_bundles(void **state)
{
	struct fixture *f = *state;
	struct session a, b;
	struct e2e_identity ia, ib;
	char spk[256], ik[64];
	const cJSON *d, *k;
	cJSON *r;

	registered(f, &b, 1, "bob", &ib);
	registered(f, &a, 2, "alice", &ia);
	spk_json(&ib, 4000000000u, 9, 0, spk, sizeof spk);
	expect_stored(upload(f, &b, 2, spk, 10, 3), 2, 3);

	r = call(f, &a, "{\"id\":3,\"type\":\"getPrekeyBundle\",\"user\":\"bob\"}");
	expect_ok(r, 3);
	assert_string_equal(str(r, "user"), "bob");
	d = only_device(r);
	assert_int_equal(num(d, "deviceId"), 1);
	b64(ib.sign_pk, 32, ik, sizeof ik);
	assert_string_equal(str(d, "identityKey"), ik);
	(void)str(d, "exchangeKey");
	(void)str(d, "exchangeKeySig");
	k = cJSON_GetObjectItemCaseSensitive(d, "signedPrekey");
	assert_true(num(k, "id") == 4000000000.0);
	assert_non_null(strstr(spk, str(k, "key")));
	assert_non_null(strstr(spk, str(k, "sig")));
	assert_int_equal(opk_id(d), 10);
	cJSON_Delete(r);

	/* The next bundle gets the next key, by device id too. */
	r = call(f, &a, "{\"id\":4,\"type\":\"getPrekeyBundle\",\"user\":\"bob\",\"deviceId\":1}");
	expect_ok(r, 4);
	assert_int_equal(opk_id(only_device(r)), 11);
	cJSON_Delete(r);
	/* The device may fetch its own. */
	r = call(f, &b, "{\"id\":5,\"type\":\"getPrekeyBundle\",\"user\":\"bob\"}");
	assert_int_equal(opk_id(only_device(r)), 12);
	cJSON_Delete(r);
	/* Exhausted: the signed prekey alone. */
	r = call(f, &a, "{\"id\":6,\"type\":\"getPrekeyBundle\",\"user\":\"bob\"}");
	expect_ok(r, 6);
	d = only_device(r);
	assert_non_null(cJSON_GetObjectItemCaseSensitive(d, "signedPrekey"));
	assert_int_equal(opk_id(d), -1);
	cJSON_Delete(r);

	/* A stage 1 device (alice uploaded nothing): listed, without prekeys. */
	r = call(f, &b, "{\"id\":7,\"type\":\"getPrekeyBundle\",\"user\":\"alice\"}");
	expect_ok(r, 7);
	d = only_device(r);
	assert_null(cJSON_GetObjectItemCaseSensitive(d, "signedPrekey"));
	assert_null(cJSON_GetObjectItemCaseSensitive(d, "oneTimePrekey"));
	cJSON_Delete(r);

	expect_error(call(f, &a, "{\"id\":8,\"type\":\"getPrekeyBundle\",\"user\":\"nobody\"}"),
		     "unknown_user", 8);
	expect_error(call(f, &a,
			  "{\"id\":9,\"type\":\"getPrekeyBundle\",\"user\":\"bob\","
			  "\"deviceId\":2}"),
		     "unknown_device", 9);
	expect_error(call(f, &a, "{\"id\":10,\"type\":\"getPrekeyBundle\",\"user\":\"Bob!\"}"),
		     "invalid_user", 10);
	expect_error(call(f, &a,
			  "{\"id\":11,\"type\":\"getPrekeyBundle\",\"user\":\"bob\","
			  "\"deviceId\":0}"),
		     "bad_request", 11);
}

/* A signed prekey that does not verify is refused, and nothing of the
 * upload is stored. */
static void
test_forged_signed_prekey(void **state)
{
	struct fixture *f = *state;
	struct session a, b;
	struct e2e_identity ia, ib;
	char spk[256];
	cJSON *r;

	registered(f, &b, 1, "bob", &ib);
	registered(f, &a, 2, "alice", &ia);
	/* Signed over another id, then by another device's identity key. */
	spk_json(&ib, 5, 9, 1, spk, sizeof spk);
	expect_error(upload(f, &b, 2, spk, 1, 3), "bad_signature", 2);
	spk_json(&ia, 5, 9, 0, spk, sizeof spk);
	expect_error(upload(f, &b, 3, spk, 1, 3), "bad_signature", 3);
	r = call(f, &a, "{\"id\":4,\"type\":\"getPrekeyBundle\",\"user\":\"bob\"}");
	expect_ok(r, 4);
	assert_null(cJSON_GetObjectItemCaseSensitive(only_device(r), "signedPrekey"));
	cJSON_Delete(r);
	/* One-time prekeys without any signed prekey: refused. */
	expect_error(upload(f, &b, 5, NULL, 1, 3), "bad_request", 5);
}

static void
test_bounds(void **state)
{
	struct fixture *f = *state;
	struct session b, u;
	struct e2e_identity ib;
	char spk[256];

	registered(f, &b, 1, "bob", &ib);
	spk_json(&ib, 5, 9, 0, spk, sizeof spk);
	/* 101 in one request: too_large, nothing stored. */
	expect_error(upload(f, &b, 2, spk, 1, PROTO_MAX_PREKEYS_UPLOAD + 1), "too_large", 2);
	/* 200 stored, then one more: quota_exceeded; the same ids again are
	 * a retry, not more. */
	expect_stored(upload(f, &b, 3, spk, 1, 100), 3, 100);
	expect_stored(upload(f, &b, 4, NULL, 101, 100), 4, 200);
	expect_stored(upload(f, &b, 5, NULL, 101, 100), 5, 200);
	expect_error(upload(f, &b, 6, NULL, 500, 1), "quota_exceeded", 6);

	/* Ids are 0 to 2^32-1 integers; keys 32 bytes; signatures 64. */
	expect_error(
		call(f, &b,
		     "{\"id\":7,\"type\":\"uploadPrekeys\",\"oneTimePrekeys\":"
		     "[{\"id\":-1,\"key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}]}"),
		"bad_request", 7);
	expect_error(call(f, &b,
			  "{\"id\":8,\"type\":\"uploadPrekeys\",\"oneTimePrekeys\":"
			  "[{\"id\":4294967296,\"key\":"
			  "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}]}"),
		     "bad_request", 8);
	expect_error(
		call(f, &b,
		     "{\"id\":9,\"type\":\"uploadPrekeys\",\"oneTimePrekeys\":"
		     "[{\"id\":1.5,\"key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}]}"),
		"bad_request", 9);
	expect_error(call(f, &b,
			  "{\"id\":10,\"type\":\"uploadPrekeys\",\"oneTimePrekeys\":"
			  "[{\"id\":1,\"key\":\"AAAA\"}]}"),
		     "bad_request", 10);
	expect_error(call(f, &b,
			  "{\"id\":11,\"type\":\"uploadPrekeys\",\"oneTimePrekeys\":"
			  "[{\"id\":1,\"key\":\"AAAAAAAAAAAAAAAA\\u0000AAAAAAAAAAAAAAAAAAAAAAAAAA="
			  "\"}]}"),
		     "bad_request", 11);
	expect_error(call(f, &b, "{\"id\":12,\"type\":\"uploadPrekeys\",\"oneTimePrekeys\":[1]}"),
		     "bad_request", 12);
	expect_error(call(f, &b, "{\"id\":13,\"type\":\"uploadPrekeys\",\"oneTimePrekeys\":{}}"),
		     "bad_request", 13);
	expect_error(call(f, &b,
			  "{\"id\":14,\"type\":\"uploadPrekeys\",\"signedPrekey\":"
			  "{\"id\":1,\"key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
			  "\"sig\":\"AAAA\"}}"),
		     "bad_request", 14);
	expect_error(call(f, &b, "{\"id\":15,\"type\":\"uploadPrekeys\",\"signedPrekey\":7}"),
		     "bad_request", 15);
	expect_error(call(f, &b, "{\"id\":16,\"type\":\"getPrekeyBundle\"}"), "bad_request", 16);

	/* Before auth: neither request. */
	open_session(f, &u, 9);
	expect_error(call(f, &u, "{\"id\":1,\"type\":\"getPrekeyBundle\",\"user\":\"bob\"}"),
		     "unauthenticated", 1);
	expect_error(call(f, &u, "{\"id\":2,\"type\":\"uploadPrekeys\"}"), "unauthenticated", 2);
}

/* The bundle that takes a device below 20 tells the network layer, once. */
static void
test_low_hook_and_push(void **state)
{
	struct fixture *f = *state;
	struct session a, b;
	struct e2e_identity ia, ib;
	char spk[256], *push;
	cJSON *r;

	f->hooks.prekeys_low = on_low;
	n_low = 0;
	registered(f, &b, 1, "bob", &ib);
	registered(f, &a, 2, "alice", &ia);
	spk_json(&ib, 5, 9, 0, spk, sizeof spk);
	expect_stored(upload(f, &b, 2, spk, 1, PROTO_PREKEYS_LOW + 1), 2, 21);
	cJSON_Delete(call(f, &a, "{\"id\":3,\"type\":\"getPrekeyBundle\",\"user\":\"bob\"}"));
	assert_int_equal(n_low, 0); /* 20 left */
	cJSON_Delete(call(f, &a, "{\"id\":4,\"type\":\"getPrekeyBundle\",\"user\":\"bob\"}"));
	assert_int_equal(n_low, 1); /* 19 */
	assert_string_equal(low_user, "bob");
	assert_int_equal(low_device, 1);
	cJSON_Delete(call(f, &a, "{\"id\":5,\"type\":\"getPrekeyBundle\",\"user\":\"bob\"}"));
	assert_int_equal(n_low, 1);

	push = wire_prekeys_low(19);
	assert_non_null(push);
	r = cJSON_Parse(push);
	assert_string_equal(str(r, "type"), "prekeysLow");
	assert_int_equal(num(r, "count"), 19);
	cJSON_Delete(r);
	free(push);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_upload_and_bundles, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_forged_signed_prekey, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_low_hook_and_push, setup_wire, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
