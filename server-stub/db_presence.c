/*
 * db_presence.c - last seen (see db.h): when a user's devices were last
 * connected, and whether the user hides it.  Who may see it is the request
 * layer's rule (wire_presence.c), on db_is_contact.
 */
#include "db_sql.h"

enum db_status
db_touch_device(struct db *st, const char *user, uint32_t device_id, int64_t now)
{
	struct db_q *s = db_stmt(st, ST_DEVICE_TOUCH);

	if (db_bind_text(st, s, 1, user) || db_bind_int(st, s, 2, device_id) ||
	    db_bind_int(st, s, 3, now)) {
		db_done(s);
		return DB_INTERNAL;
	}
	return db_step_done(st, s, "touch device") == 0 ? DB_OK : DB_INTERNAL;
}

enum db_status
db_last_seen(struct db *st, const char *user, int *hide, int64_t *last_seen)
{
	struct db_q *s = db_stmt(st, ST_LAST_SEEN);
	int rc;

	if (db_bind_text(st, s, 1, user)) {
		db_done(s);
		return DB_INTERNAL;
	}
	rc = db_step_row(st, s, "last seen");
	if (rc == 1) {
		*hide = db_col_int64(s, 0) != 0;
		*last_seen =
			db_col_null(s, 1) ? -1 : db_col_int64(s, 1);
		db_done(s);
	}
	return rc < 0 ? DB_INTERNAL : rc == 0 ? DB_NOT_FOUND : DB_OK;
}

enum db_status
db_set_hide_last_seen(struct db *st, const char *user, int hide)
{
	struct db_q *s = db_stmt(st, ST_SET_HIDE_LAST_SEEN);

	if (db_bind_text(st, s, 1, user) || db_bind_int(st, s, 2, hide ? 1 : 0)) {
		db_done(s);
		return DB_INTERNAL;
	}
	if (db_step_done(st, s, "set hide last seen") != 0)
		return DB_INTERNAL;
	return db_changes(st) > 0 ? DB_OK : DB_NOT_FOUND;
}
