# Cluster, live: three chat-server instances on one PostgreSQL and one Redis.
# alice on A and bob on B chat live both ways: each message reaches the other
# instance's device while it waits, through the bus, within LIVE seconds (the
# instances poll the store only every 30 s here, so a bus that does not wake
# the other instance fails this); the latencies are printed. Then a group of
# six, two members on each instance, every member writing: each member gets
# every other member's message once, in one order (the server's, seq
# increasing), each sender's in the order written.
# timeout: 180
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/engines/cluster.sh"
cluster_need
# Seconds a live message may take, send to notification: a chatctl process
# started per send (under the sanitizers), on a machine shared with other tests.
LIVE=3
CLUSTER_OPTS="--bus-poll 30"
cluster_start A B C

on A register alice
on B register bob
on A expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
rpc_start alice "$(instance_url A)"
rpc_start bob "$(instance_url B)"

# One message each way per round; each waits for the other side's notification.
# live FROM TO TEXT: FROM sends TEXT; prints the milliseconds until TO has it.
live() {
	l_start=$(now_ms)
	rpc_send "$1" "$chat" "$3"
	l_limit=$((l_start + LIVE * 1000))
	until rpc_has "$2" "$3"; do
		[ "$(now_ms)" -le $l_limit ] ||
			fail "$3: $2 did not get it live (in $LIVE s): $(tail -n 3 "$T/$2.rpc")"
		sleep 0.01
	done
	echo $(($(now_ms) - l_start))
}
: >"$T/ab.ms"
: >"$T/ba.ms"
for n in 1 2 3 4 5 6 7 8; do
	live alice bob "alice-$n" >>"$T/ab.ms"
	live bob alice "bob-$n" >>"$T/ba.ms"
done
stats() { sort -n "$1" | awk '{ v[NR] = $1 } END { printf "min %d, median %d, max %d ms", v[1], v[int((NR + 1) / 2)], v[NR] }'; }
echo "cluster-live: alice on A -> bob on B: $(stats "$T/ab.ms")"
echo "cluster-live: bob on B -> alice on A: $(stats "$T/ba.ms")"
# Each once, in order.
[ "$(rpc_texts bob | paste -s -d' ')" = "alice-1 alice-2 alice-3 alice-4 alice-5 alice-6 alice-7 alice-8" ] ||
	fail "bob got: $(rpc_texts bob | paste -s -d' ')"
[ "$(rpc_texts alice | paste -s -d' ')" = "bob-1 bob-2 bob-3 bob-4 bob-5 bob-6 bob-7 bob-8" ] ||
	fail "alice got: $(rpc_texts alice | paste -s -d' ')"
# Both really were on their own instance.
grep -q "device=alice/1" "$T/server-A.log" || fail "alice was not on A"
grep -q "device=bob/1" "$T/server-B.log" || fail "bob was not on B"
grep -q "device=alice/1" "$T/server-B.log" && fail "alice was on B"
grep -q "device=bob/1" "$T/server-A.log" && fail "bob was on A"

# ---- a group of six over three instances: u1 and u4 on A, u2 and u5 on B,
# u3 and u6 on C.
inst() { case $1 in u1 | u4) echo A ;; u2 | u5) echo B ;; *) echo C ;; esac; }
members="u1 u2 u3 u4 u5 u6"
for u in $members; do on "$(inst $u)" register $u; done
on A expect_exit 0 ctl u1 create --name six u2 u3 u4 u5 u6
g=$(cat "$T/out")
for u in $members; do rpc_start $u "$(instance_url "$(inst $u)")"; done
# Every member writes ROUNDS messages, all of them at once, round by round.
ROUNDS=5
r=1
while [ $r -le $ROUNDS ]; do
	for u in $members; do rpc_send $u "$g" "$u-$r"; done
	sleep 0.2
	r=$((r + 1))
done
# Each member is notified of the others' messages (not of its own).
want=$((5 * ROUNDS))
got_all() {
	for u in $members; do
		[ "$(grep -c '"method":"message"' "$T/$u.rpc")" -ge $want ] || return 1
	done
}
wait_until 30 'not every member got every message: $(for u in $members; do echo "$u: $(rpc_texts $u | paste -s -d" ")"; done)' got_all
sleep 1 # anything twice would come now
for u in $members; do
	f=$T/$u.msgs
	grep '"method":"message"' "$T/$u.rpc" | jq -r '.params | "\(.seq) \(.messageId) \(.sender) \(.text)"' >"$f"
	[ "$(wc -l <"$f")" -eq $want ] || fail "$u got $(wc -l <"$f") messages, not $want: $(cut -d' ' -f4 "$f" | paste -s -d' ')"
	[ "$(cut -d' ' -f2 "$f" | sort -u | wc -l)" -eq $want ] || fail "$u got a message twice"
	grep -q " $u-" "$f" && fail "$u was notified of its own message"
	sort -n -c "$f" 2>/dev/null && [ "$(cut -d' ' -f1 "$f" | sort -u | wc -l)" -eq $want ] ||
		fail "$u: not in the server's order: $(cut -d' ' -f1 "$f" | paste -s -d' ')"
	for s in $members; do
		[ $s = $u ] && continue
		[ "$(awk -v s=$s '$3 == s { print $4 }' "$f" | paste -s -d' ')" = "$(seq -f "$s-%g" 1 $ROUNDS | paste -s -d' ')" ] ||
			fail "$u: $s's messages out of order: $(awk -v s=$s '$3 == s { print $4 }' "$f" | paste -s -d' ')"
	done
done
# One order: a message has the same seq for everyone (u1's view beside each
# other's; together they hold every message).
cat "$T"/u*.msgs | cut -d' ' -f1,2 | sort -u >"$T/pairs"
[ "$(wc -l <"$T/pairs")" -eq $((6 * ROUNDS)) ] ||
	fail "members disagree on the seq of a message: $(cut -d' ' -f2 "$T/pairs" | sort | uniq -d | head -n 3)"
[ "$(cut -d' ' -f1 "$T/pairs" | sort -u | wc -l)" -eq $((6 * ROUNDS)) ] || fail "two messages with one seq"
for i in A B C; do
	grep -q "auth device=u" "$T/server-$i.log" || fail "no group member on $i"
done
echo "cluster-live: a group of 6 on 3 instances: $((6 * ROUNDS)) messages, each to 5 members once, in order"
exit 0
