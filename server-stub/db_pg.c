/*
 * db_pg.c - chat-server's store on PostgreSQL (libpq): the second backend
 * behind db.h, for several chat-server instances sharing one store
 * (docs/CLUSTER.md).  `chat-server --db postgresql://...` selects it.
 *
 * The files of the store are the same on both engines: they call db_sql.h's
 * helpers, and db.c hands each over here when st->pg is set.  The SQL is the
 * SQLite table's (db.c), translated once per statement (db_pg_translate),
 * but for the few statements written below in PostgreSQL's own words.  A
 * statement is prepared on the connection when it is first run, with the
 * types of its first binding (numbers int8, bytes bytea, text left to the
 * server), and its results are read in text form (bytea as hex, decoded when
 * a column is read).
 *
 * The guarantees, with several instances writing at once:
 *
 * - A chat's sequence numbers come from `UPDATE chats SET next_seq = next_seq
 *   + 1 ... RETURNING`: the row lock it takes is held to the COMMIT, so two
 *   instances sending into one chat take turns, and a seq is neither skipped
 *   nor given twice (a rolled-back send gives its number back with it).
 * - A device's inbox ids come from its devices row the same way (the trigger
 *   inbox_take_id, which also counts the inbox's bytes, as SQLite's triggers
 *   do), so they increase in commit order: a connection's cursor ("the last
 *   inbox id pushed", server_conn.c) never passes a row that commits later
 *   with a smaller id, as it could with one sequence shared by all writers.
 * - Two transactions that lock the same rows in opposite orders (two
 *   batches on two instances) deadlock; PostgreSQL breaks it by failing one
 *   statement, whose call is then rolled back to its savepoint and answered
 *   "internal" (retryable): clients send it again.
 * - A lost connection (PostgreSQL restarted) fails the calls of the batch it
 *   was in, and later calls, with "internal" until it is back; it is tried
 *   again at most every RECONNECT_MS, before a transaction begins.
 */
#include "db_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

/* Types of parameters, as pg_type's oids (stable: they are catalog
 * constants). */
#define OID_BYTEA 17
#define OID_INT8  20

#define RECONNECT_MS 500

/* The schema's version, kept in schema_version; migrations are steps of
 * pg_migrations[] below, as db_schema.c has them for SQLite. */
#define PG_SCHEMA_VERSION 1

/* Held (as a transaction's advisory lock) while the schema is made or
 * migrated, so that instances starting at once do it once. */
#define SCHEMA_LOCK_TEXT "1667785076" /* 0x63686174, "chat"; with a second key: db_pg_xact_lock */

/* The DDL below is laid out by hand, one clause a line. */
/* clang-format off */
#define T "text COLLATE \"C\""

