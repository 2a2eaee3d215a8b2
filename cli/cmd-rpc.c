/*
 * cmd-rpc.c - chatctl rpc: JSON-RPC 2.0 over stdin and stdout, one object a line.
 *
 * Requests name chatctl's commands as methods; what arrives (messages, chat
 * updates, device changes, connection states, missed messages) comes out as
 * notifications, each acknowledged to the server once written. The session
 * stays up and reconnects, as with listen. End of input ends it, after the
 * calls under way have answered.
 */
#include "chatctl.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"

#define RPC_MAX_LINE (1024 * 1024)

/* JSON-RPC's own error codes; failures of a call use chatctl's exit codes (1-5). */
#define RPC_PARSE_ERROR      -32700
#define RPC_INVALID_REQUEST  -32600
#define RPC_METHOD_NOT_FOUND -32601
#define RPC_INVALID_PARAMS   -32602

struct rpc {
	struct cli *cli;
	char *line;
	size_t len;
	int skipping; /* the current line is over the limit: drop to its end */
	int pending;  /* calls under way */
};

/* One asynchronous call: what its answer needs. */
struct rpc_call {
	struct rpc *rpc;
	cJSON *id;
	char method[16];
	char user[CHAT_USER_MAX + 1]; /* block, unblock: whom */
};

static void
emit(cJSON *o)
{
	out_json(o);
}

static int
reply_result(const cJSON *id, cJSON *result)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "jsonrpc", "2.0");
	cJSON_AddItemToObject(o, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "result", result ? result : cJSON_CreateObject());
	emit(o);
	return 0;
}

static int
reply_error(const cJSON *id, int code, const char *message)
{
	cJSON *o = cJSON_CreateObject(), *e = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "jsonrpc", "2.0");
	cJSON_AddItemToObject(o, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
	cJSON_AddNumberToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", message);
	cJSON_AddItemToObject(o, "error", e);
	emit(o);
	return 0;
}

/* A failed libchat call, as a JSON-RPC error with chatctl's exit code. */
static int
reply_failure(struct cli *cli, const cJSON *id, int err)
{
	char msg[1024];

	reply_error(id, cli_exit_code(err), cli_detail(cli, err, msg, sizeof msg));
	return 0;
}

static void
notify(const char *method, cJSON *params)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "jsonrpc", "2.0");
	cJSON_AddStringToObject(o, "method", method);
	cJSON_AddItemToObject(o, "params", params);
	emit(o);
}

/* ---- notifications ----------------------------------------------------------- */

static void
on_message(struct chat_client *c, void *udata, const struct chat_message *m)
{
	(void)c;
	(void)udata;
	notify("message", out_message_json(m));
}

static void
on_reaction(struct chat_client *c, void *udata, const struct chat_reaction_event *r)
{
	(void)c;
	(void)udata;
	notify("reaction", out_reaction_json(r));
}

static void
on_message_changed(struct chat_client *c, void *udata, const struct chat_change_event *e)
{
	(void)c;
	(void)udata;
	notify(e->kind, out_change_json(e)); /* "edit" or "delete" */
}

static void
on_timer(struct chat_client *c, void *udata, const struct chat_timer_event *e)
{
	(void)c;
	(void)udata;
	notify("timer", out_timer_json(e));
}

static void
on_expired(struct chat_client *c, void *udata, const char *chat_id, const char *message_id)
{
	cJSON *p = cJSON_CreateObject();

	(void)c;
	(void)udata;
	cJSON_AddStringToObject(p, "chatId", chat_id);
	cJSON_AddStringToObject(p, "messageId", message_id);
	notify("expired", p);
}

static void
on_update(struct chat_client *c, void *udata, const struct chat_update *u)
{
	(void)c;
	(void)udata;
	notify("chatUpdate", out_update_json(u));
}

static void
on_device_change(struct chat_client *c, void *udata, const char *user, uint32_t device, int added)
{
	cJSON *p = cJSON_CreateObject();

	(void)c;
	(void)udata;
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

	(void)udata;
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
	(void)udata;
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
	(void)udata;
	notify("receipt", out_receipt_json(r));
}

static void
on_send_failed(struct chat_client *c, void *udata, const char *chat_id, const char *message_id,
	       int err, const char *detail)
{
	(void)c;
	(void)udata;
	notify("sendFailed", out_send_failed_json(chat_id, message_id, err, detail));
}

/* Taken and acked (kept in the history, for a message): a notification, not
 * an error of the session. */
