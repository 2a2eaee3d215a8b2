/*
 * history_body.c - the 0x0c history batch (PROTOCOL.md, "History sync"):
 * built by the approving device from its store, parsed strictly by the new
 * device. Every count and length is bounded here, before the store sees
 * anything: the batch comes from the network (history.h).
 */
#include "history.h"
#include "analyzer.h"
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define HISTORY_VERSION     1
#define HISTORY_MAX_MEMBERS 32 /* members of one JSON object, unknown ones included */

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

static const char *const item_kinds[] = {"text", "update", "reaction", "edit", "delete", "timer"};
static const char *const item_states[] = {"sent", "delivered", "read", "received"};

static int
one_of(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; s != NULL && i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return 1;
	return 0;
}

/* ---- building ------------------------------------------------------------ */

static cJSON *
user_array(char *const *users, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; a != NULL && i < n; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(users[i]))) {
			cJSON_Delete(a);
			return NULL;
		}
	return a;
}

cJSON *
history_chat_json(const struct history_chat *ch)
{
	cJSON *o = cJSON_CreateObject(), *m = user_array(ch->members, ch->n_members),
	      *a = user_array(ch->admins, ch->n_admins);

	if (o == NULL || m == NULL || a == NULL || !cJSON_AddStringToObject(o, "id", ch->id) ||
	    !cJSON_AddStringToObject(o, "kind", ch->kind) ||
	    (ch->name != NULL && !cJSON_AddStringToObject(o, "name", ch->name)) ||
	    (ch->description != NULL &&
	     !cJSON_AddStringToObject(o, "description", ch->description)) ||
	    !cJSON_AddItemToObject(o, "members", m) ||
	    (m = NULL, !cJSON_AddItemToObject(o, "admins", a)) ||
	    (a = NULL, !cJSON_AddNumberToObject(o, "timer", (double)ch->timer)) ||
	    (ch->has_prefs &&
	     (!cJSON_AddNumberToObject(o, "mutedUntil", (double)ch->muted_until) ||
	      !cJSON_AddNumberToObject(o, "pinnedAt", (double)ch->pinned_at) ||
	      !cJSON_AddNumberToObject(o, "archivedAt", (double)ch->archived_at) ||
	      !cJSON_AddNumberToObject(o, "settingsAt", (double)ch->prefs_at)))) {
		cJSON_Delete(o);
		cJSON_Delete(m);
		cJSON_Delete(a);
		return NULL;
	}
	return o;
}

