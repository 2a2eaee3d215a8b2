/*
 * test_args.c - the option parser chatctl and chat-tui share (common/args.c):
 * what each command line means, and what the user is told when it is wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "args.h"

/* Like chatctl send: a repeatable --attach, CHAT then a text that may begin
 * with '-'. */
static const struct args_option send_options[] = {
	{.name = "attach", .flags = ARGS_VALUE, .meta = "FILE", .needs = "a file"},
	{0},
};
static const struct args_spec send_spec = {
	.options = send_options, .min_args = 1, .max_args = -1, .text_from = 2};

/* Like chatctl history: CHAT and a bounded number. */
static const struct args_option history_options[] = {
	{.name = "limit",
	 .flags = ARGS_NUMBER,
	 .meta = "N",
	 .needs = "a number",
	 .min = 1,
	 .max = 1000000},
	{0},
};
static const struct args_spec history_spec = {
	.options = history_options, .min_args = 1, .max_args = 1, .too_few = "give a chat"};

/* Like chatctl's own options: they end at the command. */
static const struct args_option global_options[] = {
	{.name = "home",
	 .flags = ARGS_VALUE | ARGS_NONEMPTY,
	 .meta = "DIR",
	 .needs = "a directory"},
	{.name = "json"},
	{.name = "help", .letter = 'h', .flags = ARGS_HIDDEN},
	{0},
};
static const struct args_spec global_spec = {.options = global_options,
					     .min_args = 1,
					     .max_args = -1,
					     .flags = ARGS_IN_ORDER,
					     .too_few = "no command given"};

