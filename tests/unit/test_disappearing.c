/*
 * test_disappearing.c - disappearing messages (PROTOCOL.md, "Disappearing
 * messages"): the 0x0a timer body's builder and strict parser
 * (client-lib/timer_body.c): 0 (off) or 30 seconds .. 90 days, a whole
 * number, nothing else taken; and the store's rules (store_timer.c): the
 * timer of the highest seq is the chat's, a message expires by the timer in
 * force at its seq (one sent before the change never does), in any order of
 * arrival, and the sweep takes the message with its search entry, reactions,
 * edits and attachments' records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include <unistd.h>

#include "attach.h"
#include "reply.h"
#include "store.h"

#define CHAT "0123456789abcdef"
#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_C "cccccccccccccccccccccccccccccccc"
#define ID_T "7171717171717171717171717171717a"
#define ID_O "7171717171717171717171717171717b"
#define ID_R "7171717171717171717171717171717c"

static int
parse_str(const char *json, long long *s)
{
	size_t n = strlen(json);
	uint8_t *b = malloc(n + 1);
	int rc;

	assert_non_null(b);
	b[0] = PROTO_BODY_TIMER;
	memcpy(b + 1, json, n);
	rc = timer_body_parse(b, n + 1, s, NULL, 0);
	free(b);
	return rc;
}

static void
test_timer_round_trip(void **state)
{
	static const long long ok[] = {0, 30, 300, 3600, 7 * 86400, 90 * 86400};
	size_t i, len;
	long long s;
	uint8_t *b;

	(void)state;
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		b = timer_body_build(ok[i], &len, NULL, 0);
		assert_non_null(b);
		assert_int_equal(b[0], PROTO_BODY_TIMER);
		s = -1;
		assert_int_equal(timer_body_parse(b, len, &s, NULL, 0), REPLY_OK);
		assert_int_equal(s, ok[i]);
		free(b);
	}
	assert_int_equal(parse_str("{\"seconds\":3600}", &s), REPLY_OK);
	assert_int_equal(s, 3600);
	/* a member the receiver does not know is ignored (a later version's) */
	assert_int_equal(parse_str("{\"seconds\":60,\"by\":\"x\"}", &s), REPLY_OK);
	assert_int_equal(s, 60);
}

static void
test_timer_limits(void **state)
{
	static const long long bad[] = {-1, 1, 29, 90 * 86400 + 1, 1LL << 40};
	char err[128];
	size_t i, len = 7;
	long long s;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_null(timer_body_build(bad[i], &len, err, sizeof err));
		assert_int_equal(len, 0);
		assert_true(err[0] != '\0');
		assert_false(timer_seconds_valid(bad[i]));
	}
	assert_true(timer_seconds_valid(0));
	assert_true(timer_seconds_valid(30));
	assert_true(timer_seconds_valid(90 * 86400));
	assert_int_equal(parse_str("{\"seconds\":29}", &s), REPLY_ERR_FORMAT);
	assert_int_equal(parse_str("{\"seconds\":7776001}", &s), REPLY_ERR_FORMAT);
	assert_int_equal(parse_str("{\"seconds\":7776000}", &s), REPLY_OK);
	assert_int_equal(parse_str("{\"seconds\":-30}", &s), REPLY_ERR_FORMAT);
}

static void
test_timer_malformed(void **state)
{
	uint8_t kind_only = PROTO_BODY_TIMER, edit[] = {PROTO_BODY_EDIT, '{', '}'};
	char err[128];
	long long s = 5;

	(void)state;
	assert_int_equal(parse_str("{\"seconds\":30.5}", &s), REPLY_ERR_FORMAT);
	assert_int_equal(s, 0);
	assert_int_equal(parse_str("{\"seconds\":\"60\"}", &s), REPLY_ERR_FORMAT);
	assert_int_equal(parse_str("{\"seconds\":1e300}", &s), REPLY_ERR_FORMAT);
	assert_int_equal(parse_str("{\"seconds\":null}", &s), REPLY_ERR_FORMAT);
	assert_int_equal(parse_str("{}", &s), REPLY_ERR_FORMAT);
	assert_int_equal(parse_str("[60]", &s), REPLY_ERR_FORMAT);
	assert_int_equal(parse_str("{\"seconds\":60,\"seconds\":0}", &s), REPLY_ERR_FORMAT);
	assert_int_equal(parse_str("{\"seconds\":60} x", &s), REPLY_ERR_FORMAT);
	assert_int_equal(timer_body_parse(&kind_only, 1, &s, err, sizeof err), REPLY_ERR_FORMAT);
	assert_true(err[0] != '\0');
	assert_int_equal(timer_body_parse(edit, sizeof edit, &s, err, sizeof err),
			 REPLY_ERR_FORMAT);
	assert_int_equal(timer_body_parse(NULL, 0, &s, err, sizeof err), REPLY_ERR_FORMAT);
}

