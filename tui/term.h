/*
 * term.h - what the terminal really does with the clusters whose width the C
 * library cannot speak for (see text.h): at start, chat-tui prints a probe
 * of each kind and asks the terminal where its cursor went (DSR, "CSI 6n";
 * the answer is "CSI row ; col R"), and draws each kind the terminal does
 * not draw as counted in a form whose width is certain (text_set_quirks).
 * A terminal that does not answer gets the certain forms of every kind.
 */
#ifndef TUI_TERM_H
#define TUI_TERM_H

#include <stddef.h>

/* How many probes term_probe() prints, in this order. */
size_t term_probes(void);

/* Measures the terminal on in/out (a tty, before curses takes it): prints
 * each probe after a carriage return, asks for the cursor's position, and
 * waits at most timeout_ms for the answers; then wipes the line and puts the
 * terminal's modes back. Returns the quirks (TEXT_QUIRK_*), TEXT_QUIRK_ALL
 * for the kinds that got no answer. Keys typed meanwhile are not lost: their
 * bytes go to typed (cap bytes; *n_typed of them), for curses to read again
 * (ungetch). */
unsigned term_probe(int in, int out, int timeout_ms, char *typed, size_t cap, size_t *n_typed);

/* The pure parts, for the tests. */

/* The cursor position reports in buf (len bytes): the column of each, in
 * order, at most max. Anything else in buf (keys typed meanwhile) is skipped;
 * a report cut off at the end is not counted. Returns how many. */
size_t term_parse_reports(const char *buf, size_t len, int *cols, size_t max);

/* Takes the complete reports out of buf (len bytes), moving what is left to
 * its start (*rest bytes). Returns how many it took. */
size_t term_take_reports(char *buf, size_t len, size_t *rest);

/* The quirks from the columns the cursor reached after each probe (printed
 * from column 1): n answers for the first n probes; a kind whose probe drew
 * otherwise than wcwidth() counts, or got no answer, is a quirk. */
unsigned term_quirks(const int *cols, size_t n);

#endif
