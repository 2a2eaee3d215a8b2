/*
 * bus.c - routing between chat-server instances over Redis (--bus; the
 * interface is bus.h, the messages bus_msg.h, what it promises to users
 * docs/cluster-routing.md).
 *
 * Several instances share one store (the database); the store is the
 * truth, the bus only says where to look.  An instance that commits inbox
 * rows for a device it holds no connection of publishes "wake" on the
 * device's channel, chat:d:<user>:<device>; the instance that holds the
 * device's connection subscribes to that channel and, on a wake, loads the
 * inbox from the store past its cursor exactly as for a local send.  So a
 * lost message only delays delivery, never loses or repeats a row: the
 * next wake, a resubscription, or the safety poll (every --bus-poll
 * seconds, 10 by default, every connected device's inbox is loaded) finds
 * the rows.  The bound on the delay a lost wake costs is the poll
 * interval; a wake that arrives costs a Redis round trip (well under a
 * millisecond on one LAN).
 *
 * Publishing happens only after the batch's COMMIT (server_bus.c holds
 * what a batch wants published until then, and drops it on a ROLLBACK), so
 * a wake never makes another instance look before the rows are there.
 * The window between a connection's first load of its inbox (at auth) and
 * its channel's subscription is closed by loading again once Redis
 * confirms the subscription (BUS_EV_SUBSCRIBED): whatever was committed
 * before the subscription is found by that load, whatever after it is
 * woken.
 *
 * The other messages: takeover (a receiving connection of the device
 * authenticated on another instance: the older one closes with 4001
 * "replaced", as two connections on one instance do; ties by the
 * instances' nonces, so exactly one survives as long as the instances'
 * clocks agree to the millisecond order of two logins), removed (the
 * device was removed: its connections close with 4002), eph (a typing
 * push), push (a push to every device of a user, on chat:u:<user>).  An
 * instance ignores what it published itself (its nonce, drawn at start).
 *
 * Presence: while a device has a receiving connection, the key
 * chat:o:<user>:<device> holds the instance's nonce, SET with EX 60 and
 * refreshed every 20 s, deleted (if still ours) when it closes; an
 * instance that crashed leaves keys that expire within a minute.  "Is the
 * user online" asks Redis only when no device of the user is connected
 * here, on a connection of its own with a 100 ms timeout.
 *
 * Threads: the service thread never waits on Redis but for that question.
 * Its calls (bus_watch, bus_publish, ...) go on a queue under a mutex and
 * wake the bus thread through an eventfd; the bus thread owns two Redis
 * connections, one subscribed (it reads what arrives) and one for the
 * commands (PUBLISH, SET, the refresh, pipelined), and keeps what is
 * subscribed and who is online, to set it all up again after Redis comes
 * back.  What arrives goes on a second queue (bounded: past
 * BUS_EVENTS_MAX, events are dropped and every device reloaded instead),
 * and the bus thread wakes the service thread (lws_cancel_service) to take
 * it.  Its log lines travel on that queue too, as srv_log is the service
 * thread's.  Redis down: the bus thread tries again with a backoff from
 * 100 ms to 2 s, and logs once when it goes down and once when it is back.
 */
#include "bus.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "analyzer.h"
#include "proto.h"
#include "util.h"

/* Events waiting for the service thread, at most. */
#define BUS_EVENTS_MAX 65536
/* Reconnecting: the first wait and the longest, in ms. */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
/* Connecting and each command of the bus thread, at most. */
#define CONNECT_TIMEOUT_MS 1000
#define COMMAND_TIMEOUT_MS 2000

/* Delete the online key only if it is still this instance's (a device that
 * moved to another instance has that one's nonce there now). */
static const char del_if_ours[] =
	"if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end "
	"return 0";

enum cmd_op { C_WATCH, C_UNWATCH, C_ONLINE, C_OFFLINE, C_PUBLISH };

/* A call of the service thread, for the bus thread. */
struct cmd {
	struct cmd *next;
	enum cmd_op op;
	char user[PROTO_USER_MAX + 1];
	uint32_t device_id;
	char *payload; /* C_PUBLISH: the message */
};

