/*
 * main.c - chat-server's command line: options, signals, then server_run().
 *
 * main() lives alone in this file because the unit tests link every other
 * server object (see the Makefile).
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>

#include <sodium.h>

#include "blob.h"
#include "bus.h"
#include "config.h"
#include "names.h"
#include "server.h"
#include "util.h"
#include "wire.h"

/* --rate and --rate-bytes bounds (0 disables the limit). */
#define RATE_MAX       1000000ULL
#define RATE_BYTES_MAX (1024ULL * 1024 * 1024)

/* --name, at most this often. */
#define MAX_NAMES     64
#define MAX_NAMES_STR "64"

static const char usage_lines[] =
	"usage: chat-server --listen HOST:PORT --db PATH|URL [--cert FILE --key FILE]\n"
	"                   [--max-frame BYTES] [--retention DURATION]\n"
	"                   [--rate REQUESTS_PER_SECOND] [--rate-bytes BYTES_PER_SECOND]\n"
	"                   [--heartbeat SECONDS] [--event-loop libev|poll]\n"
	"                   [--blobs DIR] [--max-blob BYTES]\n"
	"                   [--max-connections N] [--max-connections-per-address N]\n"
	"                   [--auth-timeout SECONDS] [--register-rate N]\n"
	"                   [--upload-min-rate BYTES_PER_SECOND] [--upload-grace SECONDS]\n"
	"                   [--max-pending-blobs N] [--max-pending-blob-bytes BYTES]\n"
	"                   [--max-blob-bytes BYTES] [--max-inbox-bytes BYTES]\n"
	"                   [--stranger-adds-per-day N] [--stranger-adds-per-hour N]\n"
	"                   [--name HOST[:PORT]]... [--verbose]\n"
	"                   [--blob-key FILE] [--bus redis://HOST:PORT[/DB]]\n"
	"                   [--bus-poll SECONDS] [--instance-id NAME]\n"
	"                   [--log-format text|json] [--check-config]\n"
	"       chat-server --help | --version\n";

