/* cmd-message.c - send, recv, history, search: messages out, in, and from the store. */
#include "chatctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"

/* Reads all of stdin, up to CHAT_MAX_TEXT bytes (one more tells "too long"). */
static char *
read_stdin(size_t *len)
{
	size_t cap = CHAT_MAX_TEXT + 2, n = 0, got;
	char *buf = malloc(cap);

	if (buf == NULL)
		return NULL;
	while (n < cap && (got = fread(buf + n, 1, cap - n, stdin)) > 0)
		n += got;
	if (ferror(stdin)) {
		free(buf);
		return NULL;
	}
	/* "echo hi | chatctl send C -" means "hi", not "hi\n". */
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	*len = n;
	return buf;
}

/* A progress bar on standard error, only for a person at a terminal. */
static void
progress_bar(struct chat_client *c, void *arg, int64_t done, int64_t total)
{
	struct cli *cli = chat_client_udata(c); /* arg is the call's: cli->done */
	int pct = total > 0 ? (int)(done * 100 / total) : 100, w = 30, fill = pct * w / 100;

	(void)arg;
	if (cli->json || !isatty(STDERR_FILENO) || pct == cli->last_pct)
		return;
	cli->last_pct = pct;
	fprintf(stderr, "\r[%.*s%*s] %3d%% %lld/%lld KiB", fill, "##############################",
		w - fill, "", pct, (long long)(done / 1024), (long long)(total / 1024));
	if (done >= total)
		fputc('\n', stderr);
	fflush(stderr);
}

/* A second text where one is allowed: most likely a misspelt option (the
 * text, or what follows it, begins with "--"). Says which. */
static int
send_extra_arg(const char *text, const char *extra)
{
	const char *opt = strncmp(extra, "--", 2) == 0 ? extra : text;

	if (strncmp(opt, "--", 2) == 0)
		return cli_usage(&cmd_send_entry,
				 "unknown option '%s' (a text that begins with - goes right "
				 "after the chat, or after --)",
				 opt);
	return cli_usage(&cmd_send_entry, "give one text; quote it if it has spaces");
}

/* send CHAT [TEXT|-] [--attach FILE]...: the first argument that is not an
 * option is the chat, the next one the text, whatever it begins with
 * (chatctl(1), and .text_from below), so "-5 degrees" is text. Before the
 * chat, an unknown option is an error; "--" ends the options. */
static int
cmd_send_exec(struct cli *cli, struct args *a)
{
	char chat[CHAT_CHAT_ID_LEN + 1], *text = NULL, *owned = NULL;
	char kept[CHAT_MESSAGE_ID_LEN + 1] = "";
	const char *files[CHAT_MAX_ATTACHMENTS], *const *args = (const char *const *)a->argv;
	struct cli_done *d = cli_done_reset(cli);
	size_t len = 0, n_files = (size_t)args_count(a, "attach"), n_args = (size_t)a->argc;
	int rc;

	if (n_args > 2)
		return send_extra_arg(args[1], args[2]);
	if (n_args == 1 && n_files == 0)
		return cli_usage(&cmd_send_entry, "give a text (or -), or --attach FILE");
	if (n_files > CHAT_MAX_ATTACHMENTS)
		return cli_usage(&cmd_send_entry, "at most %d files in a message",
				 CHAT_MAX_ATTACHMENTS);
	for (size_t i = 0; i < n_files; i++)
		files[i] = args_value(a, "attach", (int)i);
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if ((rc = cli_chat_arg(cli, args[0], chat)) != EXIT_OK)
		return rc;
	if (n_args == 2 && strcmp(args[1], "-") == 0) {
		text = owned = read_stdin(&len);
		if (text == NULL) {
			cli_error("reading the message from stdin: %s", strerror(errno));
			return EXIT_FAIL;
		}
		if (len > CHAT_MAX_TEXT) {
			free(owned);
			cli_error("send: the message is over the limit of %d bytes; nothing was "
				  "sent",
				  CHAT_MAX_TEXT);
			return EXIT_USAGE;
		}
		text[len] = '\0'; /* read_stdin leaves room for one more byte */
	} else if (n_args == 2) {
		text = (char *)args[1];
		len = strlen(text);
	}
	cli->last_pct = -1;
	if (n_files > 0)
		rc = chat_send_files(cli->c, chat, text, files, n_files, progress_bar, cli_done_cb,
				     d);
	else
		rc = chat_send_text(cli->c, chat, text, len, kept, cli_done_cb, d);
	free(owned);
	if ((rc = cli_await(cli, rc, "send")) != EXIT_OK)
		return cli_kept(cli, kept[0] ? kept : d->id, rc);
	if (cli->json)
		chat_message_get(cli->c, d->id, out_sent, NULL);
	else
		printf("%s\n", d->id);
	return EXIT_OK;
}

