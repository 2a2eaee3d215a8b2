/*
 * store_history.c - what a history sync reads from the store of the device
 * that sends it (PROTOCOL.md, "History sync"; history.c builds the batches).
 */
#include "store_sql.h"

#include <string.h>

int
store_history_rows(struct store *s, const char *chat_id, int64_t since, int64_t now,
		   store_history_fn fn, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_HISTORY_ROWS);
	int rc;

	if (st == NULL || store_bind_text(s, st, 1, chat_id) || store_bind_int(s, st, 2, since) ||
	    store_bind_int(s, st, 3, now))
		return store_abandon(s, st, "read history to sync");
	while ((rc = store_step(s, st, "read history to sync")) == 1) {
		struct store_history_row r;

		memset(&r, 0, sizeof r);
		r.message_id = store_col_text(st, 0);
		r.chat_id = store_col_text(st, 1);
		r.seq = sqlite3_column_int64(st, 2);
		r.sender = store_col_text(st, 3);
		r.sender_device = (uint32_t)sqlite3_column_int64(st, 4);
		r.sent_at = sqlite3_column_int64(st, 5);
		r.text = store_col_text(st, 6);
		r.text_len = (size_t)sqlite3_column_bytes(st, 6);
		r.outgoing = sqlite3_column_int(st, 7);
		r.state = store_col_text(st, 8);
		r.kind = store_col_text(st, 9);
		r.reply_to = sqlite3_column_type(st, 10) == SQLITE_NULL ? NULL : store_col_text(st, 10);
		r.reply_sender =
			sqlite3_column_type(st, 11) == SQLITE_NULL ? NULL : store_col_text(st, 11);
		r.reply_preview =
			sqlite3_column_type(st, 12) == SQLITE_NULL ? NULL : store_col_text(st, 12);
		r.deleted = sqlite3_column_int(st, 13);
		r.expires_at = sqlite3_column_int64(st, 14);
		if (sqlite3_column_type(st, 15) != SQLITE_NULL) {
			r.original = store_col_text(st, 15);
			r.original_len = (size_t)sqlite3_column_bytes(st, 15);
		}
		if ((rc = fn(arg, &r)) != 0)
			break;
	}
	store_done(s, st);
	return rc < 0 ? -1 : 0;
}

int
store_history_wipe(struct store *s, const char *message_id)
{
	sqlite3_stmt *st = store_stmt(s, ST_HISTORY_WIPE);

	if (st == NULL || store_bind_text(s, st, 1, message_id))
		return store_abandon(s, st, "wipe a history batch sent");
	return store_run(s, st, "wipe a history batch sent");
}
