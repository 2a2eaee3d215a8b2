/*
 * test_server_bus.c - what chat-server instances tell each other over
 * Redis (--bus; bus_msg.h): channel names and messages made and read back,
 * everything malformed refused, lengths bounded; and --bus's URL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bus.h"
#include "bus_msg.h"

#define NONCE "0123456789abcdef"

static int
parse(const char *s, struct bus_msg *m)
{
	return bus_msg_parse(s, strlen(s), m);
}

static void
test_messages_round_trip(void **state)
{
	struct bus_msg m = {.kind = BUS_TAKEOVER, .conn_id = 42, .at_ms = 1795000000123LL}, got;
	char *text;

	(void)state;
	memcpy(m.nonce, NONCE, sizeof m.nonce);
	text = bus_msg_format(&m);
	assert_non_null(text);
	assert_string_equal(text, "takeover " NONCE " 42 1795000000123");
	assert_int_equal(parse(text, &got), 0);
	assert_int_equal(got.kind, BUS_TAKEOVER);
	assert_string_equal(got.nonce, NONCE);
	assert_int_equal(got.conn_id, 42);
	assert_int_equal(got.at_ms, 1795000000123LL);
	free(text);

	m = (struct bus_msg){.kind = BUS_PUSH,
			     .frame = "{\"type\":\"blocked\",\"users\":[\"a b\"]}"};
	memcpy(m.nonce, NONCE, sizeof m.nonce);
	text = bus_msg_format(&m);
	assert_non_null(text);
	assert_int_equal(parse(text, &got), 0);
	assert_int_equal(got.kind, BUS_PUSH);
	/* The frame is the rest of the message, spaces and all. */
	assert_int_equal(got.frame_len, strlen(m.frame));
	assert_memory_equal(got.frame, m.frame, got.frame_len);
	free(text);

	assert_int_equal(parse("wake " NONCE, &got), 0);
	assert_int_equal(got.kind, BUS_WAKE);
	assert_null(got.frame);
	assert_int_equal(parse("removed " NONCE, &got), 0);
	assert_int_equal(got.kind, BUS_REMOVED);
	assert_int_equal(parse("prekeys " NONCE, &got), 0);
	assert_int_equal(parse("eph " NONCE " {}", &got), 0);
	assert_int_equal(got.kind, BUS_EPH);
}

static void
test_malformed_messages_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"wake",
		"wake ",
		"wake " NONCE " ",
		"wake  " NONCE,
		"wake " NONCE " extra",
		"Wake " NONCE,
		"wake 0123456789ABCDEF",
		"wake 0123456789abcde",
		"wake 0123456789abcdef0",
		"sleep " NONCE,
		"takeover " NONCE,
		"takeover " NONCE " 42",
		"takeover " NONCE " 42 ",
		"takeover " NONCE " 042 1",
		"takeover " NONCE " -1 1",
		"takeover " NONCE " 1 9223372036854775808",
		"takeover " NONCE " 18446744073709551616 1",
		"takeover " NONCE " 1 1 1",
		"eph " NONCE,
		"eph " NONCE " ",
		"eph " NONCE " [1]",
		"eph " NONCE " {\"a\":\n1}",
		"push " NONCE " not json",
	};
	struct bus_msg m;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(parse(bad[i], &m), -1);
	/* A NUL inside a frame, and a message past the bound. */
	assert_int_equal(bus_msg_parse("eph " NONCE " {\0}", sizeof "eph " NONCE " {\0}" - 1, &m),
			 -1);
	{
		size_t len = BUS_MSG_MAX + 1;
		char *big = malloc(len);

		assert_non_null(big);
		memset(big, 'x', len);
		memcpy(big, "push " NONCE " {", sizeof "push " NONCE " {" - 1);
		assert_int_equal(bus_msg_parse(big, len, &m), -1);
		assert_int_equal(bus_msg_parse(big, BUS_MSG_MAX, &m), 0);
		free(big);
	}
}

