/*
 * names.c - the names chat-server answers to (names.h).
 */
#include "names.h"
#include "analyzer.h"

#include <ctype.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "proto.h"

/* "8700" -> 8700; -1 unless 1 to 65535 in plain digits. */
static int
parse_port(const char *s)
{
	long v = 0;

	if (*s == '\0')
		return -1;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || p - s >= 5)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v >= 1 && v <= 65535 ? (int)v : -1;
}

/* 1 if host may be an IPv6 address (in brackets, or holding a colon: then
 * proto_server_name() checks it is one), or is a host name of letters,
 * digits, '.', '-' and '_' only: what --name and --listen may give, before
 * proto_server_name() writes it the one way. */
static int
plain_host(const char *host)
{
	size_t len = strlen(host);

	if ((len >= 2 && host[0] == '[' && host[len - 1] == ']') || strchr(host, ':') != NULL)
		return 1;
	for (const char *p = host; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
			return 0;
	return 1;
}

int
names_canonical(const char *host, int port, char *out, size_t cap)
{
	if (host == NULL || !plain_host(host))
		return -1;
	return proto_server_name(host, port, out, cap);
}

int
names_parse(const char *arg, int default_port, char *out, size_t cap)
{
	char host[PROTO_SERVER_NAME_MAX + 1];
	const char *colon, *end;
	int port;

	if (arg == NULL || strlen(arg) > PROTO_SERVER_NAME_MAX)
		return -1;
	if (arg[0] == '[') {
		if ((end = strchr(arg, ']')) == NULL)
			return -1;
		end++;
		colon = *end == ':' ? end : NULL;
		if (*end != '\0' && colon == NULL)
			return -1;
	} else {
		colon = strchr(arg, ':');
		/* A bare IPv6 address would be ambiguous: it needs [..]. */
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return -1;
		end = colon != NULL ? colon : arg + strlen(arg);
	}
	port = colon != NULL ? parse_port(colon + 1) : default_port;
	if (port < 0)
		return -1;
	memcpy(host, arg, (size_t)(end - arg));
	host[end - arg] = '\0';
	return names_canonical(host, port, out, cap);
}

int
names_has(const struct server_names *n, const char *name)
{
	for (size_t i = 0; i < n->n; i++)
		if (strcmp(n->v[i], name) == 0)
			return 1;
	return 0;
}

/* gcc -fanalyzer: no leak; n->v holds copy until names_free frees it
 * (common/analyzer.h). */
ANALYZER_LEAK_FP_BEGIN
int
names_add(struct server_names *n, const char *name)
{
	char *copy;

	if (names_has(n, name))
		return 0;
	if (n->n == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 8;
		char **v = realloc(n->v, cap * sizeof *v);

		if (v == NULL)
			return -1;
		n->v = v;
		n->cap = cap;
	}
	if ((copy = strdup(name)) == NULL)
		return -1;
	n->v[n->n++] = copy;
	return 0;
}
ANALYZER_LEAK_FP_END

/* Adds host at port if it makes a name; a host that does not (say, a
 * zone-scoped address) is no name of ours, and no error. */
static int
add_host(struct server_names *n, const char *host, int port)
{
	char name[PROTO_SERVER_NAME_MAX + 1];

	if (names_canonical(host, port, name, sizeof name) != 0)
		return 0;
	return names_add(n, name);
}

/* The machine's host name and every address of its interfaces. */
static int
add_interfaces(struct server_names *n, int port)
{
	struct ifaddrs *ifs, *i;
	char buf[256];
	int rc = 0;

	if (gethostname(buf, sizeof buf) == 0) {
		buf[sizeof buf - 1] = '\0';
		rc = add_host(n, buf, port);
	}
	if (rc != 0 || getifaddrs(&ifs) != 0)
		return rc; /* no interface list: the names given stand alone */
	for (i = ifs; i != NULL && rc == 0; i = i->ifa_next) {
		const void *a;

		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			a = &((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr;
		else if (i->ifa_addr->sa_family == AF_INET6)
			a = &((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr;
		else
			continue;
		if (inet_ntop(i->ifa_addr->sa_family, a, buf, sizeof buf) != NULL)
			rc = add_host(n, buf, port);
	}
	freeifaddrs(ifs);
	return rc;
}

int
names_defaults(struct server_names *n, const char *host, const char *bind_addr, int port)
{
	int loopback = strncmp(bind_addr, "127.", 4) == 0 || strcmp(bind_addr, "::1") == 0;
	int wildcard = strcmp(bind_addr, "0.0.0.0") == 0 || strcmp(bind_addr, "::") == 0;

	if (add_host(n, host, port) != 0 || add_host(n, bind_addr, port) != 0)
		return -1;
	if ((loopback || wildcard) &&
	    (add_host(n, "localhost", port) != 0 || add_host(n, "127.0.0.1", port) != 0 ||
	     add_host(n, "::1", port) != 0))
		return -1;
	return wildcard ? add_interfaces(n, port) : 0;
}

int
names_valid_form(const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;

	if (len == 0 || len > PROTO_SERVER_NAME_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      strchr(".-_:[]", *s) != NULL))
			return 0;
	return 1;
}

void
names_free(struct server_names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
	memset(n, 0, sizeof *n);
}
