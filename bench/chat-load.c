/*
 * chat-load - a load generator for chat-server, speaking docs/PROTOCOL.md
 * itself: one process, one libwebsockets client context, many connections.
 *
 *   chat-load -u ws://127.0.0.1:PORT/ -m MODE [options]
 *
 * Every device is registered with real keys (Ed25519 identity, X25519
 * exchange key signed by it, the session signature over the hello's
 * challenge), chats are created with createChat, messages are sendMessage
 * with one envelope per recipient device of the size a text of -t bytes
 * pads to (random bytes: the server never opens them), and every newMessage
 * is acknowledged (one ack per connection per loop pass, like a client that
 * stores a batch and then acks it).
 *
 * The first 32 bytes of every ciphertext carry a header: magic, the sender's
 * index, the sender's sequence number (1, 2, ...) and the send time. The
 * receiver checks exactly once and in order per sender; any duplicate, gap or
 * loss makes the run VOID (printed, with why, and exit status 3).
 *
 * Modes:
 *   pairs  -n PAIRS direct chats, each sender sends -c messages to its
 *          receiver, either as fast as a window of -w unconfirmed sends
 *          allows, or (-r RATE) at RATE messages a second in total, paced
 *          (latency then counts from the scheduled time, so queueing in the
 *          generator is not hidden). Deliveries/s, send->receive latency.
 *   group  one sender, a group of -g members (default 100): -c messages,
 *          each to every other member. Deliveries/s, latency to the last
 *          member of each message.
 *   drain  a device goes offline, -c messages are sent to it (window -w),
 *          then it connects: the time until all are received and acked.
 *   idle   sessions are opened up to each level of -k (e.g. 1000,5000,max;
 *          max: what the fd limit allows), one registered device each,
 *          spread over -a source addresses 127.0.0.2, .3, ... (default 8);
 *          at each level the server's memory (VmRSS of -P PID) per session,
 *          its CPU over a second with nothing sent, and the rate and server
 *          CPU per message of a burst of -b messages (200) over one pair
 *          (CPU from /proc/PID/task/x/schedstat, summed over its threads).
 *
 * Two instances (bench/run.sh's two-instance run): -U URL is a second
 * server on the same store; the receivers of pairs, the members of a group
 * and the device of a drain connect to it, the senders to -u, so every
 * message crosses from one instance to the other.
 *
 * Options: -w WINDOW (32), -t TEXT_BYTES (64), -p PREFIX for the figure
 * names (default: the mode), -T SECONDS the most a phase may go without
 * progress (60), -X sends one sequence number twice on purpose (the run
 * must then be VOID: bench-smoke proves the check with it), -R makes every
 * receiver send a delivered receipt per loop pass to its sender, as libchat
 * does (the senders acknowledge them; figure "receipts").
 *
 * The server must let a benchmark in: --rate 0 --rate-bytes 0
 * --register-rate 0 --max-connections-per-address (large), and for groups
 * --stranger-adds-per-day 0 --stranger-adds-per-hour 0; bench/run.sh starts
 * it so. For idle, -k levels above what the server holds (its log says, at
 * start, "limits: N connections") fail: run.sh caps them.
 *
 * Figures go to stdout as "name value" lines (see bench.h); exit 0 when the
 * run is valid, 3 when VOID, 1 when it broke.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <dirent.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>
#include <sodium.h>

#include "analyzer.h"
#include "bench.h"

#define SUBPROTOCOL "chat.v1"
#define MAGIC       0x31424c43u /* "CLB1" */
#define HDR_BYTES   32          /* magic, sender, seq, time, pad */
#define HDR_B64     44          /* base64 chars that hold the header (33 bytes) */
#define REG_WINDOW  64          /* connections setting up at once */
#define MAX_RX      (2u << 20)  /* a frame larger than this is a protocol error here */
#define ACK_MAX     1000        /* ids per ack (PROTOCOL.md, Limits) */

enum mode { PAIRS, GROUP, DRAIN, IDLE };
enum kind { K_REGISTER = 1, K_AUTH, K_CREATE, K_SEND, K_ACK, K_RECEIPT };

struct frame {
	struct frame *next;
	size_t len;
	unsigned char buf[]; /* LWS_PRE, then len bytes */
};

struct pend {
	int64_t id;
	int kind;
};

struct dev;

struct conn {
	struct lws *wsi;
	struct dev *dev;
	unsigned char challenge[32];
	char *rx;
	size_t rx_len, rx_cap;
	struct frame *head, *tail;
	struct pend *pend; /* replies expected, in request order (a ring) */
	size_t pend_cap, pend_head, pend_n;
	int64_t next_id;
	char (*acks)[33]; /* ids to acknowledge after this loop pass */
	size_t acks_n, acks_cap;
	struct conn *dirty_next;
	int dirty, closing, closed, authed, drained, ready;
	long owed; /* -R: messages received this pass, owed a delivered receipt */
};

struct dev {
	char user[33];
	int32_t device_id;
	unsigned char ik_pk[crypto_sign_PUBLICKEYBYTES], ik_sk[crypto_sign_SECRETKEYBYTES];
	unsigned char xk_pk[crypto_box_PUBLICKEYBYTES];
	unsigned char xk_sig[crypto_sign_BYTES];
	struct conn *conn;
	int registered;
	const char *src; /* source address, or NULL */
	char chat[17];
	/* as a sender */
	uint32_t index;
	uint64_t next_seq, confirmed;
	long outstanding, to_send;
	double next_at; /* paced mode: when the next send is due */
	double interval;
	/* as a receiver */
	int far;       /* -U: connects to the second server */
	uint32_t from; /* the index of the one sender it hears */
	uint64_t expect, received, acked;
};

static struct {
	struct lws_context *ctx;
	char url[256], host[128], server_name[160];
	int port;
	/* -U: the second server (port2 0: none) */
	char host2[128], server_name2[160];
	int port2;
	enum mode mode;
	const char *prefix;
	long pairs, msgs, window, group, burst, addrs, stall_s;
	double rate;
	size_t ct_len; /* ciphertext bytes */
	unsigned char *ct;
	struct dev **devs;
	size_t ndevs, cap_devs;
	struct conn *dirty;
	/* counters */
	long setting_up;
	uint64_t progress, delivered, violations;
	uint64_t expected; /* deliveries the current phase waits for */
	size_t ready;      /* connections authenticated and drained */
	char void_why[256];
	int failed;
	/* samples */
	double *lat;
	size_t nlat, cap_lat;
	double *last_t; /* group: the latest delivery of each message */
	long *last_n;
	double t_first_recv, t_last_recv;
	pid_t server_pid;
	char tag[8];
	int inject;   /* -X: one duplicate on purpose, to prove the check */
	int receipts; /* -R: receivers send delivered receipts, as libchat does */
	uint64_t receipts_sent;
	unsigned char *rct; /* random bytes for receipts' ciphertexts */
} L;

