/*
 * wire_accounts.c - accounts and devices (PROTOCOL.md, "Session" and
 * "Devices"): register, auth, getKeys; and a new device's linkDevice, the
 * approving device's getLink and approveLink, and removeDevice.
 *
 * A pending link request lives in the session of the connection that made
 * it (struct wire_link) and dies with it; the network layer lists them
 * (wire_hooks.list_links).
 */
#include "wire_req.h"

#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "proto.h"

/* ---- register and auth ------------------------------------------------- */

static void
reply_device(struct req *r)
{
	req_reply(r);
	j_str(&r->oom, r->reply, "user", r->s->user);
	j_int(&r->oom, r->reply, "deviceId", r->s->device_id);
}

/* s is now the device (user, device_id).  The caller ends a link request
 * s was waiting on. */
static void
session_become(struct session *s, const char *user, uint32_t device_id, const char *how)
{
	s->authed = 1;
	memcpy(s->user, user, strlen(user) + 1);
	s->device_id = device_id;
	srv_log("conn %llu auth device=%s/%u via=%s%s", (unsigned long long)s->conn_id, s->user,
		(unsigned)device_id, how, s->send_only ? " send-only" : "");
}

static void
become(struct req *r, const char *user, uint32_t device_id, const char *how)
{
	session_become(r->s, user, device_id, how);
	memset(&r->s->link, 0, sizeof r->s->link);
	if (r->h->authenticated)
		r->h->authenticated(r->h->udata, r->s);
}

/* The optional deviceName of register and linkDevice: 0 (*out NULL if
 * absent), or -1 with the request failed. */
static int
get_device_name(struct req *r, const char **out)
{
	const cJSON *name = req_field(r->msg, "deviceName");

	*out = NULL;
	if (name == NULL || cJSON_IsNull(name))
		return 0;
	if (!cJSON_IsString(name) || name->valuestring == NULL) {
		req_fail(r, "bad_request", "deviceName: must be a string");
		return -1;
	}
	if (strlen(name->valuestring) > PROTO_DEVICE_NAME_MAX) {
		req_fail(r, "too_large", "deviceName: at most %d bytes", PROTO_DEVICE_NAME_MAX);
		return -1;
	}
	*out = name->valuestring;
	return 0;
}

/*
 * The "server" of register, auth and linkDevice: the name of the server the
 * device was pointed at, which its signature covers (PROTOCOL.md, "Session").
 * It must be one of this server's names, or the device is talking to another
 * server that relays to this one. Returns it, or NULL with the request
 * failed. A request without it comes from a client that signs the old -v1
 * forms (the challenge alone, which a relay can reuse): it is told to update.
 */
static const char *
get_server_name(struct req *r)
{
	const cJSON *v = req_field(r->msg, "server");

	if (v == NULL) {
		req_fail(r, "bad_request",
			 "server: missing; this client signs the old chat-*-v1 forms, which "
			 "this server refuses: update the client (libchat, chatctl, chat-tui)");
		return NULL;
	}
	if (!cJSON_IsString(v) || !names_valid_form(v->valuestring)) {
		req_fail(r, "bad_request", "server: must be the server's host:port in lower case");
		return NULL;
	}
	if (r->h->names == NULL || !names_has(r->h->names, v->valuestring)) {
		req_fail(r, "wrong_server",
			 "this server is not %s; behind a proxy, start chat-server with --name "
			 "%s",
			 v->valuestring, v->valuestring);
		return NULL;
	}
	return v->valuestring;
}

/* 0 if sig is ik's signature under domain over this connection's challenge,
 * the server's name and the TLS binding; -1 with bad_signature (naming whose
 * key) otherwise. */
static int
check_session_sig(struct req *r, const char *domain, const char *server,
		  const uint8_t sig[PROTO_SIG_BYTES], const uint8_t ik[PROTO_KEY_BYTES],
		  const char *whose)
{
	if (e2e_verify_session(sig, domain, r->s->challenge, server, r->s->binding,
			       r->s->binding_len, ik) == 0)
		return 0;
	req_fail(r, "bad_signature",
		 "signature does not verify with %s over this connection's challenge, "
		 "server name and TLS binding",
		 whose);
	return -1;
}

/*
 * The keys of register and linkDevice, checked: the exchange key signed by
 * the identity key, and the session signed under domain.  0, or -1 with
 * the request failed.
 */