static const char pg_schema_v1[] =
	"CREATE TABLE users ("
	"  \"user\" " T " PRIMARY KEY,"
	"  created_at bigint NOT NULL,"
	"  next_device_id bigint NOT NULL DEFAULT 1"
	"    CHECK (next_device_id BETWEEN 1 AND 2147483648),"
	"  hide_last_seen bigint NOT NULL DEFAULT 0 CHECK (hide_last_seen IN (0, 1)));"
	"CREATE TABLE devices ("
	"  \"user\" " T " NOT NULL REFERENCES users(\"user\"),"
	"  device_id bigint NOT NULL CHECK (device_id BETWEEN 1 AND 2147483647),"
	"  name " T ","
	"  identity_key bytea NOT NULL UNIQUE CHECK (length(identity_key) = 32),"
	"  exchange_key bytea NOT NULL CHECK (length(exchange_key) = 32),"
	"  exchange_key_sig bytea NOT NULL CHECK (length(exchange_key_sig) = 64),"
	"  created_at bigint NOT NULL,"
	"  last_seen bigint,"
	"  approver_key bytea CHECK (approver_key IS NULL OR length(approver_key) = 32),"
	"  approval bytea CHECK (approval IS NULL OR length(approval) = 64),"
	"  missed_count bigint NOT NULL DEFAULT 0 CHECK (missed_count >= 0),"
	"  missed_oldest bigint,"
	"  inbox_bytes bigint NOT NULL DEFAULT 0,"
	/* The device's next inbox id (inbox_take_id). */
	"  inbox_next bigint NOT NULL DEFAULT 1,"
	"  PRIMARY KEY (\"user\", device_id));"
	"CREATE TABLE chats ("
	"  chat_id " T " PRIMARY KEY,"
	"  kind " T " NOT NULL CHECK (kind IN ('direct', 'group')),"
	"  name " T ","
	"  created_by " T " NOT NULL REFERENCES users(\"user\"),"
	"  created_at bigint NOT NULL,"
	"  next_seq bigint NOT NULL DEFAULT 1,"
	"  direct_key " T " UNIQUE,"
	"  description " T ");"
	"CREATE TABLE chat_members ("
	"  chat_id " T " NOT NULL REFERENCES chats(chat_id),"
	"  \"user\" " T " NOT NULL REFERENCES users(\"user\"),"
	"  role " T " NOT NULL,"
	"  joined_at bigint NOT NULL,"
	"  joined_seq bigint NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (chat_id, \"user\"));"
	"CREATE INDEX chat_members_by_user ON chat_members(\"user\");"
	"CREATE TABLE retired_devices ("
	"  \"user\" " T " NOT NULL REFERENCES users(\"user\"),"
	"  device_id bigint NOT NULL,"
	"  identity_key bytea NOT NULL,"
	"  exchange_key bytea NOT NULL,"
	"  exchange_key_sig bytea NOT NULL,"
	"  approver_key bytea,"
	"  approval bytea,"
	"  created_at bigint NOT NULL,"
	"  removed_at bigint NOT NULL,"
	"  PRIMARY KEY (\"user\", device_id));"
	"CREATE TABLE messages ("
	"  message_id " T " PRIMARY KEY,"
	"  chat_id " T " NOT NULL REFERENCES chats(chat_id),"
	"  kind " T " NOT NULL DEFAULT 'message'"
	"    CHECK (kind IN ('message', 'update', 'receipt')),"
	"  sender_user " T " NOT NULL,"
	"  sender_device bigint NOT NULL,"
	"  seq bigint CHECK ((kind = 'receipt') = (seq IS NULL)),"
	"  sent_at bigint NOT NULL,"
	"  body " T " CHECK ((kind = 'update') = (body IS NOT NULL)),"
	"  expires_at bigint,"
	"  UNIQUE (chat_id, seq));"
	"CREATE INDEX messages_by_sent ON messages(sent_at);"
	"CREATE INDEX messages_by_expiry ON messages(expires_at) WHERE expires_at IS NOT NULL;"
	"CREATE TABLE blobs ("
	"  blob_id " T " PRIMARY KEY,"
	"  \"user\" " T " NOT NULL,"
	"  device_id bigint NOT NULL,"
	"  max_size bigint NOT NULL CHECK (max_size >= 1),"
	"  size bigint,"
	"  state " T " NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'complete')),"
	"  created_at bigint NOT NULL,"
	"  completed_at bigint,"
	"  CHECK ((state = 'complete') = (size IS NOT NULL AND completed_at IS NOT NULL)));"
	"CREATE INDEX blobs_by_created ON blobs(created_at);"
	"CREATE INDEX blobs_by_device ON blobs(\"user\", device_id);"
	"CREATE TABLE message_blobs ("
	"  message_id " T " NOT NULL,"
	"  blob_id " T " NOT NULL REFERENCES blobs(blob_id),"
	"  PRIMARY KEY (message_id, blob_id));"
	"CREATE INDEX message_blobs_by_blob ON message_blobs(blob_id);"
	"CREATE TABLE message_tombstones ("
	"  message_id " T " PRIMARY KEY,"
	"  chat_id " T " NOT NULL,"
	"  kind " T " NOT NULL,"
	"  sender_user " T " NOT NULL,"
	"  sender_device bigint NOT NULL,"
	"  seq bigint,"
	"  sent_at bigint NOT NULL);"
	"CREATE INDEX message_tombstones_by_sent ON message_tombstones(sent_at);"
	"CREATE TABLE chat_activity ("
	"  chat_id " T " NOT NULL REFERENCES chats(chat_id),"
	"  \"user\" " T " NOT NULL,"
	"  PRIMARY KEY (chat_id, \"user\"));"
	"CREATE TABLE group_adds ("
	"  target " T " NOT NULL,"
	"  adder " T " NOT NULL,"
	"  at bigint NOT NULL);"
	"CREATE INDEX group_adds_by_target ON group_adds(target, at);"
	"CREATE INDEX group_adds_by_adder ON group_adds(adder, at);"
	"CREATE TABLE signed_prekeys ("
	"  \"user\" " T " NOT NULL,"
	"  device_id bigint NOT NULL,"
	"  prekey_id bigint NOT NULL CHECK (prekey_id BETWEEN 0 AND 4294967295),"
	"  prekey bytea NOT NULL CHECK (length(prekey) = 32),"
	"  sig bytea NOT NULL CHECK (length(sig) = 64),"
	"  low_told bigint NOT NULL DEFAULT 0 CHECK (low_told IN (0, 1)),"
	"  uploaded_at bigint NOT NULL,"
	"  PRIMARY KEY (\"user\", device_id),"
	"  FOREIGN KEY (\"user\", device_id) REFERENCES devices(\"user\", device_id)"
	"    ON DELETE CASCADE);"
	/* id: the order they came in, as SQLite's rowid. */
	"CREATE TABLE one_time_prekeys ("
	"  id bigserial PRIMARY KEY,"
	"  \"user\" " T " NOT NULL,"
	"  device_id bigint NOT NULL,"
	"  prekey_id bigint NOT NULL CHECK (prekey_id BETWEEN 0 AND 4294967295),"
	"  prekey bytea NOT NULL CHECK (length(prekey) = 32),"
	"  UNIQUE (\"user\", device_id, prekey_id),"
	"  FOREIGN KEY (\"user\", device_id) REFERENCES devices(\"user\", device_id)"
	"    ON DELETE CASCADE);"
	"CREATE INDEX one_time_prekeys_by_device ON one_time_prekeys(\"user\", device_id, id);"
	"CREATE TABLE inbox ("
	"  id bigint NOT NULL,"
	"  \"user\" " T " NOT NULL,"
	"  device_id bigint NOT NULL,"
	"  message_id " T " NOT NULL REFERENCES messages(message_id),"
	"  nonce bytea CHECK (nonce IS NULL OR length(nonce) = 24),"
	"  ciphertext bytea,"
	"  created_at bigint NOT NULL,"
	"  CHECK (nonce IS NULL OR ciphertext IS NOT NULL),"
	"  PRIMARY KEY (\"user\", device_id, id),"
	"  UNIQUE (\"user\", device_id, message_id),"
	"  FOREIGN KEY (\"user\", device_id) REFERENCES devices(\"user\", device_id));"
	"CREATE INDEX inbox_by_message ON inbox(message_id);"
	"CREATE INDEX inbox_by_created ON inbox(created_at);"
	/* The device's next id, and the bytes its inbox holds (each row its
	 * ciphertext and 100, as SQLite's inbox_bytes_add). */
	"CREATE FUNCTION inbox_take_id() RETURNS trigger LANGUAGE plpgsql AS $f$"
	" BEGIN"
	"  UPDATE devices SET inbox_next = inbox_next + 1,"
	"   inbox_bytes = inbox_bytes + CASE WHEN NEW.ciphertext IS NULL THEN 0"
	"    ELSE length(NEW.ciphertext) + 100 END"
	"   WHERE \"user\" = NEW.\"user\" AND device_id = NEW.device_id"
	"   RETURNING inbox_next - 1 INTO NEW.id;"
	"  IF NEW.id IS NULL THEN"
	"   RAISE foreign_key_violation USING MESSAGE = 'inbox row for no device';"
	"  END IF;"
	"  RETURN NEW;"
	" END $f$;"
	"CREATE TRIGGER inbox_take_id BEFORE INSERT ON inbox"
	"  FOR EACH ROW EXECUTE FUNCTION inbox_take_id();"
	"CREATE FUNCTION inbox_bytes_sub() RETURNS trigger LANGUAGE plpgsql AS $f$"
	" BEGIN"
	"  UPDATE devices SET inbox_bytes = inbox_bytes - length(OLD.ciphertext) - 100"
	"   WHERE \"user\" = OLD.\"user\" AND device_id = OLD.device_id;"
	"  RETURN NULL;"
	" END $f$;"
	"CREATE TRIGGER inbox_bytes_sub AFTER DELETE ON inbox"
	"  FOR EACH ROW WHEN (OLD.ciphertext IS NOT NULL) EXECUTE FUNCTION inbox_bytes_sub();"
	"CREATE TABLE blocks ("
	"  \"user\" " T " NOT NULL REFERENCES users(\"user\"),"
	"  blocked " T " NOT NULL REFERENCES users(\"user\"),"
	"  created_at bigint NOT NULL,"
	"  PRIMARY KEY (\"user\", blocked));";

