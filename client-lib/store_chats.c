/*
 * store_chats.c - the local store's chats and their members: what the server
 * said of each chat (createChat, getChat, chatUpdate), and the lists and
 * look-ups that work without it.
 */
#include "store_sql.h"

#include <string.h>

#include "proto.h"

/* Runs a statement that takes (chat_id, user) as ?1 and ?2. */
static int
chat_user(struct store *s, enum store_st which, const char *chat_id, const char *user,
	  const char *what)
{
	sqlite3_stmt *st = store_stmt(s, which);

	if (st == NULL || store_bind_text(s, st, 1, chat_id) || store_bind_text(s, st, 2, user))
		return store_abandon(s, st, what);
	return store_run(s, st, what);
}

/* The chat's member list becomes members, and admins among them are marked. */
static int
put_members(struct store *s, const char *chat_id, const char *const *members, size_t n_members,
	    const char *const *admins, size_t n_admins)
{
	sqlite3_stmt *st = store_stmt(s, ST_MEMBERS_CLEAR);

	if (st == NULL || store_bind_text(s, st, 1, chat_id))
		return store_abandon(s, st, "store members");
	if (store_run(s, st, "store members") != 0)
		return -1;
	for (size_t i = 0; i < n_members; i++)
		if (chat_user(s, ST_MEMBER_ADD, chat_id, members[i], "store members") != 0)
			return -1;
	for (size_t i = 0; admins != NULL && i < n_admins; i++)
		if (chat_user(s, ST_MEMBER_SET_ADMIN, chat_id, admins[i], "store admins") != 0)
			return -1;
	return 0;
}

int
store_chat_put(struct store *s, const char *chat_id, const char *kind, const char *name,
	       const char *description, int64_t created_at, const char *const *members,
	       size_t n_members, const char *const *admins, size_t n_admins)
{
	sqlite3_stmt *st;

	if (store_begin(s) != 0)
		return -1;
	st = store_stmt(s, ST_CHAT_PUT);
	if (st == NULL || store_bind_text(s, st, 1, chat_id) || store_bind_text(s, st, 2, kind) ||
	    store_bind_text(s, st, 3, name) || store_bind_int(s, st, 4, created_at) ||
	    store_bind_int(s, st, 5, members != NULL) || store_bind_text(s, st, 6, description)) {
		store_abandon(s, st, "store chat");
		store_rollback(s);
		return -1;
	}
	if (store_run(s, st, "store chat") != 0 ||
	    (members != NULL && put_members(s, chat_id, members, n_members, admins, n_admins))) {
		store_rollback(s);
		return -1;
	}
	return store_commit(s);
}

int
store_chat_member_each(struct store *s, const char *chat_id, store_member_fn fn, void *arg,
		       int *stop)
{
	sqlite3_stmt *st = store_stmt(s, ST_MEMBER_EACH);
	int rc = 0, halt = 0;

	if (stop != NULL)
		*stop = 0;
	if (st == NULL || store_bind_text(s, st, 1, chat_id))
		return store_abandon(s, st, "list members");
	while (halt == 0 && (rc = store_step(s, st, "list members")) == 1)
		halt = fn(arg, store_col_text(st, 0), sqlite3_column_int(st, 1));
	store_done(s, st);
	if (halt != 0 && stop != NULL)
		*stop = halt;
	return halt != 0 ? 0 : rc;
}

int
store_chat_exists(struct store *s, const char *chat_id)
{
	return store_exists(s, ST_CHAT_EXISTS, chat_id);
}

int
store_chat_is_group(struct store *s, const char *chat_id)
{
	return store_exists(s, ST_CHAT_IS_GROUP, chat_id);
}

int
store_chat_has_members(struct store *s, const char *chat_id)
{
	return store_exists(s, ST_CHAT_HAS_MEMBERS, chat_id);
}