static int
get_new_keys(struct req *r, const char *domain, uint8_t ik[PROTO_KEY_BYTES],
	     uint8_t xk[PROTO_KEY_BYTES], uint8_t xsig[PROTO_SIG_BYTES])
{
	uint8_t sig[PROTO_SIG_BYTES];
	const char *server;

	if (req_bytes(r, r->msg, "identityKey", "identityKey", ik, PROTO_KEY_BYTES) ||
	    req_bytes(r, r->msg, "exchangeKey", "exchangeKey", xk, PROTO_KEY_BYTES) ||
	    req_bytes(r, r->msg, "exchangeKeySig", "exchangeKeySig", xsig, PROTO_SIG_BYTES) ||
	    req_bytes(r, r->msg, "signature", "signature", sig, sizeof sig) ||
	    (server = get_server_name(r)) == NULL)
		return -1;
	if (e2e_verify_exchange_key(ik, xk, xsig) != 0) {
		req_fail(r, "bad_signature",
			 "exchangeKeySig does not verify with "
			 "identityKey");
		return -1;
	}
	return check_session_sig(r, domain, server, sig, ik, "identityKey");
}

/*
 * Registrations per address (--register-rate): 0 if this one may go ahead,
 * else -1 with the request failed. A user that exists is let through (a
 * retry gets its first reply, another key user_exists): only new users
 * count.
 */
static int
register_allowed(struct req *r, const char *user)
{
	int64_t wait;
	cJSON *extra;

	if (r->h->register_wait == NULL || (wait = r->h->register_wait(r->h->udata, r->s, 0)) <= 0)
		return 0;
	switch (db_user_exists(r->h->db, user)) {
	case DB_OK: return 0;
	case DB_NOT_FOUND: break;
	default: req_internal(r); return -1;
	}
	extra = j_check(&r->oom, cJSON_CreateObject());
	j_int(&r->oom, extra, "retryAfterMs", wait);
	r->err_extra = extra;
	req_fail(r, "too_many_registrations",
		 "too many new users from your address (at most %.0f an hour); try again in %lld "
		 "s",
		 r->h->register_rate, (long long)(wait + 999) / 1000);
	return -1;
}

void
handle_register(struct req *r)
{
	char user[PROTO_USER_MAX + 1];
	uint8_t ik[PROTO_KEY_BYTES], xk[PROTO_KEY_BYTES], xsig[PROTO_SIG_BYTES];
	const char *name;
	uint32_t device_id = 0;
	int created;

	if (req_user(r, req_field(r->msg, "user"), "user", user) != 0 ||
	    get_device_name(r, &name) != 0 || get_new_keys(r, PROTO_LABEL_REGISTER, ik, xk, xsig) ||
	    register_allowed(r, user) != 0)
		return;
	switch (db_register(r->h->db, user, name, ik, xk, xsig, proto_now_ms(), &device_id,
			    &created)) {
	case DB_OK: break;
	case DB_EXISTS: req_fail(r, "user_exists", "user '%s' is taken", user); return;
	case DB_KEY_TAKEN:
		req_fail(r, "bad_request",
			 "identityKey: already registered to "
			 "another user");
		return;
	default: req_internal(r); return;
	}
	if (created && r->h->register_wait != NULL)
		(void)r->h->register_wait(r->h->udata, r->s, 1);
	become(r, user, device_id, created ? "register" : "register-retry");
	reply_device(r);
}

void
handle_auth(struct req *r)
{
	char user[PROTO_USER_MAX + 1];
	uint8_t ik[PROTO_KEY_BYTES], sig[PROTO_SIG_BYTES];
	char whose[PROTO_USER_MAX + 64];
	uint32_t device_id;
	const char *server;

	const cJSON *receive = req_field(r->msg, "receive");

	if (req_user(r, req_field(r->msg, "user"), "user", user) != 0 ||
	    req_device_id(r, r->msg, "deviceId", &device_id) != 0 ||
	    req_bytes(r, r->msg, "signature", "signature", sig, sizeof sig) != 0)
		return;
	if (receive != NULL && !cJSON_IsBool(receive)) {
		req_fail(r, "bad_request", "receive: must be true or false");
		return;
	}
	if ((server = get_server_name(r)) == NULL)
		return;
	switch (db_device_identity(r->h->db, user, device_id, ik)) {
	case DB_OK: break;
	case DB_NOT_FOUND:
		req_fail(r, "unknown_device", "no device %s/%u", user, (unsigned)device_id);
		return;
	default: req_internal(r); return;
	}
	snprintf(whose, sizeof whose, "the identity key of %s/%u", user, (unsigned)device_id);
	if (check_session_sig(r, PROTO_LABEL_AUTH, server, sig, ik, whose) != 0)
		return;
	if (db_touch_device(r->h->db, user, device_id, proto_now_ms()) != DB_OK) {
		req_internal(r);
		return;
	}
	r->s->send_only = cJSON_IsFalse(receive);
	become(r, user, device_id, "auth");
	reply_device(r);
	(void)wire_auth_blocked(r);
}

