/*
 * when.h - a time as a chat list shows it, the same in chatctl and chat-tui.
 */
#ifndef WHEN_H
#define WHEN_H

#include <stddef.h>
#include <stdint.h>

/* at_ms (ms since the epoch) in local time, as short as tells it from now_ms:
 * "14:05" the same day, "Tue" within the six days before, "2026-11-02"
 * earlier (or later than today: a clock ahead). "" for 0. Writes at most cap
 * bytes (11 are enough); returns buf. */
/* The local calendar day of ms (ms since the epoch) as days since
 * 1970-01-01, so that days compare and subtract; -1 for no time (ms <= 0). */
long when_day(int64_t ms);
const char *when_brief(int64_t at_ms, int64_t now_ms, char *buf, size_t cap);
/* The same for a narrow column (chat-tui's list): an earlier date is
 * "02 Nov" this year, "2025" before it. */
const char *when_narrow(int64_t at_ms, int64_t now_ms, char *buf, size_t cap);

#endif
