# The network drops silently (no FIN, no RST: a cable pulled) under a live
# session: both sides notice by the heartbeat within the documented time,
# the server keeps what it could not deliver, and the client reconnects and
# gets everything once. The connection goes through blackhole-proxy, which
# SIGUSR1 silences; the heartbeat is shortened to HB seconds on both sides
# (chat-server --heartbeat, CHAT_HEARTBEAT) so the test does not wait 25 s.
# The server knows the proxy's address as a name of its own (--name).
. "$(dirname "$0")/lib.sh"
HB=4
# How late past HB a side may notice: timers, and a machine shared with
# other work under the sanitizers.
SLACK=3
SERVER_OPTS="--heartbeat $HB"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")

"$BIN/tests/blackhole-proxy" "$port" >"$T/proxy.port" 2>"$T/proxy.log" &
proxy=$!
wait_until 5 "blackhole-proxy did not start" test -s "$T/proxy.port"
via="ws://127.0.0.1:$(cat "$T/proxy.port")/"
# Devices sign the name of the server they were given (the proxy's): the
# server must know it as one of its own.
SERVER_OPTS="$SERVER_OPTS --name 127.0.0.1:$(cat "$T/proxy.port")"
restart_server

# bob listens through the proxy. Started directly, so that $! is chatctl.
CHAT_HEARTBEAT=$HB "$CHATCTL" --home "$T/bob" --server "$via" --json listen \
	>"$T/listen.out" 2>"$T/listen.err" &
listener=$!
online() { [ "$(grep -c '"state":"online"' "$T/listen.out")" -ge "$1" ]; }
shown() { grep -q "\"text\":\"$1\"" "$T/listen.out"; }
wait_until 10 'listen never came online: $(cat "$T/listen.err")' online 1
expect_exit 0 ctl alice send "$chat" "before the drop"
wait_until 10 "listen never showed the first message" shown "before the drop"
# A few heartbeats go by on a healthy connection, and it stays up.
sleep $((HB + 1))
[ "$(grep -c '"type":"state"' "$T/listen.out")" -eq 1 ] || fail "a healthy connection dropped: $(cat "$T/listen.out")"
expect_not_in "$T/server.log" "why=heartbeat"

# Pull the cable.
kill -USR1 $proxy
wait_until 5 "blackhole-proxy did not go silent" grep -q "silenced 1" "$T/proxy.log"
# Sent into the void: the server pushes it on the dead connection, where it
# is never acked, so it stays in bob's inbox.
expect_exit 0 ctl alice send "$chat" "into the void"

# Both sides notice, each by its own heartbeat, within HB (+ slack).
wait_until $((HB + SLACK)) 'the server did not notice within $HB s: $(grep close "$T/server.log")' \
	grep -Eq "close peer=.* device=bob/[0-9]+ why=heartbeat" "$T/server.log"
wait_until $((HB + SLACK)) 'listen did not notice within $HB s: $(cat "$T/listen.out")' \
	grep -q '"state":"reconnecting"' "$T/listen.out"
expect_in "$T/listen.err" "(heartbeat)"
shown "into the void" && fail "shown before the reconnection, over a dead connection?"

# New connections go through: listen reconnects and gets what it missed, and
# what comes after, each once.
wait_until 15 'listen did not reconnect: $(cat "$T/listen.err")' online 2
wait_until 10 "the message sent into the dead connection never came" shown "into the void"
expect_exit 0 ctl alice send "$chat" "after the drop"
wait_until 10 "listen never showed a message sent after the drop" shown "after the drop"
kill -TERM $listener
wait $listener || fail "listen did not stop cleanly on SIGTERM: $(cat "$T/listen.err")"
[ "$(grep -c '"type":"message"' "$T/listen.out")" -eq 3 ] || fail "each once: $(cat "$T/listen.out")"
expect_exit 0 ctl bob recv
[ -s "$T/out" ] && fail "came again: $(cat "$T/out")"

kill -TERM $proxy
wait $proxy || fail "blackhole-proxy did not stop cleanly: $(cat "$T/proxy.log")"

# Heartbeats out of range are refused, by the server and by libchat.
for bad in 0 1 3601 x 4s ""; do
	expect_exit 2 "$SERVER" --listen 127.0.0.1:0 --db "$T/bad.db" --heartbeat "$bad"
	expect_in "$T/err" "--heartbeat"
done
for bad in 1 3601 x; do
	expect_exit 2 env CHAT_HEARTBEAT="$bad" "$CHATCTL" --home "$T/bob" whoami
	expect_in "$T/err" "CHAT_HEARTBEAT"
done
exit 0