/* ---- failures and figures ------------------------------------------------- */

static void
load_fail(const char *fmt, const char *a, const char *b)
{
	if (L.failed)
		return;
	fprintf(stderr, "chat-load: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	L.failed = 1;
}

/* A delivery that breaks exactly-once or in-order: the figure is void. */
static void
violation(const struct dev *d, const char *what, uint64_t seq)
{
	if (L.violations++ == 0)
		snprintf(L.void_why, sizeof L.void_why, "%s got %s (seq %llu, expected %llu)",
			 d->user, what, (unsigned long long)seq, (unsigned long long)d->expect);
}

static void
put(const char *name, double v)
{
	bench_put_in(L.prefix, name, v);
}

/* ---- connections ------------------------------------------------------------ */

static int
grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * size);
	if (q == NULL) {
		load_fail("%s%s", "out of memory", "");
		return -1;
	}
	*p = q;
	*cap = n;
	return 0;
}

static void
conn_free(struct conn *c)
{
	struct frame *f, *next;

	if (c == NULL)
		return;
	for (f = c->head; f != NULL; f = next) {
		next = f->next;
		free(f);
	}
	free(c->rx);
	free(c->pend);
	free(c->acks);
	free(c);
}

/* Queues one request (text of len bytes) and remembers its kind for the reply.
 * The ring and the frame are stored in c, which conn_free() frees: the
 * analyzer loses them through c (common/analyzer.h). */
ANALYZER_LEAK_FP_BEGIN
static int
conn_send(struct conn *c, int kind, const char *text, size_t len)
{
	struct frame *f;

	if (c->wsi == NULL) {
		load_fail("%s%s", "a request on a closed connection", "");
		return -1;
	}
	if (c->pend_n == c->pend_cap) {
		/* unroll the ring into a larger one */
		size_t cap = c->pend_cap ? c->pend_cap * 2 : 8;
		struct pend *p = malloc(cap * sizeof *p);

		if (p == NULL) {
			load_fail("%s%s", "out of memory", "");
			return -1;
		}
		for (size_t i = 0; i < c->pend_n; i++)
			p[i] = c->pend[(c->pend_head + i) % c->pend_cap];
		free(c->pend);
		c->pend = p;
		c->pend_cap = cap;
		c->pend_head = 0;
	}
	f = malloc(sizeof *f + LWS_PRE + len);
	if (f == NULL) {
		load_fail("%s%s", "out of memory", "");
		return -1;
	}
	f->next = NULL;
	f->len = len;
	memcpy(f->buf + LWS_PRE, text, len);
	if (c->tail)
		c->tail->next = f;
	else
		c->head = f;
	c->tail = f;
	c->pend[(c->pend_head + c->pend_n) % c->pend_cap] = (struct pend){c->next_id, kind};
	c->pend_n++;
	c->next_id++;
	lws_callback_on_writable(c->wsi);
	return 0;
}
ANALYZER_LEAK_FP_END

static int
write_all(struct conn *c)
{
	while (c->head != NULL) {
		struct frame *f = c->head;

		if (lws_write(c->wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT) < (int)f->len) {
			load_fail("%s: %s", c->dev->user, "lws_write failed");
			return -1;
		}
		c->head = f->next;
		if (c->head == NULL)
			c->tail = NULL;
		free(f);
		if (c->head != NULL && lws_send_pipe_choked(c->wsi)) {
			lws_callback_on_writable(c->wsi);
			break;
		}
	}
	return 0;
}

static void
b64(char *out, size_t cap, const unsigned char *bin, size_t len)
{
	sodium_bin2base64(out, cap, bin, len, sodium_base64_VARIANT_ORIGINAL);
}

/* The session signature (PROTOCOL.md, The session signature) over ws://. */
static void
session_sig(const struct dev *d, const char *label, const unsigned char ch[32], char *out,
	    size_t cap)
{
	const char *name = d->far ? L.server_name2 : L.server_name;
	size_t ll = strlen(label), nl = strlen(name);
	unsigned char msg[32 + 32 + 160 + 1], sig[crypto_sign_BYTES];

	memcpy(msg, label, ll);
	memcpy(msg + ll, ch, 32);
	memcpy(msg + ll + 32, name, nl);
	msg[ll + 32 + nl] = 0;
	crypto_sign_detached(sig, NULL, msg, ll + 32 + nl + 1, d->ik_sk);
	b64(out, cap, sig, sizeof sig);
}

static int
send_hello_answer(struct conn *c)
{
	struct dev *d = c->dev;
	char sig[100], ik[64], xk[64], xs[100], buf[1024];
	int n;

	if (d->registered) {
		session_sig(d, "chat-auth-v2", c->challenge, sig, sizeof sig);
		n = snprintf(buf, sizeof buf,
			     "{\"id\":%lld,\"type\":\"auth\",\"user\":\"%s\",\"deviceId\":%d,"
			     "\"server\":\"%s\",\"signature\":\"%s\"}",
			     (long long)c->next_id, d->user, (int)d->device_id,
			     d->far ? L.server_name2 : L.server_name, sig);
		return conn_send(c, K_AUTH, buf, (size_t)n);
	}
	session_sig(d, "chat-register-v2", c->challenge, sig, sizeof sig);
	b64(ik, sizeof ik, d->ik_pk, sizeof d->ik_pk);
	b64(xk, sizeof xk, d->xk_pk, sizeof d->xk_pk);
	b64(xs, sizeof xs, d->xk_sig, sizeof d->xk_sig);
	n = snprintf(buf, sizeof buf,
		     "{\"id\":%lld,\"type\":\"register\",\"user\":\"%s\",\"deviceName\":\"load\","
		     "\"identityKey\":\"%s\",\"exchangeKey\":\"%s\",\"exchangeKeySig\":\"%s\","
		     "\"server\":\"%s\",\"signature\":\"%s\"}",
		     (long long)c->next_id, d->user, ik, xk, xs,
		     d->far ? L.server_name2 : L.server_name, sig);
	return conn_send(c, K_REGISTER, buf, (size_t)n);
}

static void
mark_dirty(struct conn *c)
{
	if (!c->dirty) {
		c->dirty = 1;
		c->dirty_next = L.dirty;
		L.dirty = c;
	}
}

