/*
 * server_batch.c - group commit and delivery from memory (issue 12; see
 * server_int.h).
 *
 * The batch: the requests of one pass of the loop run in one transaction of
 * the store (db_batch_open, opened by the first request of the pass), each
 * in a savepoint of its own, so a refused request undoes only itself.  Every
 * frame queued while the batch is open is held (conn_queue_text), and
 * leaves only after its COMMIT (server_batch_end, called after each pass of
 * the loop, when a batch is full, and before what must not join one), so a
 * reply still means durable (synchronous=FULL).  The inbox is not read while
 * it is open (conn_fill), so a push never shows what could still be rolled
 * back.  If the COMMIT fails, nothing of the batch is stored, and every
 * connection with a held frame is closed with 1011: its client sends again,
 * under the same ids.
 *
 * Delivery from memory: a send hands over each row it wrote (the wire_hooks
 * inbox_row), and after the COMMIT, a receiving connection that has pushed
 * every row of its device so far (conn_caught_up) gets the row's push queued
 * at once, from the request's own data.  Any other loads from the store.
 * Rows of a batch are handled in the order written, which is their inbox id
 * order, so a push from memory never overtakes a row still to be loaded.
 *
 * With --bus, rows for a device with no receiving connection here wake it
 * on whichever instance has it (hook_inbox_changed), after the COMMIT; so
 * does the rest the batch publishes (server_bus_batch_end).
 */
#include "server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* A batch ends at the end of a pass of the loop, or sooner at this many
 * requests or bytes of frames, so that the first reply of a long pass does
 * not wait for all the others. */
#define BATCH_MAX_REQS  512
#define BATCH_MAX_BYTES (4 * 1024 * 1024)

/* ---- the batch's connections ---------------------------------------------- */

/* Put c on the list of connections the batch's end releases: 0, or -1 if
 * memory runs out (the caller closes c). */
int
batch_note(struct server *srv, struct conn *c)
{
	if (c->in_batch)
		return 0;
	if (srv->n_batch_conns == srv->cap_batch_conns) {
		size_t cap = srv->cap_batch_conns ? srv->cap_batch_conns * 2 : 64;
		struct conn **v = realloc(srv->batch_conns, cap * sizeof *v);

		if (v == NULL)
			return -1;
		srv->batch_conns = v;
		srv->cap_batch_conns = cap;
	}
	c->in_batch = 1;
	c->batch_idx = srv->n_batch_conns;
	srv->batch_conns[srv->n_batch_conns++] = c;
	return 0;
}

/* Take c off the batch's list: it is closing. */
void
batch_forget(struct server *srv, struct conn *c)
{
	if (c->in_batch)
		srv->batch_conns[c->batch_idx] = NULL;
	c->in_batch = 0;
	c->held = NULL;
}

/* ---- delivery from memory ------------------------------------------------ */

/* A row written to a device's inbox in the batch, or only "changed"
 * (frame NULL: the connection loads it from the store). */
struct inbox_event {
	char user[PROTO_USER_MAX + 1];
	uint32_t device_id;
	int64_t inbox_id;
	char *frame;
};

/*
 * Whether a row this instance has just committed is the next of c's device,
 * so that it may be pushed from memory.  Alone on its store, every row of
 * the device is this instance's, and one past the cursor is the next.  With
 * other instances writing too (PostgreSQL), a row another one committed just
 * before may not have been loaded yet, and pushing this one would move the
 * cursor past it: only the row right after the cursor is sure to be next,
 * which a dense store can tell (db_inbox_ids_dense); on SQLite shared by
 * several instances (--bus) nothing can, and every row is read from the
 * store.
 */
static int
next_row(struct server *srv, const struct conn *c, int64_t inbox_id)
{
	if (db_inbox_ids_dense(srv->db))
		return inbox_id == c->cursor + 1;
	return inbox_id > c->cursor && srv->bus == NULL;
}

/* Act on a committed event: queue the push (frame, taken over), or mark
 * the device's inbox as to be loaded. */
static void
deliver(struct server *srv, struct inbox_event *ev)
{
	struct conn *c = hooks_receiver(srv, ev->user, ev->device_id);
	char *frame = ev->frame;

	ev->frame = NULL;
	if (c == NULL) {
		/* Closed since: it may be back on another instance. */
		free(frame);
		server_bus_note(srv, ev->user, ev->device_id, BUS_WAKE, NULL);
		return;
	}
	if (frame != NULL && conn_caught_up(c, strlen(frame)) && next_row(srv, c, ev->inbox_id)) {
		if (conn_queue_text(c, frame) != 0) {
			conn_close(c, PROTO_CLOSE_INTERNAL, "internal error", 0);
			return;
		}
		c->cursor = ev->inbox_id;
		return;
	}
	free(frame);
	c->inbox_dirty = 1;
	conn_fill(srv, c);
	lws_callback_on_writable(c->wsi);
}