cJSON *
history_item_json(const struct history_item *it)
{
	cJSON *o = cJSON_CreateObject(), *arr;

	if (o == NULL || !cJSON_AddStringToObject(o, "id", it->id) ||
	    !cJSON_AddStringToObject(o, "chat", it->chat_id) ||
	    !cJSON_AddNumberToObject(o, "seq", (double)it->seq) ||
	    !cJSON_AddStringToObject(o, "sender", it->sender) ||
	    !cJSON_AddNumberToObject(o, "device", it->device) ||
	    !cJSON_AddNumberToObject(o, "sentAt", (double)it->sent_at) ||
	    !cJSON_AddStringToObject(o, "kind", it->kind) ||
	    !cJSON_AddStringToObject(o, "state", it->state) ||
	    !cJSON_AddStringToObject(o, "text", it->text ? it->text : ""))
		goto fail;
	if (it->reply_to[0] != '\0' &&
	    (!cJSON_AddStringToObject(o, "replyTo", it->reply_to) ||
	     (it->reply_sender[0] != '\0' &&
	      !cJSON_AddStringToObject(o, "replySender", it->reply_sender)) ||
	     (it->reply_sender[0] != '\0' &&
	      !cJSON_AddStringToObject(o, "replyPreview", it->reply_preview))))
		goto fail;
	if (it->deleted && !cJSON_AddTrueToObject(o, "deleted"))
		goto fail;
	if (it->expires_at > 0 && !cJSON_AddNumberToObject(o, "expiresAt", (double)it->expires_at))
		goto fail;
	if (it->n_atts > 0) {
		if ((arr = cJSON_AddArrayToObject(o, "attachments")) == NULL)
			goto fail;
		for (size_t i = 0; i < it->n_atts; i++) {
			cJSON *a = cJSON_CreateObject();

			if (a == NULL || !cJSON_AddItemToArray(arr, a)) {
				cJSON_Delete(a);
				goto fail;
			}
			if (attach_meta_json(a, &it->atts[i]) != 0)
				goto fail;
		}
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

/* Wipes the strings of a tree that holds keys and texts before it goes. */
static void
wipe_tree(cJSON *o)
{
	for (; o != NULL; o = o->next) {
		if (cJSON_IsString(o) && o->valuestring != NULL)
			sodium_memzero(o->valuestring, strlen(o->valuestring));
		wipe_tree(o->child);
	}
}

uint8_t *
history_body_build(const struct history_batch *b, cJSON *chats, cJSON *items, size_t *len,
		   char *err, size_t errlen)
{
	cJSON *root = cJSON_CreateObject();
	char *json = NULL;
	uint8_t *body = NULL;
	size_t jlen;

	*len = 0;
	if (root == NULL || !cJSON_AddNumberToObject(root, "v", HISTORY_VERSION) ||
	    !cJSON_AddStringToObject(root, "sync", b->sync) ||
	    !cJSON_AddNumberToObject(root, "to", b->to) ||
	    !cJSON_AddNumberToObject(root, "part", (double)b->part) ||
	    !cJSON_AddNumberToObject(root, "parts", (double)b->parts) ||
	    !cJSON_AddNumberToObject(root, "total", (double)b->total) ||
	    !cJSON_AddItemToObject(root, "chats", chats) ||
	    (chats = NULL, !cJSON_AddItemToObject(root, "messages", items)) ||
	    (items = NULL, (json = cJSON_PrintUnformatted(root)) == NULL)) {
		say(err, errlen, "out of memory");
		goto out;
	}
	jlen = strlen(json);
	if (jlen > PROTO_HISTORY_MAX_JSON) {
		say(err, errlen, "a history batch of %zu bytes is over %d", jlen,
		    PROTO_HISTORY_MAX_JSON);
		goto out;
	}
	if ((body = malloc(jlen + 1)) == NULL) {
		say(err, errlen, "out of memory");
		goto out;
	}
	body[0] = PROTO_BODY_HISTORY;
	memcpy(body + 1, json, jlen);
	*len = jlen + 1;
out:
	if (json != NULL) {
		sodium_memzero(json, strlen(json));
		free(json);
	}
	cJSON_Delete(chats);
	cJSON_Delete(items);
	if (root != NULL) {
		wipe_tree(root);
		cJSON_Delete(root);
	}
	return body;
}

uint8_t *
history_batch_build(const struct history_batch *b, size_t *len, char *err, size_t errlen)
{
	cJSON *chats = cJSON_CreateArray(), *items = cJSON_CreateArray(), *o;

	*len = 0;
	for (size_t i = 0; chats != NULL && i < b->n_chats; i++)
		if ((o = history_chat_json(&b->chats[i])) == NULL || !cJSON_AddItemToArray(chats, o)) {
			cJSON_Delete(o);
			cJSON_Delete(chats);
			chats = NULL;
		}
	for (size_t i = 0; items != NULL && i < b->n_items; i++)
		if ((o = history_item_json(&b->items[i])) == NULL || !cJSON_AddItemToArray(items, o)) {
			cJSON_Delete(o);
			cJSON_Delete(items);
			items = NULL;
		}
	if (chats == NULL || items == NULL) {
		cJSON_Delete(chats);
		cJSON_Delete(items);
		say(err, errlen, "out of memory");
		return NULL;
	}
	return history_body_build(b, chats, items, len, err, errlen);
}

/* ---- parsing ------------------------------------------------------------- */

static void
free_list(char **list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++)
		free(list[i]);
	free(list);
}

void
history_chat_free(struct history_chat *ch)
{
	free(ch->name);
	free(ch->description);
	free_list(ch->members, ch->n_members);
	free_list(ch->admins, ch->n_admins);
	memset(ch, 0, sizeof *ch);
}

void
history_item_free(struct history_item *it)
{
	if (it->text != NULL)
		sodium_memzero(it->text, it->text_len);
	free(it->text);
	attach_meta_free(it->atts, it->n_atts);
	memset(it, 0, sizeof *it);
}

void
history_batch_free(struct history_batch *b)
{
	for (size_t i = 0; b->chats != NULL && i < b->n_chats; i++)
		history_chat_free(&b->chats[i]);
	for (size_t i = 0; b->items != NULL && i < b->n_items; i++)
		history_item_free(&b->items[i]);
	free(b->chats);
	free(b->items);
	memset(b, 0, sizeof *b);
}

/* An object of at most HISTORY_MAX_MEMBERS members, all named differently. */
static int
object_ok(const cJSON *o)
{
	size_t count = 0;

	if (!cJSON_IsObject(o))
		return 0;
	for (const cJSON *a = o->child; a != NULL; a = a->next) {
		if (++count > HISTORY_MAX_MEMBERS || a->string == NULL)
			return 0;
		for (const cJSON *b = a->next; b != NULL; b = b->next)
			if (b->string == NULL || strcmp(a->string, b->string) == 0)
				return 0;
	}
	return 1;
}

/* An optional string member of at most max bytes of UTF-8: 1 there (in
 * *out), 0 absent or null, -1 anything else. */
static int
opt_str(const cJSON *o, const char *name, size_t max, const char **out)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);

	*out = NULL;
	if (j == NULL || cJSON_IsNull(j))
		return 0;
	if (!cJSON_IsString(j) || j->valuestring == NULL || strlen(j->valuestring) > max ||
	    !proto_valid_utf8(j->valuestring, strlen(j->valuestring)))
		return -1;
	*out = j->valuestring;
	return 1;
}

