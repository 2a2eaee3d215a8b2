# scripts/cluster.sh and docs/cluster/haproxy.cfg, as docs/CLUSTER.md tells
# people to use them: start prints the front's URL; HAProxy (TCP, health
# checks on /healthz) spreads connections over three instances; two users
# chat through the front; every instance's log names it; an instance killed
# is taken out (status says so, the front keeps answering from the others);
# stop stops everything. On a shared SQLite file without a bus (CLUSTER_DB,
# CLUSTER_BUS=none), so that it needs neither PostgreSQL nor Redis.
. "$(dirname "$0")/lib.sh"
command -v haproxy >/dev/null 2>&1 || fail "haproxy is missing (scripts/install-deps.sh installs it)"
command -v curl >/dev/null 2>&1 || fail "curl is missing (scripts/install-deps.sh installs it)"
root=$(cd "$(dirname "$0")/../.." && pwd)

# Four free ports in a row: the front and three instances.
free_base() {
	while :; do
		b=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000))
		busy=0
		for p in $b $((b + 1)) $((b + 2)) $((b + 3)); do
			ss -ltn 2>/dev/null | awk '{ print $4 }' | grep -q ":$p\$" && busy=1
		done
		[ $busy -eq 0 ] && { echo "$b"; return; }
	done
}
PORT=$(free_base)
C="$T/c"
cluster() {
	BIN="$BIN" PORT="$PORT" CLUSTER_DB="$C/shared.db" CLUSTER_BUS=none sh "$root/scripts/cluster.sh" "$@"
}
# Whatever the test leaves running goes, whatever happens (lib.sh's cleanup
# also kills what names $T).
# (cleanup reads the test's status from $?: kept across the stop.)
trap 'rc=$?; cluster stop "$C" >/dev/null 2>&1; (exit $rc); cleanup' EXIT

cluster start "$C" >"$T/start.out" 2>"$T/start.err" || fail "cluster.sh start: $(cat "$T/start.err")"
FRONT=$(cat "$T/start.out")
[ "$FRONT" = "ws://127.0.0.1:$PORT/" ] || fail "start printed '$FRONT'"
cluster status "$C" >"$T/status" || fail "status after start: $(cat "$T/status")"
for n in 1 2 3; do
	grep -q "^node$n: {\"status\":\"ok\",\"instance\":\"node$n\"" "$T/status" ||
		fail "node$n in status: $(cat "$T/status")"
done
expect_in "$T/status" "haproxy: ws://127.0.0.1:$PORT/"

# The front answers /healthz from the instances, more than one of them.
HTTP="http://127.0.0.1:$PORT"
for i in 1 2 3 4 5 6; do
	curl -s "$HTTP/healthz" | jq -r .instance
done | sort -u >"$T/seen"
[ "$(count_lines "$T/seen")" -ge 2 ] || fail "the front used only $(cat "$T/seen")"

# Two users through the front: the instances share the store, and each
# device signs the front's name (--name).
URL=$FRONT
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
expect_exit 0 ctl alice send "$chat" "through the front"
expect_exit 0 ctl bob recv
expect_in "$T/out" "alice: through the front"
cat "$C"/node*.log >"$T/nodes.log"
expect_in "$T/nodes.log" " chat-server: conn "
grep -q "auth device=bob/1" "$T/nodes.log" || fail "bob never signed in: $(cat "$T/nodes.log")"
for n in 1 2 3; do
	expect_in "$C/node$n.log" " node$n chat-server: listening on 127.0.0.1:$((PORT + n))"
done

# node2 dies: the front stops sending to it within its checks (2 s apart, 2
# failures), and every answer comes from the others meanwhile.
kill -9 "$(cat "$C/node2.pid")"
sleep 5
for i in 1 2 3 4 5 6 7 8; do
	code=$(curl -s -o "$T/h.json" -w '%{http_code}' "$HTTP/healthz")
	[ "$code" = 200 ] || fail "the front with node2 dead: $code"
	[ "$(jq -r .instance "$T/h.json")" != node2 ] || fail "the front still sends to node2"
done
expect_exit 0 ctl alice send "$chat" "after node2"
expect_exit 0 ctl bob recv
expect_in "$T/out" "alice: after node2"
cluster status "$C" >"$T/status" && fail "status with node2 dead exited 0"
expect_in "$T/status" "node2: stopped"

# stop: nothing of it runs any more, the data stays.
cluster stop "$C" 2>"$T/stop.err" || fail "cluster.sh stop: $(cat "$T/stop.err")"
for f in haproxy node1 node3; do
	[ ! -e "$C/$f.pid" ] || fail "$f.pid left after stop"
done
for p in $(test_procs); do
	case $(tr '\0' ' ' <"/proc/$p/cmdline") in
	*chat-server* | *haproxy*) fail "still running after stop: $(tr '\0' ' ' <"/proc/$p/cmdline")" ;;
	esac
done
[ -s "$C/shared.db" ] && [ -s "$C/blob.key" ] || fail "stop removed the data"
for n in 1 3; do
	grep -Eq "ERROR: [A-Za-z]+Sanitizer|runtime error:" "$C/node$n.log" && fail "node$n: $(cat "$C/node$n.log")"
	expect_in "$C/node$n.log" "node$n chat-server: stopped"
done
exit 0
