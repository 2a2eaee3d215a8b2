/*
 * test_tui_text.c - chat-tui's text (tui/text.c): UTF-8, what is unsafe,
 * widths, grapheme clusters, the safe form and wrapping, what is drawn for a
 * terminal with quirks; and its input line (tui/editor.c). Widths are the C
 * library's, in C.UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <locale.h>
#include <cmocka.h>

#include "editor.h"
#include "text.h"

/* What is invisible or confusable, spelt out. */
#define ACUTE    "\xcc\x81"         /* U+0301 combining acute accent */
#define ZWJ      "\xe2\x80\x8d"     /* U+200D */
#define LRM      "\xe2\x80\x8e"     /* U+200E */
#define RLM      "\xe2\x80\x8f"     /* U+200F */
#define ALM      "\xd8\x9c"         /* U+061C */
#define RLO      "\xe2\x80\xae"     /* U+202E right-to-left override */
#define FSI      "\xe2\x81\xa8"     /* U+2068 first strong isolate */
#define CSI8     "\xc2\x9b"         /* U+009B, 8-bit CSI */
#define VS16     "\xef\xb8\x8f"     /* U+FE0F */
#define TONE     "\xf0\x9f\x8f\xbd" /* U+1F3FD medium skin tone */
#define FFFD     "\xef\xbf\xbd"
#define PDI      "\xe2\x81\xa9"      /* U+2069 pop directional isolate */
#define QAMATS   "\xd6\xb8"          /* U+05B8, a Hebrew vowel */
#define SHIN_DOT "\xd7\x81"          /* U+05C1 */
#define FAMILY   "👨" ZWJ "👩" ZWJ "👧" /* 18 bytes */
#define THUMB    "👍" TONE            /* 8 bytes */
#define FR       "🇫🇷"                /* 8 bytes */
#define DE       "🇩🇪"

/* The length and width of the first cluster of s. */
static size_t
cluster(const char *s, int *width)
{
	return text_cluster(s, strlen(s), width);
}

