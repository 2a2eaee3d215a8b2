/*
 * test_edits.c - edits and deletes for everyone (PROTOCOL.md, "Edits and
 * deletes"): the 0x08 and 0x09 bodies' builder and strict parser
 * (client-lib/change_body.c), and the store's rules (store_changes.c) as
 * receive.c runs them: only the message's sender's changes apply, a delete
 * only within 48 hours of its sentAt, the edit of the highest seq shows, any
 * order of arrival ends the same (a change before its message waits for it),
 * duplicates change nothing, nothing changes a deleted message, a delete
 * takes the attachments' records, search follows the text; delete for me.
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

#include "attach.h"
#include "reply.h"
#include "store.h"

#define ID_A  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_E1 "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1"
#define ID_E2 "e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2"
#define ID_D1 "d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1"
#define CHAT  "0123456789abcdef"
#define CHAT2 "fedcba9876543210"
#define HOUR  (3600LL * 1000)

/* ---- bodies ------------------------------------------------------------ */

static int
parse_str(uint8_t kind, const char *json, struct change_body *ch)
{
	size_t n = strlen(json);
	uint8_t *b = malloc(n + 1);
	int rc;

	assert_non_null(b);
	b[0] = kind;
	memcpy(b + 1, json, n);
	rc = change_body_parse(b, n + 1, ch, NULL, 0);
	free(b);
	return rc;
}

static void
test_bodies_round_trip(void **state)
{
	struct change_body ch;
	size_t len;
	uint8_t *b;

	(void)state;
	b = change_body_build(PROTO_BODY_EDIT, ID_A, "new words", 9, &len, NULL, 0);
	assert_non_null(b);
	assert_int_equal(b[0], 0x08);
	assert_int_equal(change_body_parse(b, len, &ch, NULL, 0), REPLY_OK);
	assert_int_equal(ch.kind, PROTO_BODY_EDIT);
	assert_string_equal(ch.target, ID_A);
	assert_string_equal(ch.text, "new words");
	assert_int_equal(ch.text_len, 9);
	change_body_free(&ch);
	free(b);

	b = change_body_build(PROTO_BODY_DELETE, ID_B, NULL, 0, &len, NULL, 0);
	assert_non_null(b);
	assert_int_equal(b[0], 0x09);
	assert_int_equal(len, 1 + strlen("{\"target\":\"" ID_B "\"}"));
	assert_int_equal(change_body_parse(b, len, &ch, NULL, 0), REPLY_OK);
	assert_int_equal(ch.kind, PROTO_BODY_DELETE);
	assert_string_equal(ch.target, ID_B);
	assert_null(ch.text);
	change_body_free(&ch);
	free(b);
}

static void
test_bodies_limits(void **state)
{
	char *big = malloc(CHAT_MAX_TEXT + 2);
	struct change_body ch;
	size_t len;
	uint8_t *b;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', CHAT_MAX_TEXT + 1);
	big[CHAT_MAX_TEXT + 1] = '\0';
	/* The builder refuses what the parser would. */
	assert_null(change_body_build(PROTO_BODY_EDIT, ID_A, "", 0, &len, NULL, 0));
	assert_null(
		change_body_build(PROTO_BODY_EDIT, ID_A, big, CHAT_MAX_TEXT + 1, &len, NULL, 0));
	assert_null(change_body_build(PROTO_BODY_EDIT, "ABCD", "x", 1, &len, NULL, 0));
	assert_null(change_body_build(PROTO_BODY_EDIT, ID_A, "\xff", 1, &len, NULL, 0));
	assert_null(change_body_build(PROTO_BODY_REACTION, ID_A, "x", 1, &len, NULL, 0));
	/* CHAT_MAX_TEXT bytes is an edit. */
	b = change_body_build(PROTO_BODY_EDIT, ID_A, big, CHAT_MAX_TEXT, &len, NULL, 0);
	assert_non_null(b);
	assert_int_equal(change_body_parse(b, len, &ch, NULL, 0), REPLY_OK);
	assert_int_equal(ch.text_len, CHAT_MAX_TEXT);
	change_body_free(&ch);
	free(b);
	free(big);
}

