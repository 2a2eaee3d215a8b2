#!/bin/sh
# bench/run.sh - chat-server's speed beside the machine's limits and beside the
# peer (mosquitto), all measured in this one run.
#
#   BIN=build sh bench/run.sh [-s] [-r]
#
# BIN is the build directory (chat-server, chatctl, bench/*); BENCH_SERVER=PATH
# measures another chat-server binary with the same suite (a branch's, say).
#
#   -s  smoke: tiny counts, every step once (make bench-smoke, run by make
#       check): only a broken run fails (a crash, a hang, a VOID figure)
#   -r  also print every raw figure
#
# Steps, in this order, in one temporary directory (removed at the end):
#   bare limits   sqlite-commit (one row per FULL commit, NORMAL, 100 rows per
#                 FULL commit), store-commit (chat-server's own store: a send
#                 and its ack per message, each committed, no network),
#                 ws-echo (bare lws round trip, one connection
#                 and 64), crypto-cost
#                 (libchat's seal/open per envelope; a group message with
#                 sender keys: sk_encrypt, sk_decrypt, a distribution),
#                 search-cost (libchat's full-text search over a home of
#                 100,000 messages: storing them, and one search)
#   mosquitto     started on a loopback port with persistence on; mqtt-load
#                 at QoS 1: 32 pairs at peak, again at half that rate, fan-out
#                 to 99, offline drain of 10,000 (persistent session);
#                 mosquitto_pub -q 1 cold, for chatctl send
#   chat-server   started with no rate limits; chat-load: 32 pairs at peak,
#                 again with delivered receipts (-R), at half of the peak, a group of 100, an offline drain of 10,000,
#                 idle sessions (1,000, 5,000, up to what the fd limit
#                 allows, over 8 source addresses) with the server's memory
#                 per session and CPU per message; chat-bench (libchat end to
#                 end, one pair); cold chatctl send (wall, CPU, fdatasyncs);
#                 cold chatctl send to a group of 100 (the first, with its
#                 sender key for every device, and the next: client CPU)
#   two instances two chat-servers on one store (issue 16): 32 pairs at peak
#                 on one instance of that store, then across two: with a bus
#                 every sender on A and its receiver on B (each message
#                 crosses); without one (no redis-server, or a chat-server
#                 without --bus) half the pairs on each instance, at once.
#                 BENCH_DB: the store (default a fresh SQLite file both
#                 share; a postgresql:// URL selects PostgreSQL), BENCH_BUS:
#                 the bus (default a Redis started here if redis-server is
#                 installed; "none": no bus)
# Then one table (workload | chat-server | reference | ratio) on stdout and
# every figure as JSON in $BENCH_OUT (default $BIN/bench/results.json).
# Figures never pass or fail; a VOID one (a message lost, duplicated or out
# of order) is shown as VOID with its reason, and fails the run in smoke mode.
set -u

: "${BIN:?BIN must point at the build directory (make bench sets it)}"
SMOKE=0
RAW=${BENCH_RAW:-0}
while getopts sr opt; do
	case $opt in
	s) SMOKE=1 ;;
	r) RAW=1 ;;
	*) sed -n '4p' "$0" >&2; exit 2 ;;
	esac
done
OUT=${BENCH_OUT:-$BIN/bench/results.json}
SERVER=${BENCH_SERVER:-$BIN/chat-server}

if [ "$SMOKE" -eq 1 ]; then
	COMMITS=50 ECHOES=50 ECHO_CONNS=4 CRYPTO=50
	PAIRS=2 PAIR_MSGS=20 GROUP=5 GROUP_MSGS=10 DRAIN=50
	IDLE_LEVELS=20 IDLE_BURST=10 IDLE_ADDRS=2
	MQ_PAIR_MSGS=20 MQ_FANOUT=4 COLD_RUNS=3 CB_N=10 CB_M=20
	SEARCH_N=2000 SEARCH_R=3
	STEP_TIMEOUT=60
else
	COMMITS=${BENCH_COMMITS:-2000} ECHOES=${BENCH_ECHO:-2000} ECHO_CONNS=64 CRYPTO=2000
	PAIRS=32 PAIR_MSGS=${BENCH_PAIR_MSGS:-200} GROUP=100 GROUP_MSGS=${BENCH_GROUP_MSGS:-100}
	DRAIN=10000 IDLE_LEVELS=${BENCH_IDLE_LEVELS:-1000,5000,10000,max} IDLE_BURST=100
	IDLE_ADDRS=8 MQ_PAIR_MSGS=1000 MQ_FANOUT=99 COLD_RUNS=20 CB_N=200 CB_M=1000
	SEARCH_N=${BENCH_SEARCH_MSGS:-100000} SEARCH_R=50
	STEP_TIMEOUT=${BENCH_STEP_TIMEOUT:-400}
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/chat-bench.XXXXXX") || exit 1
SERVER_PID=""
MQ_PID=""
A_PID=""
B_PID=""
REDIS_PID=""
FIG="$T/figures"
VOIDS="$T/voids"
BROKEN=0

