/*
 * chatctl.c - the global options, the command table and how a command is run
 * (its options parsed from its entry), and the helpers every command shares
 * (opening the home, waiting on the network, exit codes). main() is in main.c.
 */
#include "chatctl.h"

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The commands, one a line, in the order help lists them. */
/* clang-format off */
const struct cmd_entry *const cmd_table[] = {
	&cmd_register_entry,
	&cmd_create_entry,
	&cmd_send_entry,
	&cmd_reply_entry,
	&cmd_react_entry,
	&cmd_edit_entry,
	&cmd_delete_entry,
	&cmd_delete_chat_entry,
	&cmd_disappear_entry,
	&cmd_recv_entry,
	&cmd_listen_entry,
	&cmd_rpc_entry,
	&cmd_daemon_entry,
	&cmd_chats_entry,
	&cmd_mute_entry,
	&cmd_unmute_entry,
	&cmd_pin_entry,
	&cmd_unpin_entry,
	&cmd_archive_entry,
	&cmd_unarchive_entry,
	&cmd_history_entry,
	&cmd_search_entry,
	&cmd_read_entry,
	&cmd_download_entry,
	&cmd_outbox_entry,
	&cmd_retry_entry,
	&cmd_discard_entry,
	&cmd_members_entry,
	&cmd_add_entry,
	&cmd_remove_entry,
	&cmd_leave_entry,
	&cmd_promote_entry,
	&cmd_demote_entry,
	&cmd_rename_entry,
	&cmd_describe_entry,
	&cmd_device_entry,
	&cmd_verify_entry,
	&cmd_lastseen_entry,
	&cmd_privacy_entry,
	&cmd_typing_entry,
	&cmd_block_entry,
	&cmd_unblock_entry,
	&cmd_blocked_entry,
	&cmd_trust_entry,
	&cmd_whoami_entry,
	&cmd_help_entry,
	NULL
};
/* clang-format on */

/* chatctl's own options, before the command. --help and --version answer
 * before anything else on the line is checked (main.c). */
static const struct args_option global_options[] = {
	ARGS_OPTIONS_DEVICE,
	{.name = "json"},
	{.name = "timeout",
	 .flags = ARGS_NUMBER,
	 .meta = "SECONDS",
	 .needs = "a number of seconds",
	 .min = 1,
	 .max = 3600},
	{.name = "help", .letter = 'h', .flags = ARGS_HIDDEN},
	{.name = "version", .flags = ARGS_HIDDEN},
	{0},
};

const struct args_spec cli_global_args = {.options = global_options,
					  .min_args = 1,
					  .max_args = -1,
					  .flags = ARGS_IN_ORDER,
					  .too_few = "no command given"};

const char *
cli_cmd_name(const struct cmd_entry *e, char *buf, size_t size)
{
	if (e->parent != NULL)
		snprintf(buf, size, "%s %s", e->parent->name, e->name);
	else
		snprintf(buf, size, "%s", e->name);
	return buf;
}

const char *
cli_cmd_usage(const struct cmd_entry *e, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	if (e->subcommands == NULL) {
		snprintf(buf, size, "%s", e->usage);
		return buf;
	}
	for (const struct cmd_entry *const *s = e->subcommands; *s != NULL && len < size; s++) {
		int n = snprintf(buf + len, size - len, "%s%s%s%s", len > 0 ? " | " : "",
				 (*s)->name, (*s)->usage[0] != '\0' ? " " : "", (*s)->usage);

		if (n < 0)
			break;
		len += (size_t)n;
	}
	return buf;
}

void
cli_usage_all(FILE *f)
{
	char options[256], usage[256];

	args_usage(&cli_global_args, options, sizeof options);
	fprintf(f, "usage: chatctl %s\n               COMMAND [ARGS]\n\ncommands:\n", options);
	for (const struct cmd_entry *const *e = cmd_table; *e != NULL; e++) {
		char line[sizeof usage + 64];

		snprintf(line, sizeof line, "%s %s", (*e)->name,
			 cli_cmd_usage(*e, usage, sizeof usage));
		fprintf(f, "  %-34s %s\n", line, (*e)->summary);
	}
	fputs("\nSee chatctl(1) for details and exit codes.\n", f);
}

