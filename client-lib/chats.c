/*
 * chats.c - chats and groups: creating them, fetching one known only by its
 * id, changing who is in a group, leaving, and the local view of who is in a
 * chat. A chat as the server describes it (createChat, getChat and
 * modifyChatParticipants replies, chatUpdate pushes) is stored by
 * chats_store(); membership changes reach every member's devices as
 * chatUpdate pushes (receive.c): the calls here only ask for them.
 */
#include "internal.h"
#include "analyzer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A well-formed chat id, or CHAT_ERR_INVALID saying so. */
int
chats_check_id(struct chat_client *c, const char *chat_id)
{
	if (!proto_valid_hex(chat_id, CHAT_CHAT_ID_LEN))
		return client_fail(c, CHAT_ERR_INVALID, "'%s' is not a chat id",
				   chat_id ? chat_id : "");
	return CHAT_OK;
}

/* A chat this device's store holds: CHAT_OK, CHAT_ERR_INVALID,
 * CHAT_ERR_NO_SUCH_CHAT or CHAT_ERR_STORE. */
int
chats_check_local(struct chat_client *c, const char *chat_id)
{
	int rc = chats_check_id(c, chat_id);

	if (rc != CHAT_OK)
		return rc;
	rc = store_chat_exists(&c->store, chat_id);
	if (rc < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == 0)
		return client_fail(c, CHAT_ERR_NO_SUCH_CHAT, "no chat %s in this device's store",
				   chat_id);
	return CHAT_OK;
}

/* Reads a list of user names (a reply's participants) into a malloc'd array.
 * gcc -fanalyzer: no leak; each strdup is stored in list, which goes to *out
 * or to store_free_list (common/analyzer.h). */
ANALYZER_LEAK_FP_BEGIN
int
chats_read_users(const cJSON *arr, char ***out, size_t *n)
{
	const cJSON *u;
	size_t len = 0, cap = (size_t)cJSON_GetArraySize(arr);
	char **list;

	*out = NULL;
	*n = 0;
	if (!cJSON_IsArray(arr) || cap > 1000)
		return -1;
	list = calloc(cap ? cap : 1, sizeof *list);
	if (list == NULL)
		return -1;
	cJSON_ArrayForEach(u, arr) {
		if (!cJSON_IsString(u) || !proto_valid_user(u->valuestring) ||
		    (list[len] = strdup(u->valuestring)) == NULL) {
			store_free_list(list, len);
			return -1;
		}
		len++;
	}
	*out = list;
	*n = len;
	return 0;
}
ANALYZER_LEAK_FP_END

/* Stores a chat as a createChat/getChat reply or a chatUpdate describes it: the
 * chat, its members and admins. *members gets the members (free with
 * store_free_list). */
