#!/usr/bin/env bash
# A batchtrack cluster on one machine, from the system's packages:
# PostgreSQL (private, in CLUSTER_DIR/pg), PgBouncer in transaction mode in
# front of it, Redis, three `batchtrack serve` instances, and HAProxy in
# front of them. Everything listens on 127.0.0.1.
#
#   scripts/cluster.sh up|down|status|restart|logs [PART]
#   scripts/cluster.sh start PART | stop PART
#
# Parts: postgres pgbouncer redis app1 app2 app3 haproxy. Settings (the
# environment; docs/deploy.md, "The local cluster's settings"): CLUSTER_DIR, CLUSTER_PORT,
# CLUSTER_STATS_PORT, CLUSTER_APP_PORTS, CLUSTER_PG_PORT,
# CLUSTER_PGBOUNCER_PORT, CLUSTER_REDIS_PORT, BIN. Other batchtrack
# variables in the environment (RATE_LIMIT_*, LOG_LEVEL, SHUTDOWN_DRAIN...)
# reach the instances.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

CLUSTER_DIR=${CLUSTER_DIR:-.cluster}
mkdir -p "$CLUSTER_DIR"
CLUSTER_DIR=$(cd "$CLUSTER_DIR" && pwd)
CLUSTER_PORT=${CLUSTER_PORT:-3000}
CLUSTER_STATS_PORT=${CLUSTER_STATS_PORT:-3099}
read -r -a app_ports <<<"${CLUSTER_APP_PORTS:-3101 3102 3103}"
CLUSTER_PG_PORT=${CLUSTER_PG_PORT:-5433}
CLUSTER_PGBOUNCER_PORT=${CLUSTER_PGBOUNCER_PORT:-6432}
CLUSTER_REDIS_PORT=${CLUSTER_REDIS_PORT:-6390}
admin_email=${CLUSTER_ADMIN_EMAIL:-admin@example.com}

etc=$CLUSTER_DIR/etc
logdir=$CLUSTER_DIR/log
run=$CLUSTER_DIR/run
mkdir -p "$etc" "$logdir" "$run"

apps=()
for i in "${!app_ports[@]}"; do apps+=("app$((i + 1))"); done
parts=(postgres pgbouncer redis "${apps[@]}" haproxy)

die() {
	echo "cluster: $*" >&2
	exit 1
}

