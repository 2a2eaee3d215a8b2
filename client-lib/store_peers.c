/*
 * store_peers.c - the local store's pinned keys: each device of a contact (and
 * of this user) with the identity and exchange keys first seen, a change of
 * key waiting for the user's word, and removals (store.h, "A pinned device").
 */
#include "store_sql.h"

#include <stdio.h>
#include <string.h>

#include "proto.h"

static void
copy_key(uint8_t *dst, sqlite3_stmt *st, int col)
{
	const void *b = sqlite3_column_blob(st, col);

	if (b != NULL && sqlite3_column_bytes(st, col) == 32)
		memcpy(dst, b, 32);
	else
		memset(dst, 0, 32);
}

/* Reads PEER_COLUMNS, from column col on. */
static void
row_to_peer(sqlite3_stmt *st, int col, struct store_peer *p)
{
	memset(p, 0, sizeof *p);
	copy_key(p->identity_key, st, col);
	copy_key(p->exchange_key, st, col + 1);
	p->has_pending = sqlite3_column_type(st, col + 2) == SQLITE_BLOB;
	if (p->has_pending) {
		copy_key(p->pending_identity, st, col + 2);
		copy_key(p->pending_exchange, st, col + 3);
	}
	p->active = sqlite3_column_int(st, col + 4);
	store_col_copy(st, col + 5, p->name, sizeof p->name);
	p->removed = sqlite3_column_type(st, col + 6) == SQLITE_INTEGER;
	p->horizon = p->removed ? (uint32_t)sqlite3_column_int64(st, col + 6) : 0;
}

/* The statements that take (user, device) as ?1 and ?2. */
static sqlite3_stmt *
user_device(struct store *s, enum store_st which, const char *user, uint32_t device)
{
	sqlite3_stmt *st = store_stmt(s, which);

	if (st == NULL || store_bind_text(s, st, 1, user) || store_bind_int(s, st, 2, device)) {
		store_done(s, st);
		return NULL;
	}
	return st;
}

int
store_peer_get(struct store *s, const char *user, uint32_t device, struct store_peer *p)
{
	sqlite3_stmt *st = user_device(s, ST_PEER_GET, user, device);
	int rc;

	if (st == NULL)
		return store_abandon(s, NULL, "read pinned key");
	if ((rc = store_step(s, st, "read pinned key")) == 1)
		row_to_peer(st, 0, p);
	store_done(s, st);
	return rc;
}

int
store_peer_pin(struct store *s, const char *user, uint32_t device, const uint8_t ik[32],
	       const uint8_t xk[32], const char *name)
{
	sqlite3_stmt *st = user_device(s, ST_PEER_PIN, user, device);

	if (st == NULL || store_bind_blob(s, st, 3, ik, 32) || store_bind_blob(s, st, 4, xk, 32) ||
	    store_bind_int(s, st, 5, proto_now_ms()) || store_bind_text(s, st, 6, name))
		return store_abandon(s, st, "pin key");
	return store_run(s, st, "pin key");
}

/* A statement whose one row is one count; -1 on failure. */
static int
count(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc, n = -1;

	if (st == NULL)
		return store_abandon(s, NULL, what);
	if ((rc = store_step(s, st, what)) == 1)
		n = sqlite3_column_int(st, 0);
	else if (rc == 0)
		snprintf(s->err, sizeof s->err, "%s: no count", what);
	store_done(s, st);
	return n;
}

int
store_peer_count_pins(struct store *s, const char *user, uint32_t skip)
{
	return count(s, user_device(s, ST_PEER_COUNT_PINS, user, skip), "count pins");
}

int
store_peer_find_identity(struct store *s, const char *user, const uint8_t ik[32], uint32_t *device,
			 struct store_peer *p)
{
	sqlite3_stmt *st = store_stmt(s, ST_PEER_FIND_IDENTITY);
	int rc;

	if (st == NULL || store_bind_text(s, st, 1, user) || store_bind_blob(s, st, 2, ik, 32))
		return store_abandon(s, st, "look up key");
	if ((rc = store_step(s, st, "look up key")) == 1) {
		*device = (uint32_t)sqlite3_column_int64(st, 0);
		row_to_peer(st, 1, p);
	}
	store_done(s, st);
	return rc;
}

