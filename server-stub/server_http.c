/*
 * server_http.c - the blob store over HTTP (PROTOCOL.md, "Attachments"):
 * PUT and GET of /blobs/<id>?exp=..[&max=..]&sig=.. on the WebSocket's own
 * listener.  A refused PUT closes the connection after its status: the body
 * the client may still be sending is not read.  Other paths keep lws's 404.
 *
 * An upload goes to <id>.part as it arrives, never whole in memory, and
 * becomes <id> once every byte is on disk; then the store marks the blob
 * complete.
 *
 * GET (or HEAD) /healthz answers whether this instance can serve: for a load
 * balancer's health check (docs/CLUSTER.md).
 */
#include "server_int.h"

#include "bus.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blob.h"
#include "bus.h"
#include "proto.h"

/* An upload in progress (PUT /blobs/<id>): the body goes to <id>.part as it
 * arrives, never whole in memory. */
struct xfer {
	int fd; /* of part; -1 once closed */
	char id[PROTO_BLOB_ID_LEN + 1];
	char part[PATH_MAX];
	char final[PATH_MAX];
	int64_t declared; /* Content-Length */
	int64_t got;
	/* The upload's deadline (--upload-min-rate): checked from this timer. */
	lws_sorted_usec_list_t sul;
	struct server *srv;
	struct conn *conn;
	struct lws *wsi;
	int64_t start_us; /* util_mono_us() when the body began */
};

int
http_blob_file(const struct server *srv, const char *id, const char *suffix, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s%s", srv->blobs_dir, id, suffix);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Answer status; -1 (close) for a refused upload or when the answer cannot
 * be sent, else the connection stays for the next request. */
static int
http_status(struct lws *wsi, unsigned int code, int close_after)
{
	if (lws_return_http_status(wsi, code, NULL) != 0 || close_after)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Delete an upload's temporary file and forget it. */
void
http_xfer_abort(struct conn *c, const char *why)
{
	struct xfer *x = c->xfer;

	if (x == NULL)
		return;
	lws_sul_cancel(&x->sul);
	if (x->fd >= 0)
		close(x->fd);
	if (unlink(x->part) != 0 && errno != ENOENT)
		srv_log("blob %s: cannot delete %s: %s", x->id, x->part, strerror(errno));
	if (why != NULL)
		srv_log("blob %s upload refused: %s after %lld of %lld bytes", x->id, why,
			(long long)x->got, (long long)x->declared);
	limits_file_give(x->srv, c);
	free(x);
	c->xfer = NULL;
}

/* A URL argument "name=value" into buf; NULL if absent or too long. */
static const char *
url_arg(struct lws *wsi, const char *name_eq, char *buf, int cap)
{
	const char *v = lws_get_urlarg_by_name(wsi, name_eq, buf, cap);

	return v != NULL && strlen(v) < (size_t)cap - 1 ? v : NULL;
}

/*
 * An upload must keep up an average of --upload-min-rate bytes a second
 * after a grace of --upload-grace seconds (issue 10, item 13): by t seconds
 * after its body began, at least rate x (t - grace) bytes. One that falls
 * behind is cut off: its temporary file goes and its connection closes, so
 * a trickle of bytes cannot hold a socket and a file for days. Checked when
 * the bytes in hand would run out, not on every chunk.
 */
static void
upload_deadline(lws_sorted_usec_list_t *sul)
{
	struct xfer *x = lws_container_of(sul, struct xfer, sul);
	struct server *srv = x->srv;
	int64_t now = util_mono_us(), grace_us = (int64_t)srv->upload_grace_s * 1000000;
	int64_t due_us = x->start_us + grace_us + x->got * 1000000 / srv->upload_min_rate;
	struct lws *wsi = x->wsi;
	char why[96];

	if (due_us > now) {
		lws_sul_schedule(srv->ctx, 0, &x->sul, upload_deadline, (lws_usec_t)(due_us - now));
		return;
	}
	snprintf(why, sizeof why, "too slow (under %lld bytes a second after %d s)",
		 (long long)srv->upload_min_rate, srv->upload_grace_s);
	/* Closed by the next callback of it (lws resets its own timeouts on
	 * every chunk of body, so a timeout alone would not do), or by the
	 * timeout if nothing more comes. */
	x->conn->doomed = 1;
	http_xfer_abort(x->conn, why);
	lws_callback_on_writable(wsi);
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static int
http_put(struct server *srv, struct conn *c, struct lws *wsi, const char *id, int64_t max)
{
	char cl[24], part[PATH_MAX], final[PATH_MAX];
	struct db_blob b;
	int64_t declared;
	int fd;

	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
		return http_status(wsi, HTTP_STATUS_LENGTH_REQUIRED, 1);
	if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0 ||
	    blob_parse_number(cl, &declared) != 0 || declared < 1)
		return http_status(wsi, HTTP_STATUS_BAD_REQUEST, 1);
	if (declared > max || declared > srv->max_blob)
		return http_status(wsi, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, 1);
	switch (db_blob_get(srv->db, id, &b)) {
	case DB_OK: break;
	case DB_NOT_FOUND: return http_status(wsi, HTTP_STATUS_NOT_FOUND, 1);
	default: return http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, 1);
	}
	if (b.complete)
		return http_status(wsi, HTTP_STATUS_CONFLICT, 1);
	if (declared > b.max_size)
		return http_status(wsi, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, 1);
	if (http_blob_file(srv, id, ".part", part, sizeof part) != 0 ||
	    http_blob_file(srv, id, "", final, sizeof final) != 0)
		return http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, 1);
	if (limits_file_take(srv, c) != 0)
		return http_status(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, 1);
	/* Exclusive: a second upload of the same URL while the first runs is
	 * refused like one after it. */
	fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		limits_file_give(srv, c);
		if (errno == EEXIST)
			return http_status(wsi, HTTP_STATUS_CONFLICT, 1);
		srv_log("blob %s: cannot create %s: %s", id, part, strerror(errno));
		return http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, 1);
	}
	if ((c->xfer = calloc(1, sizeof *c->xfer)) == NULL) {
		limits_file_give(srv, c);
		close(fd);
		unlink(part);
		return http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, 1);
	}
	c->xfer->fd = fd;
	memcpy(c->xfer->id, id, sizeof c->xfer->id);
	memcpy(c->xfer->part, part, sizeof part);
	memcpy(c->xfer->final, final, sizeof final);
	c->xfer->declared = declared;
	c->xfer->srv = srv;
	c->xfer->conn = c;
	c->xfer->wsi = wsi;
	c->xfer->start_us = util_mono_us();
	if (srv->upload_min_rate > 0)
		lws_sul_schedule(srv->ctx, 0, &c->xfer->sul, upload_deadline,
				 (lws_usec_t)srv->upload_grace_s * LWS_US_PER_SEC);
	return 0; /* the body follows: LWS_CALLBACK_HTTP_BODY */
}

