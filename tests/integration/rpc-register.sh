# chatctl daemon and chatctl rpc on a home with no device yet: they start,
# refuse every method but register, deviceLink and subscribe with a hint,
# and become the device in the same process: register answers chatctl
# register --json's object, then messages flow both ways; deviceLink sends
# its code as a linkCode notification before the approval, answers chatctl
# --json device link's object after it, and the new device gets the history
# and what comes next. Errors: no server, a bad user name, a mistyped param,
# an unknown user, a second register (under way, and once registered).
. "$(dirname "$0")/lib.sh"
RC="$BIN/tests/rpc-client"
[ -x "$RC" ] || fail "$RC is not built (make tests builds tests/tools/)"
start_server
register bob
SOCK=$T/daemon.sock

# No server URL anywhere: register says how to give one; nothing is made.
printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"register","params":{"user":"carol"}}' |
	env -u CHATCTL_SERVER "$CHATCTL" --home "$T/noserver" rpc >"$T/ns.out" 2>"$T/ns.err" ||
	fail "rpc without a server exited $?: $(cat "$T/ns.err")"
[ "$(jq -r .error.code "$T/ns.out")" = 2 ] || fail "no server: $(cat "$T/ns.out")"
jq -r .error.message "$T/ns.out" | grep -q -- "--server" || fail "no hint: $(cat "$T/ns.out")"

# The daemon starts on an empty home (a socket, no connection) and says so.
"$CHATCTL" --home "$T/alice" --server "$URL" daemon --socket "$SOCK" 2>"$T/daemon.err" &
daemon=$!
wait_until 30 'the daemon never listened: $(cat "$T/daemon.err")' \
	grep -q "listening on" "$T/daemon.err"
expect_in "$T/daemon.err" "no device yet"

# Before register: the other methods fail with chatctl's code and the hint;
# subscribe works; a bad user name and a mistyped param are refused and
# leave the home empty.
cat >"$T/req" <<'IN'
{"jsonrpc":"2.0","id":1,"method":"whoami"}
{"jsonrpc":"2.0","id":2,"method":"send","params":{"chat":"@bob","text":"too early"}}
{"jsonrpc":"2.0","id":3,"method":"subscribe"}
{"jsonrpc":"2.0","id":4,"method":"register","params":{"user":"Not A Name!"}}
{"jsonrpc":"2.0","id":5,"method":"register","params":{"user":5}}
{"jsonrpc":"2.0","id":6,"method":"register","params":{"user":"alice","nmae":"x"}}
{"jsonrpc":"2.0","id":7,"method":"regster","params":{"user":"alice"}}
IN
"$RC" "$SOCK" <"$T/req" >"$T/e.out" 2>"$T/e.err" || fail "client: $(cat "$T/e.err")"
r() { grep "\"id\":$1[,}]" "$T/e.out" | head -n 1; }
for i in 1 2; do
	[ "$(r $i | jq -r .error.code)" = 1 ] || fail "request $i before register: $(r $i)"
	r $i | jq -r .error.message | grep -q "call register or deviceLink first" ||
		fail "no hint: $(r $i)"
done
r 3 | jq -e .result.events >/dev/null || fail "subscribe before register: $(r 3)"
[ "$(r 4 | jq -r .error.code)" = 2 ] || fail "bad user name: $(r 4)"
r 4 | grep -q "not a valid user name" || fail "bad user name: $(r 4)"
[ "$(r 5 | jq -r .error.code)" = -32602 ] || fail "user as a number: $(r 5)"
[ "$(r 6 | jq -r .error.code)" = -32602 ] || fail "misspelt param: $(r 6)"
r 7 | grep -q "did you mean 'register'" || fail "regster: $(r 7)"

