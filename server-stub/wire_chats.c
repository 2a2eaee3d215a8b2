/*
 * wire_chats.c - chats and groups (PROTOCOL.md, "Chats" and "Groups"):
 * createChat (direct, or a group when named), getChat,
 * modifyChatParticipants (members and admins) and updateChat (name and
 * description).  The chatUpdate each group change leaves for its
 * devices is pushed from the inbox (wire_push.c).
 */
#include "wire_req.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static void
reply_participants(struct req *r, char (*names)[PROTO_USER_MAX + 1], size_t n)
{
	j_names(&r->oom, r->reply, "participants", (const char(*)[PROTO_USER_MAX + 1]) names, n);
}

/* After a committed group change: wake the recipients' connections, log
 * it, and reply with the group as it is now. */
static void
reply_change(struct req *r, const struct db_change_result *res, size_t n_users)
{
	size_t i;

	for (i = 0; i < res->n_recipients && r->h->inbox_changed; i++)
		r->h->inbox_changed(r->h->udata, res->recipients[i].user,
				    res->recipients[i].device_id);
	srv_log("conn %llu chat %s %s by %s/%u: %zu user(s), %zu member(s) now, seq %" PRId64,
		(unsigned long long)r->s->conn_id, res->chat_id, wire_op_name(res->op), r->s->user,
		(unsigned)r->s->device_id, n_users, res->n_participants, res->seq);
	req_reply(r);
	j_str(&r->oom, r->reply, "chatId", res->chat_id);
}

static void
reply_members(struct req *r, const struct db_change_result *res)
{
	j_names(&r->oom, r->reply, "participants",
		(const char(*)[PROTO_USER_MAX + 1]) res->participants, res->n_participants);
	j_names(&r->oom, r->reply, "admins", (const char(*)[PROTO_USER_MAX + 1]) res->admins,
		res->n_admins);
}

/* The name of a group: 1 to PROTO_GROUP_NAME_MAX bytes of UTF-8. */
static const char *
get_group_name(struct req *r, const cJSON *name)
{
	size_t len;

	if (!cJSON_IsString(name) || name->valuestring == NULL) {
		req_fail(r, "bad_request", "name: must be a string");
		return NULL;
	}
	len = strlen(name->valuestring);
	if (len == 0) {
		req_fail(r, "bad_request", "name: must not be empty");
		return NULL;
	}
	if (len > PROTO_GROUP_NAME_MAX) {
		req_fail(r, "too_large", "name: at most %d bytes", PROTO_GROUP_NAME_MAX);
		return NULL;
	}
	if (!proto_valid_utf8(name->valuestring, len)) {
		req_fail(r, "bad_request", "name: must be valid UTF-8");
		return NULL;
	}
	return name->valuestring;
}

/* too_many_group_adds: someone who has not taken part in a chat with this
 * user was added to groups too often lately, or this user added too many
 * such people (PROTOCOL.md, "Groups"). */
static void
fail_too_many_adds(struct req *r, const struct db_change_result *res)
{
	if (res->adder_limited)
		req_fail(r, "too_many_group_adds",
			 "you have added %d people who never took part in a chat with you to "
			 "groups in the last hour, the most allowed; try again later",
			 r->h->add_limits.per_adder_hour);
	else
		req_fail(r, "too_many_group_adds",
			 "'%s' was added to %d groups today by people they never took part in "
			 "a chat with, the most allowed; ask them to write to you first",
			 res->bad_user, r->h->add_limits.per_target_day);
}

/* blocked: a user named for a group has blocked the adder (PROTOCOL.md,
 * "Blocking"). It tells the adder so; WhatsApp says as much ("couldn't
 * add"), and leaving the member out silently would show it anyway. */
static void
fail_blocked(struct req *r, const struct db_change_result *res)
{
	req_fail(r, "blocked", "'%s' does not accept being added to groups by you; nothing changed",
		 res->bad_user);
}

static void
fail_group_too_large(struct req *r)
{
	req_fail(r, "too_large",
		 "participants: a group has at most %d members, the creator included",
		 PROTO_MAX_MEMBERS);
}

