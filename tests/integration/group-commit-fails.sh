# store: sqlite (group commit is SQLite's: on PostgreSQL each request commits alone; a COMMIT lost there is cluster-pg-restart.sh)
# Group commit (issue 12): a reply is sent only after the COMMIT of its
# batch. When that COMMIT fails (forced here with the hidden
# --test-fail-commit FILE), no reply of the batch goes out: the connection
# waiting on it is closed with 1011 and nothing of the batch is stored; the
# client keeps its message and, once commits work again, sends it again
# under the same id: it is delivered exactly once.
. "$(dirname "$0")/lib.sh"
SERVER_OPTS="--test-fail-commit $T/fail"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")

# One rpc session: authenticated while commits work, then its send fails.
mkfifo "$T/in"
"$CHATCTL" --home "$T/alice" --server "$URL" rpc <"$T/in" >"$T/rpc.out" 2>"$T/rpc.err" &
exec 3>"$T/in"
echo '{"jsonrpc":"2.0","id":1,"method":"whoami"}' >&3
wait_until 10 'no whoami: $(cat "$T/rpc.err")' grep -q '"id":1,' "$T/rpc.out"
: >"$T/fail"
printf '{"jsonrpc":"2.0","id":2,"method":"send","params":{"chat":"%s","text":"through a failed commit"}}\n' \
	"$chat" >&3
wait_until 10 'the commit did not fail' grep -q "closed: the batch's commit failed" "$T/server.log"
expect_in "$T/server.log" "server/1011"
# The client has seen the close (so any reply sent before it too), and waits
# to reconnect.
wait_until 10 'the client did not see the close' grep -q '"reconnecting"' "$T/rpc.out"
grep '"id":2,' "$T/rpc.out" | grep -q '"state":"sent"' &&
	fail "confirmed from a batch that was not committed: $(cat "$T/rpc.out")"
# Commits work again before it reconnects: it sends it again, once.
rm -f "$T/fail"
wait_until 20 'not sent again: $(cat "$T/rpc.err")' grep -q '"state":"sent"' "$T/rpc.out"
exec 3>&-
expect_exit 0 ctl alice recv
expect_exit 0 "$CHATCTL" --home "$T/alice" --json history "$chat"
[ "$(jq '[.[] | select(.state != "sent")] | length' "$T/out")" -eq 0 ] ||
	fail "still not sent: $(cat "$T/out")"
expect_exit 0 ctl bob recv
[ "$(grep -c "alice: through a failed commit" "$T/out")" -eq 1 ] ||
	fail "not delivered once: $(cat "$T/out")"
exit 0
