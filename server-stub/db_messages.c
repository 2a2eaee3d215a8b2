/*
 * db_messages.c - messages and receipts, and the per-device inbox (see
 * db.h): db_send stores a message (or a receipt: a message without a seq,
 * which may address some of the chat's devices) and one inbox row per
 * envelope, all or nothing; db_inbox_load hands a device its rows in order;
 * db_ack deletes them.
 *
 * A message id is recognised for as long as the message or its tombstone is
 * kept, so that a retry after a lost reply gets the first reply and is
 * stored once.
 */
#include "db_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
db_addr_cmp(const void *a, const void *b)
{
	const struct db_addr *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	if (c != 0)
		return c;
	return x->device_id < y->device_id ? -1 : x->device_id > y->device_id;
}

int
db_diff_devices(const struct db_addr *want, size_t n_want, const struct db_addr *got, size_t n_got,
		struct db_addr **missing, size_t *n_missing, struct db_addr **extra,
		size_t *n_extra)
{
	struct db_addr *w = NULL, *g = NULL;
	size_t i = 0, j = 0;
	int rc = -1;

	*missing = *extra = NULL;
	*n_missing = *n_extra = 0;
	if ((n_want && (w = malloc(n_want * sizeof *w)) == NULL) ||
	    (n_got && (g = malloc(n_got * sizeof *g)) == NULL))
		goto out;
	if (n_want) {
		memcpy(w, want, n_want * sizeof *w);
		qsort(w, n_want, sizeof *w, db_addr_cmp);
	}
	if (n_got) {
		memcpy(g, got, n_got * sizeof *g);
		qsort(g, n_got, sizeof *g, db_addr_cmp);
	}
	/* One merge pass over the two sorted lists. */
	while (i < n_want || j < n_got) {
		int c;

		if (j > 0 && j < n_got && db_addr_cmp(&g[j], &g[j - 1]) == 0) {
			if (db_addr_push(extra, n_extra, &g[j++]) != 0)
				goto out; /* the same device addressed twice */
			continue;
		}
		c = i >= n_want ? 1 : j >= n_got ? -1 : db_addr_cmp(&w[i], &g[j]);
		if (c < 0) {
			if (db_addr_push(missing, n_missing, &w[i++]) != 0)
				goto out;
		} else if (c > 0) {
			if (db_addr_push(extra, n_extra, &g[j++]) != 0)
				goto out;
		} else {
			i++;
			j++;
		}
	}
	rc = 0;
out:
	free(w);
	free(g);
	if (rc != 0) {
		free(*missing);
		free(*extra);
		*missing = *extra = NULL;
		*n_missing = *n_extra = 0;
	}
	return rc;
}

void
db_send_result_free(struct db_send_result *res)
{
	free(res->missing);
	free(res->extra);
	free(res->inbox_ids);
	res->inbox_ids = NULL;
	res->missing = res->extra = NULL;
	res->n_missing = res->n_extra = 0;
}

/*
 * An earlier message with this id: -1 error, 0 none, 1 a retry of this same
 * send (seq and sent_at filled), 2 someone else's.
 */
static int
prior_message(struct db *st, const struct db_send *req, struct db_send_result *res)
{
	struct db_q *s = db_stmt(st, ST_MESSAGE_GET);
	const unsigned char *chat, *sender, *kind;
	int r;

	if (db_bind_text(st, s, 1, req->message_id) != 0) {
		db_done(s);
		return -1;
	}
	r = db_step_row(st, s, "message by id");
	if (r <= 0)
		return r;
	chat = db_col_str(s, 0);
	sender = db_col_str(s, 1);
	kind = db_col_str(s, 5);
	/* An update's id is never a message's, even for its own actor, nor is
	 * a receipt's a message's. */
	if (chat && sender && kind &&
	    strcmp((const char *)kind, req->receipt ? "receipt" : "message") == 0 &&
	    strcmp((const char *)chat, req->chat_id) == 0 &&
	    strcmp((const char *)sender, req->sender_user) == 0 &&
	    db_col_int64(s, 2) == req->sender_device) {
		res->seq = db_col_int64(s, 3);
		res->sent_at = db_col_int64(s, 4);
		r = 1;
	} else {
		r = 2;
	}
	db_done(s);
	return r;
}

/* The chat's devices, as ST_CHAT_DEVICES reads them (sorted), with what
 * each inbox holds: one query for the membership, the device check and the
 * quota. */
struct chat_devs {
	struct db_addr *v; /* every device of every member, minus the sender's */
	int64_t *bytes;    /* v[i]'s inbox */
	size_t n, cap;
	int member; /* the sender's device is among them */
};

