/*
 * server_limits.c - the limits the network side keeps, and its timers
 * (chat-server(8), LIMITS): the deadline to authenticate; the caps on
 * connections, in total and per address, and on registrations per address;
 * the limit on open files the caps follow from; and the retention purge,
 * run on a timer.  The limits of requests are the request layer's
 * (wire_rate.c) and the store's (db_limits.c).
 */
#include "server_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "blob.h"
#include "proto.h"

/* The registration bucket of an address: --register-rate a hour, all of it
 * at once at most. */
#define REGISTER_BURST(srv) ((srv)->register_rate * 3600.0)

/* ---- heartbeats and the authentication timeout ------------------------ */

/*
 * Each connection has one deadline in the server's timer wheel (wheel.h):
 * the next of its heartbeat's (a ping due, or the hangup) and, until it
 * authenticates, its auth deadline.  One lws timer advances the wheel, so
 * nothing is armed in lws's sorted timer list per connection, and nothing at
 * all per frame: a pong moves the node, in O(1).
 *
 * The heartbeat is PROTOCOL.md's, as lws's validity timer kept it before: a
 * ping when nothing confirmed the connection for the ping time, and the
 * connection dropped (no close frame, as lws did) when no pong came for the
 * hangup time.  Only a pong confirms it.
 */

static int64_t
mono_ms(void)
{
	return util_mono_us() / 1000;
}

static void conn_deadline(struct wheel *w, struct wheel_node *n, int64_t now_ms);

/* Arm c's node at the next of its deadlines. */
static void
arm_conn(struct server *srv, struct conn *c)
{
	int64_t valid_ms = c->valid_us / 1000;
	int64_t due = valid_ms + (c->ping_out ? srv->hangup_ms : srv->ping_ms);

	if (!c->sess.authed && c->auth_due_ms < due)
		due = c->auth_due_ms;
	wheel_arm(&srv->wheel, &c->timer, due, conn_deadline);
}

/*
 * A connection must authenticate within --auth-timeout (issue 10, item 11),
 * or it holds a socket for nothing. One waiting on a link request is waiting
 * for a person: it gets until the request expires, and the timeout again
 * after that for another request. 1 if c is closing for it.
 */
static int
auth_deadline(struct server *srv, struct conn *c, int64_t now_ms)
{
	int64_t now = proto_now_ms();

	if (c->sess.authed || now_ms < c->auth_due_ms)
		return 0;
	if (c->sess.link.pending && now < c->sess.link.expires_at) {
		c->auth_due_ms =
			now_ms + (c->sess.link.expires_at - now) / 1000 * 1000 +
			(int64_t)srv->auth_timeout_s * 1000;
		return 0;
	}
	srv_log("conn %llu closed: not authenticated within %d s",
		(unsigned long long)c->sess.conn_id, srv->auth_timeout_s);
	conn_close(c, PROTO_CLOSE_AUTH_TIMEOUT, "authentication timeout", 0);
	return 1;
}

static void
conn_deadline(struct wheel *w, struct wheel_node *n, int64_t now_ms)
{
	struct conn *c = lws_container_of(n, struct conn, timer);
	struct server *srv = lws_container_of(w, struct server, wheel);
	int64_t silent = now_ms - c->valid_us / 1000;

	/* Closing: lws's close timeout is the backstop from here. */
	if (c->wsi == NULL || c->close_code || auth_deadline(srv, c, now_ms))
		return;
	if (silent >= srv->hangup_ms) {
		/* Dropped at once, without a close frame: the peer is not
		 * there to read one. close_why() tells the log. */
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
		return;
	}
	if (silent >= srv->ping_ms && !c->ping_out) {
		c->ping_out = 1;
		c->ping_due = 1;
		lws_callback_on_writable(c->wsi);
	}
	arm_conn(srv, c);
}

void
limits_conn_open(struct server *srv, struct conn *c)
{
	/* The handshake is the first proof the connection works. */
	c->valid_us = util_mono_us();
	c->auth_due_ms = c->valid_us / 1000 + (int64_t)srv->auth_timeout_s * 1000;
	arm_conn(srv, c);
}

void
limits_conn_close(struct server *srv, struct conn *c)
{
	wheel_cancel(&srv->wheel, &c->timer);
}

void
limits_pong(struct server *srv, struct conn *c)
{
	c->valid_us = util_mono_us();
	c->ping_out = 0;
	if (c->wsi != NULL && !c->close_code)
		arm_conn(srv, c);
}