int
store_chat_members(struct store *s, const char *chat_id, char ***users, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, ST_CHAT_MEMBERS);

	*users = NULL;
	*n = 0;
	if (st == NULL || store_bind_text(s, st, 1, chat_id))
		return store_abandon(s, st, "list members");
	return store_collect_texts(s, st, "list members", users, n);
}

/* Calls fn with the chat of the row under st (ST_CHAT_EACH's columns) and
 * its members; *halt gets fn's return. 0, or -1 when the members cannot be
 * read. */
static int
emit_chat(struct store *s, sqlite3_stmt *st, chat_chat_cb fn, void *arg, int *halt)
{
	struct chat_chat ch = {0};
	struct store_last last;
	char me[CHAT_USER_MAX + 1];
	char **members;
	size_t n;

	ch.chat_id = store_col_text(st, 0);
	ch.kind = store_col_text(st, 1);
	ch.name = (const char *)sqlite3_column_text(st, 2); /* NULL for a direct chat */
	ch.last_activity = sqlite3_column_int64(st, 3);
	ch.n_messages = sqlite3_column_int64(st, 4);
	ch.n_unread = sqlite3_column_int64(st, 5);
	ch.description = (const char *)sqlite3_column_text(st, 6); /* NULL: none known */
	ch.disappearing_s = sqlite3_column_int64(st, 7);
	ch.muted_until = store_mute_in_force(sqlite3_column_int64(st, 8), proto_now_ms());
	ch.pinned_at = sqlite3_column_int64(st, 9);
	ch.archived = sqlite3_column_int64(st, 10) > 0;
	if (store_chat_last(s, ch.chat_id, &last) != 0)
		return -1;
	if (last.found) {
		ch.last_text = last.text;
		ch.last_sender = last.sender;
		ch.last_at = last.at;
	}
	if (store_chat_members(s, ch.chat_id, &members, &n) != 0)
		return -1;
	ch.members = (const char *const *)members;
	ch.n_members = n;
	/* A direct chat of the user alone: their notes to self. */
	if (strcmp(ch.kind, "direct") == 0 && n == 1 &&
	    store_meta_get(s, "user", me, sizeof me) == 1 && strcmp(members[0], me) == 0)
		ch.kind = "self";
	*halt = fn(arg, &ch);
	store_free_list(members, n);
	return 0;
}

int
store_chat_each(struct store *s, chat_chat_cb fn, void *arg, int *stop)
{
	sqlite3_stmt *st = store_stmt(s, ST_CHAT_EACH);
	int rc = 0, halt = 0;

	if (stop != NULL)
		*stop = 0;
	if (st == NULL)
		return store_abandon(s, st, "list chats");
	while (halt == 0 && (rc = store_step(s, st, "list chats")) == 1)
		if (emit_chat(s, st, fn, arg, &halt) != 0) {
			rc = -1;
			break;
		}
	store_done(s, st);
	if (halt != 0 && stop != NULL)
		*stop = halt;
	return halt != 0 ? 0 : rc;
}

int
store_chat_resolve(struct store *s, const char *self, const char *spec,
		   char out[CHAT_CHAT_ID_LEN + 1])
{
	int by_user = spec[0] == '@';
	/* "@" and the user's own name: their notes to self (every direct chat
	 * has them in it). */
	int to_self = by_user && self != NULL && strcmp(spec + 1, self) == 0;
	sqlite3_stmt *st = store_stmt(s, to_self   ? ST_CHAT_SELF
					 : by_user ? ST_CHAT_BY_USER
						   : ST_CHAT_BY_PREFIX);
	int rc, found = 0;

	if (st == NULL || store_bind_text(s, st, 1, by_user ? spec + 1 : spec) ||
	    (by_user && !to_self && store_bind_text(s, st, 2, self ? self : "")))
		return store_abandon(s, st, "find chat");
	while ((rc = store_step(s, st, "find chat")) == 1)
		if (found++ == 0)
			store_col_copy(st, 0, out, CHAT_CHAT_ID_LEN + 1);
	store_done(s, st);
	if (rc != 0)
		return -1;
	return found > 1 ? 2 : found;
}
