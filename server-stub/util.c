/*
 * util.c - see util.h.
 */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto.h"

int srv_verbose;
int srv_quiet;

/* Every line together: a flood of connections or requests, each logging a
 * line, must not fill the disk (issue 10, item 11). Far above what a normal
 * server writes, so that it never hides anything then. */
static struct log_limit all_lines = {.rate = LOG_RATE, .burst = LOG_BURST};

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

/* --instance-id and --log-format (srv_log_setup). */
static int log_json;
static int log_show_instance;
static char log_instance[SRV_INSTANCE_MAX + 1];

static const char *const level_names[] = {"info", "warn", "error"};

int
util_valid_instance(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SRV_INSTANCE_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-' || *s == ':'))
			return 0;
	return 1;
}

void
srv_log_setup(int format, const char *instance, int show_instance)
{
	log_json = format == SRV_LOG_JSON;
	log_show_instance = show_instance;
	if (instance != NULL)
		snprintf(log_instance, sizeof log_instance, "%s", instance);
}

const char *
srv_instance(void)
{
	return log_instance;
}

/* s as the inside of a JSON string at out (cap > 0, always terminated):
 * quotes, backslashes and control characters escaped, a byte that is not
 * part of valid UTF-8 replaced by U+FFFD, so that a line stays one valid
 * object whatever a message quoted.  Returns the length written. */
static size_t
json_text(char *out, size_t cap, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, n = strlen(s), seq;
	char esc[8];

	while (*p != '\0') {
		const char *put = esc;
		size_t len;

		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			len = 2;
			seq = 1;
		} else if (*p < 0x20 || *p == 0x7f) {
			len = (size_t)snprintf(esc, sizeof esc, "\\u%04x", *p);
			seq = 1;
		} else if (*p < 0x80) {
			put = (const char *)p;
			len = seq = 1;
		} else if ((seq = proto_utf8_seq(p, n - (size_t)(p - (const unsigned char *)s))) >
			   0) {
			put = (const char *)p;
			len = seq;
		} else {
			put = "\\ufffd";
			len = 6;
			seq = 1;
		}
		if (o + len >= cap)
			break; /* cut at a whole character */
		memcpy(out + o, put, len);
		o += len;
		p += seq;
	}
	out[o] = '\0';
	return o;
}

size_t
srv_log_format(char *out, size_t cap, const char *when, enum srv_level level, const char *msg,
	       uint64_t dropped)
{
	char text[SRV_LOG_LINE * 6 + 1], inst[SRV_INSTANCE_MAX * 6 + 1], note[48] = "";
	int n;

	if (!log_json) {
		/* One event, one line: a message that runs over several (libpq's
		 * do) has its line breaks and other control characters made
		 * spaces, and none at its end. */
		size_t len = strlen(msg);

		while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
			len--;
		if (len >= sizeof text)
			len = sizeof text - 1;
		for (size_t i = 0; i < len; i++)
			text[i] = (unsigned char)msg[i] < 0x20 || msg[i] == 0x7f ? ' ' : msg[i];
		text[len] = '\0';
		if (log_show_instance && log_instance[0] != '\0')
			n = snprintf(out, cap, "%s %s chat-server: %s\n", when, log_instance, text);
		else
			n = snprintf(out, cap, "%s chat-server: %s\n", when, text);
	} else {
		json_text(text, sizeof text, msg);
		json_text(inst, sizeof inst, log_instance);
		if (dropped > 0)
			snprintf(note, sizeof note, ",\"dropped\":%llu",
				 (unsigned long long)dropped);
		n = snprintf(
			out, cap,
			"{\"ts\":\"%s\",\"level\":\"%s\",\"instance\":\"%s\",\"msg\":\"%s\"%s}\n",
			when, level_names[level], inst, text, note);
	}
	if (n < 0)
		n = 0;
	if ((size_t)n >= cap && cap > 1) {
		/* A line too long for the buffer still ends as a line. */
		out[cap - 2] = '\n';
		return cap - 1;
	}
	return (size_t)n;
}

static void
vlog(struct log_limit *l, enum srv_level level, const char *fmt, va_list ap)
{
	char line[SRV_LOG_LINE], when[64], note[96], out[SRV_LOG_LINE * 8];
	uint64_t dropped;
	size_t o;

	if (srv_quiet)
		return;
	if ((l != NULL && !log_take(l)) || !log_take(&all_lines))
		return;
	/* Say what was left out, once a line gets through again. */
	dropped = all_lines.dropped + (l != NULL ? l->dropped : 0);
	all_lines.dropped = 0;
	if (l != NULL)
		l->dropped = 0;
	/* Format first and write once, so that a line is never split between
	 * two writers of the same stderr (the tests read it as lines). */
	vsnprintf(line, sizeof line, fmt, ap);
	proto_rfc3339(proto_now_ms(), when, sizeof when);
	o = 0;
	if (dropped > 0 && !log_json) {
		/* A line of its own before the one let through, as always (in
		 * JSON: a field of that one). */
		snprintf(note, sizeof note, "(%llu lines like the next were not logged)",
			 (unsigned long long)dropped);
		o = srv_log_format(out, sizeof out, when, SRV_WARN, note, 0);
	}
	o += srv_log_format(out + o, sizeof out - o, when, level, line, dropped);
	fwrite(out, 1, o, stderr);
	fflush(stderr);
}

void
srv_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(NULL, SRV_INFO, fmt, ap);
	va_end(ap);
}

void
srv_logl(enum srv_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(NULL, level, fmt, ap);
	va_end(ap);
}

void
srv_log_limited(struct log_limit *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(l, SRV_WARN, fmt, ap);
	va_end(ap);
}

int64_t
util_mono_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0; /* cannot happen with CLOCK_MONOTONIC */
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
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
