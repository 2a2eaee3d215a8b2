/*
 * db_chats.c - the store's chats (see db.h): direct chats, one per pair of
 * users; groups, their members and admins; and the updates that record each
 * group's creation and every change of its members, in the chat's one
 * sequence with its messages.
 *
 * The checks of a group change run first, in the order PROTOCOL.md lists
 * them, and nothing is written until every one has passed; then the change,
 * its update and the update's inbox rows are one transaction.
 */
#include "db_sql.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto.h"

static void
new_chat_id(char out[PROTO_CHAT_ID_LEN + 1])
{
	uint8_t raw[PROTO_CHAT_ID_LEN / 2];

	db_random_fn(raw, sizeof raw);
	sodium_bin2hex(out, PROTO_CHAT_ID_LEN + 1, raw, sizeof raw);
}

/* 1 found (chat_id filled), 0 none, -1 error. */
static int
chat_by_direct_key(struct db *st, const char *key, char chat_id[PROTO_CHAT_ID_LEN + 1])
{
	struct db_q *s = db_stmt(st, ST_CHAT_BY_DIRECT_KEY);
	int r;

	if (db_bind_text(st, s, 1, key) != 0) {
		db_done(s);
		return -1;
	}
	r = db_step_row(st, s, "chat by direct key");
	if (r == 1) {
		if (db_col_text(s, 0, chat_id, PROTO_CHAT_ID_LEN + 1) != 0)
			r = -1;
		db_done(s);
	}
	return r;
}

/* Insert the chat row under a fresh random id: 0, or -1 on error.  A clash
 * with an existing id (2^-64 per pair, but cheap to handle) draws again.
 * key is the direct key of a direct chat, name the name of a group (the
 * other NULL). */
static int
insert_chat(struct db *st, const char *creator, const char *key, const char *name, int64_t now,
	    char chat_id[PROTO_CHAT_ID_LEN + 1])
{
	struct db_q *s = db_stmt(st, key != NULL ? ST_CHAT_INSERT : ST_GROUP_INSERT);
	int attempt, rc;

	for (attempt = 0; attempt < 8; attempt++) {
		new_chat_id(chat_id);
		if (db_bind_text(st, s, 1, chat_id) || db_bind_text(st, s, 2, creator) ||
		    db_bind_int(st, s, 3, now) ||
		    db_bind_text(st, s, 4, key != NULL ? key : name)) {
			db_done(s);
			return -1;
		}
		rc = db_step(st, s);
		db_done(s);
		if (rc == DB_DONE)
			return 0;
		if (rc != DB_DUP) {
			db_fail(st, "insert chat");
			return -1;
		}
	}
	srv_log("db: insert chat: no free chat id after %d draws", attempt);
	return -1;
}

static int
insert_member(struct db *st, const char *chat_id, const char *user, const char *role, int64_t now)
{
	struct db_q *s = db_stmt(st, ST_MEMBER_INSERT);

	if (db_bind_text(st, s, 1, chat_id) || db_bind_text(st, s, 2, user) ||
	    db_bind_int(st, s, 3, now) || db_bind_text(st, s, 4, role)) {
		db_done(s);
		return -1;
	}
	return db_step_done(st, s, "insert member");
}

/* user has taken part in the chat (see db_is_contact): 0 or -1. */
int
db_note_activity(struct db *st, const char *chat_id, const char *user)
{
	struct db_q *s = db_stmt(st, ST_ACTIVITY);

	if (db_bind_text(st, s, 1, chat_id) || db_bind_text(st, s, 2, user)) {
		db_done(s);
		return -1;
	}
	return db_step_done(st, s, "chat activity");
}

