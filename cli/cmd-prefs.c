/* cmd-prefs.c - mute, unmute, pin, unpin, archive, unarchive: the user's
 * settings of a chat (libchat(3), "Chat preferences"), kept in the home and
 * sent to the user's other devices; for chatctl and for rpc's methods of the
 * same names (cmd-rpc.c calls cli_prefs_apply), and the chat list's filter
 * of archived chats that chats and rpc's chats share. */
#include "chatctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int
cli_prefs_apply(struct cli *cli, const char *what, const char *chat, const char *duration,
		char *err, size_t cap)
{
	long long seconds;

	if (strcmp(what, "mute") == 0) {
		int64_t until = CHAT_MUTE_FOREVER;

		if (duration != NULL && strcmp(duration, "forever") != 0) {
			if (chat_duration_parse(duration, &seconds) != 0 || seconds <= 0) {
				snprintf(err, cap,
					 "'%s' is no duration: give forever, or a number with s, "
					 "m, h, d or w (30s, 5m, 8h, 1d, 1w), or seconds, up to a "
					 "year",
					 out_esc(duration));
				return 1;
			}
			until = proto_now_ms() + seconds * 1000;
		}
		return chat_set_muted(cli->c, chat, until);
	}
	if (strcmp(what, "unmute") == 0)
		return chat_set_muted(cli->c, chat, 0);
	if (strcmp(what, "pin") == 0 || strcmp(what, "unpin") == 0)
		return chat_set_pinned(cli->c, chat, what[0] == 'p');
	return chat_set_archived(cli->c, chat, what[0] == 'a');
}

static int
take_chat(void *arg, const struct chat_chat *ch)
{
	*(cJSON **)arg = out_chat_json(ch);
	return 1;
}

cJSON *
cli_prefs_json(struct cli *cli, const char *chat)
{
	cJSON *o = NULL;

	(void)chat_get_chat(cli->c, chat, take_chat, &o);
	return o;
}

void
cli_add_muted(struct chat_client *c, cJSON *o, const char *chat_id)
{
	int64_t until = chat_muted_until(c, chat_id);

	/* Only when muted: an event of a chat not muted stays as it was. */
	if (o != NULL && until > 0)
		cJSON_AddBoolToObject(o, "muted", 1);
}

/* The change went into the user's notes to self for their other devices
 * (libchat(3), "Chat preferences"): sent now if the server can be reached
 * within the timeout, else it waits in the outbox for the next command that
 * connects. Either way the change is made here: no failure, a note. */
static void
sync_now(struct cli *cli, const char *what)
{
	char self[CHAT_CHAT_ID_LEN + 1];
	/* --timeout, else 10 s: what connecting may take before it is left
	 * to the outbox. */
	int64_t deadline = proto_now_ms() + (cli->timeout_ms > 0 ? cli->timeout_ms : 10000);

	/* No notes to self and nothing owed: there is nothing to send. Owed:
	 * connecting makes the notes and sends the settings by them. */
	if (chat_resolve_chat(cli->c, CHAT_SELF_SPEC, self) != CHAT_OK &&
	    chat_prefs_sync_owed(cli->c) != 1)
		return;
	if (chat_client_connect(cli->c) == CHAT_OK)
		while (!cli_interrupted() && proto_now_ms() < deadline) {
			int st;

			if (chat_client_loop(cli->c, 200) != CHAT_OK)
				break;
			st = chat_client_state(cli->c);
			if (st == CHAT_STATE_ONLINE && chat_client_idle(cli->c))
				return;
			if (st == CHAT_STATE_OFFLINE)
				break;
		}
	fprintf(stderr,
		"chatctl: %s: done on this device; your other devices learn it when chatctl "
		"next connects\n",
		what);
}

