/*
 * wire_rate.c - rate limits (PROTOCOL.md, "Rate limits"): token buckets of
 * requests and of bytes, per connection until auth and per device after it,
 * refilled from the monotonic clock; the gate that keeps a connection's
 * requests in order; and the rate_limited reply.  wire_handle asks the gate
 * before it runs a request.
 */
#include "wire_req.h"

#include <stdio.h>

void
rate_refill(struct rate_bucket *b, double rate, double burst, int64_t now_us)
{
	if (!b->started) {
		b->started = 1;
		b->tokens = burst;
		b->last_us = now_us;
		return;
	}
	if (now_us > b->last_us) {
		b->tokens += (double)(now_us - b->last_us) * rate / 1e6;
		if (b->tokens > burst)
			b->tokens = burst;
	}
	b->last_us = now_us;
}

int64_t
rate_wait_ms(const struct rate_bucket *b, double rate)
{
	double ms;

	if (b->tokens >= 1.0 || rate <= 0)
		return 0;
	ms = (1.0 - b->tokens) * 1000.0 / rate;
	if (ms > 1e12)
		ms = 1e12;
	return ms < 1.0 ? 1 : (int64_t)ms + ((double)(int64_t)ms < ms);
}

void
wire_rate_refill(const struct wire_hooks *h, struct rate_pair *p, int64_t now_us)
{
	if (h->rate > 0)
		rate_refill(&p->requests, h->rate, h->rate * WIRE_RATE_BURST, now_us);
	if (h->rate_bytes > 0)
		rate_refill(&p->bytes, h->rate_bytes, h->rate_bytes * WIRE_RATE_BYTES_BURST,
			    now_us);
}

int
wire_rate_full(const struct wire_hooks *h, const struct rate_pair *p)
{
	return (h->rate <= 0 || !p->requests.started ||
		p->requests.tokens >= h->rate * WIRE_RATE_BURST) &&
	       (h->rate_bytes <= 0 || !p->bytes.started ||
		p->bytes.tokens >= h->rate_bytes * WIRE_RATE_BYTES_BURST);
}

int64_t
wire_rate_check(const struct wire_hooks *h, struct session *s, size_t len, int64_t now_us)
{
	struct rate_pair *p = s->rate != NULL ? s->rate : &s->own;
	int64_t wait = 0, w;

	if (h->rate <= 0 && h->rate_bytes <= 0)
		return 0;
	/* A frame is let in while the bytes bucket holds a token, and then
	 * costs all its bytes: a frame larger than the burst still passes,
	 * and the debt holds the long-run rate. */
	wire_rate_refill(h, p, now_us);
	if (h->rate > 0)
		wait = rate_wait_ms(&p->requests, h->rate);
	if (h->rate_bytes > 0 && (w = rate_wait_ms(&p->bytes, h->rate_bytes)) > wait)
		wait = w;
	if (wait > 0)
		return wait;
	if (h->rate > 0)
		p->requests.tokens -= 1.0;
	if (h->rate_bytes > 0)
		p->bytes.tokens -= (double)len;
	return 0;
}

/*
 * Rate limits keep a connection's requests in their order: once a request is
 * refused, every request behind it (a larger id: clients number them as they
 * send) is refused too, tokens or not, until the refused one comes again and
 * is taken. Holding for the time named would not do: a request sent behind
 * the refused one but arriving after that time would be taken before it, and
 * two sends would be numbered out of order. A client that never sends the
 * refused request again is let go after WIRE_RATE_HOLD_MAX_US.
 */
#define WIRE_RATE_HOLD_MAX_US (30 * 1000000LL)

int64_t
wire_rate_gate(const struct wire_hooks *h, struct session *s, int has_id, int64_t id, size_t len,
	       int64_t now_us)
{
	int64_t wait;

	if (s->rate_hold_id > 0 && now_us - s->rate_hold_since_us > WIRE_RATE_HOLD_MAX_US)
		s->rate_hold_id = 0;
	if (s->rate_hold_id > 0 && (!has_id || id > s->rate_hold_id))
		return s->rate_hold_us > now_us ? (s->rate_hold_us - now_us + 999) / 1000 : 1;
	if ((wait = wire_rate_check(h, s, len, now_us)) > 0) {
		if (has_id && (s->rate_hold_id == 0 || id < s->rate_hold_id)) {
			s->rate_hold_id = id;
			s->rate_hold_since_us = now_us;
		}
		s->rate_hold_us = now_us + wait * 1000;
		return wait;
	}
	if (has_id && id == s->rate_hold_id)
		s->rate_hold_id = 0;
	return 0;
}

/* The rate_limited reply; one log line per second per connection at most. */
char *
wire_rate_limited(struct req *r, int64_t wait_ms, int64_t now_us)
{
	cJSON *extra = cJSON_CreateObject();
	char msg[80], dev[PROTO_USER_MAX + 16];
	struct session *s = r->s;

	s->rate_refused++;
	if (s->rate_logged_us == 0 || now_us - s->rate_logged_us >= 1000000) {
		srv_log("conn %llu rate limited device=%s: %llu requests refused",
			(unsigned long long)s->conn_id, wire_session_device(s, dev, sizeof dev),
			(unsigned long long)s->rate_refused);
		s->rate_logged_us = now_us;
		s->rate_refused = 0;
	}
	snprintf(msg, sizeof msg, "too many requests; retry in %lld ms", (long long)wait_ms);
	if (extra != NULL &&
	    cJSON_AddNumberToObject(extra, "retryAfterMs", (double)wait_ms) == NULL) {
		cJSON_Delete(extra);
		extra = NULL;
	}
	if (extra == NULL) /* the reply is still a rate_limited error */
		extra = cJSON_CreateObject();
	return wire_error_frame(s, r->has_id, r->id, "rate_limited", msg, extra, 0);
}
