/*
 * store.h - the device's local SQLite store: what this device knows with no
 * server. Internal to libchat; its files are store*.c (store_sql.h says how
 * they are split, and the idiom they share).
 *
 * Every function returns 0 (or a count, or 1 found / 0 not) on success and -1
 * on failure, with a sentence in err that says what failed and why ("store
 * message: database or disk is full"). A failed write changes nothing: the
 * functions that make several changes make them in one transaction.
 *
 * Walks (the *_each functions) call fn for each row while it returns 0; the
 * walk returns 0, or -1 on failure; *stop, if not NULL, gets fn's non-zero
 * return that ended the walk early, else 0. fn may call into the store,
 * the same walk included; it may even close it, and the walk then fails.
 */
#ifndef CHAT_STORE_H
#define CHAT_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "chat.h"

struct store_stmts; /* the statements prepared so far (store_sql.h) */

struct store {
	sqlite3 *db; /* NULL once closed */
	char err[256];
	struct store_stmts *stmts;
	int batch;  /* a batch's transaction is open (store_batch_begin) */
	int nested; /* savepoints open inside it, or inside a store_begin's transaction */
};

int store_open(struct store *s, const char *path);
/* Finalizes the kept statements and closes the database. Any call after it
 * fails with "the store is closed"; closing twice is fine. */
void store_close(struct store *s);

/* Small settings: "user", "device_id", "server_url". get returns 1 found, 0 not. */
int store_meta_get(struct store *s, const char *key, char *buf, size_t cap);
int store_meta_set(struct store *s, const char *key, const char *value);

/* A pinned device of a contact (or of this user). */
struct store_peer {
	uint8_t identity_key[32];
	uint8_t exchange_key[32];
	int has_pending; /* a different identity key was seen and not accepted */
	uint8_t pending_identity[32];
	uint8_t pending_exchange[32];
	int active;    /* listed by the directory the last time we asked */
	char name[65]; /* the device's name, "" if none */
	/* The directory stopped listing it: it is removed for good (active 0)
	 * until the user accepts it again (store_peer_trust), and its key
	 * approves no device with an id above horizon, the highest device id
	 * known of its user when it was removed. */
	int removed;
	uint32_t horizon;
};
/* 1 found, 0 not pinned, -1 error. */
int store_peer_get(struct store *s, const char *user, uint32_t device, struct store_peer *p);
/* Pins (user, device) to keys, or updates the exchange key of an already pinned
 * identity (the caller has checked its signature), and drops any pending change
 * (the directory is back to the pinned key). A removed device is left as it is:
 * only store_peer_trust brings one back. */
int store_peer_pin(struct store *s, const char *user, uint32_t device, const uint8_t ik[32],
		   const uint8_t xk[32], const char *name);
/* How many devices of user are pinned (active or not), leaving out (user, skip):
 * this device, when user is our own. */
int store_peer_count_pins(struct store *s, const char *user, uint32_t skip);
/* The pinned device of user whose identity key is ik (an active one first):
 * 1 found (*device and *p set), 0 none, -1 error. */
int store_peer_find_identity(struct store *s, const char *user, const uint8_t ik[32],
			     uint32_t *device, struct store_peer *p);
/* The highest device id pinned of user (active or removed), 0 if none. */
int store_peer_max_id(struct store *s, const char *user, uint32_t *max);
/* Records a changed identity key, waiting for the user's acceptance. */
int store_peer_set_pending(struct store *s, const char *user, uint32_t device, const uint8_t ik[32],
			   const uint8_t xk[32]);
/* Accepts all pending keys of user, and with them the removed devices listed
 * again; returns how many devices changed, or -1. */
int store_peer_trust(struct store *s, const char *user);
/* Marks an active device removed, with the horizon of its key's approvals
 * (see struct store_peer); a removed one keeps its first horizon. */
int store_peer_remove(struct store *s, const char *user, uint32_t device, uint32_t horizon);
/* Forgets a change of key waiting for the user (the device is gone again). */
int store_peer_drop_pending(struct store *s, const char *user, uint32_t device);
/* Walks the active pinned devices of user, by id. */
typedef int (*store_peer_fn)(void *arg, const char *user, uint32_t device,
			     const struct store_peer *p);