/* The first error of this run, for the error object of --json (main). */
static struct {
	char message[1024];
	char server_code[64];
	int json_done; /* the command printed its own error object */
} first_error;

static void
verror(const char *fmt, va_list ap)
{
	char msg[sizeof first_error.message];

	vsnprintf(msg, sizeof msg, fmt, ap);
	fprintf(stderr, "chatctl: %s\n", msg);
	if (first_error.message[0] == '\0')
		memcpy(first_error.message, msg, sizeof msg);
}

void
cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(fmt, ap);
	va_end(ap);
}

cJSON *
cli_error_json(int code)
{
	cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
	static const char *const what[] = {"", "failed", "usage error", "the server cannot be reached",
					   "refused by the server", "a contact's key changed"};
	const char *msg = first_error.message;

	if (msg[0] == '\0')
		msg = code > 0 && code <= EXIT_KEY_CHANGED ? what[code] : "failed";
	cJSON_AddNumberToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", msg);
	if (first_error.server_code[0] != '\0')
		cJSON_AddStringToObject(e, "serverCode", first_error.server_code);
	first_error.json_done = 1;
	return o;
}

int
cli_usage(const struct cmd_entry *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(fmt, ap);
	va_end(ap);
	if (e != NULL) {
		char name[64], usage[256];

		fprintf(stderr, "usage: chatctl %s %s\n", cli_cmd_name(e, name, sizeof name),
			cli_cmd_usage(e, usage, sizeof usage));
	} else {
		cli_usage_all(stderr);
	}
	return EXIT_USAGE;
}

int
cli_exit_code(int err)
{
	switch (err) {
	case CHAT_OK: return EXIT_OK;
	case CHAT_ERR_INVALID:
	case CHAT_ERR_TOO_LARGE: return EXIT_USAGE;
	case CHAT_ERR_CONNECT:
	case CHAT_ERR_CONNECTION_LOST:
	case CHAT_ERR_TIMEOUT:
	case CHAT_ERR_UNSUPPORTED:
	case CHAT_ERR_TLS: return EXIT_UNREACHABLE;
	case CHAT_ERR_REFUSED:
	case CHAT_ERR_NO_SUCH_CHAT:
	case CHAT_ERR_NO_SUCH_MESSAGE:
	case CHAT_ERR_BLOCKED:
	case CHAT_ERR_EXPIRED: return EXIT_REFUSED;
	case CHAT_ERR_KEY_CHANGED:
	case CHAT_ERR_BAD_KEY: return EXIT_KEY_CHANGED;
	default: return EXIT_FAIL;
	}
}

/* What a chatctl user does about a failure libchat reports (its texts name
 * no program); "" when there is nothing to add. */
static void
hint(struct cli *cli, int err, char *buf, size_t cap)
{
	const char *user = cli->c ? chat_client_error_user(cli->c) : "";

	buf[0] = '\0';
	if (err == CHAT_ERR_KEY_CHANGED && user[0] != '\0')
		snprintf(buf, cap,
			 "if %s really made this change, accept it with: chatctl trust %s", user,
			 user);
	else if (err == CHAT_ERR_NOT_REGISTERED)
		snprintf(buf, cap, "run: chatctl register USER");
	else if (err == CHAT_ERR_BLOCKED && user[0] != '\0')
		snprintf(buf, cap, "to write to them again: chatctl unblock %s", user);
	else if (err == CHAT_ERR_REFUSED && cli->c != NULL &&
		 strcmp(chat_client_server_code(cli->c), "unknown_device") == 0)
		snprintf(buf, cap, "see: chatctl device list");
	else if (err == CHAT_ERR_INVALID && cli->c != NULL &&
		 chat_client_server_url(cli->c) == NULL)
		snprintf(buf, cap, "give --server ws://HOST:PORT/");
}

const char *
cli_detail(struct cli *cli, int err, char *buf, size_t cap)
{
	const char *detail = cli->c ? chat_client_errmsg(cli->c) : "";
	char more[256];

	hint(cli, err, more, sizeof more);
	snprintf(buf, cap, "%s%s%s", detail[0] ? detail : chat_strerror(err), more[0] ? "; " : "",
		 more);
	return buf;
}