bin() {
	if [[ -z ${BIN:-} ]]; then
		go build -o bin/batchtrack . || die "go build failed"
		BIN=$repo/bin/batchtrack
	fi
	[[ $BIN == /* ]] || BIN=$repo/$BIN
	[[ -x $BIN ]] || die "BIN=$BIN is not an executable"
}

find_prog() {
	local name=$1 d
	command -v "$name" 2>/dev/null && return
	for d in /usr/sbin /usr/local/sbin; do
		[[ -x $d/$name ]] && echo "$d/$name" && return
	done
	die "$name is not installed (scripts/deps.sh ${2:-$name})"
}

# The program a part's pid must be, so a reused pid is not taken for it.
comm_of() {
	case $1 in
	postgres | app*) echo batchtrack ;;
	redis) echo redis-server ;;
	*) echo "$1" ;;
	esac
}

# pid_of PART prints the live pid of PART, or fails. Zombies count as gone:
# a container's init may not reap the parts this script left behind.
pid_of() {
	local f=$run/$1.pid pid state comm
	[[ -s $f ]] || return 1
	pid=$(<"$f")
	[[ -r /proc/$pid/stat ]] || return 1
	state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[[ $state != Z && $state != X ]] || return 1
	comm=$(<"/proc/$pid/comm") || return 1
	[[ $comm == "$(comm_of "$1")"* ]] || return 1
	echo "$pid"
}

port_of() {
	case $1 in
	postgres) echo "$CLUSTER_PG_PORT" ;;
	pgbouncer) echo "$CLUSTER_PGBOUNCER_PORT" ;;
	redis) echo "$CLUSTER_REDIS_PORT" ;;
	haproxy) echo "$CLUSTER_PORT" ;;
	app*) echo "${app_ports[${1#app} - 1]}" ;;
	*) die "unknown part '$1' (parts: ${parts[*]})" ;;
	esac
}

listening() { (: </dev/tcp/127.0.0.1/"$1") 2>/dev/null; }

# wait_until SECONDS WHAT COMMAND...: polls COMMAND every 0.1s; when WHAT
# is a part that has exited, gives up at once with its log's end.
wait_until() {
	local secs=$1 what=$2
	shift 2
	local i
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		if [[ -e $run/$what.pid ]] && ! pid_of "$what" >/dev/null; then
			tail -n 5 "$logdir/$what.log" >&2
			die "$what: exited during start; see $logdir/$what.log"
		fi
		sleep 0.1
	done
	die "$what: not ready after ${secs}s; see $logdir/"
}

# launch PART COMMAND...: in its own session (a Ctrl-C in the terminal
# that ran `up` does not reach it), output to its log, pid to its file.
launch() {
	local part=$1
	shift
	echo "== $(date -Is) start" >>"$logdir/$part.log"
	setsid "$@" >>"$logdir/$part.log" 2>&1 </dev/null &
	local pid=$! i want
	echo "$pid" >"$run/$part.pid"
	# The pid is a forked shell, then setsid, before it is the part's program.
	want=$(comm_of "$part")
	for ((i = 0; i < 200; i++)); do
		[[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$want"* ]] && break
		[[ -e /proc/$pid ]] || break
		sleep 0.01
	done
}

# render TEMPLATE OUT KEY=VALUE...: fills {{KEY}} placeholders.
render() {
	local text kv
	text=$(<"$1")
	for kv in "${@:3}"; do
		text=${text//"{{${kv%%=*}}}"/"${kv#*=}"}
	done
	printf '%s\n' "$text" >"$2"
}

pg_url() {
	[[ -s $etc/postgres.url ]] || die "PostgreSQL has not run yet (no $etc/postgres.url)"
	cat "$etc/postgres.url"
}

pg_password() { pg_url | sed -E 's#^postgres://[^:]+:([^@]+)@.*#\1#'; }

pgbouncer_url() {
	echo "postgres://batchtrack:$(pg_password)@127.0.0.1:$CLUSTER_PGBOUNCER_PORT/batchtrack?sslmode=disable"
}

app_ready() { curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$1/readyz"; }

# haproxy_view PART prints HAProxy's status of an instance (UP, DOWN,
# MAINT, "UP 1/2"...), or "-" when HAProxy does not answer.
haproxy_view() {
	curl -sf --max-time 2 "http://127.0.0.1:$CLUSTER_STATS_PORT/stats;csv" 2>/dev/null |
		awk -F, -v s="$1" '$1=="app" && $2==s {print $18; found=1} END {if (!found) print "-"}' ||
		echo -
}

haproxy_up() { [[ $(haproxy_view "$1") == UP ]]; }

start_part() {
	local part=$1 port pid
	port=$(port_of "$part")
	if pid=$(pid_of "$part"); then
		echo "$part: already running (pid $pid)"
		return 0
	fi
	listening "$port" && die "$part: port $port is taken by another program"
	case $part in
	postgres)
		bin
		rm -f "$etc/postgres.url"
		launch postgres "$BIN" cluster-postgres --dir "$CLUSTER_DIR/pg" --port "$port" --url-file "$etc/postgres.url"
		wait_until 60 postgres test -s "$etc/postgres.url"
		;;
	pgbouncer)
		local prog user_flag=()
		prog=$(find_prog pgbouncer)
		printf '"batchtrack" "%s"\n' "$(pg_password)" >"$etc/userlist.txt"
		render deploy/pgbouncer.ini "$etc/pgbouncer.ini" PG_HOST=127.0.0.1 PG_PORT="$CLUSTER_PG_PORT" \
			PGBOUNCER_PORT="$port" ETC_DIR="$etc"
		chmod 600 "$etc/userlist.txt" "$etc/pgbouncer.ini"
		if [[ $EUID -eq 0 ]]; then
			# PgBouncer refuses to run as root.
			chown postgres: "$etc/userlist.txt" "$etc/pgbouncer.ini"
			user_flag=(-u postgres)
		fi
		launch pgbouncer "$prog" "${user_flag[@]}" "$etc/pgbouncer.ini"
		wait_until 20 pgbouncer listening "$port"
		;;
	redis)
		launch redis "$(find_prog redis-server redis)" --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
			--daemonize no --protected-mode yes --dir "$run"
		wait_until 20 redis listening "$port"
		;;
	app*)
		bin
		launch "$part" env DATABASE_URL="$(pgbouncer_url)" DB_SIMPLE_PROTOCOL=true TOKEN_CACHE=false \
			REDIS_URL="redis://127.0.0.1:$CLUSTER_REDIS_PORT/0" TRUSTED_PROXIES=127.0.0.1/32 \
			PUBLIC_URL="http://127.0.0.1:$CLUSTER_PORT" SHUTDOWN_DRAIN="${SHUTDOWN_DRAIN:-3s}" \
			INSTANCE_NAME="$part" SEED=false ADDR="127.0.0.1:$port" ADMIN_EMAIL= ADMIN_PASSWORD= \
			"$BIN" serve
		wait_until 30 "$part" app_ready "$port"
		;;
	haproxy)
		local servers="" i
		for i in "${!apps[@]}"; do
			servers+="    server ${apps[$i]} 127.0.0.1:${app_ports[$i]} check"$'\n'
		done
		render deploy/haproxy.cfg "$etc/haproxy.cfg" PORT="$port" STATS_PORT="$CLUSTER_STATS_PORT" \
			RUN_DIR="$run" SERVERS="${servers%$'\n'}"
		launch haproxy "$(find_prog haproxy)" -db -f "$etc/haproxy.cfg"
		wait_until 20 haproxy listening "$CLUSTER_STATS_PORT"
		;;
	esac
	echo "$part: started (pid $(<"$run/$part.pid"), port $port)"
}

# stop_part PART: SIGTERM and wait for the exit (an instance drains first,
# then finishes its requests), SIGKILL after 30s.
stop_part() {
	local part=$1 pid i
	port_of "$part" >/dev/null
	if ! pid=$(pid_of "$part"); then
		rm -f "$run/$part.pid"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 300; i++)); do
		pid_of "$part" >/dev/null || break
		sleep 0.1
	done
	if pid_of "$part" >/dev/null; then
		echo "$part: still running 30s after SIGTERM; killing" >&2
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.2
	fi
	rm -f "$run/$part.pid"
	echo "$part: stopped"
}

# setup_database migrates, and on a new database seeds the demo data and
# creates the first admin (with a password and an API token in etc/),
# directly on PostgreSQL before any instance starts.
setup_database() {
	bin
	local url
	url=$(pg_url)
	DATABASE_URL=$url LOG_LEVEL=warn "$BIN" migrate
	if [[ -s $etc/admin-password ]] && DATABASE_URL=$url LOG_LEVEL=warn "$BIN" user list | grep -qF "$admin_email"; then
		return 0
	fi
	DATABASE_URL=$url LOG_LEVEL=warn "$BIN" seed >"$logdir/seed.log" 2>&1 ||
		grep -q "not empty" "$logdir/seed.log" || die "seed failed; see $logdir/seed.log"
	head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$etc/admin-password"
	chmod 600 "$etc/admin-password"
	DATABASE_URL=$url LOG_LEVEL=warn "$BIN" user add --email "$admin_email" --role admin --name Admin \
		<"$etc/admin-password" >/dev/null
	DATABASE_URL=$url LOG_LEVEL=warn "$BIN" token create --user "$admin_email" --name cluster >"$etc/admin-token" 2>/dev/null
	chmod 600 "$etc/admin-token"
}

status() {
	local part pid port state view
	printf '%-10s %-8s %-6s %-5s %s\n' part pid port state haproxy
	for part in "${parts[@]}"; do
		port=$(port_of "$part")
		pid=$(pid_of "$part") || pid=-
		state=down
		[[ $pid != - ]] && listening "$port" && state=up
		view=""
		[[ $part == app* ]] && view=$(haproxy_view "$part")
		printf '%-10s %-8s %-6s %-5s %s\n' "$part" "$pid" "$port" "$state" "$view"
	done
	echo "logs: $logdir/   HAProxy stats: http://127.0.0.1:$CLUSTER_STATS_PORT/stats"
}

up() {
	local began=$SECONDS part
	bin
	start_part postgres
	setup_database
	for part in pgbouncer redis "${apps[@]}" haproxy; do start_part "$part"; done
	for part in "${apps[@]}"; do wait_until 20 "haproxy sees $part" haproxy_up "$part"; done
	wait_until 10 "haproxy /readyz" app_ready "$CLUSTER_PORT"
	echo
	echo "batchtrack cluster is serving on http://127.0.0.1:$CLUSTER_PORT (up in $((SECONDS - began))s)"
	echo "log in as $admin_email with the password in $etc/admin-password:"
	echo "  $(<"$etc/admin-password")"
	echo "API token (admin): $etc/admin-token"
	echo
	status
}

down() {
	local i
	for ((i = ${#parts[@]} - 1; i >= 0; i--)); do stop_part "${parts[$i]}"; done
}

restart() {
	local part
	for part in "${apps[@]}"; do
		stop_part "$part"
		start_part "$part"
		wait_until 20 "haproxy sees $part" haproxy_up "$part"
		echo "$part: UP in HAProxy"
	done
}

logs() {
	local part
	for part in "${@:-${parts[@]}}"; do
		port_of "$part" >/dev/null
		echo "==> $logdir/$part.log <=="
		tail -n 20 "$logdir/$part.log" 2>/dev/null || true
	done
	echo "(follow them all: tail -F $logdir/*.log)"
}

case ${1:-} in
up) up ;;
down) down ;;
status) status ;;
restart) restart ;;
start) start_part "${2:?usage: $0 start PART}" ;;
stop) stop_part "${2:?usage: $0 stop PART}" ;;
logs) logs "${@:2}" ;;
*)
	echo "usage: $0 up|down|status|restart|logs [PART]|start PART|stop PART" >&2
	exit 2
	;;
esac
