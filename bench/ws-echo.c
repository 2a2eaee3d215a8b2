/*
 * ws-echo - the network limit: a bare libwebsockets echo, server and client
 * in one process and one thread, over 127.0.0.1.
 *
 *   ws-echo [-n ROUND_TRIPS] [-s BYTES] [-k CONNECTIONS]
 *
 * One lws context has a vhost listening on 127.0.0.1 (port chosen by the
 * kernel) and a client connection into it. The client sends N text frames of
 * BYTES (default 300, about a chat envelope), one at a time, each after the
 * echo of the previous one. Like libchat and chat-server, both sides write
 * only from their WRITEABLE callback, so a round trip here costs the same lws
 * machinery a chat request does, with no JSON, crypto or SQLite.
 *
 * With -k CONNECTIONS (more than 1), that many client connections each keep
 * one round trip going, N in all: the round trips per second of the wall
 * clock are lws's throughput over many connections in one thread (both ends
 * in it, so it is a ceiling for the server's share, not the server's alone).
 * Those figures are named echo.many.*.
 *
 * Figures go to stdout as "name value" lines (see bench.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "bench.h"

#define PROTOCOL   "bench-echo"
#define MAX_FRAME  65536
#define WARMUP     20 /* round trips before timing starts */
#define DEADLINE_S 30 /* a hang is a failure: the run gets this, plus 1 ms per trip */

/* Per connection (lws allocates it zeroed for both the server and the client
 * side): the frame being received, and for the server the echo to send. */
struct conn {
	unsigned char buf[LWS_PRE + MAX_FRAME];
	size_t len;
	int echo_pending;
	double t_sent; /* client side: when its current round trip was asked for */
};

static struct {
	long conns;     /* client connections (-k) */
	double t_start; /* when the timed round trips began (after warm-up) */
	double t_end;
	unsigned char *payload; /* what every frame carries, size bytes */
	unsigned char *tx;      /* LWS_PRE, then a copy of it: lws masks in place */
	size_t size;
	long n, done_trips; /* round trips wanted (after warm-up), completed */
	double *rtt;        /* n samples, µs */
	int finished, failed;
} B;

/* Reports the first failure only: a close after it is its echo. */
static void
bench_fail(const char *why)
{
	if (!B.failed)
		fprintf(stderr, "ws-echo: %s\n", why);
	B.failed = 1;
}

/* Appends a fragment; returns 1 when the whole message is in. */
static int
gather(struct lws *wsi, struct conn *c, const void *in, size_t len)
{
	if (c->len + len > MAX_FRAME) {
		bench_fail("frame over the buffer");
		return -1;
	}
	memcpy(c->buf + LWS_PRE + c->len, in, len);
	c->len += len;
	return lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
}

/* The client asks for the next round trip; the clock starts here, as it
 * does for a chat request that is queued and then waits to be writable. */
static int
next_trip(struct lws *wsi, struct conn *c)
{
	c->t_sent = bench_now_us();
	if (lws_callback_on_writable(wsi) < 0) {
		bench_fail("cannot ask for a writeable callback");
		return -1;
	}
	return 0;
}

static int
client_received(struct lws *wsi, struct conn *c, const void *in, size_t len)
{
	int whole = gather(wsi, c, in, len);
	double now = bench_now_us(), rtt = now - c->t_sent;

	if (whole <= 0 || B.finished)
		return whole;
	if (c->len != B.size || memcmp(c->buf + LWS_PRE, B.payload, B.size) != 0) {
		bench_fail("the echo differs from what was sent");
		return -1;
	}
	c->len = 0;
	if (B.done_trips == WARMUP)
		B.t_start = now;
	if (B.done_trips >= WARMUP)
		B.rtt[B.done_trips - WARMUP] = rtt;
	if (++B.done_trips == B.n + WARMUP) {
		B.t_end = now;
		B.finished = 1;
		return 0;
	}
	return next_trip(wsi, c);
}

static int
write_frame(struct lws *wsi, unsigned char *buf, size_t len)
{
	if (lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len) {
		bench_fail("lws_write failed");
		return -1;
	}
	return 0;
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_RECEIVE: { /* server side */
		int whole = gather(wsi, c, in, len);

		if (whole < 0)
			return -1;
		if (whole) {
			c->echo_pending = 1;
			if (lws_callback_on_writable(wsi) < 0) {
				bench_fail("cannot ask for a writeable callback");
				return -1;
			}
		}
		return 0;
	}
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!c->echo_pending)
			return 0;
		c->echo_pending = 0;
		len = c->len;
		c->len = 0;
		return write_frame(wsi, c->buf, len);
	case LWS_CALLBACK_CLIENT_ESTABLISHED: return next_trip(wsi, c);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		memcpy(B.tx + LWS_PRE, B.payload, B.size);
		return write_frame(wsi, B.tx, B.size);
	case LWS_CALLBACK_CLIENT_RECEIVE: return client_received(wsi, c, in, len);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		bench_fail(in ? (const char *)in : "cannot connect");
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (!B.finished)
			bench_fail("the connection closed early");
		return 0;
	default: return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols protocols[] = {
	{PROTOCOL, callback, sizeof(struct conn), MAX_FRAME, 0, NULL, MAX_FRAME},
	{NULL, NULL, 0, 0, 0, NULL, 0}};

