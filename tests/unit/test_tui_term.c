/*
 * test_tui_term.c - measuring the terminal (tui/term.c): reading the cursor
 * position reports, and which kinds of cluster become quirks from what the
 * terminal answered. term_probe() itself talks to a terminal: the tmux test
 * (tests/integration/tui-emoji.sh) runs it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <locale.h>
#include <cmocka.h>

#include "term.h"
#include "text.h"

static size_t
parse(const char *s, int *cols, size_t max)
{
	return term_parse_reports(s, strlen(s), cols, max);
}

static void
test_parse_reports(void **state)
{
	int cols[8] = {0};

	(void)state;
	assert_int_equal(parse("\033[5;7R\033[12;3R", cols, 8), 2);
	assert_int_equal(cols[0], 7);
	assert_int_equal(cols[1], 3);
	/* Keys typed meanwhile, and other sequences, are skipped. */
	assert_int_equal(parse("ab\033[A\033[1;10Rx\033[;4R\033[9;R\033[2;5R", cols, 8), 2);
	assert_int_equal(cols[0], 10);
	assert_int_equal(cols[1], 5);
	/* A report cut off at the end is not counted (more is read). */
	assert_int_equal(parse("\033[1;2R\033[1;", cols, 8), 1);
	assert_int_equal(parse("\033[1;2R\033[1;3", cols, 8), 1);
	/* At most max. */
	assert_int_equal(parse("\033[1;2R\033[1;3R\033[1;4R", cols, 2), 2);
	assert_int_equal(parse("", cols, 8), 0);
	/* Absurdly long numbers stop growing, they do not overflow. */
	assert_int_equal(parse("\033[1;99999999999999999999R", cols, 8), 0);
}

/* Keys typed while the probe waited are kept, in order, without the reports. */
static void
test_take_reports(void **state)
{
	char buf[64];
	size_t rest;

	(void)state;
	strcpy(buf, "h\033[5;7Ri\033[A\033[5;3R!");
	assert_int_equal(term_take_reports(buf, strlen(buf), &rest), 2);
	assert_int_equal(rest, 6);
	assert_memory_equal(buf, "hi\033[A!", 6);
	/* The start of a report is kept (it is not one yet). */
	strcpy(buf, "x\033[5;");
	assert_int_equal(term_take_reports(buf, strlen(buf), &rest), 0);
	assert_int_equal(rest, 5);
	assert_int_equal(term_take_reports(buf, 0, &rest), 0);
	assert_int_equal(rest, 0);
}

/* What an xterm-like terminal answers: as counted (6 3 1 2 4 2, plus 1). */
static const int counted[] = {7, 4, 2, 3, 5, 3};

static void
test_quirks_from_answers(void **state)
{
	int cols[6];

	(void)state;
	assert_int_equal(term_probes(), 6);
	assert_int_equal(term_quirks(counted, 6), 0);
	/* tmux 3.3: joins after a ZWJ (2 and 1 columns), the rest as counted. */
	memcpy(cols, counted, sizeof cols);
	cols[0] = 3;
	cols[1] = 2;
	assert_int_equal(term_quirks(cols, 6), TEXT_QUIRK_ZWJ);
	/* One probe of a kind differing is enough. */
	memcpy(cols, counted, sizeof cols);
	cols[1] = 2;
	assert_int_equal(term_quirks(cols, 6), TEXT_QUIRK_ZWJ);
	/* kitty-like: joins tones, VS16 wide. */
	memcpy(cols, counted, sizeof cols);
	cols[2] = 3;
	cols[4] = 3;
	assert_int_equal(term_quirks(cols, 6), TEXT_QUIRK_VS | TEXT_QUIRK_MODIFIER);
	/* Wide regional indicators. */
	memcpy(cols, counted, sizeof cols);
	cols[5] = 5;
	assert_int_equal(term_quirks(cols, 6), TEXT_QUIRK_FLAG);
	/* No answer: every kind; some answers: the kinds of the rest. */
	assert_int_equal(term_quirks(counted, 0), TEXT_QUIRK_ALL);
	assert_int_equal(term_quirks(counted, 4), TEXT_QUIRK_MODIFIER | TEXT_QUIRK_FLAG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_reports),
		cmocka_unit_test(test_take_reports),
		cmocka_unit_test(test_quirks_from_answers),
	};

	if (setlocale(LC_ALL, "C.UTF-8") == NULL) {
		fputs("test_tui_term: no C.UTF-8 locale\n", stderr);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
