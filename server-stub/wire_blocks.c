/*
 * wire_blocks.c - block, unblock and listBlocked (PROTOCOL.md, "Blocking"),
 * and the blocked push that tells the user's devices of a change.  A block
 * list is the user's: any device changes it, every device is told.  What a
 * block stops is enforced where the server sees it: db_send (messages and
 * receipts), group creation and ADD (db_chats.c), typing
 * (wire_messages.c) and last seen (wire_presence.c).
 */
#include "wire_req.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* The user's list, sorted, under "users" of o: 0, or -1 (the request
 * failed).  names has room for DB_MAX_BLOCKED. */
static int
add_list(struct req *r, cJSON *o, char (*names)[PROTO_USER_MAX + 1])
{
	size_t n;

	if (db_blocked_list(r->h->db, r->s->user, names, DB_MAX_BLOCKED, &n) != DB_OK) {
		req_internal(r);
		return -1;
	}
	j_names(&r->oom, o, "users", (const char(*)[PROTO_USER_MAX + 1]) names, n);
	return 0;
}

int
wire_auth_blocked(struct req *r)
{
	char(*names)[PROTO_USER_MAX + 1] = malloc(DB_MAX_BLOCKED * sizeof *names);
	size_t n;

	if (names == NULL) {
		r->oom = 1;
		return -1;
	}
	if (db_blocked_list(r->h->db, r->s->user, names, DB_MAX_BLOCKED, &n) != DB_OK) {
		free(names);
		req_internal(r);
		return -1;
	}
	if (r->reply != NULL)
		j_names(&r->oom, r->reply, "blocked", (const char(*)[PROTO_USER_MAX + 1]) names, n);
	free(names);
	return 0;
}

char *
wire_blocked(const char (*names)[PROTO_USER_MAX + 1], size_t n)
{
	cJSON *root = cJSON_CreateObject();
	int oom = root == NULL;

	j_str(&oom, root, "type", "blocked");
	j_names(&oom, root, "users", names, n);
	return j_finish(oom, root);
}

/* After a change: every receiving connection of the user's devices gets
 * the whole list (the asking device's too: its receiving connection may be
 * another one than this, chatctl block beside chatctl listen). */
static void
push_list(struct req *r, char (*names)[PROTO_USER_MAX + 1])
{
	size_t n;
	char *frame;

	if (r->h->user_push == NULL)
		return;
	if (db_blocked_list(r->h->db, r->s->user, names, DB_MAX_BLOCKED, &n) != DB_OK)
		return; /* each device asks again on its next connection */
	if ((frame = wire_blocked((const char(*)[PROTO_USER_MAX + 1]) names, n)) == NULL)
		return;
	r->h->user_push(r->h->udata, r->s->user, frame);
	free(frame);
}

static void
change(struct req *r, int block)
{
	char user[PROTO_USER_MAX + 1];
	char(*names)[PROTO_USER_MAX + 1];
	int changed = 0;

	if (req_user(r, req_field(r->msg, "user"), "user", user) != 0)
		return;
	if (strcmp(user, r->s->user) == 0) {
		req_fail(r, "bad_request", "user: you cannot %s yourself",
			 block ? "block" : "unblock");
		return;
	}
	if ((names = malloc(DB_MAX_BLOCKED * sizeof *names)) == NULL) {
		r->oom = 1;
		return;
	}
	switch (block ? db_block(r->h->db, r->s->user, user, proto_now_ms(), &changed)
		      : db_unblock(r->h->db, r->s->user, user, &changed)) {
	case DB_OK: break;
	case DB_NOT_FOUND: req_fail(r, "unknown_user", "no user named '%s'", user); goto out;
	case DB_TOO_MANY:
		req_fail(r, "quota_exceeded",
			 "you have blocked %d users, the most allowed; unblock someone first",
			 DB_MAX_BLOCKED);
		goto out;
	default: req_internal(r); goto out;
	}
	req_reply(r);
	j_str(&r->oom, r->reply, "user", user);
	j_check(&r->oom, cJSON_AddBoolToObject(r->reply, "changed", changed));
	if (add_list(r, r->reply, names) != 0)
		goto out;
	if (changed) {
		srv_log("conn %llu %s %s", (unsigned long long)r->s->conn_id,
			block ? "block by" : "unblock by", r->s->user);
		push_list(r, names);
	}
out:
	free(names);
}

void
handle_block(struct req *r)
{
	change(r, 1);
}

void
handle_unblock(struct req *r)
{
	change(r, 0);
}

void
handle_list_blocked(struct req *r)
{
	char(*names)[PROTO_USER_MAX + 1];

	if ((names = malloc(DB_MAX_BLOCKED * sizeof *names)) == NULL) {
		r->oom = 1;
		return;
	}
	req_reply(r);
	(void)add_list(r, r->reply, names);
	free(names);
}