int
cli_fail(struct cli *cli, int err, const char *what)
{
	char detail[1024];

	/* The detail may quote the server, or what a peer sent. */
	cli_error("%s: %s", what, out_esc(cli_detail(cli, err, detail, sizeof detail)));
	if (err == CHAT_ERR_REFUSED && cli->c != NULL && first_error.server_code[0] == '\0')
		snprintf(first_error.server_code, sizeof first_error.server_code, "%s",
			 chat_client_server_code(cli->c));
	if (err == CHAT_ERR_CONNECT)
		fprintf(stderr, "chatctl: is chat-server running at %s? (see --server)\n",
			chat_client_server_url(cli->c) ? chat_client_server_url(cli->c)
						       : "the server");
	if (err == CHAT_ERR_TLS)
		fprintf(stderr, "chatctl: the certificate must name the host of --server and "
				"be signed by a trusted CA; for a development CA, give "
				"--ca-file FILE (or set CHAT_CA_FILE)\n");
	return cli_exit_code(err);
}

void
cli_notice_device_change(struct chat_client *c, void *udata, const char *user, uint32_t device,
			 int added)
{
	(void)c;
	out_device_change(((struct cli *)udata)->json, user, device, added);
}

void
cli_notice_send_failed(struct chat_client *c, void *udata, const char *chat_id,
		       const char *message_id, int err, const char *detail)
{
	struct cli *cli = udata;
	char full[1024];

	(void)c;
	(void)detail; /* the handle's errmsg: cli_detail adds chatctl's hint to it */
	out_send_failed(cli->json, chat_id, message_id, err,
			cli_detail(cli, err, full, sizeof full));
}

int
cli_set_callbacks(struct cli *cli, const struct chat_callbacks *cbs)
{
	int rc = chat_client_set_callbacks(cli->c, cbs);

	return rc == CHAT_OK ? EXIT_OK : cli_fail(cli, rc, "callbacks");
}

static const struct chat_callbacks open_callbacks =
	CHAT_CALLBACKS_INIT(.on_device_change = cli_notice_device_change,
			    .on_send_failed = cli_notice_send_failed);

int
cli_open(struct cli *cli)
{
	/* Only recv takes delivery: what arrives while another command runs stays on
	 * the server for the next recv, instead of being stored unseen. */
	struct chat_opts opts =
		CHAT_OPTS_INIT(.home = cli->home, .server_url = cli->server,
			       .ca_file = cli->ca_file, .timeout_ms = cli->timeout_ms,
			       .send_only = !cli->receives, .reconnect = cli->reconnect);
	char err[512];
	int rc;

	if (cli->c != NULL)
		return EXIT_OK;
	cli->c = chat_client_new(&opts, cli, &rc, err, sizeof err);
	if (cli->c == NULL) {
		/* libchat found no home to use: say how chatctl is given one. */
		if (rc == CHAT_ERR_HOME && (cli->home == NULL || cli->home[0] == '\0') &&
		    getenv("CHATCTL_HOME") == NULL && getenv("HOME") == NULL)
			cli_error("%s; give --home DIR or set CHATCTL_HOME", out_esc(err));
		else
			cli_error("%s", out_esc(err));
		return cli_exit_code(rc);
	}
	/* Any command that meets the key directory may learn of a device change. */
	return cli_set_callbacks(cli, &open_callbacks);
}

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

void
cli_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int
cli_wait(struct cli *cli, const volatile int *flag)
{
	while (!*flag) {
		int rc;

		if (interrupted) {
			cli_error("interrupted");
			return EXIT_FAIL;
		}
		rc = chat_client_loop(cli->c, 200);
		if (rc != CHAT_OK && !*flag) {
			int err = chat_client_state(cli->c) == CHAT_STATE_OFFLINE
					  ? CHAT_ERR_CONNECTION_LOST
					  : rc;

			return cli_fail(cli, err, "connection");
		}
	}
	return EXIT_OK;
}

int
cli_interrupted(void)
{
	return interrupted;
}

