/*
 * main.c - chat-tui: an ncurses terminal UI for the chat, on libchat.
 *
 *   chat-tui [--home DIR] [--server URL] [--ca-file FILE] [--user NAME] [--no-bell]
 *            [--no-mouse] [--config FILE]
 *
 * The options and environment are chatctl's (CHATCTL_HOME, CHATCTL_SERVER,
 * CHAT_CA_FILE...), so both share a device home. See chat-tui(1).
 */
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "args.h"

/* chat-tui's options: those it shares with chatctl mean the same there. */
static const struct args_option options[] = {
	ARGS_OPTIONS_DEVICE,
	{.name = "user",
	 .flags = ARGS_VALUE | ARGS_NONEMPTY,
	 .meta = "NAME",
	 .needs = "a user name"},
	{.name = "no-bell"},
	{.name = "no-mouse"},
	{.name = "config",
	 .flags = ARGS_VALUE | ARGS_NONEMPTY,
	 .meta = "FILE",
	 .needs = "a configuration file"},
	{.name = "help", .letter = 'h', .flags = ARGS_HIDDEN},
	{.name = "version", .flags = ARGS_HIDDEN},
	{0},
};

static const struct args_spec spec = {.options = options, .max_args = 0};

static void
usage(FILE *f)
{
	char line[256];

	args_usage(&spec, line, sizeof line);
	fprintf(f,
		"usage: chat-tui %s\n"
		"       chat-tui --help | --version\n"
		"\n"
		"An end-to-end encrypted chat in the terminal. With an empty home it asks for\n"
		"the server and a user name and registers (--user NAME: without asking).\n"
		"Inside, /help lists the commands. See chat-tui(1).\n",
		line);
}

/* The options into a; returns -1 with the exit code in *rc when there is
 * nothing more to do (--help, --version, a usage error). */
static int
parse_options(struct app *a, int argc, char **argv, int *rc)
{
	struct args args;
	int done = -1;

	*rc = 0;
	if (args_parse(&args, &spec, argc - 1, argv + 1, NULL) != 0 &&
	    args_count(&args, "help") == 0 && args_count(&args, "version") == 0) {
		fprintf(stderr, "chat-tui: %s\n", args.error);
		usage(stderr);
		*rc = 2;
	} else if (args_count(&args, "help") > 0) {
		usage(stdout);
	} else if (args_count(&args, "version") > 0) {
		printf("chat-tui %s (libchat %s, protocol %d)\n", CHAT_VERSION, chat_version(),
		       CHAT_PROTOCOL_VERSION);
	} else {
		/* The values point into argv, which outlives the run. */
		if (args_get(&args, "home") != NULL)
			a->home = args_get(&args, "home");
		if (args_get(&args, "server") != NULL)
			a->server = args_get(&args, "server");
		if (args_get(&args, "ca-file") != NULL)
			a->ca_file = args_get(&args, "ca-file");
		if (args_get(&args, "user") != NULL)
			a->user_arg = args_get(&args, "user");
		if (args_get(&args, "config") != NULL)
			a->config_path = args_get(&args, "config");
		if (args_count(&args, "no-bell") > 0)
			a->bell = a->bell_mentions = 0;
		if (args_count(&args, "no-mouse") > 0)
			a->mouse = 0;
		done = 0;
	}
	args_free(&args);
	return done;
}

int
main(int argc, char **argv)
{
	struct app a;
	int rc;

	memset(&a, 0, sizeof a);
	a.bell = a.bell_mentions = 1;
	a.mouse = 1;
	a.server = getenv("CHATCTL_SERVER");
	if (a.server != NULL && *a.server == '\0')
		a.server = NULL;
	if (getenv("CHAT_TUI_BELL") != NULL && strcmp(getenv("CHAT_TUI_BELL"), "0") == 0)
		a.bell = a.bell_mentions = 0;
	a.probe = !(getenv("CHAT_TUI_PROBE") != NULL && strcmp(getenv("CHAT_TUI_PROBE"), "0") == 0);
	if (parse_options(&a, argc, argv, &rc) != 0)
		return rc;
	/* Widths, clusters and the terminal's own idea of them all come from the
	 * locale: without UTF-8 every non-ASCII character would be mangled. */
	setlocale(LC_ALL, "");
	if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0) {
		fprintf(stderr,
			"chat-tui: the locale's character set is %s, not UTF-8; set one, for "
			"example: export LANG=C.UTF-8\n",
			nl_langinfo(CODESET));
		return 2;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fputs("chat-tui: needs a terminal (for scripts, use chatctl)\n", stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN); /* a file size limit is an error, not a death */
	app_catch_signals();
	return app_run(&a);
}
