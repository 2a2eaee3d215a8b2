/*
 * block.c - blocking users (PROTOCOL.md, "Blocking"): block, unblock and
 * listBlocked, the blocked push, and the local copy of the list that the
 * rest of libchat asks (blocks_has) before it shows what a user sent or
 * sends to them.  The list is the user's, kept by the server: every change
 * and every connection brings the device's copy up to date.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most names a list from the server may hold (the server's limit). */
#define BLOCKED_MAX 10000

/* Reads a list of names (a reply's or push's "users", the auth reply's
 * "blocked") into the store's copy: CHAT_OK (and on_blocked_changed if it
 * changed), or an error. */
static int
take_names(struct chat_client *c, const cJSON *arr)
{
	const cJSON *u;
	const char **names;
	size_t n = 0;
	int rc;

	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > BLOCKED_MAX)
		return client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a malformed block list");
	if ((names = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof *names)) == NULL)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(u, arr) {
		if (!cJSON_IsString(u) || !proto_valid_user(u->valuestring)) {
			free(names);
			return client_fail(c, CHAT_ERR_PROTOCOL,
					   "the server sent a malformed block list");
		}
		names[n++] = u->valuestring;
	}
	rc = store_blocked_set(&c->store, (char *const *)names, n);
	free(names);
	if (rc < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == 1 && c->cbs.on_blocked_changed)
		c->cbs.on_blocked_changed(c, c->udata);
	return CHAT_OK;
}

static int
take_list(struct chat_client *c, const cJSON *msg)
{
	return take_names(c, cJSON_GetObjectItemCaseSensitive(msg, "users"));
}

static void
answered(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	if (err == CHAT_OK)
		err = take_list(c, reply);
	op_finish(c, op, err, NULL);
}

/* One of block, unblock (user set) or listBlocked (user NULL). */
static int
request(struct chat_client *c, const char *type, const char *user, chat_done_cb done, void *arg)
{
	struct op *op;
	cJSON *req;
	int rc = client_check_registered(c);

	if (rc != CHAT_OK)
		return rc;
	if (user != NULL && !proto_valid_user(user))
		return client_fail(c, CHAT_ERR_INVALID, "'%s' is not a valid user name", user);
	if (user != NULL && strcmp(user, c->user) == 0)
		return client_fail(c, CHAT_ERR_INVALID, "you cannot %s yourself",
				   strcmp(type, "block") == 0 ? "block" : "unblock");
	req = request_new(type);
	if (req == NULL || (user != NULL && !cJSON_AddStringToObject(req, "user", user)) ||
	    (op = op_new(c, OP_PRESENCE, done, arg)) == NULL) {
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	if (user != NULL)
		snprintf(op->user, sizeof op->user, "%s", user);
	return op_launch(c, op, session_request(c, req, answered, op, 0));
}

int
chat_block_user(struct chat_client *c, const char *user, chat_done_cb done, void *arg)
{
	return request(c, "block", user ? user : "", done, arg);
}

int
chat_unblock_user(struct chat_client *c, const char *user, chat_done_cb done, void *arg)
{
	return request(c, "unblock", user ? user : "", done, arg);
}

int
chat_refresh_blocked(struct chat_client *c, chat_done_cb done, void *arg)
{
	return request(c, "listBlocked", NULL, done, arg);
}

int
chat_blocked_users(struct chat_client *c, int (*each)(void *arg, const char *user), void *arg)
{
	int rc = store_blocked_each(&c->store, each, arg);

	if (rc == -1)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return rc;
}

int
chat_is_blocked(struct chat_client *c, const char *user)
{
	int rc;

	if (!proto_valid_user(user))
		return 0;
	if ((rc = store_blocked_has(&c->store, user)) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return rc;
}

/* ---- what the rest of libchat asks ---------------------------------------- */

int
blocks_has(struct chat_client *c, const char *user)
{
	/* A store that cannot say: shown, not lost (the server enforces too). */
	return user != NULL && strcmp(user, c->user) != 0 &&
	       store_blocked_has(&c->store, user) == 1;
}

int
blocks_check_send(struct chat_client *c, const char *chat_id)
{
	char **users = NULL;
	size_t n = 0;
	int group = store_chat_is_group(&c->store, chat_id), rc = CHAT_OK;

	/* In a group, a blocked member still gets what this user sends. */
	if (group != 0)
		return CHAT_OK; /* a group, or unknown here: the send says */
	if (store_chat_members(&c->store, chat_id, &users, &n) != 0)
		return CHAT_OK;
	for (size_t i = 0; i < n && rc == CHAT_OK; i++)
		if (blocks_has(c, users[i])) {
			rc = client_fail(c, CHAT_ERR_BLOCKED,
					 "you blocked %s: unblock them to send; nothing was sent",
					 users[i]);
			/* For the front ends' own hint (chat_client_error_user). */
			snprintf(c->err_user, sizeof c->err_user, "%s", users[i]);
		}
	store_free_list(users, n);
	return rc;
}

static void
fetched(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	(void)op;
	/* Not fetched (the connection went): the next connection asks again. */
	if (err == CHAT_OK && take_list(c, reply) != CHAT_OK && c->cbs.on_receive_error)
		c->cbs.on_receive_error(c, c->udata, NULL, CHAT_ERR_PROTOCOL, c->errmsg);
}

int
blocks_on_auth(struct chat_client *c, const cJSON *reply)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(reply, "blocked");

	/* A server without blocking: nothing to keep in step with. */
	return arr == NULL ? CHAT_OK : take_names(c, arr);
}

void
blocks_online(struct chat_client *c)
{
	cJSON *req;

	/* An auth reply gives it; a device that came in by a link has had
	 * none, and asks. */
	if (!c->blocks_fetch)
		return;
	c->blocks_fetch = 0;
	if ((req = request_new("listBlocked")) == NULL)
		return;
	(void)session_request(c, req, fetched, NULL, 0);
}

void
blocks_on_push(struct chat_client *c, const cJSON *msg)
{
	if (take_list(c, msg) != CHAT_OK && c->cbs.on_receive_error)
		c->cbs.on_receive_error(c, c->udata, NULL, CHAT_ERR_PROTOCOL, c->errmsg);
}
