/*
 * cmd-rpc.c - JSON-RPC 2.0, one object a line: the methods (chatctl's
 * commands, same names and JSON shapes as --json), the notifications, and
 * chatctl rpc, which speaks it over stdin and stdout. chatctl daemon
 * (cmd-daemon.c) speaks it to socket clients, with the same code.
 *
 * Requests name chatctl's commands as methods; what arrives (messages, chat
 * updates, device changes, connection states, missed messages) comes out as
 * notifications to the peers subscribed. libchat stores each message before
 * it acks it: a client not connected when one came finds it with history.
 * The session stays up and reconnects, as with listen. End of input ends
 * chatctl rpc, after the calls under way have answered.
 */
#include "rpc.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer.h"
#include "proto.h"

/* One asynchronous call: what its answer needs. */
struct rpc_call {
	struct rpc_peer *peer; /* answered there, unless it is gone */
	cJSON *id;
	char method[16];
	char user[CHAT_USER_MAX + 1]; /* block, unblock: whom */
	int64_t deadline;             /* recv: when it gives up catching up */
	int64_t wait_ms, until;       /* recv: how long after catching up; until when */
	struct rpc_call *next;        /* recv: in rpc->waiting */
	/* A call of several steps (refresh, then answer): what runs when
	 * libchat's part is done (step_done); it starts the next step, or
	 * answers and ends the call. */
	void (*finish)(struct rpc_call *call, int err, const char *id);
	char chat[CHAT_CHAT_ID_LEN + 1];   /* members */
	char msg[CHAT_MESSAGE_ID_LEN + 1]; /* download */
	long number;                       /* deviceRemove: the device; privacy: hideLastSeen */
	int flag;                          /* deviceRemove: force; privacy: hideTyping */
	size_t k, end;                     /* download: this file, the end */
	char *out;                         /* download: where to (malloc'd) */
	cJSON *acc;                        /* download: the answer so far */
};

/* ---- answers ----------------------------------------------------------------------- */

static void
emit(struct rpc_peer *p, cJSON *o)
{
	char *s = o && !p->gone ? cJSON_PrintUnformatted(o) : NULL;

	if (s != NULL)
		rpc_peer_write(p, s, strlen(s));
	cJSON_free(s);
	cJSON_Delete(o);
}

static int
reply_result(struct rpc_peer *peer, const cJSON *id, cJSON *result)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "jsonrpc", "2.0");
	cJSON_AddItemToObject(o, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "result", result ? result : cJSON_CreateObject());
	emit(peer, o);
	return 0;
}

static int
reply_error(struct rpc_peer *peer, const cJSON *id, int code, const char *message)
{
	cJSON *o = cJSON_CreateObject(), *e = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "jsonrpc", "2.0");
	cJSON_AddItemToObject(o, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
	cJSON_AddNumberToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	cJSON_AddItemToObject(o, "error", e);
	emit(peer, o);
	return 0;
}

/* A failed libchat call, as a JSON-RPC error with chatctl's exit code. */
static int
reply_failure(struct rpc_peer *peer, const cJSON *id, int err)
{
	char msg[1024];

	reply_error(peer, id, cli_exit_code(err),
		    cli_detail(peer->rpc->cli, err, msg, sizeof msg));
	return 0;
}

/* The notifications, in the order of their bits in rpc_peer.events (at most
 * 32). A new notification goes here, so that subscribe can name it. */
const char *const rpc_event_names[] = {
	"message", "reaction", "edit", "delete", "timer", "expired", "chatUpdate", "deviceChange",
	"state", "missed", "keyChanged", "receipt", "sendFailed", "undecryptable", "typing",
	"blocked", "historySync", NULL};

static int
event_bit(const char *name)
{
	for (int i = 0; rpc_event_names[i] != NULL; i++)
		if (strcmp(rpc_event_names[i], name) == 0)
			return i;
	return -1;
}

/* To every peer subscribed to method: printed once, queued for each. */
static void
notify_from(struct rpc *rpc, const char *method, cJSON *params)
{
	cJSON *o = cJSON_CreateObject();
	int bit = event_bit(method);
	char *s;

	cJSON_AddStringToObject(o, "jsonrpc", "2.0");
	cJSON_AddStringToObject(o, "method", method);
	cJSON_AddItemToObject(o, "params", params);
	if (rpc != NULL && (s = cJSON_PrintUnformatted(o)) != NULL) {
		size_t n = strlen(s);

		for (struct rpc_peer *p = rpc->peers; p != NULL; p = p->next)
			/* A notification not in rpc_event_names yet still reaches
			 * those subscribed to all (rpc's stdin among them). */
			if (p->subscribed && (bit >= 0 ? (p->events & (UINT32_C(1) << bit)) != 0
						       : p->events == UINT32_MAX))
				rpc_peer_write(p, s, n);
		cJSON_free(s);
	}
	cJSON_Delete(o);
}

#define notify(method, params) notify_from(((struct cli *)udata)->cmd_state, method, params)

/* ---- notifications ----------------------------------------------------------- */

static void
on_message(struct chat_client *c, void *udata, const struct chat_message *m)
{
	cJSON *o = out_message_json(m);

	cli_add_muted(c, o, m->chat_id);
	notify("message", o);
}

static void
on_reaction(struct chat_client *c, void *udata, const struct chat_reaction_event *r)
{
	(void)c;
	notify("reaction", out_reaction_json(r));
}

static void
on_message_changed(struct chat_client *c, void *udata, const struct chat_change_event *e)
{
	(void)c;
	notify(e->kind, out_change_json(e)); /* "edit" or "delete" */
}

static void
on_timer(struct chat_client *c, void *udata, const struct chat_timer_event *e)
{
	(void)c;
	notify("timer", out_timer_json(e));
}

static void
on_expired(struct chat_client *c, void *udata, const char *chat_id, const char *message_id)
{
	cJSON *p = cJSON_CreateObject();

	(void)c;
	cJSON_AddStringToObject(p, "chatId", chat_id);
	cJSON_AddStringToObject(p, "messageId", message_id);
	notify("expired", p);
}

static void
on_update(struct chat_client *c, void *udata, const struct chat_update *u)
{
	(void)c;
	notify("chatUpdate", out_update_json(u));
}

static void
on_device_change(struct chat_client *c, void *udata, const char *user, uint32_t device, int added)
{
	cJSON *p = cJSON_CreateObject();

	(void)c;
	cJSON_AddStringToObject(p, "user", user);
	cJSON_AddNumberToObject(p, "deviceId", device);
	cJSON_AddStringToObject(p, "change", added ? "added" : "removed");
	notify("deviceChange", p);
}

static void
on_state(struct chat_client *c, void *udata, enum chat_state state, int err)
{
	static const char *const names[] = {"offline", "connecting", "authenticating", "online",
					    "reconnecting"};
	cJSON *p;

	(void)err;
	if (state == CHAT_STATE_CONNECTING || state == CHAT_STATE_AUTHENTICATING)
		return;
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "state", names[state]);
	if (chat_client_retry_in(c) >= 0)
		cJSON_AddNumberToObject(p, "retryInMs", chat_client_retry_in(c));
	notify("state", p);
}

static void
on_missed(struct chat_client *c, void *udata, int64_t count, int64_t oldest)
{
	cJSON *p = cJSON_CreateObject();
	char at[32];

	(void)c;
	proto_rfc3339(oldest, at, sizeof at);
	cJSON_AddNumberToObject(p, "count", (double)count);
	cJSON_AddStringToObject(p, "oldest", at);
	notify("missed", p);
}

static void
on_key_changed(struct chat_client *c, void *udata, const char *user, uint32_t device)
{
	cJSON *p = cJSON_CreateObject();
	char why[1024];

	(void)c;
	cJSON_AddStringToObject(p, "user", user);
	cJSON_AddNumberToObject(p, "deviceId", device);
	cJSON_AddStringToObject(p, "message",
				cli_detail(udata, CHAT_ERR_KEY_CHANGED, why, sizeof why));
	notify("keyChanged", p);
}

static void
on_receipt(struct chat_client *c, void *udata, const struct chat_receipt *r)
{
	(void)c;
	notify("receipt", out_receipt_json(r));
}

static void
on_send_failed(struct chat_client *c, void *udata, const char *chat_id, const char *message_id,
	       int err, const char *detail)
{
	(void)c;
	notify("sendFailed", out_send_failed_json(chat_id, message_id, err, detail));
}

/* Taken and acked (kept in the history, for a message): a notification, not
 * an error of the session. */
