#!/usr/bin/env bash
# Scale-out throughput in one run: consume (one hot lot; ten lots) and
# read (GET /api/batches/{id}) through HAProxy with three instances and with
# one, then one instance straight (through PgBouncer, as the cluster runs
# it), and direct to PostgreSQL with the same settings and with the defaults.
#
#   bench/cluster.sh            # prints a Markdown table
#
# Brings up its own cluster (scripts/cluster.sh) in bin/bench-cluster on
# ports 3200-3299, 5434, 6433, 6391, and takes it down at the end. Needs
# what `make cluster` needs. Each figure runs DURATION (default 10s) after
# a 2s warm-up, CONCURRENCY (default 16) connections, rate limits off. On a
# small machine the load tester shares the cores with every part.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONCURRENCY=${CONCURRENCY:-16}
DIRECT_PORT=${DIRECT_PORT:-3210}
export CLUSTER_DIR=${CLUSTER_DIR:-bin/bench-cluster} CLUSTER_PORT=3200 CLUSTER_STATS_PORT=3299
export CLUSTER_APP_PORTS="3201 3202 3203" CLUSTER_PG_PORT=5434 CLUSTER_PGBOUNCER_PORT=6433 CLUSTER_REDIS_PORT=6391
export LOG_LEVEL=warn RATE_LIMIT_READ=off RATE_LIMIT_CONSUME=off RATE_LIMIT_BATCHES_WRITE=off \
	RATE_LIMIT_EVENTS_WRITE=off RATE_LIMIT_MASTER_WRITE=off
if [[ -z ${BIN:-} ]]; then go build -o bin/batchtrack . && BIN=$PWD/bin/batchtrack; fi
export BIN

scripts/deps.sh postgres redis haproxy pgbouncer
scripts/cluster.sh up >/dev/null
direct=""
cleanup() {
	# shellcheck disable=SC2086 # a list of pids
	[[ -n $direct ]] && kill $direct 2>/dev/null && wait $direct 2>/dev/null
	scripts/cluster.sh down >/dev/null
}
trap cleanup EXIT
token=$(<"$CLUSTER_DIR/etc/admin-token")
front=http://127.0.0.1:$CLUSTER_PORT