/* A connection is ready once authenticated and drained of its inbox. */
static void
check_ready(struct conn *c)
{
	if (c->authed && c->drained && !c->ready) {
		c->ready = 1;
		L.ready++;
	}
}

static int
queue_ack(struct conn *c, const char *id)
{
	if (id == NULL || strlen(id) != 32)
		return 0; /* not an id this program made */
	if (grow((void **)&c->acks, &c->acks_cap, c->acks_n + 1, sizeof *c->acks) != 0)
		return -1;
	memcpy(c->acks[c->acks_n++], id, 33);
	mark_dirty(c);
	return 0;
}

/* One ack request for the n ids from c->acks[first]. */
static int
send_ack(struct conn *c, size_t first, size_t n)
{
	char *buf = malloc(80 + n * 35);
	size_t len;
	int rc;

	if (buf == NULL) {
		load_fail("%s%s", "out of memory", "");
		return -1;
	}
	len = (size_t)sprintf(buf, "{\"id\":%lld,\"type\":\"ack\",\"messageIds\":[",
			      (long long)c->next_id);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(buf + len, "%s\"%s\"", i ? "," : "", c->acks[first + i]);
	len += (size_t)sprintf(buf + len, "]}");
	rc = conn_send(c, K_ACK, buf, len);
	free(buf);
	return rc;
}

static size_t ct_len_for(size_t text_len);

/* -R: one delivered receipt for what c received in this pass, to its
 * sender's device, as libchat batches them (PROTOCOL.md, Receipts): body
 * kind, status, time and 16 bytes per message id, padded and sealed. */
static int
send_receipt(struct conn *c)
{
	const struct dev *d = c->dev, *s = L.devs[d->from];
	size_t ids = c->owed < ACK_MAX ? (size_t)c->owed : ACK_MAX;
	size_t ct = ct_len_for(9 + 16 * ids); /* the kind byte is ct_len_for's */
	size_t b64len = sodium_base64_ENCODED_LEN(ct, sodium_base64_VARIANT_ORIGINAL);
	unsigned char nonce[24], rid[16];
	char nb64[40], ridhex[33], *buf = malloc(b64len + 400);
	size_t len;
	int rc;

	c->owed = 0;
	if (buf == NULL) {
		load_fail("%s%s", "out of memory", "");
		return -1;
	}
	randombytes_buf(nonce, sizeof nonce);
	randombytes_buf(rid, sizeof rid);
	sodium_bin2hex(ridhex, sizeof ridhex, rid, sizeof rid);
	b64(nb64, sizeof nb64, nonce, sizeof nonce);
	len = (size_t)snprintf(buf, b64len + 400,
			       "{\"id\":%lld,\"type\":\"sendReceipt\",\"chatId\":\"%s\","
			       "\"receiptId\":\"%s\",\"envelopes\":[{\"user\":\"%s\","
			       "\"deviceId\":%d,\"nonce\":\"%s\",\"ciphertext\":\"",
			       (long long)c->next_id, d->chat, ridhex, s->user, (int)s->device_id,
			       nb64);
	b64(buf + len, b64len, L.rct, ct);
	len += strlen(buf + len);
	len += (size_t)snprintf(buf + len, 8, "\"}]}");
	rc = conn_send(c, K_RECEIPT, buf, len);
	free(buf);
	L.receipts_sent++;
	return rc;
}

/* Sends the acks gathered in this loop pass, up to ACK_MAX ids a request. */
static void
flush_acks(void)
{
	struct conn *c, *next;

	for (c = L.dirty; c != NULL; c = next) {
		next = c->dirty_next;
		c->dirty = 0;
		for (size_t done = 0; done < c->acks_n && c->wsi != NULL && !L.failed;
		     done += ACK_MAX)
			send_ack(c, done, c->acks_n - done < ACK_MAX ? c->acks_n - done : ACK_MAX);
		c->acks_n = 0;
		if (c->owed > 0 && c->wsi != NULL && !L.failed)
			send_receipt(c);
	}
	L.dirty = NULL;
}

/* ---- messages ---------------------------------------------------------------- */

/* The sender's next sequence number. With -X, the first sender's third
 * message repeats the second's number, as a duplicate delivery would: the
 * run must then go VOID. */
static uint64_t
next_seq(struct dev *s)
{
	if (L.inject && s->next_seq == 2 && s->index == 0) {
		L.inject = 0;
		return 2;
	}
	return ++s->next_seq;
}

/* Sends the sender's next message into its chat: one envelope per recipient
 * device in recips (n of them), t_send the time its latency counts from. */
static int
send_message(struct dev *s, struct dev *const *recips, size_t n, double t_send)
{
	unsigned char hdr[HDR_BYTES] = {0}, nonce[24], mid[16];
	uint32_t magic = MAGIC;
	uint64_t seq = next_seq(s);
	char midhex[33], nb64[40], *ct64, *buf;
	size_t ct64_len = sodium_base64_ENCODED_LEN(L.ct_len, sodium_base64_VARIANT_ORIGINAL);
	size_t cap, len;
	int rc;

	memcpy(hdr, &magic, 4);
	memcpy(hdr + 4, &s->index, 4);
	memcpy(hdr + 8, &seq, 8);
	memcpy(hdr + 16, &t_send, 8);
	memcpy(L.ct, hdr, HDR_BYTES);
	randombytes_buf(nonce, sizeof nonce);
	randombytes_buf(mid, sizeof mid);
	sodium_bin2hex(midhex, sizeof midhex, mid, sizeof mid);
	b64(nb64, sizeof nb64, nonce, sizeof nonce);
	ct64 = malloc(ct64_len);
	cap = 200 + n * (ct64_len + 120);
	buf = malloc(cap);
	if (ct64 == NULL || buf == NULL) {
		free(ct64);
		free(buf);
		load_fail("%s%s", "out of memory", "");
		return -1;
	}
	b64(ct64, ct64_len, L.ct, L.ct_len);
	len = (size_t)snprintf(buf, cap,
			       "{\"id\":%lld,\"type\":\"sendMessage\",\"chatId\":\"%s\","
			       "\"messageId\":\"%s\",\"envelopes\":[",
			       (long long)s->conn->next_id, s->chat, midhex);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len,
					"%s{\"user\":\"%s\",\"deviceId\":%d,\"nonce\":\"%s\","
					"\"ciphertext\":\"%s\"}",
					i ? "," : "", recips[i]->user, (int)recips[i]->device_id,
					nb64, ct64);
	len += (size_t)snprintf(buf + len, cap - len, "]}");
	rc = conn_send(s->conn, K_SEND, buf, len);
	free(ct64);
	free(buf);
	s->outstanding++;
	s->to_send--;
	return rc;
}

