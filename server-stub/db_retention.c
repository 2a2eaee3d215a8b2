/*
 * db_retention.c - the retention purge (see db.h): inbox rows older than the
 * retention time go, acked or not, each device counting what it lost until it
 * is told (the missed push); messages no inbox row refers to any more go too,
 * leaving a tombstone so that a late resend is still recognised. And the
 * expiry of disappearing messages' inbox rows (db_expire).
 */
#include "db_sql.h"

#include <string.h>

enum db_status
db_purge(struct db *st, int64_t cutoff, int64_t tomb_cutoff, struct db_purge_result *res)
{
	memset(res, 0, sizeof *res);
	if (db_tx_begin(st, DB_TX_WRITE) != 0)
		return DB_INTERNAL;
	if (db_lock_housekeeping(st, DB_LOCK_PURGE) != 0 ||
	    db_cutoff_step(st, ST_PURGE_COUNT, cutoff, "purge: count", NULL) != 0 ||
	    db_cutoff_step(st, ST_PURGE_INBOX, cutoff, "purge: inbox", &res->inbox_rows) != 0 ||
	    db_cutoff_step(st, ST_PURGE_TOMB, cutoff, "purge: tombstones", NULL) != 0 ||
	    db_cutoff_step(st, ST_PURGE_MESSAGES, cutoff, "purge: messages", &res->messages) != 0 ||
	    db_cutoff_step(st, ST_PURGE_TOMBSTONES, tomb_cutoff, "purge: old tombstones",
			   &res->tombstones) != 0 ||
	    db_tx_end(st, DB_TX_COMMIT) != 0) {
		db_tx_end(st, DB_TX_ROLLBACK);
		memset(res, 0, sizeof *res);
		return DB_INTERNAL;
	}
	return DB_OK;
}

enum db_status
db_expire(struct db *st, int64_t now, int64_t *rows)
{
	*rows = 0;
	return db_cutoff_step(st, ST_EXPIRE_INBOX, now, "expire: inbox", rows) == 0 ? DB_OK
										   : DB_INTERNAL;
}

enum db_status
db_missed(struct db *st, const char *user, uint32_t device_id, int64_t *count, int64_t *oldest)
{
	struct db_q *s = db_stmt(st, ST_MISSED_GET);
	int r;

	*count = *oldest = 0;
	if (db_bind_text(st, s, 1, user) || db_bind_int(st, s, 2, device_id)) {
		db_done(s);
		return DB_INTERNAL;
	}
	r = db_step_row(st, s, "missed");
	if (r <= 0)
		return r == 0 ? DB_NOT_FOUND : DB_INTERNAL;
	*count = db_col_int64(s, 0);
	*oldest = db_col_int64(s, 1);
	db_done(s);
	return DB_OK;
}

enum db_status
db_missed_reset(struct db *st, const char *user, uint32_t device_id)
{
	return db_device_step(st, ST_MISSED_RESET, user, device_id, 0, "missed reset") == 0
		       ? DB_OK
		       : DB_INTERNAL;
}