int
limits_write_ping(struct conn *c)
{
	static const char payload[] = "hb";
	unsigned char buf[LWS_PRE + sizeof payload];

	c->ping_due = 0;
	/* Not empty: lws tells us of a pong only if it carries something
	 * (libwebsockets 4.1, ops-ws.c); and text, as the pong echoes it and
	 * lws checks control payloads as UTF-8 (--validate-utf8 is on). */
	memcpy(buf + LWS_PRE, payload, sizeof payload - 1);
	if (lws_write(c->wsi, buf + LWS_PRE, sizeof payload - 1, LWS_WRITE_PING) < 0) {
		srv_log("conn %llu write failed", (unsigned long long)c->sess.conn_id);
		return -1;
	}
	return 0;
}

static void
tick(lws_sorted_usec_list_t *sul)
{
	struct server *srv = lws_container_of(sul, struct server, tick_sul);

	wheel_advance(&srv->wheel, mono_ms());
	lws_sul_schedule(srv->ctx, 0, &srv->tick_sul, tick, WHEEL_TICK_MS * LWS_US_PER_MS);
}

void
limits_timers_start(struct server *srv)
{
	wheel_init(&srv->wheel, mono_ms());
	lws_sul_schedule(srv->ctx, 0, &srv->tick_sul, tick, WHEEL_TICK_MS * LWS_US_PER_MS);
}

void
limits_timers_stop(struct server *srv)
{
	lws_sul_cancel(&srv->tick_sul);
}

/* ---- connection caps --------------------------------------------------- */

/* FILTER_NETWORK_CONNECTION: a socket just accepted, before lws adopts it.
 * Over a cap it is closed at once (lws closes it when we return -1), before
 * any TLS or HTTP: nothing is spent on it, and nothing is said to it. */
int
limits_admit(struct server *srv, const struct lws_filter_network_conn_args *a)
{
	static struct log_limit total_limit = {.rate = 1, .burst = 5},
				addr_limit = {.rate = 1, .burst = 5};
	char key[ADDR_KEY_MAX];
	struct addr_entry *e;

	addr_key((const struct sockaddr *)&a->cli_addr, a->clilen, key);
	if (srv->n_conns >= srv->max_conns) {
		srv_log_limited(&total_limit,
				"refused a connection from %s: %d connections open, the most "
				"allowed (--max-connections)",
				key, srv->n_conns);
		return -1;
	}
	e = addr_get(srv->addrs, key, 0);
	if (e != NULL && e->conns >= srv->max_per_addr) {
		srv_log_limited(&addr_limit,
				"refused a connection from %s: %d connections open from it, the "
				"most allowed (--max-connections-per-address)",
				key, e->conns);
		return -1;
	}
	return 0;
}

/* SERVER_NEW_CLIENT_INSTANTIATED: the socket is a connection now; count it
 * until WSI_DESTROY. The entry rides on the wsi (opaque user data, which
 * lws sets before this and leaves alone after). */
void
limits_count(struct server *srv, struct lws *wsi)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char key[ADDR_KEY_MAX] = "?";
	struct addr_entry *e;
	int fd = lws_get_socket_fd(wsi);

	if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		addr_key((struct sockaddr *)&ss, len, key);
	if ((e = addr_get(srv->addrs, key, 1)) == NULL)
		return; /* out of memory: uncounted, like a connection of old */
	e->conns++;
	srv->n_conns++;
	lws_set_opaque_user_data(wsi, e);
}

void
limits_uncount(struct server *srv, struct lws *wsi)
{
	struct addr_entry *e = lws_get_opaque_user_data(wsi);

	if (e == NULL)
		return;
	lws_set_opaque_user_data(wsi, NULL);
	e->conns--;
	srv->n_conns--;
	addr_release(srv->addrs, e, srv->register_rate, REGISTER_BURST(srv), util_mono_us());
}

/* register_wait hook: the registration bucket of the session's address. */
int64_t
limits_register_wait(void *udata, struct session *s, int take)
{
	struct server *srv = udata;
	struct addr_entry *e = s->peer[0] ? addr_get(srv->addrs, s->peer, 0) : NULL;

	/* No entry: the connection was not counted (out of memory); let it. */
	if (e == NULL || srv->register_rate <= 0)
		return 0;
	rate_refill(&e->reg, srv->register_rate, REGISTER_BURST(srv), util_mono_us());
	if (take) {
		e->reg.tokens -= 1.0;
		return 0;
	}
	return rate_wait_ms(&e->reg, srv->register_rate);
}