/* From here to the end: what the parsers allocate is stored into the batch
 * (its lists, chats and items), which history_batch_free frees whole on any
 * failure; the analyzer loses it through the arrays (common/analyzer.h). */
ANALYZER_LEAK_FP_BEGIN

/* An array of at most max distinct user names into a malloc'd list. */
static int
read_users(const cJSON *o, const char *name, size_t min, size_t max, char ***out, size_t *n)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, name), *j;
	size_t count;

	*out = NULL;
	*n = 0;
	if (!cJSON_IsArray(a) || (count = (size_t)cJSON_GetArraySize(a)) < min || count > max)
		return REPLY_ERR_FORMAT;
	if (count == 0)
		return REPLY_OK;
	if ((*out = calloc(count, sizeof **out)) == NULL)
		return REPLY_ERR_NOMEM;
	cJSON_ArrayForEach(j, a) {
		if (!cJSON_IsString(j) || !proto_valid_user(j->valuestring))
			return REPLY_ERR_FORMAT;
		for (size_t k = 0; k < *n; k++)
			if (strcmp((*out)[k], j->valuestring) == 0)
				return REPLY_ERR_FORMAT;
		if (((*out)[*n] = strdup(j->valuestring)) == NULL)
			return REPLY_ERR_NOMEM;
		(*n)++;
	}
	return REPLY_OK;
}

/* The chat's settings: the four members all there or none (a batch from
 * before them), each bounded as a 0x0b body's fields are. */