/* Version n + 1 from version n: pg_migrations[n] (from 1).  Version 1 is
 * made whole by pg_schema_v1; a later version adds its step here and raises
 * PG_SCHEMA_VERSION. */
static const char *const pg_migrations[PG_SCHEMA_VERSION + 1] = {NULL};

/* The statements PostgreSQL words otherwise than the translation of
 * SQLite's would. */
static const char *const pg_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN",
	/* Two links of one user on two instances take turns, not one id. */
	[ST_USER_NEXT_DEVICE] = "SELECT next_device_id FROM users WHERE \"user\" = $1 FOR UPDATE",
	/* One snapshot for every query of the read, as SQLite's BEGIN. */
	[ST_BEGIN_READ] = "BEGIN ISOLATION LEVEL REPEATABLE READ",
	/* The oldest, deleted as it is read; one that another instance's
	 * bundle holds is passed over, not waited for (and not handed out
	 * twice). */
	[ST_OPK_TAKE] = "DELETE FROM one_time_prekeys WHERE id = (SELECT id"
			" FROM one_time_prekeys WHERE \"user\" = $1 AND device_id = $2"
			" ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING prekey_id, prekey",
};
/* clang-format on */

/* Statements whose unique key may be taken, which their callers expect
 * (DB_DUP: draw another chat id, a blob id asked for again): PostgreSQL
 * ends the whole transaction on such an error, so they run in a savepoint
 * of their own. */
