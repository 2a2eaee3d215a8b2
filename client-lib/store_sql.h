/*
 * store_sql.h - what the files of the local store share, and nothing else
 * includes: the one table of statements and the checked helpers every query
 * goes through. The interface of the store is store.h.
 *
 * The store is split the way its tables are, so that each file holds the
 * queries of one part of what a device knows, and none is a hub:
 *
 *   store.c          opening, the schema and its migrations, the statement
 *                    table (all the SQL, next to the schema it runs on), these
 *                    helpers, settings (meta) and transactions
 *   store_peers.c    the pinned keys of devices: pins, changes, removals
 *   store_chats.c    chats and their members
 *   store_prefs.c    this device's settings of each chat: mute, pin, archive
 *   store_messages.c messages: insert, states, the history
 *   store_search.c   full-text search of the messages (FTS5), and the rule
 *                    that turns what a user typed into a query
 *   store_outbox.c   what this device wrote and no server confirmed
 *   store_receipts.c receipts received, and receipts owed
 *   store_attach.c   the records of attachments
 *   store_prekeys.c  the secrets of this device's prekeys
 *   store_sessions.c the pairwise sessions (Double Ratchet states) and the
 *                    sender keys of group chats
 *   store_blocks.c   the copy of the user's block list, and the envelopes
 *                    of blocked users thrown away
 *   store_history.c  the rows a history sync sends to a new device
 *
 * The idiom is chat-server's (server-stub/db.c): a statement comes from the
 * table by its name (store_stmt), every value goes in through a bind helper
 * that checks it, every step through a step helper that checks it, and each
 * failure leaves a sentence in the store's err: "store message: bind parameter
 * 7: string or blob too big". A function of the store reads:
 *
 *	sqlite3_stmt *st = store_stmt(s, ST_META_SET);
 *
 *	if (st == NULL || store_bind_text(s, st, 1, key) || store_bind_text(s, st, 2, value))
 *		return store_abandon(s, st, "write setting");
 *	return store_run(s, st, "write setting");
 *
 * Text and blobs are bound SQLITE_STATIC: every use ends with store_done()
 * (store_run and store_abandon call it), which clears the bindings before the
 * caller's buffers can go away.
 */
#ifndef CHAT_STORE_SQL_H
#define CHAT_STORE_SQL_H

#include "store.h"

