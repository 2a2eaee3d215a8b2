/*
 * db_blobs.c - the metadata of attachments (see db.h): a blob is pending
 * from getAttachmentTarget until its upload is on disk, then complete;
 * messages refer to it (message_blobs), and who may download it follows
 * from those messages' chats.  The bytes are files the network layer writes
 * and deletes (server_http.c, server_limits.c).
 */
#include "db_sql.h"

#include <stdlib.h>
#include <string.h>

enum db_status
db_blob_create(struct db *st, const char *blob_id, const char *user, uint32_t device_id,
	       int64_t max_size, int64_t now)
{
	struct db_q *s = db_stmt(st, ST_BLOB_INSERT);
	int rc;

	if (db_bind_text(st, s, 1, blob_id) || db_bind_text(st, s, 2, user) ||
	    db_bind_int(st, s, 3, device_id) || db_bind_int(st, s, 4, max_size) ||
	    db_bind_int(st, s, 5, now)) {
		db_done(s);
		return DB_INTERNAL;
	}
	rc = db_step(st, s);
	if (rc != DB_DONE && rc != DB_DUP)
		db_fail(st, "insert blob");
	db_done(s);
	return rc == DB_DONE                    ? DB_OK
	       : rc == DB_DUP ? DB_DUPLICATE
						    : DB_INTERNAL;
}

enum db_status
db_blob_get(struct db *st, const char *blob_id, struct db_blob *out)
{
	struct db_q *s = db_stmt(st, ST_BLOB_GET);
	int r;

	memset(out, 0, sizeof *out);
	if (db_bind_text(st, s, 1, blob_id) != 0) {
		db_done(s);
		return DB_INTERNAL;
	}
	if ((r = db_step_row(st, s, "blob")) <= 0)
		return r == 0 ? DB_NOT_FOUND : DB_INTERNAL;
	if (db_col_text(s, 0, out->user, sizeof out->user) != 0) {
		srv_log("db: malformed blob row %s", blob_id);
		db_done(s);
		return DB_INTERNAL;
	}
	out->device_id = (uint32_t)db_col_int64(s, 1);
	out->max_size = db_col_int64(s, 2);
	out->size = db_col_int64(s, 3); /* NULL reads as 0 */
	out->complete = db_col_int(s, 4);
	out->created_at = db_col_int64(s, 5);
	db_done(s);
	return DB_OK;
}

enum db_status
db_blob_complete(struct db *st, const char *blob_id, int64_t size, int64_t now)
{
	struct db_q *s = db_stmt(st, ST_BLOB_COMPLETE);

	if (db_bind_text(st, s, 1, blob_id) || db_bind_int(st, s, 2, size) ||
	    db_bind_int(st, s, 3, now)) {
		db_done(s);
		return DB_INTERNAL;
	}
	if (db_step_done(st, s, "complete blob") != 0)
		return DB_INTERNAL;
	return db_changes(st) == 1 ? DB_OK : DB_NOT_FOUND;
}

enum db_status
db_blob_readable(struct db *st, const char *blob_id, const char *user, int64_t *size)
{
	struct db_q *s = db_stmt(st, ST_BLOB_READABLE);
	int r;

	*size = 0;
	if (db_bind_text(st, s, 1, blob_id) || db_bind_text(st, s, 2, user)) {
		db_done(s);
		return DB_INTERNAL;
	}
	if ((r = db_step_row(st, s, "blob readable")) <= 0)
		return r == 0 ? DB_NOT_FOUND : DB_INTERNAL;
	*size = db_col_int64(s, 0);
	db_done(s);
	return DB_OK;
}

enum db_status
db_blob_usage(struct db *st, const char *user, uint32_t device_id, struct db_blob_usage *out)
{
	struct db_q *s = db_stmt(st, ST_BLOB_USAGE);

	memset(out, 0, sizeof *out);
	if (db_bind_text(st, s, 1, user) || db_bind_int(st, s, 2, device_id)) {
		db_done(s);
		return DB_INTERNAL;
	}
	if (db_step_row(st, s, "blob usage") != 1)
		return DB_INTERNAL; /* an aggregate always has its row */
	out->pending = db_col_int64(s, 0);
	out->pending_bytes = db_col_int64(s, 1);
	out->stored_bytes = db_col_int64(s, 2);
	db_done(s);
	return DB_OK;
}

/* 0 if every blob of req is complete and the sender device's, 1 if one is
 * not, -1 on error. */
int
db_check_blobs(struct db *st, const struct db_send *req)
{
	struct db_blob b;
	enum db_status r;
	size_t i;

	for (i = 0; i < req->n_blobs; i++) {
		if ((r = db_blob_get(st, req->blobs[i], &b)) == DB_NOT_FOUND)
			return 1;
		if (r != DB_OK)
			return -1;
		if (!b.complete || b.device_id != req->sender_device ||
		    strcmp(b.user, req->sender_user) != 0)
			return 1;
	}
	return 0;
}

int
db_blob_refer(struct db *st, const char *message_id, const char *blob_id)
{
	struct db_q *s = db_stmt(st, ST_MESSAGE_BLOB_INSERT);

	if (db_bind_text(st, s, 1, message_id) || db_bind_text(st, s, 2, blob_id)) {
		db_done(s);
		return -1;
	}
	return db_step_done(st, s, "insert message blob");
}

enum db_status
db_blob_purge(struct db *st, int64_t cutoff, db_blob_fn *fn, void *udata, int64_t *n)
{
	struct db_q *s = db_stmt(st, ST_BLOB_PURGE_LIST);
	char(*ids)[PROTO_MESSAGE_ID_LEN + 1] = NULL, (*nids)[PROTO_MESSAGE_ID_LEN + 1];
	size_t count = 0, cap = 0, i;
	int rc;

	*n = 0;
	if (db_tx_begin(st, DB_TX_WRITE) != 0)
		return DB_INTERNAL;
	if (db_lock_housekeeping(st, DB_LOCK_BLOB_PURGE) != 0)
		goto fail;
	if (db_bind_int(st, s, 1, cutoff) != 0) {
		db_done(s);
		goto fail;
	}
	while ((rc = db_step(st, s)) == DB_ROW) {
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nids = realloc(ids, cap * sizeof *ids)) == NULL) {
				srv_log("db: blob purge: out of memory");
				db_done(s);
				goto fail;
			}
			ids = nids;
		}
		if (db_col_text(s, 0, ids[count], sizeof ids[count]) != 0) {
			srv_log("db: malformed blob id");
			db_done(s);
			goto fail;
		}
		count++;
	}
	if (rc != DB_DONE) {
		db_fail(st, "blob purge list");
		db_done(s);
		goto fail;
	}
	db_done(s);
	/* The dangling references first: message_blobs refers to blobs. */
	if (db_step_done(st, db_stmt(st, ST_BLOB_PURGE_REFS), "blob purge refs") != 0)
		goto fail;
	s = db_stmt(st, ST_BLOB_DELETE);
	for (i = 0; i < count; i++) {
		if (db_bind_text(st, s, 1, ids[i]) != 0) {
			db_done(s);
			goto fail;
		}
		if (db_step_done(st, s, "blob delete") != 0)
			goto fail;
	}
	if (db_tx_end(st, DB_TX_COMMIT) != 0)
		goto fail;
	for (i = 0; i < count; i++)
		fn(udata, ids[i]);
	*n = (int64_t)count;
	free(ids);
	return DB_OK;
fail:
	db_tx_end(st, DB_TX_ROLLBACK);
	free(ids);
	return DB_INTERNAL;
}
