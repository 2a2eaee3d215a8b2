/*
 * store_messages.c - the local store's messages: what arrives and what this
 * device writes, their states, and the history as applications read it.
 * (What is not sent yet is store_outbox.c's; receipts, store_receipts.c's.)
 */
#include "store_sql.h"
#include "attach.h"
#include "mention.h"

#include <stdlib.h>
#include <string.h>

#include "proto.h"

int
store_message_insert(struct store *s, const struct chat_message *m)
{
	sqlite3_stmt *st = store_stmt(s, ST_MESSAGE_INSERT);

	if (st == NULL || store_bind_text(s, st, 1, m->message_id) ||
	    store_bind_text(s, st, 2, m->chat_id) || store_bind_int(s, st, 3, m->seq) ||
	    store_bind_text(s, st, 4, m->sender) || store_bind_int(s, st, 5, m->sender_device) ||
	    store_bind_int(s, st, 6, m->sent_at) ||
	    store_bind_text_len(s, st, 7, m->text, m->text_len) ||
	    store_bind_int(s, st, 8, m->outgoing) || store_bind_text(s, st, 9, m->state) ||
	    store_bind_int(s, st, 10, proto_now_ms()) ||
	    store_bind_text(s, st, 11, m->kind ? m->kind : "text") ||
	    /* What arrives is not handed over until store_message_handed(). */
	    store_bind_int(s, st, 12, strcmp(m->state, "received") != 0) ||
	    store_bind_text(s, st, 13, m->reply_to) ||
	    store_bind_text(s, st, 14, m->reply_sender) ||
	    store_bind_text(s, st, 15, m->reply_preview))
		return store_abandon(s, st, "store message");
	if (store_run(s, st, "store message") != 0)
		return -1;
	return sqlite3_changes(s->db) > 0;
}

int
store_message_exists(struct store *s, const char *message_id)
{
	return store_exists(s, ST_MESSAGE_EXISTS, message_id);
}

int
store_message_received(struct store *s, const char *message_id)
{
	sqlite3_stmt *st = store_stmt(s, ST_MESSAGE_RECEIVED);
	int rc;

	if (st == NULL || store_bind_text(s, st, 1, message_id))
		return store_abandon(s, st, "look up message");
	if ((rc = store_step(s, st, "look up message")) == 1)
		rc = sqlite3_column_int(st, 0) ? 1 : 2;
	store_done(s, st);
	return rc;
}

/* Runs a one-row update without an fsync of its own (store_synced): for
 * marks whose loss costs a repetition, never a message. */
static int
run_unsynced(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc;

	/* In a transaction, its commit decides (and the setting cannot be
	 * changed in one). */
	if (!sqlite3_get_autocommit(s->db))
		return store_run(s, st, what);
	if (store_synced(s, 0) != 0) {
		store_done(s, st);
		return -1;
	}
	rc = store_run(s, st, what);
	if (store_synced(s, 1) != 0)
		rc = -1;
	return rc;
}

int
store_message_handed(struct store *s, const char *message_id)
{
	sqlite3_stmt *st = store_stmt(s, ST_MESSAGE_HANDED);

	/* Lost to a power cut, a message is shown twice. It is on every received
	 * message's path, and an fsync there halves the receive rate. */
	if (st == NULL || store_bind_text(s, st, 1, message_id))
		return store_abandon(s, st, "mark message handed over");
	return run_unsynced(s, st, "mark message handed over");
}

int
store_message_sent(struct store *s, const char *message_id, int64_t seq, int64_t sent_at)
{
	sqlite3_stmt *st = store_stmt(s, ST_MESSAGE_SENT);

	/* Lost to a power cut, the message is pending again and goes again
	 * under its id, which the server takes once (PROTOCOL.md, sendMessage,
	 * "Idempotence"): a cold send costs one fsync, the outbox's. */
	if (st == NULL || store_bind_int(s, st, 1, seq) || store_bind_int(s, st, 2, sent_at) ||
	    store_bind_text(s, st, 3, message_id))
		return store_abandon(s, st, "mark message sent");
	return run_unsynced(s, st, "mark message sent");
}

int
store_message_set_state(struct store *s, const char *message_id, const char *state)
{
	sqlite3_stmt *st = store_stmt(s, ST_MESSAGE_SET_STATE);

	if (st == NULL || store_bind_text(s, st, 1, state) || store_bind_text(s, st, 2, message_id))
		return store_abandon(s, st, "update message");
	return store_run(s, st, "update message");
}

