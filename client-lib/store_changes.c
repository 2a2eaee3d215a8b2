/*
 * store_changes.c - the local store's edits and deletes (PROTOCOL.md, "Edits
 * and deletes"). An edit or delete is a message row of its own (kind 'edit'
 * or 'delete', reply_to the message it changes: store.c, migration 10 ->
 * 11); store_changes_apply() makes a message show what its sender's rows
 * say, and is run whenever the message or one of them is stored or sent, so
 * that any order of arrival ends the same. Delete for me is here too.
 */
#include "store_sql.h"

#include <string.h>

#include "proto.h"

int
store_changes_apply(struct store *s, const char *target)
{
	sqlite3_stmt *st = store_stmt(s, ST_CHANGE_TARGET);
	char chat[CHAT_CHAT_ID_LEN + 1], sender[CHAT_USER_MAX + 1];
	int64_t sent_at = 0;
	int rc, deleted = 0, result;

	if (st == NULL || store_bind_text(s, st, 1, target))
		return store_abandon(s, st, "apply an edit");
	if ((rc = store_step(s, st, "apply an edit")) == 1) {
		store_col_copy(st, 0, chat, sizeof chat);
		store_col_copy(st, 1, sender, sizeof sender);
		sent_at = sqlite3_column_int64(st, 2);
		deleted = sqlite3_column_int(st, 3);
	}
	store_done(s, st);
	if (rc != 1)
		return rc; /* not here (yet), or no text: nothing to apply */
	if (deleted) {
		/* For good: later edits change nothing, and their texts go. */
		st = store_stmt(s, ST_CHANGE_WIPE_EDITS);
		if (st == NULL || store_bind_text(s, st, 1, target) ||
		    store_bind_text(s, st, 2, sender))
			return store_abandon(s, st, "apply a delete");
		return store_run(s, st, "apply a delete") != 0 ? -1 : STORE_CHANGE_DELETED;
	}
	st = store_stmt(s, ST_CHANGE_DELETE_VALID);
	if (st == NULL || store_bind_text(s, st, 1, target) || store_bind_text(s, st, 2, chat) ||
	    store_bind_text(s, st, 3, sender) || store_bind_int(s, st, 4, sent_at) ||
	    store_bind_int(s, st, 5, PROTO_DELETE_WINDOW_MS))
		return store_abandon(s, st, "apply a delete");
	rc = store_step(s, st, "apply a delete");
	store_done(s, st);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		st = store_stmt(s, ST_CHANGE_SET_DELETED);
		if (st == NULL || store_bind_text(s, st, 1, target))
			return store_abandon(s, st, "apply a delete");
		if (store_run(s, st, "apply a delete") != 0)
			return -1;
		st = store_stmt(s, ST_CHANGE_WIPE_EDITS);
		if (st == NULL || store_bind_text(s, st, 1, target) ||
		    store_bind_text(s, st, 2, sender))
			return store_abandon(s, st, "apply a delete");
		if (store_run(s, st, "apply a delete") != 0)
			return -1;
		/* Its files go with it (their downloaded copies are the
		 * caller's: it read their paths before). */
		st = store_stmt(s, ST_UNSENT_DELETE_ATTACHMENTS);
		if (st == NULL || store_bind_text(s, st, 1, target))
			return store_abandon(s, st, "apply a delete");
		if (store_run(s, st, "apply a delete") != 0)
			return -1;
		return STORE_CHANGE_DELETED | STORE_CHANGE_NEW;
	}
	st = store_stmt(s, ST_CHANGE_LATEST_EDIT);
	if (st == NULL || store_bind_text(s, st, 1, target) || store_bind_text(s, st, 2, chat) ||
	    store_bind_text(s, st, 3, sender))
		return store_abandon(s, st, "apply an edit");
	if ((rc = store_step(s, st, "apply an edit")) == 1) {
		sqlite3_stmt *up = store_stmt(s, ST_CHANGE_SET_EDITED);

		if (up == NULL || store_bind_text(s, up, 1, target) ||
		    sqlite3_bind_value(up, 2, sqlite3_column_value(st, 0)) != SQLITE_OK ||
		    store_bind_int(s, up, 3, sqlite3_column_int64(st, 1))) {
			store_done(s, st);
			return store_abandon(s, up, "apply an edit");
		}
		rc = store_run(s, up, "apply an edit");
		result = rc == 0 ? STORE_CHANGE_EDITED |
					   (sqlite3_changes(s->db) > 0 ? STORE_CHANGE_NEW : 0)
				 : -1;
		store_done(s, st);
		return rc < 0 ? -1 : result;
	}
	store_done(s, st);
	if (rc < 0)
		return -1;
	/* No edit counts: the text as first written, if an edit showed. */
	st = store_stmt(s, ST_CHANGE_UNEDIT);
	if (st == NULL || store_bind_text(s, st, 1, target))
		return store_abandon(s, st, "apply an edit");
	return store_run(s, st, "apply an edit") != 0 ? -1 : 0;
}