int store_peer_each(struct store *s, const char *user, store_peer_fn fn, void *arg, int *stop);
/* The same for every pinned device of user, removed ones included. */
int store_peer_each_pin(struct store *s, const char *user, store_peer_fn fn, void *arg, int *stop);
/* Number of active pinned devices of user (or -1). */
int store_peer_count(struct store *s, const char *user);

/* Chats. */
/* Stores a chat. members NULL keeps the members known (none for a chat first seen
 * in a message); admins may be NULL; description NULL keeps the one known. */
int store_chat_put(struct store *s, const char *chat_id, const char *kind, const char *name,
		   const char *description, int64_t created_at, const char *const *members,
		   size_t n_members, const char *const *admins, size_t n_admins);
/* Walks the members by name; admin is 1 for an admin. */
typedef int (*store_member_fn)(void *arg, const char *user, int admin);
int store_chat_member_each(struct store *s, const char *chat_id, store_member_fn fn, void *arg,
			   int *stop);
/* 1 if the chat is known, 0 if not. */
int store_chat_exists(struct store *s, const char *chat_id);
/* 1 if the chat is a group (its messages go by sender keys), 0 not, -1. */
int store_chat_is_group(struct store *s, const char *chat_id);
/* 1 if the chat is known and its member list has been filled in, 0 if not. */
int store_chat_has_members(struct store *s, const char *chat_id);
/* Members of a chat as a malloc'd array of malloc'd strings; free with store_free_list. */
int store_chat_members(struct store *s, const char *chat_id, char ***users, size_t *n);
void store_free_list(char **list, size_t n);
/* Walks the chats: pinned first (newest pin first), then newest activity first. */
int store_chat_each(struct store *s, chat_chat_cb fn, void *arg, int *stop);
/* This device's settings of a chat (store_prefs.c): 1 set, 0 no such chat,
 * -1. until_ms and at_ms as struct chat_chat's fields (0: off). */
int store_chat_set_muted(struct store *s, const char *chat_id, int64_t until_ms);
int store_chat_set_pinned(struct store *s, const char *chat_id, int64_t at_ms);
int store_chat_set_archived(struct store *s, const char *chat_id, int64_t at_ms);
/* A stored muted_until as it reads at now_ms: itself while in force, else 0. */
int64_t store_mute_in_force(int64_t until_ms, int64_t now_ms);
/* The chat's mute in force at now_ms (0 none, or no such chat), or -1. */
int64_t store_chat_muted_until(struct store *s, const char *chat_id, int64_t now_ms);
/* muted_until, pinned_at, archived_at and prefs_at (the time of the last
 * change, here or on another device of the user) into v: 1, 0 no such
 * chat (v zeroed), -1. */
int store_chat_prefs_get(struct store *s, const char *chat_id, int64_t v[4]);
/* A change here: prefs_at becomes at_ms (or one more than it was, if that
 * is later). 1, 0 no such chat, -1. */
int store_chat_prefs_touch(struct store *s, const char *chat_id, int64_t at_ms);
/* Another device's change, made at at_ms: applied if newer than prefs_at.
 * 1 applied, 0 not (older, or no such chat here), -1. */
int store_chat_prefs_apply(struct store *s, const char *chat_id, int64_t muted_until,
			   int64_t pinned_at, int64_t archived_at, int64_t at_ms);
/* A chat's newest message (kind "text"), for the chat list. */
struct store_last {
	int found;
	char text[CHAT_PREVIEW_MAX + 1]; /* the preview (store_preview) */
	char sender[CHAT_USER_MAX + 1];
	int64_t at;
};
int store_chat_last(struct store *s, const char *chat_id, struct store_last *last);
/* Makes text a one-line preview in out (cap bytes, NUL included): every run
 * of white space and control characters (C1 too) one space, none at the
 * ends, cut before the character that would not fit. */
void store_preview(const char *text, char *out, size_t cap);
/* Finds a chat from an id, a prefix of >= 4 hex digits or "@user". 1 found (out
 * gets the id), 0 none, 2 ambiguous, -1 error. */
int store_chat_resolve(struct store *s, const char *self, const char *spec,
		       char out[CHAT_CHAT_ID_LEN + 1]);

/* Messages. insert returns 1 if stored, 0 if that id was stored already. */
int store_message_insert(struct store *s, const struct chat_message *m);
int store_message_exists(struct store *s, const char *message_id);
/* For a message (or event) that arrives: 0 not stored, 1 stored and handed over
 * to the application, 2 stored but not handed over yet, -1 error. */