static void
create_group(struct req *r, const cJSON *name_field)
{
	char(*names)[PROTO_USER_MAX + 1] = NULL;
	const cJSON *list = req_field(r->msg, "participants");
	struct db_change_result *res = NULL;
	struct db_group_create req;
	const char *name;
	size_t n = 1;
	int over;

	if ((name = get_group_name(r, name_field)) == NULL)
		return;
	if (!cJSON_IsArray(list)) {
		req_fail(r, "bad_request", "participants: %s",
			 list ? "must be an array" : "missing");
		return;
	}
	if ((names = malloc(PROTO_MAX_MEMBERS * sizeof *names)) == NULL ||
	    (res = malloc(sizeof *res)) == NULL) {
		r->oom = 1;
		goto out;
	}
	/* The creator and the others, each once. */
	memcpy(names[0], r->s->user, sizeof names[0]);
	if ((over = req_users(r, list, "participants", names, &n, PROTO_MAX_MEMBERS, 1)) != 0) {
		if (over > 0)
			fail_group_too_large(r);
		goto out;
	}
	req = (struct db_group_create){
		.creator = r->s->user,
		.creator_device = r->s->device_id,
		.name = name,
		.members = (const char(*)[PROTO_USER_MAX + 1]) names,
		.n_members = n,
		.now = proto_now_ms(),
		.limits = r->h->add_limits,
	};
	switch (db_create_group(r->h->db, &req, res)) {
	case DB_OK:
		reply_change(r, res, n);
		j_str(&r->oom, r->reply, "kind", "group");
		j_str(&r->oom, r->reply, "name", name);
		reply_members(r, res);
		j_int(&r->oom, r->reply, "seq", res->seq);
		j_check(&r->oom, cJSON_AddTrueToObject(r->reply, "created"));
		break;
	case DB_UNKNOWN_USER:
		req_fail(r, "unknown_user", "no user named '%s'", res->bad_user);
		break;
	case DB_TOO_LARGE: fail_group_too_large(r); break;
	case DB_TOO_MANY_ADDS: fail_too_many_adds(r, res); break;
	case DB_BLOCKED: fail_blocked(r, res); break;
	default: req_internal(r); break;
	}
	db_change_result_free(res);
out:
	free(res);
	free(names);
}

void
handle_create_chat(struct req *r)
{
	/* The creator plus at most PROTO_MAX_MEMBERS named. */
	char names[PROTO_MAX_MEMBERS + 1][PROTO_USER_MAX + 1];
	char chat_id[PROTO_CHAT_ID_LEN + 1], missing[PROTO_USER_MAX + 1];
	const cJSON *group_name = req_field(r->msg, "name"), *list;
	size_t n = 1;
	int created;

	/* A name makes a group; null is no name, as for deviceName. */
	if (group_name != NULL && !cJSON_IsNull(group_name)) {
		create_group(r, group_name);
		return;
	}
	if ((list = req_array(r, "participants", PROTO_MAX_MEMBERS)) == NULL)
		return;
	memcpy(names[0], r->s->user, sizeof names[0]);
	if (req_users(r, list, "participants", names, &n, PROTO_MAX_MEMBERS + 1, 1) != 0)
		return;
	/* The creator alone (participants [self]): notes to self, a direct
	 * chat whose only member is its creator. [] is still refused. */
	if (n == 1 && cJSON_GetArraySize(list) > 0)
		memcpy(names[1], names[0], sizeof names[1]);
	else if (n != 2) {
		req_fail(r, "bad_participants",
			 "a direct chat has exactly two "
			 "users, the creator included; this request names %zu",
			 n);
		return;
	}
	switch (db_direct_chat(r->h->db, names[0], names[1], proto_now_ms(), chat_id, &created,
			       missing)) {
	case DB_OK: break;
	case DB_NOT_FOUND: req_fail(r, "unknown_user", "no user named '%s'", missing); return;
	default: req_internal(r); return;
	}
	/* Sorted, as getChat lists them: both members see the same list. */
	if (strcmp(names[0], names[1]) > 0) {
		char tmp[PROTO_USER_MAX + 1];

		memcpy(tmp, names[0], sizeof tmp);
		memcpy(names[0], names[1], sizeof tmp);
		memcpy(names[1], tmp, sizeof tmp);
	}
	req_reply(r);
	j_str(&r->oom, r->reply, "chatId", chat_id);
	j_str(&r->oom, r->reply, "kind", "direct");
	reply_participants(r, names, n == 1 ? 1 : 2);
	j_check(&r->oom, cJSON_AddBoolToObject(r->reply, "created", created));
}

void
handle_get_chat(struct req *r)
{
	char chat_id[PROTO_CHAT_ID_LEN + 1];
	struct db_chat *c;

	if (req_hex(r, r->msg, "chatId", PROTO_CHAT_ID_LEN, chat_id) != 0)
		return;
	if ((c = malloc(sizeof *c)) == NULL) {
		r->oom = 1;
		return;
	}
	switch (db_get_chat(r->h->db, chat_id, r->s->user, c)) {
	case DB_OK:
		req_reply(r);
		j_str(&r->oom, r->reply, "chatId", c->chat_id);
		j_str(&r->oom, r->reply, "kind", c->kind);
		j_opt_str(&r->oom, r->reply, "name", c->has_name ? c->name : NULL);
		reply_participants(r, c->members, c->n_members);
		j_names(&r->oom, r->reply, "admins", (const char(*)[PROTO_USER_MAX + 1]) c->admins,
			c->n_admins);
		j_int(&r->oom, r->reply, "createdAt", c->created_at);
		if (strcmp(c->kind, "group") == 0)
			j_str(&r->oom, r->reply, "description", c->description);
		break;
	case DB_NOT_FOUND:
		req_fail(r, "no_such_chat", "no chat %s that you are in", chat_id);
		break;
	default: req_internal(r); break;
	}
	free(c);
}

