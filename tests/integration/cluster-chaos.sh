# Cluster chaos: four devices write to one group through HAProxy (mode tcp,
# round robin) in front of instances A and B, while A is SIGKILLed in the
# middle of the stream. A's devices lose their connection and reconnect
# through HAProxy to B; what they had written meanwhile waits in their outbox
# and goes then. Afterwards every device holds every message once, none
# pending or failed, in one order of strictly increasing seq (the server's,
# as PostgreSQL holds it), each sender's in the order written; and no device
# was notified of a message twice.
# timeout: 240
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/engines/cluster.sh"
cluster_need haproxy
# Messages per device, and the seconds between two of one device.
N=50
PACE=0.1
# A wake lost with A is made up for by the poll (--bus-poll) within 2 s.
CLUSTER_OPTS="--bus-poll 2"
cluster_start A B
start_haproxy
URL=$LB_URL
devs="a b c d"
register $devs
expect_exit 0 ctl a create --name chaos b c d
g=$(cat "$T/out")
for d in $devs; do rpc_start $d "$LB_URL"; done
on_a=""
for d in $devs; do open_on A $d && on_a="$on_a $d"; done
[ -n "$on_a" ] || fail "no device is on A: the test would be void (HAProxy: $(cat "$T/haproxy.log"))"
echo "cluster-chaos: on A:$on_a"

# feed D: D's N sends, paced.
feed() {
	n=1
	while [ $n -le $N ]; do
		rpc_send "$1" "$g" "$1-$n"
		sleep $PACE
		n=$((n + 1))
	done
	: >"$T/$1.fed"
}
feeders=""
for d in $devs; do
	feed $d &
	feeders="$feeders $!"
done
sleep 1.5
b_lines=$(wc -l <"$T/server-B.log")
kill_instance A
echo "cluster-chaos: A SIGKILLed after about $(grep -c '"result"' "$T/a.rpc") of a's sends"
for p in $feeders; do wait $p; done

# Each device is notified of everyone else's messages: 3 N.
want=$((3 * N))
got_all() {
	for d in $devs; do
		[ "$(grep -c '"method":"message"' "$T/$d.rpc")" -ge $want ] || return 1
	done
}
wait_until 90 'not every message came: $(for d in $devs; do echo "$d: $(grep -c "\"method\":\"message\"" "$T/$d.rpc")"; done)' got_all
sleep 2 # anything twice would come now
# A's devices went over to B.
for d in $on_a; do
	tail -n +$((b_lines + 1)) "$T/server-B.log" | grep -q "auth device=$d/" ||
		fail "$d did not reconnect to B"
done
for d in $devs; do
	grep '"method":"message"' "$T/$d.rpc" | jq -r .params.messageId | sort | uniq -d >"$T/$d.twice"
	[ -s "$T/$d.twice" ] && fail "$d was notified twice of $(head -n 3 "$T/$d.twice")"
	rpc_stop $d
done

# The histories, as in chaos.sh.
for d in $devs; do
	seq 1 $N | sed "s/^/$d-/"
done | sort >"$T/expected"
for d in $devs; do
	"$CHATCTL" --home "$T/$d" --json history "$g" | jq -c '[.[] | select(.type == "message")]' >"$T/$d.final" ||
		fail "history of $d"
	f=$T/$d.final
	jq -r '.[].text' "$f" | sort >"$T/$d.texts"
	cmp -s "$T/$d.texts" "$T/expected" ||
		fail "$d holds $(jq length "$f") messages; missing: $(comm -13 "$T/$d.texts" "$T/expected" | head -n 20 | paste -s)" \
			"; extra or twice: $(sort "$T/$d.texts" | uniq -d | head -n 20 | paste -s)"
	bad=$(jq -c '[.[] | select(.state != "sent" and .state != "delivered" and .state != "read" and .state != "received") | [.text, .state]]' "$f")
	[ "$bad" = "[]" ] || fail "$d: not sent or received: $bad"
	jq -e '[.[].seq] as $s | all(range(1; $s | length); $s[.] > $s[. - 1])' "$f" >/dev/null ||
		fail "$d: seqs not strictly increasing: $(jq -c '[.[].seq]' "$f")"
	for s in $devs; do
		jq -r --arg s "$s" '.[] | select(.sender == $s) | .text' "$f" >"$T/$d.from.$s"
		seq 1 $N | sed "s/^/$s-/" | cmp -s - "$T/$d.from.$s" ||
			fail "$d: $s's messages out of the order written: $(paste -s "$T/$d.from.$s" | head -c 600)"
	done
	jq -r '.[] | "\(.seq) \(.messageId)"' "$f" >"$T/$d.order"
done
for d in b c d; do
	cmp -s "$T/a.order" "$T/$d.order" || fail "a and $d differ: $(diff "$T/a.order" "$T/$d.order" | head)"
done
pg_sql chat "SELECT seq, message_id FROM messages WHERE chat_id = '$g' AND kind = 'message'
	ORDER BY seq" | tr '|' ' ' >"$T/server.order"
cmp -s "$T/a.order" "$T/server.order" ||
	fail "the server's messages differ: $(diff "$T/a.order" "$T/server.order" | head)"
for d in $devs; do
	grep -Eq "ERROR: [A-Za-z]+Sanitizer|runtime error:" "$T/$d.rpcerr" &&
		fail "sanitizer report from $d's chatctl: $(grep -E -A5 'Sanitizer|runtime error' "$T/$d.rpcerr" | head -n 20)"
done
echo "cluster-chaos: $((4 * N)) messages on every device, once each, in the server's order; A's devices moved to B"
exit 0