int store_message_received(struct store *s, const char *message_id);
/* The application has had it (its callback returned). */
int store_message_handed(struct store *s, const char *message_id);
int store_message_sent(struct store *s, const char *message_id, int64_t seq, int64_t sent_at);
/* Walks the messages this device wrote that no server confirmed yet and that
 * are to go out (pending), oldest first. */
int store_outbox_each(struct store *s, chat_history_cb fn, void *arg, int *stop);
/* The ids of the messages of the outbox written (stored) before cutoff (ms
 * since the epoch), oldest first, into a malloc'd list (store_free_list). */
int store_outbox_older(struct store *s, int64_t cutoff, char ***ids, size_t *n);
int store_message_set_state(struct store *s, const char *message_id, const char *state);
/* Walks the messages this device wrote that no server confirmed, pending or
 * failed, oldest first. */
int store_unsent_each(struct store *s, chat_history_cb fn, void *arg, int *stop);
/* 1 and its state ("pending" or "failed") in state if message_id is one of
 * them, 0 if not (unknown, sent, received, an event), -1 error. */
int store_unsent_state(struct store *s, const char *message_id, char *state, size_t cap);
/* Deletes such a message with its attachments' records: 1 done, 0 it is not
 * one, -1 error. */
int store_unsent_delete(struct store *s, const char *message_id);
/* Finds a message (or event) from a prefix of its id (hex digits): 1 found
 * (out gets the id), 0 none, 2 ambiguous, -1 error. */
int store_message_resolve(struct store *s, const char *prefix, char out[CHAT_MESSAGE_ID_LEN + 1]);
/* Calls fn for the message with that id (its return is not used); 1 found,
 * 0 not, -1 error. */
int store_message_get(struct store *s, const char *message_id, chat_history_cb fn, void *arg);
/* Edits and deletes (store_changes.c). apply makes message target show what
 * its sender's edits and deletes in the store say (PROTOCOL.md, "Edits and
 * deletes"): -1 error, 0 nothing to apply (no such message, or unchanged by
 * any), else STORE_CHANGE_EDITED or STORE_CHANGE_DELETED, with
 * STORE_CHANGE_NEW if this call changed it. A delete removes the records of
 * its attachments (the caller removes their files). */
enum { STORE_CHANGE_EDITED = 1, STORE_CHANGE_DELETED = 2, STORE_CHANGE_NEW = 4 };
int store_changes_apply(struct store *s, const char *target);
/* What the edit or delete change_id does now: 0 waits for its message, 1
 * applied (an edit: it counts, and shows if it is the latest; a delete: the
 * message is deleted), 2 refused (the message is someone else's), 3 ignored
 * (an edit of a deleted message, a delete past the window); -1. */
int store_change_status(struct store *s, const char *change_id);
/* Calls fn for each edit of target by sender in chat_id, oldest first (its
 * return, not 0, stops). 0 or -1. */
int store_edits_each(struct store *s, const char *target, const char *chat_id, const char *sender,
		     int (*fn)(void *arg, const char *id, const char *text, size_t len, int64_t seq,
			       int64_t sent_at),
		     void *arg);
/* Delete for me: a message with its attachments' records, receipts,
 * reactions and the edits, deletes and reactions to it (1 done, 0 no such
 * message, -1); a chat's whole history (how many rows went, or -1). */
int store_forget_message(struct store *s, const char *message_id);
int store_forget_chat(struct store *s, const char *chat_id);
/* Disappearing messages (store_timer.c; store.c, migration 12 -> 13).
 * refresh sets the chat's timer and its text messages' expiries from its
 * accepted timer changes (rows of kind 'timer'): run it whenever one of them
 * or a message of the chat is stored or gets its seq. timer gives the chat's
 * timer in seconds (0 off; -1 on error). expired fills ids (at most cap) with
 * messages whose expiry is at or before now (ms): how many, or -1; the caller
 * removes their files, then store_forget_message each. next_expiry: the
 * earliest expiry (ms), 0 if none, -1 on error. */
int store_timer_refresh(struct store *s, const char *chat_id);
/* A change refused (a group's non-admin) is stored as kind 'timer-refused':
 * no rule reads it, no history shows it. message sets the expiry of one
 * text message just stored or given its seq (what refresh does for all of
 * them, at the cost of one). for_send: the ttl (seconds, 0 none, -1 error)
 * of message_id, this device's, as it goes out: the chat's timer, or that
 * of a change this device wrote before it and has not had a seq for yet. */
