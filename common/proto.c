/*
 * proto.c - the forms of docs/PROTOCOL.md that libchat and chat-server both
 * check (proto.h).
 */
#include "proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sodium.h>

int
proto_valid_user(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strlen(s);
	if (n < 1 || n > PROTO_USER_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');

		if (!alnum && (i == 0 || (ch != '.' && ch != '_' && ch != '-')))
			return 0;
	}
	return 1;
}

int
proto_valid_hex(const char *s, size_t n)
{
	if (s == NULL || strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

const char *
proto_get_str(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
proto_is_integer(double d, double min, double max)
{
	/* The range first: only then is the cast to int64_t defined. Doubles
	 * hold integers exactly up to 2^53, which bounds every integer the
	 * protocol carries. */
	return d >= min && d <= max && (double)(int64_t)d == d;
}

int
proto_get_int(const cJSON *obj, const char *name, int64_t min, int64_t max, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsNumber(v) || !proto_is_integer(v->valuedouble, (double)min, (double)max))
		return -1;
	*out = (int64_t)v->valuedouble;
	return 0;
}

char *
proto_b64_encode(const uint8_t *bin, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(cap);

	if (s == NULL)
		return NULL;
	sodium_bin2base64(s, cap, bin, len, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

size_t
proto_b64_len(size_t n)
{
	/* ENCODED_LEN counts the NUL. */
	return sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL) - 1;
}

int
proto_b64_decode(const char *s, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t n = strlen(s);

	/* Checked first so that an oversized field costs no decoding work. */
	if (n > proto_b64_len(cap))
		return -1;
	/* With b64_end NULL, libsodium refuses trailing garbage and
	 * non-canonical padding bits. */
	if (sodium_base642bin(out, cap, s, n, NULL, out_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return 0;
}

int
proto_get_b64(const cJSON *obj, const char *name, uint8_t *out, size_t want, size_t cap,
	      size_t *len)
{
	const char *s = proto_get_str(obj, name);
	size_t bin_len = 0;

	if (s == NULL || proto_b64_decode(s, out, want ? want : cap, &bin_len) != 0)
		return -1;
	if (want && bin_len != want)
		return -1;
	if (len)
		*len = bin_len;
	return 0;
}

int
proto_add_b64(cJSON *obj, const char *name, const uint8_t *bin, size_t len)
{
	char *s = proto_b64_encode(bin, len);
	int rc = -1;

	if (s == NULL)
		return -1;
	if (cJSON_AddStringToObject(obj, name, s) != NULL)
		rc = 0;
	free(s);
	return rc;
}

size_t
proto_utf8_seq(const unsigned char *s, size_t len)
{
	size_t n;
	uint32_t cp;

	if (len == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 1;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 2;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 3;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (n >= len)
		return 0;
	for (size_t k = 1; k <= n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n + 1;
}

int
proto_valid_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0, n; i < len; i += n)
		if (p[i] == 0 || (n = proto_utf8_seq(p + i, len - i)) == 0)
			return 0;
	return 1;
}

/* The port after the host, digits only, at most 5 of them (strtol would take
 * signs and spaces): 1 to 65535 into *port. */
static int
parse_port(const char *q, const char *end, int *port)
{
	long v = 0;

	if (q == end || end - q > 5)
		return PROTO_URL_PORT;
	for (; q < end; q++) {
		if (*q < '0' || *q > '9')
			return PROTO_URL_PORT;
		v = v * 10 + (*q - '0');
	}
	if (v < 1 || v > 65535)
		return PROTO_URL_PORT;
	*port = (int)v;
	return PROTO_URL_OK;
}

/* "[ADDR]" or "[ADDR]:PORT" (RFC 3986's IP-literal), auth being hl bytes. */
static int
parse_ipv6_host(const char *auth, size_t hl, struct proto_url *out)
{
	const char *close = memchr(auth, ']', hl);
	struct in6_addr a;
	size_t al;

	if (close == NULL || (al = (size_t)(close - auth) - 1) == 0 || al >= sizeof out->host)
		return PROTO_URL_HOST;
	memcpy(out->host, auth + 1, al);
	out->host[al] = '\0';
	if (inet_pton(AF_INET6, out->host, &a) != 1)
		return PROTO_URL_HOST;
	out->ipv6 = 1;
	if (close + 1 == auth + hl)
		return PROTO_URL_OK;
	if (close[1] != ':')
		return PROTO_URL_PORT;
	return parse_port(close + 2, auth + hl, &out->port);
}

/* The value of the 4 hex digits at s, or -1 if they are not hex digits. */
static long
hex4(const char *s)
{
	long v = 0;

	for (int k = 0; k < 4; k++) {
		char ch = s[k];
		int d = ch >= '0' && ch <= '9'   ? ch - '0'
			: ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
			: ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
						 : -1;

		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* 1 if the 6 bytes at s (n left) are a low-surrogate escape, \uDC00-\uDFFF. */
static int
low_surrogate_at(const char *s, size_t n)
{
	long v;

	if (n < 6 || s[0] != '\\' || s[1] != 'u')
		return 0;
	v = hex4(s + 2);
	return v >= 0xdc00 && v <= 0xdfff;
}

/* The walk of proto_json_scrub (w is text, rewritten) and of
 * proto_json_check (w NULL). Backslashes occur only inside strings in valid
 * JSON, so the walk need not know where strings are: an escape is a
 * backslash and what follows, and skipping the escaped character is what
 * tells "\\u0000" (a backslash, then text) from "\u0000". Invalid JSON is
 * left for cJSON to refuse. */
static unsigned
json_walk(const char *t, char *w, size_t len)
{
	unsigned flags = 0;
	long v;

	for (size_t i = 0; i < len; i++) {
		if (t[i] == '\0') {
			flags |= PROTO_SCRUB_NUL;
			if (w != NULL)
				w[i] = ' ';
			continue;
		}
		if (t[i] != '\\' || i + 1 >= len)
			continue;
		if (t[i + 1] != 'u' || len - i < 6 || (v = hex4(t + i + 2)) < 0) {
			i++; /* the escaped character */
			continue;
		}
		if (v >= 0xd800 && v <= 0xdbff && low_surrogate_at(t + i + 6, len - i - 6)) {
			i += 11; /* a whole pair */
			continue;
		}
		if (v == 0 || (v >= 0xd800 && v <= 0xdfff)) {
			flags |= v == 0 ? PROTO_SCRUB_NUL : PROTO_SCRUB_SURROGATE;
			if (w != NULL)
				memcpy(w + i + 2, "FFFD", 4);
		}
		i += 5;
	}
	return flags;
}

unsigned
proto_json_scrub(char *text, size_t len)
{
	return json_walk(text, text, len);
}

unsigned
proto_json_check(const char *text, size_t len)
{
	return json_walk(text, NULL, len);
}

const char *
proto_scrub_reason(unsigned flags)
{
	if (flags & PROTO_SCRUB_NUL)
		return "a string holds U+0000";
	if (flags & PROTO_SCRUB_SURROGATE)
		return "a string holds a lone surrogate";
	return "nothing";
}

int
proto_parse_url(const char *url, struct proto_url *out)
{
	const char *p, *slash, *colon;
	size_t hl;
	int rc;

	memset(out, 0, sizeof *out);
	if (url == NULL)
		return PROTO_URL_SCHEME;
	if (strncmp(url, "ws://", 5) == 0) {
		p = url + 5;
		out->port = 80;
	} else if (strncmp(url, "wss://", 6) == 0) {
		p = url + 6;
		out->tls = 1;
		out->port = 443;
	} else {
		return PROTO_URL_SCHEME;
	}
	slash = strchr(p, '/');
	hl = slash ? (size_t)(slash - p) : strlen(p);
	if (hl > 0 && p[0] == '[') {
		if ((rc = parse_ipv6_host(p, hl, out)) != PROTO_URL_OK)
			return rc;
	} else {
		colon = memchr(p, ':', hl);
		/* Two colons: an IPv6 address, whose own colons cannot be told
		 * from the port's without the brackets. */
		if (colon != NULL && memchr(colon + 1, ':', hl - (size_t)(colon + 1 - p)) != NULL)
			return PROTO_URL_IPV6;
		if (colon != NULL) {
			if ((rc = parse_port(colon + 1, p + hl, &out->port)) != PROTO_URL_OK)
				return rc;
			hl = (size_t)(colon - p);
		}
		if (hl == 0 || hl >= sizeof out->host)
			return PROTO_URL_HOST;
		memcpy(out->host, p, hl);
		out->host[hl] = '\0';
	}
	if (slash == NULL)
		snprintf(out->path, sizeof out->path, "/");
	else if (strlen(slash) >= sizeof out->path)
		return PROTO_URL_PATH;
	else
		snprintf(out->path, sizeof out->path, "%s", slash);
	return PROTO_URL_OK;
}

int
proto_server_name(const char *host, int port, char *out, size_t cap)
{
	char h[PROTO_SERVER_NAME_MAX + 1], addr[INET6_ADDRSTRLEN];
	size_t len = host != NULL ? strlen(host) : 0;
	struct in6_addr a6;
	int bracketed = 0, n;

	if (len == 0 || len > PROTO_SERVER_NAME_MAX || port < 1 || port > 65535)
		return -1;
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
		bracketed = 1;
	}
	memcpy(h, host, len);
	h[len] = '\0';
	if (bracketed || strchr(h, ':') != NULL) {
		/* IPv6: one spelling of each address, the one inet_ntop writes. */
		if (inet_pton(AF_INET6, h, &a6) != 1 ||
		    inet_ntop(AF_INET6, &a6, addr, sizeof addr) == NULL)
			return -1;
		n = snprintf(out, cap, "[%s]:%d", addr, port);
	} else {
		for (char *p = h; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		n = snprintf(out, cap, "%s:%d", h, port);
	}
	return n < 0 || (size_t)n >= cap || n > PROTO_SERVER_NAME_MAX ? -1 : 0;
}

int
proto_heartbeat_ping(int hangup_s)
{
	int ping = hangup_s * 2 / 5;

	return ping < 1 ? 1 : ping;
}

int64_t
proto_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
proto_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
proto_rfc3339(int64_t ms, char *buf, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms < 0 || gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, cap, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}
