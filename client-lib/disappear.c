/*
 * disappear.c - disappearing messages as the handle sees them (PROTOCOL.md,
 * "Disappearing messages"): setting a chat's timer, who may, and the sweep
 * that deletes what has expired. The rules of which message expires when are
 * the store's (store_timer.c); sending a change is send.c's, receiving one
 * receive.c's.
 *
 * The sweep runs from the loop (chat_client_loop, once a second, offline
 * too: a front end that polls keeps calling it), at start-up, and silently
 * before every read of the history, search or chat list: so a message past
 * its time is never shown, however late the loop is.
 */
#include "internal.h"
#include "attach.h"
#include "reply.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

_Static_assert(CHAT_DISAPPEAR_MIN_S == PROTO_TIMER_MIN_S &&
		       CHAT_DISAPPEAR_MAX_S == PROTO_TIMER_MAX_S,
	       "chat.h's timer bounds are protocol.h's");

/* The expired messages one pass of the sweep takes; it goes on while full. */
#define SWEEP_BATCH 32

struct member_find {
	const char *user;
	int found, admin;
};

static int
member_find(void *arg, const char *user, int admin)
{
	struct member_find *f = arg;

	if (strcmp(user, f->user) != 0)
		return 0;
	f->found = 1;
	f->admin = admin;
	return 1;
}

int
disappear_accepts(struct chat_client *c, const char *chat_id, const char *user)
{
	struct member_find f = {user, 0, 0};
	int group = store_chat_is_group(&c->store, chat_id);

	if (group < 0)
		return -1;
	if (!group)
		return 1; /* the server lets only members send into a chat */
	if (store_chat_member_each(&c->store, chat_id, member_find, &f, NULL) < 0)
		return -1;
	return f.found && f.admin;
}

int
chat_set_disappearing(struct chat_client *c, const char *chat_id, long long seconds,
		      char *change_id, chat_done_cb done, void *arg)
{
	int rc = client_check_registered(c);

	if (rc != CHAT_OK || (rc = chats_check_local(c, chat_id)) != CHAT_OK)
		return rc;
	if (!timer_seconds_valid(seconds))
		return client_fail(c, CHAT_ERR_INVALID,
				   "a disappearing timer is off (0) or %lld seconds to %lld days; "
				   "nothing was sent",
				   PROTO_TIMER_MIN_S, PROTO_TIMER_MAX_S / (24 * 3600));
	rc = disappear_accepts(c, chat_id, c->user);
	if (rc < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == 0)
		return client_fail(c, CHAT_ERR_INVALID,
				   "only the group's admins can change its disappearing timer, "
				   "and you are not one; nothing was sent");
	return send_timer(c, chat_id, seconds, change_id, done, arg);
}

long long
chat_disappearing(struct chat_client *c, const char *chat_id)
{
	int rc = chats_check_local(c, chat_id);
	int64_t v;

	if (rc != CHAT_OK)
		return rc;
	if ((v = store_timer_get(&c->store, chat_id)) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return v;
}

/* Deletes one expired message with its files: 1 gone, 0 not there, -1. */
static int
sweep_one(struct chat_client *c, const char *id, char *chat_id, size_t cap)
{
	struct store_brief b;
	struct attach_meta *metas = NULL;
	char **paths = NULL;
	size_t n = 0;
	int rc = store_message_brief(&c->store, id, &b);

	if (rc <= 0)
		return rc;
	snprintf(chat_id, cap, "%s", b.chat_id);
	/* Read before: the records go with the message. */
	if (store_attachments(&c->store, id, &metas, &paths, &n) != 0)
		n = 0;
	rc = store_forget_message(&c->store, id);
	if (rc == 1)
		changes_remove_files(c, paths, n);
	attach_meta_free(metas, n);
	store_free_list(paths, n);
	return rc;
}

int
disappear_sweep(struct chat_client *c, int tell)
{
	char ids[SWEEP_BATCH][CHAT_MESSAGE_ID_LEN + 1], chat_id[CHAT_CHAT_ID_LEN + 1];
	int n, total = 0, rc = 0;

	/* Not inside itself: on_expired may read the history. */
	if (c->sweeping || c->store.db == NULL)
		return 0;
	c->sweeping = 1;
	do {
		n = store_expired(&c->store, proto_now_ms(), ids, SWEEP_BATCH);
		for (int i = 0; i < n && rc >= 0; i++) {
			rc = sweep_one(c, ids[i], chat_id, sizeof chat_id);
			if (rc == 1) {
				total++;
				if (tell && c->cbs.on_expired)
					c->cbs.on_expired(c, c->udata, chat_id, ids[i]);
			}
		}
	} while (n == SWEEP_BATCH && rc >= 0);
	c->sweeping = 0;
	return n < 0 || rc < 0 ? -1 : total;
}

void
disappear_tick(struct chat_client *c)
{
	int64_t now = proto_now_ms();

	if (now < c->expire_look_at)
		return;
	c->expire_look_at = now + 1000;
	/* A store that fails now is tried again in a second. */
	(void)disappear_sweep(c, 1);
}

/* ---- durations, as people write them ------------------------------------ */

static const struct {
	char unit;
	const char *name;
	long long s;
} units[] = {
	{'w', "week", 7 * 24 * 3600},
	{'d', "day", 24 * 3600},
	{'h', "hour", 3600},
	{'m', "minute", 60},
	{'s', "second", 1},
};

int
chat_duration_parse(const char *text, long long *seconds)
{
	long long v = 0, mult = 1;
	size_t i = 0;

	if (text == NULL || seconds == NULL)
		return -1;
	if (strcmp(text, "off") == 0) {
		*seconds = 0;
		return 0;
	}
	/* At most 9 digits: no unit takes it past a long long. */
	for (; i < 10 && isdigit((unsigned char)text[i]); i++)
		v = v * 10 + (text[i] - '0');
	if (i == 0 || i > 9)
		return -1;
	if (text[i] != '\0') {
		size_t u;

		for (u = 0; u < sizeof units / sizeof units[0]; u++)
			if (text[i] == units[u].unit)
				break;
		if (u == sizeof units / sizeof units[0] || text[i + 1] != '\0')
			return -1;
		mult = units[u].s;
	}
	*seconds = v * mult;
	return 0;
}

const char *
chat_duration_format(long long seconds, int short_form, char *buf, size_t cap)
{
	size_t u;
	long long n;

	if (buf == NULL || cap == 0)
		return buf;
	if (seconds <= 0) {
		snprintf(buf, cap, "off");
		return buf;
	}
	for (u = 0; u < sizeof units / sizeof units[0] - 1; u++)
		if (seconds % units[u].s == 0)
			break;
	n = seconds / units[u].s;
	if (short_form)
		snprintf(buf, cap, "%lld%c", n, units[u].unit);
	else
		snprintf(buf, cap, "%lld %s%s", n, units[u].name, n == 1 ? "" : "s");
	return buf;
}
