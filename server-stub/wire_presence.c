/*
 * wire_presence.c - getLastSeen and setPrivacy (PROTOCOL.md, "Last seen"):
 * a user's last seen is shown to contacts only, and only between users who
 * both show theirs, and not between a blocker and whom they blocked.
 */
#include "wire_req.h"

#include <stdio.h>
#include <string.h>

/* 1 if this user and other have blocked one or the other, 0 not, -1 with
 * the request failed. */
static int
blocked_between(struct req *r, const char *other)
{
	enum db_status a = db_is_blocked(r->h->db, other, r->s->user);
	enum db_status b = a == DB_NOT_FOUND ? db_is_blocked(r->h->db, r->s->user, other) : a;

	if (a == DB_INTERNAL || b == DB_INTERNAL) {
		req_internal(r);
		return -1;
	}
	return a == DB_OK || b == DB_OK;
}

void
handle_get_last_seen(struct req *r)
{
	char names[PROTO_MAX_LAST_SEEN][PROTO_USER_MAX + 1];
	const cJSON *users = req_array(r, "users", PROTO_MAX_LAST_SEEN);
	cJSON *out;
	size_t n = 0, i;
	int self_hide, hide, contact, blocked = 0;
	int64_t last;

	if (users == NULL)
		return;
	if (cJSON_GetArraySize(users) < 1) {
		req_fail(r, "bad_request", "users: at least 1 item");
		return;
	}
	/* Each as asked, repeats included. */
	if (req_users(r, users, "users", names, &n, PROTO_MAX_LAST_SEEN, 0) != 0)
		return;
	switch (db_last_seen(r->h->db, r->s->user, &self_hide, &last)) {
	case DB_OK: break;
	default: req_internal(r); return;
	}
	req_reply(r);
	out = j_check(&r->oom, cJSON_AddArrayToObject(r->reply, "users"));
	for (i = 0; i < n && !req_failed(r); i++) {
		int own = strcmp(names[i], r->s->user) == 0;
		cJSON *u;

		switch (db_last_seen(r->h->db, names[i], &hide, &last)) {
		case DB_OK: break;
		case DB_NOT_FOUND:
			req_fail(r, "unknown_user", "no user named '%s'", names[i]);
			return;
		default: req_internal(r); return;
		}
		if ((contact = req_contact(r, names[i])) < 0)
			return;
		/* Between a blocker and the user they blocked, either way
		 * (PROTOCOL.md, "Blocking"). */
		if (!own && (blocked = blocked_between(r, names[i])) < 0)
			return;
		u = j_obj_in_array(&r->oom, out);
		j_str(&r->oom, u, "user", names[i]);
		/* Shown to contacts only, and only between users who both show
		 * theirs. */
		if (!own && (hide || self_hide || !contact || blocked)) {
			j_check(&r->oom, cJSON_AddNullToObject(u, "online"));
			j_check(&r->oom, cJSON_AddNullToObject(u, "lastSeen"));
			continue;
		}
		j_check(&r->oom,
			cJSON_AddBoolToObject(u, "online",
					      r->h->online && r->h->online(r->h->udata, names[i])));
		if (last < 0)
			j_check(&r->oom, cJSON_AddNullToObject(u, "lastSeen"));
		else
			j_int(&r->oom, u, "lastSeen", last);
	}
}

void
handle_set_privacy(struct req *r)
{
	const cJSON *v = req_field(r->msg, "hideLastSeen");

	if (!cJSON_IsBool(v)) {
		req_fail(r, "bad_request", "hideLastSeen: %s", v ? "must be a boolean" : "missing");
		return;
	}
	if (db_set_hide_last_seen(r->h->db, r->s->user, cJSON_IsTrue(v)) != DB_OK) {
		req_internal(r);
		return;
	}
	req_reply(r);
	j_check(&r->oom, cJSON_AddBoolToObject(r->reply, "hideLastSeen", cJSON_IsTrue(v)));
}