static void
test_bodies_malformed(void **state)
{
	struct change_body ch;
	char err[200];
	uint8_t one = PROTO_BODY_EDIT;

	(void)state;
	assert_int_equal(
		parse_str(PROTO_BODY_EDIT, "{\"target\":\"" ID_A "\",\"text\":\"ok\"}", &ch),
		REPLY_OK);
	change_body_free(&ch);
	assert_int_equal(parse_str(PROTO_BODY_EDIT, "{\"target\":\"" ID_A "\"}", &ch),
			 REPLY_ERR_FORMAT);
	assert_int_equal(parse_str(PROTO_BODY_EDIT, "{\"target\":\"" ID_A "\",\"text\":\"\"}", &ch),
			 REPLY_ERR_FORMAT);
	assert_int_equal(parse_str(PROTO_BODY_EDIT, "{\"target\":\"" ID_A "\",\"text\":7}", &ch),
			 REPLY_ERR_FORMAT);
	assert_int_equal(parse_str(PROTO_BODY_EDIT, "{\"target\":\"AAAA\",\"text\":\"x\"}", &ch),
			 REPLY_ERR_FORMAT);
	assert_int_equal(parse_str(PROTO_BODY_EDIT, "{\"text\":\"x\"}", &ch), REPLY_ERR_FORMAT);
	assert_int_equal(
		parse_str(PROTO_BODY_EDIT, "{\"target\":\"" ID_A "\",\"text\":\"a\\u0000b\"}", &ch),
		REPLY_ERR_FORMAT);
	assert_int_equal(
		parse_str(PROTO_BODY_EDIT, "{\"target\":\"" ID_A "\",\"text\":\"x\"} x", &ch),
		REPLY_ERR_FORMAT);
	assert_int_equal(parse_str(PROTO_BODY_EDIT, "[\"" ID_A "\"]", &ch), REPLY_ERR_FORMAT);
	assert_int_equal(parse_str(PROTO_BODY_DELETE, "{\"target\":\"" ID_A "\"}", &ch), REPLY_OK);
	change_body_free(&ch);
	assert_int_equal(
		parse_str(PROTO_BODY_DELETE, "{\"target\":\"" ID_A "\",\"text\":\"x\"}", &ch),
		REPLY_ERR_FORMAT);
	assert_int_equal(parse_str(PROTO_BODY_DELETE, "{\"target\":\"" ID_A "0\"}", &ch),
			 REPLY_ERR_FORMAT);
	assert_int_equal(parse_str(PROTO_BODY_REACTION, "{\"target\":\"" ID_A "\"}", &ch),
			 REPLY_ERR_FORMAT);
	assert_int_equal(change_body_parse(&one, 1, &ch, err, sizeof err), REPLY_ERR_FORMAT);
	assert_true(err[0] != '\0');
	assert_int_equal(change_body_parse(NULL, 0, &ch, err, sizeof err), REPLY_ERR_FORMAT);
}

/* ---- the store's rules --------------------------------------------------- */

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
	snprintf(f->dir, sizeof f->dir, "/tmp/test_edits.XXXXXX");
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

/* Stores a message as receive.c does (kind "text", "edit" or "delete";
 * reply_to the changed message), then applies what is due, as receive.c
 * does: a change to its target, a message to itself. Returns what
 * store_message_insert returned. */
static int
put(struct store *s, const char *id, const char *sender, const char *kind, const char *text,
    int64_t seq, int64_t sent_at, const char *target)
{
	struct chat_message m = {0};
	int rc;

	m.chat_id = CHAT;
	m.message_id = id;
	m.sender = sender;
	m.sender_device = 1;
	m.seq = seq;
	m.sent_at = sent_at;
	m.text = text;
	m.text_len = strlen(text);
	m.state = "received";
	m.kind = kind;
	m.reply_to = target;
	rc = store_message_insert(s, &m);
	assert_true(rc >= 0);
	if (rc == 1)
		assert_true(store_changes_apply(s, target ? target : id) >= 0);
	return rc;
}

struct seen {
	char text[256];
	int64_t edited_at;
	int deleted, count;
	size_t n_atts;
};

static int
see(void *arg, const struct chat_message *m)
{
	struct seen *v = arg;

	v->count++;
	snprintf(v->text, sizeof v->text, "%s", m->text);
	v->edited_at = m->edited_at;
	v->deleted = m->deleted;
	v->n_atts = m->n_attachments;
	return 0;
}

static struct seen
seen(struct store *s, const char *id)
{
	struct seen v;

	memset(&v, 0, sizeof v);
	assert_int_equal(store_message_get(s, id, see, &v), 1);
	return v;
}