cleanup() {
	status=$?
	for pid in $SERVER_PID $MQ_PID $A_PID $B_PID $REDIS_PID; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
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

# step NAME CMD...: runs a benchmark program, its figures go to $FIG. A VOID
# run (exit 3) is recorded and the suite goes on; in smoke mode it fails it.
# Any other failure ends the run: the figures after it would mean little.
step() {
	name=$1
	shift
	echo "bench: $name ..." >&2
	# --foreground: Ctrl-C must reach the program too, not only this script.
	timeout --foreground "$STEP_TIMEOUT" "$@" >>"$FIG" 2>"$T/$name.err"
	rc=$?
	if [ $rc -eq 3 ]; then
		echo "$name $(grep VOID "$T/$name.err" | head -n 1)" >>"$VOIDS"
		echo "bench: $name: VOID: $(grep VOID "$T/$name.err" | head -n 1)" >&2
		BROKEN=1
		return 0
	fi
	[ $rc -eq 124 ] && fail "$name took over $STEP_TIMEOUT s: $(tail -n 3 "$T/$name.err")"
	[ $rc -ne 0 ] && fail "$name failed ($rc): $(tail -n 5 "$T/$name.err")"
	return 0
}

fig() { awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }' "$FIG"; }

# A port nobody listens on, for mosquitto (it cannot be told to take port 0).
free_port() {
	p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 ))
	while ss -ltn 2>/dev/null | awk '{ print $4 }' | grep -q ":$p\$"; do
		p=$((p + 1))
	done
	echo $p
}

start_mosquitto() {
	command -v mosquitto >/dev/null 2>&1 ||
		fail "no mosquitto: apt-get install mosquitto libmosquitto-dev (make deps)"
	mkdir -p "$T/mq"
	MQ_PORT=$(free_port)
	{
		echo "listener $MQ_PORT 127.0.0.1"
		echo "allow_anonymous true"
		echo "persistence true"
		echo "persistence_location $T/mq/"
		echo "max_queued_messages 0" # the offline drain queues 10,000
		echo "log_dest file $T/mq/mosquitto.log"
		[ "$(id -u)" -eq 0 ] && echo "user root" # else it drops to "mosquitto", who cannot write $T
	} >"$T/mq/mosquitto.conf"
	mosquitto -c "$T/mq/mosquitto.conf" 2>"$T/mq/stderr" &
	MQ_PID=$!
	i=0
	until ss -ltn 2>/dev/null | awk '{ print $4 }' | grep -q ":$MQ_PORT\$"; do
		i=$((i + 1))
		[ $i -gt 100 ] && fail "mosquitto did not start: $(cat "$T/mq/stderr")"
		kill -0 "$MQ_PID" 2>/dev/null || fail "mosquitto exited: $(cat "$T/mq/stderr")"
		sleep 0.05
	done
}

# Like tests/integration/lib.sh: 127.0.0.1, port from the kernel, fresh
# database; no limits that a benchmark would hit (rates, registrations per
# address, connections per address, adds of strangers to a group).
start_server() {
	: >"$T/server.log"
	"$SERVER" --listen 127.0.0.1:0 --db "$T/server.db" --rate 0 --rate-bytes 0 \
		--register-rate 0 --max-connections-per-address 1000000 \
		--stranger-adds-per-day 0 --stranger-adds-per-hour 0 2>>"$T/server.log" &
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
	# what it holds at most: "limits: N connections, ..."
	MAX_CONN=$(sed -n 's/.*limits: \([0-9]*\) connections.*/\1/p' "$T/server.log" | head -n 1)
}

# Stops chat-server: SIGTERM, then after 20 s (thousands of closes to write
# out) SIGKILL; its figures are all taken by then.
stop_server() {
	kill "$SERVER_PID" 2>/dev/null
	i=0
	while kill -0 "$SERVER_PID" 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=""
}