static void
on_undecryptable(struct chat_client *c, void *udata, const struct chat_undecryptable *u)
{
	(void)c;
	(void)udata;
	notify("undecryptable", out_undecryptable_json(u));
}

static void
on_typing(struct chat_client *c, void *udata, const struct chat_typing *t)
{
	(void)c;
	(void)udata;
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

	(void)udata;
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
	(void)udata;
	notify("historySync", out_history_json(h));
}

static const struct chat_callbacks rpc_callbacks =
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
	int (*fn)(struct rpc *rpc, const cJSON *id, const char *method, const cJSON *params);
	struct pspec params[MAX_PARAMS];
};

/* The type error for spec, as "params.NAME must be ...". */
static void
type_error(const struct pspec *p, char *buf, size_t cap)
{
	if (p->type == P_INT)
		snprintf(buf, cap, "params.%s must be an integer from %lld to %lld (%s)", p->name,
			 (long long)p->min, (long long)p->max, p->what);
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
check_params(const struct method *m, const cJSON *id, const cJSON *params)
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
			reply_error(id, RPC_INVALID_PARAMS, msg);
			return 0;
		}
		if (!type_ok(p, v)) {
			type_error(p, msg, sizeof msg);
			reply_error(id, RPC_INVALID_PARAMS, msg);
			return 0;
		}
	}
	for (size_t i = 0; i < MAX_PARAMS && m->params[i].name != NULL; i++)
		if (m->params[i].required &&
		    cJSON_GetObjectItemCaseSensitive(params, m->params[i].name) == NULL) {
			snprintf(msg, sizeof msg, "params.%s is required (%s)", m->params[i].name,
				 m->params[i].what);
			reply_error(id, RPC_INVALID_PARAMS, msg);
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
reply_send_failure(struct cli *cli, const cJSON *id, int err, const char *message_id)
{
	cJSON *msg = NULL, *o, *e;
	char detail[1024];

	if (message_id != NULL)
		chat_message_get(cli->c, message_id, copy_message, &msg);
	if (msg == NULL) {
		reply_failure(cli, id, err);
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
	emit(o);
}

static void
call_done(struct chat_client *c, void *arg, int err, const char *id)
{
	struct rpc_call *call = arg;
	struct cli *cli = call->rpc->cli;
	int sends = strcmp(call->method, "send") == 0 || strcmp(call->method, "retry") == 0 ||
		    strcmp(call->method, "reply") == 0 || strcmp(call->method, "react") == 0 ||
		    strcmp(call->method, "edit") == 0 || strcmp(call->method, "delete") == 0 ||
		    strcmp(call->method, "disappear") == 0;
	cJSON *result;

	(void)c;
	call->rpc->pending--;
	if (err != CHAT_OK && sends) {
		reply_send_failure(cli, call->id, err, id);
	} else if (err != CHAT_OK) {
		reply_failure(cli, call->id, err);
	} else if (sends) {
		result = NULL;
		chat_message_get(cli->c, id, copy_message, &result);
		reply_result(call->id, result);
	} else {
		result = cJSON_CreateObject();
		cJSON_AddStringToObject(result, "chatId", id ? id : "");
		reply_result(call->id, result);
	}
	cJSON_Delete(call->id);
	free(call);
}

static struct rpc_call *
new_call(struct rpc *rpc, const cJSON *id, const char *method)
{
	struct rpc_call *call = calloc(1, sizeof *call);

	if (call == NULL)
		return NULL;
	call->rpc = rpc;
	call->id = id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull();
	snprintf(call->method, sizeof call->method, "%s", method);
	return call;
}

/* Starts an asynchronous call; its answer comes from call_done. */
static int
start(struct rpc *rpc, const cJSON *id, struct rpc_call *call, int rc)
{
	if (rc != CHAT_OK) {
		reply_failure(rpc->cli, id, rc);
		cJSON_Delete(call->id);
		free(call);
		return 0;
	}
	rpc->pending++;
	return 0;
}

/* send: text, files, or both. */
static int
do_send(struct rpc *rpc, const cJSON *id, const char *chat, const cJSON *params,
	struct rpc_call *call)
{
	struct cli *cli = rpc->cli;
	const char *text = param_str(params, "text"), **files;
	char kept[CHAT_MESSAGE_ID_LEN + 1] = "";
	size_t n = 0;
	int rc;

	if (cJSON_GetObjectItemCaseSensitive(params, "attach") == NULL) {
		rc = chat_send_text(cli->c, chat, text, strlen(text), kept, call_done, call);
		if (rc != CHAT_OK && kept[0] != '\0') {
			/* Stored, then connecting failed: it is kept, and says so. */
			reply_send_failure(cli, id, rc, kept);
			cJSON_Delete(call->id);
			free(call);
			return 0;
		}
		return start(rpc, id, call, rc);
	}
	if ((files = param_list(params, "attach", &n)) == NULL)
		return start(rpc, id, call, CHAT_ERR_NOMEM);
	rc = chat_send_files(cli->c, chat, text, files, n, NULL, call_done, call);
	free(files);
	return start(rpc, id, call, rc);
}

/* reply and react: to a message of the chat, by its id or a prefix. */
static int
do_answer(struct rpc *rpc, const cJSON *id, const char *chat, const char *method,
	  const cJSON *params, struct rpc_call *call)
{
	struct cli *cli = rpc->cli;
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
		reply_send_failure(cli, id, rc, kept);
		cJSON_Delete(call->id);
		free(call);
		return 0;
	}
	return start(rpc, id, call, rc);
}

/* disappear: the chat's timer, a duration as chatctl disappear takes it. */
static int
do_disappear(struct rpc *rpc, const cJSON *id, const char *chat, const cJSON *params,
	     struct rpc_call *call)
{
	struct cli *cli = rpc->cli;
	char kept[CHAT_MESSAGE_ID_LEN + 1] = "";
	long long seconds;
	int rc;

	if (chat_duration_parse(param_str(params, "duration"), &seconds) != 0 ||
	    (seconds != 0 && (seconds < CHAT_DISAPPEAR_MIN_S || seconds > CHAT_DISAPPEAR_MAX_S))) {
		cJSON_Delete(call->id);
		free(call);
		return reply_error(id, RPC_INVALID_PARAMS,
				   "params.duration: off, or 30s to 90d (30s, 5m, 1h, 1d, 1w, or "
				   "seconds)");
	}
	rc = chat_set_disappearing(cli->c, chat, seconds, kept, call_done, call);
	if (rc != CHAT_OK && kept[0] != '\0') {
		/* Stored, then connecting failed: it is kept, and says so. */
		reply_send_failure(cli, id, rc, kept);
		cJSON_Delete(call->id);
		free(call);
		return 0;
	}
	return start(rpc, id, call, rc);
}

static int
method_chat(struct rpc *rpc, const cJSON *id, const char *method, const cJSON *params)
{
	struct cli *cli = rpc->cli;
	char chat[CHAT_CHAT_ID_LEN + 1];
	const char *spec = param_str(params, "chat"), **users = NULL;
	struct rpc_call *call;
	size_t n = 0;
	int rc;

	if ((rc = chat_resolve_chat(cli->c, spec, chat)) != CHAT_OK)
		return reply_failure(cli, id, rc);
	if (strcmp(method, "read") == 0) {
		cJSON *o;

		if ((rc = chat_mark_read(cli->c, chat)) < 0)
			return reply_failure(cli, id, rc);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "chatId", chat);
		cJSON_AddNumberToObject(o, "marked", rc);
		return reply_result(id, o);
	}
	if (strcmp(method, "typing") == 0) {
		int64_t on = 1;
		cJSON *o;

		proto_get_int(params, "typing", 0, 1, &on);
		if ((rc = chat_typing(cli->c, chat, (int)on)) != CHAT_OK)
			return reply_failure(cli, id, rc);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "chatId", chat);
		cJSON_AddBoolToObject(o, "typing", on != 0);
		return reply_result(id, o);
	}
	/* Delete for me: local, answered at once. */
	if (strcmp(method, "delete") == 0 || strcmp(method, "deleteChat") == 0) {
		int64_t everyone = 0;
		char msg[CHAT_MESSAGE_ID_LEN + 1];
		cJSON *o;

		proto_get_int(params, "forEveryone", 0, 1, &everyone);
		if (strcmp(method, "delete") == 0 && everyone)
			goto everyone;
		if (strcmp(method, "deleteChat") == 0)
			rc = chat_delete_chat_for_me(cli->c, chat);
		else if ((rc = chat_resolve_message(cli->c, param_str(params, "message"), msg)) ==
			 CHAT_OK)
			rc = chat_delete_for_me(cli->c, msg);
		if (rc < 0)
			return reply_failure(cli, id, rc);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "chatId", chat);
		if (strcmp(method, "delete") == 0)
			cJSON_AddStringToObject(o, "messageId", msg);
		cJSON_AddBoolToObject(o, "deleted", 1);
		return reply_result(id, o);
	}