/* ---- retention --------------------------------------------------------- */

int64_t
server_purge_interval_ms(int64_t retention_ms)
{
	int64_t ms = retention_ms / 2;

	if (ms > 60 * 60 * 1000)
		ms = 60 * 60 * 1000;
	if (ms < 1000)
		ms = 1000;
	return ms;
}

/* The rows are gone (committed): the files follow. */
static void
unlink_blob(void *udata, const char *blob_id)
{
	struct server *srv = udata;
	char path[PATH_MAX];

	if (http_blob_file(srv, blob_id, "", path, sizeof path) == 0 && unlink(path) != 0 &&
	    errno != ENOENT)
		srv_log("retention: cannot delete %s: %s", path, strerror(errno));
}

/* Blobs no message refers to an hour after they were made, and those whose
 * last message the purge just took. */
static void
purge_blobs(struct server *srv)
{
	int64_t n;

	if (db_blob_purge(srv->db, proto_now_ms() - BLOB_ORPHAN_MS, unlink_blob, srv, &n) !=
	    DB_OK) {
		srv_log("retention: the blob purge failed; trying again later");
		return;
	}
	if (n > 0)
		srv_log("retention: deleted %lld blobs no message refers to", (long long)n);
}

/*
 * Temporary files of uploads a stop or a crash cut off: nothing refers to
 * them (their blobs stay pending).  Only those untouched for an hour: the
 * blob directory may be shared by the instances of a cluster (--blobs), and
 * a .part written to a moment ago is another instance's upload in progress,
 * which a restart here must not cut off.  Looked at when the server starts
 * and at each purge.
 */
static void
remove_stale_parts(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat sb;
	char path[PATH_MAX];
	int64_t now_s = proto_now_ms() / 1000;
	size_t n;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		n = strlen(e->d_name);
		if (n != PROTO_BLOB_ID_LEN + 5 ||
		    strcmp(e->d_name + PROTO_BLOB_ID_LEN, ".part") != 0)
			continue;
		if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
		    stat(path, &sb) != 0 || now_s - (int64_t)sb.st_mtime < BLOB_ORPHAN_MS / 1000)
			continue;
		if (unlink(path) == 0)
			srv_log("blob: deleted %s, an upload cut off earlier", e->d_name);
	}
	closedir(d);
}

static void
purge(struct server *srv)
{
	struct db_purge_result r;

	int64_t now = proto_now_ms();

	/* Not in a batch: the blob files it deletes cannot be rolled back. */
	server_batch_end(srv);
	/* Tombstones live a second retention period: past the first, no
	 * client's outbox still holds the message (libchat expires it). */
	if (db_purge(srv->db, now - srv->retention_ms, now - 2 * srv->retention_ms, &r) != DB_OK) {
		srv_log("retention: the purge failed; trying again later");
		return;
	}
	/* Addresses nothing counts any more (their registrations forgiven). */
	addr_sweep(srv->addrs, srv->register_rate, REGISTER_BURST(srv), util_mono_us());
	if (r.inbox_rows > 0 || r.messages > 0)
		srv_log("retention: deleted %lld inbox rows (%lld messages) older than %s",
			(long long)r.inbox_rows, (long long)r.messages, srv->retention_arg);
	purge_blobs(srv);
	remove_stale_parts(srv->blobs_dir);
}

/* Disappearing messages: their inbox rows go once past their expiry, on a
 * timer of its own (EXPIRE_INTERVAL_MS), far shorter than the purge's: the
 * query is a lookup on an index of the few messages that have one. */
#define EXPIRE_INTERVAL_MS 2000

static void
expire(struct server *srv)
{
	int64_t rows;

	server_batch_end(srv);
	if (db_expire(srv->db, proto_now_ms(), &rows) != DB_OK)
		srv_log("expiry: the sweep failed; trying again later");
	else if (rows > 0)
		srv_log("expiry: deleted %lld inbox rows of disappearing messages",
			(long long)rows);
}

static void
expire_timer(lws_sorted_usec_list_t *sul)
{
	struct server *srv = lws_container_of(sul, struct server, expire_sul);

	expire(srv);
	lws_sul_schedule(srv->ctx, 0, &srv->expire_sul, expire_timer,
			 EXPIRE_INTERVAL_MS * LWS_US_PER_MS);
}

static void
purge_timer(lws_sorted_usec_list_t *sul)
{
	struct server *srv = lws_container_of(sul, struct server, purge_sul);

	purge(srv);
	lws_sul_schedule(srv->ctx, 0, &srv->purge_sul, purge_timer,
			 server_purge_interval_ms(srv->retention_ms) * LWS_US_PER_MS);
}

