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
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "user", a.user);
		if (a.online < 0)
			cJSON_AddNullToObject(o, "online");
		else
			cJSON_AddBoolToObject(o, "online", a.online);
		if (a.at < 0)
			cJSON_AddNullToObject(o, "lastSeen");
		else
			cJSON_AddStringToObject(o, "lastSeen", at);
		out_json(o);
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

#define PRIVACY_NEEDS "give --hide-last-seen on or off"

static int
cmd_privacy_exec(struct cli *cli, struct args *args)
{
	const char *v = args_get(args, "hide-last-seen");
	int hide, rc;

	if (v == NULL || (strcmp(v, "on") != 0 && strcmp(v, "off") != 0))
		return cli_usage(&cmd_privacy_entry, PRIVACY_NEEDS);
	hide = strcmp(v, "on") == 0;
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	rc = chat_set_privacy(cli->c, hide, cli_done_cb, cli_done_reset(cli));
	if ((rc = cli_await(cli, rc, "privacy")) != EXIT_OK)
		return rc;
	if (cli->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddBoolToObject(o, "hideLastSeen", hide);
		out_json(o);
	} else {
		printf("last seen %s\n", hide ? "hidden (and others' hidden from you)" : "shown");
	}
	return EXIT_OK;
}

static const struct args_option privacy_options[] = {
	{.name = "hide-last-seen", .flags = ARGS_VALUE, .meta = "on|off", .needs = "on or off"},
	{0},
};

const struct cmd_entry cmd_privacy_entry = {
	.name = "privacy",
	.usage = "--hide-last-seen on|off",
	.summary = "hide or show your last seen (hiding it hides others' from you)",
	.args = {.options = privacy_options, .max_args = 0, .too_many = PRIVACY_NEEDS},
	.exec = cmd_privacy_exec};
