/*
 * db_accounts.c - the store's users and devices (see db.h): registering a
 * user with its first device, linking and removing devices, the key
 * directory, and who is whose contact.
 *
 * Device ids are never reused: each user row keeps the next one to give out,
 * and a removed device's keys move to retired_devices, so that what it sent
 * before still reaches its recipients with its sender entry.
 */
#include "db_sql.h"

#include <string.h>

/* 1 the user exists, 0 not, -1 error. */
int
db_find_user(struct db *st, const char *user)
{
	struct db_q *s = db_stmt(st, ST_USER_EXISTS);
	int r;

	if (db_bind_text(st, s, 1, user) != 0) {
		db_done(s);
		return -1;
	}
	r = db_step_row(st, s, "user exists");
	if (r == 1)
		db_done(s);
	return r;
}

enum db_status
db_user_exists(struct db *st, const char *user)
{
	int r = db_find_user(st, user);

	return r < 0 ? DB_INTERNAL : r ? DB_OK : DB_NOT_FOUND;
}

/* 1 if subject has taken part in a chat viewer is in, 0 not, -1 error. */
int
db_find_contact(struct db *st, const char *viewer, const char *subject)
{
	struct db_q *s = db_stmt(st, ST_IS_CONTACT);
	int r;

	if (strcmp(viewer, subject) == 0)
		return 1;
	if (db_bind_text(st, s, 1, viewer) || db_bind_text(st, s, 2, subject)) {
		db_done(s);
		return -1;
	}
	r = db_step_row(st, s, "contact");
	if (r == 1)
		db_done(s);
	return r;
}

enum db_status
db_is_contact(struct db *st, const char *viewer, const char *subject)
{
	int r = db_find_contact(st, viewer, subject);

	return r < 0 ? DB_INTERNAL : r ? DB_OK : DB_NOT_FOUND;
}

/* Who holds this identity key: 1 found (owner filled; *first 1 if it is
 * the user's first device, the one register made), 0 none, -1 error. */
static int
key_owner(struct db *st, const uint8_t key[PROTO_KEY_BYTES], char owner[PROTO_USER_MAX + 1],
	  uint32_t *device_id, int *first)
{
	struct db_q *s = db_stmt(st, ST_DEVICE_BY_KEY);
	int r;

	if (db_bind_blob(st, s, 1, key, PROTO_KEY_BYTES) != 0) {
		db_done(s);
		return -1;
	}
	r = db_step_row(st, s, "device by key");
	if (r == 1) {
		if (db_col_text(s, 0, owner, PROTO_USER_MAX + 1) != 0)
			r = -1;
		*device_id = (uint32_t)db_col_int64(s, 1);
		*first = db_col_int(s, 2);
		db_done(s);
	}
	return r;
}

static int
insert_device(struct db *st, const char *user, uint32_t device_id, const char *name,
	      const uint8_t *ik, const uint8_t *xk, const uint8_t *xsig, const uint8_t *approver,
	      const uint8_t *approval, int64_t now)
{
	struct db_q *s = db_stmt(st, ST_DEVICE_INSERT);
	int rc = 0;

	if (db_bind_text(st, s, 1, user) || db_bind_int(st, s, 2, device_id) ||
	    db_bind_text(st, s, 3, name) || db_bind_blob(st, s, 4, ik, PROTO_KEY_BYTES) ||
	    db_bind_blob(st, s, 5, xk, PROTO_KEY_BYTES) ||
	    db_bind_blob(st, s, 6, xsig, PROTO_SIG_BYTES) || db_bind_int(st, s, 7, now))
		rc = -1;
	/* A first device has no approval: both stay NULL. */
	if (rc == 0 && approver != NULL &&
	    (db_bind_blob(st, s, 8, approver, PROTO_KEY_BYTES) ||
	     db_bind_blob(st, s, 9, approval, PROTO_SIG_BYTES)))
		rc = -1;
	if (rc != 0) {
		db_done(s);
		return -1;
	}
	return db_step_done(st, s, "insert device");
}

static int
insert_user_device(struct db *st, const char *user, const char *name, const uint8_t *ik,
		   const uint8_t *xk, const uint8_t *xsig, int64_t now)
{
	struct db_q *s = db_stmt(st, ST_USER_INSERT);

	if (db_bind_text(st, s, 1, user) || db_bind_int(st, s, 2, now)) {
		db_done(s);
		return -1;
	}
	if (db_step_done(st, s, "insert user") != 0)
		return -1;
	/* The user row starts with next_device_id 2. */
	return insert_device(st, user, 1, name, ik, xk, xsig, NULL, NULL, now);
}