/* The statements, by area; their SQL is store.c's stmt_sql[]. */
enum store_st {
	/* store.c */
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_USER_VERSION,
	ST_SYNC_NORMAL,
	ST_SYNC_FULL,
	ST_META_GET,
	ST_META_SET,
	/* store_peers.c */
	ST_PEER_GET,
	ST_PEER_PIN,
	ST_PEER_COUNT_PINS,
	ST_PEER_FIND_IDENTITY,
	ST_PEER_MAX_ID,
	ST_PEER_SET_PENDING,
	ST_PEER_TRUST,
	ST_PEER_REMOVE,
	ST_PEER_DROP_PENDING,
	ST_PEER_EACH_PIN,
	ST_PEER_EACH,
	ST_PEER_COUNT,
	/* store_chats.c */
	ST_CHAT_PUT,
	ST_MEMBERS_CLEAR,
	ST_MEMBER_ADD,
	ST_MEMBER_SET_ADMIN,
	ST_MEMBER_EACH,
	ST_CHAT_MEMBERS,
	ST_CHAT_EXISTS,
	ST_CHAT_IS_GROUP,
	ST_CHAT_HAS_MEMBERS,
	ST_CHAT_EACH,
	ST_CHAT_LAST,
	ST_CHAT_SET_MUTED,
	ST_CHAT_SET_PINNED,
	ST_CHAT_SET_ARCHIVED,
	ST_CHAT_MUTED,
	ST_CHAT_PREFS_GET,
	ST_CHAT_PREFS_TOUCH,
	ST_CHAT_PREFS_APPLY,
	ST_CHAT_BY_USER,
	ST_CHAT_SELF,
	ST_CHAT_BY_PREFIX,
	/* store_messages.c */
	ST_MESSAGE_INSERT,
	ST_MESSAGE_EXISTS,
	ST_MESSAGE_RECEIVED,
	ST_MESSAGE_HANDED,
	ST_MESSAGE_SENT,
	ST_MESSAGE_SET_STATE,
	ST_MESSAGE_GET,
	ST_MESSAGE_BY_PREFIX,
	ST_MESSAGE_HISTORY,
	ST_MESSAGE_BRIEF,
	/* store_search.c */
	ST_MESSAGE_SEARCH,
	/* store_outbox.c */
	ST_OUTBOX_EACH,
	ST_OUTBOX_OLDER,
	ST_UNSENT_EACH,
	ST_UNSENT_STATE,
	ST_UNSENT_DELETE,
	ST_UNSENT_DELETE_ATTACHMENTS,
	ST_UNSENT_DELETE_RECEIPTS,
	/* store_receipts.c */
	ST_RECEIPT_PUT,
	ST_MESSAGE_REFRESH_STATE,
	ST_READ_QUEUE,
	ST_READ_DROP_DELIVERED,
	ST_READ_MARK,
	ST_RECEIPT_QUEUE,
	ST_RECEIPT_OLDEST,
	ST_RECEIPT_BATCH,
	ST_RECEIPT_DONE,
	ST_RECEIPTS_PENDING,
	/* store_prekeys.c */
	ST_SPK_CURRENT,
	ST_SPK_RETIRE,
	ST_SPK_EXPIRE,
	ST_SPK_PUT,
	ST_SPK_SECRET,
	ST_OPK_PUT,
	ST_OPK_PENDING,
	ST_OPK_UPLOADED,
	ST_OPK_DROP,
	ST_OPK_SECRET,
	ST_OPK_USED,
	/* store_sessions.c */
	ST_DR_EACH,
	ST_DR_ACTIVE,
	ST_DR_RETIRE,
	ST_DR_BY_BASE,
	ST_DR_INSERT,
	ST_DR_UPDATE,
	ST_DR_TRIM,
	ST_DR_HAS,
	ST_DR_MAX_USED,
	ST_SK_OWN_GET,
	ST_SK_OWN_PUT,
	ST_SK_SENT_EACH,
	ST_SK_SENT_ADD,
	ST_SK_SENT_CLEAR,
	ST_SK_SENT_DEL,
	ST_SK_PEER_GET,
	ST_SK_PEER_PUT,
	ST_SK_PEER_TRIM,
	/* store_attach.c */
	ST_ATTACH_PUT,
	ST_ATTACH_LIST,
	ST_ATTACH_SET_PATH,
	ST_UNSENT_DELETE_REACTION,
	/* store_reactions.c */
	ST_REACTION_PUT,
	ST_REACTION_SETTLE,
	ST_REACTION_PENDING,
	ST_REACTION_LIST,
	ST_REACTION_MINE,
	ST_CHANGE_TARGET,
	ST_CHANGE_DELETE_VALID,
	ST_CHANGE_LATEST_EDIT,
	ST_CHANGE_SET_DELETED,
	ST_CHANGE_WIPE_EDITS,
	ST_CHANGE_SET_EDITED,
	ST_CHANGE_UNEDIT,
	ST_CHANGE_EDIT_LIST,
	ST_CHANGE_STATUS,
	ST_FORGET_MESSAGE,
	ST_FORGET_MESSAGE_REACTIONS,
	ST_FORGET_MESSAGE_RECEIPTS,
	ST_FORGET_CHAT_ATTACHMENTS,
	ST_FORGET_CHAT_RECEIPTS,
	ST_FORGET_CHAT_REACTIONS,
	ST_FORGET_CHAT,
	/* store_timer.c */
	ST_TIMER_CHAT,
	ST_TIMER_MESSAGES,
	ST_TIMER_GET,
	ST_EXPIRED,
	ST_EXPIRE_NEXT,
	ST_TIMER_ONE,
	ST_TIMER_FOR_SEND,
	ST_TIMER_LATEST,
	/* store_blocks.c */
	ST_BLOCKED_EACH,
	ST_BLOCKED_HAS,
	ST_BLOCKED_CLEAR,
	ST_BLOCKED_ADD,
	ST_DROPPED_ADD,
	ST_DROPPED_PRUNE,
	/* store_history.c */
	ST_HISTORY_ROWS,
	ST_HISTORY_WIPE,
	ST_COUNT
};

/* The statements of the table that are prepared (NULL until first used),
 * and which of them a caller holds. */
struct store_stmts {
	sqlite3_stmt *st[ST_COUNT];
	unsigned char busy[ST_COUNT];
};

