/*
 * db_limits.c - the limits the store keeps (see db.h): how often a user adds
 * strangers to groups and is added by them (db_add_limits), and how much a
 * device's inbox may hold (db_send's max_inbox_bytes).  The blob quotas are
 * counted by db_blob_usage, and the request rates by the request layer
 * (wire_rate.c), which keeps them in memory.
 */
#include "db_sql.h"

#include <stdlib.h>

#include <stdio.h>
#include <string.h>

#define DAY_MS  (24LL * 60 * 60 * 1000)
#define HOUR_MS (60LL * 60 * 1000)

/* A count query bound to (text, int): the count, or -1. */
static int64_t
count_since(struct db *st, int which, const char *who, int64_t since)
{
	struct db_q *s = db_stmt(st, which);
	int64_t n;

	if (db_bind_text(st, s, 1, who) || db_bind_int(st, s, 2, since)) {
		db_done(s);
		return -1;
	}
	if (db_step_row(st, s, "count adds") != 1)
		return -1;
	n = db_col_int64(s, 0);
	db_done(s);
	return n;
}

/*
 * The limits on adding strangers (db_add_limits): each of users (but the
 * actor) whom the actor is not a contact of counts once for them (per day)
 * and once for the actor (per hour). 0 if all may be added (and they are
 * recorded), 1 if not (res->bad_user, res->adder_limited), -1 on error.
 * Inside the caller's transaction.
 */
int
db_check_adds(struct db *st, const char *actor, const char (*users)[PROTO_USER_MAX + 1], size_t n,
	      const struct db_add_limits *lim, int64_t now, struct db_change_result *res)
{
	int64_t by_actor = -1, count;
	size_t i;
	int r;

	if (lim->per_target_day <= 0 && lim->per_adder_hour <= 0)
		return 0;
	for (i = 0; i < n; i++) {
		if ((r = db_find_contact(st, actor, users[i])) < 0)
			return -1;
		if (r == 1)
			continue;
		if (by_actor < 0 &&
		    (by_actor = count_since(st, ST_ADDS_ADDER, actor, now - HOUR_MS)) < 0)
			return -1;
		if ((count = count_since(st, ST_ADDS_TARGET, users[i], now - DAY_MS)) < 0)
			return -1;
		res->adder_limited = lim->per_adder_hour > 0 && by_actor >= lim->per_adder_hour;
		if (res->adder_limited ||
		    (lim->per_target_day > 0 && count >= lim->per_target_day)) {
			snprintf(res->bad_user, sizeof res->bad_user, "%s", users[i]);
			return 1;
		}
		if (db_text_step(st, ST_ADDS_INSERT, users[i], actor, now, "record an add") != 0)
			return -1;
		by_actor++;
	}
	/* Records older than the longest window are of no more use. */
	return db_cutoff_step(st, ST_ADDS_PRUNE, now - DAY_MS, "prune adds", NULL);
}

/* 0 if every recipient device's inbox has room for its envelope (quota
 * req->max_inbox_bytes), 1 if one has not (res->full), -1 on error.
 * Envelopes dropped[i] (the recipient blocked the sender; may be NULL) take
 * no room: a full inbox of a blocker must not tell the blocked sender. */
int
db_check_inboxes(const struct db_send *req, const struct db_addr *devs, const int64_t *bytes,
		 size_t n_devs, const unsigned char *dropped, struct db_send_result *res)
{
	const struct db_addr *d;
	size_t i;

	if (req->max_inbox_bytes <= 0)
		return 0;
	for (i = 0; i < req->n_envelopes; i++) {
		const struct db_envelope *e = &req->envelopes[i];

		if (dropped != NULL && dropped[i])
			continue;
		d = bsearch(&e->to, devs, n_devs, sizeof *devs, db_addr_cmp);
		if (d == NULL)
			continue; /* no such device: check_devices said so already */
		if (bytes[d - devs] + (int64_t)e->ciphertext_len + DB_INBOX_ROW_BYTES >
		    req->max_inbox_bytes) {
			res->full = e->to;
			return 1;
		}
	}
	return 0;
}
