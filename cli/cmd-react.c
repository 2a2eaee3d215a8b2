/* cmd-react.c - reply, react: answering a message of a chat (PROTOCOL.md,
 * "Replies and reactions"); history shows what they make. */
#include "chatctl.h"

#include <stdlib.h>
#include <string.h>

#include "proto.h"

static int
print_sent(void *arg, const struct chat_message *m)
{
	cJSON *o = cJSON_CreateObject();
	char at[32];

	(void)arg;
	proto_rfc3339(m->sent_at, at, sizeof at);
	cJSON_AddStringToObject(o, "chatId", m->chat_id);
	cJSON_AddStringToObject(o, "messageId", m->message_id);
	cJSON_AddNumberToObject(o, "seq", (double)m->seq);
	cJSON_AddStringToObject(o, "sentAt", at);
	out_json(o);
	return 0;
}

/* The end of a send of either: the id, or what became of the message. */
static int
sent(struct cli *cli, int rc, const char *kept, const char *what)
{
	struct cli_done *d = &cli->done;

	if ((rc = cli_await(cli, rc, what)) != EXIT_OK)
		return cli_kept(cli, kept[0] ? kept : d->id, rc);
	if (cli->json)
		chat_message_get(cli->c, d->id, print_sent, NULL);
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
