#!/usr/bin/env bash
# Cached-read tail latency at half of the maximum rate (issue 6's target:
# P99 under 2 ms), measured from a separate load-generating process on
# loopback:
#
#   1. the maximum: cached GET /api/events?limit=20, closed loop with 64
#      connections, by batchtrack's load tester and by wrk when installed;
#      the higher of the two counts (the stricter half);
#   2. RUNS open-loop runs of the load tester at half of it, each 10 s
#      after a 1 s warm-up, with each run's P99 and their median;
#   3. the same at a few lower rates, for the curve.
#
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bench/cache-p99.sh
#
# The app runs with demo data in its own database (batchtrack_bench_cache,
# dropped and created again), rate limits off for reads. Each run writes an
# HTML report (latency over time, histogram) to bin/cache-p99-*.html.
# Loopback only; every step is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BENCH_DATABASE_URL:?set BENCH_DATABASE_URL to a PostgreSQL server where a bench database may be created}"
RUNS=${RUNS:-5}
PORT=${PORT:-3918}
LOWER_RATES=${LOWER_RATES:-2000 5000 10000}
dbname=batchtrack_bench_cache
db_url=$(echo "$BENCH_DATABASE_URL" | sed -E "s#/[^/?]*(\?|$)#/$dbname\1#")
url="http://127.0.0.1:$PORT/api/events?limit=20"

psql -q "$BENCH_DATABASE_URL" -c "DROP DATABASE IF EXISTS $dbname" -c "CREATE DATABASE $dbname"
echo "== building"
go build -o bin/batchtrack .
export DATABASE_URL=$db_url LOG_LEVEL=warn
ADDR=127.0.0.1:$PORT RATE_LIMIT_READ=off ./bin/batchtrack serve >/tmp/bt-bench-cache.log 2>&1 &
app=$!
trap 'kill $app 2>/dev/null; wait $app 2>/dev/null || true' EXIT
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
echo "bench-password-$$-$RANDOM" | ./bin/batchtrack user add --email bench@example.com --role admin >/dev/null 2>&1
token=$(./bin/batchtrack token create --user bench@example.com --name bench 2>/dev/null)
curl -sf -o /dev/null -H "Authorization: Bearer $token" "$url" # fills the cache

# field NAME: the first number after NAME in the load tester's summary.
field() { awk -v name="$1" '{ for (i = 1; i < NF; i++) if ($i == name) { print $(i + 1); exit } }'; }

echo "== maximum (closed loop, 64 connections, 8 s after 1 s warm-up)"
max=$(./bin/batchtrack loadtest --quiet --duration 8s --warmup 1s --requests 10000000 \
  --max-avg 0 --max-p95 0 --token "$token" "$url" 64 | awk '/^throughput/ { print int($2) }')
echo "load tester: $max req/s"
if command -v wrk >/dev/null; then
  wrk_max=$(wrk -t2 -c64 -d8s -H "Authorization: Bearer $token" "$url" | awk '/^Requests\/sec/ { print int($2) }')
  echo "wrk:         $wrk_max req/s"
  max=$(( wrk_max > max ? wrk_max : max ))
fi
half=$(( max / 2 ))

# openloop RATE NAME: one 10 s open-loop run; prints its P99 in ms. The
# whole summary goes to bin/cache-p99-NAME.txt, the report next to it.
openloop() {
  if ! ./bin/batchtrack loadtest --quiet --rate "$1" --duration 10s --warmup 1s --requests 10000000 \
    --concurrency 256 --max-avg 0 --max-p95 0 --cache --token "$token" \
    --name "GET /api/events?limit=20 at $1 req/s ($2)" --html "bin/cache-p99-$2.html" "$url" \
    >"bin/cache-p99-$2.txt"; then
    echo "run $2 failed its checks:" >&2
    cat "bin/cache-p99-$2.txt" >&2
    exit 1
  fi
  field P99 <"bin/cache-p99-$2.txt"
}

echo "== $RUNS runs at half the maximum: $half req/s"
p99s=()
for i in $(seq "$RUNS"); do
  p=$(openloop "$half" "half-$i")
  p99s+=("$p")
  echo "run $i of $RUNS: P99 $p ms"
done
median=$(printf '%s\n' "${p99s[@]}" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')

echo "== lower rates, one run each"
for r in $LOWER_RATES; do
  echo "$r req/s: P99 $(openloop "$r" "$r") ms"
done

echo
echo "maximum $max req/s; at half ($half req/s) P99 ${p99s[*]} ms, median $median ms (target < 2 ms)"
echo "reports: bin/cache-p99-*.html, summaries: bin/cache-p99-*.txt"
