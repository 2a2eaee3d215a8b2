/*
 * proto.h - the forms of docs/PROTOCOL.md that both sides check, written
 * once: user names, hex ids, UTF-8, standard base64 (bare and as JSON
 * fields), the scrub of U+0000 and lone surrogates from JSON texts, the
 * server's name as a device signs it, the heartbeat's ping time, and times.
 * Part of common/, the protocol core linked into libchat and chat-server;
 * internal (not installed). The constants are in protocol.h.
 */
#ifndef CHAT_PROTO_H
#define CHAT_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "protocol.h"

/* 1 if s is a user name as the protocol allows: 1 to PROTO_USER_MAX of
 * [a-z0-9._-], the first one of [a-z0-9] (PROTO_USER_FORM). */
int proto_valid_user(const char *s);
/* 1 if s is exactly n lowercase hex digits (and ends there). */
int proto_valid_hex(const char *s, size_t n);

/* Standard base64 with padding (RFC 4648 section 4) of len bytes into a
 * malloc'd string; NULL when out of memory. Free with free(). */
char *proto_b64_encode(const uint8_t *bin, size_t len);
/* Decodes standard padded base64 into out (room for cap bytes). Returns 0
 * and sets *out_len, or -1 if s is not canonical base64 (libsodium refuses
 * trailing garbage and non-canonical padding bits) or decodes to more than
 * cap bytes; a string too long for cap is refused before any decoding. */
int proto_b64_decode(const char *s, uint8_t *out, size_t cap, size_t *out_len);
/* The longest base64 string that can decode to at most n bytes. */
size_t proto_b64_len(size_t n);

/* Decodes the standard-base64 string field `name` of obj into out, which must
 * come out exactly `want` bytes (or, if want is 0, at most cap bytes; *len gets the
 * size). Returns 0, or -1 if the field is missing, not a string, not base64 or
 * of the wrong size. */
int proto_get_b64(const cJSON *obj, const char *name, uint8_t *out, size_t want, size_t cap,
		  size_t *len);
/* Adds bin as a standard-base64 string field. Returns 0, or -1 on allocation failure. */
int proto_add_b64(cJSON *obj, const char *name, const uint8_t *bin, size_t len);

/* 1 if d is a whole number from min to max: every number of the protocol is
 * an integer (PROTOCOL.md, "Frames"). min and max must lie within +-2^62. */
int proto_is_integer(double d, double min, double max);
/* The string field `name`, or NULL if missing or not a string. */
const char *proto_get_str(const cJSON *obj, const char *name);
/* The integer field `name` into *out if it is a number with an exact integer value
 * in [min, max]. Returns 0, or -1. */
int proto_get_int(const cJSON *obj, const char *name, int64_t min, int64_t max, int64_t *out);

/* The length (1-4) of the well-formed UTF-8 sequence at s (len bytes left), or 0
 * if it is not one (stray or overlong bytes, surrogates, past U+10FFFF). */
size_t proto_utf8_seq(const unsigned char *s, size_t len);
/* 1 if s[0..len) is well-formed UTF-8 with no NUL byte. */
int proto_valid_utf8(const char *s, size_t len);

/* What proto_json_scrub() found in a JSON text (flag bits). */
#define PROTO_SCRUB_NUL       1u /* U+0000: a \u0000 escape or a raw NUL byte */
#define PROTO_SCRUB_SURROGATE 2u /* a lone surrogate escape (\ud800 alone, \udc00 first) */

/*
 * Makes a JSON text safe to give cJSON, which ends its C strings at the first
 * NUL (so "bob\u0000x" would read as "bob") and refuses a lone surrogate
 * escape outright (so a request holding one could not even be answered with
 * its id). Walks text[0..len) and, inside strings (keys included), rewrites
 * every \u0000 escape and every lone surrogate escape (a high one not
 * directly followed by a low-surrogate escape, or a low one on its own) to
 * \uFFFD, the same 6 bytes; a raw NUL byte anywhere becomes a space. An
 * escaped backslash is not the start of an escape ("\\u0000" is text).
 * Returns the PROTO_SCRUB_* bits of what it found (0: nothing, text untouched).
 * The caller refuses a text with any bit set, after parsing it for its id.
 */
unsigned proto_json_scrub(char *text, size_t len);
/* The same walk without rewriting: the bits proto_json_scrub() would return. */
unsigned proto_json_check(const char *text, size_t len);
/* What a bit set of proto_json_scrub() means, in words: "a string holds
 * U+0000" or "a string holds a lone surrogate" (NUL first). */
const char *proto_scrub_reason(unsigned flags);

/* A server URL split into its parts: ws://HOST[:PORT][/PATH], or wss:// for
 * WebSocket over TLS. */
struct proto_url {
	int tls;        /* 1 for wss:// */
	int ipv6;       /* 1 if host is an IPv6 address ([...] in the URL) */
	char host[256]; /* as written: a name, an IPv4 address, or an IPv6 address
	                   without its brackets */
	int port;       /* from the URL, else 80 (ws://) or 443 (wss://) */
	char path[512]; /* from the first '/', else "/" */
};

enum {
	PROTO_URL_OK = 0,
	PROTO_URL_SCHEME = -1, /* neither ws:// nor wss:// */
	PROTO_URL_HOST = -2,   /* no host, or one too long, or a bad [IPv6] */
	PROTO_URL_IPV6 = -5,   /* an IPv6 address not in brackets */
	PROTO_URL_PORT = -3,   /* a port that is not 1 to 65535 */
	PROTO_URL_PATH = -4    /* a path too long */
};

/* Splits url into *out. Returns PROTO_URL_OK or what is wrong with it. */
int proto_parse_url(const char *url, struct proto_url *out);

/*
 * The server's name as a device signs it and the server compares it
 * (PROTOCOL.md, "The session signature"): host in lower case (an IPv6
 * address, given with or without its brackets, in brackets in the one form
 * inet_ntop writes, RFC 5952's), ':', and port in decimal, always written.
 * 0, or -1 if host is empty, a bracketed or colon-holding host is no IPv6
 * address, port is not 1 to 65535, or the name is over PROTO_SERVER_NAME_MAX
 * bytes or does not fit in cap.
 */
int proto_server_name(const char *host, int port, char *out, size_t cap);

/* The ping time, in seconds, of a heartbeat whose hangup time is hangup_s
 * (PROTOCOL.md, "Heartbeats"): 40 % of it (10 s of 25), at least 1 s. */
int proto_heartbeat_ping(int hangup_s);

/* Milliseconds since the epoch, now (CLOCK_REALTIME). */
int64_t proto_now_ms(void);
/* Milliseconds on the monotonic clock, for deadlines. */
int64_t proto_mono_ms(void);
/* Formats ms since the epoch as RFC 3339 UTC with milliseconds,
 * "2026-11-28T03:29:22.123Z", into buf (at least 25 bytes). */
void proto_rfc3339(int64_t ms, char *buf, size_t cap);

#endif
