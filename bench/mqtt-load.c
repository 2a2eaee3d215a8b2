/*
 * mqtt-load - the peer: the same workloads as chat-load, against a mosquitto
 * broker at QoS 1, through libmosquitto.
 *
 *   mqtt-load -H HOST -P PORT -m pairs|fanout|drain [-n PAIRS] [-c MESSAGES]
 *             [-w WINDOW] [-r RATE] [-s BYTES] [-g SUBSCRIBERS] [-p PREFIX]
 *             [-T STALL_SECONDS]
 *
 *   pairs   -n publisher/subscriber pairs, one topic each; every publisher
 *           sends -c messages with a window of -w unacknowledged (PUBACK)
 *           publishes, or (-r) RATE messages a second in total, paced.
 *   fanout  one publisher, -g subscribers (default 99) of one topic.
 *   drain   a subscriber with a persistent session (clean_session false)
 *           goes away, -c messages are published to it, it comes back: the
 *           time until it has them all.
 *
 * Payloads are -s bytes (default 272: a chat envelope of a short text) with
 * the same header as chat-load's (magic, sender, sequence number, send
 * time). A subscriber checks order and completeness per publisher: a gap or
 * a reordering makes the run VOID (exit 3). QoS 1 is at least once, so a
 * duplicate is counted and reported (the "dups" figure), not a violation.
 *
 * All clients run in this one thread: poll() over their sockets, then
 * mosquitto_loop_read/write/misc on the ready ones, as chat-load runs lws.
 * Figures go to stdout as "name value" lines (see bench.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mosquitto.h>
#include <sodium.h>

#include "bench.h"

#define MAGIC 0x31424c43u /* "CLB1", as chat-load's */
#define HDR   24

enum mode { PAIRS, FANOUT, DRAIN };

struct client {
	struct mosquitto *m;
	char id[48], topic[48];
	int connected, subscribed, is_pub;
	uint32_t index, from;
	/* publisher */
	uint64_t next_seq;
	long outstanding, to_send;
	double next_at, interval;
	/* subscriber */
	uint64_t expect, received, dups;
};

static struct {
	const char *host, *prefix;
	int port;
	enum mode mode;
	long pairs, msgs, window, subs, stall_s;
	double rate;
	size_t size;
	unsigned char *payload;
	struct client *c;
	size_t n;
	uint64_t progress, delivered, expected, violations, dups;
	char void_why[200];
	int failed;
	double *lat, *last;
	size_t nlat, cap_lat;
	double t_last_recv;
} Q;

static void
qfail(const char *what, const char *detail)
{
	if (!Q.failed)
		fprintf(stderr, "mqtt-load: %s: %s\n", what, detail);
	Q.failed = 1;
}

static void
put(const char *name, double v)
{
	bench_put_in(Q.prefix, name, v);
}

/* ---- callbacks (run inside mosquitto_loop_*, in this thread) ---------------- */

static void
on_connect(struct mosquitto *m, void *ud, int rc)
{
	struct client *c = ud;

	(void)m;
	if (rc != 0) {
		qfail(c->id, mosquitto_connack_string(rc));
		return;
	}
	c->connected = 1;
	Q.progress++;
}

static void
on_subscribe(struct mosquitto *m, void *ud, int mid, int n, const int *granted)
{
	struct client *c = ud;

	(void)m;
	(void)mid;
	if (n != 1 || granted[0] != 1) {
		qfail(c->id, "subscription not granted at QoS 1");
		return;
	}
	c->subscribed = 1;
	Q.progress++;
}

static void publish_next(struct client *c, double t_send);

static void
on_publish(struct mosquitto *m, void *ud, int mid)
{
	struct client *c = ud;

	(void)m;
	(void)mid;
	c->outstanding--;
	Q.progress++;
	if (Q.rate <= 0)
		while (!Q.failed && c->to_send > 0 && c->outstanding < Q.window)
			publish_next(c, bench_now_us());
}

