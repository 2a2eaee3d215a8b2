/*
 * wire_json.c - how the request layer builds JSON (see wire_req.h).
 *
 * cJSON's Add functions return NULL when out of memory (or when the parent
 * is NULL because its own creation failed).  These wrappers note that in
 * *oom so the builders read straight through and check once at the end.
 */
#include "wire_req.h"

#include <inttypes.h>
#include <stdio.h>

#include <sodium.h>

cJSON *
j_check(int *oom, cJSON *item)
{
	if (item == NULL)
		*oom = 1;
	return item;
}

void
j_str(int *oom, cJSON *o, const char *k, const char *v)
{
	j_check(oom, cJSON_AddStringToObject(o, k, v));
}

/*
 * Every number in the protocol is an integer.  They are written as raw
 * decimal text because cJSON prints doubles with 15 significant digits when
 * that reads back "close enough", which turns an id of 2^53 into
 * 9007199254740990.
 */
void
j_int(int *oom, cJSON *o, const char *k, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%" PRId64, v);
	j_check(oom, cJSON_AddRawToObject(o, k, buf));
}

/* Binary values up to a signature's size, encoded on the stack. */
void
j_b64(int *oom, cJSON *o, const char *k, const uint8_t *bin, size_t len)
{
	char b64[sodium_base64_ENCODED_LEN(PROTO_SIG_BYTES, sodium_base64_VARIANT_ORIGINAL)];

	if (len > PROTO_SIG_BYTES) {
		*oom = 1; /* a programming error; refuse rather than overflow */
		return;
	}
	sodium_bin2base64(b64, sizeof b64, bin, len, sodium_base64_VARIANT_ORIGINAL);
	j_str(oom, o, k, b64);
}

/* Base64, or null when bin is NULL. */
void
j_opt_b64(int *oom, cJSON *o, const char *k, const uint8_t *bin, size_t len)
{
	if (bin != NULL)
		j_b64(oom, o, k, bin, len);
	else
		j_check(oom, cJSON_AddNullToObject(o, k));
}

/* A string, or null when v is NULL. */
void
j_opt_str(int *oom, cJSON *o, const char *k, const char *v)
{
	if (v != NULL)
		j_str(oom, o, k, v);
	else
		j_check(oom, cJSON_AddNullToObject(o, k));
}

cJSON *
j_obj_in_array(int *oom, cJSON *arr)
{
	cJSON *o = j_check(oom, cJSON_CreateObject());

	if (o != NULL && !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		*oom = 1;
		return NULL;
	}
	return o;
}

void
j_str_in_array(int *oom, cJSON *arr, const char *v)
{
	cJSON *s = j_check(oom, cJSON_CreateString(v));

	if (s != NULL && !cJSON_AddItemToArray(arr, s)) {
		cJSON_Delete(s);
		*oom = 1;
	}
}

/* An array of names under k. */
void
j_names(int *oom, cJSON *o, const char *k, const char (*names)[PROTO_USER_MAX + 1], size_t n)
{
	cJSON *arr = j_check(oom, cJSON_AddArrayToObject(o, k));
	size_t i;

	for (i = 0; i < n && arr != NULL; i++)
		j_str_in_array(oom, arr, names[i]);
}

/* Print and free root; NULL if anything failed along the way. */
char *
j_finish(int oom, cJSON *root)
{
	char *text = NULL;

	if (!oom && root != NULL)
		text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}
