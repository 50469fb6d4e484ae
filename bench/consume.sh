#!/usr/bin/env bash
# Consume throughput: batchtrack's HTTP consume path against pgbench on the
# same schema, server and session: pgbench running the plain
# lock-update-insert transaction, and pgbench running the app's own locked
# transaction. One hot batch, then 1000 batches.
#
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bench/consume.sh
#
# Needs wrk and pgbench (Debian: wrk, postgresql-client). Loopback only;
# every run is bounded by DURATION (default 10s) per measurement. BIN runs
# a binary built elsewhere (another commit, for a before/after in one run).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BENCH_DATABASE_URL:?set BENCH_DATABASE_URL to a PostgreSQL server where a bench database may be created}"
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-3917}
dbname=batchtrack_bench
admin_url=$BENCH_DATABASE_URL
db_url=$(echo "$admin_url" | sed -E "s#/[^/?]*(\?|$)#/$dbname\1#")

psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $dbname" -c "CREATE DATABASE $dbname"
if [ -z "${BIN:-}" ]; then go build -o bin/batchtrack . && BIN=./bin/batchtrack; fi
export DATABASE_URL=$db_url SEED=false LOG_LEVEL=warn
echo "bench-password-$$-$RANDOM" | "$BIN" user add --email bench@example.com --role admin >/dev/null
token=$("$BIN" token create --user bench@example.com --name bench)
ADDR=127.0.0.1:$PORT DB_MAX_CONNS=$CONNS \
  RATE_LIMIT_READ=off RATE_LIMIT_CONSUME=off RATE_LIMIT_BATCHES_WRITE=off RATE_LIMIT_EVENTS_WRITE=off \
  "$BIN" serve >/tmp/bt-bench.log 2>&1 &
app=$!
trap 'kill $app 2>/dev/null; wait $app 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

# 1000 batches of a large quantity, created in SQL (setup, not measured).
psql -q "$db_url" <<'SQL'
INSERT INTO products (gtin, name) VALUES ('00061414100014', 'Bench coffee');
INSERT INTO locations (gln, name, type) VALUES ('0614141000012', 'Bench plant', 'factory');
INSERT INTO batches (batch_number, product_id, location_id, production_date, quantity_produced, quantity_available, quality_status)
SELECT 'BENCH' || i, (SELECT id FROM products), (SELECT id FROM locations), current_date, 999999999, 999999999, 'approved'
FROM generate_series(1, 1000) i;
SQL
psql -qAt "$db_url" -c "SELECT id FROM batches ORDER BY batch_number" > /tmp/bt-bench-ids
hot=$(head -1 /tmp/bt-bench-ids)
auth=(-H "Authorization: Bearer $token")

cat > /tmp/bt-bench-hot.lua <<LUA
wrk.method = "POST"
wrk.body = '{"quantity_to_consume": "0.001"}'
wrk.headers["Content-Type"] = "application/json"
wrk.path = "/api/batches/$hot/consume"
LUA
# The same with a new Idempotency-Key on every request (as a retrying
# script sends them): the key's result is kept in the consume's statement.
cat > /tmp/bt-bench-hot-keyed.lua <<LUA
wrk.method = "POST"
wrk.body = '{"quantity_to_consume": "0.001"}'
wrk.headers["Content-Type"] = "application/json"
local n, tag = 0, tostring(math.random(1, 1e9))
request = function()
  n = n + 1
  wrk.headers["Idempotency-Key"] = "bench-" .. tag .. "-" .. n
  return wrk.format(nil, "/api/batches/$hot/consume")
