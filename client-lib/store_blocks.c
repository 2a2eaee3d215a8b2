/*
 * store_blocks.c - the local store's copy of the user's block list
 * (PROTOCOL.md, "Blocking"; store.c, migration 13 -> 14), as the server
 * last gave it, and the ids of envelopes from blocked users that were read
 * and thrown away (so that one delivered again is acked without a word).
 */
#include "store_sql.h"

#include <stdlib.h>
#include <string.h>

/* Twice the longest retention a server announces in practice (30 days):
 * a message is never delivered again after that. */
#define DROPPED_KEEP_MS (60LL * 24 * 60 * 60 * 1000)

int
store_blocked_has(struct store *s, const char *user)
{
	return store_exists(s, ST_BLOCKED_HAS, user);
}

int
store_blocked_each(struct store *s, int (*fn)(void *arg, const char *user), void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_BLOCKED_EACH);
	int rc, stop = 0;

	if (st == NULL)
		return store_abandon(s, st, "list blocked users");
	while ((rc = store_step(s, st, "list blocked users")) == 1)
		if ((stop = fn(arg, store_col_text(st, 0))) != 0)
			break;
	store_done(s, st);
	return stop != 0 ? stop : rc < 0 ? -1 : 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 1 if the copy holds exactly users (n), 0 if not, -1. */
static int
same_list(struct store *s, char *const *users, size_t n)
{
	sqlite3_stmt *st = store_stmt(s, ST_BLOCKED_EACH);
	char **sorted = NULL;
	size_t i = 0;
	int rc, same = 1;

	if (st == NULL)
		return store_abandon(s, st, "list blocked users");
	if (n > 0 && (sorted = malloc(n * sizeof *sorted)) == NULL) {
		store_done(s, st);
		return -1;
	}
	if (n > 0) {
		memcpy(sorted, users, n * sizeof *sorted);
		qsort(sorted, n, sizeof *sorted, cmp_names);
	}
	/* Both by name; a repeat in users counts as a difference, which only
	 * rewrites the same list. */
	while ((rc = store_step(s, st, "list blocked users")) == 1) {
		if (i >= n || strcmp(sorted[i], store_col_text(st, 0)) != 0) {
			same = 0;
			break;
		}
		i++;
	}
	store_done(s, st);
	free(sorted);
	if (rc < 0)
		return -1;
	return same && i == n;
}

int
store_blocked_set(struct store *s, char *const *users, size_t n)
{
	sqlite3_stmt *st;
	int same = same_list(s, users, n);

	if (same != 0)
		return same < 0 ? -1 : 0;
	if (store_begin(s) != 0)
		return -1;
	if ((st = store_stmt(s, ST_BLOCKED_CLEAR)) == NULL ||
	    store_run(s, st, "clear blocked users") != 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		st = store_stmt(s, ST_BLOCKED_ADD);
		if (st == NULL || store_bind_text(s, st, 1, users[i])) {
			store_abandon(s, st, "add a blocked user");
			goto fail;
		}
		if (store_run(s, st, "add a blocked user") != 0)
			goto fail;
	}
	return store_commit(s) == 0 ? 1 : -1;
fail:
	store_rollback(s);
	return -1;
}

int
store_dropped_add(struct store *s, const char *message_id, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, ST_DROPPED_PRUNE);

	if (st == NULL || store_bind_int(s, st, 1, now - DROPPED_KEEP_MS))
		return store_abandon(s, st, "forget old dropped ids");
	if (store_run(s, st, "forget old dropped ids") != 0)
		return -1;
	st = store_stmt(s, ST_DROPPED_ADD);
	if (st == NULL || store_bind_text(s, st, 1, message_id) || store_bind_int(s, st, 2, now))
		return store_abandon(s, st, "record a dropped id");
	return store_run(s, st, "record a dropped id");
}
