/*
 * wire.h - chat-server's request layer: one complete text frame in, one
 * reply frame out, per docs/PROTOCOL.md.  It validates every field, calls
 * the store, and tells the network layer (through hooks) about the two
 * events that concern other connections: a device has authenticated, and a
 * device has new inbox rows.  It knows nothing about libwebsockets, so the
 * unit tests drive it directly.
 */
#ifndef CHAT_SERVER_WIRE_H
#define CHAT_SERVER_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "util.h"

/* What the request layer knows about one connection. */
struct session {
	uint64_t conn_id; /* for the log */
	uint8_t challenge[CHAT_CHALLENGE_BYTES];
	int authed;
	char user[CHAT_USER_MAX + 1]; /* valid when authed */
	uint32_t device_id;           /* valid when authed */
};

struct wire_hooks {
	struct db *db;
	size_t max_frame; /* announced in hello */
	/* s has just become (s->user, s->device_id), by register or auth. */
	void (*authenticated)(void *udata, struct session *s);
	/* Inbox rows for this device were committed. */
	void (*inbox_changed)(void *udata, const char *user, uint32_t device_id);
	void *udata;
};

/*
 * The hello push; draws s->challenge.  Returns malloc'd JSON text (free
 * with free()), or NULL when out of memory.
 */
char *wire_hello(const struct wire_hooks *h, struct session *s);

/*
 * Handle one complete text frame of len bytes; frame[len] must be '\0'.
 * Returns the reply as malloc'd JSON text, or NULL when out of memory.
 * Every frame gets exactly one reply, error replies included.
 */
char *wire_handle(const struct wire_hooks *h, struct session *s, const char *frame, size_t len);

/*
 * An error reply to a frame that could not be read at all (id null), e.g.
 * frame_too_large or a binary frame; logged like every error reply.
 */
char *wire_frame_error(const struct session *s, const char *code, const char *message);

/* The newMessage push for an inbox row. */
char *wire_new_message(const struct db_inbox_row *row);

/* The drained push. */
char *wire_drained(void);

#endif /* CHAT_SERVER_WIRE_H */
