/*
 * test_server_wire_rate.c - chat-server's rate limits
 * (server-stub/wire_rate.c): the token buckets on a clock the test drives, the
 * gate that keeps requests in order, and the rate_limited reply.
 */
#include "server_fixture.h"

#include "db_sql.h"   /* the store's unavailable flag, set by hand */
#include "util.h"     /* util_mono_us */
#include "wire_req.h" /* req_internal */

/* Token bucket arithmetic, on a clock the test drives. */
static void
test_rate_bucket(void **state)
{
	struct rate_bucket b = {0};
	struct wire_hooks h = {.rate = 20, .rate_bytes = 1000};
	struct session s;
	int64_t t = 5000000; /* any monotonic time */
	int i;

	(void)state;
	/* The first refill fills it to the burst. */
	rate_refill(&b, 10, 40, t);
	assert_true(b.started && b.tokens == 40 && b.last_us == t);
	b.tokens = 0;
	/* 10 per second: one token back after 100 ms; 0.5 token after 50 ms. */
	assert_int_equal(rate_wait_ms(&b, 10), 100);
	rate_refill(&b, 10, 40, t + 50000);
	assert_true(b.tokens > 0.499 && b.tokens < 0.501);
	assert_int_equal(rate_wait_ms(&b, 10), 50);
	rate_refill(&b, 10, 40, t + 100000);
	assert_int_equal(rate_wait_ms(&b, 10), 0);
	/* Never above the burst, however long it was idle. */
	rate_refill(&b, 10, 40, t + 3600000000LL);
	assert_true(b.tokens == 40);
	/* A clock that does not move (or goes back) adds nothing. */
	b.tokens = 0.25;
	rate_refill(&b, 10, 40, t);
	assert_true(b.tokens == 0.25);
	/* Rounded up, and at least 1 ms. */
	assert_int_equal(rate_wait_ms(&b, 10), 75);
	b.tokens = 0.9999999;
	assert_int_equal(rate_wait_ms(&b, 10), 1);
	b.tokens = -5; /* a byte bucket in debt */
	assert_int_equal(rate_wait_ms(&b, 1000), 6);
	b.tokens = 0;
	assert_int_equal(rate_wait_ms(&b, 3), 334);

	/* Both buckets of a session: 20/s (burst 80), 1000 B/s (burst 8000). */
	memset(&s, 0, sizeof s);
	for (i = 0; i < 80; i++)
		assert_int_equal(wire_rate_check(&h, &s, 10, t), 0);
	assert_int_equal(wire_rate_check(&h, &s, 10, t), 50);
	/* Refused requests take nothing. */
	assert_true(s.own.requests.tokens == 0 && s.own.bytes.tokens == 8000 - 800);
	assert_int_equal(wire_rate_check(&h, &s, 10, t + 50000), 0);
	/* The gate keeps the order: request 7 refused, then 8 (sent behind it)
	 * is refused however many tokens there are, until 7 is taken. */
	{
		struct session g;

		memset(&g, 0, sizeof g);
		g.own.requests = (struct rate_bucket){.tokens = 0, .last_us = t, .started = 1};
		assert_true(wire_rate_gate(&h, &g, 1, 7, 10, t) > 0);
		g.own.requests.tokens = 5;
		assert_true(wire_rate_gate(&h, &g, 1, 8, 10, t + 500000) > 0);
		assert_true(wire_rate_gate(&h, &g, 0, 0, 10, t + 500000) > 0);
		assert_true(g.own.requests.tokens >= 5); /* refused: nothing taken */
		assert_int_equal(wire_rate_gate(&h, &g, 1, 7, 10, t + 500000), 0);
		assert_int_equal(wire_rate_gate(&h, &g, 1, 8, 10, t + 500000), 0);
		/* A client that never sends the refused one again is let go. */
		g.own.requests.tokens = -10;
		assert_true(wire_rate_gate(&h, &g, 1, 9, 10, t + 600000) > 0);
		g.own.requests.tokens = 5;
		assert_true(wire_rate_gate(&h, &g, 1, 10, 10, t + 700000) > 0);
		assert_int_equal(wire_rate_gate(&h, &g, 1, 10, 10, t + 31000000), 0);
	}
	/* A frame larger than the burst passes once, then the debt holds. */
	assert_int_equal(wire_rate_check(&h, &s, 9000, t + 1000000), 0);
	assert_true(s.own.bytes.tokens < 0);
	assert_true(wire_rate_check(&h, &s, 1, t + 1000000) > 1000);
	/* Sessions pointed at one pair (a device's connections) share it. */
	{
		struct session s2;
		struct rate_pair shared = {0};

		memset(&s2, 0, sizeof s2);
		s.rate = s2.rate = &shared;
		for (i = 0; i < 40; i++) {
			assert_int_equal(wire_rate_check(&h, &s, 10, t + 9000000), 0);
			assert_int_equal(wire_rate_check(&h, &s2, 10, t + 9000000), 0);
		}
		assert_true(wire_rate_check(&h, &s2, 10, t + 9000000) > 0);
		assert_true(wire_rate_full(&h, &(struct rate_pair){0}));
		assert_false(wire_rate_full(&h, &shared));
		wire_rate_refill(&h, &shared, t + 99000000);
		assert_true(wire_rate_full(&h, &shared));
		s.rate = NULL;
	}
	/* 0 disables a bucket. */
	h.rate = 0;
	h.rate_bytes = 0;
	for (i = 0; i < 1000; i++)
		assert_int_equal(wire_rate_check(&h, &s, 1000000, t), 0);
}

