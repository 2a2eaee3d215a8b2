# lib.sh - shared by the integration tests. Each test is a POSIX sh script that
# sources this file, starts a real chat-server on a free loopback port with a
# temporary database, drives real chatctl processes with temporary homes, and
# exits 0 on success. Everything lives under $T and is removed on exit.
set -u

: "${BIN:?BIN must point at the build directory}"
CHATCTL="$BIN/chatctl"
SERVER="$BIN/chat-server"
PROBE="$BIN/tests/chat-probe"
T=$(mktemp -d "${TMPDIR:-/tmp}/chat-test.XXXXXX")
SERVER_PID=""
URL=""
LIB_DIR=$(dirname "$0")
CLEANUP_HOOKS=""

# The server's store: CHAT_TEST_STORE=sqlite (the default: $T/server.db) or
# pg: a PostgreSQL database of the test's own, made on the server that
# CHAT_TEST_PG_URL names (postgresql://USER@HOST:PORT/, make check-pg starts
# one for the whole run), or without it on a PostgreSQL started for this test
# alone (engines/pg.sh). Tests read and change the store with server_sql.
CHAT_TEST_STORE=${CHAT_TEST_STORE:-sqlite}
case $CHAT_TEST_STORE in
sqlite | pg) ;;
*) echo "CHAT_TEST_STORE is sqlite or pg, not '$CHAT_TEST_STORE'" >&2; exit 2 ;;
esac
STORE_URL=""
STORE_DB=""

# cleanup_hook FN: cleanup runs FN once the test's chat-server is stopped and
# before the rest is killed: an engine stops there. The last one added runs
# first (an instance goes before the database it uses).
cleanup_hook() {
	CLEANUP_HOOKS="$1 $CLEANUP_HOOKS"
}

# A sanitizer report in the server's log fails the test: the server's own exit
# status is not seen when a test ends by killing it.
# So does one in the log of a cluster's instance ($T/server-NAME.log).
check_server_log() {
	for csl in "$T/server.log" "$T"/server-*.log; do
		if [ -f "$csl" ] && grep -Eq "ERROR: [A-Za-z]+Sanitizer|runtime error:" "$csl"; then
			echo "FAIL: sanitizer report from chat-server in $(basename "$csl"):" >&2
			cat "$csl" >&2
			return 1
		fi
	done
	return 0
}

# test_procs: the pids of the processes (but this shell) whose command line
# names this test's directory: its programs, their homes, its tmux server.
test_procs() {
	for f in $(grep -laF -- "$T/" /proc/[0-9]*/cmdline 2>/dev/null); do
		p=${f#/proc/}
		p=${p%/cmdline}
		[ "$p" != $$ ] && [ -r "/proc/$p/stat" ] && ! dead "$p" && echo "$p"
	done
}

cleanup() {
	status=$?
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null
		server_exit >/dev/null
	fi
	# Background chatctl processes a test left behind. Not $(jobs -p): dash
	# runs a command substitution in a subshell, whose job table is empty,
	# so a failing test used to leave its listeners running. For a pipeline
	# this is its first process only: start what must be stopped on its own.
	jobs -p >"$T/jobs" 2>/dev/null
	for p in $(cat "$T/jobs" 2>/dev/null); do kill "$p" 2>/dev/null; done
	# chat-tui tests run their terminals in a tmux server of their own. Each
	# chat-tui is stopped first, while its terminal lives: one hung up by the
	# kill-server was seen, under ASan, to spin for good in LeakSanitizer's
	# exit check, and to slow every later test of the run.
	if [ -S "$T/tmux.sock" ]; then
		tuis=$(for p in $(test_procs); do
			grep -qa chat-tui "/proc/$p/cmdline" 2>/dev/null && echo "$p"; done)
		[ -n "$tuis" ] && kill $tuis 2>/dev/null
		i=0
		while [ -n "$tuis" ] && [ $i -lt 100 ]; do
			left=""
			for p in $tuis; do dead "$p" || left="$left $p"; done
			tuis=$left
			i=$((i + 1))
			sleep 0.05
		done
		tmux -S "$T/tmux.sock" kill-server 2>/dev/null
	fi
	for h in $CLEANUP_HOOKS; do $h; done
	CLEANUP_HOOKS=""
	# Whatever still runs on this test's files goes now, not on in the
	# background of the next tests.
	left=$(test_procs)
	[ -n "$left" ] && kill $left 2>/dev/null && sleep 0.5
	for p in $(test_procs); do
		echo "cleanup: killed what was left running: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" >&2
		kill -9 "$p" 2>/dev/null
	done
	check_server_log || status=1
	rm -rf "$T"
	exit $status
}
trap cleanup EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	if [ -f "$T/server.log" ]; then
		echo "--- server log (last 20 lines)" >&2
		tail -n 20 "$T/server.log" >&2
	fi
	for fl in "$T"/server-*.log; do
		[ -f "$fl" ] || continue
		echo "--- $(basename "$fl") (last 15 lines)" >&2
		tail -n 15 "$fl" >&2
	done
	exit 1
}

