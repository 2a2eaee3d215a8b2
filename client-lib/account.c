/*
 * account.c - this device's place on the server: registering it, proving
 * it is itself on every connection (auth), linking a new device with the
 * approval of an existing one, removing one, listing a user's devices, and
 * safety numbers.
 *
 * Linking: the new device draws a secret and shows it as its link code; it sends the
 * server only a MAC over its keys under that secret (e2e_link_mac). The user
 * types the code on an existing device, which finds the waiting request whose
 * MAC the code makes. The server never sees the secret, so it can neither
 * hand the approving device other keys than the new device's (their MAC
 * would not match) nor find keys of its own that fit the code.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

int
account_pending(const struct chat_client *c)
{
	for (const struct op *op = c->ops; op != NULL; op = op->next)
		if (op->kind == OP_REGISTER || op->kind == OP_LINK)
			return 1;
	return 0;
}

/* ---- register, link, authenticate: a connection's first frames ----------- */

/* The server took this home's identity as (user, device): remember it, pin our
 * own keys (so devices we approve later verify against them) and go online. */
static void
become_device(struct chat_client *c, struct op *op, const char *user, uint32_t dev)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%u", (unsigned)dev);
	if (store_meta_set(&c->store, "user", user) != 0 ||
	    store_meta_set(&c->store, "device_id", buf) != 0 ||
	    store_meta_set(&c->store, "server_url", c->server_url) != 0 ||
	    store_peer_pin(&c->store, user, dev, c->id->sign_pk, c->id->x_pk, NULL) != 0) {
		op_finish(c, op,
			  client_fail(c, CHAT_ERR_STORE,
				      "the server accepted this device, but it cannot "
				      "remember it: %s",
				      c->store.err),
			  NULL);
		return;
	}
	snprintf(c->user, sizeof c->user, "%s", user);
	c->device_id = dev;
	session_online(c);
	op_finish(c, op, CHAT_OK, buf);
}

static void
registered(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	int64_t dev;

	if (err == CHAT_OK && (proto_get_int(reply, "deviceId", 1, PROTO_DEVICE_ID_MAX, &dev) != 0))
		err = client_fail(c, CHAT_ERR_PROTOCOL,
				  "the server's registration reply has no device id");
	if (err != CHAT_OK) {
		session_close(c, err);
		op_finish(c, op, err, NULL);
		return;
	}
	become_device(c, op, op->user, (uint32_t)dev);
}

/* The session signature of register, auth and linkDevice (PROTOCOL.md,
 * "Session"): over the challenge, the name of the server as this device was
 * given it, and the TLS connection, so that no other server can use it. Adds
 * "server" and "signature" to req; 0, or -1. */
static int
add_session_sig(struct chat_client *c, cJSON *req, const char *domain)
{
	uint8_t sig[PROTO_SIG_BYTES];

	if (e2e_sign_session(sig, domain, c->challenge, c->server_name, c->binding, c->binding_len,
			     c->id->sign_sk) != 0 ||
	    !cJSON_AddStringToObject(req, "server", c->server_name) ||
	    proto_add_b64(req, "signature", sig, sizeof sig) != 0)
		return -1;
	return 0;
}

/* The MAC a linkDevice carries: this device's keys, to join op->user, under
 * the secret its code shows. */
static int
link_mac(struct chat_client *c, const struct op *op, uint8_t mac[PROTO_LINK_MAC_BYTES])
{
	return e2e_link_mac(mac, op->secret, op->user, c->id->sign_pk, c->id->x_pk);
}

static void
link_requested(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	int64_t expires;

	if (err == CHAT_OK && proto_get_int(reply, "expiresAt", 0, INT64_MAX / 2, &expires) != 0)
		err = client_fail(c, CHAT_ERR_PROTOCOL, "the server's link answer is malformed");
	if (err != CHAT_OK) {
		session_close(c, err);
		op_finish(c, op, err, NULL);
		return;
	}
	c->linking = 1;
	c->link_expires = expires;
	if (op->code_cb)
		op->code_cb(c, op->arg, op->code);
}

void
account_on_linked(struct chat_client *c, const cJSON *msg)
{
	const char *user = proto_get_str(msg, "user");
	int64_t dev;
	struct op *op;

	for (op = c->ops; op != NULL && op->kind != OP_LINK; op = op->next)
		;
	if (op == NULL || !c->linking)
		return; /* not asked for: ignore */
	c->linking = 0;
	if (user == NULL || strcmp(user, op->user) != 0 ||
	    proto_get_int(msg, "deviceId", 1, PROTO_DEVICE_ID_MAX, &dev) != 0) {
		op_finish(
			c, op,
			client_fail(c, CHAT_ERR_PROTOCOL, "the server's link answer is malformed"),
			NULL);
		return;
	}
	c->blocks_fetch = 1; /* no auth reply brings the block list */
	become_device(c, op, user, (uint32_t)dev);
}