/* ---- the store's rules ------------------------------------------------- */

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
	snprintf(f->dir, sizeof f->dir, "/tmp/test_disappearing.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
	if (store_open(&f->s, f->path) != 0 ||
	    store_chat_put(&f->s, CHAT, "direct", NULL, NULL, 1, ab, 2, NULL, 0) != 0) {
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

/* Stores a received row as receive.c would, then refreshes the chat's
 * timer and expiries. */
static void
put(struct store *s, const char *id, const char *kind, const char *text, int64_t seq,
    int64_t sent_at, const char *target)
{
	struct chat_message m = {0};

	m.chat_id = CHAT;
	m.message_id = id;
	m.sender = "bob";
	m.sender_device = 1;
	m.seq = seq;
	m.sent_at = sent_at;
	m.text = text;
	m.text_len = strlen(text);
	m.state = "received";
	m.kind = kind;
	m.reply_to = target;
	assert_int_equal(store_message_insert(s, &m), 1);
	assert_int_equal(store_timer_refresh(s, CHAT), 0);
}

static int
count(void *arg, const struct chat_message *m)
{
	(void)m;
	++*(int *)arg;
	return 0;
}

static int
hits(struct store *s, const char *words)
{
	int n = 0;

	assert_int_equal(store_message_search(s, words, NULL, 0, count, &n, NULL), 0);
	return n;
}

static int
exists(struct store *s, const char *id)
{
	int n = 0;

	assert_true(store_message_get(s, id, count, &n) >= 0);
	return n;
}

/* The sweep as libchat runs it: list, then forget each. */
static int
sweep(struct store *s, int64_t now)
{
	char ids[8][CHAT_MESSAGE_ID_LEN + 1];
	int i, n = store_expired(s, now, ids, 8);

	assert_true(n >= 0);
	for (i = 0; i < n; i++)
		assert_int_equal(store_forget_message(s, ids[i]), 1);
	return n;
}

static void
test_old_message_stays(void **state)
{
	struct fx *f = *state;

	assert_int_equal(store_timer_get(&f->s, CHAT), 0);
	put(&f->s, ID_A, "text", "before the timer", 1, 1000, NULL);
	put(&f->s, ID_T, "timer", "60", 2, 2000, NULL);
	put(&f->s, ID_B, "text", "after the timer", 3, 3000, NULL);
	assert_int_equal(store_timer_get(&f->s, CHAT), 60);
	assert_int_equal(store_next_expiry(&f->s), 63000);
	/* Not before its time. */
	assert_int_equal(sweep(&f->s, 62999), 0);
	assert_int_equal(exists(&f->s, ID_B), 1);
	assert_int_equal(hits(&f->s, "after"), 1);
	/* At its time, B goes (and its search entry); A, sent before, stays. */
	assert_int_equal(sweep(&f->s, 63000), 1);
	assert_int_equal(exists(&f->s, ID_B), 0);
	assert_int_equal(hits(&f->s, "after"), 0);
	assert_int_equal(exists(&f->s, ID_A), 1);
	assert_int_equal(hits(&f->s, "before"), 1);
	assert_int_equal(sweep(&f->s, 1000000000), 0);
	assert_int_equal(store_next_expiry(&f->s), 0);
	/* The change itself stays in the history. */
	assert_int_equal(exists(&f->s, ID_T), 1);
}

static void
test_any_order_and_off(void **state)
{
	struct fx *f = *state;

	/* The message (seq 3) before the change (seq 2) it follows. */
	put(&f->s, ID_B, "text", "late change", 3, 3000, NULL);
	assert_int_equal(store_next_expiry(&f->s), 0);
	put(&f->s, ID_T, "timer", "30", 2, 2000, NULL);
	assert_int_equal(store_next_expiry(&f->s), 33000);
	/* Turned off at seq 4: messages after it keep; B still goes. */
	put(&f->s, ID_O, "timer", "0", 4, 4000, NULL);
	assert_int_equal(store_timer_get(&f->s, CHAT), 0);
	put(&f->s, ID_C, "text", "kept", 5, 5000, NULL);
	assert_int_equal(sweep(&f->s, 10000000), 1);
	assert_int_equal(exists(&f->s, ID_B), 0);
	assert_int_equal(exists(&f->s, ID_C), 1);
	/* An older change arriving late does not change the chat's timer. */
	put(&f->s, "7171717171717171717171717171717d", "timer", "3600", 1, 500, NULL);
	assert_int_equal(store_timer_get(&f->s, CHAT), 0);
}

static void
test_sweep_takes_what_hangs_on(void **state)
{
	struct fx *f = *state;
	struct attach_meta a, *got = NULL;
	size_t n = 9;

	memset(&a, 0, sizeof a);
	snprintf(a.blob_id, sizeof a.blob_id, "%s", ID_C);
	snprintf(a.name, sizeof a.name, "photo.jpg");
	snprintf(a.type, sizeof a.type, "image/jpeg");
	a.size = 10;
	a.enc_size = attach_enc_size(10);
	put(&f->s, ID_T, "timer", "30", 1, 1000, NULL);
	put(&f->s, ID_A, "text", "with a photo", 2, 2000, NULL);
	assert_int_equal(store_attachment_put(&f->s, ID_A, 0, &a), 0);
	put(&f->s, ID_R, "reaction", "x", 3, 3000, ID_A);
	assert_int_equal(sweep(&f->s, 32000), 1);
	assert_int_equal(exists(&f->s, ID_A), 0);
	assert_int_equal(exists(&f->s, ID_R), 0);
	assert_int_equal(store_attachments(&f->s, ID_A, &got, NULL, &n), 0);
	assert_int_equal(n, 0);
	attach_meta_free(got, n);
}

/* A change refused (a group's non-admin, receive.c) is kept as kind
 * 'timer-refused': it sets no timer, no expiry, and no history shows it. */
static void
test_refused_change_ignored(void **state)
{
	struct fx *f = *state;
	int n = 0;

	put(&f->s, ID_T, "timer-refused", "60", 1, 1000, NULL);
	put(&f->s, ID_A, "text", "after a refused change", 2, 2000, NULL);
	assert_int_equal(store_timer_get(&f->s, CHAT), 0);
	assert_int_equal(store_next_expiry(&f->s), 0);
	assert_int_equal(store_message_each(&f->s, CHAT, 0, count, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(sweep(&f->s, 1000000000), 0);
}

/* The same change twice (delivered again after a lost ack): stored once,
 * nothing moves. */
static void
test_duplicate_change(void **state)
{
	struct fx *f = *state;
	struct chat_message m = {0};

	put(&f->s, ID_T, "timer", "30", 1, 1000, NULL);
	put(&f->s, ID_A, "text", "ruled by it", 2, 2000, NULL);
	m.chat_id = CHAT;
	m.message_id = ID_T;
	m.sender = "bob";
	m.seq = 1;
	m.sent_at = 1000;
	m.text = "3600";
	m.text_len = 4;
	m.state = "received";
	m.kind = "timer";
	assert_int_equal(store_message_insert(&f->s, &m), 0);
	assert_int_equal(store_timer_refresh(&f->s, CHAT), 0);
	assert_int_equal(store_timer_get(&f->s, CHAT), 30);
	assert_int_equal(store_next_expiry(&f->s), 32000);
}

/* A message that comes after the change: its own expiry only
 * (store_timer_message); one of another chat is not touched. And the
 * change in force is the one of the highest seq, whatever came last. */
static void
test_one_message_and_latest(void **state)
{
	struct fx *f = *state;
	char id[CHAT_MESSAGE_ID_LEN + 1];
	struct chat_message m = {0};

	assert_int_equal(store_timer_latest(&f->s, CHAT, id), 0);
	put(&f->s, ID_O, "timer", "60", 5, 5000, NULL);
	put(&f->s, ID_T, "timer", "30", 2, 2000, NULL);
	assert_int_equal(store_timer_latest(&f->s, CHAT, id), 1);
	assert_string_equal(id, ID_O);
	assert_int_equal(store_timer_get(&f->s, CHAT), 60);
	m.chat_id = CHAT;
	m.message_id = ID_A;
	m.sender = "bob";
	m.seq = 3;
	m.sent_at = 3000;
	m.text = "between the two";
	m.text_len = strlen(m.text);
	m.state = "received";
	m.kind = "text";
	assert_int_equal(store_message_insert(&f->s, &m), 1);
	assert_int_equal(store_timer_message(&f->s, CHAT, ID_A), 0);
	/* By the change at seq 2 (30 s), not the chat's (60 s). */
	assert_int_equal(store_next_expiry(&f->s), 33000);
}

/* The ttl a message of this device goes with: the chat's timer, or that of
 * a change this device wrote before it and that has no seq yet; not one
 * written after it. */
static void
test_ttl_for_send(void **state)
{
	struct fx *f = *state;
	struct chat_message m = {0};

	m.chat_id = CHAT;
	m.sender = "alice";
	m.outgoing = 1;
	m.state = "pending";
	m.kind = "text";
	m.message_id = ID_A;
	m.text = "written first";
	m.text_len = strlen(m.text);
	assert_int_equal(store_message_insert(&f->s, &m), 1);
	assert_int_equal(store_timer_for_send(&f->s, CHAT, ID_A), 0);
	m.message_id = ID_T;
	m.kind = "timer";
	m.text = "300";
	m.text_len = 3;
	assert_int_equal(store_message_insert(&f->s, &m), 1);
	m.message_id = ID_B;
	m.kind = "text";
	m.text = "written after the change";
	m.text_len = strlen(m.text);
	assert_int_equal(store_message_insert(&f->s, &m), 1);
	assert_int_equal(store_timer_for_send(&f->s, CHAT, ID_A), 0);
	assert_int_equal(store_timer_for_send(&f->s, CHAT, ID_B), 300);
	/* The change sent (seq 4), then bob's of seq 5 came: the chat's. */
	assert_int_equal(store_message_sent(&f->s, ID_T, 4, 4000), 0);
	assert_int_equal(store_timer_refresh(&f->s, CHAT), 0);
	assert_int_equal(store_timer_for_send(&f->s, CHAT, ID_B), 300);
	put(&f->s, ID_O, "timer", "0", 5, 5000, NULL);
	assert_int_equal(store_timer_for_send(&f->s, CHAT, ID_B), 0);
}

/* Deleting a chat's history here keeps its timer changes: the timer still
 * rules what comes, as on the other devices. */
static void
test_forget_chat_keeps_the_timer(void **state)
{
	struct fx *f = *state;
	int n = 0;

	put(&f->s, ID_T, "timer", "30", 1, 1000, NULL);
	put(&f->s, ID_A, "text", "gone with the chat", 2, 2000, NULL);
	assert_int_equal(store_forget_chat(&f->s, CHAT), 1);
	assert_int_equal(exists(&f->s, ID_T), 1);
	assert_int_equal(store_timer_refresh(&f->s, CHAT), 0);
	assert_int_equal(store_timer_get(&f->s, CHAT), 30);
	put(&f->s, ID_B, "text", "still disappears", 3, 3000, NULL);
	assert_int_equal(store_next_expiry(&f->s), 33000);
	assert_int_equal(store_message_each(&f->s, CHAT, 0, count, &n, NULL), 0);
	assert_int_equal(n, 2);
}

/* Durations as chatctl and chat-tui take and show them (chat.h). */
static void
test_durations(void **state)
{
	static const struct {
		const char *in;
		long long s;
	} ok[] = {{"off", 0}, {"0", 0}, {"30", 30}, {"30s", 30}, {"5m", 300}, {"1h", 3600},
		  {"1d", 86400}, {"1w", 604800}, {"90d", 7776000}};
	static const char *const bad[] = {"", "s", "1x", "1hh", "-5", "1.5h", " 1h", "1h ",
					  "9999999999", "OFF"};
	char buf[48];
	long long s;

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		s = -1;
		assert_int_equal(chat_duration_parse(ok[i].in, &s), 0);
		assert_int_equal(s, ok[i].s);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(chat_duration_parse(bad[i], &s), -1);
	assert_int_equal(chat_duration_parse(NULL, &s), -1);
	assert_string_equal(chat_duration_format(0, 0, buf, sizeof buf), "off");
	assert_string_equal(chat_duration_format(30, 0, buf, sizeof buf), "30 seconds");
	assert_string_equal(chat_duration_format(3600, 0, buf, sizeof buf), "1 hour");
	assert_string_equal(chat_duration_format(5400, 0, buf, sizeof buf), "90 minutes");
	assert_string_equal(chat_duration_format(14 * 86400, 0, buf, sizeof buf), "2 weeks");
	assert_string_equal(chat_duration_format(86400, 1, buf, sizeof buf), "1d");
	assert_string_equal(chat_duration_format(90, 1, buf, sizeof buf), "90s");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_round_trip),
		cmocka_unit_test(test_timer_limits),
		cmocka_unit_test(test_timer_malformed),
		cmocka_unit_test_setup_teardown(test_old_message_stays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_any_order_and_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_takes_what_hangs_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_change_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_message_and_latest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ttl_for_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_chat_keeps_the_timer, setup, teardown),
		cmocka_unit_test(test_durations),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
