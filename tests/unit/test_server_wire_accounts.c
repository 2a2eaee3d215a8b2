/*
 * test_server_wire_accounts.c - chat-server's requests of accounts and devices
 * (server-stub/wire_accounts.c): register and auth with their signatures,
 * getKeys, linking a device and approving it, removing one, registrations per
 * address, and what contacts see.
 */
#include "server_fixture.h"

static void
test_register_and_auth(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity alice, other;
	struct session s1, s2, s3;
	cJSON *r;

	assert_int_equal(e2e_identity_generate(&alice), 0);
	assert_int_equal(e2e_identity_generate(&other), 0);
	open_session(f, &s1, 1);

	/* A register signature under the auth domain does not verify. */
	expect_error(do_register(f, &s1, 1, "alice", &alice, PROTO_LABEL_AUTH), "bad_signature", 1);
	expect_error(do_register(f, &s1, 2, "Alice", &alice, PROTO_LABEL_REGISTER), "invalid_user",
		     2);
	r = do_register(f, &s1, 3, "alice", &alice, PROTO_LABEL_REGISTER);
	expect_ok(r, 3);
	assert_string_equal(str(r, "user"), "alice");
	assert_true(num(r, "deviceId") == 1);
	cJSON_Delete(r);
	assert_int_equal(f->n_auth, 1);
	assert_ptr_equal(f->last_auth, &s1);
	assert_true(s1.authed);
	expect_error(do_register(f, &s1, 4, "alice", &alice, PROTO_LABEL_REGISTER),
		     "already_authenticated", 4);
	expect_error(do_auth(f, &s1, 5, "alice", 1, &alice), "already_authenticated", 5);

	/* A retry on a new connection gets the same reply; another key not. */
	open_session(f, &s2, 2);
	expect_error(do_register(f, &s2, 1, "alice", &other, PROTO_LABEL_REGISTER), "user_exists",
		     1);
	r = do_register(f, &s2, 2, "alice", &alice, PROTO_LABEL_REGISTER);
	expect_ok(r, 2);
	assert_true(num(r, "deviceId") == 1);
	cJSON_Delete(r);
	assert_int_equal(f->n_auth, 2);

	/* auth: unknown device, wrong key, a signature over another challenge,
	 * then the right one. */
	open_session(f, &s3, 3);
	expect_error(do_auth(f, &s3, 1, "alice", 2, &alice), "unknown_device", 1);
	expect_error(do_auth(f, &s3, 2, "bob", 1, &alice), "unknown_device", 2);
	expect_error(do_auth(f, &s3, 3, "alice", 1, &other), "bad_signature", 3);
	expect_error(call(f, &s3,
			  "{\"id\":4,\"type\":\"auth\",\"user\":\"alice\","
			  "\"deviceId\":1.5,\"signature\":\"\"}"),
		     "bad_request", 4);
	{
		/* A valid signature, but over another connection's challenge. */
		char sg[100];

		session_sig(&s1, &alice, PROTO_LABEL_AUTH, SERVER_NAME, NULL, 0, sg);
		expect_error(call(f, &s3,
				  "{\"id\":5,\"type\":\"auth\",\"user\":"
				  "\"alice\",\"deviceId\":1,\"server\":\"" SERVER_NAME
				  "\",\"signature\":\"%s\"}",
				  sg),
			     "bad_signature", 5);
		expect_error(call(f, &s3,
				  "{\"id\":6,\"type\":\"getKeys\","
				  "\"users\":[]}"),
			     "unauthenticated", 6);
	}
	r = do_auth(f, &s3, 7, "alice", 1, &alice);
	expect_ok(r, 7);
	cJSON_Delete(r);
	assert_int_equal(f->n_auth, 3);
	e2e_identity_wipe(&alice);
	e2e_identity_wipe(&other);
}

/* getKeys: each user once, in the order first named; device names for
 * contacts only (PROTOCOL.md, "getKeys"); an unknown user fails it all. */