static void
deadline(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	bench_fail("no result within the deadline");
}

/* The listening vhost on 127.0.0.1, port from the kernel; returns the port or -1. */
static int
listen_vhost(struct lws_context *ctx, struct lws_vhost **vh)
{
	struct lws_context_creation_info info;

	memset(&info, 0, sizeof info);
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	info.vhost_name = "echo";
	info.iface = "127.0.0.1";
	info.port = 0;
	info.protocols = protocols;
	*vh = lws_create_vhost(ctx, &info);
	if (*vh == NULL)
		return -1;
	return lws_get_vhost_listen_port(*vh);
}

static int
connect_client(struct lws_context *ctx, struct lws_vhost *vh, int port)
{
	struct lws_client_connect_info ci;

	memset(&ci, 0, sizeof ci);
	ci.context = ctx;
	ci.vhost = vh;
	ci.address = "127.0.0.1";
	ci.port = port;
	ci.path = "/";
	ci.host = ci.address;
	ci.origin = ci.address;
	ci.protocol = PROTOCOL;
	return lws_client_connect_via_info(&ci) == NULL ? -1 : 0;
}

static int
run(void)
{
	struct lws_context_creation_info info;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	lws_sorted_usec_list_t sul;
	int port;

	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DISABLE_IPV6;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	ctx = lws_create_context(&info);
	if (ctx == NULL) {
		bench_fail("cannot create the lws context");
		return -1;
	}
	port = listen_vhost(ctx, &vh);
	if (port <= 0)
		bench_fail("cannot listen on 127.0.0.1");
	for (long i = 0; i < B.conns && port > 0 && !B.failed; i++)
		if (connect_client(ctx, vh, port) != 0)
			bench_fail("cannot start a client connection");
	memset(&sul, 0, sizeof sul);
	lws_sul_schedule(ctx, 0, &sul, deadline,
			 (lws_usec_t)DEADLINE_S * LWS_USEC_PER_SEC +
				 (lws_usec_t)B.n * LWS_US_PER_MS);
	while (!B.finished && !B.failed)
		if (lws_service(ctx, 0) < 0)
			bench_fail("lws_service failed");
	lws_sul_cancel(&sul);
	lws_context_destroy(ctx);
	return B.failed ? -1 : 0;
}

static void
report(void)
{
	double total = 0;

	for (long i = 0; i < B.n; i++)
		total += B.rtt[i];
	bench_sort(B.rtt, (size_t)B.n);
	if (B.conns > 1) {
		bench_put("echo.many.conns", (double)B.conns);
		bench_put("echo.many.round_trips_per_s",
			  (double)B.n / ((B.t_end - B.t_start) / 1e6));
		bench_put("echo.many.rtt_p50_us", bench_pct(B.rtt, (size_t)B.n, 50));
		bench_put("echo.many.rtt_p99_us", bench_pct(B.rtt, (size_t)B.n, 99));
		return;
	}
	bench_put("echo.frame_bytes", (double)B.size);
	bench_put("echo.round_trips_per_s", (double)B.n / (total / 1e6));
	bench_put("echo.rtt_mean_us", total / (double)B.n);
	bench_put("echo.rtt_p50_us", bench_pct(B.rtt, (size_t)B.n, 50));
	bench_put("echo.rtt_p99_us", bench_pct(B.rtt, (size_t)B.n, 99));
}

int
main(int argc, char **argv)
{
	static const char head[] = "{\"type\":\"echo\",\"pad\":\"";
	int opt, rc;

	B.n = 2000;
	B.size = 300;
	B.conns = 1;
	while ((opt = getopt(argc, argv, "n:s:k:")) != -1) {
		switch (opt) {
		case 'k': B.conns = bench_count("ws-echo", optarg, 10000); break;
		case 'n': B.n = bench_count("ws-echo", optarg, 10000000); break;
		case 's': B.size = (size_t)bench_count("ws-echo", optarg, MAX_FRAME); break;
		default:
			fprintf(stderr,
				"usage: ws-echo [-n ROUND_TRIPS] [-s BYTES] [-k CONNECTIONS]\n");
			return 2;
		}
	}
	B.payload = malloc(B.size);
	B.tx = malloc(LWS_PRE + B.size);
	B.rtt = malloc((size_t)B.n * sizeof *B.rtt);
	if (B.payload == NULL || B.tx == NULL || B.rtt == NULL) {
		fprintf(stderr, "ws-echo: out of memory\n");
		return 1;
	}
	/* A JSON-looking text frame, like the chat's, when it is long enough. */
	memset(B.payload, 'x', B.size);
	if (B.size >= sizeof head + 1) {
		memcpy(B.payload, head, sizeof head - 1);
		memcpy(B.payload + B.size - 2, "\"}", 2);
	}
	rc = run();
	if (rc == 0)
		report();
	free(B.payload);
	free(B.tx);
	free(B.rtt);
	return rc == 0 ? 0 : 1;
}
