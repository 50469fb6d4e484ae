#!/usr/bin/env bash
# Fails when committed generated code (templ views, sqlc queries) differs
# from what its sources generate now.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="go tool -modfile=tools/go.mod"

# sqlc compares its output with the tree itself.
if ! out=$($tools sqlc diff 2>&1); then
  echo "$out" | head -40
  echo "sqlc output is stale: run 'make generate' and commit the result"; exit 1
fi

# templ: generate into a copy of views/ and compare with the tree.
if [ -d views ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  cp -r views "$tmp/views"
  find "$tmp/views" -name '*_templ.go' -delete
  $tools templ generate -path "$tmp/views" >/dev/null 2>&1
  if ! out=$(diff -r "$tmp/views" views 2>&1); then
    echo "$out" | head -40
    echo "templ output is stale: run 'make generate' and commit the result"; exit 1
  fi
fi
echo "generated code is up to date"