int
store_change_status(struct store *s, const char *change_id)
{
	sqlite3_stmt *st = store_stmt(s, ST_CHANGE_STATUS);
	int rc;

	if (st == NULL || store_bind_text(s, st, 1, change_id))
		return store_abandon(s, st, "read an edit");
	if ((rc = store_step(s, st, "read an edit")) == 1)
		rc = sqlite3_column_int(st, 0);
	store_done(s, st);
	return rc;
}

int
store_edits_each(struct store *s, const char *target, const char *chat_id, const char *sender,
		 int (*fn)(void *arg, const char *id, const char *text, size_t len, int64_t seq,
			   int64_t sent_at),
		 void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_CHANGE_EDIT_LIST);
	int rc;

	if (st == NULL || store_bind_text(s, st, 1, target) || store_bind_text(s, st, 2, chat_id) ||
	    store_bind_text(s, st, 3, sender))
		return store_abandon(s, st, "read edits");
	while ((rc = store_step(s, st, "read edits")) == 1)
		if (fn(arg, store_col_text(st, 0), store_col_text(st, 1),
		       (size_t)sqlite3_column_bytes(st, 1), sqlite3_column_int64(st, 2),
		       sqlite3_column_int64(st, 3)) != 0)
			break;
	store_done(s, st);
	return rc < 0 ? -1 : 0;
}

/* Runs statement id with ?1 bound to key. */
static int
run1(struct store *s, int id, const char *key, const char *what)
{
	sqlite3_stmt *st = store_stmt(s, id);

	if (st == NULL || store_bind_text(s, st, 1, key))
		return store_abandon(s, st, what);
	return store_run(s, st, what);
}

int
store_forget_message(struct store *s, const char *message_id)
{
	int n;

	if (store_begin(s) != 0)
		return -1;
	if (run1(s, ST_UNSENT_DELETE_ATTACHMENTS, message_id, "delete message") != 0 ||
	    run1(s, ST_FORGET_MESSAGE_REACTIONS, message_id, "delete message") != 0 ||
	    run1(s, ST_FORGET_MESSAGE_RECEIPTS, message_id, "delete message") != 0 ||
	    run1(s, ST_FORGET_MESSAGE, message_id, "delete message") != 0) {
		store_rollback(s);
		return -1;
	}
	n = sqlite3_changes(s->db);
	if (store_commit(s) != 0)
		return -1;
	return n > 0;
}

int
store_forget_chat(struct store *s, const char *chat_id)
{
	int n;

	if (store_begin(s) != 0)
		return -1;
	if (run1(s, ST_FORGET_CHAT_ATTACHMENTS, chat_id, "delete chat") != 0 ||
	    run1(s, ST_FORGET_CHAT_RECEIPTS, chat_id, "delete chat") != 0 ||
	    run1(s, ST_FORGET_CHAT_REACTIONS, chat_id, "delete chat") != 0 ||
	    run1(s, ST_FORGET_CHAT, chat_id, "delete chat") != 0) {
		store_rollback(s);
		return -1;
	}
	n = sqlite3_changes(s->db);
	if (store_commit(s) != 0)
		return -1;
	return n;
}
