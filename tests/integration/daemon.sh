# chatctl daemon: one device session served to several clients at once on a
# UNIX socket (mode 0600) and a loopback TCP port, each speaking rpc's
# JSON-RPC 2.0. Notifications only after subscribe; each answer to the client
# that asked; a client gone in the middle of a call breaks nobody; a stale
# socket is replaced, a live one refused; SIGTERM stops it and removes it.
. "$(dirname "$0")/lib.sh"
RC="$BIN/tests/rpc-client"
[ -x "$RC" ] || fail "$RC is not built (make tests builds tests/tools/)"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
SOCK=$T/daemon.sock

# A stale socket (a daemon that died without removing it) is replaced.
"$RC" -q "$SOCK" </dev/null 2>/dev/null && fail "connected to nothing"
perl -e 'use Socket; socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die; bind($s, pack_sockaddr_un($ARGV[0])) or die' "$SOCK"
[ -S "$SOCK" ] || fail "no stale socket made"
# A port that may be taken by another test: another one then.
up() { grep -q "listening on" "$T/daemon.err" || dead "$daemon"; }
for try in 1 2 3 4 5; do
	port=$((20000 + ($$ * 7 + try * 1009) % 30000))
	# Not through ctl: $! must be chatctl itself, for the SIGTERM below.
	"$CHATCTL" --home "$T/alice" --server "$URL" daemon --socket "$SOCK" --tcp "$port" \
		2>"$T/daemon.err" &
	daemon=$!
	wait_until 30 'the daemon never listened: $(cat "$T/daemon.err")' up
	grep -q "listening on" "$T/daemon.err" && break
	grep -q "Address already in use" "$T/daemon.err" || fail "daemon: $(cat "$T/daemon.err")"
	cp "$T/daemon.err" "$T/daemon.err.$try"
done
grep -q "listening on" "$T/daemon.err" || fail "no free port: $(cat "$T/daemon.err")"
grep -q "removed the stale socket" "$T/daemon.err" "$T"/daemon.err.1 2>/dev/null ||
	fail "the stale socket was not said removed: $(cat "$T/daemon.err")"
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "socket mode $(stat -c %a "$SOCK")"

# A second daemon on the same socket is refused, and leaves it be.
expect_exit 1 ctl alice daemon --socket "$SOCK"
expect_in "$T/err" "a daemon answers at"
[ -S "$SOCK" ] || fail "the second daemon removed the first one's socket"
# Not a socket: never removed.
echo keep >"$T/file"
expect_exit 1 ctl alice daemon --socket "$T/file"
expect_in "$T/err" "is not a socket"
[ "$(cat "$T/file")" = keep ] || fail "a file was replaced"

# A directory others can write to (/tmp) is refused: another user could
# put their own socket there. (A home with no device yet serves register
# and deviceLink: rpc-register.sh.)
expect_exit 1 ctl alice daemon --socket "/tmp/chatctl-daemon-test-$$.sock"
expect_in "$T/err" "only you can write to"
[ -e "/tmp/chatctl-daemon-test-$$.sock" ] && fail "a socket made in /tmp"
# ::1 too, where this machine has IPv6.
if [ -s /proc/net/if_inet6 ]; then
	echo '{"jsonrpc":"2.0","id":1,"method":"whoami"}' | "$RC" -t 10 "[::1]:$port" >"$T/v6.out" ||
		fail "::1: $(cat "$T/v6.out")"
	grep -q '"user":"alice"' "$T/v6.out" || fail "::1: $(cat "$T/v6.out")"
fi

# Three clients, two on the UNIX socket and one on TCP, each subscribed.
for i in 1 2 3; do
	mkfifo "$T/in$i"
done
where() { if [ "$1" = 3 ]; then echo "127.0.0.1:$port"; else echo "$SOCK"; fi; }
for i in 1 2 3; do
	"$RC" -t 60 "$(where $i)" <"$T/in$i" >"$T/c$i.out" 2>"$T/c$i.err" &
	eval "c$i=\$!"
