/*
 * directory.c - trust on first use for the server's key directory.
 *
 * The server hands out devices' keys (getKeys, and the sender of every
 * newMessage). It could lie, so every entry is checked here
 * (PROTOCOL.md, "What clients accept"):
 *
 * - the exchange key must be signed by the identity key;
 * - a device already pinned must keep its identity key: a different one is
 *   recorded as pending and refused until the user accepts it (chat_trust);
 * - a device the directory stops listing is removed for good: listed again,
 *   it is refused like a changed key, and its key approves no device made
 *   after its removal (a higher id than any known then);
 * - on first contact with a user (no device of theirs pinned) the listing
 *   must hold together: one device without an approval (the first), and
 *   every other approved, through devices of the listing, by it. So the
 *   server cannot slip a device of its own in beside the real ones;
 * - later, a new device must be approved by a pinned device of its user.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The most devices one user's listing may hold (a server allows 3). */
#define DIRECTORY_MAX_DEVICES 64

/* The keys of one directory entry. */
struct entry {
	uint32_t device;
	uint8_t ik[PROTO_KEY_BYTES], xk[PROTO_KEY_BYTES], sig[PROTO_SIG_BYTES];
	int approved; /* approverKey and approval present */
	uint8_t approver[PROTO_KEY_BYTES], approval[PROTO_SIG_BYTES];
	const char *name;
};

static int
parse_entry(struct chat_client *c, const char *user, uint32_t device, const cJSON *j,
	    struct entry *e)
{
	const cJSON *ak = cJSON_GetObjectItemCaseSensitive(j, "approverKey");

	memset(e, 0, sizeof *e);
	e->device = device;
	if (proto_get_b64(j, "identityKey", e->ik, sizeof e->ik, 0, NULL) != 0 ||
	    proto_get_b64(j, "exchangeKey", e->xk, sizeof e->xk, 0, NULL) != 0 ||
	    proto_get_b64(j, "exchangeKeySig", e->sig, sizeof e->sig, 0, NULL) != 0)
		return client_fail(c, CHAT_ERR_PROTOCOL,
				   "the server sent malformed keys for %s device %u", user, device);
	if (ak != NULL && !cJSON_IsNull(ak)) {
		if (proto_get_b64(j, "approverKey", e->approver, sizeof e->approver, 0, NULL) !=
			    0 ||
		    proto_get_b64(j, "approval", e->approval, sizeof e->approval, 0, NULL) != 0)
			return client_fail(c, CHAT_ERR_PROTOCOL,
					   "the server sent a malformed approval for %s device %u",
					   user, device);
		e->approved = 1;
	}
	e->name = proto_get_str(j, "name");
	if (e->name != NULL && strlen(e->name) > PROTO_DEVICE_NAME_MAX)
		e->name = NULL;
	return CHAT_OK;
}

static int
check_signatures(struct chat_client *c, const char *user, const struct entry *e)
{
	if (e2e_verify_exchange_key(e->ik, e->xk, e->sig) != 0)
		return client_fail(c, CHAT_ERR_BAD_KEY,
				   "the key of %s's device %u is not signed by its identity key; "
				   "refusing it",
				   user, e->device);
	if (e->approved && e2e_verify_device(e->approval, user, e->ik, e->xk, e->approver) != 0)
		return client_fail(c, CHAT_ERR_BAD_KEY,
				   "%s's device %u carries an approval that does not verify; "
				   "refusing it",
				   user, e->device);
	return CHAT_OK;
}

/* ---- first contact -------------------------------------------------------- */

static const struct entry *
find_key(const struct entry *v, size_t n, const uint8_t ik[32])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(v[i].ik, ik, 32) == 0)
			return &v[i];
	return NULL;
}

/* Where e's chain of approvals ends: at an unapproved device of the listing
 * (*root set), or at a key the listing does not hold (*anchor set: a device
 * removed since). -1 for a chain that goes round. */
