/*
 * server_hooks.c - what the request layer asks of the connections (struct
 * wire_hooks, see wire.h): a device has authenticated or been linked (it
 * replaces the device's receiving connection and starts its delivery), has
 * new inbox rows, has been removed; who is online; which connections wait
 * on a link request.  And each device's rate buckets, shared by all its
 * connections.
 *
 * None of these walks every connection (issue 12): an authenticated
 * connection is found through its device in the device index (devtab.h);
 * link requests, which live on connections not authenticated yet, are
 * looked for among those only (srv->unauthed: few, as they have
 * --auth-timeout to become a device or go).
 *
 * With --bus (bus.c), what concerns a device with no receiving connection
 * here, or every device of a user, is published for the other instances
 * too (after the batch's COMMIT: server_bus_note), and the bus is told
 * which devices have connections here (bus_watch) and which receive
 * (bus_online).  The hooks_*_local functions are the halves that act here
 * only, for what arrives from the bus.
 */
#include "server_int.h"

#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "proto.h"

/* How often an unused device's buckets are looked at until they are full
 * again and it is forgotten. */
#define IDLE_CHECK_MS 1000

static struct conn *
conn_of_member(struct dev_member *m)
{
	return (struct conn *)((char *)m - offsetof(struct conn, member));
}

static void
unlist(struct server *srv, struct conn *c)
{
	if (!c->listed)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->unauthed = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	c->listed = 0;
}

void
hooks_conn_open(struct server *srv, struct conn *c)
{
	c->prev = NULL;
	c->next = srv->unauthed;
	if (srv->unauthed)
		srv->unauthed->prev = c;
	srv->unauthed = c;
	c->listed = 1;
}

/* A device nobody uses: forgotten once its buckets are full again, so that
 * reconnecting does not refill them. */
static void
idle_check(struct wheel *w, struct wheel_node *n, int64_t now_ms)
{
	struct dev_entry *e = lws_container_of(n, struct dev_entry, idle);
	struct server *srv = lws_container_of(w, struct server, wheel);

	wire_rate_refill(&srv->hooks, &e->pair, now_ms * 1000);
	if (wire_rate_full(&srv->hooks, &e->pair))
		devtab_remove(&srv->devices, e);
	else
		wheel_arm(w, n, now_ms + IDLE_CHECK_MS, idle_check);
}

void
hooks_conn_closed(struct server *srv, struct conn *c)
{
	struct dev_entry *e = c->dev;

	unlist(srv, c);
	if (e == NULL)
		return;
	devtab_leave(&c->member);
	if (e->recv == c) {
		e->recv = NULL;
		if (srv->bus != NULL)
			bus_online(srv->bus, e->user, e->device_id, 0);
	}
	c->dev = NULL;
	c->sess.rate = NULL;
	if (e->members == NULL) {
		if (srv->bus != NULL)
			bus_unwatch(srv->bus, e->user, e->device_id);
		wheel_arm(&srv->wheel, &e->idle, util_mono_us() / 1000, idle_check);
	}
}

/* c joins its device's entry, made if new; the rate it spent before auth
 * counts for the device. -1 when out of memory. */
static int
join_device(struct server *srv, struct conn *c)
{
	struct session *s = &c->sess;
	struct dev_entry *e = devtab_get(&srv->devices, s->user, s->device_id, 1);

	if (e == NULL)
		return -1;
	if (e->members == NULL && !wheel_armed(&e->idle)) {
		e->pair = s->own; /* new */
	} else if (s->own.requests.started) {
		wire_rate_refill(&srv->hooks, &e->pair, util_mono_us());
		e->pair.requests.tokens -= srv->hooks.rate * WIRE_RATE_BURST - s->own.requests.tokens;
	}
	wheel_cancel(&srv->wheel, &e->idle);
	unlist(srv, c);
	/* Its first connection here: the other instances' news of it are
	 * wanted now (the load after the subscription is confirmed closes
	 * the window until then: server_bus.c). */
	if (e->members == NULL && srv->bus != NULL)
		bus_watch(srv->bus, s->user, s->device_id);
	devtab_join(e, &c->member);
	c->dev = e;
	s->rate = &e->pair;
	return 0;
}

/* A device has one receiving session at a time: the newest wins. Send-only
 * sessions (several programs on one home) neither replace nor are replaced. */
