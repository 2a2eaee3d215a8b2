/*
 * store_prefs.c - this device's settings of each chat: mute, pin, archive
 * (chat.h, "Chat preferences"), and the preview of a chat's newest message
 * that the chat list shows. The rule that a new message un-archives a chat
 * is the store's trigger chats_unarchive (store.c, migration 14 -> 15).
 */
#include "store_sql.h"

#include <stdio.h>
#include <string.h>

#include "proto.h"

/* Runs a statement that takes (chat_id, value) as ?1 and ?2: 1 if the chat
 * was there, 0 if not, -1. */
static int
chat_set(struct store *s, enum store_st which, const char *chat_id, int64_t v, const char *what)
{
	sqlite3_stmt *st = store_stmt(s, which);

	if (st == NULL || store_bind_text(s, st, 1, chat_id) || store_bind_int(s, st, 2, v))
		return store_abandon(s, st, what);
	if (store_run(s, st, what) != 0)
		return -1;
	return sqlite3_changes(s->db) > 0;
}

int
store_chat_set_muted(struct store *s, const char *chat_id, int64_t until_ms)
{
	return chat_set(s, ST_CHAT_SET_MUTED, chat_id, until_ms, "mute chat");
}

int
store_chat_set_pinned(struct store *s, const char *chat_id, int64_t at_ms)
{
	return chat_set(s, ST_CHAT_SET_PINNED, chat_id, at_ms, "pin chat");
}

int
store_chat_set_archived(struct store *s, const char *chat_id, int64_t at_ms)
{
	return chat_set(s, ST_CHAT_SET_ARCHIVED, chat_id, at_ms, "archive chat");
}

int64_t
store_mute_in_force(int64_t until_ms, int64_t now_ms)
{
	return until_ms == INT64_MAX || until_ms > now_ms ? until_ms : 0;
}

int64_t
store_chat_muted_until(struct store *s, const char *chat_id, int64_t now_ms)
{
	sqlite3_stmt *st = store_stmt(s, ST_CHAT_MUTED);
	int64_t v = 0;
	int rc;

	if (st == NULL || store_bind_text(s, st, 1, chat_id))
		return store_abandon(s, st, "read mute");
	rc = store_step(s, st, "read mute");
	if (rc == 1)
		v = sqlite3_column_int64(st, 0);
	store_done(s, st);
	if (rc < 0)
		return -1;
	return store_mute_in_force(v < 0 ? 0 : v, now_ms);
}

void
store_preview(const char *text, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t len = strlen(text), o = 0, i = 0;
	int space = 0;

	if (cap == 0)
		return;
	while (i < len) {
		size_t n;

		/* White space and control characters, C1 ones (U+0080 to
		 * U+009F) too: one space, none at either end. */
		if (p[i] <= 0x20 || p[i] == 0x7f) {
			space = o > 0;
			i++;
			continue;
		}
		if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f) {
			space = o > 0;
			i += 2;
			continue;
		}
		n = proto_utf8_seq(p + i, len - i);
		if (n == 0) { /* not UTF-8: the store keeps none, but never copy it */
			i++;
			continue;
		}
		if (o + space + n > cap - 1)
			break;
		if (space)
			out[o++] = ' ';
		space = 0;
		memcpy(out + o, p + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
}

int
store_chat_last(struct store *s, const char *chat_id, struct store_last *last)
{
	sqlite3_stmt *st = store_stmt(s, ST_CHAT_LAST);
	int rc;

	memset(last, 0, sizeof *last);
	if (st == NULL || store_bind_text(s, st, 1, chat_id))
		return store_abandon(s, st, "last message");
	rc = store_step(s, st, "last message");
	if (rc == 1) {
		const char *text = store_col_text(st, 0);
		const char *file = (const char *)sqlite3_column_text(st, 4);

		if (sqlite3_column_int(st, 3) != 0) {
			strcpy(last->text, "message deleted");
		} else if (text[0] == '\0' && file != NULL) {
			/* "[file " and "]" around it fill last->text at most */
			char name[CHAT_PREVIEW_MAX - 6];

			store_preview(file, name, sizeof name);
			snprintf(last->text, sizeof last->text, "[file %s]", name);
		} else {
			store_preview(text, last->text, sizeof last->text);
		}
		store_col_copy(st, 1, last->sender, sizeof last->sender);
		last->at = sqlite3_column_int64(st, 2);
		last->found = 1;
	}
	store_done(s, st);
	return rc < 0 ? -1 : 0;
}

int
store_chat_prefs_get(struct store *s, const char *chat_id, int64_t v[4])
{
	sqlite3_stmt *st = store_stmt(s, ST_CHAT_PREFS_GET);
	int rc;

	if (st == NULL || store_bind_text(s, st, 1, chat_id))
		return store_abandon(s, st, "read chat settings");
	rc = store_step(s, st, "read chat settings");
	for (int i = 0; i < 4; i++)
		v[i] = rc == 1 ? sqlite3_column_int64(st, i) : 0;
	store_done(s, st);
	return rc;
}

int
store_chat_prefs_touch(struct store *s, const char *chat_id, int64_t at_ms)
{
	return chat_set(s, ST_CHAT_PREFS_TOUCH, chat_id, at_ms, "date chat settings");
}

int
store_chat_prefs_apply(struct store *s, const char *chat_id, int64_t muted_until, int64_t pinned_at,
		       int64_t archived_at, int64_t at_ms)
{
	sqlite3_stmt *st = store_stmt(s, ST_CHAT_PREFS_APPLY);

	if (st == NULL || store_bind_text(s, st, 1, chat_id) ||
	    store_bind_int(s, st, 2, muted_until) || store_bind_int(s, st, 3, pinned_at) ||
	    store_bind_int(s, st, 4, archived_at) || store_bind_int(s, st, 5, at_ms))
		return store_abandon(s, st, "apply chat settings");
	if (store_run(s, st, "apply chat settings") != 0)
		return -1;
	return sqlite3_changes(s->db) > 0;
}