static void
test_get_keys(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib, ic;
	struct session a, b, c;
	char chat[17], ikb[64];
	cJSON *r, *u;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	registered(f, &c, 3, "carol", &ic);
	r = call(f, &a,
		 "{\"id\":2,\"type\":\"getKeys\",\"users\":[\"bob\","
		 "\"carol\",\"bob\"]}");
	expect_ok(r, 2);
	u = cJSON_GetObjectItemCaseSensitive(r, "users");
	assert_int_equal(cJSON_GetArraySize(u), 2);
	/* In the order first named (PROTOCOL.md, "getKeys"). */
	assert_string_equal(str(cJSON_GetArrayItem(u, 0), "user"), "bob");
	assert_string_equal(str(cJSON_GetArrayItem(u, 1), "user"), "carol");
	u = cJSON_GetArrayItem(cJSON_GetArrayItem(u, 0), 1); /* bob's devices */
	u = cJSON_GetArrayItem(u, 0);
	assert_true(num(u, "deviceId") == 1);
	/* bob has not taken part in a chat with alice: no names for her. */
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(u, "name")));
	b64(ib.sign_pk, 32, ikb, sizeof ikb);
	assert_string_equal(str(u, "identityKey"), ikb);
	cJSON_Delete(r);
	expect_error(call(f, &a,
			  "{\"id\":3,\"type\":\"getKeys\",\"users\":"
			  "[\"bob\",\"zed\"]}"),
		     "unknown_user", 3);

	/* bob made a chat with alice: he is her contact now, names and all. */
	direct(f, &b, "alice", chat);
	r = call(f, &a, "{\"id\":4,\"type\":\"getKeys\",\"users\":[\"bob\"]}");
	expect_ok(r, 4);
	u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "users"), 0);
	u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(u, "devices"), 0);
	assert_string_equal(str(u, "name"), "test");
	cJSON_Delete(r);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
	e2e_identity_wipe(&ic);
}

/* The approval signature of a new device, by approver. */
static void
sign_approval(uint8_t sig[64], const char *user, const struct e2e_identity *dev,
	      const struct e2e_identity *approver)
{
	uint8_t msg[14 + 32 + 1 + 64];
	size_t n = 0, ulen = strlen(user);

	memcpy(msg, "chat-device-v1", 14);
	n = 14;
	memcpy(msg + n, user, ulen);
	n += ulen;
	msg[n++] = 0;
	memcpy(msg + n, dev->sign_pk, 32);
	n += 32;
	memcpy(msg + n, dev->x_pk, 32);
	n += 32;
	assert_int_equal(crypto_sign_detached(sig, NULL, msg, n, approver->sign_sk), 0);
}

/* The MAC a new device puts in its request (any 32 bytes will do for the
 * server, which cannot check it): here the keys' first bytes, so each
 * request's MAC differs. */
static void
fake_mac(const struct e2e_identity *me, char out[64])
{
	uint8_t mac[32];

	memcpy(mac, me->sign_pk, 16);
	memcpy(mac + 16, me->x_pk, 16);
	b64(mac, 32, out, 64);
}

/* A linkDevice request of session s for user with identity me. */
static cJSON *
do_link(struct fixture *f, struct session *s, int id, const char *user,
	const struct e2e_identity *me, const char *domain)
{
	char ik[64], xk[64], xs[100], sg[100], mac[64];

	session_sig(s, me, domain, SERVER_NAME, s->binding, s->binding_len, sg);
	b64(me->sign_pk, 32, ik, sizeof ik);
	b64(me->x_pk, 32, xk, sizeof xk);
	b64(me->x_sig, 64, xs, sizeof xs);
	fake_mac(me, mac);
	return call(f, s,
		    "{\"id\":%d,\"type\":\"linkDevice\",\"user\":\"%s\","
		    "\"deviceName\":\"phone\",\"identityKey\":\"%s\","
		    "\"exchangeKey\":\"%s\",\"exchangeKeySig\":\"%s\",\"linkMac\":\"%s\","
		    "\"server\":\"" SERVER_NAME "\",\"signature\":\"%s\"}",
		    id, user, ik, xk, xs, mac, sg);
}

/* approveLink of the request of the device with identity dev. */
static cJSON *
do_approve(struct fixture *f, struct session *s, int id, const struct e2e_identity *dev,
	   const uint8_t sig[64])
{
	char sg[100], ik[64];

	b64(sig, 64, sg, sizeof sg);
	b64(dev->sign_pk, 32, ik, sizeof ik);
	return call(f, s,
		    "{\"id\":%d,\"type\":\"approveLink\",\"identityKey\":\"%s\","
		    "\"approval\":\"%s\"}",
		    id, ik, sg);
}

/* Link a new device for the user of session a (device approver), through
 * session p; returns the new device id. */
static int
linked_device(struct fixture *f, struct session *a, const struct e2e_identity *approver,
	      struct session *p, uint64_t conn, struct e2e_identity *me)
{
	uint8_t sig[64];
	cJSON *r;
	int id;