static const struct args_option send_options[] = {
	{.name = "attach", .flags = ARGS_VALUE, .meta = "FILE", .needs = "a file"},
	{0},
};

const struct cmd_entry cmd_send_entry = {
	.name = "send",
	.usage = "CHAT [TEXT|-] [--attach FILE]...",
	.summary = "send TEXT (- reads stdin) and files; prints the message id once the server "
		   "has it",
	/* A second text is left to send_extra_arg, which tells a misspelt
	 * option from a text that needs quotes. */
	.args = {.options = send_options,
		 .min_args = 1,
		 .max_args = -1,
		 .text_from = 2,
		 .too_few = "give a chat and a text (or -)"},
	.exec = cmd_send_exec};

/* listen tells people (stderr) and scripts (--json) how the connection fares. */
static void
report_state(struct cli *cli, struct chat_client *c, enum chat_state state, int err)
{
	static const char *const names[] = {"offline", "connecting", "authenticating", "online",
					    "reconnecting"};
	const char *name = (unsigned)state < sizeof names / sizeof *names ? names[state] : "?";
	int retry = chat_client_retry_in(c);

	if (state == CHAT_STATE_CONNECTING || state == CHAT_STATE_AUTHENTICATING)
		return;
	if (cli->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "type", "state");
		cJSON_AddStringToObject(o, "state", name);
		if (retry >= 0)
			cJSON_AddNumberToObject(o, "retryInMs", retry);
		out_json(o);
	}
	if (state == CHAT_STATE_ONLINE)
		fprintf(stderr, "chatctl: connected to %s\n", chat_client_server_url(c));
	else if (state == CHAT_STATE_WAITING)
		fprintf(stderr, "chatctl: %s (%s); trying again in %.1f s\n",
			chat_client_errmsg(c)[0] ? out_esc(chat_client_errmsg(c)) : "connection lost",
			chat_strerror(err), retry / 1000.0);
}

/* What recv has seen, for its exit code. */
struct recv_state {
	int listening; /* listen rather than recv */
	int key_changed;
	int failed;
	int conn_err; /* why the connection ended, if it did */
};

static int
print_stored(void *arg, const struct chat_message *m)
{
	(void)arg;
	out_message_text(stdout, m);
	return 0;
}

static void
on_message(struct chat_client *c, void *udata, const struct chat_message *m)
{
	struct cli *cli = udata;

	if (cli->json) {
		cJSON *o = out_message_json(m);

		cli_add_muted(c, o, m->chat_id); /* a bot decides what to wake for */
		out_json(o);
	} else {
		out_message_text(stdout, m);
	}
}

static void
on_reaction(struct chat_client *c, void *udata, const struct chat_reaction_event *r)
{
	struct cli *cli = udata;

	(void)c;
	if (cli->json)
		out_json(out_reaction_json(r));
	else
		out_reaction_text(stdout, r);
}

static void
on_message_changed(struct chat_client *c, void *udata, const struct chat_change_event *e)
{
	struct cli *cli = udata;

	(void)c;
	if (cli->json)
		out_json(out_change_json(e));
	else
		out_change_text(stdout, e);
}