int
store_peer_max_id(struct store *s, const char *user, uint32_t *max)
{
	sqlite3_stmt *st = store_stmt(s, ST_PEER_MAX_ID);
	int rc;

	if (st == NULL || store_bind_text(s, st, 1, user))
		return store_abandon(s, st, "read device ids");
	if ((rc = store_step(s, st, "read device ids")) == 1)
		*max = (uint32_t)sqlite3_column_int64(st, 0);
	else if (rc == 0)
		snprintf(s->err, sizeof s->err, "read device ids: no row");
	store_done(s, st);
	return rc == 1 ? 0 : -1;
}

int
store_peer_set_pending(struct store *s, const char *user, uint32_t device, const uint8_t ik[32],
		       const uint8_t xk[32])
{
	sqlite3_stmt *st = store_stmt(s, ST_PEER_SET_PENDING);

	if (st == NULL || store_bind_blob(s, st, 1, ik, 32) || store_bind_blob(s, st, 2, xk, 32) ||
	    store_bind_text(s, st, 3, user) || store_bind_int(s, st, 4, device))
		return store_abandon(s, st, "record changed key");
	return store_run(s, st, "record changed key");
}

int
store_peer_trust(struct store *s, const char *user)
{
	sqlite3_stmt *st = store_stmt(s, ST_PEER_TRUST);

	if (st == NULL || store_bind_int(s, st, 1, proto_now_ms()) ||
	    store_bind_text(s, st, 2, user))
		return store_abandon(s, st, "accept key");
	if (store_run(s, st, "accept key") != 0)
		return -1;
	return sqlite3_changes(s->db);
}

int
store_peer_remove(struct store *s, const char *user, uint32_t device, uint32_t horizon)
{
	sqlite3_stmt *st = store_stmt(s, ST_PEER_REMOVE);

	if (st == NULL || store_bind_int(s, st, 1, horizon) || store_bind_text(s, st, 2, user) ||
	    store_bind_int(s, st, 3, device))
		return store_abandon(s, st, "mark device removed");
	return store_run(s, st, "mark device removed");
}

int
store_peer_drop_pending(struct store *s, const char *user, uint32_t device)
{
	sqlite3_stmt *st = user_device(s, ST_PEER_DROP_PENDING, user, device);

	if (st == NULL)
		return store_abandon(s, NULL, "forget changed key");
	return store_run(s, st, "forget changed key");
}

/* Calls fn for each row of a walk of devices (device_id, PEER_COLUMNS). */
static int
walk_peers(struct store *s, enum store_st which, const char *user, store_peer_fn fn, void *arg,
	   int *stop)
{
	sqlite3_stmt *st = store_stmt(s, which);
	int rc = 0, halt = 0;

	if (stop != NULL)
		*stop = 0;
	if (st == NULL || store_bind_text(s, st, 1, user))
		return store_abandon(s, st, "list devices");
	while (halt == 0 && (rc = store_step(s, st, "list devices")) == 1) {
		struct store_peer p;

		row_to_peer(st, 1, &p);
		halt = fn(arg, user, (uint32_t)sqlite3_column_int64(st, 0), &p);
	}
	store_done(s, st);
	if (halt != 0) {
		if (stop != NULL)
			*stop = halt;
		return 0;
	}
	return rc;
}

int
store_peer_each_pin(struct store *s, const char *user, store_peer_fn fn, void *arg, int *stop)
{
	return walk_peers(s, ST_PEER_EACH_PIN, user, fn, arg, stop);
}

int
store_peer_each(struct store *s, const char *user, store_peer_fn fn, void *arg, int *stop)
{
	return walk_peers(s, ST_PEER_EACH, user, fn, arg, stop);
}

int
store_peer_count(struct store *s, const char *user)
{
	sqlite3_stmt *st = store_stmt(s, ST_PEER_COUNT);

	if (st == NULL || store_bind_text(s, st, 1, user))
		return store_abandon(s, st, "count devices");
	return count(s, st, "count devices");
}