/* The recipients of a sender, by mode: its peer, or every other group member. */
static struct dev **recipients_of(struct dev *s, size_t *n);

/* Window mode: keeps -w sends unconfirmed per sender while it has more. */
static void
top_up(struct dev *s)
{
	size_t n;
	struct dev **r;

	if (L.rate > 0)
		return;
	r = recipients_of(s, &n);
	while (!L.failed && s->to_send > 0 && s->outstanding < L.window)
		send_message(s, r, n, bench_now_us());
}

static void
record_latency(double us)
{
	if (grow((void **)&L.lat, &L.cap_lat, L.nlat + 1, sizeof *L.lat) == 0)
		L.lat[L.nlat++] = us / 1e3;
}

/* A newMessage: check the header, record the latency, queue the ack. */
static int
on_new_message(struct conn *c, const cJSON *j)
{
	const cJSON *ct = cJSON_GetObjectItemCaseSensitive(j, "ciphertext");
	const cJSON *mid = cJSON_GetObjectItemCaseSensitive(j, "messageId");
	unsigned char hdr[HDR_BYTES + 1];
	size_t got = 0;
	uint32_t magic, from;
	uint64_t seq;
	double t_send, now = bench_now_us();
	struct dev *d = c->dev;

	if (!cJSON_IsString(ct) || !cJSON_IsString(mid) || strlen(ct->valuestring) < HDR_B64 ||
	    sodium_base642bin(hdr, sizeof hdr, ct->valuestring, HDR_B64, NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    got < HDR_BYTES) {
		load_fail("%s: %s", d->user, "a newMessage without a readable ciphertext");
		return -1;
	}
	memcpy(&magic, hdr, 4);
	memcpy(&from, hdr + 4, 4);
	memcpy(&seq, hdr + 8, 8);
	memcpy(&t_send, hdr + 16, 8);
	if (magic != MAGIC || from != d->from) {
		load_fail("%s: %s", d->user,
			  "a message that is not this run's, or from another sender");
		return -1;
	}
	if (seq == d->expect) {
		d->expect++;
		d->received++;
		L.delivered++;
		L.progress++;
		record_latency(now - t_send);
		if (L.t_first_recv == 0)
			L.t_first_recv = now;
		L.t_last_recv = now;
		if (L.last_t != NULL && seq >= 1 && seq <= (uint64_t)L.msgs) {
			/* the message's latency to its slowest member so far */
			if ((now - t_send) / 1e3 > L.last_t[seq - 1])
				L.last_t[seq - 1] = (now - t_send) / 1e3;
			L.last_n[seq - 1]++;
		}
	} else {
		violation(d, seq < d->expect ? "a duplicate" : "a gap (lost or reordered)", seq);
		if (seq > d->expect)
			d->expect = seq + 1;
	}
	if (L.receipts)
		c->owed++;
	return queue_ack(c, mid->valuestring);
}

static int
on_reply(struct conn *c, const cJSON *j, int64_t id)
{
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(j, "ok");
	struct dev *d = c->dev;
	struct pend p;

	if (c->pend_n == 0 || c->pend[c->pend_head].id != id) {
		load_fail("%s: %s", d->user, "a reply to no request, or out of order");
		return -1;
	}
	p = c->pend[c->pend_head];
	c->pend_head = (c->pend_head + 1) % c->pend_cap;
	c->pend_n--;
	if (!cJSON_IsTrue(ok)) {
		char *text = cJSON_PrintUnformatted(j);

		load_fail("%s: refused: %s", d->user, text ? text : "?");
		free(text);
		return -1;
	}
	L.progress++;
	switch (p.kind) {
	case K_REGISTER: {
		const cJSON *dev = cJSON_GetObjectItemCaseSensitive(j, "deviceId");

		if (!cJSON_IsNumber(dev)) {
			load_fail("%s: %s", d->user, "register reply without deviceId");
			return -1;
		}
		d->device_id = (int32_t)dev->valuedouble;
		d->registered = 1;
		c->authed = 1;
		L.setting_up--;
		check_ready(c);
		break;
	}
	case K_AUTH:
		c->authed = 1;
		L.setting_up--;
		check_ready(c);
		break;
	case K_CREATE: {
		const cJSON *chat = cJSON_GetObjectItemCaseSensitive(j, "chatId");

		if (!cJSON_IsString(chat) || strlen(chat->valuestring) != 16) {
			load_fail("%s: %s", d->user, "createChat reply without chatId");
			return -1;
		}
		memcpy(d->chat, chat->valuestring, 17);
		if (L.receipts) { /* its members learn the id (they send receipts into it) */
			size_t n;
			struct dev **r = recipients_of(d, &n);

			for (size_t i = 0; i < n; i++)
				memcpy(r[i]->chat, chat->valuestring, 17);
		}
		break;
	}
	case K_SEND:
		d->outstanding--;
		d->confirmed++;
		top_up(d);
		break;
	case K_ACK: {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "acked");

		if (cJSON_IsNumber(n))
			d->acked += (uint64_t)n->valuedouble;
		break;
	}
	default: break;
	}
	return 0;
}

static int
on_frame(struct conn *c, const char *text, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(text, len);
	const cJSON *id, *type;
	int rc = 0;

	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		load_fail("%s: %s", c->dev->user, "a frame that is not a JSON object");
		return -1;
	}
	id = cJSON_GetObjectItemCaseSensitive(j, "id");
	type = cJSON_GetObjectItemCaseSensitive(j, "type");
	if (cJSON_IsNumber(id)) {
		rc = on_reply(c, j, (int64_t)id->valuedouble);
	} else if (!cJSON_IsString(type)) {
		load_fail("%s: a frame without id or type: %.200s", c->dev->user, text);
		rc = -1;
	} else if (strcmp(type->valuestring, "newMessage") == 0) {
		rc = on_new_message(c, j);
	} else if (strcmp(type->valuestring, "chatUpdate") == 0) {
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "updateId");

		rc = queue_ack(c, cJSON_IsString(u) ? u->valuestring : NULL);
	} else if (strcmp(type->valuestring, "receipt") == 0) {
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "receiptId");

		rc = queue_ack(c, cJSON_IsString(r) ? r->valuestring : NULL);
	} else if (strcmp(type->valuestring, "drained") == 0) {
		c->drained = 1;
		check_ready(c);
		L.progress++;
	} else if (strcmp(type->valuestring, "hello") == 0) {
		const cJSON *ch = cJSON_GetObjectItemCaseSensitive(j, "challenge");
		size_t got = 0;

		if (!cJSON_IsString(ch) ||
		    sodium_base642bin(c->challenge, sizeof c->challenge, ch->valuestring,
				      strlen(ch->valuestring), NULL, &got, NULL,
				      sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    got != 32) {
			load_fail("%s: %s", c->dev->user, "a hello without a 32-byte challenge");
			rc = -1;
		} else {
			rc = send_hello_answer(c);
		}
	} else if (strcmp(type->valuestring, "error") == 0 ||
		   strcmp(type->valuestring, "missed") == 0) {
		load_fail("%s: unexpected %.300s", c->dev->user, text);
		rc = -1;
	} /* anything else (receipts, presence) is not this program's business */
	cJSON_Delete(j);
	return rc;
}

