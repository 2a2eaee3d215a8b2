/*
 * history.h - history sync (PROTOCOL.md, "History sync"): the device that
 * approves a new device of its user sends it the user's recent history in
 * batches, body kind 0x0c, each a bounded JSON object numbered part of
 * parts. history_body.c builds and parses a batch (no store, no network:
 * the fuzz target and the unit tests call it alone); history.c sends a
 * sync after an approval and applies the batches that arrive.
 *
 * The parser is strict and bounds everything: at most PROTO_HISTORY_MAX_JSON
 * bytes, PROTO_HISTORY_MAX_CHATS chats, PROTO_HISTORY_MAX_ITEMS messages,
 * every string by the limit of what it holds. It returns REPLY_OK, or
 * REPLY_ERR_FORMAT with err saying what (the receiver drops the batch), or
 * REPLY_ERR_NOMEM.
 */
#ifndef CHAT_HISTORY_H
#define CHAT_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "attach.h"
#include "chat.h"
#include "proto.h"

#define HISTORY_SYNC_ID_LEN 16 /* hex digits of a sync's id */

/* A chat as the batch describes it. Strings malloc'd (name and description
 * NULL when absent). kind is "direct" or "group" (notes to self are a
 * direct chat of one member). */
struct history_chat {
	char id[CHAT_CHAT_ID_LEN + 1];
	char kind[8];
	char *name;
	char *description;
	char **members;
	size_t n_members;
	char **admins;
	size_t n_admins;
	int64_t timer; /* seconds, 0 off */
	/* The user's settings of the chat (PROTOCOL.md, "Chat settings"), when
	 * has_prefs: as a 0x0b body's fields, muted_until -1 for ever. */
	int has_prefs;
	int64_t muted_until, pinned_at, archived_at, prefs_at;
};

/* One message row: a text (with files, a quote, a deleted or edited
 * state), a membership update, or one of the rows that change another
 * (reaction, edit, delete, timer), as the sender's store has it. */
struct history_item {
	char id[CHAT_MESSAGE_ID_LEN + 1];
	char chat_id[CHAT_CHAT_ID_LEN + 1];
	int64_t seq, sent_at, expires_at;
	char sender[CHAT_USER_MAX + 1];
	uint32_t device;
	char kind[12];  /* text, update, reaction, edit, delete, timer */
	char state[12]; /* sent, delivered, read (the user's own); received, read */
	char *text;     /* malloc'd, NUL-terminated, text_len bytes */
	size_t text_len;
	char reply_to[CHAT_MESSAGE_ID_LEN + 1]; /* "" none */
	char reply_sender[CHAT_USER_MAX + 1];
	char reply_preview[CHAT_REPLY_PREVIEW_MAX + 1];
	int deleted;
	struct attach_meta *atts; /* n_atts, malloc'd (attach_meta_free) */
	size_t n_atts;
};

struct history_batch {
	char sync[HISTORY_SYNC_ID_LEN + 1];
	uint32_t to; /* the device it is for */
	int64_t part, parts, total;
	struct history_chat *chats;
	size_t n_chats;
	struct history_item *items;
	size_t n_items;
};

/* The JSON of one chat or one item, as a batch's arrays hold them: a new
 * cJSON object, or NULL out of memory (or an item that breaks the rules
 * the parser checks). */
cJSON *history_chat_json(const struct history_chat *ch);
cJSON *history_item_json(const struct history_item *it);
/* A 0x0c body from the header fields of b and the objects already built
 * (chats and items: arrays of cJSON objects, taken over and freed): a
 * malloc'd body of *len bytes, or NULL with err (over the limit, no memory). */
uint8_t *history_body_build(const struct history_batch *b, cJSON *chats, cJSON *items, size_t *len,
			    char *err, size_t errlen);
/* The same from a whole struct (the tests). */
uint8_t *history_batch_build(const struct history_batch *b, size_t *len, char *err, size_t errlen);
int history_batch_parse(const uint8_t *body, size_t len, struct history_batch *b, char *err,
			size_t errlen);
void history_batch_free(struct history_batch *b);
void history_chat_free(struct history_chat *ch);
void history_item_free(struct history_item *it);

#endif /* CHAT_HISTORY_H */
