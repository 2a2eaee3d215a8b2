/*
 * main.c - chat-tui: an ncurses terminal UI for the chat, on libchat.
 *
 *   chat-tui [--home DIR] [--server URL] [--ca-file FILE] [--user NAME] [--no-bell]
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

static void
usage(FILE *f)
{
	fputs("usage: chat-tui [--home DIR] [--server URL] [--ca-file FILE] [--user NAME] "
	      "[--no-bell]\n"
	      "       chat-tui --help | --version\n"
	      "\n"
	      "An end-to-end encrypted chat in the terminal. With an empty home it asks for\n"
	      "the server and a user name and registers (--user NAME: without asking).\n"
	      "Inside, /help lists the commands. See chat-tui(1).\n",
	      f);
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]: 1 (value in *v), 0 not this
 * option, -1 value missing. */
static int
opt(int argc, char **argv, int *i, const char *name, const char **v)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return 0;
	if (argv[*i][n] == '=') {
		*v = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*v = argv[++*i];
	return 1;
}

int
main(int argc, char **argv)
{
	struct app a;
	const char *v;

	memset(&a, 0, sizeof a);
	a.bell = 1;
	a.server = getenv("CHATCTL_SERVER");
	if (a.server != NULL && *a.server == '\0')
		a.server = NULL;
	if (getenv("CHAT_TUI_BELL") != NULL && strcmp(getenv("CHAT_TUI_BELL"), "0") == 0)
		a.bell = 0;
	a.probe = !(getenv("CHAT_TUI_PROBE") != NULL && strcmp(getenv("CHAT_TUI_PROBE"), "0") == 0);
	for (int i = 1; i < argc; i++) {
		int m = 0;

		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("chat-tui %s (libchat %s, protocol %d)\n", CHAT_VERSION,
			       chat_version(), CHAT_PROTOCOL_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--no-bell") == 0) {
			a.bell = 0;
		} else if ((m = opt(argc, argv, &i, "--home", &v)) > 0 && *v) {
			a.home = v;
		} else if (m == 0 && (m = opt(argc, argv, &i, "--server", &v)) > 0 && *v) {
			a.server = v;
		} else if (m == 0 && (m = opt(argc, argv, &i, "--ca-file", &v)) > 0 && *v) {
			a.ca_file = v;
		} else if (m == 0 && (m = opt(argc, argv, &i, "--user", &v)) > 0 && *v) {
			a.user_arg = v;
		} else {
			if (m != 0)
				fprintf(stderr, "chat-tui: %s needs a value\n", argv[i]);
			else
				fprintf(stderr, "chat-tui: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
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
