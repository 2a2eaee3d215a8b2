/*
 * test_mention.c - "@name" mentions (client-lib/mention.c): which words of a
 * text mention which members, the rule chatctl and chat-tui flag.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mention.h"

static const char *const members[] = {"alice", "al", "bob", "bob.smith", "carol-ann", "dave_"};
#define N_MEMBERS (sizeof members / sizeof members[0])

/* The members text mentions, joined by ',', and whether it mentions me. */
static int
scan(const char *text, const char *me, char *got, size_t cap)
{
	const char *out[8];
	int m = -1;
	size_t n = mention_scan(text, strlen(text), members, N_MEMBERS, me, &m, out, 8);

	got[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i)
			strncat(got, ",", cap - strlen(got) - 1);
		strncat(got, out[i], cap - strlen(got) - 1);
	}
	return m;
}

static void
check(const char *text, const char *want)
{
	char got[128];

	(void)scan(text, NULL, got, sizeof got);
	assert_string_equal(got, want);
}

static void
test_boundaries(void **state)
{
	(void)state;
	check("@bob hi", "bob");
	check("hi @bob", "bob");
	check("hi\n@bob", "bob");
	check("(@bob)", "bob");
	check("hi,@bob", "bob");
	check("bob@bob.example", ""); /* an address, no mention */
	check("x@bob", "");
	check("@@bob", "");
	check("@ bob", "");
	check("@", "");
	check("bob", "");
	check("", "");
}

static void
test_case_and_punctuation(void **state)
{
	(void)state;
	check("@Bob", "bob");
	check("@BOB!", "bob");
	check("@bob.", "bob");
	check("@bob, hi", "bob");
	check("@bob: look", "bob");
	check("@bob?", "bob");
	check("@bob-", "bob");
	check("@bob...", "bob");
	check("@carol-ann.", "carol-ann");
	check("@dave_ hi", "dave_"); /* '_' at the end of a name that has it */
	check("@dave", "");          /* no member is dave */
	check("@bob's", "bob");      /* an apostrophe ends the word */
}

static void
test_prefixes(void **state)
{
	(void)state;
	check("@al", "al");
	check("@alice", "alice");
	check("@ali", "");
	check("@alicex", "");
	check("@bob.smith", "bob.smith");
	check("@bob.smithy", ""); /* not bob either: one word */
	check("@bob.smith.", "bob.smith");
	check("@carol", "");
	check("@alice @al @alice", "alice,al"); /* each once, first mention first */
}

static void
test_utf8(void **state)
{
	(void)state;
	check("@bob\xc3\xa9", ""); /* "@bobé": a longer word */
	check("\xc3\xa9@bob", ""); /* after a letter */
	check("caf\xc3\xa9 @bob \xe2\x9c\x93", "bob");
	check("\xe2\x80\x94 @alice", "alice"); /* after a space, after a dash */
	check("@\xc3\xa9", "");
}

static void
test_me(void **state)
{
	char got[128];

	(void)state;
	assert_int_equal(scan("hi @bob", "bob", got, sizeof got), 1);
	assert_int_equal(scan("hi @Bob!", "bob", got, sizeof got), 1);
	assert_int_equal(scan("hi @bob.smith", "bob", got, sizeof got), 0);
	assert_int_equal(scan("hi @alice", "bob", got, sizeof got), 0);
	assert_int_equal(scan("hi bob", "bob", got, sizeof got), 0);
	/* me is found by name even when no out[] is given */
	{
		int m = 0;

		assert_int_equal(mention_scan("@al x", 5, members, N_MEMBERS, "al", &m, NULL, 0),
				 0);
		assert_int_equal(m, 1);
	}
	/* a non-member's name mentions no one, even "me" when not a member */
	{
		const char *const two[] = {"ann", "ben"};
		int m = 1;

		assert_int_equal(mention_scan("@zed", 4, two, 2, "zed", &m, NULL, 0), 0);
		assert_int_equal(m, 0);
	}
	/* a length shorter than the string: what lies beyond is not looked at */
	{
		int m = 0;

		(void)mention_scan("@bobby", 4, members, N_MEMBERS, "bob", &m, NULL, 0);
		assert_int_equal(m, 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boundaries), cmocka_unit_test(test_case_and_punctuation),
		cmocka_unit_test(test_prefixes),   cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_me),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
