/*
 * main.c - chatctl's main: the global options, then the command named after
 * them, run by its table entry (chatctl.c).
 */
#include "chatctl.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* The global options into cli; returns -1 with the run's exit code in *rc
 * when there is nothing more to do (--help, --version, a usage error). */
static int
global_options(struct cli *cli, const struct args *a, int *rc)
{
	cli->json = args_count(a, "json") > 0;
	/* Asked for the usage or the version: that, whatever else is wrong. */
	if (args_count(a, "help") > 0) {
		cli_usage_all(stdout);
		*rc = EXIT_OK;
		return -1;
	}
	if (args_count(a, "version") > 0) {
		printf("chatctl %s (libchat %s, protocol %d)\n", CHAT_VERSION, chat_version(),
		       CHAT_PROTOCOL_VERSION);
		*rc = EXIT_OK;
		return -1;
	}
	/* With --json anywhere among them, even an error in an option before it
	 * is a JSON object: the parse went on past the error. */
	if (a->error[0] != '\0') {
		*rc = cli_finish(cli, NULL, cli_usage(NULL, "%s", a->error));
		return -1;
	}
	cli->server = getenv("CHATCTL_SERVER");
	if (cli->server != NULL && *cli->server == '\0')
		cli->server = NULL;
	if (args_get(a, "server") != NULL)
		cli->server = args_get(a, "server");
	cli->home = args_get(a, "home");
	cli->ca_file = args_get(a, "ca-file");
	cli->timeout_ms = (int)args_number(a, "timeout", 0) * 1000;
	return 0;
}

/* The command a->argv[0] with the words after it. */
static int
run_command(struct cli *cli, const struct args *a)
{
	const struct cmd_entry *e = cli_find_cmd(cmd_table, a->argv[0]);
	int rc;

	if (e == NULL)
		return cli_finish(cli, NULL, cli_unknown_command(cmd_table, NULL, a->argv[0]));
	/* CMD --help (or -h) anywhere among its words, before a "--": that
	 * command's usage, as help CMD. A text or a file name that is exactly
	 * --help goes after "--" (send), where options end. */
	if (args_wants_help(a->argc - 1, a->argv + 1)) {
		cli_usage_one(e);
		return EXIT_OK;
	}
	rc = cli_run(cli, e, a->argc - 1, a->argv + 1);
	if (cli->c != NULL) {
		chat_client_disconnect(cli->c);
		chat_client_destroy(cli->c);
	}
	return cli_finish(cli, e, rc);
}

int
main(int argc, char **argv)
{
	struct cli cli;
	struct args a;
	int rc;

	memset(&cli, 0, sizeof cli);
	cli_catch_signals();
	/* A closed pipe (chatctl recv | head) is a write error, not a silent death
	 * between storing a message and acking it. */
	signal(SIGPIPE, SIG_IGN);
	/* A file size limit (ulimit -f) is an error to report, like a full disk,
	 * not a reason to die with half a download on disk. */
	signal(SIGXFSZ, SIG_IGN);

	args_parse(&a, &cli_global_args, argc - 1, argv + 1, NULL);
	if (global_options(&cli, &a, &rc) == 0)
		rc = run_command(&cli, &a);
	args_free(&a);
	if (fflush(stdout) != 0 && rc == EXIT_OK) {
		perror("chatctl: writing output");
		rc = EXIT_FAIL;
	}
	return rc;
}