static void
on_timer(struct chat_client *c, void *udata, const struct chat_timer_event *e)
{
	struct cli *cli = udata;

	(void)c;
	if (cli->json)
		out_json(out_timer_json(e));
	else
		out_timer_text(stdout, e);
}

static void
on_expired(struct chat_client *c, void *udata, const char *chat_id, const char *message_id)
{
	(void)c;
	out_expired(((struct cli *)udata)->json, chat_id, message_id);
}

static void
on_history_sync(struct chat_client *c, void *udata, const struct chat_history_sync *h)
{
	(void)c;
	out_history(((struct cli *)udata)->json, h);
}

static void
on_key_changed(struct chat_client *c, void *udata, const char *user, uint32_t device)
{
	struct recv_state *st = ((struct cli *)udata)->cmd_state;
	char why[1024];

	(void)c;
	if (st == NULL)
		return; /* recv is over; main is closing the handle */
	st->key_changed = 1;
	fprintf(stderr, "chatctl: WARNING: a message from %s's device %u is held back: %s\n", user,
		device, out_esc(cli_detail(udata, CHAT_ERR_KEY_CHANGED, why, sizeof why)));
}

static void
on_receive_error(struct chat_client *c, void *udata, const char *message_id, int err,
		 const char *detail)
{
	struct recv_state *st = ((struct cli *)udata)->cmd_state;

	(void)c;
	if (st == NULL)
		return;
	/* A key that is not validly signed is as alarming as a changed one. */
	if (err == CHAT_ERR_BAD_KEY)
		st->key_changed = 1;
	else
		st->failed = 1;
	fprintf(stderr, "chatctl: message %s not received (%s): %s\n",
		message_id ? out_esc(message_id) : "?", chat_strerror(err), out_esc(detail));
}

/* Not a failure of recv: it was taken (and kept in the history, for a
 * message), so it will not come again. One warning line for people, the
 * event for scripts. */
static void
on_undecryptable(struct chat_client *c, void *udata, const struct chat_undecryptable *u)
{
	struct cli *cli = udata;

	(void)c;
	if (cli->json)
		out_json(out_undecryptable_json(u));
	fprintf(stderr, "chatctl: WARNING: %s%s\n", u->reason,
		u->receipt ? "; it was dropped" : "; it is kept in the history as undecryptable");
}

static void
on_update(struct chat_client *c, void *udata, const struct chat_update *u)
{
	struct cli *cli = udata;

	(void)c;
	if (cli->json) {
		out_json(out_update_json(u));
		return;
	}
	/* The same line history prints for it: read the stored event back. */
	if (chat_message_get(cli->c, u->update_id, print_stored, NULL) != CHAT_OK)
		fprintf(stdout, "%s * %s changed the members\n", u->chat_id, u->actor);
}

static void
on_missed(struct chat_client *c, void *udata, int64_t count, int64_t oldest)
{
	struct cli *cli = udata;
	char at[32];

	(void)c;
	proto_rfc3339(oldest, at, sizeof at);
	if (cli->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "type", "missed");
		cJSON_AddNumberToObject(o, "count", (double)count);
		cJSON_AddStringToObject(o, "oldest", at);
		out_json(o);
	}
	fprintf(stderr,
		"chatctl: WARNING: %lld message%s (the oldest sent %s) expired on the server "
		"before this device collected them; they are lost to this device\n",
		(long long)count, count == 1 ? "" : "s", at);
}

static void
on_receipt(struct chat_client *c, void *udata, const struct chat_receipt *r)
{
	struct cli *cli = udata;

	(void)c;
	if (cli->json)
		out_json(out_receipt_json(r));
	else
		out_receipt_text(stdout, r);
}

static void
on_typing(struct chat_client *c, void *udata, const struct chat_typing *t)
{
	struct cli *cli = udata;

	(void)c;
	if (cli->json)
		out_json(out_typing_json(t));
	else
		out_typing_text(stdout, t);
}