# start_instance NAME DB [BUS]: a chat-server as start_server's, on the store
# DB (a file or a URL) with the bus BUS if given, the blob directory and key
# shared in $T/two; its pid in NAME_PID, its URL in NAME_URL. 1 (nothing
# left running) if it does not start, such as a build without --bus.
start_instance() {
	si_name=$1
	si_db=$2
	si_bus=${3:+--bus $3}
	: >"$T/$si_name.log"
	mkdir -p "$T/two"
	# shellcheck disable=SC2086
	"$SERVER" --listen 127.0.0.1:0 --db "$si_db" --blobs "$T/two/blobs" \
		--blob-key "$T/two/blob.key" --instance-id "$si_name" $si_bus --rate 0 --rate-bytes 0 \
		--register-rate 0 --max-connections-per-address 1000000 \
		--stranger-adds-per-day 0 --stranger-adds-per-hour 0 2>>"$T/$si_name.log" &
	si_pid=$!
	eval "${si_name}_PID=$si_pid"
	i=0
	while ! grep -q "listening on" "$T/$si_name.log"; do
		i=$((i + 1))
		if [ $i -gt 200 ] || ! kill -0 "$si_pid" 2>/dev/null; then
			kill "$si_pid" 2>/dev/null
			wait "$si_pid" 2>/dev/null
			eval "${si_name}_PID="
			return 1
		fi
		sleep 0.05
	done
	si_port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$T/$si_name.log" | head -n 1)
	eval "${si_name}_URL=ws://127.0.0.1:$si_port/"
	return 0
}

stop_instance() {
	eval "si_pid=\${${1}_PID}"
	[ -n "$si_pid" ] || return 0
	kill "$si_pid" 2>/dev/null
	wait "$si_pid" 2>/dev/null
	eval "${1}_PID="
}

# Redis for the two-instance run, on a free port; sets BUS ("" if none).
start_redis() {
	BUS=""
	[ "${BENCH_BUS:-}" = none ] && return 0
	if [ -n "${BENCH_BUS:-}" ]; then
		BUS=$BENCH_BUS
		return 0
	fi
	command -v redis-server >/dev/null 2>&1 || return 0
	r_port=$(free_port)
	redis-server --bind 127.0.0.1 --port "$r_port" --save "" --appendonly no \
		--dir "$T" >"$T/redis.log" 2>&1 &
	REDIS_PID=$!
	i=0
	until ss -ltn 2>/dev/null | awk '{ print $4 }' | grep -q ":$r_port\$"; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$REDIS_PID" 2>/dev/null; then
			echo "bench: Redis did not start; two instances without a bus" >&2
			return 0
		fi
		sleep 0.05
	done
	BUS="redis://127.0.0.1:$r_port"
}

# Two instances on one store: the same 32 pairs on one instance of the store,
# then across two (see the top). Figures two.one.*, two.*.
two_instances() {
	if [ -n "${BENCH_DB:-}" ]; then
		db1=$BENCH_DB
		db2=$BENCH_DB
		store=$(case $BENCH_DB in postgres*) echo postgresql ;; *) echo sqlite ;; esac)
	else
		db1="$T/one.db"
		db2="$T/two.db"
		store=sqlite
	fi
	echo "two.store_$store 1" >>"$FIG"
	start_instance A "$db1" || fail "chat-server on $db1 did not start: $(tail -n 3 "$T/A.log")"
	step two-one "$BIN/bench/chat-load" -u "$A_URL" -m pairs -n "$PAIRS" -c "$PAIR_MSGS" -p two.one
	stop_instance A
	start_redis
	cross=0
	if [ -n "$BUS" ] && start_instance A "$db2" "$BUS"; then
		start_instance B "$db2" "$BUS" || fail "the second instance did not start: $(tail -n 3 "$T/B.log")"
		cross=1
	else
		start_instance A "$db2" || fail "chat-server on $db2 did not start: $(tail -n 3 "$T/A.log")"
		start_instance B "$db2" || fail "the second instance did not start: $(tail -n 3 "$T/B.log")"
	fi
	echo "two.cross $cross" >>"$FIG"
	if [ $cross -eq 1 ]; then
		step two-cross "$BIN/bench/chat-load" -u "$A_URL" -U "$B_URL" -m pairs -n "$PAIRS" \
			-c "$PAIR_MSGS" -p two
	else
		# Without a bus a receiver on the other instance hears of a message
		# only when it reconnects: each pair stays on one instance, half of
		# them on each, both loads at once.
		half=$((PAIRS / 2 > 0 ? PAIRS / 2 : 1))
		echo "bench: two-split ..." >&2
		timeout "$STEP_TIMEOUT" "$BIN/bench/chat-load" -u "$A_URL" -m pairs -n "$half" \
			-c "$PAIR_MSGS" -p two.a >"$T/two.a" 2>"$T/two-a.err" &
		la=$!
		timeout "$STEP_TIMEOUT" "$BIN/bench/chat-load" -u "$B_URL" -m pairs -n "$half" \
			-c "$PAIR_MSGS" -p two.b >"$T/two.b" 2>"$T/two-b.err" &
		lb=$!
		wait $la
		ra=$?
		wait $lb
		rb=$?
		for r in "a $ra" "b $rb"; do
			set -- $r
			if [ "$2" -eq 3 ]; then
				echo "two-split $(grep VOID "$T/two-$1.err" | head -n 1)" >>"$VOIDS"
				BROKEN=1
			elif [ "$2" -ne 0 ]; then
				fail "two-split ($1) failed ($2): $(tail -n 5 "$T/two-$1.err")"
			fi
		done
		cat "$T/two.a" "$T/two.b" >>"$FIG"
		# Together: the deliveries of both over the longer run; the worse p99.
		awk '{ f[$1] = $2 } END {
			print "two.pairs", f["two.a.pairs"] + f["two.b.pairs"]
			print "two.deliveries_per_s", f["two.a.deliveries_per_s"] + f["two.b.deliveries_per_s"]
			p = f["two.a.latency_p99_ms"]; if (f["two.b.latency_p99_ms"] > p) p = f["two.b.latency_p99_ms"]
			print "two.latency_p99_ms", p }' "$T/two.a" "$T/two.b" >>"$FIG"
	fi
	stop_instance A
	stop_instance B
	if [ -n "$REDIS_PID" ]; then
		kill "$REDIS_PID" 2>/dev/null
		wait "$REDIS_PID" 2>/dev/null
		REDIS_PID=""
	fi
}

