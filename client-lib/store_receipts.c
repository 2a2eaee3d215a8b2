/*
 * store_receipts.c - the local store's receipts: what other devices said of
 * this user's messages (and the states that follow from it), and the
 * receipts this device owes, kept until the server has taken them.
 */
#include "store_sql.h"

#include <string.h>

int
store_receipt_put(struct store *s, const char *message_id, const char *user, uint32_t device,
		  int status, int64_t at)
{
	sqlite3_stmt *st = store_stmt(s, ST_RECEIPT_PUT);

	if (st == NULL || store_bind_text(s, st, 1, message_id) ||
	    store_bind_text(s, st, 2, user) || store_bind_int(s, st, 3, device) ||
	    store_bind_int(s, st, 4, status) || store_bind_int(s, st, 5, at))
		return store_abandon(s, st, "store receipt");
	if (store_run(s, st, "store receipt") != 0)
		return -1;
	return sqlite3_changes(s->db) > 0;
}

int
store_message_refresh_state(struct store *s, const char *message_id, const char *self)
{
	sqlite3_stmt *st = store_stmt(s, ST_MESSAGE_REFRESH_STATE);

	if (st == NULL || store_bind_text(s, st, 1, message_id) || store_bind_text(s, st, 2, self))
		return store_abandon(s, st, "update message state");
	return store_run(s, st, "update message state");
}

/* Runs ST_READ_QUEUE or ST_READ_MARK: chat ?1, message ?2 (NULL: all of the
 * chat's), and for the queue, the time ?3 and this user ?4. */
static int
read_step(struct store *s, enum store_st which, const char *chat_id, const char *message_id,
	  const char *self, int64_t now, const char *what)
{
	sqlite3_stmt *st = store_stmt(s, which);

	if (st == NULL || store_bind_text(s, st, 1, chat_id) ||
	    store_bind_text(s, st, 2, message_id) ||
	    (which == ST_READ_QUEUE &&
	     (store_bind_int(s, st, 3, now) || store_bind_text(s, st, 4, self))))
		return store_abandon(s, st, what);
	return store_run(s, st, what);
}

int
store_mark_read(struct store *s, const char *chat_id, const char *message_id, const char *self,
		int queue, int64_t now)
{
	sqlite3_stmt *st;
	int64_t n;

	if (queue) {
		if (read_step(s, ST_READ_QUEUE, chat_id, message_id, self, now,
			      "queue read receipts") != 0)
			return -1;
		st = store_stmt(s, ST_READ_DROP_DELIVERED);
		if (st == NULL)
			return store_abandon(s, st, "drop delivered receipts");
		if (store_run(s, st, "drop delivered receipts") != 0)
			return -1;
	}
	if (read_step(s, ST_READ_MARK, chat_id, message_id, self, now, "mark read") != 0)
		return -1;
	n = sqlite3_changes(s->db);
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

int
store_receipt_queue(struct store *s, const char *chat_id, const char *to_user,
		    const char *message_id, int status, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, ST_RECEIPT_QUEUE);

	if (st == NULL || store_bind_text(s, st, 1, chat_id) ||
	    store_bind_text(s, st, 2, to_user) || store_bind_text(s, st, 3, message_id) ||
	    store_bind_int(s, st, 4, status) || store_bind_int(s, st, 5, now))
		return store_abandon(s, st, "queue receipt");
	return store_run(s, st, "queue receipt");
}

/* The chat, user and status of the oldest receipt owed: 1, 0 none, -1. */
static int
oldest_owed(struct store *s, struct store_receipt_batch *b)
{
	sqlite3_stmt *st = store_stmt(s, ST_RECEIPT_OLDEST);
	int rc;

	if (st == NULL)
		return store_abandon(s, st, "read receipts");
	if ((rc = store_step(s, st, "read receipts")) == 1) {
		store_col_copy(st, 0, b->chat_id, sizeof b->chat_id);
		store_col_copy(st, 1, b->to_user, sizeof b->to_user);
		b->status = sqlite3_column_int(st, 2);
	}
	store_done(s, st);
	return rc;
}

int
store_receipt_next(struct store *s, struct store_receipt_batch *b, size_t max)
{
	sqlite3_stmt *st;
	int rc;

	b->n = 0;
	b->at = 0;
	if ((rc = oldest_owed(s, b)) != 1)
		return rc;
	st = store_stmt(s, ST_RECEIPT_BATCH);
	if (st == NULL || store_bind_text(s, st, 1, b->chat_id) ||
	    store_bind_text(s, st, 2, b->to_user) || store_bind_int(s, st, 3, b->status) ||
	    store_bind_int(s, st, 4, (int64_t)max))
		return store_abandon(s, st, "read receipts");
	while (b->n < max && (rc = store_step(s, st, "read receipts")) == 1) {
		const char *id = store_col_text(st, 0);

		if (strlen(id) != CHAT_MESSAGE_ID_LEN)
			continue;
		memcpy(b->ids[b->n++], id, CHAT_MESSAGE_ID_LEN + 1);
		if (sqlite3_column_int64(st, 1) > b->at)
			b->at = sqlite3_column_int64(st, 1);
	}
	store_done(s, st);
	return rc < 0 ? -1 : 1;
}

/* Deletes one receipt of a batch the server took. */
static int
drop_sent(struct store *s, const char *message_id, int status)
{
	sqlite3_stmt *st = store_stmt(s, ST_RECEIPT_DONE);

	if (st == NULL || store_bind_text(s, st, 1, message_id) || store_bind_int(s, st, 2, status))
		return store_abandon(s, st, "drop sent receipt");
	return store_run(s, st, "drop sent receipt");
}

static int
drop_batch(struct store *s, const struct store_receipt_batch *b)
{
	if (store_begin(s) != 0)
		return -1;
	for (size_t i = 0; i < b->n; i++)
		if (drop_sent(s, b->ids[i], b->status) != 0) {
			store_rollback(s);
			return -1;
		}
	return store_commit(s);
}

/* Without an fsync of its own (see store_synced): lost to a power cut, the
 * receipts are owed again and go again, and their reader takes a status
 * for a message once. */
int
store_receipt_done(struct store *s, const struct store_receipt_batch *b)
{
	int own = s->db != NULL && sqlite3_get_autocommit(s->db), rc;

	if (own && store_synced(s, 0) != 0)
		return -1;
	rc = drop_batch(s, b);
	if (own && store_synced(s, 1) != 0)
		rc = -1;
	return rc;
}

int
store_receipts_pending(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, ST_RECEIPTS_PENDING);
	int rc;

	if (st == NULL)
		return store_abandon(s, st, "read receipts");
	rc = store_step(s, st, "read receipts");
	store_done(s, st);
	return rc;
}
