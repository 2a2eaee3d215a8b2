/*
 * test_cli_rpc.c - rpc and chatctl daemon cover every chatctl command: each
 * is a method of the same name (its words in camelCase), or listed with why
 * it is not one, so a new command cannot be left out of rpc unnoticed. And
 * the "did you mean" both use, and rpc's line framing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rpc.h"

static int
not_a_method(const struct cmd_entry *e)
{
	char name[64];

	cli_cmd_name(e, name, sizeof name);
	for (const struct rpc_no_method *n = rpc_not_methods; n->command != NULL; n++)
		if (strcmp(n->command, name) == 0)
			return 1;
	return 0;
}

static void
check_command(const struct cmd_entry *e)
{
	char method[64], name[64];

	if (not_a_method(e))
		return;
	rpc_method_name(e, method, sizeof method);
	if (!rpc_method_exists(method))
		fail_msg("chatctl %s is no rpc method '%s', nor in rpc_not_methods",
			 cli_cmd_name(e, name, sizeof name), method);
}

static void
test_every_command_is_a_method(void **state)
{
	(void)state;
	for (const struct cmd_entry *const *e = cmd_table; *e != NULL; e++) {
		if ((*e)->subcommands == NULL) {
			check_command(*e);
			continue;
		}
		for (const struct cmd_entry *const *s = (*e)->subcommands; *s != NULL; s++)
			check_command(*s);
	}
}

/* A listed exception that is no command (any more) is an error too. */
static void
test_exceptions_are_commands(void **state)
{
	(void)state;
	for (const struct rpc_no_method *n = rpc_not_methods; n->command != NULL; n++) {
		char word[64], *sub;
		const struct cmd_entry *e;

		snprintf(word, sizeof word, "%s", n->command);
		if ((sub = strchr(word, ' ')) != NULL)
			*sub++ = '\0';
		e = cli_find_cmd(cmd_table, word);
		if (e != NULL && sub != NULL)
			e = e->subcommands ? cli_find_cmd(e->subcommands, sub) : NULL;
		if (e == NULL)
			fail_msg("rpc_not_methods names '%s', which is no command", n->command);
		assert_non_null(n->why);
	}
}

static void
test_method_names(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(rpc_method_name(&cmd_delete_chat_entry, buf, sizeof buf), "deleteChat");
	assert_string_equal(rpc_method_name(&cmd_send_entry, buf, sizeof buf), "send");
	assert_true(rpc_method_exists("deviceList"));
	assert_true(rpc_method_exists("subscribe"));
	assert_false(rpc_method_exists("sned"));
	/* A bot makes its device over rpc too (i15-rpcreg): no exceptions. */
	assert_true(rpc_method_exists("register"));
	assert_true(rpc_method_exists("deviceLink"));
	for (const struct rpc_no_method *n = rpc_not_methods; n->command != NULL; n++)
		if (strcmp(n->command, "register") == 0 || strcmp(n->command, "device link") == 0)
			fail_msg("'%s' is an rpc method now, yet listed as none", n->command);
}

static void
test_suggest(void **state)
{
	const char *names[] = {"send", "recv", "react", "history", "members", "deviceList"};
	size_t n = sizeof names / sizeof *names;

	(void)state;
	assert_string_equal(cli_suggest("sned", names, n), "send"); /* a swap */
	assert_string_equal(cli_suggest("sen", names, n), "send");  /* one missing */
	assert_string_equal(cli_suggest("histroy", names, n), "history");
	assert_string_equal(cli_suggest("membres", names, n), "members");
	assert_string_equal(cli_suggest("devicelist", names, n), "deviceList");
	assert_null(cli_suggest("frobnicate", names, n));
	assert_null(cli_suggest("xy", names, n)); /* too short to guess from */
	assert_null(cli_suggest("", names, n));
}

struct lines {
	int n, too_long;
	char last[64];
};

static void
got_line(void *arg, char *line, size_t len)
{
	struct lines *l = arg;

	l->n++;
	snprintf(l->last, sizeof l->last, "%.*s", (int)len, line);
}

static void
got_too_long(void *arg)
{
	((struct lines *)arg)->too_long++;
}

/* Lines split across reads are whole; an overlong one is refused once and
 * skipped to its end, and the next line is read as usual. */
static void
test_framing(void **state)
{
	struct rpc_frame f = {.max = 8};
	struct lines l = {0};

	(void)state;
	rpc_frame_feed(&f, "ab", 2, got_line, got_too_long, &l);
	assert_int_equal(l.n, 0);
	rpc_frame_feed(&f, "c\nde\n", 5, got_line, got_too_long, &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.last, "de");
	rpc_frame_feed(&f, "0123456789", 10, got_line, got_too_long, &l);
	rpc_frame_feed(&f, "abcdef\nok\n", 10, got_line, got_too_long, &l);
	assert_int_equal(l.too_long, 1);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.last, "ok");
	rpc_frame_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_command_is_a_method),
		cmocka_unit_test(test_exceptions_are_commands),
		cmocka_unit_test(test_method_names),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_framing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
