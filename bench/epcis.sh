#!/usr/bin/env bash
# EPCIS capture and query, measured against their physical limits:
#  1. POST /epcis/capture of a 10,000-event document (until its job has
#     stored it), side by side with psql COPY of exactly the rows that
#     capture wrote into the same tables, in one transaction each;
#  2. GET /epcis/events with a filter on a store of QUERY_EVENTS events
#     (default 1,000,000, filled through capture), P50/P95/P99 through HTTP
#     with batchtrack's load tester (HTML reports in bin/).
#
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bench/epcis.sh
#
# Needs psql (Debian: postgresql-client). Loopback only. ROUNDS (default 3)
# alternates capture and COPY; BIN runs a binary built elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BENCH_DATABASE_URL:?set BENCH_DATABASE_URL to a PostgreSQL server where a bench database may be created}"
ROUNDS=${ROUNDS:-3}
EVENTS=${EVENTS:-10000}
QUERY_EVENTS=${QUERY_EVENTS:-1000000}
PORT=${PORT:-3918}
dbname=batchtrack_bench_epcis
admin_url=$BENCH_DATABASE_URL
db_url=$(echo "$admin_url" | sed -E "s#/[^/?]*(\?|$)#/$dbname\1#")
work=$(mktemp -d)
mkdir -p bin

psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $dbname" -c "CREATE DATABASE $dbname"
if [ -z "${BIN:-}" ]; then go build -o bin/batchtrack . && BIN=./bin/batchtrack; fi
go build -o bin/epcisdoc ./bench/epcisdoc
export DATABASE_URL=$db_url SEED=false LOG_LEVEL=warn
echo "bench-password-$$-$RANDOM" | "$BIN" user add --email bench@example.com --role admin >/dev/null
token=$("$BIN" token create --user bench@example.com --name bench)
ADDR=127.0.0.1:$PORT RATE_LIMIT_READ=off RATE_LIMIT_EVENTS_WRITE=off "$BIN" serve >"$work/serve.log" 2>&1 &
app=$!
trap 'kill $app 2>/dev/null; wait $app 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
base=http://127.0.0.1:$PORT
auth=(-H "Authorization: Bearer $token")
now_ms() { date +%s%3N; }

