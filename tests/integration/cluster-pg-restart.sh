# Cluster, PostgreSQL stopped mid-stream and started again. While it is
# down a send is answered "unavailable" (the store is out of reach, nothing
# was changed, try again: PROTOCOL.md), never "internal": chatctl says so and
# keeps the message in its outbox, pending, not failed; once PostgreSQL is
# back the instances use it again by themselves and the outbox sends what
# waited: everything reaches bob once, in the order written. A device that
# stays connected (carol's rpc) has its send tried again in its place until
# the store takes it, without being asked. store-unavailable.sh is the same
# on one server with SQLite's lock held.
# timeout: 180
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/engines/cluster.sh"
cluster_need
CLUSTER_OPTS="--bus-poll 2"
cluster_start A B
on A register alice carol
on B register bob
on A expect_exit 0 ctl alice create bob
ab=$(cat "$T/out")
on A expect_exit 0 ctl carol create bob
cb=$(cat "$T/out")
rpc_start bob "$(instance_url B)"
rpc_start carol "$(instance_url A)"

n=1
while [ $n -le 4 ]; do
	on A expect_exit 0 ctl alice send "$ab" "m$n"
	n=$((n + 1))
done
wait_until 10 'bob did not get m1..m4: $(rpc_texts bob | paste -s -d" ")' rpc_has bob m4

stop_pg
while [ $n -le 7 ]; do
	on A expect_exit 3 ctl alice send "$ab" "m$n"
	expect_in "$T/err" "(unavailable)"
	expect_in "$T/err" "is kept"
	n=$((n + 1))
done
echo "cluster-pg-restart: while PostgreSQL is down, chatctl send says: $(head -n 1 "$T/err")"
expect_exit 0 "$CHATCTL" --home "$T/alice" --json history "$ab"
# (sent: or delivered, read, should receipts have come)
states() {
	jq -r '[.[] | select(.text | startswith("m")) | .state |
		if . == "delivered" or . == "read" then "sent" else . end] | join(",")' "$T/out"
}
[ "$(states)" = "sent,sent,sent,sent,pending,pending,pending" ] || fail "alice's states: $(cat "$T/out")"
# carol's send waits for the store, and is not answered with an error meanwhile.
rpc_send carol "$cb" "carol-1" c1
sleep 3
grep '"id":"c1"' "$T/carol.rpc" | grep -q '"error"' &&
	fail "carol's send failed: $(grep '"id":"c1"' "$T/carol.rpc")"
# Nothing reached bob meanwhile, and the instances are still up.
[ "$(rpc_texts bob | paste -s -d' ')" = "m1 m2 m3 m4" ] || fail "bob got: $(rpc_texts bob | paste -s -d' ')"
for i in A B; do
	kill -0 "$(instance_pid $i)" 2>/dev/null || fail "instance $i died with PostgreSQL"
done

restart_pg
# The instances connect to it again by themselves, after a short delay of
# their own: until A has, alice's next connection is answered unavailable
# too. The first that is not sends what waits, in order; carol's goes on
# its own.
back_on_a() { on A ctl alice recv >"$T/back.out" 2>&1; }
wait_until 20 'A does not use PostgreSQL again: $(cat "$T/back.out")' back_on_a
on A expect_exit 0 ctl alice send "$ab" "m8"
wait_until 30 'bob has: $(rpc_texts bob | paste -s -d" ")' rpc_has bob carol-1
grep '"id":"c1"' "$T/carol.rpc" | jq -e '.result.state == "sent"' >/dev/null ||
	fail "carol's send: $(grep '"id":"c1"' "$T/carol.rpc")"
wait_until 10 'bob has: $(rpc_texts bob | paste -s -d" ")' rpc_has bob m8
sleep 1
[ "$(rpc_texts bob | grep '^m' | paste -s -d' ')" = "m1 m2 m3 m4 m5 m6 m7 m8" ] ||
	fail "bob got, in this order: $(rpc_texts bob | paste -s -d' ')"
[ "$(rpc_texts bob | grep -c '^carol-1$')" -eq 1 ] || fail "carol-1 twice"
expect_exit 0 "$CHATCTL" --home "$T/alice" --json history "$ab"
[ "$(states)" = "sent,sent,sent,sent,sent,sent,sent,sent" ] ||
	fail "alice's states: $(cat "$T/out")"
[ "$(pg_sql chat "SELECT count(*) FROM messages WHERE chat_id = '$ab' AND kind = 'message'")" = 8 ] ||
	fail "the store holds $(pg_sql chat "SELECT count(*) FROM messages WHERE chat_id = '$ab' AND kind = 'message'") messages of alice's"
grep -q "code=internal" "$T"/server-*.log && fail "an instance answered internal"
exit 0