int
cli_await(struct cli *cli, int rc, const char *what)
{
	if (rc != CHAT_OK)
		return cli_fail(cli, rc, what);
	if ((rc = cli_wait(cli, &cli->done.flag)) != EXIT_OK)
		return rc;
	if (cli->done.err != CHAT_OK)
		return cli_fail(cli, cli->done.err, what);
	return EXIT_OK;
}

int
cli_settle(struct cli *cli, const char *what)
{
	int rc = chat_client_connect(cli->c);

	if (rc != CHAT_OK)
		return cli_fail(cli, rc, what);
	while (!(chat_client_state(cli->c) == CHAT_STATE_ONLINE && chat_client_idle(cli->c))) {
		if (interrupted) {
			cli_error("interrupted");
			return EXIT_FAIL;
		}
		rc = chat_client_loop(cli->c, 200);
		if (rc != CHAT_OK || chat_client_state(cli->c) == CHAT_STATE_OFFLINE)
			return cli_fail(cli, rc != CHAT_OK ? rc : CHAT_ERR_CONNECTION_LOST, what);
	}
	return EXIT_OK;
}

struct cli_done *
cli_done_reset(struct cli *cli)
{
	memset(&cli->done, 0, sizeof cli->done);
	return &cli->done;
}

void
cli_done_cb(struct chat_client *c, void *arg, int err, const char *id)
{
	struct cli_done *d = arg;

	(void)c;
	d->err = err;
	snprintf(d->id, sizeof d->id, "%s", id ? id : "");
	d->flag = 1;
}

int
cli_parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
cli_chat_arg(struct cli *cli, const char *spec, char out[CHAT_CHAT_ID_LEN + 1])
{
	int rc = chat_resolve_chat(cli->c, spec, out);
	const char *me = chat_client_user(cli->c); /* NULL before register */

	/* The user's notes to self, not on this device yet: made (or found
	 * on the server, where it is one chat per user) on first use. */
	if (rc == CHAT_ERR_NO_SUCH_CHAT && spec != NULL && me != NULL &&
	    (strcmp(spec, CHAT_SELF_SPEC) == 0 || (spec[0] == '@' && strcmp(spec + 1, me) == 0))) {
		struct cli_done *d = cli_done_reset(cli);

		rc = chat_create_chat(cli->c, &me, 1, cli_done_cb, d);
		if ((rc = cli_await(cli, rc, "chat")) != EXIT_OK)
			return rc;
		memcpy(out, d->id, CHAT_CHAT_ID_LEN);
		out[CHAT_CHAT_ID_LEN] = '\0';
		(void)cli_done_reset(cli); /* the caller's wait starts afresh */
		return EXIT_OK;
	}
	return rc == CHAT_OK ? EXIT_OK : cli_fail(cli, rc, "chat");
}

/* What a failed send left in the store, for cli_kept. */
struct kept {
	char chat_id[CHAT_CHAT_ID_LEN + 1];
	char state[16];
};

static int
kept_state(void *arg, const struct chat_message *m)
{
	struct kept *k = arg;

	snprintf(k->chat_id, sizeof k->chat_id, "%s", m->chat_id);
	snprintf(k->state, sizeof k->state, "%s", m->state);
	return 0;
}

int
cli_kept(struct cli *cli, const char *id, int rc)
{
	struct kept k = {"", ""};
	cJSON *o;

	if (id == NULL || id[0] == '\0' || chat_message_get(cli->c, id, kept_state, &k) != CHAT_OK)
		return rc; /* nothing was kept (say, an upload failed) */
	if (strcmp(k.state, "pending") == 0)
		fprintf(stderr,
			"chatctl: the message (%.8s) is kept: it goes out with this home's next "
			"connection to the server (any chatctl command that connects), or now "
			"with: chatctl retry %.8s\n",
			id, id);
	else if (strcmp(k.state, "failed") == 0 && cli->done.err == CHAT_ERR_EXPIRED)
		fprintf(stderr,
			"chatctl: the message (%.8s) is too old to be sent at all; remove it "
			"with: chatctl discard %.8s\n",
			id, id);
	else if (strcmp(k.state, "failed") == 0)
		fprintf(stderr,
			"chatctl: the message (%.8s) is marked failed and is not sent again; "
			"once the cause is fixed: chatctl retry %.8s (or chatctl discard %.8s)\n",
			id, id, id);
	else
		return rc; /* it got through after all (another program sent it) */
	if (cli->json) {
		o = cli_error_json(rc);
		cJSON_AddStringToObject(o, "chatId", k.chat_id);
		cJSON_AddStringToObject(o, "messageId", id);
		cJSON_AddStringToObject(o, "state", k.state);
		out_json(o);
	}
	return rc;
}