static int
gather(struct lws *wsi, struct conn *c, const void *in, size_t len)
{
	if (c->rx_len + len > MAX_RX) {
		load_fail("%s: %s", c->dev->user, "a frame over 2 MiB");
		return -1;
	}
	if (grow((void **)&c->rx, &c->rx_cap, c->rx_len + len, 1) != 0)
		return -1;
	memcpy(c->rx + c->rx_len, in, len);
	c->rx_len += len;
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) != 0)
		return 0;
	len = c->rx_len;
	c->rx_len = 0;
	return on_frame(c, c->rx, len);
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct conn *c = lws_get_opaque_user_data(wsi);

	(void)user;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (c != NULL) {
			c->wsi = NULL;
			c->closed = 1;
			load_fail("%s: cannot connect: %s", c->dev->user,
				  in ? (const char *)in : "(no reason)");
		}
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (c != NULL && gather(wsi, c, in, len) != 0)
			return -1;
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (c == NULL || c->closing)
			return -1;
		if (write_all(c) != 0)
			return -1;
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (c != NULL && !c->closing)
			load_fail("%s: %s", c->dev->user, "the server closed the connection");
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		if (c != NULL) {
			c->wsi = NULL;
			c->closed = 1;
			L.progress++;
		}
		break;
	default: break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{SUBPROTOCOL, callback, 0, 65536, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

/* Opens d's connection: the hello answers it with register or auth. */
static int
dev_connect(struct dev *d)
{
	struct lws_client_connect_info i;
	struct conn *c = calloc(1, sizeof *c);

	if (c == NULL) {
		load_fail("%s%s", "out of memory", "");
		return -1;
	}
	conn_free(d->conn);
	d->conn = c;
	c->dev = d;
	c->next_id = 1;
	memset(&i, 0, sizeof i);
	i.context = L.ctx;
	i.address = d->far ? L.host2 : L.host;
	i.port = d->far ? L.port2 : L.port;
	i.path = "/";
	i.host = i.address;
	i.origin = i.address;
	i.protocol = SUBPROTOCOL;
	i.iface = d->src;
	i.opaque_user_data = c;
	i.pwsi = &c->wsi;
	L.setting_up++;
	if (lws_client_connect_via_info(&i) == NULL && !L.failed) {
		c->closed = 1;
		load_fail("%s: %s", d->user, "cannot start a connection");
		return -1;
	}
	return 0;
}

static void
dev_disconnect(struct dev *d)
{
	if (d->conn != NULL && d->conn->wsi != NULL) {
		d->conn->closing = 1;
		lws_callback_on_writable(d->conn->wsi);
	}
}

static struct dev *
dev_new(const char *role, size_t i, const char *src)
{
	struct dev *d = calloc(1, sizeof *d);
	unsigned char xsk[crypto_box_SECRETKEYBYTES], msg[12 + crypto_box_PUBLICKEYBYTES];

	if (d == NULL || grow((void **)&L.devs, &L.cap_devs, L.ndevs + 1, sizeof *L.devs) != 0) {
		free(d);
		load_fail("%s%s", "out of memory", "");
		return NULL;
	}
	snprintf(d->user, sizeof d->user, "%s%s-%zu", role, L.tag, i);
	crypto_sign_keypair(d->ik_pk, d->ik_sk);
	crypto_box_keypair(d->xk_pk, xsk);
	sodium_memzero(xsk, sizeof xsk); /* nothing here ever opens an envelope */
	memcpy(msg, "chat-xkey-v1", 12);
	memcpy(msg + 12, d->xk_pk, sizeof d->xk_pk);
	crypto_sign_detached(d->xk_sig, NULL, msg, sizeof msg, d->ik_sk);
	d->src = src;
	d->index = (uint32_t)L.ndevs;
	d->expect = 1;
	L.devs[L.ndevs++] = d;
	return d;
}

/* ---- the loop ------------------------------------------------------------------ */

static lws_sorted_usec_list_t tick;

/* Paced sends, and a wake-up for the loop so that it checks its predicates. */
static void
on_tick(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	if (L.rate > 0) {
		double now = bench_now_us();

		for (size_t i = 0; i < L.ndevs; i++) {
			struct dev *s = L.devs[i];
			size_t n;
			struct dev **r;

			if (s->to_send <= 0 || s->interval <= 0 || s->conn == NULL)
				continue;
			r = recipients_of(s, &n);
			while (s->to_send > 0 && s->next_at <= now && !L.failed) {
				send_message(s, r, n, s->next_at);
				s->next_at += s->interval;
			}
		}
	}
	lws_sul_schedule(L.ctx, 0, &tick, on_tick, L.rate > 0 ? 500 : 20 * LWS_US_PER_MS);
}

typedef int (*pred_fn)(void);

/* Runs the loop until pred() holds; fails when nothing moved for -T seconds. */
static int
run_until(pred_fn pred, const char *what)
{
	uint64_t seen = L.progress;
	double deadline = bench_now_us() + (double)L.stall_s * 1e6;

	while (!L.failed && !pred()) {
		if (lws_service(L.ctx, 0) < 0) {
			load_fail("%s%s", "lws_service failed", "");
			break;
		}
		flush_acks();
		if (L.progress != seen) {
			seen = L.progress;
			deadline = bench_now_us() + (double)L.stall_s * 1e6;
		} else if (bench_now_us() > deadline) {
			load_fail("stalled waiting for %s%s", what, "");
		}
	}
	return L.failed ? -1 : 0;
}

static size_t want_ready; /* connections that must be authed and drained */

static int
all_ready(void)
{
	return L.ready >= want_ready;
}

static int
setup_idle(void)
{
	return L.setting_up < REG_WINDOW;
}

/* Connects and registers devices [from, to), REG_WINDOW at a time. */
static int
bring_up(size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		if (run_until(setup_idle, "registrations") != 0 || dev_connect(L.devs[i]) != 0)
			return -1;
	}
	want_ready += to - from;
	return run_until(all_ready, "devices to sign in");
}

