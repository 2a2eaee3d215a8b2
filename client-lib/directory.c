/*
 * directory.c - trust on first use for the server's key directory.
 *
 * The server hands out devices' keys (getKeys, and the sender of every
 * newMessage). It could lie, so every entry is checked here: the exchange key
 * must be signed by the identity key, and the identity key must be the one
 * pinned the first time this device was seen. A different identity key is
 * recorded as pending and refused until the user accepts it (chat_trust).
 */
#include "internal.h"

#include <string.h>

int
directory_check(struct chat_client *c, const char *user, uint32_t device, const cJSON *entry,
		uint8_t xk_out[32])
{
	uint8_t ik[32], xk[32], sig[64];
	struct store_peer pin;
	int found;

	if (proto_get_b64(entry, "identityKey", ik, 32, 0, NULL) != 0 ||
	    proto_get_b64(entry, "exchangeKey", xk, 32, 0, NULL) != 0 ||
	    proto_get_b64(entry, "exchangeKeySig", sig, 64, 0, NULL) != 0)
		return client_fail(c, CHAT_ERR_PROTOCOL,
				   "the server sent malformed keys for %s "
				   "device %u",
				   user, device);
	if (e2e_verify_exchange_key(ik, xk, sig) != 0)
		return client_fail(c, CHAT_ERR_BAD_KEY,
				   "the key of %s's device %u is not signed by "
				   "its identity key; refusing it",
				   user, device);
	found = store_peer_get(&c->store, user, device, &pin);
	if (found < 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (found && memcmp(pin.identity_key, ik, 32) != 0) {
		if (store_peer_set_pending(&c->store, user, device, ik, xk) != 0)
			return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		return client_fail(c, CHAT_ERR_KEY_CHANGED,
				   "the identity key of %s's device %u has "
				   "changed since it was first seen. If %s really has a new key, "
				   "accept it with: chatctl trust %s",
				   user, device, user, user);
	}
	/* New device, or the same identity with a (signed) new exchange key; a
	 * change seen earlier and since reverted is forgotten. */
	if (store_peer_pin(&c->store, user, device, ik, xk) != 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (xk_out != NULL)
		memcpy(xk_out, xk, 32);
	return CHAT_OK;
}

/* Applies one user's entry of a getKeys reply. */
static int
apply_user(struct chat_client *c, const cJSON *u)
{
	const char *user = proto_get_str(u, "user");
	const cJSON *devs = cJSON_GetObjectItemCaseSensitive(u, "devices"), *d;
	int rc = CHAT_OK, first_err = CHAT_OK;

	if (!proto_valid_user(user) || !cJSON_IsArray(devs))
		return client_fail(c, CHAT_ERR_PROTOCOL,
				   "the server sent a malformed key directory");
	/* Devices the directory no longer lists stop receiving our messages. */
	if (store_peer_deactivate_user(&c->store, user) != 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	cJSON_ArrayForEach(d, devs) {
		int64_t dev;

		if (proto_get_int(d, "deviceId", 1, INT32_MAX, &dev) != 0)
			return client_fail(c, CHAT_ERR_PROTOCOL,
					   "the server sent a malformed device id");
		rc = directory_check(c, user, (uint32_t)dev, d, NULL);
		/* Go on checking the others, so every change is recorded at once;
		 * report the first problem. */
		if (rc != CHAT_OK && first_err == CHAT_OK)
			first_err = rc;
		if (rc == CHAT_ERR_STORE || rc == CHAT_ERR_PROTOCOL)
			return rc;
	}
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