/* The refusals common to every change of a group, by status. */
static void
fail_change(struct req *r, enum db_status st, const char *chat_id, const char *what)
{
	switch (st) {
	case DB_NOT_FOUND:
		req_fail(r, "no_such_chat", "no chat %s that you are in", chat_id);
		break;
	case DB_WRONG_KIND:
		req_fail(r, "bad_request", "chat %s is a direct chat: %s", chat_id, what);
		break;
	default: req_internal(r); break;
	}
}

/* PROMOTE and DEMOTE (PROTOCOL.md, "modifyChatParticipants"). */
static void
change_admins(struct req *r, struct db_group_change *req, int promote, struct db_change_result *res)
{
	enum db_status st = db_change_admins(r->h->db, req, promote, res);

	switch (st) {
	case DB_OK:
		reply_change(r, res, req->n_users);
		j_str(&r->oom, r->reply, "kind", "group");
		j_opt_str(&r->oom, r->reply, "name", res->has_name ? res->name : NULL);
		j_int(&r->oom, r->reply, "seq", res->seq);
		reply_members(r, res);
		break;
	case DB_NOT_ADMIN:
		req_fail(r, "not_admin", "only an admin of the group makes or unmakes admins");
		break;
	case DB_UNKNOWN_USER:
		req_fail(r, "unknown_user", "no user named '%s'", res->bad_user);
		break;
	case DB_NOT_MEMBER:
		req_fail(r, "not_member", "'%s' is not in the group", res->bad_user);
		break;
	case DB_ROLE_SAME:
		if (promote)
			req_fail(r, "already_admin", "'%s' is already an admin of the group",
				 res->bad_user);
		else
			req_fail(r, "not_an_admin", "'%s' is not an admin of the group",
				 res->bad_user);
		break;
	case DB_LAST_ADMIN:
		req_fail(r, "last_admin",
			 "a group keeps at least one admin: promote another member first");
		break;
	default: fail_change(r, st, req->chat_id, "it has no admins"); break;
	}
}

void
handle_modify(struct req *r)
{
	char chat_id[PROTO_CHAT_ID_LEN + 1];
	char(*users)[PROTO_USER_MAX + 1] = NULL;
	struct db_change_result *res = NULL;
	struct db_group_change req;
	const cJSON *list;
	const char *op;
	size_t n = 0;
	int add, admins;

	if (req_hex(r, r->msg, "chatId", PROTO_CHAT_ID_LEN, chat_id) != 0 ||
	    (op = req_string(r, r->msg, "operation", "operation")) == NULL)
		return;
	if (strcmp(op, "ADD") != 0 && strcmp(op, "REMOVE") != 0 && strcmp(op, "PROMOTE") != 0 &&
	    strcmp(op, "DEMOTE") != 0) {
		req_fail(r, "bad_request", "operation: must be ADD, REMOVE, PROMOTE or DEMOTE");
		return;
	}
	add = op[0] == 'A' || op[0] == 'P'; /* ADD, PROMOTE */
	admins = op[0] == 'P' || op[0] == 'D';
	if ((list = req_array(r, "users", PROTO_MAX_MODIFY)) == NULL)
		return;
	if (cJSON_GetArraySize(list) == 0) {
		req_fail(r, "bad_request", "users: 1 to %d users", PROTO_MAX_MODIFY);
		return;
	}
	if ((users = malloc(PROTO_MAX_MODIFY * sizeof *users)) == NULL ||
	    (res = malloc(sizeof *res)) == NULL) {
		r->oom = 1;
		goto out;
	}
	/* A name given twice counts once. */
	if (req_users(r, list, "users", users, &n, PROTO_MAX_MODIFY, 1) != 0)
		goto out;
	req = (struct db_group_change){
		.chat_id = chat_id,
		.actor = r->s->user,
		.actor_device = r->s->device_id,
		.add = add,
		.users = (const char(*)[PROTO_USER_MAX + 1]) users,
		.n_users = n,
		.now = proto_now_ms(),
		.limits = r->h->add_limits,
	};
	if (admins) {
		change_admins(r, &req, add, res);
		db_change_result_free(res);
		goto out;
	}
	switch (db_change_group(r->h->db, &req, res)) {
	case DB_OK:
		/* kind and name too, beyond PROTOCOL.md's example: the reply then
		 * describes the chat as a chatUpdate and getChat do. */
		reply_change(r, res, n);
		j_str(&r->oom, r->reply, "kind", "group");
		j_opt_str(&r->oom, r->reply, "name", res->has_name ? res->name : NULL);
		j_int(&r->oom, r->reply, "seq", res->seq);
		reply_members(r, res);
		break;
	case DB_NOT_FOUND:
		req_fail(r, "no_such_chat", "no chat %s that you are in", chat_id);
		break;
	case DB_WRONG_KIND:
		req_fail(r, "bad_request", "chat %s is a direct chat: its members are fixed",
			 chat_id);
		break;
	case DB_NOT_ADMIN:
		req_fail(r, "not_admin",
			 "only an admin of the group adds members or removes others; "
			 "a member may remove only themselves");
		break;
	case DB_UNKNOWN_USER:
		req_fail(r, "unknown_user", "no user named '%s'", res->bad_user);
		break;
	case DB_ALREADY_MEMBER:
		req_fail(r, "already_member", "'%s' is already in the group", res->bad_user);
		break;
	case DB_NOT_MEMBER:
		req_fail(r, "not_member", "'%s' is not in the group", res->bad_user);
		break;
	case DB_TOO_LARGE:
		req_fail(r, "too_large", "users: a group has at most %d members",
			 PROTO_MAX_MEMBERS);
		break;
	case DB_TOO_MANY_ADDS: fail_too_many_adds(r, res); break;
	case DB_BLOCKED: fail_blocked(r, res); break;
	default: req_internal(r); break;
	}
	db_change_result_free(res);
out:
	free(res);
	free(users);
}