static int
count(void *arg, const struct chat_message *m)
{
	(void)m;
	(*(int *)arg)++;
	return 0;
}

static int
history_len(struct store *s)
{
	int n = 0;

	assert_int_equal(store_message_each(s, CHAT, 0, count, &n, NULL), 0);
	return n;
}

static int
hits(struct store *s, const char *words)
{
	int n = 0;

	assert_int_equal(store_message_search(s, words, NULL, 0, count, &n, NULL), 0);
	return n;
}

static void
test_latest_edit_either_order(void **state)
{
	struct fx *f = *state;
	struct seen v;

	put(&f->s, ID_A, "alice", "text", "the first words", 1, 1000, NULL);
	/* The newer edit (seq 5) first, then the older (seq 3): the newer shows. */
	put(&f->s, ID_E2, "alice", "edit", "the third words", 5, 5000, ID_A);
	put(&f->s, ID_E1, "alice", "edit", "the second words", 3, 3000, ID_A);
	v = seen(&f->s, ID_A);
	assert_string_equal(v.text, "the third words");
	assert_int_equal(v.edited_at, 5000);
	assert_int_equal(v.deleted, 0);
	assert_int_equal(store_change_status(&f->s, ID_E1), 1);
	/* Edits are no messages of the history or the counts. */
	assert_int_equal(history_len(&f->s), 1);
	/* Duplicates change nothing. */
	assert_int_equal(put(&f->s, ID_E1, "alice", "edit", "the second words", 3, 3000, ID_A), 0);
	assert_string_equal(seen(&f->s, ID_A).text, "the third words");
}

static void
test_edits_before_message(void **state)
{
	struct fx *f = *state;
	struct seen v;

	/* Both edits, then the message: the same end as any other order. */
	put(&f->s, ID_E1, "alice", "edit", "the second words", 3, 3000, ID_A);
	put(&f->s, ID_E2, "alice", "edit", "the third words", 5, 5000, ID_A);
	assert_int_equal(store_change_status(&f->s, ID_E1), 0); /* waiting */
	put(&f->s, ID_A, "alice", "text", "the first words", 1, 1000, NULL);
	v = seen(&f->s, ID_A);
	assert_string_equal(v.text, "the third words");
	assert_int_equal(v.edited_at, 5000);
	/* A delete before its message: deleted when it comes. */
	put(&f->s, ID_D1, "alice", "delete", "", 9, 9000, ID_B);
	put(&f->s, ID_B, "alice", "text", "soon gone", 2, 2000, NULL);
	v = seen(&f->s, ID_B);
	assert_int_equal(v.deleted, 1);
	assert_string_equal(v.text, "");
}

static void
test_only_the_sender(void **state)
{
	struct fx *f = *state;
	struct seen v;

	put(&f->s, ID_A, "alice", "text", "alice's words", 1, 1000, NULL);
	put(&f->s, ID_E1, "bob", "edit", "bob's words", 3, 3000, ID_A);
	put(&f->s, ID_D1, "bob", "delete", "", 4, 4000, ID_A);
	v = seen(&f->s, ID_A);
	assert_string_equal(v.text, "alice's words");
	assert_int_equal(v.edited_at, 0);
	assert_int_equal(v.deleted, 0);
	assert_int_equal(store_change_status(&f->s, ID_E1), 2);
	assert_int_equal(store_change_status(&f->s, ID_D1), 2);
	assert_int_equal(history_len(&f->s), 1);
	/* Before the message, the same: the rule is checked when it comes. */
	put(&f->s, ID_E2, "bob", "edit", "forged early", 6, 6000, ID_B);
	put(&f->s, ID_B, "alice", "text", "alice again", 5, 5000, NULL);
	assert_string_equal(seen(&f->s, ID_B).text, "alice again");
}

static void
test_delete_window(void **state)
{
	struct fx *f = *state;
	struct seen v;

	put(&f->s, ID_A, "alice", "text", "late words", 1, 1000, NULL);
	put(&f->s, ID_D1, "alice", "delete", "", 2, 1000 + 48 * HOUR + 1, ID_A);
	v = seen(&f->s, ID_A);
	assert_int_equal(v.deleted, 0);
	assert_string_equal(v.text, "late words");
	assert_int_equal(store_change_status(&f->s, ID_D1), 3);
	/* At 48 hours exactly it counts. */
	put(&f->s, ID_B, "alice", "text", "in time", 3, 1000, NULL);
	put(&f->s, ID_E1, "alice", "delete", "", 4, 1000 + 48 * HOUR, ID_B);
	assert_int_equal(seen(&f->s, ID_B).deleted, 1);
}

