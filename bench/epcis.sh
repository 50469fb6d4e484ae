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
# Needs psql (Debian: postgresql-client), curl and python3. Loopback only;
# a capture job is given at most 15 minutes, a query run 60 s. ROUNDS
# (default 3) alternates capture and COPY; QUERY_EVENTS=0 stops after
# them; BIN runs a binary built elsewhere (another commit, for a
# before/after); DEBUG_ADDR (e.g. 127.0.0.1:6060) serves the profiler.
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

echo "== setup: database $dbname, build, server on 127.0.0.1:$PORT"
psql -qX "$admin_url" -c "DROP DATABASE IF EXISTS $dbname" -c "CREATE DATABASE $dbname"
if [ -z "${BIN:-}" ]; then go build -o bin/batchtrack . && BIN=./bin/batchtrack; fi
go build -o bin/epcisdoc ./bench/epcisdoc
export DATABASE_URL=$db_url SEED=false LOG_LEVEL=warn
echo "bench-password-$$-$RANDOM" | "$BIN" user add --email bench@example.com --role admin >/dev/null
token=$("$BIN" token create --user bench@example.com --name bench)
ADDR=127.0.0.1:$PORT DEBUG_ADDR=${DEBUG_ADDR:-} \
  RATE_LIMIT_READ=off RATE_LIMIT_EVENTS_WRITE=off RATE_LIMIT_BATCHES_WRITE=off RATE_LIMIT_MASTER_WRITE=off \
  "$BIN" serve >"$work/serve.log" 2>&1 &
