# engines/pg.sh - a PostgreSQL server of the test's own, sourced by a test
# (after lib.sh) or by tests/check-pg.sh. It runs on 127.0.0.1 on a free
# port, its data, socket and log in $T/pg, fsync on (what the tests check is
# durability), every connection from loopback trusted. The superuser is
# "postgres" whoever runs it (initdb -U), so the URLs are the same as root
# and as a normal user.
#
# PostgreSQL refuses to run as root: as root, initdb and pg_ctl run as the
# postgres system user (Debian's postgresql package makes it) and $T/pg is
# its; $T becomes traversable (711) for it, not readable.
#
#   pg_have            PostgreSQL's programs are installed (else the test skips)
#   start_pg           initdb and start; sets PG_PORT
#   stop_pg            fast stop (the connections are cut), data kept
#   restart_pg         start again, same port, same data
#   kill_pg            SIGKILL the postmaster, as a crash would
#   pg_url DB          postgresql://postgres@127.0.0.1:PORT/DB
#   pg_sql DB SQL      runs SQL on DB: psql -At, "|" between columns
#   pg_createdb DB     pg_dropdb DB
#
# The variables are PG_*, the locals pg_*: nothing of lib.sh's ($port, $i)
# is touched.

# ENGINES: this directory (set by whoever sources it from elsewhere).
: "${ENGINES:=$(dirname "$0")/engines}"
. "$ENGINES/port.sh"

# PG_BIN: PostgreSQL's server programs, not in PATH on Debian; the newest
# version installed if several are.
if [ -z "${PG_BIN:-}" ]; then
	for pg_d in /usr/lib/postgresql/*/bin; do
		[ -x "$pg_d/pg_ctl" ] && PG_BIN=$pg_d
	done
	: "${PG_BIN:=/usr/lib/postgresql/15/bin}"
fi
PG_DIR=""
PG_PORT=""

pg_have() {
	[ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] && command -v psql >/dev/null 2>&1 ||
		return 1
	[ "$(id -u)" -ne 0 ] || id -u postgres >/dev/null 2>&1
}

# pg_die MSG: the test fails (lib.sh's fail when there is one).
pg_die() {
	if command -v fail >/dev/null 2>&1; then
		fail "$*"
	fi
	echo "FAIL: $*" >&2
	exit 1
}

# pg_run CMD...: CMD as the user PostgreSQL runs as, from / (the postgres
# user may not be able to enter the current directory).
pg_run() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}

# pg_start_on PORT: starts the server of $PG_DIR on PORT and waits until it
# takes connections; 1 if it could not (the port was taken, say).
pg_start_on() {
	pg_run "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 60 \
		-o "-p $1" start >>"$PG_DIR/ctl.out" 2>&1
}

start_pg() {
	pg_have || pg_die "PostgreSQL is not installed ($PG_BIN/initdb, psql)"
	PG_DIR=${1:-$T/pg}
	mkdir -p "$PG_DIR"
	if [ "$(id -u)" -eq 0 ]; then
		chmod 711 "$(dirname "$PG_DIR")"
		chown postgres "$PG_DIR"
	fi
	pg_run "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --locale=C -E UTF8 \
		>"$PG_DIR/initdb.out" 2>&1 || pg_die "initdb failed: $(tail -n 5 "$PG_DIR/initdb.out")"
	# Only loopback, the socket beside the data (not /var/run/postgresql, which
	# may not exist or be another server's). fsync stays on, as in production.
	cat >>"$PG_DIR/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_DIR'
fsync = on
max_connections = 200
log_line_prefix = '%m [%p] %d '
EOF
	# A port nobody listens on: one drawn at random, another if it was taken.
	pg_n=0
	while :; do
		pg_n=$((pg_n + 1))
		PG_PORT=$(free_port)
		pg_start_on "$PG_PORT" && break
		[ $pg_n -lt 8 ] || pg_die "PostgreSQL did not start: $(tail -n 5 "$PG_DIR/log")"
	done
	command -v cleanup_hook >/dev/null 2>&1 && cleanup_hook stop_pg
	return 0
}

# stop_pg: a fast stop (open transactions roll back, clients are cut off);
# nothing if it is not running.
stop_pg() {
	[ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
	pg_run "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >>"$PG_DIR/ctl.out" 2>&1
}

restart_pg() {
	stop_pg
	pg_start_on "$PG_PORT" || pg_die "PostgreSQL did not start again on $PG_PORT: $(tail -n 5 "$PG_DIR/log")"
}

# kill_pg: SIGKILL the postmaster (its backends notice and exit): a crash;
# restart_pg then recovers from the write-ahead log.
kill_pg() {
	pg_pid=$(head -n 1 "$PG_DIR/data/postmaster.pid" 2>/dev/null)
	[ -n "$pg_pid" ] && kill -9 "$pg_pid" 2>/dev/null
	pg_n=0
	while kill -0 "$pg_pid" 2>/dev/null && [ $pg_n -lt 200 ]; do
		pg_n=$((pg_n + 1)); sleep 0.05
	done
	# Its backends go once they see the postmaster gone; a new postmaster waits
	# for them (the shared memory is theirs until then).
	sleep 0.5
}

pg_url() {
	echo "postgresql://postgres@127.0.0.1:$PG_PORT/$1"
}

pg_sql() {
	psql -X -q -At -v ON_ERROR_STOP=1 -d "$(pg_url "$1")" -c "$2"
}

pg_createdb() {
	pg_sql postgres "CREATE DATABASE \"$1\"" >/dev/null || pg_die "cannot create the database $1"
}

# pg_dropdb DB: drops DB, cutting off whoever is still connected to it.
pg_dropdb() {
	pg_sql postgres "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null
}
