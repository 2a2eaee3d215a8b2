/*
 * server.c - chat-server's network side, its loop (see server.h, and
 * server_int.h for how its files are split): the options made into the
 * request layer's settings and hooks, the store opened, the listener set
 * up, and the libwebsockets service loop run until a stop.
 *
 * Everything runs on the one libwebsockets service thread: the callbacks,
 * the request layer and the store.  That keeps the state of the network side
 * free of locks.  A COMMIT stalls every connection for its length, so there
 * is one per pass of the loop, not one per request (group commit: the batch,
 * server_batch.c).
 */
#include "server_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ev.h>

#include "addr.h"
#include "bus.h"
#include "config.h"
#include "proto.h"

static volatile sig_atomic_t stop_requested;
static struct lws_context *volatile live_ctx;

void
server_request_stop(void)
{
	struct lws_context *ctx = live_ctx;

	stop_requested = 1;
	if (ctx != NULL)
		lws_cancel_service(ctx);
}

int
server_stopping(void)
{
	return stop_requested;
}

/*
 * lws reports a failed bind only as a log line with a bare errno; bind the
 * same address ourselves to say why in words ("Address already in use").
 */
static const char *
bind_error(const struct server_opts *opts)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, err = 0;

	memset(&ss, 0, sizeof ss);
	if (opts->ipv6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)opts->port);
		if (inet_pton(AF_INET6, opts->bind_addr, &a->sin6_addr) != 1)
			return "not an address";
		len = sizeof *a;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)opts->port);
		if (inet_pton(AF_INET, opts->bind_addr, &a->sin_addr) != 1)
			return "not an address";
		len = sizeof *a;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) < 0)
		return strerror(errno);
	if (bind(fd, (struct sockaddr *)&ss, len) != 0)
		err = errno;
	close(fd);
	return err ? strerror(err) : "libwebsockets refused it";
}

/* lws's own log lines (errors and warnings; notices too with --verbose),
 * at most a few a second: under a flood lws can log one per event. */
static void
lws_log(int level, const char *line)
{
	static struct log_limit limit = {.rate = 5, .burst = 50};
	size_t n = strlen(line);

	(void)level;
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	srv_log_limited(&limit, "lws: %.*s", (int)n, line);
}

/* The names devices may sign for (names.h): --listen's, once its port is
 * known, and each --name. Logged, for whoever reads a wrong_server. */
static int
set_names(struct server *srv, const struct server_opts *opts, int port)
{
	char line[1024];
	size_t o = 0;

	if (names_defaults(&srv->names, opts->host, opts->bind_addr, port) != 0)
		return -1;
	for (size_t i = 0; i < opts->n_names; i++)
		if (names_add(&srv->names, opts->names[i]) != 0)
			return -1;
	for (size_t i = 0; i < srv->names.n && o < sizeof line; i++)
		o += (size_t)snprintf(line + o, sizeof line - o, " %s", srv->names.v[i]);
	srv_log("names:%s%s", line, o >= sizeof line ? " ..." : "");
	return 0;
}

/*
 * The context, on libev's loop (--event-loop libev, the default) or on
 * poll(). poll() hands the kernel every descriptor at each pass: with 5,000
 * idle sessions that was 70 % of the server's CPU, and a message cost 5 times
 * what it does with none (issue 12); epoll's cost follows the descriptors
 * that are ready. The loop is ours (lws's "foreign loop"), so that
 * server_run() keeps one pass at a time. Without lws's libev plugin
 * (libwebsockets-evlib-ev), poll() it is.
 */
static struct lws_context *
create_context(struct server *srv, const struct server_opts *opts, uint64_t *options)
{
	struct lws_context_creation_info info;
	struct lws_context *ctx;
	void *loops[1];

	memset(&info, 0, sizeof info);
	info.user = srv;
	info.port = CONTEXT_PORT_NO_LISTEN;
	if (opts->event_loop == SERVER_LOOP_LIBEV) {
		/* No signal handling by libev: main() has its own. */
		srv->ev = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
		if (srv->ev != NULL) {
			loops[0] = srv->ev;
			info.foreign_loops = loops;
			info.options = *options | LWS_SERVER_OPTION_LIBEV;
			if ((ctx = lws_create_context(&info)) != NULL) {
				*options |= LWS_SERVER_OPTION_LIBEV;
				srv_log("event loop: libev");
				return ctx;
			}
			ev_loop_destroy(srv->ev);
			srv->ev = NULL;
		}
		srv_log("cannot use libev (is libwebsockets-evlib-ev installed?); using poll()");
	}
	info.foreign_loops = NULL;
	info.options = *options;
	if ((ctx = lws_create_context(&info)) != NULL)
		srv_log("event loop: poll");
	return ctx;
}

static void
destroy_context(struct server *srv)
{
	lws_context_destroy(srv->ctx);
	if (srv->ev != NULL)
		ev_loop_destroy(srv->ev);
	srv->ev = NULL;
}

