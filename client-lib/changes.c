/*
 * changes.c - edits and deletes (PROTOCOL.md, "Edits and deletes") as the
 * handle sees them: applying them to a message with its files (the rules
 * are store_changes.c's), delete for me, a message's edit history. Sending
 * an edit or delete for everyone is send.c's (chat_edit,
 * chat_delete_for_everyone); receiving one, receive.c's.
 */
#include "internal.h"
#include "attach.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"

/* Removes a message's downloaded files, those under the home only (a file
 * the user saved elsewhere is theirs). */
void
changes_remove_files(struct chat_client *c, char **paths, size_t n)
{
	size_t hl = strlen(c->home);

	for (size_t i = 0; i < n; i++)
		if (paths[i] != NULL && strncmp(paths[i], c->home, hl) == 0 &&
		    paths[i][hl] == '/' && strstr(paths[i], "/../") == NULL)
			(void)unlink(paths[i]);
}

int
changes_apply(struct chat_client *c, const char *target)
{
	struct attach_meta *metas = NULL;
	char **paths = NULL;
	size_t n = 0;
	int rc;

	/* Read before: a delete takes the records with it. (Removed before the
	 * commit: a rollback then leaves records of files that are gone, which
	 * the next apply removes.) */
	if (store_attachments(&c->store, target, &metas, &paths, &n) != 0)
		n = 0;
	rc = store_changes_apply(&c->store, target);
	if (rc > 0 && (rc & STORE_CHANGE_DELETED) && (rc & STORE_CHANGE_NEW))
		changes_remove_files(c, paths, n);
	attach_meta_free(metas, n);
	store_free_list(paths, n);
	return rc;
}

/* 1 if the row is a message or event of the history (not an edit, delete
 * or reaction, which go with what they change); 2 a timer change. */
static int
is_shown(void *arg, const struct chat_message *m)
{
	*(int *)arg = strcmp(m->kind, "timer") == 0 ? 2
		      : strcmp(m->kind, "edit") != 0 && strcmp(m->kind, "delete") != 0 &&
			strcmp(m->kind, "reaction") != 0 && strcmp(m->kind, "timer-refused") != 0;
	return 0;
}

int
chat_delete_for_me(struct chat_client *c, const char *message_id)
{
	int shown = 0;
	struct attach_meta *metas = NULL;
	char **paths = NULL;
	size_t n = 0;
	int rc = client_check_registered(c);

	if (rc != CHAT_OK)
		return rc;
	if (message_id == NULL || !proto_valid_hex(message_id, CHAT_MESSAGE_ID_LEN))
		return client_fail(c, CHAT_ERR_INVALID, "a message id is 32 lowercase hex digits");
	if (store_message_get(&c->store, message_id, is_shown, &shown) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (!shown)
		return client_fail(c, CHAT_ERR_INVALID,
				   "%s is no message of the history here (an edit, delete or "
				   "reaction goes with its message, or is discarded unsent)",
				   message_id);
	/* A timer change rules the chat's messages here as on every other
	 * device: it stays (a pending one is discarded, chat_discard). */
	if (shown == 2)
		return client_fail(c, CHAT_ERR_INVALID,
				   "%s changes the chat's disappearing timer: it stays in the "
				   "history (set the timer again to change it)",
				   message_id);
	if (send_busy(c, message_id))
		return client_fail(c, CHAT_ERR_INVALID,
				   "message %s is being sent; delete it once it is sent or "
				   "failed",
				   message_id);
	if (store_attachments(&c->store, message_id, &metas, &paths, &n) != 0)
		n = 0;
	rc = store_forget_message(&c->store, message_id);
	if (rc == 1)
		changes_remove_files(c, paths, n);
	attach_meta_free(metas, n);
	store_free_list(paths, n);
	if (rc < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == 0)
		return client_fail(c, CHAT_ERR_INVALID, "message %s is not in the local store",
				   message_id);
	return CHAT_OK;
}

/* Removes the downloaded files (under the home) of a chat's messages, one
 * message at a time, before their records go (a failure after leaves
 * records of files that are gone, as a download removed by hand does). */
static int
remove_message_files(void *arg, const struct chat_message *m)
{
	struct chat_client *c = arg;

	for (size_t i = 0; i < m->n_attachments; i++)
		if (m->attachments[i].path != NULL) {
			char *p = (char *)m->attachments[i].path;

			changes_remove_files(c, &p, 1);
		}
	return 0;
}

int
chat_delete_chat_for_me(struct chat_client *c, const char *chat_id)
{
	int rc = chats_check_local(c, chat_id), stop;

	if (rc != CHAT_OK)
		return rc;
	if (store_message_each(&c->store, chat_id, -1, remove_message_files, c, &stop) < 0 ||
	    (rc = store_forget_chat(&c->store, chat_id)) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return rc;
}

/* chat_edits: the edited message's sender and chat, then each edit. */
struct edits_walk {
	chat_edit_cb fn;
	void *arg;
	const char *target;
	char chat[CHAT_CHAT_ID_LEN + 1];
	char sender[CHAT_USER_MAX + 1];
	int found, stop;
};

static int
edits_target(void *arg, const struct chat_message *m)
{
	struct edits_walk *w = arg;

	if (strcmp(m->kind, "text") != 0)
		return 0;
	w->found = 1;
	snprintf(w->chat, sizeof w->chat, "%s", m->chat_id);
	snprintf(w->sender, sizeof w->sender, "%s", m->sender);
	return 0;
}

static int
edits_one(void *arg, const char *id, const char *text, size_t len, int64_t seq, int64_t sent_at)
{
	struct edits_walk *w = arg;
	struct chat_edit e = {w->target, id, text, len, seq, sent_at};

	return w->stop = w->fn(w->arg, &e);
}

int
chat_edits(struct chat_client *c, const char *message_id, chat_edit_cb each, void *arg)
{
	struct edits_walk w = {each, arg, message_id, "", "", 0, 0};
	int rc = client_check_registered(c);

	if (rc != CHAT_OK)
		return rc;
	if (each == NULL || message_id == NULL || !proto_valid_hex(message_id, CHAT_MESSAGE_ID_LEN))
		return client_fail(c, CHAT_ERR_INVALID, "a message id is 32 lowercase hex digits");
	if (store_message_get(&c->store, message_id, edits_target, &w) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (!w.found)
		return client_fail(c, CHAT_ERR_INVALID, "message %s is not in the local store",
				   message_id);
	if (store_edits_each(&c->store, message_id, w.chat, w.sender, edits_one, &w) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return w.stop;
}
