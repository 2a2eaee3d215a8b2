/*
 * wire.c - chat-server's request layer (see wire.h).
 *
 * Each request type has one handler.  A handler reads and checks its fields
 * in the order they appear in PROTOCOL.md, then calls the store, and either
 * fills the reply object or records an error with req_fail().  wire_handle()
 * turns either into the one reply frame.
 */
#include "wire.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "blob.h"
#include "crypto.h"
#include "proto.h"

/* One request being handled. */
struct req {
	const struct wire_hooks *h;
	struct session *s;
	const cJSON *msg;
	int has_id;
	int64_t id;
	const char *type;
	cJSON *reply;         /* the "ok" reply, built by the handler */
	const char *err_code; /* set by req_fail() */
	char err_msg[200];
	cJSON *err_extra; /* extra members of "error" (device_mismatch) */
	int oom;          /* a cJSON allocation failed */
};

typedef void handler_fn(struct req *r);

/* ---- JSON building ------------------------------------------------------
 *
 * cJSON's Add functions return NULL when out of memory (or when the parent
 * is NULL because its own creation failed).  These wrappers note that in
 * *oom so the builders read straight through and check once at the end. */

static cJSON *
j_check(int *oom, cJSON *item)
{
	if (item == NULL)
		*oom = 1;
	return item;
}

static void
j_str(int *oom, cJSON *o, const char *k, const char *v)
{
	j_check(oom, cJSON_AddStringToObject(o, k, v));
}

/*
 * Every number in the protocol is an integer.  They are written as raw
 * decimal text because cJSON prints doubles with 15 significant digits when
 * that reads back "close enough", which turns an id of 2^53 into
 * 9007199254740990.
 */
static void
j_int(int *oom, cJSON *o, const char *k, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%" PRId64, v);
	j_check(oom, cJSON_AddRawToObject(o, k, buf));
}

/* Binary values up to a signature's size, encoded on the stack. */
static void
j_b64(int *oom, cJSON *o, const char *k, const uint8_t *bin, size_t len)
{
	char b64[sodium_base64_ENCODED_LEN(PROTO_SIG_BYTES, sodium_base64_VARIANT_ORIGINAL)];

	if (len > PROTO_SIG_BYTES) {
		*oom = 1; /* a programming error; refuse rather than overflow */
		return;
	}
	sodium_bin2base64(b64, sizeof b64, bin, len, sodium_base64_VARIANT_ORIGINAL);
	j_str(oom, o, k, b64);
}

/* Base64, or null when bin is NULL. */
static void
j_opt_b64(int *oom, cJSON *o, const char *k, const uint8_t *bin, size_t len)
{
	if (bin != NULL)
		j_b64(oom, o, k, bin, len);
	else
		j_check(oom, cJSON_AddNullToObject(o, k));
}

/* A string, or null when v is NULL. */
static void
j_opt_str(int *oom, cJSON *o, const char *k, const char *v)
{
	if (v != NULL)
		j_str(oom, o, k, v);
	else
		j_check(oom, cJSON_AddNullToObject(o, k));
}

static cJSON *
j_obj_in_array(int *oom, cJSON *arr)
{
	cJSON *o = j_check(oom, cJSON_CreateObject());

	if (o != NULL && !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		*oom = 1;
		return NULL;
	}
	return o;
}

static void
j_str_in_array(int *oom, cJSON *arr, const char *v)
{
	cJSON *s = j_check(oom, cJSON_CreateString(v));

	if (s != NULL && !cJSON_AddItemToArray(arr, s)) {
		cJSON_Delete(s);
		*oom = 1;
	}
}

/* An array of names under k. */
static void
j_names(int *oom, cJSON *o, const char *k, const char (*names)[PROTO_USER_MAX + 1], size_t n)
{
	cJSON *arr = j_check(oom, cJSON_AddArrayToObject(o, k));
	size_t i;

	for (i = 0; i < n && arr != NULL; i++)
		j_str_in_array(oom, arr, names[i]);
}

