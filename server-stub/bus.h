/*
 * bus.h - routing between chat-server instances over Redis (--bus
 * redis://HOST:PORT[/DB]); bus.c says how it works, docs/cluster-routing.md
 * what it promises.
 *
 * Every call but bus_start and bus_stop is made from the service thread;
 * none of them waits on Redis but bus_online_query, which waits at most
 * BUS_QUERY_TIMEOUT_MS.
 */
#ifndef CHAT_SERVER_BUS_H
#define CHAT_SERVER_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "bus_msg.h"

struct bus;

/* The one synchronous question (is a user online elsewhere) waits this
 * long for Redis; after a failure it is not asked again for
 * BUS_QUERY_BACKOFF_MS (the answer then is this instance's alone). */
#define BUS_QUERY_TIMEOUT_MS 100
#define BUS_QUERY_BACKOFF_MS 1000
/* The online key of a device lives this long, refreshed this often. */
#define BUS_ONLINE_TTL_S     60
#define BUS_ONLINE_REFRESH_S 20
/* --bus-poll: the default and the bounds, in seconds. */
#define BUS_POLL_DEFAULT 10
#define BUS_POLL_MIN     1
#define BUS_POLL_MAX     3600

/* What arrives, for the service thread (bus_take). */
enum bus_event_kind {
	BUS_EV_MSG = 1,    /* a message (msg) on a device's or a user's channel */
	BUS_EV_SUBSCRIBED, /* the device's channel is subscribed (again) */
	BUS_EV_RELOAD_ALL, /* events were lost: every device is to be reloaded */
	BUS_EV_LOG,        /* a line for the log (text) */
};

struct bus_event {
	enum bus_event_kind kind;
	struct bus_channel chan; /* MSG, SUBSCRIBED */
	struct bus_msg msg;      /* MSG; its frame is text's */
	char *text;              /* malloc'd: the frame of an eph or push, a log line */
};

/* Parse "redis://HOST:PORT[/DB]" (HOST a name, an IPv4 address or [IPv6];
 * PORT 1 to 65535; DB 0 to 15, default 0): 0, or -1. */
int bus_parse_url(const char *url, char *host, size_t cap, int *port, int *db);

/*
 * Start the bus thread on url, as the instance nonce (BUS_NONCE_LEN hex
 * digits).  wake(wake_arg) is called from the bus thread whenever events
 * wait to be taken (lws_cancel_service).  NULL with a reason in err if url
 * is malformed or the thread cannot start; an unreachable Redis is no
 * failure (the thread keeps trying, and says so in the log).
 */
struct bus *bus_start(const char *url, const char *nonce, void (*wake)(void *), void *wake_arg,
		      char *err, size_t cap);
/* No more wakes from here on (before the service thread's context goes). */
void bus_quiet(struct bus *b);
/* Stop the thread, apply what is queued, close the connections, free it
 * all. */
void bus_stop(struct bus *b);

/* A device has its first connection here (watch), or its last closed
 * (unwatch): its channel and its user's are subscribed while any device
 * of theirs is watched. */
void bus_watch(struct bus *b, const char *user, uint32_t device_id);
void bus_unwatch(struct bus *b, const char *user, uint32_t device_id);
/* A watched device has a receiving connection here (on), or not any more:
 * its online key chat:o:<user>:<device> holds this instance's nonce. */
void bus_online(struct bus *b, const char *user, uint32_t device_id, int on);
/* Publish m (kind, frame and the takeover's fields; the nonce is filled
 * in) on the channel of the device, or with device_id 0 of the user. */
void bus_publish(struct bus *b, const char *user, uint32_t device_id, struct bus_msg *m);

/* The next event that arrived: 1 and *ev (free with bus_event_free), or
 * 0 if none waits. */
int bus_take(struct bus *b, struct bus_event *ev);
void bus_event_free(struct bus_event *ev);

/* 1 if any of the n devices of user has an online key, 0 if none, -1 if
 * Redis did not answer in time (or was not asked: see above). */
int bus_online_query(struct bus *b, const char *user, const uint32_t *devices, size_t n);

/* 1 if the bus thread is connected to Redis now, 0 if not (for a health
 * check: an instance without the bus still serves, from the store). */
int bus_is_up(struct bus *b);

/* This instance's nonce. */
const char *bus_nonce(const struct bus *b);

#endif /* CHAT_SERVER_BUS_H */
