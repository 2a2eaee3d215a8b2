/*
 * attach_body.c - the 0x03 message body (PROTOCOL.md, "Attachments"): the
 * JSON that carries a message's text and, for each file, what a recipient
 * needs to fetch, check and decrypt it. Built by the sender, parsed strictly
 * by the recipient; the files themselves are attach.c's.
 *
 * Requires sodium_init() to have been called.
 */
#include "attach.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "chat.h"
#include "proto.h"

void
attach_meta_wipe(struct attach_meta *m)
{
	if (m != NULL)
		sodium_memzero(m, sizeof *m);
}

void
attach_meta_free(struct attach_meta *atts, size_t n)
{
	if (atts == NULL)
		return;
	sodium_memzero(atts, n * sizeof *atts);
	free(atts);
}

/* Checks one attachment as the body carries it. */
static int
attach_meta_check(const struct attach_meta *m, size_t i, char *err, size_t errlen)
{
	if (!proto_valid_hex(m->blob_id, PROTO_BLOB_ID_LEN))
		attach_err(err, errlen, "attachment %zu: blobId is not 32 lowercase hex digits", i);
	else if (!attach_valid_name(m->name))
		attach_err(err, errlen, "attachment %zu: bad name", i);
	else if (!attach_valid_type(m->type))
		attach_err(err, errlen, "attachment %zu: bad media type", i);
	else if (m->size > ATTACH_SIZE_LIMIT)
		attach_err(err, errlen, "attachment %zu: size over the limit", i);
	else if (m->enc_size != attach_enc_size(m->size))
		attach_err(err, errlen, "attachment %zu: encSize %llu does not match size %llu", i,
			   (unsigned long long)m->enc_size, (unsigned long long)m->size);
	else
		return 0;
	return -1;
}

/* Wipes every "key" string under the attachments of a body's JSON tree (the
 * base64 of each file key) before the tree is freed. */
static void
attach_wipe_tree(cJSON *root)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "attachments"), *a, *f;

	if (!cJSON_IsArray(arr))
		return;
	cJSON_ArrayForEach(a, arr) {
		cJSON_ArrayForEach(f, a) {
			if (f->string != NULL && strcmp(f->string, "key") == 0 &&
			    cJSON_IsString(f) && f->valuestring != NULL)
				sodium_memzero(f->valuestring, strlen(f->valuestring));
		}
	}
}

static int
attach_valid_text(const char *text)
{
	size_t len = strnlen(text, CHAT_MAX_TEXT + 1);

	return len <= CHAT_MAX_TEXT && proto_valid_utf8(text, len);
}

int
attach_meta_json(cJSON *o, const struct attach_meta *m)
{
	char hex[2 * ATTACH_SHA256_BYTES + 1];

	sodium_bin2hex(hex, sizeof hex, m->sha256, sizeof m->sha256);
	/* Sizes are at most 2^40 + a little: exact as doubles. */
	if (cJSON_AddStringToObject(o, "blobId", m->blob_id) == NULL ||
	    cJSON_AddStringToObject(o, "name", m->name) == NULL ||
	    cJSON_AddStringToObject(o, "type", m->type) == NULL ||
	    cJSON_AddNumberToObject(o, "size", (double)m->size) == NULL ||
	    cJSON_AddNumberToObject(o, "encSize", (double)m->enc_size) == NULL ||
	    proto_add_b64(o, "key", m->key, sizeof m->key) != 0 ||
	    cJSON_AddStringToObject(o, "sha256", hex) == NULL)
		return -1;
	return 0;
}