static void
test_nothing_after_delete(void **state)
{
	struct fx *f = *state;
	struct seen v;

	put(&f->s, ID_A, "alice", "text", "words", 1, 1000, NULL);
	put(&f->s, ID_E1, "alice", "edit", "edited secret", 2, 2000, ID_A);
	assert_int_equal(hits(&f->s, "secret"), 1);
	put(&f->s, ID_D1, "alice", "delete", "", 3, 3000, ID_A);
	/* An edit of a higher seq, after the delete: ignored. */
	put(&f->s, ID_E2, "alice", "edit", "back again", 4, 4000, ID_A);
	v = seen(&f->s, ID_A);
	assert_int_equal(v.deleted, 1);
	assert_string_equal(v.text, "");
	assert_int_equal(v.edited_at, 0);
	assert_int_equal(store_change_status(&f->s, ID_E2), 3);
	/* Nothing of it is found, nor of its edits. */
	assert_int_equal(hits(&f->s, "secret"), 0);
	assert_int_equal(hits(&f->s, "back"), 0);
	assert_int_equal(hits(&f->s, "words"), 0);
	/* Still in the history, as deleted. */
	assert_int_equal(history_len(&f->s), 1);
}

static void
test_search_follows_edits(void **state)
{
	struct fx *f = *state;

	put(&f->s, ID_A, "alice", "text", "meet at the harbour", 1, 1000, NULL);
	assert_int_equal(hits(&f->s, "harbour"), 1);
	put(&f->s, ID_E1, "alice", "edit", "meet at the lighthouse", 2, 2000, ID_A);
	assert_int_equal(hits(&f->s, "harbour"), 0);
	assert_int_equal(hits(&f->s, "lighthouse"), 1);
	put(&f->s, ID_E2, "alice", "edit", "meet at the station", 3, 3000, ID_A);
	assert_int_equal(hits(&f->s, "lighthouse"), 0);
	assert_int_equal(hits(&f->s, "station"), 1);
}

static int
list_edit(void *arg, const char *id, const char *text, size_t len, int64_t seq, int64_t sent_at)
{
	char *out = arg;

	(void)id;
	(void)len;
	(void)sent_at;
	snprintf(out + strlen(out), 256 - strlen(out), "%lld:%s;", (long long)seq, text);
	return 0;
}

static void
test_edit_history(void **state)
{
	struct fx *f = *state;
	char out[256] = "";

	put(&f->s, ID_A, "alice", "text", "one", 1, 1000, NULL);
	put(&f->s, ID_E2, "alice", "edit", "three", 5, 5000, ID_A);
	put(&f->s, ID_E1, "alice", "edit", "two", 3, 3000, ID_A);
	put(&f->s, ID_D1, "bob", "edit", "forged", 4, 4000, ID_A);
	assert_int_equal(store_edits_each(&f->s, ID_A, CHAT, "alice", list_edit, out), 0);
	assert_string_equal(out, "3:two;5:three;");
}

static void
test_delete_takes_attachments(void **state)
{
	struct fx *f = *state;
	struct attach_meta a, *got = NULL;
	size_t n = 0;

	memset(&a, 0, sizeof a);
	snprintf(a.blob_id, sizeof a.blob_id, "%s", ID_B);
	snprintf(a.name, sizeof a.name, "photo.jpg");
	snprintf(a.type, sizeof a.type, "image/jpeg");
	a.size = 10;
	a.enc_size = attach_enc_size(10);
	put(&f->s, ID_A, "alice", "text", "the photo", 1, 1000, NULL);
	assert_int_equal(store_attachment_put(&f->s, ID_A, 0, &a), 0);
	assert_int_equal(seen(&f->s, ID_A).n_atts, 1);
	put(&f->s, ID_D1, "alice", "delete", "", 2, 2000, ID_A);
	assert_int_equal(seen(&f->s, ID_A).n_atts, 0);
	assert_int_equal(store_attachments(&f->s, ID_A, &got, NULL, &n), 0);
	assert_int_equal(n, 0);
	attach_meta_free(got, n);
}

