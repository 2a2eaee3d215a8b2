/*
 * wire_blobs.c - attachments (PROTOCOL.md, "Attachments"):
 * getAttachmentTarget makes a pending blob and signs the path to upload it
 * to, within the device's quotas; getAttachmentDownload signs the path to
 * fetch a blob a chat of the user refers to.  The bytes travel over HTTP
 * (server_http.c), never through here.
 */
#include "wire_req.h"

#include <stdlib.h>

#include <sodium.h>

#include "blob.h"
#include "proto.h"

/* The expiry of a path signed now: seconds since the epoch. */
static int64_t
blob_expiry(const struct req *r)
{
	return proto_now_ms() / 1000 + (r->h->blob_url_ttl > 0 ? r->h->blob_url_ttl : BLOB_URL_TTL);
}

/*
 * The device's quotas in the blob store (issue 10, item 12): blobs asked for
 * and not uploaded yet, the bytes they may take with this one, and the bytes
 * of the blobs it has uploaded (they go with their messages, at the
 * retention time, or an hour after they were made if no message refers to
 * them). 0 if size fits, else -1 with the request failed (quota_exceeded).
 */
static int
blob_quota_ok(struct req *r, int64_t size)
{
	const struct wire_hooks *h = r->h;
	struct db_blob_usage u;

	if (db_blob_usage(h->db, r->s->user, r->s->device_id, &u) != DB_OK) {
		req_internal(r);
		return -1;
	}
	if (h->max_pending_blobs > 0 && u.pending >= h->max_pending_blobs)
		req_fail(r, "quota_exceeded",
			 "this device has %lld attachments asked for and not uploaded, the most "
			 "it may have; upload them, or wait an hour for them to lapse",
			 (long long)u.pending);
	else if (h->max_pending_blob_bytes > 0 &&
		 u.pending_bytes + size > h->max_pending_blob_bytes)
		req_fail(r, "quota_exceeded",
			 "this device's attachments not uploaded yet would take over %lld bytes "
			 "with this one, the most allowed; upload them first",
			 (long long)h->max_pending_blob_bytes);
	else if (h->max_blob_bytes > 0 && u.stored_bytes + size > h->max_blob_bytes)
		req_fail(r, "quota_exceeded",
			 "this device's attachments on the server would take over %lld bytes "
			 "with this one, the most allowed; older ones go with the retention "
			 "time",
			 (long long)h->max_blob_bytes);
	else
		return 0;
	return -1;
}

/* A new pending blob (its id drawn again on the unlikely collision), and
 * the path to upload it to. */
void
handle_get_attachment_target(struct req *r)
{
	const cJSON *v = req_field(r->msg, "size");
	char blob_id[PROTO_BLOB_ID_LEN + 1], *path = NULL;
	uint8_t raw[PROTO_BLOB_ID_LEN / 2];
	enum db_status st = DB_DUPLICATE;
	int64_t size, exp;
	int tries;

	/* Over the limit is too_large however far over (2^64 included), before
	 * the number is looked at as an integer. */
	if (cJSON_IsNumber(v) && v->valuedouble > (double)r->h->max_blob) {
		req_fail(r, "too_large", "size: at most %lld bytes", (long long)r->h->max_blob);
		return;
	}
	if (!cJSON_IsNumber(v) || !proto_is_integer(v->valuedouble, 1, PROTO_ID_MAX)) {
		req_fail(r, "bad_request", "size: %s",
			 v ? "must be a whole number of bytes, at least 1" : "missing");
		return;
	}
	size = (int64_t)v->valuedouble;
	if (r->h->blob_key == NULL) {
		req_internal(r);
		return;
	}
	if (blob_quota_ok(r, size) != 0)
		return;
	for (tries = 0; tries < 4 && st == DB_DUPLICATE; tries++) {
		db_random_fn(raw, sizeof raw);
		sodium_bin2hex(blob_id, sizeof blob_id, raw, sizeof raw);
		st = db_blob_create(r->h->db, blob_id, r->s->user, r->s->device_id, size,
				    proto_now_ms());
	}
	if (st != DB_OK) {
		req_internal(r);
		return;
	}
	exp = blob_expiry(r);
	if ((path = blob_upload_path(r->h->blob_key, blob_id, exp, size)) == NULL) {
		r->oom = 1;
		return;
	}
	req_reply(r);
	j_str(&r->oom, r->reply, "blobId", blob_id);
	j_int(&r->oom, r->reply, "maxSize", size);
	j_str(&r->oom, r->reply, "uploadPath", path);
	j_int(&r->oom, r->reply, "expiresAt", exp * 1000);
	free(path);
}

void
handle_get_attachment_download(struct req *r)
{
	char blob_id[PROTO_BLOB_ID_LEN + 1], *path;
	int64_t size, exp;

	if (req_hex(r, r->msg, "blobId", PROTO_BLOB_ID_LEN, blob_id) != 0)
		return;
	if (r->h->blob_key == NULL) {
		req_internal(r);
		return;
	}
	switch (db_blob_readable(r->h->db, blob_id, r->s->user, &size)) {
	case DB_OK: break;
	case DB_NOT_FOUND:
		req_fail(r, "no_such_blob", "no complete blob %s in a message of a chat you are in",
			 blob_id);
		return;
	default: req_internal(r); return;
	}
	exp = blob_expiry(r);
	if ((path = blob_download_path(r->h->blob_key, blob_id, exp)) == NULL) {
		r->oom = 1;
		return;
	}
	req_reply(r);
	j_int(&r->oom, r->reply, "size", size);
	j_str(&r->oom, r->reply, "downloadPath", path);
	j_int(&r->oom, r->reply, "expiresAt", exp * 1000);
	free(path);
}
