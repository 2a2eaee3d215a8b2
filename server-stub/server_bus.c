/*
 * server_bus.c - the service thread's side of the bus (--bus; bus.c says
 * how the instances route through Redis): starting and stopping it, what
 * a batch publishes (held until its COMMIT), what arrives (taken after each
 * pass of the loop), the safety poll, and "is this user online elsewhere".
 */
#include "server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "analyzer.h"
#include "bus.h"
#include "proto.h"

/* A publish held until the batch's COMMIT. */
struct bus_note {
	char user[PROTO_USER_MAX + 1];
	uint32_t device_id; /* 0: the user's channel */
	enum bus_kind kind;
	char *frame; /* eph, push: malloc'd */
};

/* Wakes held: a batch of many sends to one device wakes it once (the last
 * few are looked at, which catches a burst to one device). */
#define NOTE_DEDUP 8

static void
wake_service(void *arg)
{
	struct server *srv = arg;

	lws_cancel_service(srv->ctx);
}

/* Every connected device loads its inbox: the backstop for a wake that was
 * lost (Redis down, or a subscription still on its way). */
static void
reload_all(struct server *srv)
{
	for (size_t i = 0; i < srv->devices.n_buckets; i++)
		for (struct dev_entry *e = srv->devices.bucket[i]; e != NULL; e = e->next) {
			struct conn *o = e->recv;

			if (o == NULL || o->close_code)
				continue;
			o->inbox_dirty = 1;
			lws_callback_on_writable(o->wsi);
		}
}

static void
poll_timer(lws_sorted_usec_list_t *sul)
{
	struct server *srv = lws_container_of(sul, struct server, bus_poll_sul);

	reload_all(srv);
	lws_sul_schedule(srv->ctx, 0, &srv->bus_poll_sul, poll_timer,
			 (lws_usec_t)srv->bus_poll_s * LWS_US_PER_SEC);
}

int
server_bus_start(struct server *srv, const char *url, int poll_s)
{
	uint8_t raw[BUS_NONCE_LEN / 2];
	char nonce[BUS_NONCE_LEN + 1], err[256];

	if (url == NULL)
		return 0;
	randombytes_buf(raw, sizeof raw);
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(nonce + 2 * i, 3, "%02x", raw[i]);
	srv->bus = bus_start(url, nonce, wake_service, srv, err, sizeof err);
	if (srv->bus == NULL) {
		srv_log("%s", err);
		return -1;
	}
	srv->bus_poll_s = poll_s > 0 ? poll_s : BUS_POLL_DEFAULT;
	srv_log("bus: %s, instance nonce %s, safety poll every %d s", url, nonce, srv->bus_poll_s);
	lws_sul_schedule(srv->ctx, 0, &srv->bus_poll_sul, poll_timer,
			 (lws_usec_t)srv->bus_poll_s * LWS_US_PER_SEC);
	return 0;
}

static void
notes_clear(struct server *srv)
{
	for (size_t i = 0; i < srv->n_bus_notes; i++)
		free(srv->bus_notes[i].frame);
	srv->n_bus_notes = 0;
}

void
server_bus_stop(struct server *srv)
{
	if (srv->bus == NULL)
		return;
	/* The poll's timer went with the context (server.c cancels it). */
	bus_stop(srv->bus);
	srv->bus = NULL;
	notes_clear(srv);
	free(srv->bus_notes);
	srv->bus_notes = NULL;
	srv->cap_bus_notes = 0;
}

static void
publish(struct server *srv, const char *user, uint32_t device_id, enum bus_kind kind,
	const char *frame)
{
	struct bus_msg m = {.kind = kind, .frame = frame};

	bus_publish(srv->bus, user, device_id, &m);
}

static int
dup_wake(const struct server *srv, const char *user, uint32_t device_id, enum bus_kind kind)
{
	size_t i = srv->n_bus_notes > NOTE_DEDUP ? srv->n_bus_notes - NOTE_DEDUP : 0;

	if (kind != BUS_WAKE && kind != BUS_PREKEYS)
		return 0;
	for (; i < srv->n_bus_notes; i++) {
		const struct bus_note *n = &srv->bus_notes[i];

		if (n->kind == kind && n->device_id == device_id && strcmp(n->user, user) == 0)
			return 1;
	}
	return 0;
}

/* gcc -fanalyzer: no leak; the frame is in srv->bus_notes until
 * server_bus_batch_end or server_bus_stop frees it (common/analyzer.h). */
