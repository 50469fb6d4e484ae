#!/usr/bin/env bash
# Mixed stock operations against consume alone, in one run of the load
# tester's suite: consume-hot, consume-spread, then mixed-stock
# (transformations sharing inputs in both orders, shipments in transit,
# consumes), followed by its ledger and mass-balance check.
#
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bench/mixed.sh
#
# Loopback only; each scenario is bounded by DURATION (default 10s) and
# REQUESTS. Reports: bin/mixed-suite.json and bin/mixed-suite.html.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BENCH_DATABASE_URL:?set BENCH_DATABASE_URL to a PostgreSQL server where a bench database may be created}"
DURATION=${DURATION:-10s}
REQUESTS=${REQUESTS:-1000000}
CONCURRENCY=${CONCURRENCY:-8}
PORT=${PORT:-3918}
dbname=batchtrack_bench_mixed
admin_url=$BENCH_DATABASE_URL
db_url=$(echo "$admin_url" | sed -E "s#/[^/?]*(\?|$)#/$dbname\1#")

psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $dbname" -c "CREATE DATABASE $dbname"
if [ -z "${BIN:-}" ]; then go build -o bin/batchtrack . && BIN=./bin/batchtrack; fi
export DATABASE_URL=$db_url SEED=false LOG_LEVEL=warn
echo "bench-password-$$-$RANDOM" | "$BIN" user add --email bench@example.com --role admin >/dev/null
token=$("$BIN" token create --user bench@example.com --name bench)
ADDR=127.0.0.1:$PORT DB_MAX_CONNS=32 \
  RATE_LIMIT_READ=off RATE_LIMIT_CONSUME=off RATE_LIMIT_BATCHES_WRITE=off RATE_LIMIT_EVENTS_WRITE=off \
  "$BIN" serve >/tmp/bt-bench-mixed.log 2>&1 &
app=$!
trap 'kill $app 2>/dev/null; wait $app 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

mkdir -p bin
"$BIN" loadtest suite --base-url "http://127.0.0.1:$PORT" --token "$token" \
  --scenarios consume-hot,consume-spread,mixed-stock --concurrency "$CONCURRENCY" \
  --requests "$REQUESTS" --duration "$DURATION" --max-avg 0 --max-p95 0 \
  --json bin/mixed-suite.json --html bin/mixed-suite.html --quiet || status=$?
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
exit "${status:-0}"
