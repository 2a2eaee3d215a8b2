/*
 * test_server_db_pg.c - the PostgreSQL store's translation of the SQLite
 * table's SQL (server-stub/db_pg.c, db_pg_translate), and what selects it.
 * The store itself runs against a real PostgreSQL in make check-pg and the
 * cluster tests (tests/integration/cluster-*.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "db_sql.h"

static void
check(const char *in, const char *want)
{
	char out[512];

	assert_int_equal(db_pg_translate(in, out, sizeof out), 0);
	assert_string_equal(out, want);
}

static void
test_placeholders_and_user(void **state)
{
	(void)state;
	check("SELECT 1 FROM users WHERE user = ?1", "SELECT 1 FROM users WHERE \"user\" = $1");
	/* users, d.user, user_x and a quoted 'user' are left alone but for
	 * the column. */
	check("SELECT d.user, users.x, user_x FROM users d WHERE d.user = ?12 AND k = 'user'",
	      "SELECT d.\"user\", users.x, user_x FROM users d WHERE d.\"user\" = $12 AND k = 'user'");
	check("ON CONFLICT (user, device_id) DO UPDATE", "ON CONFLICT (\"user\", device_id) DO UPDATE");
	check("SELECT \"user\" FROM t", "SELECT \"user\" FROM t");
}

static void
test_dialect(void **state)
{
	(void)state;
	check("BEGIN IMMEDIATE", "BEGIN");
	check("INSERT OR IGNORE INTO blocks (user, blocked) VALUES (?1, ?2)",
	      "INSERT INTO blocks (\"user\", blocked) VALUES ($1, $2) ON CONFLICT DO NOTHING");
}

static void
test_too_long(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(db_pg_translate("SELECT user FROM users", out, sizeof out), -1);
}

/* Every statement of the table translates within the size db_pg.c gives it. */
static void
test_whole_table(void **state)
{
	char out[4096];

	(void)state;
	for (int i = 0; i < ST_COUNT; i++) {
		assert_non_null(db_sql_text(i));
		assert_int_equal(db_pg_translate(db_sql_text(i), out, sizeof out), 0);
		assert_null(strchr(out, '?'));
	}
}

static void
test_url_selects_postgresql(void **state)
{
	(void)state;
	assert_true(db_is_pg_url("postgresql://chat@127.0.0.1:5432/chat"));
	assert_true(db_is_pg_url("postgres://h/db"));
	assert_false(db_is_pg_url("/var/lib/chat/server.db"));
	assert_false(db_is_pg_url("postgresql.db"));
}

static void
test_unreachable_server_is_named(void **state)
{
	char err[512];

	(void)state;
	/* Port 1 on loopback: nothing listens; the password is not shown. */
	assert_null(db_open("postgresql://chat:secret@127.0.0.1:1/chat?connect_timeout=2", err,
			    sizeof err));
	assert_non_null(strstr(err, "cannot connect to postgresql://chat:***@127.0.0.1:1/chat"));
	assert_null(strstr(err, "secret"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placeholders_and_user),
		cmocka_unit_test(test_dialect),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_whole_table),
		cmocka_unit_test(test_url_selects_postgresql),
		cmocka_unit_test(test_unreachable_server_is_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
