/*
 * when.c - a time as a chat list shows it (when.h): the clock for today,
 * the weekday for this week, the date before; as WhatsApp and Signal do, so
 * that a glance tells how fresh a chat is without a column of full dates.
 */
#include "when.h"

#include <time.h>

/* Days since the epoch of the local calendar day of tm. */
static long
day_number(const struct tm *tm)
{
	/* Howard Hinnant's days_from_civil: no mktime, so no time zone rules
	 * beyond the ones localtime_r applied. */
	long y = tm->tm_year + 1900L - (tm->tm_mon < 2);
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long mp = (tm->tm_mon + 10) % 12; /* March 0 (tm_mon counts from January 0) */
	long doy = (153 * mp + 2) / 5 + tm->tm_mday - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

long
when_day(int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	return ms > 0 && localtime_r(&t, &tm) != NULL ? day_number(&tm) : -1;
}

static const char *
when_form(int64_t at_ms, int64_t now_ms, int narrow, char *buf, size_t cap)
{
	time_t at = (time_t)(at_ms / 1000), now = (time_t)(now_ms / 1000);
	struct tm tat, tnow;
	long days;

	if (cap == 0)
		return buf;
	buf[0] = '\0';
	if (at_ms <= 0 || localtime_r(&at, &tat) == NULL || localtime_r(&now, &tnow) == NULL)
		return buf;
	days = day_number(&tnow) - day_number(&tat);
	if (days == 0)
		strftime(buf, cap, "%H:%M", &tat);
	else if (days > 0 && days < 7)
		strftime(buf, cap, "%a", &tat);
	else if (!narrow)
		strftime(buf, cap, "%Y-%m-%d", &tat);
	else if (tat.tm_year == tnow.tm_year)
		strftime(buf, cap, "%d %b", &tat);
	else
		strftime(buf, cap, "%Y", &tat);
	return buf;
}

const char *
when_brief(int64_t at_ms, int64_t now_ms, char *buf, size_t cap)
{
	return when_form(at_ms, now_ms, 0, buf, cap);
}

const char *
when_narrow(int64_t at_ms, int64_t now_ms, char *buf, size_t cap)
{
	return when_form(at_ms, now_ms, 1, buf, cap);
}
