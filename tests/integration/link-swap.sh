# A server that swaps the keys of a link request for keys of its own (so that
# the approving device would sign the server's device into the account) is
# caught: the new device's MAC, under the secret its code shows and the
# server never sees, does not match the server's keys, and nothing is
# approved. chat-server --test-link-swap plays that server. The code never
# reaches the server at all.
. "$(dirname "$0")/lib.sh"
SERVER_OPTS="--test-link-swap"
start_server
register alice

ctl phone --json device link --name phone alice >"$T/link.out" 2>"$T/link.err" &
link=$!
wait_until 10 'no link code: $(cat "$T/link.err")' grep -q '"code"' "$T/link.out"
code=$(head -n 1 "$T/link.out" | jq -r .code)
expect_exit 4 ctl alice device approve "$code"
expect_in "$T/err" "shows the code $code"
expect_in "$T/err" "nothing was approved"
expect_in "$T/err" "invalid_code"
expect_not_in "$T/server.log" "link approved"
expect_not_in "$T/server.log" "$code"
[ "$(server_sql "SELECT count(*) FROM devices WHERE \"user\" = 'alice'")" = 1 ] ||
	fail "a device was added to alice"
kill "$link"