static void
on_undecryptable(struct chat_client *c, void *udata, const struct chat_undecryptable *u)
{
	(void)c;
	notify("undecryptable", out_undecryptable_json(u));
}

static void
on_typing(struct chat_client *c, void *udata, const struct chat_typing *t)
{
	(void)c;
	notify("typing", out_typing_json(t));
}

static int
add_name(void *arg, const char *user)
{
	cJSON_AddItemToArray(arg, cJSON_CreateString(user));
	return 0;
}

/* The block list changed (another device, or a connection that found it
 * changed): the whole list, as method blocked answers it. */
static void
on_blocked_changed(struct chat_client *c, void *udata)
{
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "users");

	if (arr == NULL || chat_blocked_users(c, add_name, arr) < 0) {
		cJSON_Delete(o);
		return;
	}
	notify("blocked", o);
}

/* History sync progress (issue 15), on either side. */
static void
on_history_sync(struct chat_client *c, void *udata, const struct chat_history_sync *h)
{
	(void)c;
	notify("historySync", out_history_json(h));
}

const struct chat_callbacks rpc_callbacks =
	CHAT_CALLBACKS_INIT(.on_message = on_message, .on_state = on_state,
			    .on_key_changed = on_key_changed, .on_update = on_update,
			    .on_receipt = on_receipt, .on_device_change = on_device_change,
			    .on_missed = on_missed, .on_send_failed = on_send_failed,
			    .on_undecryptable = on_undecryptable, .on_typing = on_typing,
			    .on_reaction = on_reaction, .on_message_changed = on_message_changed,
			    .on_timer = on_timer, .on_expired = on_expired,
			    .on_blocked_changed = on_blocked_changed,
			    .on_history_sync = on_history_sync);

/* ---- params ------------------------------------------------------------------------ */

/* What a method takes. A request with a param not listed, of another type, or
 * without one that is required is refused with -32602 naming it: a misspelt
 * or unsupported param must not be dropped silently (a send with "attach"
 * would go without its files). */
enum ptype {
	P_STR,  /* a string */
	P_INT,  /* an integer from min to max */
	P_LIST, /* an array of min to max strings */
	P_BOOL, /* true or false */
};

struct pspec {
	const char *name;
	enum ptype type;
	int required;
	int64_t min, max;
	const char *what; /* for the error: what it is */
};

#define MAX_PARAMS 3

struct method {
	const char *name;
	int (*fn)(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params);
	struct pspec params[MAX_PARAMS];
};

/* The type error for spec, as "params.NAME must be ...". */
static void
type_error(const struct pspec *p, char *buf, size_t cap)
{
	if (p->type == P_INT)
		snprintf(buf, cap, "params.%s must be an integer from %lld to %lld (%s)", p->name,
			 (long long)p->min, (long long)p->max, p->what);
	else if (p->type == P_BOOL)
		snprintf(buf, cap, "params.%s must be true or false (%s)", p->name, p->what);
	else if (p->type == P_LIST)
		snprintf(buf, cap, "params.%s must be an array of %lld to %lld strings (%s)",
			 p->name, (long long)p->min, (long long)p->max, p->what);
	else
		snprintf(buf, cap, "params.%s must be a string (%s)", p->name, p->what);
}

static int
type_ok(const struct pspec *p, const cJSON *v)
{
	const cJSON *e;
	int n;

	switch (p->type) {
	case P_STR: return cJSON_IsString(v);
	case P_BOOL: return cJSON_IsBool(v);
	case P_INT:
		/* The range first: converting a double out of int64_t's range is UB. */
		return cJSON_IsNumber(v) && v->valuedouble >= (double)p->min &&
		       v->valuedouble <= (double)p->max &&
		       v->valuedouble == (double)(int64_t)v->valuedouble;
	case P_LIST:
		if (!cJSON_IsArray(v) || (n = cJSON_GetArraySize(v)) < p->min || n > p->max)
			return 0;
		cJSON_ArrayForEach(e, v) {
			if (!cJSON_IsString(e))
				return 0;
		}
		return 1;
	}
	return 0;
}

static const struct pspec *
find_param(const struct method *m, const char *name)
{
	for (size_t i = 0; i < MAX_PARAMS && m->params[i].name != NULL; i++)
		if (strcmp(m->params[i].name, name) == 0)
			return &m->params[i];
	return NULL;
}

/* 1 if params suit m; else replies -32602 saying why, and returns 0. */
static int
check_params(struct rpc_peer *peer, const struct method *m, const cJSON *id, const cJSON *params)
{
	char msg[300];
	const cJSON *v;

	cJSON_ArrayForEach(v, params) {
		const struct pspec *p = find_param(m, v->string);

		if (p == NULL) {
			size_t n = (size_t)snprintf(msg, sizeof msg, "unknown param '%s' for %s",
						    v->string, m->name);

			for (size_t i = 0; i < MAX_PARAMS && m->params[i].name && n < sizeof msg;
			     i++)
				n += (size_t)snprintf(msg + n, sizeof msg - n, "%s%s",
						      i ? ", " : " (it takes: ",
						      m->params[i].name);
			if (n < sizeof msg)
				snprintf(msg + n, sizeof msg - n, "%s",
					 m->params[0].name ? ")" : " (it takes none)");
			reply_error(peer, id, RPC_INVALID_PARAMS, msg);
			return 0;
		}
		if (!type_ok(p, v)) {
			type_error(p, msg, sizeof msg);
			reply_error(peer, id, RPC_INVALID_PARAMS, msg);
			return 0;
		}
	}
	for (size_t i = 0; i < MAX_PARAMS && m->params[i].name != NULL; i++)
		if (m->params[i].required &&
		    cJSON_GetObjectItemCaseSensitive(params, m->params[i].name) == NULL) {
			snprintf(msg, sizeof msg, "params.%s is required (%s)", m->params[i].name,
				 m->params[i].what);
			reply_error(peer, id, RPC_INVALID_PARAMS, msg);
			return 0;
		}
	return 1;
}

/* ---- methods ------------------------------------------------------------------- */

static const char *
param_str(const cJSON *params, const char *name)
{
	return proto_get_str(params, name);
}

/* A list param (checked: strings only) as a malloc'd array of borrowed
 * strings, *n of them; NULL if absent or out of memory. */
static const char **
param_list(const cJSON *params, const char *name, size_t *n)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(params, name), *u;
	const char **list;

	*n = 0;
	if (!cJSON_IsArray(arr))
		return NULL;
	list = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *list);
	if (list == NULL)
		return NULL;
	cJSON_ArrayForEach(u, arr) list[(*n)++] = u->valuestring;
	return list;
}

static int
add_message(void *arg, const struct chat_message *m)
{
	cJSON_AddItemToArray(arg, out_message_json(m));
	return 0;
}

/* history: as chatctl history --json, an edited message with its edits. */
struct history_arr {
	cJSON *arr;
	struct chat_client *c;
};

static int
add_history(void *arg, const struct chat_message *m)
{
	struct history_arr *h = arg;

	cJSON_AddItemToArray(h->arr, out_history_message_json(h->c, m));
	return 0;
}

static int
copy_message(void *arg, const struct chat_message *m)
{
	*(cJSON **)arg = out_message_json(m);
	return 0;
}

/* A send (or retry) that failed once its message was stored: the error
 * carries the message's id and state in its data, so that a program does
 * not send it twice (pending: it goes out later; failed: retry or discard). */
static void
reply_send_failure(struct rpc_peer *peer, const cJSON *id, int err, const char *message_id)
{
	struct cli *cli = peer->rpc->cli;
	cJSON *msg = NULL, *o, *e;
	char detail[1024];

	if (message_id != NULL)
		chat_message_get(cli->c, message_id, copy_message, &msg);
	if (msg == NULL) {
		reply_failure(peer, id, err);
		return;
	}
	o = cJSON_CreateObject();
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "jsonrpc", "2.0");
	cJSON_AddItemToObject(o, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
	cJSON_AddNumberToObject(e, "code", cli_exit_code(err));
	cJSON_AddStringToObject(e, "message", cli_detail(cli, err, detail, sizeof detail));
	cJSON_AddItemToObject(e, "data", msg);
	cJSON_AddItemToObject(o, "error", e);
	emit(peer, o);
}

/* A call answered (or its peer gone): counted out, freed.
 * gcc -fanalyzer: no leak; the peer's output queue (peer_write) stays with
 * the peer, on rpc->peers, until rpc_peer_drop or rpc_free_peers frees it;
 * the analyzer loses it through call->peer (common/analyzer.h). */
