#!/usr/bin/env bash
# Reproduces the load tester's benchmark: its ceiling against wrk at the
# same concurrency, and its percentiles against vegeta's at the same rate,
# all on one trivial net/http endpoint on 127.0.0.1 in the same session.
#
#   loadtest/bench/compare.sh [CONCURRENCY] [SECONDS] [RATE]
#
# Needs wrk (apt-get install -y wrk) and the Go module proxy for vegeta.
set -euo pipefail

conc=${1:-10}
secs=${2:-5}
rate=${3:-2000}
port=${PORT:-18080}
url="http://127.0.0.1:${port}/"
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'kill "${server_pid:-}" 2>/dev/null || true; rm -rf "$tmp"' EXIT

command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 2; }
(cd "$root" && go build -o "$tmp/okserver" ./loadtest/bench/okserver && go build -o "$tmp/loadtest" ./loadtest/bench/loadtestcmd)
# Pinned, built outside this module so its dependencies stay its own.
(cd "$tmp" && GOBIN="$tmp" go install github.com/tsenart/vegeta/v12@v12.13.0)
vegeta=$tmp/vegeta
[ -x "$vegeta" ] || { echo "could not install vegeta v12.13.0" >&2; exit 2; }

"$tmp/okserver" -addr "127.0.0.1:${port}" >/dev/null &
server_pid=$!
sleep 0.5

rounds=${ROUNDS:-3}
echo "== ceiling, closed loop, concurrency ${conc}, ${secs}s per run, ${rounds} alternating rounds, $(nproc) CPUs"
for round in $(seq "$rounds"); do
	wrk_rps=$(wrk -t2 -c"$conc" -d"${secs}s" "$url" | awk '/Requests\/sec/ {print $2}')
	line="round ${round}: wrk ${wrk_rps} req/s"
	for client in fasthttp nethttp; do
		"$tmp/loadtest" "$url" "$conc" --duration "${secs}s" --client "$client" --quiet --max-avg 0 --max-p95 0 --json "$tmp/$client.json" >/dev/null || true
		rps=$(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['throughput_rps']))" "$tmp/$client.json")
		line+=$(python3 -c "print(f'; loadtest {\"$client\"} $rps req/s ({$rps / $wrk_rps * 100:.0f}% of wrk)')")
	done
	echo "$line"
done

echo
echo "== percentiles, open loop at ${rate} req/s for ${secs}s (ms)"
echo "GET $url" | "$vegeta" attack -rate="$rate" -duration="${secs}s" -keepalive=true >"$tmp/vegeta.bin"
"$vegeta" report -type=json <"$tmp/vegeta.bin" >"$tmp/vegeta.json"
"$tmp/loadtest" "$url" "$conc" --rate "$rate" --duration "${secs}s" --quiet --json "$tmp/open.json" >/dev/null || true
python3 - "$tmp/vegeta.json" "$tmp/open.json" <<'PY'
import json, sys
v = json.load(open(sys.argv[1])); l = json.load(open(sys.argv[2]))
vl = {k: x / 1e6 for k, x in v["latencies"].items()}
ll = l["latency_ms"]
print(f'{"":10} {"requests":>9} {"p50":>8} {"p90":>8} {"p95":>8} {"p99":>8} {"max":>8}')
print(f'{"vegeta":10} {v["requests"]:>9} {vl["50th"]:8.3f} {vl["90th"]:8.3f} {vl["95th"]:8.3f} {vl["99th"]:8.3f} {vl["max"]:8.3f}')
print(f'{"loadtest":10} {l["requests"]:>9} {ll["p50"]:8.3f} {ll["p90"]:8.3f} {ll["p95"]:8.3f} {ll["p99"]:8.3f} {ll["max"]:8.3f}')
PY
