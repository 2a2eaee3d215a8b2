/*
 * sqlite-commit - the storage limit: how many durable commits per second this
 * machine's disk allows, measured the way chat-server commits (WAL,
 * synchronous=FULL, BEGIN IMMEDIATE ... COMMIT, one small row each).
 *
 *   sqlite-commit [-n COMMITS] [-s BYTES] [-d DIR]
 *
 * A message costs chat-server at least one such commit, so this is the
 * ceiling for its message rate. synchronous=NORMAL (no fsync per commit in
 * WAL mode) is measured too, to show what the fsync costs. The database is a
 * fresh file in DIR (default: a new directory under $TMPDIR), removed at the
 * end. Figures go to stdout as "name value" lines (see bench.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bench.h"

struct run {
	const char *name; /* figure prefix: sqlite.full, sqlite.normal */
	const char *sync; /* the synchronous= value */
	int rows;         /* rows per commit: 1, or a batch (group commit) */
};

static int
fail(sqlite3 *db, const char *what)
{
	fprintf(stderr, "sqlite-commit: %s: %s\n", what, db ? sqlite3_errmsg(db) : "out of memory");
	return -1;
}

/* WAL must really be on: the pragma answers with the mode it got. */
static int
set_wal(sqlite3 *db)
{
	sqlite3_stmt *st;
	int ok = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
		return fail(db, "journal_mode");
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		ok = strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
	if (sqlite3_finalize(st) != SQLITE_OK || !ok)
		return fail(db, "cannot switch to WAL");
	return 0;
}

static int
setup(sqlite3 *db, const char *sync)
{
	char sql[64];

	if (set_wal(db) != 0)
		return -1;
	snprintf(sql, sizeof sql, "PRAGMA synchronous=%s", sync);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail(db, sql);
	/* Shaped like the server's inbox: AUTOINCREMENT id, a blob, a time. */
	if (sqlite3_exec(db,
			 "CREATE TABLE t(id INTEGER PRIMARY KEY AUTOINCREMENT,"
			 " body BLOB NOT NULL, at INTEGER NOT NULL)",
			 NULL, NULL, NULL) != SQLITE_OK)
		return fail(db, "create table");
	return 0;
}

static int
step_done(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	if (sqlite3_step(st) != SQLITE_DONE) {
		fail(db, what);
		sqlite3_reset(st);
		return -1;
	}
	return sqlite3_reset(st) == SQLITE_OK ? 0 : fail(db, what);
}

/* One transaction with rows rows: one as the server does per message today,
 * or a batch, as a server that commits a loop pass's requests together. */
static int
commit_one(sqlite3 *db, sqlite3_stmt *const st[3], const void *body, int len, long i, int rows)
{
	if (step_done(db, st[0], "begin") != 0)
		return -1;
	for (int r = 0; r < rows; r++) {
		if (sqlite3_bind_blob(st[1], 1, body, len, SQLITE_STATIC) != SQLITE_OK ||
		    sqlite3_bind_int64(st[1], 2, i) != SQLITE_OK)
			return fail(db, "bind");
		if (step_done(db, st[1], "insert") != 0) {
			if (sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK)
				fail(db, "rollback");
			return -1;
		}
	}
	return step_done(db, st[2], "commit");
}

/* Times n commits into path; us[i] gets each one's duration. */
static int
commit_loop(const char *path, const char *sync, long n, int size, int rows, double *us)
{
	static const char *const sql[3] = {"BEGIN IMMEDIATE",
					   "INSERT INTO t(body, at) VALUES(?1, ?2)", "COMMIT"};
	sqlite3 *db = NULL;
	sqlite3_stmt *st[3] = {NULL, NULL, NULL};
	unsigned char *body = malloc((size_t)size);
	int rc = -1;

	if (body == NULL)
		return fail(NULL, "body");
	memset(body, 0xa5, (size_t)size);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		fail(db, path);
		goto out;
	}
	if (setup(db, sync) != 0)
		goto out;
	for (int i = 0; i < 3; i++)
		if (sqlite3_prepare_v2(db, sql[i], -1, &st[i], NULL) != SQLITE_OK) {
			fail(db, sql[i]);
			goto out;
		}
	for (long i = 0; i < n; i++) {
		double t0 = bench_now_us();

		if (commit_one(db, st, body, size, i, rows) != 0)
			goto out;
		us[i] = bench_now_us() - t0;
	}
	rc = 0;
