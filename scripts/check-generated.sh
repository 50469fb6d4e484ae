#!/usr/bin/env bash
# Fails when committed generated code (templ views, sqlc queries, the npm
# files in static/vendor) differs from what its sources generate now.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="go tool -modfile=tools/go.mod"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# sqlc compares its output with the tree itself.
if ! out=$($tools sqlc diff 2>&1); then
  echo "$out" | head -40
  echo "sqlc output is stale: run 'make generate' and commit the result"; exit 1
fi

# templ: generate into a copy of views/ and compare with the tree.
if [ -d views ]; then
  cp -r views "$tmp/views"
  find "$tmp/views" -name '*_templ.go' -delete
  $tools templ generate -path "$tmp/views" >/dev/null 2>&1
  if ! out=$(diff -r "$tmp/views" views 2>&1); then
    echo "$out" | head -40
    echo "templ output is stale: run 'make generate' and commit the result"; exit 1
  fi
fi

# static/vendor: install package-lock.json's packages into a scratch
# directory (npm's cache makes this quick after the first time) and copy
# them out as `make assets` does.
mkdir "$tmp/npm"
cp package.json package-lock.json "$tmp/npm/"
if ! out=$(npm ci --prefix "$tmp/npm" --ignore-scripts --no-audit --no-fund --loglevel=error 2>&1); then
  echo "$out" | tail -20
  echo "npm ci failed: cannot check static/vendor against package-lock.json"; exit 1
fi
scripts/copy-assets.sh "$tmp/npm/node_modules" "$tmp/vendor"
if ! out=$(diff -rq "$tmp/vendor" static/vendor 2>&1); then
  echo "$out" | head -40
  echo "static/vendor differs from package-lock.json: run 'make assets' and commit the result"; exit 1
fi
echo "generated code is up to date"
