/*
 * media.c - attachments (PROTOCOL.md, "Attachments"): chat_send_files() and
 * chat_download().
 *
 * Sending: every file is encrypted first (attach.c) into the home's tmp/, then,
 * one by one, the server is asked for a pre-signed upload path and the
 * ciphertext is PUT there (transfer.c, in its own thread while the session's
 * loop goes on). Only when every file has arrived is the message written to
 * the store (with its attachments, keys included) and sent like any other,
 * through the outbox: so no message ever points at a blob that did not arrive.
 *
 * Downloading: a pre-signed download path, a GET into tmp/, then attach.c
 * checks the hash and every chunk while it decrypts into a temporary file next
 * to the destination, which takes the destination's name only when complete.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "analyzer.h"
#include "attach.h"
#include "transfer.h"

struct media_job {
	int download;
	chat_progress_cb progress;
	void *parg;
	int64_t total, base; /* encrypted bytes of all files; of those done */
	struct transfer xfer;
	int xfer_on;

	/* upload */
	size_t n, i;
	struct attach_meta metas[PROTO_MAX_BLOBS];
	char *enc[PROTO_MAX_BLOBS]; /* the ciphertext files in tmp/ */
	char *text;

	/* download */
	char message_id[CHAT_MESSAGE_ID_LEN + 1];
	int idx;
	struct attach_meta meta;
	char *tmp, *out;
};

void
media_free(struct media_job *j)
{
	if (j == NULL)
		return;
	if (j->xfer_on) {
		transfer_cancel(&j->xfer);
		transfer_free(&j->xfer);
	}
	for (size_t i = 0; i < j->n; i++) {
		if (j->enc[i] != NULL)
			unlink(j->enc[i]);
		free(j->enc[i]);
		attach_meta_wipe(&j->metas[i]);
	}
	if (j->tmp != NULL)
		unlink(j->tmp);
	free(j->tmp);
	free(j->out);
	if (j->text != NULL)
		sodium_memzero(j->text, strlen(j->text));
	free(j->text);
	attach_meta_wipe(&j->meta);
	free(j);
}

/* DIR/PREFIX-<random hex> under the home's tmp/ (made 0700): malloc'd. */
static char *
tmp_path(struct chat_client *c, const char *prefix)
{
	uint8_t raw[12];
	char hex[25], *p;
	size_t len = strlen(c->home) + strlen(prefix) + 40;

	p = malloc(len);
	if (p == NULL)
		return NULL;
	snprintf(p, len, "%s/tmp", c->home);
	if (mkdir(p, 0700) != 0 && errno != EEXIST) {
		free(p);
		return NULL;
	}
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
	snprintf(p, len, "%s/tmp/%s-%s", c->home, prefix, hex);
	return p;
}

static int
media_error(struct chat_client *c, int rc, const char *err)
{
	switch (rc) {
	case ATTACH_ERR_TOO_LARGE: return client_fail(c, CHAT_ERR_TOO_LARGE, "%s", err);
	case ATTACH_ERR_NOMEM: return client_fail(c, CHAT_ERR_NOMEM, "%s", err);
	case ATTACH_ERR_HASH:
	case ATTACH_ERR_AUTH: return client_fail(c, CHAT_ERR_DECRYPT, "%s", err);
	case ATTACH_ERR_INPUT:
	case ATTACH_ERR_ARGS: return client_fail(c, CHAT_ERR_INVALID, "%s", err);
	default: return client_fail(c, CHAT_ERR_HOME, "%s", err);
	}
}

/* ---- the transfers ------------------------------------------------------------------ */

/* gcc -fanalyzer: no leak; j->xfer holds the copies until transfer_free
 * frees them, here on failure or once the transfer has ended (media_free,
 * transfer_ended); the analyzer loses what goes through j (analyzer.h). */
