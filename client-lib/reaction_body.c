/*
 * reaction_body.c - the 0x06 reaction body (PROTOCOL.md, "Replies and
 * reactions"): which message of the chat, and the emoji ("" takes the
 * sender's reaction back). One reaction per person per message: the
 * receiver keeps the one the server numbered last (store_reactions.c).
 */
#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
reaction_valid_emoji(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	if (s == NULL || len > REACTION_EMOJI_MAX || !proto_valid_utf8(s, len))
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			return 0;
		/* C1 controls, U+0080 to U+009F: C2 80 to C2 9F. */
		if (u[i] == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
			return 0;
	}
	return 1;
}

uint8_t *
reaction_body_build(const char *target, const char *emoji, size_t *out_len, char *err,
		    size_t errlen)
{
	cJSON *root = NULL;
	char *json = NULL;
	uint8_t *body = NULL;
	size_t jlen;

	if (out_len != NULL)
		*out_len = 0;
	if (out_len == NULL || !proto_valid_hex(target, CHAT_MESSAGE_ID_LEN) || emoji == NULL ||
	    !reaction_valid_emoji(emoji, strnlen(emoji, REACTION_EMOJI_MAX + 1))) {
		if (err && errlen)
			snprintf(err, errlen,
				 "a reaction is a message id and an emoji of at most %d bytes "
				 "of UTF-8, no control characters",
				 REACTION_EMOJI_MAX);
		return NULL;
	}
	if ((root = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(root, "target", target) == NULL ||
	    cJSON_AddStringToObject(root, "emoji", emoji) == NULL ||
	    (json = cJSON_PrintUnformatted(root)) == NULL) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		goto out;
	}
	jlen = strlen(json);
	if ((body = malloc(jlen + 1)) == NULL) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		goto out;
	}
	body[0] = PROTO_BODY_REACTION;
	memcpy(body + 1, json, jlen);
	*out_len = jlen + 1;
out:
	free(json);
	cJSON_Delete(root);
	return body;
}

int
reaction_body_parse(const uint8_t *body, size_t len, struct reaction_body *r, char *err,
		    size_t errlen)
{
	cJSON *root = NULL;
	const char *t, *e;
	int rc = REPLY_ERR_FORMAT;

	if (r == NULL)
		return REPLY_ERR_FORMAT;
	memset(r, 0, sizeof *r);
	if (err && errlen)
		err[0] = '\0';
	if (body_json_open(body, len, PROTO_BODY_REACTION, "reaction", &root, err, errlen) !=
	    REPLY_OK)
		return REPLY_ERR_FORMAT;
	t = proto_get_str(root, "target");
	e = proto_get_str(root, "emoji");
	if (!proto_valid_hex(t, CHAT_MESSAGE_ID_LEN)) {
		if (err && errlen)
			snprintf(err, errlen,
				 "reaction body: target is not 32 lowercase hex digits");
	} else if (e == NULL || !reaction_valid_emoji(e, strnlen(e, REACTION_EMOJI_MAX + 1))) {
		if (err && errlen)
			snprintf(err, errlen,
				 "reaction body: emoji missing, over %d bytes, not UTF-8 or "
				 "holding a control character",
				 REACTION_EMOJI_MAX);
	} else {
		snprintf(r->target, sizeof r->target, "%s", t);
		snprintf(r->emoji, sizeof r->emoji, "%s", e);
		rc = REPLY_OK;
	}
	cJSON_Delete(root);
	return rc;
}