static void
on_state(struct chat_client *c, void *udata, enum chat_state state, int err)
{
	struct recv_state *st = ((struct cli *)udata)->cmd_state;

	if (st != NULL && state == CHAT_STATE_OFFLINE && st->conn_err == CHAT_OK)
		st->conn_err = err != CHAT_OK ? err : CHAT_ERR_CONNECTION_LOST;
	if (st != NULL && st->listening)
		report_state(udata, c, state, err);
}

/* What recv and listen do with everything that arrives. */
static const struct chat_callbacks receive_callbacks =
	CHAT_CALLBACKS_INIT(.on_message = on_message, .on_state = on_state,
			    .on_key_changed = on_key_changed, .on_receive_error = on_receive_error,
			    .on_update = on_update, .on_device_change = cli_notice_device_change,
			    .on_missed = on_missed, .on_receipt = on_receipt,
			    .on_send_failed = cli_notice_send_failed,
			    .on_undecryptable = on_undecryptable, .on_typing = on_typing,
			    .on_reaction = on_reaction, .on_message_changed = on_message_changed,
			    .on_timer = on_timer, .on_expired = on_expired,
			    .on_history_sync = on_history_sync);

static int recv_loop(struct cli *cli, struct recv_state *st, long wait_s);

static int
cmd_recv_exec(struct cli *cli, struct args *args)
{
	struct recv_state st = {0};
	long wait_s = args_number(args, "wait", 0);
	int rc;

	cli->receives = 1;
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if ((rc = cli_set_callbacks(cli, &receive_callbacks)) != EXIT_OK)
		return rc;
	cli->cmd_state = &st;
	rc = chat_client_connect(cli->c);
	rc = rc == CHAT_OK ? recv_loop(cli, &st, wait_s) : cli_fail(cli, rc, "recv");
	cli->cmd_state = NULL;
	return rc;
}

/* First everything that was waiting (drained), stored and acked (idle); then,
 * with --wait, whatever comes in the next wait_s seconds. */
static int
recv_loop(struct cli *cli, struct recv_state *st, long wait_s)
{
	int64_t until = 0;

	for (;;) {
		int caught_up = chat_client_drained(cli->c) && chat_client_idle(cli->c);

		if (caught_up && until == 0)
			until = proto_mono_ms() + wait_s * 1000;
		if (caught_up && proto_mono_ms() >= until)
			break;
		if (cli_interrupted()) {
			/* Ctrl-C is how one stops listening: not an error. Let the acks
			 * of what was shown go out first. */
			int64_t grace = proto_mono_ms() + 2000;

			while (!chat_client_idle(cli->c) && proto_mono_ms() < grace &&
			       chat_client_loop(cli->c, 100) == CHAT_OK)
				;
			break;
		}
		if (chat_client_loop(cli->c, 200) != CHAT_OK ||
		    chat_client_state(cli->c) == CHAT_STATE_OFFLINE)
			return cli_fail(cli,
					st->conn_err != CHAT_OK ? st->conn_err
								: CHAT_ERR_CONNECTION_LOST,
					"recv");
	}
	if (st->key_changed)
		return EXIT_KEY_CHANGED;
	return st->failed ? EXIT_FAIL : EXIT_OK;
}

static const struct args_option recv_options[] = {
	{.name = "wait",
	 .flags = ARGS_NUMBER,
	 .meta = "SECONDS",
	 .needs = "a number of seconds",
	 .min = 0,
	 .max = 86400},
	{0},
};

const struct cmd_entry cmd_recv_entry = {
	.name = "recv",
	.usage = "[--wait SECONDS]",
	.summary = "receive, store and ack everything pending; print it; exit",
	.args = {.options = recv_options, .max_args = 0},
	.exec = cmd_recv_exec};

/* listen: stay connected until told to stop, through any number of lost
 * connections; print and ack everything as it comes. */
