/*
 * config.c - the checks of a configuration, and --check-config (config.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sodium.h>

#include "blob.h"
#include "db.h"
#include "util.h"

int
config_db_is_url(const char *db)
{
	return strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0;
}

/* A decimal number of 1 to digits digits, at most max, the whole of
 * [s, end): 0, or -1. */
static int
number_in(const char *s, const char *end, size_t digits, long max)
{
	long v = 0;

	if (s >= end || (size_t)(end - s) > digits)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v <= max ? 0 : -1;
}

int
config_bus_url_ok(const char *url)
{
	const char *h, *colon, *slash, *end;

	if (strncmp(url, "redis://", 8) != 0)
		return 0;
	h = url + 8;
	end = h + strlen(h);
	slash = strchr(h, '/');
	if (slash == NULL)
		slash = end;
	if (*h == '[') {
		/* [v6]:port */
		const char *close = memchr(h, ']', (size_t)(slash - h));

		if (close == NULL || close == h + 1 || close[1] != ':')
			return 0;
		colon = close + 1;
	} else {
		colon = memchr(h, ':', (size_t)(slash - h));
		if (colon == NULL || colon == h)
			return 0;
		for (const char *p = h; p < colon; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
				return 0;
	}
	if (number_in(colon + 1, slash, 5, 65535) != 0 || (slash - colon == 2 && colon[1] == '0'))
		return 0;
	if (slash == end)
		return 1;
	return number_in(slash + 1, end, 2, 15) == 0;
}

void
config_default_instance(int port, char *out, size_t cap)
{
	char host[256], tail[8];
	size_t keep, n;
	int len;

	if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
		snprintf(host, sizeof host, "chat-server");
	host[sizeof host - 1] = '\0';
	for (char *p = host; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			*p = '-';
	len = snprintf(tail, sizeof tail, ":%d", port);
	n = strlen(host);
	keep = SRV_INSTANCE_MAX - (size_t)len;
	if (n > keep)
		host[keep] = '\0';
	snprintf(out, cap, "%s%s", host, tail);
}

int
config_resolve(const char *host, char *out, size_t cap, int *ipv6, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai, *pick = NULL;
	const void *addr;
	int rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			pick = ai;
			break;
		}
		if (ai->ai_family == AF_INET6 && pick == NULL)
			pick = ai;
	}
	if (pick == NULL) {
		snprintf(err, errlen, "no IPv4 or IPv6 address for %s", host);
		freeaddrinfo(res);
		return -1;
	}
	*ipv6 = pick->ai_family == AF_INET6;
	if (*ipv6)
		addr = &((struct sockaddr_in6 *)pick->ai_addr)->sin6_addr;
	else
		addr = &((struct sockaddr_in *)pick->ai_addr)->sin_addr;
	rc = inet_ntop(pick->ai_family, addr, out, (socklen_t)cap) ? 0 : -1;
	if (rc != 0)
		snprintf(err, errlen, "cannot use the address of %s: %s", host, strerror(errno));
	freeaddrinfo(res);
	return rc;
}

/* The first OpenSSL error queued, in words, and the queue cleared. */
static const char *
ssl_error(void)
{
	unsigned long e = ERR_peek_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r ? r : "no reason given";
}

/* An encrypted key would make OpenSSL ask for its passphrase on the terminal:
 * a server refuses it instead. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

/*
 * lws loads the certificate and key only when it creates the listener, and
 * says what went wrong only in its log; check them first, as lws will load
 * them, so that a bad pair is a clear message and exit status 2.
 */
int
config_check_tls(const char *cert, const char *key, char *err, size_t errlen)
{
	const char *files[2] = {cert, key};
	EVP_PKEY *pkey = NULL;
	SSL_CTX *ctx;
	FILE *f;
	int rc = 2;

	for (int i = 0; i < 2; i++) {
		if ((f = fopen(files[i], "r")) == NULL) {
			snprintf(err, errlen, "cannot read %s %s: %s", i == 0 ? "--cert" : "--key",
				 files[i], strerror(errno));
			return 2;
		}
		fclose(f);
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		snprintf(err, errlen, "cannot set up TLS: %s", ssl_error());
		return 1;
	}
	/* The key alone first, so that a file that is no key and a key of
	 * another certificate get different messages. */
	if ((f = fopen(key, "r")) != NULL) {
		pkey = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
		fclose(f);
	}
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		snprintf(err, errlen, "--cert %s is not a PEM certificate: %s", cert, ssl_error());
	else if (pkey == NULL)
		snprintf(err, errlen, "--key %s is not a PEM private key without a passphrase",
			 key);
	else if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1 || SSL_CTX_check_private_key(ctx) != 1)
		snprintf(err, errlen, "--key %s is not the private key of --cert %s (%s)", key,
			 cert, ssl_error());
	else
		rc = 0;
	EVP_PKEY_free(pkey);
	SSL_CTX_free(ctx);
	return rc;
}