static void
on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
	struct client *c = ud;
	double now = bench_now_us(), t_send;
	uint32_t magic, from;
	uint64_t seq;

	(void)m;
	if (msg->payloadlen < HDR) {
		qfail(c->id, "a message without the header");
		return;
	}
	memcpy(&magic, msg->payload, 4);
	memcpy(&from, (char *)msg->payload + 4, 4);
	memcpy(&seq, (char *)msg->payload + 8, 8);
	memcpy(&t_send, (char *)msg->payload + 16, 8);
	if (magic != MAGIC || from != c->from) {
		qfail(c->id, "a message that is not this run's");
		return;
	}
	Q.progress++;
	if (seq < c->expect) { /* QoS 1: at least once */
		c->dups++;
		Q.dups++;
		return;
	}
	if (seq > c->expect) {
		if (Q.violations++ == 0)
			snprintf(Q.void_why, sizeof Q.void_why,
				 "%s got seq %llu, expected %llu (lost or reordered)", c->id,
				 (unsigned long long)seq, (unsigned long long)c->expect);
		c->expect = seq + 1;
		return;
	}
	c->expect++;
	c->received++;
	Q.delivered++;
	Q.t_last_recv = now;
	if (Q.nlat == Q.cap_lat) {
		size_t cap = Q.cap_lat ? Q.cap_lat * 2 : 1024;
		double *v = realloc(Q.lat, cap * sizeof *v);

		if (v == NULL) {
			qfail("latency samples", "out of memory");
			return;
		}
		Q.lat = v;
		Q.cap_lat = cap;
	}
	Q.lat[Q.nlat++] = (now - t_send) / 1e3;
	if (Q.last != NULL && seq >= 1 && seq <= (uint64_t)Q.msgs &&
	    (now - t_send) / 1e3 > Q.last[seq - 1])
		Q.last[seq - 1] = (now - t_send) / 1e3;
}

/* ---- clients ---------------------------------------------------------------- */

static void
publish_next(struct client *c, double t_send)
{
	uint64_t seq = ++c->next_seq;
	uint32_t magic = MAGIC;
	int rc;

	memcpy(Q.payload, &magic, 4);
	memcpy(Q.payload + 4, &c->index, 4);
	memcpy(Q.payload + 8, &seq, 8);
	memcpy(Q.payload + 16, &t_send, 8);
	c->outstanding++;
	c->to_send--;
	rc = mosquitto_publish(c->m, NULL, c->topic, (int)Q.size, Q.payload, 1, false);
	if (rc != MOSQ_ERR_SUCCESS)
		qfail("publish", mosquitto_strerror(rc));
}

