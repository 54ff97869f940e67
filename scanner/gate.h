/**
 * \file
 * The gate of probe connections: blocklist, then politeness permits, with a
 * queue for what must wait (see gate.c).
 */
#ifndef MXC_SCANNER_GATE_H
#define MXC_SCANNER_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

#include "probes/blocklist.h"
#include "probes/polite.h"

enum mxc_gate_verdict {
	MXC_GATE_GO = 0,    /**< a permit is held: connect, then mxc_gate_leave() */
	MXC_GATE_BLOCKED,   /**< on the blocklist: do not contact */
	MXC_GATE_CANCELED,  /**< the gate closed first */
};

struct mxc_gate_req;
typedef void (*mxc_gate_fn)(struct mxc_gate_req *r, enum mxc_gate_verdict v);

/** A request to connect; the caller owns it and keeps it alive until go. */
struct mxc_gate_req {
	struct sockaddr_storage addr;  /**< destination (the port is ignored) */
	const char *name;              /**< host name for the blocklist, or NULL */
	mxc_gate_fn go;                /**< called once, maybe before enter returns */
	/* private */
	struct mxc_gate_req *next, *prev;
	uint64_t retry_at;
};

struct mxc_gate_stats {
	uint64_t granted;      /**< permits given */
	uint64_t blocked;      /**< refused by the blocklist */
	uint64_t waited;       /**< requests that had to queue */
	size_t queued;         /**< waiting now */
	size_t peak_queued;
};

struct mxc_gate;

/**
 * @param bl the blocklist (borrowed; may be NULL)
 * @return 0, MXC_ENOMEM, MXC_EINVAL (options)
 */
int mxc_gate_new(uv_loop_t *loop, const struct mxc_polite_opts *o,
		 const struct mxc_blocklist *bl, struct mxc_gate **out);

/** Ask to connect to r->addr; r->go says when (or that it must not). */
void mxc_gate_enter(struct mxc_gate *g, struct mxc_gate_req *r);

/** A connection that was let through has ended: its permit is returned. */
void mxc_gate_leave(struct mxc_gate *g, const struct sockaddr *addr);

void mxc_gate_get_stats(const struct mxc_gate *g, struct mxc_gate_stats *st);

/** Cancel every waiting request (go with MXC_GATE_CANCELED) and free the gate. */
void mxc_gate_close(struct mxc_gate *g);

#endif
