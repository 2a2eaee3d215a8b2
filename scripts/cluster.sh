#!/bin/sh
# cluster.sh - three chat-server instances behind HAProxy on this machine, for
# trying the cluster (docs/CLUSTER.md): a PostgreSQL cluster of its own, Redis,
# the instances on them with a shared blob directory and key, HAProxy in front.
# Everything lives in DIR and listens on 127.0.0.1 only.
#
#   sh scripts/cluster.sh start DIR    start it all; prints the URL for clients
#   sh scripts/cluster.sh status DIR   what runs, and each instance's /healthz
#   sh scripts/cluster.sh stop DIR     stop it all (DIR keeps the data)
#
# BIN: where chat-server is (default: build, the normal build). PORT: the
# front's port (default 8600); the instances take PORT+1..PORT+3, PostgreSQL
# PORT+10, Redis PORT+11. PG_BIN: PostgreSQL's programs (default
# /usr/lib/postgresql/15/bin, Debian's). CLUSTER_DB: another store for the
# instances (an SQLite file they share, or a PostgreSQL URL of your own: then
# no PostgreSQL is started); CLUSTER_BUS=none: no Redis (without a bus, a
# message reaches a device on another instance only when it reconnects).
#
# PostgreSQL refuses to run as root: as root, its programs run as the
# postgres system user (Debian's postgresql package makes it), and DIR/pg is
# that user's.
set -eu

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || {
	echo "usage: sh scripts/cluster.sh start|stop|status DIR" >&2
	exit 2
}
BIN=${BIN:-build}
PORT=${PORT:-8600}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PORT=$((PORT + 10))
REDIS_PORT=$((PORT + 11))
NODES="1 2 3"

say() { echo "cluster: $*" >&2; }
die() {
	say "$*"
	exit 1
}

# as_pg CMD...: CMD as the postgres user when we are root.
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# alive PIDFILE: the process it names runs.
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_for WHAT CMD...: CMD succeeds within 15 s, or the script stops.
wait_for() {
	what=$1
	shift
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 150 ] || die "$what did not come up (see $dir/*.log)"
		sleep 0.1
	done
}

db_url() {
	if [ -n "${CLUSTER_DB:-}" ]; then
		echo "$CLUSTER_DB"
	else
		echo "postgresql://chat@127.0.0.1:$PG_PORT/chat"
	fi
}

start_pg() {
	[ -n "${CLUSTER_DB:-}" ] && return 0
	[ -x "$PG_BIN/pg_ctl" ] || die "no $PG_BIN/pg_ctl (apt-get install postgresql, or set PG_BIN)"
	if [ ! -d "$dir/pg" ]; then
		mkdir -p "$dir/pg"
		[ "$(id -u)" -eq 0 ] && chown postgres "$dir/pg"
		as_pg "$PG_BIN/initdb" -D "$dir/pg/data" -U postgres -A trust >"$dir/pg-init.log" 2>&1 ||
			die "initdb failed: $(tail -n 5 "$dir/pg-init.log")"
	fi
	if ! as_pg "$PG_BIN/pg_ctl" -D "$dir/pg/data" status >/dev/null 2>&1; then
		# The socket goes in DIR too: /var/run/postgresql may not be ours.
		as_pg "$PG_BIN/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/postgres.log" -w \
			-o "-p $PG_PORT -k $dir/pg -c listen_addresses=127.0.0.1" start >/dev/null ||
			die "PostgreSQL did not start: $(tail -n 5 "$dir/pg/postgres.log")"
	fi
	psql="$PG_BIN/psql"
	[ -x "$psql" ] || psql=psql
	if ! as_pg "$psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -Atc \
		"SELECT 1 FROM pg_roles WHERE rolname = 'chat'" postgres | grep -q 1; then
		as_pg "$psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE ROLE chat LOGIN" postgres
		as_pg "$psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc \
			"CREATE DATABASE chat OWNER chat" postgres
	fi
	say "PostgreSQL on 127.0.0.1:$PG_PORT (data in $dir/pg/data)"
}

start_redis() {
	[ "${CLUSTER_BUS:-}" = none ] && return 0
	command -v redis-server >/dev/null || die "no redis-server (apt-get install redis-server)"
	alive "$dir/redis.pid" && return 0
	# No saving to disk: the bus holds nothing the store does not.
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
		--daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" ||
		die "Redis did not start"
	wait_for Redis test -s "$dir/redis.pid"
	say "Redis on 127.0.0.1:$REDIS_PORT"
}

