/*
 * test_replies.c - replies and reactions (PROTOCOL.md, "Replies and
 * reactions"): the 0x05 and 0x06 bodies' builders and strict parsers
 * (client-lib/reply_body.c, reaction_body.c), and the store's rules
 * (store_reactions.c): one reaction per person per message, the one of the
 * highest seq whatever the order of arrival, duplicates changing nothing, a
 * reaction kept until its message comes, "" taking it back, and reaction
 * messages kept out of the history.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "reply.h"
#include "store.h"

#define ID_A  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_R  "cccccccccccccccccccccccccccccccc"
#define ID_C  "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
#define CHAT  "0123456789abcdef"
#define CHAT2 "fedcba9876543210"

/* ---- bodies ------------------------------------------------------------ */

static int
parse_reply_str(const char *json, struct reply_body *r)
{
	size_t n = strlen(json);
	uint8_t *b = malloc(n + 1);
	int rc;

	assert_non_null(b);
	b[0] = PROTO_BODY_REPLY;
	memcpy(b + 1, json, n);
	rc = reply_body_parse(b, n + 1, r, NULL, 0);
	free(b);
	return rc;
}

static int
parse_reaction_str(const char *json, struct reaction_body *r)
{
	size_t n = strlen(json);
	uint8_t *b = malloc(n + 1);
	int rc;

	assert_non_null(b);
	b[0] = PROTO_BODY_REACTION;
	memcpy(b + 1, json, n);
	rc = reaction_body_parse(b, n + 1, r, NULL, 0);
	free(b);
	return rc;
}

static void
test_reply_round_trip(void **state)
{
	struct reply_body r;
	size_t len;
	char err[200];
	uint8_t *b = reply_body_build("sure, \"see\" you\nthere", 21, ID_A, "alice", "start of it",
				      &len, err, sizeof err);

	(void)state;
	assert_non_null(b);
	assert_int_equal(b[0], PROTO_BODY_REPLY);
	assert_int_equal(reply_body_parse(b, len, &r, err, sizeof err), REPLY_OK);
	assert_string_equal(r.text, "sure, \"see\" you\nthere");
	assert_int_equal(r.text_len, 21);
	assert_string_equal(r.id, ID_A);
	assert_string_equal(r.sender, "alice");
	assert_string_equal(r.preview, "start of it");
	reply_body_free(&r);
	free(b);
}

static void
test_reply_limits(void **state)
{
	char big[REPLY_PREVIEW_MAX + 2], json[512];
	struct reply_body r;
	size_t len;

	(void)state;
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	/* The builder refuses what the parser would. */
	assert_null(reply_body_build("hi", 2, ID_A, "alice", big, &len, NULL, 0));
	assert_null(reply_body_build("hi", 2, "ABC", "alice", "", &len, NULL, 0));
	assert_null(reply_body_build("hi", 2, ID_A, "Alice!", "", &len, NULL, 0));
	assert_null(reply_body_build("", 0, ID_A, "alice", "", &len, NULL, 0));
	/* A preview of exactly 100 bytes is taken; 101 is not. */
	big[REPLY_PREVIEW_MAX] = '\0';
	snprintf(json, sizeof json,
		 "{\"text\":\"t\",\"replyTo\":{\"id\":\"" ID_A "\",\"sender\":\"bob\","
		 "\"preview\":\"%s\"}}",
		 big);
	assert_int_equal(parse_reply_str(json, &r), REPLY_OK);
	assert_int_equal(strlen(r.preview), REPLY_PREVIEW_MAX);
	reply_body_free(&r);
	big[REPLY_PREVIEW_MAX] = 'x';
	snprintf(json, sizeof json,
		 "{\"text\":\"t\",\"replyTo\":{\"id\":\"" ID_A "\",\"sender\":\"bob\","
		 "\"preview\":\"%s\"}}",
		 big);
	assert_int_equal(parse_reply_str(json, &r), REPLY_ERR_FORMAT);
}