/* ---- getKeys ----------------------------------------------------------- */

static void
add_device(int *oom, cJSON *arr, const struct db_device *d, int show_name)
{
	cJSON *o = j_obj_in_array(oom, arr);

	j_int(oom, o, "deviceId", d->device_id);
	if (d->has_name && show_name)
		j_str(oom, o, "name", d->name);
	else
		j_check(oom, cJSON_AddNullToObject(o, "name"));
	j_b64(oom, o, "identityKey", d->identity_key, PROTO_KEY_BYTES);
	j_b64(oom, o, "exchangeKey", d->exchange_key, PROTO_KEY_BYTES);
	j_b64(oom, o, "exchangeKeySig", d->exchange_key_sig, PROTO_SIG_BYTES);
	j_opt_b64(oom, o, "approverKey", d->approved ? d->approver_key : NULL, PROTO_KEY_BYTES);
	j_opt_b64(oom, o, "approval", d->approved ? d->approval : NULL, PROTO_SIG_BYTES);
}

void
handle_get_keys(struct req *r)
{
	char names[PROTO_MAX_GETKEYS][PROTO_USER_MAX + 1];
	struct db_device devs[PROTO_MAX_DEVICES];
	const cJSON *users = req_array(r, "users", PROTO_MAX_GETKEYS);
	cJSON *out;
	size_t n = 0, i, nd, k;

	/* A name asked twice is answered once. */
	if (users == NULL || req_users(r, users, "users", names, &n, PROTO_MAX_GETKEYS, 1) != 0)
		return;
	req_reply(r);
	out = j_check(&r->oom, cJSON_AddArrayToObject(r->reply, "users"));
	for (i = 0; i < n && !req_failed(r); i++) {
		cJSON *u;
		int contact;

		switch (db_user_devices(r->h->db, names[i], devs, PROTO_MAX_DEVICES, &nd)) {
		case DB_OK: break;
		case DB_NOT_FOUND:
			req_fail(r, "unknown_user", "no user named '%s'", names[i]);
			return;
		default: req_internal(r); return;
		}
		/* Device names are for contacts only (PROTOCOL.md, "getKeys"). */
		if ((contact = req_contact(r, names[i])) < 0)
			return;
		u = j_obj_in_array(&r->oom, out);
		j_str(&r->oom, u, "user", names[i]);
		u = j_check(&r->oom, cJSON_AddArrayToObject(u, "devices"));
		for (k = 0; k < nd; k++)
			add_device(&r->oom, u, &devs[k], contact);
	}
}

/* ---- devices ----------------------------------------------------------- */

static void
fail_too_many(struct req *r, const char *user)
{
	req_fail(r, "too_many_devices",
		 "%s has %d devices, the most a user may have; remove one with "
		 "`chatctl device remove DEVICE` first",
		 user, PROTO_MAX_DEVICES);
}

static void
fail_key_taken(struct req *r)
{
	req_fail(r, "bad_request", "identityKey: already registered to another device");
}

/* Test only (--test-link-swap): what a hostile server would do to a link
 * request: keep its MAC, and put keys of its own (validly signed) in place
 * of the new device's. The approving device must notice. */
static int
swap_link_keys(struct wire_link *l)
{
	struct e2e_identity id;

	if (e2e_identity_generate(&id) != 0)
		return -1;
	memcpy(l->identity_key, id.sign_pk, sizeof l->identity_key);
	memcpy(l->exchange_key, id.x_pk, sizeof l->exchange_key);
	memcpy(l->exchange_key_sig, id.x_sig, sizeof l->exchange_key_sig);
	e2e_identity_wipe(&id);
	return 0;
}

/* Other requests to join user than the one of session self or for key ik
 * (the newest request for a key replaces the others): at most
 * PROTO_MAX_LINKS may wait at once, so that the approving device has few
 * MACs to try and the list stays short. */