struct evnode {
	struct evnode *next;
	struct bus_event ev;
};

/* A subscribed channel: a device's (refs 1) or a user's (refs: its devices
 * watched here); a device's is online while it has a receiving
 * connection here. */
struct chan {
	struct chan *next;
	int refs;
	int online;
	char name[BUS_CHANNEL_MAX + 1];
};

struct bus {
	char host[256];
	int port, db;
	char nonce[BUS_NONCE_LEN + 1];
	void (*wake)(void *);
	void *wake_arg;
	pthread_t thread;
	int evfd;

	/* Shared, under lock. */
	pthread_mutex_t lock;
	int stopping;
	struct cmd *cmds, **cmds_tail;
	struct evnode *evs, **evs_tail;
	size_t n_evs;
	int overflow;
	int up_shared; /* up, for bus_is_up */

	/* The bus thread's. */
	redisContext *sub, *pub;
	int up;
	int was_up; /* for the log: -1 at start */
	int64_t backoff_ms, retry_at_ms, refresh_at_ms;
	struct chan **tab;
	size_t n_tab, n_chans;

	/* The service thread's. */
	redisContext *query;
	int64_t query_retry_ms;
};

static int64_t
now_ms(void)
{
	return util_mono_us() / 1000;
}

static struct timeval
tv_ms(int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

	return tv;
}

/* ---- the URL -------------------------------------------------------------- */

