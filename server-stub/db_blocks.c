/*
 * db_blocks.c - block lists (see db.h): whom a user has blocked, shared by
 * all the user's devices.  What a block stops is the callers' rule: db_send
 * drops the envelopes of a blocked sender (db_messages.c), group creation
 * and ADD refuse a member who blocked the adder (db_chats.c), the request
 * layer keeps typing and last seen from them (wire_messages.c,
 * wire_presence.c).
 */
#include "db_sql.h"

#include <stdio.h>
#include <string.h>

int
db_find_blocked(struct db *st, const char *blocker, const char *user)
{
	struct db_q *s = db_stmt(st, ST_IS_BLOCKED);
	int r;

	if (db_bind_text(st, s, 1, blocker) || db_bind_text(st, s, 2, user)) {
		db_done(s);
		return -1;
	}
	r = db_step_row(st, s, "is blocked");
	if (r == 1)
		db_done(s);
	return r;
}

enum db_status
db_is_blocked(struct db *st, const char *blocker, const char *user)
{
	int r = db_find_blocked(st, blocker, user);

	return r < 0 ? DB_INTERNAL : r ? DB_OK : DB_NOT_FOUND;
}

int
db_check_blocked_adds(struct db *st, const char *actor, const char (*users)[PROTO_USER_MAX + 1],
		      size_t n, struct db_change_result *res)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if ((r = db_find_blocked(st, users[i], actor)) < 0)
			return -1;
		if (r == 1) {
			snprintf(res->bad_user, sizeof res->bad_user, "%s", users[i]);
			return 1;
		}
	}
	return 0;
}

enum db_status
db_block(struct db *st, const char *user, const char *blocked, int64_t now, int *added)
{
	enum db_status ret = DB_INTERNAL;
	int64_t count;
	int r;

	*added = 0;
	if (db_tx_begin(st, DB_TX_WRITE) != 0)
		return DB_INTERNAL;
	if ((r = db_find_user(st, blocked)) <= 0) {
		if (r == 0)
			ret = DB_NOT_FOUND;
		goto out;
	}
	if ((r = db_find_blocked(st, user, blocked)) < 0)
		goto out;
	if (r == 1) {
		/* Idempotent: a repeat changes nothing, and is never over the
		 * limit. */
		ret = DB_OK;
		goto out;
	}
	if (db_query_text_int(st, ST_BLOCK_COUNT, user, &count, "count blocked") != 0)
		goto out;
	if (count >= DB_MAX_BLOCKED) {
		ret = DB_TOO_MANY;
		goto out;
	}
	if (db_text_step(st, ST_BLOCK_INSERT, user, blocked, now, "block") != 0 ||
	    db_tx_end(st, DB_TX_COMMIT) != 0)
		goto out;
	*added = 1;
	return DB_OK;
out:
	db_tx_end(st, DB_TX_ROLLBACK);
	return ret;
}

enum db_status
db_unblock(struct db *st, const char *user, const char *blocked, int *removed)
{
	int r;

	*removed = 0;
	if ((r = db_find_user(st, blocked)) <= 0)
		return r == 0 ? DB_NOT_FOUND : DB_INTERNAL;
	if (db_text_step(st, ST_BLOCK_DELETE, user, blocked, 0, "unblock") != 0)
		return DB_INTERNAL;
	*removed = db_changes(st) > 0;
	return DB_OK;
}

enum db_status
db_blocked_list(struct db *st, const char *user, char (*out)[PROTO_USER_MAX + 1], size_t cap,
		size_t *n)
{
	struct db_q *s = db_stmt(st, ST_BLOCK_LIST);
	int rc = DB_DONE;

	*n = 0;
	if (db_bind_text(st, s, 1, user) != 0) {
		db_done(s);
		return DB_INTERNAL;
	}
	while (*n < cap && (rc = db_step(st, s)) == DB_ROW) {
		if (db_col_text(s, 0, out[*n], sizeof out[0]) != 0) {
			db_done(s);
			return DB_INTERNAL;
		}
		(*n)++;
	}
	if (*n < cap && rc != DB_DONE) {
		db_fail(st, "blocked list");
		db_done(s);
		return DB_INTERNAL;
	}
	db_done(s);
	return DB_OK;
}