int
http_body(struct conn *c, struct lws *wsi, const void *in, size_t len)
{
	struct xfer *x = c->xfer;
	const uint8_t *p = in;

	if (x == NULL)
		return -1; /* a body nobody asked for */
	if ((int64_t)len > x->declared - x->got) {
		http_xfer_abort(c, "longer than declared");
		return http_status(wsi, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, 1);
	}
	while (len > 0) {
		ssize_t n = write(x->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			srv_log("blob %s: cannot write %s: %s", x->id, x->part,
				n < 0 ? strerror(errno) : "short write");
			http_xfer_abort(c, "write failed");
			return http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, 1);
		}
		p += n;
		len -= (size_t)n;
		x->got += n;
	}
	return 0;
}

/* fsync a directory, so that a rename in it survives a crash. */
static int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Every byte is in: on disk, then visible, then 201. */
int
http_body_done(struct server *srv, struct conn *c, struct lws *wsi)
{
	struct xfer *x = c->xfer;
	int rc;

	if (x == NULL)
		return -1;
	if (x->got != x->declared) {
		http_xfer_abort(c, "shorter than declared");
		return http_status(wsi, HTTP_STATUS_BAD_REQUEST, 1);
	}
	rc = fsync(x->fd);
	if (close(x->fd) != 0)
		rc = -1;
	x->fd = -1;
	if (rc != 0 || rename(x->part, x->final) != 0 || sync_dir(srv->blobs_dir) != 0) {
		srv_log("blob %s: cannot store %s: %s", x->id, x->final, strerror(errno));
		unlink(x->final);
		http_xfer_abort(c, "store failed");
		return http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, 1);
	}
	/* Not in a batch: the 201 below is sent at once, so the row must be
	 * committed when it is. */
	server_batch_end(srv);
	switch (db_blob_complete(srv->db, x->id, x->got, proto_now_ms())) {
	case DB_OK: break;
	case DB_NOT_FOUND:
		/* Purged or completed by another upload while this one ran. */
		unlink(x->final);
		http_xfer_abort(c, "no longer pending");
		return http_status(wsi, HTTP_STATUS_CONFLICT, 1);
	default:
		unlink(x->final);
		http_xfer_abort(c, "database failed");
		return http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, 1);
	}
	srv_log("blob %s stored size=%lld", x->id, (long long)x->got);
	lws_sul_cancel(&x->sul);
	limits_file_give(srv, c);
	free(x);
	c->xfer = NULL;
	return http_status(wsi, 201 /* Created */, 0);
}

