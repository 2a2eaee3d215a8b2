/*
 * test_termtext.c - text made safe for a terminal (client-lib/termtext.c):
 * what chatctl writes for texts, names and messages from others.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "termtext.h"

#define RLO  "\xe2\x80\xae" /* U+202E right-to-left override */
#define LRE  "\xe2\x80\xaa" /* U+202A */
#define FSI  "\xe2\x81\xa8" /* U+2068 first strong isolate */
#define PDI  "\xe2\x81\xa9" /* U+2069 */
#define RLM  "\xe2\x80\x8f" /* U+200F: a mark, not unsafe */
#define CSI8 "\xc2\x9b"     /* U+009B, 8-bit CSI */
#define NEL  "\xc2\x85"     /* U+0085 */

static void
check(const char *s, size_t len, int flags, const char *want)
{
	char out[256];
	size_t n = termtext_sanitize(s, len, flags, out, sizeof out);

	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
	assert_int_equal(termtext_sanitize(s, len, flags, NULL, 0), n);
	assert_true(n <= 4 * len);
}

static void
test_controls(void **state)
{
	(void)state;
	check("plain text", 10, 0, "plain text");
	check("", 0, 0, "");
	check("\x1b[2Jgone", 8, 0, "\\x1b[2Jgone");
	check("\x1b]0;title\x07", 10, 0, "\\x1b]0;title\\x07");
	check("a" CSI8 "31m", 6, 0, "a\\x9b31m");
	check(NEL, 2, TERMTEXT_MULTILINE, "\\x85");
	check("\x7f\x01\r", 3, TERMTEXT_MULTILINE, "\\x7f\\x01\\x0d");
	check("a\0b", 3, 0, "a\\x00b");
}

static void
test_bidi(void **state)
{
	(void)state;
	check("cod" RLO "gnp.exe", 13, 0, "cod\\u202egnp.exe");
	check(LRE "x", 4, TERMTEXT_MULTILINE, "\\u202ax");
	check(FSI "x" PDI, 7, 0, "\\u2068x\\u2069");
	/* The marks only settle neutral characters: right-to-left text needs them. */
	check("שלום" RLM "!", strlen("שלום" RLM "!"), 0, "שלום" RLM "!");
}

static void
test_invalid_bytes(void **state)
{
	(void)state;
	check("\xff\xfe", 2, 0, "\\xff\\xfe");
	check("\346\274a", 3, 0, "\\xe6\\xbca");        /* truncated 漢 */
	check("\xed\xa0\x80", 3, 0, "\\xed\\xa0\\x80"); /* a surrogate */
	check("\xc0\xaf", 2, 0, "\\xc0\\xaf");          /* overlong '/' */
	check("\xf4\x90\x80\x80", 4, 0, "\\xf4\\x90\\x80\\x80"); /* past U+10FFFF */
	check("é漢👍", strlen("é漢👍"), 0, "é漢👍");
}

static void
test_lines(void **state)
{
	(void)state;
	/* A message keeps its lines; a name stays on one. */
	check("a\tb\nc", 5, TERMTEXT_MULTILINE, "a\tb\nc");
	check("a\tb\nc", 5, 0, "a\\x09b\\x0ac");
}

static void
test_truncates(void **state)
{
	char out[8];

	(void)state;
	/* Like snprintf: the length needed, and a NUL-terminated prefix, never
	 * half an escape or half a character, and nothing after what did not fit. */
	assert_int_equal(termtext_sanitize("abcdefghij", 10, 0, out, sizeof out), 10);
	assert_string_equal(out, "abcdefg");
	assert_int_equal(termtext_sanitize("abcde\033f", 7, 0, out, sizeof out), 10);
	assert_string_equal(out, "abcde");
	assert_int_equal(termtext_sanitize("ab漢字", 8, 0, out, sizeof out), 8);
	assert_string_equal(out, "ab漢");
}

static void
test_escape(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(termtext_escape(0x1b, buf, sizeof buf), 4);
	assert_string_equal(buf, "\\x1b");
	assert_int_equal(termtext_escape(0x202e, buf, sizeof buf), 6);
	assert_string_equal(buf, "\\u202e");
	assert_int_equal(termtext_escape(0x1f600, buf, sizeof buf), 10);
	assert_string_equal(buf, "\\U0001f600");
	assert_true(termtext_unsafe(0x9f));
	assert_false(termtext_unsafe(0xa0));
	assert_true(termtext_unsafe(0x2066));
	assert_false(termtext_unsafe(0x2065));
	assert_false(termtext_unsafe(0x200e));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_controls),      cmocka_unit_test(test_bidi),
		cmocka_unit_test(test_invalid_bytes), cmocka_unit_test(test_lines),
		cmocka_unit_test(test_truncates),     cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