enum db_status
db_direct_chat(struct db *st, const char *creator, const char *other, int64_t now,
	       char chat_id[PROTO_CHAT_ID_LEN + 1], int *created,
	       char missing_user[PROTO_USER_MAX + 1])
{
	char key[2 * (PROTO_USER_MAX + 1)];
	const char *users[2] = {creator, other};
	enum db_status ret = DB_INTERNAL;
	int i, r;

	*created = 0;
	if (strcmp(creator, other) > 0) {
		users[0] = other;
		users[1] = creator;
	}
	snprintf(key, sizeof key, "%s\n%s", users[0], users[1]);
	if (db_tx_begin(st, DB_TX_WRITE) != 0)
		return DB_INTERNAL;
	for (i = 0; i < 2; i++) {
		if ((r = db_find_user(st, users[i])) < 0)
			goto out;
		if (r == 0) {
			if (missing_user != NULL)
				snprintf(missing_user, PROTO_USER_MAX + 1, "%s", users[i]);
			ret = DB_NOT_FOUND;
			goto out;
		}
	}
	if ((r = chat_by_direct_key(st, key, chat_id)) < 0)
		goto out;
	/* Both members of a direct chat are plain members: it has no admins.
	 * Asking for it, new or not, is taking part in it. */
	/* A user's chat with themself (notes to self, PROTOCOL.md "Notes to
	 * self"): one member, its key "user\nuser", which no pair can have. */
	if ((r == 0 && (insert_chat(st, creator, key, NULL, now, chat_id) != 0 ||
			insert_member(st, chat_id, users[0], "member", now) != 0 ||
			(strcmp(users[0], users[1]) != 0 &&
			 insert_member(st, chat_id, users[1], "member", now) != 0))) ||
	    db_note_activity(st, chat_id, creator) != 0 || db_tx_end(st, DB_TX_COMMIT) != 0)
		goto out;
	*created = r == 0;
	return DB_OK;
out:
	db_tx_end(st, DB_TX_ROLLBACK);
	return ret;
}

/* The chat's members and its admins, each sorted by name: 0 or -1. */
static int
chat_members(struct db *st, const char *chat_id, char (*members)[PROTO_USER_MAX + 1],
	     size_t *n_members, char (*admins)[PROTO_USER_MAX + 1], size_t *n_admins)
{
	struct db_q *s = db_stmt(st, ST_CHAT_MEMBERS);
	const unsigned char *role;
	int rc;

	*n_members = *n_admins = 0;
	if (db_bind_text(st, s, 1, chat_id) != 0) {
		db_done(s);
		return -1;
	}
	while ((rc = db_step(st, s)) == DB_ROW) {
		if (*n_members >= PROTO_MAX_MEMBERS ||
		    db_col_text(s, 0, members[*n_members], PROTO_USER_MAX + 1) != 0 ||
		    (role = db_col_str(s, 1)) == NULL) {
			srv_log("db: chat %s has a malformed member list", chat_id);
			db_done(s);
			return -1;
		}
		if (strcmp((const char *)role, "admin") == 0)
			memcpy(admins[(*n_admins)++], members[*n_members], PROTO_USER_MAX + 1);
		(*n_members)++;
	}
	if (rc != DB_DONE) {
		db_fail(st, "chat members");
		db_done(s);
		return -1;
	}
	db_done(s);
	return 0;
}

/* The chat's kind and name if user is a member: 1 (filled), 0 not (or no
 * such chat), -1 error. */
static int
chat_as_member(struct db *st, const char *chat_id, const char *user, struct db_chat *out)
{
	struct db_q *s = db_stmt(st, ST_CHAT_GET);
	int r;

	if (db_bind_text(st, s, 1, chat_id) || db_bind_text(st, s, 2, user)) {
		db_done(s);
		return -1;
	}
	r = db_step_row(st, s, "get chat");
	if (r <= 0)
		return r;
	snprintf(out->chat_id, sizeof out->chat_id, "%s", chat_id);
	out->has_name = !db_col_null(s, 1);
	out->name[0] = '\0';
	r = db_col_text(s, 0, out->kind, sizeof out->kind);
	if (r == 0 && out->has_name)
		r = db_col_text(s, 1, out->name, sizeof out->name);
	out->created_at = db_col_int64(s, 2);
	out->description[0] = '\0';
	if (r == 0 && !db_col_null(s, 3))
		r = db_col_text(s, 3, out->description, sizeof out->description);
	db_done(s);
	if (r != 0) {
		srv_log("db: chat %s has a malformed kind or name", chat_id);
		return -1;
	}
	return 1;
}

enum db_status
db_get_chat(struct db *st, const char *chat_id, const char *viewer, struct db_chat *out)
{
	enum db_status ret = DB_INTERNAL;
	int r;

	/* One read transaction: the members cannot change between the two
	 * queries. */
	if (db_tx_begin(st, DB_TX_READ) != 0)
		return DB_INTERNAL;
	if ((r = chat_as_member(st, chat_id, viewer, out)) <= 0) {
		if (r == 0)
			ret = DB_NOT_FOUND;
	} else if (chat_members(st, chat_id, out->members, &out->n_members, out->admins,
				&out->n_admins) == 0) {
		ret = DB_OK;
	}
	db_tx_end(st, DB_TX_ROLLBACK); /* read only: ends the snapshot */
	return ret;
}