static size_t
other_links(struct req *r, const char *user, const uint8_t ik[PROTO_KEY_BYTES], int64_t now)
{
	struct session *w[PROTO_MAX_LINKS + 2];
	size_t n, i, others = 0;

	if (r->h->list_links == NULL)
		return 0;
	n = r->h->list_links(r->h->udata, user, now, w, sizeof w / sizeof *w);
	for (i = 0; i < n && i < sizeof w / sizeof *w; i++)
		if (w[i] != r->s && memcmp(w[i]->link.identity_key, ik, PROTO_KEY_BYTES) != 0)
			others++;
	return others + (n > i ? n - i : 0);
}

void
handle_link_device(struct req *r)
{
	struct wire_link *l = &r->s->link;
	char user[PROTO_USER_MAX + 1];
	uint8_t ik[PROTO_KEY_BYTES], xk[PROTO_KEY_BYTES], xsig[PROTO_SIG_BYTES];
	uint8_t mac[PROTO_LINK_MAC_BYTES];
	const char *name;
	int64_t now;

	if (req_user(r, req_field(r->msg, "user"), "user", user) != 0 ||
	    get_device_name(r, &name) != 0 ||
	    req_bytes(r, r->msg, "linkMac", "linkMac", mac, sizeof mac) != 0 ||
	    get_new_keys(r, PROTO_LABEL_LINK, ik, xk, xsig))
		return;
	switch (db_link_check(r->h->db, user, ik)) {
	case DB_OK: break;
	case DB_NOT_FOUND: req_fail(r, "unknown_user", "no user named '%s'", user); return;
	case DB_TOO_MANY: fail_too_many(r, user); return;
	case DB_KEY_TAKEN: fail_key_taken(r); return;
	default: req_internal(r); return;
	}
	now = proto_now_ms();
	if (other_links(r, user, ik, now) >= PROTO_MAX_LINKS) {
		req_fail(r, "too_many_links",
			 "%d devices are waiting to join %s, the most at once; approve one, or "
			 "try again when one has gone (10 minutes at most)",
			 PROTO_MAX_LINKS, user);
		return;
	}
	/* A request made again on this connection replaces the first. */
	memset(l, 0, sizeof *l);
	l->pending = 1;
	l->created_at = now;
	l->expires_at = now + PROTO_LINK_LIFETIME_MS;
	memcpy(l->user, user, sizeof l->user);
	l->has_name = name != NULL;
	if (name != NULL)
		memcpy(l->name, name, strlen(name) + 1);
	memcpy(l->identity_key, ik, sizeof ik);
	memcpy(l->exchange_key, xk, sizeof xk);
	memcpy(l->exchange_key_sig, xsig, sizeof xsig);
	memcpy(l->link_mac, mac, sizeof mac);
	if (r->h->test_link_swap && swap_link_keys(l) != 0) {
		memset(l, 0, sizeof *l);
		req_internal(r);
		return;
	}
	srv_log("conn %llu link request user=%s", (unsigned long long)r->s->conn_id, user);
	req_reply(r);
	j_int(&r->oom, r->reply, "expiresAt", l->expires_at);
}

static void
add_link(int *oom, cJSON *arr, const struct wire_link *l)
{
	cJSON *o = j_obj_in_array(oom, arr);

	j_opt_str(oom, o, "deviceName", l->has_name ? l->name : NULL);
	j_b64(oom, o, "identityKey", l->identity_key, PROTO_KEY_BYTES);
	j_b64(oom, o, "exchangeKey", l->exchange_key, PROTO_KEY_BYTES);
	j_b64(oom, o, "exchangeKeySig", l->exchange_key_sig, PROTO_SIG_BYTES);
	j_b64(oom, o, "linkMac", l->link_mac, PROTO_LINK_MAC_BYTES);
	j_int(oom, o, "expiresAt", l->expires_at);
}

/* The requests waiting to join this device's user, with their keys and
 * MACs: the device finds the one whose MAC the code a person typed makes.
 * The server cannot, for it never sees the code. */
void
handle_get_link(struct req *r)
{
	struct session *w[PROTO_MAX_LINKS + 2];
	size_t n = 0, i;
	cJSON *arr;

	if (r->h->list_links != NULL)
		n = r->h->list_links(r->h->udata, r->s->user, proto_now_ms(), w,
				     sizeof w / sizeof *w);
	req_reply(r);
	j_str(&r->oom, r->reply, "user", r->s->user);
	arr = j_check(&r->oom, cJSON_AddArrayToObject(r->reply, "requests"));
	for (i = 0; i < n && i < sizeof w / sizeof *w; i++)
		add_link(&r->oom, arr, &w[i]->link);
}