static int
may_conflict(int which)
{
	return which == ST_CHAT_INSERT || which == ST_GROUP_INSERT || which == ST_BLOB_INSERT;
}

/* The message of the last failure, kept past the result it came with. */
static char pg_last_error[512];

static void
keep_error(const char *msg)
{
	size_t n;

	snprintf(pg_last_error, sizeof pg_last_error, "%s", msg != NULL ? msg : "?");
	n = strlen(pg_last_error);
	while (n > 0 && (pg_last_error[n - 1] == '\n' || pg_last_error[n - 1] == ' '))
		pg_last_error[--n] = '\0';
}

int
db_is_pg_url(const char *path)
{
	return strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0;
}

const char *
db_pg_error(struct db *st)
{
	(void)st;
	return pg_last_error;
}

/* ---- translation --------------------------------------------------------- */

static int
is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

int
db_pg_translate(const char *in, char *out, size_t cap)
{
	static const char ignore[] = "INSERT OR IGNORE INTO";
	static const char immediate[] = "BEGIN IMMEDIATE";
	size_t o = 0;
	int quoted = 0, on_conflict = 0;
	const char *p = in;

#define PUT(str, n)                                                                                \
	do {                                                                                       \
		if (o + (n) >= cap)                                                                \
			return -1;                                                                 \
		memcpy(out + o, (str), (n));                                                       \
		o += (n);                                                                          \
	} while (0)

	if (strncmp(p, immediate, sizeof immediate - 1) == 0) {
		PUT("BEGIN", 5);
		p += sizeof immediate - 1;
	}
	if (strncmp(p, ignore, sizeof ignore - 1) == 0) {
		PUT("INSERT INTO", 11);
		p += sizeof ignore - 1;
		on_conflict = 1;
	}
	for (; *p != '\0'; p++) {
		if (*p == '\'')
			quoted = !quoted;
		if (!quoted && *p == '?') {
			PUT("$", 1);
			continue;
		}
		if (!quoted && strncmp(p, "user", 4) == 0 &&
		    (p == in || (!is_word(p[-1]) && p[-1] != '"')) && !is_word(p[4]) &&
		    p[4] != '"') {
			PUT("\"user\"", 6);
			p += 3;
			continue;
		}
		PUT(p, 1);
	}
	if (on_conflict)
		PUT(" ON CONFLICT DO NOTHING", 23);
	PUT("", 1);
#undef PUT
	return 0;
}

/* ---- the connection ------------------------------------------------------ */

static PGconn *
conn(struct db *st)
{
	return (PGconn *)st->pg;
}

/* Settings of each new session: quiet notices (the log is ours), and
 * commits that wait for the disk, whatever the server's default. */
static int
session_setup(struct db *st)
{
	PGresult *r = PQexec(conn(st), "SET client_min_messages = warning;"
				       " SET synchronous_commit = on");
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	if (!ok)
		keep_error(PQerrorMessage(conn(st)));
	PQclear(r);
	return ok ? 0 : -1;
}