/* The role of user in the chat: 1 admin, 0 member, -2 not a member, -1 error. */
int
db_member_role(struct db *st, const char *chat_id, const char *user)
{
	struct db_q *s = db_stmt(st, ST_MEMBER_ROLE);
	const unsigned char *role;
	int r;

	if (db_bind_text(st, s, 1, chat_id) || db_bind_text(st, s, 2, user)) {
		db_done(s);
		return -1;
	}
	if ((r = db_step_row(st, s, "member role")) <= 0)
		return r == 0 ? -2 : -1;
	role = db_col_str(s, 0);
	r = role != NULL && strcmp((const char *)role, "admin") == 0;
	db_done(s);
	return r;
}

/* Take the chat's next seq and bump the counter: 0, or -1 on error. */
int
db_take_seq(struct db *st, const char *chat_id, int64_t *seq)
{
	struct db_q *s = db_stmt(st, ST_CHAT_TAKE_SEQ);
	int r;

	if (db_bind_text(st, s, 1, chat_id) != 0) {
		db_done(s);
		return -1;
	}
	/* The UPDATE is done by the step that returns its row. */
	if ((r = db_step_row(st, s, "take seq")) != 1) {
		if (r == 0)
			srv_log("db: chat %s vanished", chat_id);
		return -1;
	}
	*seq = db_col_int64(s, 0);
	db_done(s);
	return 0;
}

/* ---- what an update says, as stored ---------------------------------------
 *
 * The body of an update's row (db_schema.c, version 8): its operation, then
 * the users it names, the members after it and the admins after it, four
 * lines, each list its names separated by spaces.  A rename's or describe's
 * (version 11) goes on after the admins' line: its text, the new name or
 * description, to the end (a description may hold line breaks); so does a
 * creation's, the group's first name (older creations have none).  db_inbox_load reads it
 * back into a struct db_update; the request layer makes the push. */

static const char *const update_ops[] = {
	[DB_OP_CREATE] = "create", [DB_OP_ADD] = "add",           [DB_OP_REMOVE] = "remove",
	[DB_OP_LEAVE] = "leave",   [DB_OP_PROMOTE] = "promote",   [DB_OP_DEMOTE] = "demote",
	[DB_OP_RENAME] = "rename", [DB_OP_DESCRIBE] = "describe",
};

/* The operations whose body has the fifth part, their text: a rename's name,
 * a description, and a creation's first name (a creation stored by an
 * older server has no fifth part, and reads back with no text). */
static int
op_has_text(enum db_update_op op)
{
	return op == DB_OP_RENAME || op == DB_OP_DESCRIBE || op == DB_OP_CREATE;
}

/* Write n names separated by spaces at p, then end; returns past it. */
static char *
put_names(char *p, const char (*names)[PROTO_USER_MAX + 1], size_t n, char end)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]);

		if (i > 0)
			*p++ = ' ';
		memcpy(p, names[i], len);
		p += len;
	}
	*p++ = end;
	return p;
}

/* The body an update is stored as; malloc'd, NULL when out of memory. */
static char *
update_body(const struct db_update *u)
{
	size_t n = u->n_users + u->n_participants + u->n_admins;
	size_t text_len = op_has_text(u->op) && u->text != NULL ? strlen(u->text) : 0;
	char *body = malloc(16 + n * (PROTO_USER_MAX + 1) + text_len), *p = body;
	size_t len = strlen(update_ops[u->op]);

	if (body == NULL)
		return NULL;
	memcpy(p, update_ops[u->op], len);
	p[len] = '\n';
	p = put_names(p + len + 1, u->users, u->n_users, '\n');
	p = put_names(p, u->participants, u->n_participants, '\n');
	if (!op_has_text(u->op)) {
		(void)put_names(p, u->admins, u->n_admins, '\0');
		return body;
	}
	p = put_names(p, u->admins, u->n_admins, '\n');
	memcpy(p, u->text != NULL ? u->text : "", text_len);
	p[text_len] = '\0';
	return body;
}