static void
chat_devs_free(struct chat_devs *d)
{
	free(d->v);
	free(d->bytes);
	memset(d, 0, sizeof *d);
}

static int
chat_devs_push(struct chat_devs *d, const struct db_addr *a, int64_t bytes)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		struct db_addr *v = realloc(d->v, cap * sizeof *v);
		int64_t *b;

		if (v == NULL)
			return -1;
		d->v = v;
		if ((b = realloc(d->bytes, cap * sizeof *b)) == NULL)
			return -1;
		d->bytes = b;
		d->cap = cap;
	}
	d->v[d->n] = *a;
	d->bytes[d->n++] = bytes;
	return 0;
}

static int
chat_devices(struct db *st, const struct db_send *req, struct chat_devs *d)
{
	struct db_q *s = db_stmt(st, ST_CHAT_DEVICES);
	struct db_addr a;
	int rc;

	memset(d, 0, sizeof *d);
	if (db_bind_text(st, s, 1, req->chat_id) != 0) {
		db_done(s);
		return -1;
	}
	while ((rc = db_step(st, s)) == DB_ROW) {
		if (db_col_text(s, 0, a.user, sizeof a.user) != 0)
			goto fail;
		a.device_id = (uint32_t)db_col_int64(s, 1);
		if (strcmp(a.user, req->sender_user) == 0 && a.device_id == req->sender_device) {
			d->member = 1;
			continue;
		}
		if (chat_devs_push(d, &a, db_col_int64(s, 2)) != 0)
			goto fail;
	}
	if (rc != DB_DONE) {
		db_fail(st, "chat devices");
		goto fail;
	}
	db_done(s);
	return 0;
fail:
	db_done(s);
	chat_devs_free(d);
	return -1;
}

/* 0 if the envelopes match the chat's devices, 1 if not (res filled), -1
 * on error. */
static int
check_devices(const struct chat_devs *d, const struct db_send *req, struct db_send_result *res)
{
	const struct db_addr *want = d->v;
	struct db_addr *got = NULL;
	size_t n_want = d->n, i;
	int rc = -1;

	if (req->n_envelopes && (got = malloc(req->n_envelopes * sizeof *got)) == NULL)
		goto out;
	for (i = 0; i < req->n_envelopes; i++)
		got[i] = req->envelopes[i].to;
	if (db_diff_devices(want, n_want, got, req->n_envelopes, &res->missing, &res->n_missing,
			    &res->extra, &res->n_extra) != 0)
		goto out;
	/* A receipt goes to some of the chat's devices: only extra ones count,
	 * and it must go somewhere. */
	if (req->receipt) {
		free(res->missing);
		res->missing = NULL;
		res->n_missing = 0;
		rc = res->n_extra || req->n_envelopes == 0;
	} else {
		rc = res->n_missing || res->n_extra;
	}
out:
	if (rc < 0)
		srv_log("db: check devices: out of memory");
	free(got);
	return rc;
}

/*
 * Which envelopes go to a user who has blocked the sender (PROTOCOL.md,
 * "Blocking"): dropped[i] 1 for those.  One lookup per distinct recipient
 * user; envelopes come grouped by user in practice, so the last answer is
 * kept.  0, or -1 on error.
 */
static int
find_dropped(struct db *st, const struct db_send *req, unsigned char *dropped)
{
	const char *last = NULL;
	int r = 0;
	size_t i;

	for (i = 0; i < req->n_envelopes; i++) {
		const char *to = req->envelopes[i].to.user;

		/* The sender's own devices: nobody blocks themselves. */
		if (strcmp(to, req->sender_user) == 0) {
			dropped[i] = 0;
			continue;
		}
		if (last == NULL || strcmp(last, to) != 0) {
			if ((r = db_find_blocked(st, to, req->sender_user)) < 0)
				return -1;
			last = to;
		}
		dropped[i] = (unsigned char)r;
	}
	return 0;
}

static int
insert_message(struct db *st, const struct db_send *req, int64_t seq)
{
	struct db_q *s = db_stmt(st, ST_MESSAGE_INSERT);

	if (db_bind_text(st, s, 1, req->message_id) || db_bind_text(st, s, 2, req->chat_id) ||
	    db_bind_text(st, s, 3, req->sender_user) || db_bind_int(st, s, 4, req->sender_device) ||
	    /* A receipt leaves ?5 unbound: NULL, it has no seq. */
	    (!req->receipt && db_bind_int(st, s, 5, seq)) || db_bind_int(st, s, 6, req->now) ||
	    db_bind_text(st, s, 7, req->receipt ? "receipt" : "message") ||
	    /* No ttl leaves ?8 unbound: NULL, the message never expires. */
	    (!req->receipt && req->ttl_ms > 0 && db_bind_int(st, s, 8, req->now + req->ttl_ms))) {
		db_done(s);
		return -1;
	}
	return db_step_done(st, s, "insert message");
}