static int
client_open(struct client *c, int clean)
{
	int rc;

	c->m = mosquitto_new(c->id, clean, c);
	if (c->m == NULL) {
		qfail(c->id, "mosquitto_new failed");
		return -1;
	}
	mosquitto_connect_callback_set(c->m, on_connect);
	mosquitto_subscribe_callback_set(c->m, on_subscribe);
	mosquitto_publish_callback_set(c->m, on_publish);
	mosquitto_message_callback_set(c->m, on_message);
	/* the window is this program's: no client-side cap on messages in flight */
	mosquitto_max_inflight_messages_set(c->m, 0);
	rc = mosquitto_connect(c->m, Q.host, Q.port, 60);
	if (rc != MOSQ_ERR_SUCCESS) {
		qfail(c->id, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		return -1;
	}
	return 0;
}

static void
client_close(struct client *c)
{
	if (c->m == NULL)
		return;
	mosquitto_disconnect(c->m);
	(void)mosquitto_loop_write(c->m, 1);
	mosquitto_destroy(c->m);
	c->m = NULL;
	c->connected = c->subscribed = 0;
}

/* One pass over every client: poll, then read, write and housekeeping. */
static int
pass(int timeout_ms)
{
	struct pollfd *p = calloc(Q.n, sizeof *p);
	int n;

	if (p == NULL) {
		qfail("poll", "out of memory");
		return -1;
	}
	for (size_t i = 0; i < Q.n; i++) {
		p[i].fd = Q.c[i].m ? mosquitto_socket(Q.c[i].m) : -1;
		p[i].events = POLLIN;
		if (Q.c[i].m && mosquitto_want_write(Q.c[i].m))
			p[i].events |= POLLOUT;
	}
	n = poll(p, Q.n, timeout_ms);
	if (n < 0 && errno != EINTR) {
		free(p);
		qfail("poll", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < Q.n && !Q.failed; i++) {
		struct mosquitto *m = Q.c[i].m;
		int rc = MOSQ_ERR_SUCCESS;

		if (m == NULL)
			continue;
		if (p[i].revents & (POLLIN | POLLERR | POLLHUP))
			rc = mosquitto_loop_read(m, 1);
		if (rc == MOSQ_ERR_SUCCESS && (p[i].revents & POLLOUT))
			rc = mosquitto_loop_write(m, 1);
		if (rc == MOSQ_ERR_SUCCESS)
			rc = mosquitto_loop_misc(m);
		if (rc != MOSQ_ERR_SUCCESS)
			qfail(Q.c[i].id, mosquitto_strerror(rc));
	}
	free(p);
	return Q.failed ? -1 : 0;
}

/* Paced publishers: sends what is due. */
static void
pace(void)
{
	double now = bench_now_us();

	for (size_t i = 0; i < Q.n; i++) {
		struct client *c = &Q.c[i];

		while (c->is_pub && c->interval > 0 && c->to_send > 0 && c->next_at <= now &&
		       !Q.failed) {
			publish_next(c, c->next_at);
			c->next_at += c->interval;
		}
	}
}

typedef int (*pred_fn)(void);

static int
run_until(pred_fn pred, const char *what)
{
	uint64_t seen = Q.progress;
	double deadline = bench_now_us() + (double)Q.stall_s * 1e6;

	while (!Q.failed && !pred()) {
		if (Q.rate > 0)
			pace();
		if (pass(Q.rate > 0 ? 1 : 20) != 0)
			break;
		if (Q.progress != seen) {
			seen = Q.progress;
			deadline = bench_now_us() + (double)Q.stall_s * 1e6;
		} else if (bench_now_us() > deadline) {
			qfail("stalled waiting for", what);
		}
	}
	return Q.failed ? -1 : 0;
}

static int
all_connected(void)
{
	for (size_t i = 0; i < Q.n; i++)
		if (Q.c[i].m && !Q.c[i].connected)
			return 0;
	return 1;
}

static int
all_subscribed(void)
{
	for (size_t i = 0; i < Q.n; i++)
		if (Q.c[i].m && !Q.c[i].is_pub && !Q.c[i].subscribed)
			return 0;
	return 1;
}

static int
all_published(void)
{
	for (size_t i = 0; i < Q.n; i++)
		if (Q.c[i].is_pub && (Q.c[i].to_send > 0 || Q.c[i].outstanding > 0))
			return 0;
	return 1;
}

static int
all_delivered(void)
{
	return Q.delivered + Q.violations >= Q.expected && all_published();
}

static int
subscribe_all(void)
{
	for (size_t i = 0; i < Q.n; i++) {
		struct client *c = &Q.c[i];
		int rc;

		if (c->is_pub || c->m == NULL)
			continue;
		rc = mosquitto_subscribe(c->m, NULL, c->topic, 1);
		if (rc != MOSQ_ERR_SUCCESS) {
			qfail(c->id, mosquitto_strerror(rc));
			return -1;
		}
	}
	return run_until(all_subscribed, "the subscriptions");
}

/* Starts every publisher: -c messages each, window or paced. */
static void
start_publishers(double t0)
{
	size_t npub = 0, k = 0;

	for (size_t i = 0; i < Q.n; i++)
		npub += Q.c[i].is_pub;
	for (size_t i = 0; i < Q.n; i++) {
		struct client *c = &Q.c[i];

		if (!c->is_pub)
			continue;
		c->to_send = Q.msgs;
		if (Q.rate > 0) {
			c->interval = 1e6 * (double)npub / Q.rate;
			c->next_at = t0 + c->interval * (double)k++ / (double)npub;
		} else {
			while (c->to_send > 0 && c->outstanding < Q.window)
				publish_next(c, bench_now_us());
		}
	}
}

/* ---- the workloads ------------------------------------------------------------- */

static int
setup(size_t n, const char *tag)
{
	Q.c = calloc(n, sizeof *Q.c);
	if (Q.c == NULL)
		return -1;
	Q.n = n;
	for (size_t i = 0; i < n; i++) {
		snprintf(Q.c[i].id, sizeof Q.c[i].id, "load-%s-%zu", tag, i);
		Q.c[i].index = (uint32_t)i;
		Q.c[i].expect = 1;
	}
	return 0;
}

static int
connect_all(int clean)
{
	for (size_t i = 0; i < Q.n; i++)
		if (client_open(&Q.c[i], clean) != 0)
			return -1;
	return run_until(all_connected, "the connections");
}

static int
mode_traffic(const char *tag)
{
	double t0;

	if (Q.mode == PAIRS) {
		if (setup((size_t)Q.pairs * 2, tag) != 0)
			return -1;
		for (size_t i = 0; i < Q.n; i += 2) {
			Q.c[i].is_pub = 1;
			snprintf(Q.c[i].topic, sizeof Q.c[i].topic, "load/%s/%zu", tag, i / 2);
			memcpy(Q.c[i + 1].topic, Q.c[i].topic, sizeof Q.c[i].topic);
			Q.c[i + 1].from = Q.c[i].index;
		}
		Q.expected = (uint64_t)Q.pairs * (uint64_t)Q.msgs;
	} else {
		if (setup((size_t)Q.subs + 1, tag) != 0)
			return -1;
		Q.c[0].is_pub = 1;
		for (size_t i = 0; i < Q.n; i++)
			snprintf(Q.c[i].topic, sizeof Q.c[i].topic, "load/%s/g", tag);
		Q.expected = (uint64_t)Q.subs * (uint64_t)Q.msgs;
		Q.last = calloc((size_t)Q.msgs, sizeof *Q.last);
		if (Q.last == NULL)
			return -1;
	}
	if (connect_all(1) != 0 || subscribe_all() != 0)
		return -1;
	t0 = bench_now_us();
	start_publishers(t0);
	if (run_until(all_delivered, "the messages") != 0)
		return -1;
	put("messages", (double)Q.delivered);
	put("deliveries_per_s", (double)Q.delivered / ((Q.t_last_recv - t0) / 1e6));
	if (Q.rate > 0)
		put("offered_per_s", Q.rate);
	put("dups", (double)Q.dups);
	bench_put_latency(Q.prefix, "latency", Q.lat, Q.nlat);
	if (Q.last != NULL)
		bench_put_latency(Q.prefix, "last_member", Q.last, (size_t)Q.msgs);
	return 0;
}

static int
drained(void)
{
	return Q.delivered + Q.violations >= Q.expected;
}

static int
mode_drain(const char *tag)
{
	struct client *pub, *sub;
	double t0, t1;

	if (setup(2, tag) != 0)
		return -1;
	pub = &Q.c[0];
	sub = &Q.c[1];
	pub->is_pub = 1;
	snprintf(pub->topic, sizeof pub->topic, "load/%s/d", tag);
	memcpy(sub->topic, pub->topic, sizeof pub->topic);
	/* the subscriber's session outlives its connection: clean_session false */
	if (client_open(pub, 1) != 0 || client_open(sub, 0) != 0 ||
	    run_until(all_connected, "the connections") != 0 || subscribe_all() != 0)
		return -1;
	client_close(sub);
	Q.expected = (uint64_t)Q.msgs;
	t0 = bench_now_us();
	start_publishers(t0);
	if (run_until(all_published, "the publishes") != 0)
		return -1;
	t1 = bench_now_us();
	put("messages", (double)Q.msgs);
	put("send_per_s", (double)Q.msgs / ((t1 - t0) / 1e6));
	t0 = bench_now_us();
	if (client_open(sub, 0) != 0 || run_until(drained, "the drain") != 0)
		return -1;
	t1 = bench_now_us();
	put("drain_s", (t1 - t0) / 1e6);
	put("drain_per_s", (double)Q.msgs / ((t1 - t0) / 1e6));
	put("dups", (double)Q.dups);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: mqtt-load -H HOST -P PORT -m pairs|fanout|drain [-n PAIRS]\n"
			"                 [-c MESSAGES] [-w WINDOW] [-r RATE] [-s BYTES]\n"
			"                 [-g SUBSCRIBERS] [-p PREFIX] [-T STALL_SECONDS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *mode = NULL;
	unsigned char t[3];
	char tag[8];
	int opt, rc = -1;

	Q.host = "127.0.0.1";
	Q.pairs = 32;
	Q.msgs = 2000;
	Q.window = 32;
	Q.subs = 99;
	Q.size = 272;
	Q.stall_s = 60;
	while ((opt = getopt(argc, argv, "H:P:m:n:c:w:r:s:g:p:T:")) != -1) {
		switch (opt) {
		case 'H': Q.host = optarg; break;
		case 'P': Q.port = (int)bench_count("mqtt-load", optarg, 65535); break;
		case 'm': mode = optarg; break;
		case 'n': Q.pairs = bench_count("mqtt-load", optarg, 10000); break;
		case 'c': Q.msgs = bench_count("mqtt-load", optarg, 100000000); break;
		case 'w': Q.window = bench_count("mqtt-load", optarg, 60000); break;
		case 'r': Q.rate = (double)bench_count("mqtt-load", optarg, 10000000); break;
		case 's': Q.size = (size_t)bench_count("mqtt-load", optarg, 1 << 20); break;
		case 'g': Q.subs = bench_count("mqtt-load", optarg, 10000); break;
		case 'p': Q.prefix = optarg; break;
		case 'T': Q.stall_s = bench_count("mqtt-load", optarg, 3600); break;
		default: usage();
		}
	}
	if (mode == NULL || Q.port == 0 || Q.size < HDR)
		usage();
	if (strcmp(mode, "pairs") == 0)
		Q.mode = PAIRS;
	else if (strcmp(mode, "fanout") == 0)
		Q.mode = FANOUT;
	else if (strcmp(mode, "drain") == 0)
		Q.mode = DRAIN;
	else
		usage();
	if (Q.prefix == NULL)
		Q.prefix = mode;
	if (sodium_init() < 0 || mosquitto_lib_init() != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "mqtt-load: cannot initialise libsodium or libmosquitto\n");
		return 1;
	}
	Q.payload = malloc(Q.size);
	if (Q.payload == NULL)
		return 1;
	randombytes_buf(Q.payload, Q.size);
	randombytes_buf(t, sizeof t);
	sodium_bin2hex(tag, sizeof tag, t, sizeof t); /* client ids and topics of this run */
	rc = Q.mode == DRAIN ? mode_drain(tag) : mode_traffic(tag);
	for (size_t i = 0; i < Q.n; i++)
		client_close(&Q.c[i]);
	mosquitto_lib_cleanup();
	free(Q.c);
	free(Q.payload);
	free(Q.lat);
	free(Q.last);
	if (Q.violations > 0) {
		printf("%s.void 1\n", Q.prefix);
		fprintf(stderr, "mqtt-load: %s: VOID: %llu violations of in-order delivery: %s\n",
			Q.prefix, (unsigned long long)Q.violations, Q.void_why);
		return 3;
	}
	return rc == 0 && !Q.failed ? 0 : 1;
}