/* Read the line of names at *p (up to end, a line break or the NUL) into
 * out, at most cap, and step *p past it: 0, or -1 if it is malformed. */
static int
take_names(const char **p, char end, char (*out)[PROTO_USER_MAX + 1], size_t cap, size_t *n)
{
	const char *s = *p, *stop = strchr(s, end);

	*n = 0;
	if (stop == NULL)
		return -1;
	while (s < stop) {
		const char *sp = memchr(s, ' ', (size_t)(stop - s));
		size_t len = (size_t)((sp != NULL ? sp : stop) - s);

		if (*n == cap || len == 0 || len > PROTO_USER_MAX)
			return -1;
		memcpy(out[*n], s, len);
		out[*n][len] = '\0';
		if (!proto_valid_user(out[*n]))
			return -1;
		(*n)++;
		s += len;
		if (sp != NULL && ++s == stop)
			return -1; /* a space at the end */
	}
	*p = end != '\0' ? stop + 1 : stop;
	return 0;
}

/* Fill u's operation and lists (into st->lists) from a stored body: 0, or
 * -1 if it is malformed. */
int
db_update_parse(struct db *st, const char *body, struct db_update *u)
{
	struct db_update_lists *l = &st->lists;
	const char *nl = strchr(body, '\n');
	size_t op;
	int text;

	for (op = 0; nl != NULL && op < sizeof update_ops / sizeof *update_ops; op++) {
		if (strlen(update_ops[op]) == (size_t)(nl - body) &&
		    memcmp(update_ops[op], body, (size_t)(nl - body)) == 0)
			break;
	}
	if (nl == NULL || op == sizeof update_ops / sizeof *update_ops)
		return -1;
	u->op = (enum db_update_op)op;
	body = nl + 1;
	if (take_names(&body, '\n', l->users, PROTO_MAX_MEMBERS, &u->n_users) != 0 ||
	    take_names(&body, '\n', l->participants, PROTO_MAX_MEMBERS, &u->n_participants) != 0)
		return -1;
	/* Names hold no line break: one after the admins starts the text. */
	text = op_has_text(u->op) && (u->op != DB_OP_CREATE || strchr(body, '\n') != NULL);
	if (take_names(&body, text ? '\n' : '\0', l->admins, PROTO_MAX_MEMBERS, &u->n_admins) != 0)
		return -1;
	/* The text, to the end: what the server stored, so within bounds. */
	u->text = text ? body : NULL;
	u->users = (const char(*)[PROTO_USER_MAX + 1]) l->users;
	u->participants = (const char(*)[PROTO_USER_MAX + 1]) l->participants;
	u->admins = (const char(*)[PROTO_USER_MAX + 1]) l->admins;
	return 0;
}

/* ---- groups ------------------------------------------------------------ */

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

void
db_change_result_free(struct db_change_result *res)
{
	free(res->recipients);
	res->recipients = NULL;
	res->n_recipients = 0;
}

/* The devices that got the update's rows, into res->recipients. */
static int
update_recipients(struct db *st, struct db_change_result *res)
{
	struct db_q *s = db_stmt(st, ST_INBOX_RECIPIENTS);
	struct db_addr a;
	int rc;

	if (db_bind_text(st, s, 1, res->update_id) != 0) {
		db_done(s);
		return -1;
	}
	while ((rc = db_step(st, s)) == DB_ROW) {
		if (db_col_text(s, 0, a.user, sizeof a.user) != 0 ||
		    db_addr_push(&res->recipients, &res->n_recipients, &a) != 0) {
			srv_log("db: update recipients: malformed row or out of memory");
			db_done(s);
			return -1;
		}
		res->recipients[res->n_recipients - 1].device_id =
			(uint32_t)db_col_int64(s, 1);
	}
	db_done(s);
	if (rc != DB_DONE) {
		db_fail(st, "update recipients");
		return -1;
	}
	return 0;
}

/*
 * Store the update of a change already written to chat_members: read the
 * members and admins after it into res, take the next seq, store what it
 * says (text: a rename's, describe's or creation's name, else NULL) and one inbox row for
 * every device of every member and of every user in removed.  Inside the caller's transaction; 0 or -1.
 */