# half_rate KEY: half the peak deliveries/s measured as KEY, at least 10.
half_rate() {
	awk -v v="$(fig "$1")" 'BEGIN { r = int(v / 2); print (r < 10 ? 10 : r) }'
}

# msgs_for RATE SENDERS SECONDS: messages per sender for a paced run of SECONDS.
msgs_for() {
	awk -v r="$1" -v n="$2" -v s="$3" 'BEGIN { m = int(r * s / n);
		print (m < 10 ? 10 : (m > 5000 ? 5000 : m)) }'
}

# Cold commands: the median wall time of COLD_RUNS runs, and their mean CPU
# time (user + system, from the shell's "times": exact enough over many runs).
# cold NAME CMD...
cold() {
	name=$1
	shift
	(
		k=0
		while [ $k -lt "$COLD_RUNS" ]; do
			t0=$(date +%s%N)
			"$@" >/dev/null 2>"$T/cold.err" || exit 1
			t1=$(date +%s%N)
			echo "$(( (t1 - t0) / 1000 ))" >>"$T/cold.$name"
			k=$((k + 1))
		done
		times >"$T/cold.times"
	) || fail "$name: $(cat "$T/cold.err")"
	sort -n "$T/cold.$name" | awk -v k="$name.wall_ms" '{ v[NR] = $1 }
		END { printf "%s %.3f\n", k, v[int((NR + 1) / 2)] / 1000 }' >>"$FIG"
	# the second line: the children's user and system time, as 0m0.123456s
	sed -n '2s/[ms]/ /gp' "$T/cold.times" | awk -v k="$name.cpu_ms" -v n="$COLD_RUNS" \
		'{ printf "%s %.3f\n", k, (($1 * 60 + $2) + ($3 * 60 + $4)) * 1000 / n }' >>"$FIG"
}

chatctl_cold() {
	for u in alice bob; do
		"$BIN/chatctl" --home "$T/$u" --server "$URL" register "$u" >/dev/null 2>"$T/ctl.err" ||
			fail "chatctl register $u: $(cat "$T/ctl.err")"
	done
	CHAT=$("$BIN/chatctl" --home "$T/alice" create bob 2>"$T/ctl.err") ||
		fail "chatctl create: $(cat "$T/ctl.err")"
	echo "bench: chatctl send, cold ..." >&2
	cold chatctl_send "$BIN/chatctl" --home "$T/alice" send "$CHAT" "a short text of a cold send"
	# fdatasyncs of one cold send, the client's and its threads' (the server's are not in it)
	if command -v strace >/dev/null 2>&1; then
		strace -f -c -e trace=fdatasync,fsync -o "$T/strace" \
			"$BIN/chatctl" --home "$T/alice" send "$CHAT" "counted" >/dev/null 2>&1 &&
			awk '$NF == "fdatasync" || $NF == "fsync" { n += $4 }
				END { printf "chatctl_send.fsyncs %d\n", n }' "$T/strace" >>"$FIG"
	fi
	# bob collects them, so that chat-bench starts on an empty inbox
	"$BIN/chatctl" --home "$T/bob" recv >/dev/null 2>"$T/ctl.err" ||
		fail "chatctl recv: $(cat "$T/ctl.err")"
}

