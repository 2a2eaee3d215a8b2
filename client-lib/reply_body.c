/*
 * reply_body.c - the 0x05 reply body (PROTOCOL.md, "Replies and reactions"):
 * the reply's text and what it quotes (the quoted message's id, its sender
 * and the start of its text), so that a receiver can show the quote even
 * when it never had the quoted message. Built by the sender, parsed
 * strictly by every receiver. Also the strict JSON reading both this body
 * and the reaction's share.
 */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define BODY_MAX_MEMBERS 32 /* members of one object, unknown ones included */

static void __attribute__((format(printf, 3, 4)))
say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

size_t
reply_preview_len(const char *text, size_t len)
{
	size_t n = 0, k;

	while (n < len && (k = proto_utf8_seq((const unsigned char *)text + n, len - n)) > 0 &&
	       n + k <= REPLY_PREVIEW_MAX)
		n += k;
	return n;
}

/* 0 if obj has at most BODY_MAX_MEMBERS members, all named differently:
 * with duplicates, which one counts would depend on the parser. */
static int
members_ok(const cJSON *obj)
{
	const cJSON *a, *b;
	size_t count = 0;

	for (a = obj->child; a != NULL; a = a->next) {
		if (++count > BODY_MAX_MEMBERS || a->string == NULL)
			return -1;
		for (b = a->next; b != NULL; b = b->next)
			if (b->string == NULL || strcmp(a->string, b->string) == 0)
				return -1;
	}
	return 0;
}

int
body_json_open(const uint8_t *body, size_t len, uint8_t kind, const char *what, cJSON **root,
	       char *err, size_t errlen)
{
	const char *json, *end = NULL;
	size_t jlen;
	unsigned bad;

	*root = NULL;
	if (body == NULL || len < 2 || len > PROTO_MAX_PLAINTEXT || body[0] != kind) {
		say(err, errlen, "not a %s body (kind 0x%02x, 2 to %d bytes)", what, kind,
		    PROTO_MAX_PLAINTEXT);
		return REPLY_ERR_FORMAT;
	}
	json = (const char *)body + 1;
	jlen = len - 1;
	/* cJSON would cut a string at U+0000: what the sender wrote would not
	 * be what we read. */
	if ((bad = proto_json_check(json, jlen)) != 0) {
		say(err, errlen, "%s body: %s", what, proto_scrub_reason(bad));
		return REPLY_ERR_FORMAT;
	}
	*root = cJSON_ParseWithLengthOpts(json, jlen, &end, 0);
	if (*root == NULL) {
		say(err, errlen, "%s body: not JSON", what);
		return REPLY_ERR_FORMAT;
	}
	while (end != NULL && end < json + jlen && strchr(" \t\r\n", *end) != NULL)
		end++;
	if (end != json + jlen)
		say(err, errlen, "%s body: data after the JSON object", what);
	else if (!cJSON_IsObject(*root) || members_ok(*root) != 0)
		say(err, errlen, "%s body: not an object of distinct members", what);
	else
		return REPLY_OK;
	cJSON_Delete(*root);
	*root = NULL;
	return REPLY_ERR_FORMAT;
}

static int
valid_text(const char *s, size_t len)
{
	return len >= 1 && len <= CHAT_MAX_TEXT && proto_valid_utf8(s, len);
}

static int
valid_preview(const char *s)
{
	size_t n = strnlen(s, REPLY_PREVIEW_MAX + 1);

	return n <= REPLY_PREVIEW_MAX && proto_valid_utf8(s, n);
}

/* Wipes the strings of a tree (texts) before it is freed. */
static void
wipe_tree(cJSON *o)
{
	for (cJSON *i = o ? o->child : NULL; i != NULL; i = i->next) {
		if (cJSON_IsString(i) && i->valuestring != NULL)
			sodium_memzero(i->valuestring, strlen(i->valuestring));
		else if (cJSON_IsObject(i))
			wipe_tree(i);
	}
}