# store_psql ARGS...: psql on the test's PostgreSQL database, -At output.
store_psql() {
	psql -X -q -At -v ON_ERROR_STOP=1 "$@"
}

# store_prepare: under CHAT_TEST_STORE=pg, the test's database, made once:
# named after the test and this shell's pid, so that tests running side by
# side on one PostgreSQL never meet; dropped by cleanup.
store_prepare() {
	[ "$CHAT_TEST_STORE" = pg ] && [ -z "$STORE_URL" ] || return 0
	if [ -n "${CHAT_TEST_PG_URL:-}" ]; then
		store_base=${CHAT_TEST_PG_URL%/}/
	else
		. "$LIB_DIR/engines/pg.sh"
		start_pg
		store_base=$(pg_url "")
	fi
	STORE_DB=t_$(basename "$0" .sh | tr -c 'a-z0-9\n' '_' | cut -c 1-40)_$$
	store_psql -d "${store_base}postgres" -c "CREATE DATABASE \"$STORE_DB\"" >/dev/null ||
		fail "cannot create the database $STORE_DB on $store_base"
	STORE_URL=$store_base$STORE_DB
	cleanup_hook store_drop
}

store_drop() {
	store_psql -d "${STORE_URL%/*}/postgres" \
		-c "DROP DATABASE IF EXISTS \"$STORE_DB\" WITH (FORCE)" >/dev/null ||
		echo "cleanup: could not drop the database $STORE_DB" >&2
}

# server_sql SQL: runs SQL on the test server's store, whichever it is:
# sqlite3 on $T/server.db, or psql on the test's database; one line per row,
# "|" between columns, NULL as nothing, either way. Write SQL both take:
# "user" quoted (a keyword in PostgreSQL), no 0/1 for booleans (CASE WHEN),
# and sql_hex, sql_bytes and sql_zeros for what the two spell differently.
server_sql() {
	if [ "$CHAT_TEST_STORE" = pg ]; then
		store_psql -d "$STORE_URL" -c "$1"
	else
		sqlite3 "$T/server.db" "$1"
	fi
}

# sql_hex EXPR: EXPR's bytes in upper-case hex (SQLite's hex()).
sql_hex() {
	if [ "$CHAT_TEST_STORE" = pg ]; then
		echo "upper(encode($1, 'hex'))"
	else
		echo "hex($1)"
	fi
}

# sql_bytes HEX: a blob literal.
sql_bytes() {
	if [ "$CHAT_TEST_STORE" = pg ]; then
		echo "decode('$1', 'hex')"
	else
		echo "X'$1'"
	fi
}

# sql_zeros N: N zero bytes.
sql_zeros() {
	if [ "$CHAT_TEST_STORE" = pg ]; then
		echo "decode(repeat('00', $1), 'hex')"
	else
		echo "zeroblob($1)"
	fi
}

# server_dump: everything the store holds, as text (a plaintext check greps it).
server_dump() {
	if [ "$CHAT_TEST_STORE" = pg ]; then
		pg_dump --no-owner -d "$STORE_URL"
	else
		sqlite3 "$T/server.db" .dump
	fi
}

# start_server [PORT]: runs chat-server on 127.0.0.1, on PORT or one the kernel
# chooses, with the test's database; sets URL. A second call with the same port
# is a restart: same address, same data.
# SERVER_OPTS, if set, adds options to the server's command line (word-split).
# Every test registers many users from 127.0.0.1, so the limit on new users per
# address is lifted, unless SERVER_DEFAULT_LIMITS is set (for the test that
# checks the defaults).
# With --cert and --key in it the server serves TLS, and URL is
# wss://localhost:PORT/ (the name a test certificate is for).
start_server() {
	store_prepare
	: > "$T/server.log"
	rm -f "$T/server.pid" "$T/server.exit"
	# A wrapper keeps the server's exit status in a file: the test shell never
	# waits on the server itself (with listeners in the background, dash's wait
	# was seen to hang after the server had gone).
	(
		limits="--register-rate 0"
		[ -n "${SERVER_DEFAULT_LIMITS:-}" ] && limits=""
		listen=127.0.0.1:${1:-0}
		# On PostgreSQL, the blob directory and key a URL cannot have beside it.
		if [ "$CHAT_TEST_STORE" = pg ]; then
			set -- --db "$STORE_URL" --blobs "$T/blobs" --blob-key "$T/blob.key"
		else
			set -- --db "$T/server.db"
		fi
		# shellcheck disable=SC2086
		"$SERVER" --listen "$listen" "$@" $limits ${SERVER_OPTS:-} \
			2>>"$T/server.log" &
		echo $! > "$T/server.pid"
		wait $!
		echo $? > "$T/server.exit"
	) &
	i=0
	while [ ! -s "$T/server.pid" ]; do
		i=$((i + 1)); [ $i -gt 100 ] && fail "chat-server did not start"; sleep 0.02
	done
	SERVER_PID=$(cat "$T/server.pid")
	i=0
	while ! grep -q "listening on" "$T/server.log"; do
		i=$((i + 1))
		[ $i -gt 100 ] && fail "chat-server did not start"
		kill -0 "$SERVER_PID" 2>/dev/null || fail "chat-server exited at start"
		sleep 0.05
	done
	port=$(sed -n 's/.*listening on \(wss:\/\/\)\{0,1\}[0-9.]*:\([0-9]*\).*/\2/p' "$T/server.log" | head -n 1)
	if grep -q "listening on wss://" "$T/server.log"; then
		URL="wss://localhost:$port/"
	else
		URL="ws://127.0.0.1:$port/"
	fi
}

