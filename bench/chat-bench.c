/*
 * chat-bench - the real thing: libchat to chat-server to libchat, end to end.
 *
 *   chat-bench -a ALICE_HOME -b BOB_HOME -c CHAT_ID [-u URL]
 *              [-n LATENCY_MSGS] [-m THROUGHPUT_MSGS] [-t TEXT_BYTES]
 *
 * ALICE_HOME and BOB_HOME are registered device homes of two users who share
 * the direct chat CHAT_ID (bench/run.sh makes them with chatctl). Both devices
 * run in this one process and thread, two chat_client handles driven like an
 * application does: poll() on both chat_client_fd()s, chat_client_loop(c, 0)
 * on the ready ones (bob first, so his receive is not queued behind alice's
 * bookkeeping).
 *
 *   latency     N messages one at a time: from just before chat_send_text on
 *               alice to bob's on_message (bob stays online: live delivery),
 *               and to alice's done callback (the server has committed it).
 *   throughput  M messages sent back to back without waiting; the time until
 *               bob has them all.
 *
 * Times in the loop are split by where the thread was (in alice's calls, in
 * bob's, or waiting), which tells client work from server and network time.
 * Figures go to stdout as "name value" lines (see bench.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat.h"
#include "bench.h"

#define WARMUP    10             /* messages before timing: bob learns the chat, pins keys */
#define STALL_MS  10000          /* this long with no message moving is a hang */
#define SETTLE_MS 2000           /* the most the last acks are waited for */
#define TAG_FMT   "bench %08ld " /* how a text starts: 15 bytes */
#define TAG_SCAN  "bench %ld"
#define TAG_LEN   15

enum { ALICE, BOB };

struct device {
	const char *name;
	struct chat_client *c;
	double busy_us; /* time spent inside libchat calls */
};

static struct {
	struct device dev[2];
	char chat[CHAT_CHAT_ID_LEN + 1];
	size_t text_len;
	long total; /* messages in all phases, the size of the arrays */
	double *t_send, *t_recv, *t_done;
	long next; /* index of the next message to send */
	long received, confirmed;
	long out_of_order;
	long expect; /* the index bob should see next */
	int failed;
	int closing; /* the devices going offline is expected from here on */
} B;

/* Reports the first failure only: the ones after it are mostly its echoes. */
static void
bench_fail(const char *fmt, const char *detail)
{
	if (B.failed)
		return;
	fprintf(stderr, "chat-bench: ");
	fprintf(stderr, fmt, detail);
	fputc('\n', stderr);
	B.failed = 1;
}

/* ---- callbacks ------------------------------------------------------------ */

static void
on_message(struct chat_client *c, void *udata, const struct chat_message *m)
{
	double now = bench_now_us();
	long i;

	(void)c;
	(void)udata;
	if (strcmp(m->chat_id, B.chat) != 0 || strcmp(m->sender, "alice") != 0 ||
	    sscanf(m->text, TAG_SCAN, &i) != 1 || i < 0 || i >= B.total) {
		bench_fail("bob got a message that is not the benchmark's: %s", m->text);
		return;
	}
	if (B.t_recv[i] != 0)
		return; /* on_message is once per message; be safe anyway */
	B.t_recv[i] = now;
	B.received++;
	if (i != B.expect)
		B.out_of_order++;
	B.expect = i + 1;
}

static void
on_receive_error(struct chat_client *c, void *udata, const char *id, int err, const char *detail)
{
	(void)c;
	(void)udata;
	(void)id;
	(void)err;
	bench_fail("bob could not receive a message: %s", detail);
}

static void
on_key_changed(struct chat_client *c, void *udata, const char *user, uint32_t device)
{
	(void)c;
	(void)udata;
	(void)device;
	bench_fail("a key of %s changed: these homes are not a clean pair", user);
}

/* A device that went offline mid-run would reconnect on alice's next send and
 * the figures would mean nothing: stop instead. udata is the device. */
static void
on_state(struct chat_client *c, void *udata, enum chat_state state, int err)
{
	const struct device *d = udata;
	char why[300];

	(void)c;
	if (state == CHAT_STATE_OFFLINE && !B.closing) {
		snprintf(why, sizeof why, "%s: %s", d->name, chat_strerror(err));
		bench_fail("lost the connection: %s", why);
	}
}