static int
all_quiet(void)
{
	for (size_t i = 0; i < L.ndevs; i++) {
		const struct conn *c = L.devs[i]->conn;

		if (c != NULL && c->wsi != NULL && (c->pend_n > 0 || c->acks_n > 0 || c->head))
			return 0;
	}
	return 1;
}

static int
create_chat(struct dev *s, struct dev *const *members, size_t n, const char *name)
{
	size_t cap = 100 + n * 40, len;
	char *buf = malloc(cap);
	int rc;

	if (buf == NULL) {
		load_fail("%s%s", "out of memory", "");
		return -1;
	}
	len = (size_t)snprintf(buf, cap, "{\"id\":%lld,\"type\":\"createChat\",",
			       (long long)s->conn->next_id);
	if (name)
		len += (size_t)snprintf(buf + len, cap - len, "\"name\":\"%s\",", name);
	len += (size_t)snprintf(buf + len, cap - len, "\"participants\":[");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s\"%s\"", i ? "," : "",
					members[i]->user);
	len += (size_t)snprintf(buf + len, cap - len, "]}");
	rc = conn_send(s->conn, K_CREATE, buf, len);
	free(buf);
	return rc;
}

/* ---- the workloads ------------------------------------------------------------- */

/* pairs: devs[2i] sends to devs[2i+1]. group: devs[0] sends to the rest. */
static struct dev **
recipients_of(struct dev *s, size_t *n)
{
	if (L.mode == GROUP) {
		*n = L.ndevs - 1;
		return L.devs + 1;
	}
	*n = 1;
	return L.devs + s->index + 1;
}

static int
all_delivered(void)
{
	for (size_t i = 0; i < L.ndevs; i++) {
		const struct dev *d = L.devs[i];

		if (d->to_send > 0 || d->outstanding > 0)
			return 0;
	}
	return L.delivered + L.violations >= L.expected && all_quiet();
}

static int
all_chats(void)
{
	for (size_t i = 0; i < L.ndevs; i += (L.mode == GROUP ? L.ndevs : 2))
		if (L.devs[i]->chat[0] == '\0')
			return 0;
	return all_quiet();
}

/* Sends -c messages from every sender (window or paced) and waits for them. */
static int
traffic(size_t senders_step, double *t0)
{
	size_t nsend = 0;

	for (size_t i = 0; i < L.ndevs; i += senders_step)
		nsend++;
	*t0 = bench_now_us();
	L.nlat = 0;
	L.delivered = 0;
	L.expected = (uint64_t)L.msgs * (L.mode == GROUP ? L.ndevs - 1 : nsend);
	L.t_first_recv = L.t_last_recv = 0;
	for (size_t i = 0, k = 0; i < L.ndevs; i += senders_step, k++) {
		struct dev *s = L.devs[i];

		s->to_send = L.msgs;
		if (L.rate > 0) {
			s->interval = 1e6 * (double)nsend / L.rate;
			/* staggered, so the senders do not all send at the same instant */
			s->next_at = *t0 + s->interval * (double)k / (double)nsend;
		} else {
			top_up(s);
		}
	}
	return run_until(all_delivered, "the messages");
}

static int
mode_pairs(void)
{
	double t0;

	for (long i = 0; i < L.pairs; i++) {
		struct dev *s = dev_new("s", (size_t)i, NULL), *r = dev_new("r", (size_t)i, NULL);

		if (s == NULL || r == NULL)
			return -1;
		r->from = s->index;
		r->far = L.port2 != 0;
	}
	if (bring_up(0, L.ndevs) != 0)
		return -1;
	for (size_t i = 0; i < L.ndevs; i += 2)
		if (create_chat(L.devs[i], &L.devs[i + 1], 1, NULL) != 0)
			return -1;
	if (run_until(all_chats, "the chats") != 0 || traffic(2, &t0) != 0)
		return -1;
	put("pairs", (double)L.pairs);
	put("messages", (double)L.delivered);
	put("deliveries_per_s", (double)L.delivered / ((L.t_last_recv - t0) / 1e6));
	if (L.receipts)
		put("receipts", (double)L.receipts_sent);
	if (L.rate > 0)
		put("offered_per_s", L.rate);
	bench_put_latency(L.prefix, "latency", L.lat, L.nlat);
	return 0;
}

static int
mode_group(void)
{
	struct dev *s;
	double t0, *last;

	s = dev_new("g", 0, NULL);
	for (long i = 1; i < L.group && s != NULL; i++) {
		struct dev *m = dev_new("m", (size_t)i, NULL);

		if (m == NULL)
			return -1;
		m->from = s->index;
		m->far = L.port2 != 0;
	}
	L.last_t = calloc((size_t)L.msgs, sizeof *L.last_t);
	L.last_n = calloc((size_t)L.msgs, sizeof *L.last_n);
	if (s == NULL || L.last_t == NULL || L.last_n == NULL || bring_up(0, L.ndevs) != 0)
		return -1;
	if (create_chat(s, L.devs + 1, L.ndevs - 1, "load") != 0 ||
	    run_until(all_chats, "the group") != 0 || traffic(L.ndevs, &t0) != 0)
		return -1;
	put("members", (double)L.group);
	put("messages", (double)L.msgs);
	put("deliveries_per_s", (double)L.delivered / ((L.t_last_recv - t0) / 1e6));
	if (L.receipts)
		put("receipts", (double)L.receipts_sent);
	bench_put_latency(L.prefix, "latency", L.lat, L.nlat);
	last = L.last_t; /* the latency of each message to its last member */
	bench_put_latency(L.prefix, "last_member", last, (size_t)L.msgs);
	return 0;
}

static struct dev *drainer;

static int
drainer_offline(void)
{
	return drainer->conn == NULL || drainer->conn->closed;
}

static int
drainer_done(void)
{
	return drainer->received + L.violations >= (uint64_t)L.msgs &&
	       drainer->acked >= (uint64_t)L.msgs;
}

static int
senders_done(void)
{
	return L.devs[0]->to_send == 0 && L.devs[0]->outstanding == 0;
}