static int
chain_end(const struct entry *v, size_t n, const struct entry *e, const struct entry **root,
	  const uint8_t **anchor)
{
	*root = NULL;
	*anchor = NULL;
	for (size_t steps = 0; steps <= n; steps++) {
		const struct entry *up;

		if (!e->approved) {
			*root = e;
			return 0;
		}
		if ((up = find_key(v, n, e->approver)) == NULL) {
			*anchor = e->approver;
			return 0;
		}
		e = up;
	}
	return -1;
}

/*
 * A first listing of a user must hold together: at most one device goes
 * without an approval (the first, made by register), and every other
 * device's chain of approvals, through devices of the listing, ends at it.
 * Were the first device removed, every chain must end at the one same key
 * the listing lacks (that device's). Anything else is a device someone
 * else approved: the server's.
 */
static int
check_first_listing(struct chat_client *c, const char *user, const struct entry *v, size_t n)
{
	const struct entry *root = NULL, *r;
	const uint8_t *anchor = NULL, *a;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if ((rc = check_signatures(c, user, &v[i])) != CHAT_OK)
			return rc;
		if (!v[i].approved && root != NULL)
			return client_fail(c, CHAT_ERR_BAD_KEY,
					   "%s's devices %u and %u are both unapproved, and only "
					   "a user's first device can be; refusing %s's devices",
					   user, root->device, v[i].device, user);
		if (!v[i].approved)
			root = &v[i];
	}
	for (size_t i = 0; i < n; i++) {
		if (chain_end(v, n, &v[i], &r, &a) != 0)
			return client_fail(c, CHAT_ERR_BAD_KEY,
					   "%s's devices approve each other in a circle; refusing "
					   "%s's devices",
					   user, user);
		if (a != NULL && root == NULL && anchor == NULL)
			anchor = a;
		if (a != NULL && (root != NULL || memcmp(a, anchor, 32) != 0))
			return client_fail(c, CHAT_ERR_BAD_KEY,
					   "%s's device %u is approved by a key that does not lead "
					   "back to %s's first device; refusing %s's devices",
					   user, v[i].device, user, user);
	}
	return CHAT_OK;
}

/* ---- known users ---------------------------------------------------------- */

/* May a device of a user we know, new to us, be accepted? Only if a device
 * of theirs that we pinned approved it, and that device was not removed
 * before this one was made. */
