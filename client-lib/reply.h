/*
 * reply.h - the 0x05 reply and 0x06 reaction message bodies (PROTOCOL.md,
 * "Replies and reactions"): JSON, built by the sender, parsed strictly by
 * every receiver. reply_body.c holds the reply's, reaction_body.c the
 * reaction's; both share body_json_open() for the strict JSON envelope.
 *
 * Parsers return REPLY_OK (0), REPLY_ERR_FORMAT (the body is malformed: err
 * says how; the receiver stores it as undecryptable) or REPLY_ERR_NOMEM.
 */
#ifndef CHAT_REPLY_H
#define CHAT_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "chat.h"
#include "proto.h"

#define REPLY_PREVIEW_MAX  PROTO_REPLY_PREVIEW_MAX
#define REACTION_EMOJI_MAX PROTO_EMOJI_MAX

enum { REPLY_OK = 0, REPLY_ERR_FORMAT = -1, REPLY_ERR_NOMEM = -2 };

/* A reply as read: text malloc'd (wipe and free with reply_body_free). */
struct reply_body {
	char *text;
	size_t text_len;
	char id[CHAT_MESSAGE_ID_LEN + 1];
	char sender[CHAT_USER_MAX + 1];
	char preview[REPLY_PREVIEW_MAX + 1];
};

/* A reaction as read; emoji "" removes the reactor's reaction. */
struct reaction_body {
	char target[CHAT_MESSAGE_ID_LEN + 1];
	char emoji[REACTION_EMOJI_MAX + 1];
};

/* How many bytes of text[0..len) a preview keeps: at most REPLY_PREVIEW_MAX,
 * cut at a character boundary (text is valid UTF-8). */
size_t reply_preview_len(const char *text, size_t len);

/* 1 if s[0..len) is a reaction's emoji: 0 (removal) to REACTION_EMOJI_MAX
 * bytes of UTF-8 with no control character (C0, DEL, C1). */
int reaction_valid_emoji(const char *s, size_t len);

/* Builds a 0x05 body into a malloc'd buffer (*out_len bytes; wipe and free
 * it). NULL if an argument breaks the rules (text 1..CHAT_MAX_TEXT bytes of
 * UTF-8, id 32 lowercase hex, sender a user name, preview UTF-8 of at most
 * REPLY_PREVIEW_MAX bytes), the body would be over PROTO_MAX_PLAINTEXT, or no
 * memory; err says which. */
uint8_t *reply_body_build(const char *text, size_t len, const char *id, const char *sender,
			  const char *preview, size_t *out_len, char *err, size_t errlen);
int reply_body_parse(const uint8_t *body, size_t len, struct reply_body *r, char *err,
		     size_t errlen);
void reply_body_free(struct reply_body *r);

/* The same for 0x06. */
uint8_t *reaction_body_build(const char *target, const char *emoji, size_t *out_len, char *err,
			     size_t errlen);
int reaction_body_parse(const uint8_t *body, size_t len, struct reaction_body *r, char *err,
			size_t errlen);

/* An edit (kind PROTO_BODY_EDIT: text malloc'd, text_len bytes) or a delete
 * for everyone (PROTO_BODY_DELETE: text NULL) of message target, as read
 * (change_body.c). Wipe and free with change_body_free. */
struct change_body {
	uint8_t kind;
	char target[CHAT_MESSAGE_ID_LEN + 1];
	char *text;
	size_t text_len;
};

/* Builds a 0x08 (text 1..CHAT_MAX_TEXT bytes of UTF-8) or 0x09 (text
 * ignored) body, as reply_body_build builds its own. */
uint8_t *change_body_build(uint8_t kind, const char *target, const char *text, size_t len,
			   size_t *out_len, char *err, size_t errlen);
/* Reads either kind (body[0] says which): strict JSON, "target" 32
 * lowercase hex digits, an edit's "text" 1..CHAT_MAX_TEXT bytes of UTF-8, a
 * delete with no "text". */
int change_body_parse(const uint8_t *body, size_t len, struct change_body *ch, char *err,
		      size_t errlen);
void change_body_free(struct change_body *ch);

/* A disappearing-timer change (kind PROTO_BODY_TIMER, 0x0a): the chat's
 * new timer in seconds, 0 (off) or PROTO_TIMER_MIN_S..PROTO_TIMER_MAX_S
 * (timer_body.c). The builder returns a malloc'd body (*out_len bytes) or
 * NULL with err; the parser REPLY_OK with *seconds, or REPLY_ERR_FORMAT
 * (strict JSON, "seconds" a whole number in range; other members ignored). */
uint8_t *timer_body_build(long long seconds, size_t *out_len, char *err, size_t errlen);
int timer_body_parse(const uint8_t *body, size_t len, long long *seconds, char *err, size_t errlen);
/* Whether seconds is a timer the wire allows. */
int timer_seconds_valid(long long seconds);

/* The 0x0b chat-settings body (prefs_body.c; PROTOCOL.md, "Chat
 * settings"): {"chatId", "mutedUntil" (-1 for ever, 0 none, else ms),
 * "pinnedAt", "archivedAt" (0 none, else ms), "at" (ms of the change, >= 1)},
 * all whole numbers up to PROTO_PREFS_MAX_MS; members it does not know are
 * ignored. The parser takes exactly what the builder makes (and such
 * members); build returns NULL (err says why) for values out of range. */
struct prefs_body {
	char chat_id[CHAT_CHAT_ID_LEN + 1];
	int64_t muted_until; /* -1 for ever */
	int64_t pinned_at, archived_at, at;
};
uint8_t *prefs_body_build(const struct prefs_body *p, size_t *out_len, char *err, size_t errlen);
int prefs_body_parse(const uint8_t *body, size_t len, struct prefs_body *p, char *err,
		     size_t errlen);

/* The strict JSON of a body of kind `kind`: body[0] is kind, the rest one
 * JSON object (nothing after it but white space, no U+0000 or lone
 * surrogate, at most 32 members, all named differently). *root gets it (free
 * with cJSON_Delete). REPLY_OK or REPLY_ERR_FORMAT, with err. */
int body_json_open(const uint8_t *body, size_t len, uint8_t kind, const char *what, cJSON **root,
		   char *err, size_t errlen);

#endif
