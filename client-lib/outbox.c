/*
 * outbox.c - the messages of this home that no server has confirmed: listing
 * them, sending one again, dropping one; and finding a message by a prefix
 * of its id. The sending itself is ops.c's (the outbox goes out with every
 * connection); this is what an application offers its user on top.
 */
#include "internal.h"

#include <string.h>

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
	int rc = check_registered(c);

	if (rc != CHAT_OK || (rc = check_unsent(c, message_id, state, sizeof state)) != CHAT_OK)
		return rc;
	if (ops_sending(c, message_id))
		return client_fail(c, CHAT_ERR_INVALID, "message %s is being sent already",
				   message_id);
	/* Pending again: if this program dies now, the next connection sends it. */
	if (strcmp(state, "failed") == 0 &&
	    store_message_set_state(&c->store, message_id, "pending") != 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return ops_retry_stored(c, message_id, done, arg);
}

int
chat_discard(struct chat_client *c, const char *message_id)
{
	char state[16];
	int rc = check_unsent(c, message_id, state, sizeof state);

	if (rc != CHAT_OK)
		return rc;
	if (ops_sending(c, message_id))
		return client_fail(c, CHAT_ERR_INVALID,
				   "message %s is being sent now; discard it once this program "
				   "is offline",
				   message_id);
	rc = store_unsent_delete(&c->store, message_id);
	if (rc < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	/* Sent or confirmed meanwhile, by another program of the home. */
	if (rc == 0)
		return client_fail(c, CHAT_ERR_INVALID, "message %s was sent meanwhile",
				   message_id);
	return CHAT_OK;
}
