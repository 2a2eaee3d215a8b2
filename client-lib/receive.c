/*
 * receive.c - newMessage pushes.
 *
 * Order matters and is the point of this file: check the sender's keys, decrypt,
 * commit to the local store, hand to the application, and only then queue the
 * ack. A message that fails any check is not acked: it stays in the server's
 * inbox and comes again on the next connection, so nothing is lost to a bug or
 * a key the user has not accepted yet. A message already stored is acked again
 * without being shown again.
 */
#include "internal.h"
#include "attach.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

int
receive_queue_ack(struct chat_client *c, const char *message_id)
{
	char *id;

	if (c->n_acks == c->cap_acks) {
		size_t cap = c->cap_acks ? c->cap_acks * 2 : 16;
		char **p = realloc(c->acks, cap * sizeof *p);

		if (p == NULL)
			return CHAT_ERR_NOMEM;
		c->acks = p;
		c->cap_acks = cap;
	}
	id = strdup(message_id);
	if (id == NULL)
		return CHAT_ERR_NOMEM;
	c->acks[c->n_acks++] = id;
	session_want_write(c);
	return CHAT_OK;
}

static void
acked(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	(void)c;
	(void)op;
	(void)reply;
	(void)err; /* unacked rows come again next session; the store drops them */
}

void
receive_flush_acks(struct chat_client *c)
{
	cJSON *req, *arr;
	size_t n = c->n_acks < PROTO_MAX_ACK ? c->n_acks : PROTO_MAX_ACK;

	if (n == 0)
		return;
	req = cJSON_CreateObject();
	arr = req ? cJSON_AddArrayToObject(req, "messageIds") : NULL;
	if (arr == NULL || !cJSON_AddStringToObject(req, "type", "ack")) {
		cJSON_Delete(req);
		return; /* try again at the next write */
	}
	for (size_t i = 0; i < n; i++)
		if (!cJSON_AddItemToArray(arr, cJSON_CreateString(c->acks[i]))) {
			cJSON_Delete(req);
			return;
		}
	if (session_request(c, req, acked, NULL, 0) != CHAT_OK)
		return;
	for (size_t i = 0; i < n; i++)
		free(c->acks[i]);
	memmove(c->acks, c->acks + n, (c->n_acks - n) * sizeof *c->acks);
	c->n_acks -= n;
}

static void
report(struct chat_client *c, const char *message_id, int err)
{
	if (c->cbs.on_receive_error)
		c->cbs.on_receive_error(c, c->udata, message_id, err, c->errmsg);
}

/* The parts of a newMessage, checked for form and size. */
struct incoming {
	const char *chat_id, *message_id, *user;
	int64_t seq, sent_at, device;
	const cJSON *sender;
	uint8_t nonce[E2E_NONCE_BYTES];
	uint8_t *ct;
	size_t ct_len;
};

/* A newMessage, or a receipt: the same but for its id's name and no seq. */
static int
parse(struct chat_client *c, const cJSON *msg, int receipt, struct incoming *in)
{
	memset(in, 0, sizeof *in);
	in->chat_id = proto_get_str(msg, "chatId");
	in->message_id = proto_get_str(msg, receipt ? "receiptId" : "messageId");
	in->sender = cJSON_GetObjectItemCaseSensitive(msg, "sender");
	in->user = proto_get_str(in->sender, "user");
	if (!proto_valid_hex(in->chat_id, CHAT_CHAT_ID_LEN) ||
	    !proto_valid_hex(in->message_id, CHAT_MESSAGE_ID_LEN) || !proto_valid_user(in->user) ||
	    proto_get_int(in->sender, "deviceId", 1, INT32_MAX, &in->device) != 0 ||
	    (!receipt && proto_get_int(msg, "seq", 1, INT64_MAX / 2, &in->seq) != 0) ||
	    proto_get_int(msg, "sentAt", 0, INT64_MAX / 2, &in->sent_at) != 0 ||
	    proto_get_b64(msg, "nonce", in->nonce, sizeof in->nonce, 0, NULL) != 0)
		return client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a malformed message");
	in->ct = malloc(PROTO_MAX_CIPHERTEXT);
	if (in->ct == NULL)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	if (proto_get_b64(msg, "ciphertext", in->ct, 0, PROTO_MAX_CIPHERTEXT, &in->ct_len) != 0 ||
	    in->ct_len < E2E_TAG_BYTES)
		return client_fail(c, CHAT_ERR_PROTOCOL,
				   "message %s has a malformed or oversized "
				   "ciphertext",
				   in->message_id);
	return CHAT_OK;
}

