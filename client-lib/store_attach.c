/*
 * store_attach.c - the local store's records of attachments (attach.h): what
 * a message says of each of its files, its key included, and where the file
 * was downloaded.
 */
#include "store_sql.h"
#include "attach.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
store_attachment_put(struct store *s, const char *message_id, int idx, const struct attach_meta *m)
{
	sqlite3_stmt *st = store_stmt(s, ST_ATTACH_PUT);

	if (st == NULL || store_bind_text(s, st, 1, message_id) || store_bind_int(s, st, 2, idx) ||
	    store_bind_text(s, st, 3, m->blob_id) || store_bind_text(s, st, 4, m->name) ||
	    store_bind_text(s, st, 5, m->type) || store_bind_int(s, st, 6, (int64_t)m->size) ||
	    store_bind_int(s, st, 7, (int64_t)m->enc_size) ||
	    store_bind_blob(s, st, 8, m->key, sizeof m->key) ||
	    store_bind_blob(s, st, 9, m->sha256, sizeof m->sha256))
		return store_abandon(s, st, "store attachment");
	return store_run(s, st, "store attachment");
}

/* Copies a blob column of exactly len bytes; leaves out as it is otherwise. */
static void
copy_blob(uint8_t *out, size_t len, sqlite3_stmt *st, int col)
{
	const void *b = sqlite3_column_blob(st, col);

	if (b != NULL && (size_t)sqlite3_column_bytes(st, col) == len)
		memcpy(out, b, len);
}

/* Reads the row under st (ST_ATTACH_LIST's columns) into m and, if path is
 * not NULL, where it was downloaded into *path (NULL if nowhere). 0, or -1
 * out of memory. */
static int
row_to_meta(sqlite3_stmt *st, struct attach_meta *m, char **path)
{
	const char *p = (const char *)sqlite3_column_text(st, 7);

	memset(m, 0, sizeof *m);
	store_col_copy(st, 0, m->blob_id, sizeof m->blob_id);
	store_col_copy(st, 1, m->name, sizeof m->name);
	store_col_copy(st, 2, m->type, sizeof m->type);
	m->size = (uint64_t)sqlite3_column_int64(st, 3);
	m->enc_size = (uint64_t)sqlite3_column_int64(st, 4);
	copy_blob(m->key, sizeof m->key, st, 5);
	copy_blob(m->sha256, sizeof m->sha256, st, 6);
	if (path == NULL)
		return 0;
	*path = p ? strdup(p) : NULL;
	return p != NULL && *path == NULL ? -1 : 0;
}

int
store_attachments(struct store *s, const char *message_id, struct attach_meta **out, char ***paths,
		  size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, ST_ATTACH_LIST);
	struct attach_meta *v = NULL;
	char **p = NULL;
	size_t len = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (paths != NULL)
		*paths = NULL;
	if (st == NULL || store_bind_text(s, st, 1, message_id))
		return store_abandon(s, st, "read attachments");
	while (len < PROTO_MAX_BLOBS && (rc = store_step(s, st, "read attachments")) == 1) {
		/* A message has at most PROTO_MAX_BLOBS: room for them all at
		 * its first (most messages have none, and allocate nothing). */
		if (v == NULL &&
		    ((v = calloc(PROTO_MAX_BLOBS, sizeof *v)) == NULL ||
		     (paths != NULL && (p = calloc(PROTO_MAX_BLOBS, sizeof *p)) == NULL)))
			rc = -1;
		if (rc < 0 || row_to_meta(st, &v[len], paths ? &p[len] : NULL) != 0) {
			snprintf(s->err, sizeof s->err, "read attachments: out of memory");
			rc = -1;
			break;
		}
		len++;
	}
	store_done(s, st);
	if (rc < 0) {
		/* The entry being read when it failed holds a key too: wiped. */
		attach_meta_free(v, v != NULL && len < PROTO_MAX_BLOBS ? len + 1 : len);
		store_free_list(p, len);
		return -1;
	}
	*out = v;
	*n = len;
	if (paths != NULL)
		*paths = p;
	return 0;
}

int
store_attachment_set_path(struct store *s, const char *message_id, int idx, const char *path)
{
	sqlite3_stmt *st = store_stmt(s, ST_ATTACH_SET_PATH);

	if (st == NULL || store_bind_text(s, st, 1, path) ||
	    store_bind_text(s, st, 2, message_id) || store_bind_int(s, st, 3, idx))
		return store_abandon(s, st, "record download");
	return store_run(s, st, "record download");
}
