/*
 * names.h - the names chat-server answers to (PROTOCOL.md, "Session").
 *
 * A device signs the name of the server it was pointed at into register,
 * auth and linkDevice, so that a server cannot relay another's challenge and
 * act as the device there. The server accepts only a name of its own: those
 * given with --name, and those that follow from --listen.
 *
 * A name is "host:port" in the form clients write it: the host in lower
 * case, an IPv6 address in brackets in its RFC 5952 form ("[::1]"), and the
 * port in decimal, always there. That form is proto_server_name()'s
 * (common/proto.h), the one libchat signs; at most PROTO_SERVER_NAME_MAX
 * bytes.
 */
#ifndef CHAT_SERVER_NAMES_H
#define CHAT_SERVER_NAMES_H

#include <stddef.h>

struct server_names {
	char **v; /* malloc'd names, no two alike */
	size_t n, cap;
};

/* The canonical "host:port" of host (a name of letters, digits, '.', '-'
 * and '_', an IPv4 address, or an IPv6 address with or without brackets)
 * and port (1 to 65535) into out; -1 if host is none of these. */
int names_canonical(const char *host, int port, char *out, size_t cap);

/* --name's "HOST[:PORT]", canonical, into out; PORT defaults to
 * default_port (443 with TLS, 80 without: what a URL without a port means).
 * -1 if arg is not of that form. */
int names_parse(const char *arg, int default_port, char *out, size_t cap);

/* Adds a canonical name (a second time is no change); -1 out of memory. */
int names_add(struct server_names *n, const char *name);

/*
 * The names that follow from --listen HOST:PORT, bound at the numeric address
 * bind_addr and, in the end, at port: HOST itself and bind_addr; for a
 * loopback address also localhost, 127.0.0.1 and [::1]; for a wildcard
 * address (0.0.0.0, ::) also the machine's host name and the address of
 * every local interface. -1 out of memory.
 */
int names_defaults(struct server_names *n, const char *host, const char *bind_addr, int port);

/* 1 if name is one of n's. */
int names_has(const struct server_names *n, const char *name);

/* 1 if s has the form of a name: 1 to PROTO_SERVER_NAME_MAX bytes of lower-case
 * letters, digits, '.', '-', '_', ':', '[' and ']'. What a request may name
 * before it is looked up (and so what the log may show). */
int names_valid_form(const char *s);

void names_free(struct server_names *n);

#endif /* CHAT_SERVER_NAMES_H */
