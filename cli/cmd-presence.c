/* cmd-presence.c - lastseen and privacy: when a user was last connected. */
#include "chatctl.h"

#include <string.h>

#include "proto.h"

struct seen_answer {
	int online;
	int64_t at;
	char user[CHAT_USER_MAX + 1];
};

static void
got_seen(struct chat_client *c, void *arg, int err, const char *user, int online, int64_t at)
{
	struct cli *cli = arg;
	struct seen_answer *a = cli->cmd_state;

	if (a != NULL && err == CHAT_OK) {
		a->online = online;
		a->at = at;
		snprintf(a->user, sizeof a->user, "%s", user);
	}
	cli_done_cb(c, &cli->done, err, NULL);
}

static int
cmd_lastseen_exec(struct cli *cli, struct args *args)
{
	struct seen_answer a = {-1, -1, ""};
	char at[32];
	int rc;

	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	cli_done_reset(cli);
	cli->cmd_state = &a;
	rc = chat_last_seen(cli->c, args->argv[0], got_seen, cli);
	rc = cli_await(cli, rc, "lastseen");
	cli->cmd_state = NULL;
	if (rc != EXIT_OK)
		return rc;
	proto_rfc3339(a.at, at, sizeof at);
	if (cli->json) {
		out_json(out_lastseen_json(a.user, a.online, a.at));
	} else if (a.online < 0) {
		printf("%s: hidden\n", a.user);
	} else if (a.online) {
		printf("%s: online\n", a.user);
	} else if (a.at >= 0) {
		printf("%s: last seen %s\n", a.user, at);
	} else {
		printf("%s: never seen\n", a.user);
	}
	return EXIT_OK;
}

const struct cmd_entry cmd_lastseen_entry = {
	.name = "lastseen",
	.usage = "USER",
	.summary = "when USER was last connected (or that they hide it)",
	.args = {.min_args = 1,
		 .max_args = 1,
		 .too_few = "give one user",
		 .too_many = "give one user"},
	.exec = cmd_lastseen_exec};

#define PRIVACY_NEEDS "give --hide-last-seen on or off, --hide-typing on or off, or both"

/* "on" 1, "off" 0, NULL (not given) -1, anything else -2. */
static int
on_off(const char *v)
{
	if (v == NULL)
		return -1;
	return strcmp(v, "on") == 0 ? 1 : strcmp(v, "off") == 0 ? 0 : -2;
}

static int
cmd_privacy_exec(struct cli *cli, struct args *args)
{
	int hide = on_off(args_get(args, "hide-last-seen"));
	int typing = on_off(args_get(args, "hide-typing"));
	int rc;

	if (hide == -2 || typing == -2 || (hide == -1 && typing == -1))
		return cli_usage(&cmd_privacy_entry, PRIVACY_NEEDS);
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	/* Typing is this home's own setting: nothing to ask the server. */
	if (typing >= 0 && (rc = chat_set_typing_privacy(cli->c, typing)) != CHAT_OK)
		return cli_fail(cli, rc, "privacy");
	if (hide >= 0) {
		rc = chat_set_privacy(cli->c, hide, cli_done_cb, cli_done_reset(cli));
		if ((rc = cli_await(cli, rc, "privacy")) != EXIT_OK)
			return rc;
	}
	if (cli->json) {
		out_json(out_privacy_json(hide, typing));
	} else {
		if (hide >= 0)
			printf("last seen %s\n",
			       hide ? "hidden (and others' hidden from you)" : "shown");
		if (typing >= 0)
			printf("typing %s\n",
			       typing ? "hidden both ways (not sent, not shown)" : "shown");
	}
	return EXIT_OK;
}

static const struct args_option privacy_options[] = {
	{.name = "hide-last-seen", .flags = ARGS_VALUE, .meta = "on|off", .needs = "on or off"},
	{.name = "hide-typing", .flags = ARGS_VALUE, .meta = "on|off", .needs = "on or off"},
	{0},
};

/* typing CHAT [--stop]: tells CHAT's devices connected now that this user is
 * typing (or stopped), and waits for the server to have relayed it. */
static int
cmd_typing_exec(struct cli *cli, struct args *args)
{
	char chat[CHAT_CHAT_ID_LEN + 1];
	int stop = args_count(args, "stop") > 0, rc;

	if ((rc = cli_open(cli)) != EXIT_OK ||
	    (rc = cli_chat_arg(cli, args->argv[0], chat)) != EXIT_OK ||
	    (rc = cli_settle(cli, "typing")) != EXIT_OK)
		return rc;
	if ((rc = chat_typing(cli->c, chat, !stop)) != CHAT_OK)
		return cli_fail(cli, rc, "typing");
	if ((rc = cli_settle(cli, "typing")) != EXIT_OK)
		return rc;
	if (cli->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "chatId", chat);
		cJSON_AddBoolToObject(o, "typing", !stop);
		out_json(o);
	}
	return EXIT_OK;
}

static const struct args_option typing_options[] = {
	{.name = "stop", .flags = 0},
	{0},
};

const struct cmd_entry cmd_typing_entry = {
	.name = "typing",
	.usage = "CHAT [--stop]",
	.summary = "tell CHAT's members online that you are typing (--stop: no longer)",
	.args = {.options = typing_options, .min_args = 1, .max_args = 1, .too_few = "give a chat",
		 .too_many = "give one chat"},
	.exec = cmd_typing_exec};

const struct cmd_entry cmd_privacy_entry = {
	.name = "privacy",
	.usage = "[--hide-last-seen on|off] [--hide-typing on|off]",
	.summary = "hide or show your last seen and typing (hiding either hides others' from you)",
	.args = {.options = privacy_options, .max_args = 0, .too_many = PRIVACY_NEEDS},
	.exec = cmd_privacy_exec};
