/*
 * config.h - the checks of chat-server's configuration that main() makes
 * before it serves, and --check-config, which makes them all, says what it
 * found and stops there: the listening address, the TLS pair, the store,
 * the blob directory and key, the bus's URL.
 *
 * main.c parses the options; what needs more than their form (a file, an
 * address, the store) is checked here, so that the server and
 * --check-config judge a configuration the same way.
 */
#ifndef CHAT_SERVER_CONFIG_H
#define CHAT_SERVER_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "server.h"

/* 1 if --db is a database URL (postgresql://, postgres://), not a path:
 * no blob.key nor blobs/ can be "next to" it then. */
int config_db_is_url(const char *db);

/* url with its password (user:PASSWORD@, ?password=) replaced by ***, into
 * out: for messages and logs. */
void config_redact_url(const char *url, char *out, size_t cap);

/* Every copy of the database URL url in text (cap bytes) without its
 * password, as config_redact_url; text unchanged if url is a path. */
void config_redact_in(char *text, size_t cap, const char *url);

/* 1 if url is of the form redis://HOST:PORT[/DB] (HOST a name, an IPv4
 * address or an IPv6 one in brackets; PORT 1 to 65535; DB 0 to 15, the
 * databases a Redis has by default). */
int config_bus_url_ok(const char *url);

/* The default --instance-id, "host:port" (the host name cut and made of
 * the allowed characters, util_valid_instance), into out. */
void config_default_instance(int port, char *out, size_t cap);

/* Resolve host to a numeric address, preferring IPv4 (what "localhost"
 * clients try first): 0, or -1 with a reason in err. */
int config_resolve(const char *host, char *out, size_t cap, int *ipv6, char *err, size_t errlen);

/* The TLS pair loads as libwebsockets will load it: 0, or the exit status
 * (2: a file that cannot be used; 1: TLS cannot be set up) with a reason
 * in err. */
int config_check_tls(const char *cert, const char *key, char *err, size_t errlen);

/* What --check-config looks at, beside the options (server_opts). */
struct config_check {
	const struct server_opts *opts; /* db_path, cert_path, blobs_dir, ... */
	const char *listen_arg;         /* --listen as given */
	const char *host;               /* its HOST */
	const char *blob_key_path;      /* --blob-key, or blob.key next to --db */
	const char *bus_url;            /* --bus, or NULL */
	const char *instance;           /* the instance's name */
	int cluster;                    /* --bus or --instance-id given */
};

/*
 * --check-config: each part on a line of out ("store: sqlite PATH ok", or
 * what is wrong with it), nothing changed (no store file, blob directory or
 * key made; a store that exists is opened, which brings its schema up to
 * date as a start would), nothing listened on.  Returns the exit status: 0
 * if every part is good; else 2 if a certificate, key or blob key cannot be
 * used, or 1 (the store, the blob directory or the address).
 */
int config_check_all(const struct config_check *cc, FILE *out);

#endif /* CHAT_SERVER_CONFIG_H */