	assert_int_equal(e2e_identity_generate(me), 0);
	open_session(f, p, conn);
	r = do_link(f, p, 1, a->user, me, PROTO_LABEL_LINK);
	expect_ok(r, 1);
	cJSON_Delete(r);
	sign_approval(sig, a->user, me, approver);
	r = do_approve(f, a, 50, me, sig);
	expect_ok(r, 50);
	id = (int)num(r, "deviceId");
	cJSON_Delete(r);
	return id;
}

/* getLink's requests, as an array the caller frees with the reply. */
static const cJSON *
requests(const cJSON *r)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(r, "requests");

	assert_true(cJSON_IsArray(arr));
	return arr;
}

static void
test_link_flow(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib, ip, it, ix;
	/* y lives as long as the fixture's list of sessions points at it. */
	struct session a, b, p, t, x, p2, y;
	char b64k[100];
	uint8_t sig[64];
	double expires;
	cJSON *r, *u, *e;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	assert_int_equal(e2e_identity_generate(&ip), 0);
	open_session(f, &p, 3);

	/* The signature must be under chat-link-v2, for this server. */
	expect_error(do_link(f, &p, 1, "alice", &ip, PROTO_LABEL_REGISTER), "bad_signature", 1);
	expect_error(do_link(f, &p, 2, "zed", &ip, PROTO_LABEL_LINK), "unknown_user", 2);
	/* Another device's identity key. */
	expect_error(do_link(f, &p, 3, "alice", &ib, PROTO_LABEL_LINK), "bad_request", 3);
	expect_error(call(f, &p, "{\"id\":4,\"type\":\"getLink\"}"), "unauthenticated", 4);
	/* A linkMac that is not 32 bytes. */
	{
		char ik[64], xk[64], xs[100], sg[100];

		session_sig(&p, &ip, PROTO_LABEL_LINK, SERVER_NAME, NULL, 0, sg);
		b64(ip.sign_pk, 32, ik, sizeof ik);
		b64(ip.x_pk, 32, xk, sizeof xk);
		b64(ip.x_sig, 64, xs, sizeof xs);
		expect_error(call(f, &p,
				  "{\"id\":5,\"type\":\"linkDevice\",\"user\":\"alice\","
				  "\"identityKey\":\"%s\",\"exchangeKey\":\"%s\","
				  "\"exchangeKeySig\":\"%s\",\"linkMac\":\"AAAA\","
				  "\"server\":\"" SERVER_NAME "\",\"signature\":\"%s\"}",
				  ik, xk, xs, sg),
			     "bad_request", 5);
	}
	r = do_link(f, &p, 6, "alice", &ip, PROTO_LABEL_LINK);
	expect_ok(r, 6);
	/* The reply has no code: the code is the new device's secret. */
	assert_null(cJSON_GetObjectItemCaseSensitive(r, "code"));
	expires = num(r, "expiresAt");
	assert_true(expires > (double)proto_now_ms() + 9 * 60 * 1000);
	cJSON_Delete(r);
	assert_false(p.authed);

	/* getLink: only the same user's devices see the request, with its keys
	 * and MAC as they came. */
	r = call(f, &b, "{\"id\":6,\"type\":\"getLink\"}");
	expect_ok(r, 6);
	assert_string_equal(str(r, "user"), "bob");
	assert_int_equal(cJSON_GetArraySize(requests(r)), 0);
	cJSON_Delete(r);
	r = call(f, &a, "{\"id\":10,\"type\":\"getLink\"}");
	expect_ok(r, 10);
	assert_string_equal(str(r, "user"), "alice");
	assert_int_equal(cJSON_GetArraySize(requests(r)), 1);
	u = cJSON_GetArrayItem(requests(r), 0);
	assert_string_equal(str(u, "deviceName"), "phone");
	b64(ip.sign_pk, 32, b64k, sizeof b64k);
	assert_string_equal(str(u, "identityKey"), b64k);
	b64(ip.x_pk, 32, b64k, sizeof b64k);
	assert_string_equal(str(u, "exchangeKey"), b64k);
	b64(ip.x_sig, 64, b64k, sizeof b64k);
	assert_string_equal(str(u, "exchangeKeySig"), b64k);
	fake_mac(&ip, b64k);
	assert_string_equal(str(u, "linkMac"), b64k);
	assert_true(num(u, "expiresAt") == expires);
	cJSON_Delete(r);

	/* approveLink: bob cannot (no request of his has that key); a signature
	 * by another key, or over other keys, is refused. */
	sign_approval(sig, "alice", &ip, &ia);
	expect_error(do_approve(f, &b, 11, &ip, sig), "no_such_link", 11);
	expect_error(do_approve(f, &a, 12, &ib, sig), "no_such_link", 12);
	sign_approval(sig, "alice", &ip, &ib);
	expect_error(do_approve(f, &a, 13, &ip, sig), "bad_signature", 13);
	sign_approval(sig, "alice", &ib, &ia);
	expect_error(do_approve(f, &a, 14, &ip, sig), "bad_signature", 14);
	expect_error(call(f, &a, "{\"id\":15,\"type\":\"approveLink\",\"approval\":\"x\"}"),
		     "bad_request", 15);
	assert_int_equal(f->n_linked, 0);
	assert_false(p.authed);

	sign_approval(sig, "alice", &ip, &ia);
	r = do_approve(f, &a, 16, &ip, sig);
	expect_ok(r, 16);
	assert_string_equal(str(r, "user"), "alice");
	assert_true(num(r, "deviceId") == 2);
	cJSON_Delete(r);
	assert_int_equal(f->n_linked, 1);
	assert_ptr_equal(f->last_linked, &p);
	assert_true(p.authed);
	assert_string_equal(p.user, "alice");
	assert_int_equal(p.device_id, 2);
	assert_false(p.link.pending);
	{
		char *text = wire_linked(&p);

		assert_string_equal(text,
				    "{\"type\":\"linked\",\"user\":\"alice\",\"deviceId\":2}");
		free(text);
	}
	/* The request is used up. */
	expect_error(do_approve(f, &a, 17, &ip, sig), "no_such_link", 17);
	/* The phone is a device now; it can auth on a new connection. */
	open_session(f, &p2, 9);
	r = do_auth(f, &p2, 1, "alice", 2, &ip);
	expect_ok(r, 1);
	cJSON_Delete(r);

	/* getKeys shows who approved it. */
	r = call(f, &b, "{\"id\":16,\"type\":\"getKeys\",\"users\":[\"alice\"]}");
	expect_ok(r, 16);
	u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "users"), 0);
	u = cJSON_GetObjectItemCaseSensitive(u, "devices");
	assert_int_equal(cJSON_GetArraySize(u), 2);
	assert_true(cJSON_IsNull(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(u, 0), "approverKey")));
	assert_true(cJSON_IsNull(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(u, 0), "approval")));
	b64(ia.sign_pk, 32, b64k, sizeof b64k);
	assert_string_equal(str(cJSON_GetArrayItem(u, 1), "approverKey"), b64k);
	{
		uint8_t got[64];
		size_t n;

		assert_int_equal(sodium_base642bin(got, sizeof got,
						   str(cJSON_GetArrayItem(u, 1), "approval"), 88,
						   NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL),
				 0);
		assert_int_equal(n, 64);
		assert_int_equal(e2e_verify_device(got, "alice", ip.sign_pk, ip.x_pk, ia.sign_pk),
				 0);
	}
	cJSON_Delete(r);

	/* An expired request is not listed, nor can it be approved. */
	assert_int_equal(e2e_identity_generate(&it), 0);
	open_session(f, &t, 4);
	r = do_link(f, &t, 1, "alice", &it, PROTO_LABEL_LINK);
	expect_ok(r, 1);
	cJSON_Delete(r);
	t.link.expires_at = proto_now_ms() - 1;
	r = call(f, &a, "{\"id\":17,\"type\":\"getLink\"}");
	assert_int_equal(cJSON_GetArraySize(requests(r)), 0);
	cJSON_Delete(r);
	sign_approval(sig, "alice", &it, &ia);
	expect_error(do_approve(f, &a, 18, &it, sig), "no_such_link", 18);
	/* A third device, approved by the second; then a fourth is refused,
	 * when asking and (for a request made before) at approval. */
	e2e_identity_wipe(&it);
	assert_int_equal(e2e_identity_generate(&ix), 0);
	open_session(f, &x, 5);
	r = do_link(f, &x, 1, "alice", &ix, PROTO_LABEL_LINK);
	expect_ok(r, 1);
	cJSON_Delete(r);
	assert_int_equal(linked_device(f, &p2, &ip, &t, 6, &it), 3);
	/* x's request, made when alice had two devices, still waits. */
	r = call(f, &a, "{\"id\":18,\"type\":\"getLink\"}");
	expect_ok(r, 18);
	assert_int_equal(cJSON_GetArraySize(requests(r)), 1);
	cJSON_Delete(r);
	{
		struct e2e_identity iy;

		assert_int_equal(e2e_identity_generate(&iy), 0);
		open_session(f, &y, 7);
		r = do_link(f, &y, 1, "alice", &iy, PROTO_LABEL_LINK);
		e = cJSON_GetObjectItemCaseSensitive(r, "error");
		assert_non_null(strstr(str(e, "message"), "chatctl device remove"));
		expect_error(r, "too_many_devices", 1);
		e2e_identity_wipe(&iy);
	}
	sign_approval(sig, "alice", &ix, &ia);
	expect_error(do_approve(f, &a, 19, &ix, sig), "too_many_devices", 19);
	assert_false(x.authed);

	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
	e2e_identity_wipe(&ip);
	e2e_identity_wipe(&it);
	e2e_identity_wipe(&ix);
}

