/*
 * store_outbox.c - the local store's outbox: the messages this device wrote
 * that no server has confirmed, pending (they go out with the next
 * connection) or failed (they wait for chat_retry or chat_discard).
 */
#include "store_sql.h"

int
store_outbox_each(struct store *s, chat_history_cb fn, void *arg, int *stop)
{
	sqlite3_stmt *st = store_stmt(s, ST_OUTBOX_EACH);

	if (stop != NULL)
		*stop = 0;
	if (st == NULL)
		return store_abandon(s, st, "read the outbox");
	return store_walk_messages(s, st, "read the outbox", fn, arg, stop);
}

int
store_unsent_each(struct store *s, chat_history_cb fn, void *arg, int *stop)
{
	sqlite3_stmt *st = store_stmt(s, ST_UNSENT_EACH);

	if (stop != NULL)
		*stop = 0;
	if (st == NULL)
		return store_abandon(s, st, "read the outbox");
	return store_walk_messages(s, st, "read the outbox", fn, arg, stop);
}

int
store_outbox_older(struct store *s, int64_t cutoff, char ***ids, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, ST_OUTBOX_OLDER);

	*ids = NULL;
	*n = 0;
	if (st == NULL || store_bind_int(s, st, 1, cutoff))
		return store_abandon(s, st, "read the outbox");
	return store_collect_texts(s, st, "read the outbox", ids, n);
}

int
store_unsent_state(struct store *s, const char *message_id, char *state, size_t cap)
{
	sqlite3_stmt *st = store_stmt(s, ST_UNSENT_STATE);
	int rc;

	if (st == NULL || store_bind_text(s, st, 1, message_id))
		return store_abandon(s, st, "look up the outbox");
	if ((rc = store_step(s, st, "look up the outbox")) == 1)
		store_col_copy(st, 0, state, cap);
	store_done(s, st);
	return rc;
}

/* Runs one of the deletes of store_unsent_delete on message_id. */
static int
delete_step(struct store *s, enum store_st which, const char *message_id)
{
	sqlite3_stmt *st = store_stmt(s, which);

	if (st == NULL || store_bind_text(s, st, 1, message_id))
		return store_abandon(s, st, "discard a message");
	return store_run(s, st, "discard a message");
}

int
store_unsent_delete(struct store *s, const char *message_id)
{
	int n;

	if (store_begin(s) != 0)
		return -1;
	if (delete_step(s, ST_UNSENT_DELETE, message_id) != 0)
		goto fail;
	/* Not a message of the outbox: nothing else to delete. */
	if ((n = sqlite3_changes(s->db)) > 0 &&
	    (delete_step(s, ST_UNSENT_DELETE_ATTACHMENTS, message_id) != 0 ||
	     delete_step(s, ST_UNSENT_DELETE_RECEIPTS, message_id) != 0 ||
	     delete_step(s, ST_UNSENT_DELETE_REACTION, message_id) != 0))
		goto fail;
	if (store_commit(s) != 0)
		return -1;
	return n > 0;
fail:
	store_rollback(s);
	return -1;
}