static void
test_reply_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"text\":\"t\"}",
		"{\"text\":\"\",\"replyTo\":{\"id\":\"" ID_A
		"\",\"sender\":\"b\",\"preview\":\"\"}}",
		"{\"text\":\"t\",\"replyTo\":{\"id\":\"" ID_A "\",\"sender\":\"b\"}}",
		"{\"text\":\"t\",\"replyTo\":{\"id\":\"AAAA\",\"sender\":\"b\",\"preview\":\"\"}}",
		"{\"text\":\"t\",\"replyTo\":{\"id\":\"" ID_A
		"\",\"sender\":\"B B\",\"preview\":\"\"}}",
		"{\"text\":\"t\",\"replyTo\":\"" ID_A "\"}",
		"{\"text\":\"t\",\"text\":\"u\",\"replyTo\":{\"id\":\"" ID_A
		"\",\"sender\":\"b\",\"preview\":\"\"}}",
		"{\"text\":\"a\\u0000b\",\"replyTo\":{\"id\":\"" ID_A
		"\",\"sender\":\"b\",\"preview\":\"\"}}",
		"{\"text\":\"t\",\"replyTo\":{\"id\":\"" ID_A
		"\",\"sender\":\"b\",\"preview\":\"\"}} x",
		"{\"text\":5,\"replyTo\":{\"id\":\"" ID_A "\",\"sender\":\"b\",\"preview\":\"\"}}",
	};
	struct reply_body r;
	uint8_t text_kind[] = {PROTO_BODY_TEXT, '{', '}'};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(parse_reply_str(bad[i], &r), REPLY_ERR_FORMAT);
		assert_null(r.text);
	}
	assert_int_equal(reply_body_parse(text_kind, sizeof text_kind, &r, NULL, 0),
			 REPLY_ERR_FORMAT);
	/* Unknown members are allowed (a later version may add some). */
	assert_int_equal(parse_reply_str("{\"text\":\"t\",\"x\":1,\"replyTo\":{\"id\":\"" ID_A
					 "\",\"sender\":\"b\",\"preview\":\"p\",\"y\":[]}}",
					 &r),
			 REPLY_OK);
	reply_body_free(&r);
}

static void
test_preview_cut(void **state)
{
	char s[300];
	size_t n;

	(void)state;
	assert_int_equal(reply_preview_len("hello", 5), 5);
	/* 99 ASCII bytes then "é" (2 bytes): cut before it, not inside. */
	memset(s, 'a', 99);
	memcpy(s + 99, "\xc3\xa9zz", 4);
	n = reply_preview_len(s, 103);
	assert_int_equal(n, 99);
	/* 4-byte emoji from 97: 97 + 4 = 101 > 100: cut at 97. */
	memcpy(s + 97, "\xf0\x9f\x91\x8d", 4);
	assert_int_equal(reply_preview_len(s, 101), 97);
	memset(s, 'b', sizeof s);
	assert_int_equal(reply_preview_len(s, sizeof s), REPLY_PREVIEW_MAX);
}

static void
test_reaction_bodies(void **state)
{
	struct reaction_body r;
	size_t len;
	uint8_t *b;

	(void)state;
	b = reaction_body_build(ID_A, "\xf0\x9f\x91\x8d", &len, NULL, 0);
	assert_non_null(b);
	assert_int_equal(reaction_body_parse(b, len, &r, NULL, 0), REPLY_OK);
	assert_string_equal(r.target, ID_A);
	assert_string_equal(r.emoji, "\xf0\x9f\x91\x8d");
	free(b);
	/* "" removes. */
	b = reaction_body_build(ID_A, "", &len, NULL, 0);
	assert_non_null(b);
	assert_int_equal(reaction_body_parse(b, len, &r, NULL, 0), REPLY_OK);
	assert_string_equal(r.emoji, "");
	free(b);
	/* 32 bytes is the most. */
	assert_int_equal(parse_reaction_str("{\"target\":\"" ID_A
					    "\",\"emoji\":\"12345678901234567890123456789012\"}",
					    &r),
			 REPLY_OK);
	assert_int_equal(parse_reaction_str("{\"target\":\"" ID_A
					    "\",\"emoji\":\"123456789012345678901234567890123\"}",
					    &r),
			 REPLY_ERR_FORMAT);
	assert_null(reaction_body_build(ID_A, "123456789012345678901234567890123", &len, NULL, 0));
	/* Control characters: C0, DEL, C1. */
	assert_int_equal(parse_reaction_str("{\"target\":\"" ID_A "\",\"emoji\":\"a\\nb\"}", &r),
			 REPLY_ERR_FORMAT);
	assert_int_equal(parse_reaction_str("{\"target\":\"" ID_A "\",\"emoji\":\"\\u007f\"}", &r),
			 REPLY_ERR_FORMAT);
	assert_int_equal(parse_reaction_str("{\"target\":\"" ID_A "\",\"emoji\":\"\\u0085\"}", &r),
			 REPLY_ERR_FORMAT);
	assert_null(reaction_body_build(ID_A, "\t", &len, NULL, 0));
	/* The target, the emoji's type, the form. */
	assert_int_equal(parse_reaction_str("{\"target\":\"" ID_A "\"}", &r), REPLY_ERR_FORMAT);
	assert_int_equal(parse_reaction_str("{\"target\":\"abc\",\"emoji\":\"x\"}", &r),
			 REPLY_ERR_FORMAT);
	assert_int_equal(parse_reaction_str("{\"target\":\"" ID_A "\",\"emoji\":1}", &r),
			 REPLY_ERR_FORMAT);
	assert_int_equal(
		parse_reaction_str("{\"target\":\"" ID_A "\",\"emoji\":\"x\",\"emoji\":\"y\"}", &r),
		REPLY_ERR_FORMAT);
	assert_int_equal(parse_reaction_str("\"x\"", &r), REPLY_ERR_FORMAT);
	assert_int_equal(reaction_valid_emoji("\xff", 1), 0);
}

