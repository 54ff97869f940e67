/**
 * \file
 * Fuzz target for the record decoders (store/record.c).
 *
 * Every input goes through both decoders. Besides memory errors, which the
 * sanitizers catch, the target checks three properties and aborts when one
 * fails: a decoder returns only its documented codes; whatever decodes can be
 * encoded again (the encoder accepts everything the decoder does); and the
 * re-encoded bytes decode to an equal record (no field is lost or altered in
 * a round trip).
 *
 * Built with -DMXC_FUZZ_GEN_SEEDS this file is instead a small program that
 * writes the seed corpus into the directory named on its command line:
 *   cc -DMXC_FUZZ_GEN_SEEDS -I. tests/fuzz/fuzz_record.c <libs> -o gen &&
 *   ./gen tests/fuzz/corpus/record
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "store/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_code(int r)
{
	if (r != 0 && r != MXC_ECORRUPT && r != MXC_ESCHEMA && r != MXC_ENOMEM) {
		fprintf(stderr, "decoder returned undocumented %d\n", r);
		abort();
	}
}

static void domain_round_trip(const struct mxc_domain_rec *d)
{
	struct mxc_domain_rec *again;
	struct mxc_buf b;

	mxc_buf_init(&b, SIZE_MAX);
	if (mxc_domain_rec_encode(d, &b) != 0)
		abort(); /* decodable but not encodable */
	if (mxc_domain_rec_decode(b.data, b.len, &again) != 0)
		abort(); /* encoded but not decodable */
	if (!mxc_domain_rec_equal(d, again))
		abort();
	mxc_free(again);
	mxc_buf_free(&b);
}

static void host_round_trip(const struct mxc_host_rec *h)
{
	struct mxc_host_rec *again;
	struct mxc_buf b;

	mxc_buf_init(&b, SIZE_MAX);
	if (mxc_host_rec_encode(h, &b) != 0)
		abort();
	if (mxc_host_rec_decode(b.data, b.len, &again) != 0)
		abort();
	if (!mxc_host_rec_equal(h, again))
		abort();
	mxc_free(again);
	mxc_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mxc_domain_rec *d;
	struct mxc_host_rec *h;
	int r;

	r = mxc_domain_rec_decode(data, size, &d);
	check_code(r);
	if (r == 0) {
		domain_round_trip(d);
		mxc_free(d);
	} else if (d) {
		abort(); /* no record may come back with an error */
	}
	r = mxc_host_rec_decode(data, size, &h);
	check_code(r);
	if (r == 0) {
		host_round_trip(h);
		mxc_free(h);
	} else if (h) {
		abort();
	}
	return 0;
}

#ifdef MXC_FUZZ_GEN_SEEDS
static const char *g_dir;

static void save(const char *name, const struct mxc_buf *b, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", g_dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(b->data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static uint8_t wire[] = { 0x12, 0x34, 0x81, 0xa0, 0, 1, 0, 1, 0, 0, 0, 1,
				  3, 'm', 'x', '1', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
				  0, 0, 1, 0, 1 };
	struct mxc_mx mx[] = { { 0, "mx.example.org" }, { 10, "b.example.net" }, { 65535, "" } };
	struct mxc_raw_answer raw[] = {
		{ "example.org", 15, 1, 0, wire, sizeof(wire) },
		{ "_25._tcp.mx.example.org", 52, 2, 0, wire, 12 },
		{ "", 48, 0, 2, NULL, 0 },
	};
	struct mxc_addr addrs[] = { { 4, { 127, 0, 0, 1 } },
				    { 6, { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } } };
	struct mxc_domain_rec full = { "example.org", "20261129T045602Z-3fa2c1", 1796014562,
				       42, MXC_MX_OK, MXC_DOM_CNAME, 3, mx, 3, raw };
	struct mxc_domain_rec bare = { .domain = "nx.example", .mx_status = MXC_MX_NXDOMAIN };
	struct mxc_host_rec host = { "mx.example.org", "run", 1796014562, 2, addrs, 3, raw };
	struct mxc_host_rec host0 = { .host = "lonely.example" };
	struct mxc_buf b;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	g_dir = argv[1];
#define EMIT(name, fn, rec)                                                 \
	do {                                                                \
		mxc_buf_init(&b, SIZE_MAX);                                 \
		if (fn(&rec, &b) != 0)                                      \
			return 1;                                           \
		save(name, &b, b.len);                                      \
		mxc_buf_free(&b);                                           \
	} while (0)
	EMIT("domain-full", mxc_domain_rec_encode, full);
	EMIT("domain-bare", mxc_domain_rec_encode, bare);
	EMIT("host-full", mxc_host_rec_encode, host);
	EMIT("host-bare", mxc_host_rec_encode, host0);
	/* A field from a newer writer, before the end field. */
	mxc_buf_init(&b, SIZE_MAX);
	mxc_domain_rec_encode(&bare, &b);
	b.len -= 5;
	mxc_buf_append_u8(&b, 200);
	mxc_buf_append_u32(&b, 3);
	mxc_buf_append(&b, "xyz", 3);
	mxc_buf_append_u8(&b, 0);
	mxc_buf_append_u32(&b, 0);
	save("domain-unknown-tag", &b, b.len);
	mxc_buf_free(&b);
	/* A damaged one: cut in the middle of the MX list. */
	mxc_buf_init(&b, SIZE_MAX);
	mxc_domain_rec_encode(&full, &b);
	save("domain-truncated", &b, b.len / 2);
	/* A newer version. */
	b.data[1] = 2;
	save("domain-v2", &b, b.len);
	mxc_buf_free(&b);
	return 0;
}
#endif