int store_timer_message(struct store *s, const char *chat_id, const char *message_id);
/* latest: 1 and the id of the chat's change in force (the accepted one of
 * the highest seq), 0 none, -1. */
int store_timer_latest(struct store *s, const char *chat_id, char id[CHAT_MESSAGE_ID_LEN + 1]);
int64_t store_timer_for_send(struct store *s, const char *chat_id, const char *message_id);
int64_t store_timer_get(struct store *s, const char *chat_id);
int store_expired(struct store *s, int64_t now, char (*ids)[CHAT_MESSAGE_ID_LEN + 1], int cap);
int64_t store_next_expiry(struct store *s);
/* Blocking (store_blocks.c; store.c, migration 13 -> 14). set replaces the
 * copy of the block list with users (n, sorted or not): 1 if it changed, 0
 * if not, -1. has: 1 if user is on it, 0 not, -1. each calls fn for each
 * user, by name, while fn returns 0: 0, fn's non-zero, or -1. dropped
 * records that an envelope of a blocked user was thrown away (and forgets
 * those older than 60 days): 0 or -1. */
int store_blocked_set(struct store *s, char *const *users, size_t n);
int store_blocked_has(struct store *s, const char *user);
int store_blocked_each(struct store *s, int (*fn)(void *arg, const char *user), void *arg);
int store_dropped_add(struct store *s, const char *message_id, int64_t now);
/* Reactions (store_reactions.c). put records user's reaction reaction_id
 * to message_id (emoji "" taken back) with its seq (1 or more) under the rule
 * of the reactions table (store.c, migration 8 -> 9): it replaces theirs if
 * seq is higher; and it is no longer pending if it was this device's.
 * pending records this device's own, not sent yet: shown at once, instead
 * of the one in force. 0 or -1. */
int store_reaction_put(struct store *s, const char *message_id, const char *user,
		       const char *chat_id, const char *emoji, int64_t seq,
		       const char *reaction_id);
int store_reaction_pending(struct store *s, const char *message_id, const char *user,
			   const char *chat_id, const char *emoji, const char *reaction_id);
/* The reactions in force on a message of a chat, grouped by emoji, the most
 * used first: one malloc'd block (store_reactions_free). 0 or -1. */
struct store_reactions {
	struct chat_reaction *list;
	size_t n;
	void *block; /* the users' arrays and strings */
};
int store_reactions_of(struct store *s, const char *message_id, const char *chat_id,
		       struct store_reactions *out);
void store_reactions_free(struct store_reactions *r);
/* This user's reaction on message_id into emoji (cap bytes; "" none): 1 one
 * is recorded, 0 none, -1 error. */
int store_reaction_mine(struct store *s, const char *message_id, const char *user, char *emoji,
			size_t cap);

/* History sync (store_history.c): rows walks the rows of chat_id a new
 * device gets (sent at or after since, not expired at now, and every timer
 * change), by seq, calling fn while it returns 0 (strings valid during the
 * call; original is the text as first written of an edited message, else
 * NULL); 0 or -1. wipe empties the text of a batch the server has. */
struct store_history_row {
	const char *message_id, *chat_id, *sender, *text, *state, *kind;
	const char *reply_to, *reply_sender, *reply_preview, *original;
	size_t text_len, original_len;
	int64_t seq, sent_at, expires_at;
	uint32_t sender_device;
	int outgoing, deleted;
};
typedef int (*store_history_fn)(void *arg, const struct store_history_row *r);
int store_history_rows(struct store *s, const char *chat_id, int64_t since, int64_t now,
		       store_history_fn fn, void *arg);
int store_history_wipe(struct store *s, const char *message_id);

/* Walks the newest limit messages of a chat (0: all), oldest first. */
int store_message_each(struct store *s, const char *chat_id, int limit, chat_history_cb fn,
		       void *arg, int *stop);

/* Transactions, for changes that must land together. commit rolls back on
 * failure; rollback keeps err as it was. Inside a batch, or inside another
 * store_begin's transaction, they are savepoints of it: durable only once
 * the outermost ends. */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);
/* A batch: one transaction for many changes (the messages of one pass of
 * the loop), so that they cost one synced commit. Every write until
 * store_batch_end goes into it, each store_begin..store_commit a savepoint
 * that can fail alone. end commits it (0), or rolls it all back (-1, err
 * says why); either way the batch is over. begin and end are no-ops when
 * there is (not) one. Closing the store rolls back a batch left open. */
