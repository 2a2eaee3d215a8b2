/*
 * wheel.h - a hashed timer wheel: many deadlines, one clock.
 *
 * libwebsockets 4.1 keeps its timers (lws_sul) in one sorted list, so each
 * arm is a walk of every timer armed: with a timer per connection, and a
 * re-arm at every pong, that walk was most of the server's CPU with 10,000
 * sessions (issue 12).  Here a deadline is dropped into the slot of its
 * tick (O(1)), taken out in O(1), and one lws timer advances the wheel a
 * tick at a time, looking only at the slots that came due.  A deadline past
 * the wheel's span waits in its slot for as many turns as it takes.
 *
 * Deadlines are coarse: a node fires at the first advance at or after its
 * tick, never before its time.  No locks: one thread uses a wheel.
 */
#ifndef CHAT_SERVER_WHEEL_H
#define CHAT_SERVER_WHEEL_H

#include <stdint.h>

/* Slots: a power of two.  With WHEEL_TICK_MS, the span of one turn. */
#define WHEEL_SLOTS   4096
#define WHEEL_TICK_MS 100

struct wheel;
struct wheel_node;

/* Called when the node's deadline has come, with the node already out of
 * the wheel: it may arm it again (wheel_arm), or free it. */
typedef void (*wheel_fire_fn)(struct wheel *w, struct wheel_node *n, int64_t now_ms);

/* Embedded in whatever has a deadline; zeroed is "not armed". */
struct wheel_node {
	struct wheel_node *next, **pprev; /* pprev NULL: not armed */
	int64_t due_ms;
	wheel_fire_fn fire;
};

struct wheel {
	struct wheel_node *slot[WHEEL_SLOTS];
	int64_t tick;   /* the last tick advanced over */
	int64_t count;  /* nodes armed */
};

/* A wheel whose clock starts at now_ms. */
void wheel_init(struct wheel *w, int64_t now_ms);

/* Arm n to fire fn at due_ms (at once, at the next advance, if that is not
 * after the last tick advanced over); re-arms it if it was armed. O(1). */
void wheel_arm(struct wheel *w, struct wheel_node *n, int64_t due_ms, wheel_fire_fn fn);

/* Disarm n; nothing if it is not armed. O(1). */
void wheel_cancel(struct wheel *w, struct wheel_node *n);

/* 1 if n is armed. */
int wheel_armed(const struct wheel_node *n);

/* Fire every node due at now_ms, in no particular order within a tick.
 * Costs the ticks passed plus the nodes in their slots. Returns how many
 * fired. */
int wheel_advance(struct wheel *w, int64_t now_ms);

#endif /* CHAT_SERVER_WHEEL_H */
