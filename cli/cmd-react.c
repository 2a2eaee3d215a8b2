/* cmd-react.c - reply, react, edit, delete, delete-chat: answering and
 * changing the messages of a chat (PROTOCOL.md, "Replies and reactions",
 * "Edits and deletes"); history shows what they make. */
#include "chatctl.h"

#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* The end of a send of either: the id, or what became of the message. */
static int
sent(struct cli *cli, int rc, const char *kept, const char *what)
{
	struct cli_done *d = &cli->done;

	if ((rc = cli_await(cli, rc, what)) != EXIT_OK)
		return cli_kept(cli, kept[0] ? kept : d->id, rc);
	if (cli->json)
		chat_message_get(cli->c, d->id, out_sent, NULL);
	else
		printf("%s\n", d->id);
	return EXIT_OK;
}

/* reply CHAT MESSAGE TEXT: TEXT quoting MESSAGE (an id, or a prefix). */
static int
cmd_reply_exec(struct cli *cli, struct args *a)
{
	char chat[CHAT_CHAT_ID_LEN + 1], id[CHAT_MESSAGE_ID_LEN + 1];
	char kept[CHAT_MESSAGE_ID_LEN + 1] = "";
	const char *text = a->argv[2];
	struct cli_done *d = cli_done_reset(cli);
	int rc;

	if ((rc = cli_open(cli)) != EXIT_OK ||
	    (rc = cli_chat_arg(cli, a->argv[0], chat)) != EXIT_OK ||
	    (rc = cli_message_arg(cli, a->argv[1], id)) != EXIT_OK)
		return rc;
	rc = chat_send_reply(cli->c, chat, id, text, strlen(text), kept, cli_done_cb, d);
	return sent(cli, rc, kept, "reply");
}

const struct cmd_entry cmd_reply_entry = {
	.name = "reply",
	.usage = "CHAT MESSAGE TEXT",
	.summary = "send TEXT quoting MESSAGE (its sender and the start of its text); prints "
		   "the new message's id",
	.args = {.min_args = 3,
		 .max_args = 3,
		 .text_from = 3,
		 .too_few = "give a chat, a message id and a text",
		 .too_many = "give one text; quote it if it has spaces"},
	.exec = cmd_reply_exec};

/* react CHAT MESSAGE EMOJI, or react --remove CHAT MESSAGE. */
static int
cmd_react_exec(struct cli *cli, struct args *a)
{
	char chat[CHAT_CHAT_ID_LEN + 1], id[CHAT_MESSAGE_ID_LEN + 1];
	char kept[CHAT_MESSAGE_ID_LEN + 1] = "";
	int remove = args_count(a, "remove") > 0, rc;
	struct cli_done *d;

	if (remove && a->argc != 2)
		return cli_usage(&cmd_react_entry, "--remove takes a chat and a message, no emoji");
	if (!remove && a->argc != 3)
		return cli_usage(&cmd_react_entry, "give a chat, a message id and an emoji (or "
						   "--remove)");
	if (!remove && a->argv[2][0] == '\0')
		return cli_usage(&cmd_react_entry, "give an emoji; --remove takes yours back");
	d = cli_done_reset(cli);
	if ((rc = cli_open(cli)) != EXIT_OK ||
	    (rc = cli_chat_arg(cli, a->argv[0], chat)) != EXIT_OK ||
	    (rc = cli_message_arg(cli, a->argv[1], id)) != EXIT_OK)
		return rc;
	rc = chat_react(cli->c, chat, id, remove ? "" : a->argv[2], kept, cli_done_cb, d);
	return sent(cli, rc, kept, "react");
}

static const struct args_option react_options[] = {
	{.name = "remove"},
	{0},
};

const struct cmd_entry cmd_react_entry = {
	.name = "react",
	.usage = "[--remove] CHAT MESSAGE [EMOJI]",
	.summary = "put EMOJI on MESSAGE (replacing yours), or take yours back with --remove",
	.args = {.options = react_options,
		 .min_args = 2,
		 .max_args = 3,
		 .too_few = "give a chat, a message id and an emoji (or --remove)"},
	.exec = cmd_react_exec};

