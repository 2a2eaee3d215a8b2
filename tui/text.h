/*
 * text.h - what chat-tui needs to put UTF-8 text on a terminal grid: code
 * points, grapheme clusters, display widths, wrapping, and a safe form of
 * text from the network. Pure functions, no curses; tests/unit/test_tui_text.c.
 *
 * Widths follow the C library's wcwidth() in the current (UTF-8) locale,
 * summed over a cluster's code points, because that is how far ncursesw
 * moves its cursor: combining marks, ZWJ and variation selectors take 0
 * columns and ride on the cluster before them; CJK and emoji take 2.
 * Terminals do not all agree for a few kinds of cluster (tmux draws a ZWJ
 * sequence joined, in 2 columns where the sum is 6): chat-tui measures the
 * terminal (tui/term.c) and sets "quirks" here, and for each kind the
 * terminal draws otherwise, the cluster is drawn in a form whose width both
 * agree on (text_cluster_form), and measured as that form.
 *
 * Text from other people is never given to the terminal as it is: C0 and C1
 * controls, DEL, bidi overrides and isolates (U+202A-U+202E, U+2066-U+2069)
 * and invalid bytes are shown as visible escapes ("\x1b", "\u202e"), so a
 * message can neither drive the terminal nor reorder the screen.
 */
#ifndef TUI_TEXT_H
#define TUI_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Kinds of cluster a terminal may draw in another width than wcwidth()'s sum,
 * and what is drawn instead when it does (text_set_quirks): */
#define TEXT_QUIRK_ZWJ      1u /* joins across a ZWJ: ZWJ not drawn, joins nothing */
#define TEXT_QUIRK_VS       2u /* VS15/VS16 change the width: not drawn */
#define TEXT_QUIRK_MODIFIER 4u /* joins a skin tone to its emoji: tone not drawn (0 columns) */
#define TEXT_QUIRK_FLAG     8u /* flags not 2 columns: regional indicators drawn as letters */
#define TEXT_QUIRK_ALL      15u

/* The quirks of the terminal (0 at start: it draws as wcwidth() counts).
 * Global: one terminal per process. */
void text_set_quirks(unsigned quirks);
unsigned text_quirks(void);

/* One UTF-8 sequence at s (len bytes available): its length (1 to 4) with *cp
 * set, or 0 if the bytes there are not well-formed UTF-8 (overlong,
 * surrogate, > U+10FFFF, truncated). */
size_t text_decode(const char *s, size_t len, uint32_t *cp);

/* 1 if cp is shown as an escape (see above), else 0. */
int text_is_unsafe(uint32_t cp);

/* Display columns of cp when shown: 0, 1 or 2 (wcwidth; an unsafe code point
 * or one wcwidth does not know counts as the width of its escape). */
int text_cp_width(uint32_t cp);

/* The grapheme cluster at s: a base character and what joins it (combining
 * marks, ZWJ and the character after it, variation selectors, emoji
 * modifiers, a regional indicator pair). Returns its length in bytes (at least
 * 1 when len > 0; an invalid byte is a cluster of its own) and sets *width to
 * its display columns (its escape's width if unsafe), as drawn under the
 * quirks: with TEXT_QUIRK_ZWJ nothing joins after a ZWJ, with
 * TEXT_QUIRK_MODIFIER a joined skin tone counts 0. */
size_t text_cluster(const char *s, size_t len, int *width);

/* What to send the terminal for the cluster s (n bytes, one cluster as
 * text_cluster() cut it): its escape if unsafe, else its bytes without what
 * the quirks leave out (a regional indicator as its letter). Its width is
 * what text_cluster() said. Writes at most cap - 1 bytes and a NUL (cap 16 or
 * more, and n + 1 or more, holds every form); returns the length written. */
size_t text_cluster_form(const char *s, size_t n, char *out, size_t cap);

/* Display columns of s (len bytes), cluster by cluster; '\n' counts 0. */
int text_width(const char *s, size_t len);

/* The safe form of s for the screen: unsafe code points and invalid bytes
 * replaced by their escapes ("\xNN" for a byte or a C0/C1 control, "\uXXXX"
 * for a bidi control), '\t' by a space, and everything else as it is ('\n'
 * kept). Writes at most cap - 1 bytes and a NUL to out; returns the length it
 * needed (like snprintf), so a caller can size out. */
size_t text_sanitize(const char *s, size_t len, char *out, size_t cap);

/* Breaks s (already safe, see text_sanitize) into screen rows of at most cols
 * columns (cols >= 1): at '\n' (not part of any row), else after the last
 * space that fits when the row would overflow (the space ends the row), else
 * between clusters (a word longer than a row is cut). A cluster wider than
 * cols gets a row of its own. Calls row(arg, off, n) for each row, with the
 * byte offset and length in s, and returns the number of rows (an empty s is
 * one empty row). */
typedef void (*text_row_fn)(void *arg, size_t off, size_t n);
int text_wrap(const char *s, size_t len, int cols, text_row_fn row, void *arg);

/* Like text_wrap, but never at spaces: rows of exactly cols columns but the
 * last (or fewer, when the next cluster would not fit), for an input line
 * whose cursor must land where the text does. */
int text_wrap_hard(const char *s, size_t len, int cols, text_row_fn row, void *arg);

/* The byte offset of the cluster boundary before (prev) or after (next) off
 * in s; 0 and len at the ends. off must be a boundary. */
size_t text_prev(const char *s, size_t len, size_t off);
size_t text_next(const char *s, size_t len, size_t off);

#endif
