#!/usr/bin/env bash
# Restart the instances one at a time, each only once HAProxy sees the
# previous one UP again. Usage: batchtrack-rolling-restart.sh 3101 3102 3103
set -euo pipefail
stats=${HAPROXY_STATS:-http://127.0.0.1:3099/stats;csv}
for port in "$@"; do
	systemctl restart "batchtrack@$port" # SIGTERM: drain, grace, exit; then start
	name=$(systemctl show -p Environment "batchtrack@$port" | grep -o 'INSTANCE_NAME=[^ ]*' || true)
	for _ in $(seq 60); do
		curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
		sleep 0.5
	done
	# rise 2 at inter 1s: HAProxy takes about two seconds to send traffic again.
	for _ in $(seq 60); do
		curl -sf "$stats" | awk -F, -v p=":$port" '$1=="app" && $74 ~ p && $18 ~ /^UP/ {found=1} END {exit !found}' && break
		sleep 0.5
	done
	echo "restarted batchtrack@$port ${name:+($name)}"
done