static int
mode_drain(void)
{
	struct dev *s = dev_new("s", 0, NULL), *r = dev_new("d", 0, NULL);
	double t0, t1;

	if (s == NULL || r == NULL)
		return -1;
	r->far = L.port2 != 0;
	r->from = s->index;
	drainer = r;
	if (bring_up(0, L.ndevs) != 0 || create_chat(s, &r, 1, NULL) != 0 ||
	    run_until(all_chats, "the chat") != 0)
		return -1;
	dev_disconnect(r);
	if (run_until(drainer_offline, "the device to go offline") != 0)
		return -1;
	s->to_send = L.msgs;
	t0 = bench_now_us();
	top_up(s);
	if (run_until(senders_done, "the sends") != 0)
		return -1;
	t1 = bench_now_us();
	put("messages", (double)L.msgs);
	put("send_per_s", (double)L.msgs / ((t1 - t0) / 1e6));
	t0 = bench_now_us();
	if (dev_connect(r) != 0 || run_until(drainer_done, "the drain") != 0)
		return -1;
	t1 = bench_now_us();
	put("drain_s", (t1 - t0) / 1e6);
	put("drain_per_s", (double)L.msgs / ((t1 - t0) / 1e6));
	return 0;
}

/* ---- idle sessions ------------------------------------------------------------- */

static long
server_rss_kib(void)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)L.server_pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* The server's CPU time in µs: the sum of its threads' schedstat (ns), which
 * is exact, or utime + stime from stat (clock ticks) where there is none. */
static double
server_cpu_us(void)
{
	char path[64], line[512];
	double total = 0;
	unsigned long long ns, ut, st;
	DIR *dir;
	struct dirent *e;
	FILE *f;
	int n = 0;

	snprintf(path, sizeof path, "/proc/%d/task", (int)L.server_pid);
	dir = opendir(path);
	while (dir != NULL && (e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(line, sizeof line, "/proc/%d/task/%.20s/schedstat", (int)L.server_pid,
			 e->d_name);
		f = fopen(line, "r");
		if (f != NULL) {
			if (fscanf(f, "%llu", &ns) == 1) {
				total += (double)ns / 1e3;
				n++;
			}
			fclose(f);
		}
	}
	if (dir != NULL)
		closedir(dir);
	if (n > 0)
		return total;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)L.server_pid);
	f = fopen(path, "r");
	if (f == NULL || fgets(line, sizeof line, f) == NULL) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	/* fields 14 and 15, after the ")" that ends the command name */
	if (strrchr(line, ')') == NULL ||
	    sscanf(strrchr(line, ')') + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
		   &ut, &st) != 2)
		return -1;
	return (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

/* The fd limit raised to the hard one; returns how many sessions it allows. */
static long
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1000;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur == RLIM_INFINITY ? 1000000 : (long)rl.rlim_cur - 64;
}

static char srcs[256][16];
static const char *levels_arg = "1000,5000,10000,max";

static double quiet_until;

static int
quiet_over(void)
{
	L.progress++; /* waiting on purpose is not a stall */
	return bench_now_us() >= quiet_until;
}

/* The server's CPU with the sessions connected and nothing sent, over one
 * second (this loop keeps running, so pings are answered): what they cost
 * by themselves (heartbeats, timers), in µs of CPU per second. */
static double
idle_cpu_rate(long level)
{
	double cpu0 = server_cpu_us(), t0 = bench_now_us(), rate;
	char name[64];

	quiet_until = t0 + 1e6;
	if (run_until(quiet_over, "a quiet second") != 0 || cpu0 < 0)
		return 0;
	rate = (server_cpu_us() - cpu0) / ((bench_now_us() - t0) / 1e6);
	snprintf(name, sizeof name, "s%ld.server_idle_cpu_pct", level);
	put(name, rate / 1e4);
	return rate;
}

/* One burst over the pair devs[0] -> devs[1], the rest idle: server CPU per
 * message, as measured and less what the idle sessions took meanwhile. */
static int
idle_burst(long level)
{
	struct dev *s = L.devs[0];
	double idle = idle_cpu_rate(level), cpu0 = server_cpu_us(), t0, cpu1;
	char name[64];
	long keep = L.msgs;

	L.msgs = L.burst;
	s->to_send = L.burst;
	L.nlat = 0;
	L.delivered = 0;
	L.expected = (uint64_t)L.burst;
	t0 = bench_now_us();
	top_up(s);
	if (run_until(all_delivered, "the burst") != 0)
		return -1;
	cpu1 = server_cpu_us();
	L.msgs = keep;
	snprintf(name, sizeof name, "s%ld.burst_per_s", level);
	put(name, (double)L.burst / ((L.t_last_recv - t0) / 1e6));
	if (cpu0 >= 0 && cpu1 >= 0) {
		double busy = cpu1 - cpu0, wall = (bench_now_us() - t0) / 1e6;

		snprintf(name, sizeof name, "s%ld.server_cpu_us_per_msg", level);
		put(name, busy / (double)L.burst);
		snprintf(name, sizeof name, "s%ld.server_net_cpu_us_per_msg", level);
		put(name, (busy - idle * wall > 0 ? busy - idle * wall : 0) / (double)L.burst);
	}
	snprintf(name, sizeof name, "s%ld.burst_latency", level);
	bench_put_latency(L.prefix, name, L.lat, L.nlat);
	return 0;
}

static int
mode_idle(void)
{
	long max = raise_fd_limit(), rss0, level, prev = 0;
	const char *p = levels_arg;
	char name[64];
	struct dev *s = dev_new("s", 0, NULL), *r = dev_new("r", 0, NULL);

	if (s == NULL || r == NULL)
		return -1;
	r->from = s->index;
	for (long i = 0; i < L.addrs && i < 250; i++)
		snprintf(srcs[i], sizeof srcs[i], "127.0.0.%d", (int)(i + 2) & 0xff);
	put("fd_limit_sessions", (double)max);
	put("burst", (double)L.burst);
	if (bring_up(0, 2) != 0 || create_chat(s, &r, 1, NULL) != 0 ||
	    run_until(all_chats, "the chat") != 0)
		return -1;
	L.msgs = L.burst;
	if (idle_burst(0) != 0) /* warms the server up; also the figure with none idle */
		return -1;
	rss0 = server_rss_kib();
	while (*p) {
		double t0;

		level = strncmp(p, "max", 3) == 0 ? max : strtol(p, NULL, 10);
		p += strcspn(p, ",");
		p += *p == ',';
		if (level > max)
			level = max;
		if (level <= prev)
			continue;
		for (long i = prev; i < level; i++)
			if (dev_new("i", (size_t)i, L.addrs > 0 ? srcs[i % L.addrs] : NULL) == NULL)
				return -1;
		t0 = bench_now_us();
		if (bring_up(2 + (size_t)prev, 2 + (size_t)level) != 0)
			return -1;
		snprintf(name, sizeof name, "s%ld.signin_per_s", level);
		put(name, (double)(level - prev) / ((bench_now_us() - t0) / 1e6));
		prev = level;
		/* the server settles (frees what the handshakes took) */
		quiet_until = bench_now_us() + 1e6;
		if (run_until(quiet_over, "a quiet second") != 0)
			return -1;
		if (rss0 > 0) {
			snprintf(name, sizeof name, "s%ld.rss_kib_per_session", level);
			put(name, (double)(server_rss_kib() - rss0) / (double)level);
		}
		if (idle_burst(level) != 0)
			return -1;
	}
	put("sessions", (double)prev);
	return 0;
}