static int
write_update(struct db *st, const struct db_chat *chat, const char *actor, uint32_t actor_device,
	     const char (*users)[PROTO_USER_MAX + 1], size_t n_users, int removed, const char *text,
	     int64_t now, struct db_change_result *res)
{
	char(*sorted)[PROTO_USER_MAX + 1] = NULL;
	uint8_t raw[PROTO_MESSAGE_ID_LEN / 2];
	struct db_update u;
	struct db_q *s;
	char *body = NULL;
	size_t i;
	int rc = -1;

	if (chat_members(st, chat->chat_id, res->participants, &res->n_participants, res->admins,
			 &res->n_admins) != 0 ||
	    db_take_seq(st, chat->chat_id, &res->seq) != 0)
		return -1;
	db_random_fn(raw, sizeof raw);
	sodium_bin2hex(res->update_id, sizeof res->update_id, raw, sizeof raw);
	snprintf(res->chat_id, sizeof res->chat_id, "%s", chat->chat_id);
	res->has_name = chat->has_name;
	snprintf(res->name, sizeof res->name, "%s", chat->has_name ? chat->name : "");
	snprintf(res->description, sizeof res->description, "%s", chat->description);
	res->sent_at = now;
	if ((sorted = malloc((n_users ? n_users : 1) * sizeof *sorted)) == NULL)
		goto out;
	if (n_users > 0)
		memcpy(sorted, users, n_users * sizeof *sorted);
	qsort(sorted, n_users, sizeof *sorted, name_cmp);
	u = (struct db_update){
		.chat_id = chat->chat_id,
		.update_id = res->update_id,
		.seq = res->seq,
		.sent_at = now,
		.kind = chat->kind,
		.name = chat->has_name ? chat->name : NULL,
		.actor = actor,
		.op = res->op,
		.users = (const char(*)[PROTO_USER_MAX + 1]) sorted,
		.n_users = n_users,
		.participants = (const char(*)[PROTO_USER_MAX + 1]) res->participants,
		.n_participants = res->n_participants,
		.admins = (const char(*)[PROTO_USER_MAX + 1]) res->admins,
		.n_admins = res->n_admins,
		.text = text,
	};
	if ((body = update_body(&u)) == NULL) {
		srv_log("db: out of memory storing an update");
		goto out;
	}
	s = db_stmt(st, ST_UPDATE_INSERT);
	if (db_bind_text(st, s, 1, res->update_id) || db_bind_text(st, s, 2, chat->chat_id) ||
	    db_bind_text(st, s, 3, actor) || db_bind_int(st, s, 4, actor_device) ||
	    db_bind_int(st, s, 5, res->seq) || db_bind_int(st, s, 6, now) ||
	    db_bind_text(st, s, 7, body)) {
		db_done(s);
		goto out;
	}
	if (db_step_done(st, s, "insert update") != 0 ||
	    db_text_step(st, ST_INBOX_UPDATE_MEMBERS, chat->chat_id, res->update_id, now,
			 "update rows of members") != 0)
		goto out;
	for (i = 0; removed && i < n_users; i++) {
		if (db_text_step(st, ST_INBOX_UPDATE_USER, users[i], res->update_id, now,
				 "update rows of the removed") != 0)
			goto out;
	}
	rc = update_recipients(st, res);
out:
	free(body);
	free(sorted);
	return rc;
}

/* The members just added took the update's place in the sequence: what they
 * may download starts after it. 0 or -1. */
static int
set_joined(struct db *st, const char *chat_id, const char (*users)[PROTO_USER_MAX + 1], size_t n,
	   int64_t seq)
{
	for (size_t i = 0; i < n; i++) {
		if (db_text_step(st, ST_MEMBER_SET_JOINED, chat_id, users[i], seq, "joined seq") !=
		    0)
			return -1;
	}
	return 0;
}

