#!/usr/bin/env bash
# Copies the front-end files the pages load from node_modules (installed by
# `npm ci` from package-lock.json) into static/vendor, which go:embed puts
# into the binary. static/vendor is committed, like sqlc's output, so that
# `go build` on a clean clone gives a complete binary; `make assets` runs
# this script and scripts/check-generated.sh checks the copies are current.
#
#   scripts/copy-assets.sh [NODE_MODULES [DEST]]   (default: node_modules static/vendor)
set -euo pipefail
cd "$(dirname "$0")/.."

src=${1:-node_modules}
dest=${2:-static/vendor}
if [[ ! -f $src/htmx.org/dist/htmx.min.js ]]; then
	echo "copy-assets: $src/htmx.org is missing; run 'npm ci' first" >&2
	exit 1
fi

mkdir -p "$dest"
find "$dest" -mindepth 1 -delete
cp "$src/htmx.org/dist/htmx.min.js" "$dest/htmx.min.js"
cp "$src/htmx.org/LICENSE" "$dest/htmx.LICENSE.txt"
