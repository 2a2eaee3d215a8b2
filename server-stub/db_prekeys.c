/*
 * db_prekeys.c - the prekey directory (PROTOCOL.md, "uploadPrekeys",
 * "getPrekeyBundle", "prekeysLow"): a device's signed prekey and its
 * one-time prekeys, each of those handed out once.
 *
 * A one-time prekey is deleted in the transaction that reads it for a
 * bundle (ST_OPK_TAKE); inside the service loop's batch that transaction is
 * a savepoint, and the bundle's reply goes out only after the batch's
 * COMMIT: so no key is handed out twice, even across a crash.
 */
#include "db_sql.h"

#include <string.h>

/* The device's one-time prekeys: 0 or -1. */
static int
opk_count(struct db *st, const char *user, uint32_t device_id, int64_t *count)
{
	struct db_q *s = db_stmt(st, ST_OPK_COUNT);

	if (db_bind_text(st, s, 1, user) || db_bind_int(st, s, 2, device_id)) {
		db_done(s);
		return -1;
	}
	if (db_step_row(st, s, "prekey count") != 1)
		return -1;
	*count = db_col_int64(s, 0);
	db_done(s);
	return 0;
}

/* The device's signed prekey: 1 (into spk, *told its low_told), 0 none, -1
 * error. */
static int
spk_get(struct db *st, const char *user, uint32_t device_id, struct db_signed_prekey *spk,
	int *told)
{
	struct db_q *s = db_stmt(st, ST_SPK_GET);
	int r;

	if (db_bind_text(st, s, 1, user) || db_bind_int(st, s, 2, device_id)) {
		db_done(s);
		return -1;
	}
	if ((r = db_step_row(st, s, "signed prekey")) != 1)
		return r;
	spk->id = (uint32_t)db_col_int64(s, 0);
	*told = db_col_int(s, 3) != 0;
	if (db_col_blob(s, 1, spk->key, sizeof spk->key) != 0 ||
	    db_col_blob(s, 2, spk->sig, sizeof spk->sig) != 0) {
		srv_log("db: %s/%u has a malformed signed prekey", user, (unsigned)device_id);
		db_done(s);
		return -1;
	}
	db_done(s);
	return 1;
}

static int
spk_put(struct db *st, const char *user, uint32_t device_id, const struct db_signed_prekey *spk,
	int64_t now)
{
	struct db_q *s = db_stmt(st, ST_SPK_PUT);

	if (db_bind_text(st, s, 1, user) || db_bind_int(st, s, 2, device_id) ||
	    db_bind_int(st, s, 3, spk->id) || db_bind_blob(st, s, 4, spk->key, sizeof spk->key) ||
	    db_bind_blob(st, s, 5, spk->sig, sizeof spk->sig) || db_bind_int(st, s, 6, now)) {
		db_done(s);
		return -1;
	}
	return db_step_done(st, s, "put signed prekey");
}

static int
opk_insert(struct db *st, const char *user, uint32_t device_id, const struct db_prekey *k)
{
	struct db_q *s = db_stmt(st, ST_OPK_INSERT);

	if (db_bind_text(st, s, 1, user) || db_bind_int(st, s, 2, device_id) ||
	    db_bind_int(st, s, 3, k->id) || db_bind_blob(st, s, 4, k->key, sizeof k->key)) {
		db_done(s);
		return -1;
	}
	return db_step_done(st, s, "put one-time prekey");
}

static int
set_told(struct db *st, const char *user, uint32_t device_id, int told)
{
	return db_device_step(st, ST_SPK_SET_LOW, user, device_id, told, "prekeys told");
}

enum db_status
db_prekeys_upload(struct db *st, const char *user, uint32_t device_id,
		  const struct db_signed_prekey *spk, const struct db_prekey *opks, size_t n,
		  int64_t max_stored, int64_t now, int64_t *count)
{
	struct db_signed_prekey old;
	enum db_status ret = DB_INTERNAL;
	int told = 0, had;
	size_t i;

	*count = 0;
	if (db_tx_begin(st, DB_TX_WRITE) != 0)
		return DB_INTERNAL;
	if ((had = spk_get(st, user, device_id, &old, &told)) < 0 ||
	    opk_count(st, user, device_id, count) != 0)
		goto out;
	/* A one-time prekey is no use to a sender without a signed one. */
	if (n > 0 && had == 0 && spk == NULL) {
		ret = DB_NOT_FOUND;
		goto out;
	}
	if (spk != NULL && spk_put(st, user, device_id, spk, now) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (opk_insert(st, user, device_id, &opks[i]) != 0)
			goto out;
	}
	{
		int64_t before = *count;

		if (opk_count(st, user, device_id, count) != 0)
			goto out;
		if (*count > max_stored) {
			*count = before;
			ret = DB_QUOTA;
			goto out;
		}
	}
	/* Enough again: the next fall below is a new crossing, told again. */
	if (*count >= PROTO_PREKEYS_LOW && set_told(st, user, device_id, 0) != 0)
		goto out;
	if (db_tx_end(st, DB_TX_COMMIT) != 0)
		goto out;
	return DB_OK;
out:
	db_tx_end(st, DB_TX_ROLLBACK);
	return ret;
}

