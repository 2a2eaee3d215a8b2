/* cmd-account.c - register, whoami, trust: this device and the keys it trusts. */
#include "chatctl.h"

#include <string.h>

/* This device, as register and whoami print it with --json. */
static void
print_identity_json(struct cli *cli)
{
	out_json(out_identity_json(cli->c));
}

static int
cmd_register_exec(struct cli *cli, struct args *args)
{
	const char *user = args->argv[0], *name = args_get(args, "name");
	struct cli_done *d = cli_done_reset(cli);
	int rc;

	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if (chat_client_server_url(cli->c) == NULL)
		return cli_usage(&cmd_register_entry, "no server: give --server ws://HOST:PORT/ "
						      "(or set CHATCTL_SERVER)");
	rc = chat_register(cli->c, user, name, cli_done_cb, d);
	if ((rc = cli_await(cli, rc, "register")) != EXIT_OK)
		return rc;
	if (cli->json) {
		print_identity_json(cli);
	} else {
		printf("registered %s, device %u, on %s\n", chat_client_user(cli->c),
		       chat_client_device_id(cli->c), chat_client_server_url(cli->c));
	}
	return EXIT_OK;
}

static const struct args_option register_options[] = {
	{.name = "name", .flags = ARGS_VALUE, .meta = "DEVICE", .needs = "a device name"},
	{0},
};

const struct cmd_entry cmd_register_entry = {
	.name = "register",
	.usage = "USER [--name DEVICE]",
	.summary = "create this device's keys and register USER on the server",
	.args = {.options = register_options,
		 .min_args = 1,
		 .max_args = 1,
		 .too_few = "no user name given",
		 .too_many = "one user name only"},
	.exec = cmd_register_exec};

static int
cmd_whoami_exec(struct cli *cli, struct args *args)
{
	int rc;

	(void)args;
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if (chat_client_user(cli->c) == NULL) {
		cli_error("%s is not registered; run: chatctl register USER",
			  chat_client_home(cli->c));
		return EXIT_FAIL;
	}
	if (cli->json) {
		print_identity_json(cli);
	} else {
		printf("user    %s\ndevice  %u\nserver  %s\nhome    %s\n", chat_client_user(cli->c),
		       chat_client_device_id(cli->c), chat_client_server_url(cli->c),
		       chat_client_home(cli->c));
	}
	return EXIT_OK;
}

const struct cmd_entry cmd_whoami_entry = {
	.name = "whoami",
	.usage = "",
	.summary = "show this device's user, device id, server and home",
	.args = {.max_args = 0, .too_many = "no arguments expected"},
	.exec = cmd_whoami_exec};

static int
cmd_trust_exec(struct cli *cli, struct args *args)
{
	const char *user = args->argv[0];
	int rc, n;

	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	n = chat_trust(cli->c, user);
	if (n < 0)
		return cli_fail(cli, n, "trust");
	if (cli->json) {
		out_json(out_trust_json(user, n));
	} else if (n == 0) {
		printf("no changed key of %s to accept\n", user);
	} else {
		printf("accepted the new key of %d device%s of %s\n", n, n == 1 ? "" : "s", user);
	}
	return EXIT_OK;
}

const struct cmd_entry cmd_trust_entry = {.name = "trust",
					  .usage = "USER",
					  .summary = "accept the changed keys of USER's devices",
					  .args = {.min_args = 1,
						   .max_args = 1,
						   .too_few = "give one user name",
						   .too_many = "give one user name"},
					  .exec = cmd_trust_exec};
