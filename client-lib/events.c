/*
 * events.c - the client's answer to the session: what libchat does with each
 * thing session.c tells it (struct session_hooks, session.h). The session
 * names no feature module; this table is where each push and each turn of
 * the connection goes, so reading it is reading the client's state machine
 * from the outside.
 */
#include "internal.h"

#include <string.h>

static void
on_missed(struct chat_client *c, const cJSON *msg)
{
	int64_t count, oldest;

	if (proto_get_int(msg, "count", 1, INT64_MAX / 2, &count) == 0 &&
	    proto_get_int(msg, "oldest", 0, INT64_MAX / 2, &oldest) == 0 && c->cbs.on_missed)
		c->cbs.on_missed(c, c->udata, count, oldest);
}

static void
on_drained(struct chat_client *c, const cJSON *msg)
{
	(void)msg;
	c->drained = 1;
}

/* The pushes of PROTOCOL.md; others are from a newer protocol revision, and
 * ignored, as the protocol says. */
static const struct {
	const char *type;
	void (*fn)(struct chat_client *c, const cJSON *msg);
	/* Delivery: a send-only handle takes none (its device's receiving
	 * session, beside it, does). */
	int delivery;
} pushes[] = {
	{"newMessage", receive_new_message, 1},
	{"chatUpdate", receive_chat_update, 1},
	{"receipt", receive_receipt, 1},
	{"missed", on_missed, 1},
	{"drained", on_drained, 0},
	{"linked", account_on_linked, 0},
	{"prekeysLow", prekeys_on_low, 0},
	{"typing", typing_receive, 1},
	{"blocked", blocks_on_push, 0},
};

static void
on_push(struct chat_client *c, const char *type, const cJSON *msg)
{
	for (size_t i = 0; i < sizeof pushes / sizeof *pushes; i++)
		if (strcmp(type, pushes[i].type) == 0) {
			if (!(pushes[i].delivery && c->send_only))
				pushes[i].fn(c, msg);
			return;
		}
}

/* A push that broke the protocol: reported as a message that could not be
 * received, and not acked, so nothing cut short is stored. */
static void
on_bad_push(struct chat_client *c)
{
	if (c->cbs.on_receive_error)
		c->cbs.on_receive_error(c, c->udata, NULL, CHAT_ERR_PROTOCOL, c->errmsg);
}

static void
on_online(struct chat_client *c)
{
	outbox_resume(c);
	receipts_due(c, 0); /* whatever the store owes from earlier */
	prekeys_online(c);
	blocks_online(c); /* after a link: no auth reply brought the block list */
	prefs_online(c);  /* settings owed while there were no notes to self */
}

/* Acks and receipts are queued as late as possible, so that one frame
 * carries all that is owed by then. */
static void
on_writable(struct chat_client *c)
{
	receive_flush_acks(c);
	receipts_flush(c);
}

void
events_forget_connection(struct chat_client *c)
{
	directory_forget_held(c);
	receive_forget_acks(c);
	receive_forget_batch(c);
}

static void
on_closed(struct chat_client *c, int err, int retrying)
{
	c->drained = 0;
	if (retrying) {
		/* Sends wait for the next connection instead of failing: taken out
		 * of the requests before those fail. */
		send_hold_all(c);
		session_fail_requests(c, err);
		ops_fail_unheld(c, err);
	} else {
		session_fail_requests(c, err);
		ops_fail_all(c, err);
	}
	events_forget_connection(c);
}

static void
on_state(struct chat_client *c, enum chat_state st, int err)
{
	if (c->cbs.on_state)
		c->cbs.on_state(c, c->udata, st, err);
}

const struct session_hooks client_hooks = {
	.on_hello = account_on_hello,
	.on_online = on_online,
	.on_push = on_push,
	.on_bad_push = on_bad_push,
	.on_writable = on_writable,
	.on_closed = on_closed,
	.on_state = on_state,
	.on_tick = media_poll,
	.batching = receive_batching,
	.settle = receive_settle,
	.holding = receive_holding,
};