int
chats_store(struct chat_client *c, const cJSON *reply, char ***members, size_t *n)
{
	const char *chat_id = proto_get_str(reply, "chatId"), *kind = proto_get_str(reply, "kind");
	const char *name = proto_get_str(reply, "name");
	/* In a getChat or updateChat reply and a describe update only. */
	const char *description = proto_get_str(reply, "description");
	const cJSON *admins_j = cJSON_GetObjectItemCaseSensitive(reply, "admins");
	char **admins = NULL;
	size_t n_admins = 0;
	int64_t created = 0;
	int rc = CHAT_OK;

	if (!proto_valid_hex(chat_id, CHAT_CHAT_ID_LEN) || kind == NULL ||
	    chats_read_users(cJSON_GetObjectItemCaseSensitive(reply, "participants"), members, n) !=
		    0)
		return client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a malformed chat");
	if (admins_j != NULL && chats_read_users(admins_j, &admins, &n_admins) != 0)
		rc = client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a malformed chat");
	proto_get_int(reply, "createdAt", 0, INT64_MAX / 2, &created);
	if (rc == CHAT_OK &&
	    store_chat_put(&c->store, chat_id, kind, name, description,
			   created ? created : proto_now_ms(), (const char *const *)*members, *n,
			   (const char *const *)admins, n_admins) != 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	store_free_list(admins, n_admins);
	if (rc != CHAT_OK) {
		store_free_list(*members, *n);
		*members = NULL;
		*n = 0;
	}
	return rc;
}

/* A refusal with no_such_chat becomes CHAT_ERR_NO_SUCH_CHAT, with a message. */
int
chats_no_such(struct chat_client *c, int err, const char *chat_id)
{
	if (err == CHAT_ERR_REFUSED && strcmp(c->server_code, "no_such_chat") == 0)
		return client_fail(c, CHAT_ERR_NO_SUCH_CHAT,
				   "no chat %s on the server, or you are not in it", chat_id);
	return err;
}

/* ---- create a chat ------------------------------------------------------- */

static void
create_keys(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	if (err == CHAT_OK)
		err = directory_apply(c, reply);
	op_finish(c, op, err, op->chat_id);
}

static void
chat_created(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	char **members = NULL;
	size_t n = 0;

	if (err == CHAT_OK)
		err = chats_store(c, reply, &members, &n);
	if (err != CHAT_OK) {
		op_finish(c, op, err, NULL);
		return;
	}
	snprintf(op->chat_id, sizeof op->chat_id, "%s", proto_get_str(reply, "chatId"));
	/* Pin the members' keys now, so a changed key is caught before the first send. */
	err = directory_request(c, op, members, n, create_keys);
	store_free_list(members, n);
	if (err != CHAT_OK)
		op_finish(c, op, err, NULL);
}

int
chat_create_chat(struct chat_client *c, const char *const *users, size_t n_users, chat_done_cb done,
		 void *arg)
{
	struct op *op;
	cJSON *req, *arr;
	int rc = client_check_registered(c);

	if (rc != CHAT_OK)
		return rc;
	if (users == NULL || n_users == 0)
		return client_fail(c, CHAT_ERR_INVALID, "name at least one user to chat with");
	if (n_users > PROTO_MAX_MEMBERS - 1)
		return client_fail(c, CHAT_ERR_TOO_LARGE, "a chat has at most %d members",
				   PROTO_MAX_MEMBERS);
	for (size_t i = 0; i < n_users; i++)
		if (!proto_valid_user(users[i]))
			return client_fail(c, CHAT_ERR_INVALID, "'%s' is not a valid user name",
					   users[i]);
	/* The user alone: their notes to self (the server makes a direct chat
	 * of one member, PROTOCOL.md "Notes to self"). */
	req = request_new("createChat");
	arr = req ? cJSON_AddArrayToObject(req, "participants") : NULL;
	for (size_t i = 0; arr != NULL && i < n_users; i++)
		if (!cJSON_AddItemToArray(arr, cJSON_CreateString(users[i])))
			arr = NULL;
	op = arr ? op_new(c, OP_CREATE, done, arg) : NULL;
	if (op == NULL) {
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	return op_launch(c, op, session_request(c, req, chat_created, op, 0));
}

/* ---- fetch a chat we only know by id ------------------------------------- */

/* A getChat or modifyChatParticipants reply: both describe the chat as it is
 * now, so store it, and end the op (if there is one: a chat first seen in a
 * message is fetched for the store alone). */
static void
chats_fetched(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	char **members = NULL;
	size_t n = 0;

	if (op != NULL)
		err = chats_no_such(c, err, op->chat_id);
	if (err == CHAT_OK)
		err = chats_store(c, reply, &members, &n);
	store_free_list(members, n);
	if (op != NULL)
		op_finish(c, op, err, op->chat_id);
}

int
chats_request(struct chat_client *c, const char *chat_id, reply_fn fn, struct op *op)
{
	cJSON *req = request_new("getChat");

	if (req == NULL || !cJSON_AddStringToObject(req, "chatId", chat_id)) {
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	return session_request(c, req, fn, op, 0);
}

int
chats_fetch(struct chat_client *c, const char *chat_id)
{
	return chats_request(c, chat_id, chats_fetched, NULL);
}

/* ---- groups -------------------------------------------------------------- */

/* Checks a list of user names given by the application. */
static int
check_users(struct chat_client *c, const char *const *users, size_t n, size_t max)
{
	if (users == NULL || n == 0)
		return client_fail(c, CHAT_ERR_INVALID, "name at least one user");
	if (n > max)
		return client_fail(c, CHAT_ERR_TOO_LARGE,
				   "a chat has at most %d members; %zu users are too many",
				   PROTO_MAX_MEMBERS, n + 1);
	for (size_t i = 0; i < n; i++)
		if (!proto_valid_user(users[i]))
			return client_fail(c, CHAT_ERR_INVALID, "'%s' is not a valid user name",
					   users[i] ? users[i] : "");
	return CHAT_OK;
}

static int
add_users(cJSON *req, const char *field, const char *const *users, size_t n)
{
	cJSON *arr = cJSON_AddArrayToObject(req, field);

	for (size_t i = 0; arr != NULL && i < n; i++)
		if (!cJSON_AddItemToArray(arr, cJSON_CreateString(users[i])))
			return -1;
	return arr == NULL ? -1 : 0;
}

int
chat_create_group(struct chat_client *c, const char *name, const char *const *users, size_t n_users,
		  chat_done_cb done, void *arg)
{
	struct op *op;
	cJSON *req;
	size_t len = name ? strlen(name) : 0;
	int rc = client_check_registered(c);

	if (rc == CHAT_OK &&
	    (len == 0 || len > PROTO_GROUP_NAME_MAX || !proto_valid_utf8(name, len)))
		rc = client_fail(c, CHAT_ERR_INVALID,
				 "a group needs a name of 1 to %d bytes of UTF-8 text",
				 PROTO_GROUP_NAME_MAX);
	if (rc == CHAT_OK)
		rc = check_users(c, users, n_users, PROTO_MAX_MEMBERS - 1);
	if (rc != CHAT_OK)
		return rc;
	req = request_new("createChat");
	if (req == NULL || !cJSON_AddStringToObject(req, "name", name) ||
	    add_users(req, "participants", users, n_users) != 0 ||
	    (op = op_new(c, OP_GROUP, done, arg)) == NULL) {
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	return op_launch(c, op, session_request(c, req, chat_created, op, 0));
}

int
chat_refresh_chat(struct chat_client *c, const char *chat_id, chat_done_cb done, void *arg)
{
	struct op *op;
	int rc = client_check_registered(c);

	if (rc != CHAT_OK || (rc = chats_check_id(c, chat_id)) != CHAT_OK)
		return rc;
	if ((op = op_new(c, OP_FETCH, done, arg)) == NULL)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	snprintf(op->chat_id, sizeof op->chat_id, "%s", chat_id);
	return op_launch(c, op, chats_request(c, op->chat_id, chats_fetched, op));
}

int
chat_modify_members(struct chat_client *c, const char *chat_id, int operation,
		    const char *const *users, size_t n_users, chat_done_cb done, void *arg)
{
	struct op *op;
	cJSON *req;
	int rc = client_check_registered(c);

	if (rc == CHAT_OK)
		rc = chats_check_id(c, chat_id);
	if (rc == CHAT_OK && operation != CHAT_MEMBERS_ADD && operation != CHAT_MEMBERS_REMOVE)
		rc = client_fail(c, CHAT_ERR_INVALID,
				 "operation must be CHAT_MEMBERS_ADD or _REMOVE");
	if (rc == CHAT_OK)
		rc = check_users(c, users, n_users, PROTO_MAX_MODIFY);
	if (rc != CHAT_OK)
		return rc;
	req = request_new("modifyChatParticipants");
	if (req == NULL || !cJSON_AddStringToObject(req, "chatId", chat_id) ||
	    !cJSON_AddStringToObject(req, "operation",
				     operation == CHAT_MEMBERS_ADD ? "ADD" : "REMOVE") ||
	    add_users(req, "users", users, n_users) != 0 ||
	    (op = op_new(c, OP_MODIFY, done, arg)) == NULL) {
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	snprintf(op->chat_id, sizeof op->chat_id, "%s", chat_id);
	return op_launch(c, op, session_request(c, req, chats_fetched, op, 0));
}

int
chat_leave(struct chat_client *c, const char *chat_id, chat_done_cb done, void *arg)
{
	const char *self[1] = {c->user};
	int rc = client_check_registered(c);

	return rc != CHAT_OK
		       ? rc
		       : chat_modify_members(c, chat_id, CHAT_MEMBERS_REMOVE, self, 1, done, arg);
}

int
chat_members(struct chat_client *c, const char *chat_id, chat_member_cb each, void *arg)
{
	int stop, rc = chats_check_local(c, chat_id);

	if (rc != CHAT_OK)
		return rc;
	if (store_chat_member_each(&c->store, chat_id, each, arg, &stop) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return stop;
}

int
chat_modify_admins(struct chat_client *c, const char *chat_id, int operation,
		   const char *const *users, size_t n_users, chat_done_cb done, void *arg)
{
	struct op *op;
	cJSON *req;
	int rc = client_check_registered(c);

	if (rc == CHAT_OK)
		rc = chats_check_id(c, chat_id);
	if (rc == CHAT_OK && operation != CHAT_ADMINS_PROMOTE && operation != CHAT_ADMINS_DEMOTE)
		rc = client_fail(c, CHAT_ERR_INVALID,
				 "operation must be CHAT_ADMINS_PROMOTE or _DEMOTE");
	if (rc == CHAT_OK)
		rc = check_users(c, users, n_users, PROTO_MAX_MODIFY);
	if (rc != CHAT_OK)
		return rc;
	req = request_new("modifyChatParticipants");
	if (req == NULL || !cJSON_AddStringToObject(req, "chatId", chat_id) ||
	    !cJSON_AddStringToObject(req, "operation",
				     operation == CHAT_ADMINS_PROMOTE ? "PROMOTE" : "DEMOTE") ||
	    add_users(req, "users", users, n_users) != 0 ||
	    (op = op_new(c, OP_MODIFY, done, arg)) == NULL) {
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	snprintf(op->chat_id, sizeof op->chat_id, "%s", chat_id);
	return op_launch(c, op, session_request(c, req, chats_fetched, op, 0));
}

/* 1 if s[0..len) is UTF-8 without control characters (line breaks allowed
 * when newlines is set), as updateChat takes a name or description. */
static int
plain_text(const char *s, size_t len, int newlines)
{
	if (!proto_valid_utf8(s, len))
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if ((ch < 0x20 && !(newlines && ch == '\n')) || ch == 0x7f)
			return 0;
	}
	return 1;
}

/* An updateChat reply: the chat's kind, name and description now (members
 * come with the chatUpdate); stored like a getChat reply but for members. */
static void
group_updated(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	const char *name = proto_get_str(reply, "name"),
		   *desc = proto_get_str(reply, "description");

	err = chats_no_such(c, err, op->chat_id);
	if (err == CHAT_OK && store_chat_put(&c->store, op->chat_id, "group", name, desc,
					     proto_now_ms(), NULL, 0, NULL, 0) != 0)
		err = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	op_finish(c, op, err, op->chat_id);
}

int
chat_update_group(struct chat_client *c, const char *chat_id, const char *name,
		  const char *description, chat_done_cb done, void *arg)
{
	struct op *op;
	cJSON *req;
	size_t len;
	int rc = client_check_registered(c);

	if (rc == CHAT_OK)
		rc = chats_check_id(c, chat_id);
	if (rc == CHAT_OK && (name == NULL) == (description == NULL))
		rc = client_fail(c, CHAT_ERR_INVALID, "give a new name or a new description");
	if (rc == CHAT_OK && name != NULL &&
	    ((len = strlen(name)) == 0 || len > PROTO_GROUP_NAME_MAX || !plain_text(name, len, 0)))
		rc = client_fail(c, CHAT_ERR_INVALID,
				 "a group needs a name of 1 to %d bytes of UTF-8 text without "
				 "control characters",
				 PROTO_GROUP_NAME_MAX);
	if (rc == CHAT_OK && description != NULL &&
	    ((len = strlen(description)) > PROTO_GROUP_DESC_MAX        ||
	     !plain_text(description, len, 1)))
		rc = client_fail(c, CHAT_ERR_INVALID,
				 "a description is at most %d bytes of UTF-8 text without control "
				 "characters (line breaks allowed)",
				 PROTO_GROUP_DESC_MAX);
	if (rc != CHAT_OK)
		return rc;
	req = request_new("updateChat");
	if (req == NULL || !cJSON_AddStringToObject(req, "chatId", chat_id) ||
	    (name != NULL && !cJSON_AddStringToObject(req, "name", name)) ||
	    (description != NULL && !cJSON_AddStringToObject(req, "description", description)) ||
	    (op = op_new(c, OP_MODIFY, done, arg)) == NULL) {
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	snprintf(op->chat_id, sizeof op->chat_id, "%s", chat_id);
	return op_launch(c, op, session_request(c, req, group_updated, op, 0));
}

/* chat_get_chat's walk: the one chat asked for. */
struct get_chat {
	const char *chat_id;
	chat_chat_cb each;
	void *arg;
	int found, rc;
};

static int
get_chat_one(void *arg, const struct chat_chat *ch)
{
	struct get_chat *g = arg;

	if (strcmp(ch->chat_id, g->chat_id) != 0)
		return 0;
	g->found = 1;
	g->rc = g->each(g->arg, ch);
	return 1; /* found: stop the walk */
}

int
chat_get_chat(struct chat_client *c, const char *chat_id, chat_chat_cb each, void *arg)
{
	struct get_chat g = {.chat_id = chat_id, .each = each, .arg = arg};
	int rc = chats_check_local(c, chat_id);

	if (rc != CHAT_OK)
		return rc;
	if (each == NULL)
		return client_fail(c, CHAT_ERR_INVALID, "no callback");
	rc = chat_list_chats(c, get_chat_one, &g);
	if (rc < 0 && !g.found)
		return rc;
	return g.found ? g.rc : client_fail(c, CHAT_ERR_NO_SUCH_CHAT, "no chat %s", chat_id);
}