/* At most PROTO_MAX_LINKS requests wait for one user; the same keys asking
 * again (a reconnected client) replace their request and do not count
 * twice; another user's do not count. */
static void
test_link_cap(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib, id[PROTO_MAX_LINKS + 1];
	struct session a, b, w[PROTO_MAX_LINKS + 2], again;
	cJSON *r;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	for (int i = 0; i <= PROTO_MAX_LINKS; i++)
		assert_int_equal(e2e_identity_generate(&id[i]), 0);
	for (int i = 0; i < PROTO_MAX_LINKS; i++) {
		open_session(f, &w[i], 10 + (uint64_t)i);
		r = do_link(f, &w[i], 1, "alice", &id[i], PROTO_LABEL_LINK);
		expect_ok(r, 1);
		cJSON_Delete(r);
	}
	/* The first device asks again on a new connection: still five. */
	open_session(f, &again, 20);
	r = do_link(f, &again, 1, "alice", &id[0], PROTO_LABEL_LINK);
	expect_ok(r, 1);
	cJSON_Delete(r);
	r = call(f, &a, "{\"id\":2,\"type\":\"getLink\"}");
	assert_int_equal(cJSON_GetArraySize(requests(r)), PROTO_MAX_LINKS);
	cJSON_Delete(r);
	/* A sixth is refused, saying what to do. */
	open_session(f, &w[PROTO_MAX_LINKS], 30);
	r = do_link(f, &w[PROTO_MAX_LINKS], 1, "alice", &id[PROTO_MAX_LINKS], PROTO_LABEL_LINK);
	assert_non_null(strstr(str(cJSON_GetObjectItemCaseSensitive(r, "error"), "message"),
			       "approve one"));
	expect_error(r, "too_many_links", 1);
	/* bob's requests are counted apart. */
	open_session(f, &w[PROTO_MAX_LINKS + 1], 31);
	r = do_link(f, &w[PROTO_MAX_LINKS + 1], 1, "bob", &id[PROTO_MAX_LINKS], PROTO_LABEL_LINK);
	expect_ok(r, 1);
	cJSON_Delete(r);
	/* One expires: room for the sixth. */
	w[1].link.expires_at = proto_now_ms() - 1;
	r = do_link(f, &w[PROTO_MAX_LINKS], 2, "alice", &id[PROTO_MAX_LINKS], PROTO_LABEL_LINK);
	assert_null(cJSON_GetObjectItemCaseSensitive(r, "error"));
	cJSON_Delete(r);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
	for (int i = 0; i <= PROTO_MAX_LINKS; i++)
		e2e_identity_wipe(&id[i]);
}

