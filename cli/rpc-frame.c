/*
 * rpc-frame.c - the part of JSON-RPC that reads what a client sends: lines
 * out of a byte stream, and a line into a request whose envelope is checked
 * (jsonrpc "2.0", a method, an id of the allowed types, params an object).
 * No I/O and no libchat handle: tests/fuzz/fuzz-rpcline.c runs it on
 * anything, as a socket client of chatctl daemon may send anything.
 */
#include "rpc.h"

#include <stdlib.h>
#include <string.h>

#include "proto.h"

int
rpc_frame_feed(struct rpc_frame *f, const char *buf, size_t n,
	       void (*line)(void *arg, char *line, size_t len), void (*too_long)(void *arg),
	       void *arg)
{
	static char none[1]; /* an empty line before any byte of one was kept */
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			if (!f->skipping)
				line(arg, f->line != NULL ? f->line : none, f->len);
			f->skipping = 0;
			f->len = 0;
			continue;
		}
		if (f->skipping)
			continue;
		if (f->len == f->max) {
			too_long(arg);
			f->skipping = 1;
			continue;
		}
		if (f->len == f->cap) {
			/* Grown as lines need it: 64 idle clients cost little. */
			size_t cap = f->cap ? f->cap * 2 : 4096;
			char *p;

			if (cap > f->max)
				cap = f->max;
			if ((p = realloc(f->line, cap)) == NULL) {
				f->skipping = 1;
				rc = -1;
				continue;
			}
			f->line = p;
			f->cap = cap;
		}
		f->line[f->len++] = buf[i];
	}
	return rc;
}

void
rpc_frame_free(struct rpc_frame *f)
{
	free(f->line);
	memset(f, 0, sizeof *f);
}

int
rpc_request_parse(char *line, size_t len, cJSON **req, const char **why)
{
	const cJSON *id, *params;
	const char *version, *method;
	unsigned bad;

	/* cJSON would cut a string at U+0000 ("a\u0000b" sent as "a"): the
	 * protocol's own rule refuses such a string whole, with the request's id. */
	bad = proto_json_scrub(line, len);
	*req = cJSON_ParseWithLength(line, len);
	if (*req == NULL) {
		*why = "not JSON";
		return RPC_PARSE_ERROR;
	}
	if (!cJSON_IsObject(*req)) {
		/* No id to answer to in an array or a string. */
		cJSON_Delete(*req);
		*req = NULL;
		*why = "a request is a JSON object";
		return RPC_INVALID_REQUEST;
	}
	id = cJSON_GetObjectItemCaseSensitive(*req, "id");
	params = cJSON_GetObjectItemCaseSensitive(*req, "params");
	version = proto_get_str(*req, "jsonrpc");
	method = proto_get_str(*req, "method");
	if (id != NULL && !cJSON_IsNumber(id) && !cJSON_IsString(id) && !cJSON_IsNull(id)) {
		/* Not an id to answer with: answered with null. */
		cJSON_DeleteItemFromObjectCaseSensitive(*req, "id");
		*why = "a request's id is a number, a string or null";
		return RPC_INVALID_REQUEST;
	}
	if (bad != 0) {
		*why = proto_scrub_reason(bad);
		return RPC_INVALID_PARAMS;
	}
	if (version == NULL || strcmp(version, "2.0") != 0 || method == NULL) {
		*why = "a request is "
		       "{\"jsonrpc\":\"2.0\",\"id\":N,\"method\":...,\"params\":{...}}";
		return RPC_INVALID_REQUEST;
	}
	if (params != NULL && !cJSON_IsObject(params)) {
		*why = "params must be an object";
		return RPC_INVALID_PARAMS;
	}
	return 0;
}