everyone:
	if (strcmp(method, "history") == 0) {
		cJSON *arr = cJSON_CreateArray();
		int64_t limit = 0;

		proto_get_int(params, "limit", 1, 1000000, &limit);
		if ((rc = chat_history(cli->c, chat, (int)limit, add_message, arr)) < 0) {
			cJSON_Delete(arr);
			return reply_failure(cli, id, rc);
		}
		return reply_result(id, arr);
	}
	if (strcmp(method, "send") == 0 && param_str(params, "text") == NULL &&
	    cJSON_GetObjectItemCaseSensitive(params, "attach") == NULL)
		return reply_error(id, RPC_INVALID_PARAMS, "params.text or params.attach is required");
	if ((call = new_call(rpc, id, method)) == NULL)
		return reply_error(id, 1, "out of memory");
	if (strcmp(method, "send") == 0)
		return do_send(rpc, id, chat, params, call);
	if (strcmp(method, "reply") == 0 || strcmp(method, "react") == 0 ||
	    strcmp(method, "edit") == 0 || strcmp(method, "delete") == 0)
		return do_answer(rpc, id, chat, method, params, call);
	if (strcmp(method, "disappear") == 0)
		return do_disappear(rpc, id, chat, params, call);
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
	return start(rpc, id, call, rc);
}

