/*
 * ops.c - the calls that take several requests: register (and auth), create a
 * chat, send a message. Each is an `op` that moves on when a reply comes and
 * ends by calling its done callback exactly once.
 */
#include "internal.h"
#include "attach.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

/* A send retries after device_mismatch with a fresh directory this many times. */
#define SEND_ATTEMPTS 3

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
	if (op->text != NULL) {
		sodium_memzero(op->text, op->text_len);
		free(op->text);
	}
	free(op->device_name);
	media_free(op->media);
	attach_meta_free(op->atts, op->n_atts);
	free(op);
}

static void release_ready(struct chat_client *c, const char *chat_id);

void
op_finish(struct chat_client *c, struct op *op, int err, const char *id)
{
	char chat_id[CHAT_CHAT_ID_LEN + 1];
	int kind = op->kind;
	struct op **pp;

	for (pp = &c->ops; *pp != NULL && *pp != op; pp = &(*pp)->next)
		;
	if (*pp == NULL)
		return;
	*pp = op->next;
	session_drop_op_requests(c, op);
	/* A send the server never committed (it refused, or we refused to encrypt)
	 * is failed; one cut off by the network stays pending: it may have landed.
	 * So does one the server only asked to slow down (rate_limited): the outbox
	 * sends it again on the next connection. */
	if (op->kind == OP_SEND && err != CHAT_OK && err != CHAT_ERR_CONNECTION_LOST &&
	    err != CHAT_ERR_TIMEOUT && err != CHAT_ERR_CONNECT &&
	    !(err == CHAT_ERR_REFUSED && strcmp(c->server_code, "rate_limited") == 0)) {
		store_message_set_state(&c->store, op->message_id, "failed");
		/* An outbox send has no caller waiting: tell the application. */
		if (op->outbox && c->cbs.on_send_failed)
			c->cbs.on_send_failed(c, c->udata, op->chat_id, op->message_id, err,
					      c->errmsg);
	}
	/* A failed send tells its id all the same: the message is in the store
	 * (pending or failed), and the caller may want to retry or discard it. */
	if (op->done)
		op->done(c, op->arg, err,
			 err == CHAT_OK        ? id
			 : op->kind == OP_SEND ? op->message_id
					       : NULL);
	memcpy(chat_id, op->chat_id, sizeof chat_id);
	op_free(op);
	/* A send that never went out no longer holds back the newer ones. */
	if (kind == OP_SEND)
		release_ready(c, chat_id);
}

void
ops_fail_all(struct chat_client *c, int err)
{
	while (c->ops != NULL)
		op_finish(c, c->ops, err, NULL);
}

/* Ends every op but the sends held for a reconnection. */
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

void
ops_hold_sends(struct chat_client *c)
{
	for (struct op *op = c->ops; op != NULL; op = op->next)
		if (op->kind == OP_SEND) {
			op->held = 1;
			op->ready = op->on_wire = 0;
			session_drop_op_requests(c, op);
		}
}

int
ops_pending_register(const struct chat_client *c)
{
	for (const struct op *op = c->ops; op != NULL; op = op->next)
		if (op->kind == OP_REGISTER || op->kind == OP_LINK)
			return 1;
	return 0;
}

/* Connects when there is no connection yet; requests wait in the queue. */
static int
ensure_session(struct chat_client *c)
{
	return c->wsi != NULL ? CHAT_OK : session_start(c);
}

/* Sends a new op on its way: connects if needed. If that fails (or rc already
 * says so) the op ends without calling back, since the caller returns rc. */
int
op_launch(struct chat_client *c, struct op *op, int rc)
{
	/* A send written while waiting to reconnect waits for the attempt the
	 * backoff has set. Connecting at once for each one would knock on a
	 * server that is down once per message, and each failure would double
	 * the wait, leaving the device away for up to 30 s after it is back. */
	if (rc == CHAT_OK && op->held && c->state == CHAT_STATE_WAITING)
		return CHAT_OK;
	if (rc == CHAT_OK)
		rc = ensure_session(c);
	if (rc != CHAT_OK) {
		op->done = NULL;
		op_finish(c, op, rc, NULL);
	}
	return rc;
}

/* A well-formed chat id, or CHAT_ERR_INVALID saying so. */
int
check_chat_id(struct chat_client *c, const char *chat_id)
{
	if (!proto_valid_hex(chat_id, CHAT_CHAT_ID_LEN))
		return client_fail(c, CHAT_ERR_INVALID, "'%s' is not a chat id",
				   chat_id ? chat_id : "");
	return CHAT_OK;
}