static int
cmd_listen_exec(struct cli *cli, struct args *args)
{
	struct recv_state st = {.listening = 1};
	int rc;

	(void)args;
	cli->receives = 1;
	cli->reconnect = 1;
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if ((rc = cli_set_callbacks(cli, &receive_callbacks)) != EXIT_OK)
		return rc;
	/* cppcheck-suppress autoVariables ; set back to NULL before st goes */
	cli->cmd_state = &st;
	rc = chat_client_connect(cli->c);
	while (rc == CHAT_OK && !cli_interrupted()) {
		if (chat_client_loop(cli->c, 500) != CHAT_OK) {
			/* Not a dropped connection (that retries): this device was refused. */
			rc = st.conn_err != CHAT_OK ? st.conn_err : CHAT_ERR_CONNECTION_LOST;
			break;
		}
	}
	if (rc == CHAT_OK) {
		/* Let the acks of what was printed go out. */
		int64_t grace = proto_mono_ms() + 2000;

		while (chat_client_state(cli->c) == CHAT_STATE_ONLINE &&
		       !chat_client_idle(cli->c) && proto_mono_ms() < grace &&
		       chat_client_loop(cli->c, 100) == CHAT_OK)
			;
	}
	cli->cmd_state = NULL;
	if (rc != CHAT_OK)
		return cli_fail(cli, rc, "listen");
	/* As recv: a message held back or not received meanwhile is not a clean run. */
	return st.key_changed ? EXIT_KEY_CHANGED : st.failed ? EXIT_FAIL : EXIT_OK;
}

const struct cmd_entry cmd_listen_entry = {
	.name = "listen",
	.usage = "",
	.summary = "stay connected, reconnecting as needed; print and ack each event as it comes",
	.args = {.max_args = 0, .too_many = "no arguments expected"},
	.exec = cmd_listen_exec};

/* history --json: the array, and the handle to read an edited message's
 * edits with. */
struct history_out {
	cJSON *arr;
	struct chat_client *c;
};

static int
print_history(void *arg, const struct chat_message *m)
{
	struct history_out *h = arg;

	if (h->arr != NULL)
		cJSON_AddItemToArray(h->arr, out_history_message_json(h->c, m));
	else
		out_message_text(stdout, m);
	return 0;
}

static int
cmd_history_exec(struct cli *cli, struct args *args)
{
	char chat[CHAT_CHAT_ID_LEN + 1];
	const char *spec = args->argv[0];
	cJSON *arr = NULL;
	struct history_out h;
	long limit = args_number(args, "limit", 0);
	int rc;

	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if ((rc = cli_chat_arg(cli, spec, chat)) != EXIT_OK)
		return rc;
	if (cli->json && (arr = cJSON_CreateArray()) == NULL)
		return cli_fail(cli, CHAT_ERR_NOMEM, "history");
	h.arr = arr;
	h.c = cli->c;
	rc = chat_history(cli->c, chat, (int)limit, print_history, &h);
	if (rc < 0) {
		cJSON_Delete(arr);
		return cli_fail(cli, rc, "history");
	}
	if (arr != NULL)
		out_json(arr);
	return EXIT_OK;
}

static const struct args_option history_options[] = {
	{.name = "limit",
	 .flags = ARGS_NUMBER,
	 .meta = "N",
	 .needs = "a number",
	 .min = 1,
	 .max = 1000000},
	{0},
};

const struct cmd_entry cmd_history_entry = {
	.name = "history",
	.usage = "CHAT [--limit N]",
	.summary = "print CHAT's messages from the local store (no server needed)",
	.args = {.options = history_options,
		 .min_args = 1,
		 .max_args = 1,
		 .too_few = "give a chat"},
	.exec = cmd_history_exec};

/* search: the words joined again as the user typed them (libchat's rule
 * splits them at white space anyway); each hit as history prints it, its
 * snippet in the text's place, or in --json a message object with its
 * "snippet". */
