/*
 * outbox.c - the messages of this home that no server has confirmed. Every
 * connection sends them all again, oldest first, each under its own id
 * (send.c sends each one; the server recognises one it has), after giving
 * up on what is older than the server's retention. On top, what an
 * application offers its user: listing them, sending one again, dropping
 * one, and finding a message by a prefix of its id.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One pending message, in the store's order: this session's own send waiting
 * for the connection, or one of an earlier session (or another program on this
 * home), sent again under its own id, which the server recognises if it has it. */
/* The sends a walk of the outbox found, in the store's order. */
struct outbox_walk {
	struct chat_client *c;
	char (*ids)[CHAT_MESSAGE_ID_LEN + 1];
	size_t n, cap;
};

static int
walk_add(struct outbox_walk *w, const struct op *op)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		char(*ids)[CHAT_MESSAGE_ID_LEN + 1] = realloc(w->ids, cap * sizeof *ids);

		if (ids == NULL)
			return 1;
		w->ids = ids;
		w->cap = cap;
	}
	memcpy(w->ids[w->n++], op->message_id, CHAT_MESSAGE_ID_LEN + 1);
	return 0;
}

static int
outbox_send(void *arg, const struct chat_message *m)
{
	struct outbox_walk *w = arg;
	struct chat_client *c = w->c;
	struct op *op = send_find(c, m->message_id);

	/* Listed, and restarted once the walk is over (outbox_resume): a send
	 * writes its sessions' states, which cannot be done from inside the
	 * walk's read of the store (another program on this home may have
	 * written since it began: SQLite refuses such a write at once). */
	if (op != NULL)
		return op->held ? walk_add(w, op) : 0;
	op = send_op_new(c, NULL, NULL);
	if (op == NULL || (op->text = malloc(m->text_len + 1)) == NULL ||
	    store_attachments(&c->store, m->message_id, &op->atts, NULL, &op->n_atts) != 0) {
		if (op != NULL)
			op_finish(c, op, CHAT_ERR_NOMEM, NULL);
		return 1;
	}
	memcpy(op->text, m->text, m->text_len + 1);
	op->text_len = m->text_len;
	send_op_extra(op, m);
	op->outbox = 1;
	snprintf(op->chat_id, sizeof op->chat_id, "%s", m->chat_id);
	snprintf(op->message_id, sizeof op->message_id, "%s", m->message_id);
	op->held = 1;
	return walk_add(w, op);
}

/* "4 days", "12 hours", "90 seconds": a retention in words, in its unit. */
static void
say_duration(int64_t ms, char *buf, size_t cap)
{
	static const struct {
		int64_t ms;
		const char *unit;
	} units[] = {{86400000, "day"}, {3600000, "hour"}, {60000, "minute"}, {1000, "second"}};
	size_t i = 0;

	while (i + 1 < sizeof units / sizeof *units && ms % units[i].ms != 0)
		i++;
	snprintf(buf, cap, "%lld %s%s", (long long)(ms / units[i].ms), units[i].unit,
		 ms / units[i].ms == 1 ? "" : "s");
}

static int
copy_chat_id(void *arg, const struct chat_message *m)
{
	snprintf(arg, CHAT_CHAT_ID_LEN + 1, "%s", m->chat_id);
	return 0;
}

/*
 * Unsent messages written longer ago than the server's retention are given
 * up: marked failed and reported, as a refused send is. The server keeps a
 * message id for twice its retention after the send (PROTOCOL.md,
 * "Delivery"); a message older than that would be stored again if it had
 * landed once already, so no outbox entry may outlive it. 0, or -1 if the
 * store failed: then nothing of the outbox may go now, since an expired
 * message could be among it.
 */
