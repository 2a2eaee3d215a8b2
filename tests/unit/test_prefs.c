/*
 * test_prefs.c - chat preferences in the store (client-lib/store_prefs.c,
 * migration 14 -> 15): the chat list's order (pinned first, the newest pin
 * first, then the newest activity), a mute that ends by itself, the rule
 * that a message from someone else un-archives a chat unless it is muted
 * (and not one sent before the archiving, nor one of the user's own), the
 * last message's one-line preview, another device's settings applied only
 * when newer; the 0x0b settings body (client-lib/prefs_body.c); and
 * common/when.c's short times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <unistd.h>

#include "proto.h"
#include "reply.h"
#include "store.h"
#include "when.h"

#define CHAT_A "0123456789abcdef"
#define CHAT_B "1123456789abcdef"
#define CHAT_C "2123456789abcdef"

struct fx {
	char dir[64], path[128];
	struct store s;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	const char *const ab[] = {"alice", "bob"};

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/test_prefs.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
	/* Made at 1, 2 and 3 ms: C the newest. */
	if (store_open(&f->s, f->path) != 0 ||
	    store_chat_put(&f->s, CHAT_A, "direct", NULL, NULL, 1, ab, 2, NULL, 0) != 0 ||
	    store_chat_put(&f->s, CHAT_B, "direct", NULL, NULL, 2, ab, 2, NULL, 0) != 0 ||
	    store_chat_put(&f->s, CHAT_C, "direct", NULL, NULL, 3, ab, 2, NULL, 0) != 0) {
		rmdir(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char p[160];

	store_close(&f->s);
	unlink(f->path);
	snprintf(p, sizeof p, "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Stores a text message as receive.c would (outgoing: alice's own). */
static void
put(struct store *s, const char *chat, const char *id, const char *sender, const char *text,
    int64_t sent_at)
{
	struct chat_message m = {0};

	m.chat_id = chat;
	m.message_id = id;
	m.sender = sender;
	m.sender_device = 1;
	m.seq = sent_at;
	m.sent_at = sent_at;
	m.text = text;
	m.text_len = strlen(text);
	m.outgoing = strcmp(sender, "alice") == 0;
	m.state = m.outgoing ? "sent" : "received";
	m.kind = "text";
	assert_int_equal(store_message_insert(s, &m), 1);
}

/* What the walk saw: the ids in order, and each chat's fields. */
struct seen {
	char order[64];
	struct chat_chat chats[3];
	char last[3][CHAT_PREVIEW_MAX + 1];
	char sender[3][CHAT_USER_MAX + 1];
	char id[3][CHAT_CHAT_ID_LEN + 1];
	int n;
};

static int
see(void *arg, const struct chat_chat *ch)
{
	struct seen *v = arg;

	strncat(v->order, ch->chat_id, 1);
	if (v->n < 3) {
		/* The numbers only: the pointers die with the callback. */
		v->chats[v->n] = *ch;
		v->chats[v->n].chat_id = v->chats[v->n].kind = v->chats[v->n].name = NULL;
		v->chats[v->n].members = NULL;
		v->chats[v->n].description = NULL;
		v->chats[v->n].last_text = v->chats[v->n].last_sender = NULL;
		snprintf(v->id[v->n], sizeof v->id[0], "%s", ch->chat_id);
		snprintf(v->last[v->n], sizeof v->last[0], "%s",
			 ch->last_text ? ch->last_text : "-");
		snprintf(v->sender[v->n], sizeof v->sender[0], "%s",
			 ch->last_sender ? ch->last_sender : "-");
	}
	v->n++;
	return 0;
}

static void
walk(struct store *s, struct seen *v)
{
	memset(v, 0, sizeof *v);
	assert_int_equal(store_chat_each(s, see, v, NULL), 0);
}

/* Newest activity first; pinned first, the newest pin first; unpinned back. */
static void
test_order(void **state)
{
	struct fx *f = *state;
	struct seen v;

	walk(&f->s, &v);
	assert_string_equal(v.order, "210");
	put(&f->s, CHAT_A, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", "bob", "hi", 100);
	walk(&f->s, &v);
	assert_string_equal(v.order, "021");
	assert_int_equal(store_chat_set_pinned(&f->s, CHAT_B, 10), 1);
	walk(&f->s, &v);
	assert_string_equal(v.order, "102");
	assert_true(v.chats[0].pinned_at == 10);
	assert_true(v.chats[1].pinned_at == 0);
	assert_int_equal(store_chat_set_pinned(&f->s, CHAT_C, 20), 1);
	walk(&f->s, &v);
	assert_string_equal(v.order, "210");
	/* Activity does not move a chat above a pinned one. */
	put(&f->s, CHAT_A, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2", "bob", "again", 200);
	walk(&f->s, &v);
	assert_string_equal(v.order, "210");
	assert_int_equal(store_chat_set_pinned(&f->s, CHAT_C, 0), 1);
	walk(&f->s, &v);
	assert_string_equal(v.order, "102");
	/* No such chat: 0, nothing changed. */
	assert_int_equal(store_chat_set_pinned(&f->s, "ffffffffffffffff", 5), 0);
	/* Archived chats are listed, flagged. */
	assert_int_equal(store_chat_set_archived(&f->s, CHAT_A, 300), 1);
	walk(&f->s, &v);
	assert_int_equal(v.n, 3);
	assert_int_equal(v.chats[1].archived, 1);
	assert_int_equal(v.chats[0].archived, 0);
}

/* A mute until a time is no mute after it; for ever stays. */
static void
test_mute_expiry(void **state)
{
	struct fx *f = *state;
	int64_t now = proto_now_ms();
	struct seen v;

	assert_int_equal(store_chat_set_muted(&f->s, CHAT_A, now + 60000), 1);
	assert_true(store_chat_muted_until(&f->s, CHAT_A, now) == now + 60000);
	assert_true(store_chat_muted_until(&f->s, CHAT_A, now + 60000) == 0);
	assert_true(store_chat_muted_until(&f->s, CHAT_A, now + 120000) == 0);
	walk(&f->s, &v);
	assert_true(v.chats[2].muted_until == now + 60000);
	/* Past: the list reads it as none. */
	assert_int_equal(store_chat_set_muted(&f->s, CHAT_A, now - 1), 1);
	walk(&f->s, &v);
	assert_true(v.chats[2].muted_until == 0);
	assert_int_equal(store_chat_set_muted(&f->s, CHAT_A, INT64_MAX), 1);
	assert_true(store_chat_muted_until(&f->s, CHAT_A, INT64_MAX - 1) == INT64_MAX);
	assert_true(store_mute_in_force(INT64_MAX, INT64_MAX) == INT64_MAX);
	assert_true(store_mute_in_force(0, 5) == 0);
	assert_true(store_chat_muted_until(&f->s, "ffffffffffffffff", now) == 0);
}

static int
archived(struct store *s, const char *chat)
{
	struct seen v;

	walk(s, &v);
	for (int i = 0; i < 3; i++)
		if (strcmp(v.id[i], chat) == 0)
			return v.chats[i].archived;
	fail();
	return -1;
}

/* A message from someone else sent after the archiving un-archives; the
 * user's own, an older one, or one in a muted chat does not. */
static void
test_unarchive_rule(void **state)
{
	struct fx *f = *state;
	int64_t now = proto_now_ms();

	assert_int_equal(store_chat_set_archived(&f->s, CHAT_A, now), 1);
	assert_int_equal(archived(&f->s, CHAT_A), 1);
	put(&f->s, CHAT_A, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", "alice", "mine", now + 10);
	assert_int_equal(archived(&f->s, CHAT_A), 1);
	put(&f->s, CHAT_A, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2", "bob", "old", now - 1000);
	assert_int_equal(archived(&f->s, CHAT_A), 1);
	/* Muted (for a while still to run, then for ever): stays archived. */
	assert_int_equal(store_chat_set_muted(&f->s, CHAT_A, now + 3600000), 1);
	put(&f->s, CHAT_A, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3", "bob", "muted", now + 20);
	assert_int_equal(archived(&f->s, CHAT_A), 1);
	assert_int_equal(store_chat_set_muted(&f->s, CHAT_A, INT64_MAX), 1);
	put(&f->s, CHAT_A, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa4", "bob", "muted", now + 30);
	assert_int_equal(archived(&f->s, CHAT_A), 1);
	/* A mute that has ended is no mute. */
	assert_int_equal(store_chat_set_muted(&f->s, CHAT_A, now - 1), 1);
	put(&f->s, CHAT_A, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa5", "bob", "back", now + 40);
	assert_int_equal(archived(&f->s, CHAT_A), 0);
	/* Another chat is not touched. */
	assert_int_equal(store_chat_set_archived(&f->s, CHAT_B, now), 1);
	put(&f->s, CHAT_A, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa6", "bob", "here", now + 50);
	assert_int_equal(archived(&f->s, CHAT_B), 1);
}

/* The newest message, one line; none for a chat without messages. */
static void
test_last_message(void **state)
{
	struct fx *f = *state;
	char long_text[400];
	struct seen v;

	put(&f->s, CHAT_A, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", "bob", "older", 100);
	put(&f->s, CHAT_A, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2", "alice",
	    "  two\nlines\t\x1b[31m here ", 200);
	walk(&f->s, &v);
	assert_string_equal(v.order, "021");
	assert_string_equal(v.last[0], "two lines [31m here");
	assert_string_equal(v.sender[0], "alice");
	assert_true(v.chats[0].last_at == 200);
	assert_string_equal(v.last[1], "-");
	assert_true(v.chats[1].last_at == 0);
	/* Cut to CHAT_PREVIEW_MAX bytes, never inside a character. */
	memset(long_text, 0, sizeof long_text);
	for (size_t i = 0; i + 2 < 300; i += 2)
		memcpy(long_text + i, "\xc3\xa9", 2); /* é */
	put(&f->s, CHAT_B, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1", "bob", long_text, 300);
	walk(&f->s, &v);
	assert_string_equal(v.order, "102");
	assert_int_equal(strlen(v.last[0]), CHAT_PREVIEW_MAX);
	assert_true(proto_valid_utf8(v.last[0], strlen(v.last[0])));
}

static void
test_preview(void **state)
{
	char out[8];

	(void)state;
	store_preview("a  b", out, sizeof out);
	assert_string_equal(out, "a b");
	store_preview("\n\n x\xc2\x85y ", out, sizeof out); /* NEL, a C1 control */
	assert_string_equal(out, "x y");
	store_preview("abcdefghij", out, sizeof out);
	assert_string_equal(out, "abcdefg");
	store_preview("abcdef\xe2\x82\xac", out, sizeof out); /* € would not fit */
	assert_string_equal(out, "abcdef");
	store_preview("", out, sizeof out);
	assert_string_equal(out, "");
}

static int64_t
local_ms(int year, int mon, int mday, int hour, int min)
{
	struct tm tm = {0};

	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = mday;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * 1000;
}

static void
test_when(void **state)
{
	int64_t now = local_ms(2026, 12, 3, 9, 30); /* a Thursday */
	char buf[16];

	(void)state;
	assert_string_equal(when_brief(local_ms(2026, 12, 3, 0, 5), now, buf, sizeof buf), "00:05");
	assert_string_equal(when_brief(local_ms(2026, 12, 2, 23, 59), now, buf, sizeof buf), "Wed");
	assert_string_equal(when_brief(local_ms(2026, 11, 27, 12, 0), now, buf, sizeof buf), "Fri");
	assert_string_equal(when_brief(local_ms(2026, 11, 26, 12, 0), now, buf, sizeof buf),
			    "2026-11-26");
	assert_string_equal(when_brief(local_ms(2026, 12, 4, 8, 0), now, buf, sizeof buf),
			    "2026-12-04");
	assert_string_equal(when_brief(0, now, buf, sizeof buf), "");
	assert_string_equal(when_narrow(local_ms(2026, 11, 2, 12, 0), now, buf, sizeof buf),
			    "02 Nov");
	assert_string_equal(when_narrow(local_ms(2025, 11, 2, 12, 0), now, buf, sizeof buf),
			    "2025");
	assert_string_equal(when_narrow(local_ms(2026, 12, 3, 9, 29), now, buf, sizeof buf),
			    "09:29");
}

/* Another device's settings: applied whole if newer, never if older or
 * the same; a change here dates them past what came. */
static void
test_newest_wins(void **state)
{
	struct fx *f = *state;
	int64_t v[4];

	assert_int_equal(store_chat_prefs_apply(&f->s, CHAT_A, INT64_MAX, 5, 6, 100), 1);
	assert_int_equal(store_chat_prefs_get(&f->s, CHAT_A, v), 1);
	assert_true(v[0] == INT64_MAX && v[1] == 5 && v[2] == 6 && v[3] == 100);
	assert_int_equal(store_chat_prefs_apply(&f->s, CHAT_A, 0, 0, 0, 99), 0);
	assert_int_equal(store_chat_prefs_apply(&f->s, CHAT_A, 0, 0, 0, 100), 0);
	assert_int_equal(store_chat_prefs_get(&f->s, CHAT_A, v), 1);
	assert_true(v[0] == INT64_MAX && v[1] == 5 && v[3] == 100);
	/* A change here at an earlier clock still comes after it. */
	assert_int_equal(store_chat_prefs_touch(&f->s, CHAT_A, 50), 1);
	assert_int_equal(store_chat_prefs_get(&f->s, CHAT_A, v), 1);
	assert_true(v[3] == 101);
	assert_int_equal(store_chat_prefs_apply(&f->s, CHAT_A, 0, 0, 0, 101), 0);
	assert_int_equal(store_chat_prefs_apply(&f->s, CHAT_A, 0, 0, 0, 102), 1);
	assert_int_equal(store_chat_prefs_get(&f->s, CHAT_A, v), 1);
	assert_true(v[0] == 0 && v[1] == 0 && v[2] == 0 && v[3] == 102);
	/* An archiving that a message here has undone already (it came
	 * first, sent after it) stays undone, unless the chat is muted. */
	put(&f->s, CHAT_B, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1", "bob", "later", 1000);
	assert_int_equal(store_chat_prefs_apply(&f->s, CHAT_B, 0, 0, 900, 200), 1);
	assert_int_equal(archived(&f->s, CHAT_B), 0);
	assert_int_equal(store_chat_prefs_apply(&f->s, CHAT_B, 0, 0, 1100, 201), 1);
	assert_int_equal(archived(&f->s, CHAT_B), 1);
	assert_int_equal(store_chat_prefs_apply(&f->s, CHAT_B, INT64_MAX, 0, 900, 202), 1);
	assert_int_equal(archived(&f->s, CHAT_B), 1);
	/* A chat not here: nothing. */
	assert_int_equal(store_chat_prefs_apply(&f->s, "ffffffffffffffff", 0, 0, 0, 500), 0);
	assert_int_equal(store_chat_prefs_get(&f->s, "ffffffffffffffff", v), 0);
}

static int
parse_str(const char *json, struct prefs_body *p)
{
	size_t n = strlen(json);
	uint8_t *b = malloc(n + 1);
	int rc;

	assert_non_null(b);
	b[0] = PROTO_BODY_PREFS;
	memcpy(b + 1, json, n);
	rc = prefs_body_parse(b, n + 1, p, NULL, 0);
	free(b);
	return rc;
}

/* The 0x0b body: what the builder makes reads back; anything out of shape
 * or range is malformed; members it does not know are ignored. */
static void
test_body(void **state)
{
	struct prefs_body p = {"0123456789abcdef", -1, 1764750000000, 0, 1764750000001}, q;
	char big[700];
	uint8_t *b;
	size_t len;

	(void)state;
	assert_non_null(b = prefs_body_build(&p, &len, NULL, 0));
	assert_int_equal(b[0], PROTO_BODY_PREFS);
	assert_int_equal(prefs_body_parse(b, len, &q, NULL, 0), REPLY_OK);
	assert_memory_equal(&p, &q, sizeof p);
	free(b);
	assert_int_equal(parse_str("{\"chatId\":\"0123456789abcdef\",\"mutedUntil\":0,"
				   "\"pinnedAt\":0,\"archivedAt\":0,\"at\":1,\"later\":[1]}",
				   &q),
			 REPLY_OK);
	assert_true(q.at == 1);
	static const char *const bad[] = {
		"{\"chatId\":\"0123456789ABCDEF\",\"mutedUntil\":0,\"pinnedAt\":0,\"archivedAt\":0,"
		"\"at\":1}",
		"{\"chatId\":\"0123456789abcde\",\"mutedUntil\":0,\"pinnedAt\":0,\"archivedAt\":0,"
		"\"at\":1}",
		"{\"chatId\":\"0123456789abcdef\",\"mutedUntil\":-2,\"pinnedAt\":0,\"archivedAt\":"
		"0,\"at\":1}",
		"{\"chatId\":\"0123456789abcdef\",\"mutedUntil\":0.5,\"pinnedAt\":0,\"archivedAt\":"
		"0,\"at\":1}",
		"{\"chatId\":\"0123456789abcdef\",\"mutedUntil\":0,\"pinnedAt\":-1,\"archivedAt\":"
		"0,\"at\":1}",
		"{\"chatId\":\"0123456789abcdef\",\"mutedUntil\":0,\"pinnedAt\":0,\"archivedAt\":"
		"1e300,\"at\":1}",
		"{\"chatId\":\"0123456789abcdef\",\"mutedUntil\":0,\"pinnedAt\":0,\"archivedAt\":0,"
		"\"at\":0}",
		"{\"chatId\":\"0123456789abcdef\",\"mutedUntil\":0,\"pinnedAt\":0,\"archivedAt\":"
		"0}",
		"{\"chatId\":\"0123456789abcdef\",\"mutedUntil\":\"0\",\"pinnedAt\":0,"
		"\"archivedAt\":0,\"at\":1}",
		"{\"chatId\":\"0123456789abcdef\",\"mutedUntil\":0,\"pinnedAt\":0,\"archivedAt\":0,"
		"\"at\":9007199254740992}",
		"[]",
		"",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(parse_str(bad[i], &q), REPLY_ERR_FORMAT);
	/* Over 512 bytes: refused before it is read. */
	snprintf(big, sizeof big,
		 "{\"chatId\":\"0123456789abcdef\",\"mutedUntil\":0,\"pinnedAt\":0,"
		 "\"archivedAt\":0,\"at\":1,\"pad\":\"%0600d\"}",
		 0);
	assert_int_equal(parse_str(big, &q), REPLY_ERR_FORMAT);
	/* The builder refuses what the parser would. */
	p.at = 0;
	assert_null(prefs_body_build(&p, &len, NULL, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mute_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unarchive_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newest_wins, setup, teardown),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_preview),
		cmocka_unit_test(test_when),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
