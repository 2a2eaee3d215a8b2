/*
 * util.c - see util.h.
 */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

int srv_verbose;
int srv_quiet;

/* Every line together: a flood of connections or requests, each logging a
 * line, must not fill the disk (issue 10, item 11). Far above what a normal
 * server writes, so that it never hides anything then. */
static struct log_limit all_lines = {.rate = LOG_RATE, .burst = LOG_BURST};

/* "2026-11-28T03:29:22.123Z": now, UTC, with milliseconds. */
static void
log_time(char *buf, size_t cap)
{
	struct timespec ts;
	struct tm tm;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || gmtime_r(&ts.tv_sec, &tm) == NULL) {
		snprintf(buf, cap, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000) % 1000);
}

/* Take a token of l (refilled from the monotonic clock); 0 if there is none,
 * and the line is counted as dropped. */
static int
log_take(struct log_limit *l)
{
	int64_t now = util_mono_us();

	if (!l->started) {
		l->started = 1;
		l->tokens = l->burst;
	} else if (now > l->last_us) {
		l->tokens += (double)(now - l->last_us) * l->rate / 1e6;
		if (l->tokens > l->burst)
			l->tokens = l->burst;
	}
	l->last_us = now;
	if (l->tokens < 1.0) {
		l->dropped++;
		return 0;
	}
	l->tokens -= 1.0;
	return 1;
}

static void
vlog(struct log_limit *l, const char *fmt, va_list ap)
{
	char line[1024], when[64], note[96] = "";
	uint64_t dropped;

	if (srv_quiet)
		return;
	if ((l != NULL && !log_take(l)) || !log_take(&all_lines))
		return;
	/* Say what was left out, once a line gets through again. */
	dropped = all_lines.dropped + (l != NULL ? l->dropped : 0);
	if (dropped > 0)
		snprintf(note, sizeof note, " (%llu lines like the next were not logged)",
			 (unsigned long long)dropped);
	all_lines.dropped = 0;
	if (l != NULL)
		l->dropped = 0;
	/* Format first and write once, so that a line is never split between
	 * two writers of the same stderr (the tests read it as lines). */
	vsnprintf(line, sizeof line, fmt, ap);
	log_time(when, sizeof when);
	if (note[0] != '\0')
		fprintf(stderr, "%s chat-server:%s\n%s chat-server: %s\n", when, note, when, line);
	else
		fprintf(stderr, "%s chat-server: %s\n", when, line);
	fflush(stderr);
}

void
srv_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(NULL, fmt, ap);
	va_end(ap);
}

void
srv_log_limited(struct log_limit *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(l, fmt, ap);
	va_end(ap);
}

int64_t
util_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0; /* cannot happen with CLOCK_REALTIME */
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
util_mono_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0; /* cannot happen with CLOCK_MONOTONIC */
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
user_char(char c, int first)
{
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return 1;
	return !first && (c == '.' || c == '_' || c == '-');
}

int
util_valid_user(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= CHAT_USER_MAX || !user_char(s[i], i == 0))
			return 0;
	}
	return i > 0;
}

int
util_valid_hex(const char *s, size_t len)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0; /* also stops at a NUL before len */
	}
	return s[len] == '\0';
}

int
util_valid_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned char c = *p;
		uint32_t cp;
		size_t n, i;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0; /* a continuation byte, 0xc0, 0xc1 or above 0xf4 */
		}
		if ((size_t)(end - p) <= n)
			return 0;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += n + 1;
	}
	return 1;
}

char *
util_b64_encode(const uint8_t *bin, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(cap);

	if (s == NULL)
		return NULL;
	sodium_bin2base64(s, cap, bin, len, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

size_t
util_b64_len(size_t n)
{
	/* ENCODED_LEN counts the NUL. */
	return sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL) - 1;
}

int
util_b64_decode(const char *s, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t n = strlen(s);

	/* Checked first so that an oversized field costs no decoding work. */
	if (n > util_b64_len(cap))
		return -1;
	/* With b64_end NULL, libsodium refuses trailing garbage and
	 * non-canonical padding bits. */
	if (sodium_base642bin(out, cap, s, n, NULL, out_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return 0;
}

int
util_parse_duration(const char *s, int64_t *ms)
{
	int64_t v = 0, unit;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > UTIL_DURATION_MAX_MS / 1000)
			return -1;
	}
	switch (*p) {
	case 's': unit = 1000; break;
	case 'm': unit = 60 * 1000; break;
	case 'h': unit = 60 * 60 * 1000; break;
	case 'd': unit = 24 * 60 * 60 * 1000; break;
	default: return -1;
	}
	if (p[1] != '\0' || v == 0 || v > UTIL_DURATION_MAX_MS / unit)
		return -1;
	*ms = v * unit;
	return 0;
}
