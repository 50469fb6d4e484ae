#!/usr/bin/env bash
# Copies the front-end files the pages load from node_modules (installed by
# `npm ci` from package-lock.json) into static/vendor, which go:embed puts
# into the binary. static/vendor is git-ignored: this script recreates it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -f node_modules/htmx.org/dist/htmx.min.js ]]; then
	echo "copy-assets: node_modules/htmx.org is missing; run 'npm ci' first" >&2
	exit 1
fi

dest=static/vendor
mkdir -p "$dest"
# Keep the ignore file (so git never sees the copies), replace the rest.
find "$dest" -mindepth 1 ! -name .gitignore -delete
cp node_modules/htmx.org/dist/htmx.min.js "$dest/htmx.min.js"
cp node_modules/htmx.org/LICENSE "$dest/htmx.LICENSE.txt"
