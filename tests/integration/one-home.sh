# Several programs, one home: a listener runs while the same home sends from
# several chatctl processes at once, reads its history and marks the chat read.
# Nobody throws anybody off (only a receiving session is one per device), and
# nothing is lost or shown twice on either side.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
c=$(cat "$T/out")

"$CHATCTL" --home "$T/alice" --server "$URL" --json listen >"$T/listen.out" 2>"$T/listen.err" &
listener=$!
i=0
while ! grep -q '"state":"online"' "$T/listen.out"; do
	i=$((i + 1)); [ $i -gt 100 ] && fail "listen never came online: $(cat "$T/listen.err")"; sleep 0.05
done

# bob writes while alice's home sends from eight processes at once and reads.
for n in 1 2 3 4 5 6 7 8 9 10; do
	ctl bob send "$c" "bob $n" >/dev/null 2>>"$T/bob.err" || fail "bob's send $n: $(cat "$T/bob.err")"
done &
bobs=$!
pids=""
for n in 1 2 3 4 5 6 7 8; do
	ctl alice send "$c" "alice $n" >"$T/send.$n" 2>&1 &
	pids="$pids $!"
done
for p in $pids; do
	wait "$p" || fail "a concurrent send failed: $(cat "$T"/send.*)"
done
wait $bobs || fail "bob's sends"
expect_exit 0 ctl alice history "$c"
expect_exit 0 ctl alice chats

i=0
while [ "$(grep -c '"text":"bob ' "$T/listen.out")" -lt 10 ]; do
	i=$((i + 1)); [ $i -gt 200 ] && fail "listen got $(grep -c '"text":"bob ' "$T/listen.out") of bob's 10"; sleep 0.05
done
expect_exit 0 ctl alice --json read "$c"
[ "$(jq -r .marked "$T/out")" = 10 ] || fail "read: $(cat "$T/out")"
kill -INT $listener
wait $listener || fail "listen exited $?: $(cat "$T/listen.err")"

# The listener was never thrown off, and showed each of bob's messages once.
expect_not_in "$T/listen.err" "replaced"
[ "$(grep -c '"state":"online"' "$T/listen.out")" -eq 1 ] || fail "listen reconnected: $(cat "$T/listen.err")"
[ "$(jq -r 'select(.type == "message") | .text' "$T/listen.out" | sort -u | wc -l)" -eq 10 ] ||
	fail "listen: $(cat "$T/listen.out")"
[ "$(jq -r 'select(.type == "message") | .text' "$T/listen.out" | wc -l)" -eq 10 ] || fail "shown twice"
# bob gets alice's eight once each; alice's store has all 18, each once, sent.
expect_exit 0 ctl bob --json recv
[ "$(jq -r 'select(.type == "message") | .text' "$T/out" | sort -u | wc -l)" -eq 8 ] || fail "bob: $(cat "$T/out")"
expect_exit 0 ctl alice --json history "$c"
[ "$(jq 'length' "$T/out")" -eq 18 ] || fail "alice's store: $(cat "$T/out")"
[ "$(jq '[.[] | select(.state == "pending" or .state == "failed")] | length' "$T/out")" -eq 0 ] ||
	fail "unsent: $(cat "$T/out")"
[ "$(jq '[.[].seq] | unique | length' "$T/out")" -eq 18 ] || fail "seq not unique"
stop_server