static int
insert_inbox(struct db *st, const struct db_send *req, const struct db_envelope *e,
	     int64_t *inbox_id)
{
	struct db_q *s = db_stmt(st, ST_INBOX_INSERT);

	if (db_bind_text(st, s, 1, e->to.user) || db_bind_int(st, s, 2, e->to.device_id) ||
	    db_bind_text(st, s, 3, req->message_id) ||
	    (e->no_nonce ? db_bind_null(st, s, 4)
			 : db_bind_blob(st, s, 4, e->nonce, PROTO_NONCE_BYTES)) ||
	    db_bind_blob(st, s, 5, e->ciphertext, e->ciphertext_len) ||
	    db_bind_int(st, s, 6, req->now)) {
		db_done(s);
		return -1;
	}
	/* RETURNING id: on PostgreSQL the id is the device's next (db_pg.c),
	 * on SQLite the table's next. */
	if (db_step_row(st, s, "insert inbox") != 1)
		return -1;
	*inbox_id = db_col_int64(s, 0);
	db_done(s);
	return 0;
}

/* The envelopes' order by device: qsort's comparison reads them through
 * this, set for the call (the store runs on one thread). */
static const struct db_envelope *sort_base;

static int
envelope_cmp(const void *a, const void *b)
{
	return db_addr_cmp(&sort_base[*(const size_t *)a].to, &sort_base[*(const size_t *)b].to);
}

/* *order: the envelopes' indexes sorted by device (malloc'd): 0, or -1
 * when out of memory. */
static int
sort_envelopes(const struct db_send *req, size_t **order)
{
	size_t n = req->n_envelopes ? req->n_envelopes : 1;

	if ((*order = malloc(n * sizeof **order)) == NULL)
		return -1;
	for (size_t i = 0; i < req->n_envelopes; i++)
		(*order)[i] = i;
	sort_base = req->envelopes;
	qsort(*order, req->n_envelopes, sizeof **order, envelope_cmp);
	sort_base = NULL;
	return 0;
}

enum db_status
db_send(struct db *st, const struct db_send *req, struct db_send_result *res)
{
	enum db_status ret = DB_INTERNAL;
	unsigned char *dropped = NULL;
	size_t *order = NULL;
	struct chat_devs devs;
	size_t i;
	int r;

	memset(res, 0, sizeof *res);
	memset(&devs, 0, sizeof devs);
	if ((dropped = calloc(req->n_envelopes ? req->n_envelopes : 1, 1)) == NULL)
		return DB_INTERNAL;
	if (db_tx_begin(st, DB_TX_WRITE) != 0) {
		free(dropped);
		return DB_INTERNAL;
	}
	if (chat_devices(st, req, &devs) != 0)
		goto out;
	if (!devs.member) {
		ret = DB_NOT_FOUND;
		goto out;
	}
	/* Before the device check: a retry must get its first reply even if
	 * the chat's devices have changed since. */
	if ((r = prior_message(st, req, res)) != 0) {
		if (r == 1) {
			res->replayed = 1;
			ret = DB_OK;
		} else if (r == 2) {
			ret = DB_DUPLICATE;
		}
		goto out;
	}
	if ((r = check_devices(&devs, req, res)) != 0) {
		if (r == 1)
			ret = DB_MISMATCH;
		goto out;
	}
	if ((r = db_check_blobs(st, req)) != 0) {
		if (r == 1)
			ret = DB_NO_BLOB;
		goto out;
	}
	/* After the device check: a blocked sender must address every device
	 * as anyone else does, and is answered as anyone else is. */
	if (find_dropped(st, req, dropped) != 0)
		goto out;
	if (db_check_inboxes(req, devs.v, devs.bytes, devs.n, dropped, res) != 0) {
		ret = DB_INBOX_FULL;
		goto out;
	}
	if ((res->inbox_ids = calloc(req->n_envelopes ? req->n_envelopes : 1,
				     sizeof *res->inbox_ids)) == NULL ||
	    (!req->receipt && db_take_seq(st, req->chat_id, &res->seq) != 0) ||
	    insert_message(st, req, res->seq) != 0)
		goto out;
	/* In the order of the devices (user, then id), whatever the order of
	 * the envelopes: each row locks its device's row to the COMMIT
	 * (PostgreSQL: the device's next inbox id), and two sends that took
	 * them in opposite orders could deadlock. */
	if (sort_envelopes(req, &order) != 0)
		goto out;
	for (size_t k = 0; k < req->n_envelopes; k++) {
		i = order[k];
		if (!dropped[i] && insert_inbox(st, req, &req->envelopes[i], &res->inbox_ids[i]) != 0)
			goto out;
	}
	for (i = 0; i < req->n_blobs; i++) {
		if (db_blob_refer(st, req->message_id, req->blobs[i]) != 0)
			goto out;
	}
	/* A message is taking part in the chat; a receipt, sent by itself, not. */
	if ((!req->receipt && db_note_activity(st, req->chat_id, req->sender_user) != 0) ||
	    db_tx_end(st, DB_TX_COMMIT) != 0)
		goto out;
	chat_devs_free(&devs);
	free(dropped);
	free(order);
	res->sent_at = req->now;
	return DB_OK;
out:
	chat_devs_free(&devs);
	free(dropped);
	free(order);
	db_tx_end(st, DB_TX_ROLLBACK);
	if (ret != DB_MISMATCH)
		db_send_result_free(res);
	free(res->inbox_ids);
	res->inbox_ids = NULL;
	if (ret != DB_OK || !res->replayed)
		res->seq = res->sent_at = 0;
	return ret;
}

