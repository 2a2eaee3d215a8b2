/* cmd-chat.c - create, chats: opening chats and listing them. */
#include "chatctl.h"

#include <string.h>

#include "proto.h"

static int
cmd_create_exec(struct cli *cli, struct args *args)
{
	struct cli_done *d = cli_done_reset(cli);
	const char *name = args_get(args, "name");
	char **users = args->argv;
	size_t n = (size_t)args->argc;
	int rc;

	if (name == NULL && n > 1)
		return cli_usage(&cmd_create_entry, "a chat with several users is a group: "
						    "give it a --name");
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	/* "@me" is the user (their notes to self); "@bob" is bob, as the
	 * chat arguments take them. */
	for (size_t i = 0; i < n; i++)
		if (strcmp(users[i], CHAT_SELF_SPEC) == 0 && chat_client_user(cli->c) != NULL)
			users[i] = (char *)chat_client_user(cli->c);
		else if (users[i][0] == '@')
			users[i]++;
	if (name != NULL)
		rc = chat_create_group(cli->c, name, (const char *const *)users, n, cli_done_cb, d);
	else
		rc = chat_create_chat(cli->c, (const char *const *)users, n, cli_done_cb, d);
	if ((rc = cli_await(cli, rc, "create")) != EXIT_OK)
		return rc;
	if (cli->json) {
		out_json(out_chat_by_id_json(cli->c, d->id));
	} else {
		printf("%s\n", d->id);
	}
	return EXIT_OK;
}

static const struct args_option create_options[] = {
	{.name = "name",
	 .flags = ARGS_VALUE | ARGS_NONEMPTY,
	 .meta = "NAME",
	 .needs = "the group's name"},
	{0},
};

const struct cmd_entry cmd_create_entry = {
	.name = "create",
	.usage = "USER | --name NAME USER...",
	.summary = "open a chat with USER, or a group NAME; prints the chat id",
	.args = {.options = create_options,
		 .min_args = 1,
		 .max_args = -1,
		 .too_few = "name the user(s) to chat with"},
	.exec = cmd_create_exec};

/* What the chat walk prints into: a JSON array, or NULL for text. */
static int
print_chat(void *arg, const struct chat_chat *ch)
{
	cJSON *arr = arg;
	char at[32];

	if (arr != NULL) {
		cJSON_AddItemToArray(arr, out_chat_json(ch));
		return 0;
	}
	proto_rfc3339(ch->last_activity, at, sizeof at);
	/* The kind and the name are the server's word: escaped as a text. */
	printf("%s  %-6s  ", ch->chat_id, out_esc(ch->kind));
	if (ch->name != NULL) {
		out_safe(stdout, ch->name, strlen(ch->name), 0);
		fputs(": ", stdout);
	}
	if (strcmp(ch->kind, "self") == 0)
		fputs("notes to self", stdout);
	for (size_t i = 0; strcmp(ch->kind, "self") != 0 && i < ch->n_members; i++)
		printf("%s%s", i ? "," : "", out_esc(ch->members[i]));
	if (ch->n_members == 0)
		fputs("(members not known yet)", stdout);
	printf("  %lld message%s", (long long)ch->n_messages, ch->n_messages == 1 ? "" : "s");
	if (ch->n_unread > 0)
		printf(" (%lld unread)", (long long)ch->n_unread);
	if (ch->disappearing_s > 0) {
		char d[48];

		printf("  disappearing %s",
		       chat_duration_format(ch->disappearing_s, 1, d, sizeof d));
	}
	printf("  %s\n", at);
	return 0;
}

static int
cmd_chats_exec(struct cli *cli, struct args *args)
{
	cJSON *arr = NULL;
	int rc;

	(void)args;
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if (cli->json && (arr = cJSON_CreateArray()) == NULL)
		return cli_fail(cli, CHAT_ERR_NOMEM, "chats");
	rc = chat_list_chats(cli->c, print_chat, arr);
	if (rc < 0) {
		cJSON_Delete(arr);
		return cli_fail(cli, rc, "chats");
	}
	if (arr != NULL)
		out_json(arr);
	return EXIT_OK;
}

const struct cmd_entry cmd_chats_entry = {
	.name = "chats",
	.usage = "",
	.summary = "list chats from the local store, newest activity first",
	.args = {.max_args = 0, .too_many = "no arguments expected"},
	.exec = cmd_chats_exec};
