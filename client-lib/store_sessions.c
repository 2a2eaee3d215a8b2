/*
 * store_sessions.c - the local store's pairwise sessions: the Double Ratchet
 * states this device shares with other devices (PROTOCOL.md, "End-to-end
 * encryption (stage 2)"). A device may have a few sessions with one peer
 * device (two that started at once from both ends, one a restored peer
 * began again); the one in use is the one used last, and the others are
 * kept a while, for messages still on their way. States hold secrets: the
 * store is owner-only like the key file, and what is read from it is the
 * caller's to wipe (store_dr_free).
 */
#include "store_sql.h"
#include "analyzer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

/* The largest serialised ratchet state a row may hold (ratchet.h's form with
 * every bound reached); anything longer is damage, not a state. */
#define DR_STATE_MAX (1 + 1 + 6 * 32 + 12 + 64 + 1 + 32 * 8 + 2 + 68 * 2000)

void
store_dr_free(struct store_dr *d)
{
	if (d->state != NULL) {
		sodium_memzero(d->state, d->state_len);
		free(d->state);
	}
	memset(d, 0, sizeof *d);
}

/* Reads the row st is on (id, peer_key, base_key, pending, state).
 * gcc -fanalyzer: no leak; d->state is the caller's, freed by store_dr_free
 * (common/analyzer.h). */
ANALYZER_LEAK_FP_BEGIN
static int
row_to_dr(struct store *s, sqlite3_stmt *st, struct store_dr *d)
{
	int n = sqlite3_column_bytes(st, 4), pending = sqlite3_column_bytes(st, 3);

	memset(d, 0, sizeof *d);
	if (sqlite3_column_bytes(st, 1) != 32 || sqlite3_column_bytes(st, 2) != 32 || n <= 0 ||
	    n > DR_STATE_MAX || (pending != 0 && pending != STORE_DR_PENDING_BYTES)) {
		snprintf(s->err, sizeof s->err, "a session in the store is damaged");
		return -1;
	}
	if ((d->state = malloc((size_t)n)) == NULL) {
		snprintf(s->err, sizeof s->err, "read session: out of memory");
		return -1;
	}
	d->id = sqlite3_column_int64(st, 0);
	memcpy(d->peer_key, sqlite3_column_blob(st, 1), 32);
	memcpy(d->base_key, sqlite3_column_blob(st, 2), 32);
	if (pending) {
		d->has_pending = 1;
		memcpy(d->pending, sqlite3_column_blob(st, 3), STORE_DR_PENDING_BYTES);
	}
	memcpy(d->state, sqlite3_column_blob(st, 4), (size_t)n);
	d->state_len = (size_t)n;
	return 0;
}
ANALYZER_LEAK_FP_END

int
store_dr_load(struct store *s, const char *user, uint32_t device, struct store_dr *out, int max)
{
	/* max 1: the session that sends (retired ones only read). */
	sqlite3_stmt *st = store_stmt(s, max == 1 ? ST_DR_ACTIVE : ST_DR_EACH);
	int n = 0, rc = 0;

	if (st == NULL || store_bind_text(s, st, 1, user) || store_bind_int(s, st, 2, device))
		return store_abandon(s, st, "read sessions");
	while (n < max && (rc = store_step(s, st, "read sessions")) == 1) {
		if (row_to_dr(s, st, &out[n]) != 0) {
			rc = -1;
			break;
		}
		n++;
	}
	store_done(s, st);
	if (rc < 0) {
		while (n > 0)
			store_dr_free(&out[--n]);
		return -1;
	}
	return n;
}

int
store_dr_by_base(struct store *s, const char *user, uint32_t device, const uint8_t base[32],
		 struct store_dr *out)
{
	sqlite3_stmt *st = store_stmt(s, ST_DR_BY_BASE);
	int rc;

	if (st == NULL || store_bind_text(s, st, 1, user) || store_bind_int(s, st, 2, device) ||
	    store_bind_blob(s, st, 3, base, 32))
		return store_abandon(s, st, "read session");
	rc = store_step(s, st, "read session");
	if (rc == 1 && row_to_dr(s, st, out) != 0)
		rc = -1;
	store_done(s, st);
	return rc;
}

/* The next value of used_at: higher than every other, so that the session
 * used last is the one in use, whatever the clock says. */
static int
next_use(struct store *s, int64_t *use)
{
	sqlite3_stmt *st = store_stmt(s, ST_DR_MAX_USED);
	int rc;

	if (st == NULL)
		return -1;
	rc = store_step(s, st, "number session use");
	if (rc == 1)
		*use = sqlite3_column_int64(st, 0) + 1;
	store_done(s, st);
	return rc == 1 ? 0 : -1;
}

