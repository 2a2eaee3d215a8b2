/*
 * wire_push.c - the frames the server sends unasked (PROTOCOL.md, "Pushes"):
 * hello, newMessage and receipt, chatUpdate, linked, missed, drained.  The
 * inbox's rows become pushes here (wire_inbox_push), whatever their kind.
 */
#include "wire_req.h"

#include <stdlib.h>

#include <sodium.h>

#include "proto.h"

const char *
wire_op_name(enum db_update_op op)
{
	switch (op) {
	case DB_OP_CREATE: return "create";
	case DB_OP_ADD: return "add";
	case DB_OP_REMOVE: return "remove";
	case DB_OP_LEAVE: return "leave";
	case DB_OP_PROMOTE: return "promote";
	case DB_OP_DEMOTE: return "demote";
	case DB_OP_RENAME: return "rename";
	case DB_OP_DESCRIBE: return "describe";
	}
	return "?";
}

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
	/* What the server takes (stage 2 headers included): a stage 1 client
	 * still seals at most PROTO_MAX_CIPHERTEXT (its padding is fixed). */
	j_int(&oom, lim, "maxCiphertext", PROTO_MAX_ENVELOPE);
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

/* The sender's directory entry, as a push carries it. */
static void
add_sender(int *oom, cJSON *root, const struct db_inbox_row *row)
{
	cJSON *snd = j_check(oom, cJSON_AddObjectToObject(root, "sender"));

	j_str(oom, snd, "user", row->sender_user);
	j_int(oom, snd, "deviceId", row->sender_device);
	j_b64(oom, snd, "identityKey", row->sender_identity_key, PROTO_KEY_BYTES);
	j_b64(oom, snd, "exchangeKey", row->sender_exchange_key, PROTO_KEY_BYTES);
	j_b64(oom, snd, "exchangeKeySig", row->sender_exchange_key_sig, PROTO_SIG_BYTES);
	j_opt_b64(oom, snd, "approverKey", row->sender_approver_key, PROTO_KEY_BYTES);
	j_opt_b64(oom, snd, "approval", row->sender_approval, PROTO_SIG_BYTES);
}

char *
wire_typing(const struct db_inbox_row *row)
{
	cJSON *root = cJSON_CreateObject();
	char *ct = proto_b64_encode(row->ciphertext, row->ciphertext_len), *text;
	int oom = root == NULL || ct == NULL;

	j_str(&oom, root, "type", "typing");
	j_str(&oom, root, "chatId", row->chat_id);
	j_int(&oom, root, "sentAt", row->sent_at);
	add_sender(&oom, root, row);
	if (ct != NULL)
		j_str(&oom, root, "ciphertext", ct);
	text = j_finish(oom, root);
	free(ct);
	return text;
}

char *
wire_new_message(const struct db_inbox_row *row)
{
	cJSON *root = cJSON_CreateObject(), *ref;
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
	add_sender(&oom, root, row);
	/* Omitted, not null, for a stage 2 envelope (issue 13), which has none. */
	if (row->nonce != NULL)
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
	/* A rename's or a creation's name is the one it gave, not the chat's
	 * latest (a creation stored by an older server has no text). */
	j_opt_str(&oom, root, "name",
		  u->op == DB_OP_RENAME || (u->op == DB_OP_CREATE && u->text != NULL) ? u->text
										  : u->name);
	if (u->op == DB_OP_DESCRIBE)
		j_str(&oom, root, "description", u->text);
	j_str(&oom, root, "actor", u->actor);
	j_str(&oom, root, "operation", wire_op_name(u->op));
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