/* Decrypts into a malloc'd buffer (*pt, *pt_len); wipe and free it after use. */
static int
open_envelope(struct chat_client *c, const struct incoming *in, const uint8_t sender_xk[32],
	      uint8_t **pt, size_t *pt_len)
{
	struct e2e_header h = {in->chat_id,          in->message_id, in->user,
			       (uint32_t)in->device, c->user,        c->device_id};

	*pt = malloc(in->ct_len);
	if (*pt == NULL)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	if (e2e_open(*pt, pt_len, in->ct, in->ct_len, in->nonce, &h, c->id->x_sk, c->id->x_pk,
		     sender_xk) != 0) {
		free(*pt);
		*pt = NULL;
		return client_fail(c, CHAT_ERR_DECRYPT,
				   "message %s from %s does not decrypt: it was "
				   "altered, or not made for this device",
				   in->message_id, in->user);
	}
	return CHAT_OK;
}

/* Stores the decrypted body; on_message fires if it was new, or stored before
 * but never handed over (the program died in between). */
static int
store_body(struct chat_client *c, const struct incoming *in, const uint8_t *pt, size_t len,
	   int unhanded)
{
	struct chat_message m = {0};
	struct chat_attachment a[ATTACH_MAX_COUNT];
	struct attach_meta *atts = NULL;
	size_t n_atts = 0;
	char *text;
	int rc;

	if (len >= 1 && pt[0] == PROTO_BODY_ATTACH &&
	    attach_body_parse(pt, len, &text, &atts, &n_atts, NULL, 0) == ATTACH_OK) {
		/* Text and files: the files' keys go to the store with the message. */
		m.text_len = strlen(text);
		for (size_t i = 0; i < n_atts; i++)
			a[i] = (struct chat_attachment){atts[i].name, atts[i].type,
							(int64_t)atts[i].size, NULL};
		m.attachments = a;
		m.n_attachments = n_atts;
	} else if (len >= 1 && pt[0] == PROTO_BODY_TEXT && len - 1 <= CHAT_MAX_TEXT &&
		   proto_valid_utf8((const char *)pt + 1, len - 1)) {
		text = malloc(len);
		if (text == NULL)
			return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		memcpy(text, pt + 1, len - 1);
		text[len - 1] = '\0';
		m.text_len = len - 1;
	} else {
		/* A kind from a later version: keep a placeholder, don't block the inbox. */
		text = strdup("(a message this version of libchat cannot show)");
		if (text == NULL)
			return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		m.text_len = strlen(text);
	}
	m.chat_id = in->chat_id;
	m.message_id = in->message_id;
	m.sender = in->user;
	m.sender_device = (uint32_t)in->device;
	m.seq = in->seq;
	m.sent_at = in->sent_at;
	m.text = text;
	m.outgoing = strcmp(in->user, c->user) == 0;
	m.state = "received";
	m.kind = "text";
	/* The message and the delivered receipt this device now owes its sender
	 * land together: a crash cannot leave one without the other. */
	rc = store_begin(&c->store) != 0 ? -1 : store_message_insert(&c->store, &m);
	if (rc == 1 && !m.outgoing &&
	    store_receipt_queue(&c->store, m.chat_id, m.sender, m.message_id,
				CHAT_RECEIPT_DELIVERED, proto_now_ms()) != 0)
		rc = -1;
	for (size_t i = 0; rc == 1 && i < n_atts; i++)
		if (store_attachment_put(&c->store, m.message_id, (int)i, &atts[i]) != 0)
			rc = -1;
	if (rc >= 0 && store_commit(&c->store) != 0)
		rc = -1;
	if (rc < 0)
		store_rollback(&c->store);
	if (rc == 1 && !m.outgoing)
		receipts_due(c, RECEIPT_DELAY_MS);
	if (rc < 0) {
		sodium_memzero(text, m.text_len);
		free(text);
		attach_meta_free(atts, n_atts);
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	}
	if ((rc == 1 || unhanded) && c->cbs.on_message)
		c->cbs.on_message(c, c->udata, &m);
	attach_meta_free(atts, n_atts);
	/* Handed over now: after this, a delivery again only acks it. */
	if ((rc == 1 || unhanded) && store_message_handed(&c->store, m.message_id) != 0) {
		sodium_memzero(text, m.text_len);
		free(text);
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	}
	sodium_memzero(text, m.text_len);
	free(text);
	return CHAT_OK;
}