/* A lost connection is tried again (not in a transaction: it went with
 * the connection), at most every RECONNECT_MS.  0 if it is up. */
static int
reconnect(struct db *st)
{
	static struct log_limit limit = {.rate = 1.0 / 10, .burst = 1};
	int64_t now = util_mono_us() / 1000;

	if (PQstatus(conn(st)) == CONNECTION_OK)
		return 0;
	st->unavailable = 1;
	if (st->pg_retry_ms != 0 && now - st->pg_retry_ms < RECONNECT_MS) {
		keep_error("the connection to PostgreSQL is down (tried again soon)");
		return -1;
	}
	st->pg_retry_ms = now;
	PQreset(conn(st));
	if (PQstatus(conn(st)) != CONNECTION_OK) {
		keep_error(PQerrorMessage(conn(st)));
		srv_log_limited(&limit, "db: PostgreSQL is unreachable: %s", pg_last_error);
		return -1;
	}
	memset(st->pg_prepared, 0, sizeof st->pg_prepared);
	if (session_setup(st) != 0)
		return -1;
	srv_log("db: reconnected to PostgreSQL");
	st->pg_retry_ms = 0;
	return 0;
}

int
db_pg_in_tx(struct db *st)
{
	PGTransactionStatusType t = PQtransactionStatus(conn(st));

	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

/* Run SQL without parameters or rows: 0, or -1 with the reason kept. */
static int transient(struct db *st, PGresult *r);

static int
exec_simple(struct db *st, const char *sql)
{
	PGresult *r = PQexec(conn(st), sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok) {
		keep_error(PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r)
						      : PQerrorMessage(conn(st)));
		st->unavailable = transient(st, r);
	}
	PQclear(r);
	return ok ? 0 : -1;
}

int
db_pg_xact_lock(struct db *st, int key)
{
	char sql[96];

	/* Two keys: the schema's (setup) and the housekeeping's. */
	snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%s, %d)", SCHEMA_LOCK_TEXT, key);
	if (exec_simple(st, sql) != 0) {
		srv_log("db: lock %d: %s", key, pg_last_error);
		return -1;
	}
	return 0;
}

enum db_status
db_pg_ping(struct db *st)
{
	if ((!db_pg_in_tx(st) && reconnect(st) != 0) || exec_simple(st, "SELECT 1") != 0) {
		srv_log("db: ping: %s", pg_last_error);
		return DB_INTERNAL;
	}
	return DB_OK;
}

/* ---- statements ------------------------------------------------------------ */

/* The number of parameters of a statement: its largest ?N. */
static int
sql_params(const char *sql)
{
	int n = 0;

	for (const char *q = sql; (q = strchr(q, '?')) != NULL; q++)
		if (atoi(q + 1) > n)
			n = atoi(q + 1);
	return n;
}

static int
prepare(struct db *st, struct db_q *s, int nparams)
{
	char name[16], sql[4096];
	Oid types[DB_MAX_PARAMS];
	const char *text = pg_sql[s->which];
	PGresult *r;
	int ok;

	if (text == NULL) {
		if (db_pg_translate(db_sql_text(s->which), sql, sizeof sql) != 0) {
			keep_error("statement too long to translate");
			return -1;
		}
		text = sql;
	}
	for (int i = 0; i < nparams; i++)
		types[i] = s->val[i] == NULL ? 0 : s->fmt[i] ? OID_BYTEA
					      : s->val[i] == s->num[i] ? OID_INT8
								       : 0;
	snprintf(name, sizeof name, "s%d", s->which);
	r = PQprepare(conn(st), name, text, nparams, types);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok) {
		keep_error(PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r)
						      : PQerrorMessage(conn(st)));
		st->unavailable = transient(st, r);
	}
	PQclear(r);
	if (!ok)
		return -1;
	st->pg_prepared[s->which] = 1;
	return 0;
}

/* Whether a failure is the store's being out of reach for now
 * (db_unavailable): the connection lost, the server shutting down or
 * starting (57P01-57P03), too many connections (53300), a deadlock or a
 * serialization failure it broke (40P01, 40001). */
static int
transient(struct db *st, PGresult *r)
{
	const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(conn(st)) != CONNECTION_OK || state == NULL)
		return 1;
	return strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0 ||
	       strcmp(state, "53300") == 0 || strcmp(state, "40P01") == 0 ||
	       strcmp(state, "40001") == 0;
}