/* This device's own edit or delete, not sent yet (seq 0, sent_at 0). */
static void
put_pending(struct store *s, const char *id, const char *kind, const char *text, const char *target)
{
	struct chat_message m = {0};

	m.chat_id = CHAT;
	m.message_id = id;
	m.sender = "alice";
	m.sender_device = 1;
	m.text = text;
	m.text_len = strlen(text);
	m.outgoing = 1;
	m.state = "pending";
	m.kind = kind;
	m.reply_to = target;
	assert_int_equal(store_message_insert(s, &m), 1);
	assert_true(store_changes_apply(s, target) >= 0);
}

static void
test_own_pending(void **state)
{
	struct fx *f = *state;

	put(&f->s, ID_A, "alice", "text", "first", 1, 1000, NULL);
	put(&f->s, ID_E1, "alice", "edit", "second", 2, 2000, ID_A);
	/* An own edit shows at once, as the newest... */
	put_pending(&f->s, ID_E2, "edit", "third", ID_A);
	assert_string_equal(seen(&f->s, ID_A).text, "third");
	/* ...and discarded, the one in force shows again; with none, the first. */
	assert_int_equal(store_unsent_delete(&f->s, ID_E2), 1);
	assert_true(store_changes_apply(&f->s, ID_A) >= 0);
	assert_string_equal(seen(&f->s, ID_A).text, "second");
	put(&f->s, ID_B, "alice", "text", "plain", 3, 3000, NULL);
	put_pending(&f->s, ID_E2, "edit", "plainer", ID_B);
	assert_int_equal(store_unsent_delete(&f->s, ID_E2), 1);
	assert_true(store_changes_apply(&f->s, ID_B) >= 0);
	assert_string_equal(seen(&f->s, ID_B).text, "plain");
	assert_int_equal(seen(&f->s, ID_B).edited_at, 0);
	assert_int_equal(hits(&f->s, "plainer"), 0);
	assert_int_equal(hits(&f->s, "plain"), 1);
	/* An own delete counts once the server has it (it is final). */
	put_pending(&f->s, ID_D1, "delete", "", ID_A);
	assert_int_equal(seen(&f->s, ID_A).deleted, 0);
	assert_int_equal(store_message_sent(&f->s, ID_D1, 4, 4000), 0);
	assert_true(store_changes_apply(&f->s, ID_A) >= 0);
	assert_int_equal(seen(&f->s, ID_A).deleted, 1);
}

static void
test_delete_for_me(void **state)
{
	struct fx *f = *state;
	struct chat_message m = {0};
	int n = 0;

	put(&f->s, ID_A, "alice", "text", "keep me", 1, 1000, NULL);
	put(&f->s, ID_B, "bob", "text", "forget me", 2, 2000, NULL);
	put(&f->s, ID_E1, "bob", "edit", "forget me please", 3, 3000, ID_B);
	assert_int_equal(hits(&f->s, "forget"), 1);
	assert_int_equal(store_forget_message(&f->s, ID_B), 1);
	assert_int_equal(history_len(&f->s), 1);
	assert_int_equal(hits(&f->s, "forget"), 0);
	assert_int_equal(store_message_exists(&f->s, ID_E1), 0);
	assert_int_equal(store_forget_message(&f->s, ID_B), 0);
	/* A whole chat; another chat keeps its own. */
	m.chat_id = CHAT2;
	m.message_id = ID_E2;
	m.sender = "carol";
	m.sender_device = 1;
	m.seq = 1;
	m.text = "elsewhere";
	m.text_len = 9;
	m.state = "received";
	m.kind = "text";
	assert_int_equal(store_message_insert(&f->s, &m), 1);
	assert_true(store_forget_chat(&f->s, CHAT) >= 1);
	assert_int_equal(history_len(&f->s), 0);
	assert_int_equal(hits(&f->s, "keep"), 0);
	assert_int_equal(store_message_each(&f->s, CHAT2, 0, count, &n, NULL), 0);
	assert_int_equal(n, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bodies_round_trip),
		cmocka_unit_test(test_bodies_limits),
		cmocka_unit_test(test_bodies_malformed),
		cmocka_unit_test_setup_teardown(test_latest_edit_either_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edits_before_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_the_sender, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nothing_after_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_follows_edits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_takes_attachments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_for_me, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
