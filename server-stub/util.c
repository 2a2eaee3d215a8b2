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
	proto_rfc3339(proto_now_ms(), when, sizeof when);
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