static int
is_dup(PGresult *r)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

	return state != NULL && strcmp(state, "23505") == 0;
}

/* Run the statement with its bindings: DB_ROW, DB_DONE, DB_DUP or
 * DB_STEP_ERR. */
static int
execute(struct db *st, struct db_q *s)
{
	const char *sql = db_sql_text(s->which);
	int nparams = sql_params(sql), guard, rc;
	char name[16];
	PGresult *r;

	st->steps++;
	if (s->which < ST_TX_COUNT) {
		/* BEGIN, COMMIT, SAVEPOINT...: no parameters, nothing to
		 * prepare; a transaction begins on a live connection. */
		if ((s->which == ST_BEGIN || s->which == ST_BEGIN_READ) && reconnect(st) != 0)
			return DB_STEP_ERR;
		return exec_simple(st, pg_sql[s->which] ? pg_sql[s->which] : sql) == 0
			       ? DB_DONE
			       : DB_STEP_ERR;
	}
	if (nparams > DB_MAX_PARAMS) {
		keep_error("too many parameters");
		return DB_STEP_ERR;
	}
	if (!db_pg_in_tx(st) && reconnect(st) != 0)
		return DB_STEP_ERR;
	if (!st->pg_prepared[s->which] && prepare(st, s, nparams) != 0)
		return DB_STEP_ERR;
	guard = may_conflict(s->which) && db_pg_in_tx(st);
	if (guard && exec_simple(st, "SAVEPOINT dup") != 0)
		return DB_STEP_ERR;
	snprintf(name, sizeof name, "s%d", s->which);
	r = PQexecPrepared(conn(st), name, nparams, s->val, s->len, s->fmt, 0);
	switch (PQresultStatus(r)) {
	case PGRES_COMMAND_OK:
		st->changes = strtoll(PQcmdTuples(r), NULL, 10);
		PQclear(r);
		s->row = s->nrows = 0; /* stepped: the next step is the end */
		rc = DB_DONE;
		break;
	case PGRES_TUPLES_OK:
		st->changes = strtoll(PQcmdTuples(r), NULL, 10);
		s->res = (struct pg_result *)r;
		s->nrows = PQntuples(r);
		s->row = 0;
		rc = s->nrows > 0 ? DB_ROW : DB_DONE;
		break;
	default:
		keep_error(PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r)
						      : PQerrorMessage(conn(st)));
		rc = is_dup(r) ? DB_DUP : DB_STEP_ERR;
		st->unavailable = transient(st, r);
		PQclear(r);
		/* A statement prepared on a connection since lost is prepared
		 * again on the next one. */
		if (PQstatus(conn(st)) != CONNECTION_OK)
			memset(st->pg_prepared, 0, sizeof st->pg_prepared);
		break;
	}
	if (guard && exec_simple(st, rc == DB_DUP || rc == DB_STEP_ERR
					     ? "ROLLBACK TO SAVEPOINT dup; RELEASE SAVEPOINT dup"
					     : "RELEASE SAVEPOINT dup") != 0)
		rc = DB_STEP_ERR;
	return rc;
}

int
db_pg_step(struct db *st, struct db_q *s)
{
	if (s->res == NULL && s->row < 0)
		return execute(st, s);
	if (s->res == NULL || ++s->row >= s->nrows) {
		s->row = s->nrows;
		return DB_DONE;
	}
	for (size_t i = 0; i < sizeof s->bytes / sizeof s->bytes[0]; i++) {
		PQfreemem(s->bytes[i]);
		s->bytes[i] = NULL;
	}
	return DB_ROW;
}

void
db_pg_done(struct db_q *s)
{
	PQclear((PGresult *)s->res);
	s->res = NULL;
	s->row = -1;
	s->nrows = 0;
	for (size_t i = 0; i < sizeof s->bytes / sizeof s->bytes[0]; i++) {
		PQfreemem(s->bytes[i]);
		s->bytes[i] = NULL;
	}
	memset(s->val, 0, sizeof s->val);
	memset(s->fmt, 0, sizeof s->fmt);
	memset(s->len, 0, sizeof s->len);
	s->nparams = 0;
}

static int
on_row(const struct db_q *s, int col)
{
	return s->res != NULL && s->row >= 0 && s->row < s->nrows && col >= 0 &&
	       col < PQnfields((const PGresult *)s->res);
}

int
db_pg_col_null(struct db_q *s, int col)
{
	return !on_row(s, col) || PQgetisnull((const PGresult *)s->res, s->row, col);
}