/* A chat this device's store holds: CHAT_OK, CHAT_ERR_INVALID,
 * CHAT_ERR_NO_SUCH_CHAT or CHAT_ERR_STORE. */
int
check_local_chat(struct chat_client *c, const char *chat_id)
{
	int rc = check_chat_id(c, chat_id);

	if (rc != CHAT_OK)
		return rc;
	rc = store_chat_exists(&c->store, chat_id);
	if (rc < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (rc == 0)
		return client_fail(c, CHAT_ERR_NO_SUCH_CHAT, "no chat %s in this device's store",
				   chat_id);
	return CHAT_OK;
}

int
check_registered(struct chat_client *c)
{
	if (c->id == NULL || c->user[0] == '\0')
		return client_fail(c, CHAT_ERR_NOT_REGISTERED, "this device is not registered");
	return CHAT_OK;
}

/* Reads a list of user names (a reply's participants) into a malloc'd array. */
int
read_users(const cJSON *arr, char ***out, size_t *n)
{
	const cJSON *u;
	size_t len = 0, cap = (size_t)cJSON_GetArraySize(arr);
	char **list;

	*out = NULL;
	*n = 0;
	if (!cJSON_IsArray(arr) || cap > 1000)
		return -1;
	list = calloc(cap ? cap : 1, sizeof *list);
	if (list == NULL)
		return -1;
	cJSON_ArrayForEach(u, arr) {
		if (!cJSON_IsString(u) || !proto_valid_user(u->valuestring) ||
		    (list[len] = strdup(u->valuestring)) == NULL) {
			store_free_list(list, len);
			return -1;
		}
		len++;
	}
	*out = list;
	*n = len;
	return 0;
}

/* Stores a chat as a createChat/getChat reply or a chatUpdate describes it: the
 * chat, its members and admins. *members gets the members (free with
 * store_free_list). */
int
store_chat_reply(struct chat_client *c, const cJSON *reply, char ***members, size_t *n)
{
	const char *chat_id = proto_get_str(reply, "chatId"), *kind = proto_get_str(reply, "kind");
	const char *name = proto_get_str(reply, "name");
	const cJSON *admins_j = cJSON_GetObjectItemCaseSensitive(reply, "admins");
	char **admins = NULL;
	size_t n_admins = 0;
	int64_t created = 0;
	int rc = CHAT_OK;

	if (!proto_valid_hex(chat_id, CHAT_CHAT_ID_LEN) || kind == NULL ||
	    read_users(cJSON_GetObjectItemCaseSensitive(reply, "participants"), members, n) != 0)
		return client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a malformed chat");
	if (admins_j != NULL && read_users(admins_j, &admins, &n_admins) != 0)
		rc = client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a malformed chat");
	proto_get_int(reply, "createdAt", 0, INT64_MAX / 2, &created);
	if (rc == CHAT_OK &&
	    store_chat_put(&c->store, chat_id, kind, name, created ? created : proto_now_ms(),
			   (const char *const *)*members, *n, (const char *const *)admins,
			   n_admins) != 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	store_free_list(admins, n_admins);
	if (rc != CHAT_OK) {
		store_free_list(*members, *n);
		*members = NULL;
		*n = 0;
	}
	return rc;
}

cJSON *
new_request(const char *type)
{
	cJSON *req = cJSON_CreateObject();

	if (req != NULL && cJSON_AddStringToObject(req, "type", type) == NULL) {
		cJSON_Delete(req);
		return NULL;
	}
	return req;
}

/* A getKeys request for users; reply goes to fn. */
int
request_keys(struct chat_client *c, struct op *op, char **users, size_t n, reply_fn fn)
{
	cJSON *req = new_request("getKeys"), *arr;

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

int
ops_self_chat(struct chat_client *c, const char *user)
{
	return client_fail(c, CHAT_ERR_INVALID,
			   "%s is you: notes to yourself are not supported yet; name "
			   "another user",
			   user);
}

/* A refusal with no_such_chat becomes CHAT_ERR_NO_SUCH_CHAT, with a message. */
int
ops_no_such_chat(struct chat_client *c, int err, const char *chat_id)
{
	if (err == CHAT_ERR_REFUSED && strcmp(c->server_code, "no_such_chat") == 0)
		return client_fail(c, CHAT_ERR_NO_SUCH_CHAT,
				   "no chat %s on the server, or you are not in it", chat_id);
	return err;
}

/* ---- register and auth --------------------------------------------------- */

static void
registered(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	int64_t dev;

	if (err == CHAT_OK && (proto_get_int(reply, "deviceId", 1, PROTO_DEVICE_ID_MAX, &dev) != 0))
		err = client_fail(c, CHAT_ERR_PROTOCOL,
				  "the server's registration reply has no device id");
	if (err != CHAT_OK) {
		c->conn_err = err;
		c->closing = 1;
		session_want_write(c);
		op_finish(c, op, err, NULL);
		return;
	}
	ops_become_device(c, op, op->user, (uint32_t)dev);
}

/* The server took this home's identity as (user, device): remember it, pin our
 * own keys (so devices we approve later verify against them) and go online. */
void
ops_become_device(struct chat_client *c, struct op *op, const char *user, uint32_t dev)
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

/* register and linkDevice carry the same: this device's public keys, and its
 * session signature under the request's own domain; linkDevice also the MAC
 * of the keys under the secret of the code. */
static int
send_device_keys(struct chat_client *c, struct op *op, const char *type, const char *domain,
		 reply_fn fn)
{
	cJSON *req = new_request(type);
	uint8_t mac[PROTO_LINK_MAC_BYTES];

	if (req == NULL)
		return CHAT_ERR_NOMEM;
	if (add_session_sig(c, req, domain) != 0 ||
	    (op->kind == OP_LINK &&
	     (ops_link_mac(c, op, mac) != 0 || proto_add_b64(req, "linkMac", mac, sizeof mac))) ||
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
	(void)reply;
	if (err == CHAT_OK) {
		session_online(c);
		return;
	}
	/* Keep the server's reason; the connection is of no use now. */
	c->conn_err = err;
	c->closing = 1;
	session_want_write(c);
}

static int
send_auth(struct chat_client *c)
{
	cJSON *req = new_request("auth");

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
ops_on_hello(struct chat_client *c)
{
	int rc = CHAT_ERR_NOT_REGISTERED;

	for (struct op *op = c->ops; op != NULL; op = op->next) {
		if (op->kind == OP_REGISTER) {
			rc = send_device_keys(c, op, "register", PROTO_LABEL_REGISTER, registered);
			goto sent;
		}
		if (op->kind == OP_LINK) {
			rc = send_device_keys(c, op, "linkDevice", PROTO_LABEL_LINK,
					      ops_link_requested);
			goto sent;
		}
	}
	if (c->id != NULL && c->user[0] != '\0')
		rc = send_auth(c);
	else
		client_fail(c, rc, "this device is not registered");
sent:
	if (rc != CHAT_OK) {
		c->conn_err = rc;
		c->closing = 1;
		session_want_write(c);
	}
}

/* The checks and set-up that registering and linking share: this home must not
 * be a device yet, and gets its identity before any server hears of it. *opp
 * gets the op, of the given kind, not yet launched. */
int
ops_new_device_op(struct chat_client *c, int kind, const char *user, const char *device_name,
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
	if (ops_pending_register(c))
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
	int rc = ops_new_device_op(c, OP_REGISTER, user, device_name, done, arg, &op);

	return rc != CHAT_OK ? rc : op_launch(c, op, CHAT_OK);
}

/* ---- create a chat -------------------------------------------------------- */

static void
create_keys(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	if (err == CHAT_OK)
		err = directory_apply(c, reply);
	op_finish(c, op, err, op->chat_id);
}

void
ops_chat_created(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	char **members = NULL;
	size_t n = 0;

	if (err == CHAT_OK)
		err = store_chat_reply(c, reply, &members, &n);
	if (err != CHAT_OK) {
		op_finish(c, op, err, NULL);
		return;
	}
	snprintf(op->chat_id, sizeof op->chat_id, "%s", proto_get_str(reply, "chatId"));
	/* Pin the members' keys now, so a changed key is caught before the first send. */
	err = request_keys(c, op, members, n, create_keys);
	store_free_list(members, n);
	if (err != CHAT_OK)
		op_finish(c, op, err, NULL);
}

int
chat_create_chat(struct chat_client *c, const char *const *users, size_t n_users, chat_done_cb done,
		 void *arg)
{
	struct op *op;
	cJSON *req, *arr;
	int rc = check_registered(c);

	if (rc != CHAT_OK)
		return rc;
	if (users == NULL || n_users == 0)
		return client_fail(c, CHAT_ERR_INVALID, "name at least one user to chat with");
	if (n_users > PROTO_MAX_MEMBERS - 1)
		return client_fail(c, CHAT_ERR_TOO_LARGE, "a chat has at most %d members",
				   PROTO_MAX_MEMBERS);
	for (size_t i = 0; i < n_users; i++)
		if (!proto_valid_user(users[i]))
			return client_fail(c, CHAT_ERR_INVALID, "'%s' is not a valid user name",
					   users[i]);
	if (n_users == 1 && strcmp(users[0], c->user) == 0)
		return ops_self_chat(c, users[0]);
	req = new_request("createChat");
	arr = req ? cJSON_AddArrayToObject(req, "participants") : NULL;
	for (size_t i = 0; arr != NULL && i < n_users; i++)
		if (!cJSON_AddItemToArray(arr, cJSON_CreateString(users[i])))
			arr = NULL;
	op = arr ? op_new(c, OP_CREATE, done, arg) : NULL;
	if (op == NULL) {
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	return op_launch(c, op, session_request(c, req, ops_chat_created, op, 0));
}

/* ---- fetch a chat we only know by id --------------------------------------- */

/* A getChat or modifyChatParticipants reply: both describe the chat as it is
 * now, so store it, and end the op (if there is one: a chat first seen in a
 * message is fetched for the store alone). */
void
ops_chat_fetched(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	char **members = NULL;
	size_t n = 0;

	if (op != NULL)
		err = ops_no_such_chat(c, err, op->chat_id);
	if (err == CHAT_OK)
		err = store_chat_reply(c, reply, &members, &n);
	store_free_list(members, n);
	if (op != NULL)
		op_finish(c, op, err, op->chat_id);
}

int
ops_request_chat(struct chat_client *c, const char *chat_id, reply_fn fn, struct op *op)
{
	cJSON *req = new_request("getChat");

	if (req == NULL || !cJSON_AddStringToObject(req, "chatId", chat_id)) {
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	return session_request(c, req, fn, op, 0);
}

int
ops_fetch_chat(struct chat_client *c, const char *chat_id)
{
	return ops_request_chat(c, chat_id, ops_chat_fetched, NULL);
}

/* ---- send a message --------------------------------------------------------- */

static int send_step(struct chat_client *c, struct op *op);

/* Builds one envelope per active device of a user, but ours. */
struct envelope_ctx {
	struct chat_client *c;
	const char *chat_id, *id;
	cJSON *arr;
	const uint8_t *body;
	size_t body_len;
	int skip_changed;
	int err;
};

static int
add_envelope(void *arg, const char *user, uint32_t device, const struct store_peer *p)
{
	struct envelope_ctx *e = arg;
	struct chat_client *c = e->c;
	struct e2e_header h = {e->chat_id, e->id, c->user, c->device_id, user, device};
	uint8_t nonce[PROTO_NONCE_BYTES], *ct;
	size_t ct_len = 0;
	cJSON *env;

	if (strcmp(user, c->user) == 0 && device == c->device_id)
		return 0;
	if (p->has_pending && e->skip_changed)
		return 0;
	if (p->has_pending) {
		e->err = client_fail_key(c, user,
					 "the identity key of %s's device %u changed; nothing was "
					 "sent",
					 user, device);
		return 1;
	}
	if (e2e_sealed_len(e->body_len) == 0) {
		/* The callers bound what they build; this is the last line. */
		e->err = client_fail(c, CHAT_ERR_TOO_LARGE,
				     "a message of %zu bytes does not fit one envelope", e->body_len);
		return 1;
	}
	ct = malloc(e2e_sealed_len(e->body_len));
	env = cJSON_CreateObject();
	if (ct == NULL || env == NULL || !cJSON_AddItemToArray(e->arr, env)) {
		free(ct);
		cJSON_Delete(env);
		e->err = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
		return 1;
	}
	if (e2e_seal(ct, &ct_len, nonce, e->body, e->body_len, &h, c->id->x_sk, c->id->x_pk,
		     p->exchange_key) != 0) {
		free(ct);
		e->err = client_fail(c, CHAT_ERR_BAD_KEY,
				     "cannot encrypt for %s's device %u: "
				     "its key is unusable",
				     user, device);
		return 1;
	}
	if (!cJSON_AddStringToObject(env, "user", user) ||
	    !cJSON_AddNumberToObject(env, "deviceId", device) ||
	    proto_add_b64(env, "nonce", nonce, sizeof nonce) ||
	    proto_add_b64(env, "ciphertext", ct, ct_len))
		e->err = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	free(ct);
	return e->err != CHAT_OK;
}

int
ops_add_envelopes(struct chat_client *c, cJSON *arr, const char *chat_id, const char *id,
		  const char *user, const uint8_t *body, size_t len, int skip_changed)
{
	struct envelope_ctx e = {c, chat_id, id, arr, body, len, skip_changed, CHAT_OK};

	if (store_peer_each(&c->store, user, add_envelope, &e, NULL) < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	return e.err;
}

/* The plaintext of a text message: kind 0x01, then the UTF-8 text; with files,
 * kind 0x03 and the JSON that carries their keys (PROTOCOL.md). */
static uint8_t *
message_body(struct chat_client *c, const struct op *op, size_t *len)
{
	uint8_t *b;

	if (op->n_atts > 0) {
		char err[256];

		b = attach_body_build(op->text, op->atts, op->n_atts, len, err, sizeof err);
		if (b == NULL)
			client_fail(c, CHAT_ERR_TOO_LARGE, "%s", err);
		return b;
	}
	b = malloc(op->text_len + 1);

	if (b == NULL)
		return NULL;
	b[0] = PROTO_BODY_TEXT;
	memcpy(b + 1, op->text, op->text_len);
	*len = op->text_len + 1;
	return b;
}

static void
sent(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	int64_t seq, at;

	if (err == CHAT_ERR_REFUSED && strcmp(c->server_code, "device_mismatch") == 0 &&
	    op->attempts < SEND_ATTEMPTS) {
		/* The chat's devices changed, or its members did and this device has
		 * not heard yet: read both again and encrypt again. */
		store_free_list(op->users, op->n_users);
		op->users = NULL;
		op->n_users = 0;
		op->fresh_chat = 0;
		op->on_wire = 0; /* and newer sends of the chat wait for it again */
		err = send_step(c, op);
		if (err != CHAT_OK)
			op_finish(c, op, err, NULL);
		return;
	}
	if (err == CHAT_OK && (proto_get_int(reply, "seq", 1, INT64_MAX / 2, &seq) != 0 ||
			       proto_get_int(reply, "sentAt", 0, INT64_MAX / 2, &at) != 0))
		err = client_fail(c, CHAT_ERR_PROTOCOL,
				  "the server's send reply has no seq or time");
	if (err == CHAT_OK && store_message_sent(&c->store, op->message_id, seq, at) != 0)
		err = client_fail(c, CHAT_ERR_STORE, "sent, but cannot record it: %s",
				  c->store.err);
	err = ops_no_such_chat(c, err, op->chat_id);
	op_finish(c, op, err, op->message_id);
}

static int
encrypt_and_send(struct chat_client *c, struct op *op)
{
	cJSON *req = new_request("sendMessage"), *arr;
	size_t body_len = 0;
	uint8_t *body = message_body(c, op, &body_len);
	int rc = CHAT_OK;

	arr = req ? cJSON_AddArrayToObject(req, "envelopes") : NULL;
	if (body == NULL && op->n_atts > 0)
		rc = CHAT_ERR_TOO_LARGE; /* message_body said why */
	else if (arr == NULL || body == NULL ||
		 !cJSON_AddStringToObject(req, "chatId", op->chat_id) ||
		 !cJSON_AddStringToObject(req, "messageId", op->message_id))
		rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	/* The blobs it refers to: the server checks they arrived, and lets the
	 * chat's members fetch them. */
	if (rc == CHAT_OK && op->n_atts > 0) {
		cJSON *blobs = cJSON_AddArrayToObject(req, "blobs");

		for (size_t i = 0; blobs != NULL && i < op->n_atts; i++)
			if (!cJSON_AddItemToArray(blobs, cJSON_CreateString(op->atts[i].blob_id)))
				blobs = NULL;
		if (blobs == NULL)
			rc = client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; rc == CHAT_OK && i < op->n_users; i++)
		rc = ops_add_envelopes(c, arr, op->chat_id, op->message_id, op->users[i], body,
				       body_len, 0);
	/* The server refuses a message with no envelope: say why here. */
	if (rc == CHAT_OK && cJSON_GetArraySize(arr) == 0)
		rc = client_fail(c, CHAT_ERR_INVALID,
				 "nobody else in this chat: the message was not sent");
	if (body != NULL) {
		sodium_memzero(body, body_len);
		free(body);
	}
	if (rc != CHAT_OK) {
		cJSON_Delete(req);
		return rc;
	}
	op->attempts++;
	return session_request(c, req, sent, op, 0);
}

/* The oldest send of chat_id in this session that has not gone out yet (it
 * is fetching the chat or keys, or ready and waiting), or NULL. */
static struct op *
oldest_unsent(const struct chat_client *c, const char *chat_id)
{
	struct op *oldest = NULL;

	for (struct op *op = c->ops; op != NULL; op = op->next)
		if (op->kind == OP_SEND && !op->held && !op->on_wire &&
		    strcmp(op->chat_id, chat_id) == 0 &&
		    (oldest == NULL || op->turn < oldest->turn))
			oldest = op;
	return oldest;
}

/*
 * Sends go out in the order they were written, per chat, since the server
 * numbers them in the order they come. A send may need a getChat or getKeys
 * reply before it can be encrypted, and one that does not would overtake it:
 * after a reconnection the first pending message asks for keys, the keys
 * come, and a message written meanwhile went out before the other pending
 * ones. So a send that is ready waits while an older send of its chat has
 * not gone out, and goes when that one does (or ends).
 */
static int
send_in_turn(struct chat_client *c, struct op *op)
{
	int rc;

	if (oldest_unsent(c, op->chat_id) != op) {
		op->ready = 1;
		return CHAT_OK;
	}
	op->ready = 0;
	if ((rc = encrypt_and_send(c, op)) != CHAT_OK)
		return rc;
	op->on_wire = 1;
	release_ready(c, op->chat_id);
	return CHAT_OK;
}

/* Sends the waiting sends of chat_id that are next in turn. */
static void
release_ready(struct chat_client *c, const char *chat_id)
{
	struct op *op;

	/* Not while the connection is going away: the sends are held or failed. */
	while (c->wsi != NULL && c->state == CHAT_STATE_ONLINE &&
	       (op = oldest_unsent(c, chat_id)) != NULL && op->ready) {
		int rc;

		op->ready = 0;
		if ((rc = encrypt_and_send(c, op)) == CHAT_OK)
			op->on_wire = 1;
		else
			op_finish(c, op, rc, NULL);
	}
}

static void
send_keys(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	if (err == CHAT_OK)
		err = directory_apply(c, reply);
	if (err == CHAT_OK)
		err = send_in_turn(c, op);
	if (err != CHAT_OK)
		op_finish(c, op, err, NULL);
}

static void
send_chat(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	char **members = NULL;
	size_t n = 0;

	err = ops_no_such_chat(c, err, op->chat_id);
	if (err == CHAT_OK)
		err = store_chat_reply(c, reply, &members, &n);
	store_free_list(members, n);
	op->fresh_chat = 1;
	if (err == CHAT_OK)
		err = send_step(c, op);
	if (err != CHAT_OK)
		op_finish(c, op, err, NULL);
}

/* Moves a send on: learn the chat's members, then their keys, then send. */
static int
send_step(struct chat_client *c, struct op *op)
{
	int rc;

	if (op->users == NULL) {
		rc = store_chat_has_members(&c->store, op->chat_id);
		if (rc < 0)
			return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		if (rc == 0 || (op->attempts > 0 && !op->fresh_chat))
			return ops_request_chat(c, op->chat_id, send_chat, op);
		if (store_chat_members(&c->store, op->chat_id, &op->users, &op->n_users) != 0)
			return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		/* Ask the directory on a retry, and whenever a member has no pinned device. */
		for (size_t i = 0; i < op->n_users; i++) {
			rc = store_peer_count(&c->store, op->users[i]);
			if (rc < 0)
				return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
			if (rc == 0 || op->attempts > 0)
				return request_keys(c, op, op->users, op->n_users, send_keys);
		}
	}
	return send_in_turn(c, op);
}

/* Starts (or restarts) a send from its first step: the chat and the keys may
 * have changed while the connection was away. On failure the caller ends op. */
static int
restart_send_step(struct chat_client *c, struct op *op)
{
	op->held = 0;
	store_free_list(op->users, op->n_users);
	op->users = NULL;
	op->n_users = 0;
	op->fresh_chat = 0;
	op->attempts = 0;
	op->ready = op->on_wire = 0;
	op->turn = ++c->send_turns; /* restarts come in the store's order */
	return send_step(c, op);
}

static void
restart_send(struct chat_client *c, struct op *op)
{
	int rc = restart_send_step(c, op);

	if (rc != CHAT_OK)
		op_finish(c, op, rc, NULL);
}

static struct op *
find_send(const struct chat_client *c, const char *message_id)
{
	for (struct op *op = c->ops; op != NULL; op = op->next)
		if (op->kind == OP_SEND && strcmp(op->message_id, message_id) == 0)
			return op;
	return NULL;
}

/* One pending message, in the store's order: this session's own send waiting
 * for the connection, or one of an earlier session (or another program on this
 * home), sent again under its own id, which the server recognises if it has it. */
static int
outbox_send(void *arg, const struct chat_message *m)
{
	struct chat_client *c = arg;
	struct op *op = find_send(c, m->message_id);

	if (op != NULL) {
		if (op->held)
			restart_send(c, op);
		return 0;
	}
	op = op_new(c, OP_SEND, NULL, NULL);
	if (op == NULL || (op->text = malloc(m->text_len + 1)) == NULL ||
	    store_attachments(&c->store, m->message_id, &op->atts, NULL, &op->n_atts) != 0) {
		if (op != NULL)
			op_finish(c, op, CHAT_ERR_NOMEM, NULL);
		return 1;
	}
	memcpy(op->text, m->text, m->text_len + 1);
	op->text_len = m->text_len;
	op->outbox = 1;
	snprintf(op->chat_id, sizeof op->chat_id, "%s", m->chat_id);
	snprintf(op->message_id, sizeof op->message_id, "%s", m->message_id);
	restart_send(c, op);
	return 0;
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
 * landed once already, so no outbox entry may outlive it.
 */
static void
expire_outbox(struct chat_client *c)
{
	char **ids = NULL, chat_id[CHAT_CHAT_ID_LEN + 1], reason[64];
	size_t n = 0;

	if (c->retention_ms <= 0)
		return;
	if (store_outbox_older(&c->store, proto_now_ms() - c->retention_ms, &ids, &n) != 0) {
		client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		return;
	}
	say_duration(c->retention_ms, reason, sizeof reason);
	for (size_t i = 0; i < n; i++) {
		struct op *op = find_send(c, ids[i]);

		client_fail(c, CHAT_ERR_EXPIRED,
			    "expired: not sent within the server's retention of %s", reason);
		if (op != NULL) {
			op_finish(c, op, CHAT_ERR_EXPIRED, NULL);
			continue;
		}
		chat_id[0] = '\0';
		if (store_message_get(&c->store, ids[i], copy_chat_id, chat_id) != 1 ||
		    store_message_set_state(&c->store, ids[i], "failed") != 0)
			continue;
		if (c->cbs.on_send_failed)
			c->cbs.on_send_failed(c, c->udata, chat_id, ids[i], CHAT_ERR_EXPIRED,
					      c->errmsg);
	}
	store_free_list(ids, n);
}

void
ops_resume_sends(struct chat_client *c)
{
	struct op *op;

	expire_outbox(c);
	/* Everything pending, in the order it was written, so the server numbers
	 * the messages in that order. */
	if (store_outbox_each(&c->store, outbox_send, c, NULL) < 0)
		client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	/* Held sends the store no longer lists as pending (another program on
	 * this home had them confirmed): finish them the same way. */
	while ((op = c->ops) != NULL) {
		while (op != NULL && !(op->kind == OP_SEND && op->held))
			op = op->next;
		if (op == NULL)
			break;
		restart_send(c, op);
	}
}

int
chat_send_text(struct chat_client *c, const char *chat_id, const char *text, size_t len,
	       char *message_id, chat_done_cb done, void *arg)
{
	uint8_t raw[CHAT_MESSAGE_ID_LEN / 2];
	struct chat_message m = {0};
	struct op *op;
	int rc = check_registered(c);

	if (rc != CHAT_OK || (rc = check_chat_id(c, chat_id)) != CHAT_OK)
		return rc;
	if (text == NULL || len == 0)
		return client_fail(c, CHAT_ERR_INVALID, "empty message; nothing was sent");
	if (len > CHAT_MAX_TEXT)
		return client_fail(c, CHAT_ERR_TOO_LARGE,
				   "message of %zu bytes is over the limit of "
				   "%d bytes; nothing was sent",
				   len, CHAT_MAX_TEXT);
	if (!proto_valid_utf8(text, len))
		return client_fail(c, CHAT_ERR_INVALID,
				   "message is not valid UTF-8 text (or contains "
				   "a NUL byte); nothing was sent");
	op = op_new(c, OP_SEND, done, arg);
	if (op == NULL || (op->text = malloc(len + 1)) == NULL) {
		if (op)
			op_finish(c, op, CHAT_ERR_NOMEM, NULL);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	memcpy(op->text, text, len);
	op->text[len] = '\0';
	op->text_len = len;
	snprintf(op->chat_id, sizeof op->chat_id, "%s", chat_id);
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(op->message_id, sizeof op->message_id, raw, sizeof raw);
	/* Into the store first: the message is the user's the moment they sent it. */
	m.chat_id = op->chat_id;
	m.message_id = op->message_id;
	m.sender = c->user;
	m.sender_device = c->device_id;
	m.text = op->text;
	m.text_len = len;
	m.outgoing = 1;
	m.state = "pending";
	if (store_message_insert(&c->store, &m) < 0)
		rc = client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	else if (message_id != NULL) /* stored: the caller may need it even if
					   connecting fails (the message is kept) */
		memcpy(message_id, op->message_id, CHAT_MESSAGE_ID_LEN + 1);
	/* Online: send now (the outbox went out when the session began). Not yet:
	 * wait, so that on connecting everything pending goes out in order. */
	if (rc == CHAT_OK && c->state == CHAT_STATE_ONLINE) {
		op->turn = ++c->send_turns;
		rc = send_step(c, op);
	} else if (rc == CHAT_OK) {
		op->held = 1;
	}
	return op_launch(c, op, rc);
}

static int
copy_stored(void *arg, const struct chat_message *m)
{
	struct op *op = arg;

	if ((op->text = malloc(m->text_len + 1)) == NULL)
		return 1;
	memcpy(op->text, m->text, m->text_len + 1);
	op->text_len = m->text_len;
	snprintf(op->chat_id, sizeof op->chat_id, "%s", m->chat_id);
	return 0;
}

/* Sends a message already in the store as pending (one whose files are all
 * uploaded), done reporting it as chat_send_text's would: now if online, else
 * with the outbox when the connection comes. */
int
ops_send_stored(struct chat_client *c, const char *message_id, chat_done_cb done, void *arg)
{
	struct op *op = op_new(c, OP_SEND, done, arg);
	int rc;

	if (op == NULL)
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	snprintf(op->message_id, sizeof op->message_id, "%s", message_id);
	if (store_message_get(&c->store, message_id, copy_stored, op) != 1 || op->text == NULL ||
	    store_attachments(&c->store, message_id, &op->atts, NULL, &op->n_atts) != 0) {
		op->done = NULL;
		op_finish(c, op, CHAT_ERR_STORE, NULL);
		return client_fail(c, CHAT_ERR_STORE, "cannot read back message %s", message_id);
	}
	if (c->state != CHAT_STATE_ONLINE) {
		op->held = 1;
		return CHAT_OK;
	}
	/* A send that fails before anything went out (a recipient's key changed)
	 * fails the call, as in chat_send_text: done is not called for it. */
	if ((rc = restart_send_step(c, op)) != CHAT_OK) {
		op->done = NULL;
		op_finish(c, op, rc, NULL);
	}
	return rc;
}

int
ops_sending(const struct chat_client *c, const char *message_id)
{
	return find_send(c, message_id) != NULL;
}

/* 1 if message_id, pending, was written longer ago than the server's
 * retention (see expire_outbox), 0 if not or if the retention is unknown. */
static int
outbox_expired(struct chat_client *c, const char *message_id)
{
	char **ids = NULL;
	size_t n = 0;
	int found = 0;

	if (c->retention_ms <= 0 ||
	    store_outbox_older(&c->store, proto_now_ms() - c->retention_ms, &ids, &n) != 0)
		return 0;
	for (size_t i = 0; i < n && !found; i++)
		found = strcmp(ids[i], message_id) == 0;
	store_free_list(ids, n);
	return found;
}

int
ops_retry_stored(struct chat_client *c, const char *message_id, chat_done_cb done, void *arg)
{
	char reason[64];
	int rc;

	/* A retry cannot bring back a message the server may no longer
	 * recognise: it would be stored twice if it had landed once. */
	if (outbox_expired(c, message_id)) {
		store_message_set_state(&c->store, message_id, "failed");
		say_duration(c->retention_ms, reason, sizeof reason);
		return client_fail(c, CHAT_ERR_EXPIRED,
				   "expired: not sent within the server's retention of %s; it "
				   "cannot be sent again",
				   reason);
	}
	rc = ops_send_stored(c, message_id, done, arg);

	return rc != CHAT_OK ? rc : op_launch(c, find_send(c, message_id), CHAT_OK);
}
