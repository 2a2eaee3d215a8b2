/*
 * look.h - how times, days and senders look: pure helpers for view.c,
 * without curses (tests/unit/test_tui_look.c).
 *
 * Days are said in a fixed form, not the locale's: "Tuesday, 2026-12-01"
 * (English day names, ISO dates), so a screen reads the same everywhere and
 * a test can look for it. Times are local.
 */
#ifndef TUI_LOOK_H
#define TUI_LOOK_H

#include <stddef.h>
#include <stdint.h>


/* "Tuesday, 2026-12-01": the separator's text for the day of ms. */
void look_day_label(int64_t ms, char *out, size_t len);

/* A message's time: "14:03" today, "Tue 14:03" in the six days before,
 * "2026-11-20 14:03" older (or in the future), "--:--" unknown. */
void look_time(int64_t ms, int64_t now_ms, char *out, size_t len);

/* A sender's colour among n (n > 0): the same name, the same colour, in
 * every chat and every run. */
int look_sender_colour(const char *name, int n);

/* "last seen today 14:03", "last seen yesterday 09:12", "last seen Tue
 * 14:03", "last seen 2026-11-20", from ms (<= 0: NULL is not returned;
 * "last seen a while ago"). */
void look_last_seen(int64_t ms, int64_t now_ms, char *out, size_t len);

#endif
