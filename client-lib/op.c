/*
 * op.c - the machinery of multi-step calls. An asynchronous call of chat.h is
 * an `op`: it sends a request, moves on when the reply comes (the reply
 * function its module gave session_request), maybe sends more, and ends with
 * op_finish(), which calls its done callback exactly once. What an op does at
 * each step is its module's (account.c, chats.c, send.c...); what every op
 * shares is here: making one, launching it (connecting first if needed), and
 * ending it, or all of them when the connection goes.
 */
#include "internal.h"
#include "attach.h"

#include <stdlib.h>
#include <sodium.h>

struct op *
op_new(struct chat_client *c, int kind, chat_done_cb done, void *arg)
{
	struct op *op = calloc(1, sizeof *op);

	if (op == NULL)
		return NULL;
	op->kind = kind;
	op->done = done;
	op->arg = arg;
	op->next = c->ops;
	c->ops = op;
	return op;
}

static void
op_free(struct op *op)
{
	sodium_memzero(op->secret, sizeof op->secret);
	sodium_memzero(op->code, sizeof op->code);
	store_free_list(op->users, op->n_users);
	pairwise_op_free(op);
	group_op_free(op);
	if (op->text != NULL) {
		sodium_memzero(op->text, op->text_len);
		free(op->text);
	}
	free(op->device_name);
	media_free(op->media);
	attach_meta_free(op->atts, op->n_atts);
	free(op);
}

void
op_finish(struct chat_client *c, struct op *op, int err, const char *id)
{
	struct op **pp;

	for (pp = &c->ops; *pp != NULL && *pp != op; pp = &(*pp)->next)
		;
	if (*pp == NULL)
		return;
	*pp = op->next;
	session_drop_op_requests(c, op);
	/* A failure reports no id, unless the op's kind says otherwise (a send
	 * reports its message's: it is in the store, to retry or discard). */
	if (err != CHAT_OK)
		id = NULL;
	if (op->end != NULL)
		err = op->end(c, op, err, &id);
	if (op->done)
		op->done(c, op->arg, err, id);
	if (op->ended != NULL)
		op->ended(c, op);
	op_free(op);
}

void
ops_fail_all(struct chat_client *c, int err)
{
	while (c->ops != NULL)
		op_finish(c, c->ops, err, NULL);
}

void
ops_fail_unheld(struct chat_client *c, int err)
{
	struct op *op = c->ops;

	while (op != NULL) {
		if (op->held) {
			op = op->next;
			continue;
		}
		op_finish(c, op, err, NULL);
		op = c->ops; /* op_finish may have ended others too: start over */
	}
}

int
op_launch(struct chat_client *c, struct op *op, int rc)
{
	/* An op held for the connection (a send) written while waiting to
	 * reconnect waits for the attempt the backoff has set. Connecting at
	 * once for each one would knock on a server that is down once per
	 * message, and each failure would double the wait, leaving the device
	 * away for up to 30 s after it is back. */
	if (rc == CHAT_OK && op->held && c->state == CHAT_STATE_WAITING)
		return CHAT_OK;
	/* Connects when there is no connection yet; requests wait in the queue. */
	if (rc == CHAT_OK && !session_has_connection(c))
		rc = session_start(c);
	if (rc != CHAT_OK) {
		op->done = NULL;
		op_finish(c, op, rc, NULL);
	}
	return rc;
}