ANALYZER_LEAK_FP_BEGIN
static void
call_end(struct rpc_call *call)
{
	call->peer->pending--;
	call->peer->rpc->pending--;
	cJSON_Delete(call->id);
	cJSON_Delete(call->acc);
	free(call->out);
	free(call);
}
ANALYZER_LEAK_FP_END

/* A chat's call done: what chatctl --json prints for the same command (the
 * chat for create; {chatId, left} for leave; the members for the others), or
 * {chatId} if the store cannot say. */
static void
reply_chat_done(struct rpc_call *call, const char *chat)
{
	struct chat_client *c = call->peer->rpc->cli->c;
	cJSON *result = NULL;
	int err;

	if (strcmp(call->method, "create") == 0)
		result = out_chat_by_id_json(c, chat);
	else if (strcmp(call->method, "leave") == 0)
		result = out_left_json(chat);
	else
		result = out_members_json(c, chat, &err);
	if (result == NULL) {
		result = cJSON_CreateObject();
		cJSON_AddStringToObject(result, "chatId", chat);
	}
	reply_result(call->peer, call->id, result);
}

static void
call_done(struct chat_client *c, void *arg, int err, const char *id)
{
	struct rpc_call *call = arg;
	struct rpc_peer *peer = call->peer;
	struct cli *cli = call->peer->rpc->cli;
	int sends = strcmp(call->method, "send") == 0 || strcmp(call->method, "retry") == 0 ||
		    strcmp(call->method, "reply") == 0 || strcmp(call->method, "react") == 0 ||
		    strcmp(call->method, "edit") == 0 || strcmp(call->method, "delete") == 0 ||
		    strcmp(call->method, "disappear") == 0;
	cJSON *result;

	(void)c;
	if (err != CHAT_OK && sends) {
		reply_send_failure(peer, call->id, err, id);
	} else if (err != CHAT_OK) {
		reply_failure(peer, call->id, err);
	} else if (sends) {
		result = NULL;
		chat_message_get(cli->c, id, copy_message, &result);
		reply_result(peer, call->id, result);
	} else {
		reply_chat_done(call, id ? id : "");
	}
	call_end(call);
}

static struct rpc_call *
new_call(struct rpc_peer *peer, const cJSON *id, const char *method)
{
	struct rpc_call *call = calloc(1, sizeof *call);

	if (call == NULL)
		return NULL;
	call->peer = peer;
	call->id = id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull();
	snprintf(call->method, sizeof call->method, "%s", method);
	return call;
}

/* Starts an asynchronous call; its answer comes from call_done. */
static int
start(struct rpc_peer *peer, const cJSON *id, struct rpc_call *call, int rc)
{
	if (rc != CHAT_OK) {
		reply_failure(peer, id, rc);
		cJSON_Delete(call->id);
		cJSON_Delete(call->acc);
		free(call->out);
		free(call);
		return 0;
	}
	peer->pending++;
	peer->rpc->pending++;
	return 0;
}

/* send: text, files, or both. */
static int
do_send(struct rpc_peer *peer, const cJSON *id, const char *chat, const cJSON *params,
	struct rpc_call *call)
{
	struct cli *cli = peer->rpc->cli;
	const char *text = param_str(params, "text"), **files;
	char kept[CHAT_MESSAGE_ID_LEN + 1] = "";
	size_t n = 0;
	int rc;

	if (cJSON_GetObjectItemCaseSensitive(params, "attach") == NULL) {
		rc = chat_send_text(cli->c, chat, text, strlen(text), kept, call_done, call);
		if (rc != CHAT_OK && kept[0] != '\0') {
			/* Stored, then connecting failed: it is kept, and says so. */
			reply_send_failure(peer, id, rc, kept);
			cJSON_Delete(call->id);
			free(call);
			return 0;
		}
		return start(peer, id, call, rc);
	}
	if ((files = param_list(params, "attach", &n)) == NULL)
		return start(peer, id, call, CHAT_ERR_NOMEM);
	rc = chat_send_files(cli->c, chat, text, files, n, NULL, call_done, call);
	free(files);
	return start(peer, id, call, rc);
}

/* reply and react: to a message of the chat, by its id or a prefix. */
static int
do_answer(struct rpc_peer *peer, const cJSON *id, const char *chat, const char *method,
	  const cJSON *params, struct rpc_call *call)
{
	struct cli *cli = peer->rpc->cli;
	char msg[CHAT_MESSAGE_ID_LEN + 1], kept[CHAT_MESSAGE_ID_LEN + 1] = "";
	const char *text = param_str(params, "text"), *emoji = param_str(params, "emoji");
	int rc = chat_resolve_message(cli->c, param_str(params, "message"), msg);

	if (rc == CHAT_OK && strcmp(method, "reply") == 0)
		rc = chat_send_reply(cli->c, chat, msg, text, strlen(text), kept, call_done, call);
	else if (rc == CHAT_OK && strcmp(method, "edit") == 0)
		rc = chat_edit(cli->c, chat, msg, text, strlen(text), kept, call_done, call);
	else if (rc == CHAT_OK && strcmp(method, "delete") == 0)
		rc = chat_delete_for_everyone(cli->c, chat, msg, kept, call_done, call);
	else if (rc == CHAT_OK)
		rc = chat_react(cli->c, chat, msg, emoji, kept, call_done, call);
	if (rc != CHAT_OK && kept[0] != '\0') {
		/* Stored, then connecting failed: it is kept, and says so. */
		reply_send_failure(peer, id, rc, kept);
		cJSON_Delete(call->id);
		free(call);
		return 0;
	}
	return start(peer, id, call, rc);
}

/* disappear: the chat's timer, a duration as chatctl disappear takes it. */
static int
do_disappear(struct rpc_peer *peer, const cJSON *id, const char *chat, const cJSON *params,
	     struct rpc_call *call)
{
	struct cli *cli = peer->rpc->cli;
	char kept[CHAT_MESSAGE_ID_LEN + 1] = "";
	long long seconds;
	int rc;

	if (chat_duration_parse(param_str(params, "duration"), &seconds) != 0 ||
	    (seconds != 0 && (seconds < CHAT_DISAPPEAR_MIN_S || seconds > CHAT_DISAPPEAR_MAX_S))) {
		cJSON_Delete(call->id);
		free(call);
		return reply_error(peer, id, RPC_INVALID_PARAMS,
				   "params.duration: off, or 30s to 90d (30s, 5m, 1h, 1d, 1w, or "
				   "seconds)");
	}
	rc = chat_set_disappearing(cli->c, chat, seconds, kept, call_done, call);
	if (rc != CHAT_OK && kept[0] != '\0') {
		/* Stored, then connecting failed: it is kept, and says so. */
		reply_send_failure(peer, id, rc, kept);
		cJSON_Delete(call->id);
		free(call);
		return 0;
	}
	return start(peer, id, call, rc);
}

static int
is_delete_chat(const char *method)
{
	return strcmp(method, "deleteChat") == 0;
}

static int
method_chat(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params)
{
	struct cli *cli = peer->rpc->cli;
	char chat[CHAT_CHAT_ID_LEN + 1];
	const char *spec = param_str(params, "chat"), **users = NULL;
	struct rpc_call *call;
	size_t n = 0;
	int rc;

	if ((rc = chat_resolve_chat(cli->c, spec, chat)) != CHAT_OK)
		return reply_failure(peer, id, rc);
	if (strcmp(method, "read") == 0) {
		cJSON *o;

		if ((rc = chat_mark_read(cli->c, chat)) < 0)
			return reply_failure(peer, id, rc);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "chatId", chat);
		cJSON_AddNumberToObject(o, "marked", rc);
		return reply_result(peer, id, o);
	}
	if (strcmp(method, "typing") == 0) {
		int64_t on = 1;
		cJSON *o;

		proto_get_int(params, "typing", 0, 1, &on);
		if ((rc = chat_typing(cli->c, chat, (int)on)) != CHAT_OK)
			return reply_failure(peer, id, rc);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "chatId", chat);
		cJSON_AddBoolToObject(o, "typing", on != 0);
		return reply_result(peer, id, o);
	}
	/* Delete for me: local, answered at once. */
	if (strcmp(method, "delete") == 0 || is_delete_chat(method)) {
		int64_t everyone = 0;
		char msg[CHAT_MESSAGE_ID_LEN + 1];
		cJSON *o;

		proto_get_int(params, "forEveryone", 0, 1, &everyone);
		if (strcmp(method, "delete") == 0 && everyone)
			goto everyone;
		if (is_delete_chat(method))
			rc = chat_delete_chat_for_me(cli->c, chat);
		else if ((rc = chat_resolve_message(cli->c, param_str(params, "message"), msg)) ==
			 CHAT_OK)
			rc = chat_delete_for_me(cli->c, msg);
		if (rc < 0)
			return reply_failure(peer, id, rc);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "chatId", chat);
		if (strcmp(method, "delete") == 0)
			cJSON_AddStringToObject(o, "messageId", msg);
		cJSON_AddBoolToObject(o, "deleted", 1);
		return reply_result(peer, id, o);
	}