/* alice's send is committed by the server; arg is the slot for its time. */
static void
on_sent(struct chat_client *c, void *arg, int err, const char *id)
{
	(void)c;
	(void)id;
	if (err != CHAT_OK) {
		bench_fail("a send failed: %s", chat_strerror(err));
		return;
	}
	*(double *)arg = bench_now_us();
	B.confirmed++;
}

/* ---- driving both devices ----------------------------------------------------- */

static int
service(struct device *d)
{
	double t0 = bench_now_us();
	int rc = chat_client_loop(d->c, 0);

	d->busy_us += bench_now_us() - t0;
	if (rc != CHAT_OK) {
		char why[600];

		snprintf(why, sizeof why, "%s: %s", d->name, chat_client_errmsg(d->c));
		bench_fail("the loop failed: %s", why);
		return -1;
	}
	return 0;
}

/* One pass: wait at most timeout_ms for either descriptor, then run the
 * devices whose descriptor is ready. Only those: chat_client_loop(c, 0) on a
 * device with nothing to do does not return at once but blocks until lws's
 * next internal timer, 30 s here (lws 4.1 runs the 1 µs timer libchat sets
 * before it polls, so that timer never bounds the poll). The library also
 * asks for a call at least once a second, for its request deadlines; this
 * program has its own (STALL_MS) and does not need them. */
static int
pump(int timeout_ms)
{
	struct pollfd p[2];
	int n;

	for (int i = 0; i < 2; i++) {
		p[i].fd = chat_client_fd(B.dev[i].c);
		p[i].events = POLLIN;
		p[i].revents = 0;
	}
	n = poll(p, 2, timeout_ms);
	if (n < 0 && errno != EINTR) {
		bench_fail("poll: %s", strerror(errno));
		return -1;
	}
	for (int i = BOB; i >= ALICE; i--)
		if (n > 0 && p[i].revents != 0 && service(&B.dev[i]) != 0)
			return -1;
	return 0;
}

typedef int (*pred_fn)(long arg);

/* Runs both devices until pred(arg) holds; -1 on failure, or when no message
 * was received or confirmed for STALL_MS (so any burst size is allowed). */
static int
drive_until(pred_fn pred, long arg, const char *what)
{
	long progress = B.received + B.confirmed;
	double deadline = bench_now_us() + STALL_MS * 1e3;

	while (!B.failed && !pred(arg)) {
		if (B.received + B.confirmed != progress) {
			progress = B.received + B.confirmed;
			deadline = bench_now_us() + STALL_MS * 1e3;
		} else if (bench_now_us() > deadline) {
			bench_fail("stalled waiting for %s", what);
			break;
		}
		if (pump(100) != 0)
			break;
	}
	return B.failed ? -1 : 0;
}

static int
both_online(long unused)
{
	(void)unused;
	return chat_client_state(B.dev[ALICE].c) == CHAT_STATE_ONLINE &&
	       chat_client_state(B.dev[BOB].c) == CHAT_STATE_ONLINE &&
	       chat_client_drained(B.dev[BOB].c) && chat_client_drained(B.dev[ALICE].c);
}

/* Message i is at bob and confirmed to alice. */
static int
delivered(long i)
{
	return B.t_recv[i] != 0 && B.t_done[i] != 0;
}

static int
all_delivered(long upto)
{
	return B.received >= upto && B.confirmed >= upto;
}

static int
both_idle(long unused)
{
	(void)unused;
	return chat_client_idle(B.dev[ALICE].c) && chat_client_idle(B.dev[BOB].c);
}

/* ---- the phases -------------------------------------------------------------- */

/* Queues message B.next on alice; its text carries its index for bob. */
static int
send_next(void)
{
	char *text = malloc(B.text_len + 1), tag[32];
	struct device *a = &B.dev[ALICE];
	long i = B.next++;
	int rc;

	if (text == NULL || snprintf(tag, sizeof tag, TAG_FMT, i) != TAG_LEN) {
		free(text);
		bench_fail("%s", "out of memory");
		return -1;
	}
	memset(text, 'x', B.text_len);
	memcpy(text, tag, TAG_LEN);
	text[B.text_len] = '\0';
	B.t_send[i] = bench_now_us();
	rc = chat_send_text(a->c, B.chat, text, B.text_len, NULL, on_sent, &B.t_done[i]);
	a->busy_us += bench_now_us() - B.t_send[i];
	free(text);
	if (rc != CHAT_OK) {
		bench_fail("chat_send_text: %s", chat_client_errmsg(a->c));
		return -1;
	}
	return 0;
}

