/*
 * chatctl.c - main: global options, the command table, and the helpers every
 * command shares (opening the home, waiting on the network, exit codes).
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
	&cmd_recv_entry,
	&cmd_listen_entry,
	&cmd_rpc_entry,
	&cmd_chats_entry,
	&cmd_history_entry,
	&cmd_read_entry,
	&cmd_download_entry,
	&cmd_outbox_entry,
	&cmd_retry_entry,
	&cmd_discard_entry,
	&cmd_members_entry,
	&cmd_add_entry,
	&cmd_remove_entry,
	&cmd_leave_entry,
	&cmd_device_entry,
	&cmd_verify_entry,
	&cmd_lastseen_entry,
	&cmd_privacy_entry,
	&cmd_trust_entry,
	&cmd_whoami_entry,
	&cmd_help_entry,
	NULL
};
/* clang-format on */

static void
usage_all(FILE *f)
{
	fputs("usage: chatctl [--home DIR] [--server URL] [--ca-file FILE] [--json] "
	      "[--timeout SECONDS]\n"
	      "               COMMAND [ARGS]\n\ncommands:\n",
	      f);
	for (const struct cmd_entry *const *e = cmd_table; *e != NULL; e++) {
		char line[96];

		snprintf(line, sizeof line, "%s %s", (*e)->name, (*e)->usage);
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
	if (e != NULL)
		fprintf(stderr, "usage: chatctl %s %s\n", e->name, e->usage);
	else
		usage_all(stderr);
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
cli_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return 0;
	if (argv[*i][n] == '=') {
		*val = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*val = argv[++*i];
	return 1;
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

static const struct cmd_entry *
find_cmd(const char *name)
{
	for (const struct cmd_entry *const *e = cmd_table; *e != NULL; e++)
		if (strcmp((*e)->name, name) == 0)
			return *e;
	return NULL;
}

static void
usage_one(const struct cmd_entry *e)
{
	printf("usage: chatctl %s %s\n  %s\nSee chatctl(1) for details and exit codes.\n", e->name,
	       e->usage, e->summary);
}

/* help [COMMAND] */
static int
cmd_help_exec(struct cli *cli, int argc, char **argv)
{
	const struct cmd_entry *e;

	(void)cli;
	if (argc < 2) {
		usage_all(stdout);
		return EXIT_OK;
	}
	if (argc > 2)
		return cli_usage(&cmd_help_entry, "give one command");
	e = find_cmd(argv[1]);
	if (e == NULL)
		return cli_usage(NULL, "unknown command '%s'", argv[1]);
	usage_one(e);
	return EXIT_OK;
}

/* CMD --help (or -h) anywhere among a command's arguments, before a "--":
 * that command's usage, as help CMD. A text or a file name that is exactly
 * --help goes after "--" (send), where options end. */
static int
wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

const struct cmd_entry cmd_help_entry = {.name = "help",
					 .usage = "[COMMAND]",
					 .summary = "show the commands, or one command's usage",
					 .exec = cmd_help_exec};

/* With --json, a run that fails ends with one JSON object on standard output
 * saying why, {"error":{"code":EXIT,"message":...}} (the same text as on
 * standard error), unless the command printed its own. rpc's is a JSON-RPC
 * error response. Returns rc. */
static int
finish(struct cli *cli, const struct cmd_entry *e, int rc)
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

int
main(int argc, char **argv)
{
	struct cli cli;
	const struct cmd_entry *e;
	struct sigaction sa;
	int i, rc;
	long secs;

	memset(&cli, 0, sizeof cli);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed pipe (chatctl recv | head) is a write error, not a silent death
	 * between storing a message and acking it. */
	signal(SIGPIPE, SIG_IGN);
	/* A file size limit (ulimit -f) is an error to report, like a full disk,
	 * not a reason to die with half a download on disk. */
	signal(SIGXFSZ, SIG_IGN);

	/* --json anywhere among the global options: even an error in one that
	 * comes before it is then a JSON object. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0)
			cli.json = 1;
		else if (strcmp(argv[i], "--home") == 0 || strcmp(argv[i], "--server") == 0 ||
			 strcmp(argv[i], "--ca-file") == 0 || strcmp(argv[i], "--timeout") == 0)
			i++; /* its value */
	}
	cli.server = getenv("CHATCTL_SERVER");
	if (cli.server != NULL && *cli.server == '\0')
		cli.server = NULL;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *v = NULL;
		int m;

		if (strcmp(argv[i], "--json") == 0) {
			cli.json = 1;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage_all(stdout);
			return EXIT_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("chatctl %s (libchat %s, protocol %d)\n", CHAT_VERSION,
			       chat_version(), CHAT_PROTOCOL_VERSION);
			return EXIT_OK;
		} else if ((m = cli_opt(argc, argv, &i, "--home", &v)) != 0) {
			if (m < 0 || *v == '\0')
				return finish(&cli, NULL, cli_usage(NULL, "--home needs a directory"));
			cli.home = v;
		} else if ((m = cli_opt(argc, argv, &i, "--server", &v)) != 0) {
			if (m < 0 || *v == '\0')
				return finish(&cli, NULL,
					      cli_usage(NULL, "--server needs a URL such as "
							      "ws://127.0.0.1:8700/"));
			cli.server = v;
		} else if ((m = cli_opt(argc, argv, &i, "--ca-file", &v)) != 0) {
			if (m < 0 || *v == '\0')
				return finish(&cli, NULL,
					      cli_usage(NULL, "--ca-file needs a file of PEM CA "
							      "certificates"));
			cli.ca_file = v;
		} else if ((m = cli_opt(argc, argv, &i, "--timeout", &v)) != 0) {
			if (m < 0 || cli_parse_int(v, 1, 3600, &secs) != 0)
				return finish(&cli, NULL,
					      cli_usage(NULL, "--timeout needs a number of seconds "
							      "(1-3600)"));
			cli.timeout_ms = (int)secs * 1000;
		} else {
			return finish(&cli, NULL, cli_usage(NULL, "unknown option '%s'", argv[i]));
		}
	}
	if (i >= argc)
		return finish(&cli, NULL, cli_usage(NULL, "no command given"));
	e = find_cmd(argv[i]);
	if (e == NULL)
		return finish(&cli, e, cli_usage(NULL, "unknown command '%s'", argv[i]));
	if (wants_help(argc - i, argv + i)) {
		usage_one(e);
		return EXIT_OK;
	}
	rc = e->exec(&cli, argc - i, argv + i);
	if (cli.c != NULL) {
		chat_client_disconnect(cli.c);
		chat_client_destroy(cli.c);
	}
	rc = finish(&cli, e, rc);
	if (fflush(stdout) != 0 && rc == EXIT_OK) {
		perror("chatctl: writing output");
		rc = EXIT_FAIL;
	}
	return rc;
}