/* A request refused for its rate is not processed: rate_limited, with its
 * id and retryAfterMs, acks included. */
static void
test_rate_limited(void **state)
{
	struct fixture *f = *state;
	struct session s;
	const cJSON *e;
	cJSON *r;
	int i;

	f->hooks.rate = 1; /* burst 4 */
	open_session(f, &s, 1);
	for (i = 1; i <= 4; i++)
		expect_error(call(f, &s, "{\"id\":%d,\"type\":\"getKeys\",\"users\":[]}", i),
			     "unauthenticated", i);
	r = call(f, &s, "{\"id\":5,\"type\":\"ack\",\"messageIds\":[]}");
	e = cJSON_GetObjectItemCaseSensitive(r, "error");
	assert_non_null(e);
	assert_true(num(e, "retryAfterMs") >= 1 && num(e, "retryAfterMs") <= 1000);
	assert_non_null(strstr(str(e, "message"), "too many requests; retry in "));
	expect_error(r, "rate_limited", 5);
	/* Not even readable: still refused, id null. */
	expect_error(call(f, &s, "[1,2]"), "rate_limited", 0);
	/* Other sessions have their own buckets. */
	{
		struct session other;

		open_session(f, &other, 2);
		expect_error(call(f, &other, "{\"id\":1,\"type\":\"getKeys\",\"users\":[]}"),
			     "unauthenticated", 1);
	}
	assert_int_equal(f->n_auth, 0);
}

/* A request answered unavailable (the store out of reach, or a deadlock
 * between two instances' commits that PostgreSQL broke off) holds back the
 * connection's requests behind it, as a rate_limited one does: a send taken
 * now would overtake it in its chat (issue 16, cluster-live.sh). */
static void
test_unavailable_holds(void **state)
{
	struct fixture *f = *state;
	struct session s;
	struct req r = {.h = &f->hooks, .s = &s, .has_id = 1, .id = 7};
	int64_t t;

	memset(&s, 0, sizeof s);
	f->db->unavailable = 1;
	req_internal(&r);
	f->db->unavailable = 0;
	assert_string_equal(r.err_code, "unavailable");
	t = util_mono_us();
	/* 8, sent behind 7, waits (about the retryAfterMs); 7 goes, then 8. */
	assert_true(wire_rate_gate(&f->hooks, &s, 1, 8, 10, t) > 0);
	assert_true(wire_rate_gate(&f->hooks, &s, 0, 0, 10, t) > 0);
	assert_int_equal(wire_rate_gate(&f->hooks, &s, 1, 7, 10, t), 0);
	assert_int_equal(wire_rate_gate(&f->hooks, &s, 1, 8, 10, t), 0);
	cJSON_Delete(r.err_extra);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_bucket),
		cmocka_unit_test_setup_teardown(test_rate_limited, setup_wire, teardown),
		cmocka_unit_test_setup_teardown(test_unavailable_holds, setup_wire, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