/* One message at a time; the samples are the messages [first, first + n). */
static int
sequential(long n)
{
	for (long k = 0; k < n; k++) {
		long i = B.next;

		if (send_next() != 0 || drive_until(delivered, i, "a message") != 0)
			return -1;
	}
	return 0;
}

/* Back to back: each send is followed by one pass that waits for nothing, so
 * the network moves while alice queues, as in a client that sends a burst. */
static int
pipelined(long m)
{
	for (long k = 0; k < m; k++)
		if (B.failed || send_next() != 0 || pump(0) != 0)
			return -1;
	return drive_until(all_delivered, B.next, "the burst");
}

/* Percentiles of t_to[i] - t_from[i] over [first, first + n), in ms. */
static void
put_latency(const char *name, const double *t_from, const double *t_to, long first, long n)
{
	double *v = malloc((size_t)n * sizeof *v);
	char key[64];
	static const struct {
		const char *suffix;
		double p;
	} pcts[] = {
		{"p50_ms", 50},
		{"p90_ms", 90},
		{"p99_ms", 99},
		{"max_ms", 100},
	};

	if (v == NULL)
		return;
	for (long k = 0; k < n; k++)
		v[k] = (t_to[first + k] - t_from[first + k]) / 1e3;
	bench_sort(v, (size_t)n);
	for (size_t j = 0; j < sizeof pcts / sizeof pcts[0]; j++) {
		snprintf(key, sizeof key, "%s.%s", name, pcts[j].suffix);
		bench_put(key, bench_pct(v, (size_t)n, pcts[j].p));
	}
	snprintf(key, sizeof key, "%s.mean_ms", name);
	bench_put(key, bench_mean(v, (size_t)n));
	free(v);
}

/* Where the thread's time went over a phase that took wall_us. */
static void
put_split(const char *phase, double wall_us, const double busy0[2], long n)
{
	char key[64];
	double wait = wall_us;

	for (int i = ALICE; i <= BOB; i++) {
		double busy = B.dev[i].busy_us - busy0[i];

		snprintf(key, sizeof key, "chat.%s.%s_us_per_msg", phase, B.dev[i].name);
		bench_put(key, busy / (double)n);
		wait -= busy;
	}
	/* The pass that took the last message may run on past wall_us. */
	snprintf(key, sizeof key, "chat.%s.wait_us_per_msg", phase);
	bench_put(key, wait > 0 ? wait / (double)n : 0);
}

static int
latency_phase(long n)
{
	long first = B.next;
	double busy0[2] = {B.dev[ALICE].busy_us, B.dev[BOB].busy_us}, t0 = bench_now_us();

	if (sequential(n) != 0)
		return -1;
	put_latency("chat.latency", B.t_send, B.t_recv, first, n);
	put_latency("chat.confirm", B.t_send, B.t_done, first, n);
	put_split("latency", bench_now_us() - t0, busy0, n);
	return 0;
}

static int
throughput_phase(long m)
{
	long first = B.next;
	double busy0[2] = {B.dev[ALICE].busy_us, B.dev[BOB].busy_us};
	double t0 = bench_now_us(), last_recv = 0, last_done = 0, queued;

	if (pipelined(m) != 0)
		return -1;
	for (long i = first; i < first + m; i++) {
		if (B.t_recv[i] > last_recv)
			last_recv = B.t_recv[i];
		if (B.t_done[i] > last_done)
			last_done = B.t_done[i];
	}
	queued = B.t_send[first + m - 1] - t0;
	bench_put("chat.throughput.msgs_per_s", (double)m / ((last_recv - t0) / 1e6));
	bench_put("chat.throughput.confirmed_per_s", (double)m / ((last_done - t0) / 1e6));
	bench_put("chat.throughput.queue_ms", queued / 1e3);
	put_split("throughput", last_recv - t0, busy0, m);
	return 0;
}