/* The directory of path ("x" -> ".") into out. */
static void
parent_of(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(out, cap, ".");
	else if (slash == path)
		snprintf(out, cap, "/");
	else
		snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

/* A directory the server can make files in, proven by making one (a
 * read-only mount or a root-owned directory says so; access() would not,
 * run as root).  0, or -1 with the reason in err. */
static int
dir_writable(const char *dir, char *err, size_t errlen)
{
	char probe[PATH_MAX];
	int fd;

	if (snprintf(probe, sizeof probe, "%s/.check-config.XXXXXX", dir) >= (int)sizeof probe) {
		snprintf(err, errlen, "too long a path");
		return -1;
	}
	if ((fd = mkstemp(probe)) < 0) {
		snprintf(err, errlen, "cannot make files in it: %s", strerror(errno));
		return -1;
	}
	close(fd);
	unlink(probe);
	return 0;
}

void
config_redact_url(const char *url, char *out, size_t cap)
{
	const char *p = strstr(url, "://"), *at, *colon, *end, *pw;

	snprintf(out, cap, "%s", url);
	if (p == NULL)
		return;
	end = p + 3 + strcspn(p + 3, "/?#");
	at = memchr(p + 3, '@', (size_t)(end - (p + 3)));
	if (at != NULL && (colon = memchr(p + 3, ':', (size_t)(at - (p + 3)))) != NULL)
		snprintf(out, cap, "%.*s:***%s", (int)(colon - url), url, at);
	/* A password in the query (?password=..) too. */
	if ((pw = strstr(out, "password=")) != NULL) {
		size_t from = (size_t)(pw - out) + 9, len = strcspn(pw + 9, "&#");
		char rest[PATH_MAX];

		snprintf(rest, sizeof rest, "%s", out + from + len);
		snprintf(out + from, cap - from, "***%s", rest);
	}
}

void
config_redact_in(char *text, size_t cap, const char *url)
{
	char redacted[PATH_MAX], copy[PATH_MAX + 300], *hit;
	size_t n = strlen(url);

	if (n == 0 || !config_db_is_url(url))
		return;
	config_redact_url(url, redacted, sizeof redacted);
	if (strcmp(redacted, url) == 0)
		return;
	/* From after each replacement: the text put in is never searched. */
	for (size_t from = 0; from < cap && (hit = strstr(text + from, url)) != NULL;) {
		size_t at = (size_t)(hit - text);

		snprintf(copy, sizeof copy, "%.*s%s%s", (int)at, text, redacted, hit + n);
		snprintf(text, cap, "%s", copy);
		from = at + strlen(redacted);
		if (from > strlen(text))
			break;
	}
}

/* The store: a file that does not exist yet is looked at through its
 * directory (not made); else it is opened and pinged. */
static int
check_store(const struct config_check *cc, FILE *out)
{
	const char *db = cc->opts->db_path;
	char err[PATH_MAX + 300], dir[PATH_MAX], shown[PATH_MAX];
	struct db *st;
	struct stat sb;
	int url = config_db_is_url(db), rc = 0;

	if (!url && stat(db, &sb) != 0 && errno == ENOENT) {
		parent_of(db, dir, sizeof dir);
		if (dir_writable(dir, err, sizeof err) != 0) {
			fprintf(out, "store: sqlite %s: not there, and its directory %s: %s\n", db,
				dir, err);
			return 1;
		}
		fprintf(out, "store: sqlite %s ok (not there yet: made at the start)\n", db);
		return 0;
	}
	/* A URL may hold a password: shown without it. */
	if (url)
		config_redact_url(db, shown, sizeof shown);
	else
		snprintf(shown, sizeof shown, "%s", db);
	if ((st = db_open(db, err, sizeof err)) == NULL) {
		config_redact_in(err, sizeof err, db);
		/* One line per part: libpq's messages run over several. */
		for (char *p = err; *p; p++)
			if (*p == '\n' || *p == '\t')
				*p = ' ';
		fprintf(out, "store: %s %s: %s\n", url ? "postgresql" : "sqlite", shown, err);
		return 1;
	}
	if (db_ping(st) != DB_OK) {
		fprintf(out, "store: %s %s: opened, but does not answer\n", db_backend(st), shown);
		rc = 1;
	} else {
		fprintf(out, "store: %s %s ok\n", db_backend(st), shown);
	}
	db_close(st);
	return rc;
}

static int
check_blobs(const char *dir, FILE *out)
{
	char err[PATH_MAX + 100], parent[PATH_MAX];
	struct stat sb;

	if (stat(dir, &sb) != 0) {
		if (errno != ENOENT) {
			fprintf(out, "blobs: %s: %s\n", dir, strerror(errno));
			return 1;
		}
		parent_of(dir, parent, sizeof parent);
		if (dir_writable(parent, err, sizeof err) != 0) {
			fprintf(out, "blobs: %s: not there, and %s: %s\n", dir, parent, err);
			return 1;
		}
		fprintf(out, "blobs: %s ok (not there yet: made, mode 0700, at the start)\n", dir);
		return 0;
	}
	if (!S_ISDIR(sb.st_mode)) {
		fprintf(out, "blobs: %s: not a directory\n", dir);
		return 1;
	}
	if (dir_writable(dir, err, sizeof err) != 0) {
		fprintf(out, "blobs: %s: %s\n", dir, err);
		return 1;
	}
	fprintf(out, "blobs: %s ok\n", dir);
	return 0;
}

static int
check_blob_key(const char *path, int cluster, FILE *out)
{
	char err[PATH_MAX + 300], dir[PATH_MAX];
	uint8_t key[BLOB_KEY_BYTES];

	struct stat sb;

	if (stat(path, &sb) == 0 || errno != ENOENT) {
		if (blob_key_read(path, key, err, sizeof err) != 0) {
			fprintf(out, "blob key: %s\n", err);
			return 2;
		}
		sodium_memzero(key, sizeof key);
		fprintf(out, "blob key: %s ok\n", path);
		return 0;
	}
	parent_of(path, dir, sizeof dir);
	if (dir_writable(dir, err, sizeof err) != 0) {
		fprintf(out, "blob key: %s: not there, and %s: %s\n", path, dir, err);
		return 2;
	}
	fprintf(out,
		"blob key: %s ok (not there yet: made at the start, 32 random bytes, "
		"mode 0600%s)\n",
		path, cluster ? "; every instance must read the same file" : "");
	return 0;
}

/* Keep the worse exit status: 2 over 1 over 0. */
static int
worse(int a, int b)
{
	return a > b ? a : b;
}

int
config_check_all(const struct config_check *cc, FILE *out)
{
	const struct server_opts *o = cc->opts;
	char addr[INET6_ADDRSTRLEN], err[PATH_MAX + 300];
	int rc = 0, r, ipv6;

	fprintf(out, "instance: %s%s\n", cc->instance, cc->cluster ? "" : " (not in a cluster)");
	if (config_resolve(cc->host, addr, sizeof addr, &ipv6, err, sizeof err) != 0) {
		fprintf(out, "listen: %s: %s\n", cc->listen_arg, err);
		rc = worse(rc, 1);
	} else {
		fprintf(out,
			"listen: %s ok (%s; not tried: it may be in use by the server "
			"this configuration is for)\n",
			cc->listen_arg, addr);
	}
	if (o->cert_path == NULL) {
		fprintf(out, "tls: none (ws:// and http://)\n");
	} else if ((r = config_check_tls(o->cert_path, o->key_path, err, sizeof err)) != 0) {
		fprintf(out, "tls: %s\n", err);
		rc = worse(rc, r);
	} else {
		fprintf(out, "tls: %s %s ok\n", o->cert_path, o->key_path);
	}
	rc = worse(rc, check_store(cc, out));
	rc = worse(rc, check_blobs(o->blobs_dir, out));
	rc = worse(rc, check_blob_key(cc->blob_key_path, cc->cluster, out));
	if (cc->bus_url == NULL)
		fprintf(out, "bus: none (one instance: nothing tells others of new messages)\n");
	else
		/* main() refused a malformed one already; whether the bus
		 * answers is the bus's to say. */
		fprintf(out, "bus: %s ok (its form; not connected)\n", cc->bus_url);
	fprintf(out, "%s\n", rc == 0 ? "configuration ok" : "configuration has problems");
	return rc;
}
