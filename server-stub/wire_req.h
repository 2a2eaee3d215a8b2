/*
 * wire_req.h - what the files of chat-server's request layer share, and
 * nothing outside them includes: one request being handled (struct req),
 * the readers of its fields, its reply or error, the JSON builders, and the
 * handlers.  The interface of the request layer is wire.h.
 *
 * The layer is split the way the protocol is, so that each file holds the
 * requests of one area and none is a hub:
 *
 *   wire.c           a frame read as a request, routed (handlers[]) and
 *                    answered; the field readers and the errors
 *   wire_json.c      building JSON (j_*)
 *   wire_accounts.c  register, auth, getKeys; linkDevice, getLink,
 *                    approveLink, removeDevice
 *   wire_presence.c  getLastSeen, setPrivacy
 *   wire_blocks.c    block, unblock, listBlocked; the blocked push
 *   wire_chats.c     createChat, getChat, modifyChatParticipants
 *   wire_messages.c  sendMessage, sendReceipt, ack
 *   wire_blobs.c     getAttachmentTarget, getAttachmentDownload
 *   wire_prekeys.c   uploadPrekeys, getPrekeyBundle; the prekeysLow push
 *   wire_rate.c      rate limits: the buckets, the gate, rate_limited
 *   wire_push.c      the pushes: hello, newMessage, receipt, chatUpdate,
 *                    linked, missed, drained
 *
 * Receipts have no file of their own: sendReceipt is sendMessage's path with
 * a flag (wire_messages.c), and a receipt is pushed as a message is
 * (wire_new_message).
 *
 * A handler reads:
 *
 *	void
 *	handle_set_privacy(struct req *r)
 *	{
 *		const cJSON *v = req_field(r->msg, "hideLastSeen");
 *
 *		if (!cJSON_IsBool(v)) {
 *			req_fail(r, "bad_request", "hideLastSeen: %s", ...);
 *			return;
 *		}
 *		if (db_set_hide_last_seen(r->h->db, r->s->user, cJSON_IsTrue(v)) != DB_OK) {
 *			req_internal(r);
 *			return;
 *		}
 *		req_reply(r);
 *		j_check(&r->oom, cJSON_AddBoolToObject(r->reply, "hideLastSeen", ...));
 *	}
 *
 * A handler never prints its reply: wire_handle does, or makes the error of
 * req_fail, or an internal error of a reply that ran out of memory (r->oom).
 * A new request is a handler in the file of its area, declared at the end
 * of this header and listed in handlers[] (wire.c).
 */
#ifndef CHAT_SERVER_WIRE_REQ_H
#define CHAT_SERVER_WIRE_REQ_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "wire.h"

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

/* ---- wire.c: errors and replies ---------------------------------------- */

/* Fail the request with code and a message: the reply is an error.  The
 * message names fields and validated user names only, never values from the
 * frame: it is logged, and nothing in the log may come from a ciphertext. */