int
cli_message_arg(struct cli *cli, const char *spec, char out[CHAT_MESSAGE_ID_LEN + 1])
{
	int rc = chat_resolve_message(cli->c, spec, out);

	return rc == CHAT_OK ? EXIT_OK : cli_fail(cli, rc, "message");
}

const struct cmd_entry *
cli_find_cmd(const struct cmd_entry *const *table, const char *name)
{
	for (const struct cmd_entry *const *e = table; *e != NULL; e++)
		if (strcmp((*e)->name, name) == 0)
			return *e;
	return NULL;
}

void
cli_usage_one(const struct cmd_entry *e)
{
	char name[64], usage[256];

	printf("usage: chatctl %s %s\n  %s\nSee chatctl(1) for details and exit codes.\n",
	       cli_cmd_name(e, name, sizeof name), cli_cmd_usage(e, usage, sizeof usage),
	       e->summary);
}

int
cli_run(struct cli *cli, const struct cmd_entry *e, int argc, char **argv)
{
	struct args a;
	char name[64];
	int rc;

	if (args_parse(&a, &e->args, argc, argv, cli_cmd_name(e, name, sizeof name)) != 0)
		rc = cli_usage(e, "%s", a.error);
	else
		rc = e->exec(cli, &a);
	args_free(&a);
	return rc;
}

/* An unknown command name: "did you mean" when one is close, else the
 * whole usage. Returns EXIT_USAGE. */
int
cli_unknown_command(const struct cmd_entry *const *table, const struct cmd_entry *parent,
		    const char *name)
{
	const char *names[64];
	const char *near;
	size_t n = 0;

	for (const struct cmd_entry *const *e = table; *e != NULL && n < 64; e++)
		names[n++] = (*e)->name;
	if ((near = cli_suggest(name, names, n)) == NULL)
		return parent ? cli_usage(parent, "unknown %s command '%s'", parent->name, name)
			      : cli_usage(NULL, "unknown command '%s'", name);
	cli_error("unknown %s%scommand \"%s\"; did you mean \"%s\"?", parent ? parent->name : "",
		  parent ? " " : "", out_esc(name), near);
	return EXIT_USAGE;
}

/* help [COMMAND] */
static int
cmd_help_exec(struct cli *cli, struct args *args)
{
	const struct cmd_entry *e;

	(void)cli;
	if (args->argc == 0) {
		cli_usage_all(stdout);
		return EXIT_OK;
	}
	e = cli_find_cmd(cmd_table, args->argv[0]);
	if (e == NULL)
		return cli_unknown_command(cmd_table, NULL, args->argv[0]);
	cli_usage_one(e);
	return EXIT_OK;
}

const struct cmd_entry cmd_help_entry = {.name = "help",
					 .usage = "[COMMAND]",
					 .summary = "show the commands, or one command's usage",
					 .args = {.max_args = 1, .too_many = "give one command"},
					 .exec = cmd_help_exec};

/* With --json, a run that fails ends with one JSON object on standard output
 * saying why, {"error":{"code":EXIT,"message":...}} (the same text as on
 * standard error), unless the command printed its own. rpc's is a JSON-RPC
 * error response. Returns rc. */
int
cli_finish(struct cli *cli, const struct cmd_entry *e, int rc)
{
	cJSON *o;

	if (rc == EXIT_OK || !cli->json || first_error.json_done)
		return rc;
	o = cli_error_json(rc);
	if (e == &cmd_rpc_entry) {
		cJSON_AddStringToObject(o, "jsonrpc", "2.0");
		cJSON_AddNullToObject(o, "id");
	}
	out_json(o);
	return rc;
}
