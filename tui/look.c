/*
 * look.c - days, times and senders' colours (look.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "look.h"
#include "when.h"

static const char *const day_names[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
					 "Thursday", "Friday", "Saturday"};

static int
local(int64_t ms, struct tm *tm)
{
	time_t t = (time_t)(ms / 1000);

	return ms > 0 && localtime_r(&t, tm) != NULL ? 0 : -1;
}

void
look_day_label(int64_t ms, char *out, size_t len)
{
	struct tm tm;

	if (local(ms, &tm) != 0) {
		snprintf(out, len, "an unknown day");
		return;
	}
	snprintf(out, len, "%s, %04d-%02d-%02d", day_names[tm.tm_wday % 7], tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday);
}

void
look_time(int64_t ms, int64_t now_ms, char *out, size_t len)
{
	struct tm tm;
	long d = when_day(ms), today = when_day(now_ms);

	if (local(ms, &tm) != 0) {
		snprintf(out, len, "--:--");
		return;
	}
	if (d == today)
		snprintf(out, len, "%02d:%02d", tm.tm_hour, tm.tm_min);
	else if (d < today && today - d <= 6)
		snprintf(out, len, "%.3s %02d:%02d", day_names[tm.tm_wday % 7], tm.tm_hour,
			 tm.tm_min);
	else
		snprintf(out, len, "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min);
}

int
look_sender_colour(const char *name, int n)
{
	/* FNV-1a: stable across runs and machines, unlike a seeded hash. */
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return n > 0 ? (int)(h % (uint32_t)n) : 0;
}

void
look_last_seen(int64_t ms, int64_t now_ms, char *out, size_t len)
{
	struct tm tm;
	long d = when_day(ms), today = when_day(now_ms);

	if (local(ms, &tm) != 0)
		snprintf(out, len, "last seen a while ago");
	else if (d == today)
		snprintf(out, len, "last seen today %02d:%02d", tm.tm_hour, tm.tm_min);
	else if (d == today - 1)
		snprintf(out, len, "last seen yesterday %02d:%02d", tm.tm_hour, tm.tm_min);
	else if (d < today && today - d <= 6)
		snprintf(out, len, "last seen %.3s %02d:%02d", day_names[tm.tm_wday % 7],
			 tm.tm_hour, tm.tm_min);
	else
		snprintf(out, len, "last seen %04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday);
}