int store_batch_begin(struct store *s);
int store_batch_end(struct store *s);

/* Receipts. */
/* Records that (user, device) reached status (CHAT_RECEIPT_*) for a message:
 * 1 if that is news, 0 if it was known (or less), -1 on error. */
int store_receipt_put(struct store *s, const char *message_id, const char *user, uint32_t device,
		      int status, int64_t at);
/* Recomputes the state of one of our messages from its receipts and the chat's
 * members (self left out): "delivered", "read", or "sent". */
int store_message_refresh_state(struct store *s, const char *message_id, const char *self);
/* Marks incoming messages of a chat read (message_id NULL: all of them, else
 * that one) and, if queue, owes each sender (not self) a read receipt.
 * Returns how many were marked. */
int store_mark_read(struct store *s, const char *chat_id, const char *message_id, const char *self,
		    int queue, int64_t now);
/* Owes to_user a receipt of status for message_id (once). */
int store_receipt_queue(struct store *s, const char *chat_id, const char *to_user,
			const char *message_id, int status, int64_t now);
/* The oldest receipts owed, with as many more of the same chat, user and status
 * as fit (up to max): 1 found, 0 none owed, -1 error. at is the newest one's
 * time. */
struct store_receipt_batch {
	char chat_id[CHAT_CHAT_ID_LEN + 1];
	char to_user[CHAT_USER_MAX + 1];
	int status;
	int64_t at;
	char (*ids)[CHAT_MESSAGE_ID_LEN + 1]; /* the caller's array of max */
	size_t n;
};
int store_receipt_next(struct store *s, struct store_receipt_batch *b, size_t max);
/* The server took the batch: it is owed no more. */
int store_receipt_done(struct store *s, const struct store_receipt_batch *b);
/* 1 when receipts are owed. */
int store_receipts_pending(struct store *s);
/* What receiving a receipt needs to know of a message: 1 found, 0 not, -1 error. */
struct store_brief {
	char chat_id[CHAT_CHAT_ID_LEN + 1];
	char sender[CHAT_USER_MAX + 1];
	int outgoing;
	char state[16];
	int is_text;
};
int store_message_brief(struct store *s, const char *message_id, struct store_brief *b);

/* Full-text search (store_search.c). store_search_query turns what a user
 * typed into a safe FTS5 query (the rule is at its definition): a malloc'd
 * string in *out (free it), and the number of words, 0 for none (*out then
 * NULL); -1 out of memory. store_message_search walks the messages of kind
 * "text" (of chat_id, or of every chat if NULL) whose text has every word of
 * words, newest stored first, at most limit of them (0: all), each with its
 * snippet (struct chat_message's snippet). */
int store_search_query(const char *words, char **out);
int store_message_search(struct store *s, const char *words, const char *chat_id, int limit,
			 chat_history_cb fn, void *arg, int *stop);

/* Attachments (attach.h). put stores one (idx from 0); attachments reads a
 * message's, oldest first, into a malloc'd array (attach_meta_free) and, if
 * paths is not NULL, where each was downloaded (NULL entries if not; free with
 * store_free_list); set_path records a download. */
struct attach_meta;
int store_attachment_put(struct store *s, const char *message_id, int idx,
			 const struct attach_meta *m);
int store_attachments(struct store *s, const char *message_id, struct attach_meta **out,
		      char ***paths, size_t *n);
int store_attachment_set_path(struct store *s, const char *message_id, int idx, const char *path);

/* Prekeys (prekeys.c). Secrets are 32-byte X25519 keys. next_id hands out
 * ids from a counter of the home that never gives one twice. spk_current: 1
 * and the current signed prekey, 0 if none. spk_add makes (id, ...) current,
 * retires the one before at now and forgets those retired before expire_before.
 * opk_pending: up to max one-time prekeys not yet taken by the server, oldest
 * first (the count, or -1); opk_uploaded marks those up to id as taken;
 * opk_drop forgets those up to id that the server did not take.
 * secret: 1 and the secret of the signed (spk 1) or one-time prekey id, 0 if
 * unknown. */
int store_prekey_next_id(struct store *s, uint32_t *id);
int store_spk_current(struct store *s, uint32_t *id, uint8_t pk[32], int64_t *created_at);
int store_spk_add(struct store *s, uint32_t id, const uint8_t sk[32], const uint8_t pk[32],
		  int64_t now, int64_t expire_before);
