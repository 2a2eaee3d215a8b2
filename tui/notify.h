/*
 * notify.h - telling the user about a message while they look elsewhere: a
 * desktop notification (notify-send, when it is on PATH and there is a D-Bus
 * session), else the terminal's own (OSC 777 or OSC 9), else the bell. Never
 * blocks: notify-send runs as a child (fork and execvp, no shell) that
 * notify_reap() collects. Text from the network goes through
 * notify_clean() first: no control character, so no escape sequence, reaches
 * the terminal or the notification.
 */
#ifndef TUI_NOTIFY_H
#define TUI_NOTIFY_H

#include <stddef.h>

#include "config.h"

#define NOTIFY_TEXT_MAX 200 /* bytes of a title or body shown */
#define NOTIFY_CHILDREN 8   /* notify-send running at once at most */

/* What mode resolves to here and now: auto becomes desktop (notify-send on
 * PATH and DBUS_SESSION_BUS_ADDRESS set), else osc777 or osc9 on terminals
 * known to show them (VTE, foot, WezTerm, Ghostty, kitty, iTerm2, Windows
 * Terminal), else bell; desktop without notify-send becomes bell. */
enum notify_mode notify_resolve(enum notify_mode mode);

/* s (n bytes, UTF-8 from the network) made safe to put in a notification
 * or an OSC string: control characters (C0, DEL, C1) become spaces, invalid
 * UTF-8 '?', ';' becomes ',' when semicolon is 0 (OSC fields are split at
 * ';'), cut at a character boundary to fit max - 1 bytes. Returns out. */
char *notify_clean(const char *s, size_t n, int semicolon, char *out, size_t max);

/* The escape sequence for mode (NOTIFY_OSC777 or NOTIFY_OSC9) into out;
 * title and body already clean. Returns its length (0 for another mode). */
size_t notify_osc(enum notify_mode mode, const char *title, const char *body, char *out,
		  size_t max);

/* Shows title and body (raw: cleaned here) as mode says (resolved); with
 * bell, the bell rings too. Returns the mode used (desktop may fall back to
 * the bell when too many are still running or fork fails). */
enum notify_mode notify_show(enum notify_mode mode, int bell, const char *title, const char *body,
			     size_t body_len);

/* Collects the notify-send children that have ended (non-blocking). */
void notify_reap(void);

#endif
