/*
 * timer_body.c - the 0x0a disappearing-timer body (PROTOCOL.md,
 * "Disappearing messages"): JSON {"seconds": N}, N 0 (off) or 30 seconds ..
 * 90 days. Whether its sender may set it (any member of a direct chat, an
 * admin of a group) is the receiver's to judge, as for membership changes.
 */
#include "reply.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
timer_seconds_valid(long long seconds)
{
	return seconds == 0 || (seconds >= PROTO_TIMER_MIN_S && seconds <= PROTO_TIMER_MAX_S);
}

uint8_t *
timer_body_build(long long seconds, size_t *out_len, char *err, size_t errlen)
{
	char json[64];
	uint8_t *body;
	int n;

	if (out_len != NULL)
		*out_len = 0;
	if (out_len == NULL || !timer_seconds_valid(seconds)) {
		if (err && errlen)
			snprintf(err, errlen,
				 "a disappearing timer is off (0) or %lld seconds to %lld days",
				 PROTO_TIMER_MIN_S, PROTO_TIMER_MAX_S / (24 * 3600));
		return NULL;
	}
	n = snprintf(json, sizeof json, "{\"seconds\":%lld}", seconds);
	if (n < 0 || (size_t)n >= sizeof json || (body = malloc((size_t)n + 1)) == NULL) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	body[0] = PROTO_BODY_TIMER;
	memcpy(body + 1, json, (size_t)n);
	*out_len = (size_t)n + 1;
	return body;
}

int
timer_body_parse(const uint8_t *body, size_t len, long long *seconds, char *err, size_t errlen)
{
	cJSON *root = NULL;
	const cJSON *j;
	int rc = REPLY_ERR_FORMAT;

	if (seconds == NULL)
		return REPLY_ERR_FORMAT;
	*seconds = 0;
	if (err && errlen)
		err[0] = '\0';
	if (body == NULL || len == 0 || body[0] != PROTO_BODY_TIMER) {
		if (err && errlen)
			snprintf(err, errlen, "not a disappearing-timer body");
		return REPLY_ERR_FORMAT;
	}
	if (body_json_open(body, len, PROTO_BODY_TIMER, "timer", &root, err, errlen) != REPLY_OK)
		return REPLY_ERR_FORMAT;
	j = cJSON_GetObjectItemCaseSensitive(root, "seconds");
	/* a whole number in range: the double is compared before it is
	 * converted, so that no value (NaN, 1e300) converts out of range */
	if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble) || j->valuedouble < 0 ||
	    j->valuedouble > (double)PROTO_TIMER_MAX_S ||
	    j->valuedouble != (double)(long long)j->valuedouble ||
	    !timer_seconds_valid((long long)j->valuedouble)) {
		if (err && errlen)
			snprintf(err, errlen,
				 "timer body: seconds is not 0 or a whole number from %lld to "
				 "%lld",
				 PROTO_TIMER_MIN_S, PROTO_TIMER_MAX_S);
	} else {
		*seconds = (long long)j->valuedouble;
		rc = REPLY_OK;
	}
	cJSON_Delete(root);
	return rc;
}