/* register and linkDevice carry the same: this device's public keys, and its
 * session signature under the request's own domain; linkDevice also the MAC
 * of the keys under the secret of the code. */
static int
send_device_keys(struct chat_client *c, struct op *op, const char *type, const char *domain,
		 reply_fn fn)
{
	cJSON *req = request_new(type);
	uint8_t mac[PROTO_LINK_MAC_BYTES];

	if (req == NULL)
		return CHAT_ERR_NOMEM;
	if (add_session_sig(c, req, domain) != 0 ||
	    (op->kind == OP_LINK &&
	     (link_mac(c, op, mac) != 0 || proto_add_b64(req, "linkMac", mac, sizeof mac))) ||
	    !cJSON_AddStringToObject(req, "user", op->user) ||
	    (op->device_name && !cJSON_AddStringToObject(req, "deviceName", op->device_name)) ||
	    proto_add_b64(req, "identityKey", c->id->sign_pk, PROTO_KEY_BYTES) ||
	    proto_add_b64(req, "exchangeKey", c->id->x_pk, PROTO_KEY_BYTES) ||
	    proto_add_b64(req, "exchangeKeySig", c->id->x_sig, PROTO_SIG_BYTES)) {
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "cannot build the %s request", type);
	}
	return session_request(c, req, fn, op, 1);
}

static void
authenticated(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	(void)op;
	/* The block list first: the inbox's pushes follow this reply, and
	 * what a blocked user sent is thrown away (block.c). A copy that
	 * cannot be kept in step would drop or show the wrong messages. */
	if (err == CHAT_OK)
		err = blocks_on_auth(c, reply);
	if (err == CHAT_OK) {
		session_online(c);
		return;
	}
	/* Keep the server's reason; the connection is of no use now.  A server
	 * whose store is out of reach for now (unavailable) is tried again
	 * later, as a lost connection is; any other refusal would be repeated. */
	if (err == CHAT_ERR_REFUSED && strcmp(c->server_code, "unavailable") == 0)
		err = CHAT_ERR_CONNECTION_LOST;
	session_close(c, err);
}

static int
send_auth(struct chat_client *c)
{
	cJSON *req = request_new("auth");

	if (req == NULL)
		return CHAT_ERR_NOMEM;
	if (!cJSON_AddStringToObject(req, "user", c->user) ||
	    !cJSON_AddNumberToObject(req, "deviceId", c->device_id) ||
	    add_session_sig(c, req, PROTO_LABEL_AUTH) != 0 ||
	    /* A handle that does not take delivery does not take the device's
	     * receiving session either: it runs beside it. */
	    (c->send_only && !cJSON_AddFalseToObject(req, "receive"))) {
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "cannot build the authentication");
	}
	return session_request(c, req, authenticated, NULL, 1);
}

void
account_on_hello(struct chat_client *c)
{
	int rc = CHAT_ERR_NOT_REGISTERED;

	for (struct op *op = c->ops; op != NULL; op = op->next) {
		if (op->kind == OP_REGISTER) {
			rc = send_device_keys(c, op, "register", PROTO_LABEL_REGISTER, registered);
			goto sent;
		}
		if (op->kind == OP_LINK) {
			rc = send_device_keys(c, op, "linkDevice", PROTO_LABEL_LINK,
					      link_requested);
			goto sent;
		}
	}
	if (c->id != NULL && c->user[0] != '\0')
		rc = send_auth(c);
	else
		client_fail(c, rc, "this device is not registered");
sent:
	if (rc != CHAT_OK) {
		session_close(c, rc);
	}
}

/* The checks and set-up that registering and linking share: this home must not
 * be a device yet, and gets its identity before any server hears of it. *opp
 * gets the op, of the given kind, not yet launched. */