/* The session signature names the server and binds the TLS connection:
 * for another server, or another TLS connection, it is refused; a client
 * of the old form (no server, the challenge alone) is told to update. */
static void
test_session_binding(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ip;
	struct session a, s, l;
	uint8_t other[32];
	char sg[100];
	cJSON *r, *e;

	assert_int_equal(e2e_identity_generate(&ia), 0);
	assert_int_equal(e2e_identity_generate(&ip), 0);
	open_session(f, &a, 1);
	/* register for another server: wrong_server, which names it. */
	r = do_register_for(f, &a, 1, "alice", &ia, PROTO_LABEL_REGISTER, "evil.example:8700");
	e = cJSON_GetObjectItemCaseSensitive(r, "error");
	assert_non_null(strstr(str(e, "message"), "this server is not evil.example:8700"));
	assert_non_null(strstr(str(e, "message"), "--name"));
	expect_error(r, "wrong_server", 1);
	/* Not the form of a name at all. */
	expect_error(do_register_for(f, &a, 2, "alice", &ia, PROTO_LABEL_REGISTER, "A B"),
		     "bad_request", 2);
	/* Every name of the server is good: its own, a proxy's (--name). */
	r = do_register_for(f, &a, 3, "alice", &ia, PROTO_LABEL_REGISTER, "proxy.example:443");
	expect_ok(r, 3);
	cJSON_Delete(r);

	/* auth: the name must match what was signed. */
	open_session(f, &s, 2);
	session_sig(&s, &ia, PROTO_LABEL_AUTH, "proxy.example:443", NULL, 0, sg);
	expect_error(call(f, &s,
			  "{\"id\":1,\"type\":\"auth\",\"user\":\"alice\",\"deviceId\":1,"
			  "\"server\":\"" SERVER_NAME "\",\"signature\":\"%s\"}",
			  sg),
		     "bad_signature", 1);
	expect_error(do_auth_for(f, &s, 2, "alice", 1, &ia, "localhost:8700", NULL, 0),
		     "wrong_server", 2);
	/* The old form: the challenge alone under chat-auth-v1, no server. */
	{
		uint8_t sig[64];
		char old[100];

		assert_int_equal(
			e2e_sign_challenge(sig, "chat-auth-v1", s.challenge, 32, ia.sign_sk), 0);
		b64(sig, 64, old, sizeof old);
		r = call(f, &s,
			 "{\"id\":3,\"type\":\"auth\",\"user\":\"alice\",\"deviceId\":1,"
			 "\"signature\":\"%s\"}",
			 old);
		e = cJSON_GetObjectItemCaseSensitive(r, "error");
		assert_non_null(strstr(str(e, "message"), "update the client"));
		expect_error(r, "bad_request", 3);
	}

	/* Over TLS the connection's binding is signed too: a signature made on
	 * another TLS connection (a relay's), or made without one, fails. */
	for (int i = 0; i < 32; i++)
		s.binding[i] = (uint8_t)(0xa0 + i);
	s.binding_len = 32;
	memcpy(other, s.binding, 32);
	other[7] ^= 0x10;
	expect_error(do_auth_for(f, &s, 4, "alice", 1, &ia, SERVER_NAME, other, 32),
		     "bad_signature", 4);
	expect_error(do_auth_for(f, &s, 5, "alice", 1, &ia, SERVER_NAME, NULL, 0), "bad_signature",
		     5);
	assert_false(s.authed);
	r = do_auth_for(f, &s, 6, "alice", 1, &ia, SERVER_NAME, s.binding, 32);
	expect_ok(r, 6);
	cJSON_Delete(r);
	assert_true(s.authed);

	/* linkDevice too: for another server, and over another TLS connection. */
	open_session(f, &l, 3);
	for (int i = 0; i < 32; i++)
		l.binding[i] = (uint8_t)i;
	l.binding_len = 32;
	{
		char ik[64], xk[64], xs[100], mac[64];

		b64(ip.sign_pk, 32, ik, sizeof ik);
		b64(ip.x_pk, 32, xk, sizeof xk);
		b64(ip.x_sig, 64, xs, sizeof xs);
		fake_mac(&ip, mac);
		session_sig(&l, &ip, PROTO_LABEL_LINK, SERVER_NAME, other, 32, sg);
		expect_error(call(f, &l,
				  "{\"id\":1,\"type\":\"linkDevice\",\"user\":\"alice\","
				  "\"identityKey\":\"%s\",\"exchangeKey\":\"%s\","
				  "\"exchangeKeySig\":\"%s\",\"linkMac\":\"%s\","
				  "\"server\":\"" SERVER_NAME "\",\"signature\":\"%s\"}",
				  ik, xk, xs, mac, sg),
			     "bad_signature", 1);
		session_sig(&l, &ip, PROTO_LABEL_LINK, "evil.example:1", l.binding, 32, sg);
		expect_error(call(f, &l,
				  "{\"id\":2,\"type\":\"linkDevice\",\"user\":\"alice\","
				  "\"identityKey\":\"%s\",\"exchangeKey\":\"%s\","
				  "\"exchangeKeySig\":\"%s\",\"linkMac\":\"%s\","
				  "\"server\":\"evil.example:1\",\"signature\":\"%s\"}",
				  ik, xk, xs, mac, sg),
			     "wrong_server", 2);
	}
	r = do_link(f, &l, 3, "alice", &ip, PROTO_LABEL_LINK);
	expect_ok(r, 3);
	cJSON_Delete(r);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ip);
}