static void
test_format_refuses_what_cannot_be_read(void **state)
{
	struct bus_msg m = {.kind = BUS_EPH, .frame = "{\"a\":\n1}"};

	(void)state;
	memcpy(m.nonce, NONCE, sizeof m.nonce);
	assert_null(bus_msg_format(&m)); /* a newline */
	m.frame = "[1]";
	assert_null(bus_msg_format(&m));
	m.frame = NULL;
	assert_null(bus_msg_format(&m));
	m = (struct bus_msg){.kind = BUS_WAKE};
	memcpy(m.nonce, "not a nonce!!!!!", sizeof m.nonce);
	assert_null(bus_msg_format(&m));
}

static void
test_channels(void **state)
{
	struct bus_channel c;
	char name[BUS_CHANNEL_MAX + 1];

	(void)state;
	assert_int_equal(bus_channel_name(name, sizeof name, "alice", 3), 0);
	assert_string_equal(name, "chat:d:alice:3");
	assert_int_equal(bus_channel_parse(name, strlen(name), &c), 0);
	assert_string_equal(c.user, "alice");
	assert_int_equal(c.device_id, 3);
	assert_int_equal(bus_channel_name(name, sizeof name, "bob.x-1", 0), 0);
	assert_string_equal(name, "chat:u:bob.x-1");
	assert_int_equal(bus_channel_parse(name, strlen(name), &c), 0);
	assert_string_equal(c.user, "bob.x-1");
	assert_int_equal(c.device_id, 0);
	assert_int_equal(bus_channel_name(name, sizeof name, "Alice", 1), -1);
	assert_int_equal(bus_channel_name(name, sizeof name, "alice:1", 1), -1);
	/* The longest user and device id fit. */
	assert_int_equal(bus_channel_name(name, sizeof name, "abcdefghijabcdefghijabcdefghijab",
					  4294967295u),
			 0);

	static const char *const bad[] = {
		"chat:d:alice",   "chat:d:alice:",
		"chat:d:alice:0", "chat:d:alice:01",
		"chat:d::1",      "chat:u:",
		"chat:u:alice:1", "chat:x:alice",
		"chat:d:Alice:1", "chat:d:alice:4294967296",
		"chat:o:alice:1", "chat:d:alice:1:2",
		"chat",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(bus_channel_parse(bad[i], strlen(bad[i]), &c), -1);
	/* A NUL inside (make fuzz found it read as the name before it). */
	assert_int_equal(bus_channel_parse("chat:u:b\0ob", 11, &c), -1);
	assert_int_equal(bus_channel_parse("chat:d:b\0:1", 11, &c), -1);
}

static void
test_url(void **state)
{
	char host[64];
	int port, db;

	(void)state;
	assert_int_equal(bus_parse_url("redis://127.0.0.1:6379", host, sizeof host, &port, &db), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 6379);
	assert_int_equal(db, 0);
	assert_int_equal(
		bus_parse_url("redis://cache.example:7000/15", host, sizeof host, &port, &db), 0);
	assert_string_equal(host, "cache.example");
	assert_int_equal(db, 15);
	assert_int_equal(bus_parse_url("redis://[::1]:6380/2", host, sizeof host, &port, &db), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 6380);
	assert_int_equal(db, 2);

	static const char *const bad[] = {
		"127.0.0.1:6379",      "redis://127.0.0.1", "redis://127.0.0.1:", "redis://:6379",
		"redis://h:0",         "redis://h:65536",   "redis://h:6379/16",  "redis://h:6379/",
		"redis://h:6379/x",    "redis://::1:6379",  "redis://[::1]6379",  "rediss://h:6379",
		"redis://user@h:6379", "redis://h:63a9",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(bus_parse_url(bad[i], host, sizeof host, &port, &db), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_messages_round_trip),
		cmocka_unit_test(test_malformed_messages_refused),
		cmocka_unit_test(test_format_refuses_what_cannot_be_read),
		cmocka_unit_test(test_channels),
		cmocka_unit_test(test_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