uint8_t *
attach_body_build(const char *text, const struct attach_meta *atts, size_t n, size_t *len,
		  char *err, size_t errlen)
{
	cJSON *root = NULL, *arr, *o;
	char *json = NULL;
	uint8_t *body = NULL;
	size_t jlen;

	if (err && errlen)
		err[0] = '\0';
	if (len == NULL || (atts == NULL && n > 0)) {
		attach_err(err, errlen, "attach_body_build: missing argument");
		return NULL;
	}
	*len = 0;
	if (text == NULL)
		text = "";
	if (n == 0 || n > PROTO_MAX_BLOBS) {
		attach_err(err, errlen, "%zu attachments: 1 to %d may go in one message", n,
			   PROTO_MAX_BLOBS);
		return NULL;
	}
	if (!attach_valid_text(text)) {
		attach_err(err, errlen, "the text is not UTF-8 or over %d bytes", CHAT_MAX_TEXT);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (attach_meta_check(&atts[i], i, err, errlen) != 0)
			return NULL;

	if ((root = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(root, "text", text) == NULL ||
	    (arr = cJSON_AddArrayToObject(root, "attachments")) == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		const struct attach_meta *m = &atts[i];

		if ((o = cJSON_CreateObject()) == NULL)
			goto nomem;
		if (!cJSON_AddItemToArray(arr, o))
			goto nomem_o;
		if (attach_meta_json(o, m) != 0)
			goto nomem;
	}
	if ((json = cJSON_PrintUnformatted(root)) == NULL)
		goto nomem;
	jlen = strlen(json);
	if (jlen + 1 > ATTACH_BODY_MAX) {
		attach_err(err, errlen, "the message is too long: %zu bytes, at most %d", jlen + 1,
			   ATTACH_BODY_MAX);
		goto out;
	}
	if ((body = malloc(jlen + 1)) == NULL)
		goto nomem;
	body[0] = PROTO_BODY_ATTACH;
	memcpy(body + 1, json, jlen);
	*len = jlen + 1;
	goto out;

nomem_o:
	cJSON_Delete(o);
nomem:
	attach_err(err, errlen, "out of memory");
out:
	if (json != NULL) {
		sodium_memzero(json, strlen(json));
		free(json);
	}
	if (root != NULL) {
		attach_wipe_tree(root);
		cJSON_Delete(root);
	}
	return body;
}

#define ATTACH_MAX_MEMBERS 32 /* members of one object, unknown ones included */

/* 0 if obj has at most ATTACH_MAX_MEMBERS members, all named differently:
 * with duplicates, which one counts would depend on the parser. */
static int
attach_members_ok(const cJSON *obj)
{
	const cJSON *a, *b;
	size_t count = 0;

	for (a = obj->child; a != NULL; a = a->next) {
		if (++count > ATTACH_MAX_MEMBERS || a->string == NULL)
			return -1;
		for (b = a->next; b != NULL; b = b->next)
			if (b->string == NULL || strcmp(a->string, b->string) == 0)
				return -1;
	}
	return 0;
}

int
attach_parse_one(const cJSON *o, size_t i, struct attach_meta *m, char *err, size_t errlen)
{
	const char *s;
	int64_t v;

	if (!cJSON_IsObject(o) || attach_members_ok(o) != 0) {
		attach_err(err, errlen, "attachment %zu: not an object of distinct members", i);
		return -1;
	}
	if ((s = proto_get_str(o, "blobId")) == NULL || !proto_valid_hex(s, PROTO_BLOB_ID_LEN)) {
		attach_err(err, errlen, "attachment %zu: blobId is not 32 lowercase hex digits", i);
		return -1;
	}
	memcpy(m->blob_id, s, PROTO_BLOB_ID_LEN + 1);
	if ((s = proto_get_str(o, "name")) == NULL || !attach_valid_name(s)) {
		attach_err(err, errlen,
			   "attachment %zu: bad name (1 to %d bytes of UTF-8, no '/' or "
			   "control characters)",
			   i, ATTACH_NAME_MAX);
		return -1;
	}
	memcpy(m->name, s, strlen(s) + 1);
	if ((s = proto_get_str(o, "type")) == NULL || !attach_valid_type(s)) {
		attach_err(err, errlen, "attachment %zu: bad media type", i);
		return -1;
	}
	memcpy(m->type, s, strlen(s) + 1);
	if (proto_get_int(o, "size", 0, (int64_t)ATTACH_SIZE_LIMIT, &v) != 0) {
		attach_err(err, errlen, "attachment %zu: size is not an integer 0 to %llu", i,
			   (unsigned long long)ATTACH_SIZE_LIMIT);
		return -1;
	}
	m->size = (uint64_t)v;
	if (proto_get_int(o, "encSize", 0, (int64_t)attach_enc_size(ATTACH_SIZE_LIMIT), &v) != 0 ||
	    (uint64_t)v != attach_enc_size(m->size)) {
		attach_err(err, errlen,
			   "attachment %zu: encSize is not %llu, as size %llu makes it", i,
			   (unsigned long long)attach_enc_size(m->size),
			   (unsigned long long)m->size);
		return -1;
	}
	m->enc_size = (uint64_t)v;
	if (proto_get_b64(o, "key", m->key, ATTACH_KEY_BYTES, ATTACH_KEY_BYTES, NULL) != 0) {
		attach_err(err, errlen, "attachment %zu: key is not base64 of exactly %d bytes", i,
			   ATTACH_KEY_BYTES);
		return -1;
	}
	if ((s = proto_get_str(o, "sha256")) == NULL ||
	    !proto_valid_hex(s, 2 * ATTACH_SHA256_BYTES) ||
	    sodium_hex2bin(m->sha256, sizeof m->sha256, s, 2 * ATTACH_SHA256_BYTES, NULL, NULL,
			   NULL) != 0) {
		attach_err(err, errlen, "attachment %zu: sha256 is not 64 lowercase hex digits", i);
		return -1;
	}
	return 0;
}

int
attach_body_parse(const uint8_t *body, size_t len, char **text, struct attach_meta **atts,
		  size_t *n, char *err, size_t errlen)
{
	const char *json, *end = NULL, *s;
	cJSON *root = NULL, *arr, *o;
	struct attach_meta *out = NULL;
	char *t = NULL;
	size_t jlen, count = 0, i = 0;
	unsigned bad;
	int rc = ATTACH_ERR_FORMAT;

	if (err && errlen)
		err[0] = '\0';
	if (text == NULL || atts == NULL || n == NULL || (body == NULL && len > 0)) {
		attach_err(err, errlen, "attach_body_parse: missing argument");
		return ATTACH_ERR_ARGS;
	}
	*text = NULL;
	*atts = NULL;
	*n = 0;
	if (len < 2 || len > ATTACH_BODY_MAX || body[0] != PROTO_BODY_ATTACH) {
		attach_err(err, errlen, "not an attachment body (kind 0x03, 2 to %d bytes)",
			   ATTACH_BODY_MAX);
		return ATTACH_ERR_FORMAT;
	}
	json = (const char *)body + 1;
	jlen = len - 1;
	/* cJSON would cut a string at U+0000, so what the sender wrote would
	 * not be what we read (proto_json_check says why). */
	if ((bad = proto_json_check(json, jlen)) != 0) {
		attach_err(err, errlen, "attachment body: %s", proto_scrub_reason(bad));
		return ATTACH_ERR_FORMAT;
	}
	root = cJSON_ParseWithLengthOpts(json, jlen, &end, 0);
	if (root == NULL) {
		attach_err(err, errlen, "attachment body: not JSON");
		return ATTACH_ERR_FORMAT;
	}
	while (end != NULL && end < json + jlen && strchr(" \t\r\n", *end) != NULL)
		end++;
	if (end != json + jlen) {
		attach_err(err, errlen, "attachment body: data after the JSON object");
		goto fail;
	}
	if (!cJSON_IsObject(root) || attach_members_ok(root) != 0) {
		attach_err(err, errlen, "attachment body: not an object of distinct members");
		goto fail;
	}
	if ((s = proto_get_str(root, "text")) == NULL || !attach_valid_text(s)) {
		attach_err(err, errlen, "attachment body: text missing, not UTF-8 or over %d bytes",
			   CHAT_MAX_TEXT);
		goto fail;
	}
	arr = cJSON_GetObjectItemCaseSensitive(root, "attachments");
	count = cJSON_IsArray(arr) ? (size_t)cJSON_GetArraySize(arr) : 0;
	if (count == 0 || count > PROTO_MAX_BLOBS) {
		attach_err(err, errlen, "attachment body: attachments must be an array of 1 to %d",
			   PROTO_MAX_BLOBS);
		goto fail;
	}
	if ((t = strdup(s)) == NULL || (out = calloc(count, sizeof *out)) == NULL) {
		attach_err(err, errlen, "out of memory");
		rc = ATTACH_ERR_NOMEM;
		goto fail;
	}
	cJSON_ArrayForEach(o, arr) {
		if (attach_parse_one(o, i, &out[i], err, errlen) != 0)
			goto fail;
		i++;
	}
	attach_wipe_tree(root);
	cJSON_Delete(root);
	*text = t;
	*atts = out;
	*n = count;
	return ATTACH_OK;

fail:
	attach_wipe_tree(root);
	cJSON_Delete(root);
	free(t);
	attach_meta_free(out, count);
	return rc;
}
