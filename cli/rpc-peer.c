/*
 * rpc-peer.c - one client of rpc's JSON-RPC (cmd-rpc.c): chatctl rpc's stdin
 * and stdout, or a socket of chatctl daemon's. Its input is framed into
 * lines (rpc-frame.c); its output waits in a bounded queue, written as the
 * socket takes it, so that one client never holds up the others.
 */
#include "rpc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rpc_peer *
rpc_peer_new(struct rpc *rpc, int fd, const char *name, int all_events)
{
	struct rpc_peer *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	p->rpc = rpc;
	p->fd = fd;
	p->in.max = RPC_MAX_LINE;
	snprintf(p->name, sizeof p->name, "%s", name);
	p->subscribed = all_events;
	p->events = all_events ? UINT32_MAX : 0;
	p->next = rpc->peers;
	rpc->peers = p;
	rpc->npeers++;
	return p;
}

void
rpc_peer_drop(struct rpc_peer *p, const char *why)
{
	if (p->gone)
		return;
	if (why != NULL)
		fprintf(stderr, "chatctl daemon: %s dropped: %s\n", p->name, why);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->gone = 1;
	p->rpc->npeers--;
	free(p->out);
	p->out = NULL;
	p->out_len = p->out_off = p->out_cap = 0;
	/* Not its input buffer: this may run inside rpc_frame_feed on it (an
	 * answer that overflowed the queue); freed with the peer. */
}

int
rpc_peer_wants_write(const struct rpc_peer *p)
{
	return !p->gone && p->out_off < p->out_len;
}

int
rpc_peer_flush(struct rpc_peer *p)
{
	while (!p->gone && p->out_off < p->out_len) {
		ssize_t n = write(p->fd, p->out + p->out_off, p->out_len - p->out_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			rpc_peer_drop(p, NULL); /* it went away: no news */
			break;
		}
		p->out_off += (size_t)n;
	}
	if (p->gone)
		return -1;
	p->out_off = p->out_len = 0;
	return 0;
}

/* Queues one line for p, or writes it to stdout (chatctl rpc, which blocks
 * on a slow reader as it always did: it has no other). */
void
rpc_peer_write(struct rpc_peer *p, const char *s, size_t n)
{
	size_t need;

	if (p->gone)
		return;
	if (p->fd < 0) {
		fwrite(s, 1, n, stdout);
		fputc('\n', stdout);
		fflush(stdout);
		return;
	}
	if (p->out_off > 0 && p->out_off == p->out_len)
		p->out_off = p->out_len = 0;
	need = p->out_len + n + 1;
	if (need - p->out_off > RPC_MAX_QUEUE) {
		rpc_peer_drop(p, "it does not read (output queue over 16 MiB)");
		return;
	}
	if (need > p->out_cap) {
		size_t cap = p->out_cap ? p->out_cap : 4096;
		char *o;

		while (cap < need)
			cap *= 2;
		if ((o = realloc(p->out, cap)) == NULL) {
			rpc_peer_drop(p, "out of memory");
			return;
		}
		p->out = o;
		p->out_cap = cap;
	}
	memcpy(p->out + p->out_len, s, n);
	p->out_len += n;
	p->out[p->out_len++] = '\n';
	/* At once, as far as it goes: most answers never wait for POLLOUT. */
	rpc_peer_flush(p);
}