/* Gives the last acks up to SETTLE_MS to reach the server before the devices
 * disconnect. Not a failure when they do not: the figures are out already.
 * (They sometimes do not, within 10 s: this loop runs a device only when its
 * descriptor is ready (see pump), and what libchat still has to send then
 * waits for a call it never gets; not looked into further.) */
static void
settle(void)
{
	double deadline = bench_now_us() + SETTLE_MS * 1e3;

	while (!B.failed && !both_idle(0) && bench_now_us() < deadline)
		if (pump(100) != 0)
			break;
}

/* ---- setup ------------------------------------------------------------------ */

static int
open_device(struct device *d, const char *name, const char *home, const char *url)
{
	struct chat_opts o = CHAT_OPTS_INIT(.home = home, .server_url = url, .timeout_ms = 10000);
	struct chat_callbacks cbs =
		CHAT_CALLBACKS_INIT(.on_state = on_state, .on_key_changed = on_key_changed,
				    .on_receive_error = on_receive_error);
	char msg[512];
	int err;

	d->name = name;
	d->c = chat_client_new(&o, d, &err, msg, sizeof msg);
	if (d->c == NULL) {
		bench_fail("%s", msg);
		return -1;
	}
	if (strcmp(name, "bob") == 0)
		cbs.on_message = on_message;
	if (chat_client_set_callbacks(d->c, &cbs) != CHAT_OK ||
	    chat_client_connect(d->c) != CHAT_OK) {
		bench_fail("cannot connect: %s", chat_client_errmsg(d->c));
		return -1;
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: chat-bench -a ALICE_HOME -b BOB_HOME -c CHAT_ID [-u URL]\n"
		"                  [-n LATENCY_MSGS] [-m THROUGHPUT_MSGS] [-t TEXT_BYTES]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *home[2] = {NULL, NULL}, *url = NULL;
	long n = 500, m = 2000;
	int opt, rc = -1;

	B.text_len = 64;
	while ((opt = getopt(argc, argv, "a:b:c:u:n:m:t:")) != -1) {
		switch (opt) {
		case 'a': home[ALICE] = optarg; break;
		case 'b': home[BOB] = optarg; break;
		case 'c':
			if (strlen(optarg) != CHAT_CHAT_ID_LEN)
				usage();
			memcpy(B.chat, optarg, CHAT_CHAT_ID_LEN + 1);
			break;
		case 'u': url = optarg; break;
		case 'n': n = bench_count("chat-bench", optarg, 1000000); break;
		case 'm': m = bench_count("chat-bench", optarg, 1000000); break;
		case 't':
			B.text_len = (size_t)bench_count("chat-bench", optarg, CHAT_MAX_TEXT);
			break;
		default: usage();
		}
	}
	if (home[ALICE] == NULL || home[BOB] == NULL || strlen(B.chat) != CHAT_CHAT_ID_LEN ||
	    B.text_len < TAG_LEN)
		usage();
	B.total = WARMUP + n + m;
	B.t_send = calloc((size_t)B.total, sizeof *B.t_send);
	B.t_recv = calloc((size_t)B.total, sizeof *B.t_recv);
	B.t_done = calloc((size_t)B.total, sizeof *B.t_done);
	if (B.t_send == NULL || B.t_recv == NULL || B.t_done == NULL) {
		fprintf(stderr, "chat-bench: out of memory\n");
		return 1;
	}
	if (open_device(&B.dev[ALICE], "alice", home[ALICE], url) == 0 &&
	    open_device(&B.dev[BOB], "bob", home[BOB], url) == 0 &&
	    drive_until(both_online, 0, "both devices online") == 0 && sequential(WARMUP) == 0) {
		bench_put("chat.text_bytes", (double)B.text_len);
		if (latency_phase(n) == 0 && throughput_phase(m) == 0) {
			settle();
			rc = 0;
		}
		bench_put("chat.out_of_order", (double)B.out_of_order);
		bench_put("chat.messages", (double)B.next); /* all phases, warm-up too */
	}
	B.closing = 1;
	for (int i = ALICE; i <= BOB; i++) {
		if (B.dev[i].c != NULL)
			chat_client_disconnect(B.dev[i].c);
		chat_client_destroy(B.dev[i].c);
	}
	free(B.t_send);
	free(B.t_recv);
	free(B.t_done);
	return rc == 0 && !B.failed ? 0 : 1;
}
