#!/bin/sh
# bench/run.sh - chat speed against the physical limits of this machine, in one run.
#
#   BIN=build sh bench/run.sh [-n LATENCY_MSGS] [-m BURST_MSGS] [-c COMMITS]
#                             [-e ECHOES] [-t TEXT_BYTES] [-r]
#
# Measures, in this order and on the same file system (one temporary directory):
#   1. sqlite-commit  bare SQLite commit loop (WAL, synchronous=FULL as chat-server,
#                     and NORMAL for context): the storage limit
#   2. ws-echo        bare libwebsockets echo over 127.0.0.1: the network limit
#   3. chat-bench     a real chat-server on 127.0.0.1 (port from the kernel, fresh
#                     database), alice and bob registered with chatctl in fresh
#                     homes, sharing one chat: end-to-end latency and throughput
# then prints one table with the figures and their ratios to the limits. -r also
# prints every raw figure. Figures, never pass/fail: nothing here asserts a speed.
#
# Defaults, also from the environment (so "make bench BENCH_M=5000" works):
# BENCH_N=500 BENCH_M=2000 BENCH_COMMITS=2000 BENCH_ECHO=2000 BENCH_TEXT=64
# BENCH_RAW=0. Everything is removed at the end, failure or not.
set -u

: "${BIN:?BIN must point at the build directory (make bench sets it)}"
N=${BENCH_N:-500}
M=${BENCH_M:-2000}
COMMITS=${BENCH_COMMITS:-2000}
ECHOES=${BENCH_ECHO:-2000}
TEXT=${BENCH_TEXT:-64}
RAW=${BENCH_RAW:-0}
while getopts n:m:c:e:t:r opt; do
	case $opt in
	n) N=$OPTARG ;;
	m) M=$OPTARG ;;
	c) COMMITS=$OPTARG ;;
	e) ECHOES=$OPTARG ;;
	t) TEXT=$OPTARG ;;
	r) RAW=1 ;;
	*) sed -n '4,5p' "$0" >&2; exit 2 ;;
	esac
done

# A hung program must not hang the run: each step gets at most this long.
STEP_TIMEOUT=120

T=$(mktemp -d "${TMPDIR:-/tmp}/chat-bench.XXXXXX") || exit 1
SERVER_PID=""
FIG="$T/figures"

cleanup() {
	status=$?
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	rm -rf "$T"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "bench: $*" >&2
	if [ -s "$T/server.log" ]; then
		echo "--- chat-server log (last 20 lines)" >&2
		tail -n 20 "$T/server.log" >&2
	fi
	exit 1
}

# step NAME CMD...: runs a benchmark program, its figures go to $FIG.
step() {
	name=$1
	shift
	echo "bench: $name ..." >&2
	# --foreground: Ctrl-C must reach the program too, not only this script.
	timeout --foreground "$STEP_TIMEOUT" "$@" >>"$FIG" 2>"$T/$name.err" ||
		fail "$name failed: $(cat "$T/$name.err")"
}

# Like tests/integration/lib.sh: 127.0.0.1, port from the kernel, fresh database.
start_server() {
	: >"$T/server.log"
	# No rate limits: the point is how fast it can go.
	"$BIN/chat-server" --listen 127.0.0.1:0 --db "$T/server.db" --rate 0 --rate-bytes 0 \
		2>>"$T/server.log" &
	SERVER_PID=$!
	i=0
	while ! grep -q "listening on" "$T/server.log"; do
		i=$((i + 1))
		[ $i -gt 100 ] && fail "chat-server did not start"
		kill -0 "$SERVER_PID" 2>/dev/null || fail "chat-server exited at start"
		sleep 0.05
	done
	port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$T/server.log" | head -n 1)
	URL="ws://127.0.0.1:$port/"
}

# server_cpu_ticks: the server's user+system CPU time so far, in clock ticks.
server_cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat" 2>/dev/null || echo 0
}

# Two users with one device each and the direct chat between them.
make_pair() {
	for u in alice bob; do
		"$BIN/chatctl" --home "$T/$u" --server "$URL" register "$u" >/dev/null 2>"$T/ctl.err" ||
			fail "chatctl register $u: $(cat "$T/ctl.err")"
	done
	CHAT=$("$BIN/chatctl" --home "$T/alice" create bob 2>"$T/ctl.err") ||
		fail "chatctl create: $(cat "$T/ctl.err")"
}