enum db_status
db_register(struct db *st, const char *user, const char *device_name,
	    const uint8_t identity_key[PROTO_KEY_BYTES],
	    const uint8_t exchange_key[PROTO_KEY_BYTES],
	    const uint8_t exchange_key_sig[PROTO_SIG_BYTES], int64_t now, uint32_t *device_id,
	    int *created)
{
	char owner[PROTO_USER_MAX + 1];
	uint32_t owner_device = 0;
	enum db_status ret = DB_INTERNAL;
	int exists, held = 0, first = 0;

	*created = 0;
	if (db_tx_begin(st, DB_TX_WRITE) != 0)
		return DB_INTERNAL;
	if ((exists = db_find_user(st, user)) < 0 ||
	    (held = key_owner(st, identity_key, owner, &owner_device, &first)) < 0)
		goto out;
	if (exists) {
		/* A retry whose reply was lost proves itself by the key; only
		 * of the device register made, which linking never does. */
		if (held && first && strcmp(owner, user) == 0) {
			*device_id = owner_device;
			ret = DB_OK;
		} else {
			ret = DB_EXISTS;
		}
		goto out;
	}
	if (held) {
		ret = DB_KEY_TAKEN;
		goto out;
	}
	if (insert_user_device(st, user, device_name, identity_key, exchange_key, exchange_key_sig,
			       now) != 0 ||
	    db_tx_end(st, DB_TX_COMMIT) != 0)
		goto out;
	*device_id = 1;
	*created = 1;
	return DB_OK;
out:
	db_tx_end(st, DB_TX_ROLLBACK);
	return ret;
}

/* The checks a link must pass, inside the caller's transaction. */
static enum db_status
link_checks(struct db *st, const char *user, const uint8_t identity_key[PROTO_KEY_BYTES])
{
	char owner[PROTO_USER_MAX + 1];
	uint32_t owner_device;
	int64_t count;
	int r, first;

	if ((r = db_find_user(st, user)) <= 0)
		return r == 0 ? DB_NOT_FOUND : DB_INTERNAL;
	if (db_query_text_int(st, ST_DEVICE_COUNT, user, &count, "device count") != 0)
		return DB_INTERNAL;
	if (count >= PROTO_MAX_DEVICES)
		return DB_TOO_MANY;
	if ((r = key_owner(st, identity_key, owner, &owner_device, &first)) != 0)
		return r > 0 ? DB_KEY_TAKEN : DB_INTERNAL;
	return DB_OK;
}

enum db_status
db_link_check(struct db *st, const char *user, const uint8_t identity_key[PROTO_KEY_BYTES])
{
	enum db_status ret;

	if (db_tx_begin(st, DB_TX_READ) != 0)
		return DB_INTERNAL;
	ret = link_checks(st, user, identity_key);
	db_tx_end(st, DB_TX_ROLLBACK); /* read only: ends the snapshot */
	return ret;
}

enum db_status
db_link_device(struct db *st, const struct db_new_device *d, uint32_t *device_id)
{
	struct db_q *s;
	enum db_status ret;
	int64_t next;

	*device_id = 0;
	if (db_tx_begin(st, DB_TX_WRITE) != 0)
		return DB_INTERNAL;
	if ((ret = link_checks(st, d->user, d->identity_key)) != DB_OK)
		goto out;
	ret = DB_INTERNAL;
	if (db_query_text_int(st, ST_USER_NEXT_DEVICE, d->user, &next, "next device id") != 0)
		goto out;
	if (next < 1 || next > PROTO_DEVICE_ID_MAX) {
		srv_log("db: user %s has used up its device ids", d->user);
		goto out;
	}
	if (insert_device(st, d->user, (uint32_t)next, d->name, d->identity_key, d->exchange_key,
			  d->exchange_key_sig, d->approver_key, d->approval, d->now) != 0)
		goto out;
	s = db_stmt(st, ST_USER_SET_NEXT_DEVICE);
	if (db_bind_text(st, s, 1, d->user) || db_bind_int(st, s, 2, next + 1)) {
		db_done(s);
		goto out;
	}
	if (db_step_done(st, s, "bump device id") != 0 || db_tx_end(st, DB_TX_COMMIT) != 0)
		goto out;
	*device_id = (uint32_t)next;
	return DB_OK;
out:
	db_tx_end(st, DB_TX_ROLLBACK);
	return ret;
}

