# listen stays connected through a server restart: it notices the loss,
# reconnects with backoff, and prints each message once, as it comes.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")

# Started directly (not through the ctl function), so that $! is chatctl itself.
"$CHATCTL" --home "$T/bob" --server "$URL" --json listen >"$T/listen.out" 2>"$T/listen.err" &
listener=$!
wait_for() {
	i=0
	while ! grep -q "$1" "$T/listen.out"; do
		i=$((i + 1)); [ $i -gt 200 ] && fail "listen never showed '$1': $(cat "$T/listen.err")"
		sleep 0.05
	done
}
wait_for '"state":"online"'
expect_exit 0 ctl alice send "$chat" "before the restart"
wait_for "before the restart"

restart_server
wait_for '"state":"reconnecting"'
expect_exit 0 ctl alice send "$chat" "after the restart"
wait_for "after the restart"
kill -TERM $listener
wait $listener || fail "listen did not stop cleanly on SIGTERM: $(cat "$T/listen.err")"
[ "$(grep -c '"type":"message"' "$T/listen.out")" -eq 2 ] || fail "each once: $(cat "$T/listen.out")"
expect_in "$T/listen.err" "trying again"
# Everything listen printed was acked: nothing comes again.
expect_exit 0 ctl bob recv
[ -s "$T/out" ] && fail "came again: $(cat "$T/out")"
exit 0
