/*
 * session.c - the session with chat-server, whatever carries it (see
 * session.h): requests queued as frames and matched to their replies by id,
 * rate limits, deadlines, the hello, the connection's states and making it
 * again after a loss, and the calls of chat.h that run the loop.
 *
 * Everything here runs inside the transport's service(), called from
 * chat_client_loop(), or inside a call of the application's. Requests are
 * written one per chance to write; before authentication only the preauth
 * ones (register, auth, linkDevice) go out.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

/* Requests in flight while slowed down, at most; past it, no limit again. */
#define RATE_WINDOW_MAX 64

int64_t
session_now(const struct chat_client *c)
{
	return c->transport->now(c);
}

int
session_has_connection(const struct chat_client *c)
{
	return c->has_conn;
}

static void
set_state(struct chat_client *c, enum chat_state st, int err)
{
	if (c->state == st)
		return;
	c->state = st;
	c->hooks->on_state(c, st, err);
}

void
session_want_write(struct chat_client *c)
{
	if (c->has_conn)
		c->transport->want_write(c);
}

void
session_wake_at(struct chat_client *c, int64_t at)
{
	int64_t now = session_now(c);

	if (!c->has_conn)
		return; /* going online looks at what is due anyway */
	if (c->timer_set && c->timer_at <= at)
		return; /* a chance comes as soon: whoever waits looks again then */
	c->timer_set = 1;
	c->timer_at = at;
	c->transport->timer(c, at > now ? at - now : 0);
}

void
session_on_timer(struct chat_client *c)
{
	c->timer_set = 0;
	session_want_write(c);
}

void
session_close(struct chat_client *c, int err)
{
	if (err != CHAT_OK)
		c->conn_err = err;
	c->closing = 1;
	session_want_write(c);
}

/* ---- requests ----------------------------------------------------------- */

/* The next frame allowed out now, or NULL. A request the server asked to
 * wait holds back those behind it: they must not overtake it. */
static struct request *
next_frame(struct chat_client *c)
{
	int64_t now = session_now(c);
	int in_flight = 0;

	for (struct request *r = c->reqs; r != NULL; r = r->next) {
		/* Slowed down: a window of requests in flight, 1 after a refusal and
		 * twice as many after each one taken, or a whole pipeline would be
		 * refused again and again. */
		if (r->sent && c->rate_window > 0 && ++in_flight >= c->rate_window)
			return NULL;
		if (r->sent || !(c->state == CHAT_STATE_ONLINE || r->preauth))
			continue;
		if (r->held)
			return NULL; /* session_release_held, after the commit */
		if (r->not_before > now) {
			/* Timers may fire a little early: look again when it is due. */
			session_wake_at(c, r->not_before + 1);
			return NULL;
		}
		return r;
	}
	return NULL;
}

/* A rate_limited answer, or unavailable (the server's store is out of reach
 * for now, and nothing was changed): send r again (in its place) after the
 * time the server named. There is no count of tries: the server takes it once the
 * device's rate allows (a request queued behind a long burst is refused many
 * times over without being at fault). 1 if it will be sent again, 0 if not
 * (the connection is not online). */
static int
retry_later(struct chat_client *c, struct request *r, const cJSON *reply)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");
	int64_t wait = 1000;

	if (c->state != CHAT_STATE_ONLINE)
		return 0;
	proto_get_int(e, "retryAfterMs", 1, 60000, &wait);
	r->sent = 0;
	r->not_before = session_now(c) + wait;
	c->rate_window = 1;
	session_wake_at(c, r->not_before);
	return 1;
}

cJSON *
request_new(const char *type)
{
	cJSON *req = cJSON_CreateObject();

	if (req != NULL && cJSON_AddStringToObject(req, "type", type) == NULL) {
		cJSON_Delete(req);
		return NULL;
	}
	return req;
}