# The lot every figure consumes from and reads: a billion units, released.
first=$(curl -sf -H "Authorization: Bearer $token" "$front/api/batches?limit=1")
lot_json=$(python3 -c '
import json, sys
b = json.loads(sys.argv[1])["items"][0]
print(json.dumps({"product_id": b["product"]["id"], "location_id": b["location"]["id"],
    "production_date": b["production_date"], "quantity_produced": "1000000000", "quality_status": "approved"}))' "$first")
hot=$(curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$lot_json" "$front/api/batches" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

# Two instances direct to PostgreSQL: the defaults (the extended protocol
# and the token cache, which LISTENs), as one instance without PgBouncer
# runs; and the cluster's settings (simple protocol, no token cache), so
# the PgBouncer hop shows apart from what running behind it turns off.
direct_with() { # PORT NAME [VAR=VALUE...]
	env DATABASE_URL="$(<"$CLUSTER_DIR/etc/postgres.url")" REDIS_URL="redis://127.0.0.1:$CLUSTER_REDIS_PORT/0" \
		ADDR="127.0.0.1:$1" SEED=false INSTANCE_NAME="$2" "${@:3}" "$BIN" serve >"$CLUSTER_DIR/log/$2.log" 2>&1 &
	direct="$direct $!"
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && break; sleep 0.1; done
}
direct_with "$DIRECT_PORT" direct
direct_with "$((DIRECT_PORT + 1))" direct-simple DB_SIMPLE_PROTOCOL=true TOKEN_CACHE=false
# Each of the two settings alone.
direct_with "$((DIRECT_PORT + 2))" direct-simple-cache DB_SIMPLE_PROTOCOL=true
direct_with "$((DIRECT_PORT + 3))" direct-nocache TOKEN_CACHE=false

# figure URL [loadtest flags]: "req/s | P50 ms | P99 ms | errors" of one run.
figure() {
	local out=$CLUSTER_DIR/run/figure.json
	"$BIN" loadtest "$1" "$CONCURRENCY" --duration "$DURATION" --warmup 2s --token "$token" --quiet \
		--max-avg 0 --max-p95 0 --min-success-rate 0 --json "$out" "${@:2}" >/dev/null || true
	python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
lat = s.get("latency_ms") or s.get("latency") or {}
def ms(k):
    v = lat.get(k)
    return "%.1f" % v if isinstance(v, (int, float)) else "?"
print("%d | %s | %s | %d" % (round(s["throughput_rps"]), ms("p50"), ms("p99"), s.get("failed", 0)))' "$out"
}

# spread URL: consume over the suite's ten lots ("req/s | P50 | P99 | errors").
spread() {
	local out=$CLUSTER_DIR/run/spread.json
	"$BIN" loadtest suite --base-url "$1" --token "$token" --scenarios consume-spread \
		--concurrency "$CONCURRENCY" --requests 10000000 --duration "$DURATION" --max-avg 0 --max-p95 0 \
		--json "$out" --quiet >/dev/null 2>&1 || true
	python3 -c '
import json, sys
def find(o):
    if isinstance(o, dict):
        if "throughput_rps" in o:
            return o
        for v in o.values():
            r = find(v)
            if r: return r
    if isinstance(o, list):
        for v in o:
            r = find(v)
            if r: return r
s = find(json.load(open(sys.argv[1])))
lat = s.get("latency_ms") or s.get("latency") or {}
def ms(k):
    v = lat.get(k)
    return "%.1f" % v if isinstance(v, (int, float)) else "?"
print("%d | %s | %s | %d" % (round(s["throughput_rps"]), ms("p50"), ms("p99"), s.get("failed", 0)))' "$out"
}

row() { # row LABEL BASE
	local base=$2
	echo "| $1 | consume, one lot | $(figure "$base/api/batches/$hot/consume" --body '{"quantity_to_consume":"1"}') |"
	echo "| $1 | consume, ten lots | $(spread "$base") |"
	echo "| $1 | read one lot | $(figure "$base/api/batches/$hot") |"
}

haproxy_down() {
	curl -sf "http://127.0.0.1:$CLUSTER_STATS_PORT/stats;csv" | awk -F, -v s="$1" '$1=="app" && $2==s && $18 ~ /^DOWN|MAINT/ {f=1} END {exit !f}'
}

echo "| path | request | req/s | P50 ms | P99 ms | errors |"
echo "|---|---|---|---|---|---|"
row "HAProxy, 3 instances, PgBouncer" "$front"
scripts/cluster.sh stop app2 >/dev/null
scripts/cluster.sh stop app3 >/dev/null
for _ in $(seq 50); do haproxy_down app2 && haproxy_down app3 && break; sleep 0.1; done
row "HAProxy, 1 instance, PgBouncer" "$front"
row "1 instance, PgBouncer" "http://127.0.0.1:${CLUSTER_APP_PORTS%% *}"
scripts/cluster.sh stop app1 >/dev/null
row "1 instance, direct to PostgreSQL, cluster's settings (simple protocol, no token cache)" "http://127.0.0.1:$((DIRECT_PORT + 1))"
row "1 instance, direct to PostgreSQL, simple protocol, token cache" "http://127.0.0.1:$((DIRECT_PORT + 2))"
row "1 instance, direct to PostgreSQL, prepared statements, no token cache" "http://127.0.0.1:$((DIRECT_PORT + 3))"
row "1 instance, direct to PostgreSQL, defaults (prepared statements, token cache)" "http://127.0.0.1:$DIRECT_PORT"
echo
echo "$(nproc) cores; load average after: $(cut -d' ' -f1-3 /proc/loadavg); DURATION=$DURATION CONCURRENCY=$CONCURRENCY"
