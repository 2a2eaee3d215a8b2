# A server the client is pointed at cannot act as the client's device on
# another server by relaying that server's challenge: the device signs the
# name of the server it was given, and the real server refuses a name that
# is not its own (wrong_server), for auth, register and linkDevice alike.
# A proxy the operator runs on purpose works once the server knows its name
# (--name). A client of the old form (chat-*-v1, no server name) is told to
# update. (Over TLS the connection itself is bound too: tls.sh.)
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
expect_in "$T/server.log" "names: 127.0.0.1:$port localhost:$port [::1]:$port"

# A relay: whatever it is, it forwards the real server's frames both ways.
"$BIN/tests/blackhole-proxy" "$port" >"$T/proxy.port" 2>"$T/proxy.log" &
wait_until 5 "blackhole-proxy did not start" test -s "$T/proxy.port"
relay="127.0.0.1:$(cat "$T/proxy.port")"
via() {
	name=$1
	shift
	"$CHATCTL" --home "$T/$name" --server "ws://$relay/" "$@"
}

expect_exit 4 via alice send @bob "relayed"
expect_in "$T/err" "this server is not $relay; behind a proxy, start chat-server with --name"
expect_in "$T/err" "wrong_server"
expect_in "$T/server.log" "code=wrong_server device=-"
expect_exit 4 via carol register carol
expect_in "$T/err" "wrong_server"
[ "$(server_sql "SELECT count(*) FROM users WHERE \"user\" = 'carol'")" = 0 ] ||
	fail "carol was registered through the relay"
expect_exit 4 via phone device link alice
expect_in "$T/err" "wrong_server"
expect_exit 0 ctl bob recv
expect_not_in "$T/out" "relayed"

# The server's other names are its own: the same server under "localhost".
expect_exit 0 "$CHATCTL" --home "$T/alice" --server "ws://LocalHost:$port/" send @bob "by name"
expect_exit 0 ctl bob recv
expect_in "$T/out" "alice: by name"

# The old form: no server name, the challenge alone. Refused, saying why.
printf '%s\n' "{\"id\":1,\"type\":\"auth\",\"user\":\"alice\",\"deviceId\":1,\"signature\":\"$(head -c 64 /dev/zero | base64 -w0)\"}" |
	"$PROBE" raw "$URL" >"$T/raw.out" 2>&1 || fail "probe: $(cat "$T/raw.out")"
expect_in "$T/raw.out" '"code":"bad_request"'
expect_in "$T/raw.out" "chat-*-v1"
expect_in "$T/raw.out" "update the client"

# A proxy of the operator's: with --name, devices get in through it.
SERVER_OPTS="--name $relay"
restart_server
expect_in "$T/server.log" "names: 127.0.0.1:$port localhost:$port [::1]:$port $relay"
expect_exit 0 via alice send @bob "through the proxy"
expect_exit 0 via bob recv
expect_in "$T/out" "alice: through the proxy"
# Directly too: --name adds to the server's names.
expect_exit 0 ctl alice send @bob "directly"
expect_exit 0 ctl bob recv
expect_in "$T/out" "alice: directly"

# --name is checked at the start.
expect_exit 2 "$SERVER" --listen 127.0.0.1:0 --db "$T/never.db" --name "a b"
expect_in "$T/err" "--name: 'a b' is not HOST[:PORT]"
expect_exit 2 "$SERVER" --listen 127.0.0.1:0 --db "$T/never.db" --name "::1"
[ ! -e "$T/never.db" ] || fail "chat-server opened its database with a bad --name"