# A group of GROUP members (chatctl homes; the rest registered two at a
# time): the client's CPU for a cold chatctl send to it, the first (every
# other device is given this device's sender key with it) and the next ones
# (one sender-key message for all). Stage 1 sealed once per device.
group_cold() {
	i=1
	while [ $i -lt "$GROUP" ]; do echo "g$i"; i=$((i + 1)); done >"$T/gnames"
	"$BIN/chatctl" --home "$T/g0" --server "$URL" register g0 >/dev/null 2>"$T/ctl.err" ||
		fail "chatctl register g0: $(cat "$T/ctl.err")"
	xargs -P 2 -I{} sh -c '"$0" --home "$1/{}" --server "$2" register {} >/dev/null' \
		"$BIN/chatctl" "$T" "$URL" <"$T/gnames" 2>"$T/ctl.err" || fail "registering the group"
	G=$("$BIN/chatctl" --home "$T/g0" create --name bench $(cat "$T/gnames") 2>"$T/ctl.err") ||
		fail "chatctl create (group): $(cat "$T/ctl.err")"
	echo "bench: chatctl send to a group of $GROUP, cold ..." >&2
	COLD_RUNS_KEEP=$COLD_RUNS
	COLD_RUNS=1
	cold group_first "$BIN/chatctl" --home "$T/g0" send "$G" "the first, keys attached"
	COLD_RUNS=$COLD_RUNS_KEEP
	cold group_send "$BIN/chatctl" --home "$T/g0" send "$G" "a short text to the group"
	echo "group_send.members $GROUP" >>"$FIG"
}

machine() {
	printf '%s CPUs (%s), Linux %s, %s for the databases, libwebsockets %s, SQLite %s, mosquitto %s' \
		"$(nproc 2>/dev/null || echo '?')" \
		"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
		"$(uname -r)" "$(df -PT "$T" 2>/dev/null | awk 'NR == 2 { print $2 }')" \
		"$(pkg-config --modversion libwebsockets 2>/dev/null || echo '?')" \
		"$(pkg-config --modversion sqlite3 2>/dev/null || echo '?')" \
		"$(mosquitto -h 2>/dev/null | sed -n 's/^mosquitto version //p')"
}