summary() {
	echo
	printf 'chat benchmark: %s CPUs, %s in %s, libwebsockets %s, SQLite %s\n' \
		"$(nproc 2>/dev/null || echo '?')" "$(df -PT "$T" 2>/dev/null | awk 'NR == 2 { print $2 }')" \
		"$(dirname "$T")" "$(pkg-config --modversion libwebsockets 2>/dev/null || echo '?')" \
		"$(pkg-config --modversion sqlite3 2>/dev/null || echo '?')"
	printf '%s latency messages, %s burst messages of %s bytes of text; all on 127.0.0.1\n\n' \
		"$N" "$M" "$TEXT"
	awk -v burst="$M" '{ f[$1] = $2 }
	function ms(x) { return sprintf("%.2f ms", x) }
	function row(what, fig, limit, ratio) {
		printf "%-34s %-24s %-32s %s\n", what, fig, limit, ratio
	}
	END {
		echo50 = f["echo.rtt_p50_us"] / 1000; echo99 = f["echo.rtt_p99_us"] / 1000
		row("what", "chat", "physical limit (this run)", "ratio")
		row("end-to-end latency p50", ms(f["chat.latency.p50_ms"]),
		    sprintf("lws echo RTT p50 %.3f ms", echo50),
		    sprintf("%.0fx echo", f["chat.latency.p50_ms"] / echo50))
		row("end-to-end latency p90", ms(f["chat.latency.p90_ms"]), "", "")
		row("end-to-end latency p99", ms(f["chat.latency.p99_ms"]),
		    sprintf("lws echo RTT p99 %.3f ms", echo99),
		    sprintf("%.0fx echo", f["chat.latency.p99_ms"] / echo99))
		row("end-to-end latency max", ms(f["chat.latency.max_ms"]), "", "")
		row("send confirmed p50", ms(f["chat.confirm.p50_ms"]),
		    sprintf("SQLite FULL commit p50 %.3f ms", f["sqlite.full.p50_us"] / 1000),
		    sprintf("%.1fx commit", f["chat.confirm.p50_ms"] * 1000 / f["sqlite.full.p50_us"]))
		row("send confirmed p99", ms(f["chat.confirm.p99_ms"]), "", "")
		row("throughput (burst, until at bob)",
		    sprintf("%.0f msg/s", f["chat.throughput.msgs_per_s"]),
		    sprintf("SQLite FULL %.0f commits/s", f["sqlite.full.commits_per_s"]),
		    sprintf("%.3f of the limit",
			    f["chat.throughput.msgs_per_s"] / f["sqlite.full.commits_per_s"]))
		row("throughput (burst, confirmed)",
		    sprintf("%.0f msg/s", f["chat.throughput.confirmed_per_s"]),
		    sprintf("SQLite NORMAL %.0f commits/s", f["sqlite.normal.commits_per_s"]), "")
		row("", "", sprintf("lws echo %.0f round trips/s", f["echo.round_trips_per_s"]), "")
		printf "\nper message, in the benchmark thread (both devices run in it):\n"
		printf "  latency phase: alice %.0f us, bob %.0f us, waiting for server and network %.0f us\n",
		    f["chat.latency.alice_us_per_msg"], f["chat.latency.bob_us_per_msg"],
		    f["chat.latency.wait_us_per_msg"]
		printf "  burst phase:   alice %.0f us, bob %.0f us, waiting %.0f us (queueing %d sends took %.0f ms)\n",
		    f["chat.throughput.alice_us_per_msg"], f["chat.throughput.bob_us_per_msg"],
		    f["chat.throughput.wait_us_per_msg"], burst, f["chat.throughput.queue_ms"]
		busy = f["chat.throughput.alice_us_per_msg"] + f["chat.throughput.bob_us_per_msg"]
		if (f["chat.throughput.wait_us_per_msg"] < 0.05 * busy)
			printf "  (the thread hardly waited: the burst is bound by the work of the two devices, not by the server)\n"
		printf "  chat-server CPU (no fsync waits in it): %.0f us per message, acks included\n",
		    f["server.cpu_s"] * 1e6 / f["chat.messages"]
		if (f["chat.out_of_order"] > 0)
			printf "  WARNING: bob saw %d messages out of order\n", f["chat.out_of_order"]
	}' "$FIG"
}

for prog in chat-server chatctl bench/sqlite-commit bench/ws-echo bench/chat-bench; do
	[ -x "$BIN/$prog" ] || fail "no $BIN/$prog: build first (make bench does)"
done
: >"$FIG"
mkdir "$T/sqlite" || fail "cannot create $T/sqlite"
step sqlite-commit "$BIN/bench/sqlite-commit" -n "$COMMITS" -d "$T/sqlite"
step ws-echo "$BIN/bench/ws-echo" -n "$ECHOES"
start_server
make_pair
cpu0=$(server_cpu_ticks)
step chat-bench "$BIN/bench/chat-bench" -a "$T/alice" -b "$T/bob" -c "$CHAT" \
	-n "$N" -m "$M" -t "$TEXT"
# CPU only: the server's fsync waits are not in it. Its ticks are coarse (1/100 s).
echo "server.cpu_s $(( $(server_cpu_ticks) - cpu0 )) $(getconf CLK_TCK)" |
	awk '{ printf "%s %.3f\n", $1, $2 / $3 }' >>"$FIG"
summary
if [ "$RAW" -eq 1 ]; then
	echo
	echo "raw figures:"
	sed 's/^/  /' "$FIG"
fi
