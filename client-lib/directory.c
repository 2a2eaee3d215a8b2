/*
 * directory.c - trust on first use for the server's key directory.
 *
 * The server hands out devices' keys (getKeys, and the sender of every
 * newMessage). It could lie, so every entry is checked here:
 *
 * - the exchange key must be signed by the identity key;
 * - a device already pinned must keep its identity key: a different one is
 *   recorded as pending and refused until the user accepts it (chat_trust);
 * - a device not pinned yet is accepted on first contact with its user (no
 *   device of theirs pinned before), and otherwise only if one of the user's
 *   devices this client already pinned approved it (signed its keys). So the
 *   server cannot slip a device of its own into someone's list.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* The keys of one directory entry. */
struct entry {
	uint8_t ik[32], xk[32], sig[64];
	int approved; /* approverKey and approval present */
	uint8_t approver[32], approval[64];
	const char *name;
};

static int
parse_entry(struct chat_client *c, const char *user, uint32_t device, const cJSON *j,
	    struct entry *e)
{
	const cJSON *ak = cJSON_GetObjectItemCaseSensitive(j, "approverKey");

	memset(e, 0, sizeof *e);
	if (proto_get_b64(j, "identityKey", e->ik, 32, 0, NULL) != 0 ||
	    proto_get_b64(j, "exchangeKey", e->xk, 32, 0, NULL) != 0 ||
	    proto_get_b64(j, "exchangeKeySig", e->sig, 64, 0, NULL) != 0)
		return client_fail(c, CHAT_ERR_PROTOCOL,
				   "the server sent malformed keys for %s device %u", user, device);
	if (ak != NULL && !cJSON_IsNull(ak)) {
		if (proto_get_b64(j, "approverKey", e->approver, 32, 0, NULL) != 0 ||
		    proto_get_b64(j, "approval", e->approval, 64, 0, NULL) != 0)
			return client_fail(c, CHAT_ERR_PROTOCOL,
					   "the server sent a malformed approval for %s device %u",
					   user, device);
		e->approved = 1;
	}
	e->name = proto_get_str(j, "name");
	if (e->name != NULL && strlen(e->name) > PROTO_MAX_DEVICE_NAME)
		e->name = NULL;
	return CHAT_OK;
}

/* May a device of user we have never pinned be accepted? On first contact
 * there is nothing to check an approver against, but an approval that is there
 * must still be a valid signature, and only one device (the first) may go
 * without: *roots counts them over one listing. */
