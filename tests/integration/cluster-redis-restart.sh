# Cluster, Redis restarted mid-stream: alice on A streams messages to bob on
# B while Redis (the bus) is stopped and started again, empty. What the bus
# lost only waits for the store: the instances poll it every POLL seconds
# (--bus-poll), so every message reaches bob within POLL seconds and a
# margin, once, in order; and once the bus is back, delivery is live again.
# timeout: 150
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/engines/cluster.sh"
cluster_need
POLL=10
# The margin over POLL: a poll's own work, under the sanitizers, on a
# machine shared with other tests.
SLACK=4
# Seconds a live message may take (well under POLL: not a poll that came by).
LIVE=2
N=40
CLUSTER_OPTS="--bus-poll $POLL"
cluster_start A B
on A register alice
on B register bob
on A expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
rpc_start alice "$(instance_url A)"
rpc_start bob "$(instance_url B)"

# live TEXT: alice sends TEXT; bob must have it within LIVE seconds.
live() {
	l_start=$(now_ms)
	rpc_send alice "$chat" "$1"
	until rpc_has bob "$1"; do
		[ "$(now_ms)" -le $((l_start + LIVE * 1000)) ] ||
			fail "$1: bob did not get it live (in $LIVE s)"
		sleep 0.01
	done
	echo "$(($(now_ms) - l_start)) ms"
}
echo "cluster-redis-restart: before: $(live before)"

# The stream: N messages, 0.1 s apart; Redis goes down after a quarter of
# them and comes back, empty, 3 s later.
(
	n=1
	while [ $n -le $N ]; do
		rpc_send alice "$chat" "m$n"
		sleep 0.1
		n=$((n + 1))
	done
) &
feeder=$!
sleep 1
stop_redis
echo "cluster-redis-restart: Redis stopped after $(grep -c '"text":"m' "$T/bob.rpc") messages reached bob"
sleep 3
restart_redis
wait $feeder
# Every message written reaches bob within the bound.
sent_at=$(date +%s)
all_in() { [ "$(rpc_texts bob | grep -c '^m')" -ge $N ]; }
wait_until $((POLL + SLACK)) 'bob has $(rpc_texts bob | grep -c "^m") of $N messages, $POLL + $SLACK s after the last' all_in
echo "cluster-redis-restart: the stream complete at bob $(($(date +%s) - sent_at)) s after the last send"
sleep 1
[ "$(rpc_texts bob | grep '^m' | paste -s -d' ')" = "$(seq -f 'm%g' 1 $N | paste -s -d' ')" ] ||
	fail "bob got, in this order: $(rpc_texts bob | grep '^m' | paste -s -d' ')"

# The bus is back: live again (the instances reconnect to Redis by themselves).
sleep 8
for n in 1 2 3 4; do
	echo "cluster-redis-restart: after: $(live "after-$n")"
done
[ "$(rpc_texts bob | wc -l)" -eq $((N + 5)) ] || fail "bob got something twice: $(rpc_texts bob | sort | uniq -d)"
exit 0