# Client 1 subscribes, then registers: chatctl register --json's object.
mkfifo "$T/in1"
"$RC" -t 120 "$SOCK" <"$T/in1" >"$T/c1.out" 2>"$T/c1.err" &
c1=$!
exec 4>"$T/in1"
echo '{"jsonrpc":"2.0","id":"s","method":"subscribe"}' >&4
echo '{"jsonrpc":"2.0","id":"reg","method":"register","params":{"user":"alice","name":"bot"}}' >&4
# A second one while the first is under way, or after: refused.
echo '{"jsonrpc":"2.0","id":"reg2","method":"register","params":{"user":"alice"}}' >&4
wait_until 30 'no register answer: $(cat "$T/c1.out" "$T/daemon.err")' \
	grep -q '"id":"reg","result"' "$T/c1.out"
c() { grep "\"id\":\"$1\"" "$T/c1.out" | head -n 1; }
[ "$(c reg | jq -r .result.user)" = alice ] || fail "register: $(c reg)"
[ "$(c reg | jq -r .result.deviceId)" = 1 ] || fail "register: $(c reg)"
[ "$(c reg | jq -r .result.server)" = "$URL" ] || fail "register: $(c reg)"
[ "$(c reg | jq -r '.result | keys | join(",")')" = "deviceId,home,server,user" ] ||
	fail "not chatctl register --json's object: $(c reg)"
wait_until 30 'no answer to the second register: $(cat "$T/c1.out")' \
	grep -q '"id":"reg2","error"' "$T/c1.out"
[ "$(c reg2 | jq -r .error.code)" = 2 ] || fail "second register: $(c reg2)"
c reg2 | grep -q "under way" || fail "second register: $(c reg2)"
echo '{"jsonrpc":"2.0","id":"reg3","method":"register","params":{"user":"alice"}}' >&4
wait_until 30 'no answer to register once registered: $(cat "$T/c1.out")' \
	grep -q '"id":"reg3","error"' "$T/c1.out"
[ "$(c reg3 | jq -r .error.code)" = 1 ] || fail "register once registered: $(c reg3)"
c reg3 | grep -q "device 1 already" || fail "register once registered: $(c reg3)"
expect_in "$T/daemon.err" "this home is now alice's device 1"

# The same daemon, no restart: bob's message reaches the subscribed client,
# alice's reaches bob.
expect_exit 0 ctl bob create alice
chat=$(cat "$T/out")
expect_exit 0 ctl bob send "$chat" "hello alice"
wait_until 30 'client 1 got no message: $(cat "$T/c1.out")' \
	grep -q '"method":"message".*"hello alice"' "$T/c1.out"
echo '{"jsonrpc":"2.0","id":"snd","method":"send","params":{"chat":"'"$chat"'","text":"hello bob"}}' >&4
wait_until 30 'no send answer: $(cat "$T/c1.out")' grep -q '"id":"snd","result"' "$T/c1.out"
expect_exit 0 ctl bob --json recv
expect_in "$T/out" "hello bob"

# chatctl rpc on another empty home links a device to alice.
mkfifo "$T/in2"
"$CHATCTL" --home "$T/alice2" --server "$URL" rpc <"$T/in2" >"$T/l.out" 2>"$T/l.err" 4>&- &
linker=$!
exec 5>"$T/in2"
# An unknown user: refused, and the home can still link.
echo '{"jsonrpc":"2.0","id":"bad","method":"deviceLink","params":{"user":"nosuchuser"}}' >&5
wait_until 30 'no answer to a link to nobody: $(cat "$T/l.out" "$T/l.err")' \
	grep -q '"id":"bad","error"' "$T/l.out"
[ "$(grep '"id":"bad"' "$T/l.out" | jq -r .error.code)" = 4 ] ||
	fail "link to an unknown user: $(cat "$T/l.out")"
echo '{"jsonrpc":"2.0","id":"link","method":"deviceLink","params":{"user":"alice","name":"laptop"}}' >&5
wait_until 30 'no linkCode: $(cat "$T/l.out" "$T/l.err")' \
	grep -q '"method":"linkCode"' "$T/l.out"