static int
http_get(struct server *srv, struct conn *c, struct lws *wsi, const char *id)
{
	char path[PATH_MAX];
	struct db_blob b;
	int n;

	switch (db_blob_get(srv->db, id, &b)) {
	case DB_OK: break;
	case DB_NOT_FOUND: return http_status(wsi, HTTP_STATUS_NOT_FOUND, 0);
	default: return http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, 0);
	}
	if (!b.complete || http_blob_file(srv, id, "", path, sizeof path) != 0 ||
	    access(path, R_OK) != 0)
		return http_status(wsi, HTTP_STATUS_NOT_FOUND, 0);
	if (limits_file_take(srv, c) != 0)
		return http_status(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, 0);
	n = lws_serve_http_file(wsi, path, "application/octet-stream", NULL, 0);
	if (n != 0)
		limits_file_give(srv, c);
	if (n < 0)
		return -1;
	if (n > 0 && lws_http_transaction_completed(wsi))
		return -1;
	/* LWS_CALLBACK_HTTP_FILE_COMPLETION ends it and gives the slot back
	 * (or the close, if it is cut off). */
	return 0;
}

/*
 * GET /healthz: 200 {"status":"ok","instance":..,"store":..,"connections":N}
 * while the store answers (db_ping), else 503 {"status":"unavailable",..},
 * so that a load balancer sends no new connections to an instance that
 * would fail their requests.  No auth, nothing secret; cheap (one trivial
 * query); connections counts every open socket, this one too.  HEAD gets
 * the same status and headers without the body.  Logged only with
 * --verbose: a balancer asks every few seconds.
 */
static int
http_healthz(struct server *srv, struct lws *wsi, int head)
{
	unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start,
					  *end = buf + sizeof buf;
	char body[256];
	int ok, n;

	/* Outside the batch: the ping must see the store as it is. */
	server_batch_end(srv);
	ok = db_ping(srv->db) == DB_OK;
	/* The bus: none, up or down.  A bus that is down delays delivery by
	 * at most --bus-poll but loses nothing, so it does not make this 503. */
	n = snprintf(body, sizeof body,
		     "{\"status\":\"%s\",\"instance\":\"%s\",\"store\":\"%s\","
		     "\"bus\":\"%s\",\"connections\":%d}\n",
		     ok ? "ok" : "unavailable", srv_instance(), db_backend(srv->db),
		     srv->bus == NULL ? "none" : bus_is_up(srv->bus) ? "up" : "down", srv->n_conns);
	if (n < 0 || (size_t)n >= sizeof body)
		return -1;
	if (srv_verbose)
		srv_log("healthz: %s", ok ? "ok" : "unavailable");
	if (lws_add_http_common_headers(wsi, ok ? HTTP_STATUS_OK : HTTP_STATUS_SERVICE_UNAVAILABLE,
					"application/json", (lws_filepos_t)n, &p, end) != 0 ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL,
					 (const unsigned char *)"no-store", 8, &p, end) != 0 ||
	    lws_finalize_write_http_header(wsi, start, &p, end) != 0)
		return -1;
	if (!head && lws_write(wsi, (unsigned char *)body, (size_t)n, LWS_WRITE_HTTP_FINAL) != n)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* LWS_CALLBACK_HTTP: 1 if the path is not the blob store's (lws's 404
 * then), else what the callback returns. */
int
http_request(struct server *srv, struct conn *c, struct lws *wsi, const char *uri, int *rc)
{
	char id[PROTO_BLOB_ID_LEN + 1], a_exp[32], a_max[32], a_sig[80], want[BLOB_SIG_LEN + 1];
	const char *exp_s, *max_s = NULL, *sig_s;
	int64_t exp, max = 0;
	int put = lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI) > 0;
	int get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;
	int head = lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;

	if (uri != NULL && strcmp(uri, "/healthz") == 0 && (get || head)) {
		*rc = http_healthz(srv, wsi, head);
		return 0;
	}
	if (uri == NULL || strncmp(uri, "/blobs/", 7) != 0)
		return 1;
	if (c == NULL || c->xfer != NULL) {
		*rc = http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, 1);
		return 0;
	}
	if (!put && !get) {
		*rc = http_status(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, 1);
		return 0;
	}
	exp_s = url_arg(wsi, "exp=", a_exp, sizeof a_exp);
	sig_s = url_arg(wsi, "sig=", a_sig, sizeof a_sig);
	if (put)
		max_s = url_arg(wsi, "max=", a_max, sizeof a_max);
	if (blob_parse_path(uri, id) != 0 || exp_s == NULL || sig_s == NULL ||
	    blob_parse_number(exp_s, &exp) != 0 || !proto_valid_hex(sig_s, BLOB_SIG_LEN) ||
	    (put && (max_s == NULL || blob_parse_number(max_s, &max) != 0))) {
		*rc = http_status(wsi, HTTP_STATUS_BAD_REQUEST, put);
		return 0;
	}
	if (put)
		blob_sign_put(srv->blob_key, id, exp, max, want);
	else
		blob_sign_get(srv->blob_key, id, exp, want);
	if (!blob_sig_equal(sig_s, want) || exp < proto_now_ms() / 1000) {
		srv_log("blob %s %s refused: %s", id, put ? "upload" : "download",
			blob_sig_equal(sig_s, want) ? "expired" : "bad signature");
		*rc = http_status(wsi, HTTP_STATUS_FORBIDDEN, put);
		return 0;
	}
	*rc = put ? http_put(srv, c, wsi, id, max) : http_get(srv, c, wsi, id);
	return 0;
}