uint8_t *
reply_body_build(const char *text, size_t len, const char *id, const char *sender,
		 const char *preview, size_t *out_len, char *err, size_t errlen)
{
	cJSON *root = NULL, *q;
	char *t = NULL, *json = NULL;
	uint8_t *body = NULL;
	size_t jlen;

	if (out_len != NULL)
		*out_len = 0;
	if (text == NULL || id == NULL || sender == NULL || preview == NULL || out_len == NULL) {
		say(err, errlen, "reply_body_build: missing argument");
		return NULL;
	}
	if (!valid_text(text, len) || !proto_valid_hex(id, CHAT_MESSAGE_ID_LEN) ||
	    !proto_valid_user(sender) || !valid_preview(preview)) {
		say(err, errlen,
		    "a reply needs 1 to %d bytes of UTF-8 text, the quoted "
		    "message's id, sender and a preview of at most %d bytes",
		    CHAT_MAX_TEXT, REPLY_PREVIEW_MAX);
		return NULL;
	}
	if ((t = malloc(len + 1)) == NULL)
		goto nomem;
	memcpy(t, text, len);
	t[len] = '\0';
	if ((root = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(root, "text", t) == NULL ||
	    (q = cJSON_AddObjectToObject(root, "replyTo")) == NULL ||
	    cJSON_AddStringToObject(q, "id", id) == NULL ||
	    cJSON_AddStringToObject(q, "sender", sender) == NULL ||
	    cJSON_AddStringToObject(q, "preview", preview) == NULL ||
	    (json = cJSON_PrintUnformatted(root)) == NULL)
		goto nomem;
	jlen = strlen(json);
	if (jlen + 1 > PROTO_MAX_PLAINTEXT) {
		say(err, errlen, "the reply is too long: %zu bytes, at most %d", jlen + 1,
		    PROTO_MAX_PLAINTEXT);
		goto out;
	}
	if ((body = malloc(jlen + 1)) == NULL)
		goto nomem;
	body[0] = PROTO_BODY_REPLY;
	memcpy(body + 1, json, jlen);
	*out_len = jlen + 1;
	goto out;
nomem:
	say(err, errlen, "out of memory");
out:
	if (t != NULL) {
		sodium_memzero(t, len);
		free(t);
	}
	if (json != NULL) {
		sodium_memzero(json, strlen(json));
		free(json);
	}
	wipe_tree(root);
	cJSON_Delete(root);
	return body;
}

void
reply_body_free(struct reply_body *r)
{
	if (r == NULL)
		return;
	if (r->text != NULL) {
		sodium_memzero(r->text, r->text_len);
		free(r->text);
	}
	sodium_memzero(r, sizeof *r);
}

int
reply_body_parse(const uint8_t *body, size_t len, struct reply_body *r, char *err, size_t errlen)
{
	cJSON *root = NULL, *q;
	const char *s;
	size_t n;
	int rc = REPLY_ERR_FORMAT;

	if (r == NULL)
		return REPLY_ERR_FORMAT;
	memset(r, 0, sizeof *r);
	if (err && errlen)
		err[0] = '\0';
	if (body_json_open(body, len, PROTO_BODY_REPLY, "reply", &root, err, errlen) != REPLY_OK)
		return REPLY_ERR_FORMAT;
	q = cJSON_GetObjectItemCaseSensitive(root, "replyTo");
	if ((s = proto_get_str(root, "text")) == NULL ||
	    !valid_text(s, n = strnlen(s, CHAT_MAX_TEXT + 1))) {
		say(err, errlen, "reply body: text missing, empty, not UTF-8 or over %d bytes",
		    CHAT_MAX_TEXT);
	} else if (!cJSON_IsObject(q) || members_ok(q) != 0) {
		say(err, errlen, "reply body: replyTo is not an object of distinct members");
	} else if (!proto_valid_hex(proto_get_str(q, "id"), CHAT_MESSAGE_ID_LEN)) {
		say(err, errlen, "reply body: replyTo.id is not 32 lowercase hex digits");
	} else if (!proto_valid_user(proto_get_str(q, "sender"))) {
		say(err, errlen, "reply body: replyTo.sender is not a user name");
	} else if (proto_get_str(q, "preview") == NULL ||
		   !valid_preview(proto_get_str(q, "preview"))) {
		say(err, errlen, "reply body: replyTo.preview missing, not UTF-8 or over %d bytes",
		    REPLY_PREVIEW_MAX);
	} else if ((r->text = malloc(n + 1)) == NULL) {
		say(err, errlen, "out of memory");
		rc = REPLY_ERR_NOMEM;
	} else {
		memcpy(r->text, s, n + 1);
		r->text_len = n;
		snprintf(r->id, sizeof r->id, "%s", proto_get_str(q, "id"));
		snprintf(r->sender, sizeof r->sender, "%s", proto_get_str(q, "sender"));
		snprintf(r->preview, sizeof r->preview, "%s", proto_get_str(q, "preview"));
		rc = REPLY_OK;
	}
	wipe_tree(root);
	cJSON_Delete(root);
	return rc;
}
