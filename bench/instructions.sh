#!/usr/bin/env bash
# Instructions per operation of Go benchmarks, counted by valgrind's
# callgrind: unlike ns/op, the same on a quiet machine and a busy one, so
# small differences between variants can be trusted. Each figure is the
# difference between a run of 100,000 and one of 300,000 operations (what
# a run spends outside the loop cancels out), with the collector off (its
# timing would differ between the two), the median of three.
#
#   bench/instructions.sh ./web/ratelimit 'GET/handler/(none|memory|fiber-limiter)$'
#
# Needs valgrind (Debian: valgrind). Only user-space work is counted: the
# kernel's part of a request over a socket is not, so use it on benchmarks
# that stay in the process (the ratelimit "handler" transport, say).
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=${1:?usage: bench/instructions.sh PACKAGE BENCH_REGEXP}
re=${2:?usage: bench/instructions.sh PACKAGE BENCH_REGEXP}
command -v valgrind >/dev/null || { echo "valgrind is not installed (Debian: apt-get install valgrind)" >&2; exit 2; }
bin=$(mktemp)
trap 'rm -f "$bin"' EXIT
go test -c -o "$bin" "$pkg"
names=$("$bin" -test.run '^$' -test.bench "$re" -test.benchtime 1x -test.cpu 1 | awk '/^Benchmark/ {print $1}')
[ -n "$names" ] || { echo "no benchmark matches $re in $pkg" >&2; exit 2; }
count() { # benchmark name, operations
  local n try
  for try in 1 2 3; do # valgrind now and then dies on a Go binary: try again
    n=$(GOGC=off valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" -test.run '^$' \
      -test.bench "^${1//\//\$/^}\$" -test.benchtime "${2}x" -test.cpu 1 2>&1 |
      awk '/Collected :/ {print $NF}') || true
    [ -n "$n" ] && { echo "$n"; return; }
  done
  echo "valgrind failed three times on $1" >&2
  exit 1
}
for name in $names; do
  figures=()
  for round in 1 2 3; do
    echo "  $name: round $round of 3..." >&2
    a=$(count "$name" 100000); b=$(count "$name" 300000)
    figures+=($(( (b - a) / 200000 )))
  done
  median=$(printf '%s\n' "${figures[@]}" | sort -n | sed -n 2p)
  printf '%-50s %8d instructions/op   (rounds: %s)\n' "$name" "$median" "${figures[*]}"
done