everyone:
	if (strcmp(method, "history") == 0) {
		struct history_arr h = {cJSON_CreateArray(), cli->c};
		cJSON *arr = h.arr;
		int64_t limit = 0;

		proto_get_int(params, "limit", 1, 1000000, &limit);
		if ((rc = chat_history(cli->c, chat, (int)limit, add_history, &h)) < 0) {
			cJSON_Delete(arr);
			return reply_failure(peer, id, rc);
		}
		return reply_result(peer, id, arr);
	}
	if (strcmp(method, "send") == 0 && param_str(params, "text") == NULL &&
	    cJSON_GetObjectItemCaseSensitive(params, "attach") == NULL)
		return reply_error(peer, id, RPC_INVALID_PARAMS, "params.text or params.attach is required");
	if ((call = new_call(peer, id, method)) == NULL)
		return reply_error(peer, id, 1, "out of memory");
	if (strcmp(method, "send") == 0)
		return do_send(peer, id, chat, params, call);
	if (strcmp(method, "reply") == 0 || strcmp(method, "react") == 0 ||
	    strcmp(method, "edit") == 0 || strcmp(method, "delete") == 0)
		return do_answer(peer, id, chat, method, params, call);
	if (strcmp(method, "disappear") == 0)
		return do_disappear(peer, id, chat, params, call);
	if (strcmp(method, "leave") == 0) {
		rc = chat_leave(cli->c, chat, call_done, call);
	} else if (strcmp(method, "rename") == 0 || strcmp(method, "describe") == 0) {
		rc = method[0] == 'r'
			     ? chat_update_group(cli->c, chat, param_str(params, "name"), NULL,
						 call_done, call)
			     : chat_update_group(cli->c, chat, NULL,
						 param_str(params, "description"), call_done, call);
	} else if (strcmp(method, "promote") == 0 || strcmp(method, "demote") == 0) {
		users = param_list(params, "users", &n);
		rc = users == NULL ? CHAT_ERR_NOMEM
				   : chat_modify_admins(cli->c, chat,
							method[0] == 'p' ? CHAT_ADMINS_PROMOTE
									 : CHAT_ADMINS_DEMOTE,
							users, n, call_done, call);
		free(users);
	} else {
		users = param_list(params, "users", &n);
		rc = users == NULL ? CHAT_ERR_NOMEM
				   : chat_modify_members(cli->c, chat,
							 strcmp(method, "add") == 0
								 ? CHAT_MEMBERS_ADD
								 : CHAT_MEMBERS_REMOVE,
							 users, n, call_done, call);
		free(users);
	}
	return start(peer, id, call, rc);
}

/* chats: as chatctl chats lists them; archived ones with archived 1 (only
 * them) or all 1 (cmd-prefs.c). */
static int
method_chats(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params)
{
	(void)method;
	return reply_result(peer, id, cli_chats_json(peer->rpc->cli, params));
}

static int
method_whoami(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params)
{
	(void)method;
	(void)params;
	return reply_result(peer, id, out_identity_json(peer->rpc->cli->c));
}

static int
method_trust(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params)
{
	int n = chat_trust(peer->rpc->cli->c, param_str(params, "user"));

	(void)method;
	if (n < 0)
		return reply_failure(peer, id, n);
	return reply_result(peer, id, out_trust_json(param_str(params, "user"), n));
}

static int
method_create(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params)
{
	struct cli *cli = peer->rpc->cli;
	const char *name = param_str(params, "name"), **users;
	struct rpc_call *call;
	size_t n;
	int rc;

	if ((users = param_list(params, "users", &n)) == NULL)
		return reply_error(peer, id, 1, "out of memory");
	if ((call = new_call(peer, id, method)) == NULL) {
		free(users);
		return reply_error(peer, id, 1, "out of memory");
	}
	rc = name ? chat_create_group(cli->c, name, users, n, call_done, call)
		  : chat_create_chat(cli->c, users, n, call_done, call);
	free(users);
	return start(peer, id, call, rc);
}

static int
method_outbox(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params)
{
	cJSON *arr = cJSON_CreateArray();
	int rc = chat_outbox(peer->rpc->cli->c, add_message, arr);

	(void)method;
	(void)params;
	if (rc < 0) {
		cJSON_Delete(arr);
		return reply_failure(peer, id, rc);
	}
	return reply_result(peer, id, arr);
}

/* retry and discard: a message of the outbox, by its id or a prefix. */
static int
method_message(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params)
{
	struct cli *cli = peer->rpc->cli;
	char msg[CHAT_MESSAGE_ID_LEN + 1];
	struct rpc_call *call;
	cJSON *o;
	int rc;

	if ((rc = chat_resolve_message(cli->c, param_str(params, "message"), msg)) != CHAT_OK)
		return reply_failure(peer, id, rc);
	if (strcmp(method, "discard") == 0) {
		if ((rc = chat_discard(cli->c, msg)) != CHAT_OK)
			return reply_failure(peer, id, rc);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "messageId", msg);
		cJSON_AddBoolToObject(o, "discarded", 1);
		return reply_result(peer, id, o);
	}
	if ((call = new_call(peer, id, method)) == NULL)
		return reply_error(peer, id, 1, "out of memory");
	return start(peer, id, call, chat_retry(cli->c, msg, call_done, call));
}

/* block and unblock: the answer says what the user is now, as chatctl
 * --json does; blocked: the list, by name, fetched from the server. */
static void
block_done(struct chat_client *c, void *arg, int err, const char *id)
{
	struct rpc_call *call = arg;
	struct rpc_peer *peer = call->peer;
	cJSON *result;

	(void)id;
	if (err != CHAT_OK) {
		reply_failure(peer, call->id, err);
	} else if (strcmp(call->method, "blocked") == 0) {
		result = cJSON_CreateArray();
		if (result == NULL || chat_blocked_users(c, add_name, result) < 0) {
			cJSON_Delete(result);
			reply_failure(peer, call->id, CHAT_ERR_STORE);
		} else {
			reply_result(peer, call->id, result);
		}
	} else {
		result = cJSON_CreateObject();
		cJSON_AddStringToObject(result, "user", call->user);
		cJSON_AddBoolToObject(result, "blocked", strcmp(call->method, "block") == 0);
		reply_result(peer, call->id, result);
	}
	call_end(call);
}

static int
method_block(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params)
{
	struct cli *cli = peer->rpc->cli;
	const char *user = param_str(params, "user");
	struct rpc_call *call;
	int rc;

	if ((call = new_call(peer, id, method)) == NULL)
		return reply_error(peer, id, 1, "out of memory");
	if (user != NULL)
		snprintf(call->user, sizeof call->user, "%s", user);
	if (strcmp(method, "block") == 0)
		rc = chat_block_user(cli->c, user, block_done, call);
	else if (strcmp(method, "unblock") == 0)
		rc = chat_unblock_user(cli->c, user, block_done, call);
	else
		rc = chat_refresh_blocked(cli->c, block_done, call);
	return start(peer, id, call, rc);
}

/* mute, unmute, pin, unpin, archive, unarchive (cmd-prefs.c): local, answered
 * at once with the chat as chats lists it. */
static int
method_prefs(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params)
{
	char chat[CHAT_CHAT_ID_LEN + 1], err[256];
	int rc = chat_resolve_chat(peer->rpc->cli->c, param_str(params, "chat"), chat);

	if (rc == CHAT_OK)
		rc = cli_prefs_apply(peer->rpc->cli, method, chat, param_str(params, "duration"), err,
				     sizeof err);
	if (rc > 0)
		return reply_error(peer, id, RPC_INVALID_PARAMS, err);
	if (rc != CHAT_OK)
		return reply_failure(peer, id, rc);
	return reply_result(peer, id, cli_prefs_json(peer->rpc->cli, chat));
}