void
hook_authenticated(void *udata, struct session *s)
{
	struct server *srv = udata;
	struct conn *c = conn_of(s), *o;

	if (c->dev == NULL && join_device(srv, c) != 0) {
		srv_log("conn %llu out of memory for its device; closing",
			(unsigned long long)s->conn_id);
		conn_close(c, PROTO_CLOSE_INTERNAL, "internal error", 0);
		return;
	}
	if (s->send_only)
		return;
	o = c->dev->recv;
	if (o != NULL && o != c && !o->close_code) {
		srv_log("conn %llu replaced by conn %llu device=%s/%u",
			(unsigned long long)o->sess.conn_id, (unsigned long long)s->conn_id,
			s->user, (unsigned)s->device_id);
		conn_close(o, PROTO_CLOSE_REPLACED, "replaced", 1);
	}
	c->dev->recv = c;
	c->authed_ms = proto_now_ms();
	if (srv->bus != NULL) {
		/* A receiving connection of the device on another instance
		 * closes (4001), as o did here. */
		struct bus_msg m = {
			.kind = BUS_TAKEOVER, .conn_id = s->conn_id, .at_ms = c->authed_ms};

		bus_publish(srv->bus, s->user, s->device_id, &m);
		bus_online(srv->bus, s->user, s->device_id, 1);
	}
	c->cursor = 0;
	c->inbox_dirty = 1;
	c->drained_sent = 0;
	c->missed_checked = 0;
	c->prekeys_checked = 0;
	c->prekeys_always = 1;
	/* The reply is queued after this returns, and rows only load from the
	 * WRITEABLE callback: the reply goes out before the first push. */
	lws_callback_on_writable(c->wsi);
}

struct conn *
hooks_receiver(struct server *srv, const char *user, uint32_t device_id)
{
	struct dev_entry *e = devtab_get(&srv->devices, user, device_id, 0);
	struct conn *o = e != NULL ? e->recv : NULL;

	return o != NULL && !o->close_code ? o : NULL;
}

/* 1 if the device's receiving connection is here (its inbox is to be
 * loaded again), 0 if not. */
static int
reload(struct server *srv, const char *user, uint32_t device_id)
{
	struct conn *o = hooks_receiver(srv, user, device_id);

	if (o == NULL)
		return 0;
	o->inbox_dirty = 1;
	lws_callback_on_writable(o->wsi);
	return 1;
}

void
hooks_reload(struct server *srv, const char *user, uint32_t device_id)
{
	(void)reload(srv, user, device_id);
}

/* Called after the batch's COMMIT (or with none open), so a wake published
 * from here finds the rows there. */
void
hook_inbox_changed(void *udata, const char *user, uint32_t device_id)
{
	struct server *srv = udata;

	if (!reload(srv, user, device_id))
		server_bus_note(srv, user, device_id, BUS_WAKE, NULL);
}

static int
prekeys_local(struct server *srv, const char *user, uint32_t device_id)
{
	struct conn *o = hooks_receiver(srv, user, device_id);

	/* Looked at from the WRITEABLE callback, after the batch's COMMIT. */
	if (o == NULL)
		return 0;
	o->prekeys_checked = 0;
	lws_callback_on_writable(o->wsi);
	return 1;
}

void
hooks_prekeys_local(struct server *srv, const char *user, uint32_t device_id)
{
	(void)prekeys_local(srv, user, device_id);
}

void
hook_prekeys_low(void *udata, const char *user, uint32_t device_id)
{
	struct server *srv = udata;

	if (!prekeys_local(srv, user, device_id))
		server_bus_note(srv, user, device_id, BUS_PREKEYS, NULL);
}

int
hooks_ephemeral_local(struct server *srv, const char *user, uint32_t device_id, const char *frame)
{
	struct conn *o = hooks_receiver(srv, user, device_id);

	if (o == NULL)
		return -1;
	if (o->q_bytes >= EPHEMERAL_MAX_QUEUED || conn_queue_text(o, strdup(frame)) != 0)
		return 0;
	lws_callback_on_writable(o->wsi);
	return 1;
}

/* A typing frame: to the device's receiving connection, unless it has a
 * backlog already (typing is worth nothing late).  One on another
 * instance is sent it over the bus, and not counted: nobody here knows
 * whether it took it. */
int
hook_ephemeral(void *udata, const char *user, uint32_t device_id, const char *frame)
{
	struct server *srv = udata;
	int r = hooks_ephemeral_local(srv, user, device_id, frame);

	if (r < 0)
		server_bus_note(srv, user, device_id, BUS_EPH, frame);
	return r > 0;
}

/* The blocked push: to every receiving connection of the user, here and
 * (over the bus) elsewhere. A frame that cannot be queued is not retried:
 * the device asks for the list on its next connection. */
void
hook_user_push(void *udata, const char *user, const char *frame)
{
	struct server *srv = udata;

	hooks_user_push_local(srv, user, frame);
	server_bus_note(srv, user, 0, BUS_PUSH, frame);
}

void
hooks_user_push_local(struct server *srv, const char *user, const char *frame)
{
	const struct dev_entry *e = NULL;

	while ((e = devtab_next_of_user(&srv->devices, user, e)) != NULL) {
		struct conn *o = e->recv;

		if (o == NULL || o->close_code)
			continue;
		if (conn_queue_text(o, strdup(frame)) != 0)
			srv_log("conn %llu: out of memory for a push",
				(unsigned long long)o->sess.conn_id);
		else
			lws_callback_on_writable(o->wsi);
	}
}