static int
cmd_prefs_exec(struct cli *cli, struct args *a, const struct cmd_entry *e)
{
	char chat[CHAT_CHAT_ID_LEN + 1], err[256];
	int rc;

	if ((rc = cli_open(cli)) != EXIT_OK ||
	    (rc = cli_chat_arg(cli, a->argv[0], chat)) != EXIT_OK)
		return rc;
	rc = cli_prefs_apply(cli, e->name, chat, a->argc > 1 ? a->argv[1] : NULL, err, sizeof err);
	if (rc > 0)
		return cli_usage(e, "%s", err);
	if (rc != CHAT_OK)
		return cli_fail(cli, rc, e->name);
	sync_now(cli, e->name);
	if (cli->json) {
		out_json(cli_prefs_json(cli, chat));
	} else if (strcmp(e->name, "mute") == 0) {
		int64_t until = chat_muted_until(cli->c, chat);
		char at[32];

		if (until == CHAT_MUTE_FOREVER) {
			printf("%s muted\n", chat);
		} else {
			proto_rfc3339(until, at, sizeof at);
			printf("%s muted until %s\n", chat, at);
		}
	} else {
		/* unmuted, pinned, unpinned, archived, unarchived */
		printf("%s %s%s\n", chat, e->name, strstr(e->name, "pin") ? "ned" : "d");
	}
	return EXIT_OK;
}

#define PREFS_EXEC(NAME)                                                                           \
	static int cmd_##NAME##_exec(struct cli *cli, struct args *a)                              \
	{                                                                                          \
		return cmd_prefs_exec(cli, a, &cmd_##NAME##_entry);                                \
	}
PREFS_EXEC(mute)
PREFS_EXEC(unmute)
PREFS_EXEC(pin)
PREFS_EXEC(unpin)
PREFS_EXEC(archive)
PREFS_EXEC(unarchive)

#define ONE_CHAT                                                                                   \
	{                                                                                          \
		.min_args = 1, .max_args = 1, .too_few = "name the chat",                          \
		.too_many = "name one chat"                                                        \
	}

const struct cmd_entry cmd_mute_entry = {
	.name = "mute",
	.usage = "CHAT [DURATION|forever]",
	.summary = "mute CHAT on this device for DURATION (30s, 5m, 8h, 1d, 1w) or for ever (the "
		   "default): its messages notify no more, but those that mention you",
	.args = {.min_args = 1,
		 .max_args = 2,
		 .too_few = "name the chat (and a duration, or forever)",
		 .too_many = "give a chat and one duration"},
	.exec = cmd_mute_exec};
const struct cmd_entry cmd_unmute_entry = {.name = "unmute",
					   .usage = "CHAT",
					   .summary = "unmute CHAT on this device",
					   .args = ONE_CHAT,
					   .exec = cmd_unmute_exec};
const struct cmd_entry cmd_pin_entry = {
	.name = "pin",
	.usage = "CHAT",
	.summary = "pin CHAT to the top of the chat list on this device (the newest pin first)",
	.args = ONE_CHAT,
	.exec = cmd_pin_exec};
const struct cmd_entry cmd_unpin_entry = {.name = "unpin",
					  .usage = "CHAT",
					  .summary = "unpin CHAT on this device",
					  .args = ONE_CHAT,
					  .exec = cmd_unpin_exec};
const struct cmd_entry cmd_archive_entry = {
	.name = "archive",
	.usage = "CHAT",
	.summary = "archive CHAT on this device: chats hides it (see --archived) until a new "
		   "message from someone else comes in, unless CHAT is muted",
	.args = ONE_CHAT,
	.exec = cmd_archive_exec};
const struct cmd_entry cmd_unarchive_entry = {
	.name = "unarchive",
	.usage = "CHAT",
	.summary = "bring an archived CHAT back into the chat list",
	.args = ONE_CHAT,
	.exec = cmd_unarchive_exec};

int
cli_chat_shown(const struct chat_chat *ch, int which)
{
	return which == CLI_CHATS_ALL || (ch->archived != 0) == (which == CLI_CHATS_ARCHIVED);
}

struct chats_json {
	cJSON *arr;
	int which;
};

static int
add_chat(void *arg, const struct chat_chat *ch)
{
	struct chats_json *j = arg;

	if (cli_chat_shown(ch, j->which))
		cJSON_AddItemToArray(j->arr, out_chat_json(ch));
	return 0;
}

cJSON *
cli_chats_json(struct cli *cli, const cJSON *params)
{
	struct chats_json j = {cJSON_CreateArray(), CLI_CHATS_USUAL};
	int64_t v = 0;

	if (proto_get_int(params, "all", 0, 1, &v) == 0 && v)
		j.which = CLI_CHATS_ALL;
	else if (proto_get_int(params, "archived", 0, 1, &v) == 0 && v)
		j.which = CLI_CHATS_ARCHIVED;
	if (j.arr != NULL)
		(void)chat_list_chats(cli->c, add_chat, &j);
	return j.arr;
}