app=$!
trap 'kill $app 2>/dev/null; wait $app 2>/dev/null || true; rm -rf "$work"' EXIT
base=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "$base/readyz" >/dev/null || { echo "the server did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
now_ms() { date +%s%3N; }
psql_run() { psql -qX -v ON_ERROR_STOP=1 "$db_url" "$@"; }

# capture FILE: POST it and poll its job over one keep-alive connection
# until it has finished; prints "JOB MILLISECONDS" (POST to finished job).
capture() {
  python3 - "$PORT" "$token" "$1" <<'PY'
import http.client, json, sys, time
port, token, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = open(path, "rb").read()
auth = {"Authorization": "Bearer " + token}
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
t0 = time.monotonic()
conn.request("POST", "/epcis/capture", body, dict(auth, **{"Content-Type": "application/ld+json"}))
r = conn.getresponse()
answer = r.read()
if r.status != 202:
    sys.exit(f"capture: {r.status} {answer[:2000]!r}")
location = r.getheader("Location")
while True:
    conn.request("GET", location, headers=auth)
    r = conn.getresponse()
    job = json.loads(r.read())
    if r.status != 200:
        sys.exit(f"capture job: {r.status} {job}")
    if not job["running"]:
        break
    if time.monotonic() - t0 > 900:
        sys.exit(f"capture job {job['captureID']} still running after 15 minutes")
    time.sleep(0.01)
ms = (time.monotonic() - t0) * 1000
if not job["success"] or job["storedCount"] != job["eventCount"]:
    sys.exit(f"capture job failed: {json.dumps(job)[:2000]}")
print(job["captureID"], round(ms))
PY
}

tables="events event_epcs event_biz_transactions event_parties event_batches"
# rows_of JOB TABLE: the rows a capture job wrote into TABLE.
rows_of() {
  if [ "$2" = events ]; then echo "SELECT * FROM events WHERE capture_job_id = '$1'"
  else echo "SELECT * FROM $2 WHERE event_id IN (SELECT id FROM events WHERE capture_job_id = '$1')"; fi
}
# counts JOB: the job's row count in every table, one line.
counts() {
  local t out=""
  for t in $tables; do out+="$t=$(psql -qAtX "$db_url" -c "SELECT count(*) FROM ($(rows_of "$1" "$t")) r") "; done
  echo "$out"
}

echo "== capture of $EVENTS events against COPY of the same rows ($ROUNDS rounds, after one unmeasured capture)"
bin/epcisdoc -events "$EVENTS" -run warm >"$work/doc.jsonld"
capture "$work/doc.jsonld" >/dev/null
results=$work/rounds.txt
: >"$results"
for r in $(seq "$ROUNDS"); do
  bin/epcisdoc -events "$EVENTS" -run "c$r" >"$work/doc.jsonld"
  psql_run -c "CHECKPOINT"
  out=$(capture "$work/doc.jsonld")
  read -r job ms <<<"$out"
  before=$(counts "$job")
  echo "  round $r: capture stored $before"
  for t in $tables; do
    psql_run -c "\\copy ($(rows_of "$job" "$t")) TO '$work/$t.copy'"
  done
  # Take them out again (past the append-only triggers), then put the
  # very same rows back with COPY.
  psql_run <<SQL
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM event_batches WHERE event_id IN (SELECT id FROM events WHERE capture_job_id = '$job');
DELETE FROM event_parties WHERE event_id IN (SELECT id FROM events WHERE capture_job_id = '$job');
DELETE FROM event_biz_transactions WHERE event_id IN (SELECT id FROM events WHERE capture_job_id = '$job');
DELETE FROM event_epcs WHERE event_id IN (SELECT id FROM events WHERE capture_job_id = '$job');
DELETE FROM events WHERE capture_job_id = '$job';
COMMIT;
SQL
  psql_run -c "VACUUM ${tables// /, }" -c "CHECKPOINT"
  t0=$(now_ms)
  { echo "BEGIN;"; for t in $tables; do echo "\\copy $t FROM '$work/$t.copy'"; done; echo "COMMIT;"; } | psql_run
  copy_ms=$(( $(now_ms) - t0 ))
  after=$(counts "$job")
  [ "$after" = "$before" ] || { echo "COPY wrote other rows: $after" >&2; exit 1; }
  echo "$r $ms $copy_ms" >>"$results"
  awk -v r="$r" -v n="$EVENTS" -v c="$ms" -v p="$copy_ms" \
    'BEGIN { printf "  round %s: capture %d ms (%.0f events/s), COPY %d ms (%.0f events/s), ratio %.2f\n", r, c, n*1000/c, p, n*1000/p, p/c }'
done
printf '%-6s %12s %12s %7s\n' round capture/s copy/s ratio
awk -v n="$EVENTS" '{ c = n*1000/$2; p = n*1000/$3; printf "%-6s %12.0f %12.0f %7.2f\n", $1, c, p, c/p; s += c/p }
  END { printf "mean ratio capture/COPY over %d rounds: %.2f (requirement: at least 0.30)\n", NR, s/NR }' "$results"

[ "$QUERY_EVENTS" -gt 0 ] || exit 0  # capture against COPY only
have=$(psql -qAtX "$db_url" -c "SELECT count(*) FROM events")
echo "== filling the store to $QUERY_EVENTS events through capture (20,000 per document)"
i=0
start_epoch=$(date -u -d 2026-01-01T06:00:00Z +%s)
while [ "$have" -lt "$QUERY_EVENTS" ]; do
  i=$((i + 1))
  n=$(( QUERY_EVENTS - have < 20000 ? QUERY_EVENTS - have : 20000 ))
  # Each document continues the timeline where the previous one ended.
  bin/epcisdoc -events "$n" -run "q$i" -seed "$i" -start "$(date -u -d "@$(( start_epoch + have * 37 ))" +%FT%TZ)" >"$work/doc.jsonld"
  out=$(capture "$work/doc.jsonld")
  read -r _ ms <<<"$out"
  have=$((have + n))
  echo "  $have events stored (last document: $(( n * 1000 / ms )) events/s)"
done
psql_run -c "VACUUM ANALYZE"

echo "== GET /epcis/events with a filter, $have events stored"
epc=$(psql -qAtX "$db_url" -c "SELECT key FROM event_epcs WHERE role = 'epc' AND NOT is_class ORDER BY event_time DESC OFFSET 12345 LIMIT 1")
class=$(psql -qAtX "$db_url" -c "SELECT key FROM event_epcs WHERE role = 'epc' AND is_class ORDER BY event_time DESC OFFSET 5000 LIMIT 1")
po=$(psql -qAtX "$db_url" -c "SELECT id FROM event_biz_transactions WHERE type = 'po' ORDER BY event_id OFFSET 777 LIMIT 1")
declare -A queries=(
  [match-epc]="MATCH_epc=https://id.gs1.org/$epc"
  [match-epc-class]="MATCH_epcClass=https://id.gs1.org/$class"
  [biz-step]="EQ_bizStep=shipping"
  [po]="EQ_bizTransaction_po=$po"
  [time-window]="GE_eventTime=2026-03-01T00:00:00Z&LT_eventTime=2026-03-02T00:00:00Z&orderBy=eventTime&orderDirection=ASC"
)
names="match-epc match-epc-class biz-step po time-window"
for name in $names; do
  found=$(curl -sSf -H "Authorization: Bearer $token" "$base/epcis/events?${queries[$name]}" |
    python3 -c 'import json, sys; print(len(json.load(sys.stdin)["epcisBody"]["queryResults"]["resultsBody"]["eventList"]))')
  echo "  $name: ${queries[$name]} ($found events on the first page)"
  [ "$found" -gt 0 ] || { echo "query $name finds nothing: the figures would not measure a filter" >&2; exit 1; }
done
printf '%-16s %s\n' query "figures (load tester, 4 workers, 2000 requests after 200 warm-up, at most 60 s)"
for name in $names; do
  rc=0
  "$BIN" loadtest "$base/epcis/events?${queries[$name]}" 4 2000 --warmup 200 --duration 60s --token "$token" \
    --max-p95 50ms --quiet --html "bin/epcis-query-$name.html" --json "$work/$name.json" >/dev/null || rc=$?
  [ "$rc" -le 1 ] || { echo "loadtest failed to run ($rc)" >&2; exit 1; }  # 1: a threshold failed, reported below
  python3 - "$name" "$work/$name.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))
lat = r["latency_ms"]
print(f"{sys.argv[1]:<16} p50 {lat['p50']:.1f} ms  p95 {lat['p95']:.1f} ms  p99 {lat['p99']:.1f} ms  "
      f"ok {r['succeeded']}/{r['requests']}  {r['throughput_rps']:.0f} req/s  "
      f"{'pass' if r['pass'] else 'FAIL'} (P95 < 50 ms, success)")
PY
done
echo "HTML reports: bin/epcis-query-*.html"
