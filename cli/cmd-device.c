/* cmd-device.c - device list|link|approve|remove, and verify: a user's devices
 * and the safety number that covers them. */
#include "chatctl.h"

#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* The subcommands' entries (below), for their usage lines in errors. */
static const struct cmd_entry cmd_device_approve_entry, cmd_device_remove_entry;

/* A new device waits at most this long for approval, as the server does. */
#define LINK_WAIT_MS (10 * 60 * 1000 + 5000)

static int
print_device(void *arg, const struct chat_device *d)
{
	(void)arg;
	printf("%-4u %-20s%s%s\n", d->device_id, d->name[0] ? out_esc(d->name) : "-",
	       d->this_device ? " (this device)" : "",
	       d->key_changed ? " (KEY CHANGED, not accepted)" : "");
	return 0;
}

static int
device_list(struct cli *cli, struct args *args)
{
	const char *me[1];
	int rc;

	(void)args;
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	me[0] = chat_client_user(cli->c);
	if (me[0] == NULL)
		return cli_fail(cli, CHAT_ERR_NOT_REGISTERED, "device list");
	rc = chat_refresh_keys(cli->c, me, 1, cli_done_cb, cli_done_reset(cli));
	if ((rc = cli_await(cli, rc, "device list")) != EXIT_OK)
		return rc;
	if (cli->json) {
		cJSON *doc = out_devices_json(cli->c, me[0], &rc);

		if (doc == NULL)
			return cli_fail(cli, rc, "device list");
		out_json(doc);
		return EXIT_OK;
	}
	if ((rc = chat_devices(cli->c, me[0], print_device, NULL)) < 0)
		return cli_fail(cli, rc, "device list");
	return EXIT_OK;
}

static void
show_code(struct chat_client *c, void *arg, const char *code)
{
	struct cli *cli = arg;

	if (cli->json) {
		out_json(out_link_code_json(c, code));
	} else {
		printf("%s\n", code);
		fflush(stdout);
	}
	fprintf(stderr,
		"chatctl: on one of your devices, run: chatctl device approve %s\n"
		"chatctl: waiting for approval (up to 10 minutes)...\n",
		code);
}

static void
linked(struct chat_client *c, void *arg, int err, const char *id)
{
	cli_done_cb(c, &((struct cli *)arg)->done, err, id);
}

static int
device_link(struct cli *cli, struct args *args)
{
	const char *user = args->argv[0], *name = args_get(args, "name");
	int64_t until;
	int rc;

	if (args_get(args, "server") != NULL)
		cli->server = args_get(args, "server");
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	cli_done_reset(cli);
	rc = chat_link_device(cli->c, user, name, show_code, linked, cli);
	if (rc != CHAT_OK)
		return cli_fail(cli, rc, "device link");
	/* A person has to act on another device: wait as long as the request lives. */
	until = proto_mono_ms() + LINK_WAIT_MS;
	while (!cli->done.flag && proto_mono_ms() < until && !cli_interrupted())
		if (chat_client_loop(cli->c, 250) != CHAT_OK && !cli->done.flag)
			return cli_fail(cli, CHAT_ERR_CONNECTION_LOST, "device link");
	if (!cli->done.flag) {
		fprintf(stderr, "chatctl: device link: %s\n",
			cli_interrupted() ? "interrupted" : "not approved within 10 minutes");
		return EXIT_FAIL;
	}
	if (cli->done.err != CHAT_OK)
		return cli_fail(cli, cli->done.err, "device link");
	if (cli->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "user", chat_client_user(cli->c));
		cJSON_AddNumberToObject(o, "deviceId", chat_client_device_id(cli->c));
		cJSON_AddStringToObject(o, "server", chat_client_server_url(cli->c));
		out_json(o);
	} else {
		fprintf(stderr, "chatctl: approved: this is %s's device %u\n",
			chat_client_user(cli->c), chat_client_device_id(cli->c));
	}
	return EXIT_OK;
}

/* The history sync that follows an approval, as the sending side sees it. */
struct approve_state {
	struct chat_history_sync last;
	int seen;
};

static void
approve_history(struct chat_client *c, void *udata, const struct chat_history_sync *h)
{
	struct cli *cli = udata;
	struct approve_state *st = cli->cmd_state;

	(void)c;
	if (st == NULL || !h->sending)
		return;
	st->last = *h;
	st->seen = 1;
	if (!cli->json)
		fprintf(stderr, "chatctl: sending history: %lld/%lld messages\n",
			(long long)h->done, (long long)h->total);
}

static const struct chat_callbacks approve_callbacks =
	CHAT_CALLBACKS_INIT(.on_device_change = cli_notice_device_change,
			    .on_send_failed = cli_notice_send_failed,
			    .on_history_sync = approve_history);

/* The batches go through the outbox: waited for here so that the user sees
 * them through, but a cut connection or a Ctrl-C loses nothing (the next
 * connection of this home sends the rest). */