# restart_server: stops the server (if it runs) and starts it on the same port.
restart_server() {
	[ -n "$SERVER_PID" ] && stop_server
	start_server "$port"
}

# server_exit: waits (at most 10 s) for the server to be gone; prints its status.
server_exit() {
	i=0
	while [ ! -s "$T/server.exit" ]; do
		i=$((i + 1)); [ $i -gt 500 ] && { echo timeout; return; }; sleep 0.02
	done
	cat "$T/server.exit"
}

# kill_server: SIGKILL, as a crash or a power cut would (no clean stop).
kill_server() {
	kill -9 "$SERVER_PID" 2>/dev/null
	server_exit >/dev/null
	SERVER_PID=""
}

stop_server() {
	kill "$SERVER_PID" 2>/dev/null
	rc=$(server_exit)
	SERVER_PID=""
	# SIGTERM is a clean stop: exit 0 (143 would mean it died of the signal).
	[ "$rc" = 0 ] || fail "chat-server exited '$rc' on SIGTERM"
	check_server_log || exit 1
}

# ctl NAME ARGS...: chatctl with the home $T/NAME on the test server.
ctl() {
	name=$1
	shift
	"$CHATCTL" --home "$T/$name" --server "$URL" "$@"
}

# expect_exit CODE CMD...: runs CMD, fails unless it exits with CODE. Output in $T/out, $T/err.
expect_exit() {
	want=$1
	shift
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	[ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want; stderr: $(cat "$T/err")"
}

# expect_in FILE TEXT: FILE contains TEXT (fixed string).
expect_in() {
	grep -qF -- "$2" "$1" || fail "$1 lacks '$2': $(head -c 2000 "$1")"
}

expect_not_in() {
	! grep -qF -- "$2" "$1" || fail "$1 contains '$2'"
}

# register NAME...: registers each user in its own home.
register() {
	for u in "$@"; do
		expect_exit 0 ctl "$u" register "$u"
	done
}

# link_device NEW USER APPROVER [NAME]: the home NEW joins USER's account as a
# new device (named NAME), approved from the home APPROVER with the code NEW shows.
# The approver sends no history (PROTOCOL.md, "History sync") unless
# HISTORY_DAYS says how many days: the tests that link a device to test
# something else see only what is sent after the link, as before.
link_device() {
	# Emptied here, not only by the background job's redirection: that one may
	# come after the wait below has read an earlier link's code from the file.
	: >"$T/link.out"
	ctl "$1" --json device link ${4:+--name "$4"} "$2" >"$T/link.out" 2>"$T/link.err" &
	link=$!
	i=0
	while ! grep -q '"code"' "$T/link.out"; do
		i=$((i + 1)); [ $i -gt 100 ] && fail "no link code for $1: $(cat "$T/link.err")"
		sleep 0.05
	done
	# LINK_DELAY: seconds a person takes to approve it.
	[ -n "${LINK_DELAY:-}" ] && sleep "$LINK_DELAY"
	expect_exit 0 ctl "$3" device approve --history-days "${HISTORY_DAYS:-0}" \
		"$(head -n 1 "$T/link.out" | jq -r .code)"
	wait $link || fail "link of $1: $(cat "$T/link.err")"
}

# count_lines FILE: number of lines.
count_lines() {
	wc -l < "$1" | tr -d ' '
}

# wait_until SECONDS WHAT CMD...: runs CMD every 0.05 s until it succeeds;
# fails the test with WHAT if SECONDS (whole seconds, by the clock) pass first.
# WHAT is expanded then, not when called: single-quoted, '$(cat "$T/x")'
# shows the file as it is at the failure.
wait_until() {
	wu_limit=$(($(date +%s) + $1))
	wu_what=$2
	shift 2
	until "$@"; do
		[ "$(date +%s)" -le "$wu_limit" ] || eval "fail \"$wu_what\""
		sleep 0.05
	done
}

# dead PID: the process is gone or a zombie. A process that is not this
# shell's child (run.sh's detached chat-server) is reaped by init, and an init
# that does not reap leaves a zombie that kill -0 still finds.
dead() {
	! kill -0 "$1" 2>/dev/null || grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}
