#!/bin/bash
# install.sh DEST - install the Parquet readers the tests use (DuckDB's
# @duckdb/node-api, hyparquet, hyparquet-compressors, pinned in this
# folder's package-lock.json) into DEST, and put read.mjs beside them.
#
# `npm ci` runs only when DEST does not yet hold this lock file's install,
# so a rerun does not touch the network. Tests that run at once share DEST:
# an flock on DEST/.install.lock keeps two of them from installing over
# each other. Exit status 0 when the readers are ready, 1 otherwise (the
# npm log on stderr).
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dest=${1:?usage: install.sh DEST}

command -v node >/dev/null || { echo "install.sh: node is not installed (scripts/install-deps.sh)" >&2; exit 1; }
command -v npm >/dev/null || { echo "install.sh: npm is not installed (scripts/install-deps.sh)" >&2; exit 1; }
mkdir -p "$dest"
exec 9>"$dest/.install.lock"
flock 9

if ! cmp -s "$src/package-lock.json" "$dest/package-lock.json" ||
	[[ ! -d $dest/node_modules/hyparquet ]] ||
	[[ ! -d $dest/node_modules/@duckdb/node-api ]]; then
	echo "# installing the Parquet readers into $dest" >&2
	rm -rf "$dest/node_modules" "$dest/package-lock.json"
	cp "$src/package.json" "$src/package-lock.json" "$dest/"
	if ! npm ci --prefix "$dest" --no-audit --no-fund --loglevel=error \
		>"$dest/npm.log" 2>&1; then
		cat "$dest/npm.log" >&2
		# Without the lock file the next run tries again.
		rm -f "$dest/package-lock.json"
		echo "install.sh: npm ci of tests/parquet into $dest failed" >&2
		exit 1
	fi
fi
# read.mjs must sit beside node_modules for its imports to resolve.
cp "$src/read.mjs" "$dest/read.mjs"
