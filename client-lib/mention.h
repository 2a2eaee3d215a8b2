/*
 * mention.h - "@name" mentions in a message's text (issue 14): the rule
 * libchat applies to every text message it hands over (struct chat_message
 * mentions_me, mentions). Internal to libchat and the programs built with it
 * (not installed); a pure function, tests/unit/test_mention.c.
 *
 * The rule (docs/PROTOCOL.md, "Mentions"; libchat(3)): a mention is an '@'
 * at the start of the text or after an ASCII byte that is no name character, no
 * '@' (so "ann@example.org" mentions no one), followed by a word: the longest
 * run of ASCII letters, digits, '.', '_' and '-'. The word, or the word without
 * the '.', '-' and '_' at its end (punctuation: "@bob." and "@bob-"), names a
 * member if it equals the member's user name, ASCII case ignored ("@Bob").
 * A byte of 0x80 or above right after the word makes it no mention
 * ("@bobé" is not bob). Names of no member mention no one. Nothing travels on
 * the wire: every device finds the mentions in the text itself.
 */
#ifndef CHAT_MENTION_H
#define CHAT_MENTION_H

#include <stddef.h>

/* Scans text (len bytes) for mentions of members[0..n-1]. Sets *mentions_me
 * (if not NULL) to 1 when me (may be NULL) is mentioned by name, else 0.
 * Stores in out[] (if not NULL) up to cap pointers into members[], each
 * member once, in the order of their first mention. Returns how many it
 * stored (0 when out is NULL). */
size_t mention_scan(const char *text, size_t len, const char *const *members, size_t n,
		    const char *me, int *mentions_me, const char **out, size_t cap);

#endif