/* ---- senders' keys ------------------------------------------------------ */

static size_t
keys_slot(const char *user, uint32_t device_id)
{
	uint32_t h = 2166136261u ^ device_id; /* FNV-1a */

	while (*user)
		h = (h ^ (uint8_t)*user++) * 16777619u;
	return h & (DB_KEYS_CACHE - 1);
}

static int
read_keys(struct db_q *s, struct db_keys *k)
{
	const uint8_t *approver, *approval;

	if (db_col_blob(s, 0, k->identity_key, sizeof k->identity_key) != 0 ||
	    db_col_blob(s, 1, k->exchange_key, sizeof k->exchange_key) != 0 ||
	    db_col_blob(s, 2, k->exchange_key_sig, sizeof k->exchange_key_sig) != 0 ||
	    !db_col_opt_blob(s, 3, PROTO_KEY_BYTES, &approver) ||
	    !db_col_opt_blob(s, 4, PROTO_SIG_BYTES, &approval) ||
	    (approver == NULL) != (approval == NULL))
		return -1;
	k->has_approval = approver != NULL;
	if (approver != NULL) {
		memcpy(k->approver_key, approver, sizeof k->approver_key);
		memcpy(k->approval, approval, sizeof k->approval);
	}
	return 0;
}

void
db_keys_forget(struct db *st)
{
	memset(st->keys_cache, 0, sizeof st->keys_cache);
}

enum db_status
db_sender_keys(struct db *st, const char *user, uint32_t device_id, struct db_keys *out)
{
	struct db_keys_slot *e = &st->keys_cache[keys_slot(user, device_id)];
	struct db_q *s;
	int r;

	if (e->used && e->device_id == device_id && strcmp(e->user, user) == 0) {
		*out = e->keys;
		return DB_OK;
	}
	s = db_stmt(st, ST_SENDER_KEYS);
	if (db_bind_text(st, s, 1, user) || db_bind_int(st, s, 2, device_id)) {
		db_done(s);
		return DB_INTERNAL;
	}
	if ((r = db_step_row(st, s, "sender keys")) <= 0)
		return r == 0 ? DB_NOT_FOUND : DB_INTERNAL;
	r = read_keys(s, out);
	db_done(s);
	if (r != 0) {
		srv_log("db: malformed keys of %s/%u", user, (unsigned)device_id);
		return DB_INTERNAL;
	}
	/* Kept until a rollback (db_keys_forget): a device that a rollback
	 * takes back leaves its id free for another with other keys. */
	e->used = 1;
	snprintf(e->user, sizeof e->user, "%s", user);
	e->device_id = device_id;
	e->keys = *out;
	return DB_OK;
}

/* ---- inbox ------------------------------------------------------------- */

/* The update of an inbox row, from ST_INBOX_LOAD's columns, into
 * st->update: 0, or -1 if it is malformed. */
static int
read_update(struct db *st, struct db_q *s, struct db_inbox_row *row)
{
	struct db_update *u = &st->update;
	const char *body = (const char *)db_col_str(s, 15);

	memset(u, 0, sizeof *u);
	u->chat_id = row->chat_id;
	u->update_id = row->message_id;
	u->seq = row->seq;
	u->sent_at = row->sent_at;
	u->actor = row->sender_user;
	u->kind = (const char *)db_col_str(s, 16);
	u->name = (const char *)db_col_str(s, 17); /* NULL: no name */
	if (body == NULL || u->kind == NULL || db_update_parse(st, body, u) != 0)
		return -1;
	row->is_update = 1;
	row->update = u;
	return 0;
}

