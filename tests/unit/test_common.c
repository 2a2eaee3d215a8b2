/*
 * test_common.c - the protocol's forms, written once in common/proto.c for
 * libchat and chat-server both: user names, hex ids, UTF-8, base64 (bare
 * and as JSON fields), the scrub of JSON texts, URLs and the server's name a
 * device signs, the heartbeat's ping time, times; and protocol.h's constants
 * where two of them must agree. (The crypto of common/ is test_crypto.c's
 * and test_devices.c's, with known answers.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "proto.h"
#include "protocol.h"

static void
test_user_names(void **state)
{
	(void)state;
	assert_true(proto_valid_user("alice"));
	assert_true(proto_valid_user("a"));
	assert_true(proto_valid_user("0x.y_z-9"));
	assert_true(proto_valid_user("abcdefghijklmnopqrstuvwxyz012345"));   /* 32 */
	assert_false(proto_valid_user("abcdefghijklmnopqrstuvwxyz0123456")); /* 33 */
	assert_false(proto_valid_user(""));
	assert_false(proto_valid_user(NULL));
	assert_false(proto_valid_user("Alice"));
	assert_false(proto_valid_user(".alice"));
	assert_false(proto_valid_user("-alice"));
	assert_false(proto_valid_user("al ice"));
	assert_false(proto_valid_user("al/ice"));
	assert_false(proto_valid_user("al\xc3\xa9"));
}

static void
test_hex_ids(void **state)
{
	(void)state;
	assert_true(proto_valid_hex("0123456789abcdef", 16));
	assert_false(proto_valid_hex("0123456789ABCDEF", 16));
	assert_false(proto_valid_hex("0123456789abcde", 16));
	assert_false(proto_valid_hex("0123456789abcdef0", 16));
	assert_false(proto_valid_hex("0123456789abcdeg", 16));
	assert_false(proto_valid_hex(NULL, 16));
}

