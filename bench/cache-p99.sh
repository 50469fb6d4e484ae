#!/usr/bin/env bash
# Cached-read tail latency at half of the maximum rate (issue 6's target:
# P99 under 2 ms), measured from a separate load-generating process on
# loopback, for the app and for a control:
#
#   1. the maximum: cached GET /api/events?limit=20, closed loop with 64
#      connections, by batchtrack's load tester and by wrk when installed;
#      the higher of the two counts (the stricter half);
#   2. RUNS open-loop runs of the load tester at half of it, each 10 s
#      after a 1 s warm-up, with each run's P99 and their median;
#   3. the same at a few lower rates, for the curve;
#   4. all of it again against bench/bareserver, a bare Fiber handler
#      answering with the same bytes: the tail latency this machine allows
#      whatever the handler does.
#
# Each run also prints the CPU time a request of the server and of the load
# tester, and how busy the machine's CPUs were.
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
BARE_PORT=${BARE_PORT:-3919}
LOWER_RATES=${LOWER_RATES:-2000 5000 10000}
dbname=batchtrack_bench_cache
db_url=$(echo "$BENCH_DATABASE_URL" | sed -E "s#/[^/?]*(\?|$)#/$dbname\1#")
url="http://127.0.0.1:$PORT/api/events?limit=20"

psql -q "$BENCH_DATABASE_URL" -c "DROP DATABASE IF EXISTS $dbname" -c "CREATE DATABASE $dbname"
echo "== building"
go build -o bin/batchtrack .
go build -o bin/bareserver ./bench/bareserver
export DATABASE_URL=$db_url LOG_LEVEL=warn
ADDR=127.0.0.1:$PORT RATE_LIMIT_READ=off ./bin/batchtrack serve >/tmp/bt-bench-cache.log 2>&1 &
app=$!
bare=
trap 'kill $app $bare 2>/dev/null; wait $app $bare 2>/dev/null || true' EXIT
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
echo "bench-password-$$-$RANDOM" | ./bin/batchtrack user add --email bench@example.com --role admin >/dev/null 2>&1
token=$(./bin/batchtrack token create --user bench@example.com --name bench 2>/dev/null)
curl -sf -o /dev/null -H "Authorization: Bearer $token" "$url" # fills the cache
curl -sf -o bin/cache-p99-body.json -H "Authorization: Bearer $token" "$url"
./bin/bareserver -addr "127.0.0.1:$BARE_PORT" -body bin/cache-p99-body.json &
bare=$!
bare_url="http://127.0.0.1:$BARE_PORT/api/events?limit=20"
for _ in $(seq 50); do curl -sf -o /dev/null "$bare_url" && break; sleep 0.1; done

# field NAME: the first number after NAME in the load tester's summary.
field() { awk -v name="$1" '{ for (i = 1; i < NF; i++) if ($i == name) { print $(i + 1); exit } }'; }

# CPU time in clock ticks: of process PID; of the finished children of
# shell PID; busy and in all, of the whole machine.
tick_us=$(( 1000000 / $(getconf CLK_TCK) ))
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
children_ticks() { awk '{ print $16 + $17 }' "/proc/$1/stat"; }
machine_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }

# The server measured: its URL, its process, the load tester's flags for it.
target_url= target_pid= target_flags=()

# maximum: the higher of the load tester's and wrk's closed-loop rates.
maximum() {
  local lt w
  lt=$(./bin/batchtrack loadtest --quiet --duration 8s --warmup 1s --requests 10000000 \
    --max-avg 0 --max-p95 0 "${target_flags[@]}" "$target_url" 64 | awk '/^throughput/ { print int($2) }')
  echo "load tester: $lt req/s" >&2
  if command -v wrk >/dev/null; then
    w=$(wrk -t2 -c64 -d8s -H "Authorization: Bearer $token" "$target_url" | awk '/^Requests\/sec/ { print int($2) }')
    echo "wrk:         $w req/s" >&2
    lt=$(( w > lt ? w : lt ))
  fi
  echo "$lt"
}

# openloop RATE NAME: one 10 s open-loop run. Prints its P99 in ms, the
# server's and the load tester's CPU time a request in µs (warm-up
# included), and how busy the machine's CPUs were in %. The whole summary
# goes to bin/cache-p99-NAME.txt, the report next to it.
openloop() {
  local s0 c0 b0 t0 s1 c1 b1 t1 sent shell=$BASHPID
  s0=$(proc_ticks "$target_pid"); c0=$(children_ticks "$shell"); read -r b0 t0 < <(machine_ticks)
  if ! ./bin/batchtrack loadtest --quiet --rate "$1" --duration 10s --warmup 1s --requests 10000000 \
    --concurrency 256 --max-avg 0 --max-p95 0 "${target_flags[@]}" \
    --name "GET /api/events?limit=20 at $1 req/s ($2)" --html "bin/cache-p99-$2.html" "$target_url" \
    >"bin/cache-p99-$2.txt"; then
    echo "run $2 failed its checks:" >&2
    cat "bin/cache-p99-$2.txt" >&2
    exit 1
  fi
  s1=$(proc_ticks "$target_pid"); c1=$(children_ticks "$shell"); read -r b1 t1 < <(machine_ticks)
  sent=$(( $(field requests <"bin/cache-p99-$2.txt") + $(awk -F'warm-up excluded: ' 'NF > 1 { print int($2) }' "bin/cache-p99-$2.txt") ))
  echo "$(field P99 <"bin/cache-p99-$2.txt") $(( (s1 - s0) * tick_us / sent )) $(( (c1 - c0) * tick_us / sent )) $(( 100 * (b1 - b0) / (t1 - t0) ))"
}

# measure NAME: the maximum, RUNS runs at half of it, the lower rates; sets
# summary to one line of the results.
measure() {
  local max half out p srv gen busy median p99s=()
  echo "== $1: maximum (closed loop, 64 connections, 8 s after 1 s warm-up)"
  max=$(maximum)
  half=$(( max / 2 ))
  echo "== $1: $RUNS runs at half the maximum: $half req/s"
  for i in $(seq "$RUNS"); do
    out=$(openloop "$half" "$1-half-$i")
    read -r p srv gen busy <<<"$out"
    p99s+=("$p")
    echo "run $i of $RUNS: P99 $p ms; CPU a request: server $srv µs, load tester $gen µs; CPUs $busy % busy"
  done
  median=$(printf '%s\n' "${p99s[@]}" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
  echo "== $1: lower rates, one run each"
  for r in $LOWER_RATES; do
    out=$(openloop "$r" "$1-$r")
    read -r p srv gen busy <<<"$out"
    echo "$r req/s: P99 $p ms; CPU a request: server $srv µs, load tester $gen µs; CPUs $busy % busy"
  done
  summary="$1: maximum $max req/s; at half ($half req/s) P99 ${p99s[*]} ms, median $median ms"
}

target_url=$url target_pid=$app target_flags=(--token "$token" --cache)
measure app
app_summary=$summary
target_url=$bare_url target_pid=$bare target_flags=()
measure bare
bare_summary=$summary

echo
echo "$app_summary (target < 2 ms)"
echo "$bare_summary"
echo "reports: bin/cache-p99-*.html, summaries: bin/cache-p99-*.txt"
