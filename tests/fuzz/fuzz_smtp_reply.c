/**
 * \file
 * Fuzz target for the SMTP reply parser (probes/smtp_reply.c).
 *
 * The input is parsed as bytes received from a server, then every prefix
 * length the prober could see is tried too, as the prober re-parses after
 * each read. Besides memory errors, the target aborts when a documented
 * property fails: a complete reply has a code in 200..599, 1..LINES_MAX
 * lines whose spans lie inside the consumed bytes, in order, and consumed
 * ends just after a line feed; an error has a reason; a prefix of a
 * complete reply that ends before its last line feed is never complete, and
 * a longer buffer never changes a complete reply.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "probes/smtp_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                            \
	do {                                                                \
		if (!(x)) {                                                 \
			fprintf(stderr, "property failed: %s\n", #x);       \
			abort();                                            \
		}                                                           \
	} while (0)

static void check_reply(const uint8_t *data, size_t size, const struct mxc_smtp_reply *r, int rc)
{
	size_t i, prev = 0;

	if (rc < 0) {
		CHECK(rc == MXC_EPARSE && r->error != NULL);
		return;
	}
	CHECK(rc == 0 || rc == 1);
	if (rc == 0)
		return;
	CHECK(r->code >= 200 && r->code <= 599);
	CHECK(r->nlines >= 1 && r->nlines <= MXC_SMTP_LINES_MAX);
	CHECK(r->consumed >= 4 && r->consumed <= size);
	CHECK(data[r->consumed - 1] == '\n');
	for (i = 0; i < r->nlines; i++) {
		CHECK(r->text[i].off >= prev);
		CHECK(r->text[i].off + r->text[i].len < r->consumed);
		CHECK(r->text[i].len < MXC_SMTP_LINE_MAX);
		prev = r->text[i].off + r->text[i].len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mxc_smtp_reply r, p;
	int rc, prc;
	size_t cut;

	rc = mxc_smtp_reply_parse(data, size, &r);
	check_reply(data, size, &r, rc);
	if (rc != 1)
		return 0;
	/* Every prefix that ends before the last line feed is incomplete or,
	 * never, complete with another answer. */
	for (cut = 0; cut < r.consumed; cut += 1 + cut / 8) {
		prc = mxc_smtp_reply_parse(data, cut, &p);
		check_reply(data, cut, &p, prc);
		CHECK(prc != 1);
	}
	/* The bytes after the reply do not change it. */
	prc = mxc_smtp_reply_parse(data, r.consumed, &p);
	CHECK(prc == 1 && p.code == r.code && p.nlines == r.nlines && p.consumed == r.consumed);
	CHECK(memcmp(p.text, r.text, r.nlines * sizeof(r.text[0])) == 0);
	return 0;
}