/* Parses the words of line (space-separated, at most 16) against spec. */
static int
parse(struct args *a, const struct args_spec *spec, const char *what, char *line)
{
	static char *words[16];
	char *save;
	int n = 0;

	for (char *w = strtok_r(line, " ", &save); w != NULL && n < 16;
	     w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	return args_parse(a, spec, n, words, what);
}

/* Parses line, which must fail with exactly the error want. */
static void
refused(const struct args_spec *spec, const char *what, const char *line, const char *want)
{
	char buf[256];
	struct args a;

	snprintf(buf, sizeof buf, "%s", line);
	assert_int_equal(parse(&a, spec, what, buf), -1);
	assert_string_equal(a.error, want);
	args_free(&a);
}

static void
test_positionals_and_options_in_any_order(void **state)
{
	char line[] = "C --limit 5";
	char line2[] = "--limit=7 C";
	struct args a;

	(void)state;
	assert_int_equal(parse(&a, &history_spec, "history", line), 0);
	assert_int_equal(a.argc, 1);
	assert_string_equal(a.argv[0], "C");
	assert_null(a.argv[1]);
	assert_int_equal(args_number(&a, "limit", 0), 5);
	assert_string_equal(args_get(&a, "limit"), "5");
	args_free(&a);
	assert_int_equal(parse(&a, &history_spec, "history", line2), 0);
	assert_int_equal(args_number(&a, "limit", 0), 7);
	assert_string_equal(a.argv[0], "C");
	args_free(&a);
}

static void
test_absent_option(void **state)
{
	char line[] = "C";
	struct args a;

	(void)state;
	assert_int_equal(parse(&a, &history_spec, "history", line), 0);
	assert_int_equal(args_count(&a, "limit"), 0);
	assert_null(args_get(&a, "limit"));
	assert_int_equal(args_number(&a, "limit", 42), 42);
	args_free(&a);
}

static void
test_errors_say_what_is_wrong(void **state)
{
	(void)state;
	refused(&history_spec, "history", "C --foo", "unknown option '--foo' for history");
	refused(&history_spec, "history", "-x C", "unknown option '-x' for history");
	refused(&history_spec, NULL, "--foo C", "unknown option '--foo'");
	refused(&history_spec, "history", "C --limit", "--limit needs a number (1-1000000)");
	refused(&history_spec, "history", "C --limit 0", "--limit needs a number (1-1000000)");
	refused(&history_spec, "history", "C --limit 5x", "--limit needs a number (1-1000000)");
	refused(&history_spec, "history", "C --limit= ", "--limit needs a number (1-1000000)");
	refused(&history_spec, "history", "C --limit 99999999999999999999",
		"--limit needs a number (1-1000000)");
	refused(&history_spec, "history", "", "give a chat");
	refused(&history_spec, "history", "C D", "unexpected argument 'D'");
	refused(&send_spec, "send", "C hi --attach", "--attach needs a file");
	refused(&global_spec, NULL, "--json=yes send", "--json takes no value");
	refused(&global_spec, NULL, "--home= send", "--home needs a directory");
	refused(&global_spec, NULL, "--json", "no command given");
}

static void
test_first_error_wins(void **state)
{
	/* The user fixes what comes first on the line first. */
	(void)state;
	refused(&history_spec, "history", "--foo --bar C", "unknown option '--foo' for history");
	refused(&history_spec, "history", "--limit x", "--limit needs a number (1-1000000)");
}

static void
test_value_is_the_next_word(void **state)
{
	/* Whatever it begins with: the option asked for a value. */
	char line[] = "C --attach -odd-name --attach --";
	struct args a;

	(void)state;
	assert_int_equal(parse(&a, &send_spec, "send", line), 0);
	assert_int_equal(a.argc, 1);
	assert_string_equal(args_value(&a, "attach", 0), "-odd-name");
	assert_string_equal(args_value(&a, "attach", 1), "--");
	args_free(&a);
	refused(&history_spec, "history", "C --limit -5", "--limit needs a number (1-1000000)");
}

static void
test_repeated_option_keeps_every_value(void **state)
{
	char line[] = "C --attach a --attach=b hi --attach c";
	char line2[] = "--home x --home y send";
	struct args a;

	(void)state;
	assert_int_equal(parse(&a, &send_spec, "send", line), 0);
	assert_int_equal(args_count(&a, "attach"), 3);
	assert_string_equal(args_value(&a, "attach", 0), "a");
	assert_string_equal(args_value(&a, "attach", 1), "b");
	assert_string_equal(args_value(&a, "attach", 2), "c");
	assert_null(args_value(&a, "attach", 3));
	assert_int_equal(a.argc, 2);
	assert_string_equal(a.argv[1], "hi");
	args_free(&a);
	/* The last one wins, so a later --home overrides an earlier one. */
	assert_int_equal(parse(&a, &global_spec, NULL, line2), 0);
	assert_string_equal(args_get(&a, "home"), "y");
	args_free(&a);
}

static void
test_text_may_begin_with_a_dash(void **state)
{
	char line[] = "C -5 --attach f";
	char line2[] = "C --atach f";
	char line3[] = "C hi --atach";
	struct args a;

	(void)state;
	/* After the chat, a word that is not an option is the text. */
	assert_int_equal(parse(&a, &send_spec, "send", line), 0);
	assert_int_equal(a.argc, 2);
	assert_string_equal(a.argv[1], "-5");
	assert_string_equal(args_get(&a, "attach"), "f");
	args_free(&a);
	/* A misspelt option there is text too: send then sees two texts. */
	assert_int_equal(parse(&a, &send_spec, "send", line2), 0);
	assert_int_equal(a.argc, 3);
	assert_string_equal(a.argv[1], "--atach");
	args_free(&a);
	assert_int_equal(parse(&a, &send_spec, "send", line3), 0);
	assert_int_equal(a.argc, 3);
	assert_string_equal(a.argv[2], "--atach");
	args_free(&a);
	/* Before the chat, it is still an unknown option. */
	refused(&send_spec, "send", "--bogus C hi", "unknown option '--bogus' for send");
}

static void
test_double_dash_ends_options(void **state)
{
	char line[] = "-- --attach -x";
	char line2[] = "C -- --limit";
	struct args a;

	(void)state;
	assert_int_equal(parse(&a, &send_spec, "send", line), 0);
	assert_int_equal(a.argc, 2);
	assert_string_equal(a.argv[0], "--attach");
	assert_string_equal(a.argv[1], "-x");
	assert_int_equal(args_count(&a, "attach"), 0);
	args_free(&a);
	/* Only the first "--": a second one is a word. */
	assert_int_equal(parse(&a, &history_spec, "history", line2), -1);
	assert_string_equal(a.error, "unexpected argument '--limit'");
	args_free(&a);
}

static void
test_lone_dash_is_positional(void **state)
{
	char line[] = "- --limit 3";
	struct args a;

	(void)state;
	assert_int_equal(parse(&a, &history_spec, "history", line), 0);
	assert_string_equal(a.argv[0], "-");
	args_free(&a);
}

static void
test_in_order_stops_at_the_command(void **state)
{
	char line[] = "--home h --json send --home x -5";
	char line2[] = "--bogus --json chats";
	char line3[] = "-- --json";
	struct args a;

	(void)state;
	assert_int_equal(parse(&a, &global_spec, NULL, line), 0);
	assert_string_equal(args_get(&a, "home"), "h");
	assert_int_equal(args_count(&a, "json"), 1);
	assert_int_equal(a.argc, 4);
	assert_string_equal(a.argv[0], "send");
	assert_string_equal(a.argv[1], "--home");
	assert_string_equal(a.argv[3], "-5");
	assert_null(a.argv[4]);
	args_free(&a);
	/* After an error the parse goes on: --json still counts (chatctl's
	 * error object), and so does the command. */
	assert_int_equal(parse(&a, &global_spec, NULL, line2), -1);
	assert_string_equal(a.error, "unknown option '--bogus'");
	assert_int_equal(args_count(&a, "json"), 1);
	assert_string_equal(a.argv[0], "chats");
	args_free(&a);
	assert_int_equal(parse(&a, &global_spec, NULL, line3), 0);
	assert_int_equal(args_count(&a, "json"), 0);
	assert_string_equal(a.argv[0], "--json");
	args_free(&a);
}

static void
test_short_names(void **state)
{
	char line[] = "-h send";
	struct args a;

	(void)state;
	assert_int_equal(parse(&a, &global_spec, NULL, line), 0);
	assert_int_equal(args_count(&a, "help"), 1);
	args_free(&a);
	refused(&global_spec, NULL, "-hj send", "unknown option '-hj'");
}

static void
test_no_options_at_all(void **state)
{
	static const struct args_spec none = {.max_args = 0, .too_many = "no arguments expected"};
	char line[] = "";
	struct args a;

	(void)state;
	assert_int_equal(parse(&a, &none, "chats", line), 0);
	assert_int_equal(a.argc, 0);
	args_free(&a);
	refused(&none, "chats", "x", "no arguments expected");
	refused(&none, "chats", "--x", "unknown option '--x' for chats");
}

static void
test_wants_help(void **state)
{
	char *help[] = {"C", "hi", "-h"}, *help2[] = {"--help"}, *text[] = {"C", "--", "--help"},
	     *none[] = {"C", "--helpme"};

	(void)state;
	assert_true(args_wants_help(3, help));
	assert_true(args_wants_help(1, help2));
	assert_false(args_wants_help(3, text));
	assert_false(args_wants_help(2, none));
	assert_false(args_wants_help(0, NULL));
}

static void
test_usage_lists_the_options(void **state)
{
	char buf[128], small[12];

	(void)state;
	args_usage(&global_spec, buf, sizeof buf);
	assert_string_equal(buf, "[--home DIR] [--json]");
	args_usage(&history_spec, buf, sizeof buf);
	assert_string_equal(buf, "[--limit N]");
	/* Cut, never overrun. */
	args_usage(&global_spec, small, sizeof small);
	assert_true(strlen(small) < sizeof small);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positionals_and_options_in_any_order),
		cmocka_unit_test(test_absent_option),
		cmocka_unit_test(test_errors_say_what_is_wrong),
		cmocka_unit_test(test_first_error_wins),
		cmocka_unit_test(test_value_is_the_next_word),
		cmocka_unit_test(test_repeated_option_keeps_every_value),
		cmocka_unit_test(test_text_may_begin_with_a_dash),
		cmocka_unit_test(test_double_dash_ends_options),
		cmocka_unit_test(test_lone_dash_is_positional),
		cmocka_unit_test(test_in_order_stops_at_the_command),
		cmocka_unit_test(test_short_names),
		cmocka_unit_test(test_no_options_at_all),
		cmocka_unit_test(test_wants_help),
		cmocka_unit_test(test_usage_lists_the_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