int
store_emit_message(struct store *s, sqlite3_stmt *st, chat_history_cb fn, void *arg)
{
	struct chat_message m = {0};
	struct chat_attachment a[PROTO_MAX_BLOBS];
	struct attach_meta *metas = NULL;
	struct store_reactions sum = {0};
	char **paths = NULL, **members = NULL;
	const char **named = NULL;
	char me[PROTO_USER_MAX + 1];
	const char *name;
	size_t n = 0, n_members = 0;
	int rc, last;

	m.message_id = store_col_text(st, 0);
	m.chat_id = store_col_text(st, 1);
	m.seq = sqlite3_column_int64(st, 2);
	m.sender = store_col_text(st, 3);
	m.sender_device = (uint32_t)sqlite3_column_int64(st, 4);
	m.sent_at = sqlite3_column_int64(st, 5);
	m.text = store_col_text(st, 6);
	m.text_len = (size_t)sqlite3_column_bytes(st, 6);
	m.outgoing = sqlite3_column_int(st, 7);
	m.state = store_col_text(st, 8);
	m.kind = store_col_text(st, 9);
	if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
		m.reply_to = store_col_text(st, 10);
		m.reply_sender = store_col_text(st, 11);
		m.reply_preview = store_col_text(st, 12);
	}
	m.edited_at = sqlite3_column_int64(st, 13);
	m.deleted = sqlite3_column_int(st, 14);
	m.expires_at = sqlite3_column_int64(st, 15); /* NULL: 0, never */
	/* A search's hit (store_search.c): its snippet is the last column, by
	 * name, wherever MESSAGE_COLUMNS ends. */
	last = sqlite3_column_count(st) - 1;
	name = last > 9 ? sqlite3_column_name(st, last) : NULL;
	if (name != NULL && strcmp(name, "snippet") == 0)
		m.snippet = store_col_text(st, last);
	/* A message's files, if it has any (never a membership event). A message
	 * whose files' records cannot be read is shown without them; so is one
	 * whose reactions cannot be. */
	if (strcmp(m.kind, "text") == 0 &&
	    store_attachments(s, m.message_id, &metas, &paths, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			a[i] = (struct chat_attachment){metas[i].name, metas[i].type,
							(int64_t)metas[i].size, paths[i]};
		m.attachments = n ? a : NULL;
		m.n_attachments = n;
	}
	if (strcmp(m.kind, "text") == 0 &&
	    store_reactions_of(s, m.message_id, m.chat_id, &sum) == 0) {
		m.reactions = sum.n ? sum.list : NULL;
		m.n_reactions = sum.n;
	}
	/* Its mentions (mention.h), looked for only in a text with an '@'.
	 * One whose members cannot be read is shown without them. */
	if (strcmp(m.kind, "text") == 0 && !m.deleted && memchr(m.text, '@', m.text_len) != NULL &&
	    store_chat_members(s, m.chat_id, &members, &n_members) == 0 && n_members > 0 &&
	    (named = calloc(n_members, sizeof *named)) != NULL) {
		if (store_meta_get(s, "user", me, sizeof me) != 1)
			me[0] = '\0';
		m.n_mentions =
			mention_scan(m.text, m.text_len, (const char *const *)members, n_members,
				     me[0] ? me : NULL, &m.mentions_me, named, n_members);
		m.mentions = m.n_mentions ? named : NULL;
	}
	rc = fn(arg, &m);
	free(named);
	store_free_list(members, n_members);
	attach_meta_free(metas, n);
	store_free_list(paths, n);
	store_reactions_free(&sum);
	return rc;
}

int
store_walk_messages(struct store *s, sqlite3_stmt *st, const char *what, chat_history_cb fn,
		    void *arg, int *stop)
{
	int rc = 0, halt = 0;

	if (stop != NULL)
		*stop = 0;
	while (halt == 0 && (rc = store_step(s, st, what)) == 1)
		halt = store_emit_message(s, st, fn, arg);
	store_done(s, st);
	if (halt != 0 && stop != NULL)
		*stop = halt;
	return halt != 0 ? 0 : rc;
}

int
store_message_get(struct store *s, const char *message_id, chat_history_cb fn, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_MESSAGE_GET);
	int rc;

	if (st == NULL || store_bind_text(s, st, 1, message_id))
		return store_abandon(s, st, "read message");
	if ((rc = store_step(s, st, "read message")) == 1)
		(void)store_emit_message(s, st, fn, arg); /* one row: nothing to stop */
	store_done(s, st);
	return rc;
}

int
store_message_each(struct store *s, const char *chat_id, int limit, chat_history_cb fn, void *arg,
		   int *stop)
{
	sqlite3_stmt *st = store_stmt(s, ST_MESSAGE_HISTORY);

	if (stop != NULL)
		*stop = 0;
	if (st == NULL || store_bind_text(s, st, 1, chat_id) ||
	    store_bind_int(s, st, 2, limit > 0 ? limit : -1))
		return store_abandon(s, st, "read history");
	return store_walk_messages(s, st, "read history", fn, arg, stop);
}

int
store_message_resolve(struct store *s, const char *prefix, char out[CHAT_MESSAGE_ID_LEN + 1])
{
	sqlite3_stmt *st = store_stmt(s, ST_MESSAGE_BY_PREFIX);
	int rc, found = 0;

	if (st == NULL || store_bind_text(s, st, 1, prefix))
		return store_abandon(s, st, "find message");
	while ((rc = store_step(s, st, "find message")) == 1)
		if (found++ == 0)
			store_col_copy(st, 0, out, CHAT_MESSAGE_ID_LEN + 1);
	store_done(s, st);
	if (rc != 0)
		return -1;
	return found > 1 ? 2 : found;
}

int
store_message_brief(struct store *s, const char *message_id, struct store_brief *b)
{
	sqlite3_stmt *st = store_stmt(s, ST_MESSAGE_BRIEF);
	int rc;

	if (st == NULL || store_bind_text(s, st, 1, message_id))
		return store_abandon(s, st, "read message");
	if ((rc = store_step(s, st, "read message")) == 1) {
		store_col_copy(st, 0, b->chat_id, sizeof b->chat_id);
		store_col_copy(st, 1, b->sender, sizeof b->sender);
		b->outgoing = sqlite3_column_int(st, 2);
		store_col_copy(st, 3, b->state, sizeof b->state);
		b->is_text = strcmp(store_col_text(st, 4), "text") == 0;
	}
	store_done(s, st);
	return rc;
}
