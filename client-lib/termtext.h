/*
 * termtext.h - text from other people, made safe to show on a terminal: the
 * rules chatctl and chat-tui share. Internal to libchat and the programs
 * built with it (not installed); pure functions, tests/unit/test_termtext.c.
 *
 * A message, a file name, a chat's name or kind, a device name or an error
 * message from the server may hold bytes that a terminal takes as commands
 * (ESC sequences move the cursor, retitle the window, fake lines; C1 controls
 * act as 8-bit ESC on some terminals) or that reorder what is shown (the bidi
 * embeddings, overrides and isolates U+202A-U+202E and U+2066-U+2069 make
 * "cod\u202egnp.exe" read as "codexe.png"). Such code points, and bytes
 * that are not UTF-8, are shown as visible escapes instead:
 *
 *   "\xNN"       an invalid byte, a C0 control, DEL or a C1 control
 *   "\uXXXX"     any other unsafe code point up to U+FFFF (lowercase hex)
 *   "\UXXXXXXXX" above it
 *
 * The marks LRM, RLM and ALM (U+200E, U+200F, U+061C) are not unsafe: they
 * only settle the direction of the neutral characters beside them, and
 * right-to-left writers need them.
 */
#ifndef CHAT_TERMTEXT_H
#define CHAT_TERMTEXT_H

#include <stddef.h>
#include <stdint.h>

/* For termtext_sanitize: keep '\n' and '\t' as they are (a message's text,
 * which may have several lines). Without it they are escaped too, so that a
 * name stays on one line. */
#define TERMTEXT_MULTILINE 1

/* One UTF-8 sequence at s (len bytes available): its length (1 to 4) with *cp
 * set, or 0 if the bytes there are not well-formed UTF-8 (overlong,
 * surrogate, > U+10FFFF, truncated). */
size_t termtext_decode(const char *s, size_t len, uint32_t *cp);

/* 1 if cp is shown as an escape: C0 controls ('\n' and '\t' too: a caller
 * that keeps them checks them first), DEL, C1, the bidi embeddings, overrides
 * and isolates, and what is no code point (surrogates, > U+10FFFF). */
int termtext_unsafe(uint32_t cp);

/* Writes the escape of cp (see above) to buf, NUL-terminated if cap > 0, and
 * returns its length (4, 6 or 10), which is also its width in columns. */
size_t termtext_escape(uint32_t cp, char *buf, size_t cap);

/* The safe form of s (len bytes): unsafe code points and invalid bytes
 * replaced by their escapes, everything else as it is. flags:
 * TERMTEXT_MULTILINE or 0. Writes at most cap - 1 bytes and a NUL to out
 * (never cutting an escape or a character in two); returns the length it
 * needed (like snprintf), at most 4 * len. */
size_t termtext_sanitize(const char *s, size_t len, int flags, char *out, size_t cap);

#endif