static int
new_device_op(struct chat_client *c, int kind, const char *user, const char *device_name,
	      chat_done_cb done, void *arg, struct op **opp)
{
	struct op *op;
	int rc;

	if (!proto_valid_user(user))
		return client_fail(c, CHAT_ERR_INVALID,
				   "'%s' is not a valid user name: " PROTO_USER_FORM,
				   user ? user : "");
	if (device_name != NULL && strlen(device_name) > PROTO_DEVICE_NAME_MAX)
		return client_fail(c, CHAT_ERR_TOO_LARGE, "device name over %d bytes",
				   PROTO_DEVICE_NAME_MAX);
	if (c->user[0] != '\0')
		return client_fail(c, CHAT_ERR_REGISTERED,
				   "this home (%s) is already registered, as %s's device %u; "
				   "use another home",
				   c->home, c->user, c->device_id);
	if (c->server_url == NULL)
		return client_fail(c, CHAT_ERR_INVALID,
				   "no server URL: none was given, and none is remembered");
	if (account_pending(c))
		return client_fail(c, CHAT_ERR_INVALID, "a registration is already under way");
	if ((rc = client_ensure_identity(c)) != CHAT_OK)
		return rc;
	op = op_new(c, kind, done, arg);
	if (op == NULL || (device_name && (op->device_name = strdup(device_name)) == NULL)) {
		if (op)
			op_finish(c, op, CHAT_ERR_NOMEM, NULL);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	snprintf(op->user, sizeof op->user, "%s", user);
	*opp = op;
	return CHAT_OK;
}

int
chat_register(struct chat_client *c, const char *user, const char *device_name, chat_done_cb done,
	      void *arg)
{
	struct op *op;
	int rc = new_device_op(c, OP_REGISTER, user, device_name, done, arg, &op);

	return rc != CHAT_OK ? rc : op_launch(c, op, CHAT_OK);
}

int64_t
chat_client_link_expires(const struct chat_client *c)
{
	return c->linking ? c->link_expires : 0;
}

int
chat_link_device(struct chat_client *c, const char *user, const char *device_name,
		 chat_code_cb code, chat_done_cb done, void *arg)
{
	struct op *op;
	int rc = new_device_op(c, OP_LINK, user, device_name, done, arg, &op);

	if (rc != CHAT_OK)
		return rc;
	op->code_cb = code;
	/* The secret lives in the op only, and goes (wiped) with it. */
	randombytes_buf(op->secret, sizeof op->secret);
	e2e_link_code(op->secret, op->code);
	return op_launch(c, op, CHAT_OK);
}

/* ---- approving a new device, on an existing one -------------------------- */

static void
approved(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	int64_t dev;
	char buf[16];

	if (err == CHAT_OK && proto_get_int(reply, "deviceId", 1, PROTO_DEVICE_ID_MAX, &dev) != 0)
		err = client_fail(c, CHAT_ERR_PROTOCOL,
				  "the server's approval answer is malformed");
	if (err != CHAT_OK) {
		op_finish(c, op, err, NULL);
		return;
	}
	/* Pin it now: its keys were checked against the code the user typed,
	 * the strongest pin there is, and our read receipts go to it at once. */
	if (store_peer_pin(&c->store, c->user, (uint32_t)dev, (const uint8_t *)op->text,
			   (const uint8_t *)op->text + PROTO_KEY_BYTES, NULL) != 0) {
		op_finish(c, op, client_fail(c, CHAT_ERR_STORE, "approved, but %s", c->store.err),
			  NULL);
		return;
	}
	/* Its history goes to it now, in the background (history.c): the
	 * batches are in the store, so the approval stands whatever becomes
	 * of them. */
	history_start(c, (uint32_t)dev);
	snprintf(buf, sizeof buf, "%u", (unsigned)dev);
	op_finish(c, op, CHAT_OK, buf);
}

/* A waiting request, read from getLink's list. */
struct link_request {
	uint8_t ik[PROTO_KEY_BYTES], xk[PROTO_KEY_BYTES], sig[PROTO_SIG_BYTES];
	uint8_t mac[PROTO_LINK_MAC_BYTES];
};

static int
read_request(const cJSON *j, struct link_request *q)
{
	if (proto_get_b64(j, "identityKey", q->ik, sizeof q->ik, 0, NULL) != 0 ||
	    proto_get_b64(j, "exchangeKey", q->xk, sizeof q->xk, 0, NULL) != 0 ||
	    proto_get_b64(j, "exchangeKeySig", q->sig, sizeof q->sig, 0, NULL) != 0 ||
	    proto_get_b64(j, "linkMac", q->mac, sizeof q->mac, 0, NULL) != 0)
		return -1;
	return 0;
}

/* The request among getLink's whose MAC the typed code makes: 1 found (in
 * *q), 0 none, -1 malformed. */
static int
find_request(struct chat_client *c, const struct op *op, const cJSON *reply, struct link_request *q)
{
	const cJSON *reqs = cJSON_GetObjectItemCaseSensitive(reply, "requests"), *j;
	const char *user = proto_get_str(reply, "user");

	if (user == NULL || strcmp(user, c->user) != 0 || !cJSON_IsArray(reqs))
		return -1;
	cJSON_ArrayForEach(j, reqs) {
		if (read_request(j, q) != 0)
			return -1;
		if (e2e_link_mac_verify(q->mac, op->secret, c->user, q->ik, q->xk) == 0)
			return 1;
	}
	return 0;
}

/* What a code matches no request means: reported as the server's
 * invalid_code always was (CHAT_ERR_REFUSED), though it is found here. */
static int
wrong_code(struct chat_client *c, const struct op *op)
{
	snprintf(c->server_code, sizeof c->server_code, "invalid_code");
	return client_fail(c, CHAT_ERR_REFUSED,
			   "no device waiting to join %s shows the code %s: it is mistyped, has "
			   "expired (10 minutes), or its device has gone; nothing was approved "
			   "(invalid_code)",
			   c->user, op->code);
}

/* The requests waiting: find the one of the code, check its keys, sign them,
 * approve. */
static void
link_found(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	struct link_request q;
	uint8_t approval[PROTO_SIG_BYTES];
	cJSON *req;
	int found = 0;

	if (err == CHAT_OK && (found = find_request(c, op, reply, &q)) < 0)
		err = client_fail(c, CHAT_ERR_PROTOCOL, "the server's link requests are malformed");
	if (err == CHAT_OK && found == 0)
		err = wrong_code(c, op);
	if (err == CHAT_OK && e2e_verify_exchange_key(q.ik, q.xk, q.sig) != 0)
		err = client_fail(c, CHAT_ERR_BAD_KEY,
				  "the new device's exchange key is not signed by its identity "
				  "key; nothing was approved");
	if (err == CHAT_OK && e2e_sign_device(approval, c->user, q.ik, q.xk, c->id->sign_sk) != 0)
		err = client_fail(c, CHAT_ERR_NOMEM, "cannot sign the approval");
	if (err != CHAT_OK) {
		op_finish(c, op, err, NULL);
		return;
	}
	/* Kept (in op->text, wiped with the op) to pin once approved. */
	if ((op->text = malloc(2 * PROTO_KEY_BYTES)) == NULL) {
		op_finish(c, op, client_fail(c, CHAT_ERR_NOMEM, "out of memory"), NULL);
		return;
	}
	memcpy(op->text, q.ik, PROTO_KEY_BYTES);
	memcpy(op->text + PROTO_KEY_BYTES, q.xk, PROTO_KEY_BYTES);
	op->text_len = 2 * PROTO_KEY_BYTES;
	req = request_new("approveLink");
	if (req == NULL || proto_add_b64(req, "identityKey", q.ik, sizeof q.ik) != 0 ||
	    proto_add_b64(req, "approval", approval, sizeof approval) != 0) {
		cJSON_Delete(req);
		op_finish(c, op, client_fail(c, CHAT_ERR_NOMEM, "out of memory"), NULL);
		return;
	}
	if ((err = session_request(c, req, approved, op, 0)) != CHAT_OK)
		op_finish(c, op, err, NULL);
}

int
chat_approve_device(struct chat_client *c, const char *code, chat_done_cb done, void *arg)
{
	uint8_t secret[PROTO_LINK_SECRET_BYTES];
	struct op *op;
	cJSON *req;
	int rc = client_check_registered(c);

	if (rc != CHAT_OK)
		return rc;
	if (e2e_link_code_parse(code, secret) != 0)
		return client_fail(c, CHAT_ERR_INVALID,
				   "'%s' is not a link code (16 letters and digits, like "
				   "K7QM-2XWD-R4TP-9BNA)",
				   code ? code : "");
	req = request_new("getLink");
	if (req == NULL || (op = op_new(c, OP_APPROVE, done, arg)) == NULL) {
		sodium_memzero(secret, sizeof secret);
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	memcpy(op->secret, secret, sizeof secret);
	sodium_memzero(secret, sizeof secret);
	e2e_link_code(op->secret, op->code);
	return op_launch(c, op, session_request(c, req, link_found, op, 0));
}

/* ---- removing a device --------------------------------------------------- */

/* One of our own devices is gone: removed for good here too, as the
 * directory would have it next time (horizon: the highest id of ours
 * known); and if it is this one, this home is no device of anyone's any
 * more: it may link again. 0, or -1 (store.err says why; nothing changed). */
static int
forget_device(struct chat_client *c, uint32_t device)
{
	uint32_t max = device;

	if (store_begin(&c->store) != 0 || store_peer_max_id(&c->store, c->user, &max) != 0 ||
	    store_peer_remove(&c->store, c->user, device, max > device ? max : device) != 0 ||
	    (device == c->device_id && (store_meta_set(&c->store, "user", "") != 0 ||
					store_meta_set(&c->store, "device_id", "0") != 0)) ||
	    store_commit(&c->store) != 0) {
		store_rollback(&c->store);
		return -1;
	}
	return 0;
}

static void
device_removed(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	char buf[16];

	(void)reply;
	if (err == CHAT_ERR_REFUSED && strcmp(c->server_code, "unknown_device") == 0)
		err = client_fail(c, CHAT_ERR_REFUSED, "%s has no device %u", c->user,
				  op->device_id);
	if (err == CHAT_OK && forget_device(c, op->device_id) != 0)
		err = client_fail(c, CHAT_ERR_STORE,
				  "device %u was removed on the server, but this device cannot "
				  "record it: %s",
				  op->device_id, c->store.err);
	snprintf(buf, sizeof buf, "%u", op->device_id);
	op_finish(c, op, err, buf);
}

int
chat_remove_device(struct chat_client *c, uint32_t device_id, chat_done_cb done, void *arg)
{
	struct op *op;
	cJSON *req;
	int rc = client_check_registered(c);

	if (rc != CHAT_OK)
		return rc;
	if (device_id == 0 || device_id > PROTO_DEVICE_ID_MAX)
		return client_fail(c, CHAT_ERR_INVALID, "%u is not a device id", device_id);
	req = request_new("removeDevice");
	if (req == NULL || !cJSON_AddNumberToObject(req, "deviceId", device_id) ||
	    (op = op_new(c, OP_REMOVE_DEVICE, done, arg)) == NULL) {
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	op->device_id = device_id;
	return op_launch(c, op, session_request(c, req, device_removed, op, 0));
}

/* ---- local: devices and safety numbers ----------------------------------- */

struct device_walk {
	struct chat_client *c;
	chat_device_cb each;
	void *arg;
};

static int
each_device(void *arg, const char *user, uint32_t device, const struct store_peer *p)
{
	struct device_walk *w = arg;
	struct chat_device d = {user, device, p->name,
				strcmp(user, w->c->user) == 0 && device == w->c->device_id,
				p->has_pending};

	return w->each(w->arg, &d);
}

int
chat_devices(struct chat_client *c, const char *user, chat_device_cb each, void *arg)
{
	struct device_walk w = {c, each, arg};
	int stop;

	if (!proto_valid_user(user))
		return client_fail(c, CHAT_ERR_INVALID, "'%s' is not a valid user name",
				   user ? user : "");
	if (store_peer_each(&c->store, user, each_device, &w, &stop) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return stop;
}

/* A user's key list for the safety number: (id big-endian, identity key) by id. */
struct key_list {
	uint8_t buf[64 * 36];
	size_t len;
};

static int
add_key(void *arg, const char *user, uint32_t device, const struct store_peer *p)
{
	struct key_list *l = arg;

	(void)user;
	if (l->len + 36 > sizeof l->buf)
		return 1;
	l->buf[l->len++] = (uint8_t)(device >> 24);
	l->buf[l->len++] = (uint8_t)(device >> 16);
	l->buf[l->len++] = (uint8_t)(device >> 8);
	l->buf[l->len++] = (uint8_t)device;
	memcpy(l->buf + l->len, p->identity_key, PROTO_KEY_BYTES);
	l->len += PROTO_KEY_BYTES;
	return 0;
}

int
chat_safety_number(struct chat_client *c, const char *user, char *out)
{
	struct key_list mine = {.len = 0}, theirs = {.len = 0};
	int rc = client_check_registered(c), first_mine;

	if (rc != CHAT_OK)
		return rc;
	if (!proto_valid_user(user))
		return client_fail(c, CHAT_ERR_INVALID, "'%s' is not a valid user name",
				   user ? user : "");
	if (store_peer_each(&c->store, c->user, add_key, &mine, NULL) < 0 ||
	    store_peer_each(&c->store, user, add_key, &theirs, NULL) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (theirs.len == 0)
		return client_fail(c, CHAT_ERR_INVALID, "no device of %s is known to this device",
				   user);
	first_mine = strcmp(c->user, user) <= 0;
	e2e_safety_number(first_mine ? mine.buf : theirs.buf, first_mine ? mine.len : theirs.len,
			  first_mine ? theirs.buf : mine.buf, first_mine ? theirs.len : mine.len,
			  out);
	return CHAT_OK;
}