ANALYZER_LEAK_FP_BEGIN
void
server_bus_note(struct server *srv, const char *user, uint32_t device_id, enum bus_kind kind,
		const char *frame)
{
	struct bus_note *n;

	if (srv->bus == NULL)
		return;
	if (!db_batch_is_open(srv->db)) {
		publish(srv, user, device_id, kind, frame);
		return;
	}
	if (dup_wake(srv, user, device_id, kind))
		return;
	if (srv->n_bus_notes == srv->cap_bus_notes) {
		size_t cap = srv->cap_bus_notes ? srv->cap_bus_notes * 2 : 64;
		struct bus_note *v = realloc(srv->bus_notes, cap * sizeof *v);

		if (v == NULL) {
			/* The poll finds the rows; a removal or a push is lost. */
			srv_log("bus: out of memory holding a publish for %s/%u", user,
				(unsigned)device_id);
			return;
		}
		srv->bus_notes = v;
		srv->cap_bus_notes = cap;
	}
	n = &srv->bus_notes[srv->n_bus_notes];
	snprintf(n->user, sizeof n->user, "%s", user);
	n->device_id = device_id;
	n->kind = kind;
	n->frame = NULL;
	if (frame != NULL && (n->frame = strdup(frame)) == NULL) {
		srv_log("bus: out of memory holding a push for %s", user);
		return;
	}
	srv->n_bus_notes++;
}
ANALYZER_LEAK_FP_END

void
server_bus_batch_end(struct server *srv, int committed)
{
	if (srv->bus == NULL)
		return;
	for (size_t i = 0; committed && i < srv->n_bus_notes; i++) {
		struct bus_note *n = &srv->bus_notes[i];

		publish(srv, n->user, n->device_id, n->kind, n->frame);
	}
	notes_clear(srv);
}

/* Another instance's connection of the device authenticated at at_ms:
 * ours closes if it is older (ties: the larger nonce wins).  If ours is the
 * newer, the other may have missed our takeover: it is told again. */
static void
takeover(struct server *srv, const struct bus_event *ev)
{
	const char *user = ev->chan.user;
	struct conn *o = hooks_receiver(srv, user, ev->chan.device_id);
	int64_t at = ev->msg.at_ms;

	if (o == NULL)
		return;
	if (o->authed_ms > at ||
	    (o->authed_ms == at && strcmp(bus_nonce(srv->bus), ev->msg.nonce) > 0)) {
		struct bus_msg m = {
			.kind = BUS_TAKEOVER, .conn_id = o->sess.conn_id, .at_ms = o->authed_ms};

		bus_publish(srv->bus, user, ev->chan.device_id, &m);
		return;
	}
	srv_log("conn %llu replaced by conn %llu of instance %s device=%s/%u",
		(unsigned long long)o->sess.conn_id, (unsigned long long)ev->msg.conn_id,
		ev->msg.nonce, user, (unsigned)ev->chan.device_id);
	conn_close(o, PROTO_CLOSE_REPLACED, "replaced", 1);
}

static void
on_message(struct server *srv, const struct bus_event *ev)
{
	const char *user = ev->chan.user;
	uint32_t dev = ev->chan.device_id;

	if (dev == 0) {
		if (ev->msg.kind == BUS_PUSH)
			hooks_user_push_local(srv, user, ev->msg.frame);
		return;
	}
	switch (ev->msg.kind) {
	case BUS_WAKE: hooks_reload(srv, user, dev); break;
	case BUS_PREKEYS: hooks_prekeys_local(srv, user, dev); break;
	case BUS_TAKEOVER: takeover(srv, ev); break;
	case BUS_REMOVED: hooks_close_device(srv, user, dev, NULL); break;
	case BUS_EPH: (void)hooks_ephemeral_local(srv, user, dev, ev->msg.frame); break;
	default: break;
	}
}

void
server_bus_drain(struct server *srv)
{
	struct bus_event ev;

	if (srv->bus == NULL)
		return;
	while (bus_take(srv->bus, &ev)) {
		switch (ev.kind) {
		case BUS_EV_MSG: on_message(srv, &ev); break;
		case BUS_EV_SUBSCRIBED:
			/* Rows committed between the connection's first load and
			 * now were woken to nobody: look again. */
			hooks_reload(srv, ev.chan.user, ev.chan.device_id);
			break;
		case BUS_EV_RELOAD_ALL:
			srv_log("bus: events were dropped (the service thread fell behind); "
				"reloading every inbox");
			reload_all(srv);
			break;
		case BUS_EV_LOG: srv_log("%s", ev.text); break;
		default: break;
		}
		bus_event_free(&ev);
	}
}

int
server_bus_online(struct server *srv, const char *user)
{
	struct db_device devs[PROTO_MAX_DEVICES];
	uint32_t ids[PROTO_MAX_DEVICES];
	size_t n = 0;

	if (srv->bus == NULL ||
	    db_user_devices(srv->db, user, devs, PROTO_MAX_DEVICES, &n) != DB_OK)
		return 0;
	if (n > PROTO_MAX_DEVICES)
		n = PROTO_MAX_DEVICES;
	for (size_t i = 0; i < n; i++)
		ids[i] = devs[i].device_id;
	return bus_online_query(srv->bus, user, ids, n) > 0;
}