static int
await_history(struct cli *cli, struct approve_state *st)
{
	int64_t until = proto_mono_ms() + LINK_WAIT_MS;

	while (!(st->seen && st->last.finished) && proto_mono_ms() < until) {
		if (st->last.failed) {
			fprintf(stderr,
				"chatctl: device approve: approved, but the history could not all "
				"be sent: %s\n",
				out_esc(chat_client_errmsg(cli->c)));
			return EXIT_FAIL;
		}
		if (cli_interrupted() ||
		    chat_client_loop(cli->c, 200) != CHAT_OK ||
		    chat_client_state(cli->c) == CHAT_STATE_OFFLINE) {
			fprintf(stderr,
				"chatctl: device approve: the history was not all sent yet; the rest "
				"goes the next time this device is connected\n");
			return EXIT_FAIL;
		}
	}
	if (st->seen && !st->last.finished)
		fprintf(stderr, "chatctl: device approve: the history is still being sent; the "
				"rest goes the next time this device is connected\n");
	return EXIT_OK;
}

static int
device_approve(struct cli *cli, struct args *args)
{
	struct approve_state st = {0};
	char code[64] = "";
	size_t len = 0;
	long days = args_number(args, "history-days", CHAT_HISTORY_DAYS_DEFAULT);
	int rc;

	/* The code as a person types it, in one word or in its four groups. */
	for (int i = 0; i < args->argc; i++) {
		int n = snprintf(code + len, sizeof code - len, "%s%s", i > 0 ? " " : "",
				 args->argv[i]);

		if (n < 0 || (size_t)n >= sizeof code - len)
			return cli_usage(&cmd_device_approve_entry,
					 "that is not a link code (16 letters and digits, like "
					 "K7QM-2XWD-R4TP-9BNA)");
		len += (size_t)n;
	}
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if ((rc = cli_set_callbacks(cli, &approve_callbacks)) != EXIT_OK)
		return rc;
	if ((rc = chat_set_history_days(cli->c, (int)days)) != CHAT_OK)
		return cli_fail(cli, rc, "device approve");
	cli->cmd_state = &st; /* set back to NULL before st goes */
	rc = chat_approve_device(cli->c, code, cli_done_cb, cli_done_reset(cli));
	if ((rc = cli_await(cli, rc, "device approve")) != EXIT_OK) {
		cli->cmd_state = NULL;
		return rc;
	}
	if (!cli->json)
		printf("approved: %s's device %s\n", chat_client_user(cli->c), cli->done.id);
	fflush(stdout);
	rc = days > 0 ? await_history(cli, &st) : EXIT_OK;
	cli->cmd_state = NULL;
	if (cli->json) {
		cJSON *o = out_approved_json(chat_client_user(cli->c), atol(cli->done.id));

		if (st.seen)
			cJSON_AddItemToObject(o, "history", out_history_json(&st.last));
		out_json(o);
	}
	return rc;
}

/* How many devices the user has, and whether one of them is the one named. */
struct device_count {
	uint32_t id;
	int n, found;
};

static int
count_device(void *arg, const struct chat_device *d)
{
	struct device_count *dc = arg;

	dc->n++;
	dc->found |= d->device_id == dc->id;
	return 0;
}

#define DEVICE_REMOVE_NEEDS "device remove needs a device id (see device list)"

static int
device_remove(struct cli *cli, struct args *args)
{
	const char *me[1];
	struct device_count dc = {0};
	int rc, force = args_count(args, "force") > 0;
	long id = 0;

	if (cli_parse_int(args->argv[0], 1, PROTO_DEVICE_ID_MAX, &id) != 0)
		return cli_usage(&cmd_device_remove_entry, DEVICE_REMOVE_NEEDS);
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	/* The last device cannot be replaced: nothing would be left to approve a
	 * new one. Ask the directory how many there are, unless told. */
	if (!force && (me[0] = chat_client_user(cli->c)) != NULL) {
		rc = chat_refresh_keys(cli->c, me, 1, cli_done_cb, cli_done_reset(cli));
		if ((rc = cli_await(cli, rc, "device remove")) != EXIT_OK)
			return rc;
		dc.id = (uint32_t)id;
		chat_devices(cli->c, me[0], count_device, &dc);
		if (dc.found && dc.n <= 1) {
			fprintf(stderr,
				"chatctl: device %ld is %s's last device: removing it locks %s out "
				"for good (no device would be left to approve a new one); give "
				"--force if that is what you want\n",
				id, me[0], me[0]);
			return EXIT_USAGE;
		}
	}
	rc = chat_remove_device(cli->c, (uint32_t)id, cli_done_cb, cli_done_reset(cli));
	if ((rc = cli_await(cli, rc, "device remove")) != EXIT_OK)
		return rc;
	if (cli->json) {
		out_json(out_removed_json(id));
	} else {
		printf("removed device %ld\n", id);
	}
	return EXIT_OK;
}

