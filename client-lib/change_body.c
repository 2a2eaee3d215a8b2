/*
 * change_body.c - the 0x08 edit and 0x09 delete bodies (PROTOCOL.md, "Edits
 * and deletes"): which message of the chat, and for an edit its new text.
 * Whether the change applies (its sender wrote the message; a delete within
 * the window) is the receiver's store's to judge (store_changes.c), in any
 * order of arrival.
 */
#include "reply.h"

#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *
change_body_build(uint8_t kind, const char *target, const char *text, size_t len, size_t *out_len,
		  char *err, size_t errlen)
{
	cJSON *root = NULL;
	char *json = NULL, *t = NULL;
	uint8_t *body = NULL;
	size_t jlen;
	int edit = kind == PROTO_BODY_EDIT;

	if (out_len != NULL)
		*out_len = 0;
	if (out_len == NULL || (kind != PROTO_BODY_EDIT && kind != PROTO_BODY_DELETE) ||
	    !proto_valid_hex(target, CHAT_MESSAGE_ID_LEN) ||
	    (edit &&
	     (text == NULL || len == 0 || len > CHAT_MAX_TEXT || !proto_valid_utf8(text, len)))) {
		if (err && errlen)
			snprintf(err, errlen,
				 "an edit is a message id and 1 to %d bytes of UTF-8 text; a "
				 "delete, a message id",
				 CHAT_MAX_TEXT);
		return NULL;
	}
	if ((root = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(root, "target", target) == NULL)
		goto nomem;
	if (edit) {
		if ((t = malloc(len + 1)) == NULL)
			goto nomem;
		memcpy(t, text, len);
		t[len] = '\0';
		if (cJSON_AddStringToObject(root, "text", t) == NULL)
			goto nomem;
	}
	if ((json = cJSON_PrintUnformatted(root)) == NULL)
		goto nomem;
	jlen = strlen(json);
	if (jlen + 1 > PROTO_MAX_PLAINTEXT) {
		if (err && errlen)
			snprintf(err, errlen, "the edit is over %d bytes as JSON",
				 PROTO_MAX_PLAINTEXT);
		goto out;
	}
	if ((body = malloc(jlen + 1)) == NULL)
		goto nomem;
	body[0] = kind;
	memcpy(body + 1, json, jlen);
	*out_len = jlen + 1;
	goto out;
nomem:
	if (err && errlen)
		snprintf(err, errlen, "out of memory");
out:
	if (t != NULL) {
		sodium_memzero(t, len);
		free(t);
	}
	if (json != NULL) {
		sodium_memzero(json, strlen(json));
		free(json);
	}
	cJSON_Delete(root);
	return body;
}

void
change_body_free(struct change_body *ch)
{
	if (ch == NULL)
		return;
	if (ch->text != NULL) {
		sodium_memzero(ch->text, ch->text_len);
		free(ch->text);
	}
	memset(ch, 0, sizeof *ch);
}

int
change_body_parse(const uint8_t *body, size_t len, struct change_body *ch, char *err, size_t errlen)
{
	cJSON *root = NULL;
	const char *t, *x = NULL;
	size_t xlen = 0;
	int rc = REPLY_ERR_FORMAT, edit;

	if (ch == NULL)
		return REPLY_ERR_FORMAT;
	memset(ch, 0, sizeof *ch);
	if (err && errlen)
		err[0] = '\0';
	if (body == NULL || len == 0 ||
	    (body[0] != PROTO_BODY_EDIT && body[0] != PROTO_BODY_DELETE)) {
		if (err && errlen)
			snprintf(err, errlen, "not an edit or delete body");
		return REPLY_ERR_FORMAT;
	}
	edit = body[0] == PROTO_BODY_EDIT;
	if (body_json_open(body, len, body[0], edit ? "edit" : "delete", &root, err, errlen) !=
	    REPLY_OK)
		return REPLY_ERR_FORMAT;
	t = proto_get_str(root, "target");
	if (edit) {
		const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, "text");

		if (cJSON_IsString(j) && j->valuestring != NULL) {
			x = j->valuestring;
			xlen = strnlen(x, CHAT_MAX_TEXT + 1);
		}
	}
	if (!proto_valid_hex(t, CHAT_MESSAGE_ID_LEN)) {
		if (err && errlen)
			snprintf(err, errlen, "%s body: target is not 32 lowercase hex digits",
				 edit ? "edit" : "delete");
	} else if (edit &&
		   (x == NULL || xlen == 0 || xlen > CHAT_MAX_TEXT || !proto_valid_utf8(x, xlen))) {
		if (err && errlen)
			snprintf(err, errlen,
				 "edit body: text missing, empty, over %d bytes or not UTF-8",
				 CHAT_MAX_TEXT);
	} else if (!edit && cJSON_GetObjectItemCaseSensitive(root, "text") != NULL) {
		if (err && errlen)
			snprintf(err, errlen, "delete body: it has a text");
	} else {
		ch->kind = body[0];
		snprintf(ch->target, sizeof ch->target, "%s", t);
		if (edit) {
			if ((ch->text = malloc(xlen + 1)) == NULL) {
				rc = REPLY_ERR_NOMEM;
				goto out;
			}
			memcpy(ch->text, x, xlen + 1);
			ch->text_len = xlen;
		}
		rc = REPLY_OK;
	}
out:
	cJSON_Delete(root);
	return rc;
}