/* Take the device's oldest one-time prekey out: 1 (into k), 0 none, -1
 * error. */
static int
opk_take(struct db *st, const char *user, uint32_t device_id, struct db_prekey *k)
{
	struct db_q *s = db_stmt(st, ST_OPK_TAKE);
	int r;

	if (db_bind_text(st, s, 1, user) || db_bind_int(st, s, 2, device_id)) {
		db_done(s);
		return -1;
	}
	if ((r = db_step_row(st, s, "take one-time prekey")) != 1)
		return r;
	k->id = (uint32_t)db_col_int64(s, 0);
	if (db_col_blob(s, 1, k->key, sizeof k->key) != 0) {
		srv_log("db: %s/%u has a malformed one-time prekey", user, (unsigned)device_id);
		db_done(s);
		return -1;
	}
	db_done(s);
	return 1;
}

/* Fill b for its device (b->dev read already), taking its one-time key. */
static int
fill_bundle(struct db *st, const char *user, struct db_bundle *b)
{
	uint32_t dev = b->dev.device_id;
	int told, r;

	if ((r = spk_get(st, user, dev, &b->spk, &told)) < 0)
		return -1;
	b->has_spk = r;
	if (!b->has_spk)
		return 0;
	if ((r = opk_take(st, user, dev, &b->opk)) < 0 || opk_count(st, user, dev, &b->left) != 0)
		return -1;
	b->has_opk = r;
	if (!b->has_opk)
		st->prekeys_exhausted++;
	b->low = b->has_opk && b->left == PROTO_PREKEYS_LOW - 1;
	return 0;
}

enum db_status
db_prekey_bundles(struct db *st, const char *user, uint32_t device_id, struct db_bundle *out,
		  size_t cap, size_t *n)
{
	struct db_device devs[PROTO_MAX_DEVICES];
	uint64_t exhausted = st->prekeys_exhausted;
	enum db_status ret;
	size_t nd, i;

	*n = 0;
	if (db_tx_begin(st, DB_TX_WRITE) != 0)
		return DB_INTERNAL;
	if ((ret = db_user_devices(st, user, devs, PROTO_MAX_DEVICES, &nd)) != DB_OK)
		goto out;
	ret = DB_INTERNAL;
	for (i = 0; i < nd && *n < cap; i++) {
		struct db_bundle *b = &out[*n];

		if (device_id != 0 && devs[i].device_id != device_id)
			continue;
		memset(b, 0, sizeof *b);
		b->dev = devs[i];
		if (fill_bundle(st, user, b) != 0)
			goto out;
		(*n)++;
	}
	if (db_tx_end(st, DB_TX_COMMIT) != 0)
		goto out;
	return DB_OK;
out:
	/* Nothing was handed out: the count goes back with the keys. */
	st->prekeys_exhausted = exhausted;
	*n = 0;
	db_tx_end(st, DB_TX_ROLLBACK);
	return ret;
}

/* No transaction: it runs at each auth, outside the batch, and a read alone
 * should not take the write lock; the one write is a single statement. */
enum db_status
db_prekeys_low(struct db *st, const char *user, uint32_t device_id, int always, int *tell,
	       int64_t *count)
{
	struct db_signed_prekey spk;
	int told = 0, r;

	*tell = 0;
	*count = 0;
	if ((r = spk_get(st, user, device_id, &spk, &told)) < 0 ||
	    (r == 1 && opk_count(st, user, device_id, count) != 0))
		return DB_INTERNAL;
	if (r == 0 || *count >= PROTO_PREKEYS_LOW || (told && !always))
		return DB_OK;
	if (!told && set_told(st, user, device_id, 1) != 0)
		return DB_INTERNAL;
	*tell = 1;
	return DB_OK;
}

uint64_t
db_prekeys_exhausted(const struct db *st)
{
	return st->prekeys_exhausted;
}