int
store_dr_insert(struct store *s, const char *user, uint32_t device, const uint8_t peer_key[32],
		const uint8_t base_key[32], const uint8_t *pending, const uint8_t *state,
		size_t len, int64_t *id)
{
	sqlite3_stmt *st;
	int64_t use = 0;

	if (next_use(s, &use) != 0)
		return -1;
	st = store_stmt(s, ST_DR_INSERT);
	if (st == NULL || store_bind_text(s, st, 1, user) || store_bind_int(s, st, 2, device) ||
	    store_bind_blob(s, st, 3, peer_key, 32) || store_bind_blob(s, st, 4, base_key, 32) ||
	    (pending != NULL ? store_bind_blob(s, st, 5, pending, STORE_DR_PENDING_BYTES)
			     : store_bind_text(s, st, 5, NULL)) ||
	    store_bind_blob(s, st, 6, state, len) || store_bind_int(s, st, 7, use))
		return store_abandon(s, st, "store session");
	if (store_run(s, st, "store session") != 0)
		return -1;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(s->db);
	/* The oldest beyond the bound go: a peer that starts over and over
	 * does not grow the store. */
	st = store_stmt(s, ST_DR_TRIM);
	if (st == NULL || store_bind_text(s, st, 1, user) || store_bind_int(s, st, 2, device) ||
	    store_bind_int(s, st, 3, STORE_DR_MAX_PER_DEVICE))
		return store_abandon(s, st, "forget old sessions");
	return store_run(s, st, "forget old sessions");
}

int
store_dr_update(struct store *s, int64_t id, const uint8_t *state, size_t len,
		const uint8_t *pending)
{
	sqlite3_stmt *st;
	int64_t use = 0;

	if (next_use(s, &use) != 0)
		return -1;
	st = store_stmt(s, ST_DR_UPDATE);
	if (st == NULL || store_bind_int(s, st, 1, id) || store_bind_blob(s, st, 2, state, len) ||
	    (pending != NULL ? store_bind_blob(s, st, 3, pending, STORE_DR_PENDING_BYTES)
			     : store_bind_text(s, st, 3, NULL)) ||
	    store_bind_int(s, st, 4, use))
		return store_abandon(s, st, "save session");
	return store_run(s, st, "save session");
}

int
store_dr_retire(struct store *s, const char *user, uint32_t device)
{
	sqlite3_stmt *st = store_stmt(s, ST_DR_RETIRE);

	if (st == NULL || store_bind_text(s, st, 1, user) || store_bind_int(s, st, 2, device))
		return store_abandon(s, st, "retire sessions");
	return store_run(s, st, "retire sessions");
}

int
store_dr_has(struct store *s, const char *user, uint32_t device, const uint8_t peer_key[32])
{
	sqlite3_stmt *st = store_stmt(s, ST_DR_HAS);
	int rc;

	if (st == NULL || store_bind_text(s, st, 1, user) || store_bind_int(s, st, 2, device) ||
	    store_bind_blob(s, st, 3, peer_key, 32))
		return store_abandon(s, st, "look up session");
	rc = store_step(s, st, "look up session");
	store_done(s, st);
	return rc;
}

int
store_opk_used(struct store *s, uint32_t id)
{
	sqlite3_stmt *st = store_stmt(s, ST_OPK_USED);

	if (st == NULL || store_bind_int(s, st, 1, id))
		return store_abandon(s, st, "forget one-time prekey");
	return store_run(s, st, "forget one-time prekey");
}

/* ---- sender keys ------------------------------------------------------------- */

/* The blob column 0 of st's row into a malloc'd copy (at most max bytes). */
static int
col_blob(struct store *s, sqlite3_stmt *st, size_t max, uint8_t **out, size_t *len)
{
	int n = sqlite3_column_bytes(st, 0);

	if (n <= 0 || (size_t)n > max) {
		snprintf(s->err, sizeof s->err, "a sender key in the store is damaged");
		return -1;
	}
	if ((*out = malloc((size_t)n)) == NULL) {
		snprintf(s->err, sizeof s->err, "read sender key: out of memory");
		return -1;
	}
	memcpy(*out, sqlite3_column_blob(st, 0), (size_t)n);
	*len = (size_t)n;
	return 0;
}

