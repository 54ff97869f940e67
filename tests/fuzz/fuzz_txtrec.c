/**
 * \file
 * Fuzz target for the TXT record classifiers (probes/txtrec.c).
 *
 * The first input byte is the separator: the rest is split on it into up to
 * 16 records, and all four classifiers (MTA-STS, TLS-RPT, SPF, DMARC) run on
 * the set. Besides memory errors, the target aborts when a documented
 * property fails: each status is a known value; a valid MTA-STS record has
 * an id of 1..32 letters and digits; a valid TLS-RPT record has a non-empty
 * rua list of mailto:/https: URIs; an invalid one has a reason and no id or
 * rua; and no classifier's answer depends on the order of the records.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "probes/txtrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECS 16

#define CHECK(x)                                                            \
	do {                                                                \
		if (!(x)) {                                                 \
			fprintf(stderr, "property failed: %s\n", #x);       \
			abort();                                            \
		}                                                           \
	} while (0)

static int alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int ieq_prefix(const char *s, const char *lit)
{
	size_t i;

	for (i = 0; lit[i]; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (c != lit[i])
			return 0;
	}
	return 1;
}

static void check_sts(const struct mxc_sts_txt *o)
{
	size_t i, n = strnlen(o->id, sizeof(o->id));

	CHECK(n < sizeof(o->id));
	switch (o->status) {
	case MXC_TXTREC_VALID:
		CHECK(o->reason == NULL);
		CHECK(n >= 1 && n <= MXC_STS_ID_MAX);
		for (i = 0; i < n; i++)
			CHECK(alnum(o->id[i]));
		break;
	case MXC_TXTREC_INVALID:
		CHECK(o->reason != NULL && n == 0);
		break;
	case MXC_TXTREC_NONE:
	case MXC_TXTREC_MULTIPLE:
		CHECK(o->reason == NULL && n == 0);
		break;
	default:
		CHECK(!"unknown status");
	}
}

static void check_tlsrpt(const struct mxc_tlsrpt_txt *o)
{
	size_t n = strnlen(o->rua, sizeof(o->rua));
	const char *p;

	CHECK(n < sizeof(o->rua));
	switch (o->status) {
	case MXC_TXTREC_VALID:
		CHECK(o->reason == NULL);
		CHECK(n > 0 || o->rua_truncated);
		for (p = o->rua; n > 0 && p; p = strchr(p, ';'), p = p ? p + 1 : NULL)
			CHECK(ieq_prefix(p, "mailto:") || ieq_prefix(p, "https://"));
		break;
	case MXC_TXTREC_INVALID:
		CHECK(o->reason != NULL && n == 0);
		break;
	case MXC_TXTREC_NONE:
	case MXC_TXTREC_MULTIPLE:
		CHECK(o->reason == NULL && n == 0);
		break;
	default:
		CHECK(!"unknown status");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mxc_txtrec recs[MAX_RECS], rev[MAX_RECS];
	static struct mxc_tlsrpt_txt t1, t2;
	struct mxc_sts_txt s1, s2;
	enum mxc_spf_status spf;
	enum mxc_dmarc_status dmarc;
	size_t n = 0, i;
	const uint8_t *p, *end;
	uint8_t sep;

	if (size < 1)
		return 0;
	sep = data[0];
	p = data + 1;
	end = data + size;
	while (n < MAX_RECS) {
		const uint8_t *q = memchr(p, sep, (size_t)(end - p));

		recs[n].data = p;
		recs[n].len = (size_t)((q ? q : end) - p);
		n++;
		if (!q)
			break;
		p = q + 1;
	}
	for (i = 0; i < n; i++)
		rev[i] = recs[n - 1 - i];

	CHECK(mxc_txtrec_sts(recs, n, &s1) == 0);
	check_sts(&s1);
	CHECK(mxc_txtrec_sts(rev, n, &s2) == 0);
	CHECK(s1.status == s2.status);
	if (s1.status != MXC_TXTREC_MULTIPLE)
		CHECK(strcmp(s1.id, s2.id) == 0);

	CHECK(mxc_txtrec_tlsrpt(recs, n, &t1) == 0);
	check_tlsrpt(&t1);
	CHECK(mxc_txtrec_tlsrpt(rev, n, &t2) == 0);
	CHECK(t1.status == t2.status);
	if (t1.status != MXC_TXTREC_MULTIPLE)
		CHECK(strcmp(t1.rua, t2.rua) == 0);

	spf = mxc_txtrec_spf(recs, n);
	CHECK(strcmp(mxc_txtrec_spf_name(spf), "?") != 0);
	CHECK(mxc_txtrec_spf(rev, n) == spf);

	dmarc = mxc_txtrec_dmarc(recs, n);
	CHECK(strcmp(mxc_txtrec_dmarc_name(dmarc), "?") != 0);
	CHECK(mxc_txtrec_dmarc(rev, n) == dmarc);
	return 0;
}