/* ---- the store ----------------------------------------------------------- */

struct fx {
	char dir[64], path[128];
	struct store s;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/test_replies.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
	if (store_open(&f->s, f->path) != 0) {
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

static void
insert(struct store *s, const char *chat, const char *id, const char *kind, const char *text,
       int64_t seq, const char *reply_to)
{
	struct chat_message m = {0};

	m.chat_id = chat;
	m.message_id = id;
	m.sender = "alice";
	m.sender_device = 1;
	m.seq = seq;
	m.sent_at = 1000 + seq;
	m.text = text;
	m.text_len = strlen(text);
	m.state = "received";
	m.kind = kind;
	m.reply_to = reply_to;
	m.reply_sender = reply_to ? "bob" : NULL;
	m.reply_preview = reply_to ? "quoted" : NULL;
	assert_int_equal(store_message_insert(s, &m), 1);
}

/* "👍 2 ❤ 1" of a message as read back from the store, with who. */
struct seen {
	char sum[256];
	char reply[128];
	int count;
};

static int
summarise(void *arg, const struct chat_message *m)
{
	struct seen *v = arg;
	size_t o = 0;

	v->count++;
	v->sum[0] = '\0';
	for (size_t i = 0; i < m->n_reactions; i++) {
		o += (size_t)snprintf(v->sum + o, sizeof v->sum - o, "%s%s %zu:", i ? " " : "",
				      m->reactions[i].emoji, m->reactions[i].count);
		for (size_t k = 0; k < m->reactions[i].count; k++)
			o += (size_t)snprintf(v->sum + o, sizeof v->sum - o, "%s%s", k ? "," : "",
					      m->reactions[i].users[k]);
	}
	if (m->reply_to != NULL)
		snprintf(v->reply, sizeof v->reply, "%s/%s/%s", m->reply_to, m->reply_sender,
			 m->reply_preview);
	return 0;
}

static const char *
reactions_of(struct store *s, const char *id, struct seen *v)
{
	memset(v, 0, sizeof *v);
	assert_int_equal(store_message_get(s, id, summarise, v), 1);
	return v->sum;
}

static void
test_seq_wins_either_order(void **state)
{
	struct fx *f = *state;
	struct seen v;

	insert(&f->s, CHAT, ID_A, "text", "hello", 1, NULL);
	/* bob: newer first, then older; carol: older first, then newer. */
	assert_int_equal(store_reaction_put(&f->s, ID_A, "bob", CHAT, "👍", 5, ID_R), 0);
	assert_int_equal(store_reaction_put(&f->s, ID_A, "bob", CHAT, "❤", 3, ID_B), 0);
	assert_int_equal(store_reaction_put(&f->s, ID_A, "carol", CHAT, "❤", 3, ID_B), 0);
	assert_int_equal(store_reaction_put(&f->s, ID_A, "carol", CHAT, "👍", 6, ID_R), 0);
	assert_string_equal(reactions_of(&f->s, ID_A, &v), "👍 2:bob,carol");
	/* The same reaction again (a duplicate delivery) changes nothing. */
	assert_int_equal(store_reaction_put(&f->s, ID_A, "carol", CHAT, "👍", 6, ID_R), 0);
	assert_int_equal(store_reaction_put(&f->s, ID_A, "dave", CHAT, "❤", 9, ID_B), 0);
	assert_int_equal(store_reaction_put(&f->s, ID_A, "dave", CHAT, "❤", 9, ID_B), 0);
	/* The most used first. */
	assert_string_equal(reactions_of(&f->s, ID_A, &v), "👍 2:bob,carol ❤ 1:dave");
}

static void
test_removal(void **state)
{
	struct fx *f = *state;
	struct seen v;

	insert(&f->s, CHAT, ID_A, "text", "hello", 1, NULL);
	assert_int_equal(store_reaction_put(&f->s, ID_A, "bob", CHAT, "👍", 5, ID_R), 0);
	assert_int_equal(store_reaction_put(&f->s, ID_A, "bob", CHAT, "", 7, ID_B), 0);
	assert_string_equal(reactions_of(&f->s, ID_A, &v), "");
	/* An older reaction arriving after the removal does not bring it back. */
	assert_int_equal(store_reaction_put(&f->s, ID_A, "bob", CHAT, "😂", 6, ID_R), 0);
	assert_string_equal(reactions_of(&f->s, ID_A, &v), "");
	/* A newer one does. */
	assert_int_equal(store_reaction_put(&f->s, ID_A, "bob", CHAT, "😂", 8, ID_R), 0);
	assert_string_equal(reactions_of(&f->s, ID_A, &v), "😂 1:bob");
}

static void
test_reaction_before_message(void **state)
{
	struct fx *f = *state;
	struct seen v;

	assert_int_equal(store_reaction_put(&f->s, ID_B, "bob", CHAT, "👍", 5, ID_R), 0);
	/* A reaction put on another chat's message is not that message's. */
	assert_int_equal(store_reaction_put(&f->s, ID_B, "eve", CHAT2, "💩", 6, ID_R), 0);
	insert(&f->s, CHAT, ID_B, "text", "late", 2, NULL);
	assert_string_equal(reactions_of(&f->s, ID_B, &v), "👍 1:bob");
}

static void
test_own_pending(void **state)
{
	struct fx *f = *state;
	struct chat_message m = {0};
	struct seen v;

	insert(&f->s, CHAT, ID_A, "text", "hello", 1, NULL);
	assert_int_equal(store_reaction_put(&f->s, ID_A, "me", CHAT, "👍", 5, ID_R), 0);
	/* Unsent: shows at once, over the one in force. */
	assert_int_equal(store_reaction_pending(&f->s, ID_A, "me", CHAT, "❤", ID_B), 0);
	assert_string_equal(reactions_of(&f->s, ID_A, &v), "❤ 1:me");
	/* Another device of mine reacted later (seq 9); mine is sent with seq 8:
	 * the later one is in force, here as on every device. */
	assert_int_equal(store_reaction_put(&f->s, ID_A, "me", CHAT, "😂", 9, ID_R), 0);
	assert_string_equal(reactions_of(&f->s, ID_A, &v), "❤ 1:me");
	assert_int_equal(store_reaction_put(&f->s, ID_A, "me", CHAT, "❤", 8, ID_B), 0);
	assert_string_equal(reactions_of(&f->s, ID_A, &v), "😂 1:me");
	/* A pending one discarded (never sent): the one in force shows again. */
	m.chat_id = CHAT;
	m.message_id = "dddddddddddddddddddddddddddddddd";
	m.sender = "me";
	m.sender_device = 1;
	m.text = "🚗";
	m.text_len = strlen(m.text);
	m.outgoing = 1;
	m.state = "pending";
	m.kind = "reaction";
	m.reply_to = ID_A;
	assert_int_equal(store_message_insert(&f->s, &m), 1);
	assert_int_equal(store_reaction_pending(&f->s, ID_A, "me", CHAT, "🚗", m.message_id), 0);
	assert_string_equal(reactions_of(&f->s, ID_A, &v), "🚗 1:me");
	assert_int_equal(store_unsent_delete(&f->s, m.message_id), 1);
	assert_string_equal(reactions_of(&f->s, ID_A, &v), "😂 1:me");
	/* Taking it back, pending: none shows. */
	assert_int_equal(store_reaction_pending(&f->s, ID_A, "me", CHAT, "", ID_C), 0);
	assert_string_equal(reactions_of(&f->s, ID_A, &v), "");
}

static int
count(void *arg, const struct chat_message *m)
{
	(void)m;
	(*(int *)arg)++;
	return 0;
}

static void
test_history_skips_reactions(void **state)
{
	struct fx *f = *state;
	struct seen v;
	int n = 0;

	assert_int_equal(store_chat_put(&f->s, CHAT, "direct", NULL, NULL, 1, NULL, 0, NULL, 0), 0);
	insert(&f->s, CHAT, ID_A, "text", "hello", 1, NULL);
	insert(&f->s, CHAT, ID_R, "reaction", "👍", 2, ID_A);
	insert(&f->s, CHAT, ID_B, "text", "answer", 3, ID_A);
	assert_int_equal(store_message_each(&f->s, CHAT, 0, count, &n, NULL), 0);
	assert_int_equal(n, 2);
	/* The reply keeps what it quotes. */
	reactions_of(&f->s, ID_B, &v);
	assert_string_equal(v.reply, ID_A "/bob/quoted");
	/* Its id is known: a second delivery is a duplicate. */
	assert_int_equal(store_message_received(&f->s, ID_R), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_round_trip),
		cmocka_unit_test(test_reply_limits),
		cmocka_unit_test(test_reply_malformed),
		cmocka_unit_test(test_preview_cut),
		cmocka_unit_test(test_reaction_bodies),
		cmocka_unit_test_setup_teardown(test_seq_wins_either_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reaction_before_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_skips_reactions, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