void req_fail(struct req *r, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* 1 if the request has failed or run out of memory. */
int req_failed(const struct req *r);
/* Fail with internal: the store failed (and logged why). */
void req_internal(struct req *r);
/* Start the "ok" reply in r->reply: id and ok first, as PROTOCOL.md writes
 * them; the handler adds the rest. */
void req_reply(struct req *r);

/* An error frame for id (null unless has_id), with extra's members moved
 * into "error" (extra is freed); logged if log.  malloc'd, NULL when out of
 * memory. */
char *wire_error_frame(const struct session *s, int has_id, int64_t id, const char *code,
		       const char *message, cJSON *extra, int log);
/* "user/device" of an authenticated session for the log, else "-". */
const char *wire_session_device(const struct session *s, char *buf, size_t cap);

/* ---- wire.c: reading fields -----------------------------------------------
 *
 * Each reader returns the value, or fails the request with bad_request
 * (naming the field as `where`) and returns NULL / -1. */

const cJSON *req_field(const cJSON *o, const char *name);
const char *req_string(struct req *r, const cJSON *o, const char *name, const char *where);
/* A user name; invalid_user when it is a string of the wrong form. */
int req_user(struct req *r, const cJSON *v, const char *where, char out[PROTO_USER_MAX + 1]);
/* "deviceId" of o: an integer from 1 to PROTO_DEVICE_ID_MAX. */
int req_device_id(struct req *r, const cJSON *o, const char *where, uint32_t *out);
/* Base64 of exactly len bytes. */
int req_bytes(struct req *r, const cJSON *o, const char *name, const char *where, uint8_t *out,
	      size_t len);
/* len lowercase hex digits, into out (len + 1 bytes). */
int req_hex(struct req *r, const cJSON *o, const char *name, size_t len, char *out);
/* An array of at most max items (too_large beyond). */
const cJSON *req_array(struct req *r, const char *name, int max);

/* The user names of the array list (field name) into names after the *n
 * there, each checked as req_user does; with dedup each name once.  0, 1 if
 * there are more than cap (the request not failed: the caller says what the
 * limit is), or -1 with the request failed. */
int req_users(struct req *r, const cJSON *list, const char *name, char (*names)[PROTO_USER_MAX + 1],
	      size_t *n, size_t cap, int dedup);
/* 1 if name is among the first n of names. */
int req_seen(char (*names)[PROTO_USER_MAX + 1], size_t n, const char *name);
/* 1 if subject is a contact of this device's user (db_is_contact), 0 if
 * not, -1 with the request failed. */
int req_contact(struct req *r, const char *subject);

/* ---- wire_json.c ----------------------------------------------------------
 *
 * Each notes a failed allocation in *oom and returns what cJSON returned, so
 * a builder reads straight through and checks once, in j_finish. */

cJSON *j_check(int *oom, cJSON *item);
void j_str(int *oom, cJSON *o, const char *k, const char *v);
/* An integer, as raw decimal text (see the definition for why). */
void j_int(int *oom, cJSON *o, const char *k, int64_t v);
/* Base64 of at most a signature's size; j_opt_b64: null when bin is NULL. */
void j_b64(int *oom, cJSON *o, const char *k, const uint8_t *bin, size_t len);
void j_opt_b64(int *oom, cJSON *o, const char *k, const uint8_t *bin, size_t len);
/* A string, or null when v is NULL. */
void j_opt_str(int *oom, cJSON *o, const char *k, const char *v);
cJSON *j_obj_in_array(int *oom, cJSON *arr);
void j_str_in_array(int *oom, cJSON *arr, const char *v);
/* An array of names under k. */
void j_names(int *oom, cJSON *o, const char *k, const char (*names)[PROTO_USER_MAX + 1], size_t n);
/* Print and free root: the text (malloc'd), or NULL if anything failed
 * along the way. */
char *j_finish(int oom, cJSON *root);

/* ---- wire_rate.c ------------------------------------------------------- */

/* The rate_limited reply to r, not processed, for wait_ms; one log line per
 * second per connection at most. */
char *wire_rate_limited(struct req *r, int64_t wait_ms, int64_t now_us);

/* ---- wire_push.c ------------------------------------------------------- */

/* The protocol's name of an update's operation ("create", "add", ...). */
const char *wire_op_name(enum db_update_op op);

/* ---- the handlers, listed in wire.c's handlers[] ----------------------- */

/* wire_accounts.c */
handler_fn handle_register, handle_auth, handle_get_keys, handle_link_device, handle_get_link,
	handle_approve_link, handle_remove_device;
/* wire_presence.c */
handler_fn handle_get_last_seen, handle_set_privacy;
/* wire_blocks.c */
handler_fn handle_block, handle_unblock, handle_list_blocked;
/* The user's block list as "blocked" in the auth reply begun in r->reply
 * (PROTOCOL.md, "Blocking"), so that a device knows it before the first
 * push of its inbox: 0, or -1 with the request failed. */
int wire_auth_blocked(struct req *r);
/* wire_chats.c */
handler_fn handle_create_chat, handle_get_chat, handle_modify, handle_update_chat;
/* wire_messages.c */
handler_fn handle_send, handle_send_receipt, handle_ack, handle_typing;
/* wire_blobs.c */
handler_fn handle_get_attachment_target, handle_get_attachment_download;
/* wire_prekeys.c */
handler_fn handle_upload_prekeys, handle_get_prekey_bundle;

#endif /* CHAT_SERVER_WIRE_REQ_H */