/* Note an event in the batch: 0, or -1 if memory runs out. */
static int
event_add(struct server *srv, const char *user, uint32_t device_id, int64_t inbox_id, char *frame)
{
	struct inbox_event *ev;

	if (srv->n_events == srv->cap_events) {
		size_t cap = srv->cap_events ? srv->cap_events * 2 : 64;
		struct inbox_event *v = realloc(srv->events, cap * sizeof *v);

		if (v == NULL)
			return -1;
		srv->events = v;
		srv->cap_events = cap;
	}
	ev = &srv->events[srv->n_events++];
	snprintf(ev->user, sizeof ev->user, "%s", user);
	ev->device_id = device_id;
	ev->inbox_id = inbox_id;
	ev->frame = frame;
	return 0;
}

void
conn_inbox_changed(void *udata, const char *user, uint32_t device_id)
{
	struct server *srv = udata;

	/* Without a batch, or without memory for the event: mark it now; the
	 * load waits for the batch's end anyway (fill). */
	if (!db_batch_is_open(srv->db) || event_add(srv, user, device_id, 0, NULL) != 0)
		hook_inbox_changed(udata, user, device_id);
}

void
conn_inbox_row(void *udata, const char *user, uint32_t device_id, const struct db_inbox_row *row)
{
	struct server *srv = udata;
	struct conn *c = hooks_receiver(srv, user, device_id);
	char *frame = NULL;
	struct inbox_event ev;

	if (c == NULL) {
		/* Loaded on its next connection, or woken on another instance
		 * (after the COMMIT). */
		if (srv->bus != NULL)
			conn_inbox_changed(udata, user, device_id);
		return;
	}
	/* The push is made only for a connection that may take it (checked
	 * again after the COMMIT). */
	if (conn_caught_up(c, 0) && (frame = wire_inbox_push(row)) == NULL)
		srv_log("conn %llu out of memory for a push; loading it instead",
			(unsigned long long)c->sess.conn_id);
	if (db_batch_is_open(srv->db)) {
		if (event_add(srv, user, device_id, row->inbox_id, frame) == 0)
			return;
		free(frame);
		frame = NULL;
	}
	snprintf(ev.user, sizeof ev.user, "%s", user);
	ev.device_id = device_id;
	ev.inbox_id = row->inbox_id;
	ev.frame = frame;
	deliver(srv, &ev);
}

/* After the batch: deliver its events (committed), or drop them. */
static void
events_end(struct server *srv, int committed)
{
	size_t i;

	for (i = 0; i < srv->n_events; i++) {
		struct inbox_event *ev = &srv->events[i];

		if (!committed) {
			free(ev->frame);
			ev->frame = NULL;
		} else if (ev->frame == NULL && ev->inbox_id == 0) {
			hook_inbox_changed(srv, ev->user, ev->device_id);
		} else {
			deliver(srv, ev);
		}
	}
	srv->n_events = 0;
}

/* ---- the batch's end ----------------------------------------------------- */

/* After the batch: its frames may go, and the inbox may be read. */
static void
batch_release(struct server *srv, struct conn *c, int committed)
{
	c->in_batch = 0;
	if (!committed && c->held != NULL) {
		/* Nothing of the batch is stored: its replies must not go.  The
		 * client sends again (same ids) on its next connection. */
		srv_log("conn %llu closed: the batch's commit failed",
			(unsigned long long)c->sess.conn_id);
		conn_queue_clear(c);
		conn_close(c, PROTO_CLOSE_INTERNAL, "internal error", 1);
		return;
	}
	c->held = NULL;
	conn_fill(srv, c);
	lws_callback_on_writable(c->wsi);
}

void
server_batch_end(struct server *srv)
{
	int committed;
	size_t i;

	if (!db_batch_is_open(srv->db) && srv->n_batch_conns == 0 && srv->n_events == 0)
		return;
	committed = db_batch_commit(srv->db) == 0;
	if (!committed)
		srv_log("the batch of %zu requests could not be committed; closing the "
			"connections that wait for it",
			srv->batch_reqs);
	events_end(srv, committed);
	for (i = 0; i < srv->n_batch_conns; i++) {
		struct conn *c = srv->batch_conns[i];

		if (c != NULL)
			batch_release(srv, c, committed);
	}
	server_bus_batch_end(srv, committed);
	srv->n_batch_conns = 0;
	srv->batch_reqs = srv->batch_bytes = 0;
}

void
server_batch_free(struct server *srv)
{
	events_end(srv, 0);
	free(srv->events);
	srv->events = NULL;
	srv->n_events = srv->cap_events = 0;
	free(srv->batch_conns);
	srv->batch_conns = NULL;
	srv->n_batch_conns = srv->cap_batch_conns = 0;
}

void
server_batch_count(struct server *srv, size_t bytes)
{
	srv->batch_reqs++;
	srv->batch_bytes += bytes;
	if (srv->batch_reqs >= BATCH_MAX_REQS || srv->batch_bytes >= BATCH_MAX_BYTES)
		server_batch_end(srv);
}
