/* cmd-chat.c - create, chats: opening chats and listing them. */
#include "chatctl.h"

#include <string.h>

#include "proto.h"
#include "when.h"

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

/* What the chat walk prints into: a JSON array, or NULL for text; which
 * chats (CLI_CHATS_). */
struct chats_out {
	cJSON *arr;
	int archived;
	int64_t now;
};

static int
print_chat(void *arg, const struct chat_chat *ch)
{
	struct chats_out *o = arg;
	char when[32];

	if (!cli_chat_shown(ch, o->archived))
		return 0;
	if (o->arr != NULL) {
		cJSON_AddItemToArray(o->arr, out_chat_json(ch));
		return 0;
	}
	/* The kind and the name are the server's word: escaped as a text. */
	printf("%s  %-6s  ", ch->chat_id, out_esc(ch->kind));
	if (ch->pinned_at > 0)
		fputs("[pinned] ", stdout);
	if (ch->muted_until > 0)
		fputs("[muted] ", stdout);
	if (ch->archived)
		fputs("[archived] ", stdout);
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
	/* Today the clock, this week the day, before that the date. */
	printf("  %s", when_brief(ch->last_text ? ch->last_at : ch->last_activity, o->now, when,
				  sizeof when));
	if (ch->last_text != NULL) {
		/* The sender's words, on one line already: escaped as texts are. */
		printf("  %s: ", out_esc(ch->last_sender));
		out_safe(stdout, ch->last_text, strlen(ch->last_text), 0);
	}
	putchar('\n');
	return 0;
}

static int
cmd_chats_exec(struct cli *cli, struct args *args)
{
	struct chats_out o = {NULL, 0, proto_now_ms()};
	int rc;

	if (args_count(args, "all") > 0)
		o.archived = CLI_CHATS_ALL;
	else if (args_count(args, "archived") > 0)
		o.archived = CLI_CHATS_ARCHIVED;
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if (cli->json && (o.arr = cJSON_CreateArray()) == NULL)
		return cli_fail(cli, CHAT_ERR_NOMEM, "chats");
	rc = chat_list_chats(cli->c, print_chat, &o);
	if (rc < 0) {
		cJSON_Delete(o.arr);
		return cli_fail(cli, rc, "chats");
	}
	if (o.arr != NULL)
		out_json(o.arr);
	return EXIT_OK;
}

static const struct args_option chats_options[] = {
	{.name = "archived", .flags = 0},
	{.name = "all", .flags = 0},
	{0},
};

const struct cmd_entry cmd_chats_entry = {
	.name = "chats",
	.usage = "[--archived] [--all]",
	.summary = "list chats from the local store: pinned first, then newest activity first, "
		   "each with its last message; archived ones only with --archived (only them) "
		   "or --all",
	.args = {.options = chats_options, .max_args = 0, .too_many = "no arguments expected"},
	.exec = cmd_chats_exec};
