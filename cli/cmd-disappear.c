/* cmd-disappear.c - disappear: a chat's disappearing-messages timer
 * (PROTOCOL.md, "Disappearing messages"); chats, members and history show
 * it. */
#include "chatctl.h"

#include <stdlib.h>
#include <string.h>

/* disappear CHAT DURATION|off: messages sent from now on vanish that long
 * after they were sent, from every device. */
static int
cmd_disappear_exec(struct cli *cli, struct args *a)
{
	char chat[CHAT_CHAT_ID_LEN + 1], kept[CHAT_MESSAGE_ID_LEN + 1] = "";
	long long seconds;
	struct cli_done *d;
	int rc;

	if (chat_duration_parse(a->argv[1], &seconds) != 0)
		return cli_usage(&cmd_disappear_entry,
				 "'%s' is no duration: give off, or a number with s, m, h, d or "
				 "w (30s, 5m, 1h, 1d, 1w), or seconds",
				 out_esc(a->argv[1]));
	if (seconds != 0 && (seconds < CHAT_DISAPPEAR_MIN_S || seconds > CHAT_DISAPPEAR_MAX_S))
		return cli_usage(&cmd_disappear_entry,
				 "a disappearing timer is off, or 30 seconds to 90 days (%s is "
				 "%lld seconds)",
				 out_esc(a->argv[1]), seconds);
	d = cli_done_reset(cli);
	if ((rc = cli_open(cli)) != EXIT_OK ||
	    (rc = cli_chat_arg(cli, a->argv[0], chat)) != EXIT_OK)
		return rc;
	rc = chat_set_disappearing(cli->c, chat, seconds, kept, cli_done_cb, d);
	if ((rc = cli_await(cli, rc, "disappear")) != EXIT_OK)
		return cli_kept(cli, kept[0] ? kept : d->id, rc);
	if (cli->json)
		chat_message_get(cli->c, d->id, out_sent, NULL);
	else
		printf("%s\n", d->id);
	return EXIT_OK;
}

const struct cmd_entry cmd_disappear_entry = {
	.name = "disappear",
	.usage = "CHAT DURATION|off",
	.summary = "make the messages sent in CHAT from now on vanish DURATION (30s to 90d: "
		   "30s, 5m, 1h, 1d, 1w) after they are sent, on every device; off stops it; "
		   "prints the change's id",
	.args = {.min_args = 2,
		 .max_args = 2,
		 .too_few = "give a chat and a duration (or off)",
		 .too_many = "give a chat and one duration"},
	.exec = cmd_disappear_exec};
