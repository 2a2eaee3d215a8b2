/*
 * groups.c - group chats: create, change members, leave, and the local view of
 * who is in a chat. Membership changes reach every member's devices as
 * chatUpdate pushes (receive.c); the calls here only ask for them.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

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
	int rc = check_registered(c);

	if (rc == CHAT_OK &&
	    (len == 0 || len > PROTO_GROUP_NAME_MAX || !proto_valid_utf8(name, len)))
		rc = client_fail(c, CHAT_ERR_INVALID,
				 "a group needs a name of 1 to %d bytes of UTF-8 text",
				 PROTO_GROUP_NAME_MAX);
	if (rc == CHAT_OK)
		rc = check_users(c, users, n_users, PROTO_MAX_MEMBERS - 1);
	if (rc != CHAT_OK)
		return rc;
	req = new_request("createChat");
	if (req == NULL || !cJSON_AddStringToObject(req, "name", name) ||
	    add_users(req, "participants", users, n_users) != 0 ||
	    (op = op_new(c, OP_GROUP, done, arg)) == NULL) {
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	return op_launch(c, op, session_request(c, req, ops_chat_created, op, 0));
}

int
chat_refresh_chat(struct chat_client *c, const char *chat_id, chat_done_cb done, void *arg)
{
	struct op *op;
	int rc = check_registered(c);

	if (rc != CHAT_OK || (rc = check_chat_id(c, chat_id)) != CHAT_OK)
		return rc;
	if ((op = op_new(c, OP_FETCH, done, arg)) == NULL)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	snprintf(op->chat_id, sizeof op->chat_id, "%s", chat_id);
	return op_launch(c, op, ops_request_chat(c, op->chat_id, ops_chat_fetched, op));
}

int
chat_modify_members(struct chat_client *c, const char *chat_id, int operation,
		    const char *const *users, size_t n_users, chat_done_cb done, void *arg)
{
	struct op *op;
	cJSON *req;
	int rc = check_registered(c);

	if (rc == CHAT_OK)
		rc = check_chat_id(c, chat_id);
	if (rc == CHAT_OK && operation != CHAT_MEMBERS_ADD && operation != CHAT_MEMBERS_REMOVE)
		rc = client_fail(c, CHAT_ERR_INVALID,
				 "operation must be CHAT_MEMBERS_ADD or _REMOVE");
	if (rc == CHAT_OK)
		rc = check_users(c, users, n_users, PROTO_MAX_MODIFY);
	if (rc != CHAT_OK)
		return rc;
	req = new_request("modifyChatParticipants");
	if (req == NULL || !cJSON_AddStringToObject(req, "chatId", chat_id) ||
	    !cJSON_AddStringToObject(req, "operation",
				     operation == CHAT_MEMBERS_ADD ? "ADD" : "REMOVE") ||
	    add_users(req, "users", users, n_users) != 0 ||
	    (op = op_new(c, OP_MODIFY, done, arg)) == NULL) {
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	snprintf(op->chat_id, sizeof op->chat_id, "%s", chat_id);
	return op_launch(c, op, session_request(c, req, ops_chat_fetched, op, 0));
}

int
chat_leave(struct chat_client *c, const char *chat_id, chat_done_cb done, void *arg)
{
	const char *self[1] = {c->user};
	int rc = check_registered(c);

	return rc != CHAT_OK
		       ? rc
		       : chat_modify_members(c, chat_id, CHAT_MEMBERS_REMOVE, self, 1, done, arg);
}

int
chat_members(struct chat_client *c, const char *chat_id, chat_member_cb each, void *arg)
{
	int stop, rc = check_local_chat(c, chat_id);

	if (rc != CHAT_OK)
		return rc;
	if (store_chat_member_each(&c->store, chat_id, each, arg, &stop) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return stop;
}