enum db_status
db_create_group(struct db *st, const struct db_group_create *req, struct db_change_result *res)
{
	char(*all)[PROTO_USER_MAX + 1] = NULL;
	struct db_chat chat;
	enum db_status ret = DB_INTERNAL;
	size_t i, n = 1;
	int r;

	memset(res, 0, sizeof *res);
	res->op = DB_OP_CREATE;
	for (i = 0; i < req->n_members; i++)
		n += strcmp(req->members[i], req->creator) != 0;
	if (n > PROTO_MAX_MEMBERS)
		return DB_TOO_LARGE;
	/* Everyone joins by the creation: the update's users are all the
	 * members, the creator first (write_update sorts them). */
	if ((all = malloc(n * sizeof *all)) == NULL)
		return DB_INTERNAL;
	snprintf(all[0], sizeof all[0], "%s", req->creator);
	for (i = 0, n = 1; i < req->n_members; i++) {
		if (strcmp(req->members[i], req->creator) != 0)
			memcpy(all[n++], req->members[i], sizeof all[0]);
	}
	if (db_tx_begin(st, DB_TX_WRITE) != 0) {
		free(all);
		return DB_INTERNAL;
	}
	for (i = 1; i < n; i++) {
		if ((r = db_find_user(st, all[i])) < 0)
			goto out;
		if (r == 0) {
			snprintf(res->bad_user, sizeof res->bad_user, "%s", all[i]);
			ret = DB_UNKNOWN_USER;
			goto out;
		}
	}
	if ((r = db_check_blocked_adds(st, req->creator,
				       (const char(*)[PROTO_USER_MAX + 1]) all + 1, n - 1, res)) != 0) {
		if (r == 1)
			ret = DB_BLOCKED;
		goto out;
	}
	if ((r = db_check_adds(st, req->creator, (const char(*)[PROTO_USER_MAX + 1]) all + 1, n - 1,
			       &req->limits, req->now, res)) != 0) {
		if (r == 1)
			ret = DB_TOO_MANY_ADDS;
		goto out;
	}
	memset(&chat, 0, sizeof chat);
	snprintf(chat.kind, sizeof chat.kind, "group");
	chat.has_name = 1;
	snprintf(chat.name, sizeof chat.name, "%s", req->name);
	if (insert_chat(st, req->creator, NULL, req->name, req->now, chat.chat_id) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (insert_member(st, chat.chat_id, all[i], i == 0 ? "admin" : "member",
				  req->now) != 0)
			goto out;
	}
	if (write_update(st, &chat, req->creator, req->creator_device,
			 (const char(*)[PROTO_USER_MAX + 1]) all, n, 0, chat.has_name ? chat.name : "",
			 req->now, res) != 0 ||
	    set_joined(st, chat.chat_id, (const char(*)[PROTO_USER_MAX + 1]) all, n, res->seq) !=
		    0 ||
	    db_note_activity(st, chat.chat_id, req->creator) != 0 ||
	    db_tx_end(st, DB_TX_COMMIT) != 0)
		goto out;
	free(all);
	return DB_OK;
out:
	db_tx_end(st, DB_TX_ROLLBACK);
	free(all);
	db_change_result_free(res);
	return ret;
}

/* After a removal: if members remain and none is an admin, the one who
 * joined first (ties by name) becomes one.  0 or -1. */
static int
keep_an_admin(struct db *st, const char *chat_id)
{
	struct db_chat *c = malloc(sizeof *c);
	char first[PROTO_USER_MAX + 1];
	struct db_q *s;
	int r, rc = -1;

	if (c == NULL)
		return -1;
	if (chat_members(st, chat_id, c->members, &c->n_members, c->admins, &c->n_admins) != 0)
		goto out;
	rc = 0;
	if (c->n_members == 0 || c->n_admins > 0)
		goto out;
	rc = -1;
	s = db_stmt(st, ST_MEMBER_FIRST);
	if (db_bind_text(st, s, 1, chat_id) != 0) {
		db_done(s);
		goto out;
	}
	if ((r = db_step_row(st, s, "first member")) != 1)
		goto out;
	r = db_col_text(s, 0, first, sizeof first);
	db_done(s);
	if (r != 0)
		goto out;
	s = db_stmt(st, ST_MEMBER_SET_ROLE);
	if (db_bind_text(st, s, 1, chat_id) || db_bind_text(st, s, 2, first) ||
	    db_bind_text(st, s, 3, "admin")) {
		db_done(s);
		goto out;
	}
	if (db_step_done(st, s, "promote") != 0)
		goto out;
	srv_log("db: chat %s: %s is admin now, the last admin having left", chat_id, first);
	rc = 0;
out:
	free(c);
	return rc;
}