/* search: the local store's full-text search (chatctl search). */
static int
method_search(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params)
{
	struct cli *cli = peer->rpc->cli;
	const char *spec = param_str(params, "chat");
	char chat[CHAT_CHAT_ID_LEN + 1];
	int64_t limit = 50;
	cJSON *arr;
	int rc;

	(void)method;
	if (spec != NULL && (rc = chat_resolve_chat(cli->c, spec, chat)) != CHAT_OK)
		return reply_failure(peer, id, rc);
	proto_get_int(params, "limit", 1, 1000000, &limit);
	if ((arr = cJSON_CreateArray()) == NULL)
		return reply_error(peer, id, 1, "out of memory");
	rc = chat_search(cli->c, param_str(params, "words"), spec ? chat : NULL, (int)limit,
			 add_message, arr);
	if (rc < 0) {
		cJSON_Delete(arr);
		/* Words of nothing but white space, or too many: the params'. */
		if (rc == CHAT_ERR_INVALID)
			return reply_error(peer, id, RPC_INVALID_PARAMS, chat_client_errmsg(cli->c));
		return reply_failure(peer, id, rc);
	}
	return reply_result(peer, id, arr);
}

/* subscribe: notifications from now on, all of them or those named in
 * params.events; unsubscribe: none. chatctl rpc's peer is subscribed to all
 * from the start, as it always was. */
static int
method_subscribe(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(params, "events"), *e;
	uint32_t events = 0;
	cJSON *o, *arr;

	if (strcmp(method, "unsubscribe") == 0) {
		peer->subscribed = 0;
		peer->events = 0;
		return reply_result(peer, id, cJSON_CreateObject());
	}
	cJSON_ArrayForEach(e, list) {
		int bit = event_bit(e->valuestring);

		if (bit < 0) {
			char msg[300];
			size_t n = 0;
			const char *near;

			while (rpc_event_names[n] != NULL)
				n++;
			near = cli_suggest(e->valuestring, rpc_event_names, n);
			snprintf(msg, sizeof msg, "params.events: no event '%s'%s%s%s (see chatctl(1))",
				 out_esc(e->valuestring), near ? "; did you mean '" : "",
				 near ? near : "", near ? "'?" : "");
			return reply_error(peer, id, RPC_INVALID_PARAMS, msg);
		}
		events |= UINT32_C(1) << bit;
	}
	peer->subscribed = 1;
	peer->events = list != NULL ? events : UINT32_MAX;
	o = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(o, "events");
	for (int i = 0; rpc_event_names[i] != NULL; i++)
		if (peer->events & (UINT32_C(1) << i))
			cJSON_AddItemToArray(arr, cJSON_CreateString(rpc_event_names[i]));
	return reply_result(peer, id, o);
}

/* recv: answered once everything the server held for this device has been
 * received, stored and acked (chatctl recv's "drained"), or after params.wait
 * seconds more; what came went out as notifications to the subscribed and is
 * in history. A failure (code 3) if it could not catch up within the
 * timeout (chatctl --timeout, else 30 s). */
static int
method_recv(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params)
{
	struct rpc *rpc = peer->rpc;
	struct rpc_call *call = new_call(peer, id, method);
	int64_t wait = 0;

	if (call == NULL)
		return reply_error(peer, id, 1, "out of memory");
	proto_get_int(params, "wait", 0, 86400, &wait);
	call->deadline = proto_mono_ms() +
			 (rpc->cli->timeout_ms > 0 ? rpc->cli->timeout_ms : 30000);
	call->wait_ms = wait * 1000;
	call->next = rpc->waiting;
	rpc->waiting = call;
	peer->pending++;
	rpc->pending++;
	return 0;
}

/* Answers the recv calls that have caught up (or given up). */
static void
recv_tick(struct rpc *rpc)
{
	struct chat_client *c = rpc->cli->c;
	int caught_up = chat_client_drained(c) && chat_client_idle(c) &&
			chat_client_state(c) == CHAT_STATE_ONLINE;
	int64_t now = proto_mono_ms();

	for (struct rpc_call **pp = &rpc->waiting; *pp != NULL;) {
		struct rpc_call *call = *pp;

		if (call->until == 0 && caught_up)
			call->until = now + call->wait_ms;
		if (call->until == 0 ? now < call->deadline : now < call->until) {
			pp = &call->next;
			continue;
		}
		*pp = call->next;
		if (call->until != 0) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddBoolToObject(o, "drained", 1);
			reply_result(call->peer, call->id, o);
		} else {
			reply_failure(call->peer, call->id, CHAT_ERR_TIMEOUT);
		}
		call_end(call);
	}
}

/* ---- the commands rpc lacked: members, lastseen, privacy, verify, device
 * list/approve/remove, download (same JSON as chatctl --json: output.c) ---- */

static void
step_done(struct chat_client *c, void *arg, int err, const char *id)
{
	struct rpc_call *call = arg;

	(void)c;
	call->finish(call, err, id);
}

/* Starts a call of several steps: finish runs when libchat's part is done. */
static struct rpc_call *
new_step_call(struct rpc_peer *peer, const cJSON *id, const char *method,
	      void (*finish)(struct rpc_call *, int, const char *))
{
	struct rpc_call *call = new_call(peer, id, method);

	if (call == NULL)
		reply_error(peer, id, 1, "out of memory");
	else
		call->finish = finish;
	return call;
}

/* Answers with doc, or with err's failure if doc is NULL; ends the call. */
static void
answer(struct rpc_call *call, cJSON *doc, int err)
{
	if (doc != NULL)
		reply_result(call->peer, call->id, doc);
	else
		reply_failure(call->peer, call->id, err);
	call_end(call);
}

static void
members_finish(struct rpc_call *call, int err, const char *id)
{
	(void)id;
	answer(call, err == CHAT_OK ? out_members_json(call->peer->rpc->cli->c, call->chat, &err)
				    : NULL,
	       err);
}

/* members: asks the server first, as chatctl members does. */
static int
method_members(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params)
{
	struct chat_client *c = peer->rpc->cli->c;
	char chat[CHAT_CHAT_ID_LEN + 1];
	struct rpc_call *call;
	int rc;

	if ((rc = chat_resolve_chat(c, param_str(params, "chat"), chat)) != CHAT_OK)
		return reply_failure(peer, id, rc);
	if ((call = new_step_call(peer, id, method, members_finish)) == NULL)
		return 0;
	memcpy(call->chat, chat, sizeof chat);
	return start(peer, id, call, chat_refresh_chat(c, chat, step_done, call));
}

static void
seen_done(struct chat_client *c, void *arg, int err, const char *user, int online, int64_t at)
{
	(void)c;
	answer(arg, err == CHAT_OK ? out_lastseen_json(user, online, at) : NULL, err);
}

static int
method_lastseen(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params)
{
	struct rpc_call *call = new_call(peer, id, method);

	if (call == NULL)
		return reply_error(peer, id, 1, "out of memory");
	return start(peer, id, call,
		     chat_last_seen(peer->rpc->cli->c, param_str(params, "user"), seen_done, call));
}

static void
privacy_finish(struct rpc_call *call, int err, const char *id)
{
	(void)id;
	answer(call, err == CHAT_OK ? out_privacy_json((int)call->number, call->flag) : NULL, err);
}

/* privacy: hideTyping is this home's own (at once); hideLastSeen asks the server. */
static int
method_privacy(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params)
{
	const cJSON *hide = cJSON_GetObjectItemCaseSensitive(params, "hideLastSeen");
	const cJSON *typing = cJSON_GetObjectItemCaseSensitive(params, "hideTyping");
	struct chat_client *c = peer->rpc->cli->c;
	struct rpc_call *call;
	int rc;

	if (hide == NULL && typing == NULL)
		return reply_error(peer, id, RPC_INVALID_PARAMS,
				   "params.hideLastSeen or params.hideTyping is required");
	if (typing != NULL && (rc = chat_set_typing_privacy(c, cJSON_IsTrue(typing))) != CHAT_OK)
		return reply_failure(peer, id, rc);
	if ((call = new_step_call(peer, id, method, privacy_finish)) == NULL)
		return 0;
	call->number = hide == NULL ? -1 : cJSON_IsTrue(hide);
	call->flag = typing == NULL ? -1 : cJSON_IsTrue(typing);
	if (hide == NULL) {
		/* Nothing for the server: answered at once, through the same end. */
		peer->pending++;
		peer->rpc->pending++;
		privacy_finish(call, CHAT_OK, NULL);
		return 0;
	}
	return start(peer, id, call, chat_set_privacy(c, (int)call->number, step_done, call));
}