static int
add_chat(void *arg, const struct chat_chat *ch)
{
	cJSON_AddItemToArray(arg, out_chat_json(ch));
	return 0;
}

static int
method_chats(struct rpc *rpc, const cJSON *id, const char *method, const cJSON *params)
{
	cJSON *arr = cJSON_CreateArray();

	(void)method;
	(void)params;
	chat_list_chats(rpc->cli->c, add_chat, arr);
	return reply_result(id, arr);
}

static int
method_whoami(struct rpc *rpc, const cJSON *id, const char *method, const cJSON *params)
{
	struct chat_client *c = rpc->cli->c;
	cJSON *o = cJSON_CreateObject();

	(void)method;
	(void)params;
	cJSON_AddStringToObject(o, "user", chat_client_user(c));
	cJSON_AddNumberToObject(o, "deviceId", chat_client_device_id(c));
	cJSON_AddStringToObject(o, "server", chat_client_server_url(c));
	return reply_result(id, o);
}

static int
method_trust(struct rpc *rpc, const cJSON *id, const char *method, const cJSON *params)
{
	int n = chat_trust(rpc->cli->c, param_str(params, "user"));
	cJSON *o;

	(void)method;
	if (n < 0)
		return reply_failure(rpc->cli, id, n);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "accepted", n);
	return reply_result(id, o);
}

static int
method_create(struct rpc *rpc, const cJSON *id, const char *method, const cJSON *params)
{
	struct cli *cli = rpc->cli;
	const char *name = param_str(params, "name"), **users;
	struct rpc_call *call;
	size_t n;
	int rc;

	if ((users = param_list(params, "users", &n)) == NULL)
		return reply_error(id, 1, "out of memory");
	if ((call = new_call(rpc, id, method)) == NULL) {
		free(users);
		return reply_error(id, 1, "out of memory");
	}
	rc = name ? chat_create_group(cli->c, name, users, n, call_done, call)
		  : chat_create_chat(cli->c, users, n, call_done, call);
	free(users);
	return start(rpc, id, call, rc);
}

static int
method_outbox(struct rpc *rpc, const cJSON *id, const char *method, const cJSON *params)
{
	cJSON *arr = cJSON_CreateArray();
	int rc = chat_outbox(rpc->cli->c, add_message, arr);

	(void)method;
	(void)params;
	if (rc < 0) {
		cJSON_Delete(arr);
		return reply_failure(rpc->cli, id, rc);
	}
	return reply_result(id, arr);
}

/* retry and discard: a message of the outbox, by its id or a prefix. */
static int
method_message(struct rpc *rpc, const cJSON *id, const char *method, const cJSON *params)
{
	struct cli *cli = rpc->cli;
	char msg[CHAT_MESSAGE_ID_LEN + 1];
	struct rpc_call *call;
	cJSON *o;
	int rc;

	if ((rc = chat_resolve_message(cli->c, param_str(params, "message"), msg)) != CHAT_OK)
		return reply_failure(cli, id, rc);
	if (strcmp(method, "discard") == 0) {
		if ((rc = chat_discard(cli->c, msg)) != CHAT_OK)
			return reply_failure(cli, id, rc);
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "messageId", msg);
		cJSON_AddBoolToObject(o, "discarded", 1);
		return reply_result(id, o);
	}
	if ((call = new_call(rpc, id, method)) == NULL)
		return reply_error(id, 1, "out of memory");
	return start(rpc, id, call, chat_retry(cli->c, msg, call_done, call));
}