ANALYZER_LEAK_FP_BEGIN
static int
start_transfer(struct chat_client *c, struct media_job *j, enum transfer_kind kind,
	       const char *path, const char *file, int64_t size)
{
	memset(&j->xfer, 0, sizeof j->xfer);
	j->xfer.kind = kind;
	j->xfer.url = transfer_url(c->server_url, path);
	j->xfer.path = strdup(file);
	j->xfer.ca_file = c->ca_file ? strdup(c->ca_file) : NULL;
	j->xfer.size = size;
	j->xfer.wakefd = c->transport->wake_fd(c);
	if (j->xfer.url == NULL || j->xfer.path == NULL || (c->ca_file && !j->xfer.ca_file)) {
		transfer_free(&j->xfer);
		return client_fail(c, CHAT_ERR_PROTOCOL, "the server gave an unusable blob path");
	}
	if (transfer_start(&j->xfer) != 0) {
		int rc = client_fail(c, CHAT_ERR_NOMEM, "%s", j->xfer.err);

		transfer_free(&j->xfer);
		return rc;
	}
	j->xfer_on = 1;
	return CHAT_OK;
}
ANALYZER_LEAK_FP_END

static int upload_next(struct chat_client *c, struct op *op);

static void
target_reply(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	struct media_job *j = op->media;
	const char *blob = proto_get_str(reply, "blobId"),
		   *path = proto_get_str(reply, "uploadPath");

	if (err == CHAT_OK && (!proto_valid_hex(blob, CHAT_MESSAGE_ID_LEN) || path == NULL))
		err = client_fail(c, CHAT_ERR_PROTOCOL, "the server's upload target is malformed");
	if (err == CHAT_OK) {
		snprintf(j->metas[j->i].blob_id, sizeof j->metas[j->i].blob_id, "%s", blob);
		err = start_transfer(c, j, TRANSFER_PUT, path, j->enc[j->i],
				     (int64_t)j->metas[j->i].enc_size);
	}
	if (err != CHAT_OK)
		op_finish(c, op, err, NULL);
}