static int
check_new_device(struct chat_client *c, const char *user, uint32_t device, const struct entry *e,
		 int first_contact, int *roots)
{
	int known;

	if (first_contact) {
		if (e->approved &&
		    e2e_verify_device(e->approval, user, e->ik, e->xk, e->approver) != 0)
			return client_fail(
				c, CHAT_ERR_BAD_KEY,
				"%s's device %u carries an approval that does not verify; "
				"refusing it",
				user, device);
		if (!e->approved && ++*roots > 1)
			return client_fail(c, CHAT_ERR_BAD_KEY,
					   "%s's device %u is not approved by any of %s's devices; "
					   "refusing it",
					   user, device, user);
		return CHAT_OK;
	}
	if (!e->approved)
		return client_fail(c, CHAT_ERR_BAD_KEY,
				   "%s's device %u is not approved by any of %s's devices; "
				   "refusing it",
				   user, device, user);
	known = store_peer_known_identity(&c->store, user, e->approver);
	if (known < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (!known || e2e_verify_device(e->approval, user, e->ik, e->xk, e->approver) != 0)
		return client_fail(c, CHAT_ERR_BAD_KEY,
				   "%s's device %u is not approved by a device of %s's that "
				   "this device knows; refusing it",
				   user, device, user);
	return CHAT_OK;
}

/* 1 if no device of user is pinned yet (this device itself aside). */
static int
first_contact(struct chat_client *c, const char *user)
{
	int n = store_peer_count_pins(&c->store, user,
				      strcmp(user, c->user) == 0 ? c->device_id : 0);

	return n < 0 ? -1 : n == 0;
}

static int
check_entry(struct chat_client *c, const char *user, uint32_t device, const cJSON *j, int first,
	    int *roots, uint8_t xk_out[32])
{
	struct store_peer pin;
	struct entry e;
	int found, rc;

	if ((rc = parse_entry(c, user, device, j, &e)) != CHAT_OK)
		return rc;
	if (e2e_verify_exchange_key(e.ik, e.xk, e.sig) != 0)
		return client_fail(c, CHAT_ERR_BAD_KEY,
				   "the key of %s's device %u is not signed by its identity key; "
				   "refusing it",
				   user, device);
	found = store_peer_get(&c->store, user, device, &pin);
	if (found < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (found && memcmp(pin.identity_key, e.ik, 32) != 0) {
		if (store_peer_set_pending(&c->store, user, device, e.ik, e.xk) != 0)
			return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		return client_fail(c, CHAT_ERR_KEY_CHANGED,
				   "the identity key of %s's device %u has changed since it was "
				   "first seen. If %s really has a new key, accept it with: "
				   "chatctl trust %s",
				   user, device, user, user);
	}
	if (!found && (rc = check_new_device(c, user, device, &e, first, roots)) != CHAT_OK)
		return rc;
	/* New device, or the same identity with a (signed) new exchange key; a
	 * change seen earlier and since reverted is forgotten. */
	if (store_peer_pin(&c->store, user, device, e.ik, e.xk, e.name) != 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (!found && !first && c->cbs.on_device_change)
		c->cbs.on_device_change(c, c->udata, user, device, 1);
	if (xk_out != NULL)
		memcpy(xk_out, e.xk, 32);
	return CHAT_OK;
}

int
directory_check(struct chat_client *c, const char *user, uint32_t device, const cJSON *entry,
		uint8_t xk_out[32])
{
	int first = first_contact(c, user), roots = 0;

	if (first < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return check_entry(c, user, device, entry, first, &roots, xk_out);
}

/* The active device ids of a user, before a directory refresh. */
struct id_list {
	uint32_t *ids;
	size_t n, cap;
};

static int
collect_id(void *arg, const char *user, uint32_t device, const struct store_peer *p)
{
	struct id_list *l = arg;

	(void)user;
	(void)p;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		uint32_t *ids = realloc(l->ids, cap * sizeof *ids);

		if (ids == NULL)
			return -1;
		l->ids = ids;
		l->cap = cap;
	}
	l->ids[l->n++] = device;
	return 0;
}

/* Tells the application about devices that were active and are listed no more. */
static void
report_removed(struct chat_client *c, const char *user, const struct id_list *before)
{
	for (size_t i = 0; i < before->n; i++) {
		struct store_peer p;

		if (store_peer_get(&c->store, user, before->ids[i], &p) == 1 && !p.active &&
		    c->cbs.on_device_change)
			c->cbs.on_device_change(c, c->udata, user, before->ids[i], 0);
	}
}

/* Applies one user's entry of a getKeys reply. */
static int
apply_user(struct chat_client *c, const cJSON *u)
{
	const char *user = proto_get_str(u, "user");
	const cJSON *devs = cJSON_GetObjectItemCaseSensitive(u, "devices"), *d;
	struct id_list before = {NULL, 0, 0};
	int rc = CHAT_OK, first_err = CHAT_OK, first, roots = 0;

	if (!proto_valid_user(user) || !cJSON_IsArray(devs))
		return client_fail(c, CHAT_ERR_PROTOCOL,
				   "the server sent a malformed key directory");
	/* Decided once for the whole list: a device approved by one that has since
	 * been removed is still part of a first contact. */
	first = first_contact(c, user);
	if (first < 0 || store_peer_each(&c->store, user, collect_id, &before) < 0 ||
	    store_peer_deactivate_user(&c->store, user) != 0) {
		free(before.ids);
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	}
	/* Devices the directory no longer lists stop receiving our messages. */
	cJSON_ArrayForEach(d, devs) {
		int64_t dev;

		if (proto_get_int(d, "deviceId", 1, INT32_MAX, &dev) != 0) {
			free(before.ids);
			return client_fail(c, CHAT_ERR_PROTOCOL,
					   "the server sent a malformed device id");
		}
		rc = check_entry(c, user, (uint32_t)dev, d, first, &roots, NULL);
		/* Go on checking the others, so every change is recorded at once;
		 * report the first problem. */
		if (rc != CHAT_OK && first_err == CHAT_OK)
			first_err = rc;
		if (rc == CHAT_ERR_STORE || rc == CHAT_ERR_PROTOCOL)
			break;
	}
	if (rc != CHAT_ERR_STORE && rc != CHAT_ERR_PROTOCOL && !first)
		report_removed(c, user, &before);
	free(before.ids);
	return rc == CHAT_ERR_STORE || rc == CHAT_ERR_PROTOCOL ? rc : first_err;
}

int
directory_apply(struct chat_client *c, const cJSON *reply)
{
	const cJSON *users = cJSON_GetObjectItemCaseSensitive(reply, "users"), *u;
	char msg[sizeof c->errmsg] = "";
	int first_err = CHAT_OK;

	if (!cJSON_IsArray(users))
		return client_fail(c, CHAT_ERR_PROTOCOL,
				   "the server sent a malformed key directory");
	cJSON_ArrayForEach(u, users) {
		int rc = apply_user(c, u);

		if (rc == CHAT_ERR_STORE || rc == CHAT_ERR_PROTOCOL)
			return rc;
		if (rc != CHAT_OK && first_err == CHAT_OK) {
			first_err = rc;
			memcpy(msg, c->errmsg, sizeof msg);
		}
	}
	if (first_err != CHAT_OK)
		memcpy(c->errmsg, msg, sizeof msg);
	return first_err;
}