/* A group's new name or description from updateChat: 1..PROTO_GROUP_NAME_MAX
 * (name) or 0..PROTO_GROUP_DESC_MAX        (description) bytes of UTF-8
 * without control characters, a description's line breaks excepted.  NULL
 * (refused) if it is not. */
static const char *
get_text(struct req *r, const cJSON *v, const char *field, size_t min, size_t max, int newlines)
{
	size_t len, i;

	if (!cJSON_IsString(v) || v->valuestring == NULL) {
		req_fail(r, "bad_request", "%s: must be a string", field);
		return NULL;
	}
	len = strlen(v->valuestring);
	if (len < min) {
		req_fail(r, "bad_request", "%s: must not be empty", field);
		return NULL;
	}
	if (len > max) {
		req_fail(r, "too_large", "%s: at most %zu bytes", field, max);
		return NULL;
	}
	if (!proto_valid_utf8(v->valuestring, len)) {
		req_fail(r, "bad_request", "%s: must be valid UTF-8", field);
		return NULL;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v->valuestring[i];

		if ((c < 0x20 && !(newlines && c == '\n')) || c == 0x7f) {
			req_fail(r, "bad_request", "%s: must not hold control characters", field);
			return NULL;
		}
	}
	return v->valuestring;
}

void
handle_update_chat(struct req *r)
{
	char chat_id[PROTO_CHAT_ID_LEN + 1];
	const cJSON *name_f = req_field(r->msg, "name"), *desc_f = req_field(r->msg, "description");
	struct db_change_result *res;
	struct db_group_edit req;
	enum db_status st;

	if (req_hex(r, r->msg, "chatId", PROTO_CHAT_ID_LEN, chat_id) != 0)
		return;
	if ((name_f == NULL) == (desc_f == NULL)) {
		req_fail(r, "bad_request", "exactly one of name and description");
		return;
	}
	req = (struct db_group_edit){
		.chat_id = chat_id,
		.actor = r->s->user,
		.actor_device = r->s->device_id,
		.now = proto_now_ms(),
	};
	if (name_f != NULL &&
	    (req.name = get_text(r, name_f, "name", 1, PROTO_GROUP_NAME_MAX, 0)) == NULL)
		return;
	if (desc_f != NULL && (req.description = get_text(r, desc_f, "description", 0,
							  PROTO_GROUP_DESC_MAX, 1)) == NULL)
		return;
	if ((res = malloc(sizeof *res)) == NULL) {
		r->oom = 1;
		return;
	}
	switch ((st = db_edit_group(r->h->db, &req, res))) {
	case DB_OK:
		reply_change(r, res, 0);
		j_str(&r->oom, r->reply, "kind", "group");
		j_opt_str(&r->oom, r->reply, "name", res->has_name ? res->name : NULL);
		j_str(&r->oom, r->reply, "description", res->description);
		j_int(&r->oom, r->reply, "seq", res->seq);
		break;
	case DB_NOT_ADMIN:
		req_fail(r, "not_admin", "only an admin of the group renames or describes it");
		break;
	default: fail_change(r, st, chat_id, "it has no name or description"); break;
	}
	db_change_result_free(res);
	free(res);
}
