/*
 * fuzz-rpcline.c - libFuzzer target: what a client of chatctl daemon (or
 * rpc's stdin) sends, split into lines (cli/rpc-frame.c, a small bound so
 * overlong lines are exercised) in reads of varying size, each line parsed
 * into a request. The promises: every line handed on is within the bound
 * and holds no '\n'; a request accepted has jsonrpc "2.0", a string method,
 * an id of an allowed type or none, and params an object or none.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../cli/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_LINE 256

static void
on_line(void *arg, char *line, size_t len)
{
	const cJSON *id, *params, *v;
	const char *why = NULL;
	cJSON *req = NULL;
	int code;

	(void)arg;
	if (len > FUZZ_MAX_LINE || memchr(line, '\n', len) != NULL)
		abort();
	code = rpc_request_parse(line, len, &req, &why);
	if (code != 0 && why == NULL)
		abort();
	if (code == 0) {
		id = cJSON_GetObjectItemCaseSensitive(req, "id");
		params = cJSON_GetObjectItemCaseSensitive(req, "params");
		v = cJSON_GetObjectItemCaseSensitive(req, "jsonrpc");
		if (!cJSON_IsString(v) || strcmp(v->valuestring, "2.0") != 0 ||
		    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(req, "method")) ||
		    (id != NULL && !cJSON_IsNumber(id) && !cJSON_IsString(id) &&
		     !cJSON_IsNull(id)) ||
		    (params != NULL && !cJSON_IsObject(params)))
			abort();
	}
	cJSON_Delete(req);
}

static void
on_too_long(void *arg)
{
	++*(int *)arg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_frame f = {.max = FUZZ_MAX_LINE};
	int too_long = 0;
	size_t off = 0, step = size ? (size_t)data[0] % 64 + 1 : 1;

	/* The input in reads of step bytes, as a socket may hand it over. */
	while (off < size) {
		size_t n = size - off < step ? size - off : step;

		rpc_frame_feed(&f, (const char *)data + off, n, on_line, on_too_long, &too_long);
		off += n;
	}
	if (f.len > f.max || f.cap > f.max)
		abort();
	rpc_frame_free(&f);
	return 0;
}