/* block and unblock: the answer says what the user is now, as chatctl
 * --json does; blocked: the list, by name, fetched from the server. */
static void
block_done(struct chat_client *c, void *arg, int err, const char *id)
{
	struct rpc_call *call = arg;
	struct cli *cli = call->rpc->cli;
	cJSON *result;

	(void)id;
	call->rpc->pending--;
	if (err != CHAT_OK) {
		reply_failure(cli, call->id, err);
	} else if (strcmp(call->method, "blocked") == 0) {
		result = cJSON_CreateArray();
		if (result == NULL || chat_blocked_users(c, add_name, result) < 0) {
			cJSON_Delete(result);
			reply_failure(cli, call->id, CHAT_ERR_STORE);
		} else {
			reply_result(call->id, result);
		}
	} else {
		result = cJSON_CreateObject();
		cJSON_AddStringToObject(result, "user", call->user);
		cJSON_AddBoolToObject(result, "blocked", strcmp(call->method, "block") == 0);
		reply_result(call->id, result);
	}
	cJSON_Delete(call->id);
	free(call);
}

static int
method_block(struct rpc *rpc, const cJSON *id, const char *method, const cJSON *params)
{
	struct cli *cli = rpc->cli;
	const char *user = param_str(params, "user");
	struct rpc_call *call;
	int rc;

	if ((call = new_call(rpc, id, method)) == NULL)
		return reply_error(id, 1, "out of memory");
	if (user != NULL)
		snprintf(call->user, sizeof call->user, "%s", user);
	if (strcmp(method, "block") == 0)
		rc = chat_block_user(cli->c, user, block_done, call);
	else if (strcmp(method, "unblock") == 0)
		rc = chat_unblock_user(cli->c, user, block_done, call);
	else
		rc = chat_refresh_blocked(cli->c, block_done, call);
	return start(rpc, id, call, rc);
}

/* search: the local store's full-text search (chatctl search). */
static int
method_search(struct rpc *rpc, const cJSON *id, const char *method, const cJSON *params)
{
	struct cli *cli = rpc->cli;
	const char *spec = param_str(params, "chat");
	char chat[CHAT_CHAT_ID_LEN + 1];
	int64_t limit = 50;
	cJSON *arr;
	int rc;

	(void)method;
	if (spec != NULL && (rc = chat_resolve_chat(cli->c, spec, chat)) != CHAT_OK)
		return reply_failure(cli, id, rc);
	proto_get_int(params, "limit", 1, 1000000, &limit);
	if ((arr = cJSON_CreateArray()) == NULL)
		return reply_error(id, 1, "out of memory");
	rc = chat_search(cli->c, param_str(params, "words"), spec ? chat : NULL, (int)limit,
			 add_message, arr);
	if (rc < 0) {
		cJSON_Delete(arr);
		/* Words of nothing but white space, or too many: the params'. */
		if (rc == CHAT_ERR_INVALID)
			return reply_error(id, RPC_INVALID_PARAMS, chat_client_errmsg(cli->c));
		return reply_failure(cli, id, rc);
	}
	return reply_result(id, arr);
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
	{"chats", method_chats, {{0}}},
	{"whoami", method_whoami, {{0}}},
	{"trust", method_trust, {{"user", P_STR, 1, 0, 0, "a user name"}}},
	{"block", method_block, {{"user", P_STR, 1, 0, 0, "a user name"}}},
	{"unblock", method_block, {{"user", P_STR, 1, 0, 0, "a user name"}}},
	{"blocked", method_block, {{0}}},
	{"outbox", method_outbox, {{0}}},
	{"retry", method_message, {MSG_P}},
	{"discard", method_message, {MSG_P}},
};
/* clang-format on */

