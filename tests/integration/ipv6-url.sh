# A server URL may name an IPv6 address in brackets, ws://[::1]:PORT/: the
# WebSocket goes there, and so do the blob uploads and downloads (their
# http:// URLs are made from it). Unbracketed, it is refused with a hint.
. "$(dirname "$0")/lib.sh"
SERVER_OPTS="--listen [::1]:0" # the last --listen is the one
start_server
port=$(sed -n 's/.*listening on \[::1\]:\([0-9]*\).*/\1/p' "$T/server.log" | head -n 1)
[ -n "$port" ] || fail "the server does not listen on [::1]: $(cat "$T/server.log")"
URL="ws://[::1]:$port/"

register alice bob
expect_exit 0 ctl alice whoami
expect_in "$T/out" "ws://[::1]:$port/"
expect_exit 0 ctl alice create bob
echo "over IPv6" > "$T/f.txt"
expect_exit 0 ctl alice send @bob "hello" --attach "$T/f.txt"
id=$(cat "$T/out")
expect_exit 0 ctl bob recv
expect_in "$T/out" "alice: hello"
expect_exit 0 ctl bob download "$id"
cmp "$(cat "$T/out")" "$T/f.txt" || fail "the file differs"

# Malformed forms say what is wrong.
expect_exit 2 "$CHATCTL" --home "$T/carol" --server "ws://::1:$port/" register carol
expect_in "$T/err" "brackets"
expect_exit 2 "$CHATCTL" --home "$T/carol" --server "ws://[::1:$port/" register carol
expect_in "$T/err" "bad host"
expect_exit 2 "$CHATCTL" --home "$T/carol" --server "ws://[::1]x/" register carol
expect_in "$T/err" "bad port"
