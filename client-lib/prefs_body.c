/*
 * prefs_body.c - the 0x0b chat-settings body (PROTOCOL.md, "Chat
 * settings"): one chat's mute, pin and archive as a device of the user set
 * them, for the user's other devices. Strict: the chat id is 16 lowercase hex
 * digits, every number whole and in range; members a later version adds are
 * ignored, as the other JSON bodies allow.
 */
#include "reply.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
chat_id_ok(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n == CHAT_CHAT_ID_LEN && s[n] == '\0';
}

static int
values_ok(const struct prefs_body *p)
{
	return p->muted_until >= -1 && p->muted_until <= PROTO_PREFS_MAX_MS && p->pinned_at >= 0 &&
	       p->pinned_at <= PROTO_PREFS_MAX_MS && p->archived_at >= 0 &&
	       p->archived_at <= PROTO_PREFS_MAX_MS && p->at >= 1 && p->at <= PROTO_PREFS_MAX_MS;
}

static void
say(char *err, size_t errlen, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", what);
}

uint8_t *
prefs_body_build(const struct prefs_body *p, size_t *out_len, char *err, size_t errlen)
{
	char json[PROTO_MAX_PREFS_BODY];
	uint8_t *body;
	int n;

	if (out_len != NULL)
		*out_len = 0;
	if (out_len == NULL || p == NULL || !chat_id_ok(p->chat_id) || !values_ok(p)) {
		say(err, errlen, "chat settings: a bad chat id, or a time out of range");
		return NULL;
	}
	n = snprintf(json, sizeof json,
		     "{\"chatId\":\"%s\",\"mutedUntil\":%lld,\"pinnedAt\":%lld,"
		     "\"archivedAt\":%lld,\"at\":%lld}",
		     p->chat_id, (long long)p->muted_until, (long long)p->pinned_at,
		     (long long)p->archived_at, (long long)p->at);
	if (n < 0 || (size_t)n + 1 > PROTO_MAX_PREFS_BODY ||
	    (body = malloc((size_t)n + 1)) == NULL) {
		say(err, errlen, "out of memory");
		return NULL;
	}
	body[0] = PROTO_BODY_PREFS;
	memcpy(body + 1, json, (size_t)n);
	*out_len = (size_t)n + 1;
	return body;
}

/* A whole number from min to max, compared as a double before it is
 * converted (no NaN or 1e300 converts out of range): 0, or -1. */
static int
get_whole(const cJSON *root, const char *name, int64_t min, int64_t max, int64_t *out)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, name);

	if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble) || j->valuedouble < (double)min ||
	    j->valuedouble > (double)max || j->valuedouble != (double)(int64_t)j->valuedouble)
		return -1;
	*out = (int64_t)j->valuedouble;
	return 0;
}

int
prefs_body_parse(const uint8_t *body, size_t len, struct prefs_body *p, char *err, size_t errlen)
{
	cJSON *root = NULL;
	const char *id;
	int rc = REPLY_ERR_FORMAT;

	if (p == NULL)
		return REPLY_ERR_FORMAT;
	memset(p, 0, sizeof *p);
	if (err && errlen)
		err[0] = '\0';
	if (body == NULL || len == 0 || body[0] != PROTO_BODY_PREFS || len > PROTO_MAX_PREFS_BODY) {
		say(err, errlen, "not a chat-settings body (or over 512 bytes)");
		return REPLY_ERR_FORMAT;
	}
	if (body_json_open(body, len, PROTO_BODY_PREFS, "chat settings", &root, err, errlen) !=
	    REPLY_OK)
		return REPLY_ERR_FORMAT;
	id = proto_get_str(root, "chatId");
	if (id == NULL || !chat_id_ok(id))
		say(err, errlen, "chat settings: chatId is not a chat id");
	else if (get_whole(root, "mutedUntil", -1, PROTO_PREFS_MAX_MS, &p->muted_until) ||
		 get_whole(root, "pinnedAt", 0, PROTO_PREFS_MAX_MS, &p->pinned_at) ||
		 get_whole(root, "archivedAt", 0, PROTO_PREFS_MAX_MS, &p->archived_at) ||
		 get_whole(root, "at", 1, PROTO_PREFS_MAX_MS, &p->at))
		say(err, errlen,
		    "chat settings: mutedUntil, pinnedAt, archivedAt or at is not a whole "
		    "number in range");
	else {
		memcpy(p->chat_id, id, CHAT_CHAT_ID_LEN + 1);
		rc = REPLY_OK;
	}
	if (rc != REPLY_OK)
		memset(p, 0, sizeof *p);
	cJSON_Delete(root);
	return rc;
}
