/*
 * test_cli_commands.c - chatctl's command table (cli/): each command's usage
 * names exactly the options it declares, so help never drifts from what is
 * parsed; and the declarations mean what chatctl(1) says of each command line.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "chatctl.h"

/* Whether usage has the option --name as a word of its own ("[--name X]",
 * "--name=", "--name" at the end), not as the start of a longer one. */
static int
usage_names(const char *usage, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = strstr(usage, "--"); p != NULL; p = strstr(p + 2, "--")) {
		const char *end = p + 2 + len;

		if (strncmp(p + 2, name, len) == 0 && !isalnum((unsigned char)*end) && *end != '-')
			return 1;
	}
	return 0;
}

static int
declared(const struct args_spec *spec, const char *name, size_t len)
{
	for (const struct args_option *o = spec->options;
	     o != NULL && (o->name != NULL || o->letter != 0); o++)
		if (o->name != NULL && strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return 1;
	return 0;
}

/* e's usage and options agree, both ways. */
static void
check_entry(const struct cmd_entry *e)
{
	char usage[256], name[64];

	cli_cmd_name(e, name, sizeof name);
	cli_cmd_usage(e, usage, sizeof usage);
	assert_non_null(e->exec);
	assert_non_null(e->summary);
	assert_true(e->summary[0] != '\0');
	for (const struct args_option *o = e->args.options;
	     o != NULL && (o->name != NULL || o->letter != 0); o++) {
		if (o->name == NULL || (o->flags & ARGS_HIDDEN))
			continue;
		if (!usage_names(usage, o->name))
			fail_msg("%s declares --%s but its usage '%s' does not show it", name,
				 o->name, usage);
	}
	if (e->subcommands != NULL)
		return; /* its usage is theirs, checked with them */
	for (const char *p = strstr(usage, "--"); p != NULL; p = strstr(p + 2, "--")) {
		size_t len = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");

		if (len > 0 && !declared(&e->args, p + 2, len))
			fail_msg("%s's usage '%s' shows --%.*s, which it does not declare", name,
				 usage, (int)len, p + 2);
	}
}

static void
test_usage_shows_the_declared_options(void **state)
{
	int n = 0;

	(void)state;
	for (const struct cmd_entry *const *e = cmd_table; *e != NULL; e++, n++) {
		check_entry(*e);
		for (const struct cmd_entry *const *s = (*e)->subcommands; s != NULL && *s != NULL;
		     s++) {
			assert_ptr_equal((*s)->parent, *e);
			check_entry(*s);
		}
	}
	assert_true(n >= 20);
}

static void
test_names_are_unique(void **state)
{
	(void)state;
	for (const struct cmd_entry *const *e = cmd_table; *e != NULL; e++) {
		assert_ptr_equal(cli_find_cmd(cmd_table, (*e)->name), *e);
		for (const struct cmd_entry *const *s = (*e)->subcommands; s != NULL && *s != NULL;
		     s++)
			assert_ptr_equal(cli_find_cmd((*e)->subcommands, (*s)->name), *s);
	}
	assert_null(cli_find_cmd(cmd_table, "frobnicate"));
}

static void
test_device_usage_is_its_subcommands(void **state)
{
	char usage[256];

	(void)state;
	assert_string_equal(cli_cmd_usage(&cmd_device_entry, usage, sizeof usage),
			    "list | link [--server URL] [--name NAME] USER | approve [--history-days DAYS] CODE... | "
			    "remove DEVICE [--force]");
}

/* Parses line (space-separated words after the command's name, the
 * subcommand's for "device X") as chatctl would; returns the error, or "" if
 * the line is good. */
static const char *
parse(const char *cmd, const char *line)
{
	static char error[256];
	char buf[256], name[64], *words[32];
	const struct cmd_entry *e = cli_find_cmd(cmd_table, cmd);
	struct args a;
	char *save;
	int n = 0;

	assert_non_null(e);
	snprintf(buf, sizeof buf, "%s", line);
	for (char *w = strtok_r(buf, " ", &save); w != NULL && n < 32;
	     w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	if (e->subcommands != NULL && n > 0) {
		e = cli_find_cmd(e->subcommands, words[0]);
		assert_non_null(e);
		memmove(words, words + 1, (size_t)--n * sizeof *words);
	}
	args_parse(&a, &e->args, n, words, cli_cmd_name(e, name, sizeof name));
	snprintf(error, sizeof error, "%s", a.error);
	args_free(&a);
	return error;
}

static void
test_command_lines(void **state)
{
	(void)state;
	/* send: the word after the chat is the text, whatever it begins with. */
	assert_string_equal(parse("send", "@bob -5"), "");
	assert_string_equal(parse("send", "-- @bob -x"), "");
	assert_string_equal(parse("send", "@bob -- --attach"), "");
	assert_string_equal(parse("send", "@bob -with --attach f"), "");
	assert_string_equal(parse("send", "--bogus @bob hi"), "unknown option '--bogus' for send");
	assert_string_equal(parse("send", "@bob hi --attach"), "--attach needs a file");
	assert_string_equal(parse("send", ""), "give a chat and a text (or -)");
	/* reply: the third word is the text, whatever it begins with. */
	assert_string_equal(parse("reply", "@bob 1a2b -5 degrees"),
			    "give one text; quote it if it has spaces");
	assert_string_equal(parse("reply", "@bob 1a2b -5"), "");
	assert_string_equal(parse("reply", "@bob 1a2b"), "give a chat, a message id and a text");
	assert_string_equal(parse("react", "@bob"),
			    "give a chat, a message id and an emoji (or --remove)");
	assert_string_equal(parse("react", "--remove @bob 1a2b"), "");
	assert_string_equal(parse("react", "@bob 1a2b x y"), "unexpected argument 'y'");
	/* rename, describe: the word after the chat is the text, whatever it
	 * begins with; one word (quoted). */
	assert_string_equal(parse("describe", "@g --rules--"), "");
	assert_string_equal(parse("describe", "@g -5"), "");
	assert_string_equal(parse("describe", "@g"), "give a chat and the description");
	assert_string_equal(parse("describe", "@g a b"),
			    "give a chat and the description (quote it)");
	assert_string_equal(parse("rename", "@g -x"), "");
	assert_string_equal(parse("promote", "@g"), "give a chat and at least one user");
	assert_string_equal(parse("demote", "@g bob carol"), "");
	/* edit: like reply; delete: --for-everyone anywhere, two arguments. */
	assert_string_equal(parse("edit", "@bob 1a2b -5"), "");
	assert_string_equal(parse("edit", "@bob 1a2b"),
			    "give a chat, a message id and the new text");
	assert_string_equal(parse("delete", "@bob 1a2b"), "");
	assert_string_equal(parse("delete", "@bob 1a2b --for-everyone"), "");
	assert_string_equal(parse("delete", "--for-everyone @bob"), "give a chat and a message id");
	assert_string_equal(parse("delete", "@bob 1a2b 3c4d"), "give a chat and one message id");
	assert_string_equal(parse("delete-chat", ""), "give a chat");
	/* The rest is each command's own. */
	assert_string_equal(parse("history", ""), "give a chat");
	assert_string_equal(parse("history", "C --limit 0"), "--limit needs a number (1-1000000)");
	assert_string_equal(parse("history", "C D"), "unexpected argument 'D'");
	/* search: words, whatever they begin with; the options anywhere. */
	assert_string_equal(parse("search", ""), "give the words to search for");
	assert_string_equal(parse("search", "--chat @bob"), "give the words to search for");
	assert_string_equal(parse("search", "-foo NEAR( \"x"), "");
	assert_string_equal(parse("search", "lunch --chat @bob --limit 5 friday"), "");
	assert_string_equal(parse("search", "x --limit 0"), "--limit needs a number (1-1000000)");
	assert_string_equal(parse("search", "x --chat="),
			    "--chat needs a chat (an id, a prefix or @user)");
	assert_string_equal(parse("recv", "--wait x"),
			    "--wait needs a number of seconds (0-86400)");
	assert_string_equal(parse("recv", "--wait 86400"), "");
	assert_string_equal(parse("download", "M --index 11"), "--index needs a number (1-10)");
	assert_string_equal(parse("download", "M --out="), "--out needs a path");
	assert_string_equal(parse("register", "alice --name"), "--name needs a device name");
	assert_string_equal(parse("register", ""), "no user name given");
	assert_string_equal(parse("register", "a b"), "one user name only");
	assert_string_equal(parse("create", "--name= bob"), "--name needs the group's name");
	assert_string_equal(parse("create", "--name g bob carol"), "");
	assert_string_equal(parse("chats", "x"), "no arguments expected");
	assert_string_equal(parse("read", "a b"), "give one chat");
	assert_string_equal(parse("add", "C"), "give a chat and at least one user");
	assert_string_equal(parse("discard", ""), "give the message(s) to discard");
	assert_string_equal(parse("retry", "--now"), "unknown option '--now' for retry");
	assert_string_equal(parse("privacy", "--hide-last-seen on"), "");
	assert_string_equal(parse("privacy", "on"),
			    "give --hide-last-seen on or off, --hide-typing on or off, or both");
	assert_string_equal(parse("privacy", "--hide-typing off"), "");
	assert_string_equal(parse("typing", "abcd --stop"), "");
	assert_string_equal(parse("typing", ""), "give a chat");
	assert_string_equal(parse("help", "a b"), "give one command");
	assert_string_equal(parse("device", ""), "give list, link, approve or remove");
	assert_string_equal(parse("device", "link --server ws://h/ --name n bob"), "");
	assert_string_equal(parse("device", "link"), "device link needs the user to join");
	assert_string_equal(parse("device", "list x"), "device list takes no arguments");
	assert_string_equal(parse("device", "approve K7QM 2XWD R4TP 9BNA"), "");
	assert_string_equal(parse("device", "remove 3 --force"), "");
	assert_string_equal(parse("device", "remove"),
			    "device remove needs a device id (see device list)");
}

static void
test_global_options(void **state)
{
	char *argv[] = {"--bogus", "--json", "--timeout", "0", "chats", "--json"};
	struct args a;

	(void)state;
	/* The error is the first one, and --json still counts for its object. */
	assert_int_equal(args_parse(&a, &cli_global_args, 6, argv, NULL), -1);
	assert_string_equal(a.error, "unknown option '--bogus'");
	assert_int_equal(args_count(&a, "json"), 1);
	assert_int_equal(a.argc, 2);
	assert_string_equal(a.argv[0], "chats");
	args_free(&a);
	assert_int_equal(args_parse(&a, &cli_global_args, 0, argv, NULL), -1);
	assert_string_equal(a.error, "no command given");
	args_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage_shows_the_declared_options),
		cmocka_unit_test(test_names_are_unique),
		cmocka_unit_test(test_device_usage_is_its_subcommands),
		cmocka_unit_test(test_command_lines),
		cmocka_unit_test(test_global_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
