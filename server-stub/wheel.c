/*
 * wheel.c - a hashed timer wheel (see wheel.h).
 */
#include "wheel.h"

#include <string.h>

/* The tick an advance has passed once the clock reads ms. */
static int64_t
tick_of(int64_t ms)
{
	return ms / WHEEL_TICK_MS;
}

/* The first tick that starts at or after ms: a node fires there, so never
 * before its time (and at most a tick late). */
static int64_t
due_tick(int64_t ms)
{
	return ms >= 0 ? (ms + WHEEL_TICK_MS - 1) / WHEEL_TICK_MS : ms / WHEEL_TICK_MS;
}

static void
unlink_node(struct wheel_node *n)
{
	*n->pprev = n->next;
	if (n->next != NULL)
		n->next->pprev = n->pprev;
	n->next = NULL;
	n->pprev = NULL;
}

static void
push(struct wheel_node **head, struct wheel_node *n)
{
	n->next = *head;
	if (n->next != NULL)
		n->next->pprev = &n->next;
	*head = n;
	n->pprev = head;
}

void
wheel_init(struct wheel *w, int64_t now_ms)
{
	memset(w, 0, sizeof *w);
	w->tick = tick_of(now_ms);
}

int
wheel_armed(const struct wheel_node *n)
{
	return n->pprev != NULL;
}

void
wheel_arm(struct wheel *w, struct wheel_node *n, int64_t due_ms, wheel_fire_fn fn)
{
	int64_t t = due_tick(due_ms);

	wheel_cancel(w, n);
	/* A tick already advanced over is looked at again only a turn later:
	 * the next advance is the soonest it can fire. */
	if (t <= w->tick)
		t = w->tick + 1;
	n->due_ms = due_ms;
	n->fire = fn;
	push(&w->slot[t & (WHEEL_SLOTS - 1)], n);
	w->count++;
}

void
wheel_cancel(struct wheel *w, struct wheel_node *n)
{
	if (n->pprev == NULL)
		return;
	unlink_node(n);
	w->count--;
}

/* The nodes of one slot: those due fire, the others (a turn or more away)
 * go back. The slot is emptied first, so that a callback that arms a node
 * for this very tick gets the next one, and one that cancels another node
 * of the slot finds it wherever it is. */
static int
run_slot(struct wheel *w, struct wheel_node **slot, int64_t tick, int64_t now_ms)
{
	struct wheel_node *pending = NULL, *keep = NULL, *n;
	int fired = 0;

	while ((n = *slot) != NULL) {
		unlink_node(n);
		push(&pending, n);
	}
	while ((n = pending) != NULL) {
		unlink_node(n);
		if (due_tick(n->due_ms) > tick) {
			push(&keep, n);
			continue;
		}
		w->count--;
		n->fire(w, n, now_ms);
		fired++;
	}
	while ((n = keep) != NULL) {
		unlink_node(n);
		push(slot, n);
	}
	return fired;
}

int
wheel_advance(struct wheel *w, int64_t now_ms)
{
	int64_t now = tick_of(now_ms);
	int fired = 0;

	/* After a long stall, one turn visits every slot once. */
	if (now - w->tick > WHEEL_SLOTS)
		w->tick = now - WHEEL_SLOTS;
	while (w->tick < now) {
		w->tick++;
		fired += run_slot(w, &w->slot[w->tick & (WHEEL_SLOTS - 1)], w->tick, now_ms);
	}
	return fired;
}