/* The subcommands, in the order the usage lists them: each declares its own
 * options, as a command does. */
static const struct cmd_entry cmd_device_list_entry = {
	.name = "list",
	.usage = "",
	.summary = "list this user's devices",
	.parent = &cmd_device_entry,
	.args = {.max_args = 0, .too_many = "device list takes no arguments"},
	.exec = device_list};

static const struct args_option link_options[] = {
	{.name = "server", .flags = ARGS_VALUE, .meta = "URL", .needs = "a URL"},
	{.name = "name", .flags = ARGS_VALUE, .meta = "NAME", .needs = "a device name"},
	{0},
};

static const struct cmd_entry cmd_device_link_entry = {
	.name = "link",
	.usage = "[--server URL] [--name NAME] USER",
	.summary = "make this home a new device of USER, once approved on another",
	.parent = &cmd_device_entry,
	.args = {.options = link_options,
		 .min_args = 1,
		 .max_args = 1,
		 .too_few = "device link needs the user to join"},
	.exec = device_link};

static const struct args_option approve_options[] = {
	{.name = "history-days",
	 .flags = ARGS_NUMBER,
	 .meta = "DAYS",
	 .needs = "a number of days (0 sends no history)",
	 .min = 0,
	 .max = CHAT_HISTORY_DAYS_MAX},
	{0},
};

static const struct cmd_entry cmd_device_approve_entry = {
	.name = "approve",
	.usage = "[--history-days DAYS] CODE...",
	.summary = "approve the new device that shows CODE, and send it the recent history",
	.parent = &cmd_device_entry,
	.args = {.options = approve_options,
		 .min_args = 1,
		 .max_args = -1,
		 .too_few = "device approve needs the code the new device shows"},
	.exec = device_approve};

static const struct args_option remove_options[] = {
	{.name = "force"},
	{0},
};

static const struct cmd_entry cmd_device_remove_entry = {
	.name = "remove",
	.usage = "DEVICE [--force]",
	.summary = "remove one of this user's devices",
	.parent = &cmd_device_entry,
	.args = {.options = remove_options,
		 .min_args = 1,
		 .max_args = 1,
		 .too_few = DEVICE_REMOVE_NEEDS,
		 .too_many = DEVICE_REMOVE_NEEDS},
	.exec = device_remove};

static const struct cmd_entry *const device_table[] = {
	&cmd_device_list_entry,
	&cmd_device_link_entry,
	&cmd_device_approve_entry,
	&cmd_device_remove_entry,
	NULL,
};

/* device SUBCOMMAND ...: the rest is the subcommand's to parse. */
static int
cmd_device_exec(struct cli *cli, struct args *args)
{
	const struct cmd_entry *e = cli_find_cmd(device_table, args->argv[0]);

	if (e == NULL)
		return cli_unknown_command(cmd_device_entry.subcommands, &cmd_device_entry,
					   args->argv[0]);
	return cli_run(cli, e, args->argc - 1, args->argv + 1);
}

const struct cmd_entry cmd_device_entry = {
	.name = "device",
	.summary = "this user's devices: list, link a new one, approve it, remove one",
	.args = {.min_args = 1,
		 .max_args = -1,
		 .flags = ARGS_IN_ORDER,
		 .too_few = "give list, link, approve or remove"},
	.subcommands = device_table,
	.exec = cmd_device_exec};

static int
cmd_verify_exec(struct cli *cli, struct args *args)
{
	char number[CHAT_SAFETY_NUMBER_LEN + 1];
	const char *users[2];
	int rc;

	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	users[0] = chat_client_user(cli->c);
	users[1] = args->argv[0];
	if (users[0] == NULL)
		return cli_fail(cli, CHAT_ERR_NOT_REGISTERED, "verify");
	/* Against the directory as it is now: a changed key shows up here. */
	rc = chat_refresh_keys(cli->c, users, 2, cli_done_cb, cli_done_reset(cli));
	if ((rc = cli_await(cli, rc, "verify")) != EXIT_OK)
		return rc;
	if ((rc = chat_safety_number(cli->c, args->argv[0], number)) != CHAT_OK)
		return cli_fail(cli, rc, "verify");
	if (cli->json) {
		out_json(out_safety_json(args->argv[0], number));
	} else {
		printf("%s\n", number);
		fprintf(stderr,
			"chatctl: the safety number of %s and %s, covering all their devices.\n"
			"chatctl: compare it with what 'chatctl verify %s' shows on %s's side.\n",
			users[0], args->argv[0], users[0], args->argv[0]);
	}
	return EXIT_OK;
}

const struct cmd_entry cmd_verify_entry = {
	.name = "verify",
	.usage = "USER",
	.summary = "the safety number of you and USER, to compare out of band",
	.args = {.min_args = 1,
		 .max_args = 1,
		 .too_few = "give one user",
		 .too_many = "give one user"},
	.exec = cmd_verify_exec};