grep -q '"id":"link"' "$T/l.out" && fail "answered before the approval: $(cat "$T/l.out")"
code=$(grep '"method":"linkCode"' "$T/l.out" | jq -r .params.code)
grep '"method":"linkCode"' "$T/l.out" | jq -r .params.expiresAt |
	grep -Eq '^20[0-9-]{8}T[0-9:.]+Z$' || fail "linkCode's expiresAt: $(cat "$T/l.out")"
# chatctl --json device link prints the same object first.
: >"$T/cl.out"
# Not through ctl: $! must be chatctl itself, for the SIGTERM below.
"$CHATCTL" --home "$T/alice3" --server "$URL" --json device link alice \
	>"$T/cl.out" 2>"$T/cl.err" 4>&- 5>&- &
cl=$!
wait_until 30 'no code from device link: $(cat "$T/cl.err")' grep -q '"code"' "$T/cl.out"
kill -TERM $cl
wait $cl
[ "$(head -n 1 "$T/cl.out" | jq -r 'keys | join(",")')" = "code,expiresAt" ] ||
	fail "device link --json: $(cat "$T/cl.out")"

echo '{"jsonrpc":"2.0","id":"two","method":"register","params":{"user":"alice"}}' >&5
wait_until 30 'no answer to register during a link: $(cat "$T/l.out")' \
	grep -q '"id":"two","error"' "$T/l.out"
grep '"id":"two"' "$T/l.out" | grep -q "under way" || fail "during a link: $(cat "$T/l.out")"
# The first device approves it (its daemon's deviceApprove), with the
# default history: the chat with bob goes to the new device.
echo '{"jsonrpc":"2.0","id":"ok","method":"deviceApprove","params":{"code":"'"$code"'"}}' >&4
wait_until 30 'no approval: $(cat "$T/c1.out")' grep -q '"id":"ok","result"' "$T/c1.out"
wait_until 30 'the link was not answered: $(cat "$T/l.out" "$T/l.err")' \
	grep -q '"id":"link",' "$T/l.out"
l=$(grep '"id":"link"' "$T/l.out")
[ "$(echo "$l" | jq -r .result.user)" = alice ] || fail "link: $l"
[ "$(echo "$l" | jq -r .result.deviceId)" = 2 ] || fail "link: $l"
[ "$(echo "$l" | jq -r '.result | keys | join(",")')" = "deviceId,server,user" ] ||
	fail "not chatctl --json device link's object: $l"
wait_until 60 'no history on the new device: $(cat "$T/l.out")' \
	grep -q '"method":"historySync".*"done":true' "$T/l.out"
echo '{"jsonrpc":"2.0","id":"h","method":"history","params":{"chat":"'"$chat"'"}}' >&5
wait_until 30 'no history answer: $(cat "$T/l.out")' grep -q '"id":"h","result"' "$T/l.out"
grep '"id":"h"' "$T/l.out" | grep -q "hello alice" || fail "history: $(cat "$T/l.out")"
grep '"id":"h"' "$T/l.out" | grep -q "hello bob" || fail "history: $(cat "$T/l.out")"
# And what bob sends now reaches both of alice's devices.
expect_exit 0 ctl bob send "$chat" "to both"
wait_until 30 'the new device got no message: $(cat "$T/l.out")' \
	grep -q '"method":"message".*"to both"' "$T/l.out"
wait_until 30 'the first device got no message: $(cat "$T/c1.out")' \
	grep -q '"method":"message".*"to both"' "$T/c1.out"

exec 4>&- 5>&-
wait $linker || fail "rpc exited $?: $(cat "$T/l.err")"
wait $c1 || fail "client 1: $(cat "$T/c1.err")"
kill -TERM "$daemon"
wait "$daemon" || fail "daemon exited $?: $(cat "$T/daemon.err")"
[ -e "$SOCK" ] && fail "the socket was left"
exit 0
