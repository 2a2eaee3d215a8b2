/*
 * rpc.h - JSON-RPC 2.0 over lines, shared by chatctl rpc (one peer: stdin and
 * stdout) and chatctl daemon (many peers: UNIX and TCP sockets). The methods,
 * their params and the notifications live in cmd-rpc.c; a transport owns the
 * file descriptors, feeds what it reads to rpc_peer_input() and writes what
 * rpc_peer_flush() has queued.
 */
#ifndef CHATCTL_RPC_H
#define CHATCTL_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "chatctl.h"

/* A request line's bound: a longer one is refused (-32600) and skipped to its end. */
#define RPC_MAX_LINE (1024 * 1024)
/* A socket peer's output queue: one that does not read while this much waits
 * for it is dropped, so that it neither blocks the others nor grows the
 * daemon without bound. */
#define RPC_MAX_QUEUE (16 * 1024 * 1024)
/* deviceLink waits this long for the approval, as the server keeps the
 * request (and chatctl device link waits). */
#define RPC_LINK_WAIT_MS (10 * 60 * 1000 + 5000)

/* JSON-RPC's own error codes; failures of a call use chatctl's exit codes (1-5). */
#define RPC_PARSE_ERROR      -32700
#define RPC_INVALID_REQUEST  -32600
#define RPC_METHOD_NOT_FOUND -32601
#define RPC_INVALID_PARAMS   -32602
#define RPC_SERVER_BUSY      -32000 /* the daemon's client limit */

struct rpc_call;

/* Splits bytes into lines of at most max bytes: line() for each whole line
 * (without its '\n'; never NULL, an empty one too), too_long() once for a line over max, whose rest up to
 * its '\n' is skipped. Pure: fuzzed by tests/fuzz/fuzz-rpcline.c. */
struct rpc_frame {
	char *line; /* grown as needed, up to max */
	size_t len, cap, max;
	int skipping; /* the current line is over max: drop to its end */
};
/* 0, or -1 out of memory (the line so far is dropped). */
int rpc_frame_feed(struct rpc_frame *f, const char *buf, size_t n,
		   void (*line)(void *arg, char *line, size_t len), void (*too_long)(void *arg),
		   void *arg);
void rpc_frame_free(struct rpc_frame *f);
/* One line (rewritten in place: see proto_json_scrub) into *req: 0, or a
 * JSON-RPC error code with *why; *req is then the request to take the id
 * of for the error (its id removed if it is not one), or NULL. The caller
 * deletes *req in both cases. */
int rpc_request_parse(char *line, size_t len, cJSON **req, const char **why);

/* One client: its input's framing, its output queue, its subscription. */
struct rpc_peer {
	struct rpc *rpc;
	struct rpc_peer *next;
	int fd;              /* a socket; -1: stdout, written at once (chatctl rpc) */
	char name[64];       /* for log lines: "client 3 (unix)" */
	struct rpc_frame in; /* the line being read */
	char *out;           /* queued output, from out_off to out_len */
	size_t out_len, out_off, out_cap;
	int subscribed;  /* gets notifications */
	uint32_t events; /* which: a bit per rpc_event_names entry */
	int pending;     /* calls under way whose answers come here */
	int gone;        /* left or dropped: answers are dropped; freed once pending is 0 */
	int eof;         /* sent all it will (half-closed): answered, then closed */
};

struct rpc {
	struct cli *cli;
	struct rpc_peer *peers;
	int npeers;               /* not gone */
	int pending;              /* calls under way, all peers */
	struct rpc_call *waiting; /* recv calls: answered once caught up */
	/* The home has no device yet (no identity, no registration): only
	 * register, deviceLink and subscribe work, and there is no session to
	 * run until one of the first two succeeds (rpc_no_device). */
	int no_device;
	int joining;        /* a register or deviceLink under way */
	int64_t join_until; /* deviceLink: given up then (the server forgets it) */
	int join_lapsed;    /* it was */
	const char *what; /* "rpc" or "daemon", for messages */
};

/* The notifications' method names, NULL-terminated. */
extern const char *const rpc_event_names[];
/* udata: the cli; cli->cmd_state: the struct rpc. */
extern const struct chat_callbacks rpc_callbacks;

/* A new peer on fd (-1: stdout), subscribed to every event if all_events
 * (chatctl rpc), else to none until it says subscribe. NULL: out of memory. */
struct rpc_peer *rpc_peer_new(struct rpc *rpc, int fd, const char *name, int all_events);
/* Frames bytes read from the peer into lines and handles each. */
void rpc_peer_input(struct rpc_peer *p, const char *buf, size_t n);
/* One line (s, n bytes, without its '\n') for p: queued and written as far
 * as the socket takes it; a peer whose queue would pass RPC_MAX_QUEUE is
 * dropped instead. For stdout (fd -1), written at once. */
void rpc_peer_write(struct rpc_peer *p, const char *s, size_t n);
/* Writes what is queued, as much as the socket takes. -1 if the peer is gone. */
int rpc_peer_flush(struct rpc_peer *p);
/* Something waits to be written to p. */
int rpc_peer_wants_write(const struct rpc_peer *p);
/* The peer left (or is dropped, saying why on stderr if why != NULL): its
 * socket is closed; it is freed once its calls have answered (rpc_tick). */
void rpc_peer_drop(struct rpc_peer *p, const char *why);
/* Frees the peers that are gone with nothing pending; answers recv calls
 * that have caught up. Call once a loop. */
void rpc_tick(struct rpc *rpc);
/* Before serving: 1 if cli->c's home has no device yet (rpc->no_device set;
 * the transport does not connect, and runs the handle only once a register
 * or deviceLink has connected it), else 0. */
int rpc_no_device(struct rpc *rpc);
/* At the end, after the handle is destroyed (its calls answered): every peer. */
void rpc_free_peers(struct rpc *rpc);

/* chatctl's commands that are no rpc method, and why (chatctl(1) says so too);
 * NULL-terminated. Every other command is one: tests/unit/test_cli_rpc.c. */
struct rpc_no_method {
	const char *command; /* "device link" */
	const char *why;
};
extern const struct rpc_no_method rpc_not_methods[];
/* The method for a command: its words in camelCase ("device list" deviceList,
 * delete-chat deleteChat). */
const char *rpc_method_name(const struct cmd_entry *e, char *buf, size_t cap);
int rpc_method_exists(const char *name);

#endif
