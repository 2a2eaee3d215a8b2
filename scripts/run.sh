#!/bin/sh
# scripts/run.sh - what `make run` does: a local chat-server on its SQLite store
# (started if none is running, and left running for the next terminal), then
# chat-tui on it for one user.
#
#   BIN=build RUN_DIR=DIR RUN_ADDR=HOST:PORT RUN_USER=NAME sh scripts/run.sh
#   sh scripts/run.sh stop      stops the server this script started
#
# Each user gets a device home under $RUN_DIR/homes/NAME, registered on first
# start, so `make run` in one terminal and `make run USER=bob` in another are
# two people chatting on one machine.
set -eu

: "${BIN:?BIN must point at the build directory}"
: "${RUN_DIR:?}" "${RUN_ADDR:?}"
pidfile="$RUN_DIR/chat-server.pid"
log="$RUN_DIR/chat-server.log"

# alive PID: the process exists and is not a zombie (a server stopped while
# nobody reaps it, as under an init that does not, is not running).
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	case $(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) in Z) return 1 ;; esac
}

running() {
	[ -s "$pidfile" ] && alive "$(cat "$pidfile")"
}

# ours_elsewhere: the chat-servers this script started with another RUN_DIR
# that listen on RUN_ADDR, one "PID DIR" a line. A server's --db names its
# RUN_DIR (relative to the server's working directory, if it was), and the
# pid file there must name that very process.
ours_elsewhere() {
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		args=$(tr '\0' '\n' <"$d/cmdline" 2>/dev/null) || continue
		case $args in *chat-server*) ;; *) continue ;; esac
		[ "$(printf '%s\n' "$args" | sed -n '/^--listen$/{n;p;q;}')" = "$RUN_ADDR" ] || continue
		db=$(printf '%s\n' "$args" | sed -n '/^--db$/{n;p;q;}')
		case $db in
		'') continue ;;
		/*) dir=$(dirname "$db") ;;
		*) dir=$(readlink -f "$d/cwd/$(dirname "$db")" 2>/dev/null) || continue ;;
		esac
		[ "$(cat "$dir/chat-server.pid" 2>/dev/null)" = "$pid" ] && printf '%s %s\n' "$pid" "$dir"
	done
	return 0 # set -e: the last process looked at need not be ours
}

if [ "${1:-}" = stop ]; then
	if running; then
		kill "$(cat "$pidfile")" && rm -f "$pidfile"
		echo "run: chat-server stopped"
		exit 0
	fi
	# Started with another RUN_DIR (make run RUN_DIR=... then make stop):
	# the one on our address is the one meant.
	found=$(ours_elsewhere)
	case $(printf '%s' "$found" | grep -c .) in
	0) echo "run: no chat-server of ours is running in $RUN_DIR or on $RUN_ADDR" ;;
	1)
		pid=${found%% *}
		dir=${found#* }
		kill "$pid" && rm -f "$dir/chat-server.pid"
		echo "run: chat-server stopped (it ran from $dir)"
		;;
	*)
		echo "run: none in $RUN_DIR; these run on $RUN_ADDR, stop one with make stop RUN_DIR=DIR:"
		printf '%s\n' "$found" | sed 's/^[0-9]* /  /'
		;;
	esac
	exit 0
fi

user=${RUN_USER:-}
[ -n "$user" ] || user=$(id -un 2>/dev/null || echo me)
# A login name is not always a valid chat user name (capitals, spaces...).
user=$(printf '%s' "$user" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9._-' '_' | cut -c1-32)

mkdir -p "$RUN_DIR/homes"
chmod 700 "$RUN_DIR"
# On the loopback every user comes from one address, the developer's: the
# limit on registrations per address (10 an hour) would only get in the way.
case $RUN_ADDR in
127.* | localhost:* | "[::1]:"*) limits="--register-rate 0" ;;
*) limits="" ;;
esac
if ! running; then
	: >"$log"
	# The server outlives this terminal, for the next `make run`: setsid puts
	# it in a session of its own (no SIGHUP when the terminal goes), and the
	# subshell that starts it exits at once, so it is not this shell's child
	# either: once this shell becomes chat-tui (exec, below), chat-tui would
	# be its parent, and a server stopped after chat-tui's terminal went away
	# would be left a zombie of it.
	(
		setsid "$BIN/chat-server" --listen "$RUN_ADDR" --db "$RUN_DIR/chat.db" $limits \
			>>"$log" 2>&1 </dev/null &
		echo $! >"$pidfile"
	)
	i=0
	until grep -q "listening on" "$log" 2>/dev/null; do
		i=$((i + 1))
		if ! running || [ $i -gt 100 ]; then
			echo "run: chat-server did not start; its log ($log) says:" >&2
			tail -n 5 "$log" >&2
			rm -f "$pidfile"
			exit 1
		fi
		sleep 0.05
	done
	started=1
fi
# The address the server really listens on (RUN_ADDR may name port 0: any).
url="ws://$(sed -n 's/.*listening on \([0-9.]*:[0-9]*\).*/\1/p' "$log" | tail -n 1)/"
if [ "${started:-0}" = 1 ]; then
	echo "run: chat-server on $url (store $RUN_DIR/chat.db, log $log; 'make stop' stops it)"
fi
case "${LANG:-}${LC_ALL:-}${LC_CTYPE:-}" in
*UTF-8* | *utf8* | *UTF8* | *utf-8*) ;;
*) export LANG=C.UTF-8 ;;
esac
echo "run: chat-tui as $user (another terminal: make run USER=someone-else)"
exec "$BIN/chat-tui" --home "$RUN_DIR/homes/$user" --server "$url" --user "$user"