static int
parse_prefs(const cJSON *o, size_t i, struct history_chat *ch, char *err, size_t errlen)
{
	static const char *const names[] = {"mutedUntil", "pinnedAt", "archivedAt", "settingsAt"};
	size_t there = 0;

	for (size_t k = 0; k < 4; k++)
		there += cJSON_GetObjectItemCaseSensitive(o, names[k]) != NULL;
	if (there == 0)
		return REPLY_OK;
	if (there != 4 ||
	    proto_get_int(o, "mutedUntil", -1, PROTO_PREFS_MAX_MS, &ch->muted_until) != 0 ||
	    proto_get_int(o, "pinnedAt", 0, PROTO_PREFS_MAX_MS, &ch->pinned_at) != 0 ||
	    proto_get_int(o, "archivedAt", 0, PROTO_PREFS_MAX_MS, &ch->archived_at) != 0 ||
	    proto_get_int(o, "settingsAt", 1, PROTO_PREFS_MAX_MS, &ch->prefs_at) != 0) {
		say(err, errlen,
		    "chat %zu: mutedUntil, pinnedAt, archivedAt and settingsAt are not all whole "
		    "numbers in range (or all absent)",
		    i);
		return REPLY_ERR_FORMAT;
	}
	ch->has_prefs = 1;
	return REPLY_OK;
}

static int
parse_chat(const cJSON *o, size_t i, struct history_chat *ch, char *err, size_t errlen)
{
	const char *s;
	int64_t v;
	int rc;

	if (!object_ok(o)) {
		say(err, errlen, "chat %zu: not an object of distinct members", i);
		return REPLY_ERR_FORMAT;
	}
	if ((s = proto_get_str(o, "id")) == NULL || !proto_valid_hex(s, CHAT_CHAT_ID_LEN)) {
		say(err, errlen, "chat %zu: id is not %d lowercase hex digits", i,
		    CHAT_CHAT_ID_LEN);
		return REPLY_ERR_FORMAT;
	}
	memcpy(ch->id, s, CHAT_CHAT_ID_LEN + 1);
	if ((s = proto_get_str(o, "kind")) == NULL ||
	    (strcmp(s, "direct") != 0 && strcmp(s, "group") != 0)) {
		say(err, errlen, "chat %zu: kind is not direct or group", i);
		return REPLY_ERR_FORMAT;
	}
	snprintf(ch->kind, sizeof ch->kind, "%s", s);
	if ((rc = opt_str(o, "name", PROTO_GROUP_NAME_MAX, &s)) < 0 ||
	    (rc == 1 && (ch->name = strdup(s)) == NULL)) {
		say(err, errlen, "chat %zu: bad name", i);
		return rc < 0 ? REPLY_ERR_FORMAT : REPLY_ERR_NOMEM;
	}
	if ((rc = opt_str(o, "description", PROTO_GROUP_DESC_MAX, &s)) < 0 ||
	    (rc == 1 && (ch->description = strdup(s)) == NULL)) {
		say(err, errlen, "chat %zu: bad description", i);
		return rc < 0 ? REPLY_ERR_FORMAT : REPLY_ERR_NOMEM;
	}
	if ((rc = read_users(o, "members", 1, PROTO_MAX_MEMBERS, &ch->members, &ch->n_members)) !=
	    REPLY_OK) {
		say(err, errlen, "chat %zu: members are not 1 to %d distinct user names", i,
		    PROTO_MAX_MEMBERS);
		return rc;
	}
	if ((rc = read_users(o, "admins", 0, PROTO_MAX_MEMBERS, &ch->admins, &ch->n_admins)) !=
	    REPLY_OK) {
		say(err, errlen, "chat %zu: admins are not a list of distinct user names", i);
		return rc;
	}
	if (proto_get_int(o, "timer", 0, PROTO_TIMER_MAX_S, &v) != 0 ||
	    (v != 0 && !timer_seconds_valid(v))) {
		say(err, errlen, "chat %zu: timer is not 0 or %lld to %lld seconds", i,
		    PROTO_TIMER_MIN_S, PROTO_TIMER_MAX_S);
		return REPLY_ERR_FORMAT;
	}
	ch->timer = v;
	return parse_prefs(o, i, ch, err, errlen);
}