static int
print_hit(void *arg, const struct chat_message *m)
{
	struct chat_message hit = *m;
	char *line = NULL;

	if (arg != NULL) {
		cJSON_AddItemToArray(arg, out_message_json(m));
		return 0;
	}
	/* One line a hit: the snippet's line breaks and tabs as spaces. */
	if (m->snippet != NULL && (line = strdup(m->snippet)) != NULL) {
		for (char *p = line; *p != '\0'; p++)
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
		hit.text = line;
		hit.text_len = strlen(line);
		hit.n_attachments = 0; /* a hit is its words; history shows the rest */
	}
	out_message_text(stdout, &hit);
	free(line);
	return 0;
}

static int
cmd_search_exec(struct cli *cli, struct args *args)
{
	char chat[CHAT_CHAT_ID_LEN + 1], *words = NULL;
	const char *spec = args_get(args, "chat");
	long limit = args_number(args, "limit", 50);
	size_t len = 0;
	cJSON *arr = NULL;
	int rc;

	for (int i = 0; i < args->argc; i++)
		len += strlen(args->argv[i]) + 1;
	if (len > CHAT_SEARCH_MAX + 1)
		return cli_usage(&cmd_search_entry, "at most %d bytes of words", CHAT_SEARCH_MAX);
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if (spec != NULL && (rc = cli_chat_arg(cli, spec, chat)) != EXIT_OK)
		return rc;
	if ((words = calloc(1, len + 1)) == NULL ||
	    (cli->json && (arr = cJSON_CreateArray()) == NULL)) {
		free(words);
		return cli_fail(cli, CHAT_ERR_NOMEM, "search");
	}
	for (int i = 0; i < args->argc; i++) {
		if (i > 0)
			strcat(words, " ");
		strcat(words, args->argv[i]);
	}
	rc = chat_search(cli->c, words, spec ? chat : NULL, (int)limit, print_hit, arr);
	free(words);
	if (rc < 0) {
		cJSON_Delete(arr);
		/* Words of nothing but white space: the command line's fault. */
		if (rc == CHAT_ERR_INVALID)
			return cli_usage(&cmd_search_entry, "%s", chat_client_errmsg(cli->c));
		return cli_fail(cli, rc, "search");
	}
	if (arr != NULL)
		out_json(arr);
	return EXIT_OK;
}

static const struct args_option search_options[] = {
	{.name = "chat",
	 .flags = ARGS_VALUE | ARGS_NONEMPTY,
	 .meta = "CHAT",
	 .needs = "a chat (an id, a prefix or @user)"},
	{.name = "limit",
	 .flags = ARGS_NUMBER,
	 .meta = "N",
	 .needs = "a number",
	 .min = 1,
	 .max = 1000000},
	{0},
};

const struct cmd_entry cmd_search_entry = {
	.name = "search",
	.usage = "[--chat CHAT] [--limit N] WORDS...",
	.summary = "find messages in the local store with all these words, newest first",
	.args = {.options = search_options,
		 .min_args = 1,
		 .max_args = -1,
		 .text_from = 1,
		 .too_few = "give the words to search for"},
	.exec = cmd_search_exec};

/* read: the user has seen CHAT. Marks it here and tells the senders (and this
 * user's other devices) with read receipts. */
static int
cmd_read_exec(struct cli *cli, struct args *args)
{
	char chat[CHAT_CHAT_ID_LEN + 1];
	int rc, n;

	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if ((rc = cli_chat_arg(cli, args->argv[0], chat)) != EXIT_OK)
		return rc;
	if ((n = chat_mark_read(cli->c, chat)) < 0)
		return cli_fail(cli, n, "read");
	if (cli->json) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "chatId", chat);
		cJSON_AddNumberToObject(o, "marked", n);
		out_json(o);
	} else {
		printf("%d message%s marked read\n", n, n == 1 ? "" : "s");
	}
	/* Nothing owed (this time or from before): no need for the server. */
	if ((rc = chat_receipts_pending(cli->c)) <= 0)
		return rc < 0 ? cli_fail(cli, rc, "read") : EXIT_OK;
	if ((rc = cli_settle(cli, "read")) != EXIT_OK)
		fprintf(stderr, "chatctl: the read receipts are kept, and go out with the next "
				"connection from this home\n");
	return rc;
}