/* The session waiting with the request of this device's user for the
 * identity key in the request's "identityKey", or NULL with the request
 * failed. */
static struct session *
find_request(struct req *r)
{
	struct session *w[PROTO_MAX_LINKS + 2];
	uint8_t ik[PROTO_KEY_BYTES];
	size_t n = 0, i;

	if (req_bytes(r, r->msg, "identityKey", "identityKey", ik, sizeof ik) != 0)
		return NULL;
	if (r->h->list_links != NULL)
		n = r->h->list_links(r->h->udata, r->s->user, proto_now_ms(), w,
				     sizeof w / sizeof *w);
	for (i = 0; i < n && i < sizeof w / sizeof *w; i++)
		if (memcmp(w[i]->link.identity_key, ik, sizeof ik) == 0)
			return w[i];
	req_fail(r, "no_such_link",
		 "no device with this identityKey is waiting to join %s: its request has "
		 "expired, or its device has gone",
		 r->s->user);
	return NULL;
}

void
handle_approve_link(struct req *r)
{
	uint8_t approval[PROTO_SIG_BYTES], approver[PROTO_KEY_BYTES];
	struct db_new_device d;
	struct session *w;
	uint32_t device_id;

	if ((w = find_request(r)) == NULL ||
	    req_bytes(r, r->msg, "approval", "approval", approval, sizeof approval) != 0)
		return;
	switch (db_device_identity(r->h->db, r->s->user, r->s->device_id, approver)) {
	case DB_OK: break;
	case DB_NOT_FOUND:
		req_fail(r, "unknown_device", "this device, %s/%u, has been removed", r->s->user,
			 (unsigned)r->s->device_id);
		return;
	default: req_internal(r); return;
	}
	if (e2e_verify_device(approval, w->link.user, w->link.identity_key, w->link.exchange_key,
			      approver) != 0) {
		req_fail(r, "bad_signature",
			 "approval does not verify with the identity key of %s/%u over "
			 "the new device's keys",
			 r->s->user, (unsigned)r->s->device_id);
		return;
	}
	d = (struct db_new_device){
		.user = w->link.user,
		.name = w->link.has_name ? w->link.name : NULL,
		.identity_key = w->link.identity_key,
		.exchange_key = w->link.exchange_key,
		.exchange_key_sig = w->link.exchange_key_sig,
		.approver_key = approver,
		.approval = approval,
		.now = proto_now_ms(),
	};
	switch (db_link_device(r->h->db, &d, &device_id)) {
	case DB_OK: break;
	case DB_TOO_MANY: fail_too_many(r, w->link.user); return;
	case DB_KEY_TAKEN: fail_key_taken(r); return;
	case DB_NOT_FOUND: req_fail(r, "unknown_user", "no user named '%s'", w->link.user); return;
	default: req_internal(r); return;
	}
	srv_log("conn %llu link approved device=%s/%u by=%s/%u conn=%llu",
		(unsigned long long)r->s->conn_id, r->s->user, (unsigned)device_id, r->s->user,
		(unsigned)r->s->device_id, (unsigned long long)w->conn_id);
	session_become(w, r->s->user, device_id, "link");
	/* The request is still there for the hook to see its keys. */
	if (r->h->linked)
		r->h->linked(r->h->udata, w);
	memset(&w->link, 0, sizeof w->link);
	req_reply(r);
	j_str(&r->oom, r->reply, "user", r->s->user);
	j_int(&r->oom, r->reply, "deviceId", device_id);
}

void
handle_remove_device(struct req *r)
{
	uint32_t device_id;

	if (req_device_id(r, r->msg, "deviceId", &device_id) != 0)
		return;
	switch (db_remove_device(r->h->db, r->s->user, device_id, proto_now_ms())) {
	case DB_OK: break;
	case DB_NOT_FOUND:
		req_fail(r, "unknown_device", "no device %s/%u", r->s->user, (unsigned)device_id);
		return;
	default: req_internal(r); return;
	}
	srv_log("conn %llu device removed device=%s/%u by=%s/%u", (unsigned long long)r->s->conn_id,
		r->s->user, (unsigned)device_id, r->s->user, (unsigned)r->s->device_id);
	if (r->h->device_removed)
		r->h->device_removed(r->h->udata, r->s->user, device_id, r->s);
	req_reply(r);
	j_int(&r->oom, r->reply, "deviceId", device_id);
}