end
LUA
cat > /tmp/bt-bench-many.lua <<'LUA'
local ids = {}
for line in io.lines("/tmp/bt-bench-ids") do ids[#ids + 1] = line end
wrk.method = "POST"
wrk.body = '{"quantity_to_consume": "0.001"}'
wrk.headers["Content-Type"] = "application/json"
request = function()
  return wrk.format(nil, "/api/batches/" .. ids[math.random(#ids)] .. "/consume")
end
LUA
cat > /tmp/bt-bench-hot.sql <<SQL
BEGIN;
SELECT quantity_available, version FROM batches WHERE id = '$hot' FOR UPDATE;
UPDATE batches SET quantity_available = quantity_available - 0.001, version = version + 1, updated_at = now() WHERE id = '$hot';
INSERT INTO consumptions (batch_id, kind, quantity, quantity_available_after, version_after, actor)
  SELECT id, 'consume', 0.001, quantity_available, version, 'pgbench' FROM batches WHERE id = '$hot';
END;
SQL
cat > /tmp/bt-bench-many.sql <<'SQL'
\set n random(1, 1000)
BEGIN;
SELECT quantity_available, version FROM batches WHERE batch_number = 'BENCH' || :n FOR UPDATE;
UPDATE batches SET quantity_available = quantity_available - 0.001, version = version + 1, updated_at = now() WHERE batch_number = 'BENCH' || :n;
INSERT INTO consumptions (batch_id, kind, quantity, quantity_available_after, version_after, actor)
  SELECT id, 'consume', 0.001, quantity_available, version, 'pgbench' FROM batches WHERE batch_number = 'BENCH' || :n;
END;
SQL

# The app's own transaction, pipelined as the app sends it, for pgbench.
go run ./bench/consumesql "$hot" > /tmp/bt-bench-same-hot.sql
go run ./bench/consumesql :bid > /tmp/bt-bench-same-many.body.sql
{ echo '\set n random(1, 1000)'; echo "SELECT id AS bid FROM batches WHERE batch_number = 'BENCH' || :n \gset"; cat /tmp/bt-bench-same-many.body.sql; } > /tmp/bt-bench-same-many.sql

rate() { grep -E "^Requests/sec|^tps" | head -1 | grep -oE "[0-9]+\.[0-9]+" | head -1; }
# pgbench's tps, or FAIL when any transaction failed (a broken script
# must not pass for a fast one).
pg() {
  out=$(pgbench -n -M prepared -c "$CONNS" -j "$THREADS" -T "${DURATION%s}" -f "$1" "$db_url" 2>&1)
  if echo "$out" | grep -qE "number of failed transactions: [1-9]|aborted|ERROR"; then echo "FAIL"; echo "$out" | grep -m3 -E "ERROR|aborted|failed" >&2; return; fi
  echo "$out" | grep -E "^tps" | grep -oE "[0-9]+\.[0-9]+" | head -1
}
vac() { psql -q "$db_url" -c "VACUUM ANALYZE batches, consumptions, events, event_batches"; }
# Each measurement follows a 3 s warm-up of the same load (connections,
# prepared statements, and the hot row settled on its page), then VACUUM.
warm_wrk() { wrk -t"$THREADS" -c"$CONNS" -d3s -s "$1" "${auth[@]}" "http://127.0.0.1:$PORT" >/dev/null; vac; }
warm_pg() { pgbench -n -M prepared -c "$CONNS" -j "$THREADS" -T 3 -f "$1" "$db_url" >/dev/null 2>&1 || true; vac; }  # pg reports a failure
echo "measuring ($DURATION each, $CONNS connections), one hot batch..."
warm_wrk /tmp/bt-bench-hot.lua; wrk_hot=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s /tmp/bt-bench-hot.lua "${auth[@]}" "http://127.0.0.1:$PORT" | tee /tmp/bt-bench-wrk-hot.txt | rate)
warm_wrk /tmp/bt-bench-hot-keyed.lua; wrk_keyed=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s /tmp/bt-bench-hot-keyed.lua "${auth[@]}" "http://127.0.0.1:$PORT" | tee /tmp/bt-bench-wrk-keyed.txt | rate)
warm_pg /tmp/bt-bench-hot.sql; pg_hot=$(pg /tmp/bt-bench-hot.sql)
warm_pg /tmp/bt-bench-same-hot.sql; same_hot=$(pg /tmp/bt-bench-same-hot.sql)
echo "measuring 1000 batches..."
warm_wrk /tmp/bt-bench-many.lua; wrk_many=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" -s /tmp/bt-bench-many.lua "${auth[@]}" "http://127.0.0.1:$PORT" | tee /tmp/bt-bench-wrk-many.txt | rate)
warm_pg /tmp/bt-bench-many.sql; pg_many=$(pg /tmp/bt-bench-many.sql)
warm_pg /tmp/bt-bench-same-many.sql; same_many=$(pg /tmp/bt-bench-same-many.sql)
non2xx=$(grep -h "Non-2xx" /tmp/bt-bench-wrk-*.txt || true)

ratio() { echo "scale=2; $1 / $2" | bc; }
printf '\n%-14s %14s %22s %20s\n' "consume" "batchtrack/s" "pgbench plain tps" "pgbench same tps"
printf '%-14s %14s %14s (%5s) %12s (%5s)\n' "one hot batch" "$wrk_hot" "$pg_hot" "$(ratio "$wrk_hot" "$pg_hot")" "$same_hot" "$(ratio "$wrk_hot" "$same_hot")"
printf '%-14s %14s %14s (%5s) %12s (%5s)\n' "hot, keyed" "$wrk_keyed" "$pg_hot" "$(ratio "$wrk_keyed" "$pg_hot")" "$same_hot" "$(ratio "$wrk_keyed" "$same_hot")"
printf '%-14s %14s %14s (%5s) %12s (%5s)\n' "1000 batches" "$wrk_many" "$pg_many" "$(ratio "$wrk_many" "$pg_many")" "$same_many" "$(ratio "$wrk_many" "$same_many")"
echo "plain: BEGIN; SELECT ... FOR UPDATE; UPDATE; INSERT ledger; END (a round trip each)."
echo "same: the app's own statements (lock, then update + ledger + event + link), pipelined as the app sends them."
echo "keyed: a new Idempotency-Key on every request."
echo "(ratios: batchtrack over HTTP, with auth and JSON, divided by pgbench)"
if [ -n "$non2xx" ]; then echo "FAIL: wrk saw non-2xx responses, the figures above are not consumes: $non2xx"; exit 1; fi
psql -qAt "$db_url" -c "SELECT count(*) AS bad FROM batches b WHERE quantity_available <> quantity_produced - coalesce((SELECT sum(quantity) FROM consumptions c WHERE c.batch_id = b.id), 0)" | sed 's/^/batches whose ledger does not explain the balance: /'
