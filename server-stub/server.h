/*
 * server.h - chat-server's network side: one libwebsockets vhost speaking
 * the chat.v1 subprotocol, one connection per device session, and the blob
 * store over HTTP on the same listener.  Its files are server*.c
 * (server_int.h maps them); main.c reads the options into server_opts.
 */
#ifndef CHAT_SERVER_SERVER_H
#define CHAT_SERVER_SERVER_H

#include <stddef.h>
#include <stdint.h>

/* --event-loop: libev's (epoll: its cost does not grow with idle
 * connections), falling back to poll() if lws cannot load it; or poll(). */
enum { SERVER_LOOP_LIBEV = 0, SERVER_LOOP_POLL = 1 };

struct server_opts {
	const char *host;      /* as the user wrote it, for the log */
	const char *bind_addr; /* numeric address to bind */
	int ipv6;              /* bind_addr is an IPv6 address */
	int port;              /* 0: an ephemeral port */
	const char *db_path;
	const char *cert_path; /* with key_path: serve TLS (wss://, https://); else NULL */
	const char *key_path;
	size_t max_frame;
	int64_t retention_ms;      /* inbox rows older than this are deleted */
	const char *retention_arg; /* as the user wrote it ("30d"), for the log */
	double rate;               /* requests per second per device; 0: no limit */
	double rate_bytes;         /* bytes of frames per second per device; 0: no limit */
	int heartbeat_s;           /* no pong for this long closes a connection; 0: 25 */
	int event_loop;            /* SERVER_LOOP_* (--event-loop) */
	/* Attachments: where blob files live (created 0700 by main), the key
	 * that signs their paths, the largest blob, and how long a signed path
	 * is good for (seconds; 0: BLOB_URL_TTL). */
	const char *blobs_dir;
	const uint8_t *blob_key;
	int64_t max_blob;
	int blob_url_ttl;
	/* --name: canonical "host:port" names (names.h) the server answers to
	 * beside those that follow from the listening address. */
	const char *const *names;
	size_t n_names;
	int test_link_swap; /* hidden --test-link-swap: a hostile server, for tests */
	/* hidden --test-fail-commit FILE: batches fail to commit while FILE
	 * exists, for tests */
	const char *test_fail_commit;
	/* Limits (issue 10; 0 in each: the default below). */
	int max_connections;          /* in total; 0: from the fd limit */
	int max_connections_per_addr; /* per IPv4 address or IPv6 /64 */
	int auth_timeout_s;           /* to authenticate after the handshake */
	double register_rate;         /* new users per address per hour; < 0: none */
	int64_t upload_min_rate;      /* bytes a second; < 0: none */
	int upload_grace_s;
	/* Quotas (issue 10, item 12; 0: the default below, < 0: none). */
	int64_t max_pending_blobs;      /* per device */
	int64_t max_pending_blob_bytes; /* per device */
	int64_t max_blob_bytes;         /* per device, uploaded */
	int64_t max_inbox_bytes;        /* per recipient device */
	int stranger_adds_per_day;      /* per user added */
	int stranger_adds_per_hour;     /* per user adding */
	/* A cluster (issue 16, docs/CLUSTER.md): the bus's URL (--bus
	 * redis://HOST:PORT[/DB], bus.h; NULL: one instance alone, no bus
	 * thread), seconds between the loads of every connected device's
	 * inbox (--bus-poll; 0: the default), the instance's name
	 * (--instance-id, or "host:port" made by main: instance_auto, named
	 * again once the port is known), whether log lines show it
	 * (in_cluster: --bus or --instance-id given), and their form
	 * (--log-format: SRV_LOG_TEXT or SRV_LOG_JSON). */
	const char *bus_url;
	int bus_poll_s;
	const char *instance_id;
	int instance_auto;
	int in_cluster;
	int log_format;
};

/* The defaults of the limits above (chat-server(8), PROTOCOL.md "Limits"). */
#define SERVER_MAX_PER_ADDR_DEFAULT           32
#define SERVER_AUTH_TIMEOUT_DEFAULT           10
#define SERVER_REGISTER_RATE_DEFAULT          10.0
#define SERVER_UPLOAD_MIN_RATE_DEFAULT        4096
#define SERVER_UPLOAD_GRACE_DEFAULT           30
#define SERVER_MAX_PENDING_BLOBS_DEFAULT      32
#define SERVER_MAX_PENDING_BLOB_BYTES_DEFAULT (1024LL * 1024 * 1024)
#define SERVER_MAX_BLOB_BYTES_DEFAULT         (10LL * 1024 * 1024 * 1024)
#define SERVER_MAX_INBOX_BYTES_DEFAULT        (128LL * 1024 * 1024)
#define SERVER_STRANGER_ADDS_DAY_DEFAULT      20
#define SERVER_STRANGER_ADDS_HOUR_DEFAULT     100
/* File descriptors kept aside from connections: the database's, the log,
 * libwebsockets' own. */
#define SERVER_FD_RESERVE 32
/* Blob files open at once (an upload being received, a download being
 * sent): one eighth of what is left after the reserve, at most this many;
 * each connection holds one descriptor, its socket, and a transfer takes a
 * file slot too or is answered 503 (issue 12: a session costs one
 * descriptor, not two). */
#define SERVER_FILE_SLOTS_MAX 256
/* The soft limit is raised to the hard one, but not past this: libwebsockets
 * keeps a table the size of the limit. */
#define SERVER_FD_CEILING (1 << 20)

/*
 * Open the store, listen, print "chat-server: listening on HOST:PORT" (with
 * TLS: "listening on wss://HOST:PORT/"), and serve until server_request_stop().  Returns the process exit status: 0
 * after a requested stop, 1 if the store or the listener cannot be set up.
 */
int server_run(const struct server_opts *opts);

/* How often the retention purge runs, in ms: half the retention time,
 * from 1 s to 1 hour. */
int64_t server_purge_interval_ms(int64_t retention_ms);

/*
 * Ask server_run() to return.  Async-signal-safe in practice: it sets a
 * flag and lws_cancel_service() writes one byte to the loop's wake pipe.
 */
void server_request_stop(void);

#endif /* CHAT_SERVER_SERVER_H */