# The table, from the figures: workload | chat-server | reference | ratio.
table() {
	awk -v voids="$VOIDS" -v smoke="$SMOKE" '
	FILENAME == voids { bad[$1] = 1; next }
	{ f[$1] = $2 }
	function n(x) { return sprintf(x >= 100 ? "%.0f" : (x >= 10 ? "%.1f" : (x >= 1 ? "%.2f" : "%.3f")), x) }
	function v(step, text) { return (step in bad) ? "VOID" : text }
	function row(a, b, c, d) { printf "| %s | %s | %s | %s |\n", a, b, c, d }
	function ratio(x, y) { return (x > 0 && y > 0) ? (x >= y ? n(x / y) "x" : "1/" n(y / x)) : "" }
	END {
		row("workload", "chat-server", "reference (same run)", "ratio")
		row("---", "---", "---", "---")
		row(sprintf("1:1 deliveries/s, %d pairs, at peak", f["pairs.pairs"]),
		    v("chat-pairs", n(f["pairs.deliveries_per_s"]) " (p99 " n(f["pairs.latency_p99_ms"]) " ms)"),
		    v("mq-pairs", "mosquitto QoS 1: " n(f["mq.pairs.deliveries_per_s"])) "; SQLite FULL: " \
		      n(f["sqlite.full.commits_per_s"]) " commits/s, 100 rows a commit: " \
		      n(f["sqlite.full_batch100.rows_per_s"]) " rows/s; chat-server'"'"'s store alone " \
		      "(send and ack, a commit each): " n(f["store.msgs_per_s"]) " msg/s",
		    ratio(f["pairs.deliveries_per_s"], f["mq.pairs.deliveries_per_s"]) " of mosquitto")
		row("the same with delivered receipts (as libchat sends them)",
		    v("chat-pairs-r", n(f["pairs_r.deliveries_per_s"]) " (" n(f["pairs_r.receipts"]) \
		      " receipts; p99 " n(f["pairs_r.latency_p99_ms"]) " ms)"), "", "")
		row(sprintf("latency at half of peak (%s msg/s offered)", n(f["half.offered_per_s"])),
		    v("chat-half", "p50 " n(f["half.latency_p50_ms"]) " / p99 " n(f["half.latency_p99_ms"]) \
		      " / max " n(f["half.latency_max_ms"]) " ms"),
		    v("mq-half", "mosquitto at half its peak (" n(f["mq.half.offered_per_s"]) "/s): p99 " \
		      n(f["mq.half.latency_p99_ms"]) " ms"),
		    ratio(f["half.latency_p99_ms"], f["mq.half.latency_p99_ms"]) " (p99)")
		row(sprintf("group of %d, deliveries/s", f["group.members"]),
		    v("chat-group", n(f["group.deliveries_per_s"]) " (p99 to the last member " \
		      n(f["group.last_member_p99_ms"]) " ms)"),
		    v("mq-fanout", sprintf("mosquitto fan-out to %d: ", f["mq.fanout.subscribers"]) \
		      n(f["mq.fanout.deliveries_per_s"]) " (p99 " n(f["mq.fanout.last_member_p99_ms"]) " ms)"),
		    ratio(f["group.deliveries_per_s"], f["mq.fanout.deliveries_per_s"]))
		row(sprintf("offline drain of %d", f["drain.messages"]),
		    v("chat-drain", n(f["drain.drain_s"]) " s"),
		    v("mq-drain", "mosquitto persistent session: " n(f["mq.drain.drain_s"]) " s"),
		    ratio(f["drain.drain_s"], f["mq.drain.drain_s"]))
		for (k in f) if (k ~ /^idle\.s[0-9]+\.rss_kib_per_session$/) {
			split(k, p, "."); levels[substr(p[2], 2) + 0] = 1
		}
		nl = 0; for (l in levels) L[++nl] = l + 0
		for (i = 1; i <= nl; i++) for (j = i + 1; j <= nl; j++) if (L[j] < L[i]) { t = L[i]; L[i] = L[j]; L[j] = t }
		mem = ""; cpu = ""; lv = ""
		for (i = 1; i <= nl; i++) {
			mem = mem (i > 1 ? " / " : "") n(f["idle.s" L[i] ".rss_kib_per_session"])
			cpu = cpu (i > 1 ? " / " : "") n(f["idle.s" L[i] ".server_cpu_us_per_msg"] / 1000)
			lv = lv (i > 1 ? " / " : "") L[i]
		}
		si = ""; ic = ""; br = ""
		for (i = 1; i <= nl; i++) {
			si = si (i > 1 ? " / " : "") n(f["idle.s" L[i] ".signin_per_s"])
			br = br (i > 1 ? " / " : "") n(f["idle.s" L[i] ".burst_per_s"])
			ic = ic (i > 1 ? " / " : "") n(f["idle.s" L[i] ".server_idle_cpu_pct"])
		}
		row("idle sessions " lv ": server memory per session", v("chat-idle", mem " KiB"), "", "")
		row("sign-ins/s (register) while reaching " lv " sessions", v("chat-idle", si), "", "")
		row("a 1:1 burst with " lv " sessions connected: server CPU per message",
		    v("chat-idle", cpu " ms"), "with none: " n(f["idle.s0.server_cpu_us_per_msg"] / 1000) \
		      " ms; the idle sessions alone take " ic " % of a CPU", "")
		row(sprintf("a 1:1 burst (one pair, %d messages) with %s sessions connected", f["idle.burst"], lv),
		    v("chat-idle", br " msg/s"), "with none: " n(f["idle.s0.burst_per_s"]) " msg/s", "")
		row("cold `chatctl send` (median wall, mean CPU)",
		    n(f["chatctl_send.wall_ms"]) " ms wall, " n(f["chatctl_send.cpu_ms"]) " ms CPU, " \
		      (("chatctl_send.fsyncs" in f) ? f["chatctl_send.fsyncs"] " client fdatasyncs" : "fdatasyncs: no strace"),
		    (("mosquitto_pub.wall_ms" in f) ? "`mosquitto_pub -q 1`: " n(f["mosquitto_pub.wall_ms"]) " ms" \
		      : "no mosquitto_pub (apt-get install mosquitto-clients)"),
		    ratio(f["chatctl_send.wall_ms"], f["mosquitto_pub.wall_ms"]))
		if ("group_send.cpu_ms" in f)
			row(sprintf("cold `chatctl send` to a group of %d (mean CPU)", f["group_send.members"]),
			    "first message (the key to " f["group_send.members"] - 1 " devices): " \
			      n(f["group_first.cpu_ms"]) " ms; then " n(f["group_send.cpu_ms"]) " ms",
			    "a 1:1 cold send: " n(f["chatctl_send.cpu_ms"]) " ms", "")
		row(sprintf("client crypto per message (text of %d bytes)", f["crypto.text_bytes"]),
		    "seal for one device " n(f["crypto.seal_us"]) " us, open " n(f["crypto.open_us"]) \
		      " us + sender key check " n(f["crypto.verify_key_us"]) " us",
		    "a group-100 send: " n(99 * f["crypto.seal_us"] / 1000) " ms of sealing", "")
		row(sprintf("group message with sender keys (the same text, %d bytes sent)",
		      f["crypto.sk_message_bytes"]),
		    "encrypt once " n(f["crypto.sk_encrypt_us"]) " us, decrypt " \
		      n(f["crypto.sk_decrypt_us"]) " us (signature check included); " \
		      n(f["crypto.sk_dist_us"]) " us per device given the key",
		    "a group-100 send: " n(99 * f["crypto.seal_us"] / 1000) " ms of sealing before, " \
		      n(f["crypto.sk_encrypt_us"] / 1000) " ms now (+ " \
		      n(99 * f["crypto.sk_dist_us"] / 1000) " ms when all 99 devices need the key)",
		    ratio(f["crypto.sk_encrypt_us"], 99 * f["crypto.seal_us"]))
		row(sprintf("search of a home of %d messages (the 50 newest hits)", f["search.messages"]),
		    "a rare word " n(f["search.rare_ms"]) " ms, a common one " n(f["search.common_ms"]) \
		      " ms, a prefix " n(f["search.prefix_ms"]) " ms, two words " n(f["search.two_words_ms"]) \
		      " ms, in one chat of 50 " n(f["search.chat_ms"]) " ms (" \
		      n(f["search.chat_none_ms"]) " ms when that chat has none of its hits)",
		    sprintf("every hit of the common word (%d): ", f["search.all_common_hits"]) \
		      n(f["search.all_common_ms"]) " ms; storing " n(f["search.insert_per_s"]) \
		      " msg/s with the index, " n(f["search.insert_bare_per_s"]) " without", "")
		if ("two.deliveries_per_s" in f)
			row(sprintf("two instances on one %s store, 1:1 deliveries/s, %d pairs (%s)",
			      ("two.store_postgresql" in f) ? "PostgreSQL" : "SQLite", f["two.pairs"],
			      f["two.cross"] ? "every message from A to B through the bus" \
			        : "no bus: half the pairs on each instance, at once"),
			    v(f["two.cross"] ? "two-cross" : "two-split", n(f["two.deliveries_per_s"]) \
			      " (p99 " n(f["two.latency_p99_ms"]) " ms)"),
			    v("two-one", "one instance on that store: " n(f["two.one.deliveries_per_s"]) \
			      " (p99 " n(f["two.one.latency_p99_ms"]) " ms)"),
			    ratio(f["two.deliveries_per_s"], f["two.one.deliveries_per_s"]) " of one instance")
		row("libchat end to end, one pair (chat-bench)",
		    "p50 " n(f["chat.latency.p50_ms"]) " / p99 " n(f["chat.latency.p99_ms"]) " ms; burst " \
		      n(f["chat.throughput.msgs_per_s"]) " msg/s",
		    "bare lws echo RTT p50 " n(f["echo.rtt_p50_us"] / 1000) " ms; " \
		      sprintf("%d connections: ", f["echo.many.conns"]) n(f["echo.many.round_trips_per_s"]) \
		      " round trips/s", "")
	}' "$VOIDS" "$FIG"
}