out:
	/* finalize repeats the last step's error, already reported above */
	for (int i = 0; i < 3; i++)
		if (sqlite3_finalize(st[i]) != SQLITE_OK && rc == 0)
			rc = fail(db, "finalize");
	if (db != NULL && sqlite3_close(db) != SQLITE_OK)
		rc = fail(db, "close");
	free(body);
	return rc;
}

/* The database and the two files WAL mode adds next to it. */
static void
remove_db(const char *path)
{
	static const char *const suffix[] = {"", "-wal", "-shm"};
	char aux[4200];

	for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++)
		if (snprintf(aux, sizeof aux, "%s%s", path, suffix[i]) < (int)sizeof aux)
			unlink(aux);
}

static int
measure(const struct run *r, const char *dir, long n, int size)
{
	char path[4096], name[64];
	double *us = malloc((size_t)n * sizeof *us), total = 0;
	int rc;

	if (us == NULL)
		return fail(NULL, "samples");
	if (snprintf(path, sizeof path, "%s/commit-%s.db", dir, r->sync) >= (int)sizeof path) {
		free(us);
		fprintf(stderr, "sqlite-commit: %s: name too long\n", dir);
		return -1;
	}
	remove_db(path); /* a leftover of an interrupted run would skew the figures */
	rc = commit_loop(path, r->sync, n, size, r->rows, us);
	remove_db(path);
	if (rc == 0) {
		for (long i = 0; i < n; i++)
			total += us[i];
		bench_sort(us, (size_t)n);
		snprintf(name, sizeof name, "%s.commits_per_s", r->name);
		bench_put(name, (double)n / (total / 1e6));
		snprintf(name, sizeof name, "%s.rows_per_s", r->name);
		bench_put(name, (double)n * r->rows / (total / 1e6));
		snprintf(name, sizeof name, "%s.mean_us", r->name);
		bench_put(name, total / (double)n);
		snprintf(name, sizeof name, "%s.p50_us", r->name);
		bench_put(name, bench_pct(us, (size_t)n, 50));
		snprintf(name, sizeof name, "%s.p99_us", r->name);
		bench_put(name, bench_pct(us, (size_t)n, 99));
	}
	free(us);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct run runs[] = {
		{"sqlite.full", "FULL", 1},            /* what chat-server does per message */
		{"sqlite.normal", "NORMAL", 1},        /* for context: no fsync per commit */
		{"sqlite.full_batch100", "FULL", 100}, /* group commit: 100 rows a commit */
	};
	char tmpl[4096];
	const char *dir = NULL;
	long n = 2000;
	int size = 300, opt, rc = 0;

	while ((opt = getopt(argc, argv, "n:s:d:")) != -1) {
		switch (opt) {
		case 'n': n = bench_count("sqlite-commit", optarg, 10000000); break;
		case 's': size = (int)bench_count("sqlite-commit", optarg, 1 << 20); break;
		case 'd': dir = optarg; break;
		default:
			fprintf(stderr, "usage: sqlite-commit [-n COMMITS] [-s BYTES] [-d DIR]\n");
			return 2;
		}
	}
	if (dir == NULL) {
		const char *tmp = getenv("TMPDIR");

		if (snprintf(tmpl, sizeof tmpl, "%s/sqlite-commit.XXXXXX",
			     tmp && *tmp ? tmp : "/tmp") >= (int)sizeof tmpl ||
		    mkdtemp(tmpl) == NULL) {
			fprintf(stderr, "sqlite-commit: mkdtemp %s: %s\n", tmpl, strerror(errno));
			return 1;
		}
	}
	for (size_t i = 0; i < sizeof runs / sizeof runs[0] && rc == 0; i++)
		/* a batch is 100 rows: a tenth as many commits keeps the time alike */
		rc = measure(&runs[i], dir ? dir : tmpl, runs[i].rows > 1 && n >= 20 ? n / 10 : n,
			     size);
	if (dir == NULL && rmdir(tmpl) != 0)
		fprintf(stderr, "sqlite-commit: rmdir %s: %s\n", tmpl, strerror(errno));
	return rc == 0 ? 0 : 1;
}
