/**
 * \file
 * Fuzz target for the input readers: the bytes become a file, which is read
 * to the end as a list, as a CSV and as a zone. Every name handed out must
 * be normalised already (normalising it again is a no-op), and the counters
 * must add up. The readers work on file descriptors, so a real temporary
 * file is rewritten for each input rather than using fmemopen.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "scanner/input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static int write_input(const uint8_t *data, size_t size)
{
	FILE *f;

	if (!path[0]) {
		int fd;

		snprintf(path, sizeof(path), "/tmp/mxc_fuzz_input.XXXXXX");
		fd = mkstemp(path);
		if (fd < 0)
			return -1;
		close(fd);
		/* Warnings for every bad line would drown the fuzzer's output. */
		mxc_log_set_level(MXC_LOG_ERROR);
	}
	f = fopen(path, "wb");
	if (!f)
		return -1;
	if (size && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

static void read_as(enum mxc_input_format fmt, size_t size)
{
	const char *files[1] = { path };
	struct mxc_input *in;
	struct mxc_input_item it;
	struct mxc_input_stats st;
	char err[256], again[MXC_NAME_MAX + 1];
	uint64_t names = 0;
	int rc;

	if (mxc_input_open(files, 1, fmt, NULL, &in, err, sizeof(err)) != 0)
		abort();
	while ((rc = mxc_input_next(in, &it)) != 0) {
		if (rc < 0)
			continue;
		if (mxc_name_normalize(it.name, strlen(it.name), again, NULL) != 0 ||
		    strcmp(again, it.name) != 0)
			abort();
		if (it.line == 0)
			abort();
		names++;
	}
	mxc_input_get_stats(in, &st);
	if (st.names != names || st.bytes_read != size || st.bytes_total != size ||
	    st.names + st.invalid + st.duplicates > st.lines + 1)
		abort();
	mxc_input_close(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (write_input(data, size) != 0)
		return 0;
	read_as(MXC_INPUT_LIST, size);
	read_as(MXC_INPUT_CSV, size);
	read_as(MXC_INPUT_ZONE, size);
	return 0;
}
