/*
 * transfer.c - blob uploads and downloads with libcurl, in a thread each (see
 * transfer.h for why). curl's global state is made once, before any thread.
 */
#include "transfer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <curl/curl.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ok;

static void
curl_init(void)
{
	curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

char *
transfer_url(const char *server_url, const char *path)
{
	const char *rest, *scheme;
	size_t host_len;
	char *url;

	if (server_url == NULL || path == NULL || path[0] != '/')
		return NULL;
	if (strncmp(server_url, "ws://", 5) == 0) {
		rest = server_url + 5;
		scheme = "http://";
	} else if (strncmp(server_url, "wss://", 6) == 0) {
		rest = server_url + 6;
		scheme = "https://";
	} else {
		return NULL;
	}
	/* host[:port], up to the path of the WebSocket URL. */
	host_len = strcspn(rest, "/");
	if (host_len == 0 || (url = malloc(strlen(scheme) + host_len + strlen(path) + 1)) == NULL)
		return NULL;
	sprintf(url, "%s%.*s%s", scheme, (int)host_len, rest, path);
	return url;
}

/* ---- the thread ------------------------------------------------------------------ */

struct io {
	struct transfer *t;
	int fd;
	int64_t bytes; /* sent or received so far */
	int too_big;
	int werr; /* errno of a failed write to the file (disk full...) */
};

static size_t
read_body(char *buf, size_t size, size_t n, void *arg)
{
	struct io *io = arg;
	ssize_t got;

	if (atomic_load(&io->t->cancel))
		return CURL_READFUNC_ABORT;
	do
		got = read(io->fd, buf, size * n);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return CURL_READFUNC_ABORT;
	io->bytes += got;
	/* The file grew since it was measured: what the URL allows was declared. */
	if (io->bytes > io->t->size)
		return CURL_READFUNC_ABORT;
	atomic_store(&io->t->done_bytes, io->bytes);
	return (size_t)got;
}

static size_t
write_body(char *buf, size_t size, size_t n, void *arg)
{
	struct io *io = arg;
	size_t len = size * n, off = 0;

	if (atomic_load(&io->t->cancel))
		return 0;
	/* Bounded by what the message said the blob holds. */
	if (io->bytes + (int64_t)len > io->t->size) {
		io->too_big = 1;
		return 0;
	}
	while (off < len) {
		ssize_t w = write(io->fd, buf + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			io->werr = w < 0 ? errno : EIO;
			return 0;
		}
		off += (size_t)w;
	}
	io->bytes += (int64_t)len;
	atomic_store(&io->t->done_bytes, io->bytes);
	return len;
}

/* A PUT's answer body (a short page): not the application's stdout. */
static size_t
discard(char *buf, size_t size, size_t n, void *arg)
{
	(void)buf;
	(void)arg;
	return size * n;
}

static int
progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct transfer *t = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load(&t->cancel) ? 1 : 0;
}

static void
finish(struct transfer *t, int result)
{
	t->result = result;
	atomic_store(&t->finished, 1);
	if (t->wakefd >= 0)
		eventfd_write(t->wakefd, 1);
}

static void *
run(void *arg)
{
	struct transfer *t = arg;
	struct io io = {t, -1, 0, 0, 0};
	char curl_err[CURL_ERROR_SIZE] = "";
	CURL *h = curl_easy_init();
	struct curl_slist *no_expect = curl_slist_append(NULL, "Expect:");
	CURLcode rc;
	int ok = -1;

	if (h == NULL || no_expect == NULL) {
		snprintf(t->err, sizeof t->err, "cannot start an HTTP transfer (out of memory)");
		curl_easy_cleanup(h);
		curl_slist_free_all(no_expect);
		finish(t, -1);
		return NULL;
	}
	if (t->kind == TRANSFER_PUT)
		io.fd = open(t->path, O_RDONLY | O_CLOEXEC);
	else
		io.fd = open(t->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (io.fd < 0) {
		snprintf(t->err, sizeof t->err, "%s: %s", t->path, strerror(errno));
		curl_easy_cleanup(h);
		curl_slist_free_all(no_expect);
		finish(t, -1);
		/* cppcheck-suppress memleak ; io.fd is -1: nothing was opened */
		return NULL;
	}
	curl_easy_setopt(h, CURLOPT_URL, t->url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	/* No progress for timeout_s: give up (a server that went silent). */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)(t->timeout_s > 0 ? t->timeout_s : 60));
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, t);
	if (t->ca_file != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, t->ca_file);
	if (t->kind == TRANSFER_PUT) {
		/* No "Expect: 100-continue" (curl adds it to bodies over 1 MiB):
		 * chat-server never answers it, so curl would wait a second
		 * before every large upload. */
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, no_expect);
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, read_body);
		curl_easy_setopt(h, CURLOPT_READDATA, &io);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)t->size);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	} else {
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &io);
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &t->http_status);
	if (rc != CURLE_OK && io.werr != 0) {
		snprintf(t->err, sizeof t->err, "writing %s: %s", t->path, strerror(io.werr));
		t->local = 1;
	} else if (rc != CURLE_OK)
		snprintf(t->err, sizeof t->err, "%s",
			 atomic_load(&t->cancel) ? "cancelled"
			 : io.too_big            ? "the server sent more than the blob holds"
			 : curl_err[0]           ? curl_err
						 : curl_easy_strerror(rc));
	else if (t->http_status == 503)
		snprintf(t->err, sizeof t->err,
			 "the server is busy with other transfers (HTTP 503); try again in a moment");
	else if (t->http_status != (t->kind == TRANSFER_PUT ? 201 : 200))
		snprintf(t->err, sizeof t->err, "the server answered HTTP %ld", t->http_status);
	else if (t->kind == TRANSFER_GET && fsync(io.fd) != 0)
		snprintf(t->err, sizeof t->err, "%s: %s", t->path, strerror(errno));
	else
		ok = 0;
	if (close(io.fd) != 0 && ok == 0) {
		snprintf(t->err, sizeof t->err, "%s: %s", t->path, strerror(errno));
		ok = -1;
	}
	/* A download that failed leaves nothing behind. */
	if (ok != 0 && t->kind == TRANSFER_GET)
		unlink(t->path);
	curl_easy_cleanup(h);
	curl_slist_free_all(no_expect);
	finish(t, ok);
	return NULL;
}

int
transfer_start(struct transfer *t)
{
	pthread_once(&curl_once, curl_init);
	atomic_store(&t->finished, 0);
	atomic_store(&t->cancel, 0);
	atomic_store(&t->done_bytes, 0);
	t->err[0] = '\0';
	if (!curl_ok) {
		snprintf(t->err, sizeof t->err, "libcurl could not be set up");
		return -1;
	}
	if (pthread_create(&t->thread, NULL, run, t) != 0) {
		snprintf(t->err, sizeof t->err, "cannot start a thread for the transfer");
		return -1;
	}
	t->started = 1;
	return 0;
}

void
transfer_cancel(struct transfer *t)
{
	atomic_store(&t->cancel, 1);
}

void
transfer_free(struct transfer *t)
{
	if (t->started)
		pthread_join(t->thread, NULL);
	t->started = 0;
	free(t->url);
	free(t->path);
	free(t->ca_file);
	t->url = t->path = t->ca_file = NULL;
}
