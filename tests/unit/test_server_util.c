/*
 * test_server_util.c - chat-server's small modules: durations and the purge's
 * interval (util.c, server_limits.c), the server's names (names.c),
 * per-address accounting (addr.c), and the log's lines (util.c).
 */
#include "server_fixture.h"
#include <arpa/inet.h>

#include "addr.h"
#include "config.h"
#include "server.h"

/* --retention's form, and how often the purge runs. */
static void
test_durations(void **state)
{
	static const char *const bad[] = {"",
					  "0s",
					  "10",
					  "5w",
					  "-1d",
					  "1.5h",
					  "1h2",
					  "s",
					  " 1s",
					  "36501d",
					  "99999999999999999999s"};
	int64_t ms;
	size_t i;

	(void)state;
	assert_int_equal(util_parse_duration("90s", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(util_parse_duration("2m", &ms), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(util_parse_duration("12h", &ms), 0);
	assert_int_equal(ms, 12LL * 3600 * 1000);
	assert_int_equal(util_parse_duration("30d", &ms), 0);
	assert_int_equal(ms, 30LL * 86400 * 1000);
	assert_int_equal(util_parse_duration("36500d", &ms), 0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(util_parse_duration(bad[i], &ms), -1);
	/* Half the retention, from 1 s to 1 hour. */
	assert_int_equal(server_purge_interval_ms(1000), 1000);
	assert_int_equal(server_purge_interval_ms(2000), 1000);
	assert_int_equal(server_purge_interval_ms(90000), 45000);
	assert_int_equal(server_purge_interval_ms(30LL * 86400 * 1000), 3600 * 1000);
}

/* The names a server answers to (names.c): one spelling each, --name's
 * form, and what follows from --listen. */
static void
test_server_names(void **state)
{
	static const struct {
		const char *arg;
		int port;
		const char *want; /* NULL: refused */
	} parse[] = {
		{"chat.example.org", 443, "chat.example.org:443"},
		{"Chat.Example.ORG:8443", 443, "chat.example.org:8443"},
		{"127.0.0.1:8700", 80, "127.0.0.1:8700"},
		{"localhost", 80, "localhost:80"},
		{"[::1]:8700", 80, "[::1]:8700"},
		{"[0:0:0:0:0:0:0:1]:9", 80, "[::1]:9"},
		{"[2001:DB8::A]", 443, "[2001:db8::a]:443"},
		{"::1", 80, NULL}, /* a bare IPv6 address: brackets needed */
		{"[::1", 80, NULL},
		{"[::1]x", 80, NULL},
		{"[nonsense]:1", 80, NULL},
		{"host:0", 80, NULL},
		{"host:65536", 80, NULL},
		{"host:+80", 80, NULL},
		{"host:", 80, NULL},
		{":80", 80, NULL},
		{"", 80, NULL},
		{"ho st:80", 80, NULL},
		{"host/x:80", 80, NULL},
	};
	struct server_names n = {0};
	char out[PROTO_SERVER_NAME_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof parse / sizeof *parse; i++) {
		int rc = names_parse(parse[i].arg, parse[i].port, out, sizeof out);

		if (parse[i].want == NULL) {
			assert_int_equal(rc, -1);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_string_equal(out, parse[i].want);
		assert_true(names_valid_form(out));
	}
	/* --listen's host as it is: written the way a device signs it
	 * (proto_server_name), but only a plain host name or an address. */
	assert_int_equal(names_canonical("Chat_1.Example", 80, out, sizeof out), 0);
	assert_string_equal(out, "chat_1.example:80");
	assert_int_equal(names_canonical("::1", 80, out, sizeof out), 0);
	assert_string_equal(out, "[::1]:80");
	assert_int_equal(names_canonical("[", 80, out, sizeof out), -1);
	assert_int_equal(names_canonical("a]", 80, out, sizeof out), -1);
	assert_int_equal(names_canonical("a%b", 80, out, sizeof out), -1);
	assert_false(names_valid_form("Upper:80"));
	assert_false(names_valid_form(""));
	assert_false(names_valid_form("a b:1"));
	assert_false(names_valid_form("a\x1b:1"));

	/* A loopback listen answers to its own name and address, and to the
	 * usual names of the loopback, at the port bound; nothing else. */
	assert_int_equal(names_defaults(&n, "127.0.0.2", "127.0.0.2", 8700), 0);
	assert_true(names_has(&n, "127.0.0.2:8700"));
	assert_true(names_has(&n, "localhost:8700"));
	assert_true(names_has(&n, "127.0.0.1:8700"));
	assert_true(names_has(&n, "[::1]:8700"));
	assert_false(names_has(&n, "127.0.0.1:8701"));
	assert_false(names_has(&n, "localhost:80"));
	assert_int_equal(names_add(&n, "proxy:1"), 0);
	assert_int_equal(names_add(&n, "proxy:1"), 0);
	assert_int_equal(n.n, 5);
	names_free(&n);
	/* Another address answers to itself only. */
	assert_int_equal(names_defaults(&n, "chat.example.org", "192.0.2.7", 443), 0);
	assert_true(names_has(&n, "chat.example.org:443"));
	assert_true(names_has(&n, "192.0.2.7:443"));
	assert_false(names_has(&n, "localhost:443"));
	assert_int_equal(n.n, 2);
	names_free(&n);
	/* A wildcard one also to the loopback and every interface's address. */
	assert_int_equal(names_defaults(&n, "0.0.0.0", "0.0.0.0", 9), 0);
	assert_true(names_has(&n, "127.0.0.1:9"));
	assert_true(names_has(&n, "localhost:9"));
	names_free(&n);
}

/* Per-address accounting: the keys (an IPv6 /64 counts as one address) and
 * the table's life cycle. */
static void
test_addr_table(void **state)
{
	struct sockaddr_in v4 = {.sin_family = AF_INET};
	struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
	struct addr_table *t = addr_table_new();
	struct addr_entry *e;
	char key[ADDR_KEY_MAX];

	(void)state;
	assert_int_equal(inet_pton(AF_INET, "192.0.2.7", &v4.sin_addr), 1);
	addr_key((struct sockaddr *)&v4, sizeof v4, key);
	assert_string_equal(key, "192.0.2.7");
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:1:2:aaaa:bbbb:cccc:dddd", &v6.sin6_addr), 1);
	addr_key((struct sockaddr *)&v6, sizeof v6, key);
	assert_string_equal(key, "2001:db8:1:2::/64");
	assert_int_equal(inet_pton(AF_INET6, "::ffff:198.51.100.1", &v6.sin6_addr), 1);
	addr_key((struct sockaddr *)&v6, sizeof v6, key);
	assert_string_equal(key, "198.51.100.1");
	addr_key((struct sockaddr *)&v4, 2, key);
	assert_string_equal(key, "?");

	assert_non_null(t);
	assert_null(addr_get(t, "192.0.2.7", 0));
	e = addr_get(t, "192.0.2.7", 1);
	assert_non_null(e);
	assert_ptr_equal(addr_get(t, "192.0.2.7", 1), e);
	e->conns = 1;
	addr_release(t, e, 1.0, 10.0, 0); /* a connection holds it */
	assert_int_equal(addr_count(t), 1);
	/* No connection, but a registration bucket not full yet. */
	e->conns = 0;
	rate_refill(&e->reg, 1.0, 10.0, 0);
	e->reg.tokens -= 3;
	addr_release(t, e, 1.0, 10.0, 1000000);
	assert_int_equal(addr_count(t), 1);
	addr_sweep(t, 1.0, 10.0, 3000000); /* full again after 3 s */
	assert_int_equal(addr_count(t), 0);
	assert_null(addr_get(t, "192.0.2.7", 0));
	addr_table_free(t);
}

/*
 * Log lines (issue 10, items 11 and 25): each starts with the UTC time, and a
 * kind of line that repeats (a refused connection, lws complaining) is let
 * through only as its bucket allows; the next line let through says how many
 * were left out.
 */
static void
test_log_lines(void **state)
{
	struct log_limit l = {.rate = 1, .burst = 3};
	char path[] = "/tmp/test_server_log.XXXXXX", line[512];
	int fd = mkstemp(path), saved = dup(2), n = 0, noted = 0;
	FILE *f;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	srv_quiet = 0;
	for (int i = 0; i < 10; i++)
		srv_log_limited(&l, "refused %d", i);
	l.tokens = 1; /* as if a second had passed */
	srv_log_limited(&l, "refused again");
	fflush(stderr);
	srv_quiet = 1;
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	f = fdopen(fd, "r");
	assert_non_null(f);
	rewind(f);
	while (fgets(line, sizeof line, f) != NULL) {
		/* 2026-11-28T03:29:22.123Z chat-server: ... */
		assert_true(strlen(line) > 25 && line[4] == '-' && line[10] == 'T' &&
			    line[19] == '.' && line[23] == 'Z' && line[24] == ' ');
		assert_memory_equal(line + 25, "chat-server: ", 13);
		n++;
		noted += strstr(line, "(7 lines like the next were not logged)") != NULL;
	}
	fclose(f);
	unlink(path);
	assert_int_equal(n, 5); /* three, the note, the last */
	assert_int_equal(noted, 1);
}

/*
 * A cluster's log (issue 16): text lines carry the instance between the time
 * and "chat-server: " (so "chat-server: listening on" reads the same), and
 * --log-format json makes each line one JSON object, whatever the message
 * holds: quotes, control characters, bytes that are not UTF-8.
 */
static void
test_log_cluster(void **state)
{
	const char *when = "2026-12-03T10:00:00.000Z";
	char out[4096];
	size_t n;

	(void)state;
	srv_log_setup(SRV_LOG_TEXT, "h1:8080", 0);
	n = srv_log_format(out, sizeof out, when, SRV_INFO, "listening on 127.0.0.1:8080", 0);
	assert_string_equal(out, "2026-12-03T10:00:00.000Z chat-server: listening on "
				 "127.0.0.1:8080\n");
	assert_int_equal(n, strlen(out));
	srv_log_setup(SRV_LOG_TEXT, NULL, 1);
	srv_log_format(out, sizeof out, when, SRV_INFO, "listening on 127.0.0.1:8080", 0);
	assert_string_equal(out, "2026-12-03T10:00:00.000Z h1:8080 chat-server: listening on "
				 "127.0.0.1:8080\n");
	assert_string_equal(srv_instance(), "h1:8080");
	/* One event, one line, whatever the message holds. */
	srv_log_format(out, sizeof out, when, SRV_INFO,
		       "db: ping: server closed the connection\n\tThis probably means\n", 0);
	assert_string_equal(out, "2026-12-03T10:00:00.000Z h1:8080 chat-server: db: ping: server "
				 "closed the connection  This probably means\n");

	srv_log_setup(SRV_LOG_JSON, "b-2", 0);
	srv_log_format(out, sizeof out, when, SRV_ERROR,
		       "a \"quote\", a \\, a\ttab, \x01, "
		       "\xc3\xa9 and \xff\xfe",
		       0);
	assert_string_equal(out, "{\"ts\":\"2026-12-03T10:00:00.000Z\",\"level\":\"error\","
				 "\"instance\":\"b-2\",\"msg\":\"a \\\"quote\\\", a \\\\, "
				 "a\\u0009tab, \\u0001, \xc3\xa9 and \\ufffd\\ufffd\"}\n");
	srv_log_format(out, sizeof out, when, SRV_WARN, "refused", 7);
	assert_non_null(strstr(out, "\"level\":\"warn\""));
	assert_non_null(strstr(out, ",\"dropped\":7}\n"));
	/* Cut to the buffer, a line still ends in a newline. */
	n = srv_log_format(out, 40, when, SRV_INFO, "a long message that does not fit", 0);
	assert_int_equal(n, 39);
	assert_int_equal(out[38], '\n');
	srv_log_setup(SRV_LOG_TEXT, "", 0);
}

/* --instance-id's form, --bus's, and which --db is a URL. */
static void
test_cluster_options(void **state)
{
	static const char *const good_bus[] = {"redis://127.0.0.1:6379", "redis://localhost:6379/0",
					       "redis://[::1]:6380/15", "redis://r-1.example:1/0"};
	static const char *const bad_bus[] = {
		"redis://x",         "redis://:6379",     "redis://h:0",      "redis://h:65536",
		"redis://h:6379/",   "redis://h:6379/16", "redis://h:6379/a", "redis://h h:6379",
		"redis://[::1:6379", "rediss://h:6379",   "http://h:6379",    ""};
	char name[SRV_INSTANCE_MAX + 1];

	(void)state;
	assert_true(util_valid_instance("h1:8080"));
	assert_true(util_valid_instance("chat-a.eu_1"));
	assert_false(util_valid_instance(""));
	assert_false(util_valid_instance("a b"));
	assert_false(util_valid_instance("a\"b"));
	assert_false(util_valid_instance("\xc3\xa9"));
	memset(name, 'x', SRV_INSTANCE_MAX);
	name[SRV_INSTANCE_MAX] = '\0';
	assert_true(util_valid_instance(name));
	config_default_instance(65535, name, sizeof name);
	assert_true(util_valid_instance(name));
	assert_non_null(strstr(name, ":65535"));
	for (size_t i = 0; i < sizeof good_bus / sizeof good_bus[0]; i++)
		assert_true(config_bus_url_ok(good_bus[i]));
	for (size_t i = 0; i < sizeof bad_bus / sizeof bad_bus[0]; i++)
		assert_false(config_bus_url_ok(bad_bus[i]));
	assert_true(config_db_is_url("postgresql://chat@127.0.0.1:5432/chat"));
	assert_true(config_db_is_url("postgres://db/chat"));
	assert_false(config_db_is_url("/var/lib/chat/server.db"));
	assert_false(config_db_is_url("postgresql.db"));
	/* A password never reaches a message. */
	config_redact_url("postgresql://chat:s3cret@db:5432/chat", name, sizeof name);
	assert_string_equal(name, "postgresql://chat:***@db:5432/chat");
	config_redact_url("postgresql://chat@db/chat?sslmode=require&password=s3cret&x=1", name,
			  sizeof name);
	assert_string_equal(name, "postgresql://chat@db/chat?sslmode=require&password=***&x=1");
	config_redact_url("postgres://db/chat", name, sizeof name);
	assert_string_equal(name, "postgres://db/chat");
	{
		char text[200] =
			"cannot open postgresql://u:pw@h/d: no; again postgresql://u:pw@h/d";

		config_redact_in(text, sizeof text, "postgresql://u:pw@h/d");
		assert_string_equal(text, "cannot open postgresql://u:***@h/d: no; again "
					  "postgresql://u:***@h/d");
		config_redact_in(text, sizeof text, "/var/lib/chat.db");
		assert_non_null(strstr(text, "u:***@h"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),   cmocka_unit_test(test_server_names),
		cmocka_unit_test(test_addr_table),  cmocka_unit_test(test_log_lines),
		cmocka_unit_test(test_log_cluster), cmocka_unit_test(test_cluster_options),
	};

	if (sodium_init() < 0)
		return 1;
	/* Errors are expected here; the server's log of them is noise. */
	srv_quiet = 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