/* --test-link-swap: the server plays the attacker, and hands out keys of its
 * own under the new device's MAC. (What the approving device makes of that
 * is libchat's: tests/integration/link-swap.sh.) */
static void
test_link_swap_hook(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ip;
	struct session a, p;
	char b64k[100];
	cJSON *r, *u;

	registered(f, &a, 1, "alice", &ia);
	f->hooks.test_link_swap = 1;
	assert_int_equal(e2e_identity_generate(&ip), 0);
	open_session(f, &p, 2);
	r = do_link(f, &p, 1, "alice", &ip, PROTO_LABEL_LINK);
	expect_ok(r, 1);
	cJSON_Delete(r);
	r = call(f, &a, "{\"id\":2,\"type\":\"getLink\"}");
	u = cJSON_GetArrayItem(requests(r), 0);
	b64(ip.sign_pk, 32, b64k, sizeof b64k);
	assert_string_not_equal(str(u, "identityKey"), b64k);
	fake_mac(&ip, b64k);
	assert_string_equal(str(u, "linkMac"), b64k);
	cJSON_Delete(r);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ip);
}

static void
test_remove_device(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ip;
	struct session a, p, a2;
	cJSON *r;

	registered(f, &a, 1, "alice", &ia);
	assert_int_equal(linked_device(f, &a, &ia, &p, 2, &ip), 2);
	expect_error(call(f, &a, "{\"id\":2,\"type\":\"removeDevice\",\"deviceId\":7}"),
		     "unknown_device", 2);
	expect_error(call(f, &a, "{\"id\":3,\"type\":\"removeDevice\",\"deviceId\":0}"),
		     "bad_request", 3);
	assert_int_equal(f->n_removed, 0);
	r = call(f, &p, "{\"id\":4,\"type\":\"removeDevice\",\"deviceId\":1}");
	expect_ok(r, 4);
	assert_true(num(r, "deviceId") == 1);
	cJSON_Delete(r);
	assert_int_equal(f->n_removed, 1);
	assert_string_equal(f->removed_user, "alice");
	assert_int_equal(f->removed_device, 1);
	assert_ptr_equal(f->removed_by, &p);
	/* The removed device cannot authenticate; it is unknown. */
	open_session(f, &a2, 3);
	expect_error(do_auth(f, &a2, 1, "alice", 1, &ia), "unknown_device", 1);
	expect_error(do_register(f, &a2, 2, "alice", &ia, PROTO_LABEL_REGISTER), "user_exists", 2);
	/* A device removes itself: the hook is told it was by itself. */
	r = call(f, &p, "{\"id\":5,\"type\":\"removeDevice\",\"deviceId\":2}");
	expect_ok(r, 5);
	cJSON_Delete(r);
	assert_ptr_equal(f->removed_by, &p);
	assert_int_equal(f->removed_device, 2);
	expect_error(call(f, &p, "{\"id\":6,\"type\":\"removeDevice\",\"deviceId\":2}"),
		     "unknown_device", 6);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ip);
}

