# Group commit (issue 12): the requests of one pass of the server's loop are
# committed together, and their replies wait for the COMMIT. Three senders
# send bursts to one device at once: a listening device gets every message
# exactly once, in the order each sender wrote them; and a server killed -9
# right after it confirmed a burst (no clean stop) still has every confirmed
# message after its restart.
. "$(dirname "$0")/lib.sh"
start_server
register bob alice carol dave
for s in alice carol dave; do
	expect_exit 0 ctl "$s" create bob
	cp "$T/out" "$T/chat.$s"
done
N=40

# burst SENDER TAG: N sends of "TAG-SENDER-i" through one rpc session, kept
# open until $T/stop.TAG exists; results in $T/SENDER.TAG.out.
burst() {
	chat=$(cat "$T/chat.$1")
	(
		i=1
		while [ $i -le $N ]; do
			printf '{"jsonrpc":"2.0","id":%d,"method":"send","params":{"chat":"%s","text":"%s-%s-%d"}}\n' \
				$i "$chat" "$2" "$1" $i
			i=$((i + 1))
		done
		while [ ! -e "$T/stop.$2" ]; do sleep 0.05; done
	) | "$CHATCTL" --home "$T/$1" --server "$URL" rpc >"$T/$1.$2.out" 2>"$T/$1.$2.err" &
}
# All N of every sender's burst TAG confirmed by the server (state sent).
confirmed() {
	for s in alice carol dave; do
		[ "$(grep -c '"state":"sent"' "$T/$s.$1.out")" -eq $N ] || return 1
	done
}
# check FILE TAG: each sender's messages of burst TAG in FILE, once each and
# in the order written.
check() {
	for s in alice carol dave; do
		grep -o "$2-$s-[0-9]*" "$1" >"$T/got" || true
		seq 1 $N | sed "s/^/$2-$s-/" >"$T/want"
		cmp -s "$T/got" "$T/want" ||
			fail "$2 from $s: not each once in order: $(paste -s "$T/got" | cut -c1-300)"
	done
}

# 1. Live: bob listens while the three bursts run.
"$CHATCTL" --home "$T/bob" --server "$URL" --json listen >"$T/listen.out" 2>"$T/listen.err" &
listener=$!
wait_until 10 'bob never came online: $(cat "$T/listen.err")' grep -q '"state":"online"' "$T/listen.out"
for s in alice carol dave; do burst "$s" live; done
wait_until 60 'not all confirmed: $(tail -n 3 "$T/server.log")' confirmed live
: >"$T/stop.live"
all_live() { [ "$(grep -c '"type":"message"' "$T/listen.out")" -ge $((3 * N)) ]; }
wait_until 60 'bob got $(grep -c "\"type\":\"message\"" "$T/listen.out") of $((3 * N))' all_live
sleep 0.5 # a duplicate would come now
check "$T/listen.out" live
kill -TERM $listener
wait $listener || fail "listen did not stop cleanly: $(cat "$T/listen.err")"

# 2. Offline, then a crash right after the confirmations: nothing confirmed
# is lost, nothing is stored twice.
for s in alice carol dave; do burst "$s" crash; done
wait_until 60 'not all confirmed: $(tail -n 3 "$T/server.log")' confirmed crash
kill_server
: >"$T/stop.crash"
start_server "$port"
expect_exit 0 ctl bob recv
cp "$T/out" "$T/recv.out"
check "$T/recv.out" crash
expect_exit 0 ctl bob recv
[ -s "$T/out" ] && fail "received twice: $(head -c 300 "$T/out")"
exit 0
