/*
 * store_timer.c - the local store's disappearing messages (PROTOCOL.md,
 * "Disappearing messages"; store.c, migration 12 -> 13): a chat's timer is
 * that of its accepted change of the highest seq; a text message expires at
 * its sentAt + the timer of the change of the highest seq below its own, so
 * that any order of arrival ends the same and a message sent before a change
 * never expires by it. The sweep lists what has expired; its rows go by
 * DELETE (store_forget_message), so the search index follows.
 */
#include "store_sql.h"

#include <string.h>

int
store_timer_refresh(struct store *s, const char *chat_id)
{
	sqlite3_stmt *st;

	if (store_begin(s) != 0)
		return -1;
	st = store_stmt(s, ST_TIMER_CHAT);
	if (st == NULL || store_bind_text(s, st, 1, chat_id)) {
		store_abandon(s, st, "set a chat's timer");
		goto fail;
	}
	if (store_run(s, st, "set a chat's timer") != 0)
		goto fail;
	st = store_stmt(s, ST_TIMER_MESSAGES);
	if (st == NULL || store_bind_text(s, st, 1, chat_id)) {
		store_abandon(s, st, "set expiries");
		goto fail;
	}
	if (store_run(s, st, "set expiries") != 0)
		goto fail;
	return store_commit(s);
fail:
	store_rollback(s);
	return -1;
}

int
store_timer_message(struct store *s, const char *chat_id, const char *message_id)
{
	sqlite3_stmt *st = store_stmt(s, ST_TIMER_ONE);

	if (st == NULL || store_bind_text(s, st, 1, chat_id) ||
	    store_bind_text(s, st, 2, message_id))
		return store_abandon(s, st, "set a message's expiry");
	return store_run(s, st, "set a message's expiry");
}

int
store_timer_latest(struct store *s, const char *chat_id, char id[CHAT_MESSAGE_ID_LEN + 1])
{
	sqlite3_stmt *st = store_stmt(s, ST_TIMER_LATEST);
	int rc;

	if (st == NULL || store_bind_text(s, st, 1, chat_id))
		return store_abandon(s, st, "read a chat's timer");
	if ((rc = store_step(s, st, "read a chat's timer")) == 1)
		store_col_copy(st, 0, id, CHAT_MESSAGE_ID_LEN + 1);
	store_done(s, st);
	return rc;
}

int64_t
store_timer_for_send(struct store *s, const char *chat_id, const char *message_id)
{
	sqlite3_stmt *st = store_stmt(s, ST_TIMER_FOR_SEND);
	int64_t v = 0;
	int rc;

	if (st == NULL || store_bind_text(s, st, 1, chat_id) ||
	    store_bind_text(s, st, 2, message_id))
		return store_abandon(s, st, "read a chat's timer");
	if ((rc = store_step(s, st, "read a chat's timer")) == 1)
		v = sqlite3_column_int64(st, 0);
	store_done(s, st);
	return rc < 0 ? -1 : v;
}

int64_t
store_timer_get(struct store *s, const char *chat_id)
{
	sqlite3_stmt *st = store_stmt(s, ST_TIMER_GET);
	int64_t v = 0;
	int rc;

	if (st == NULL || store_bind_text(s, st, 1, chat_id))
		return store_abandon(s, st, "read a chat's timer");
	if ((rc = store_step(s, st, "read a chat's timer")) == 1)
		v = sqlite3_column_int64(st, 0);
	store_done(s, st);
	return rc < 0 ? -1 : v;
}

int
store_expired(struct store *s, int64_t now, char (*ids)[CHAT_MESSAGE_ID_LEN + 1], int cap)
{
	sqlite3_stmt *st = store_stmt(s, ST_EXPIRED);
	int n = 0, rc = 0;

	if (st == NULL || store_bind_int(s, st, 1, now))
		return store_abandon(s, st, "list expired messages");
	while (n < cap && (rc = store_step(s, st, "list expired messages")) == 1)
		store_col_copy(st, 0, ids[n++], CHAT_MESSAGE_ID_LEN + 1);
	store_done(s, st);
	return n < cap && rc < 0 ? -1 : n;
}

int64_t
store_next_expiry(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, ST_EXPIRE_NEXT);
	int64_t v = 0;
	int rc;

	if (st == NULL)
		return store_abandon(s, st, "next expiry");
	if ((rc = store_step(s, st, "next expiry")) == 1)
		v = sqlite3_column_int64(st, 0);
	store_done(s, st);
	return rc < 0 ? -1 : v;
}