enum db_status
db_change_group(struct db *st, const struct db_group_change *req, struct db_change_result *res)
{
	struct db_chat *chat = malloc(sizeof *chat);
	enum db_status ret = DB_INTERNAL;
	size_t i, n_members;
	int r, role;

	memset(res, 0, sizeof *res);
	res->op = req->add ? DB_OP_ADD : DB_OP_REMOVE;
	if (chat == NULL)
		return DB_INTERNAL;
	if (db_tx_begin(st, DB_TX_WRITE) != 0) {
		free(chat);
		return DB_INTERNAL;
	}
	/* Checks first, in the order of PROTOCOL.md; nothing is written
	 * until every one has passed. */
	if ((r = chat_as_member(st, req->chat_id, req->actor, chat)) <= 0) {
		if (r == 0)
			ret = DB_NOT_FOUND;
		goto out;
	}
	if (strcmp(chat->kind, "group") != 0) {
		ret = DB_WRONG_KIND;
		goto out;
	}
	if ((role = db_member_role(st, req->chat_id, req->actor)) < 0)
		goto out;
	if (!req->add && req->n_users == 1 && strcmp(req->users[0], req->actor) == 0)
		res->op = DB_OP_LEAVE; /* anyone may leave */
	else if (!role) {
		ret = DB_NOT_ADMIN;
		goto out;
	}
	for (i = 0; i < req->n_users; i++) {
		if ((r = db_find_user(st, req->users[i])) < 0)
			goto out;
		if (r == 0)
			ret = DB_UNKNOWN_USER;
		else if ((r = db_member_role(st, req->chat_id, req->users[i])) == -1)
			goto out;
		else if (req->add && r != -2)
			ret = DB_ALREADY_MEMBER;
		else if (!req->add && r == -2)
			ret = DB_NOT_MEMBER;
		if (ret != DB_INTERNAL) {
			snprintf(res->bad_user, sizeof res->bad_user, "%s", req->users[i]);
			goto out;
		}
	}
	if (chat_members(st, req->chat_id, chat->members, &n_members, chat->admins,
			 &chat->n_admins) != 0)
		goto out;
	if (req->add && n_members + req->n_users > PROTO_MAX_MEMBERS) {
		ret = DB_TOO_LARGE;
		goto out;
	}
	/* Before the stranger limits: a refused add must not count. */
	if (req->add &&
	    (r = db_check_blocked_adds(st, req->actor, req->users, req->n_users, res)) != 0) {
		if (r == 1)
			ret = DB_BLOCKED;
		goto out;
	}
	if (req->add && (r = db_check_adds(st, req->actor, req->users, req->n_users, &req->limits,
					   req->now, res)) != 0) {
		if (r == 1)
			ret = DB_TOO_MANY_ADDS;
		goto out;
	}
	for (i = 0; i < req->n_users; i++) {
		if (req->add)
			r = insert_member(st, req->chat_id, req->users[i], "member", req->now);
		else
			r = db_text_step(st, ST_MEMBER_DELETE, req->chat_id, req->users[i], 0,
					 "remove member");
		if (r != 0)
			goto out;
	}
	if ((!req->add && keep_an_admin(st, req->chat_id) != 0) ||
	    write_update(st, chat, req->actor, req->actor_device, req->users, req->n_users,
			 !req->add, NULL, req->now, res) != 0 ||
	    (req->add && (set_joined(st, req->chat_id, req->users, req->n_users, res->seq) != 0 ||
			  db_note_activity(st, req->chat_id, req->actor) != 0)) ||
	    db_tx_end(st, DB_TX_COMMIT) != 0)
		goto out;
	free(chat);
	return DB_OK;
out:
	db_tx_end(st, DB_TX_ROLLBACK);
	free(chat);
	db_change_result_free(res);
	if (ret != DB_OK)
		res->seq = 0;
	return ret;
}

/* The group chat_id as its member actor sees it, into chat, for a change
 * that needs an admin: DB_OK, or the status that refuses it. */
static enum db_status
admin_group(struct db *st, const char *chat_id, const char *actor, struct db_chat *chat)
{
	int r;

	if ((r = chat_as_member(st, chat_id, actor, chat)) <= 0)
		return r == 0 ? DB_NOT_FOUND : DB_INTERNAL;
	if (strcmp(chat->kind, "group") != 0)
		return DB_WRONG_KIND;
	if ((r = db_member_role(st, chat_id, actor)) < 0)
		return DB_INTERNAL;
	return r == 1 ? DB_OK : DB_NOT_ADMIN;
}

