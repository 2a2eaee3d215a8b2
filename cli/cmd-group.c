/* cmd-group.c - members, add, remove, leave: who is in a chat; promote,
 * demote, rename, describe: a group's admins, name and description. */
#include "chatctl.h"

#include <string.h>

static int
print_member(void *arg, const char *user, int admin)
{
	(void)arg;
	printf("%s%s\n", user, admin ? " (admin)" : "");
	return 0;
}

/* A group's name and description, as print_members shows them. */
static int
print_about(void *arg, const struct chat_chat *ch)
{
	char d[48];

	(void)arg;
	if (strcmp(ch->kind, "group") != 0) {
		if (ch->disappearing_s > 0)
			printf("disappearing messages: %s\n",
			       chat_duration_format(ch->disappearing_s, 0, d, sizeof d));
		return 0;
	}
	printf("group: %s\n", ch->name ? ch->name : "");
	if (ch->description != NULL && ch->description[0] != '\0')
		printf("description: %s\n", ch->description);
	if (ch->disappearing_s > 0)
		printf("disappearing messages: %s\n",
		       chat_duration_format(ch->disappearing_s, 0, d, sizeof d));
	return 0;
}

/* Prints the members of chat as stored now (a group's name and description
 * first); --json: out_members_json, which rpc's members answers with too. */
static int
print_members(struct cli *cli, const char *chat)
{
	int rc;

	if (cli->json) {
		cJSON *doc = out_members_json(cli->c, chat, &rc);

		if (doc == NULL)
			return cli_fail(cli, rc, "members");
		out_json(doc);
		return EXIT_OK;
	}
	if ((rc = chat_get_chat(cli->c, chat, print_about, NULL)) < 0 ||
	    (rc = chat_members(cli->c, chat, print_member, NULL)) < 0)
		return cli_fail(cli, rc, "members");
	return EXIT_OK;
}

/* members CHAT: asks the server (the local copy may predate a change). */
static int
cmd_members_exec(struct cli *cli, struct args *args)
{
	char chat[CHAT_CHAT_ID_LEN + 1];
	int rc;

	if ((rc = cli_open(cli)) != EXIT_OK ||
	    (rc = cli_chat_arg(cli, args->argv[0], chat)) != EXIT_OK)
		return rc;
	rc = chat_refresh_chat(cli->c, chat, cli_done_cb, cli_done_reset(cli));
	if ((rc = cli_await(cli, rc, "members")) != EXIT_OK)
		return rc;
	return print_members(cli, chat);
}

const struct cmd_entry cmd_members_entry = {.name = "members",
					    .usage = "CHAT",
					    .summary = "list a chat's participants, admins marked",
					    .args = {.min_args = 1,
						     .max_args = 1,
						     .too_few = "give one chat",
						     .too_many = "give one chat"},
					    .exec = cmd_members_exec};

/* add/remove CHAT USER... */
static int
modify(struct cli *cli, const struct cmd_entry *e, int op, struct args *args)
{
	char chat[CHAT_CHAT_ID_LEN + 1];
	int rc;

	if ((rc = cli_open(cli)) != EXIT_OK ||
	    (rc = cli_chat_arg(cli, args->argv[0], chat)) != EXIT_OK)
		return rc;
	rc = chat_modify_members(cli->c, chat, op, (const char *const *)args->argv + 1,
				 (size_t)args->argc - 1, cli_done_cb, cli_done_reset(cli));
	if ((rc = cli_await(cli, rc, e->name)) != EXIT_OK)
		return rc;
	return print_members(cli, chat);
}

static int
cmd_add_exec(struct cli *cli, struct args *args)
{
	return modify(cli, &cmd_add_entry, CHAT_MEMBERS_ADD, args);
}

static int
cmd_remove_exec(struct cli *cli, struct args *args)
{
	return modify(cli, &cmd_remove_entry, CHAT_MEMBERS_REMOVE, args);
}

const struct cmd_entry cmd_add_entry = {
	.name = "add",
	.usage = "CHAT USER...",
	.summary = "add users to a group (admins only); prints the members",
	.args = {.min_args = 2, .max_args = -1, .too_few = "give a chat and at least one user"},
	.exec = cmd_add_exec};

const struct cmd_entry cmd_remove_entry = {
	.name = "remove",
	.usage = "CHAT USER...",
	.summary = "remove users from a group (admins only); prints the members",
	.args = {.min_args = 2, .max_args = -1, .too_few = "give a chat and at least one user"},
	.exec = cmd_remove_exec};