/* Fill a row from ST_INBOX_LOAD's columns; -1 if it is malformed. */
static int
read_inbox_row(struct db *st, struct db_q *s, struct db_inbox_row *row)
{
	int64_t dev = db_col_int64(s, 6);
	const unsigned char *kind = db_col_str(s, 14);

	memset(row, 0, sizeof *row);
	row->inbox_id = db_col_int64(s, 0);
	row->chat_id = (const char *)db_col_str(s, 1);
	row->message_id = (const char *)db_col_str(s, 2);
	row->seq = db_col_int64(s, 3);
	row->sent_at = db_col_int64(s, 4);
	row->sender_user = (const char *)db_col_str(s, 5);
	row->sender_device = (uint32_t)dev;
	if (!row->chat_id || !row->message_id || !row->sender_user || !kind)
		return -1;
	if (strcmp((const char *)kind, "update") == 0)
		return read_update(st, s, row); /* no keys, nonce or ciphertext */
	row->is_receipt = strcmp((const char *)kind, "receipt") == 0;
	row->ciphertext = db_col_bytes(s, 13, &row->ciphertext_len);
	if (dev < 1 || dev > PROTO_DEVICE_ID_MAX ||
	    !db_col_opt_blob(s, 7, PROTO_KEY_BYTES, &row->sender_identity_key) ||
	    !db_col_opt_blob(s, 8, PROTO_KEY_BYTES, &row->sender_exchange_key) ||
	    !db_col_opt_blob(s, 9, PROTO_SIG_BYTES, &row->sender_exchange_key_sig) ||
	    !db_col_opt_blob(s, 10, PROTO_KEY_BYTES, &row->sender_approver_key) ||
	    !db_col_opt_blob(s, 11, PROTO_SIG_BYTES, &row->sender_approval) ||
	    !db_col_opt_blob(s, 12, PROTO_NONCE_BYTES, &row->nonce) || !row->sender_identity_key ||
	    !row->sender_exchange_key || !row->sender_exchange_key_sig || !row->ciphertext ||
	    (row->sender_approver_key == NULL) != (row->sender_approval == NULL))
		return -1;
	return 0;
}

enum db_status
db_inbox_load(struct db *st, const char *user, uint32_t device_id, int64_t after_id, size_t max,
	      db_inbox_fn *fn, void *udata, size_t *n)
{
	struct db_q *s = db_stmt(st, ST_INBOX_LOAD);
	struct db_inbox_row row;
	int rc;

	*n = 0;
	if (db_bind_text(st, s, 1, user) || db_bind_int(st, s, 2, device_id) ||
	    db_bind_int(st, s, 3, after_id) || db_bind_int(st, s, 4, (int64_t)max)) {
		db_done(s);
		return DB_INTERNAL;
	}
	while ((rc = db_step(st, s)) == DB_ROW) {
		if (read_inbox_row(st, s, &row) != 0) {
			srv_log("db: malformed inbox row %lld",
				(long long)db_col_int64(s, 0));
			db_done(s);
			return DB_INTERNAL;
		}
		(*n)++;
		if (fn(udata, &row) != 0) {
			rc = DB_DONE;
			break;
		}
	}
	if (rc != DB_DONE) {
		db_fail(st, "inbox load");
		db_done(s);
		return DB_INTERNAL;
	}
	db_done(s);
	return DB_OK;
}

enum db_status
db_ack(struct db *st, const char *user, uint32_t device_id,
       const char (*message_ids)[PROTO_MESSAGE_ID_LEN + 1], size_t n, int64_t *acked)
{
	struct db_q *s = db_stmt(st, ST_ACK);
	size_t i;

	*acked = 0;
	if (n == 0)
		return DB_OK;
	if (db_tx_begin(st, DB_TX_WRITE) != 0)
		return DB_INTERNAL;
	for (i = 0; i < n; i++) {
		if (db_bind_text(st, s, 1, user) || db_bind_int(st, s, 2, device_id) ||
		    db_bind_text(st, s, 3, message_ids[i])) {
			db_done(s);
			goto fail;
		}
		if (db_step_done(st, s, "ack") != 0)
			goto fail;
		*acked += db_changes(st);
	}
	if (db_tx_end(st, DB_TX_COMMIT) != 0)
		goto fail;
	return DB_OK;
fail:
	db_tx_end(st, DB_TX_ROLLBACK);
	*acked = 0;
	return DB_INTERNAL;
}
