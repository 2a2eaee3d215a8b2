/*
 * cmd-block.c - block, unblock and blocked: the user's block list, which
 * all their devices share (PROTOCOL.md, "Blocking").
 */
#include "chatctl.h"

#include <stdio.h>
#include <string.h>

/* block USER and unblock USER: the change on the server, then the line. */
static int
change(struct cli *cli, struct args *args, int block)
{
	const char *user = args->argv[0], *what = block ? "block" : "unblock";
	int rc;

	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	rc = block ? chat_block_user(cli->c, user, cli_done_cb, cli_done_reset(cli))
		   : chat_unblock_user(cli->c, user, cli_done_cb, cli_done_reset(cli));
	if ((rc = cli_await(cli, rc, what)) != EXIT_OK)
		return rc;
	if (cli->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "user", user);
		cJSON_AddBoolToObject(o, "blocked", block);
		out_json(o);
	} else if (block) {
		printf("blocked %s: nothing of theirs reaches you now\n", user);
	} else {
		printf("unblocked %s\n", user);
	}
	return EXIT_OK;
}

static int
cmd_block_exec(struct cli *cli, struct args *args)
{
	return change(cli, args, 1);
}

static int
cmd_unblock_exec(struct cli *cli, struct args *args)
{
	return change(cli, args, 0);
}

static int
print_one(void *arg, const char *user)
{
	cJSON *arr = arg;

	if (arr != NULL)
		cJSON_AddItemToArray(arr, cJSON_CreateString(user));
	else
		printf("%s\n", user);
	return 0;
}

/* blocked: the list as the server has it (fetched, so that a change made on
 * another device shows), by name. */
static int
cmd_blocked_exec(struct cli *cli, struct args *args)
{
	cJSON *arr = NULL;
	int rc;

	(void)args;
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	rc = chat_refresh_blocked(cli->c, cli_done_cb, cli_done_reset(cli));
	if ((rc = cli_await(cli, rc, "blocked")) != EXIT_OK)
		return rc;
	if (cli->json && (arr = cJSON_CreateArray()) == NULL)
		return cli_fail(cli, CHAT_ERR_NOMEM, "blocked");
	if ((rc = chat_blocked_users(cli->c, print_one, arr)) < 0) {
		cJSON_Delete(arr);
		return cli_fail(cli, rc, "blocked");
	}
	if (arr != NULL)
		out_json(arr);
	return EXIT_OK;
}

const struct cmd_entry cmd_block_entry = {
	.name = "block",
	.usage = "USER",
	.summary = "block USER on all your devices: nothing they send reaches you",
	.args = {.min_args = 1,
		 .max_args = 1,
		 .too_few = "give one user",
		 .too_many = "give one user"},
	.exec = cmd_block_exec};

const struct cmd_entry cmd_unblock_entry = {
	.name = "unblock",
	.usage = "USER",
	.summary = "unblock USER: what they send from now on reaches you",
	.args = {.min_args = 1,
		 .max_args = 1,
		 .too_few = "give one user",
		 .too_many = "give one user"},
	.exec = cmd_unblock_exec};

const struct cmd_entry cmd_blocked_entry = {
	.name = "blocked",
	.usage = "",
	.summary = "list the users you blocked",
	.args = {.max_args = 0, .too_many = "blocked takes no argument"},
	.exec = cmd_blocked_exec};