static void
verify_finish(struct rpc_call *call, int err, const char *id)
{
	char number[CHAT_SAFETY_NUMBER_LEN + 1];

	(void)id;
	if (err == CHAT_OK)
		err = chat_safety_number(call->peer->rpc->cli->c, call->user, number);
	answer(call, err == CHAT_OK ? out_safety_json(call->user, number) : NULL, err);
}

static void
devices_finish(struct rpc_call *call, int err, const char *id)
{
	struct chat_client *c = call->peer->rpc->cli->c;

	(void)id;
	answer(call, err == CHAT_OK ? out_devices_json(c, chat_client_user(c), &err) : NULL, err);
}

/* verify and deviceList: against the directory as it is now (a changed key
 * shows up), as chatctl's do. */
static int
method_keys(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params)
{
	struct chat_client *c = peer->rpc->cli->c;
	const char *users[2] = {chat_client_user(c), param_str(params, "user")};
	int verify = strcmp(method, "verify") == 0;
	struct rpc_call *call;

	if (users[0] == NULL)
		return reply_failure(peer, id, CHAT_ERR_NOT_REGISTERED);
	if ((call = new_step_call(peer, id, method, verify ? verify_finish : devices_finish)) ==
	    NULL)
		return 0;
	if (verify)
		snprintf(call->user, sizeof call->user, "%s", users[1]);
	return start(peer, id, call,
		     chat_refresh_keys(c, users, verify ? 2 : 1, step_done, call));
}

static void
approve_finish(struct rpc_call *call, int err, const char *id)
{
	struct chat_client *c = call->peer->rpc->cli->c;

	answer(call,
	       err == CHAT_OK ? out_approved_json(chat_client_user(c), id ? atol(id) : 0) : NULL,
	       err);
}

static int
method_approve(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params)
{
	struct rpc_call *call;
	int64_t days = CHAT_HISTORY_DAYS_DEFAULT;
	int rc;

	/* What history the new device gets (chatctl's --history-days). */
	proto_get_int(params, "historyDays", 0, CHAT_HISTORY_DAYS_MAX, &days);
	if ((rc = chat_set_history_days(peer->rpc->cli->c, (int)days)) != CHAT_OK)
		return reply_failure(peer, id, rc);
	if ((call = new_step_call(peer, id, method, approve_finish)) == NULL)
		return 0;
	return start(peer, id, call,
		     chat_approve_device(peer->rpc->cli->c, param_str(params, "code"), step_done,
					 call));
}

static void
removed_finish(struct rpc_call *call, int err, const char *id)
{
	(void)id;
	answer(call, err == CHAT_OK ? out_removed_json(call->number) : NULL, err);
}

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

/* Not the last device, unless forced: as chatctl device remove. */
static void
remove_checked(struct rpc_call *call, int err, const char *id)
{
	struct chat_client *c = call->peer->rpc->cli->c;
	struct device_count dc = {(uint32_t)call->number, 0, 0};
	char msg[300];
	int rc;

	(void)id;
	if (err != CHAT_OK) {
		answer(call, NULL, err);
		return;
	}
	chat_devices(c, chat_client_user(c), count_device, &dc);
	if (dc.found && dc.n <= 1) {
		snprintf(msg, sizeof msg,
			 "device %ld is %s's last device: removing it locks %s out for good; "
			 "give force: true if that is what you want",
			 call->number, chat_client_user(c), chat_client_user(c));
		reply_error(call->peer, call->id, EXIT_USAGE, msg);
		call_end(call);
		return;
	}
	call->finish = removed_finish;
	if ((rc = chat_remove_device(c, (uint32_t)call->number, step_done, call)) != CHAT_OK)
		answer(call, NULL, rc);
}

static int
method_remove_device(struct rpc_peer *peer, const cJSON *id, const char *method,
		     const cJSON *params)
{
	struct chat_client *c = peer->rpc->cli->c;
	const char *me[1] = {chat_client_user(c)};
	int64_t device = 0;
	struct rpc_call *call;

	proto_get_int(params, "deviceId", 1, PROTO_DEVICE_ID_MAX, &device);
	if ((call = new_step_call(peer, id, method, remove_checked)) == NULL)
		return 0;
	call->number = (long)device;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(params, "force")) || me[0] == NULL) {
		call->finish = removed_finish;
		return start(peer, id, call,
			     chat_remove_device(c, (uint32_t)device, step_done, call));
	}
	return start(peer, id, call, chat_refresh_keys(c, me, 1, step_done, call));
}

static int
count_files(void *arg, const struct chat_message *m)
{
	*(size_t *)arg = m->n_attachments;
	return 0;
}

/* Each file in turn, as chatctl download fetches them. */
static void
download_finish(struct rpc_call *call, int err, const char *id)
{
	struct chat_client *c = call->peer->rpc->cli->c;
	int rc;

	if (err != CHAT_OK) {
		answer(call, NULL, err);
		return;
	}
	cJSON_AddItemToArray(call->acc, out_download_json(call->k + 1, id ? id : ""));
	if (++call->k == call->end) {
		cJSON *doc = call->acc;

		call->acc = NULL;
		answer(call, doc, CHAT_OK);
		return;
	}
	if ((rc = chat_download(c, call->msg, call->k, call->out, NULL, step_done, call)) !=
	    CHAT_OK)
		answer(call, NULL, rc);
}

static int
method_download(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params)
{
	struct chat_client *c = peer->rpc->cli->c;
	const char *out = param_str(params, "out");
	char msg[CHAT_MESSAGE_ID_LEN + 1], why[300];
	int64_t index = 0;
	size_t n = 0;
	struct rpc_call *call;
	int rc;

	proto_get_int(params, "index", 1, CHAT_MAX_ATTACHMENTS, &index);
	if ((rc = chat_resolve_message(c, param_str(params, "message"), msg)) != CHAT_OK ||
	    (rc = chat_message_get(c, msg, count_files, &n)) != CHAT_OK)
		return reply_failure(peer, id, rc);
	if (n == 0 || (size_t)index > n) {
		snprintf(why, sizeof why, "download: message %s has %zu file%s", msg, n,
			 n == 1 ? "" : "s");
		return reply_error(peer, id, EXIT_REFUSED, why);
	}
	if (out != NULL && n > 1 && index == 0) {
		snprintf(why, sizeof why, "the message has %zu files: give params.index with params.out",
			 n);
		return reply_error(peer, id, RPC_INVALID_PARAMS, why);
	}
	if ((call = new_step_call(peer, id, method, download_finish)) == NULL)
		return 0;
	memcpy(call->msg, msg, sizeof msg);
	call->k = index ? (size_t)index - 1 : 0;
	call->end = index ? (size_t)index : n;
	call->acc = cJSON_CreateArray();
	if (call->acc == NULL || (out != NULL && (call->out = strdup(out)) == NULL))
		return start(peer, id, call, CHAT_ERR_NOMEM);
	return start(peer, id, call, chat_download(c, msg, call->k, call->out, NULL, step_done, call));
}

/* ---- a home with no device yet: register and deviceLink (issue 15) ---------- */

/* The first step of a home with no device: said to every other method. */
#define NO_DEVICE_YET "this home has no device yet: call register or deviceLink first"

static void
joined(struct rpc_call *call, int err, const char *id)
{
	struct rpc *rpc = call->peer->rpc;
	struct chat_client *c = rpc->cli->c;
	cJSON *doc = NULL;

	(void)id;
	rpc->joining = 0;
	rpc->join_until = 0;
	if (err != CHAT_OK && rpc->join_lapsed) {
		/* The server forgot it, silently: said as chatctl device link says it. */
		rpc->join_lapsed = 0;
		reply_error(call->peer, call->id, EXIT_FAIL,
			    "device link: not approved within 10 minutes");
		call_end(call);
		return;
	}
	if (err == CHAT_OK) {
		/* The handle is this device's session now, online, taking
		 * delivery: every method works from here on. */
		rpc->no_device = 0;
		fprintf(stderr, "chatctl %s: this home is now %s's device %u\n",
			rpc->what, out_esc(chat_client_user(c)),
			chat_client_device_id(c));
		if (strcmp(call->method, "register") == 0) {
			doc = out_identity_json(c);
		} else {
			/* What chatctl --json device link prints once approved. */
			doc = cJSON_CreateObject();
			cJSON_AddStringToObject(doc, "user", chat_client_user(c));
			cJSON_AddNumberToObject(doc, "deviceId", chat_client_device_id(c));
			cJSON_AddStringToObject(doc, "server", chat_client_server_url(c));
		}
	}
	answer(call, doc, err);
}