static const char help_text[] =
	"\n"
	"Serves the chat protocol (docs/PROTOCOL.md) on ws://HOST:PORT/ with the\n"
	"WebSocket subprotocol chat.v1, keeping its state in an SQLite database.\n"
	"With --cert and --key it serves wss:// (and https://) instead.\n"
	"\n"
	"  --listen HOST:PORT  address to listen on; HOST is a name or an address\n"
	"                      ([::1] for IPv6); PORT 0 picks a free port, which\n"
	"                      the line \"chat-server: listening on HOST:PORT\"\n"
	"                      (with TLS: \"listening on wss://HOST:PORT/\")\n"
	"                      on stderr tells\n"
	"  --db PATH|URL       the database file, created (mode 0600) if missing;\n"
	"                      or a PostgreSQL URL (postgresql://USER@HOST:PORT/DB,\n"
	"                      also postgres://), which needs --blobs and\n"
	"                      --blob-key: the store of a cluster (CLUSTER.md)\n"
	"  --cert FILE         the server's certificate (PEM), followed by any\n"
	"                      intermediate CA certificates; with --key, the\n"
	"                      listener speaks TLS only (wss://, https://)\n"
	"  --key FILE          the certificate's private key (PEM), unencrypted\n"
	"  --max-frame BYTES   the largest frame accepted, announced in hello\n"
	"                      (default 1048576, from 1024 to 67108864)\n"
	"  --retention DURATION\n"
	"                      how long undelivered messages wait in a device's\n"
	"                      inbox before they are deleted (the device is told\n"
	"                      how many it missed): a positive whole number with\n"
	"                      a unit s, m, h or d, e.g. 90s, 12h, 30d (default\n"
	"                      30d, at most 36500d)\n"
	"  --rate REQUESTS_PER_SECOND\n"
	"                      requests each device (each connection before\n"
	"                      auth) may make per second, with bursts of 4\n"
	"                      times that; more get the error rate_limited\n"
	"                      (default 50, from 0 to 1000000; 0: no limit)\n"
	"  --rate-bytes BYTES_PER_SECOND\n"
	"                      bytes of frames each device may send per second,\n"
	"                      with bursts of 8 times that (default 1048576,\n"
	"                      from 0 to 1073741824; 0: no limit)\n"
	"  --heartbeat SECONDS close a connection when no pong has answered the\n"
	"                      pings for this long; a ping goes out after 40%\n"
	"                      of it without one (default 25, from 2 to 3600)\n"
	"  --event-loop libev|poll\n"
	"                      how connections are watched: libev (epoll; the\n"
	"                      default, poll if libwebsockets-evlib-ev is\n"
	"                      missing) or poll(), whose cost grows with every\n"
	"                      connection open\n"
	"  --blobs DIR         where attachment files (blobs) are kept; created\n"
	"                      (mode 0700) if missing (default: blobs next to\n"
	"                      the --db file).  The key that signs their upload\n"
	"                      and download paths is blob.key next to the --db\n"
	"                      file, made (32 random bytes, mode 0600) if missing\n"
	"  --blob-key FILE     the key that signs blob paths, instead of blob.key\n"
	"                      next to --db: made the same way if missing; one\n"
	"                      that others than its owner may read is refused.\n"
	"                      Instances that share --blobs share it, so that a\n"
	"                      path one gives out works on any other\n"
	"  --max-blob BYTES    the largest attachment accepted, announced in hello\n"
	"                      (default 104857600, from 1 to 1099511627776)\n"
	"  --name HOST[:PORT]  a name clients reach this server by, as in their\n"
	"                      URL (PORT: 443 with --cert, else 80, as a URL\n"
	"                      without one); repeatable. Devices sign the name\n"
	"                      they were given, and one for another server is\n"
	"                      refused (wrong_server), so a server reached\n"
	"                      through a proxy needs the proxy's name here.\n"
	"                      Always accepted: --listen's HOST and address at\n"
	"                      its port; for a loopback address also localhost,\n"
	"                      127.0.0.1 and [::1]; for 0.0.0.0 or [::] also the\n"
	"                      host name and every interface's address\n"
	"  --max-connections N connections open at once, WebSocket and HTTP\n"
	"                      (default: as many as the limit on open files\n"
	"                      allows after 32 and up to 256 for blob files:\n"
	"                      19712 of 20000; the soft limit is first raised\n"
	"                      to the hard one); more are closed\n"
	"                      as soon as they are accepted\n"
	"  --max-connections-per-address N\n"
	"                      connections open at once from one IPv4 address\n"
	"                      or IPv6 /64 (default 32, from 1 to 1000000)\n"
	"  --auth-timeout SECONDS\n"
	"                      close a connection not authenticated this long\n"
	"                      after it opened (one waiting for a device link\n"
	"                      to be approved: after the request expires)\n"
	"                      (default 10, from 1 to 3600)\n"
	"  --register-rate N   new users one address may register per hour,\n"
	"                      all at once at most; more get the error\n"
	"                      too_many_registrations (default 10, from 0\n"
	"                      to 1000000; 0: no limit)\n"
	"  --upload-min-rate BYTES_PER_SECOND\n"
	"                      cut off an attachment upload that averages less\n"
	"                      than this after the grace (default 4096, from 0\n"
	"                      to 1073741824; 0: no limit)\n"
	"  --upload-grace SECONDS\n"
	"                      the start of an upload not held to its minimum\n"
	"                      rate (default 30, from 1 to 3600)\n"
	"  --max-pending-blobs N\n"
	"                      attachments one device may have asked for and not\n"
	"                      uploaded yet (default 32; 0: no limit)\n"
	"  --max-pending-blob-bytes BYTES\n"
	"                      the bytes those may take together (default\n"
	"                      1073741824; 0: no limit)\n"
	"  --max-blob-bytes BYTES\n"
	"                      the bytes of the attachments one device has\n"
	"                      uploaded and the server still keeps (default\n"
	"                      10737418240; 0: no limit); over any of the three,\n"
	"                      getAttachmentTarget gets quota_exceeded\n"
	"  --max-inbox-bytes BYTES\n"
	"                      the bytes of messages waiting for one device (each\n"
	"                      counts its ciphertext and 100); a send that would\n"
	"                      take it over gets inbox_full (default 134217728;\n"
	"                      0: no limit)\n"
	"  --stranger-adds-per-day N\n"
	"                      times a user may be added to groups in a day by\n"
	"                      people who never took part in a chat with them\n"
	"                      (default 20; 0: no limit)\n"
	"  --stranger-adds-per-hour N\n"
	"                      such people one user may add to groups in an hour;\n"
	"                      over either, too_many_group_adds (default 100;\n"
	"                      0: no limit)\n"
	"  --bus redis://HOST:PORT[/DB]\n"
	"                      several instances on one database: route through\n"
	"                      this Redis (DB from 0 to 15, default 0) what one\n"
	"                      instance's requests mean for connections on\n"
	"                      another: new messages, a device connecting again\n"
	"                      elsewhere (4001), removed devices, typing, who\n"
	"                      is online (docs/cluster-routing.md)\n"
	"  --bus-poll SECONDS  with --bus, load every connected device's inbox\n"
	"                      this often, the bound on the delay a lost\n"
	"                      notice costs (default 10, from 1 to 3600)\n"
	"  --instance-id NAME  this instance's name in a cluster: in every log\n"
	"                      line and in /healthz (default: the host name and\n"
	"                      the listening port, e.g. h1:8080); 1 to 64 letters,\n"
	"                      digits and . _ - :.  With --bus or --instance-id,\n"
	"                      text log lines carry it\n"
	"  --log-format text|json\n"
	"                      text (the default): \"TIME chat-server: MESSAGE\";\n"
	"                      json: one object a line, {\"ts\",\"level\",\n"
	"                      \"instance\",\"msg\"}\n"
	"  --check-config      check the options, the store (opened and pinged),\n"
	"                      the blob directory and key, the certificate and\n"
	"                      key and --bus's form, print what was found and\n"
	"                      exit (0: all good); nothing is made or listened on\n"
	"  --verbose           also log every request and libwebsockets notices\n"
	"  --help              print this help and exit\n"
	"  --version           print the version and exit\n"
	"\n"
	"GET /healthz answers 200 {\"status\":\"ok\",...} while the store answers,\n"
	"503 when it does not: for a load balancer.\n"
	"\n"
	"SIGINT or SIGTERM stops the server cleanly (exit status 0).  Exit status\n"
	"1: the database, the blob directory or the listening socket could not be\n"
	"set up; 2: bad arguments, a certificate or key that cannot be used, or a\n"
	"blob key that cannot be read, is not 32 bytes or may be read by others.\n";

