/**
 * \file
 * Sharding: --shard K/N splits any input into N disjoint parts that together
 * cover it, so N machines (a Slurm array, a Kubernetes Indexed Job) can each
 * scan one part of the same list and `mxcensus merge` can join the results.
 *
 * A name belongs to shard K when mxc_hash64(name) mod N == K, computed on the
 * normalised name (A-labels, lower case, no trailing dot). That formula is
 * part of the on-disk contract, like a file format: shards produced by
 * different versions or machines must stay disjoint, so neither the hash
 * (FNV-1a 64, common/util.c) nor the spelling it is applied to may ever
 * change. The hash needs no secret: the input is the user's own list, and
 * FNV-1a spreads DNS names evenly enough for balancing work.
 */
#include "scanner/input.h"

#include <string.h>

#include "common/error.h"
#include "common/util.h"

/* More shards than this is a typo, not a cluster. */
#define SHARD_N_MAX 65536

int mxc_shard_parse(const char *s, struct mxc_shard *out)
{
	char kbuf[16];
	const char *slash;
	uint64_t k, n;
	size_t klen;

	if (!s || !out)
		return MXC_EINVAL;
	slash = strchr(s, '/');
	if (!slash)
		return MXC_EINVAL;
	klen = (size_t)(slash - s);
	if (klen == 0 || klen >= sizeof(kbuf))
		return MXC_EINVAL;
	memcpy(kbuf, s, klen);
	kbuf[klen] = '\0';
	if (mxc_parse_u64(slash + 1, 1, SHARD_N_MAX, &n) != 0)
		return MXC_EINVAL;
	if (mxc_parse_u64(kbuf, 0, n - 1, &k) != 0)
		return MXC_EINVAL;
	out->k = (uint32_t)k;
	out->n = (uint32_t)n;
	return 0;
}

bool mxc_shard_match(const struct mxc_shard *sh, const char *name)
{
	if (!sh || sh->n == 0)
		return true;
	return mxc_hash64(name, strlen(name)) % sh->n == sh->k;
}