/* One pass of the loop: what is ready, and the timers due. -1 if the loop
 * failed. */
static int
service(struct server *srv)
{
	if (srv->ev != NULL) {
		ev_run(srv->ev, EVRUN_ONCE);
		return 0;
	}
	return lws_service(srv->ctx, 0) < 0 ? -1 : 0;
}

/* An option's value: 0 is its default, below 0 no limit (0 in the hooks). */
static int64_t
pick(int64_t v, int64_t dflt)
{
	return v == 0 ? dflt : v < 0 ? 0 : v;
}

/* Undo what server_run set up before it could serve (the context, the
 * names, the store, the tables): its exit status, 1. */
static int
setup_failed(struct server *srv)
{
	destroy_context(srv);
	names_free(&srv->names);
	db_close(srv->db);
	addr_table_free(srv->addrs);
	devtab_free(&srv->devices);
	return 1;
}

int
server_run(const struct server_opts *opts)
{
	struct lws_context_creation_info info;
	struct server srv;
	struct lws_vhost *vh;
	char err[512];
	uint64_t options;
	int hangup;

	memset(&srv, 0, sizeof srv);
	if (limits_fd(&srv, opts->max_connections) != 0)
		return 1;
	srv.max_per_addr = opts->max_connections_per_addr > 0 ? opts->max_connections_per_addr
							      : SERVER_MAX_PER_ADDR_DEFAULT;
	srv.auth_timeout_s =
		opts->auth_timeout_s > 0 ? opts->auth_timeout_s : SERVER_AUTH_TIMEOUT_DEFAULT;
	srv.register_rate = opts->register_rate < 0    ? 0
			    : opts->register_rate == 0 ? SERVER_REGISTER_RATE_DEFAULT / 3600.0
						       : opts->register_rate / 3600.0;
	srv.upload_min_rate = opts->upload_min_rate < 0    ? 0
			      : opts->upload_min_rate == 0 ? SERVER_UPLOAD_MIN_RATE_DEFAULT
							   : opts->upload_min_rate;
	srv.upload_grace_s =
		opts->upload_grace_s > 0 ? opts->upload_grace_s : SERVER_UPLOAD_GRACE_DEFAULT;
	if ((srv.addrs = addr_table_new()) == NULL || devtab_init(&srv.devices) != 0) {
		addr_table_free(srv.addrs);
		devtab_free(&srv.devices);
		srv_log("out of memory");
		return 1;
	}
	srv.max_frame = opts->max_frame;
	srv.retention_ms = opts->retention_ms;
	srv.retention_arg = opts->retention_arg;
	srv.blobs_dir = opts->blobs_dir;
	srv.blob_key = opts->blob_key;
	srv.max_blob = opts->max_blob;
	/* Heartbeats (PROTOCOL.md): the server pings a client whose connection
	 * nothing has confirmed for the ping time, and drops it when no pong
	 * comes by the hangup time (server_limits.c); libchat does the same
	 * from its side. So a dead client is noticed within the hangup time,
	 * and its inbox waits for its next connection. */
	hangup = opts->heartbeat_s > 0 ? opts->heartbeat_s : PROTO_HEARTBEAT_DEFAULT;
	srv.ping_ms = (int64_t)proto_heartbeat_ping(hangup) * 1000;
	srv.hangup_ms = (int64_t)hangup * 1000;
	srv.db = db_open(opts->db_path, err, sizeof err);
	if (srv.db == NULL) {
		config_redact_in(err, sizeof err, opts->db_path);
		srv_logl(SRV_ERROR, "cannot open the database: %s", err);
		addr_table_free(srv.addrs);
		devtab_free(&srv.devices);
		return 1;
	}
	db_test_fail_commit(srv.db, opts->test_fail_commit);
	srv.hooks = (struct wire_hooks){
		.db = srv.db,
		.max_frame = opts->max_frame,
		.rate = opts->rate,
		.rate_bytes = opts->rate_bytes,
		.blob_key = opts->blob_key,
		.max_blob = opts->max_blob,
		.blob_url_ttl = opts->blob_url_ttl,
		.retention_ms = opts->retention_ms,
		.authenticated = hook_authenticated,
		.inbox_changed = conn_inbox_changed,
		.inbox_row = conn_inbox_row,
		.list_links = hook_list_links,
		.names = &srv.names,
		.test_link_swap = opts->test_link_swap,
		.linked = hook_linked,
		.device_removed = hook_device_removed,
		.online = hook_online,
		.user_push = hook_user_push,
		.ephemeral = hook_ephemeral,
		.prekeys_low = hook_prekeys_low,
		.register_wait = limits_register_wait,
		.register_rate = srv.register_rate * 3600.0,
		.max_pending_blobs =
			pick(opts->max_pending_blobs, SERVER_MAX_PENDING_BLOBS_DEFAULT),
		.max_pending_blob_bytes =
			pick(opts->max_pending_blob_bytes, SERVER_MAX_PENDING_BLOB_BYTES_DEFAULT),
		.max_blob_bytes = pick(opts->max_blob_bytes, SERVER_MAX_BLOB_BYTES_DEFAULT),
		.max_inbox_bytes = pick(opts->max_inbox_bytes, SERVER_MAX_INBOX_BYTES_DEFAULT),
		.add_limits = {(int)pick(opts->stranger_adds_per_day,
					 SERVER_STRANGER_ADDS_DAY_DEFAULT),
			       (int)pick(opts->stranger_adds_per_hour,
					 SERVER_STRANGER_ADDS_HOUR_DEFAULT)},
		.udata = &srv,
	};

	lws_set_log_level(LLL_ERR | LLL_WARN | (srv_verbose ? LLL_NOTICE : 0), lws_log);
	options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8 |
		  LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
		  (opts->ipv6 ? 0 : LWS_SERVER_OPTION_DISABLE_IPV6) |
		  (opts->cert_path ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0);
	srv.ctx = create_context(&srv, opts, &options);
	if (srv.ctx == NULL) {
		srv_log("cannot start libwebsockets");
		db_close(srv.db);
		addr_table_free(srv.addrs);
		devtab_free(&srv.devices);
		return 1;
	}

	memset(&info, 0, sizeof info);
	info.options = options;
	info.vhost_name = "chat";
	info.iface = opts->bind_addr;
	info.port = opts->port;
	info.protocols = server_protocols;
	/* lws's own heartbeat re-arms a timer per connection in a sorted list
	 * (O(connections) each): off, with a policy that has no hangup. */
	info.retry_and_idle_policy = &srv.no_validity;
	/* TLS on the one listener: WebSocket (wss://) and plain HTTP requests
	 * (https://) alike; main() checked the pair can be loaded. */
	info.ssl_cert_filepath = opts->cert_path;
	info.ssl_private_key_filepath = opts->key_path;
	/* HTTP/1.1 only: uploads and downloads are plain request bodies and
	 * files, and libchat's WebSocket speaks nothing else. */
	info.alpn = "http/1.1";
	vh = lws_create_vhost(srv.ctx, &info);
	if (vh == NULL) {
		srv_log("cannot listen on %s%s%s:%d: %s", opts->ipv6 ? "[" : "", opts->host,
			opts->ipv6 ? "]" : "", opts->port, bind_error(opts));
		return setup_failed(&srv);
	}
	/* The default name has the port the kernel picked (--listen HOST:0),
	 * from this line on. */
	if (opts->instance_auto && opts->port == 0) {
		char name[SRV_INSTANCE_MAX + 1];

		config_default_instance(lws_get_vhost_listen_port(vh), name, sizeof name);
		srv_log_setup(opts->log_format, name, opts->in_cluster);
	}
	/* Scripts wait for this line and read the port from it (chat-server(8)):
	 * its plain form stays as it always was. */
	srv_log("listening on %s%s%s%s:%d%s", opts->cert_path ? "wss://" : "",
		opts->ipv6 ? "[" : "", opts->host, opts->ipv6 ? "]" : "",
		lws_get_vhost_listen_port(vh), opts->cert_path ? "/" : "");
	if (set_names(&srv, opts, lws_get_vhost_listen_port(vh)) != 0) {
		srv_log("out of memory for the server's names");
		return setup_failed(&srv);
	}

	limits_log(&srv);
	if (server_bus_start(&srv, opts->bus_url, opts->bus_poll_s) != 0) {
		return setup_failed(&srv);
	}
	limits_timers_start(&srv);
	limits_purge_start(&srv);

	live_ctx = srv.ctx;
	while (!stop_requested) {
		if (service(&srv) != 0) {
			srv_log("the service loop failed");
			break;
		}
		/* Group commit: what the pass's requests wrote, in one COMMIT;
		 * then their replies go (server_batch.c). */
		server_batch_end(&srv);
		/* What the other instances said (--bus), outside a batch. The
		 * bus thread's lws_cancel_service() only wakes the loop: taken
		 * here, once a pass, rather than in EVENT_WAIT_CANCELLED, which
		 * comes once per protocol and vhost, and in the middle of a
		 * pass, with a batch open. */
		server_bus_drain(&srv);
	}
	live_ctx = NULL;
	limits_purge_stop(&srv);
	limits_timers_stop(&srv);
	if (srv.bus != NULL) {
		lws_sul_cancel(&srv.bus_poll_sul);
		bus_quiet(srv.bus);
	}
	/* Closes every connection, each through LWS_CALLBACK_CLOSED, which
	 * frees its queue before the store goes. */
	destroy_context(&srv);
	/* The last seen of the connections just closed. */
	server_batch_end(&srv);
	server_batch_free(&srv);
	/* After the connections' closes, which tell it what goes offline. */
	server_bus_stop(&srv);
	db_close(srv.db);
	names_free(&srv.names);
	addr_table_free(srv.addrs);
	devtab_free(&srv.devices);
	srv_log("stopped");
	return stop_requested ? 0 : 1;
}
