# Acknowledgements: a message acked is never delivered again; one received but
# not acked (the client died first) is delivered again, and shown only once.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")

expect_exit 0 ctl alice send "$chat" "first"
expect_exit 0 ctl bob recv
expect_in "$T/out" "first"
expect_exit 0 ctl bob recv
[ -s "$T/out" ] && fail "an acked message came again: $(cat "$T/out")"

# bob's client stores the next one but dies before acking it.
expect_exit 0 ctl alice send "$chat" "second"
"$PROBE" recv-noack "$T/bob" >"$T/probe.out" 2>&1 || fail "probe: $(cat "$T/probe.out")"
expect_in "$T/probe.out" "second"
# The server still has it, so it comes again; the store already has it, so it
# is not shown twice, but it is acked now.
expect_exit 0 ctl bob recv
[ -s "$T/out" ] && fail "a stored message was shown twice: $(cat "$T/out")"
rows=$(server_sql "SELECT count(*) FROM inbox WHERE \"user\" = 'bob'")
[ "$rows" -eq 0 ] || fail "inbox not emptied by the ack ($rows rows)"
expect_exit 0 ctl bob --json history "$chat"
[ "$(jq '[.[] | select(.text == "second")] | length' "$T/out")" -eq 1 ] || fail "stored twice"

# A program that dies while it handles a message (stored, not yet handed over)
# gets it again next time: the store has it, but the application never did.
expect_exit 0 ctl alice send "$chat" "third"
"$PROBE" recv-die "$T/bob" >"$T/probe.out" 2>&1 || fail "probe: $(cat "$T/probe.out")"
expect_in "$T/probe.out" "dying on"
expect_exit 0 ctl bob recv
expect_in "$T/out" "third"
[ "$(grep -c third "$T/out")" -eq 1 ] || fail "shown twice: $(cat "$T/out")"
expect_exit 0 ctl bob recv
expect_not_in "$T/out" "third"
expect_exit 0 ctl bob --json history "$chat"
[ "$(jq '[.[] | select(.text == "third")] | length' "$T/out")" -eq 1 ] || fail "stored twice"
