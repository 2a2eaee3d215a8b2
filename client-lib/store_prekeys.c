/*
 * store_prekeys.c - the local store's prekeys: the secrets behind what this
 * device publishes for X3DH (PROTOCOL.md, "Prekeys"). The store is the
 * device's, owner-only like its key file; secrets read from it are the
 * caller's to wipe.
 */
#include "store_sql.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEXT_ID_KEY "prekey_next_id"

int
store_prekey_next_id(struct store *s, uint32_t *id)
{
	char buf[32] = "", *end;
	unsigned long long v = 1;
	int rc = store_meta_get(s, NEXT_ID_KEY, buf, sizeof buf);

	if (rc < 0)
		return -1;
	if (rc == 1) {
		v = strtoull(buf, &end, 10);
		/* Ids are uint32 on the wire; 0 is kept out so that no id looks unset. */
		if (*end != '\0' || v == 0 || v > UINT32_MAX) {
			snprintf(s->err, sizeof s->err, "prekey id counter is damaged (%s)", buf);
			return -1;
		}
	}
	if (v == UINT32_MAX) {
		snprintf(s->err, sizeof s->err, "prekey ids are used up");
		return -1;
	}
	snprintf(buf, sizeof buf, "%llu", v + 1);
	if (store_meta_set(s, NEXT_ID_KEY, buf) != 0)
		return -1;
	*id = (uint32_t)v;
	return 0;
}

int
store_spk_current(struct store *s, uint32_t *id, uint8_t pk[32], int64_t *created_at)
{
	sqlite3_stmt *st = store_stmt(s, ST_SPK_CURRENT);
	int rc;

	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, "read signed prekey")) == 1) {
		if (sqlite3_column_bytes(st, 1) != 32) {
			store_done(s, st);
			snprintf(s->err, sizeof s->err, "a signed prekey in the store is damaged");
			return -1;
		}
		*id = (uint32_t)sqlite3_column_int64(st, 0);
		memcpy(pk, sqlite3_column_blob(st, 1), 32);
		*created_at = sqlite3_column_int64(st, 2);
	}
	store_done(s, st);
	return rc;
}

int
store_spk_add(struct store *s, uint32_t id, const uint8_t sk[32], const uint8_t pk[32], int64_t now,
	      int64_t expire_before)
{
	sqlite3_stmt *st = store_stmt(s, ST_SPK_RETIRE);

	if (st == NULL || store_bind_int(s, st, 1, now))
		return store_abandon(s, st, "retire signed prekey");
	if (store_run(s, st, "retire signed prekey") != 0)
		return -1;
	st = store_stmt(s, ST_SPK_EXPIRE);
	if (st == NULL || store_bind_int(s, st, 1, expire_before))
		return store_abandon(s, st, "forget old signed prekeys");
	if (store_run(s, st, "forget old signed prekeys") != 0)
		return -1;
	st = store_stmt(s, ST_SPK_PUT);
	if (st == NULL || store_bind_int(s, st, 1, id) || store_bind_blob(s, st, 2, sk, 32) ||
	    store_bind_blob(s, st, 3, pk, 32) || store_bind_int(s, st, 4, now))
		return store_abandon(s, st, "store signed prekey");
	return store_run(s, st, "store signed prekey");
}

int
store_opk_add(struct store *s, uint32_t id, const uint8_t sk[32], const uint8_t pk[32])
{
	sqlite3_stmt *st = store_stmt(s, ST_OPK_PUT);

	if (st == NULL || store_bind_int(s, st, 1, id) || store_bind_blob(s, st, 2, sk, 32) ||
	    store_bind_blob(s, st, 3, pk, 32))
		return store_abandon(s, st, "store one-time prekey");
	return store_run(s, st, "store one-time prekey");
}

int
store_opk_pending(struct store *s, uint32_t *ids, uint8_t (*pks)[32], int max)
{
	sqlite3_stmt *st = store_stmt(s, ST_OPK_PENDING);
	int n = 0, rc = 0;

	if (st == NULL || store_bind_int(s, st, 1, max))
		return store_abandon(s, st, "read one-time prekeys");
	while (n < max && (rc = store_step(s, st, "read one-time prekeys")) == 1) {
		if (sqlite3_column_bytes(st, 1) != 32) {
			store_done(s, st);
			snprintf(s->err, sizeof s->err,
				 "a one-time prekey in the store is damaged");
			return -1;
		}
		ids[n] = (uint32_t)sqlite3_column_int64(st, 0);
		memcpy(pks[n], sqlite3_column_blob(st, 1), 32);
		n++;
	}
	store_done(s, st);
	return rc < 0 ? -1 : n;
}

int
store_opk_uploaded(struct store *s, uint32_t up_to)
{
	sqlite3_stmt *st = store_stmt(s, ST_OPK_UPLOADED);

	if (st == NULL || store_bind_int(s, st, 1, up_to))
		return store_abandon(s, st, "mark one-time prekeys uploaded");
	return store_run(s, st, "mark one-time prekeys uploaded");
}

int
store_opk_drop(struct store *s, uint32_t up_to)
{
	sqlite3_stmt *st = store_stmt(s, ST_OPK_DROP);

	if (st == NULL || store_bind_int(s, st, 1, up_to))
		return store_abandon(s, st, "forget one-time prekeys");
	return store_run(s, st, "forget one-time prekeys");
}

int
store_prekey_secret(struct store *s, int spk, uint32_t id, uint8_t sk[32])
{
	sqlite3_stmt *st = store_stmt(s, spk ? ST_SPK_SECRET : ST_OPK_SECRET);
	int rc;

	if (st == NULL || store_bind_int(s, st, 1, id))
		return store_abandon(s, st, "read prekey secret");
	if ((rc = store_step(s, st, "read prekey secret")) == 1) {
		if (sqlite3_column_bytes(st, 0) != 32)
			rc = -1;
		else
			memcpy(sk, sqlite3_column_blob(st, 0), 32);
	}
	store_done(s, st);
	return rc;
}