const char *
db_pg_col_raw(struct db_q *s, int col)
{
	if (db_pg_col_null(s, col))
		return NULL;
	return PQgetvalue((const PGresult *)s->res, s->row, col);
}

const void *
db_pg_col_bytes(struct db_q *s, int col, size_t *len)
{
	const char *t = db_pg_col_raw(s, col);

	*len = 0;
	if (t == NULL || (size_t)col >= sizeof s->bytes / sizeof s->bytes[0])
		return NULL;
	if (s->bytes[col] == NULL) {
		s->bytes[col] = PQunescapeBytea((const unsigned char *)t, &s->nbytes[col]);
		if (s->bytes[col] == NULL)
			return NULL;
	}
	*len = s->nbytes[col];
	return s->bytes[col];
}

/* ---- open and close -------------------------------------------------------- */

/* The schema made or migrated to PG_SCHEMA_VERSION in one transaction
 * under the schema lock: 0, or -1 with why in err. */
static int
schema_setup(struct db *st, char *err, size_t errlen)
{
	PGresult *r;
	long version = 0;

	if (exec_simple(st, "BEGIN") != 0)
		goto fail;
	if (exec_simple(st, "SELECT pg_advisory_xact_lock(" SCHEMA_LOCK_TEXT ")") != 0 ||
	    exec_simple(st, "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)") !=
		    0)
		goto fail;
	r = PQexec(conn(st), "SELECT version FROM schema_version");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		keep_error(PQresultErrorMessage(r));
		PQclear(r);
		goto fail;
	}
	if (PQntuples(r) > 0)
		version = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	if (version > PG_SCHEMA_VERSION) {
		(void)exec_simple(st, "ROLLBACK");
		snprintf(err, errlen,
			 "the database's schema is version %ld, newer than this chat-server's"
			 " (%d): run a newer chat-server",
			 version, PG_SCHEMA_VERSION);
		return -1;
	}
	if (version == 0) {
		if (exec_simple(st, pg_schema_v1) != 0 ||
		    exec_simple(st, "INSERT INTO schema_version (version) VALUES (1)") != 0)
			goto fail;
		version = 1;
	}
	for (; version < PG_SCHEMA_VERSION; version++) {
		char set[96];

		snprintf(set, sizeof set, "UPDATE schema_version SET version = %ld", version + 1);
		if (pg_migrations[version] == NULL || exec_simple(st, pg_migrations[version]) != 0 ||
		    exec_simple(st, set) != 0)
			goto fail;
	}
	if (exec_simple(st, "COMMIT") != 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "schema: %s", pg_last_error);
	(void)exec_simple(st, "ROLLBACK");
	return -1;
}

/* The URL without its password, for messages. */
static void
safe_url(const char *url, char *out, size_t cap)
{
	const char *at = strchr(url, '@'), *scheme = strstr(url, "://");
	const char *colon = scheme ? strchr(scheme + 3, ':') : NULL;

	if (at != NULL && colon != NULL && colon < at)
		snprintf(out, cap, "%.*s:***%s", (int)(colon - url), url, at);
	else
		snprintf(out, cap, "%s", url);
}

struct db *
db_pg_open(const char *url, char *err, size_t errlen)
{
	struct db *st = calloc(1, sizeof *st);
	char shown[256];
	PGconn *c;

	safe_url(url, shown, sizeof shown);
	if (st == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c = PQconnectdb(url);
	st->pg = (struct pg_conn *)c;
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		char *m = c ? PQerrorMessage(c) : "out of memory";
		size_t n = strlen(m);

		while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
			n--;
		snprintf(err, errlen, "cannot connect to %s: %.*s", shown, (int)n, m);
		goto fail;
	}
	for (int i = 0; i < ST_COUNT; i++) {
		st->q[i].st = st;
		st->q[i].which = i;
		st->q[i].row = -1;
	}
	if (session_setup(st) != 0) {
		snprintf(err, errlen, "%s: %s", shown, pg_last_error);
		goto fail;
	}
	if (schema_setup(st, err, errlen) != 0)
		goto fail;
	return st;
fail:
	db_pg_close(st);
	return NULL;
}

void
db_pg_close(struct db *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		if (st->q[i].st != NULL)
			db_pg_done(&st->q[i]);
	PQfinish(conn(st)); /* NULL is a no-op */
	free(st);
}
