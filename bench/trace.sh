#!/usr/bin/env bash
# Trace, FSMA report and mock recall on the scale data set, each through
# the HTTP API (the load tester) beside the same work run directly on
# PostgreSQL (bench/tracesql: the inventory service over a pgx pool).
#
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bench/trace.sh
#
# SCALE (default 1) sizes the data set (seed --scale: 100,000 lots and
# 1,000,000 events at 1). The database batchtrack_bench_trace is kept
# between runs: when it already holds a data set of that scale the seed is
# skipped (FRESH=1 rebuilds it). Each measurement is sequential (one
# request at a time), bounded by REQUESTS (default 20) and DURATION
# (default 120s); the direct run repeats the HTTP run's number of
# requests. MOCK_RECALL=0 leaves out (d), POST /api/mock-recalls.
# Loopback only.
# Reports: bin/trace-*.json.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BENCH_DATABASE_URL:?set BENCH_DATABASE_URL to a PostgreSQL server where a bench database may be created}"
SCALE=${SCALE:-1}
DURATION=${DURATION:-120s}
REQUESTS=${REQUESTS:-20}
PORT=${PORT:-3919}
MOCK_RECALL=${MOCK_RECALL:-1}
dbname=batchtrack_bench_trace
admin_url=$BENCH_DATABASE_URL
db_url=$(echo "$admin_url" | sed -E "s#/[^/?]*(\?|$)#/$dbname\1#")
mark="batchtrack seed --scale $SCALE"

mkdir -p bin
if [ -z "${BIN:-}" ]; then go build -o bin/batchtrack . && BIN=./bin/batchtrack; fi
go build -o bin/tracesql ./bench/tracesql
export DATABASE_URL=$db_url SEED=false LOG_LEVEL=warn

have=$(psql -tAq "$admin_url" -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$dbname'")
if [ "${FRESH:-0}" = 1 ] || [ "$have" != "$mark" ]; then
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $dbname" -c "CREATE DATABASE $dbname"
  "$BIN" migrate
  start=$(date +%s)
  "$BIN" seed --scale "$SCALE" | tee bin/trace-seed.log
  echo "seed --scale $SCALE: $(( $(date +%s) - start ))s"
  psql -q "$admin_url" -c "COMMENT ON DATABASE $dbname IS '$mark'"
else
  echo "$dbname already holds a scale $SCALE data set: seed skipped (FRESH=1 rebuilds it)"
fi

sql() { psql -tAq "$db_url" -c "$1"; }
deep=$(sql "SELECT id FROM batches WHERE batch_number = 'SC-DEEP-0001' AND origin = 'received'")
fan=$(sql "SELECT id FROM batches WHERE batch_number = 'SC-FAN-0001' AND origin = 'received'")
# The seed's FSMA product (it prints its GTIN): family 9, stage 0.
product=$(sql "SELECT id FROM products WHERE gtin LIKE '0061414900900_'")
to=$(sql "SELECT max(event_time)::date FROM events")
from=$(sql "SELECT ('$to'::date - 365)::date")
echo "deep root $deep, fan-out $fan, fsma product $product, $from..$to"
if [ -z "$deep" ] || [ -z "$fan" ] || [ -z "$product" ]; then
  echo "the benchmark lots are missing: FRESH=1 rebuilds the data set" >&2; exit 1
fi

echo "bench-password-$$-$RANDOM" | "$BIN" user add --email "bench-trace-$$@example.com" --role admin >/dev/null
token=$("$BIN" token create --user "bench-trace-$$@example.com" --name bench-trace)
ADDR=127.0.0.1:$PORT DB_MAX_CONNS=8 \
  RATE_LIMIT_READ=off RATE_LIMIT_CONSUME=off RATE_LIMIT_BATCHES_WRITE=off RATE_LIMIT_EVENTS_WRITE=off \
  "$BIN" serve >/tmp/bt-bench-trace.log 2>&1 &
app=$!
trap 'kill $app 2>/dev/null; wait $app 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
base=http://127.0.0.1:$PORT

# http NAME URL [loadtest flags...]: one request at a time, the first left out.
http() {
  local name=$1 url=$2
  shift 2
  "$BIN" loadtest "$url" 1 "$REQUESTS" --duration "$DURATION" --warmup 1 --timeout 10m --token "$token" \
    --max-avg 0 --max-p95 0 --min-success-rate 0.99 --name "$name" --json "bin/trace-$name.json" --quiet "$@" >/dev/null ||
    echo "$name: the load tester reports failures (bin/trace-$name.json)" >&2
}
# direct NAME ARGS...: the same number of iterations as the HTTP run managed.
direct() {
  local name=$1 n
  shift
  n=$(jq '.latency_ms.count' "bin/trace-$name.json")
  bin/tracesql -n "$(( n > 0 ? n : 1 ))" "$@" >"bin/trace-$name-direct.json"
}
rows=()
row() { # row NAME WHAT
  local name=$1 what=$2 h d
  h=$(jq -r '"\(.latency_ms.p50) / \(.latency_ms.p95) ms (n=\(.latency_ms.count))"' "bin/trace-$name.json")
  if [ -f "bin/trace-$name-direct.json" ]; then
    d=$(jq -r '"\(.p50_ms) / \(.p95_ms) ms"' "bin/trace-$name-direct.json")
    add=$(jq -rn --slurpfile a "bin/trace-$name.json" --slurpfile b "bin/trace-$name-direct.json" \
      '"\(($a[0].latency_ms.p50 - $b[0].p50_ms) * 10 | round / 10) ms"')
  else
    d="-" add="-"
  fi
  rows+=("$what|$h|$d|$add")
}

http trace-deep "$base/api/batches/$deep/trace?direction=down"
direct trace-deep trace "$deep" down
row trace-deep "(a) trace down SC-DEEP-0001"

http trace-fan "$base/api/batches/$fan/trace?direction=down"
direct trace-fan trace "$fan" down
row trace-fan "(b) trace down SC-FAN-0001"

http fsma "$base/api/fsma/spreadsheet?product_id=$product&from=$from&to=$to&format=csv"
direct fsma fsma "$product" "$from" "$to"
row fsma "(c) FSMA spreadsheet, 1 year (CSV)"

# (d) mock recall of the fan-out lot: the impact report (walk, balances,
# shipments per customer) timed and kept.
if [ "$MOCK_RECALL" = 1 ]; then
  body="{\"batch_ids\":[\"$fan\"],\"note\":\"bench/trace.sh\"}"
  status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' --data "$body" "$base/api/mock-recalls")
  if [ "$status" = 404 ] || [ "$status" = 405 ]; then
    echo "(d) POST /api/mock-recalls answers $status: skipped"
  else
    http mock-recall "$base/api/mock-recalls" --body "$body"
    direct mock-recall mock-recall "$fan"
    row mock-recall "(d) mock recall SC-FAN-0001"
  fi
fi

echo
printf '%s\n' "what|via HTTP P50 / P95|direct P50 / P95|app adds (P50)" "${rows[@]}" | column -t -s '|'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