/* Online is a receiving session: a send-only one (chatctl send) does not
 * make its user online, as nothing sent to them would be shown then
 * (PROTOCOL.md, "getLastSeen"). The user's devices are one chain. */
int
hook_online(void *udata, const char *user)
{
	struct server *srv = udata;
	const struct dev_entry *e = NULL;

	while ((e = devtab_next_of_user(&srv->devices, user, e)) != NULL) {
		const struct conn *o = e->recv;

		if (o != NULL && !o->close_code)
			return 1;
	}
	/* Not here: on another instance? (At most BUS_QUERY_TIMEOUT_MS; if
	 * Redis does not answer, this instance's answer stands.) */
	return server_bus_online(srv, user);
}

/* 1 if a's request is the newer of two for one key: later, or (in the same
 * millisecond) on the later connection. */
static int
newer_link(const struct conn *a, const struct conn *b)
{
	return a->sess.link.created_at > b->sess.link.created_at ||
	       (a->sess.link.created_at == b->sess.link.created_at &&
		a->sess.conn_id > b->sess.conn_id);
}

/* Whether c's request is one wire_hooks.list_links shows for user: live,
 * unexpired, and the newest for its key (a client that reconnected asks
 * again; the newest request is the one a person is looking at). */
static int
listed_link(struct server *srv, const struct conn *c, const char *user, int64_t now)
{
	const struct wire_link *l = &c->sess.link;
	const struct conn *o;

	if (c->sess.authed || c->close_code || !l->pending || now >= l->expires_at ||
	    strcmp(l->user, user) != 0)
		return 0;
	for (o = srv->unauthed; o != NULL; o = o->next)
		if (o != c && !o->sess.authed && !o->close_code && o->sess.link.pending &&
		    now < o->sess.link.expires_at && strcmp(o->sess.link.user, user) == 0 &&
		    memcmp(o->sess.link.identity_key, l->identity_key, sizeof l->identity_key) ==
			    0 &&
		    newer_link(o, c))
			return 0;
	return 1;
}

/* The pending link requests live in the sessions of the connections that
 * made them, so a request dies with its connection; expiry is checked here.
 * A scan of the connections not authenticated yet (twice, for the rare key
 * asked twice): link requests are rare. Oldest first. */
size_t
hook_list_links(void *udata, const char *user, int64_t now, struct session **out, size_t cap)
{
	struct server *srv = udata;
	struct conn *o;
	size_t n = 0;

	for (o = srv->unauthed; o != NULL; o = o->next) {
		size_t i;

		if (!listed_link(srv, o, user, now))
			continue;
		/* Insertion sort by age: at most a handful are listed. */
		for (i = n < cap ? n : cap; i > 0; i--) {
			if (!newer_link(conn_of(out[i - 1]), o))
				break;
			if (i < cap)
				out[i] = out[i - 1];
		}
		if (i < cap)
			out[i] = &o->sess;
		n++;
	}
	return n;
}

/* s was waiting on a link request and is now a device: tell it, then
 * deliver as after auth (its inbox is empty; drained follows). */
void
hook_linked(void *udata, struct session *s)
{
	struct server *srv = udata;
	struct conn *c = conn_of(s), *o;

	/* Other requests for the same keys cannot succeed any more. */
	for (o = srv->unauthed; o != NULL; o = o->next) {
		if (o != c && !o->sess.authed && o->sess.link.pending &&
		    memcmp(o->sess.link.identity_key, s->link.identity_key,
			   sizeof s->link.identity_key) == 0)
			memset(&o->sess.link, 0, sizeof o->sess.link);
	}
	if (conn_queue_text(c, wire_linked(s)) != 0) {
		conn_close(c, PROTO_CLOSE_INTERNAL, "internal error", 0);
		return;
	}
	hook_authenticated(udata, s);
}

/* Close every connection of a removed device, here and (after the
 * COMMIT, over the bus) elsewhere. */
void
hook_device_removed(void *udata, const char *user, uint32_t device_id, const struct session *by)
{
	struct server *srv = udata;

	hooks_close_device(srv, user, device_id, by);
	server_bus_note(srv, user, device_id, BUS_REMOVED, NULL);
}

/* The one that asked for its own removal (by) gets its reply first. */
void
hooks_close_device(struct server *srv, const char *user, uint32_t device_id,
		   const struct session *by)
{
	struct dev_entry *e = devtab_get(&srv->devices, user, device_id, 0);
	struct dev_member *m;

	/* conn_close only marks: the list stays as it is during the walk. */
	for (m = e != NULL ? e->members : NULL; m != NULL; m = m->next) {
		struct conn *o = conn_of_member(m);

		if (o->close_code)
			continue;
		srv_log("conn %llu closed: device %s/%u removed",
			(unsigned long long)o->sess.conn_id, user, (unsigned)device_id);
		conn_close(o, PROTO_CLOSE_REMOVED, "device removed", &o->sess != by);
	}
}
