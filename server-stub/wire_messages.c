/*
 * wire_messages.c - messages, receipts and acks (PROTOCOL.md, "Messages" and
 * "Receipts"): sendMessage and sendReceipt, one path for both (a receipt has
 * its own id field, no seq, no blobs, and may go to some of the chat's
 * devices), and ack.  Their pushes are made from the inbox (wire_push.c).
 */
#include "wire_req.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

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
	if (req_user(r, req_field(o, "user"), where, e->to.user) != 0)
		return -1;
	snprintf(where, sizeof where, "envelopes[%zu].deviceId", i);
	if (req_device_id(r, o, where, &e->to.device_id) != 0)
		return -1;
	/* Optional: a stage 2 envelope (issue 13) has none; a stage 1 one has
	 * exactly PROTO_NONCE_BYTES. */
	snprintf(where, sizeof where, "envelopes[%zu].nonce", i);
	e->no_nonce = req_field(o, "nonce") == NULL;
	if (!e->no_nonce && req_bytes(r, o, "nonce", where, e->nonce, sizeof e->nonce) != 0)
		return -1;
	snprintf(where, sizeof where, "envelopes[%zu].ciphertext", i);
	if ((ct = req_string(r, o, "ciphertext", where)) == NULL)
		return -1;
	if (strlen(ct) > proto_b64_len(PROTO_MAX_ENVELOPE)) {
		req_fail(r, "too_large", "%s: at most %d bytes", where, PROTO_MAX_ENVELOPE);
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
	if (e->ciphertext_len > PROTO_MAX_ENVELOPE) {
		req_fail(r, "too_large", "%s: at most %d bytes", where, PROTO_MAX_ENVELOPE);
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

/* Tell the network layer of a stored send's rows, each with what its push
 * needs (the sender's keys from the store's cache), or only that the
 * device's inbox changed if the keys cannot be had. */
static void
tell_recipients(struct req *r, const struct db_send *req, const struct db_send_result *res)
{
	const struct wire_hooks *h = r->h;
	struct db_keys k = {0};
	int rows = h->inbox_row != NULL &&
		   db_sender_keys(h->db, req->sender_user, req->sender_device, &k) == DB_OK;
	size_t i;

	for (i = 0; i < req->n_envelopes; i++) {
		const struct db_envelope *e = &req->envelopes[i];
		struct db_inbox_row row = {
			.inbox_id = res->inbox_ids ? res->inbox_ids[i] : 0,
			.chat_id = req->chat_id,
			.message_id = req->message_id,
			.seq = res->seq,
			.sent_at = res->sent_at,
			.is_receipt = req->receipt,
			.sender_user = req->sender_user,
			.sender_device = req->sender_device,
			.sender_identity_key = k.identity_key,
			.sender_exchange_key = k.exchange_key,
			.sender_exchange_key_sig = k.exchange_key_sig,
			.sender_approver_key = k.has_approval ? k.approver_key : NULL,
			.sender_approval = k.has_approval ? k.approval : NULL,
			.nonce = e->no_nonce ? NULL : e->nonce,
			.ciphertext = e->ciphertext,
			.ciphertext_len = e->ciphertext_len,
		};

		/* Dropped: the recipient has blocked the sender; no row. */
		if (res->inbox_ids != NULL && res->inbox_ids[i] == 0)
			continue;
		if (rows && res->inbox_ids != NULL)
			h->inbox_row(h->udata, e->to.user, e->to.device_id, &row);
		else if (h->inbox_changed)
			h->inbox_changed(h->udata, e->to.user, e->to.device_id);
	}
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
	int64_t ttl_ms = 0;
	const cJSON *list, *v;
	struct db_envelope *env = NULL;
	struct db_send req;
	struct db_send_result res;
	size_t n = 0;

	if (req_hex(r, r->msg, "chatId", PROTO_CHAT_ID_LEN, chat_id) != 0 ||
	    req_hex(r, r->msg, id_field, PROTO_MESSAGE_ID_LEN, message_id) != 0 ||
	    (list = req_array(r, "envelopes", PROTO_MAX_ENVELOPES)) == NULL)
		return;
	/* Nobody to deliver to: a receipt goes nowhere, and a message with
	 * files would only keep its blobs on the server for nothing. A plain
	 * message with none is taken when the chat has no device but the
	 * sender's (check_devices: notes to self on a user's only device,
	 * PROTOCOL.md "Notes to self"): it gets its seq, its place. */
	if (cJSON_GetArraySize(list) == 0 && (receipt || req_field(r->msg, "blobs") != NULL)) {
		req_fail(r, "bad_request",
			 "envelopes: at least one (a chat with no other device cannot be sent "
			 "%s)",
			 receipt ? "a receipt" : "files");
		return;
	}
	/* Optional, and only on messages: the attachments' blobs. */
	if (!receipt && req_field(r->msg, "blobs") != NULL) {
		const cJSON *bl = req_array(r, "blobs", PROTO_MAX_BLOBS);

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
	/* Optional, and only on messages: a disappearing message's timer, in
	 * seconds (PROTOCOL.md, "Disappearing messages"); the server deletes its
	 * inbox rows that long after sentAt. Any whole number up to the longest
	 * timer is taken (clients send 30 s or more; a test may send less). */
	if (!receipt && (v = req_field(r->msg, "ttl")) != NULL) {
		if (!cJSON_IsNumber(v) || !proto_is_integer(v->valuedouble, 1, PROTO_TIMER_MAX_S)) {
			req_fail(r, "bad_request", "ttl: must be an integer from 1 to %lld",
				 PROTO_TIMER_MAX_S);
			return;
		}
		ttl_ms = (int64_t)v->valuedouble * 1000;
	}
	/* Room for one at least (there may be none, see above): env is never
	 * NULL past here. */
	if ((env = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof *env)) == NULL) {
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
		.ttl_ms = ttl_ms,
	};
	switch (db_send(r->h->db, &req, &res)) {
	case DB_OK:
		/* The network layer pushes only after the COMMIT: a push must
		 * never show what could still be rolled back. */
		if (!res.replayed)
			tell_recipients(r, &req, &res);
		req_reply(r);
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
	default: req_internal(r); break;
	}
	db_send_result_free(&res);
	free_envelopes(env, n);
}

void
handle_send(struct req *r)
{
	send_common(r, 0);
}

void
handle_send_receipt(struct req *r)
{
	send_common(r, 1);
}

/* ---- typing ------------------------------------------------------------ */

/* 1 if to has blocked the sender (no typing for them), 0 not, -1 with the
 * request failed. */
static int
typing_blocked(struct req *r, const char *to)
{
	if (strcmp(to, r->s->user) == 0)
		return 0;
	switch (db_is_blocked(r->h->db, to, r->s->user)) {
	case DB_OK: return 1;
	case DB_NOT_FOUND: return 0;
	default: req_internal(r); return -1;
	}
}

/* typing: stage 2 envelopes for some of the chat's members' devices, relayed
 * to those that have a receiving connection now and stored nowhere (not in
 * an inbox, not in the database). At most one a chat a second from a
 * connection: more are dropped (relayed 0). */
void
handle_typing(struct req *r)
{
	char chat_id[PROTO_CHAT_ID_LEN + 1];
	const cJSON *list, *v;
	struct db_chat *chat;
	struct db_envelope *env;
	struct db_keys k;
	int64_t now = proto_now_ms();
	size_t n = 0, relayed = 0;

	if (req_hex(r, r->msg, "chatId", PROTO_CHAT_ID_LEN, chat_id) != 0 ||
	    (list = req_array(r, "envelopes", PROTO_MAX_ENVELOPES)) == NULL)
		return;
	if ((chat = malloc(sizeof *chat)) == NULL ||
	    (env = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof *env)) == NULL) {
		free(chat);
		r->oom = 1;
		return;
	}
	switch (db_get_chat(r->h->db, chat_id, r->s->user, chat)) {
	case DB_OK: break;
	case DB_NOT_FOUND:
		req_fail(r, "no_such_chat", "no chat %s that you are in", chat_id);
		goto done;
	default: req_internal(r); goto done;
	}
	cJSON_ArrayForEach(v, list) {
		int member = 0;

		if (read_envelope(r, v, n, &env[n]) != 0) {
			n++;
			goto done;
		}
		n++;
		if (!env[n - 1].no_nonce) {
			req_fail(r, "bad_request", "envelopes[%zu]: typing is stage 2 only (no nonce)",
				 n - 1);
			goto done;
		}
		if (env[n - 1].ciphertext_len > PROTO_MAX_TYPING_CIPHERTEXT) {
			req_fail(r, "too_large", "envelopes[%zu].ciphertext: at most %d bytes", n - 1,
				 PROTO_MAX_TYPING_CIPHERTEXT);
			goto done;
		}
		for (size_t m = 0; m < chat->n_members && !member; m++)
			member = strcmp(chat->members[m], env[n - 1].to.user) == 0;
		if (!member) {
			req_fail(r, "device_mismatch", "envelopes[%zu].user: %s is not in the chat",
				 n - 1, env[n - 1].to.user);
			goto done;
		}
	}
	/* Too soon after the last one for this chat: dropped, not refused (a
	 * refusal would be retried; typing is worth nothing late). */
	if (strcmp(r->s->typing_chat, chat_id) == 0 && now - r->s->typing_ms >= 0 &&
	    now - r->s->typing_ms < PROTO_TYPING_INTERVAL_MS) {
		req_reply(r);
		j_int(&r->oom, r->reply, "relayed", 0);
		goto done;
	}
	memcpy(r->s->typing_chat, chat_id, sizeof r->s->typing_chat);
	r->s->typing_ms = now;
	if (r->h->ephemeral != NULL &&
	    db_sender_keys(r->h->db, r->s->user, r->s->device_id, &k) == DB_OK) {
		for (size_t i = 0; i < n; i++) {
			int b = typing_blocked(r, env[i].to.user);

			if (b < 0)
				goto done;
			if (b) /* not counted: the sender learns nothing */
				continue;
			struct db_inbox_row row = {
				.chat_id = chat_id,
				.sent_at = now,
				.sender_user = r->s->user,
				.sender_device = r->s->device_id,
				.sender_identity_key = k.identity_key,
				.sender_exchange_key = k.exchange_key,
				.sender_exchange_key_sig = k.exchange_key_sig,
				.sender_approver_key = k.has_approval ? k.approver_key : NULL,
				.sender_approval = k.has_approval ? k.approval : NULL,
				.ciphertext = env[i].ciphertext,
				.ciphertext_len = env[i].ciphertext_len,
			};
			char *frame = wire_typing(&row);

			if (frame == NULL) {
				r->oom = 1;
				goto done;
			}
			relayed += (size_t)r->h->ephemeral(r->h->udata, env[i].to.user,
							   env[i].to.device_id, frame);
			free(frame);
		}
	}
	req_reply(r);
	j_int(&r->oom, r->reply, "relayed", (int64_t)relayed);
done:
	free_envelopes(env, n);
	free(chat);
}

/* ---- ack --------------------------------------------------------------- */

void
handle_ack(struct req *r)
{
	const cJSON *list = req_array(r, "messageIds", PROTO_MAX_ACK), *v;
	char(*ids)[PROTO_MESSAGE_ID_LEN + 1] = NULL;
	size_t n = 0, cap;
	int64_t acked;

	if (list == NULL)
		return;
	cap = (size_t)cJSON_GetArraySize(list);
	/* Room for one at least, so that ids is never NULL (an empty list acks
	 * nothing). */
	if ((ids = malloc((cap ? cap : 1) * sizeof *ids)) == NULL) {
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
		req_internal(r);
	} else {
		req_reply(r);
		j_int(&r->oom, r->reply, "acked", acked);
	}
	free(ids);
}