/* Makes sure the chat is in the store; asks the server for its members if new. */
static int
note_chat(struct chat_client *c, const char *chat_id)
{
	int rc = store_chat_exists(&c->store, chat_id);

	if (rc < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == 1)
		return CHAT_OK;
	if (store_chat_put(&c->store, chat_id, "direct", NULL, proto_now_ms(), NULL, 0, NULL, 0) !=
	    0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return ops_fetch_chat(c, chat_id);
}

/* Shared by messages and receipts: parse, check the sender's keys, decrypt,
 * then apply (store_body, or receipts_apply), then ack. A message already
 * stored is acked again without being shown again. */
static void
receive_envelope(struct chat_client *c, const cJSON *msg, int receipt)
{
	struct incoming in;
	uint8_t sender_xk[32], *pt = NULL;
	size_t pt_len = 0;
	int rc, unhanded = 0;

	rc = parse(c, msg, receipt, &in);
	if (rc == CHAT_OK && receipt) {
		rc = directory_check(c, in.user, (uint32_t)in.device, in.sender, sender_xk);
	} else if (rc == CHAT_OK) {
		rc = store_message_received(&c->store, in.message_id);
		unhanded = rc == 2;
		if (rc < 0) {
			rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		} else if (rc == 1) {
			/* Delivered before, and the ack was lost: ack again, show nothing. */
			free(in.ct);
			receive_queue_ack(c, in.message_id);
			return;
		} else {
			rc = directory_check(c, in.user, (uint32_t)in.device, in.sender, sender_xk);
		}
	}
	if (rc == DIRECTORY_NEED_LISTING) {
		/* A sender never seen, approved by another of their devices: the
		 * frame comes back here once their whole listing is in. */
		if ((rc = directory_hold(c, in.user, msg, receipt)) == CHAT_OK) {
			free(in.ct);
			return;
		}
	}
	if (rc == CHAT_ERR_KEY_CHANGED && c->cbs.on_key_changed)
		c->cbs.on_key_changed(c, c->udata, in.user, (uint32_t)in.device);
	if (rc == CHAT_OK)
		rc = open_envelope(c, &in, sender_xk, &pt, &pt_len);
	if (rc == CHAT_OK && receipt) {
		rc = receipts_apply(c, in.chat_id, in.message_id, in.user, (uint32_t)in.device, pt,
				    pt_len);
		if (rc == 1) {
			/* Malformed: say so, but take it, or it would come back forever. */
			report(c, in.message_id, CHAT_ERR_PROTOCOL);
			rc = CHAT_OK;
		}
	}
	if (rc == CHAT_OK && !receipt)
		rc = note_chat(c, in.chat_id);
	if (rc == CHAT_OK && !receipt)
		rc = store_body(c, &in, pt, pt_len, unhanded);
	if (rc == CHAT_OK)
		rc = receive_queue_ack(c, in.message_id);
	else if (rc != CHAT_ERR_KEY_CHANGED)
		report(c, in.message_id, rc);
	if (pt != NULL) {
		sodium_memzero(pt, pt_len);
		free(pt);
	}
	free(in.ct);
}

void
receive_new_message(struct chat_client *c, const cJSON *msg)
{
	receive_envelope(c, msg, 0);
}

void
receive_receipt(struct chat_client *c, const cJSON *msg)
{
	receive_envelope(c, msg, 1);
}

/* ---- chatUpdate ----------------------------------------------------------- */

/* "alice added bob, carol", for the chat's history. */
static void
describe(const struct chat_update *u, char *buf, size_t cap)
{
	size_t o;

	if (strcmp(u->operation, "create") == 0) {
		snprintf(buf, cap, "%s created the group \"%s\"", u->actor, u->name ? u->name : "");
		return;
	}
	if (strcmp(u->operation, "leave") == 0) {
		snprintf(buf, cap, "%s left", u->actor);
		return;
	}
	o = (size_t)snprintf(buf, cap, "%s %s ", u->actor,
			     strcmp(u->operation, "add") == 0 ? "added" : "removed");
	for (size_t i = 0; i < u->n_users && o < cap; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? ", " : "", u->users[i]);
}

static int
handle_update(struct chat_client *c, const cJSON *msg, struct chat_update *u)
{
	char **users = NULL, **members = NULL, **admins = NULL, text[1024];
	size_t n_users = 0, n_members = 0, n_admins = 0;
	struct chat_message m = {0};
	int rc;

	u->update_id = proto_get_str(msg, "updateId");
	u->actor = proto_get_str(msg, "actor");
	u->operation = proto_get_str(msg, "operation");
	if (!proto_valid_hex(u->update_id, CHAT_MESSAGE_ID_LEN) || !proto_valid_user(u->actor) ||
	    u->operation == NULL || proto_get_int(msg, "seq", 1, INT64_MAX / 2, &u->seq) != 0 ||
	    proto_get_int(msg, "sentAt", 0, INT64_MAX / 2, &u->sent_at) != 0 ||
	    read_users(cJSON_GetObjectItemCaseSensitive(msg, "users"), &users, &n_users) != 0)
		return client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a malformed chat update");
	/* Stored and handed over before: done. Stored but never handed over (the
	 * program died in between): again, as new; nothing after it was applied. */
	rc = store_message_received(&c->store, u->update_id);
	if (rc == 1 || rc < 0) {
		store_free_list(users, n_users);
		return rc < 0 ? client_fail(c, CHAT_ERR_STORE, "%s", c->store.err) : 1;
	}
	rc = store_chat_reply(c, msg, &members, &n_members);
	if (rc == CHAT_OK &&
	    read_users(cJSON_GetObjectItemCaseSensitive(msg, "admins"), &admins, &n_admins) != 0)
		rc = client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a malformed chat update");
	if (rc == CHAT_OK) {
		u->chat_id = proto_get_str(msg, "chatId");
		u->kind = proto_get_str(msg, "kind");
		u->name = proto_get_str(msg, "name");
		u->users = (const char *const *)users;
		u->n_users = n_users;
		u->participants = (const char *const *)members;
		u->n_participants = n_members;
		u->admins = (const char *const *)admins;
		u->n_admins = n_admins;
		/* Kept in the history as an event, in its place in the sequence. */
		describe(u, text, sizeof text);
		m.chat_id = u->chat_id;
		m.message_id = u->update_id;
		m.sender = u->actor;
		m.seq = u->seq;
		m.sent_at = u->sent_at;
		m.text = text;
		m.text_len = strlen(text);
		m.outgoing = strcmp(u->actor, c->user) == 0;
		m.state = "received";
		m.kind = "update";
		if (store_message_insert(&c->store, &m) < 0)
			rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	}
	if (rc == CHAT_OK && c->cbs.on_update)
		c->cbs.on_update(c, c->udata, u);
	if (rc == CHAT_OK && store_message_handed(&c->store, u->update_id) != 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	store_free_list(users, n_users);
	store_free_list(members, n_members);
	store_free_list(admins, n_admins);
	return rc;
}

void
receive_chat_update(struct chat_client *c, const cJSON *msg)
{
	struct chat_update u = {0};
	int rc = handle_update(c, msg, &u);

	/* Stored now (rc 0), or before (1): either way the server may forget it. */
	if (rc >= 0)
		rc = receive_queue_ack(c, u.update_id);
	if (rc < 0)
		report(c, u.update_id, rc);
}