/* edit CHAT MESSAGE TEXT: MESSAGE (one of this user's) now reads TEXT. */
static int
cmd_edit_exec(struct cli *cli, struct args *a)
{
	char chat[CHAT_CHAT_ID_LEN + 1], id[CHAT_MESSAGE_ID_LEN + 1];
	char kept[CHAT_MESSAGE_ID_LEN + 1] = "";
	const char *text = a->argv[2];
	struct cli_done *d = cli_done_reset(cli);
	int rc;

	if ((rc = cli_open(cli)) != EXIT_OK ||
	    (rc = cli_chat_arg(cli, a->argv[0], chat)) != EXIT_OK ||
	    (rc = cli_message_arg(cli, a->argv[1], id)) != EXIT_OK)
		return rc;
	rc = chat_edit(cli->c, chat, id, text, strlen(text), kept, cli_done_cb, d);
	return sent(cli, rc, kept, "edit");
}

const struct cmd_entry cmd_edit_entry = {
	.name = "edit",
	.usage = "CHAT MESSAGE TEXT",
	.summary = "change the text of MESSAGE, one of yours, to TEXT on every device; prints "
		   "the edit's id",
	.args = {.min_args = 3,
		 .max_args = 3,
		 .text_from = 3,
		 .too_few = "give a chat, a message id and the new text",
		 .too_many = "give one text; quote it if it has spaces"},
	.exec = cmd_edit_exec};

/* delete [--for-everyone] CHAT MESSAGE: from this device's store (any
 * message), or with --for-everyone from every device (one of this user's,
 * within 48 hours). */
static int
cmd_delete_exec(struct cli *cli, struct args *a)
{
	char chat[CHAT_CHAT_ID_LEN + 1], id[CHAT_MESSAGE_ID_LEN + 1];
	char kept[CHAT_MESSAGE_ID_LEN + 1] = "";
	int everyone = args_count(a, "for-everyone") > 0, rc;
	struct cli_done *d = cli_done_reset(cli);

	if ((rc = cli_open(cli)) != EXIT_OK ||
	    (rc = cli_chat_arg(cli, a->argv[0], chat)) != EXIT_OK ||
	    (rc = cli_message_arg(cli, a->argv[1], id)) != EXIT_OK)
		return rc;
	if (everyone) {
		rc = chat_delete_for_everyone(cli->c, chat, id, kept, cli_done_cb, d);
		return sent(cli, rc, kept, "delete");
	}
	if ((rc = chat_delete_for_me(cli->c, id)) != CHAT_OK)
		return cli_fail(cli, rc, "delete");
	if (cli->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "messageId", id);
		cJSON_AddBoolToObject(o, "deleted", 1);
		out_json(o);
	} else {
		printf("deleted %s on this device\n", id);
	}
	return EXIT_OK;
}

static const struct args_option delete_options[] = {
	{.name = "for-everyone"},
	{0},
};

const struct cmd_entry cmd_delete_entry = {
	.name = "delete",
	.usage = "[--for-everyone] CHAT MESSAGE",
	.summary = "delete MESSAGE from this device, or with --for-everyone (yours, within 48 "
		   "hours) from every member's devices",
	.args = {.options = delete_options,
		 .min_args = 2,
		 .max_args = 2,
		 .too_few = "give a chat and a message id",
		 .too_many = "give a chat and one message id"},
	.exec = cmd_delete_exec};

/* delete-chat CHAT: the chat's whole history, from this device only. */
static int
cmd_delete_chat_exec(struct cli *cli, struct args *a)
{
	char chat[CHAT_CHAT_ID_LEN + 1];
	int rc;

	if ((rc = cli_open(cli)) != EXIT_OK ||
	    (rc = cli_chat_arg(cli, a->argv[0], chat)) != EXIT_OK)
		return rc;
	if ((rc = chat_delete_chat_for_me(cli->c, chat)) < 0)
		return cli_fail(cli, rc, "delete-chat");
	if (cli->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "chatId", chat);
		cJSON_AddBoolToObject(o, "deleted", 1);
		out_json(o);
	} else {
		printf("deleted the history of chat %s on this device\n", chat);
	}
	return EXIT_OK;
}

const struct cmd_entry cmd_delete_chat_entry = {
	.name = "delete-chat",
	.usage = "CHAT",
	.summary = "delete a chat's whole history from this device (the chat stays, empty)",
	.args = {.min_args = 1,
		 .max_args = 1,
		 .too_few = "give a chat",
		 .too_many = "give one chat"},
	.exec = cmd_delete_chat_exec};
