/*
 * server_hooks.c - what the request layer asks of the connections (struct
 * wire_hooks, see wire.h): a device has authenticated or been linked (it
 * replaces the device's receiving connection and starts its delivery), has
 * new inbox rows, has been removed; who is online; which connections wait
 * on a link request.  And each device's rate buckets, shared by all its
 * connections.
 *
 * Each is a scan of every connection: fine for a local server; a hash by
 * device is the fix if this ever shows in a profile.
 */
#include "server_int.h"

#include <stdlib.h>
#include <string.h>

/* The device's shared buckets, created from s's own (what it spent before
 * auth counts); records nobody uses whose buckets are full again are freed on
 * the way. NULL if out of memory (the connection keeps its own). */
static struct device_rate *
device_rate_get(struct server *srv, const struct session *s)
{
	int64_t now = util_mono_us();
	struct device_rate **pp = &srv->rates, *d, *found = NULL;

	while ((d = *pp) != NULL) {
		if (d->device_id == s->device_id && strcmp(d->user, s->user) == 0) {
			found = d;
		} else if (d->refs == 0) {
			wire_rate_refill(&srv->hooks, &d->pair, now);
			if (wire_rate_full(&srv->hooks, &d->pair)) {
				*pp = d->next;
				free(d);
				continue;
			}
		}
		pp = &d->next;
	}
	if (found != NULL) {
		/* The connection's spending before auth joins the device's. */
		if (s->own.requests.started) {
			wire_rate_refill(&srv->hooks, &found->pair, now);
			found->pair.requests.tokens -=
				srv->hooks.rate * WIRE_RATE_BURST - s->own.requests.tokens;
		}
		return found;
	}
	if ((d = calloc(1, sizeof *d)) == NULL)
		return NULL;
	snprintf(d->user, sizeof d->user, "%s", s->user);
	d->device_id = s->device_id;
	d->pair = s->own;
	d->next = srv->rates;
	srv->rates = d;
	return d;
}

/* A device has one receiving session at a time: the newest wins. Send-only
 * sessions (several programs on one home) neither replace nor are replaced. */
void
hook_authenticated(void *udata, struct session *s)
{
	struct server *srv = udata;
	struct conn *c = conn_of(s), *o;

	if (c->rate == NULL && (c->rate = device_rate_get(srv, s)) != NULL) {
		c->rate->refs++;
		s->rate = &c->rate->pair;
	}
	if (s->send_only)
		return;
	for (o = srv->conns; o != NULL; o = o->next) {
		if (o == c || !o->sess.authed || o->sess.send_only || o->close_code ||
		    o->sess.device_id != s->device_id || strcmp(o->sess.user, s->user) != 0)
			continue;
		srv_log("conn %llu replaced by conn %llu device=%s/%u",
			(unsigned long long)o->sess.conn_id, (unsigned long long)s->conn_id,
			s->user, (unsigned)s->device_id);
		conn_close(o, PROTO_CLOSE_REPLACED, "replaced", 1);
	}
	c->cursor = 0;
	c->inbox_dirty = 1;
	c->drained_sent = 0;
	c->missed_checked = 0;
	/* The reply is queued after this returns, and rows only load from the
	 * WRITEABLE callback: the reply goes out before the first push. */
	lws_callback_on_writable(c->wsi);
}

void
hook_inbox_changed(void *udata, const char *user, uint32_t device_id)
{
	struct server *srv = udata;
	struct conn *o;

	/* A scan of every connection: fine for a local server; a hash by
	 * device is the fix if this ever shows in a profile. */
	for (o = srv->conns; o != NULL; o = o->next) {
		if (o->sess.authed && !o->sess.send_only && !o->close_code &&
		    o->sess.device_id == device_id && strcmp(o->sess.user, user) == 0) {
			o->inbox_dirty = 1;
			lws_callback_on_writable(o->wsi);
		}
	}
}

/* Like hook_inbox_changed, a scan of every connection. Online is a receiving
 * session: a send-only one (chatctl send) does not make its user online, as
 * nothing sent to them would be shown then (PROTOCOL.md, "getLastSeen"). */
int
hook_online(void *udata, const char *user)
{
	struct server *srv = udata;
	struct conn *o;

	for (o = srv->conns; o != NULL; o = o->next) {
		if (o->sess.authed && !o->sess.send_only && !o->close_code &&
		    strcmp(o->sess.user, user) == 0)
			return 1;
	}
	return 0;
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
	for (o = srv->conns; o != NULL; o = o->next)
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
 * A scan of every connection (twice, for the rare key asked twice), as for
 * hook_online: link requests are rare. Oldest first. */
size_t
hook_list_links(void *udata, const char *user, int64_t now, struct session **out, size_t cap)
{
	struct server *srv = udata;
	struct conn *o;
	size_t n = 0;

	for (o = srv->conns; o != NULL; o = o->next) {
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
	for (o = srv->conns; o != NULL; o = o->next) {
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

/* Close every connection of a removed device; the one that asked for its
 * own removal gets its reply first. */
void
hook_device_removed(void *udata, const char *user, uint32_t device_id, const struct session *by)
{
	struct server *srv = udata;
	struct conn *o;

	for (o = srv->conns; o != NULL; o = o->next) {
		if (!o->sess.authed || o->close_code || o->sess.device_id != device_id ||
		    strcmp(o->sess.user, user) != 0)
			continue;
		srv_log("conn %llu closed: device %s/%u removed",
			(unsigned long long)o->sess.conn_id, user, (unsigned)device_id);
		conn_close(o, PROTO_CLOSE_REMOVED, "device removed", &o->sess != by);
	}
}