static int
cmd_leave_exec(struct cli *cli, struct args *args)
{
	char chat[CHAT_CHAT_ID_LEN + 1];
	int rc;

	if ((rc = cli_open(cli)) != EXIT_OK ||
	    (rc = cli_chat_arg(cli, args->argv[0], chat)) != EXIT_OK)
		return rc;
	rc = chat_leave(cli->c, chat, cli_done_cb, cli_done_reset(cli));
	if ((rc = cli_await(cli, rc, "leave")) != EXIT_OK)
		return rc;
	if (cli->json) {
		out_json(out_left_json(chat));
	} else {
		printf("left %s\n", chat);
	}
	return EXIT_OK;
}

const struct cmd_entry cmd_leave_entry = {.name = "leave",
					  .usage = "CHAT",
					  .summary = "leave a group",
					  .args = {.min_args = 1,
						   .max_args = 1,
						   .too_few = "give one chat",
						   .too_many = "give one chat"},
					  .exec = cmd_leave_exec};

/* promote/demote CHAT USER... */
static int
admins(struct cli *cli, const struct cmd_entry *e, int op, struct args *args)
{
	char chat[CHAT_CHAT_ID_LEN + 1];
	int rc;

	if ((rc = cli_open(cli)) != EXIT_OK ||
	    (rc = cli_chat_arg(cli, args->argv[0], chat)) != EXIT_OK)
		return rc;
	rc = chat_modify_admins(cli->c, chat, op, (const char *const *)args->argv + 1,
				(size_t)args->argc - 1, cli_done_cb, cli_done_reset(cli));
	if ((rc = cli_await(cli, rc, e->name)) != EXIT_OK)
		return rc;
	return print_members(cli, chat);
}

static int
cmd_promote_exec(struct cli *cli, struct args *args)
{
	return admins(cli, &cmd_promote_entry, CHAT_ADMINS_PROMOTE, args);
}

static int
cmd_demote_exec(struct cli *cli, struct args *args)
{
	return admins(cli, &cmd_demote_entry, CHAT_ADMINS_DEMOTE, args);
}

const struct cmd_entry cmd_promote_entry = {
	.name = "promote",
	.usage = "CHAT USER...",
	.summary = "make members of a group admins (admins only); prints the members",
	.args = {.min_args = 2, .max_args = -1, .too_few = "give a chat and at least one user"},
	.exec = cmd_promote_exec};

const struct cmd_entry cmd_demote_entry = {
	.name = "demote",
	.usage = "CHAT USER...",
	.summary = "make admins of a group members again (admins only; one admin stays)",
	.args = {.min_args = 2, .max_args = -1, .too_few = "give a chat and at least one user"},
	.exec = cmd_demote_exec};

/* rename CHAT NAME, describe CHAT TEXT */
static int
edit(struct cli *cli, const struct cmd_entry *e, struct args *args, int name)
{
	char chat[CHAT_CHAT_ID_LEN + 1];
	const char *v = args->argv[1];
	int rc;

	if ((rc = cli_open(cli)) != EXIT_OK ||
	    (rc = cli_chat_arg(cli, args->argv[0], chat)) != EXIT_OK)
		return rc;
	rc = chat_update_group(cli->c, chat, name ? v : NULL, name ? NULL : v, cli_done_cb,
			       cli_done_reset(cli));
	if ((rc = cli_await(cli, rc, e->name)) != EXIT_OK)
		return rc;
	return print_members(cli, chat);
}

static int
cmd_rename_exec(struct cli *cli, struct args *args)
{
	return edit(cli, &cmd_rename_entry, args, 1);
}

static int
cmd_describe_exec(struct cli *cli, struct args *args)
{
	return edit(cli, &cmd_describe_entry, args, 0);
}

const struct cmd_entry cmd_rename_entry = {
	.name = "rename",
	.usage = "CHAT NAME",
	.summary = "rename a group (admins only)",
	.args = {.min_args = 2,
		 .max_args = 2,
		 .text_from = 2,
		 .too_few = "give a chat and its new name",
		 .too_many = "give a chat and its new name (quote it)"},
	.exec = cmd_rename_exec};

const struct cmd_entry cmd_describe_entry = {
	.name = "describe",
	.usage = "CHAT TEXT",
	.summary = "set a group's description, \"\" to remove it (admins only)",
	.args = {.min_args = 2,
		 .max_args = 2,
		 .text_from = 2,
		 .too_few = "give a chat and the description",
		 .too_many = "give a chat and the description (quote it)"},
	.exec = cmd_describe_exec};