done
exec 4>"$T/in1" 5>"$T/in2" 6>"$T/in3"
# Client 2 only wants messages: no state, no receipts.
echo '{"jsonrpc":"2.0","id":"s1","method":"subscribe"}' >&4
echo '{"jsonrpc":"2.0","id":"s2","method":"subscribe","params":{"events":["message"]}}' >&5
echo '{"jsonrpc":"2.0","id":"s3","method":"subscribe"}' >&6
for i in 1 2 3; do
	wait_until 20 "client $i not subscribed: \$(cat \"\$T/c$i.out\" \"\$T/c$i.err\")" \
		grep -q '"id":"s'$i'","result"' "$T/c$i.out"
done
[ "$(grep '"id":"s2"' "$T/c2.out" | jq -c .result.events)" = '["message"]' ] ||
	fail "filter: $(cat "$T/c2.out")"

# A message bob sends reaches all three.
expect_exit 0 ctl bob send "$chat" "hello all"
for i in 1 2 3; do
	wait_until 30 "client $i got no message: \$(cat \"\$T/c$i.out\")" \
		grep -q '"method":"message".*"hello all"' "$T/c$i.out"
done

# Two clients send at once: each gets its own answer, by its own id.
echo '{"jsonrpc":"2.0","id":7,"method":"send","params":{"chat":"@bob","text":"from one"}}' >&4
echo '{"jsonrpc":"2.0","id":7,"method":"send","params":{"chat":"@bob","text":"from two"}}' >&5
wait_until 30 'no answer to client 1: $(cat "$T/c1.out")' grep -q '"id":7,"result"' "$T/c1.out"
wait_until 30 'no answer to client 2: $(cat "$T/c2.out")' grep -q '"id":7,"result"' "$T/c2.out"
[ "$(grep '"id":7,' "$T/c1.out" | jq -r .result.text)" = "from one" ] || fail "c1: $(cat "$T/c1.out")"
[ "$(grep '"id":7,' "$T/c2.out" | jq -r .result.text)" = "from two" ] || fail "c2: $(cat "$T/c2.out")"
grep -q '"id":7,' "$T/c3.out" && fail "client 3 got another's answer: $(cat "$T/c3.out")"
# Client 2's filter: no state or other notifications, only messages.
grep '"method"' "$T/c2.out" | grep -v '"method":"message"' && fail "filtered: $(cat "$T/c2.out")"

# Errors: unknown method (with a hint), unknown and mistyped params, bad JSON.
cat >"$T/req" <<'IN'
{"jsonrpc":"2.0","id":1,"method":"sned","params":{"chat":"@bob","text":"x"}}
{"jsonrpc":"2.0","id":2,"method":"frobnicate"}
{"jsonrpc":"2.0","id":3,"method":"send","params":{"chat":"@bob","txt":"x"}}
{"jsonrpc":"2.0","id":4,"method":"history","params":{"chat":"@bob","limit":"2"}}
{"jsonrpc":"2.0","id":5,"method":"subscribe","params":{"events":["mesage"]}}
not json
IN
"$RC" "$SOCK" <"$T/req" >"$T/e.out" 2>"$T/e.err" || fail "error client: $(cat "$T/e.err")"
r() { grep "\"id\":$1[,}]" "$T/e.out" | head -n 1; }
[ "$(r 1 | jq -r .error.code)" = -32601 ] || fail "sned: $(r 1)"
r 1 | jq -r .error.message | grep -q "did you mean 'send'" || fail "no hint: $(r 1)"
[ "$(r 2 | jq -r .error.code)" = -32601 ] || fail "frobnicate: $(r 2)"
r 2 | grep -q "did you mean" && fail "a hint for a word near nothing: $(r 2)"
[ "$(r 3 | jq -r .error.code)" = -32602 ] || fail "txt: $(r 3)"
r 3 | grep -q "txt" || fail "the param is not named: $(r 3)"
[ "$(r 4 | jq -r .error.code)" = -32602 ] || fail "limit as a string: $(r 4)"
r 4 | grep -q "params.limit" || fail "the param is not named: $(r 4)"
[ "$(r 5 | jq -r .error.code)" = -32602 ] || fail "unknown event: $(r 5)"
r 5 | grep -q "did you mean 'message'" || fail "no event hint: $(r 5)"
grep -q '"code":-32700' "$T/e.out" || fail "no parse error: $(cat "$T/e.out")"