int store_opk_add(struct store *s, uint32_t id, const uint8_t sk[32], const uint8_t pk[32]);
int store_opk_pending(struct store *s, uint32_t *ids, uint8_t (*pks)[32], int max);
int store_opk_uploaded(struct store *s, uint32_t up_to);
int store_opk_drop(struct store *s, uint32_t up_to);
int store_prekey_secret(struct store *s, int spk, uint32_t id, uint8_t sk[32]);
/* A one-time prekey a session was started from: its secret is gone for good. */
int store_opk_used(struct store *s, uint32_t id);

/* Pairwise sessions (store_sessions.c, pairwise.c). pending is what an
 * initiator's messages carry until the peer's first reply (PROTOCOL.md's
 * prekey message fields: base key 32, spk id 4, has opk 1, opk id 4). */
#define STORE_DR_PENDING_BYTES  41
#define STORE_DR_MAX_PER_DEVICE 10
struct store_dr {
	int64_t id;
	uint8_t peer_key[32]; /* the peer device's exchange key when it began */
	uint8_t base_key[32]; /* the initiator's ephemeral key: names the session */
	int has_pending;
	uint8_t pending[STORE_DR_PENDING_BYTES];
	uint8_t *state; /* ratchet_serialize's form; malloc'd, secret */
	size_t state_len;
};
void store_dr_free(struct store_dr *d);
/* Up to max sessions with (user, device), the one in use first: the count,
 * or -1. max 1: the one that sends (not retired), if any. */
int store_dr_load(struct store *s, const char *user, uint32_t device, struct store_dr *out,
		  int max);
/* 1 and the session with that base key, 0 if none, -1. */
int store_dr_by_base(struct store *s, const char *user, uint32_t device, const uint8_t base[32],
		     struct store_dr *out);
/* A new session, now the one in use (the oldest past STORE_DR_MAX_PER_DEVICE go). */
int store_dr_insert(struct store *s, const char *user, uint32_t device, const uint8_t peer_key[32],
		    const uint8_t base_key[32], const uint8_t *pending, const uint8_t *state,
		    size_t len, int64_t *id);
/* A session used: its new state (and pending, NULL once answered); now the one in use. */
int store_dr_update(struct store *s, int64_t id, const uint8_t *state, size_t len,
		    const uint8_t *pending);
/* Retires the sessions with (user, device): they still read, a new one will
 * send. Not while a session this device started waits for its answer (that
 * one's messages start it on the peer's side anyway). */
int store_dr_retire(struct store *s, const char *user, uint32_t device);
/* 1 if a session with (user, device) made with that exchange key sends, 0, -1. */
int store_dr_has(struct store *s, const char *user, uint32_t device, const uint8_t peer_key[32]);

/* Sender keys of group chats (group.c). States are senderkey.h's blobs,
 * malloc'd on the way out (wipe and free). own: this device's for a chat
 * (get: 1, 0 none, -1; put with fresh 1 for a new key). sent: the devices
 * (and the exchange key each had) that were given this device's current
 * key; del with user NULL forgets them all. peer: what another device
 * sent, by key id; put keeps a sender's STORE_SK_KEEP newest keys. */
#define STORE_SK_KEEP 3
typedef int (*store_sk_sent_fn)(void *arg, const char *user, uint32_t device,
				const uint8_t *peer_key);
int store_sk_own_get(struct store *s, const char *chat_id, uint8_t **state, size_t *len);
int store_sk_own_put(struct store *s, const char *chat_id, const uint8_t *state, size_t len,
		     int fresh, int64_t now);
int store_sk_sent_each(struct store *s, const char *chat_id, store_sk_sent_fn fn, void *arg);
int store_sk_sent_add(struct store *s, const char *chat_id, const char *user, uint32_t device,
		      const uint8_t peer_key[32]);
int store_sk_sent_del(struct store *s, const char *chat_id, const char *user, uint32_t device);
int store_sk_peer_get(struct store *s, const char *chat_id, const char *user, uint32_t device,
		      uint32_t key_id, uint8_t **state, size_t *len);
int store_sk_peer_put(struct store *s, const char *chat_id, const char *user, uint32_t device,
		      uint32_t key_id, const uint8_t *state, size_t len, int64_t now);

#endif