/*
 * Registrations per address (issue 10, item 12): a new user is refused with
 * too_many_registrations (and retryAfterMs) when the address's bucket is
 * empty, and counted when made; a retry of a registration that was made is
 * not a new user and goes through.
 */
static void
test_register_rate(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib;
	struct session a, a2, b;
	const cJSON *e;
	cJSON *r;

	f->hooks.register_wait = on_register_wait;
	f->hooks.register_rate = 10;
	registered(f, &a, 1, "alice", &ia);
	assert_int_equal(f->reg_taken, 1);
	f->reg_wait = 1500;
	assert_int_equal(e2e_identity_generate(&ib), 0);
	open_session(f, &b, 2);
	r = do_register(f, &b, 7, "bob", &ib, PROTO_LABEL_REGISTER);
	e = cJSON_GetObjectItem(r, "error");
	assert_true(num(e, "retryAfterMs") == 1500);
	assert_non_null(strstr(str(e, "message"), "at most 10 an hour"));
	expect_error(r, "too_many_registrations", 7);
	assert_int_equal(db_user_exists(f->db, "bob"), DB_NOT_FOUND);
	/* alice's registration again: answered as the first time. */
	open_session(f, &a2, 3);
	r = do_register(f, &a2, 8, "alice", &ia, PROTO_LABEL_REGISTER);
	expect_ok(r, 8);
	cJSON_Delete(r);
	assert_int_equal(f->reg_taken, 1);
	/* Room again: bob goes through, and is counted. */
	f->reg_wait = 0;
	r = do_register(f, &b, 9, "bob", &ib, PROTO_LABEL_REGISTER);
	expect_ok(r, 9);
	cJSON_Delete(r);
	assert_int_equal(f->reg_taken, 2);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
}