start_node() {
	n=$1
	p=$((PORT + n))
	alive "$dir/node$n.pid" && return 0
	bus=""
	[ "${CLUSTER_BUS:-}" = none ] || bus="--bus redis://127.0.0.1:$REDIS_PORT"
	# Clients sign the name they reach the cluster by: the front's, not the
	# instance's own (chat-server(8), --name).
	: >>"$dir/node$n.log"
	# shellcheck disable=SC2086
	"$BIN/chat-server" --listen "127.0.0.1:$p" --db "$(db_url)" $bus --instance-id "node$n" \
		--blobs "$dir/blobs" --blob-key "$dir/blob.key" \
		--name "127.0.0.1:$PORT" --name "localhost:$PORT" ${CLUSTER_SERVER_OPTS:-} \
		2>>"$dir/node$n.log" &
	echo $! >"$dir/node$n.pid"
	i=0
	until grep -q "listening on" "$dir/node$n.log"; do
		alive "$dir/node$n.pid" || die "node$n exited: $(tail -n 3 "$dir/node$n.log")"
		i=$((i + 1))
		[ $i -lt 150 ] || die "node$n did not come up (see $dir/node$n.log)"
		sleep 0.1
	done
}

start_haproxy() {
	command -v haproxy >/dev/null || die "no haproxy (apt-get install haproxy)"
	alive "$dir/haproxy.pid" && return 0
	sed -e "s/@PORT@/$PORT/g" -e "s/@PORT1@/$((PORT + 1))/g" -e "s/@PORT2@/$((PORT + 2))/g" \
		-e "s/@PORT3@/$((PORT + 3))/g" "$(dirname "$0")/../docs/cluster/haproxy.cfg" \
		>"$dir/haproxy.cfg"
	haproxy -c -q -f "$dir/haproxy.cfg" || die "haproxy refused $dir/haproxy.cfg"
	haproxy -f "$dir/haproxy.cfg" >>"$dir/haproxy.log" 2>&1 &
	echo $! >"$dir/haproxy.pid"
	wait_for HAProxy curl -sf "http://127.0.0.1:$PORT/healthz"
}

stop_pid() {
	f=$1
	if alive "$f"; then
		kill "$(cat "$f")"
		i=0
		while alive "$f" && [ $i -lt 100 ]; do
			i=$((i + 1))
			sleep 0.1
		done
	fi
	rm -f "$f"
}

case $cmd in
start)
	[ -x "$BIN/chat-server" ] || die "no $BIN/chat-server: run make first (or set BIN)"
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	# Others may pass through (the postgres user to DIR/pg), not list it;
	# the blob directory and key have modes of their own (0700, 0600).
	chmod 711 "$dir"
	start_pg
	start_redis
	for n in $NODES; do start_node "$n"; done
	start_haproxy
	say "three instances: $(for n in $NODES; do printf 'node%s=127.0.0.1:%s ' "$n" $((PORT + n)); done)"
	say "logs in $dir/*.log; stop with: sh scripts/cluster.sh stop $dir"
	echo "ws://127.0.0.1:$PORT/"
	;;
stop)
	[ -d "$dir" ] || die "no $dir"
	dir=$(cd "$dir" && pwd)
	stop_pid "$dir/haproxy.pid"
	for n in $NODES; do stop_pid "$dir/node$n.pid"; done
	stop_pid "$dir/redis.pid"
	if [ -d "$dir/pg/data" ]; then
		as_pg "$PG_BIN/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	say "stopped (the data stays in $dir)"
	;;
status)
	[ -d "$dir" ] || die "no $dir"
	dir=$(cd "$dir" && pwd)
	rc=0
	if [ -d "$dir/pg/data" ]; then
		if as_pg "$PG_BIN/pg_ctl" -D "$dir/pg/data" status >/dev/null 2>&1; then
			echo "postgresql: running on 127.0.0.1:$PG_PORT"
		else
			echo "postgresql: stopped"
			rc=1
		fi
	fi
	if [ "${CLUSTER_BUS:-}" != none ]; then
		if alive "$dir/redis.pid"; then echo "redis: running on 127.0.0.1:$REDIS_PORT"; else
			echo "redis: stopped"
			rc=1
		fi
	fi
	for n in $NODES; do
		p=$((PORT + n))
		if alive "$dir/node$n.pid"; then
			echo "node$n: $(curl -s "http://127.0.0.1:$p/healthz" || echo "no answer")"
		else
			echo "node$n: stopped"
			rc=1
		fi
	done
	if alive "$dir/haproxy.pid"; then echo "haproxy: ws://127.0.0.1:$PORT/"; else
		echo "haproxy: stopped"
		rc=1
	fi
	exit $rc
	;;
*)
	echo "usage: sh scripts/cluster.sh start|stop|status DIR" >&2
	exit 2
	;;
esac