/* The rules of an item's text by its kind. */
static int
text_fits(const struct history_item *it)
{
	if (strcmp(it->kind, "reaction") == 0)
		return reaction_valid_emoji(it->text, it->text_len);
	if (strcmp(it->kind, "timer") == 0) {
		char *end;
		long long s;

		if (it->text_len == 0 || it->text_len > 8 ||
		    strspn(it->text, "0123456789") != it->text_len)
			return 0;
		s = strtoll(it->text, &end, 10);
		return s == 0 || timer_seconds_valid(s);
	}
	return 1;
}

static int
parse_item(const cJSON *o, size_t i, const struct history_batch *b, struct history_item *it,
	   char *err, size_t errlen)
{
	const cJSON *j;
	const char *s;
	int64_t v;
	int known = 0;

	if (!object_ok(o)) {
		say(err, errlen, "message %zu: not an object of distinct members", i);
		return REPLY_ERR_FORMAT;
	}
	if ((s = proto_get_str(o, "id")) == NULL || !proto_valid_hex(s, CHAT_MESSAGE_ID_LEN)) {
		say(err, errlen, "message %zu: id is not %d lowercase hex digits", i,
		    CHAT_MESSAGE_ID_LEN);
		return REPLY_ERR_FORMAT;
	}
	memcpy(it->id, s, CHAT_MESSAGE_ID_LEN + 1);
	/* Every message's chat is described in the same batch: each batch
	 * stands alone, whatever order they come in. */
	if ((s = proto_get_str(o, "chat")) != NULL)
		for (size_t k = 0; k < b->n_chats && !known; k++)
			known = strcmp(b->chats[k].id, s) == 0;
	if (!known) {
		say(err, errlen, "message %zu: its chat is not one of the batch's", i);
		return REPLY_ERR_FORMAT;
	}
	memcpy(it->chat_id, s, CHAT_CHAT_ID_LEN + 1);
	if (proto_get_int(o, "seq", 0, INT64_MAX / 2, &it->seq) != 0 ||
	    proto_get_int(o, "sentAt", 0, INT64_MAX / 2, &it->sent_at) != 0 ||
	    proto_get_int(o, "device", 1, PROTO_DEVICE_ID_MAX, &v) != 0) {
		say(err, errlen, "message %zu: seq, sentAt or device is not a number in range", i);
		return REPLY_ERR_FORMAT;
	}
	it->device = (uint32_t)v;
	if ((s = proto_get_str(o, "sender")) == NULL || !proto_valid_user(s)) {
		say(err, errlen, "message %zu: sender is not a user name", i);
		return REPLY_ERR_FORMAT;
	}
	snprintf(it->sender, sizeof it->sender, "%s", s);
	if ((s = proto_get_str(o, "kind")) == NULL ||
	    !one_of(s, item_kinds, sizeof item_kinds / sizeof *item_kinds)) {
		say(err, errlen, "message %zu: unknown kind", i);
		return REPLY_ERR_FORMAT;
	}
	snprintf(it->kind, sizeof it->kind, "%s", s);
	if ((s = proto_get_str(o, "state")) == NULL ||
	    !one_of(s, item_states, sizeof item_states / sizeof *item_states)) {
		say(err, errlen, "message %zu: unknown state", i);
		return REPLY_ERR_FORMAT;
	}
	snprintf(it->state, sizeof it->state, "%s", s);
	j = cJSON_GetObjectItemCaseSensitive(o, "text");
	if (!cJSON_IsString(j) || j->valuestring == NULL ||
	    (it->text_len = strlen(j->valuestring)) > CHAT_MAX_TEXT ||
	    !proto_valid_utf8(j->valuestring, it->text_len)) {
		say(err, errlen, "message %zu: text is not UTF-8 of at most %d bytes", i,
		    CHAT_MAX_TEXT);
		return REPLY_ERR_FORMAT;
	}
	if ((it->text = strdup(j->valuestring)) == NULL)
		return REPLY_ERR_NOMEM;
	if (!text_fits(it)) {
		say(err, errlen, "message %zu: its text does not fit its kind", i);
		return REPLY_ERR_FORMAT;
	}
	if ((s = proto_get_str(o, "replyTo")) != NULL) {
		if (!proto_valid_hex(s, CHAT_MESSAGE_ID_LEN)) {
			say(err, errlen, "message %zu: replyTo is not a message id", i);
			return REPLY_ERR_FORMAT;
		}
		memcpy(it->reply_to, s, CHAT_MESSAGE_ID_LEN + 1);
	} else if (cJSON_GetObjectItemCaseSensitive(o, "replyTo") != NULL ||
		   (strcmp(it->kind, "text") != 0 && strcmp(it->kind, "update") != 0 &&
		    strcmp(it->kind, "timer") != 0)) {
		say(err, errlen, "message %zu: a %s needs replyTo, a message id", i, it->kind);
		return REPLY_ERR_FORMAT;
	}
	if ((s = proto_get_str(o, "replySender")) != NULL) {
		if (!proto_valid_user(s) || it->reply_to[0] == '\0') {
			say(err, errlen, "message %zu: bad replySender", i);
			return REPLY_ERR_FORMAT;
		}
		snprintf(it->reply_sender, sizeof it->reply_sender, "%s", s);
		if (opt_str(o, "replyPreview", CHAT_REPLY_PREVIEW_MAX, &s) != 1) {
			say(err, errlen, "message %zu: replyPreview is not UTF-8 of at most %d bytes",
			    i, CHAT_REPLY_PREVIEW_MAX);
			return REPLY_ERR_FORMAT;
		}
		snprintf(it->reply_preview, sizeof it->reply_preview, "%s", s);
	}
	j = cJSON_GetObjectItemCaseSensitive(o, "deleted");
	if (j != NULL && !cJSON_IsBool(j)) {
		say(err, errlen, "message %zu: deleted is not true or false", i);
		return REPLY_ERR_FORMAT;
	}
	it->deleted = cJSON_IsTrue(j);
	if (it->deleted && it->text_len > 0) {
		say(err, errlen, "message %zu: a deleted message carries text", i);
		return REPLY_ERR_FORMAT;
	}
	if (cJSON_GetObjectItemCaseSensitive(o, "expiresAt") != NULL &&
	    proto_get_int(o, "expiresAt", 0, INT64_MAX / 2, &it->expires_at) != 0) {
		say(err, errlen, "message %zu: expiresAt is not a time", i);
		return REPLY_ERR_FORMAT;
	}
	j = cJSON_GetObjectItemCaseSensitive(o, "attachments");
	if (j != NULL) {
		size_t n;
		const cJSON *a;

		if (!cJSON_IsArray(j) || (n = (size_t)cJSON_GetArraySize(j)) < 1 ||
		    n > PROTO_MAX_BLOBS || strcmp(it->kind, "text") != 0 || it->deleted) {
			say(err, errlen, "message %zu: attachments are not 1 to %d files of a text", i,
			    PROTO_MAX_BLOBS);
			return REPLY_ERR_FORMAT;
		}
		if ((it->atts = calloc(n, sizeof *it->atts)) == NULL)
			return REPLY_ERR_NOMEM;
		cJSON_ArrayForEach(a, j) {
			char why[200];

			if (attach_parse_one(a, it->n_atts, &it->atts[it->n_atts], why,
					     sizeof why) != 0) {
				say(err, errlen, "message %zu: %s", i, why);
				return REPLY_ERR_FORMAT;
			}
			it->n_atts++;
		}
	}
	return REPLY_OK;
}