static int
upload_next(struct chat_client *c, struct op *op)
{
	struct media_job *j = op->media;
	cJSON *req = request_new("getAttachmentTarget");

	if (req == NULL || !cJSON_AddNumberToObject(req, "size", (double)j->metas[j->i].enc_size)) {
		cJSON_Delete(req);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	return session_request(c, req, target_reply, op, 0);
}

/* Every file is in the blob store: the message now, through the outbox. */
static void
uploads_done(struct chat_client *c, struct op *op)
{
	struct media_job *j = op->media;
	uint8_t raw[CHAT_MESSAGE_ID_LEN / 2];
	char id[CHAT_MESSAGE_ID_LEN + 1];
	struct chat_message m = {0};
	int rc = CHAT_OK;

	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(id, sizeof id, raw, sizeof raw);
	m.chat_id = op->chat_id;
	m.message_id = id;
	m.sender = c->user;
	m.sender_device = c->device_id;
	m.text = j->text ? j->text : "";
	m.text_len = strlen(m.text);
	m.outgoing = 1;
	m.state = "pending";
	m.kind = "text";
	if (store_begin(&c->store) != 0 || store_message_insert(&c->store, &m) < 0)
		rc = -1;
	for (size_t i = 0; rc == CHAT_OK && i < j->n; i++)
		if (store_attachment_put(&c->store, id, (int)i, &j->metas[i]) != 0)
			rc = -1;
	if (rc == CHAT_OK && store_commit(&c->store) != 0)
		rc = -1;
	if (rc != CHAT_OK) {
		store_rollback(&c->store);
		op_finish(c, op, client_fail(c, CHAT_ERR_STORE, "%s", c->store.err), NULL);
		return;
	}
	/* The send itself, with this op's done, as an outbox message goes. */
	rc = send_stored(c, id, op->done, op->arg);
	if (rc == CHAT_OK) /* the send's done is the caller's now; else this op's is */
		op->done = NULL;
	op_finish(c, op, rc, NULL);
}

/* A transfer of op ended: go on, or fail. */
static void
transfer_ended(struct chat_client *c, struct op *op)
{
	struct media_job *j = op->media;
	long status = j->xfer.http_status;
	int ok = j->xfer.result == 0, local = j->xfer.local, err;
	char why[300];

	snprintf(why, sizeof why, "%s", j->xfer.err);
	transfer_free(&j->xfer);
	j->xfer_on = 0;
	if (!ok) {
		/* Our disk (full, a size limit), the server's refusal, or the
		 * network. */
		err = local           ? CHAT_ERR_HOME
		      : status >= 400 ? CHAT_ERR_REFUSED
				      : CHAT_ERR_CONNECTION_LOST;
		op_finish(c, op,
			  client_fail(c, err, "%s of %s failed: %s",
				      j->download ? "the download" : "the upload",
				      j->download ? j->meta.name : j->metas[j->i].name, why),
			  NULL);
		return;
	}
	if (j->download) {
		char aerr[256];
		int rc = attach_decrypt(j->tmp, &j->meta, j->out, aerr, sizeof aerr);

		if (rc != ATTACH_OK) {
			op_finish(c, op, media_error(c, rc, aerr), NULL);
			return;
		}
		if (store_attachment_set_path(&c->store, j->message_id, j->idx, j->out) != 0)
			client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
		op_finish(c, op, CHAT_OK, j->out);
		return;
	}
	unlink(j->enc[j->i]);
	j->base += (int64_t)j->metas[j->i].enc_size;
	if (++j->i < j->n) {
		if ((err = upload_next(c, op)) != CHAT_OK)
			op_finish(c, op, err, NULL);
		return;
	}
	uploads_done(c, op);
}

void
media_poll(struct chat_client *c)
{
	for (struct op *op = c->ops; op != NULL; op = op->next) {
		struct media_job *j = op->media;

		if (op->kind != OP_MEDIA || j == NULL || !j->xfer_on)
			continue;
		if (j->progress)
			j->progress(c, j->parg, j->base + atomic_load(&j->xfer.done_bytes),
				    j->total);
		if (atomic_load(&j->xfer.finished)) {
			transfer_ended(c, op);
			return; /* the list may have changed: the next pass looks again */
		}
	}
}

/* ---- the calls ------------------------------------------------------------------------ */

int
chat_send_files(struct chat_client *c, const char *chat_id, const char *text,
		const char *const *paths, size_t n, chat_progress_cb progress, chat_done_cb done,
		void *arg)
{
	struct media_job *j;
	struct op *op;
	char err[512];
	int rc = client_check_registered(c);

	if (rc != CHAT_OK || (rc = chats_check_id(c, chat_id)) != CHAT_OK ||
	    (rc = blocks_check_send(c, chat_id)) != CHAT_OK)
		return rc;
	if (paths == NULL || n == 0 || n > PROTO_MAX_BLOBS)
		return client_fail(c, CHAT_ERR_INVALID, "attach 1 to %d files", PROTO_MAX_BLOBS);
	if (text != NULL && (strlen(text) > CHAT_MAX_TEXT || !proto_valid_utf8(text, strlen(text))))
		return client_fail(c, CHAT_ERR_INVALID,
				   "the text is not valid UTF-8 text or too long");
	if ((j = calloc(1, sizeof *j)) == NULL || (text && (j->text = strdup(text)) == NULL)) {
		media_free(j);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	j->progress = progress;
	j->parg = arg;
	/* Encrypt them all first: a file that cannot be read fails the call,
	 * before anything reaches the server. */
	for (size_t i = 0; i < n; i++) {
		if ((j->enc[i] = tmp_path(c, "up")) == NULL) {
			media_free(j);
			return client_fail(c, CHAT_ERR_HOME, "cannot make %s/tmp: %s", c->home,
					   strerror(errno));
		}
		j->n = i + 1;
		rc = attach_encrypt(paths[i], j->enc[i], c->max_blob, &j->metas[i], err,
				    sizeof err);
		if (rc != ATTACH_OK) {
			free(j->enc[i]);
			j->enc[i] = NULL;
			media_free(j);
			return media_error(c, rc, err);
		}
		j->total += (int64_t)j->metas[i].enc_size;
	}
	op = op_new(c, OP_MEDIA, done, arg);
	if (op == NULL) {
		media_free(j);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	op->media = j;
	snprintf(op->chat_id, sizeof op->chat_id, "%s", chat_id);
	return op_launch(c, op, upload_next(c, op));
}

static void
download_reply(struct chat_client *c, struct op *op, const cJSON *reply, int err)
{
	struct media_job *j = op->media;
	const char *path = proto_get_str(reply, "downloadPath");

	if (err == CHAT_OK && path == NULL)
		err = client_fail(c, CHAT_ERR_PROTOCOL, "the server's download path is malformed");
	if (err == CHAT_ERR_REFUSED && strcmp(c->server_code, "no_such_blob") == 0)
		err = client_fail(c, CHAT_ERR_REFUSED,
				  "the server will not give %s: it is gone, or you are not "
				  "(or no longer) in the chat",
				  j->meta.name);
	if (err == CHAT_OK)
		err = start_transfer(c, j, TRANSFER_GET, path, j->tmp, (int64_t)j->meta.enc_size);
	if (err != CHAT_OK)
		op_finish(c, op, err, NULL);
}

/* downloads/NAME, or NAME (2), NAME (3)... before the extension, so nothing
 * there is replaced. */
static char *
default_out(struct chat_client *c, const char *name)
{
	size_t len = strlen(c->home) + strlen(name) + 40;
	char *p = malloc(len);
	const char *dot = strrchr(name, '.');
	int stem = dot && dot != name ? (int)(dot - name) : (int)strlen(name);

	if (p == NULL)
		return NULL;
	snprintf(p, len, "%s/downloads", c->home);
	if (mkdir(p, 0700) != 0 && errno != EEXIST) {
		free(p);
		return NULL;
	}
	snprintf(p, len, "%s/downloads/%s", c->home, name);
	for (int k = 2; access(p, F_OK) == 0 && k < 1000; k++)
		snprintf(p, len, "%s/downloads/%.*s (%d)%s", c->home, stem, name, k,
			 dot && dot != name ? dot : "");
	return p;
}

int
chat_download(struct chat_client *c, const char *message_id, size_t idx, const char *out_path,
	      chat_progress_cb progress, chat_done_cb done, void *arg)
{
	struct attach_meta *metas = NULL;
	struct media_job *j;
	struct op *op;
	cJSON *req;
	size_t n = 0;
	int rc = client_check_registered(c);

	if (rc != CHAT_OK)
		return rc;
	if (!proto_valid_hex(message_id, CHAT_MESSAGE_ID_LEN))
		return client_fail(c, CHAT_ERR_INVALID, "'%s' is not a message id",
				   message_id ? message_id : "");
	if (store_attachments(&c->store, message_id, &metas, NULL, &n) != 0)
		return client_fail(c, CHAT_ERR_STORE, "%s", c->store.err);
	if (idx >= n) {
		attach_meta_free(metas, n);
		if (n == 0)
			return client_fail(c, CHAT_ERR_INVALID,
					   "message %s has no attachments here", message_id);
		return client_fail(c, CHAT_ERR_INVALID,
				   "message %s has %zu attachment%s; there is no number %zu",
				   message_id, n, n == 1 ? "" : "s", idx + 1);
	}
	j = calloc(1, sizeof *j);
	if (j != NULL) {
		j->download = 1;
		j->meta = metas[idx];
		j->idx = (int)idx;
		j->progress = progress;
		j->parg = arg;
		j->total = (int64_t)metas[idx].enc_size;
		snprintf(j->message_id, sizeof j->message_id, "%s", message_id);
		j->tmp = tmp_path(c, "down");
		j->out = out_path ? strdup(out_path) : default_out(c, metas[idx].name);
	}
	attach_meta_free(metas, n);
	if (j == NULL || j->tmp == NULL || j->out == NULL) {
		media_free(j);
		return client_fail(c, CHAT_ERR_HOME, "cannot make room for the download in %s",
				   c->home);
	}
	req = request_new("getAttachmentDownload");
	op = req ? op_new(c, OP_MEDIA, done, arg) : NULL;
	if (op == NULL || !cJSON_AddStringToObject(req, "blobId", j->meta.blob_id)) {
		cJSON_Delete(req);
		if (op != NULL) {
			op->done = NULL;
			op_finish(c, op, CHAT_ERR_NOMEM, NULL);
		}
		media_free(j);
		return client_fail(c, CHAT_ERR_NOMEM, "out of memory");
	}
	op->media = j;
	return op_launch(c, op, session_request(c, req, download_reply, op, 0));
}
