/*
 * wire.c - chat-server's request layer, its core (see wire.h for the
 * interface, wire_req.h for how its files are split): a frame read and
 * checked as a request, its handler found in handlers[] and run, and the one
 * reply made of what the handler left; the field readers and the errors
 * every handler uses.
 *
 * Each request type has one handler, in the file of its area.  A handler
 * reads and checks its fields in the order they appear in PROTOCOL.md, then
 * calls the store, and either fills the reply object or records an error
 * with req_fail().  wire_handle() turns either into the one reply frame.
 */
#include "wire_req.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* ---- errors ------------------------------------------------------------ */

void
req_fail(struct req *r, const char *code, const char *fmt, ...)
{
	va_list ap;

	r->err_code = code;
	va_start(ap, fmt);
	vsnprintf(r->err_msg, sizeof r->err_msg, fmt, ap);
	va_end(ap);
}

int
req_failed(const struct req *r)
{
	return r->err_code != NULL || r->oom;
}

/* How long a client is asked to wait before it sends a request the store
 * could not take (unavailable) again. */
#define UNAVAILABLE_RETRY_MS 1000

void
req_internal(struct req *r)
{
	cJSON *extra;

	if (!db_unavailable(r->h->db)) {
		req_fail(r, "internal", "the server's database failed; try again");
		return;
	}
	/* Nothing was changed, and the same request will do once the store is
	 * back: the client waits and sends it again, as after rate_limited. */
	extra = j_check(&r->oom, cJSON_CreateObject());
	j_int(&r->oom, extra, "retryAfterMs", UNAVAILABLE_RETRY_MS);
	cJSON_Delete(r->err_extra);
	r->err_extra = extra;
	req_fail(r, "unavailable",
		 "the server's store is out of reach for now; nothing was changed; try again");
	/* The connection's requests behind this one wait for it, as behind a
	 * rate_limited one (wire_rate_gate): taken now, one sent after it would
	 * overtake it, a send in the same chat say, when two instances' commits
	 * deadlocked and PostgreSQL broke this one off. */
	if (r->has_id) {
		int64_t now_us = util_mono_us();

		if (r->s->rate_hold_id == 0 || r->id < r->s->rate_hold_id) {
			r->s->rate_hold_id = r->id;
			r->s->rate_hold_since_us = now_us;
		}
		r->s->rate_hold_us = now_us + (int64_t)UNAVAILABLE_RETRY_MS * 1000;
	}
}

const char *
wire_session_device(const struct session *s, char *buf, size_t cap)
{
	if (!s->authed)
		return "-";
	snprintf(buf, cap, "%s/%u", s->user, (unsigned)s->device_id);
	return buf;
}

char *
wire_error_frame(const struct session *s, int has_id, int64_t id, const char *code,
		 const char *message, cJSON *extra, int log)
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
			wire_session_device(s, dev, sizeof dev), message);
	return j_finish(oom, root);
}

char *
wire_frame_error(const struct session *s, const char *code, const char *message)
{
	return wire_error_frame(s, 0, 0, code, message, NULL, 1);
}

/* ---- reading fields -----------------------------------------------------
 *
 * Each reader returns the value, or fails the request with bad_request
 * (naming the field as `where`) and returns NULL / -1. */

