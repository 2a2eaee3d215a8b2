/*
 * util.h - small helpers shared by chat-server's modules: the log, the
 * monotonic clock and durations. The protocol's constants and forms (user
 * names, ids, base64, UTF-8, the wall clock) are common/'s, shared with
 * libchat: protocol.h and proto.h.
 */
#ifndef CHAT_SERVER_UTIL_H
#define CHAT_SERVER_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

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
 *
 * In a cluster (srv_log_setup's show_instance) the instance's name comes
 * between the time and "chat-server: ", so that "chat-server: listening on"
 * still reads the same; with --log-format json each line is one object
 * {"ts","level","instance","msg"[,"dropped"]} instead.
 */
void srv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A line's level: JSON's "level"; the text form does not show it.  srv_log
 * is SRV_INFO, srv_log_limited SRV_WARN. */
enum srv_level { SRV_INFO, SRV_WARN, SRV_ERROR };
void srv_logl(enum srv_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The longest message of a line (longer ones are cut). */
#define SRV_LOG_LINE 1024

/* --instance-id: 1 to SRV_INSTANCE_MAX of letters, digits and ". _ - :"
 * (the default, "host:port", fits the form). */
#define SRV_INSTANCE_MAX 64
int util_valid_instance(const char *s);

/* --log-format. */
enum { SRV_LOG_TEXT, SRV_LOG_JSON };

/* Set how lines look, before the first one: format SRV_LOG_*, the instance's
 * name (NULL: keep the one set), and whether text lines show it (JSON ones
 * always do).  Called again once the listening port is known, for the
 * default name. */
void srv_log_setup(int format, const char *instance, int show_instance);

/* The instance's name as set ("" if never). */
const char *srv_instance(void);

/* One line as it is written, into out (cap bytes, always a whole line
 * ending in a newline, cut if need be): when is the time, msg the text,
 * dropped the lines left out before it (JSON only: the text form writes a
 * line of its own).  The length written.  For the tests. */
size_t srv_log_format(char *out, size_t cap, const char *when, enum srv_level level,
		      const char *msg, uint64_t dropped);

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

/* Microseconds on CLOCK_MONOTONIC (rate limits: immune to clock steps). */
int64_t util_mono_us(void);

/* The longest --retention: 100 years. */
#define UTIL_DURATION_MAX_MS (36500LL * 24 * 60 * 60 * 1000)

/* Parse a DURATION, a positive whole number with a unit s, m, h or d
 * ("90s", "12h", "30d"), into milliseconds; -1 if malformed, zero or over
 * UTIL_DURATION_MAX_MS. */
int util_parse_duration(const char *s, int64_t *ms);

#endif /* CHAT_SERVER_UTIL_H */