static int
expire_outbox(struct chat_client *c)
{
	char **ids = NULL, chat_id[CHAT_CHAT_ID_LEN + 1], reason[64];
	size_t n = 0;
	int rc = 0, found;

	if (c->retention_ms <= 0)
		return 0;
	if (store_outbox_older(&c->store, proto_now_ms() - c->retention_ms, &ids, &n) != 0) {
		client_fail(c, CHAT_ERR_STORE,
			    "cannot look for expired messages, so none is sent now: %s",
			    c->store.err);
		return -1;
	}
	say_duration(c->retention_ms, reason, sizeof reason);
	for (size_t i = 0; i < n; i++) {
		struct op *op = send_find(c, ids[i]);
		int err = CHAT_ERR_EXPIRED;

		client_fail(c, err, "expired: not sent within the server's retention of %s",
			    reason);
		if (op != NULL) {
			op_finish(c, op, err, NULL);
			continue;
		}
		chat_id[0] = '\0';
		found = store_message_get(&c->store, ids[i], copy_chat_id, chat_id);
		if (found == 0)
			continue; /* discarded meanwhile */
		if (found < 0 || store_message_set_state(&c->store, ids[i], "failed") != 0) {
			err = client_fail(
				c, CHAT_ERR_STORE,
				"message %s expired (not sent within the server's "
				"retention of %s), and the store cannot mark it failed: %s",
				ids[i], reason, c->store.err);
			rc = -1;
		}
		if (found > 0 && c->cbs.on_send_failed)
			c->cbs.on_send_failed(c, c->udata, chat_id, ids[i], err, c->errmsg);
	}
	store_free_list(ids, n);
	return rc;
}

void
outbox_resume(struct chat_client *c)
{
	struct outbox_walk w = {c, NULL, 0, 0};
	struct op *op;

	/* A store that fails to say what has expired sends nothing: what is
	 * pending waits for a connection when the store works again. */
	if (expire_outbox(c) != 0)
		return;
	/* Everything pending, in the order it was written, so the server numbers
	 * the messages in that order. */
	if (store_outbox_each(&c->store, outbox_send, &w, NULL) < 0)
		client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	for (size_t i = 0; i < w.n; i++)
		if ((op = send_find(c, w.ids[i])) != NULL && op->held)
			send_restart(c, op);
	free(w.ids);
	/* Held sends the store no longer lists as pending (another program on
	 * this home had them confirmed): finish them the same way. */
	while ((op = c->ops) != NULL) {
		while (op != NULL && !(op->kind == OP_SEND && op->held))
			op = op->next;
		if (op == NULL)
			break;
		send_restart(c, op);
	}
}

/* 1 if message_id, pending, was written longer ago than the server's
 * retention (see expire_outbox), 0 if not or if the retention is unknown, -1
 * if the store failed. */
static int
outbox_expired(struct chat_client *c, const char *message_id)
{
	char **ids = NULL;
	size_t n = 0;
	int found = 0;

	if (c->retention_ms <= 0)
		return 0;
	if (store_outbox_older(&c->store, proto_now_ms() - c->retention_ms, &ids, &n) != 0)
		return -1;
	for (size_t i = 0; i < n && !found; i++)
		found = strcmp(ids[i], message_id) == 0;
	store_free_list(ids, n);
	return found;
}

/* send_stored, connecting if needed (chat_retry): the send goes out once
 * online. A message past the retention is failed instead. */
static int
outbox_retry(struct chat_client *c, const char *message_id, chat_done_cb done, void *arg)
{
	char reason[64];
	int rc;

	/* A retry cannot bring back a message the server may no longer
	 * recognise: it would be stored twice if it had landed once. */
	switch (outbox_expired(c, message_id)) {
	case 0: break;
	case 1:
		say_duration(c->retention_ms, reason, sizeof reason);
		if (store_message_set_state(&c->store, message_id, "failed") != 0)
			return client_fail(c, CHAT_ERR_STORE,
					   "expired: not sent within the server's retention of "
					   "%s, and the store cannot mark it failed: %s",
					   reason, c->store.err);
		return client_fail(c, CHAT_ERR_EXPIRED,
				   "expired: not sent within the server's retention of %s; it "
				   "cannot be sent again",
				   reason);
	default:
		return client_fail(c, CHAT_ERR_STORE,
				   "cannot tell whether message %s has expired: %s", message_id,
				   c->store.err);
	}
	rc = send_stored(c, message_id, done, arg);

	return rc != CHAT_OK ? rc : op_launch(c, send_find(c, message_id), CHAT_OK);
}