const cJSON *
req_field(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

const char *
req_string(struct req *r, const cJSON *o, const char *name, const char *where)
{
	const cJSON *v = req_field(o, name);

	if (!cJSON_IsString(v) || v->valuestring == NULL) {
		req_fail(r, "bad_request", "%s: %s", where, v ? "must be a string" : "missing");
		return NULL;
	}
	return v->valuestring;
}

/* A user name; invalid_user when it is a string of the wrong form. */
int
req_user(struct req *r, const cJSON *v, const char *where, char out[PROTO_USER_MAX + 1])
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

int
req_device_id(struct req *r, const cJSON *o, const char *where, uint32_t *out)
{
	const cJSON *v = req_field(o, "deviceId");

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
int
req_bytes(struct req *r, const cJSON *o, const char *name, const char *where, uint8_t *out,
	  size_t len)
{
	const char *s = req_string(r, o, name, where);
	size_t n;

	if (s == NULL)
		return -1;
	if (proto_b64_decode(s, out, len, &n) != 0 || n != len) {
		req_fail(r, "bad_request", "%s: must be %zu bytes in base64", where, len);
		return -1;
	}
	return 0;
}

int
req_hex(struct req *r, const cJSON *o, const char *name, size_t len, char *out)
{
	const char *s = req_string(r, o, name, name);

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
const cJSON *
req_array(struct req *r, const char *name, int max)
{
	const cJSON *v = req_field(r->msg, name);

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

/*
 * The user names of the array list (the field name) into names after the *n
 * already there, each checked as req_user checks it ("name[i]" naming it);
 * with dedup, a name names already holds is read once.  names has room for
 * cap: 0, 1 if the list holds more (the request not failed: the caller says
 * what the limit is), or -1 with the request failed.
 */
int
req_users(struct req *r, const cJSON *list, const char *name, char (*names)[PROTO_USER_MAX + 1],
	  size_t *n, size_t cap, int dedup)
{
	char one[PROTO_USER_MAX + 1], where[48];
	const cJSON *v;
	size_t i = 0;

	cJSON_ArrayForEach(v, list) {
		snprintf(where, sizeof where, "%s[%zu]", name, i++);
		if (req_user(r, v, where, one) != 0)
			return -1;
		if (dedup && req_seen(names, *n, one))
			continue;
		if (*n == cap)
			return 1;
		memcpy(names[(*n)++], one, sizeof one);
	}
	return 0;
}

/* 1 if name is among the first n of names. */
int
req_seen(char (*names)[PROTO_USER_MAX + 1], size_t n, const char *name)
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
int
req_contact(struct req *r, const char *subject)
{
	switch (db_is_contact(r->h->db, r->s->user, subject)) {
	case DB_OK: return 1;
	case DB_NOT_FOUND: return 0;
	default: req_internal(r); return -1;
	}
}

/* ---- replies ----------------------------------------------------------- */

/* The "ok" reply: id and ok first, as PROTOCOL.md writes them, for people
 * reading frames; the handler adds the rest. */
void
req_reply(struct req *r)
{
	r->reply = j_check(&r->oom, cJSON_CreateObject());
	j_int(&r->oom, r->reply, "id", r->id);
	j_check(&r->oom, cJSON_AddTrueToObject(r->reply, "ok"));
}

/* ---- dispatch ---------------------------------------------------------- */

/* Every request the server answers, and where its handler is. */
static const struct handler {
	const char *type;
	int opens_session; /* 1: register/auth/linkDevice, only before auth */
	handler_fn *fn;
} handlers[] = {
	/* wire_accounts.c */
	{"register", 1, handle_register},
	{"auth", 1, handle_auth},
	{"linkDevice", 1, handle_link_device},
	{"getKeys", 0, handle_get_keys},
	{"getLink", 0, handle_get_link},
	{"approveLink", 0, handle_approve_link},
	{"removeDevice", 0, handle_remove_device},
	/* wire_chats.c */
	{"createChat", 0, handle_create_chat},
	{"getChat", 0, handle_get_chat},
	{"modifyChatParticipants", 0, handle_modify},
	{"updateChat", 0, handle_update_chat},
	/* wire_messages.c */
	{"sendMessage", 0, handle_send},
	{"sendReceipt", 0, handle_send_receipt},
	{"typing", 0, handle_typing},
	{"ack", 0, handle_ack},
	/* wire_presence.c */
	{"getLastSeen", 0, handle_get_last_seen},
	{"setPrivacy", 0, handle_set_privacy},
	{"block", 0, handle_block},
	{"unblock", 0, handle_unblock},
	{"listBlocked", 0, handle_list_blocked},
	/* wire_blobs.c */
	{"getAttachmentTarget", 0, handle_get_attachment_target},
	{"getAttachmentDownload", 0, handle_get_attachment_download},
	/* wire_prekeys.c */
	{"uploadPrekeys", 0, handle_upload_prekeys},
	{"getPrekeyBundle", 0, handle_get_prekey_bundle},
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
	const cJSON *id = req_field(r->msg, "id");

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
	type = req_field(r->msg, "type");
	if (!cJSON_IsString(type) || type->valuestring == NULL) {
		req_fail(r, "bad_request", "type: %s", type ? "must be a string" : "missing");
		return NULL;
	}
	if (!r->has_id) {
		req_fail(r, "bad_request", "id: %s",
			 req_field(r->msg, "id") ? "must be an integer from 1 to 2^53" : "missing");
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

char *
wire_handle(const struct wire_hooks *h, struct session *s, const char *frame, size_t len)
{
	struct req r = {.h = h, .s = s};
	int64_t now_us =
		h->rate > 0 || h->rate_bytes > 0 || s->rate_hold_id > 0 ? util_mono_us() : 0;
	const struct handler *hd = route(&r, frame, len);
	int64_t wait = now_us ? wire_rate_gate(h, s, r.has_id, r.id, len, now_us) : 0;
	char *text;

	if (wait > 0) {
		/* Not processed: parsed only for the id, of the reply and the gate. */
		text = wire_rate_limited(&r, wait, now_us);
		cJSON_Delete(r.err_extra);
		cJSON_Delete((cJSON *)r.msg);
		return text;
	}
	if (hd != NULL)
		hd->fn(&r);
	if (r.err_code == NULL && (r.oom || r.reply == NULL))
		req_fail(&r, "internal", "the server ran out of memory");
	if (r.err_code != NULL) {
		text = wire_error_frame(s, r.has_id, r.id, r.err_code, r.err_msg, r.err_extra, 1);
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