void
limits_purge_start(struct server *srv)
{
	/* Once now, then on the timer. */
	purge(srv);
	lws_sul_schedule(srv->ctx, 0, &srv->purge_sul, purge_timer,
			 server_purge_interval_ms(srv->retention_ms) * LWS_US_PER_MS);
	expire(srv);
	lws_sul_schedule(srv->ctx, 0, &srv->expire_sul, expire_timer,
			 EXPIRE_INTERVAL_MS * LWS_US_PER_MS);
}

void
limits_purge_stop(struct server *srv)
{
	lws_sul_cancel(&srv->purge_sul);
	lws_sul_cancel(&srv->expire_sul);
}

/* ---- open files, and the limits in force --------------------------------- */

/*
 * Raise the soft limit on open files to the hard one (at most
 * SERVER_FD_CEILING) and derive the connection cap from it, so that accept()
 * never meets EMFILE: libwebsockets retries a failed accept at once, forever
 * (issue 10, item 11). 0, or -1 with a log line if the limit is too low to
 * serve anyone.
 */
int
limits_fd(struct server *srv, int wanted)
{
	struct rlimit rl;
	rlim_t target;
	int cap, avail;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		srv_log("cannot read the limit on open files: %s", strerror(errno));
		return -1;
	}
	/* RLIM_INFINITY is the largest rlim_t: capped like any large value. */
	target = rl.rlim_max > SERVER_FD_CEILING ? SERVER_FD_CEILING : rl.rlim_max;
	if (rl.rlim_cur != target) {
		rl.rlim_cur = target;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0) {
			srv_log("cannot set the limit on open files to %llu: %s",
				(unsigned long long)target, strerror(errno));
			return -1;
		}
	}
	if (rl.rlim_cur < SERVER_FD_RESERVE + 2) {
		srv_log("the limit on open files (%llu, ulimit -n) is too low: at least %d are "
			"needed",
			(unsigned long long)rl.rlim_cur, SERVER_FD_RESERVE + 2);
		return -1;
	}
	/* A session holds one descriptor; transfers share a few more. */
	avail = (int)(rl.rlim_cur - SERVER_FD_RESERVE);
	srv->max_files = avail / 8 > SERVER_FILE_SLOTS_MAX ? SERVER_FILE_SLOTS_MAX
			 : avail / 8 < 1			 ? 1
								 : avail / 8;
	cap = avail - srv->max_files;
	if (wanted > cap)
		srv_log("--max-connections %d is more than %llu open files allow; using %d", wanted,
			(unsigned long long)rl.rlim_cur, cap);
	srv->max_conns = wanted > 0 && wanted < cap ? wanted : cap;
	return 0;
}

int
limits_file_take(struct server *srv, struct conn *c)
{
	static struct log_limit busy_limit = {.rate = 1, .burst = 5};

	if (c->holds_file)
		return 0;
	if (srv->n_files >= srv->max_files) {
		srv_log_limited(&busy_limit,
				"refused a blob transfer: %d files open, the most the limit on "
				"open files allows",
				srv->n_files);
		return -1;
	}
	srv->n_files++;
	c->holds_file = 1;
	return 0;
}

void
limits_file_give(struct server *srv, struct conn *c)
{
	if (!c->holds_file)
		return;
	c->holds_file = 0;
	srv->n_files--;
}

/* The limits in force, once at start: so that what applies can be seen. */
void
limits_log(const struct server *srv)
{
	const struct wire_hooks *h = &srv->hooks;

	srv_log("limits: %d connections, %d per address, %d blob transfers at once, %d s to "
		"authenticate, %.0f new users per address an hour, uploads of %lld bytes a second "
		"after %d s",
		srv->max_conns, srv->max_per_addr, srv->max_files, srv->auth_timeout_s, srv->register_rate * 3600,
		(long long)srv->upload_min_rate, srv->upload_grace_s);
	srv_log("quotas: %lld pending blobs, %lld pending blob bytes, %lld blob bytes per "
		"device, %lld inbox bytes per device, %d adds by strangers a day per user, %d "
		"adds of strangers an hour per user",
		(long long)h->max_pending_blobs, (long long)h->max_pending_blob_bytes,
		(long long)h->max_blob_bytes, (long long)h->max_inbox_bytes,
		h->add_limits.per_target_day, h->add_limits.per_adder_hour);
}