int
session_request(struct chat_client *c, cJSON *req, reply_fn fn, struct op *op, int preauth)
{
	struct request *r, **tail;
	char *json;
	size_t len;

	r = calloc(1, sizeof *r);
	if (r == NULL || !cJSON_AddNumberToObject(req, "id", (double)c->next_req_id) ||
	    (json = cJSON_PrintUnformatted(req)) == NULL) {
		free(r);
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	cJSON_Delete(req);
	len = strlen(json);
	if (len > c->max_frame) {
		free(json);
		free(r);
		return client_fail(c, CHAT_ERR_TOO_LARGE,
				   "request of %zu bytes is over the server's "
				   "frame limit of %zu bytes",
				   len, c->max_frame);
	}
	r->frame = json;
	r->frame_len = len;
	r->id = c->next_req_id++;
	r->fn = fn;
	r->op = op;
	r->preauth = preauth;
	r->held = c->hooks->holding(c);
	for (tail = &c->reqs; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = r;
	session_want_write(c);
	return CHAT_OK;
}

void
session_release_held(struct chat_client *c)
{
	int any = 0;

	for (struct request *r = c->reqs; r != NULL; r = r->next) {
		any |= r->held;
		r->held = 0;
	}
	if (any)
		session_want_write(c);
}

/* Sets errmsg and server_code from an error reply; CHAT_ERR_REFUSED. */
static int
session_reply_error(struct chat_client *c, const cJSON *reply)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");
	const char *code = proto_get_str(e, "code"), *msg = proto_get_str(e, "message");

	snprintf(c->server_code, sizeof c->server_code, "%s", code ? code : "unknown");
	c->err_user[0] = '\0';
	snprintf(c->errmsg, sizeof c->errmsg, "server refused: %s (%s)",
		 msg ? msg : "no reason given", c->server_code);
	return CHAT_ERR_REFUSED;
}

static void
request_free(struct request *r)
{
	free(r->frame);
	free(r);
}

/* Removes r from the list and calls its reply function. */
static void
complete(struct chat_client *c, struct request *r, const cJSON *reply, int err)
{
	struct request **pp;

	for (pp = &c->reqs; *pp != NULL && *pp != r; pp = &(*pp)->next)
		;
	if (*pp == r)
		*pp = r->next;
	if (r->fn)
		r->fn(c, r->op, reply, err);
	request_free(r);
}

void
session_drop_op_requests(struct chat_client *c, const struct op *op)
{
	struct request **pp = &c->reqs;

	while (*pp != NULL) {
		struct request *r = *pp;

		if (r->op == op) {
			*pp = r->next;
			request_free(r);
		} else {
			pp = &r->next;
		}
	}
}

void
session_fail_requests(struct chat_client *c, int err)
{
	while (c->reqs != NULL)
		complete(c, c->reqs, NULL, err);
}

void
session_forget_requests(struct chat_client *c)
{
	while (c->reqs != NULL) {
		struct request *r = c->reqs;

		c->reqs = r->next;
		request_free(r);
	}
}

/* The request a reply's id names, if it went out on this connection. */
static struct request *
sent_request(struct chat_client *c, const cJSON *idv)
{
	struct request *r;

	if (!cJSON_IsNumber(idv))
		return NULL;
	for (r = c->reqs; r != NULL && (double)r->id != idv->valuedouble; r = r->next)
		;
	return r != NULL && r->sent ? r : NULL;
}

/* ---- frames in ---------------------------------------------------------- */

static void
on_reply(struct chat_client *c, const cJSON *msg)
{
	const cJSON *idv = cJSON_GetObjectItemCaseSensitive(msg, "id");
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(msg, "ok");
	struct request *r;
	int err;

	if (!cJSON_IsNumber(idv)) {
		/* The server could not read one of our frames: a bug on one side. */
		session_reply_error(c, msg);
		return;
	}
	if ((r = sent_request(c, idv)) == NULL)
		return; /* not ours (a late reply to a request that timed out) */
	if (cJSON_IsTrue(ok)) {
		/* Taken: open the window again, up to no window at all. */
		if (c->rate_window > 0 && (c->rate_window *= 2) > RATE_WINDOW_MAX)
			c->rate_window = 0;
		session_want_write(c);
		complete(c, r, msg, CHAT_OK);
		return;
	}
	err = session_reply_error(c, msg);
	if ((strcmp(c->server_code, "rate_limited") == 0 ||
	     strcmp(c->server_code, "unavailable") == 0) &&
	    retry_later(c, r, msg))
		return;
	complete(c, r, msg, err);
}

static void
on_hello(struct chat_client *c, const cJSON *msg)
{
	const cJSON *limits = cJSON_GetObjectItemCaseSensitive(msg, "limits");
	int64_t proto, max_frame;

	if (proto_get_int(msg, "protocol", 0, 1 << 30, &proto) != 0 || proto != PROTO_VERSION ||
	    proto_get_b64(msg, "challenge", c->challenge, PROTO_CHALLENGE_BYTES, 0, NULL) != 0) {
		session_close(c, client_fail(c, CHAT_ERR_PROTOCOL,
					     "the server speaks another protocol version or sent "
					     "a malformed hello"));
		return;
	}
	if (proto_get_int(limits, "maxFrame", PROTO_FRAME_LIMIT_MIN, PROTO_FRAME_LIMIT_MAX,
			  &max_frame) == 0)
		c->max_frame = (size_t)max_frame;
	if (proto_get_int(limits, "maxBlob", 1, INT64_MAX / 2, &max_frame) == 0)
		c->max_blob = (uint64_t)max_frame;
	if (proto_get_int(limits, "retention", 1000, INT64_MAX / 4, &c->retention_ms) != 0)
		c->retention_ms = 0;
	c->hooks->on_hello(c);
}

/* A frame whose strings held U+0000 or a lone surrogate (bad: the scrub's
 * bits), rewritten so that it parses: never acted upon. A reply fails its
 * request; a push is reported (as a message that could not be received) and
 * not acked, so that nothing cut short is stored. */
static void
on_bad_strings(struct chat_client *c, const cJSON *msg, unsigned bad)
{
	static const char *const pushes[] = {"newMessage", "receipt", "chatUpdate", "hello",
					     "linked",     "missed",  "drained",    NULL};
	const char *type = proto_get_str(msg, "type"), *name = "of an unknown type";

	if (cJSON_GetObjectItemCaseSensitive(msg, "ok") != NULL) {
		struct request *r = sent_request(c, cJSON_GetObjectItemCaseSensitive(msg, "id"));

		client_fail(c, CHAT_ERR_PROTOCOL,
			    "the server's reply broke the protocol: %s; it was not used",
			    proto_scrub_reason(bad));
		if (r != NULL)
			complete(c, r, NULL, CHAT_ERR_PROTOCOL);
		return;
	}
	/* Only a known name goes into the message: the type is the server's text. */
	for (size_t i = 0; type != NULL && pushes[i] != NULL; i++)
		if (strcmp(type, pushes[i]) == 0)
			name = pushes[i];
	client_fail(c, CHAT_ERR_PROTOCOL,
		    "the server sent a push (%s) that broke the protocol: %s; it was ignored", name,
		    proto_scrub_reason(bad));
	if (strcmp(name, "hello") == 0)
		session_close(c, CHAT_ERR_PROTOCOL); /* nothing can follow a hello we cannot use */
	else
		c->hooks->on_bad_push(c);
}

void
session_on_frame(struct chat_client *c, char *buf, size_t len)
{
	/* cJSON would cut a string at U+0000 and refuse a lone surrogate: make
	 * the frame readable, and refuse it below if it held one. */
	unsigned bad = proto_json_scrub(buf, len);
	cJSON *msg = cJSON_ParseWithLength(buf, len);
	const char *type;

	if (!cJSON_IsObject(msg)) {
		client_fail(c, CHAT_ERR_PROTOCOL,
			    "the server sent a frame that is not a JSON object");
		cJSON_Delete(msg);
		return;
	}
	c->frames_in++;
	/* Only newMessage and receipt pushes join the received envelopes held
	 * for one commit; any other push comes after they are committed and
	 * handed on. Replies are handled inside the batch (what they write
	 * joins it, what they queue is held for its commit): answers to this
	 * device's acks come in the middle of a drain. */
	if (bad != 0 || (cJSON_GetObjectItemCaseSensitive(msg, "ok") == NULL &&
			 ((type = proto_get_str(msg, "type")) == NULL ||
			  (strcmp(type, "newMessage") != 0 && strcmp(type, "receipt") != 0))))
		c->hooks->settle(c);
	if (bad != 0)
		on_bad_strings(c, msg, bad);
	else if (cJSON_GetObjectItemCaseSensitive(msg, "ok") != NULL)
		on_reply(c, msg);
	else if ((type = proto_get_str(msg, "type")) == NULL)
		client_fail(c, CHAT_ERR_PROTOCOL, "the server sent a frame with no type");
	else if (strcmp(type, "hello") == 0)
		on_hello(c, msg);
	/* Pushes before authentication would be a server bug, but for the
	 * answer to a link request, which comes to an unauthenticated
	 * connection: ignored. */
	else if (c->state == CHAT_STATE_ONLINE || strcmp(type, "linked") == 0)
		c->hooks->on_push(c, type, msg);
	cJSON_Delete(msg);
}

void
session_on_peer_close(struct chat_client *c, unsigned code, const char *reason, size_t len)
{
	/* Another program took this device's session: fighting back
	 * (reconnecting) would only throw it out in turn. */
	if (code == PROTO_CLOSE_REPLACED || code == PROTO_CLOSE_REMOVED)
		c->user_closed = 1;
	if (c->conn_err == CHAT_OK)
		client_fail(
			c, CHAT_ERR_CONNECTION_LOST, "the server closed the connection (%u %.*s)%s",
			code, (int)(len > 120 ? 120 : len), reason,
			code == PROTO_CLOSE_REPLACED ? ": another program connected as this device"
						     : "");
}

/* ---- frames out --------------------------------------------------------- */

enum session_write
session_on_writable(struct chat_client *c)
{
	struct request *r;

	/* What waits for the batch's commit does not go out before it: the
	 * acks of its messages are queued only then, and requests made while it
	 * is open are held (session_request). */
	if (c->state == CHAT_STATE_ONLINE)
		c->hooks->on_writable(c);
	r = next_frame(c);
	/* A clean close still sends what is queued (acks above all) first; a
	 * close for an error does not. */
	if (r == NULL || (c->closing && c->conn_err != CHAT_OK))
		return c->closing ? SESSION_WRITE_BYE : SESSION_WRITE_OK;
	if (c->transport->write(c, r->frame, r->frame_len) != 0) {
		if (c->conn_err == CHAT_OK)
			c->conn_err = CHAT_ERR_CONNECTION_LOST;
		return SESSION_WRITE_DROP;
	}
	r->sent = 1;
	r->deadline = session_now(c) + c->timeout_ms;
	if (next_frame(c) != NULL || c->closing)
		c->transport->want_write(c);
	return SESSION_WRITE_OK;
}

/* ---- the connection ----------------------------------------------------- */

/* Whether a lost connection is made again: with chat_opts.reconnect, unless the
 * server refused this device (retrying would be refused again) or the handle
 * is being destroyed. */
static int
will_retry(const struct chat_client *c)
{
	/* A refused certificate is a configuration to fix (a CA file, the URL's
	 * host), not a passing failure: retrying would be refused again. */
	return c->reconnect && !c->user_closed && c->user[0] != '\0' &&
	       c->conn_err != CHAT_ERR_REFUSED && c->conn_err != CHAT_ERR_PROTOCOL &&
	       c->conn_err != CHAT_ERR_NOT_REGISTERED && c->conn_err != CHAT_ERR_TLS;
}

/* 0.5 s, doubling up to 30 s, each +-25% so that many clients a restarted server
 * brings back do not all knock at once. */
static int64_t
retry_delay(unsigned attempt)
{
	int64_t ms = 500;

	while (attempt-- > 0 && ms < 30000)
		ms *= 2;
	if (ms > 30000)
		ms = 30000;
	return ms * 3 / 4 + (int64_t)randombytes_uniform((uint32_t)(ms / 2 + 1));
}

void
session_on_open(struct chat_client *c, const uint8_t *binding, size_t len)
{
	if (len > sizeof c->binding)
		len = sizeof c->binding;
	if (len > 0)
		memcpy(c->binding, binding, len);
	c->binding_len = len;
	set_state(c, CHAT_STATE_AUTHENTICATING, CHAT_OK);
}

void
session_on_closed(struct chat_client *c, int err)
{
	char saved[sizeof c->errmsg], saved_user[sizeof c->err_user];
	int retrying;

	c->hooks->settle(c); /* stored before the connection went: handed over */
	c->has_conn = 0;
	c->closing = 0;
	c->linking = 0;
	/* A device that was online lost its connection, whichever attempt failed. */
	if (err == CHAT_ERR_CONNECT && c->was_online)
		err = CHAT_ERR_CONNECTION_LOST;
	if (c->conn_err == CHAT_OK)
		c->conn_err = err;
	/* Keep the first explanation (say, an auth refusal) over later echoes. */
	memcpy(saved, c->errmsg, sizeof saved);
	memcpy(saved_user, c->err_user, sizeof saved_user);
	retrying = will_retry(c);
	c->hooks->on_closed(c, c->conn_err, retrying);
	session_fail_requests(c, c->conn_err);
	memcpy(c->errmsg, saved, sizeof saved);
	memcpy(c->err_user, saved_user, sizeof saved_user);
	if (retrying) {
		c->next_attempt = session_now(c) + retry_delay(c->attempts++);
		set_state(c, CHAT_STATE_WAITING, c->conn_err);
	} else {
		set_state(c, CHAT_STATE_OFFLINE, c->conn_err);
	}
}

/* Splits the server's URL (see proto_parse_url), or says what is wrong with it. */
static int
parse_url(struct chat_client *c, const char *url, struct proto_url *u)
{
	if (url == NULL)
		return client_fail(c, CHAT_ERR_INVALID,
				   "no server URL: none was given, and none is remembered");
	switch (proto_parse_url(url, u)) {
	case PROTO_URL_OK: return CHAT_OK;
	case PROTO_URL_SCHEME:
		return client_fail(c, CHAT_ERR_INVALID, "'%s' is not a ws:// or wss:// URL", url);
	case PROTO_URL_PORT: return client_fail(c, CHAT_ERR_INVALID, "bad port in URL '%s'", url);
	case PROTO_URL_PATH:
		return client_fail(c, CHAT_ERR_INVALID, "path too long in URL '%s'", url);
	case PROTO_URL_IPV6:
		return client_fail(c, CHAT_ERR_INVALID,
				   "an IPv6 address in a URL goes in brackets: ws://[::1]:8700/, "
				   "not '%s'",
				   url);
	default: return client_fail(c, CHAT_ERR_INVALID, "bad host in URL '%s'", url);
	}
}

int
session_start(struct chat_client *c)
{
	struct proto_url u;
	int rc;

	if (c->has_conn)
		return CHAT_OK;
	rc = parse_url(c, c->server_url, &u);
	if (rc == CHAT_OK &&
	    proto_server_name(u.host, u.port, c->server_name, sizeof c->server_name) != 0)
		rc = client_fail(c, CHAT_ERR_INVALID, "bad host in URL '%s'", c->server_url);
	if (rc == CHAT_OK)
		rc = c->transport->setup(c, u.tls);
	if (rc != CHAT_OK)
		return rc;
	c->conn_err = CHAT_OK;
	c->user_closed = 0;
	c->errmsg[0] = '\0';
	c->err_user[0] = '\0';
	c->binding_len = 0;
	c->rate_window = 0;
	c->max_frame = PROTO_MAX_FRAME;
	c->connect_deadline = session_now(c) + c->timeout_ms;
	c->has_conn = 1;
	set_state(c, CHAT_STATE_CONNECTING, CHAT_OK);
	if ((rc = c->transport->open(c, &u)) != CHAT_OK) {
		c->has_conn = 0;
		set_state(c, CHAT_STATE_OFFLINE, rc);
		return rc;
	}
	return CHAT_OK;
}

void
session_online(struct chat_client *c)
{
	c->was_online = 1;
	c->attempts = 0;
	set_state(c, CHAT_STATE_ONLINE, CHAT_OK);
	c->hooks->on_online(c);
	session_want_write(c);
}

void
session_stop(struct chat_client *c)
{
	/* The transport calls back no more: the connection, if any, is gone
	 * here, and nothing is made again (the handle is being destroyed). */
	c->transport->stop(c);
	c->has_conn = 0;
	c->user_closed = 1;
	if (c->state != CHAT_STATE_OFFLINE)
		session_on_closed(c, CHAT_ERR_CONNECTION_LOST);
	session_forget_requests(c);
}

/* Fails requests whose answer is overdue, and a connection that takes too long. */
static void
check_deadlines(struct chat_client *c)
{
	int64_t now = session_now(c);
	struct request *r;

	/* A link request waits for a person to approve it: no deadline then. */
	if (c->has_conn && c->state != CHAT_STATE_ONLINE && !c->linking &&
	    now > c->connect_deadline) {
		c->conn_err =
			c->state == CHAT_STATE_CONNECTING ? CHAT_ERR_CONNECT : CHAT_ERR_TIMEOUT;
		client_fail(c, c->conn_err, "no answer from %s within %d ms", c->server_url,
			    c->timeout_ms);
		c->transport->abort(c);
		return;
	}
	for (r = c->reqs; r != NULL; r = r->next) {
		if (r->sent && now > r->deadline) {
			client_fail(c, CHAT_ERR_TIMEOUT, "the server did not answer within %d ms",
				    c->timeout_ms);
			complete(c, r, NULL, CHAT_ERR_TIMEOUT);
			r = c->reqs; /* the list changed under us */
			if (r == NULL)
				break;
		}
	}
}

/* ---- the loop (chat.h) -------------------------------------------------- */

void
chat_client_disconnect(struct chat_client *c)
{
	int64_t until = session_now(c) + 1000;

	c->user_closed = 1;
	if (!c->has_conn) {
		/* Waiting to reconnect: stop waiting. */
		if (c->state == CHAT_STATE_WAITING)
			session_on_closed(c, CHAT_ERR_CONNECTION_LOST);
		return;
	}
	session_close(c, CHAT_OK);
	while (c->has_conn && session_now(c) < until)
		chat_client_loop(c, 100);
}

enum chat_state
chat_client_state(const struct chat_client *c)
{
	return c->state;
}

int
chat_client_loop(struct chat_client *c, int timeout_ms)
{
	uint64_t first;
	int64_t until;

	/* Disappearing messages vanish on time, online or not. */
	disappear_tick(c);
	history_tick(c);
	if (!c->has_conn && c->state == CHAT_STATE_OFFLINE)
		return CHAT_ERR_NOT_CONNECTED;
	if (c->state == CHAT_STATE_WAITING) {
		int64_t left = c->next_attempt - session_now(c);

		if (left <= 0) {
			/* A failed start is one more failed attempt: wait again. */
			if (session_start(c) != CHAT_OK && !c->has_conn) {
				c->next_attempt = session_now(c) + retry_delay(c->attempts++);
				set_state(c, CHAT_STATE_WAITING, CHAT_ERR_CONNECT);
			}
			return CHAT_OK;
		}
		if (timeout_ms > left)
			timeout_ms = (int)left;
	}
	first = c->frames_in;
	until = session_now(c) + (timeout_ms > 0 ? timeout_ms : 0);
	if (c->transport->service(c, timeout_ms) != 0)
		return client_fail(c, CHAT_ERR_CONNECTION_LOST, "network loop failed");
	/* A burst (a drain of the inbox) is read a buffer at a time, and may
	 * come a frame at a time: while frames keep coming, the next ones join
	 * the same commit, within the batch's bounds. What is ready now is
	 * taken at once; a wait for more (RECEIVE_LINGER_MS, within the
	 * caller's timeout) only while frames came in the pass before too: a
	 * message alone is not held back. */
	while (c->hooks->batching(c)) {
		uint64_t before = c->frames_in;
		int64_t left = until - session_now(c);
		int wait = c->streak && left > 0 ? (int)(left < RECEIVE_LINGER_MS ? left
										 : RECEIVE_LINGER_MS)
						 : 0;

		if (c->transport->service(c, wait) != 0)
			return client_fail(c, CHAT_ERR_CONNECTION_LOST, "network loop failed");
		if (c->frames_in == before)
			break;
	}
	c->streak = c->frames_in != first;
	c->hooks->settle(c);
	check_deadlines(c);
	c->hooks->on_tick(c);
	return CHAT_OK;
}

int
chat_client_retry_in(const struct chat_client *c)
{
	int64_t left;

	if (c->state != CHAT_STATE_WAITING)
		return -1;
	left = c->next_attempt - session_now(c);
	return left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

int
chat_client_fd(const struct chat_client *c)
{
	return c->transport->poll_fd(c);
}

int
chat_client_drained(const struct chat_client *c)
{
	return c->drained;
}

int
chat_client_run_until(struct chat_client *c, const volatile int *flag, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? INT64_MAX : session_now(c) + timeout_ms;

	while (!*flag) {
		int64_t left = deadline - session_now(c);

		if (left <= 0)
			return client_fail(c, CHAT_ERR_TIMEOUT, "timed out after %d ms",
					   timeout_ms);
		if (chat_client_loop(c, left > 250 ? 250 : (int)left) != CHAT_OK)
			return c->conn_err != CHAT_OK ? c->conn_err : CHAT_ERR_NOT_CONNECTED;
	}
	return CHAT_OK;
}
