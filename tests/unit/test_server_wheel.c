/*
 * test_server_wheel.c - the timer wheel (wheel.c) that holds every
 * connection's heartbeat and auth deadline: a node fires once, at the first
 * advance at or after its time and never before; moving and cancelling are
 * O(1) and safe from inside a callback; deadlines past one turn wait.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wheel.h"

struct item {
	struct wheel_node node; /* first */
	int fired;
	int64_t fired_at;
	struct item *cancel;  /* cancelled from the callback, if set */
	int64_t rearm_by;     /* re-armed this long after firing, if set */
	int rearms_left;
};

static void
on_fire(struct wheel *w, struct wheel_node *n, int64_t now_ms)
{
	struct item *it = (struct item *)n;

	assert_false(wheel_armed(n));
	it->fired++;
	it->fired_at = now_ms;
	if (it->cancel != NULL)
		wheel_cancel(w, &it->cancel->node);
	if (it->rearm_by && it->rearms_left-- > 0)
		wheel_arm(w, n, now_ms + it->rearm_by, on_fire);
}

/* Advance in steps of step ms from *now up to until. */
static int
run(struct wheel *w, int64_t *now, int64_t until, int64_t step)
{
	int fired = 0;

	while (*now < until) {
		*now += step;
		fired += wheel_advance(w, *now);
	}
	return fired;
}

static void
test_fires_once_never_early(void **state)
{
	static struct wheel w;
	struct item a = {0}, b = {0}, c = {0};
	int64_t now = 1000000;

	(void)state;
	wheel_init(&w, now);
	wheel_arm(&w, &a.node, now + 250, on_fire);
	wheel_arm(&w, &b.node, now + 1000, on_fire);
	wheel_arm(&w, &c.node, now - 5000, on_fire); /* already due */
	assert_int_equal(w.count, 3);
	assert_int_equal(run(&w, &now, 1000000 + 249, 1), 1);
	assert_int_equal(c.fired, 1);
	assert_int_equal(a.fired, 0);
	run(&w, &now, 1000000 + 400, 1);
	assert_int_equal(a.fired, 1);
	assert_true(a.fired_at >= 1000000 + 250);
	assert_true(a.fired_at < 1000000 + 250 + WHEEL_TICK_MS);
	assert_int_equal(b.fired, 0);
	run(&w, &now, 1000000 + 5000, 7);
	assert_int_equal(a.fired, 1);
	assert_int_equal(b.fired, 1);
	assert_int_equal(c.fired, 1);
	assert_true(b.fired_at >= 1000000 + 1000);
	assert_int_equal(w.count, 0);
}

/* Re-arming moves a node (the old deadline is gone); cancel removes it. */
static void
test_rearm_and_cancel(void **state)
{
	static struct wheel w;
	struct item a = {0}, b = {0};
	int64_t now = 0;

	(void)state;
	wheel_init(&w, now);
	wheel_arm(&w, &a.node, 500, on_fire);
	wheel_arm(&w, &a.node, 3000, on_fire);
	wheel_arm(&w, &b.node, 700, on_fire);
	wheel_cancel(&w, &b.node);
	wheel_cancel(&w, &b.node); /* twice is harmless */
	assert_false(wheel_armed(&b.node));
	assert_int_equal(w.count, 1);
	run(&w, &now, 2900, 50);
	assert_int_equal(a.fired, 0);
	run(&w, &now, 3200, 50);
	assert_int_equal(a.fired, 1);
	assert_int_equal(b.fired, 0);
}

/* A deadline more than a turn of the wheel away waits its turns. */
static void
test_beyond_one_turn(void **state)
{
	static struct wheel w;
	struct item a = {0}, b = {0};
	int64_t turn = (int64_t)WHEEL_SLOTS * WHEEL_TICK_MS, now = 0;

	(void)state;
	wheel_init(&w, now);
	wheel_arm(&w, &a.node, 3 * turn + 10, on_fire);
	wheel_arm(&w, &b.node, 10, on_fire); /* the same slot */
	run(&w, &now, 3 * turn, WHEEL_TICK_MS);
	assert_int_equal(b.fired, 1);
	assert_int_equal(a.fired, 0);
	run(&w, &now, 3 * turn + 2 * WHEEL_TICK_MS, WHEEL_TICK_MS);
	assert_int_equal(a.fired, 1);
	assert_true(a.fired_at >= 3 * turn + 10);
}

/* After a stall longer than a turn, everything due fires in one advance. */
static void
test_long_stall(void **state)
{
	static struct wheel w;
	struct item it[50];
	int64_t turn = (int64_t)WHEEL_SLOTS * WHEEL_TICK_MS;
	int i;

	(void)state;
	memset(it, 0, sizeof it);
	wheel_init(&w, 0);
	for (i = 0; i < 50; i++)
		wheel_arm(&w, &it[i].node, (int64_t)i * turn / 25 + 1, on_fire);
	/* 0 .. 2 turns: all due at 2 turns + 1. */
	assert_int_equal(wheel_advance(&w, 2 * turn + 1), 50);
	for (i = 0; i < 50; i++)
		assert_int_equal(it[i].fired, 1);
	assert_int_equal(w.count, 0);
}

/* A callback may cancel another node of its own slot, and re-arm its own
 * node (a periodic timer); a node re-armed for now fires at the next
 * advance, not in a loop. */
static void
test_callbacks_change_the_wheel(void **state)
{
	static struct wheel w;
	struct item a = {0}, b = {0};
	/* p: periodic; z: re-armed in the past, so for the next advance. */
	struct item p = {.rearm_by = 1000, .rearms_left = 3};
	struct item z = {.rearm_by = -1, .rearms_left = 2};
	int64_t now = 0;

	(void)state;
	wheel_init(&w, now);
	a.cancel = &b;
	b.cancel = &a;
	wheel_arm(&w, &a.node, 100, on_fire);
	wheel_arm(&w, &b.node, 100, on_fire);
	wheel_arm(&w, &p.node, 1000, on_fire);
	wheel_arm(&w, &z.node, 100, on_fire);
	now = 100;
	wheel_advance(&w, now);
	assert_int_equal(a.fired + b.fired, 1); /* whichever came first cancelled the other */
	assert_int_equal(z.fired, 1);
	wheel_advance(&w, now += WHEEL_TICK_MS);
	assert_int_equal(z.fired, 2);
	run(&w, &now, 10000, 100);
	assert_int_equal(z.fired, 3);
	assert_int_equal(p.fired, 4);
	assert_int_equal(a.fired + b.fired, 1);
	assert_int_equal(w.count, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires_once_never_early),
		cmocka_unit_test(test_rearm_and_cancel),
		cmocka_unit_test(test_beyond_one_turn),
		cmocka_unit_test(test_long_stall),
		cmocka_unit_test(test_callbacks_change_the_wheel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