/* Print and free root; NULL if anything failed along the way. */
static char *
j_finish(int oom, cJSON *root)
{
	char *text = NULL;

	if (!oom && root != NULL)
		text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

/* ---- errors ------------------------------------------------------------ */

static void req_fail(struct req *r, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
req_fail(struct req *r, const char *code, const char *fmt, ...)
{
	va_list ap;

	r->err_code = code;
	va_start(ap, fmt);
	vsnprintf(r->err_msg, sizeof r->err_msg, fmt, ap);
	va_end(ap);
}

static int
failed(const struct req *r)
{
	return r->err_code != NULL || r->oom;
}

static const char *
session_device(const struct session *s, char *buf, size_t cap)
{
	if (!s->authed)
		return "-";
	snprintf(buf, cap, "%s/%u", s->user, (unsigned)s->device_id);
	return buf;
}

static char *
error_frame(const struct session *s, int has_id, int64_t id, const char *code, const char *message,
	    cJSON *extra, int log)
{
	cJSON *root = cJSON_CreateObject(), *err;
	char idbuf[32], dev[PROTO_USER_MAX + 16];
	int oom = root == NULL;

	if (has_id) {
		snprintf(idbuf, sizeof idbuf, "%" PRId64, id);
		j_int(&oom, root, "id", id);
	} else {
		snprintf(idbuf, sizeof idbuf, "null");
		j_check(&oom, cJSON_AddNullToObject(root, "id"));
	}
	j_check(&oom, cJSON_AddFalseToObject(root, "ok"));
	err = j_check(&oom, cJSON_AddObjectToObject(root, "error"));
	j_str(&oom, err, "code", code);
	j_str(&oom, err, "message", message);
	if (extra != NULL) {
		cJSON *item = extra->child;

		/* Move extra's members into "error". */
		while (item != NULL) {
			cJSON *next = item->next;

			cJSON_DetachItemViaPointer(extra, item);
			if (err == NULL || !cJSON_AddItemToObject(err, item->string, item)) {
				cJSON_Delete(item);
				oom = 1;
			}
			item = next;
		}
		cJSON_Delete(extra);
	}
	/* Messages name fields and validated user names only, never values
	 * from the frame: nothing in the log can come from a ciphertext. */
	if (log)
		srv_log("conn %llu error id=%s code=%s device=%s: %s",
			(unsigned long long)s->conn_id, idbuf, code,
			session_device(s, dev, sizeof dev), message);
	return j_finish(oom, root);
}

char *
wire_frame_error(const struct session *s, const char *code, const char *message)
{
	return error_frame(s, 0, 0, code, message, NULL, 1);
}

/* ---- reading fields -----------------------------------------------------
 *
 * Each getter returns the value, or fails the request with bad_request
 * (naming the field as `where`) and returns NULL / -1. */

static const cJSON *
field(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static const char *
get_string(struct req *r, const cJSON *o, const char *name, const char *where)
{
	const cJSON *v = field(o, name);

	if (!cJSON_IsString(v) || v->valuestring == NULL) {
		req_fail(r, "bad_request", "%s: %s", where, v ? "must be a string" : "missing");
		return NULL;
	}
	return v->valuestring;
}

/* A user name; invalid_user when it is a string of the wrong form. */
static int
check_user(struct req *r, const cJSON *v, const char *where, char out[PROTO_USER_MAX + 1])
{
	if (!cJSON_IsString(v) || v->valuestring == NULL) {
		req_fail(r, "bad_request", "%s: %s", where, v ? "must be a string" : "missing");
		return -1;
	}
	if (!proto_valid_user(v->valuestring)) {
		req_fail(r, "invalid_user", "%s: not a valid user name (" PROTO_USER_FORM ")",
			 where);
		return -1;
	}
	memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

static int
get_device_id(struct req *r, const cJSON *o, const char *where, uint32_t *out)
{
	const cJSON *v = field(o, "deviceId");

	if (v == NULL) {
		req_fail(r, "bad_request", "%s: missing", where);
		return -1;
	}
	if (!cJSON_IsNumber(v) || !proto_is_integer(v->valuedouble, 1, PROTO_DEVICE_ID_MAX)) {
		req_fail(r, "bad_request", "%s: must be an integer from 1 to %ld", where,
			 PROTO_DEVICE_ID_MAX);
		return -1;
	}
	*out = (uint32_t)v->valuedouble;
	return 0;
}

/* Base64 of exactly len bytes. */
static int
get_bytes(struct req *r, const cJSON *o, const char *name, const char *where, uint8_t *out,
	  size_t len)
{
	const char *s = get_string(r, o, name, where);
	size_t n;

	if (s == NULL)
		return -1;
	if (proto_b64_decode(s, out, len, &n) != 0 || n != len) {
		req_fail(r, "bad_request", "%s: must be %zu bytes in base64", where, len);
		return -1;
	}
	return 0;
}

static int
get_hex(struct req *r, const cJSON *o, const char *name, size_t len, char *out)
{
	const char *s = get_string(r, o, name, name);

	if (s == NULL)
		return -1;
	if (!proto_valid_hex(s, len)) {
		req_fail(r, "bad_request", "%s: must be %zu lowercase hex digits", name, len);
		return -1;
	}
	memcpy(out, s, len + 1);
	return 0;
}

/* An array of at most max items (too_large beyond). */
static const cJSON *
get_array(struct req *r, const char *name, int max)
{
	const cJSON *v = field(r->msg, name);

	if (!cJSON_IsArray(v)) {
		req_fail(r, "bad_request", "%s: %s", name, v ? "must be an array" : "missing");
		return NULL;
	}
	if (cJSON_GetArraySize(v) > max) {
		req_fail(r, "too_large", "%s: at most %d items", name, max);
		return NULL;
	}
	return v;
}

static void
fail_internal(struct req *r)
{
	req_fail(r, "internal", "the server's database failed; try again");
}

/* ---- register and auth ------------------------------------------------- */

/* The "ok" reply: id and ok first, as PROTOCOL.md writes them, for people
 * reading frames; the handler adds the rest. */
static void
start_reply(struct req *r)
{
	r->reply = j_check(&r->oom, cJSON_CreateObject());
	j_int(&r->oom, r->reply, "id", r->id);
	j_check(&r->oom, cJSON_AddTrueToObject(r->reply, "ok"));
}

static void
reply_device(struct req *r)
{
	start_reply(r);
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
	const cJSON *name = field(r->msg, "deviceName");

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
	const cJSON *v = field(r->msg, "server");

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

	if (get_bytes(r, r->msg, "identityKey", "identityKey", ik, PROTO_KEY_BYTES) ||
	    get_bytes(r, r->msg, "exchangeKey", "exchangeKey", xk, PROTO_KEY_BYTES) ||
	    get_bytes(r, r->msg, "exchangeKeySig", "exchangeKeySig", xsig, PROTO_SIG_BYTES) ||
	    get_bytes(r, r->msg, "signature", "signature", sig, sizeof sig) ||
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
	default: fail_internal(r); return -1;
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

static void
handle_register(struct req *r)
{
	char user[PROTO_USER_MAX + 1];
	uint8_t ik[PROTO_KEY_BYTES], xk[PROTO_KEY_BYTES], xsig[PROTO_SIG_BYTES];
	const char *name;
	uint32_t device_id = 0;
	int created;

	if (check_user(r, field(r->msg, "user"), "user", user) != 0 ||
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
	default: fail_internal(r); return;
	}
	if (created && r->h->register_wait != NULL)
		(void)r->h->register_wait(r->h->udata, r->s, 1);
	become(r, user, device_id, created ? "register" : "register-retry");
	reply_device(r);
}

static void
handle_auth(struct req *r)
{
	char user[PROTO_USER_MAX + 1];
	uint8_t ik[PROTO_KEY_BYTES], sig[PROTO_SIG_BYTES];
	char whose[PROTO_USER_MAX + 64];
	uint32_t device_id;
	const char *server;

	const cJSON *receive = field(r->msg, "receive");

	if (check_user(r, field(r->msg, "user"), "user", user) != 0 ||
	    get_device_id(r, r->msg, "deviceId", &device_id) != 0 ||
	    get_bytes(r, r->msg, "signature", "signature", sig, sizeof sig) != 0)
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
	default: fail_internal(r); return;
	}
	snprintf(whose, sizeof whose, "the identity key of %s/%u", user, (unsigned)device_id);
	if (check_session_sig(r, PROTO_LABEL_AUTH, server, sig, ik, whose) != 0)
		return;
	if (db_touch_device(r->h->db, user, device_id, proto_now_ms()) != DB_OK) {
		fail_internal(r);
		return;
	}
	r->s->send_only = cJSON_IsFalse(receive);
	become(r, user, device_id, "auth");
	reply_device(r);
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

/* 1 if name is among the first n of names. */
static int
seen(char (*names)[PROTO_USER_MAX + 1], size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			return 1;
	}
	return 0;
}

/* 1 if subject is a contact of this device's user (db_is_contact), 0 if
 * not, -1 with the request failed. */
static int
contact_of(struct req *r, const char *subject)
{
	switch (db_is_contact(r->h->db, r->s->user, subject)) {
	case DB_OK: return 1;
	case DB_NOT_FOUND: return 0;
	default: fail_internal(r); return -1;
	}
}

static void
handle_get_keys(struct req *r)
{
	char names[PROTO_MAX_GETKEYS][PROTO_USER_MAX + 1];
	struct db_device devs[PROTO_MAX_DEVICES];
	const cJSON *users = get_array(r, "users", PROTO_MAX_GETKEYS), *v;
	cJSON *out;
	size_t n = 0, i, nd, k;
	char where[32];

	if (users == NULL)
		return;
	i = 0;
	cJSON_ArrayForEach(v, users) {
		snprintf(where, sizeof where, "users[%zu]", i++);
		if (check_user(r, v, where, names[n]) != 0)
			return;
		/* A name asked twice is answered once. */
		if (!seen(names, n, names[n]))
			n++;
	}
	start_reply(r);
	out = j_check(&r->oom, cJSON_AddArrayToObject(r->reply, "users"));
	for (i = 0; i < n && !failed(r); i++) {
		cJSON *u;
		int contact;

		switch (db_user_devices(r->h->db, names[i], devs, PROTO_MAX_DEVICES, &nd)) {
		case DB_OK: break;
		case DB_NOT_FOUND:
			req_fail(r, "unknown_user", "no user named '%s'", names[i]);
			return;
		default: fail_internal(r); return;
		}
		/* Device names are for contacts only (PROTOCOL.md, "getKeys"). */
		if ((contact = contact_of(r, names[i])) < 0)
			return;
		u = j_obj_in_array(&r->oom, out);
		j_str(&r->oom, u, "user", names[i]);
		u = j_check(&r->oom, cJSON_AddArrayToObject(u, "devices"));
		for (k = 0; k < nd; k++)
			add_device(&r->oom, u, &devs[k], contact);
	}
}

/* ---- last seen --------------------------------------------------------- */

static void
handle_get_last_seen(struct req *r)
{
	char names[PROTO_MAX_LAST_SEEN][PROTO_USER_MAX + 1];
	const cJSON *users = get_array(r, "users", PROTO_MAX_LAST_SEEN), *v;
	cJSON *out;
	size_t n = 0, i;
	int self_hide, hide, contact;
	int64_t last;
	char where[32];

	if (users == NULL)
		return;
	if (cJSON_GetArraySize(users) < 1) {
		req_fail(r, "bad_request", "users: at least 1 item");
		return;
	}
	cJSON_ArrayForEach(v, users) {
		snprintf(where, sizeof where, "users[%zu]", n);
		if (check_user(r, v, where, names[n]) != 0)
			return;
		n++;
	}
	switch (db_last_seen(r->h->db, r->s->user, &self_hide, &last)) {
	case DB_OK: break;
	default: fail_internal(r); return;
	}
	start_reply(r);
	out = j_check(&r->oom, cJSON_AddArrayToObject(r->reply, "users"));
	for (i = 0; i < n && !failed(r); i++) {
		int own = strcmp(names[i], r->s->user) == 0;
		cJSON *u;

		switch (db_last_seen(r->h->db, names[i], &hide, &last)) {
		case DB_OK: break;
		case DB_NOT_FOUND:
			req_fail(r, "unknown_user", "no user named '%s'", names[i]);
			return;
		default: fail_internal(r); return;
		}
		if ((contact = contact_of(r, names[i])) < 0)
			return;
		u = j_obj_in_array(&r->oom, out);
		j_str(&r->oom, u, "user", names[i]);
		/* Shown to contacts only, and only between users who both show
		 * theirs. */
		if (!own && (hide || self_hide || !contact)) {
			j_check(&r->oom, cJSON_AddNullToObject(u, "online"));
			j_check(&r->oom, cJSON_AddNullToObject(u, "lastSeen"));
			continue;
		}
		j_check(&r->oom,
			cJSON_AddBoolToObject(u, "online",
					      r->h->online && r->h->online(r->h->udata, names[i])));
		if (last < 0)
			j_check(&r->oom, cJSON_AddNullToObject(u, "lastSeen"));
		else
			j_int(&r->oom, u, "lastSeen", last);
	}
}

static void
handle_set_privacy(struct req *r)
{
	const cJSON *v = field(r->msg, "hideLastSeen");

	if (!cJSON_IsBool(v)) {
		req_fail(r, "bad_request", "hideLastSeen: %s", v ? "must be a boolean" : "missing");
		return;
	}
	if (db_set_hide_last_seen(r->h->db, r->s->user, cJSON_IsTrue(v)) != DB_OK) {
		fail_internal(r);
		return;
	}
	start_reply(r);
	j_check(&r->oom, cJSON_AddBoolToObject(r->reply, "hideLastSeen", cJSON_IsTrue(v)));
}

/* ---- chats ------------------------------------------------------------- */

static void
reply_participants(struct req *r, char (*names)[PROTO_USER_MAX + 1], size_t n)
{
	j_names(&r->oom, r->reply, "participants", (const char(*)[PROTO_USER_MAX + 1]) names, n);
}

static const char *
op_name(enum db_update_op op)
{
	switch (op) {
	case DB_OP_CREATE: return "create";
	case DB_OP_ADD: return "add";
	case DB_OP_REMOVE: return "remove";
	case DB_OP_LEAVE: return "leave";
	}
	return "?";
}

/* After a committed group change: wake the recipients' connections, log
 * it, and reply with the group as it is now. */
static void
reply_change(struct req *r, const struct db_change_result *res, size_t n_users)
{
	size_t i;

	for (i = 0; i < res->n_recipients && r->h->inbox_changed; i++)
		r->h->inbox_changed(r->h->udata, res->recipients[i].user,
				    res->recipients[i].device_id);
	srv_log("conn %llu chat %s %s by %s/%u: %zu user(s), %zu member(s) now, seq %" PRId64,
		(unsigned long long)r->s->conn_id, res->chat_id, op_name(res->op), r->s->user,
		(unsigned)r->s->device_id, n_users, res->n_participants, res->seq);
	start_reply(r);
	j_str(&r->oom, r->reply, "chatId", res->chat_id);
}

static void
reply_members(struct req *r, const struct db_change_result *res)
{
	j_names(&r->oom, r->reply, "participants",
		(const char(*)[PROTO_USER_MAX + 1]) res->participants, res->n_participants);
	j_names(&r->oom, r->reply, "admins", (const char(*)[PROTO_USER_MAX + 1]) res->admins,
		res->n_admins);
}

/* The name of a group: 1 to PROTO_GROUP_NAME_MAX bytes of UTF-8. */
static const char *
get_group_name(struct req *r, const cJSON *name)
{
	size_t len;

	if (!cJSON_IsString(name) || name->valuestring == NULL) {
		req_fail(r, "bad_request", "name: must be a string");
		return NULL;
	}
	len = strlen(name->valuestring);
	if (len == 0) {
		req_fail(r, "bad_request", "name: must not be empty");
		return NULL;
	}
	if (len > PROTO_GROUP_NAME_MAX) {
		req_fail(r, "too_large", "name: at most %d bytes", PROTO_GROUP_NAME_MAX);
		return NULL;
	}
	if (!proto_valid_utf8(name->valuestring, len)) {
		req_fail(r, "bad_request", "name: must be valid UTF-8");
		return NULL;
	}
	return name->valuestring;
}

/* too_many_group_adds: someone who has not taken part in a chat with this
 * user was added to groups too often lately, or this user added too many
 * such people (PROTOCOL.md, "Groups"). */
static void
fail_too_many_adds(struct req *r, const struct db_change_result *res)
{
	if (res->adder_limited)
		req_fail(r, "too_many_group_adds",
			 "you have added %d people who never took part in a chat with you to "
			 "groups in the last hour, the most allowed; try again later",
			 r->h->add_limits.per_adder_hour);
	else
		req_fail(r, "too_many_group_adds",
			 "'%s' was added to %d groups today by people they never took part in "
			 "a chat with, the most allowed; ask them to write to you first",
			 res->bad_user, r->h->add_limits.per_target_day);
}

static void
create_group(struct req *r, const cJSON *name_field)
{
	/* The creator and up to PROTO_MAX_MEMBERS others: one more than a
	 * group may have, to tell that it is over. */
	char(*names)[PROTO_USER_MAX + 1] = NULL;
	const cJSON *list = field(r->msg, "participants"), *v;
	struct db_change_result *res = NULL;
	struct db_group_create req;
	const char *name;
	size_t n = 1, i = 0;
	char where[40];

	if ((name = get_group_name(r, name_field)) == NULL)
		return;
	if (!cJSON_IsArray(list)) {
		req_fail(r, "bad_request", "participants: %s",
			 list ? "must be an array" : "missing");
		return;
	}
	if ((names = malloc((PROTO_MAX_MEMBERS + 1) * sizeof *names)) == NULL ||
	    (res = malloc(sizeof *res)) == NULL) {
		r->oom = 1;
		goto out;
	}
	memcpy(names[0], r->s->user, sizeof names[0]);
	cJSON_ArrayForEach(v, list) {
		snprintf(where, sizeof where, "participants[%zu]", i++);
		if (check_user(r, v, where, names[n]) != 0)
			goto out;
		if (seen(names, n, names[n]))
			continue;
		if (n == PROTO_MAX_MEMBERS) {
			req_fail(r, "too_large",
				 "participants: a group has at most %d members, "
				 "the creator included",
				 PROTO_MAX_MEMBERS);
			goto out;
		}
		n++;
	}
	req = (struct db_group_create){
		.creator = r->s->user,
		.creator_device = r->s->device_id,
		.name = name,
		.members = (const char(*)[PROTO_USER_MAX + 1]) names,
		.n_members = n,
		.now = proto_now_ms(),
		.limits = r->h->add_limits,
	};
	switch (db_create_group(r->h->db, &req, res)) {
	case DB_OK:
		reply_change(r, res, n);
		j_str(&r->oom, r->reply, "kind", "group");
		j_str(&r->oom, r->reply, "name", name);
		reply_members(r, res);
		j_int(&r->oom, r->reply, "seq", res->seq);
		j_check(&r->oom, cJSON_AddTrueToObject(r->reply, "created"));
		break;
	case DB_UNKNOWN_USER:
		req_fail(r, "unknown_user", "no user named '%s'", res->bad_user);
		break;
	case DB_TOO_LARGE:
		req_fail(r, "too_large",
			 "participants: a group has at most %d members, the creator included",
			 PROTO_MAX_MEMBERS);
		break;
	case DB_TOO_MANY_ADDS: fail_too_many_adds(r, res); break;
	default: fail_internal(r); break;
	}
	db_change_result_free(res);
out:
	free(res);
	free(names);
}

static void
handle_create_chat(struct req *r)
{
	/* The creator plus at most PROTO_MAX_MEMBERS named. */
	char names[PROTO_MAX_MEMBERS + 1][PROTO_USER_MAX + 1];
	char chat_id[PROTO_CHAT_ID_LEN + 1], missing[PROTO_USER_MAX + 1];
	const cJSON *group_name = field(r->msg, "name"), *list, *v;
	size_t n = 1, i = 0;
	char where[40];
	int created;

	/* A name makes a group; null is no name, as for deviceName. */
	if (group_name != NULL && !cJSON_IsNull(group_name)) {
		create_group(r, group_name);
		return;
	}
	if ((list = get_array(r, "participants", PROTO_MAX_MEMBERS)) == NULL)
		return;
	memcpy(names[0], r->s->user, sizeof names[0]);
	cJSON_ArrayForEach(v, list) {
		snprintf(where, sizeof where, "participants[%zu]", i++);
		if (check_user(r, v, where, names[n]) != 0)
			return;
		if (!seen(names, n, names[n]))
			n++;
	}
	if (n != 2) {
		req_fail(r, "bad_participants",
			 "a direct chat has exactly two "
			 "users, the creator included; this request names %zu",
			 n);
		return;
	}
	switch (db_direct_chat(r->h->db, names[0], names[1], proto_now_ms(), chat_id, &created,
			       missing)) {
	case DB_OK: break;
	case DB_NOT_FOUND: req_fail(r, "unknown_user", "no user named '%s'", missing); return;
	default: fail_internal(r); return;
	}
	/* Sorted, as getChat lists them: both members see the same list. */
	if (strcmp(names[0], names[1]) > 0) {
		char tmp[PROTO_USER_MAX + 1];

		memcpy(tmp, names[0], sizeof tmp);
		memcpy(names[0], names[1], sizeof tmp);
		memcpy(names[1], tmp, sizeof tmp);
	}
	start_reply(r);
	j_str(&r->oom, r->reply, "chatId", chat_id);
	j_str(&r->oom, r->reply, "kind", "direct");
	reply_participants(r, names, 2);
	j_check(&r->oom, cJSON_AddBoolToObject(r->reply, "created", created));
}

static void
handle_get_chat(struct req *r)
{
	char chat_id[PROTO_CHAT_ID_LEN + 1];
	struct db_chat *c;

	if (get_hex(r, r->msg, "chatId", PROTO_CHAT_ID_LEN, chat_id) != 0)
		return;
	if ((c = malloc(sizeof *c)) == NULL) {
		r->oom = 1;
		return;
	}
	switch (db_get_chat(r->h->db, chat_id, r->s->user, c)) {
	case DB_OK:
		start_reply(r);
		j_str(&r->oom, r->reply, "chatId", c->chat_id);
		j_str(&r->oom, r->reply, "kind", c->kind);
		j_opt_str(&r->oom, r->reply, "name", c->has_name ? c->name : NULL);
		reply_participants(r, c->members, c->n_members);
		j_names(&r->oom, r->reply, "admins", (const char(*)[PROTO_USER_MAX + 1]) c->admins,
			c->n_admins);
		j_int(&r->oom, r->reply, "createdAt", c->created_at);
		break;
	case DB_NOT_FOUND:
		req_fail(r, "no_such_chat", "no chat %s that you are in", chat_id);
		break;
	default: fail_internal(r); break;
	}
	free(c);
}

static void
handle_modify(struct req *r)
{
	char chat_id[PROTO_CHAT_ID_LEN + 1];
	char(*users)[PROTO_USER_MAX + 1] = NULL;
	struct db_change_result *res = NULL;
	struct db_group_change req;
	const cJSON *list, *v;
	const char *op;
	size_t n = 0, i = 0;
	char where[32];
	int add;

	if (get_hex(r, r->msg, "chatId", PROTO_CHAT_ID_LEN, chat_id) != 0 ||
	    (op = get_string(r, r->msg, "operation", "operation")) == NULL)
		return;
	if (strcmp(op, "ADD") != 0 && strcmp(op, "REMOVE") != 0) {
		req_fail(r, "bad_request", "operation: must be ADD or REMOVE");
		return;
	}
	add = op[0] == 'A';
	if ((list = get_array(r, "users", PROTO_MAX_MODIFY)) == NULL)
		return;
	if (cJSON_GetArraySize(list) == 0) {
		req_fail(r, "bad_request", "users: 1 to %d users", PROTO_MAX_MODIFY);
		return;
	}
	if ((users = malloc(PROTO_MAX_MODIFY * sizeof *users)) == NULL ||
	    (res = malloc(sizeof *res)) == NULL) {
		r->oom = 1;
		goto out;
	}
	cJSON_ArrayForEach(v, list) {
		snprintf(where, sizeof where, "users[%zu]", i++);
		if (check_user(r, v, where, users[n]) != 0)
			goto out;
		/* A name given twice counts once. */
		if (!seen(users, n, users[n]))
			n++;
	}
	req = (struct db_group_change){
		.chat_id = chat_id,
		.actor = r->s->user,
		.actor_device = r->s->device_id,
		.add = add,
		.users = (const char(*)[PROTO_USER_MAX + 1]) users,
		.n_users = n,
		.now = proto_now_ms(),
		.limits = r->h->add_limits,
	};
	switch (db_change_group(r->h->db, &req, res)) {
	case DB_OK:
		/* kind and name too, beyond PROTOCOL.md's example: the reply then
		 * describes the chat as a chatUpdate and getChat do. */
		reply_change(r, res, n);
		j_str(&r->oom, r->reply, "kind", "group");
		j_opt_str(&r->oom, r->reply, "name", res->has_name ? res->name : NULL);
		j_int(&r->oom, r->reply, "seq", res->seq);
		reply_members(r, res);
		break;
	case DB_NOT_FOUND:
		req_fail(r, "no_such_chat", "no chat %s that you are in", chat_id);
		break;
	case DB_WRONG_KIND:
		req_fail(r, "bad_request", "chat %s is a direct chat: its members are fixed",
			 chat_id);
		break;
	case DB_NOT_ADMIN:
		req_fail(r, "not_admin",
			 "only an admin of the group adds members or removes others; "
			 "a member may remove only themselves");
		break;
	case DB_UNKNOWN_USER:
		req_fail(r, "unknown_user", "no user named '%s'", res->bad_user);
		break;
	case DB_ALREADY_MEMBER:
		req_fail(r, "already_member", "'%s' is already in the group", res->bad_user);
		break;
	case DB_NOT_MEMBER:
		req_fail(r, "not_member", "'%s' is not in the group", res->bad_user);
		break;
	case DB_TOO_LARGE:
		req_fail(r, "too_large", "users: a group has at most %d members",
			 PROTO_MAX_MEMBERS);
		break;
	case DB_TOO_MANY_ADDS: fail_too_many_adds(r, res); break;
	default: fail_internal(r); break;
	}
	db_change_result_free(res);
out:
	free(res);
	free(users);
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

static void
handle_link_device(struct req *r)
{
	struct wire_link *l = &r->s->link;
	char user[PROTO_USER_MAX + 1];
	uint8_t ik[PROTO_KEY_BYTES], xk[PROTO_KEY_BYTES], xsig[PROTO_SIG_BYTES];
	uint8_t mac[PROTO_LINK_MAC_BYTES];
	const char *name;
	int64_t now;

	if (check_user(r, field(r->msg, "user"), "user", user) != 0 ||
	    get_device_name(r, &name) != 0 ||
	    get_bytes(r, r->msg, "linkMac", "linkMac", mac, sizeof mac) != 0 ||
	    get_new_keys(r, PROTO_LABEL_LINK, ik, xk, xsig))
		return;
	switch (db_link_check(r->h->db, user, ik)) {
	case DB_OK: break;
	case DB_NOT_FOUND: req_fail(r, "unknown_user", "no user named '%s'", user); return;
	case DB_TOO_MANY: fail_too_many(r, user); return;
	case DB_KEY_TAKEN: fail_key_taken(r); return;
	default: fail_internal(r); return;
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
		fail_internal(r);
		return;
	}
	srv_log("conn %llu link request user=%s", (unsigned long long)r->s->conn_id, user);
	start_reply(r);
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
static void
handle_get_link(struct req *r)
{
	struct session *w[PROTO_MAX_LINKS + 2];
	size_t n = 0, i;
	cJSON *arr;

	if (r->h->list_links != NULL)
		n = r->h->list_links(r->h->udata, r->s->user, proto_now_ms(), w,
				     sizeof w / sizeof *w);
	start_reply(r);
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

	if (get_bytes(r, r->msg, "identityKey", "identityKey", ik, sizeof ik) != 0)
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

static void
handle_approve_link(struct req *r)
{
	uint8_t approval[PROTO_SIG_BYTES], approver[PROTO_KEY_BYTES];
	struct db_new_device d;
	struct session *w;
	uint32_t device_id;

	if ((w = find_request(r)) == NULL ||
	    get_bytes(r, r->msg, "approval", "approval", approval, sizeof approval) != 0)
		return;
	switch (db_device_identity(r->h->db, r->s->user, r->s->device_id, approver)) {
	case DB_OK: break;
	case DB_NOT_FOUND:
		req_fail(r, "unknown_device", "this device, %s/%u, has been removed", r->s->user,
			 (unsigned)r->s->device_id);
		return;
	default: fail_internal(r); return;
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
	default: fail_internal(r); return;
	}
	srv_log("conn %llu link approved device=%s/%u by=%s/%u conn=%llu",
		(unsigned long long)r->s->conn_id, r->s->user, (unsigned)device_id, r->s->user,
		(unsigned)r->s->device_id, (unsigned long long)w->conn_id);
	session_become(w, r->s->user, device_id, "link");
	/* The request is still there for the hook to see its keys. */
	if (r->h->linked)
		r->h->linked(r->h->udata, w);
	memset(&w->link, 0, sizeof w->link);
	start_reply(r);
	j_str(&r->oom, r->reply, "user", r->s->user);
	j_int(&r->oom, r->reply, "deviceId", device_id);
}

static void
handle_remove_device(struct req *r)
{
	uint32_t device_id;

	if (get_device_id(r, r->msg, "deviceId", &device_id) != 0)
		return;
	switch (db_remove_device(r->h->db, r->s->user, device_id, proto_now_ms())) {
	case DB_OK: break;
	case DB_NOT_FOUND:
		req_fail(r, "unknown_device", "no device %s/%u", r->s->user, (unsigned)device_id);
		return;
	default: fail_internal(r); return;
	}
	srv_log("conn %llu device removed device=%s/%u by=%s/%u", (unsigned long long)r->s->conn_id,
		r->s->user, (unsigned)device_id, r->s->user, (unsigned)r->s->device_id);
	if (r->h->device_removed)
		r->h->device_removed(r->h->udata, r->s->user, device_id, r->s);
	start_reply(r);
	j_int(&r->oom, r->reply, "deviceId", device_id);
}

/* ---- sendMessage ------------------------------------------------------- */

static void
free_envelopes(struct db_envelope *env, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free((void *)env[i].ciphertext);
	free(env);
}

/* Read envelopes[i]: 0, or -1 with the request failed. */
static int
read_envelope(struct req *r, const cJSON *o, size_t i, struct db_envelope *e)
{
	char where[48];
	const char *ct;
	uint8_t *buf;
	size_t cap;

	snprintf(where, sizeof where, "envelopes[%zu]", i);
	if (!cJSON_IsObject(o)) {
		req_fail(r, "bad_request", "%s: must be an object", where);
		return -1;
	}
	snprintf(where, sizeof where, "envelopes[%zu].user", i);
	if (check_user(r, field(o, "user"), where, e->to.user) != 0)
		return -1;
	snprintf(where, sizeof where, "envelopes[%zu].deviceId", i);
	if (get_device_id(r, o, where, &e->to.device_id) != 0)
		return -1;
	snprintf(where, sizeof where, "envelopes[%zu].nonce", i);
	if (get_bytes(r, o, "nonce", where, e->nonce, sizeof e->nonce) != 0)
		return -1;
	snprintf(where, sizeof where, "envelopes[%zu].ciphertext", i);
	if ((ct = get_string(r, o, "ciphertext", where)) == NULL)
		return -1;
	if (strlen(ct) > proto_b64_len(PROTO_MAX_CIPHERTEXT)) {
		req_fail(r, "too_large", "%s: at most %d bytes", where, PROTO_MAX_CIPHERTEXT);
		return -1;
	}
	/* Base64 is 4 characters per 3 bytes: this is room enough. */
	cap = strlen(ct) / 4 * 3;
	if ((buf = malloc(cap ? cap : 1)) == NULL) {
		r->oom = 1;
		return -1;
	}
	e->ciphertext = buf;
	if (proto_b64_decode(ct, buf, cap, &e->ciphertext_len) != 0) {
		req_fail(r, "bad_request", "%s: not valid base64", where);
		return -1;
	}
	if (e->ciphertext_len > PROTO_MAX_CIPHERTEXT) {
		req_fail(r, "too_large", "%s: at most %d bytes", where, PROTO_MAX_CIPHERTEXT);
		return -1;
	}
	/* Nothing shorter than the AEAD tag can ever be opened. */
	if (e->ciphertext_len < PROTO_TAG_BYTES) {
		req_fail(r, "bad_request", "%s: at least %d bytes", where, PROTO_TAG_BYTES);
		return -1;
	}
	return 0;
}

static cJSON *
addr_list(int *oom, const struct db_addr *a, size_t n)
{
	cJSON *arr = j_check(oom, cJSON_CreateArray());
	size_t i;

	for (i = 0; i < n && arr != NULL; i++) {
		cJSON *o = j_obj_in_array(oom, arr);

		j_str(oom, o, "user", a[i].user);
		j_int(oom, o, "deviceId", a[i].device_id);
	}
	return arr;
}

static void
fail_mismatch(struct req *r, const struct db_send_result *res)
{
	cJSON *extra = j_check(&r->oom, cJSON_CreateObject());

	if (extra != NULL) {
		cJSON *m = addr_list(&r->oom, res->missing, res->n_missing);
		cJSON *x = addr_list(&r->oom, res->extra, res->n_extra);

		if (m == NULL || !cJSON_AddItemToObject(extra, "missing", m)) {
			cJSON_Delete(m);
			r->oom = 1;
		}
		if (x == NULL || !cJSON_AddItemToObject(extra, "extra", x)) {
			cJSON_Delete(x);
			r->oom = 1;
		}
	}
	r->err_extra = extra;
	req_fail(r, "device_mismatch",
		 "the envelopes do not match the chat's "
		 "devices: %zu missing, %zu extra or repeated; refresh the "
		 "keys and send again",
		 res->n_missing, res->n_extra);
}

/* inbox_full: a recipient device's inbox is at its quota; the error names
 * it (user and deviceId), so that the sender can tell its user who. */
static void
fail_inbox_full(struct req *r, const struct db_addr *full)
{
	cJSON *extra = j_check(&r->oom, cJSON_CreateObject());

	j_str(&r->oom, extra, "user", full->user);
	j_int(&r->oom, extra, "deviceId", full->device_id);
	r->err_extra = extra;
	req_fail(r, "inbox_full",
		 "%s's device %u has %lld bytes of messages waiting, the most it may hold; "
		 "nothing was sent: try again once %s has collected them",
		 full->user, (unsigned)full->device_id, (long long)r->h->max_inbox_bytes,
		 full->user);
}

/* sendMessage and sendReceipt: the same checks and storage, but a receipt
 * has its own id field, no seq, and may address some of the chat's devices. */
static void
send_common(struct req *r, int receipt)
{
	const char *id_field = receipt ? "receiptId" : "messageId";
	char chat_id[PROTO_CHAT_ID_LEN + 1], message_id[PROTO_MESSAGE_ID_LEN + 1];
	char blobs[PROTO_MAX_BLOBS][PROTO_MESSAGE_ID_LEN + 1];
	size_t n_blobs = 0;
	const cJSON *list, *v;
	struct db_envelope *env = NULL;
	struct db_send req;
	struct db_send_result res;
	size_t n = 0, i;

	if (get_hex(r, r->msg, "chatId", PROTO_CHAT_ID_LEN, chat_id) != 0 ||
	    get_hex(r, r->msg, id_field, PROTO_MESSAGE_ID_LEN, message_id) != 0 ||
	    (list = get_array(r, "envelopes", PROTO_MAX_ENVELOPES)) == NULL)
		return;
	/* Nobody to deliver to: a message with no envelope would only keep its
	 * blobs on the server for nothing. */
	if (cJSON_GetArraySize(list) == 0) {
		req_fail(r, "bad_request",
			 "envelopes: at least one (a chat with no other device cannot be sent "
			 "to)");
		return;
	}
	/* Optional, and only on messages: the attachments' blobs. */
	if (!receipt && field(r->msg, "blobs") != NULL) {
		const cJSON *bl = get_array(r, "blobs", PROTO_MAX_BLOBS);

		if (bl == NULL)
			return;
		cJSON_ArrayForEach(v, bl) {
			if (!cJSON_IsString(v) ||
			    !proto_valid_hex(v->valuestring, PROTO_MESSAGE_ID_LEN)) {
				req_fail(r, "bad_request",
					 "blobs[%zu]: must be %d lowercase hex digits", n_blobs,
					 PROTO_MESSAGE_ID_LEN);
				return;
			}
			memcpy(blobs[n_blobs++], v->valuestring, PROTO_MESSAGE_ID_LEN + 1);
		}
	}
	if (cJSON_GetArraySize(list) > 0 &&
	    (env = calloc((size_t)cJSON_GetArraySize(list), sizeof *env)) == NULL) {
		r->oom = 1;
		return;
	}
	cJSON_ArrayForEach(v, list) {
		if (read_envelope(r, v, n, &env[n]) != 0) {
			free_envelopes(env, n + 1);
			return;
		}
		n++;
	}
	req = (struct db_send){
		.chat_id = chat_id,
		.message_id = message_id,
		.sender_user = r->s->user,
		.sender_device = r->s->device_id,
		.envelopes = env,
		.n_envelopes = n,
		.now = proto_now_ms(),
		.receipt = receipt,
		.blobs = (const char(*)[PROTO_MESSAGE_ID_LEN + 1]) blobs,
		.n_blobs = n_blobs,
		.max_inbox_bytes = r->h->max_inbox_bytes,
	};
	switch (db_send(r->h->db, &req, &res)) {
	case DB_OK:
		/* Only after COMMIT: a push must never show what could still be
		 * rolled back. */
		for (i = 0; i < n && !res.replayed; i++) {
			if (r->h->inbox_changed)
				r->h->inbox_changed(r->h->udata, env[i].to.user,
						    env[i].to.device_id);
		}
		start_reply(r);
		j_str(&r->oom, r->reply, id_field, message_id);
		if (!receipt)
			j_int(&r->oom, r->reply, "seq", res.seq);
		j_int(&r->oom, r->reply, "sentAt", res.sent_at);
		break;
	case DB_NOT_FOUND:
		req_fail(r, "no_such_chat", "no chat %s that you are in", chat_id);
		break;
	case DB_DUPLICATE:
		req_fail(r, "duplicate_message_id",
			 "%s %s is taken by another device's or chat's message or receipt",
			 id_field, message_id);
		break;
	case DB_MISMATCH: fail_mismatch(r, &res); break;
	case DB_INBOX_FULL: fail_inbox_full(r, &res.full); break;
	case DB_NO_BLOB:
		req_fail(
			r, "no_such_blob",
			"blobs: each must be uploaded in full by this device (getAttachmentTarget, "
			"then PUT)");
		break;
	default: fail_internal(r); break;
	}
	db_send_result_free(&res);
	free_envelopes(env, n);
}

static void
handle_send(struct req *r)
{
	send_common(r, 0);
}

static void
handle_send_receipt(struct req *r)
{
	send_common(r, 1);
}

/* ---- ack --------------------------------------------------------------- */

static void
handle_ack(struct req *r)
{
	const cJSON *list = get_array(r, "messageIds", PROTO_MAX_ACK), *v;
	char(*ids)[PROTO_MESSAGE_ID_LEN + 1] = NULL;
	size_t n = 0, cap;
	int64_t acked;

	if (list == NULL)
		return;
	cap = (size_t)cJSON_GetArraySize(list);
	if (cap > 0 && (ids = malloc(cap * sizeof *ids)) == NULL) {
		r->oom = 1;
		return;
	}
	cJSON_ArrayForEach(v, list) {
		if (!cJSON_IsString(v) || !proto_valid_hex(v->valuestring, PROTO_MESSAGE_ID_LEN)) {
			req_fail(r, "bad_request",
				 "messageIds[%zu]: must be %d "
				 "lowercase hex digits",
				 n, PROTO_MESSAGE_ID_LEN);
			free(ids);
			return;
		}
		memcpy(ids[n++], v->valuestring, PROTO_MESSAGE_ID_LEN + 1);
	}
	if (db_ack(r->h->db, r->s->user, r->s->device_id,
		   (const char(*)[PROTO_MESSAGE_ID_LEN + 1]) ids, n, &acked) != DB_OK) {
		fail_internal(r);
	} else {
		start_reply(r);
		j_int(&r->oom, r->reply, "acked", acked);
	}
	free(ids);
}

/* ---- attachments ------------------------------------------------------- */

/* The expiry of a path signed now: seconds since the epoch. */
static int64_t
blob_expiry(const struct req *r)
{
	return proto_now_ms() / 1000 + (r->h->blob_url_ttl > 0 ? r->h->blob_url_ttl : BLOB_URL_TTL);
}

/*
 * The device's quotas in the blob store (issue 10, item 12): blobs asked for
 * and not uploaded yet, the bytes they may take with this one, and the bytes
 * of the blobs it has uploaded (they go with their messages, at the
 * retention time, or an hour after they were made if no message refers to
 * them). 0 if size fits, else -1 with the request failed (quota_exceeded).
 */
static int
blob_quota_ok(struct req *r, int64_t size)
{
	const struct wire_hooks *h = r->h;
	struct db_blob_usage u;

	if (db_blob_usage(h->db, r->s->user, r->s->device_id, &u) != DB_OK) {
		fail_internal(r);
		return -1;
	}
	if (h->max_pending_blobs > 0 && u.pending >= h->max_pending_blobs)
		req_fail(r, "quota_exceeded",
			 "this device has %lld attachments asked for and not uploaded, the most "
			 "it may have; upload them, or wait an hour for them to lapse",
			 (long long)u.pending);
	else if (h->max_pending_blob_bytes > 0 &&
		 u.pending_bytes + size > h->max_pending_blob_bytes)
		req_fail(r, "quota_exceeded",
			 "this device's attachments not uploaded yet would take over %lld bytes "
			 "with this one, the most allowed; upload them first",
			 (long long)h->max_pending_blob_bytes);
	else if (h->max_blob_bytes > 0 && u.stored_bytes + size > h->max_blob_bytes)
		req_fail(r, "quota_exceeded",
			 "this device's attachments on the server would take over %lld bytes "
			 "with this one, the most allowed; older ones go with the retention "
			 "time",
			 (long long)h->max_blob_bytes);
	else
		return 0;
	return -1;
}

/* A new pending blob (its id drawn again on the unlikely collision), and
 * the path to upload it to. */
static void
handle_get_attachment_target(struct req *r)
{
	const cJSON *v = field(r->msg, "size");
	char blob_id[PROTO_BLOB_ID_LEN + 1], *path = NULL;
	uint8_t raw[PROTO_BLOB_ID_LEN / 2];
	enum db_status st = DB_DUPLICATE;
	int64_t size, exp;
	int tries;

	/* Over the limit is too_large however far over (2^64 included), before
	 * the number is looked at as an integer. */
	if (cJSON_IsNumber(v) && v->valuedouble > (double)r->h->max_blob) {
		req_fail(r, "too_large", "size: at most %lld bytes", (long long)r->h->max_blob);
		return;
	}
	if (!cJSON_IsNumber(v) || !proto_is_integer(v->valuedouble, 1, PROTO_ID_MAX)) {
		req_fail(r, "bad_request", "size: %s",
			 v ? "must be a whole number of bytes, at least 1" : "missing");
		return;
	}
	size = (int64_t)v->valuedouble;
	if (r->h->blob_key == NULL) {
		fail_internal(r);
		return;
	}
	if (blob_quota_ok(r, size) != 0)
		return;
	for (tries = 0; tries < 4 && st == DB_DUPLICATE; tries++) {
		db_random_fn(raw, sizeof raw);
		sodium_bin2hex(blob_id, sizeof blob_id, raw, sizeof raw);
		st = db_blob_create(r->h->db, blob_id, r->s->user, r->s->device_id, size,
				    proto_now_ms());
	}
	if (st != DB_OK) {
		fail_internal(r);
		return;
	}
	exp = blob_expiry(r);
	if ((path = blob_upload_path(r->h->blob_key, blob_id, exp, size)) == NULL) {
		r->oom = 1;
		return;
	}
	start_reply(r);
	j_str(&r->oom, r->reply, "blobId", blob_id);
	j_int(&r->oom, r->reply, "maxSize", size);
	j_str(&r->oom, r->reply, "uploadPath", path);
	j_int(&r->oom, r->reply, "expiresAt", exp * 1000);
	free(path);
}

static void
handle_get_attachment_download(struct req *r)
{
	char blob_id[PROTO_BLOB_ID_LEN + 1], *path;
	int64_t size, exp;

	if (get_hex(r, r->msg, "blobId", PROTO_BLOB_ID_LEN, blob_id) != 0)
		return;
	if (r->h->blob_key == NULL) {
		fail_internal(r);
		return;
	}
	switch (db_blob_readable(r->h->db, blob_id, r->s->user, &size)) {
	case DB_OK: break;
	case DB_NOT_FOUND:
		req_fail(r, "no_such_blob", "no complete blob %s in a message of a chat you are in",
			 blob_id);
		return;
	default: fail_internal(r); return;
	}
	exp = blob_expiry(r);
	if ((path = blob_download_path(r->h->blob_key, blob_id, exp)) == NULL) {
		r->oom = 1;
		return;
	}
	start_reply(r);
	j_int(&r->oom, r->reply, "size", size);
	j_str(&r->oom, r->reply, "downloadPath", path);
	j_int(&r->oom, r->reply, "expiresAt", exp * 1000);
	free(path);
}

/* ---- dispatch ---------------------------------------------------------- */

static const struct handler {
	const char *type;
	int opens_session; /* 1: register/auth/linkDevice, only before auth */
	handler_fn *fn;
} handlers[] = {
	{"register", 1, handle_register},
	{"auth", 1, handle_auth},
	{"linkDevice", 1, handle_link_device},
	{"getKeys", 0, handle_get_keys},
	{"createChat", 0, handle_create_chat},
	{"getChat", 0, handle_get_chat},
	{"modifyChatParticipants", 0, handle_modify},
	{"sendMessage", 0, handle_send},
	{"sendReceipt", 0, handle_send_receipt},
	{"ack", 0, handle_ack},
	{"getLink", 0, handle_get_link},
	{"approveLink", 0, handle_approve_link},
	{"removeDevice", 0, handle_remove_device},
	{"getLastSeen", 0, handle_get_last_seen},
	{"setPrivacy", 0, handle_set_privacy},
	{"getAttachmentTarget", 0, handle_get_attachment_target},
	{"getAttachmentDownload", 0, handle_get_attachment_download},
};

static const struct handler *
find_handler(const char *type)
{
	size_t i;

	for (i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
		if (strcmp(handlers[i].type, type) == 0)
			return &handlers[i];
	}
	return NULL;
}

/* The frame's id if it is usable (an integer from 1 to 2^53). */
static void
read_id(struct req *r)
{
	const cJSON *id = field(r->msg, "id");

	if (cJSON_IsNumber(id) && proto_is_integer(id->valuedouble, 1, PROTO_ID_MAX)) {
		r->has_id = 1;
		r->id = (int64_t)id->valuedouble;
	}
}

/* Check the envelope of a request and find its handler; NULL with the
 * request failed if it cannot be run. */
static const struct handler *
route(struct req *r, const char *frame, size_t len)
{
	const struct handler *hd;
	const cJSON *type;

	unsigned bad = proto_json_check(frame, len);

	/* A string with U+0000 would be cut short by cJSON, and a lone
	 * surrogate would make it refuse the whole frame: rewritten on a copy
	 * (rare, so normal frames are not copied), read for the id, refused. */
	if (bad == 0) {
		r->msg = cJSON_ParseWithLengthOpts(frame, len + 1, NULL, 1);
	} else {
		char *copy = malloc(len + 1);

		if (copy == NULL) {
			r->oom = 1;
			return NULL;
		}
		memcpy(copy, frame, len + 1);
		(void)proto_json_scrub(copy, len);
		r->msg = cJSON_ParseWithLengthOpts(copy, len + 1, NULL, 1);
		free(copy);
	}
	if (r->msg == NULL) {
		req_fail(r, "bad_request", "the frame is not valid JSON");
		return NULL;
	}
	if (!cJSON_IsObject(r->msg)) {
		req_fail(r, "bad_request", "the frame is not a JSON object");
		return NULL;
	}
	read_id(r);
	if (bad != 0) {
		req_fail(r, "bad_request",
			 "%s: no string in a frame may contain U+0000 or a lone surrogate",
			 proto_scrub_reason(bad));
		return NULL;
	}
	type = field(r->msg, "type");
	if (!cJSON_IsString(type) || type->valuestring == NULL) {
		req_fail(r, "bad_request", "type: %s", type ? "must be a string" : "missing");
		return NULL;
	}
	if (!r->has_id) {
		req_fail(r, "bad_request", "id: %s",
			 field(r->msg, "id") ? "must be an integer from 1 to 2^53" : "missing");
		return NULL;
	}
	if ((hd = find_handler(type->valuestring)) == NULL) {
		/* The name is not echoed: it is whatever the client sent. */
		req_fail(r, "unknown_type", "this server does not know that type");
		return NULL;
	}
	r->type = hd->type;
	if (hd->opens_session && r->s->authed) {
		req_fail(r, "already_authenticated",
			 "this connection is already "
			 "authenticated as %s/%u",
			 r->s->user, (unsigned)r->s->device_id);
		return NULL;
	}
	if (!hd->opens_session && !r->s->authed) {
		req_fail(r, "unauthenticated", "register, auth or linkDevice first");
		return NULL;
	}
	return hd;
}

/* ---- rate limits ------------------------------------------------------- */

void
rate_refill(struct rate_bucket *b, double rate, double burst, int64_t now_us)
{
	if (!b->started) {
		b->started = 1;
		b->tokens = burst;
		b->last_us = now_us;
		return;
	}
	if (now_us > b->last_us) {
		b->tokens += (double)(now_us - b->last_us) * rate / 1e6;
		if (b->tokens > burst)
			b->tokens = burst;
	}
	b->last_us = now_us;
}

int64_t
rate_wait_ms(const struct rate_bucket *b, double rate)
{
	double ms;

	if (b->tokens >= 1.0 || rate <= 0)
		return 0;
	ms = (1.0 - b->tokens) * 1000.0 / rate;
	if (ms > 1e12)
		ms = 1e12;
	return ms < 1.0 ? 1 : (int64_t)ms + ((double)(int64_t)ms < ms);
}

void
wire_rate_refill(const struct wire_hooks *h, struct rate_pair *p, int64_t now_us)
{
	if (h->rate > 0)
		rate_refill(&p->requests, h->rate, h->rate * WIRE_RATE_BURST, now_us);
	if (h->rate_bytes > 0)
		rate_refill(&p->bytes, h->rate_bytes, h->rate_bytes * WIRE_RATE_BYTES_BURST,
			    now_us);
}

int
wire_rate_full(const struct wire_hooks *h, const struct rate_pair *p)
{
	return (h->rate <= 0 || !p->requests.started ||
		p->requests.tokens >= h->rate * WIRE_RATE_BURST) &&
	       (h->rate_bytes <= 0 || !p->bytes.started ||
		p->bytes.tokens >= h->rate_bytes * WIRE_RATE_BYTES_BURST);
}

int64_t
wire_rate_check(const struct wire_hooks *h, struct session *s, size_t len, int64_t now_us)
{
	struct rate_pair *p = s->rate != NULL ? s->rate : &s->own;
	int64_t wait = 0, w;

	if (h->rate <= 0 && h->rate_bytes <= 0)
		return 0;
	/* A frame is let in while the bytes bucket holds a token, and then
	 * costs all its bytes: a frame larger than the burst still passes,
	 * and the debt holds the long-run rate. */
	wire_rate_refill(h, p, now_us);
	if (h->rate > 0)
		wait = rate_wait_ms(&p->requests, h->rate);
	if (h->rate_bytes > 0 && (w = rate_wait_ms(&p->bytes, h->rate_bytes)) > wait)
		wait = w;
	if (wait > 0)
		return wait;
	if (h->rate > 0)
		p->requests.tokens -= 1.0;
	if (h->rate_bytes > 0)
		p->bytes.tokens -= (double)len;
	return 0;
}

/*
 * Rate limits keep a connection's requests in their order: once a request is
 * refused, every request behind it (a larger id: clients number them as they
 * send) is refused too, tokens or not, until the refused one comes again and
 * is taken. Holding for the time named would not do: a request sent behind
 * the refused one but arriving after that time would be taken before it, and
 * two sends would be numbered out of order. A client that never sends the
 * refused request again is let go after WIRE_RATE_HOLD_MAX_US.
 */
#define WIRE_RATE_HOLD_MAX_US (30 * 1000000LL)

int64_t
wire_rate_gate(const struct wire_hooks *h, struct session *s, int has_id, int64_t id, size_t len,
	       int64_t now_us)
{
	int64_t wait;

	if (s->rate_hold_id > 0 && now_us - s->rate_hold_since_us > WIRE_RATE_HOLD_MAX_US)
		s->rate_hold_id = 0;
	if (s->rate_hold_id > 0 && (!has_id || id > s->rate_hold_id))
		return s->rate_hold_us > now_us ? (s->rate_hold_us - now_us + 999) / 1000 : 1;
	if ((wait = wire_rate_check(h, s, len, now_us)) > 0) {
		if (has_id && (s->rate_hold_id == 0 || id < s->rate_hold_id)) {
			s->rate_hold_id = id;
			s->rate_hold_since_us = now_us;
		}
		s->rate_hold_us = now_us + wait * 1000;
		return wait;
	}
	if (has_id && id == s->rate_hold_id)
		s->rate_hold_id = 0;
	return 0;
}

/* The rate_limited reply; one log line per second per connection at most. */
static char *
rate_limited(struct req *r, int64_t wait_ms, int64_t now_us)
{
	cJSON *extra = cJSON_CreateObject();
	char msg[80], dev[PROTO_USER_MAX + 16];
	struct session *s = r->s;

	s->rate_refused++;
	if (s->rate_logged_us == 0 || now_us - s->rate_logged_us >= 1000000) {
		srv_log("conn %llu rate limited device=%s: %llu requests refused",
			(unsigned long long)s->conn_id, session_device(s, dev, sizeof dev),
			(unsigned long long)s->rate_refused);
		s->rate_logged_us = now_us;
		s->rate_refused = 0;
	}
	snprintf(msg, sizeof msg, "too many requests; retry in %lld ms", (long long)wait_ms);
	if (extra != NULL &&
	    cJSON_AddNumberToObject(extra, "retryAfterMs", (double)wait_ms) == NULL) {
		cJSON_Delete(extra);
		extra = NULL;
	}
	if (extra == NULL) /* the reply is still a rate_limited error */
		extra = cJSON_CreateObject();
	return error_frame(s, r->has_id, r->id, "rate_limited", msg, extra, 0);
}

char *
wire_handle(const struct wire_hooks *h, struct session *s, const char *frame, size_t len)
{
	struct req r = {.h = h, .s = s};
	int64_t now_us = h->rate > 0 || h->rate_bytes > 0 ? util_mono_us() : 0;
	const struct handler *hd = route(&r, frame, len);
	int64_t wait = now_us ? wire_rate_gate(h, s, r.has_id, r.id, len, now_us) : 0;
	char *text;

	if (wait > 0) {
		/* Not processed: parsed only for the id, of the reply and the gate. */
		text = rate_limited(&r, wait, now_us);
		cJSON_Delete(r.err_extra);
		cJSON_Delete((cJSON *)r.msg);
		return text;
	}
	if (hd != NULL)
		hd->fn(&r);
	if (r.err_code == NULL && (r.oom || r.reply == NULL))
		req_fail(&r, "internal", "the server ran out of memory");
	if (r.err_code != NULL) {
		text = error_frame(s, r.has_id, r.id, r.err_code, r.err_msg, r.err_extra, 1);
	} else {
		if (srv_verbose)
			srv_log("conn %llu request id=%" PRId64 " type=%s ok",
				(unsigned long long)s->conn_id, r.id, r.type);
		text = j_finish(0, r.reply);
		r.reply = NULL;
	}
	cJSON_Delete(r.reply);
	cJSON_Delete((cJSON *)r.msg);
	return text;
}

/* ---- pushes ------------------------------------------------------------ */

char *
wire_hello(const struct wire_hooks *h, struct session *s)
{
	cJSON *root = cJSON_CreateObject(), *lim;
	int oom = root == NULL;

	randombytes_buf(s->challenge, sizeof s->challenge);
	j_str(&oom, root, "type", "hello");
	j_int(&oom, root, "protocol", PROTO_VERSION);
	j_str(&oom, root, "server", "chat-server/" CHAT_VERSION);
	j_b64(&oom, root, "challenge", s->challenge, sizeof s->challenge);
	lim = j_check(&oom, cJSON_AddObjectToObject(root, "limits"));
	j_int(&oom, lim, "maxFrame", (int64_t)h->max_frame);
	j_int(&oom, lim, "maxText", PROTO_MAX_TEXT);
	j_int(&oom, lim, "maxCiphertext", PROTO_MAX_CIPHERTEXT);
	j_int(&oom, lim, "maxDevices", PROTO_MAX_DEVICES);
	j_int(&oom, lim, "maxMembers", PROTO_MAX_MEMBERS);
	if (h->max_blob > 0)
		j_int(&oom, lim, "maxBlob", h->max_blob);
	/* How long a message may wait: libchat gives up on an unsent one older
	 * than this (the server recognises its id for twice as long). */
	if (h->retention_ms > 0)
		j_int(&oom, lim, "retention", h->retention_ms);
	return j_finish(oom, root);
}

char *
wire_new_message(const struct db_inbox_row *row)
{
	cJSON *root = cJSON_CreateObject(), *snd, *ref;
	char *ct = proto_b64_encode(row->ciphertext, row->ciphertext_len);
	char *text;
	int oom = root == NULL || ct == NULL;

	/* A receipt is pushed as a message is, under its own type and id name,
	 * and without a seq. */
	j_str(&oom, root, "type", row->is_receipt ? "receipt" : "newMessage");
	j_str(&oom, root, "chatId", row->chat_id);
	j_str(&oom, root, row->is_receipt ? "receiptId" : "messageId", row->message_id);
	if (!row->is_receipt)
		j_int(&oom, root, "seq", row->seq);
	j_int(&oom, root, "sentAt", row->sent_at);
	snd = j_check(&oom, cJSON_AddObjectToObject(root, "sender"));
	j_str(&oom, snd, "user", row->sender_user);
	j_int(&oom, snd, "deviceId", row->sender_device);
	j_b64(&oom, snd, "identityKey", row->sender_identity_key, PROTO_KEY_BYTES);
	j_b64(&oom, snd, "exchangeKey", row->sender_exchange_key, PROTO_KEY_BYTES);
	j_b64(&oom, snd, "exchangeKeySig", row->sender_exchange_key_sig, PROTO_SIG_BYTES);
	j_opt_b64(&oom, snd, "approverKey", row->sender_approver_key, PROTO_KEY_BYTES);
	j_opt_b64(&oom, snd, "approval", row->sender_approval, PROTO_SIG_BYTES);
	j_b64(&oom, root, "nonce", row->nonce, PROTO_NONCE_BYTES);
	/* By reference: the ciphertext can be 87 KB of base64, not worth a
	 * second copy; ct outlives the print below. */
	ref = ct ? j_check(&oom, cJSON_CreateStringReference(ct)) : NULL;
	if (ref != NULL && (root == NULL || !cJSON_AddItemToObject(root, "ciphertext", ref))) {
		cJSON_Delete(ref);
		oom = 1;
	}
	text = j_finish(oom, root);
	free(ct);
	return text;
}

char *
wire_inbox_push(const struct db_inbox_row *row)
{
	return row->is_update ? wire_chat_update(row->update) : wire_new_message(row);
}

char *
wire_chat_update(const struct db_update *u)
{
	cJSON *root = cJSON_CreateObject();
	int oom = root == NULL;

	j_str(&oom, root, "type", "chatUpdate");
	j_str(&oom, root, "chatId", u->chat_id);
	j_str(&oom, root, "updateId", u->update_id);
	j_int(&oom, root, "seq", u->seq);
	j_int(&oom, root, "sentAt", u->sent_at);
	j_str(&oom, root, "kind", u->kind);
	j_opt_str(&oom, root, "name", u->name);
	j_str(&oom, root, "actor", u->actor);
	j_str(&oom, root, "operation", op_name(u->op));
	j_names(&oom, root, "users", u->users, u->n_users);
	j_names(&oom, root, "participants", u->participants, u->n_participants);
	j_names(&oom, root, "admins", u->admins, u->n_admins);
	return j_finish(oom, root);
}

char *
wire_linked(const struct session *s)
{
	cJSON *root = cJSON_CreateObject();
	int oom = root == NULL;

	j_str(&oom, root, "type", "linked");
	j_str(&oom, root, "user", s->user);
	j_int(&oom, root, "deviceId", s->device_id);
	return j_finish(oom, root);
}

char *
wire_missed(int64_t count, int64_t oldest)
{
	cJSON *root = cJSON_CreateObject();
	int oom = root == NULL;

	j_str(&oom, root, "type", "missed");
	j_int(&oom, root, "count", count);
	j_int(&oom, root, "oldest", oldest);
	return j_finish(oom, root);
}

char *
wire_drained(void)
{
	cJSON *root = cJSON_CreateObject();
	int oom = root == NULL;

	j_str(&oom, root, "type", "drained");
	/* Drained is sent when a load of the inbox past the cursor comes back
	 * empty, so nothing is ever pending at that moment. */
	j_int(&oom, root, "pending", 0);
	return j_finish(oom, root);
}
