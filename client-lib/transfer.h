/*
 * transfer.h - moving a blob between a file and the server's blob store over
 * HTTP(S) with libcurl (PROTOCOL.md, "Attachments"), internal to libchat.
 *
 * A transfer runs in a thread of its own, so that the session's loop (and its
 * heartbeats) keeps running while megabytes move; the loop learns of progress
 * and of the end by polling transfer_state(), and is woken through an eventfd
 * when the transfer ends. Files stream from and to disk: a transfer holds one
 * buffer of curl's, never the file.
 */
#ifndef CHAT_TRANSFER_H
#define CHAT_TRANSFER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

enum transfer_kind { TRANSFER_PUT, TRANSFER_GET };

struct transfer {
	/* Set by the caller before transfer_start(). */
	enum transfer_kind kind;
	char *url;     /* http(s)://host:port/blobs/...; owned (freed by transfer_free) */
	char *path;    /* PUT: the file to send; GET: the file to write (made, 0600) */
	char *ca_file; /* https: the CA file to trust, or NULL for the system's; owned */
	int64_t size;  /* PUT: the bytes to send; GET: the most to accept */
	int wakefd;    /* written to (eventfd) when the transfer ends; -1: none */
	int timeout_s; /* no progress for this long ends it; 0: 60 */

	/* Read by the caller while it runs. */
	_Atomic int64_t done_bytes;
	_Atomic int finished; /* 1 once result, http_status and err are final */
	_Atomic int cancel;   /* set by transfer_cancel(): stops at the next chunk */

	/* Final once finished. */
	int result;       /* 0: the server answered 201 (PUT) or 200 (GET) */
	long http_status; /* the server's status, 0 if none came */
	int local;        /* the failure was here: the file could not be written */
	char err[256];

	pthread_t thread;
	int started;
};

/* Starts t in its thread: 0, or -1 with t->err set. */
int transfer_start(struct transfer *t);
/* Asks a running transfer to stop; it ends soon with result -1. */
void transfer_cancel(struct transfer *t);
/* Waits for the thread (after finished, or after cancel) and frees what t
 * owns. A GET that did not succeed leaves no file at t->path. */
void transfer_free(struct transfer *t);

/* The http(s) URL of a blob path, from the session's ws(s) URL: malloc'd, or
 * NULL if server_url is not ws:// or wss://. */
char *transfer_url(const char *server_url, const char *path);

#endif