static void
handle_stop(int sig)
{
	(void)sig;
	server_request_stop();
}

static int
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "chat-server: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage_lines);
	return 2;
}

/* Split "HOST:PORT" / "[V6]:PORT" into host and port; -1 if malformed. */
static int
parse_listen(const char *arg, char *host, size_t cap, int *port)
{
	const char *colon = strrchr(arg, ':'), *h = arg, *p;
	size_t hlen;
	long v = 0;

	if (colon == NULL || colon[1] == '\0')
		return -1;
	hlen = (size_t)(colon - arg);
	if (hlen >= 2 && arg[0] == '[' && arg[hlen - 1] == ']') {
		h = arg + 1;
		hlen -= 2;
	} else if (memchr(arg, ':', hlen) != NULL) {
		return -1; /* a bare IPv6 address is ambiguous: use [..] */
	}
	if (hlen == 0 || hlen >= cap)
		return -1;
	for (p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9' || p - colon > 5)
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (v > 65535)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (int)v;
	return 0;
}

static int
parse_size(const char *arg, size_t *out)
{
	char *end;
	unsigned long long v;

	if (arg[0] < '0' || arg[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno != 0 || *end != '\0' || v < PROTO_FRAME_LIMIT_MIN || v > PROTO_FRAME_LIMIT_MAX)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* A rate: a whole number from 0 to max. */
static int
parse_rate(const char *arg, unsigned long long max, double *out)
{
	char *end;
	unsigned long long v;

	if (arg[0] < '0' || arg[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = (double)v;
	return 0;
}

/* name in the directory of the database file db ("x.db" -> "./name"). */
static int
beside_db(const char *db, const char *name, char *out, size_t cap)
{
	const char *slash = strrchr(db, '/');
	int n;

	if (slash == NULL)
		n = snprintf(out, cap, "%s", name);
	else
		n = snprintf(out, cap, "%.*s/%s", (int)(slash - db), db, name);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static void
free_names(struct server_opts *opts)
{
	for (size_t i = 0; i < opts->n_names; i++)
		free((char *)opts->names[i]);
	free((void *)opts->names);
	opts->names = NULL;
	opts->n_names = 0;
}

/* --name, kept as given until --cert says which port a name without one
 * means. 0, or the exit status. */
static int
add_name_arg(const char **args, size_t *n, const char *arg)
{
	if (*n == MAX_NAMES)
		return usage_error("--name: at most %s of them", MAX_NAMES_STR);
	args[(*n)++] = arg;
	return 0;
}

/* Checks the --name arguments (with TLS, a name without a port means 443).
 * 0, or the exit status. */
static int
check_names(const char *const *args, size_t n, int tls)
{
	char buf[PROTO_SERVER_NAME_MAX + 1];

	for (size_t i = 0; i < n; i++)
		if (names_parse(args[i], tls ? 443 : 80, buf, sizeof buf) != 0)
			return usage_error("--name: '%s' is not HOST[:PORT] (a host name or "
					   "address, an IPv6 address in brackets; PORT from 1 "
					   "to 65535)",
					   args[i]);
	return 0;
}

/* The --name arguments (checked) in canonical form (names.h) into opts.
 * 0, or -1 out of memory. */
static int
make_names(const char *const *args, size_t n, int tls, struct server_opts *opts)
{
	char **names = n > 0 ? calloc(n, sizeof *names) : NULL;
	char buf[PROTO_SERVER_NAME_MAX + 1];

	opts->names = (const char *const *)names;
	opts->n_names = names != NULL ? n : 0;
	if (n > 0 && names == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (names_parse(args[i], tls ? 443 : 80, buf, sizeof buf) != 0 ||
		    (names[i] = strdup(buf)) == NULL)
			return -1;
	return 0;
}

/* The names of the quota options, by their getopt values. */
static const char *const quota_opts[] = {NULL,
					 "max-pending-blobs",
					 "max-pending-blob-bytes",
					 "max-blob-bytes",
					 "max-inbox-bytes",
					 "stranger-adds-per-day",
					 "stranger-adds-per-hour"};

/* One of the quota options (getopt values 1 to 6): 0 is no limit (-1 in
 * opts); -1 if malformed. */
static int
set_quota(struct server_opts *o, int which, const char *arg)
{
	int64_t v;

	if (blob_parse_number(arg, &v) != 0 || v > BLOB_MAX_MAX ||
	    ((which == 5 || which == 6) && v > 1000000))
		return -1;
	if (v == 0)
		v = -1;
	switch (which) {
	case 1: o->max_pending_blobs = v; break;
	case 2: o->max_pending_blob_bytes = v; break;
	case 3: o->max_blob_bytes = v; break;
	case 4: o->max_inbox_bytes = v; break;
	case 5: o->stranger_adds_per_day = (int)v; break;
	default: o->stranger_adds_per_hour = (int)v; break;
	}
	return 0;
}

static int
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handle_stop;
	if (sigemptyset(&sa.sa_mask) != 0 || sigaction(SIGINT, &sa, NULL) != 0 ||
	    sigaction(SIGTERM, &sa, NULL) != 0)
		return -1;
	/* A peer that goes away mid-write must cost an error code, not us. */
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"db", required_argument, NULL, 'd'},
		{"cert", required_argument, NULL, 'c'},
		{"key", required_argument, NULL, 'k'},
		{"max-frame", required_argument, NULL, 'm'},
		{"retention", required_argument, NULL, 'r'},
		{"rate", required_argument, NULL, 'q'},
		{"rate-bytes", required_argument, NULL, 'b'},
		{"heartbeat", required_argument, NULL, 'H'},
		{"event-loop", required_argument, NULL, 'E'},
		{"blobs", required_argument, NULL, 'B'},
		{"max-blob", required_argument, NULL, 'M'},
		/* Hidden, for tests: seconds a signed
						  * blob path is good for. */
		{"blob-url-ttl", required_argument, NULL, 'T'},
		{"name", required_argument, NULL, 'N'},
		/* Hidden, for tests: play a hostile server that swaps the keys
		 * of link requests. */
		{"test-link-swap", no_argument, NULL, 'S'},
		/* Hidden, for tests: every batch's COMMIT fails while this file
		 * exists (group-commit-fails.sh). */
		{"test-fail-commit", required_argument, NULL, 'F'},
		{"max-connections", required_argument, NULL, 'C'},
		{"max-connections-per-address", required_argument, NULL, 'A'},
		{"auth-timeout", required_argument, NULL, 'a'},
		{"register-rate", required_argument, NULL, 'R'},
		{"upload-min-rate", required_argument, NULL, 'U'},
		{"upload-grace", required_argument, NULL, 'G'},
		/* The quota options: getopt values 1 to 6 (quota_opts). */
		{"max-pending-blobs", required_argument, NULL, 1},
		{"max-pending-blob-bytes", required_argument, NULL, 2},
		{"max-blob-bytes", required_argument, NULL, 3},
		{"max-inbox-bytes", required_argument, NULL, 4},
		{"stranger-adds-per-day", required_argument, NULL, 5},
		{"stranger-adds-per-hour", required_argument, NULL, 6},
		{"blob-key", required_argument, NULL, 'K'},
		{"instance-id", required_argument, NULL, 'I'},
		{"log-format", required_argument, NULL, 'O'},
		{"check-config", no_argument, NULL, 'X'},
		{"bus", required_argument, NULL, 7},
		{"bus-poll", required_argument, NULL, 8},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}};
	struct server_opts opts = {.max_frame = PROTO_MAX_FRAME,
				   .retention_ms = 30LL * 24 * 60 * 60 * 1000,
				   .retention_arg = "30d",
				   .rate = WIRE_DEFAULT_RATE,
				   .rate_bytes = WIRE_DEFAULT_RATE_BYTES,
				   .heartbeat_s = PROTO_HEARTBEAT_DEFAULT,
				   .max_blob = BLOB_DEFAULT_MAX};
	char host[256], addr[INET6_ADDRSTRLEN], blobs_dir[PATH_MAX], key_path[PATH_MAX];
	char err[PATH_MAX + 300], instance[SRV_INSTANCE_MAX + 1];
	uint8_t blob_key[BLOB_KEY_BYTES];
	int64_t n64;
	const char *listen_arg = NULL, *key_arg = NULL;
	int check_only = 0;
	const char *name_args[MAX_NAMES];
	size_t n_name_args = 0;
	double secs;
	int ch;

	opterr = 0; /* we word the messages ourselves */
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l': listen_arg = optarg; break;
		case 'd': opts.db_path = optarg; break;
		case 'c': opts.cert_path = optarg; break;
		case 'k': opts.key_path = optarg; break;
		case 'm':
			if (parse_size(optarg, &opts.max_frame) != 0)
				return usage_error("--max-frame: '%s' is not a number of "
						   "bytes from 1024 to 67108864",
						   optarg);
			break;
		case 'r':
			if (util_parse_duration(optarg, &opts.retention_ms) != 0)
				return usage_error("--retention: '%s' is not a duration: a "
						   "positive whole number with a unit s, m, h "
						   "or d (e.g. 90s, 12h, 30d), at most 36500d",
						   optarg);
			opts.retention_arg = optarg;
			break;
		case 'q':
			if (parse_rate(optarg, RATE_MAX, &opts.rate) != 0)
				return usage_error("--rate: '%s' is not a number of requests "
						   "per second from 0 to 1000000",
						   optarg);
			break;
		case 'b':
			if (parse_rate(optarg, RATE_BYTES_MAX, &opts.rate_bytes) != 0)
				return usage_error("--rate-bytes: '%s' is not a number of bytes "
						   "per second from 0 to 1073741824",
						   optarg);
			break;
		case 'H':
			if (parse_rate(optarg, PROTO_HEARTBEAT_MAX, &secs) != 0 ||
			    secs < PROTO_HEARTBEAT_MIN)
				return usage_error("--heartbeat: '%s' is not a number of seconds "
						   "from 2 to 3600",
						   optarg);
			opts.heartbeat_s = (int)secs;
			break;
		case 'E':
			if (strcmp(optarg, "libev") == 0)
				opts.event_loop = SERVER_LOOP_LIBEV;
			else if (strcmp(optarg, "poll") == 0)
				opts.event_loop = SERVER_LOOP_POLL;
			else
				return usage_error("--event-loop: '%s' is not libev or poll", optarg);
			break;
		case 'B':
			if (optarg[0] == '\0')
				return usage_error("%s", "--blobs needs a directory name");
			opts.blobs_dir = optarg;
			break;
		case 'M':
			if (blob_parse_number(optarg, &n64) != 0 || n64 < 1 || n64 > BLOB_MAX_MAX)
				return usage_error(
					"--max-blob: '%s' is not a number of bytes from 1 "
					"to 1099511627776",
					optarg);
			opts.max_blob = n64;
			break;
		case 'T':
			if (blob_parse_number(optarg, &n64) != 0 || n64 < 1 || n64 > 86400)
				return usage_error(
					"--blob-url-ttl: '%s' is not a number of seconds "
					"from 1 to 86400",
					optarg);
			opts.blob_url_ttl = (int)n64;
			break;
		case 'N':
			if ((ch = add_name_arg(name_args, &n_name_args, optarg)) != 0)
				return ch;
			break;
		case 'S': opts.test_link_swap = 1; break;
		case 'F': opts.test_fail_commit = optarg; break;
		case 'C':
			if (parse_rate(optarg, 1000000, &secs) != 0 || secs < 1)
				return usage_error("--max-connections: '%s' is not a number from 1 "
						   "to 1000000",
						   optarg);
			opts.max_connections = (int)secs;
			break;
		case 'A':
			if (parse_rate(optarg, 1000000, &secs) != 0 || secs < 1)
				return usage_error("--max-connections-per-address: '%s' is not a "
						   "number from 1 to 1000000",
						   optarg);
			opts.max_connections_per_addr = (int)secs;
			break;
		case 'a':
			if (parse_rate(optarg, 3600, &secs) != 0 || secs < 1)
				return usage_error(
					"--auth-timeout: '%s' is not a number of seconds "
					"from 1 to 3600",
					optarg);
			opts.auth_timeout_s = (int)secs;
			break;
		case 'R':
			if (parse_rate(optarg, 1000000, &secs) != 0)
				return usage_error("--register-rate: '%s' is not a number of users "
						   "per hour from 0 to 1000000",
						   optarg);
			opts.register_rate = secs > 0 ? secs : -1;
			break;
		case 'U':
			if (parse_rate(optarg, RATE_BYTES_MAX, &secs) != 0)
				return usage_error("--upload-min-rate: '%s' is not a number of "
						   "bytes per second from 0 to 1073741824",
						   optarg);
			opts.upload_min_rate = secs > 0 ? (int64_t)secs : -1;
			break;
		case 'G':
			if (parse_rate(optarg, 3600, &secs) != 0 || secs < 1)
				return usage_error(
					"--upload-grace: '%s' is not a number of seconds "
					"from 1 to 3600",
					optarg);
			opts.upload_grace_s = (int)secs;
			break;
		case 1:
		case 2:
		case 3:
		case 4:
		case 5:
		case 6:
			if (set_quota(&opts, ch, optarg) != 0) {
				fprintf(stderr,
					"chat-server: --%s: '%s' is not a whole number from 0 to "
					"%s\n",
					quota_opts[ch], optarg,
					ch >= 5 ? "1000000" : "1099511627776");
				fputs(usage_lines, stderr);
				return 2;
			}
			break;
		case 'K':
			if (optarg[0] == '\0')
				return usage_error("%s", "--blob-key needs a file name");
			key_arg = optarg;
			break;
		case 'I':
			if (!util_valid_instance(optarg))
				return usage_error("--instance-id: '%s' is not 1 to 64 letters, "
						   "digits, '.', '_', '-' or ':'",
						   optarg);
			opts.instance_id = optarg;
			break;
		case 'O':
			if (strcmp(optarg, "text") == 0)
				opts.log_format = SRV_LOG_TEXT;
			else if (strcmp(optarg, "json") == 0)
				opts.log_format = SRV_LOG_JSON;
			else
				return usage_error("--log-format: '%s' is not text or json",
						   optarg);
			break;
		case 'X': check_only = 1; break;
		case 7:
			if (bus_parse_url(optarg, host, sizeof host, &ch, &ch) != 0)
				return usage_error("--bus: '%s' is not redis://HOST:PORT[/DB] "
						   "(PORT from 1 to 65535, DB from 0 to 15)",
						   optarg);
			opts.bus_url = optarg;
			break;
		case 8:
			if (parse_rate(optarg, BUS_POLL_MAX, &secs) != 0 || secs < BUS_POLL_MIN)
				return usage_error("--bus-poll: '%s' is not a number of seconds "
						   "from 1 to 3600",
						   optarg);
			opts.bus_poll_s = (int)secs;
			break;
		case 'v': srv_verbose = 1; break;
		case 'h':
			fputs(usage_lines, stdout);
			fputs(help_text, stdout);
			return 0;
		case 'V': printf("chat-server %s\n", CHAT_VERSION); return 0;
		case ':': return usage_error("%s needs a value", argv[optind - 1]);
		default: return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (listen_arg == NULL)
		return usage_error("%s", "--listen HOST:PORT is required");
	if (opts.bus_poll_s != 0 && opts.bus_url == NULL)
		return usage_error("%s", "--bus-poll goes with --bus redis://HOST:PORT[/DB]");
	if (opts.db_path == NULL || opts.db_path[0] == '\0')
		return usage_error("%s", "--db PATH|URL is required");
	if (parse_listen(listen_arg, host, sizeof host, &opts.port) != 0)
		return usage_error("--listen: '%s' is not HOST:PORT (PORT from 0 to "
				   "65535, an IPv6 HOST in brackets)",
				   listen_arg);
	if ((opts.cert_path == NULL) != (opts.key_path == NULL))
		return usage_error("%s", "--cert FILE and --key FILE go together");
	if (opts.cert_path != NULL && (opts.cert_path[0] == '\0' || opts.key_path[0] == '\0'))
		return usage_error("%s", "--cert and --key need a file name");
	if ((ch = check_names(name_args, n_name_args, opts.cert_path != NULL)) != 0)
		return ch;
	/* A database URL has no directory for blob.key and blobs/ to be next
	 * to; and the instances sharing the store must share them. */
	if (config_db_is_url(opts.db_path) && (opts.blobs_dir == NULL || key_arg == NULL)) {
		const char *missing = "both missing";

		if (opts.blobs_dir != NULL)
			missing = "--blob-key missing";
		else if (key_arg != NULL)
			missing = "--blobs missing";
		return usage_error("--db: a database URL needs --blobs DIR and --blob-key FILE "
				   "(%s), which every instance on that store shares",
				   missing);
	}
	if (key_arg != NULL && strlen(key_arg) >= sizeof key_path)
		return usage_error("--blob-key: '%s' is too long a path", key_arg);
	if (key_arg != NULL)
		snprintf(key_path, sizeof key_path, "%s", key_arg);
	else if (beside_db(opts.db_path, "blob.key", key_path, sizeof key_path) != 0)
		return usage_error("--db: '%s' is too long a path", opts.db_path);
	if (opts.blobs_dir == NULL &&
	    beside_db(opts.db_path, "blobs", blobs_dir, sizeof blobs_dir) != 0)
		return usage_error("--db: '%s' is too long a path", opts.db_path);
	if (opts.blobs_dir == NULL)
		opts.blobs_dir = blobs_dir;
	/* The instance's name: in every line of a cluster's log, and in
	 * /healthz.  The default's port is the real one once it is known
	 * (--listen HOST:0: server_run() names it again). */
	if (opts.instance_id == NULL) {
		config_default_instance(opts.port, instance, sizeof instance);
		opts.instance_id = instance;
		opts.instance_auto = 1;
	}
	opts.in_cluster = opts.bus_url != NULL || !opts.instance_auto;
	srv_log_setup(opts.log_format, opts.instance_id, opts.in_cluster);

	if (sodium_init() < 0) {
		srv_logl(SRV_ERROR, "cannot initialise libsodium");
		return 1;
	}
	if (check_only) {
		struct config_check cc = {.opts = &opts,
					  .listen_arg = listen_arg,
					  .host = host,
					  .blob_key_path = key_path,
					  .bus_url = opts.bus_url,
					  .instance = opts.instance_id,
					  .cluster = opts.in_cluster};

		return config_check_all(&cc, stdout);
	}
	if (opts.cert_path != NULL &&
	    (ch = config_check_tls(opts.cert_path, opts.key_path, err, sizeof err)) != 0) {
		srv_logl(SRV_ERROR, "%s", err);
		return ch;
	}
	if (mkdir(opts.blobs_dir, 0700) != 0 && errno != EEXIST) {
		srv_logl(SRV_ERROR, "cannot create the blob directory %s: %s", opts.blobs_dir,
			 strerror(errno));
		return 1;
	}
	if (blob_key_load(key_path, blob_key, err, sizeof err) != 0) {
		srv_logl(SRV_ERROR, "%s", err);
		return 2;
	}
	opts.blob_key = blob_key;
	if (config_resolve(host, addr, sizeof addr, &opts.ipv6, err, sizeof err) != 0) {
		srv_logl(SRV_ERROR, "%s", err);
		return 1;
	}
	opts.host = host;
	opts.bind_addr = addr;
	if (install_signals() != 0) {
		srv_log("cannot install signal handlers: %s", strerror(errno));
		return 1;
	}
	if (make_names(name_args, n_name_args, opts.cert_path != NULL, &opts) != 0) {
		fprintf(stderr, "chat-server: out of memory\n");
		ch = 1;
	} else {
		ch = server_run(&opts);
	}
	free_names(&opts);
	sodium_memzero(blob_key, sizeof blob_key);
	return ch;
}