/* The first device's name in a getKeys reply about user, or NULL if null. */
static const char *
device_name(struct fixture *f, struct session *s, const char *user, cJSON **keep)
{
	const cJSON *u, *n;

	*keep = call(f, s, "{\"id\":91,\"type\":\"getKeys\",\"users\":[\"%s\"]}", user);
	expect_ok(*keep, 91);
	u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(*keep, "users"), 0);
	u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(u, "devices"), 0);
	n = cJSON_GetObjectItemCaseSensitive(u, "name");
	return cJSON_IsString(n) ? n->valuestring : NULL;
}

/*
 * Who sees what (issue 10, item 14): a user's device names and last seen go
 * to their contacts only, the users who share a chat with them in which they
 * took part (made it, added someone, sent a message). Making a chat with
 * someone does not make them show anything to you; a receipt (sent by
 * itself) does not count as taking part.
 */
static void
test_contacts_only(void **state)
{
	struct fixture *f = *state;
	struct e2e_identity ia, ib;
	struct session a, b;
	char chat[PROTO_CHAT_ID_LEN + 1];
	cJSON *r, *keep;

	registered(f, &a, 1, "alice", &ia);
	registered(f, &b, 2, "bob", &ib);
	assert_null(device_name(f, &a, "bob", &keep));
	cJSON_Delete(keep);
	assert_string_equal(device_name(f, &a, "alice", &keep), "test"); /* her own */
	cJSON_Delete(keep);

	/* alice writes to bob: she is his contact, he is not hers yet. */
	direct(f, &a, "bob", chat);
	r = send_env(f, &a, 2, chat, 1, envelope("bob", 16));
	expect_ok(r, 2);
	cJSON_Delete(r);
	assert_string_equal(device_name(f, &b, "alice", &keep), "test");
	cJSON_Delete(keep);
	assert_null(device_name(f, &a, "bob", &keep));
	cJSON_Delete(keep);
	r = call(f, &a, "{\"id\":3,\"type\":\"getLastSeen\",\"users\":[\"bob\"]}");
	expect_ok(r, 3);
	expect_seen(r, 0, "bob", -1, -1);
	cJSON_Delete(r);
	r = call(f, &b, "{\"id\":3,\"type\":\"getLastSeen\",\"users\":[\"alice\"]}");
	expect_ok(r, 3);
	expect_seen(r, 0, "alice", 1, 0);
	cJSON_Delete(r);
	/* bob's delivered receipt: still not taking part. */
	r = call(f, &b,
		 "{\"id\":4,\"type\":\"sendReceipt\",\"chatId\":\"%s\","
		 "\"receiptId\":\"%032x\",\"envelopes\":[%s]}",
		 chat, 77, envelope("alice", 16));
	expect_ok(r, 4);
	cJSON_Delete(r);
	assert_null(device_name(f, &a, "bob", &keep));
	cJSON_Delete(keep);
	/* bob answers: now each is the other's contact. */
	r = send_env(f, &b, 5, chat, 2, envelope("alice", 16));
	expect_ok(r, 5);
	cJSON_Delete(r);
	assert_string_equal(device_name(f, &a, "bob", &keep), "test");
	cJSON_Delete(keep);
	r = call(f, &a, "{\"id\":6,\"type\":\"getLastSeen\",\"users\":[\"bob\"]}");
	expect_ok(r, 6);
	expect_seen(r, 0, "bob", 1, 0);
	cJSON_Delete(r);
	e2e_identity_wipe(&ia);
	e2e_identity_wipe(&ib);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_and_auth, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_get_keys, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_link_flow, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_link_cap, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_session_binding, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_link_swap_hook, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_remove_device, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_register_rate, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_contacts_only, setup_wire, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