# A client that sends its requests and shuts its sending side (as
# echo ... | socat does) still gets every answer, then the daemon closes.
printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"whoami"}' \
	'{"jsonrpc":"2.0","id":2,"method":"recv"}' |
	"$RC" -s -t 30 "$SOCK" >"$T/half.out" 2>"$T/half.err" ||
	fail "half-closed client: $(cat "$T/half.out" "$T/half.err")"
grep -q '"id":1,"result":{"user":"alice"' "$T/half.out" || fail "half: $(cat "$T/half.out")"
grep -q '"id":2,"result":{"drained":true}' "$T/half.out" || fail "half: $(cat "$T/half.out")"

# A client that leaves in the middle of its call (recv waits 3 s after
# catching up) breaks neither the daemon nor the others.
echo '{"jsonrpc":"2.0","id":1,"method":"recv","params":{"wait":3}}' |
	"$RC" -q "$SOCK" >/dev/null 2>&1
echo '{"jsonrpc":"2.0","id":8,"method":"whoami"}' >&6
wait_until 20 'client 3 no longer answered: $(cat "$T/c3.out")' \
	grep -q '"id":8,"result":{"user":"alice"' "$T/c3.out"
sleep 4 # the left client's recv answers now, to nobody
echo '{"jsonrpc":"2.0","id":9,"method":"recv"}' >&4
wait_until 20 'recv: $(cat "$T/c1.out")' grep -q '"id":9,"result":{"drained":true}' "$T/c1.out"
dead "$daemon" && fail "the daemon died: $(cat "$T/daemon.err")"

# After unsubscribe, no more notifications.
echo '{"jsonrpc":"2.0","id":10,"method":"unsubscribe"}' >&4
wait_until 20 'unsubscribe: $(cat "$T/c1.out")' grep -q '"id":10,"result"' "$T/c1.out"
expect_exit 0 ctl bob send "$chat" "second"
for i in 2 3; do
	wait_until 30 "client $i got no second message: \$(cat \"\$T/c$i.out\")" \
		grep -q '"method":"message".*"second"' "$T/c$i.out"
done
sleep 1
grep -q '"second"' "$T/c1.out" && fail "notified after unsubscribe: $(cat "$T/c1.out")"

# Nothing lost: what came is in the history, for a client that was not there.
echo '{"jsonrpc":"2.0","id":1,"method":"history","params":{"chat":"@bob","limit":10}}' |
	"$RC" "$SOCK" >"$T/h.out" || fail "history"
jq -r '.result[].text' "$T/h.out" | grep -qx "hello all" || fail "history: $(cat "$T/h.out")"

# SIGTERM: a clean exit, the socket gone; its clients see the end.
exec 4>&- 5>&- 6>&-
kill -TERM "$daemon"
wait "$daemon" || fail "the daemon exited $? on SIGTERM: $(cat "$T/daemon.err")"
[ -e "$SOCK" ] && fail "the socket is left after SIGTERM"
grep -Eq "ERROR: [A-Za-z]+Sanitizer|runtime error:" "$T/daemon.err" && fail "$(cat "$T/daemon.err")"
# bob has both sends, once each.
expect_exit 0 ctl bob recv
[ "$(grep -c "from one" "$T/out")" = 1 ] || fail "bob: $(cat "$T/out")"
[ "$(grep -c "from two" "$T/out")" = 1 ] || fail "bob: $(cat "$T/out")"
exit 0