int
bus_parse_url(const char *url, char *host, size_t cap, int *port, int *db)
{
	const char *h, *colon, *end, *p;
	size_t hlen;
	long v;

	if (strncmp(url, "redis://", 8) != 0)
		return -1;
	h = url + 8;
	end = strchr(h, '/');
	if (end == NULL)
		end = h + strlen(h);
	if (*h == '[') {
		const char *close = memchr(h, ']', (size_t)(end - h));

		if (close == NULL || close[1] != ':')
			return -1;
		colon = close + 1;
		h++;
		hlen = (size_t)(close - h);
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		if (colon == NULL)
			return -1;
		hlen = (size_t)(colon - h);
		if (memchr(colon + 1, ':', (size_t)(end - colon - 1)) != NULL)
			return -1;
	}
	if (hlen == 0 || hlen >= cap || memchr(h, '@', hlen) != NULL)
		return -1;
	v = 0;
	for (p = colon + 1; p < end; p++) {
		if (*p < '0' || *p > '9' || p - colon > 5)
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (p == colon + 1 || v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	*db = 0;
	if (*end == '/' && end[1] != '\0') {
		v = 0;
		for (p = end + 1; *p; p++) {
			if (*p < '0' || *p > '9' || p - end > 2)
				return -1;
			v = v * 10 + (*p - '0');
		}
		if (v > 15)
			return -1;
		*db = (int)v;
	} else if (*end == '/' && end[1] == '\0') {
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	return 0;
}

/* ---- the queues ----------------------------------------------------------- */

/* Service thread: queue c for the bus thread and wake it. */
static void
cmd_push(struct bus *b, struct cmd *c)
{
	uint64_t one = 1;

	c->next = NULL;
	pthread_mutex_lock(&b->lock);
	*b->cmds_tail = c;
	b->cmds_tail = &c->next;
	pthread_mutex_unlock(&b->lock);
	if (write(b->evfd, &one, sizeof one) < 0 && errno != EAGAIN)
		srv_log("bus: cannot wake the bus thread: %s", strerror(errno));
}

static struct cmd *
cmd_new(enum cmd_op op, const char *user, uint32_t device_id)
{
	struct cmd *c = calloc(1, sizeof *c);

	if (c == NULL) {
		srv_log("bus: out of memory");
		return NULL;
	}
	c->op = op;
	snprintf(c->user, sizeof c->user, "%s", user);
	c->device_id = device_id;
	return c;
}

/* Bus thread: hand ev over (taken: its text too); the service thread is
 * woken once the pass is done (ev_flush). */
/* gcc -fanalyzer: no leak; n is on b->evs until bus_take or bus_stop
 * frees it (common/analyzer.h). */
ANALYZER_LEAK_FP_BEGIN
static void
ev_push(struct bus *b, struct bus_event *ev)
{
	struct evnode *n = NULL;

	pthread_mutex_lock(&b->lock);
	if (b->n_evs < BUS_EVENTS_MAX && (n = malloc(sizeof *n)) != NULL) {
		n->next = NULL;
		n->ev = *ev;
		if (ev->kind == BUS_EV_MSG && ev->text != NULL)
			n->ev.msg.frame = n->ev.text;
		*b->evs_tail = n;
		b->evs_tail = &n->next;
		b->n_evs++;
	} else {
		b->overflow = 1;
	}
	pthread_mutex_unlock(&b->lock);
	if (n == NULL)
		free(ev->text);
}
ANALYZER_LEAK_FP_END

static void blog(struct bus *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
blog(struct bus *b, const char *fmt, ...)
{
	struct bus_event ev = {.kind = BUS_EV_LOG};
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if ((ev.text = strdup(line)) != NULL)
		ev_push(b, &ev);
}

int
bus_take(struct bus *b, struct bus_event *ev)
{
	struct evnode *n;
	int got = 0;

	pthread_mutex_lock(&b->lock);
	n = b->evs;
	if (n != NULL) {
		b->evs = n->next;
		if (b->evs == NULL)
			b->evs_tail = &b->evs;
		b->n_evs--;
		*ev = n->ev;
		got = 1;
	} else if (b->overflow) {
		b->overflow = 0;
		memset(ev, 0, sizeof *ev);
		ev->kind = BUS_EV_RELOAD_ALL;
		got = 1;
	}
	pthread_mutex_unlock(&b->lock);
	free(n);
	return got;
}

void
bus_event_free(struct bus_event *ev)
{
	free(ev->text);
	ev->text = NULL;
	ev->msg.frame = NULL;
}

/* ---- the channels (bus thread) -------------------------------------------- */

static uint32_t
hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static struct chan **
chan_slot(struct bus *b, const char *name)
{
	struct chan **p = &b->tab[hash_str(name) & (b->n_tab - 1)];

	while (*p != NULL && strcmp((*p)->name, name) != 0)
		p = &(*p)->next;
	return p;
}

/* Double the table when it is as full as it is long: 0, or -1. */
static int
chan_grow(struct bus *b)
{
	size_t n = b->n_tab * 2;
	struct chan **t;

	if (b->n_chans < b->n_tab)
		return 0;
	if ((t = calloc(n, sizeof *t)) == NULL)
		return -1;
	for (size_t i = 0; i < b->n_tab; i++) {
		struct chan *c = b->tab[i], *next;

		for (; c != NULL; c = next) {
			next = c->next;
			c->next = t[hash_str(c->name) & (n - 1)];
			t[hash_str(c->name) & (n - 1)] = c;
		}
	}
	free(b->tab);
	b->tab = t;
	b->n_tab = n;
	return 0;
}

/* ---- talking to Redis (bus thread) ---------------------------------------- */

static void
set_up(struct bus *b, int up)
{
	pthread_mutex_lock(&b->lock);
	b->up_shared = up;
	pthread_mutex_unlock(&b->lock);
}

int
bus_is_up(struct bus *b)
{
	int up;

	pthread_mutex_lock(&b->lock);
	up = b->up_shared;
	pthread_mutex_unlock(&b->lock);
	return up;
}

static void
go_down(struct bus *b, const char *reason)
{
	char why[160];

	/* reason may be a context's errstr, freed here. */
	snprintf(why, sizeof why, "%s", reason);
	if (b->sub != NULL)
		redisFree(b->sub);
	if (b->pub != NULL)
		redisFree(b->pub);
	b->sub = b->pub = NULL;
	b->up = 0;
	set_up(b, 0);
	if (b->was_up != 0)
		blog(b,
		     "bus: redis %s:%d unreachable (%s); delivery goes on from the store "
		     "(--bus-poll), trying again",
		     b->host, b->port, why);
	b->was_up = 0;
	b->retry_at_ms = now_ms() + b->backoff_ms;
	b->backoff_ms = b->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b->backoff_ms * 2;
}

/* Read the replies of n pipelined commands on pub: 0, or -1 (gone down). */
static int
pub_replies(struct bus *b, int n)
{
	for (int i = 0; i < n; i++) {
		void *r = NULL;

		if (redisGetReply(b->pub, &r) != REDIS_OK || r == NULL) {
			go_down(b, b->pub->errstr[0] ? b->pub->errstr : "no reply");
			return -1;
		}
		if (((redisReply *)r)->type == REDIS_REPLY_ERROR)
			blog(b, "bus: redis refused a command: %.200s", ((redisReply *)r)->str);
		freeReplyObject(r);
	}
	return 0;
}

/* Write what was appended to sub: 0, or -1 (gone down). */
static int
sub_flush(struct bus *b)
{
	int done = 0;

	while (!done)
		if (redisBufferWrite(b->sub, &done) != REDIS_OK) {
			go_down(b, b->sub->errstr);
			return -1;
		}
	return 0;
}

static void
online_key(char *key, const char *chan)
{
	/* chat:d:<user>:<device> -> chat:o:<user>:<device> */
	snprintf(key, BUS_CHANNEL_MAX + 1, "%s", chan);
	key[5] = 'o';
}

/* Append the online key's SET (or its guarded DEL) to pub. */
static int
append_online(struct bus *b, const struct chan *c, int on)
{
	char key[BUS_CHANNEL_MAX + 1], ttl[16];

	online_key(key, c->name);
	snprintf(ttl, sizeof ttl, "%d", BUS_ONLINE_TTL_S);
	if (on)
		return redisAppendCommand(b->pub, "SET %s %s EX %s", key, b->nonce, ttl);
	return redisAppendCommand(b->pub, "EVAL %s 1 %s %s", del_if_ours, key, b->nonce);
}

static int
select_db(struct bus *b, redisContext *c)
{
	redisReply *r;
	int ok;

	if (b->db == 0)
		return 0;
	r = redisCommand(c, "SELECT %d", b->db);
	ok = r != NULL && r->type == REDIS_REPLY_STATUS;
	if (r != NULL)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

/* Connect both, subscribe every channel, set every online key. */
static void
go_up(struct bus *b)
{
	int n_pub = 0, n_sub = 0;

	b->sub = redisConnectWithTimeout(b->host, b->port, tv_ms(CONNECT_TIMEOUT_MS));
	b->pub = redisConnectWithTimeout(b->host, b->port, tv_ms(CONNECT_TIMEOUT_MS));
	if (b->sub == NULL || b->pub == NULL || b->sub->err || b->pub->err) {
		go_down(b, b->sub == NULL || b->pub == NULL ? "out of memory"
			   : b->sub->err                    ? b->sub->errstr
							    : b->pub->errstr);
		return;
	}
	if (redisSetTimeout(b->sub, tv_ms(COMMAND_TIMEOUT_MS)) != REDIS_OK ||
	    redisSetTimeout(b->pub, tv_ms(COMMAND_TIMEOUT_MS)) != REDIS_OK ||
	    redisEnableKeepAlive(b->sub) != REDIS_OK || select_db(b, b->sub) != 0 ||
	    select_db(b, b->pub) != 0) {
		go_down(b, "cannot set the connection up (SELECT refused?)");
		return;
	}
	for (size_t i = 0; i < b->n_tab; i++)
		for (struct chan *c = b->tab[i]; c != NULL; c = c->next) {
			if (redisAppendCommand(b->sub, "SUBSCRIBE %s", c->name) != REDIS_OK)
				break;
			n_sub++;
			if (c->online && append_online(b, c, 1) == REDIS_OK)
				n_pub++;
		}
	if (sub_flush(b) != 0 || pub_replies(b, n_pub) != 0)
		return;
	b->up = 1;
	set_up(b, 1);
	b->backoff_ms = BACKOFF_MIN_MS;
	b->refresh_at_ms = now_ms() + BUS_ONLINE_REFRESH_S * 1000;
	blog(b, "bus: %s redis %s:%d db %d, nonce %s, %d channels",
	     b->was_up < 0 ? "on" : "back on", b->host, b->port, b->db, b->nonce, n_sub);
	b->was_up = 1;
}

/* Every online key again, before it expires. */
static void
refresh(struct bus *b)
{
	int n = 0;

	b->refresh_at_ms = now_ms() + BUS_ONLINE_REFRESH_S * 1000;
	for (size_t i = 0; i < b->n_tab; i++)
		for (struct chan *c = b->tab[i]; c != NULL; c = c->next)
			if (c->online && append_online(b, c, 1) == REDIS_OK)
				n++;
	(void)pub_replies(b, n);
}

/* ---- the service thread's calls, applied (bus thread) --------------------- */

/* One more reference to the channel (made if new, and subscribed): 0, or
 * -1 when out of memory. *n_sub counts SUBSCRIBEs appended. */
/* gcc -fanalyzer: no leak; c is in b->tab until chan_unref or bus_stop
 * frees it (common/analyzer.h). */
ANALYZER_LEAK_FP_BEGIN
static int
chan_ref(struct bus *b, const char *name, int *n_sub)
{
	struct chan **p = chan_slot(b, name), *c;

	if (*p != NULL) {
		(*p)->refs++;
		return 0;
	}
	if ((c = calloc(1, sizeof *c)) == NULL)
		return -1;
	snprintf(c->name, sizeof c->name, "%s", name);
	c->refs = 1;
	*p = c;
	b->n_chans++;
	if (b->up && redisAppendCommand(b->sub, "SUBSCRIBE %s", name) == REDIS_OK)
		(*n_sub)++;
	if (chan_grow(b) != 0)
		blog(b, "bus: out of memory growing the channel table");
	return 0;
}
ANALYZER_LEAK_FP_END

/* gcc -fanalyzer: no leak; what stays in b->tab is freed by chan_unref
 * or bus_stop (common/analyzer.h). */
ANALYZER_LEAK_FP_BEGIN
static void
chan_unref(struct bus *b, const char *name, int *n_sub, int *n_pub)
{
	struct chan **p = chan_slot(b, name), *c = *p;

	if (c == NULL || --c->refs > 0)
		return;
	if (b->up && c->online && append_online(b, c, 0) == REDIS_OK)
		(*n_pub)++;
	if (b->up && redisAppendCommand(b->sub, "UNSUBSCRIBE %s", name) == REDIS_OK)
		(*n_sub)++;
	*p = c->next;
	free(c);
	b->n_chans--;
}
ANALYZER_LEAK_FP_END

/* gcc -fanalyzer: no leak; as chan_ref (common/analyzer.h). */
ANALYZER_LEAK_FP_BEGIN
static void
apply(struct bus *b, struct cmd *c, int *n_sub, int *n_pub)
{
	char dev[BUS_CHANNEL_MAX + 1], user[BUS_CHANNEL_MAX + 1];
	struct chan *ch;

	if (c->op == C_PUBLISH) {
		/* Nothing to send it on: dropped (the store and the poll are
		 * the backstop). */
		if (b->up && bus_channel_name(dev, sizeof dev, c->user, c->device_id) == 0 &&
		    redisAppendCommand(b->pub, "PUBLISH %s %s", dev, c->payload) == REDIS_OK)
			(*n_pub)++;
		return;
	}
	if (bus_channel_name(dev, sizeof dev, c->user, c->device_id) != 0 ||
	    bus_channel_name(user, sizeof user, c->user, 0) != 0)
		return;
	switch (c->op) {
	case C_WATCH:
		if (chan_ref(b, dev, n_sub) != 0 || chan_ref(b, user, n_sub) != 0)
			blog(b, "bus: out of memory for the channels of %s", dev);
		break;
	case C_UNWATCH:
		chan_unref(b, dev, n_sub, n_pub);
		chan_unref(b, user, n_sub, n_pub);
		break;
	case C_ONLINE:
	case C_OFFLINE:
		if ((ch = *chan_slot(b, dev)) == NULL || ch->online == (c->op == C_ONLINE))
			break;
		ch->online = c->op == C_ONLINE;
		if (b->up && append_online(b, ch, ch->online) == REDIS_OK)
			(*n_pub)++;
		break;
	default: break;
	}
}
ANALYZER_LEAK_FP_END

/* Take the service thread's calls and apply them in order. */
static void
run_cmds(struct bus *b)
{
	struct cmd *list, *next;
	int n_sub = 0, n_pub = 0;

	pthread_mutex_lock(&b->lock);
	list = b->cmds;
	b->cmds = NULL;
	b->cmds_tail = &b->cmds;
	pthread_mutex_unlock(&b->lock);
	for (; list != NULL; list = next) {
		next = list->next;
		apply(b, list, &n_sub, &n_pub);
		free(list->payload);
		free(list);
	}
	if (b->up && n_sub > 0 && sub_flush(b) != 0)
		return;
	if (b->up)
		(void)pub_replies(b, n_pub);
}

/* ---- what arrives (bus thread) -------------------------------------------- */

static void
on_message(struct bus *b, const redisReply *chan, const redisReply *payload)
{
	struct bus_event ev = {.kind = BUS_EV_MSG};

	if (chan->type != REDIS_REPLY_STRING || payload->type != REDIS_REPLY_STRING ||
	    bus_channel_parse(chan->str, chan->len, &ev.chan) != 0 ||
	    bus_msg_parse(payload->str, payload->len, &ev.msg) != 0) {
		blog(b, "bus: a message that is not ours on %.60s, dropped",
		     chan->type == REDIS_REPLY_STRING ? chan->str : "?");
		return;
	}
	if (strcmp(ev.msg.nonce, b->nonce) == 0)
		return; /* our own */
	if (ev.msg.frame != NULL) {
		if ((ev.text = malloc(ev.msg.frame_len + 1)) == NULL) {
			blog(b, "bus: out of memory for a message");
			return;
		}
		memcpy(ev.text, ev.msg.frame, ev.msg.frame_len);
		ev.text[ev.msg.frame_len] = '\0';
	}
	ev.msg.frame = NULL;
	ev_push(b, &ev);
}

static void
on_reply(struct bus *b, const redisReply *r)
{
	struct bus_event ev = {.kind = BUS_EV_SUBSCRIBED};
	const redisReply *k;

	if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
	    (k = r->element[0])->type != REDIS_REPLY_STRING)
		return;
	if (strcmp(k->str, "message") == 0) {
		on_message(b, r->element[1], r->element[2]);
	} else if (strcmp(k->str, "subscribe") == 0 && r->element[1]->type == REDIS_REPLY_STRING &&
		   bus_channel_parse(r->element[1]->str, r->element[1]->len, &ev.chan) == 0 &&
		   ev.chan.device_id > 0) {
		ev_push(b, &ev);
	}
}

static void
read_sub(struct bus *b)
{
	void *r;

	if (redisBufferRead(b->sub) != REDIS_OK) {
		go_down(b, b->sub->errstr[0] ? b->sub->errstr : "connection closed");
		return;
	}
	for (;;) {
		r = NULL;
		if (redisGetReplyFromReader(b->sub, &r) != REDIS_OK) {
			go_down(b, b->sub->errstr);
			return;
		}
		if (r == NULL)
			return;
		on_reply(b, r);
		freeReplyObject(r);
	}
}

/* ---- the thread ------------------------------------------------------------ */

static int
stopping(struct bus *b)
{
	int s;

	pthread_mutex_lock(&b->lock);
	s = b->stopping;
	pthread_mutex_unlock(&b->lock);
	return s;
}

/* Wake the service thread if events wait for it.  Under the lock, so
 * that bus_quiet can make sure no wake comes after it. */
static void
wake_service(struct bus *b)
{
	pthread_mutex_lock(&b->lock);
	if ((b->evs != NULL || b->overflow) && b->wake != NULL)
		b->wake(b->wake_arg);
	pthread_mutex_unlock(&b->lock);
}

void
bus_quiet(struct bus *b)
{
	pthread_mutex_lock(&b->lock);
	b->wake = NULL;
	pthread_mutex_unlock(&b->lock);
}

static void *
bus_main(void *arg)
{
	struct bus *b = arg;

	while (!stopping(b)) {
		struct pollfd fds[2] = {{.fd = b->evfd, .events = POLLIN}, {.fd = -1}};
		int64_t now = now_ms(), until;
		uint64_t n;

		if (!b->up && now >= b->retry_at_ms)
			go_up(b);
		until = b->up ? b->refresh_at_ms : b->retry_at_ms;
		if (b->up) {
			fds[1].fd = b->sub->fd;
			fds[1].events = POLLIN;
		}
		wake_service(b);
		now = now_ms();
		if (poll(fds, 2, until > now ? (int)(until - now) : 0) < 0 && errno != EINTR)
			break;
		if (fds[0].revents & POLLIN)
			(void)!read(b->evfd, &n, sizeof n);
		run_cmds(b);
		if (b->up && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
			read_sub(b);
		if (b->up && now_ms() >= b->refresh_at_ms)
			refresh(b);
	}
	return NULL;
}

struct bus *
bus_start(const char *url, const char *nonce, void (*wake)(void *), void *wake_arg, char *err,
	  size_t cap)
{
	struct bus *b = calloc(1, sizeof *b);

	if (b == NULL) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	if (bus_parse_url(url, b->host, sizeof b->host, &b->port, &b->db) != 0) {
		snprintf(err, cap, "--bus: '%s' is not redis://HOST:PORT[/DB] (DB from 0 to 15)",
			 url);
		free(b);
		return NULL;
	}
	snprintf(b->nonce, sizeof b->nonce, "%s", nonce);
	b->wake = wake;
	b->wake_arg = wake_arg;
	b->cmds_tail = &b->cmds;
	b->evs_tail = &b->evs;
	b->was_up = -1;
	b->backoff_ms = BACKOFF_MIN_MS;
	b->n_tab = 64;
	b->tab = calloc(b->n_tab, sizeof *b->tab);
	b->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->tab == NULL || b->evfd < 0 || pthread_mutex_init(&b->lock, NULL) != 0) {
		snprintf(err, cap, "cannot set the bus up: %s", strerror(errno));
		if (b->evfd >= 0)
			close(b->evfd);
		free(b->tab);
		free(b);
		return NULL;
	}
	if (pthread_create(&b->thread, NULL, bus_main, b) != 0) {
		snprintf(err, cap, "cannot start the bus thread");
		pthread_mutex_destroy(&b->lock);
		close(b->evfd);
		free(b->tab);
		free(b);
		return NULL;
	}
	return b;
}

void
bus_stop(struct bus *b)
{
	struct bus_event ev;
	struct cmd *c, *next;
	uint64_t one = 1;

	if (b == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	b->stopping = 1;
	pthread_mutex_unlock(&b->lock);
	(void)!write(b->evfd, &one, sizeof one);
	pthread_join(b->thread, NULL);
	/* What the last connections' closes asked, then our online keys go
	 * now rather than in a minute. */
	if (b->up)
		run_cmds(b);
	if (b->up) {
		int n = 0;

		for (size_t i = 0; i < b->n_tab; i++)
			for (struct chan *ch = b->tab[i]; ch != NULL; ch = ch->next)
				if (ch->online && append_online(b, ch, 0) == REDIS_OK)
					n++;
		(void)pub_replies(b, n);
	}
	if (b->sub != NULL)
		redisFree(b->sub);
	if (b->pub != NULL)
		redisFree(b->pub);
	if (b->query != NULL)
		redisFree(b->query);
	while (bus_take(b, &ev)) {
		if (ev.kind == BUS_EV_LOG)
			srv_log("%s", ev.text);
		bus_event_free(&ev);
	}
	for (c = b->cmds; c != NULL; c = next) {
		next = c->next;
		free(c->payload);
		free(c);
	}
	for (size_t i = 0; i < b->n_tab; i++) {
		struct chan *ch, *nx;

		for (ch = b->tab[i]; ch != NULL; ch = nx) {
			nx = ch->next;
			free(ch);
		}
	}
	free(b->tab);
	close(b->evfd);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* ---- the service thread's calls -------------------------------------------- */

void
bus_watch(struct bus *b, const char *user, uint32_t device_id)
{
	struct cmd *c = cmd_new(C_WATCH, user, device_id);

	if (c != NULL)
		cmd_push(b, c);
}

void
bus_unwatch(struct bus *b, const char *user, uint32_t device_id)
{
	struct cmd *c = cmd_new(C_UNWATCH, user, device_id);

	if (c != NULL)
		cmd_push(b, c);
}

void
bus_online(struct bus *b, const char *user, uint32_t device_id, int on)
{
	struct cmd *c = cmd_new(on ? C_ONLINE : C_OFFLINE, user, device_id);

	if (c != NULL)
		cmd_push(b, c);
}

void
bus_publish(struct bus *b, const char *user, uint32_t device_id, struct bus_msg *m)
{
	struct cmd *c = cmd_new(C_PUBLISH, user, device_id);

	if (c == NULL)
		return;
	memcpy(m->nonce, b->nonce, sizeof m->nonce);
	if ((c->payload = bus_msg_format(m)) == NULL) {
		srv_log("bus: cannot publish to %s/%u (out of memory, or too long)", user,
			(unsigned)device_id);
		free(c);
		return;
	}
	cmd_push(b, c);
}

const char *
bus_nonce(const struct bus *b)
{
	return b->nonce;
}

/* The service thread's own connection, for bus_online_query: NULL (and no
 * new try for BUS_QUERY_BACKOFF_MS) if Redis cannot be reached. */
static redisContext *
query_conn(struct bus *b)
{
	if (b->query != NULL)
		return b->query;
	if (now_ms() < b->query_retry_ms)
		return NULL;
	b->query = redisConnectWithTimeout(b->host, b->port, tv_ms(BUS_QUERY_TIMEOUT_MS));
	if (b->query == NULL || b->query->err ||
	    redisSetTimeout(b->query, tv_ms(BUS_QUERY_TIMEOUT_MS)) != REDIS_OK ||
	    select_db(b, b->query) != 0) {
		if (b->query != NULL)
			redisFree(b->query);
		b->query = NULL;
		b->query_retry_ms = now_ms() + BUS_QUERY_BACKOFF_MS;
	}
	return b->query;
}

int
bus_online_query(struct bus *b, const char *user, const uint32_t *devices, size_t n)
{
	char keys[PROTO_MAX_DEVICES][BUS_CHANNEL_MAX + 1];
	const char *argv[PROTO_MAX_DEVICES + 1];
	size_t argl[PROTO_MAX_DEVICES + 1];
	redisContext *q;
	redisReply *r;
	int online;

	if (n == 0)
		return 0;
	if (n > PROTO_MAX_DEVICES)
		n = PROTO_MAX_DEVICES;
	argv[0] = "EXISTS";
	argl[0] = 6;
	for (size_t i = 0; i < n; i++) {
		if (bus_channel_name(keys[i], sizeof keys[i], user, devices[i]) != 0)
			return -1;
		keys[i][5] = 'o';
		argv[i + 1] = keys[i];
		argl[i + 1] = strlen(keys[i]);
	}
	if ((q = query_conn(b)) == NULL)
		return -1;
	r = redisCommandArgv(q, (int)n + 1, argv, argl);
	if (r == NULL && q->err) {
		/* Redis went away since (a restart): once more, on a new
		 * connection, before this instance's answer stands. */
		redisFree(q);
		b->query = NULL;
		if ((q = query_conn(b)) == NULL)
			return -1;
		r = redisCommandArgv(q, (int)n + 1, argv, argl);
	}
	if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
		if (r != NULL)
			freeReplyObject(r);
		redisFree(b->query);
		b->query = NULL;
		b->query_retry_ms = now_ms() + BUS_QUERY_BACKOFF_MS;
		return -1;
	}
	online = r->integer > 0;
	freeReplyObject(r);
	return online;
}