enum db_status
db_change_admins(struct db *st, const struct db_group_change *req, int promote,
		 struct db_change_result *res)
{
	struct db_chat *chat = malloc(sizeof *chat);
	enum db_status ret = DB_INTERNAL;
	size_t i, n_members;
	int r;

	memset(res, 0, sizeof *res);
	res->op = promote ? DB_OP_PROMOTE : DB_OP_DEMOTE;
	if (chat == NULL)
		return DB_INTERNAL;
	if (db_tx_begin(st, DB_TX_WRITE) != 0) {
		free(chat);
		return DB_INTERNAL;
	}
	/* Checks first, in the order of PROTOCOL.md. */
	if ((ret = admin_group(st, req->chat_id, req->actor, chat)) != DB_OK)
		goto out;
	ret = DB_INTERNAL;
	for (i = 0; i < req->n_users; i++) {
		if ((r = db_find_user(st, req->users[i])) < 0)
			goto out;
		if (r == 0)
			ret = DB_UNKNOWN_USER;
		else if ((r = db_member_role(st, req->chat_id, req->users[i])) == -1)
			goto out;
		else if (r == -2)
			ret = DB_NOT_MEMBER;
		else if (r == promote)
			ret = DB_ROLE_SAME;
		if (ret != DB_INTERNAL) {
			snprintf(res->bad_user, sizeof res->bad_user, "%s", req->users[i]);
			goto out;
		}
	}
	if (chat_members(st, req->chat_id, chat->members, &n_members, chat->admins,
			 &chat->n_admins) != 0)
		goto out;
	/* The users are distinct admins: demoting them all leaves none. */
	if (!promote && req->n_users >= chat->n_admins) {
		ret = DB_LAST_ADMIN;
		goto out;
	}
	for (i = 0; i < req->n_users; i++) {
		struct db_q *s = db_stmt(st, ST_MEMBER_SET_ROLE);

		if (db_bind_text(st, s, 1, req->chat_id) || db_bind_text(st, s, 2, req->users[i]) ||
		    db_bind_text(st, s, 3, promote ? "admin" : "member")) {
			db_done(s);
			goto out;
		}
		if (db_step_done(st, s, promote ? "promote" : "demote") != 0)
			goto out;
	}
	if (write_update(st, chat, req->actor, req->actor_device, req->users, req->n_users, 0, NULL,
			 req->now, res) != 0 ||
	    db_tx_end(st, DB_TX_COMMIT) != 0)
		goto out;
	free(chat);
	return DB_OK;
out:
	db_tx_end(st, DB_TX_ROLLBACK);
	free(chat);
	db_change_result_free(res);
	res->seq = 0;
	return ret;
}

enum db_status
db_edit_group(struct db *st, const struct db_group_edit *req, struct db_change_result *res)
{
	struct db_chat *chat = malloc(sizeof *chat);
	const char *text = req->name != NULL ? req->name : req->description;
	enum db_status ret;

	memset(res, 0, sizeof *res);
	res->op = req->name != NULL ? DB_OP_RENAME : DB_OP_DESCRIBE;
	if (chat == NULL || text == NULL) {
		free(chat);
		return DB_INTERNAL;
	}
	if (db_tx_begin(st, DB_TX_WRITE) != 0) {
		free(chat);
		return DB_INTERNAL;
	}
	if ((ret = admin_group(st, req->chat_id, req->actor, chat)) != DB_OK)
		goto out;
	ret = DB_INTERNAL;
	if (db_text_step(st, req->name != NULL ? ST_CHAT_SET_NAME : ST_CHAT_SET_DESCRIPTION,
			 req->chat_id, text, 0, "edit group") != 0)
		goto out;
	/* write_update reports the chat as it is now. */
	if (req->name != NULL) {
		chat->has_name = 1;
		snprintf(chat->name, sizeof chat->name, "%s", req->name);
	} else {
		snprintf(chat->description, sizeof chat->description, "%s", req->description);
	}
	if (write_update(st, chat, req->actor, req->actor_device, NULL, 0, 0, text, req->now,
			 res) != 0 ||
	    db_tx_end(st, DB_TX_COMMIT) != 0)
		goto out;
	free(chat);
	return DB_OK;
out:
	db_tx_end(st, DB_TX_ROLLBACK);
	free(chat);
	db_change_result_free(res);
	res->seq = 0;
	return ret;
}