/* ---- what an application offers ------------------------------------------ */

int
chat_resolve_message(struct chat_client *c, const char *spec, char *out)
{
	size_t n = spec ? strlen(spec) : 0;
	int rc;

	if (n < 4 || n > CHAT_MESSAGE_ID_LEN || !proto_valid_hex(spec, n))
		return client_fail(c, CHAT_ERR_INVALID,
				   "'%s' is not a message id (32 hex digits, or a prefix of at "
				   "least 4)",
				   spec ? spec : "");
	rc = store_message_resolve(&c->store, spec, out);
	if (rc < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == 2)
		return client_fail(c, CHAT_ERR_INVALID,
				   "'%s' matches more than one message; give more digits", spec);
	if (rc == 0)
		return client_fail(c, CHAT_ERR_NO_SUCH_MESSAGE,
				   "no message %s%s in this device's store", spec,
				   n < CHAT_MESSAGE_ID_LEN ? "..." : "");
	return CHAT_OK;
}

int
chat_outbox(struct chat_client *c, chat_history_cb each, void *arg)
{
	int stop;

	if (store_unsent_each(&c->store, each, arg, &stop) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return stop;
}

/* CHAT_OK if message_id is a message of the outbox (its state in state), else
 * why not. */
static int
check_unsent(struct chat_client *c, const char *message_id, char *state, size_t cap)
{
	int rc;

	if (!proto_valid_hex(message_id, CHAT_MESSAGE_ID_LEN))
		return client_fail(c, CHAT_ERR_INVALID, "'%s' is not a message id",
				   message_id ? message_id : "");
	rc = store_unsent_state(&c->store, message_id, state, cap);
	if (rc < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == 0)
		return client_fail(c,
				   store_message_exists(&c->store, message_id) == 1
					   ? CHAT_ERR_INVALID
					   : CHAT_ERR_NO_SUCH_MESSAGE,
				   "message %s is not waiting to be sent (only pending and failed "
				   "messages of this device are)",
				   message_id);
	return CHAT_OK;
}

int
chat_retry(struct chat_client *c, const char *message_id, chat_done_cb done, void *arg)
{
	char state[16];
	int rc = client_check_registered(c);

	if (rc != CHAT_OK || (rc = check_unsent(c, message_id, state, sizeof state)) != CHAT_OK)
		return rc;
	if (send_busy(c, message_id))
		return client_fail(c, CHAT_ERR_INVALID, "message %s is being sent already",
				   message_id);
	/* Pending again: if this program dies now, the next connection sends it. */
	if (strcmp(state, "failed") == 0 &&
	    store_message_set_state(&c->store, message_id, "pending") != 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return outbox_retry(c, message_id, done, arg);
}

/* The message an edit or delete changes, into arg ("" for anything else). */
static int
change_target(void *arg, const struct chat_message *m)
{
	if ((strcmp(m->kind, "edit") == 0 || strcmp(m->kind, "delete") == 0) && m->reply_to != NULL)
		snprintf(arg, CHAT_MESSAGE_ID_LEN + 1, "%s", m->reply_to);
	return 0;
}

int
chat_discard(struct chat_client *c, const char *message_id)
{
	char state[16], target[CHAT_MESSAGE_ID_LEN + 1] = "";
	int rc = check_unsent(c, message_id, state, sizeof state);

	if (rc != CHAT_OK)
		return rc;
	if (send_busy(c, message_id))
		return client_fail(c, CHAT_ERR_INVALID,
				   "message %s is being sent now; discard it once this program "
				   "is offline",
				   message_id);
	/* An edit or delete: the message it changes shows again what the
	 * others say (an edit shows at once, and goes with its discard). */
	if (store_message_get(&c->store, message_id, change_target, target) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	rc = store_unsent_delete(&c->store, message_id);
	if (rc == 1 && target[0] != '\0' && changes_apply(c, target) < 0)
		rc = -1;
	if (rc < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	/* Sent or confirmed meanwhile, by another program of the home. */
	if (rc == 0)
		return client_fail(c, CHAT_ERR_INVALID, "message %s was sent meanwhile",
				   message_id);
	return CHAT_OK;
}