static void
test_get_int(void **state)
{
	cJSON *o = cJSON_Parse("{\"a\":5,\"b\":5.5,\"c\":\"5\",\"d\":-1,\"e\":9007199254740992}");
	int64_t v;

	(void)state;
	assert_int_equal(proto_get_int(o, "a", 0, 10, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(proto_get_int(o, "a", 6, 10, &v), -1); /* below min */
	assert_int_equal(proto_get_int(o, "b", 0, 10, &v), -1); /* not an integer */
	assert_int_equal(proto_get_int(o, "c", 0, 10, &v), -1); /* a string */
	assert_int_equal(proto_get_int(o, "d", 0, 10, &v), -1);
	assert_int_equal(proto_get_int(o, "e", 0, INT64_MAX / 2, &v), 0);
	assert_int_equal(proto_get_int(o, "missing", 0, 10, &v), -1);
	cJSON_Delete(o);
}

/* Scrub a copy of the C string in, compare with want, return the flags. */
static unsigned
scrub_as(const char *in, const char *want)
{
	char buf[256];
	size_t n = strlen(in);
	unsigned flags, checked = proto_json_check(in, n);

	assert_true(n < sizeof buf);
	memcpy(buf, in, n + 1);
	flags = proto_json_scrub(buf, n);
	assert_int_equal(flags, checked); /* the same walk, with and without rewriting */
	assert_string_equal(buf, want);
	return flags;
}

static void
test_json_scrub(void **state)
{
	cJSON *o;
	char raw[] = "{\"a\":\"x\0y\"}";

	(void)state;
	/* Nothing to do: the text is left as it is. */
	assert_int_equal(scrub_as("{\"user\":\"bob\"}", "{\"user\":\"bob\"}"), 0);
	assert_int_equal(
		scrub_as("{\"a\":\"\\u00e9\\ud83d\\ude00\"}", "{\"a\":\"\\u00e9\\ud83d\\ude00\"}"),
		0); /* a pair is a character */
	/* U+0000, in a value or in a key, any case of the digits around it. */
	assert_int_equal(scrub_as("{\"user\":\"bob\\u0000x\"}", "{\"user\":\"bob\\uFFFDx\"}"),
			 PROTO_SCRUB_NUL);
	assert_int_equal(scrub_as("{\"a\\u0000\":1}", "{\"a\\uFFFD\":1}"), PROTO_SCRUB_NUL);
	/* An escaped backslash, then text: not an escape. */
	assert_int_equal(scrub_as("{\"a\":\"\\\\u0000\"}", "{\"a\":\"\\\\u0000\"}"), 0);
	assert_int_equal(scrub_as("{\"a\":\"\\\\\\u0000\"}", "{\"a\":\"\\\\\\uFFFD\"}"),
			 PROTO_SCRUB_NUL);
	/* Lone surrogates: a high one alone or before anything but a low one, a
	 * low one first; the pair after a lone high is kept. */
	assert_int_equal(scrub_as("{\"id\":7,\"a\":\"\\ud800\"}", "{\"id\":7,\"a\":\"\\uFFFD\"}"),
			 PROTO_SCRUB_SURROGATE);
	assert_int_equal(scrub_as("{\"a\":\"\\uDBFFx\"}", "{\"a\":\"\\uFFFDx\"}"),
			 PROTO_SCRUB_SURROGATE);
	assert_int_equal(scrub_as("{\"a\":\"\\udc00\\ud800\"}", "{\"a\":\"\\uFFFD\\uFFFD\"}"),
			 PROTO_SCRUB_SURROGATE);
	assert_int_equal(
		scrub_as("{\"a\":\"\\ud800\\ud800\\udc00\"}", "{\"a\":\"\\uFFFD\\ud800\\udc00\"}"),
		PROTO_SCRUB_SURROGATE);
	assert_int_equal(scrub_as("{\"a\":\"\\ud800\\u0000\"}", "{\"a\":\"\\uFFFD\\uFFFD\"}"),
			 PROTO_SCRUB_NUL | PROTO_SCRUB_SURROGATE);
	/* Cut short: left for the parser to refuse. */
	assert_int_equal(scrub_as("{\"a\":\"\\u000", "{\"a\":\"\\u000"), 0);
	assert_int_equal(scrub_as("{\"a\":\"\\ud800\\u", "{\"a\":\"\\uFFFD\\u"),
			 PROTO_SCRUB_SURROGATE);
	/* A raw NUL byte becomes a space, so the rest can still be read. */
	assert_int_equal(proto_json_scrub(raw, sizeof raw - 1), PROTO_SCRUB_NUL);
	assert_memory_equal(raw, "{\"a\":\"x y\"}", sizeof raw);
	/* What comes out parses, and the strings hold U+FFFD where the bad
	 * escape was, whole: nothing is cut. */
	{
		char t[] = "{\"id\":9,\"user\":\"bob\\u0000x\",\"n\":\"\\udfff!\"}";

		assert_int_equal(proto_json_scrub(t, strlen(t)),
				 PROTO_SCRUB_NUL | PROTO_SCRUB_SURROGATE);
		o = cJSON_Parse(t);
		assert_non_null(o);
		assert_string_equal(proto_get_str(o, "user"), "bob\xef\xbf\xbdx");
		assert_string_equal(proto_get_str(o, "n"), "\xef\xbf\xbd!");
		cJSON_Delete(o);
	}
	assert_string_equal(proto_scrub_reason(PROTO_SCRUB_NUL | PROTO_SCRUB_SURROGATE),
			    "a string holds U+0000");
	assert_string_equal(proto_scrub_reason(PROTO_SCRUB_SURROGATE),
			    "a string holds a lone surrogate");
}

static void
test_b64_bounds(void **state)
{
	uint8_t raw[40], out[64];
	size_t len;
	cJSON *o = cJSON_CreateObject();

	(void)state;
	for (size_t i = 0; i < sizeof raw; i++)
		raw[i] = (uint8_t)i;
	assert_int_equal(proto_add_b64(o, "k32", raw, 32), 0);
	assert_int_equal(proto_add_b64(o, "k40", raw, 40), 0);
	cJSON_AddStringToObject(o, "junk", "not*base64!");
	cJSON_AddNumberToObject(o, "num", 3);
	/* Exact sizes. */
	assert_int_equal(proto_get_b64(o, "k32", out, 32, 0, NULL), 0);
	assert_memory_equal(out, raw, 32);
	assert_int_equal(proto_get_b64(o, "k40", out, 32, 0, NULL), -1);
	assert_int_equal(proto_get_b64(o, "k32", out, 24, 0, NULL), -1);
	/* Bounded sizes: never write past cap. */
	assert_int_equal(proto_get_b64(o, "k40", out, 0, 64, &len), 0);
	assert_int_equal(len, 40);
	assert_int_equal(proto_get_b64(o, "k40", out, 0, 39, &len), -1);
	assert_int_equal(proto_get_b64(o, "junk", out, 0, 64, &len), -1);
	assert_int_equal(proto_get_b64(o, "num", out, 0, 64, &len), -1);
	assert_int_equal(proto_get_b64(o, "missing", out, 0, 64, &len), -1);
	cJSON_Delete(o);
}

static void
test_rfc3339(void **state)
{
	char buf[32];

	(void)state;
	proto_rfc3339(0, buf, sizeof buf);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	proto_rfc3339(1795000000123LL, buf, sizeof buf);
	assert_string_equal(buf, "2026-11-18T11:06:40.123Z");
}

static void
test_parse_url(void **state)
{
	struct proto_url u;
	char long_host[300], long_path[600];

	(void)state;
	assert_int_equal(proto_parse_url("ws://127.0.0.1:8700/", &u), PROTO_URL_OK);
	assert_int_equal(u.tls, 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 8700);
	assert_string_equal(u.path, "/");
	assert_int_equal(proto_parse_url("ws://chat.example", &u), PROTO_URL_OK);
	assert_int_equal(u.port, 80);
	assert_string_equal(u.path, "/");
	/* wss://: TLS, port 443 unless given. */
	assert_int_equal(proto_parse_url("wss://localhost:8443/", &u), PROTO_URL_OK);
	assert_int_equal(u.tls, 1);
	assert_string_equal(u.host, "localhost");
	assert_int_equal(u.port, 8443);
	assert_int_equal(proto_parse_url("wss://chat.example/chat/v1", &u), PROTO_URL_OK);
	assert_int_equal(u.tls, 1);
	assert_string_equal(u.host, "chat.example");
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/chat/v1");
	assert_int_equal(proto_parse_url("wss://chat.example", &u), PROTO_URL_OK);
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/");
	/* What is refused. */
	assert_int_equal(proto_parse_url(NULL, &u), PROTO_URL_SCHEME);
	assert_int_equal(proto_parse_url("https://chat.example/", &u), PROTO_URL_SCHEME);
	assert_int_equal(proto_parse_url("WSS://chat.example/", &u), PROTO_URL_SCHEME);
	assert_int_equal(proto_parse_url("wss:/chat.example/", &u), PROTO_URL_SCHEME);
	assert_int_equal(proto_parse_url("wss://", &u), PROTO_URL_HOST);
	assert_int_equal(proto_parse_url("wss:///x", &u), PROTO_URL_HOST);
	assert_int_equal(proto_parse_url("wss://:443/", &u), PROTO_URL_HOST);
	assert_int_equal(proto_parse_url("wss://h:/", &u), PROTO_URL_PORT);
	assert_int_equal(proto_parse_url("wss://h:0/", &u), PROTO_URL_PORT);
	assert_int_equal(proto_parse_url("wss://h:65536/", &u), PROTO_URL_PORT);
	assert_int_equal(proto_parse_url("wss://h:+443/", &u), PROTO_URL_PORT);
	assert_int_equal(proto_parse_url("wss://h: 443/", &u), PROTO_URL_PORT);
	assert_int_equal(proto_parse_url("wss://h:4a/", &u), PROTO_URL_PORT);
	assert_int_equal(proto_parse_url("wss://h:0000443/", &u), PROTO_URL_PORT);
	assert_int_equal(proto_parse_url("ws://h:65535", &u), PROTO_URL_OK);
	assert_int_equal(u.port, 65535);
	/* IPv6 addresses, in brackets (RFC 3986): host without them. */
	assert_int_equal(proto_parse_url("ws://[::1]:8700/", &u), PROTO_URL_OK);
	assert_int_equal(u.ipv6, 1);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 8700);
	assert_string_equal(u.path, "/");
	assert_int_equal(proto_parse_url("wss://[2001:db8::7]/chat", &u), PROTO_URL_OK);
	assert_int_equal(u.ipv6, 1);
	assert_string_equal(u.host, "2001:db8::7");
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/chat");
	assert_int_equal(proto_parse_url("ws://127.0.0.1:1/", &u), PROTO_URL_OK);
	assert_int_equal(u.ipv6, 0);
	assert_int_equal(proto_parse_url("ws://::1:8700/", &u), PROTO_URL_IPV6);
	assert_int_equal(proto_parse_url("ws://[::1:8700/", &u), PROTO_URL_HOST);
	assert_int_equal(proto_parse_url("ws://[]:8700/", &u), PROTO_URL_HOST);
	assert_int_equal(proto_parse_url("ws://[chat.example]:8700/", &u), PROTO_URL_HOST);
	assert_int_equal(proto_parse_url("ws://[::1]x/", &u), PROTO_URL_PORT);
	assert_int_equal(proto_parse_url("ws://[::1]:/", &u), PROTO_URL_PORT);
	assert_int_equal(proto_parse_url("ws://[::1]:65536/", &u), PROTO_URL_PORT);
	memset(long_host, 'a', sizeof long_host - 1);
	long_host[sizeof long_host - 1] = '\0';
	memcpy(long_host, "wss://", 6);
	assert_int_equal(proto_parse_url(long_host, &u), PROTO_URL_HOST);
	memset(long_path, 'p', sizeof long_path - 1);
	long_path[sizeof long_path - 1] = '\0';
	memcpy(long_path, "wss://h/", 8);
	assert_int_equal(proto_parse_url(long_path, &u), PROTO_URL_PATH);
}

/* The server's name as a device signs it, from the URL it was given. */
static void
test_server_name(void **state)
{
	static const struct {
		const char *url, *want;
	} cases[] = {
		{"ws://127.0.0.1:8700/", "127.0.0.1:8700"},
		{"ws://Chat.Example.ORG/", "chat.example.org:80"},
		{"wss://chat.example.org", "chat.example.org:443"},
		{"wss://chat.example.org:8443/chat", "chat.example.org:8443"},
		{"ws://localhost:9/", "localhost:9"},
	};
	struct proto_url u;
	char name[PROTO_SERVER_NAME_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		assert_int_equal(proto_parse_url(cases[i].url, &u), PROTO_URL_OK);
		assert_int_equal(proto_server_name(u.host, u.port, name, sizeof name), 0);
		assert_string_equal(name, cases[i].want);
	}
	/* IPv6 hosts, however the URL parser hands them over: bracketed, in
	 * inet_ntop's one spelling. */
	memset(&u, 0, sizeof u);
	u.port = 8700;
	snprintf(u.host, sizeof u.host, "::1");
	assert_int_equal(proto_server_name(u.host, u.port, name, sizeof name), 0);
	assert_string_equal(name, "[::1]:8700");
	snprintf(u.host, sizeof u.host, "[0:0:0:0:0:0:0:1]");
	assert_int_equal(proto_server_name(u.host, u.port, name, sizeof name), 0);
	assert_string_equal(name, "[::1]:8700");
	snprintf(u.host, sizeof u.host, "[2001:DB8::A]");
	assert_int_equal(proto_server_name(u.host, u.port, name, sizeof name), 0);
	assert_string_equal(name, "[2001:db8::a]:8700");
	snprintf(u.host, sizeof u.host, "[not:an:address]");
	assert_int_equal(proto_server_name(u.host, u.port, name, sizeof name), -1);
	snprintf(u.host, sizeof u.host, "a.example");
	assert_int_equal(proto_server_name(u.host, u.port, name, 5), -1);
}

/* The same rule, given a host and a port as chat-server's --name and
 * --listen give them: brackets mean an IPv6 address, a colon does too, the
 * port is always written, and a name is at most 300 bytes. */
static void
test_server_name_parts(void **state)
{
	char name[PROTO_SERVER_NAME_MAX + 1], host[PROTO_SERVER_NAME_MAX + 2];

	(void)state;
	assert_int_equal(proto_server_name("Chat.Example.ORG", 443, name, sizeof name), 0);
	assert_string_equal(name, "chat.example.org:443");
	assert_int_equal(proto_server_name("0:0::1", 9, name, sizeof name), 0);
	assert_string_equal(name, "[::1]:9");
	assert_int_equal(proto_server_name("[abc]", 9, name, sizeof name), -1);
	assert_int_equal(proto_server_name("[]", 9, name, sizeof name), -1);
	assert_int_equal(proto_server_name("", 9, name, sizeof name), -1);
	assert_int_equal(proto_server_name(NULL, 9, name, sizeof name), -1);
	assert_int_equal(proto_server_name("h", 0, name, sizeof name), -1);
	assert_int_equal(proto_server_name("h", 65536, name, sizeof name), -1);
	assert_int_equal(proto_server_name("h", 65535, name, sizeof name), 0);
	assert_string_equal(name, "h:65535");
	/* 295 letters and ":8700" make 300 bytes, the most; one more is too long. */
	memset(host, 'a', 295);
	host[295] = '\0';
	assert_int_equal(proto_server_name(host, 8700, name, sizeof name), 0);
	assert_int_equal(strlen(name), PROTO_SERVER_NAME_MAX);
	memset(host, 'a', 296);
	host[296] = '\0';
	assert_int_equal(proto_server_name(host, 8700, name, sizeof name), -1);
}

static void
test_utf8(void **state)
{
	static const struct {
		const char *s;
		int ok;
	} cases[] = {
		{"climbing", 1},
		{"caf\xc3\xa9", 1},
		{"\xe2\x82\xac", 1},     /* U+20AC */
		{"\xf0\x9f\xa7\x97", 1}, /* U+1F9D7 */
		{"\xf4\x8f\xbf\xbf", 1}, /* U+10FFFF */
		{"\xc3\x28", 0},         /* a lead without its continuation */
		{"\xc3", 0},             /* cut short */
		{"\x80", 0},             /* a lone continuation */
		{"\xc0\xaf", 0},         /* overlong "/" */
		{"\xe0\x80\xaf", 0},     /* overlong, three bytes */
		{"\xed\xa0\x80", 0},     /* a surrogate, U+D800 */
		{"\xf4\x90\x80\x80", 0}, /* above U+10FFFF */
		{"\xff", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(proto_valid_utf8(cases[i].s, strlen(cases[i].s)), cases[i].ok);
	/* The length decides where the text ends, and a NUL byte in it is no
	 * text: a string holding U+0000 is refused (PROTOCOL.md, "Frames"). */
	assert_int_equal(proto_valid_utf8("ab", 2), 1);
	assert_int_equal(proto_valid_utf8("\xc3\xa9x", 2), 1);
	assert_int_equal(proto_valid_utf8("\xc3\xa9x", 1), 0);
	assert_int_equal(proto_valid_utf8("a\0b", 3), 0);
	assert_int_equal(proto_valid_utf8("", 0), 1);
}

/* Bare base64, as chat-server reads and writes it: exact round trips, the
 * bound checked before decoding, and nothing but canonical padded text. */
static void
test_b64(void **state)
{
	uint8_t raw[64], out[64];
	size_t len = 99;
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof raw; i++)
		raw[i] = (uint8_t)(i * 7);
	for (size_t n = 0; n <= sizeof raw; n++) {
		s = proto_b64_encode(raw, n);
		assert_non_null(s);
		assert_int_equal(strlen(s), proto_b64_len(n));
		assert_int_equal(proto_b64_decode(s, out, n, &len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(out, raw, n);
		if (n > 0) /* one byte short of room */
			assert_int_equal(proto_b64_decode(s, out, n - 1, &len), -1);
		free(s);
	}
	assert_int_equal(proto_b64_len(32), 44);
	assert_int_equal(proto_b64_decode("AAAA", out, 3, &len), 0);
	assert_int_equal(len, 3);
	assert_int_equal(proto_b64_decode("AAA", out, 3, &len), -1);   /* no padding */
	assert_int_equal(proto_b64_decode("AB==", out, 3, &len), -1);  /* bits past the end */
	assert_int_equal(proto_b64_decode("AA==x", out, 3, &len), -1); /* trailing garbage */
	assert_int_equal(proto_b64_decode("AA-_", out, 3, &len), -1);  /* the URL alphabet */
	assert_int_equal(proto_b64_decode("", out, 3, &len), 0);
	assert_int_equal(len, 0);
}

/* The ping time of a hangup time, the same on both sides. */
static void
test_heartbeat_ping(void **state)
{
	(void)state;
	assert_int_equal(proto_heartbeat_ping(PROTO_HEARTBEAT_DEFAULT), 10);
	assert_int_equal(proto_heartbeat_ping(PROTO_HEARTBEAT_MIN), 1);
	assert_int_equal(proto_heartbeat_ping(3), 1);
	assert_int_equal(proto_heartbeat_ping(5), 2);
	assert_int_equal(proto_heartbeat_ping(PROTO_HEARTBEAT_MAX), 1440);
}

/* Limits that follow from others, as PROTOCOL.md's "Limits" table states
 * them. */
static void
test_limits(void **state)
{
	(void)state;
	assert_int_equal(PROTO_MAX_PADDED, 66544);
	assert_int_equal(PROTO_MAX_PLAINTEXT, 66543);
	assert_int_equal(PROTO_MAX_ENVELOPES, 300);
	assert_int_equal(PROTO_MAX_MODIFY, 99);
	assert_int_equal(PROTO_RECEIPT_ID_BYTES, 16);
	assert_true(PROTO_MAX_TEXT + 1 <= PROTO_MAX_PLAINTEXT); /* a text body fits an envelope */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_names),     cmocka_unit_test(test_hex_ids),
		cmocka_unit_test(test_utf8),           cmocka_unit_test(test_b64),
		cmocka_unit_test(test_b64_bounds),     cmocka_unit_test(test_get_int),
		cmocka_unit_test(test_json_scrub),     cmocka_unit_test(test_parse_url),
		cmocka_unit_test(test_server_name),    cmocka_unit_test(test_server_name_parts),
		cmocka_unit_test(test_heartbeat_ping), cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