int
store_sk_own_get(struct store *s, const char *chat_id, uint8_t **state, size_t *len)
{
	sqlite3_stmt *st = store_stmt(s, ST_SK_OWN_GET);
	int rc;

	*state = NULL;
	if (st == NULL || store_bind_text(s, st, 1, chat_id))
		return store_abandon(s, st, "read sender key");
	rc = store_step(s, st, "read sender key");
	if (rc == 1 && col_blob(s, st, 4096, state, len) != 0)
		rc = -1;
	store_done(s, st);
	return rc;
}

int
store_sk_own_put(struct store *s, const char *chat_id, const uint8_t *state, size_t len, int fresh,
		 int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, ST_SK_OWN_PUT);

	if (st == NULL || store_bind_text(s, st, 1, chat_id) ||
	    store_bind_blob(s, st, 2, state, len) || store_bind_int(s, st, 3, now) ||
	    store_bind_int(s, st, 4, fresh))
		return store_abandon(s, st, "save sender key");
	return store_run(s, st, "save sender key");
}

int
store_sk_sent_each(struct store *s, const char *chat_id, store_sk_sent_fn fn, void *arg)
{
	sqlite3_stmt *st = store_stmt(s, ST_SK_SENT_EACH);
	int rc;

	if (st == NULL || store_bind_text(s, st, 1, chat_id))
		return store_abandon(s, st, "read who has the sender key");
	while ((rc = store_step(s, st, "read who has the sender key")) == 1) {
		if (sqlite3_column_bytes(st, 2) != 32)
			continue;
		if (fn(arg, store_col_text(st, 0), (uint32_t)sqlite3_column_int64(st, 1),
		       sqlite3_column_blob(st, 2)) != 0)
			break;
	}
	store_done(s, st);
	return rc < 0 ? -1 : 0;
}

int
store_sk_sent_add(struct store *s, const char *chat_id, const char *user, uint32_t device,
		  const uint8_t peer_key[32])
{
	sqlite3_stmt *st = store_stmt(s, ST_SK_SENT_ADD);

	if (st == NULL || store_bind_text(s, st, 1, chat_id) || store_bind_text(s, st, 2, user) ||
	    store_bind_int(s, st, 3, device) || store_bind_blob(s, st, 4, peer_key, 32))
		return store_abandon(s, st, "record who has the sender key");
	return store_run(s, st, "record who has the sender key");
}

int
store_sk_sent_del(struct store *s, const char *chat_id, const char *user, uint32_t device)
{
	sqlite3_stmt *st = store_stmt(s, user != NULL ? ST_SK_SENT_DEL : ST_SK_SENT_CLEAR);

	if (st == NULL || store_bind_text(s, st, 1, chat_id) ||
	    (user != NULL && (store_bind_text(s, st, 2, user) || store_bind_int(s, st, 3, device))))
		return store_abandon(s, st, "forget who has the sender key");
	return store_run(s, st, "forget who has the sender key");
}

int
store_sk_peer_get(struct store *s, const char *chat_id, const char *user, uint32_t device,
		  uint32_t key_id, uint8_t **state, size_t *len)
{
	sqlite3_stmt *st = store_stmt(s, ST_SK_PEER_GET);
	int rc;

	*state = NULL;
	if (st == NULL || store_bind_text(s, st, 1, chat_id) || store_bind_text(s, st, 2, user) ||
	    store_bind_int(s, st, 3, device) || store_bind_int(s, st, 4, key_id))
		return store_abandon(s, st, "read sender key");
	rc = store_step(s, st, "read sender key");
	if (rc == 1 && col_blob(s, st, 200000, state, len) != 0)
		rc = -1;
	store_done(s, st);
	return rc;
}

int
store_sk_peer_put(struct store *s, const char *chat_id, const char *user, uint32_t device,
		  uint32_t key_id, const uint8_t *state, size_t len, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, ST_SK_PEER_PUT);

	if (st == NULL || store_bind_text(s, st, 1, chat_id) || store_bind_text(s, st, 2, user) ||
	    store_bind_int(s, st, 3, device) || store_bind_int(s, st, 4, key_id) ||
	    store_bind_blob(s, st, 5, state, len) || store_bind_int(s, st, 6, now))
		return store_abandon(s, st, "save sender key");
	if (store_run(s, st, "save sender key") != 0)
		return -1;
	/* A sender's older keys go but the last few (late messages). */
	st = store_stmt(s, ST_SK_PEER_TRIM);
	if (st == NULL || store_bind_text(s, st, 1, chat_id) || store_bind_text(s, st, 2, user) ||
	    store_bind_int(s, st, 3, device) || store_bind_int(s, st, 4, STORE_SK_KEEP))
		return store_abandon(s, st, "forget old sender keys");
	return store_run(s, st, "forget old sender keys");
}