static int
check_new_device(struct chat_client *c, const char *user, const struct entry *e)
{
	struct store_peer approver;
	uint32_t by = 0;
	int found;

	if (!e->approved)
		return client_fail(c, CHAT_ERR_BAD_KEY,
				   "%s's device %u is not approved by any of %s's devices; "
				   "refusing it",
				   user, e->device, user);
	found = store_peer_find_identity(&c->store, user, e->approver, &by, &approver);
	if (found < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (!found)
		return client_fail(c, CHAT_ERR_BAD_KEY,
				   "%s's device %u is not approved by a device of %s's that "
				   "this device knows; refusing it",
				   user, e->device, user);
	if (approver.removed && e->device > approver.horizon)
		return client_fail(c, CHAT_ERR_BAD_KEY,
				   "%s's device %u is approved by %s's device %u, which was "
				   "removed before it was made; refusing it",
				   user, e->device, user, by);
	return CHAT_OK;
}

/* Checks one entry and pins it. first: the listing it comes from held
 * together as a first contact (check_first_listing), so a new device needs
 * no pinned approver. */
static int
check_entry(struct chat_client *c, const char *user, const struct entry *e, int first,
	    uint8_t xk_out[32])
{
	struct store_peer pin;
	int found, rc;

	if ((rc = check_signatures(c, user, e)) != CHAT_OK)
		return rc;
	found = store_peer_get(&c->store, user, e->device, &pin);
	if (found < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (found && (pin.removed || memcmp(pin.identity_key, e->ik, 32) != 0)) {
		if (store_peer_set_pending(&c->store, user, e->device, e->ik, e->xk) != 0)
			return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		/* What to do about it is the front end's to say (with
		 * chat_client_error_user): chatctl and chat-tui say it their way. */
		if (pin.removed)
			return client_fail_key(
				c, user,
				"%s's device %u was removed, and the server lists it "
				"again; it is not trusted again until it is accepted",
				user, e->device);
		return client_fail_key(c, user,
				       "the identity key of %s's device %u has changed since it "
				       "was first seen; it is not used until it is accepted",
				       user, e->device);
	}
	if (!found && !first && (rc = check_new_device(c, user, e)) != CHAT_OK)
		return rc;
	/* New device, or the same identity with a (signed) new exchange key; a
	 * change seen earlier and since reverted is forgotten. */
	if (store_peer_pin(&c->store, user, e->device, e->ik, e->xk, e->name) != 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (!found && !first && c->cbs.on_device_change)
		c->cbs.on_device_change(c, c->udata, user, e->device, 1);
	if (xk_out != NULL)
		memcpy(xk_out, e->xk, 32);
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

int
directory_check(struct chat_client *c, const char *user, uint32_t device, const cJSON *j,
		uint8_t xk_out[32])
{
	struct entry e;
	int first = first_contact(c, user), rc;

	if (first < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if ((rc = parse_entry(c, user, device, j, &e)) != CHAT_OK)
		return rc;
	/* A first device alone is a listing that holds together; an approved
	 * one needs the rest of its user's devices to be judged. */
	if (first && e.approved) {
		if (c->listing_user != NULL && strcmp(c->listing_user, user) == 0)
			return client_fail(c, CHAT_ERR_BAD_KEY,
					   "%s's device %u is approved by another device, and "
					   "%s's devices as the server lists them do not lead back "
					   "to one first device; refusing it",
					   user, device, user);
		return DIRECTORY_NEED_LISTING;
	}
	return check_entry(c, user, &e, first, xk_out);
}

/* ---- a listing ------------------------------------------------------------ */

static int
by_device(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->device < y->device ? -1 : x->device > y->device;
}

/* One user's devices of a getKeys reply, parsed and sorted by id (so that an
 * approver comes before the devices it approved). */
static int
parse_listing(struct chat_client *c, const char *user, const cJSON *devs, struct entry **out,
	      size_t *n)
{
	const cJSON *d;
	size_t cap = (size_t)cJSON_GetArraySize(devs), i = 0;
	struct entry *v;
	int rc = CHAT_OK;

	*out = NULL;
	*n = 0;
	if (cap > DIRECTORY_MAX_DEVICES)
		return client_fail(c, CHAT_ERR_PROTOCOL, "the server lists %zu devices of %s", cap,
				   user);
	if (cap == 0)
		return CHAT_OK;
	if ((v = calloc(cap, sizeof *v)) == NULL)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	cJSON_ArrayForEach(d, devs) {
		int64_t dev;

		if (proto_get_int(d, "deviceId", 1, PROTO_DEVICE_ID_MAX, &dev) != 0) {
			rc = client_fail(c, CHAT_ERR_PROTOCOL,
					 "the server sent a malformed device id");
			break;
		}
		if ((rc = parse_entry(c, user, (uint32_t)dev, d, &v[i++])) != CHAT_OK)
			break;
	}
	qsort(v, i, sizeof *v, by_device);
	for (size_t k = 1; rc == CHAT_OK && k < i; k++)
		if (v[k].device == v[k - 1].device)
			rc = client_fail(c, CHAT_ERR_PROTOCOL,
					 "the server lists %s's device %u twice", user,
					 v[k].device);
	if (rc != CHAT_OK) {
		free(v);
		return rc;
	}
	*out = v;
	*n = i;
	return CHAT_OK;
}

/* Pinned devices of a user that a listing no longer holds become removed. */
struct removal {
	struct chat_client *c;
	const struct entry *v;
	size_t n;
	uint32_t horizon;
	uint32_t gone[DIRECTORY_MAX_DEVICES]; /* newly removed, to report */
	size_t n_gone;
	int err;
};

static int
listed(const struct entry *v, size_t n, uint32_t device)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].device == device)
			return 1;
	return 0;
}

static int
remove_unlisted(void *arg, const char *user, uint32_t device, const struct store_peer *p)
{
	struct removal *r = arg;

	if (listed(r->v, r->n, device) ||
	    (device == r->c->device_id && strcmp(user, r->c->user) == 0))
		return 0;
	if (p->active) {
		if (store_peer_remove(&r->c->store, user, device, r->horizon) != 0)
			return r->err = -1;
		if (r->n_gone < DIRECTORY_MAX_DEVICES)
			r->gone[r->n_gone++] = device;
	} else if (p->has_pending && store_peer_drop_pending(&r->c->store, user, device) != 0) {
		/* Listed again once, gone again now: nothing to accept any more. */
		return r->err = -1;
	}
	return 0;
}

/* Marks removed what the listing lacks, each with the horizon of the
 * highest device id known now (pinned or listed). */
static int
mark_removed(struct chat_client *c, const char *user, const struct entry *v, size_t n,
	     struct removal *r)
{
	uint32_t max = 0;

	memset(r, 0, sizeof *r);
	r->c = c;
	r->v = v;
	r->n = n;
	if (store_peer_max_id(&c->store, user, &max) != 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	r->horizon = n > 0 && v[n - 1].device > max ? v[n - 1].device : max;
	if (store_peer_each_pin(&c->store, user, remove_unlisted, r, NULL) < 0 || r->err != 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return CHAT_OK;
}

/* Applies one user's entry of a getKeys reply. */
static int
apply_user(struct chat_client *c, const cJSON *u)
{
	const char *user = proto_get_str(u, "user");
	const cJSON *devs = cJSON_GetObjectItemCaseSensitive(u, "devices");
	struct entry *v = NULL;
	struct removal r;
	size_t n = 0;
	int rc, first_err = CHAT_OK, first;

	if (!proto_valid_user(user) || !cJSON_IsArray(devs))
		return client_fail(c, CHAT_ERR_PROTOCOL,
				   "the server sent a malformed key directory");
	if ((first = first_contact(c, user)) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if ((rc = parse_listing(c, user, devs, &v, &n)) != CHAT_OK)
		return rc;
	/* A first listing is taken whole or not at all. */
	if (first && (rc = check_first_listing(c, user, v, n)) != CHAT_OK) {
		free(v);
		return rc;
	}
	if (!first && (rc = mark_removed(c, user, v, n, &r)) != CHAT_OK) {
		free(v);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		rc = check_entry(c, user, &v[i], first, NULL);
		/* Go on checking the others, so every change is recorded at once;
		 * report the first problem. */
		if (rc != CHAT_OK && first_err == CHAT_OK)
			first_err = rc;
		if (rc == CHAT_ERR_STORE)
			break;
	}
	free(v);
	if (rc == CHAT_ERR_STORE)
		return rc;
	for (size_t i = 0; !first && i < r.n_gone && c->cbs.on_device_change; i++)
		c->cbs.on_device_change(c, c->udata, user, r.gone[i], 0);
	return first_err;
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

		if (rc == CHAT_ERR_STORE || rc == CHAT_ERR_PROTOCOL || rc == CHAT_ERR_NOMEM)
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

/* A getKeys request for users; reply goes to fn. */
int
directory_request(struct chat_client *c, struct op *op, char **users, size_t n, reply_fn fn)
{
	cJSON *req = request_new("getKeys"), *arr;

	if (req == NULL || (arr = cJSON_AddArrayToObject(req, "users")) == NULL) {
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		if (!cJSON_AddItemToArray(arr, cJSON_CreateString(users[i]))) {
			cJSON_Delete(req);
			return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		}
	return session_request(c, req, fn, op, 0);
}

static void
keys_refreshed(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	if (err == CHAT_OK)
		err = directory_apply(c, reply);
	op_finish(c, op, err, NULL);
}

int
chat_refresh_keys(struct chat_client *c, const char *const *users, size_t n_users,
		  chat_done_cb done, void *arg)
{
	struct op *op;
	int rc = client_check_registered(c);

	if (rc != CHAT_OK)
		return rc;
	if (users == NULL || n_users == 0 || n_users > PROTO_MAX_GETKEYS)
		return client_fail(c, CHAT_ERR_INVALID, "name 1 to %d users", PROTO_MAX_GETKEYS);
	for (size_t i = 0; i < n_users; i++)
		if (!proto_valid_user(users[i]))
			return client_fail(c, CHAT_ERR_INVALID, "'%s' is not a valid user name",
					   users[i] ? users[i] : "");
	if ((op = op_new(c, OP_KEYS, done, arg)) == NULL)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	return op_launch(c, op, directory_request(c, op, (char **)users, n_users, keys_refreshed));
}

/* ---- senders never seen ----------------------------------------------------- */

/* A newMessage or receipt held until its sender's listing is in. */
struct held_frame {
	struct held_frame *next;
	char user[CHAT_USER_MAX + 1];
	int receipt;
	cJSON *msg;
};

/* At most this many frames wait at once; more come again on the next
 * connection, as any frame not acked does. */
#define DIRECTORY_MAX_HELD 1000

static void
listing_in(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	struct held_frame **pp = &c->held, *mine = NULL, **tail = &mine;

	/* Take this user's frames out first: handling them may hold others. */
	while (*pp != NULL) {
		struct held_frame *h = *pp;

		if (strcmp(h->user, op->user) == 0) {
			*pp = h->next;
			h->next = NULL;
			*tail = h;
			tail = &h->next;
			c->n_held--;
		} else {
			pp = &h->next;
		}
	}
	if (err == CHAT_OK)
		directory_apply(c, reply); /* what it refuses, the frames report */
	/* Handled again with the listing in: a refused first listing does not
	 * get asked for again by the same frames. */
	c->listing_user = op->user;
	while (mine != NULL) {
		struct held_frame *h = mine;

		mine = h->next;
		if (err == CHAT_OK && h->receipt)
			receive_receipt(c, h->msg);
		else if (err == CHAT_OK)
			receive_new_message(c, h->msg);
		cJSON_Delete(h->msg);
		free(h);
	}
	c->listing_user = NULL;
	op_finish(c, op, CHAT_OK, NULL);
}

/* Asks for user's listing, once for all the frames that wait on it. */
static int
fetch_listing(struct chat_client *c, const char *user)
{
	struct op *op = op_new(c, OP_KEYS, NULL, NULL);
	char *users[1];
	int rc;

	if (op == NULL)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	snprintf(op->user, sizeof op->user, "%s", user);
	users[0] = op->user;
	rc = directory_request(c, op, users, 1, listing_in);
	if (rc != CHAT_OK)
		op_finish(c, op, rc, NULL);
	return rc;
}

int
directory_hold(struct chat_client *c, const char *user, const cJSON *msg, int receipt)
{
	struct held_frame *h, **tail = &c->held;
	int waiting = 0, rc;

	if (c->n_held >= DIRECTORY_MAX_HELD)
		return client_fail(c, CHAT_ERR_NOMEM,
				   "too many messages wait for their senders' keys");
	for (; *tail != NULL; tail = &(*tail)->next)
		waiting |= strcmp((*tail)->user, user) == 0;
	if ((h = calloc(1, sizeof *h)) == NULL || (h->msg = cJSON_Duplicate(msg, 1)) == NULL) {
		free(h);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	snprintf(h->user, sizeof h->user, "%s", user);
	h->receipt = receipt;
	if (!waiting && (rc = fetch_listing(c, user)) != CHAT_OK) {
		cJSON_Delete(h->msg);
		free(h);
		return rc;
	}
	*tail = h; /* in arrival order */
	c->n_held++;
	return CHAT_OK;
}

void
directory_forget_held(struct chat_client *c)
{
	while (c->held != NULL) {
		struct held_frame *h = c->held;

		c->held = h->next;
		cJSON_Delete(h->msg);
		free(h);
	}
	c->n_held = 0;
}
