/*
 * util.h - small helpers shared by chat-server's modules: the log, the clock,
 * identifier forms and base64.
 */
#ifndef CHAT_SERVER_UTIL_H
#define CHAT_SERVER_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Protocol constants (docs/PROTOCOL.md, "Identifiers" and "Limits"). */
#define CHAT_USER_MAX          32 /* bytes in a user name */
#define CHAT_CHAT_ID_LEN       16 /* lowercase hex digits */
#define CHAT_MESSAGE_ID_LEN    32 /* lowercase hex digits */
#define CHAT_DEVICE_ID_MAX     2147483647L
#define CHAT_DEVICE_NAME_MAX   64    /* bytes */
#define CHAT_MAX_TEXT          65536 /* bytes of plaintext */
#define CHAT_TAG_BYTES         16    /* XChaCha20-Poly1305 tag */
#define CHAT_MAX_CIPHERTEXT    66560 /* one envelope: kind byte, text, tag, room to grow */
#define CHAT_NONCE_BYTES       24
#define CHAT_KEY_BYTES         32
#define CHAT_SIG_BYTES         64
#define CHAT_CHALLENGE_BYTES   32
#define CHAT_MAX_DEVICES       3   /* per user */
#define CHAT_MAX_MEMBERS       100 /* per group, the creator included */
#define CHAT_MAX_MODIFY        99  /* users per modifyChatParticipants */
#define CHAT_GROUP_NAME_MAX    64  /* bytes of UTF-8 */
#define CHAT_LINK_MAC_BYTES    32  /* linkMac: HMAC-SHA256 */
#define CHAT_LINK_LIFETIME_MS  (10 * 60 * 1000)
#define CHAT_MAX_LINKS         5    /* link requests waiting per user */
#define CHAT_BINDING_BYTES     32   /* the TLS exporter value a device signs */
#define CHAT_MAX_GETKEYS       100  /* users per getKeys */
#define CHAT_MAX_LAST_SEEN     100  /* users per getLastSeen */
#define CHAT_MAX_ACK           1000 /* ids per ack */
#define CHAT_DEFAULT_MAX_FRAME 1048576
/* Envelopes per sendMessage: one per device of every member. */
#define CHAT_MAX_ENVELOPES (CHAT_MAX_MEMBERS * CHAT_MAX_DEVICES)

/* Set by --verbose: log every request, not only errors. */
extern int srv_verbose;

/* Set by the unit tests, whose expected errors would bury their report. */
extern int srv_quiet;

/*
 * One line to stderr, prefixed with the time (UTC, ISO 8601 with
 * milliseconds) and "chat-server: ", newline added, flushed at once: the
 * integration tests read this stream while the server runs.  All lines
 * together are limited to LOG_RATE a second, bursts of LOG_BURST; a line
 * that gets through after some did not says how many were left out.
 */
void srv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define LOG_RATE  200.0
#define LOG_BURST 2000.0

/* A token bucket of log lines of one kind (zeroed but for rate and burst). */
struct log_limit {
	double rate;  /* lines a second */
	double burst; /* lines at once */
	double tokens;
	int64_t last_us;
	int started;
	uint64_t dropped; /* lines left out since the last one written */
};

/* srv_log, but also within l: for lines an attacker can make repeat (a
 * refused connection, libwebsockets' own complaints). */
void srv_log_limited(struct log_limit *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t util_now_ms(void);

/* Microseconds on CLOCK_MONOTONIC (rate limits: immune to clock steps). */
int64_t util_mono_us(void);

/* The longest --retention: 100 years. */
#define UTIL_DURATION_MAX_MS (36500LL * 24 * 60 * 60 * 1000)

/* Parse a DURATION, a positive whole number with a unit s, m, h or d
 * ("90s", "12h", "30d"), into milliseconds; -1 if malformed, zero or over
 * UTIL_DURATION_MAX_MS. */
int util_parse_duration(const char *s, int64_t *ms);

/* 1 if s is a user name: ^[a-z0-9][a-z0-9._-]{0,31}$ */
int util_valid_user(const char *s);

/* 1 if s is exactly len lowercase hex digits. */
int util_valid_hex(const char *s, size_t len);

/* 1 if the len bytes at s are well-formed UTF-8 (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF). */
int util_valid_utf8(const char *s, size_t len);

/*
 * Standard base64 with padding of len bytes into a malloc'd string; NULL
 * when out of memory.  Free with free().
 */
char *util_b64_encode(const uint8_t *bin, size_t len);

/*
 * Decode standard padded base64 into out (room for cap bytes).  Returns 0
 * and sets *out_len, or -1 if s is not canonical base64 or decodes to more
 * than cap bytes.
 */
int util_b64_decode(const char *s, uint8_t *out, size_t cap, size_t *out_len);

/* The longest base64 string that can decode to at most n bytes. */
size_t util_b64_len(size_t n);

#endif /* CHAT_SERVER_UTIL_H */