const struct cmd_entry cmd_read_entry = {
	.name = "read",
	.usage = "CHAT",
	.summary = "mark CHAT's messages read and tell their senders (read receipts)",
	.args = {.min_args = 1,
		 .max_args = 1,
		 .too_few = "give a chat",
		 .too_many = "give one chat"},
	.exec = cmd_read_exec};

/* download MESSAGE [--out PATH] [--index N]: fetch, verify and decrypt. */
struct download_count {
	size_t n;
};

static int
count_attachments(void *arg, const struct chat_message *m)
{
	((struct download_count *)arg)->n = m->n_attachments;
	return 0;
}

static int
cmd_download_exec(struct cli *cli, struct args *args)
{
	const char *out = args_get(args, "out"), *spec = args->argv[0];
	char id[CHAT_MESSAGE_ID_LEN + 1];
	struct download_count dc = {0};
	cJSON *arr = NULL;
	long index = args_number(args, "index", 0);
	int rc;

	if ((rc = cli_open(cli)) != EXIT_OK || (rc = cli_message_arg(cli, spec, id)) != EXIT_OK)
		return rc;
	if ((rc = chat_message_get(cli->c, id, count_attachments, &dc)) != CHAT_OK)
		return cli_fail(cli, rc, "download");
	if (dc.n == 0) {
		cli_error("download: message %s has no attachments", id);
		return EXIT_REFUSED;
	}
	if (out != NULL && dc.n > 1 && index == 0)
		return cli_usage(&cmd_download_entry,
				 "the message has %zu files: give --index N with --out", dc.n);
	if (cli->json && (arr = cJSON_CreateArray()) == NULL)
		return cli_fail(cli, CHAT_ERR_NOMEM, "download");
	for (size_t k = index ? (size_t)index - 1 : 0; k < (index ? (size_t)index : dc.n); k++) {
		struct cli_done *d = cli_done_reset(cli);

		if (k >= dc.n) {
			cJSON_Delete(arr);
			cli_error("download: message %s has %zu file%s", id, dc.n,
				  dc.n == 1 ? "" : "s");
			return EXIT_REFUSED;
		}
		cli->last_pct = -1;
		rc = chat_download(cli->c, id, k, out, progress_bar, cli_done_cb, d);
		if ((rc = cli_await(cli, rc, "download")) != EXIT_OK) {
			cJSON_Delete(arr);
			return rc;
		}
		if (arr != NULL) {
			cJSON_AddItemToArray(arr, out_download_json(k + 1, d->id));
		} else {
			/* The path ends in the name the sender gave the file. */
			out_safe(stdout, d->id, strlen(d->id), 0);
			putchar('\n');
		}
	}
	if (arr != NULL)
		out_json(arr);
	return EXIT_OK;
}

static const struct args_option download_options[] = {
	{.name = "index",
	 .flags = ARGS_NUMBER,
	 .meta = "N",
	 .needs = "a number",
	 .min = 1,
	 .max = CHAT_MAX_ATTACHMENTS},
	{.name = "out", .flags = ARGS_VALUE | ARGS_NONEMPTY, .meta = "PATH", .needs = "a path"},
	{0},
};

const struct cmd_entry cmd_download_entry = {
	.name = "download",
	.usage = "MESSAGE [--index N] [--out PATH]",
	.summary = "fetch, verify and decrypt a message's files; prints where they are",
	.args = {.options = download_options,
		 .min_args = 1,
		 .max_args = 1,
		 .too_few = "give a message id (recv and history show them)"},
	.exec = cmd_download_exec};