enum db_status
db_remove_device(struct db *st, const char *user, uint32_t device_id, int64_t now)
{
	uint8_t ik[PROTO_KEY_BYTES];
	enum db_status ret;

	if (db_tx_begin(st, DB_TX_WRITE) != 0)
		return DB_INTERNAL;
	if ((ret = db_device_identity(st, user, device_id, ik)) != DB_OK)
		goto out;
	ret = DB_INTERNAL;
	if (db_device_step(st, ST_DEVICE_INBOX_DELETE, user, device_id, now, "delete inbox") != 0 ||
	    db_device_step(st, ST_DEVICE_RETIRE, user, device_id, now, "retire device") != 0 ||
	    db_device_step(st, ST_DEVICE_DELETE, user, device_id, now, "delete device") != 0 ||
	    db_tx_end(st, DB_TX_COMMIT) != 0)
		goto out;
	return DB_OK;
out:
	db_tx_end(st, DB_TX_ROLLBACK);
	return ret;
}

enum db_status
db_device_identity(struct db *st, const char *user, uint32_t device_id,
		   uint8_t identity_key[PROTO_KEY_BYTES])
{
	struct db_q *s = db_stmt(st, ST_DEVICE_IDENTITY);
	int r;

	if (db_bind_text(st, s, 1, user) || db_bind_int(st, s, 2, device_id)) {
		db_done(s);
		return DB_INTERNAL;
	}
	r = db_step_row(st, s, "device identity");
	if (r <= 0)
		return r == 0 ? DB_NOT_FOUND : DB_INTERNAL;
	r = db_col_blob(s, 0, identity_key, PROTO_KEY_BYTES);
	db_done(s);
	if (r != 0) {
		srv_log("db: device %s/%u has a malformed identity key", user, (unsigned)device_id);
		return DB_INTERNAL;
	}
	return DB_OK;
}

static int
read_device(struct db_q *s, struct db_device *d)
{
	int64_t id = db_col_int64(s, 0);

	if (id < 1 || id > PROTO_DEVICE_ID_MAX)
		return -1;
	d->device_id = (uint32_t)id;
	d->has_name = !db_col_null(s, 1);
	d->name[0] = '\0';
	if (d->has_name && db_col_text(s, 1, d->name, sizeof d->name) != 0)
		return -1;
	if (db_col_blob(s, 2, d->identity_key, PROTO_KEY_BYTES) != 0 ||
	    db_col_blob(s, 3, d->exchange_key, PROTO_KEY_BYTES) != 0 ||
	    db_col_blob(s, 4, d->exchange_key_sig, PROTO_SIG_BYTES) != 0)
		return -1;
	d->approved = !db_col_null(s, 5);
	if (d->approved != (!db_col_null(s, 6)))
		return -1;
	if (d->approved && (db_col_blob(s, 5, d->approver_key, PROTO_KEY_BYTES) != 0 ||
			    db_col_blob(s, 6, d->approval, PROTO_SIG_BYTES) != 0))
		return -1;
	return 0;
}

enum db_status
db_user_devices(struct db *st, const char *user, struct db_device *out, size_t cap, size_t *n)
{
	struct db_q *s = db_stmt(st, ST_USER_DEVICES);
	int rc, exists;

	*n = 0;
	/* A user always has a device, but ask the users table anyway: "no such
	 * user" must not depend on that invariant. */
	if ((exists = db_find_user(st, user)) <= 0)
		return exists == 0 ? DB_NOT_FOUND : DB_INTERNAL;
	if (db_bind_text(st, s, 1, user) != 0) {
		db_done(s);
		return DB_INTERNAL;
	}
	while ((rc = db_step(st, s)) == DB_ROW && *n < cap) {
		if (read_device(s, &out[*n]) != 0) {
			srv_log("db: user %s has a malformed device row", user);
			db_done(s);
			return DB_INTERNAL;
		}
		(*n)++;
	}
	if (rc != DB_ROW && rc != DB_DONE) {
		db_fail(st, "user devices");
		db_done(s);
		return DB_INTERNAL;
	}
	db_done(s);
	return DB_OK;
}