static int
dispatch(struct rpc *rpc, const cJSON *req)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(req, "params");
	const char *method = proto_get_str(req, "method");
	const char *version = proto_get_str(req, "jsonrpc");
	cJSON *none = NULL;
	int rc = 0;

	if (version == NULL || strcmp(version, "2.0") != 0 || method == NULL ||
	    (id != NULL && !cJSON_IsNumber(id) && !cJSON_IsString(id) && !cJSON_IsNull(id)))
		return reply_error(id, RPC_INVALID_REQUEST,
				   "a request is {\"jsonrpc\":\"2.0\",\"id\":N,\"method\":...,"
				   "\"params\":{...}}");
	if (params != NULL && !cJSON_IsObject(params))
		return reply_error(id, RPC_INVALID_PARAMS, "params must be an object");
	for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
		if (strcmp(method, methods[i].name) != 0)
			continue;
		if (params == NULL)
			params = none = cJSON_CreateObject();
		if (check_params(&methods[i], id, params))
			rc = methods[i].fn(rpc, id, method, params);
		cJSON_Delete(none);
		return rc;
	}
	reply_error(id, RPC_METHOD_NOT_FOUND, "unknown method; see chatctl(1), rpc");
	return 0;
}

static void
handle_line(struct rpc *rpc, char *line, size_t len)
{
	cJSON *req;
	unsigned bad;

	if (len == 0)
		return;
	/* cJSON would cut a string at U+0000 ("a\u0000b" sent as "a"): the
	 * protocol's own rule refuses such a string whole, with the request's id. */
	bad = proto_json_scrub(line, len);
	req = cJSON_ParseWithLength(line, len);
	if (req == NULL || !cJSON_IsObject(req))
		reply_error(NULL, req == NULL ? RPC_PARSE_ERROR : RPC_INVALID_REQUEST,
			    req == NULL ? "not JSON" : "a request is a JSON object");
	else if (bad != 0)
		reply_error(cJSON_GetObjectItemCaseSensitive(req, "id"), RPC_INVALID_PARAMS,
			    proto_scrub_reason(bad));
	else
		dispatch(rpc, req);
	cJSON_Delete(req);
}

/* Reads what stdin has; handles each complete line. Returns 0 at end of input. */
static int
read_input(struct rpc *rpc)
{
	char buf[65536];
	ssize_t n = read(0, buf, sizeof buf);

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n == 0)
		return 0;
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			if (!rpc->skipping)
				handle_line(rpc, rpc->line, rpc->len);
			rpc->skipping = 0;
			rpc->len = 0;
			continue;
		}
		if (rpc->skipping)
			continue;
		if (rpc->len == RPC_MAX_LINE) {
			reply_error(NULL, RPC_INVALID_REQUEST, "request line over 1 MiB");
			rpc->skipping = 1;
			continue;
		}
		rpc->line[rpc->len++] = buf[i];
	}
	return 1;
}

static int
cmd_rpc_exec(struct cli *cli, struct args *args)
{
	struct rpc rpc = {cli, NULL, 0, 0, 0};
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
	rpc.line = malloc(RPC_MAX_LINE);
	if (rpc.line == NULL)
		return cli_fail(cli, CHAT_ERR_NOMEM, "rpc");
	rc = chat_client_connect(cli->c);
	if (rc != CHAT_OK) {
		free(rpc.line);
		return cli_fail(cli, rc, "rpc");
	}
	while (open_input && !cli_interrupted()) {
		struct pollfd p[2] = {{0, POLLIN, 0}, {chat_client_fd(cli->c), POLLIN, 0}};

		if (poll(p, 2, 500) < 0 && errno != EINTR)
			break;
		if (p[0].revents & (POLLIN | POLLHUP))
			open_input = read_input(&rpc);
		if (chat_client_loop(cli->c, 0) != CHAT_OK)
			break; /* the device was refused: nothing more will work */
	}
	/* End of input: let the calls under way answer, and the acks go out. */
	grace = proto_mono_ms() + 10000;
	while ((rpc.pending > 0 || !chat_client_idle(cli->c)) && proto_mono_ms() < grace &&
	       chat_client_loop(cli->c, 100) == CHAT_OK)
		;
	/* Calls still under way end with the handle (a send stays pending, for
	 * this home's next connection), and their answers need rpc and its
	 * calls: close it here, not in main() once this frame is gone. */
	chat_client_disconnect(cli->c);
	chat_client_destroy(cli->c);
	cli->c = NULL;
	free(rpc.line);
	return EXIT_OK;
}

const struct cmd_entry cmd_rpc_entry = {
	.name = "rpc",
	.usage = "",
	.summary = "JSON-RPC 2.0 on stdin/stdout: commands as methods, events as notifications",
	.args = {.max_args = 0, .too_many = "no arguments expected"},
	.exec = cmd_rpc_exec};
