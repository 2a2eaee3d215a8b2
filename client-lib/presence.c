/* presence.c - last seen, and hiding it (PROTOCOL.md, "Last seen"). */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static void
seen(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	const cJSON *users = cJSON_GetObjectItemCaseSensitive(reply, "users");
	const cJSON *u = cJSON_IsArray(users) ? cJSON_GetArrayItem(users, 0) : NULL;
	const cJSON *online = cJSON_GetObjectItemCaseSensitive(u, "online");
	int64_t at = -1;
	int on = -1;

	if (err == CHAT_OK && (u == NULL || proto_get_str(u, "user") == NULL ||
			       strcmp(proto_get_str(u, "user"), op->user) != 0))
		err = client_fail(c, CHAT_ERR_PROTOCOL,
				  "the server's last-seen answer is malformed");
	if (err == CHAT_OK) {
		if (cJSON_IsBool(online))
			on = cJSON_IsTrue(online);
		if (proto_get_int(u, "lastSeen", 0, INT64_MAX / 2, &at) != 0)
			at = -1;
	}
	if (op->seen_cb)
		op->seen_cb(c, op->arg, err, op->user, on, at);
	op->seen_cb = NULL;
	op_finish(c, op, err, NULL);
}

int
chat_last_seen(struct chat_client *c, const char *user, chat_last_seen_cb cb, void *arg)
{
	struct op *op;
	cJSON *req, *arr;
	int rc = client_check_registered(c);

	if (rc != CHAT_OK)
		return rc;
	if (!proto_valid_user(user))
		return client_fail(c, CHAT_ERR_INVALID, "'%s' is not a valid user name",
				   user ? user : "");
	req = request_new("getLastSeen");
	arr = req ? cJSON_AddArrayToObject(req, "users") : NULL;
	if (arr == NULL || !cJSON_AddItemToArray(arr, cJSON_CreateString(user)) ||
	    (op = op_new(c, OP_PRESENCE, NULL, arg)) == NULL) {
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	snprintf(op->user, sizeof op->user, "%s", user);
	op->seen_cb = cb;
	return op_launch(c, op, session_request(c, req, seen, op, 0));
}

static void
privacy_set(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	(void)reply;
	op_finish(c, op, err, NULL);
}

int
chat_set_privacy(struct chat_client *c, int hide_last_seen, chat_done_cb done, void *arg)
{
	struct op *op;
	cJSON *req;
	int rc = client_check_registered(c);

	if (rc != CHAT_OK)
		return rc;
	req = request_new("setPrivacy");
	if (req == NULL || !cJSON_AddBoolToObject(req, "hideLastSeen", hide_last_seen != 0) ||
	    (op = op_new(c, OP_PRESENCE, done, arg)) == NULL) {
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	return op_launch(c, op, session_request(c, req, privacy_set, op, 0));
}
