/*
 * store_reactions.c - the local store's reactions (PROTOCOL.md, "Replies and
 * reactions"): one per person per message, the one of the highest seq, and
 * the summary a message is shown with. The rule itself is ST_REACTION_PUT's
 * (store.c), so that any order of arrival ends the same.
 */
#include "store_sql.h"

#include <stdlib.h>
#include <string.h>

int
store_reaction_put(struct store *s, const char *message_id, const char *user, const char *chat_id,
		   const char *emoji, int64_t seq, const char *reaction_id)
{
	sqlite3_stmt *st = store_stmt(s, ST_REACTION_PUT);

	if (st == NULL || store_bind_text(s, st, 1, message_id) ||
	    store_bind_text(s, st, 2, user) || store_bind_text(s, st, 3, chat_id) ||
	    store_bind_text(s, st, 4, emoji) || store_bind_int(s, st, 5, seq) ||
	    store_bind_text(s, st, 6, reaction_id))
		return store_abandon(s, st, "store reaction");
	if (store_run(s, st, "store reaction") != 0)
		return -1;
	/* Sent: it is no longer this device's pending word, whether it won
	 * (it is in force) or not (a later one of another device is). */
	st = store_stmt(s, ST_REACTION_SETTLE);
	if (st == NULL || store_bind_text(s, st, 1, message_id) ||
	    store_bind_text(s, st, 2, user) || store_bind_text(s, st, 3, reaction_id))
		return store_abandon(s, st, "store reaction");
	return store_run(s, st, "store reaction");
}

int
store_reaction_pending(struct store *s, const char *message_id, const char *user,
		       const char *chat_id, const char *emoji, const char *reaction_id)
{
	sqlite3_stmt *st = store_stmt(s, ST_REACTION_PENDING);

	if (st == NULL || store_bind_text(s, st, 1, message_id) ||
	    store_bind_text(s, st, 2, user) || store_bind_text(s, st, 3, chat_id) ||
	    store_bind_text(s, st, 4, emoji) || store_bind_text(s, st, 5, reaction_id))
		return store_abandon(s, st, "store reaction");
	return store_run(s, st, "store reaction");
}

int
store_reaction_mine(struct store *s, const char *message_id, const char *user, char *emoji,
		    size_t cap)
{
	sqlite3_stmt *st = store_stmt(s, ST_REACTION_MINE);
	int rc;

	emoji[0] = '\0';
	if (st == NULL || store_bind_text(s, st, 1, message_id) || store_bind_text(s, st, 2, user))
		return store_abandon(s, st, "read reaction");
	if ((rc = store_step(s, st, "read reaction")) == 1)
		store_col_copy(st, 0, emoji, cap);
	store_done(s, st);
	return rc;
}

/* What store_reactions's block holds: every row's strings, and the users of
 * each emoji one after the other (rows come sorted by emoji). */
struct rows {
	char **emoji, **user;
	const char **users;
	size_t n;
};

static void
rows_free(struct rows *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->emoji[i]);
		free(r->user[i]);
	}
	free(r->emoji);
	free(r->user);
	free(r->users);
	free(r);
}

void
store_reactions_free(struct store_reactions *r)
{
	if (r == NULL)
		return;
	if (r->block != NULL)
		rows_free(r->block);
	free(r->list);
	memset(r, 0, sizeof *r);
}

static int
by_count(const void *a, const void *b)
{
	const struct chat_reaction *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->emoji, y->emoji);
}

int
store_reactions_of(struct store *s, const char *message_id, const char *chat_id,
		   struct store_reactions *out)
{
	sqlite3_stmt *st = store_stmt(s, ST_REACTION_LIST);
	struct rows *r = calloc(1, sizeof *r);
	size_t cap = 0, g = 0;
	int rc;

	memset(out, 0, sizeof *out);
	if (r == NULL) {
		if (st != NULL)
			store_done(s, st);
		return -1;
	}
	if (st == NULL || store_bind_text(s, st, 1, message_id) ||
	    store_bind_text(s, st, 2, chat_id)) {
		rows_free(r);
		return store_abandon(s, st, "read reactions");
	}
	while ((rc = store_step(s, st, "read reactions")) == 1) {
		if (r->n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			char **e = realloc(r->emoji, ncap * sizeof *e), **u;

			if (e != NULL)
				r->emoji = e;
			u = e ? realloc(r->user, ncap * sizeof *u) : NULL;
			if (u == NULL) {
				rc = -1;
				break;
			}
			r->user = u;
			cap = ncap;
		}
		r->emoji[r->n] = strdup(store_col_text(st, 0));
		r->user[r->n] = strdup(store_col_text(st, 1));
		if (r->emoji[r->n] == NULL || r->user[r->n] == NULL) {
			free(r->emoji[r->n]);
			free(r->user[r->n]);
			rc = -1;
			break;
		}
		r->n++;
	}
	store_done(s, st);
	if (rc != 0 || r->n == 0) {
		rows_free(r);
		return rc != 0 ? -1 : 0;
	}
	if ((r->users = malloc(r->n * sizeof *r->users)) == NULL ||
	    (out->list = calloc(r->n, sizeof *out->list)) == NULL) {
		rows_free(r);
		return -1;
	}
	for (size_t i = 0; i < r->n; i++) {
		r->users[i] = r->user[i];
		if (i == 0 || strcmp(r->emoji[i], r->emoji[i - 1]) != 0) {
			out->list[g].emoji = r->emoji[i];
			out->list[g].users = &r->users[i];
			g++;
		}
		out->list[g - 1].count++;
	}
	qsort(out->list, g, sizeof *out->list, by_count);
	out->n = g;
	out->block = r;
	return 0;
}