int
history_batch_parse(const uint8_t *body, size_t len, struct history_batch *b, char *err,
		    size_t errlen)
{
	cJSON *root = NULL;
	const cJSON *a, *j;
	const char *s;
	int64_t v;
	size_t n;
	int rc;

	memset(b, 0, sizeof *b);
	if (len > PROTO_HISTORY_MAX_JSON + 1) {
		say(err, errlen, "a history batch of %zu bytes is over %d", len,
		    PROTO_HISTORY_MAX_JSON + 1);
		return REPLY_ERR_FORMAT;
	}
	if ((rc = body_json_open(body, len, PROTO_BODY_HISTORY, "history", &root, err, errlen)) !=
	    REPLY_OK)
		return rc;
	rc = REPLY_ERR_FORMAT;
	if (proto_get_int(root, "v", HISTORY_VERSION, HISTORY_VERSION, &v) != 0) {
		say(err, errlen, "history: v is not %d", HISTORY_VERSION);
		goto out;
	}
	if ((s = proto_get_str(root, "sync")) == NULL ||
	    !proto_valid_hex(s, HISTORY_SYNC_ID_LEN)) {
		say(err, errlen, "history: sync is not %d lowercase hex digits",
		    HISTORY_SYNC_ID_LEN);
		goto out;
	}
	memcpy(b->sync, s, HISTORY_SYNC_ID_LEN + 1);
	if (proto_get_int(root, "to", 1, PROTO_DEVICE_ID_MAX, &v) != 0 ||
	    proto_get_int(root, "parts", 1, PROTO_HISTORY_MAX_PARTS, &b->parts) != 0 ||
	    proto_get_int(root, "part", 1, b->parts, &b->part) != 0 ||
	    proto_get_int(root, "total", 0, b->parts * PROTO_HISTORY_MAX_ITEMS, &b->total) != 0) {
		say(err, errlen, "history: to, part, parts or total is not a number in range");
		goto out;
	}
	b->to = (uint32_t)v;
	a = cJSON_GetObjectItemCaseSensitive(root, "chats");
	if (!cJSON_IsArray(a) || (n = (size_t)cJSON_GetArraySize(a)) > PROTO_HISTORY_MAX_CHATS) {
		say(err, errlen, "history: chats is not a list of at most %d",
		    PROTO_HISTORY_MAX_CHATS);
		goto out;
	}
	if (n > 0 && (b->chats = calloc(n, sizeof *b->chats)) == NULL) {
		rc = REPLY_ERR_NOMEM;
		goto out;
	}
	cJSON_ArrayForEach(j, a) {
		if ((rc = parse_chat(j, b->n_chats, &b->chats[b->n_chats], err, errlen)) !=
		    REPLY_OK) {
			b->n_chats++;
			goto out;
		}
		for (size_t k = 0; k < b->n_chats; k++)
			if (strcmp(b->chats[k].id, b->chats[b->n_chats].id) == 0) {
				b->n_chats++;
				say(err, errlen, "history: chat %s twice", b->chats[k].id);
				rc = REPLY_ERR_FORMAT;
				goto out;
			}
		b->n_chats++;
	}
	rc = REPLY_ERR_FORMAT;
	a = cJSON_GetObjectItemCaseSensitive(root, "messages");
	if (!cJSON_IsArray(a) || (n = (size_t)cJSON_GetArraySize(a)) > PROTO_HISTORY_MAX_ITEMS) {
		say(err, errlen, "history: messages is not a list of at most %d",
		    PROTO_HISTORY_MAX_ITEMS);
		goto out;
	}
	if (n > 0 && (b->items = calloc(n, sizeof *b->items)) == NULL) {
		rc = REPLY_ERR_NOMEM;
		goto out;
	}
	cJSON_ArrayForEach(j, a) {
		rc = parse_item(j, b->n_items, b, &b->items[b->n_items], err, errlen);
		b->n_items++;
		if (rc != REPLY_OK)
			goto out;
	}
	rc = REPLY_OK;
out:
	if (root != NULL) {
		wipe_tree(root);
		cJSON_Delete(root);
	}
	if (rc != REPLY_OK)
		history_batch_free(b);
	return rc;
}
ANALYZER_LEAK_FP_END
