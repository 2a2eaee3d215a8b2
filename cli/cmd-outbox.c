/*
 * cmd-outbox.c - outbox, retry, discard: the messages of this home that no
 * server has confirmed (pending: they go out with the next connection;
 * failed: not sent again unless retried), what send leaves behind when the
 * server cannot be reached or refuses.
 */
#include "chatctl.h"

#include <stdlib.h>
#include <string.h>

/* A message as history prints it: a line, or with --json an object a line. */
static int
print_message(void *arg, const struct chat_message *m)
{
	struct cli *cli = arg;

	if (cli->json)
		out_json(out_message_json(m));
	else
		out_message_text(stdout, m);
	return 0;
}

static int
add_message(void *arg, const struct chat_message *m)
{
	cJSON_AddItemToArray(arg, out_message_json(m));
	return 0;
}

static int
cmd_outbox_exec(struct cli *cli, struct args *args)
{
	cJSON *arr = NULL;
	int rc;

	(void)args;
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if (cli->json && (arr = cJSON_CreateArray()) == NULL)
		return cli_fail(cli, CHAT_ERR_NOMEM, "outbox");
	rc = arr ? chat_outbox(cli->c, add_message, arr) : chat_outbox(cli->c, print_message, cli);
	if (rc < 0) {
		cJSON_Delete(arr);
		return cli_fail(cli, rc, "outbox");
	}
	if (arr != NULL)
		out_json(arr);
	return EXIT_OK;
}

const struct cmd_entry cmd_outbox_entry = {
	.name = "outbox",
	.usage = "",
	.summary = "list this home's messages not sent yet: pending, and failed (no server needed)",
	.args = {.max_args = 0, .too_many = "no arguments expected"},
	.exec = cmd_outbox_exec};

/* retry with no MESSAGE: what was pending before the connection, to print. */
struct unsent {
	char (*ids)[CHAT_MESSAGE_ID_LEN + 1];
	size_t n, cap;
	size_t failed;
};

static int
collect_pending(void *arg, const struct chat_message *m)
{
	struct unsent *u = arg;

	if (strcmp(m->state, "failed") == 0) {
		u->failed++;
		return 0;
	}
	if (u->n == u->cap) {
		size_t cap = u->cap ? 2 * u->cap : 16;
		void *p = realloc(u->ids, cap * sizeof *u->ids);

		if (p == NULL)
			return 1;
		u->ids = p;
		u->cap = cap;
	}
	snprintf(u->ids[u->n++], sizeof *u->ids, "%s", m->message_id);
	return 0;
}

/* What the outbox sends fails for good: the warning, and the exit code. */
static void
on_send_failed(struct chat_client *c, void *udata, const char *chat_id, const char *message_id,
	       int err, const char *detail)
{
	struct cli *cli = udata;
	int *worst = cli->cmd_state;

	cli_notice_send_failed(c, udata, chat_id, message_id, err, detail);
	if (worst != NULL && *worst == EXIT_OK)
		*worst = cli_exit_code(err);
}

static const struct chat_callbacks retry_callbacks =
	CHAT_CALLBACKS_INIT(.on_device_change = cli_notice_device_change,
			    .on_send_failed = on_send_failed);

/* Every pending message, now: connect (which sends the outbox) and wait
 * until the server answered them all; print those it took. */
static int
retry_pending(struct cli *cli)
{
	struct unsent u = {0};
	int rc, worst = EXIT_OK;

	if ((rc = chat_outbox(cli->c, collect_pending, &u)) != CHAT_OK) {
		free(u.ids);
		return cli_fail(cli, rc < 0 ? rc : CHAT_ERR_NOMEM, "retry");
	}
	if (u.failed > 0)
		fprintf(stderr,
			"chatctl: %zu failed message%s %s not sent again: give %s id%s to retry "
			"(chatctl outbox lists them)\n",
			u.failed, u.failed == 1 ? "" : "s", u.failed == 1 ? "is" : "are",
			u.failed == 1 ? "its" : "their", u.failed == 1 ? "" : "s");
	if (u.n == 0) {
		free(u.ids);
		return EXIT_OK; /* nothing to send: no need for the server */
	}
	if ((rc = cli_set_callbacks(cli, &retry_callbacks)) != EXIT_OK) {
		free(u.ids);
		return rc;
	}
	cli->cmd_state = &worst;
	rc = cli_settle(cli, "retry");
	cli->cmd_state = NULL;
	for (size_t i = 0; rc == EXIT_OK && i < u.n; i++)
		chat_message_get(cli->c, u.ids[i], print_message, cli);
	free(u.ids);
	return rc != EXIT_OK ? rc : worst;
}

static int
cmd_retry_exec(struct cli *cli, struct args *args)
{
	char id[CHAT_MESSAGE_ID_LEN + 1];
	int rc;

	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if (args->argc == 0)
		return retry_pending(cli);
	for (int i = 0; i < args->argc; i++) {
		struct cli_done *d = cli_done_reset(cli);

		if ((rc = cli_message_arg(cli, args->argv[i], id)) != EXIT_OK)
			return rc;
		if ((rc = chat_retry(cli->c, id, cli_done_cb, d)) != CHAT_OK)
			return cli_fail(cli, rc, "retry");
		if ((rc = cli_await(cli, CHAT_OK, "retry")) != EXIT_OK)
			return cli_kept(cli, id, rc);
		chat_message_get(cli->c, id, print_message, cli);
	}
	return EXIT_OK;
}

const struct cmd_entry cmd_retry_entry = {
	.name = "retry",
	.usage = "[MESSAGE]...",
	.summary = "send the pending messages now, or send MESSAGE (pending or failed) again",
	.args = {.max_args = -1},
	.exec = cmd_retry_exec};

static int
cmd_discard_exec(struct cli *cli, struct args *args)
{
	char id[CHAT_MESSAGE_ID_LEN + 1];
	int rc;

	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	for (int i = 0; i < args->argc; i++) {
		if ((rc = cli_message_arg(cli, args->argv[i], id)) != EXIT_OK)
			return rc;
		if ((rc = chat_discard(cli->c, id)) != CHAT_OK)
			return cli_fail(cli, rc, "discard");
		if (cli->json) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "messageId", id);
			cJSON_AddBoolToObject(o, "discarded", 1);
			out_json(o);
		} else {
			printf("discarded %s\n", id);
		}
	}
	return EXIT_OK;
}

const struct cmd_entry cmd_discard_entry = {
	.name = "discard",
	.usage = "MESSAGE...",
	.summary = "delete pending or failed messages of the outbox, so they are never sent",
	.args = {.min_args = 1, .max_args = -1, .too_few = "give the message(s) to discard"},
	.exec = cmd_discard_exec};