/* deviceLink's code, to the caller alone and before the answer: a person
 * has to type it on one of the user's devices for the answer to come. The
 * same object chatctl --json device link prints first. */
static void
link_code(struct chat_client *c, void *arg, const char *code)
{
	struct rpc_call *call = arg;
	cJSON *o = cJSON_CreateObject(), *p = out_link_code_json(c, code);

	cJSON_AddStringToObject(o, "jsonrpc", "2.0");
	cJSON_AddStringToObject(o, "method", "linkCode");
	cJSON_AddItemToObject(o, "params", p);
	emit(call->peer, o);
}

/* register and deviceLink: this home becomes a device, in this process. */
static int
method_join(struct rpc_peer *peer, const cJSON *id, const char *method, const cJSON *params)
{
	struct rpc *rpc = peer->rpc;
	struct chat_client *c = rpc->cli->c;
	const char *user = param_str(params, "user"), *name = param_str(params, "name");
	struct rpc_call *call;
	char msg[300];
	int rc;

	if (rpc->joining)
		return reply_error(peer, id, EXIT_USAGE,
				   "a register or deviceLink is under way already: wait for "
				   "its answer");
	if (chat_client_user(c) != NULL) {
		snprintf(msg, sizeof msg,
			 "this home is %s's device %u already: %s makes a new device, on a "
			 "home of its own",
			 out_esc(chat_client_user(c)), chat_client_device_id(c), method);
		return reply_error(peer, id, cli_exit_code(CHAT_ERR_REGISTERED), msg);
	}
	if (chat_client_server_url(c) == NULL) {
		snprintf(msg, sizeof msg,
			 "no server: start chatctl %s with --server ws://HOST:PORT/ (or set "
			 "CHATCTL_SERVER)",
			 rpc->what);
		return reply_error(peer, id, EXIT_USAGE, msg);
	}
	if ((call = new_step_call(peer, id, method, joined)) == NULL)
		return 0;
	if (strcmp(method, "register") == 0)
		rc = chat_register(c, user, name, step_done, call);
	else
		rc = chat_link_device(c, user, name, link_code, step_done, call);
	if (rc == CHAT_OK) {
		rpc->joining = 1;
		/* The server forgets a link request after 10 minutes and says
		 * nothing; libchat waits on: rpc_tick gives up then, as chatctl
		 * device link does. */
		if (strcmp(method, "deviceLink") == 0)
			rpc->join_until = proto_mono_ms() + RPC_LINK_WAIT_MS;
	}
	return start(peer, id, call, rc);
}

/* The methods a home with no device yet serves: those that make it one, and
 * subscribe, so that a client hears the session come up. */
static int
empty_home(const char *method)
{
	static const char *const ok[] = {"register", "deviceLink", "subscribe", "unsubscribe"};

	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
		if (strcmp(method, ok[i]) == 0)
			return 1;
	return 0;
}

int
rpc_no_device(struct rpc *rpc)
{
	rpc->no_device = chat_client_user(rpc->cli->c) == NULL;
	return rpc->no_device;
}

#define CHAT_P  {"chat", P_STR, 1, 0, 0, "a chat id, prefix or @user"}
#define USERS_P {"users", P_LIST, 1, 1, 100, "user names"}
#define MSG_P   {"message", P_STR, 1, 0, 0, "a message id or a prefix of at least 4 hex digits"}

/* clang-format off */
static const struct method methods[] = {
	{"send", method_chat, {CHAT_P, {"text", P_STR, 0, 0, 0, "the message's text"},
			       {"attach", P_LIST, 0, 1, CHAT_MAX_ATTACHMENTS, "paths of files"}}},
	{"reply", method_chat, {CHAT_P, MSG_P, {"text", P_STR, 1, 0, 0, "the reply's text"}}},
	{"react", method_chat, {CHAT_P, MSG_P, {"emoji", P_STR, 1, 0, 0,
						"an emoji, or \"\" to take yours back"}}},
	{"edit", method_chat, {CHAT_P, MSG_P, {"text", P_STR, 1, 0, 0, "the new text"}}},
	{"delete", method_chat, {CHAT_P, MSG_P, {"forEveryone", P_INT, 0, 0, 1,
						 "1: for everyone (yours, within 48 h); 0: here only"}}},
	{"deleteChat", method_chat, {CHAT_P}},
	{"disappear", method_chat, {CHAT_P, {"duration", P_STR, 1, 0, 0,
					     "off, or 30s to 90d (30s, 5m, 1h, 1d, 1w, seconds)"}}},
	{"history", method_chat, {CHAT_P, {"limit", P_INT, 0, 1, 1000000, "the newest N"}}},
	{"search", method_search, {{"words", P_STR, 1, 0, 0, "the words to find"},
				   {"chat", P_STR, 0, 0, 0, "a chat id, prefix or @user"},
				   {"limit", P_INT, 0, 1, 1000000, "the newest N hits"}}},
	{"read", method_chat, {CHAT_P}},
	{"typing", method_chat, {CHAT_P, {"typing", P_INT, 0, 0, 1, "1 typing (default), 0 stopped"}}},
	{"add", method_chat, {CHAT_P, USERS_P}},
	{"remove", method_chat, {CHAT_P, USERS_P}},
	{"leave", method_chat, {CHAT_P}},
	{"promote", method_chat, {CHAT_P, USERS_P}},
	{"demote", method_chat, {CHAT_P, USERS_P}},
	{"rename", method_chat, {CHAT_P, {"name", P_STR, 1, 0, 0, "the group's new name"}}},
	{"describe", method_chat, {CHAT_P, {"description", P_STR, 1, 0, 0,
					    "the group's description, \"\" to remove it"}}},
	{"create", method_create, {{"users", P_LIST, 1, 1, 99, "user names"},
				   {"name", P_STR, 0, 0, 0, "a group's name"}}},
	{"chats", method_chats, {{"archived", P_INT, 0, 0, 1, "1: only the archived chats"},
				 {"all", P_INT, 0, 0, 1, "1: every chat, archived ones too"}}},
	{"whoami", method_whoami, {{0}}},
	{"trust", method_trust, {{"user", P_STR, 1, 0, 0, "a user name"}}},
	{"block", method_block, {{"user", P_STR, 1, 0, 0, "a user name"}}},
	{"unblock", method_block, {{"user", P_STR, 1, 0, 0, "a user name"}}},
	{"blocked", method_block, {{0}}},
	/* issue 15's chat preferences (cmd-prefs.c) */
	{"mute", method_prefs, {CHAT_P, {"duration", P_STR, 0, 0, 0,
					 "forever (the default), or 30s, 5m, 8h, 1d, 1w, seconds"}}},
	{"unmute", method_prefs, {CHAT_P}},
	{"pin", method_prefs, {CHAT_P}},
	{"unpin", method_prefs, {CHAT_P}},
	{"archive", method_prefs, {CHAT_P}},
	{"unarchive", method_prefs, {CHAT_P}},
	{"outbox", method_outbox, {{0}}},
	{"retry", method_message, {MSG_P}},
	{"discard", method_message, {MSG_P}},
	/* i15-daemon: subscriptions, recv, and the commands rpc lacked. */
	{"subscribe", method_subscribe, {{"events", P_LIST, 0, 0, 32, "notification names"}}},
	{"unsubscribe", method_subscribe, {{0}}},
	{"recv", method_recv, {{"wait", P_INT, 0, 0, 86400, "seconds to wait after catching up"}}},
	{"members", method_members, {CHAT_P}},
	{"lastseen", method_lastseen, {{"user", P_STR, 1, 0, 0, "a user name"}}},
	{"privacy", method_privacy, {{"hideLastSeen", P_BOOL, 0, 0, 0, "hide your last seen"},
				     {"hideTyping", P_BOOL, 0, 0, 0, "hide typing both ways"}}},
	{"verify", method_keys, {{"user", P_STR, 1, 0, 0, "a user name"}}},
	{"deviceList", method_keys, {{0}}},
	{"deviceApprove", method_approve, {{"code", P_STR, 1, 0, 0,
					    "the link code the new device shows"},
					   {"historyDays", P_INT, 0, 0, CHAT_HISTORY_DAYS_MAX,
					    "days of history sent to it (default 30, 0 none)"}}},
	{"deviceRemove", method_remove_device, {{"deviceId", P_INT, 1, 1, PROTO_DEVICE_ID_MAX,
						 "a device id (deviceList)"},
						{"force", P_BOOL, 0, 0, 0,
						 "true: even the last device"}}},
	{"download", method_download, {MSG_P, {"index", P_INT, 0, 1, CHAT_MAX_ATTACHMENTS,
					       "which file, from 1 (default: all)"},
				       {"out", P_STR, 0, 0, 0, "where to (one file only)"}}},
	/* i15-rpcreg: a home with no device yet becomes one (see empty_home). */
	{"register", method_join, {{"user", P_STR, 1, 0, 0, "the user name to register"},
				   {"name", P_STR, 0, 0, 0, "this device's name"}}},
	{"deviceLink", method_join, {{"user", P_STR, 1, 0, 0, "the user to join"},
				     {"name", P_STR, 0, 0, 0, "this device's name"}}},
};
/* clang-format on */

