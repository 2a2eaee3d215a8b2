/*
 * test_disappearing.c - disappearing messages (PROTOCOL.md, "Disappearing
 * messages"): the 0x0a timer body's builder and strict parser
 * (client-lib/timer_body.c): 0 (off) or 30 seconds .. 90 days, a whole
 * number, nothing else taken.
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

#include "reply.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_round_trip),
		cmocka_unit_test(test_timer_limits),
		cmocka_unit_test(test_timer_malformed),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