static void
test_decode_valid(void **state)
{
	uint32_t cp = 0;

	(void)state;
	assert_int_equal(text_decode("A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(text_decode("\0", 1, &cp), 1);
	assert_int_equal(cp, 0);
	assert_int_equal(text_decode("\xc2\x80", 2, &cp), 2); /* the smallest of each length */
	assert_int_equal(cp, 0x80);
	assert_int_equal(text_decode("\xdf\xbf", 2, &cp), 2);
	assert_int_equal(cp, 0x7ff);
	assert_int_equal(text_decode("é", 2, &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(text_decode("\xe0\xa0\x80", 3, &cp), 3);
	assert_int_equal(cp, 0x800);
	assert_int_equal(text_decode("漢", 3, &cp), 3);
	assert_int_equal(cp, 0x6f22);
	assert_int_equal(text_decode("\xef\xbf\xbf", 3, &cp), 3);
	assert_int_equal(cp, 0xffff);
	assert_int_equal(text_decode("\xf0\x90\x80\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x10000);
	assert_int_equal(text_decode("😀", 4, &cp), 4);
	assert_int_equal(cp, 0x1f600);
	assert_int_equal(text_decode("\xf4\x8f\xbf\xbf", 4, &cp), 4);
	assert_int_equal(cp, 0x10ffff);
	/* Only the first sequence is read. */
	assert_int_equal(text_decode("éa", 3, &cp), 2);
	assert_int_equal(cp, 0xe9);
}

static void
test_decode_rejects(void **state)
{
	uint32_t cp;

	(void)state;
	assert_int_equal(text_decode("", 0, &cp), 0);
	assert_int_equal(text_decode("\x80", 1, &cp), 0);             /* continuation */
	assert_int_equal(text_decode("\xbf", 1, &cp), 0);             /* continuation */
	assert_int_equal(text_decode("\xc0\x80", 2, &cp), 0);         /* overlong NUL */
	assert_int_equal(text_decode("\xc1\xbf", 2, &cp), 0);         /* overlong 0x7f */
	assert_int_equal(text_decode("\xe0\x80\x80", 3, &cp), 0);     /* overlong */
	assert_int_equal(text_decode("\xe0\x9f\xbf", 3, &cp), 0);     /* overlong 0x7ff */
	assert_int_equal(text_decode("\xf0\x8f\xbf\xbf", 4, &cp), 0); /* overlong 0xffff */
	assert_int_equal(text_decode("\xed\xa0\x80", 3, &cp), 0);     /* U+D800 */
	assert_int_equal(text_decode("\xed\xbf\xbf", 3, &cp), 0);     /* U+DFFF */
	assert_int_equal(text_decode("\xf4\x90\x80\x80", 4, &cp), 0); /* U+110000 */
	assert_int_equal(text_decode("\xf5\x80\x80\x80", 4, &cp), 0);
	assert_int_equal(text_decode("\xff", 1, &cp), 0);
	assert_int_equal(text_decode("\xfe", 1, &cp), 0);
	assert_int_equal(text_decode("\xe6\xbc", 2, &cp), 0);     /* truncated 漢 */
	assert_int_equal(text_decode("\xf0\x9f\x98", 3, &cp), 0); /* truncated 😀 */
	assert_int_equal(text_decode("\346A\242", 3, &cp), 0);
	assert_int_equal(text_decode("\303A", 2, &cp), 0);
	/* The bytes are there, but len says they are not. */
	assert_int_equal(text_decode("漢", 2, &cp), 0);
	assert_int_equal(text_decode("😀", 3, &cp), 0);
}

static void
test_unsafe_code_points(void **state)
{
	(void)state;
	assert_true(text_is_unsafe(0x00));
	assert_true(text_is_unsafe(0x07)); /* BEL */
	assert_true(text_is_unsafe(0x0d)); /* CR */
	assert_true(text_is_unsafe(0x1b)); /* ESC */
	assert_true(text_is_unsafe(0x7f)); /* DEL */
	assert_true(text_is_unsafe(0x80));
	assert_true(text_is_unsafe(0x9b)); /* CSI */
	assert_true(text_is_unsafe(0x9f));
	assert_true(text_is_unsafe(0x202a));
	assert_true(text_is_unsafe(0x202e));
	assert_true(text_is_unsafe(0x2066));
	assert_true(text_is_unsafe(0x2069));
	assert_true(text_is_unsafe(0x2028)); /* no width known */
	assert_true(text_is_unsafe(0x0378)); /* unassigned */
	assert_true(text_is_unsafe(0xffff)); /* noncharacter */
	assert_true(text_is_unsafe(0x10ffff));
	assert_true(text_is_unsafe(0xd800));
	assert_true(text_is_unsafe(0x110000));

	assert_false(text_is_unsafe('\n'));
	assert_false(text_is_unsafe('\t'));
	assert_false(text_is_unsafe(' '));
	assert_false(text_is_unsafe('~'));
	assert_false(text_is_unsafe(0xa0));
	assert_false(text_is_unsafe(0x200e)); /* LRM, RLM, ALM: marks, not overrides */
	assert_false(text_is_unsafe(0x200f));
	assert_false(text_is_unsafe(0x061c));
	assert_false(text_is_unsafe(0x2001)); /* em quad */
	assert_false(text_is_unsafe(0x2060)); /* word joiner */
	assert_false(text_is_unsafe(0x200d));
	assert_false(text_is_unsafe(0xfeff));
	assert_false(text_is_unsafe(0xfffd));
}

static void
test_cp_width(void **state)
{
	(void)state;
	assert_int_equal(text_cp_width('a'), 1);
	assert_int_equal(text_cp_width(0xe9), 1);
	assert_int_equal(text_cp_width(0x301), 0);
	assert_int_equal(text_cp_width(0x6f22), 2);
	assert_int_equal(text_cp_width(0x1f600), 2);
	assert_int_equal(text_cp_width(0x5d0), 1); /* alef */
	assert_int_equal(text_cp_width(0x64e), 0); /* fatha */
	assert_int_equal(text_cp_width(0x200e), 0);
	assert_int_equal(text_cp_width(0x200f), 0);
	assert_int_equal(text_cp_width(0x61c), 0);
	assert_int_equal(text_cp_width('\n'), 0);
	assert_int_equal(text_cp_width('\t'), 1);
	/* The widths of the escapes. */
	assert_int_equal(text_cp_width(0x1b), 4);
	assert_int_equal(text_cp_width(0x7f), 4);
	assert_int_equal(text_cp_width(0x9b), 4);
	assert_int_equal(text_cp_width(0x202e), 6);
	assert_int_equal(text_cp_width(0x2066), 6);
	assert_int_equal(text_cp_width(0x378), 6);
	assert_int_equal(text_cp_width(0x10ffff), 10);
}

static void
test_widths(void **state)
{
	(void)state;
	assert_int_equal(text_width("", 0), 0);
	assert_int_equal(text_width("hello", 5), 5);
	assert_int_equal(text_width("é", strlen("é")), 1);
	assert_int_equal(text_width("e" ACUTE, 3), 1);
	assert_int_equal(text_width("cafée" ACUTE, strlen("cafée" ACUTE)), 5);
	assert_int_equal(text_width("漢字", 6), 4);
	assert_int_equal(text_width("😀", 4), 2);
	/* A cluster takes what curses advances for it: its code points' sum. */
	assert_int_equal(text_width(FAMILY, strlen(FAMILY)), 6);
	assert_int_equal(text_width(FR, 8), 2);
	assert_int_equal(text_width(THUMB, 8), 4);
	assert_int_equal(text_width("❤" VS16, strlen("❤" VS16)), 1);
	/* Hebrew and Arabic: a column a letter, the vowel marks none. */
	assert_int_equal(text_width("שלום", strlen("שלום")), 4);
	assert_int_equal(text_width("שָׁלוֹם", strlen("שָׁלוֹם")), 4);
	assert_int_equal(text_width("مرحبا", strlen("مرحبا")), 5);
	assert_int_equal(text_width("مَرْحَبًا", strlen("مَرْحَبًا")), 5);
	assert_int_equal(text_width("a" RLM "b" LRM "c" ALM, 3 + 3 + 3 + 2), 3);
	/* '\n' takes no column; escapes take theirs. */
	assert_int_equal(text_width("ab\ncd", 5), 4);
	assert_int_equal(text_width("\x1b[2J", 4), 7);
	assert_int_equal(text_width(CSI8 "2J", 4), 6);
	assert_int_equal(text_width(RLO "abc", 6), 9);
	assert_int_equal(text_width("a\xff", 2), 5);
	assert_int_equal(text_width("a\tb", 3), 3);
}

static void
test_clusters(void **state)
{
	int w = -1;

	(void)state;
	assert_int_equal(cluster("ab", &w), 1);
	assert_int_equal(w, 1);
	assert_int_equal(cluster("e" ACUTE "x", &w), 3);
	assert_int_equal(w, 1);
	assert_int_equal(cluster("e" ACUTE ACUTE ACUTE, &w), 7); /* marks pile up */
	assert_int_equal(w, 1);
	assert_int_equal(cluster("漢字", &w), 3);
	assert_int_equal(w, 2);
	assert_int_equal(cluster(FAMILY "x", &w), 18);
	assert_int_equal(w, 6);
	assert_int_equal(cluster(FR "x", &w), 8);
	assert_int_equal(w, 2);
	assert_int_equal(cluster(FR DE, &w), 8); /* a pair, not a run */
	assert_int_equal(w, 2);
	assert_int_equal(cluster("🇫", &w), 4); /* half a flag */
	assert_int_equal(w, 1);
	assert_int_equal(cluster(THUMB "x", &w), 8);
	assert_int_equal(w, 4);
	assert_int_equal(cluster("❤" VS16 "x", &w), 6);
	assert_int_equal(w, 1);
	assert_int_equal(cluster("1" VS16 "\xe2\x83\xa3", &w), 7); /* keycap 1 */
	assert_int_equal(w, 1);
	assert_int_equal(cluster("👩" ZWJ "❤" VS16 ZWJ "👨", &w), 4 + 3 + 3 + 3 + 3 + 4);
	assert_int_equal(w, 5);
	assert_int_equal(cluster("ש" QAMATS SHIN_DOT "ל", &w), 6);
	assert_int_equal(w, 1);
	/* Marks and ZWJ ride on any base, but a ZWJ only joins emoji to emoji, and
	 * a skin tone only follows an emoji: elsewhere both keep their columns. */
	assert_int_equal(cluster("a" RLM "b", &w), 4);
	assert_int_equal(w, 1);
	assert_int_equal(cluster("a" ZWJ "漢", &w), 4);
	assert_int_equal(w, 1);
	assert_int_equal(cluster("a" TONE, &w), 1);
	assert_int_equal(cluster(TONE, &w), 4);
	assert_int_equal(w, 2);
	/* Controls, escapes and invalid bytes stand alone, marks or not. */
	assert_int_equal(cluster("\x1b" ACUTE, &w), 1);
	assert_int_equal(w, 4);
	assert_int_equal(cluster(CSI8 "1", &w), 2);
	assert_int_equal(w, 4);
	assert_int_equal(cluster(RLO ACUTE, &w), 3);
	assert_int_equal(w, 6);
	assert_int_equal(cluster(FSI, &w), 3);
	assert_int_equal(w, 6);
	assert_int_equal(cluster("\xff" ACUTE, &w), 1);
	assert_int_equal(w, 4);
	assert_int_equal(cluster("\xe6\xbc", &w), 1);
	assert_int_equal(w, 4);
	assert_int_equal(cluster("\n" ACUTE, &w), 1);
	assert_int_equal(w, 0);
	assert_int_equal(cluster("\t" ACUTE, &w), 1);
	assert_int_equal(w, 1);
	assert_int_equal(cluster("😀" ZWJ "\x1b", &w), 7); /* the ESC is not joined */
	assert_int_equal(w, 2);
	/* A lone mark is a cluster of width 0; one with nothing is empty. */
	assert_int_equal(cluster(ACUTE ACUTE "a", &w), 4);
	assert_int_equal(w, 0);
	assert_int_equal(text_cluster("a", 0, &w), 0);
	assert_int_equal(w, 0);
}

/* A cluster ends at 32 code points: a flood of marks is not one unit. */
static void
test_cluster_cap(void **state)
{
	char s[1 + 40 * 2 + 1];
	int w;

	(void)state;
	s[0] = 'a';
	for (int i = 0; i < 40; i++)
		memcpy(s + 1 + 2 * i, ACUTE, 2);
	s[sizeof s - 1] = '\0';
	assert_int_equal(text_cluster(s, sizeof s - 1, &w), 1 + 31 * 2);
	assert_int_equal(w, 1);
	assert_int_equal(text_cluster(s + 63, sizeof s - 1 - 63, &w), 9 * 2);
	assert_int_equal(w, 0);
	assert_int_equal(text_prev(s, sizeof s - 1, sizeof s - 1), 63);
	assert_int_equal(text_prev(s, sizeof s - 1, 63), 0);
	assert_int_equal(text_width(s, sizeof s - 1), 1);
}

/* The safe form of s, checked against want, with the length it needed. */
static void
check_sanitize(const char *s, size_t len, const char *want)
{
	char out[256];
	size_t n = text_sanitize(s, len, out, sizeof out);

	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
	assert_int_equal(text_sanitize(s, len, NULL, 0), n);
	/* What is computed for the text is what the escapes take. */
	assert_int_equal(text_width(s, len), text_width(out, n));
}

static void
test_sanitize(void **state)
{
	(void)state;
	check_sanitize("plain text", 10, "plain text");
	check_sanitize("", 0, "");
	check_sanitize("\x1b[2Jgone", 8, "\\x1b[2Jgone");
	check_sanitize("\x1b]0;title\x07", 10, "\\x1b]0;title\\x07");
	check_sanitize("a" CSI8 "31m", 6, "a\\x9b31m");
	check_sanitize("\x7f\x01\r", 3, "\\x7f\\x01\\x0d");
	check_sanitize("a\0b", 3, "a\\x00b");
	check_sanitize("txt" RLO "exe.doc", 13, "txt\\u202eexe.doc");
	check_sanitize(FSI "x" PDI, 7, "\\u2068x\\u2069");
	check_sanitize("\xff\xfe", 2, "\\xff\\xfe");
	check_sanitize("\346\274a", 3, "\\xe6\\xbca");        /* truncated 漢 */
	check_sanitize("\xed\xa0\x80", 3, "\\xed\\xa0\\x80"); /* a surrogate */
	check_sanitize("\xcd\xb8", 2, "\\u0378");
	check_sanitize("\xf4\x8f\xbf\xbf", 4, "\\U0010ffff");
	check_sanitize("a\tb\nc", 5, "a b\nc");
	/* What is safe passes as it is, marks and emoji included. */
	check_sanitize("e" ACUTE " 漢 " FAMILY " " FR " " THUMB,
		       strlen("e" ACUTE " 漢 " FAMILY " " FR " " THUMB),
		       "e" ACUTE " 漢 " FAMILY " " FR " " THUMB);
	check_sanitize("שלום" RLM "!", strlen("שלום" RLM "!"), "שלום" RLM "!");
}

static void
test_sanitize_truncates(void **state)
{
	char out[8];

	(void)state;
	/* Like snprintf: the length needed, and a NUL-terminated prefix. */
	assert_int_equal(text_sanitize("abcdefghij", 10, out, sizeof out), 10);
	assert_string_equal(out, "abcdefg");
	/* Never half an escape or half a character, and nothing after one that
	 * did not fit (the prefix is of the whole). */
	assert_int_equal(text_sanitize("abcde\033f", 7, out, sizeof out), 10);
	assert_string_equal(out, "abcde");
	assert_int_equal(text_sanitize("ab漢字", 8, out, sizeof out), 8);
	assert_string_equal(out, "ab漢");
	assert_int_equal(text_sanitize("abcdef漢", 9, out, sizeof out), 9);
	assert_string_equal(out, "abcdef");
	assert_int_equal(text_sanitize("\x1b", 1, out, 4), 4);
	assert_string_equal(out, "");
	assert_int_equal(text_sanitize("\x1b", 1, out, 5), 4);
	assert_string_equal(out, "\\x1b");
	assert_int_equal(text_sanitize("abc", 3, out, 1), 3);
	assert_string_equal(out, "");
	memset(out, 'X', sizeof out);
	assert_int_equal(text_sanitize("abc", 3, out, 0), 3);
	assert_int_equal(out[0], 'X');
}

/* Rows as text_wrap and text_wrap_hard give them: "row|row|row". */
struct rows {
	const char *s;
	char out[512];
	size_t used;
	size_t next; /* where the next row may start: rows go forward */
};

static void
collect(void *arg, size_t off, size_t n)
{
	struct rows *r = arg;

	assert_true(off >= r->next);
	assert_true(r->used + n + 2 < sizeof r->out);
	if (r->used > 0 || r->next > 0)
		r->out[r->used++] = '|';
	memcpy(r->out + r->used, r->s + off, n);
	r->used += n;
	r->out[r->used] = '\0';
	r->next = off + n + (n == 0);
}

static void
check_wrap(int hard, const char *s, int cols, const char *want, int want_rows)
{
	struct rows r = {s, "", 0, 0};
	int n;

	if (hard)
		n = text_wrap_hard(s, strlen(s), cols, collect, &r);
	else
		n = text_wrap(s, strlen(s), cols, collect, &r);
	assert_string_equal(r.out, want);
	assert_int_equal(n, want_rows);
}

static void
test_wrap_words(void **state)
{
	(void)state;
	check_wrap(0, "hello world", 20, "hello world", 1);
	check_wrap(0, "hello world", 11, "hello world", 1);
	/* After the last space that fits, the space ending the row. */
	check_wrap(0, "hello world", 8, "hello |world", 2);
	check_wrap(0, "one two three four", 9, "one two |three |four", 3);
	/* A space that would overflow ends the row and is in none. */
	check_wrap(0, "hello world", 5, "hello|world", 2);
	check_wrap(0, "aa bb cc", 5, "aa bb|cc", 2);
	check_wrap(0, "aaaa   bb", 4, "aaaa|bb", 2);
	check_wrap(0, "aaaa  " ACUTE "b", 4, "aaaa| " ACUTE "b", 2);
	check_wrap(0, "abcd ", 4, "abcd", 1);
	check_wrap(0, "abcd", 4, "abcd", 1);
	/* Words longer than a row are cut, between clusters. */
	check_wrap(0, "abcdefghij", 4, "abcd|efgh|ij", 3);
	check_wrap(0, "see abcdefghij", 6, "see |abcdef|ghij", 3);
	check_wrap(0, "e" ACUTE "e" ACUTE "e" ACUTE, 2, "e" ACUTE "e" ACUTE "|e" ACUTE, 2);
	check_wrap(0, FAMILY FAMILY FAMILY, 12, FAMILY FAMILY "|" FAMILY, 2);
	check_wrap(0, FAMILY FAMILY, 4, FAMILY "|" FAMILY, 2); /* wider than a row */
	check_wrap(0, "ok " FR FR, 4, "ok |" FR FR, 2);
	/* Escapes are text like any other once sanitized. */
	check_wrap(0, "a \\x1b", 4, "a |\\x1b", 2);
}

static void
test_wrap_lines(void **state)
{
	(void)state;
	check_wrap(0, "", 10, "", 1);
	check_wrap(0, "ab\ncd", 10, "ab|cd", 2);
	check_wrap(0, "ab\n", 10, "ab|", 2);
	check_wrap(0, "\n", 10, "|", 2);
	check_wrap(0, "a\n\nb", 10, "a||b", 3);
	check_wrap(0, "abcd\nef", 4, "abcd|ef", 2);
	check_wrap(0, "abcd \nef", 4, "abcd|ef", 2);
	check_wrap(0, "hello world\nbye", 8, "hello |world|bye", 3);
}

static void
test_wrap_wide(void **state)
{
	(void)state;
	/* A wide character that does not fit goes to the next row. */
	check_wrap(0, "abc漢", 4, "abc|漢", 2);
	check_wrap(0, "漢字漢", 5, "漢字|漢", 2);
	check_wrap(0, "ab 漢字", 5, "ab |漢字", 2);
	check_wrap(0, "ab" FAMILY, 3, "ab|" FAMILY, 2);
	/* One column: a wide character gets a row of its own. */
	check_wrap(0, "漢a字", 1, "漢|a|字", 3);
	check_wrap(0, "漢字", 1, "漢|字", 2);
	check_wrap(0, "a 漢", 1, "a|漢", 2);
	check_wrap(0, "漢字", 0, "漢|字", 2); /* cols < 1 is 1 */
	check_wrap(1, "漢a字", 1, "漢|a|字", 3);
}

static void
test_wrap_hard(void **state)
{
	(void)state;
	check_wrap(1, "", 5, "", 1);
	check_wrap(1, "hello world", 5, "hello| worl|d", 3);
	check_wrap(1, "hello world", 8, "hello wo|rld", 2);
	check_wrap(1, "abcdef", 3, "abc|def", 2);
	check_wrap(1, "ab漢", 3, "ab|漢", 2);
	check_wrap(1, "a    ", 2, "a |  | ", 3);
	check_wrap(1, "ab\ncd", 5, "ab|cd", 2);
	check_wrap(1, "e" ACUTE "e" ACUTE "e" ACUTE, 2, "e" ACUTE "e" ACUTE "|e" ACUTE, 2);
	check_wrap(1, "ab" THUMB "c", 5, "ab|" THUMB "c", 2);
	/* A mark that rides on nothing (a tab stands alone) has width 0: a soft
	 * row that is full still takes it, a hard one does not, so that a cursor
	 * before it is inside the box. */
	check_wrap(0, "ab\t" ACUTE, 3, "ab\t" ACUTE, 1);
	check_wrap(1, "ab\t" ACUTE, 3, "ab\t|" ACUTE, 2);
	check_wrap(1, "ab\t" ACUTE, 4, "ab\t" ACUTE, 1);
}

/* Every boundary of s, forward with text_next, back with text_prev. */
static void
check_boundaries(const char *s, size_t len, const size_t *want, size_t n)
{
	size_t off = 0, i;

	for (i = 0; i < n; i++) {
		assert_int_equal(off, want[i]);
		off = text_next(s, len, off);
	}
	assert_int_equal(off, len);
	assert_int_equal(text_next(s, len, len), len);
	for (i = n; i > 0; i--) {
		off = text_prev(s, len, off);
		assert_int_equal(off, want[i - 1]);
	}
	assert_int_equal(text_prev(s, len, 0), 0);
}

static void
test_prev_next(void **state)
{
	static const char mixed[] = "e" ACUTE "漢😀" FAMILY FR THUMB "a\377b" RLO "\n";
	static const size_t mixed_b[] = {0, 3, 6, 10, 28, 36, 44, 45, 46, 47, 50};
	static const char flags[] = FR DE "🇫";
	static const size_t flags_b[] = {0, 8, 16};
	static const char broken[] = "\346\274a\360漢\200";
	static const size_t broken_b[] = {0, 1, 2, 3, 4, 7};
	static const char zwj[] = "x" FAMILY "a" ZWJ "b" ZWJ ZWJ;
	static const size_t zwj_b[] = {0, 1, 19, 23};
	static const char rtl[] = "مَرْحَبًا";
	static const size_t rtl_b[] = {0, 4, 8, 12, 16};

	(void)state;
	check_boundaries(mixed, sizeof mixed - 1, mixed_b, 11);
	check_boundaries(flags, sizeof flags - 1, flags_b, 3);
	check_boundaries(broken, sizeof broken - 1, broken_b, 6);
	check_boundaries(zwj, sizeof zwj - 1, zwj_b, 4);
	check_boundaries(rtl, sizeof rtl - 1, rtl_b, 5);
	/* Between code points inside a cluster, prev gives the start of the one
	 * holding the byte before (the editor snaps the cursor with it). */
	assert_int_equal(text_prev(mixed, sizeof mixed - 1, 1), 0);
	assert_int_equal(text_prev(mixed, sizeof mixed - 1, 21), 10);
	assert_int_equal(text_prev(flags, sizeof flags - 1, 12), 8);
}

/* An editor with s typed in, the cursor where "|" is in it. */
static void
load(struct editor *e, const char *s)
{
	const char *bar = strchr(s, '|');

	editor_init(e);
	assert_int_equal(editor_insert(e, s, bar ? (size_t)(bar - s) : strlen(s)), 0);
	if (bar != NULL) {
		size_t at = e->cursor;

		assert_int_equal(editor_insert(e, bar + 1, strlen(bar + 1)), 0);
		e->cursor = at;
	}
}

/* The buffer with "|" at the cursor. */
static void
check_editor(const struct editor *e, const char *want)
{
	char got[1024];

	assert_true(e->len + 2 < sizeof got);
	assert_int_equal(strlen(e->buf), e->len);
	assert_true(e->cursor <= e->len);
	snprintf(got, sizeof got, "%.*s|%s", (int)e->cursor, e->buf, e->buf + e->cursor);
	assert_string_equal(got, want);
}

static void
test_editor_empty(void **state)
{
	struct editor e;
	int rows = -1, row = -1, col = -1;

	(void)state;
	editor_init(&e);
	check_editor(&e, "|");
	editor_left(&e);
	editor_backspace(&e);
	editor_delete(&e);
	editor_kill_word(&e);
	editor_kill_start(&e);
	editor_kill_end(&e);
	editor_word_left(&e);
	editor_word_right(&e);
	editor_history_prev(&e);
	editor_history_next(&e);
	check_editor(&e, "|");
	editor_layout(&e, 10, &rows, &row, &col);
	assert_int_equal(rows, 1);
	assert_int_equal(row, 0);
	assert_int_equal(col, 0);
	assert_null(editor_take(&e));
	assert_int_equal(e.n_hist, 0);
	editor_free(&e);
	editor_free(&e); /* twice is harmless */
}

static void
test_editor_clusters(void **state)
{
	struct editor e;

	(void)state;
	load(&e, "e" ACUTE "😀" FAMILY "x");
	check_editor(&e, "e" ACUTE "😀" FAMILY "x|");
	editor_left(&e);
	check_editor(&e, "e" ACUTE "😀" FAMILY "|x");
	editor_left(&e);
	check_editor(&e, "e" ACUTE "😀|" FAMILY "x");
	editor_left(&e);
	check_editor(&e, "e" ACUTE "|😀" FAMILY "x");
	editor_left(&e);
	check_editor(&e, "|e" ACUTE "😀" FAMILY "x");
	editor_left(&e);
	check_editor(&e, "|e" ACUTE "😀" FAMILY "x");
	editor_right(&e);
	check_editor(&e, "e" ACUTE "|😀" FAMILY "x");
	editor_right(&e);
	editor_right(&e);
	check_editor(&e, "e" ACUTE "😀" FAMILY "|x");
	/* Backspace and Delete take whole clusters. */
	editor_backspace(&e);
	check_editor(&e, "e" ACUTE "😀|x");
	editor_home(&e);
	editor_delete(&e);
	check_editor(&e, "|😀x");
	editor_delete(&e);
	check_editor(&e, "|x");
	editor_free(&e);

	load(&e, "a" THUMB "|" FR "b");
	editor_backspace(&e);
	check_editor(&e, "a|" FR "b");
	editor_delete(&e);
	check_editor(&e, "a|b");
	editor_free(&e);
}

/* A mark typed after a letter joins it; a letter typed before a lone mark
 * takes it, and the cursor goes past the mark, not between. */
static void
test_editor_joins(void **state)
{
	struct editor e;

	(void)state;
	editor_init(&e);
	assert_int_equal(editor_insert(&e, "e", 1), 0);
	assert_int_equal(editor_insert(&e, ACUTE, 2), 0);
	check_editor(&e, "e" ACUTE "|");
	editor_left(&e);
	check_editor(&e, "|e" ACUTE);
	editor_free(&e);

	load(&e, "|" ACUTE "b");
	assert_int_equal(editor_insert(&e, "e", 1), 0);
	check_editor(&e, "e" ACUTE "|b");
	editor_free(&e);

	load(&e, "😀|😀");
	assert_int_equal(editor_insert(&e, ZWJ, 3), 0);
	check_editor(&e, "😀" ZWJ "😀|");
	editor_free(&e);

	/* Deleting what kept two emoji apart joins them. */
	load(&e, "😀" ZWJ "x|😀");
	editor_backspace(&e);
	check_editor(&e, "😀" ZWJ "😀|");
	editor_free(&e);
}

static void
test_editor_words(void **state)
{
	struct editor e;

	(void)state;
	load(&e, "foo bar   |");
	editor_kill_word(&e);
	check_editor(&e, "foo |");
	editor_kill_word(&e);
	check_editor(&e, "|");
	editor_free(&e);

	load(&e, "foo| bar");
	editor_kill_word(&e);
	check_editor(&e, "| bar");
	editor_free(&e);

	load(&e, "héllo 😀" FAMILY "|");
	editor_kill_word(&e);
	check_editor(&e, "héllo |");
	editor_free(&e);

	load(&e, "one  two\tthree\nfour|");
	editor_word_left(&e);
	check_editor(&e, "one  two\tthree\n|four");
	editor_word_left(&e);
	check_editor(&e, "one  two\t|three\nfour");
	editor_word_left(&e);
	editor_word_left(&e);
	check_editor(&e, "|one  two\tthree\nfour");
	editor_word_left(&e);
	check_editor(&e, "|one  two\tthree\nfour");
	editor_word_right(&e);
	check_editor(&e, "one|  two\tthree\nfour");
	editor_word_right(&e);
	check_editor(&e, "one  two|\tthree\nfour");
	editor_word_right(&e);
	editor_word_right(&e);
	check_editor(&e, "one  two\tthree\nfour|");
	editor_word_right(&e);
	check_editor(&e, "one  two\tthree\nfour|");
	editor_free(&e);

	/* A space with a mark on it is still a space. */
	load(&e, "a " ACUTE "bc|");
	editor_word_left(&e);
	check_editor(&e, "a " ACUTE "|bc");
	editor_end(&e);
	editor_kill_word(&e);
	check_editor(&e, "a " ACUTE "|");
	editor_kill_word(&e);
	check_editor(&e, "|");
	editor_free(&e);

	/* A word of more marks than a cluster holds is still one word. */
	load(&e, "x a");
	for (int i = 0; i < 40; i++)
		assert_int_equal(editor_insert(&e, ACUTE, 2), 0);
	editor_word_left(&e);
	assert_int_equal(e.cursor, 2);
	editor_word_right(&e);
	assert_int_equal(e.cursor, e.len);
	editor_left(&e);
	assert_int_equal(e.cursor, 2 + 63);
	editor_free(&e);

	load(&e, "a e" ACUTE "e" ACUTE "|e" ACUTE);
	editor_word_left(&e);
	check_editor(&e, "a |e" ACUTE "e" ACUTE "e" ACUTE);
	editor_word_right(&e);
	check_editor(&e, "a e" ACUTE "e" ACUTE "e" ACUTE "|");
	editor_free(&e);
}

static void
test_editor_lines(void **state)
{
	struct editor e;

	(void)state;
	load(&e, "one\ntw|o\nthree");
	editor_home(&e);
	check_editor(&e, "one\n|two\nthree");
	editor_end(&e);
	check_editor(&e, "one\ntwo|\nthree");
	editor_left(&e);
	editor_kill_start(&e);
	check_editor(&e, "one\n|o\nthree");
	editor_kill_start(&e); /* at the start of a line: nothing */
	check_editor(&e, "one\n|o\nthree");
	editor_kill_end(&e);
	check_editor(&e, "one\n|\nthree");
	editor_kill_end(&e); /* at the end of a line: the '\n' */
	check_editor(&e, "one\n|three");
	editor_end(&e);
	editor_kill_end(&e); /* at the end of the text: nothing */
	check_editor(&e, "one\nthree|");
	editor_kill_start(&e);
	check_editor(&e, "one\n|");
	editor_backspace(&e);
	check_editor(&e, "one|");
	editor_free(&e);
}

static void
test_editor_paste(void **state)
{
	static const char paste[] = "a\rb\r\nc\033[31md\377e\177\tf\302\205g\0h\n" RLO;
	struct editor e;

	(void)state;
	editor_init(&e);
	assert_int_equal(editor_insert(&e, paste, sizeof paste - 1), 0);
	check_editor(&e, "a\nb\nc[31md" FFFD "e\tfgh\n" RLO "|");
	/* editor_set cleans the same way. */
	assert_int_equal(editor_set(&e, "x\x1b\ry\xfe"), 0);
	check_editor(&e, "x\ny" FFFD "|");
	assert_int_equal(editor_set(&e, e.buf + 2), 0);
	check_editor(&e, "y" FFFD "|");
	editor_free(&e);
}

static void
test_editor_max(void **state)
{
	struct editor e;
	char *big = malloc(EDITOR_MAX + 1);
	size_t len;

	(void)state;
	assert_non_null(big);
	memset(big, 'a', EDITOR_MAX);
	big[EDITOR_MAX] = '\0';
	editor_init(&e);
	assert_int_equal(editor_insert(&e, big, EDITOR_MAX - 2), 0);
	/* An invalid byte becomes 3: it would pass the limit. */
	assert_int_equal(editor_insert(&e, "\xff", 1), -1);
	assert_int_equal(e.len, EDITOR_MAX - 2);
	assert_int_equal(editor_insert(&e, "\033bc", 3), 0); /* the ESC is dropped */
	assert_int_equal(e.len, EDITOR_MAX);
	assert_int_equal(editor_insert(&e, "d", 1), -1);
	assert_int_equal(e.len, EDITOR_MAX);
	assert_int_equal(e.buf[EDITOR_MAX], '\0');
	assert_int_equal(editor_insert(&e, "\x1b", 1), 0); /* nothing to add */
	editor_free(&e);

	/* Too long for editor_set: the buffer stays. */
	load(&e, "keep|");
	assert_int_equal(editor_set(&e, big), 0);
	assert_int_equal(e.len, EDITOR_MAX);
	len = e.len;
	big[EDITOR_MAX - 1] = '\xff';
	assert_int_equal(editor_set(&e, big), -1);
	assert_int_equal(e.len, len);
	editor_free(&e);
	free(big);
}

static void
test_editor_take(void **state)
{
	struct editor e;
	char *t;

	(void)state;
	load(&e, "\n  \n\t\n  hello  \n\n world \t \n\n|");
	t = editor_take(&e);
	assert_string_equal(t, "  hello  \n\n world");
	check_editor(&e, "|");
	assert_int_equal(e.n_hist, 1);
	assert_string_equal(e.hist[0], t);
	free(t);

	/* Blanks only: nothing to send, nothing kept, the buffer emptied. */
	editor_free(&e);
	load(&e, " \n\t \n |");
	assert_null(editor_take(&e));
	check_editor(&e, "|");
	assert_int_equal(e.n_hist, 0);
	editor_free(&e);
}

static void
send_line(struct editor *e, const char *s)
{
	assert_int_equal(editor_set(e, s), 0);
	free(editor_take(e));
}

static void
test_editor_history(void **state)
{
	struct editor e;
	char line[16];

	(void)state;
	editor_init(&e);
	send_line(&e, "first");
	send_line(&e, "second");
	send_line(&e, "second"); /* equal to the newest: kept once */
	assert_int_equal(e.n_hist, 2);
	assert_int_equal(editor_insert(&e, "draft", 5), 0);
	e.cursor = 2;
	editor_history_prev(&e);
	check_editor(&e, "second|");
	editor_history_prev(&e);
	check_editor(&e, "first|");
	editor_history_prev(&e); /* the oldest: stays */
	check_editor(&e, "first|");
	editor_history_next(&e);
	check_editor(&e, "second|");
	editor_history_next(&e);
	check_editor(&e, "draft|");
	assert_int_equal(e.hist_pos, e.n_hist);
	assert_null(e.draft);
	editor_history_next(&e); /* not browsing: nothing */
	check_editor(&e, "draft|");

	/* A recalled line sent is the newest again unless it is already. */
	editor_history_prev(&e);
	editor_history_prev(&e);
	free(editor_take(&e));
	assert_int_equal(e.n_hist, 3);
	assert_string_equal(e.hist[2], "first");
	assert_null(e.draft);
	check_editor(&e, "|");
	send_line(&e, "second");
	assert_int_equal(e.n_hist, 4);

	/* Only the last EDITOR_HISTORY are kept. */
	for (int i = 0; i < EDITOR_HISTORY + 5; i++) {
		snprintf(line, sizeof line, "line %d", i);
		send_line(&e, line);
	}
	assert_int_equal(e.n_hist, EDITOR_HISTORY);
	assert_string_equal(e.hist[0], "line 5");
	snprintf(line, sizeof line, "line %d", EDITOR_HISTORY + 4);
	assert_string_equal(e.hist[EDITOR_HISTORY - 1], line);
	editor_free(&e);
}

struct layout {
	int rows, cursor_row, cursor_col;
};

static struct layout
layout_of(const struct editor *e, int cols)
{
	struct layout l = {-1, -1, -1};

	editor_layout(e, cols, &l.rows, &l.cursor_row, &l.cursor_col);
	return l;
}

/* editor_rows() as "row|row", the same count as editor_layout(). */
static void
check_rows(const struct editor *e, int cols, const char *want)
{
	struct rows r = {e->buf, "", 0, 0};
	struct layout l = layout_of(e, cols);
	int n = 1;

	editor_rows(e, cols, collect, &r);
	assert_string_equal(r.out, want);
	for (const char *p = want; *p != '\0'; p++)
		n += *p == '|';
	assert_int_equal(l.rows, n);
}

static void
check_layout(const char *s, int cols, int rows, int row, int col)
{
	struct editor e;
	struct layout l;

	load(&e, s);
	l = layout_of(&e, cols);
	assert_int_equal(l.rows, rows);
	assert_int_equal(l.cursor_row, row);
	assert_int_equal(l.cursor_col, col);
	editor_free(&e);
}

static void
test_editor_layout(void **state)
{
	struct editor e;

	(void)state;
	check_layout("|", 5, 1, 0, 0);
	check_layout("abc|", 5, 1, 0, 3);
	check_layout("abcd|", 5, 1, 0, 4);
	check_layout("abcdefgh|", 5, 2, 1, 3);
	check_layout("abcde|fgh", 5, 2, 1, 0);
	check_layout("hello world|", 5, 3, 2, 1); /* hard: no word wrap */
	/* The cursor after a full row starts the next, which may be one more. */
	check_layout("abcde|", 5, 2, 1, 0);
	check_layout("|abcde", 5, 1, 0, 0);
	check_layout("abcdefghij|", 5, 3, 2, 0);
	check_layout("abcde|\nxy", 5, 3, 1, 0);
	check_layout("abcde\nxy|", 5, 2, 1, 2);
	/* Lines: an empty one is a row. */
	check_layout("ab\n\n|cd", 5, 3, 2, 0);
	check_layout("ab\n|\ncd", 5, 3, 1, 0);
	check_layout("ab\n|", 5, 2, 1, 0);
	/* Clusters and wide characters. */
	check_layout("e" ACUTE "e" ACUTE "|", 5, 1, 0, 2);
	check_layout(FAMILY FR "|", 9, 1, 0, 8);
	check_layout("abcd漢|", 5, 2, 1, 2);
	check_layout("abcd|漢", 5, 2, 1, 0);
	check_layout("abc漢|", 5, 2, 1, 0);
	check_layout("漢字|", 2, 3, 2, 0);
	check_layout("漢|字", 2, 2, 1, 0);
	check_layout("漢|字", 1, 2, 1, 0);
	check_layout("x" RLO "|", 10, 1, 0, 7); /* shown as its escape */
	check_layout("ab\t|" ACUTE, 3, 2, 1, 0);

	load(&e, "abcdefgh|");
	check_rows(&e, 5, "abcde|fgh");
	e.cursor = 5;
	check_rows(&e, 5, "abcde|fgh");
	editor_free(&e);
	load(&e, "abcde|\nxy");
	check_rows(&e, 5, "abcde||xy");
	e.cursor = 0;
	check_rows(&e, 5, "abcde|xy");
	editor_free(&e);
	load(&e, "ab\n\ncdefgh|");
	check_rows(&e, 3, "ab||cde|fgh|");
	editor_free(&e);
}

/* The drawn form of the first cluster of s, in a static buffer. */
static const char *
form(const char *s)
{
	static char out[160];
	int w;

	text_cluster_form(s, text_cluster(s, strlen(s), &w), out, sizeof out);
	return out;
}

static int
reset_quirks(void **state)
{
	(void)state;
	text_set_quirks(0);
	return 0;
}

/* A terminal that draws as wcwidth() counts: every cluster is drawn as it is,
 * but what is unsafe (its escape) and a tab (a space: curses would expand it). */
static void
test_form_plain(void **state)
{
	(void)state;
	assert_string_equal(form(FAMILY), FAMILY);
	assert_string_equal(form(THUMB), THUMB);
	assert_string_equal(form(FR), FR);
	assert_string_equal(form("❤" VS16), "❤" VS16);
	assert_string_equal(form("e" ACUTE "x"), "e" ACUTE);
	assert_string_equal(form(RLO "x"), "\\u202e");
	assert_string_equal(form("\xffx"), "\\xff");
	assert_string_equal(form("\x1b[2J"), "\\x1b");
	assert_string_equal(form("\tx"), " ");
}

/* tmux: what follows a ZWJ joins the cell before it. The ZWJ is not drawn
 * and joins nothing: the parts are clusters of their own, each as wide as
 * curses counts it, and the sum is unchanged. */
static void
test_quirk_zwj(void **state)
{
	int w;

	(void)state;
	text_set_quirks(TEXT_QUIRK_ZWJ);
	assert_int_equal(cluster(FAMILY, &w), 7); /* man and the ZWJ */
	assert_int_equal(w, 2);
	assert_string_equal(form(FAMILY), "👨");
	assert_int_equal(text_width(FAMILY, strlen(FAMILY)), 6);
	assert_int_equal(text_next(FAMILY, 18, 0), 7);
	assert_int_equal(text_next(FAMILY, 18, 7), 14);
	assert_int_equal(text_prev(FAMILY, 18, 18), 14);
	assert_int_equal(text_prev(FAMILY, 18, 14), 7);
	/* Between other characters it joined nothing anyway; now it is not drawn. */
	assert_int_equal(cluster("a" ZWJ "😀", &w), 4);
	assert_int_equal(w, 1);
	assert_string_equal(form("a" ZWJ "😀"), "a");
	/* Other kinds are untouched. */
	assert_string_equal(form(THUMB), THUMB);
	assert_string_equal(form(FR), FR);
	/* Without the quirk the sequence is one cluster again. */
	text_set_quirks(0);
	assert_int_equal(cluster(FAMILY, &w), 18);
	assert_int_equal(w, 6);
}

static void
test_quirk_vs(void **state)
{
	int w;

	(void)state;
	text_set_quirks(TEXT_QUIRK_VS);
	assert_int_equal(cluster("❤" VS16 "x", &w), 6);
	assert_int_equal(w, 1);
	assert_string_equal(form("❤" VS16 "x"), "❤");
	assert_string_equal(form("😀\xef\xb8\x8e"), "😀"); /* VS15 */
	assert_string_equal(form(FAMILY), FAMILY);
}

/* A terminal that joins a skin tone to its emoji: the tone is not drawn and
 * counts 0, so the cluster is as wide as its emoji everywhere. */
static void
test_quirk_modifier(void **state)
{
	int w;

	(void)state;
	text_set_quirks(TEXT_QUIRK_MODIFIER);
	assert_int_equal(cluster(THUMB, &w), 8);
	assert_int_equal(w, 2);
	assert_string_equal(form(THUMB), "👍");
	assert_int_equal(text_width("a" THUMB "b", 10), 4);
	/* A tone on its own is a swatch, drawn. */
	assert_int_equal(cluster(TONE, &w), 4);
	assert_int_equal(w, 2);
	assert_string_equal(form(TONE), TONE);
}

static void
test_quirk_flag(void **state)
{
	int w;

	(void)state;
	text_set_quirks(TEXT_QUIRK_FLAG);
	assert_int_equal(cluster(FR DE, &w), 8);
	assert_int_equal(w, 2);
	assert_string_equal(form(FR DE), "FR");
	assert_string_equal(form("\xf0\x9f\x87\xa6"), "A"); /* a lone indicator */
	text_set_quirks(TEXT_QUIRK_ALL);
	assert_string_equal(form(FAMILY), "👨");
	assert_string_equal(form(THUMB), "👍");
	assert_string_equal(form(FR), "FR");
	assert_string_equal(form("❤" VS16), "❤");
}

/* The drawn form fits the buffer or is cut at a code point, never inside. */
static void
test_form_cap(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(text_cluster_form(FAMILY, 18, out, 6), 4);
	assert_string_equal(out, "👨");
	assert_int_equal(text_cluster_form(FAMILY, 18, out, 1), 0);
	assert_string_equal(out, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_valid),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_unsafe_code_points),
		cmocka_unit_test(test_cp_width),
		cmocka_unit_test(test_widths),
		cmocka_unit_test(test_clusters),
		cmocka_unit_test(test_cluster_cap),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_sanitize_truncates),
		cmocka_unit_test(test_wrap_words),
		cmocka_unit_test(test_wrap_lines),
		cmocka_unit_test(test_wrap_wide),
		cmocka_unit_test(test_wrap_hard),
		cmocka_unit_test(test_prev_next),
		cmocka_unit_test(test_editor_empty),
		cmocka_unit_test(test_editor_clusters),
		cmocka_unit_test(test_editor_joins),
		cmocka_unit_test(test_editor_words),
		cmocka_unit_test(test_editor_lines),
		cmocka_unit_test(test_editor_paste),
		cmocka_unit_test(test_editor_max),
		cmocka_unit_test(test_editor_take),
		cmocka_unit_test(test_editor_history),
		cmocka_unit_test(test_editor_layout),
		cmocka_unit_test(test_form_plain),
		cmocka_unit_test_teardown(test_quirk_zwj, reset_quirks),
		cmocka_unit_test_teardown(test_quirk_vs, reset_quirks),
		cmocka_unit_test_teardown(test_quirk_modifier, reset_quirks),
		cmocka_unit_test_teardown(test_quirk_flag, reset_quirks),
		cmocka_unit_test(test_form_cap),
	};

	/* wcwidth() answers for the locale, and the widths here are UTF-8's. */
	if (setlocale(LC_ALL, "C.UTF-8") == NULL) {
		fputs("test_tui_text: no C.UTF-8 locale\n", stderr);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