/* ---- setup --------------------------------------------------------------------- */

static int
parse_url(const char *url, char host[128], int *port, char name[160])
{
	if (sscanf(url, "ws://%127[0-9.]:%d", host, port) != 2 || *port < 1 || *port > 65535) {
		fprintf(stderr, "chat-load: %s: give ws://IPV4:PORT/ (a loopback server)\n", url);
		return -1;
	}
	/* the session signature's serverName: host:port as the URL says */
	snprintf(name, 160, "%s:%d", host, *port);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: chat-load -u ws://127.0.0.1:PORT/ [-U ws://127.0.0.1:PORT2/]\n"
		"                 -m pairs|group|drain|idle\n"
		"                 [-n PAIRS] [-c MESSAGES] [-w WINDOW] [-r RATE] [-t TEXT_BYTES]\n"
		"                 [-g MEMBERS] [-k LEVELS] [-a SOURCE_ADDRS] [-b BURST]\n"
		"                 [-P SERVER_PID] [-p PREFIX] [-T STALL_SECONDS] [-X] [-R]\n");
	exit(2);
}

/* The ciphertext of a text of text_len bytes: kind byte, padded to its bucket
 * (PROTOCOL.md, Padding), plus the tag. */
static size_t
ct_len_for(size_t text_len)
{
	size_t n = text_len + 1, bucket = 256;

	while (bucket < n + 1 && bucket < 65536)
		bucket *= 2;
	if (bucket < n + 1)
		bucket = 66544;
	return bucket + 16;
}

int
main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	const char *mode = NULL, *url = NULL, *url2 = NULL;
	long text = 64;
	int opt, rc = -1;
	unsigned char t[3];

	L.pairs = 32;
	L.msgs = 2000;
	L.window = 32;
	L.group = 100;
	L.burst = 200;
	L.addrs = 8;
	L.stall_s = 60;
	while ((opt = getopt(argc, argv, "u:U:m:n:c:w:r:t:g:k:a:b:P:p:T:XR")) != -1) {
		switch (opt) {
		case 'X': L.inject = 1; break;
		case 'R': L.receipts = 1; break;
		case 'u': url = optarg; break;
		case 'U': url2 = optarg; break;
		case 'm': mode = optarg; break;
		case 'n': L.pairs = bench_count("chat-load", optarg, 100000); break;
		case 'c': L.msgs = bench_count("chat-load", optarg, 100000000); break;
		case 'w': L.window = bench_count("chat-load", optarg, 100000); break;
		case 'r': L.rate = (double)bench_count("chat-load", optarg, 10000000); break;
		case 't': text = bench_count("chat-load", optarg, 65536); break;
		case 'g': L.group = bench_count("chat-load", optarg, 100); break;
		case 'k': levels_arg = optarg; break;
		case 'a': L.addrs = bench_count("chat-load", optarg, 250); break;
		case 'b': L.burst = bench_count("chat-load", optarg, 10000000); break;
		case 'P': L.server_pid = (pid_t)bench_count("chat-load", optarg, 1 << 30); break;
		case 'p': L.prefix = optarg; break;
		case 'T': L.stall_s = bench_count("chat-load", optarg, 3600); break;
		default: usage();
		}
	}
	if (url == NULL || mode == NULL || parse_url(url, L.host, &L.port, L.server_name) != 0 ||
	    (url2 != NULL && parse_url(url2, L.host2, &L.port2, L.server_name2) != 0))
		usage();
	if (strcmp(mode, "pairs") == 0)
		L.mode = PAIRS;
	else if (strcmp(mode, "group") == 0 && L.group >= 2)
		L.mode = GROUP;
	else if (strcmp(mode, "drain") == 0)
		L.mode = DRAIN;
	else if (strcmp(mode, "idle") == 0)
		L.mode = IDLE;
	else
		usage();
	if (L.prefix == NULL)
		L.prefix = mode;
	if (sodium_init() < 0) {
		fprintf(stderr, "chat-load: sodium_init failed\n");
		return 1;
	}
	if (L.mode == IDLE)
		raise_fd_limit(); /* before the context: lws sizes its tables from it */
	/* user names unique to this run, so that runs can share a server */
	randombytes_buf(t, sizeof t);
	sodium_bin2hex(L.tag, sizeof L.tag, t, sizeof t);
	L.ct_len = ct_len_for((size_t)text);
	L.ct = malloc(L.ct_len);
	if (L.ct == NULL)
		return 1;
	randombytes_buf(L.ct, L.ct_len);
	L.rct = malloc(66560);
	if (L.rct == NULL)
		return 1;
	randombytes_buf(L.rct, 66560);

	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	L.ctx = lws_create_context(&info);
	if (L.ctx == NULL) {
		fprintf(stderr, "chat-load: cannot create the libwebsockets context\n");
		return 1;
	}
	lws_sul_schedule(L.ctx, 0, &tick, on_tick, 1000);
	switch (L.mode) {
	case PAIRS: rc = mode_pairs(); break;
	case GROUP: rc = mode_group(); break;
	case DRAIN: rc = mode_drain(); break;
	case IDLE: rc = mode_idle(); break;
	}
	lws_sul_cancel(&tick);
	for (size_t i = 0; i < L.ndevs; i++)
		if (L.devs[i]->conn && L.devs[i]->conn->wsi)
			L.devs[i]->conn->closing = 1;
	lws_context_destroy(L.ctx);
	for (size_t i = 0; i < L.ndevs; i++) {
		conn_free(L.devs[i]->conn);
		sodium_memzero(L.devs[i]->ik_sk, sizeof L.devs[i]->ik_sk);
		free(L.devs[i]);
	}
	free(L.devs);
	free(L.ct);
	free(L.rct);
	free(L.lat);
	free(L.last_t);
	free(L.last_n);
	if (L.violations > 0) {
		printf("%s.void 1\n", L.prefix);
		fprintf(stderr,
			"chat-load: %s: VOID: %llu violations of exactly-once/in-order: %s\n",
			L.prefix, (unsigned long long)L.violations, L.void_why);
		return 3;
	}
	return rc == 0 && !L.failed ? 0 : 1;
}