/* The method names, for "did you mean". */
static const char *method_names[sizeof methods / sizeof *methods];

static const char *
near_method(const char *name)
{
	size_t n = sizeof methods / sizeof *methods;

	for (size_t i = 0; i < n; i++)
		method_names[i] = methods[i].name;
	return cli_suggest(name, method_names, n);
}

static int
dispatch(struct rpc_peer *peer, const cJSON *req)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(req, "params");
	const char *method = proto_get_str(req, "method");
	const char *near;
	char msg[300];
	cJSON *none = NULL;
	int rc = 0;

	for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
		if (strcmp(method, methods[i].name) != 0)
			continue;
		if (peer->rpc->no_device && !empty_home(method))
			return reply_error(peer, id, cli_exit_code(CHAT_ERR_NOT_REGISTERED),
					   NO_DEVICE_YET);
		if (params == NULL)
			params = none = cJSON_CreateObject();
		if (check_params(peer, &methods[i], id, params))
			rc = methods[i].fn(peer, id, method, params);
		cJSON_Delete(none);
		return rc;
	}
	if ((near = near_method(method)) != NULL)
		snprintf(msg, sizeof msg, "unknown method '%s'; did you mean '%s'? (chatctl(1), rpc)",
			 out_esc(method), near);
	else
		snprintf(msg, sizeof msg, "unknown method '%s'; see chatctl(1), rpc", out_esc(method));
	reply_error(peer, id, RPC_METHOD_NOT_FOUND, msg);
	return 0;
}

static void
handle_line(void *arg, char *line, size_t len)
{
	struct rpc_peer *peer = arg;
	const char *why;
	cJSON *req = NULL;
	int code;

	if (len == 0 || peer->gone)
		return;
	if ((code = rpc_request_parse(line, len, &req, &why)) != 0)
		reply_error(peer, cJSON_GetObjectItemCaseSensitive(req, "id"), code, why);
	else
		dispatch(peer, req);
	cJSON_Delete(req);
}

static void
line_too_long(void *arg)
{
	reply_error(arg, NULL, RPC_INVALID_REQUEST, "request line over 1 MiB");
}

void
rpc_peer_input(struct rpc_peer *p, const char *buf, size_t n)
{
	if (p->gone)
		return;
	if (rpc_frame_feed(&p->in, buf, n, handle_line, line_too_long, p) < 0)
		reply_error(p, NULL, RPC_INVALID_REQUEST, "out of memory for a request line");
}

void
rpc_tick(struct rpc *rpc)
{
	recv_tick(rpc);
	if (rpc->joining && rpc->join_until != 0 && proto_mono_ms() > rpc->join_until) {
		/* Completes the link with CHAT_ERR_CONNECTION_LOST: joined() answers. */
		rpc->join_lapsed = 1;
		rpc->join_until = 0;
		chat_client_disconnect(rpc->cli->c);
	}
	for (struct rpc_peer **pp = &rpc->peers; *pp != NULL;) {
		struct rpc_peer *p = *pp;

		if (!p->gone || p->pending > 0) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		rpc_frame_free(&p->in);
		free(p);
	}
}

void
rpc_free_peers(struct rpc *rpc)
{
	/* The recv calls still waiting: their peers go, so do they. */
	while (rpc->waiting != NULL) {
		struct rpc_call *call = rpc->waiting;

		rpc->waiting = call->next;
		call_end(call);
	}
	while (rpc->peers != NULL) {
		struct rpc_peer *p = rpc->peers;

		rpc->peers = p->next;
		rpc_peer_drop(p, NULL);
		rpc_frame_free(&p->in);
		free(p);
	}
}

/* Reads what stdin has. Returns 0 at end of input. */
static int
read_input(struct rpc_peer *peer)
{
	char buf[65536];
	ssize_t n = read(0, buf, sizeof buf);

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n == 0)
		return 0;
	rpc_peer_input(peer, buf, (size_t)n);
	return 1;
}

static int
cmd_rpc_exec(struct cli *cli, struct args *args)
{
	struct rpc rpc = {.cli = cli, .what = "rpc"};
	struct rpc_peer *peer;
	int open_input = 1, rc;
	int64_t grace;

	(void)args;
	cli->receives = 1;
	cli->reconnect = 1;
	cli->json = 1;
	if ((rc = cli_open(cli)) != EXIT_OK)
		return rc;
	if ((rc = cli_set_callbacks(cli, &rpc_callbacks)) != EXIT_OK)
		return rc;
	if ((peer = rpc_peer_new(&rpc, -1, "stdin", 1)) == NULL)
		return cli_fail(cli, CHAT_ERR_NOMEM, "rpc");
	cli->cmd_state = &rpc;
	/* No device yet: nothing to connect as until register or deviceLink. */
	rc = rpc_no_device(&rpc) ? CHAT_OK : chat_client_connect(cli->c);
	if (rc != CHAT_OK) {
		cli->cmd_state = NULL;
		rpc_free_peers(&rpc);
		return cli_fail(cli, rc, "rpc");
	}
	while (open_input && !cli_interrupted()) {
		struct pollfd p[2] = {{0, POLLIN, 0}, {chat_client_fd(cli->c), POLLIN, 0}};

		if (poll(p, 2, rpc.waiting ? 100 : 500) < 0 && errno != EINTR)
			break;
		if (p[0].revents & (POLLIN | POLLHUP))
			open_input = read_input(peer);
		/* With no device yet, there is only a register's or a link's
		 * connection to run, if any: its end is no reason to stop. */
		if (chat_client_loop(cli->c, 0) != CHAT_OK && !rpc.no_device)
			break; /* the device was refused: nothing more will work */
		rpc_tick(&rpc);
	}
	/* End of input: let the calls under way answer, and the acks go out. */
	grace = proto_mono_ms() + 10000;
	while ((rpc.pending > 0 || !chat_client_idle(cli->c)) && proto_mono_ms() < grace &&
	       chat_client_loop(cli->c, 100) == CHAT_OK)
		rpc_tick(&rpc);
	/* Calls still under way end with the handle (a send stays pending, for
	 * this home's next connection), and their answers need rpc and its
	 * calls: close it here, not in main() once this frame is gone. */
	chat_client_disconnect(cli->c);
	chat_client_destroy(cli->c);
	cli->c = NULL;
	cli->cmd_state = NULL;
	rpc_free_peers(&rpc);
	return EXIT_OK;
}

const struct cmd_entry cmd_rpc_entry = {
	.name = "rpc",
	.usage = "",
	.summary = "JSON-RPC 2.0 on stdin/stdout: commands as methods, events as notifications",
	.args = {.max_args = 0, .too_many = "no arguments expected"},
	.exec = cmd_rpc_exec};

/* ---- coverage: every chatctl command is a method, or here with why ------------- */

const struct rpc_no_method rpc_not_methods[] = {
	{"listen", "rpc's and the daemon's notifications are what listen prints"},
	{"rpc", "it is this protocol, over stdin and stdout"},
	{"daemon", "it is this protocol, over sockets"},
	{"help", "chatctl(1) lists the methods; an unknown one's error names the nearest"},
	{NULL, NULL},
};

const char *
rpc_method_name(const struct cmd_entry *e, char *buf, size_t cap)
{
	char words[64];
	size_t n = 0;
	int up = 0;

	/* chatctl's words joined in camelCase: delete-chat deleteChat, device
	 * list deviceList. */
	cli_cmd_name(e, words, sizeof words);
	for (const char *s = words; *s != '\0' && n + 1 < cap; s++) {
		if (*s == '-' || *s == ' ') {
			up = 1;
			continue;
		}
		buf[n++] = up && *s >= 'a' && *s <= 'z' ? (char)(*s - 'a' + 'A') : *s;
		up = 0;
	}
	buf[n] = '\0';
	return buf;
}

int
rpc_method_exists(const char *name)
{
	for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
		if (strcmp(methods[i].name, name) == 0)
			return 1;
	return 0;
}