json() {
	awk -v machine="$(machine)" -v smoke="$SMOKE" -v voids="$VOIDS" '
	FILENAME == voids { gsub(/["\\]/, "", $0); vv[++nv] = $0; next }
	{ k[++n] = $1; val[n] = $2 }
	END {
		printf "{\n  \"machine\": \"%s\",\n  \"smoke\": %s,\n", machine, smoke ? "true" : "false"
		printf "  \"void\": ["
		for (i = 1; i <= nv; i++) printf "%s\"%s\"", (i > 1 ? ", " : ""), vv[i]
		printf "],\n  \"figures\": {\n"
		for (i = 1; i <= n; i++) printf "    \"%s\": %s%s\n", k[i], val[i], (i < n ? "," : "")
		printf "  }\n}\n"
	}' "$VOIDS" "$FIG"
}

[ -x "$SERVER" ] || fail "no $SERVER: build first (make bench does)"
for prog in chatctl bench/sqlite-commit bench/store-commit bench/ws-echo bench/chat-bench \
	bench/chat-load bench/mqtt-load bench/crypto-cost bench/search-cost; do
	[ -x "$BIN/$prog" ] || fail "no $BIN/$prog: build first (make bench does)"
done
: >"$FIG"
: >"$VOIDS"
mkdir "$T/sqlite" || fail "cannot create $T/sqlite"

# 1. the bare limits
step sqlite-commit "$BIN/bench/sqlite-commit" -n "$COMMITS" -d "$T/sqlite"
step store-commit "$BIN/bench/store-commit" -n "$COMMITS" -d "$T/sqlite"
step ws-echo "$BIN/bench/ws-echo" -n "$ECHOES"
step ws-echo-many "$BIN/bench/ws-echo" -n "$((ECHOES * 5))" -k "$ECHO_CONNS"
step crypto-cost "$BIN/bench/crypto-cost" -n "$CRYPTO"
step search-cost "$BIN/bench/search-cost" -n "$SEARCH_N" -r "$SEARCH_R" -d "$T/sqlite"

# 2. the peer
start_mosquitto
MQ="$BIN/bench/mqtt-load -P $MQ_PORT"
step mq-pairs $MQ -m pairs -n "$PAIRS" -c "$MQ_PAIR_MSGS" -p mq.pairs
rate=$(half_rate mq.pairs.deliveries_per_s)
step mq-half $MQ -m pairs -n "$PAIRS" -r "$rate" -c "$(msgs_for "$rate" "$PAIRS" 5)" -p mq.half
step mq-fanout $MQ -m fanout -g "$MQ_FANOUT" -c "$GROUP_MSGS" -p mq.fanout
echo "mq.fanout.subscribers $MQ_FANOUT" >>"$FIG"
step mq-drain $MQ -m drain -c "$DRAIN" -p mq.drain
if command -v mosquitto_pub >/dev/null 2>&1; then
	echo "bench: mosquitto_pub, cold ..." >&2
	cold mosquitto_pub mosquitto_pub -p "$MQ_PORT" -h 127.0.0.1 -q 1 -t cold -m "a short text"
fi
kill "$MQ_PID" 2>/dev/null
wait "$MQ_PID" 2>/dev/null
MQ_PID=""

# 3. chat-server
start_server
LOAD="$BIN/bench/chat-load -u $URL"
if [ "$SMOKE" -eq 1 ]; then
	# The check itself: one duplicate sent on purpose must make a run VOID.
	echo "bench: chat-load's check catches a duplicate ..." >&2
	$LOAD -m pairs -n 1 -c 5 -X -p selfcheck >/dev/null 2>"$T/selfcheck.err"
	rc=$?
	[ $rc -eq 3 ] && grep -q "VOID.*duplicate" "$T/selfcheck.err" ||
		fail "chat-load -X did not end VOID (exit $rc): $(cat "$T/selfcheck.err")"
fi
step chat-pairs $LOAD -m pairs -n "$PAIRS" -c "$PAIR_MSGS" -p pairs
rate=$(half_rate pairs.deliveries_per_s)
step chat-half $LOAD -m pairs -n "$PAIRS" -r "$rate" -c "$(msgs_for "$rate" "$PAIRS" 5)" -p half
# as libchat behaves: every receiver sends a delivered receipt per loop pass
step chat-pairs-r $LOAD -m pairs -n "$PAIRS" -c "$PAIR_MSGS" -R -p pairs_r
step chat-group $LOAD -m group -g "$GROUP" -c "$GROUP_MSGS" -p group
step chat-drain $LOAD -m drain -c "$DRAIN" -p drain
chatctl_cold
group_cold
# libchat end to end, for context.
step chat-bench "$BIN/bench/chat-bench" -a "$T/alice" -b "$T/bob" -c "$CHAT" -n "$CB_N" -m "$CB_M"
# Idle sessions last: closing tens of thousands of them at the end keeps the
# server busy for a while.
# The server holds at most MAX_CONN connections (from its fd limit): "max" is
# that, less the pair the burst uses and a margin.
levels=$(echo "$IDLE_LEVELS" | awk -F, -v cap=$(( ${MAX_CONN:-1000} - 16 )) '{
	for (i = 1; i <= NF; i++) {
		v = $i == "max" ? cap : $i + 0
		printf "%s%d", (i > 1 ? "," : ""), (v > cap ? cap : v)
	} }')
step chat-idle $LOAD -m idle -k "$levels" -a "$IDLE_ADDRS" -b "$IDLE_BURST" -P "$SERVER_PID" -p idle

stop_server

# 4. two instances on one store
two_instances
echo
echo "chat benchmark$([ "$SMOKE" -eq 1 ] && echo ' (smoke: tiny counts, the figures mean nothing)'): $(machine)"
echo
table
if [ -s "$VOIDS" ]; then
	echo
	echo "VOID (a message lost, duplicated or out of order; the figure is not shown):"
	sed 's/^/  /' "$VOIDS"
fi
mkdir -p "$(dirname "$OUT")" && json >"$OUT" && echo && echo "figures: $OUT"
if [ "$RAW" -eq 1 ]; then
	echo
	echo "raw figures:"
	sed 's/^/  /' "$FIG"
fi
[ "$SMOKE" -eq 1 ] && [ "$BROKEN" -ne 0 ] && exit 1
exit 0
