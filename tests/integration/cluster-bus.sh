# timeout: 240
# Two chat-server instances on one database, routed through Redis (--bus):
# alice on instance A and bob on instance B chat live both ways; typing and
# "online" cross over; bob's device connecting to A while it listens on B
# throws the listener off with 4001 "replaced", as on one instance; a device
# removed through A is closed on B (4002); a block through A reaches the
# user's device on B; a group over three instances; Redis restarted
# mid-stream loses
# nothing and shows nothing twice, in order; with Redis down, delivery goes
# on from the store within the safety poll (--bus-poll). SQLite stands in
# for the shared store (two processes on one WAL file).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/engines/redis.sh"

# A failure shows both instances' logs.
fail() {
	echo "FAIL: $*" >&2
	for n in a b c; do
		[ -f "$T/$n.log" ] && { echo "--- instance $n (last 30 lines)"; tail -n 30 "$T/$n.log"; } >&2
		# KEEP_LOGS=DIR: the whole logs there.
		[ -n "${KEEP_LOGS:-}" ] && cp "$T/$n.log" "$T"/*.out "$T"/*.err "$KEEP_LOGS/" 2>/dev/null
	done
	exit 1
}

# start_instance NAME PORT OPTIONS...: a chat-server on the shared database
# and Redis, on PORT (0: a free one), logging to $T/NAME.log; sets
# URL_NAME and PORT_NAME.
start_instance() {
	n=$1
	p=$2
	shift 2
	: >"$T/$n.log"
	rm -f "$T/$n.pid" "$T/$n.exit"
	(
		"$SERVER" --listen "127.0.0.1:$p" --db "$T/server.db" --blobs "$T/blobs-$n" \
			--register-rate 0 --bus "$REDIS_URL" "$@" 2>>"$T/$n.log" &
		echo $! >"$T/$n.pid"
		wait $!
		echo $? >"$T/$n.exit"
	) &
	wait_until 10 "instance $n did not start" test -s "$T/$n.pid"
	wait_until 10 "instance $n did not listen" grep -q "listening on" "$T/$n.log"
	p=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$T/$n.log" | head -n 1)
	eval "PORT_$n=$p; URL_$n=ws://127.0.0.1:$p/"
}

# stop_instance NAME: SIGTERM; a clean stop (0) and no sanitizer report.
stop_instance() {
	kill "$(cat "$T/$1.pid")" 2>/dev/null
	wait_until 10 "instance $1 did not stop" test -s "$T/$1.exit"
	[ "$(cat "$T/$1.exit")" = 0 ] || fail "instance $1 exited $(cat "$T/$1.exit") on SIGTERM"
	! grep -Eq "ERROR: [A-Za-z]+Sanitizer|runtime error:" "$T/$1.log" ||
		fail "sanitizer report from instance $1"
}

# on NAME HOME ARGS...: chatctl as HOME through instance NAME.
on() {
	eval "URL=\$URL_$1"
	shift
	ctl "$@"
}

# listen_on NAME HOME OUT: chatctl listen (JSON) in the background; waits
# until it is online. Its pid in $listener.
listen_on() {
	eval "u=\$URL_$1"
	: >"$T/$3"
	"$CHATCTL" --home "$T/$2" --server "$u" --json listen >"$T/$3" 2>"$T/$3.err" &
	listener=$!
	wait_until 10 'listen of $2 on $1 never came online: $(cat "$T/$3.err")' \
		grep -q '"state":"online"' "$T/$3"
}

texts() { jq -r 'select(.type == "message") | .text' "$1"; }
has_count() { [ "$(texts "$1" | grep -c "$2")" -ge "$3" ]; }

# Bad options: a clear error, exit 2.
expect_exit 2 "$SERVER" --listen 127.0.0.1:0 --db "$T/x.db" --bus 127.0.0.1:6379
expect_in "$T/err" "--bus: '127.0.0.1:6379' is not redis://HOST:PORT[/DB]"
expect_exit 2 "$SERVER" --listen 127.0.0.1:0 --db "$T/x.db" --bus redis://127.0.0.1:6379/16
expect_exit 2 "$SERVER" --listen 127.0.0.1:0 --db "$T/x.db" --bus-poll 5
expect_in "$T/err" "--bus-poll goes with --bus"
expect_exit 2 "$SERVER" --listen 127.0.0.1:0 --db "$T/x.db" --bus redis://127.0.0.1:6379 --bus-poll 0

start_redis
# The safety poll is a minute here: what arrives in seconds came by the bus.
start_instance a 0 --bus-poll 60
start_instance b 0 --bus-poll 60
expect_in "$T/a.log" "bus: on redis 127.0.0.1:$REDIS_PORT"
wait_until 10 "b never reached redis" grep -q "bus: on redis" "$T/b.log"

expect_exit 0 on a alice register alice
expect_exit 0 on b bob register bob
expect_exit 0 on a alice create bob
chat=$(cat "$T/out")
expect_exit 0 on b bob send "$chat" "hello alice, from b"
expect_exit 0 on a alice recv
expect_in "$T/out" "hello alice, from b"

# ---- live, both ways ---------------------------------------------------------
listen_on b bob bob.out
bob=$listener
expect_exit 0 on a alice send "$chat" "a to b, live"
wait_until 5 'bob on b did not get it live: $(cat "$T/bob.out")' grep -q "a to b, live" "$T/bob.out"
listen_on a alice alice.out
alice=$listener
expect_exit 0 on b bob send "$chat" "b to a, live"
wait_until 5 'alice on a did not get it live' grep -q "b to a, live" "$T/alice.out"

# ---- typing and online cross over -------------------------------------------
expect_exit 0 on a alice typing "$chat"
wait_until 5 'no typing on b: $(cat "$T/bob.out")' grep -q '"type":"typing"' "$T/bob.out"
expect_exit 0 on a alice lastseen bob
expect_in "$T/out" "bob: online"
kill "$bob"
wait "$bob" 2>/dev/null
wait_until 5 'bob still online after his listener went: $(cat "$T/out")' \
	sh -c '"$0" --home "$1/alice" --server "$2" lastseen bob | grep -q "last seen"' \
	"$CHATCTL" "$T" "$URL_a"

# ---- a device is on one instance at a time (4001) ---------------------------
listen_on b bob bob2.out
bob=$listener
"$PROBE" raw --home "$T/bob" --wait 20000 "$URL_a" </dev/null >"$T/probe.out" 2>&1 &
probe=$!
wait_until 10 'bob on b was not replaced: $(cat "$T/bob2.out.err")' grep -q "replaced" "$T/bob2.out.err"
expect_in "$T/bob2.out.err" "4001"
wait "$bob" 2>/dev/null
expect_in "$T/b.log" "replaced by conn"
# The newer one stays, and gets what is sent now.
expect_not_in "$T/probe.out" "#closed"
expect_exit 0 on b alice send "$chat" "to bob's newer connection"
wait_until 5 'the probe on a got nothing' grep -q '"type":"newMessage"' "$T/probe.out"
kill "$probe" 2>/dev/null
wait "$probe" 2>/dev/null

# ---- a device removed through A is closed on B (4002) -----------------------
eval "URL=\$URL_a"
link_device phone alice alice phone
listen_on b phone phone.out
phone=$listener
expect_exit 0 on a alice device remove 2
wait_until 10 'the phone on b was not closed: $(cat "$T/phone.out.err")' grep -q "4002" "$T/phone.out.err"
wait "$phone" 2>/dev/null

# ---- a user's push reaches their device on B: the blocked list ---------------
eval "URL=\$URL_a"
link_device tablet alice alice tablet
expect_exit 0 on a carol register carol
"$PROBE" raw --home "$T/tablet" --wait 20000 "$URL_b" </dev/null >"$T/tablet.out" 2>&1 &
probe=$!
wait_until 10 'the tablet on b never drained' grep -q '"type":"drained"' "$T/tablet.out"
expect_exit 0 on a alice block carol
wait_until 5 'no blocked push on b: $(cat "$T/tablet.out")' grep -q '"type":"blocked".*"carol"' "$T/tablet.out"
# (carol's messages to alice would be dropped from here on.)
expect_exit 0 on a alice unblock carol
kill "$probe" 2>/dev/null
wait "$probe" 2>/dev/null

# ---- Redis restarted mid-stream ----------------------------------------------
# bob listens on B while alice sends 20 through A; Redis goes away after the
# fifth and comes back (empty) at once: all 20 arrive, once each, in order.
expect_exit 0 on a bob recv >/dev/null
listen_on b bob stream.out
bob=$listener
k=1
while [ $k -le 20 ]; do
	expect_exit 0 on a alice send "$chat" "stream $k"
	[ $k -eq 5 ] && restart_redis
	k=$((k + 1))
done
# Back on Redis: the resubscription loads what the wakes lost (well before
# the minute's poll).
wait_until 15 'not all 20 arrived: $(texts "$T/stream.out")' has_count "$T/stream.out" "^stream " 20
wait_until 10 "b never came back on redis" grep -q "bus: back on redis" "$T/b.log"
[ "$(texts "$T/stream.out" | grep -c '^stream ')" -eq 20 ] || fail "shown twice: $(texts "$T/stream.out")"
texts "$T/stream.out" | grep '^stream ' >"$T/got"
seq 1 20 | sed 's/^/stream /' >"$T/want"
cmp -s "$T/got" "$T/want" || fail "out of order: $(cat "$T/got")"
# Sent while Redis is away, and nothing after it: only the load after the
# resubscription finds it (the poll is a minute away).
stop_redis
expect_exit 0 on a alice send "$chat" "while redis was away"
start_redis
wait_until 8 'not loaded after the resubscription: $(texts "$T/stream.out")' \
	grep -q "while redis was away" "$T/stream.out"
kill "$bob"
wait "$bob" 2>/dev/null

# ---- Redis down: the safety poll delivers ------------------------------------
stop_instance b
start_instance b "$PORT_b" --bus-poll 2
wait_until 10 "b never reached redis" grep -q "bus: on redis" "$T/b.log"
listen_on b bob down.out
bob=$listener
stop_redis
# An instance that starts while Redis is down serves anyway, and says so.
start_instance c 0
wait_until 10 "c did not say redis is unreachable" grep -q "unreachable" "$T/c.log"
expect_exit 0 on c alice lastseen bob
expect_exit 0 on a alice send "$chat" "while redis is down"
# A message stored through B after one stored through A, whose wake is
# lost: B must not push its own from memory past the one from A.
expect_exit 0 on b alice send "$chat" "and through b"
# Within the poll (2 s), and the time chatctl takes.
wait_until 5 'not delivered with redis down: $(cat "$T/down.out")' grep -q "while redis is down" "$T/down.out"
wait_until 5 'not delivered with redis down' grep -q "and through b" "$T/down.out"
[ "$(texts "$T/down.out" | tr '\n' '|')" = "while redis is down|and through b|" ] ||
	fail "out of order: $(texts "$T/down.out")"
expect_in "$T/a.log" "unreachable"
# Asking who is online falls back to this instance's own knowledge.
expect_exit 0 on a alice lastseen bob
start_redis
wait_until 10 "a never came back on redis" grep -q "bus: back on redis" "$T/a.log"
expect_exit 0 on a alice send "$chat" "redis is back"
wait_until 5 'not delivered after redis came back' grep -q "redis is back" "$T/down.out"
# B set bob's online key again on the new Redis, and A asks it again.
wait_until 5 'bob not online again after redis came back' \
	sh -c '"$0" --home "$1/alice" --server "$2" lastseen bob | grep -q "bob: online"' \
	"$CHATCTL" "$T" "$URL_a"

# ---- a group over three instances --------------------------------------------
# alice on A, bob on B, carol on C: each one's message reaches the two others.
listen_on c carol carol.out
carol=$listener
expect_exit 0 on a alice create --name three bob carol
g=$(cat "$T/out")
expect_exit 0 on a alice send "$g" "group from a"
expect_exit 0 on b bob send "$g" "group from b"
expect_exit 0 on c carol send "$g" "group from c"
for who in "bob down.out a c" "alice alice.out b c" "carol carol.out a b"; do
	set -- $who
	gname=$1
	gfile=$2
	wait_until 10 '$gname missed a group message: $(texts "$T/$gfile")' \
		sh -c 'grep -q "group from $1" "$0" && grep -q "group from $2" "$0"' "$T/$2" "$3" "$4"
done
kill "$bob" "$alice" "$carol"
wait "$bob" 2>/dev/null
wait "$alice" 2>/dev/null
wait "$carol" 2>/dev/null

wait_until 10 "c never reached redis" grep -q "bus: back on redis" "$T/c.log"
stop_instance a
stop_instance b
stop_instance c
# A stopped instance took its online keys with it.
[ -z "$(redis_cli --scan --pattern 'chat:o:*')" ] || fail "online keys left: $(redis_cli --scan --pattern 'chat:o:*')"
exit 0