# capture FILE: POST it, wait for its job; prints "JOB MILLISECONDS".
capture() {
  local t0 loc job
  t0=$(now_ms)
  loc=$(curl -sf -o /dev/null -w '%header{location}' "${auth[@]}" -H 'Content-Type: application/ld+json' \
    --data-binary @"$1" "$base/epcis/capture")
  job=${loc##*/}
  while curl -sf "${auth[@]}" "$base$loc" | grep -q '"running":true'; do sleep 0.02; done
  if ! curl -sf "${auth[@]}" "$base$loc" | grep -q '"success":true'; then
    echo "capture job $job failed:" >&2; curl -s "${auth[@]}" "$base$loc" | head -c 2000 >&2; exit 1
  fi
  echo "$job $(( $(now_ms) - t0 ))"
}

tables="events event_epcs event_biz_transactions event_parties event_batches"
# rows_of JOB TABLE: the rows a capture job wrote into TABLE.
rows_of() {
  if [ "$2" = events ]; then echo "SELECT * FROM events WHERE capture_job_id = '$1'"
  else echo "SELECT * FROM $2 WHERE event_id IN (SELECT id FROM events WHERE capture_job_id = '$1')"; fi
}

echo "== capture of $EVENTS events against COPY of the same rows ($ROUNDS rounds)"
printf '%-6s %14s %14s %7s\n' round capture/s copy/s ratio
for r in $(seq "$ROUNDS"); do
  bin/epcisdoc -events "$EVENTS" -run "c$r" > "$work/doc.jsonld"
  read -r job ms < <(capture "$work/doc.jsonld")
  for t in $tables; do
    psql -qX "$db_url" -c "\\copy ($(rows_of "$job" "$t")) TO '$work/$t.copy'"
  done
  # Take them out again, then put the very same rows back with COPY.
  psql -qX "$db_url" -c "BEGIN" \
    $(for t in event_batches event_parties event_biz_transactions event_epcs; do printf -- '-c\0%s\0' "DELETE FROM $t WHERE event_id IN (SELECT id FROM events WHERE capture_job_id = '$job')"; done | xargs -0) \
    -c "DELETE FROM events WHERE capture_job_id = '$job'" -c "COMMIT"
  psql -qX "$db_url" -c "CHECKPOINT" >/dev/null
  t0=$(now_ms)
  { echo "BEGIN;"; for t in $tables; do echo "\\copy $t FROM '$work/$t.copy'"; done; echo "COMMIT;"; } | psql -qX -v ON_ERROR_STOP=1 "$db_url"
  copy_ms=$(( $(now_ms) - t0 ))
  awk -v r="$r" -v n="$EVENTS" -v c="$ms" -v p="$copy_ms" \
    'BEGIN { printf "%-6s %14.0f %14.0f %7.2f\n", r, n*1000/c, n*1000/p, (n*1000/c)/(n*1000/p) }'
done

have=$(psql -qAtX "$db_url" -c "SELECT count(*) FROM events")
echo "== filling the store to $QUERY_EVENTS events through capture (20,000 per document)"
i=0
while [ "$have" -lt "$QUERY_EVENTS" ]; do
  i=$((i + 1))
  n=$(( QUERY_EVENTS - have < 20000 ? QUERY_EVENTS - have : 20000 ))
  bin/epcisdoc -events "$n" -run "q$i" -seed "$i" > "$work/doc.jsonld"
  read -r _ ms < <(capture "$work/doc.jsonld")
  have=$((have + n))
  printf '\r  %8d events stored (last document: %d events/s)' "$have" $(( n * 1000 / ms ))
done
echo
psql -qX "$db_url" -c "VACUUM ANALYZE"

echo "== GET /epcis/events with a filter, $have events stored"
epc=$(psql -qAtX "$db_url" -c "SELECT key FROM event_epcs WHERE role = 'epc' AND NOT is_class ORDER BY event_time DESC OFFSET 12345 LIMIT 1")
class=$(psql -qAtX "$db_url" -c "SELECT key FROM event_epcs WHERE is_class ORDER BY event_time DESC OFFSET 5000 LIMIT 1")
po=$(psql -qAtX "$db_url" -c "SELECT id FROM event_biz_transactions WHERE type = 'po' ORDER BY event_id OFFSET 777 LIMIT 1")
declare -A queries=(
  [match-epc]="MATCH_epc=https://id.gs1.org/$epc"
  [match-epc-class]="MATCH_epcClass=https://id.gs1.org/$class"
  [biz-step]="EQ_bizStep=shipping"
  [po]="EQ_bizTransaction_po=$po"
  [time-window]="GE_eventTime=2026-03-01T00:00:00Z&LT_eventTime=2026-03-02T00:00:00Z&orderBy=eventTime&orderDirection=ASC"
)
printf '%-16s %s\n' query "figures (load tester, 4 workers, 2000 requests, 200 warm-up)"
for name in match-epc match-epc-class biz-step po time-window; do
  "$BIN" loadtest "$base/epcis/events?${queries[$name]}" 4 2000 --warmup 200 --token "$token" \
    --max-p95 50ms --quiet --html "bin/epcis-query-$name.html" --json "$work/$name.json" >/dev/null || true
  python3 - "$name" "$work/$name.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))
lat = r.get("latency_ms") or {}
def g(*ks):
    for k in ks:
        if k in lat: return lat[k]
    return float("nan")
print(f"{sys.argv[1]:<16} p50 {g('p50'):.1f} ms  p95 {g('p95'):.1f} ms  p99 {g('p99'):.1f} ms  "
      f"ok {r.get('succeeded', '?')}/{r.get('requests', '?')}")
PY
done
echo "HTML reports: bin/epcis-query-*.html"
