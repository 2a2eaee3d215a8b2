/*
 * bus_msg.h - the text of what chat-server instances tell each other over
 * the bus (bus.c; docs/cluster-routing.md): the channel names and the
 * messages, made and parsed here, with no I/O, so that the parser can be
 * fuzzed alone (tests/fuzz/fuzz-busmsg.c).
 *
 * A channel is "chat:d:<user>:<device id>" (one device) or "chat:u:<user>"
 * (every device of a user).  A message is one line of ASCII words separated
 * by one space: its kind, the 16 hex digits of the sending instance's
 * nonce, then the kind's own fields:
 *
 *   wake N              the device has new inbox rows: load them
 *   prekeys N           the device's one-time prekeys ran low: look
 *   takeover N CONN MS  a receiving connection of the device (CONN, the
 *                       sender's connection id) authenticated at MS (ms
 *                       since the epoch): an older one elsewhere closes
 *                       with 4001 "replaced"
 *   removed N           the device was removed: close its connections
 *   eph N FRAME         a typing push for the device's receiving connection
 *   push N FRAME        a push for every receiving connection of the user
 *
 * FRAME is the rest of the message, a JSON object of the protocol as the
 * connection is to get it: it starts with '{' and holds no NUL or newline.
 */
#ifndef CHAT_SERVER_BUS_MSG_H
#define CHAT_SERVER_BUS_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

/* The hex digits of an instance's nonce. */
#define BUS_NONCE_LEN 16
/* The longest message accepted (a blocked push of DB_MAX_BLOCKED names
 * is about 360 KiB), and the longest channel name. */
#define BUS_MSG_MAX     (1024 * 1024)
#define BUS_CHANNEL_MAX (sizeof "chat:d::4294967295" + PROTO_USER_MAX)

enum bus_kind {
	BUS_WAKE = 1,
	BUS_PREKEYS,
	BUS_TAKEOVER,
	BUS_REMOVED,
	BUS_EPH,
	BUS_PUSH,
};

struct bus_msg {
	enum bus_kind kind;
	char nonce[BUS_NONCE_LEN + 1];
	uint64_t conn_id;  /* takeover */
	int64_t at_ms;     /* takeover */
	const char *frame; /* eph, push: points into the parsed buffer */
	size_t frame_len;
};

/* What a channel names: a device (device_id > 0) or a user (0). */
struct bus_channel {
	char user[PROTO_USER_MAX + 1];
	uint32_t device_id;
};

/* The channel of a device, or with device_id 0 of a user, into out (room
 * for BUS_CHANNEL_MAX): 0, or -1 if user is no user name. */
int bus_channel_name(char *out, size_t cap, const char *user, uint32_t device_id);

/* Parse a channel name of len bytes: 0, or -1 if it is not one of ours. */
int bus_channel_parse(const char *s, size_t len, struct bus_channel *out);

/* The message m (frame: NUL-terminated, or NULL for the kinds without one)
 * as malloc'd text; NULL when out of memory or if m cannot be sent (a
 * frame too long, or with a NUL or newline). */
char *bus_msg_format(const struct bus_msg *m);

/* Parse a message of len bytes (not necessarily NUL-terminated): 0 and
 * *out (whose frame points into buf), or -1 if it is not a well-formed
 * message. */
int bus_msg_parse(const char *buf, size_t len, struct bus_msg *out);

#endif /* CHAT_SERVER_BUS_MSG_H */