/* The columns a message is read from (store_emit_message), first in a row. */
#define MESSAGE_COLUMNS                                                                            \
	"message_id, chat_id, seq, sender, sender_device, sent_at, text,"                          \
	" outgoing, state, kind, reply_to, reply_sender, reply_preview, edited_at, deleted,"        \
	" expires_at"
/* The same columns of messages as m, in a join with a table that has some of
 * the same names (the search index's text): keep the two in step. */
#define MESSAGE_COLUMNS_M                                                                          \
	"m.message_id, m.chat_id, m.seq, m.sender, m.sender_device, m.sent_at, m.text,"            \
	" m.outgoing, m.state, m.kind, m.reply_to, m.reply_sender, m.reply_preview, m.edited_at,"  \
	" m.deleted, m.expires_at"

/* Tokens of context a search hit's snippet shows around the words found. */
#define STORE_SNIPPET_TOKENS "12"

/* The columns a pinned device is read from (store_row_to_peer). */
#define PEER_COLUMNS                                                                               \
	"identity_key, exchange_key, pending_identity, pending_exchange, active, name,"            \
	" removed_horizon"

/* The statement which, reset and with no bindings: prepared on its first use
 * and kept. NULL, with err set, when it cannot be prepared or the store is
 * closed. Give it back with store_done() (or store_run/store_abandon). */
sqlite3_stmt *store_stmt(struct store *s, enum store_st which);
/* Gives a statement back (NULL is fine): reset, bindings cleared. */
void store_done(struct store *s, sqlite3_stmt *st);

/* Binds parameter i (from 1): 0, or -1 with err saying which and why. Text
 * NULL binds NULL; store_bind_text_len takes len bytes of v. */
int store_bind_text(struct store *s, sqlite3_stmt *st, int i, const char *v);
int store_bind_text_len(struct store *s, sqlite3_stmt *st, int i, const char *v, size_t len);
int store_bind_int(struct store *s, sqlite3_stmt *st, int i, int64_t v);
int store_bind_blob(struct store *s, sqlite3_stmt *st, int i, const void *v, size_t len);

/* One step: 1 a row (read it, then step again or give st back), 0 no more
 * rows, -1 an error ("what: why" in err). Never gives st back. */
int store_step(struct store *s, sqlite3_stmt *st, const char *what);
/* Runs a statement that returns no rows and gives it back: 0, or -1. */
int store_run(struct store *s, sqlite3_stmt *st, const char *what);
/* A statement that failed before its step (it could not be prepared, or a
 * bind failed): puts what before the reason in err, gives st back, -1. */
int store_abandon(struct store *s, sqlite3_stmt *st, const char *what);
/* Records "what: SQLite's message" in err; returns -1. */
int store_fail(struct store *s, const char *what);

/* 1 if the statement which, given key as ?1, finds a row; 0 if not; -1. */
int store_exists(struct store *s, enum store_st which, const char *key);

/* A text column, "" for NULL (or when SQLite ran out of memory reading it). */
const char *store_col_text(sqlite3_stmt *st, int col);
/* Copies a text column into buf (cap bytes, cut if longer). */
void store_col_copy(sqlite3_stmt *st, int col, char *buf, size_t cap);

/* Calls fn with the message of a row whose first columns are MESSAGE_COLUMNS
 * (store_messages.c), and a search hit's snippet if its last column is one
 * named "snippet"; returns what fn returned. */
int store_emit_message(struct store *s, sqlite3_stmt *st, chat_history_cb fn, void *arg);

/* Steps st (bound) to its end, calling fn for each message row while fn
 * returns 0, and gives st back: 0, or -1 ("what: why" in err); *stop (if not
 * NULL) gets fn's non-zero return that ended the walk, else 0. */
int store_walk_messages(struct store *s, sqlite3_stmt *st, const char *what, chat_history_cb fn,
			void *arg, int *stop);

/* Steps st (bound) to its end, collecting its first column's texts into a
 * malloc'd list (free with store_free_list); gives st back. */
int store_collect_texts(struct store *s, sqlite3_stmt *st, const char *what, char ***out,
			size_t *n);

/* synchronous=FULL (full 1, the store's setting) or NORMAL (0), for what
 * may be written without an fsync of its own: in WAL mode a commit at NORMAL
 * survives the process dying, only not a power cut (the next synced commit,
 * or a checkpoint, makes it durable). Not inside a transaction. */
int store_synced(struct store *s, int full);

#endif
