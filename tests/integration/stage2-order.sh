# Stage 2 and the order envelopes come in: messages the server delivers out
# of order all decrypt (the ratchet keeps the keys it skipped, in the home's
# store); a jump past the bound (more than 2000 messages lost) is refused
# with a clear reason and loses only that message: a new session starts
# (the chain it came on would refuse every later one too).
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
expect_exit 0 ctl alice send "$chat" "hello"
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob send "$chat" "hello back"
expect_exit 0 ctl alice recv

# ---- out of order: bob's inbox reversed while the server is down.
for n in 1 2 3 4 5; do expect_exit 0 ctl alice send "$chat" "m$n"; done
stop_server
server_sql "
	CREATE TEMP TABLE r AS SELECT id FROM inbox i JOIN messages m USING (message_id)
		WHERE i.\"user\" = 'bob' AND m.kind = 'message';
	UPDATE inbox SET id = -((SELECT min(id) FROM r) + (SELECT max(id) FROM r) - id)
		WHERE id IN (SELECT id FROM r);
	UPDATE inbox SET id = -id WHERE id < 0;" || fail "server_sql"
restart_server
expect_exit 0 ctl bob --json recv
[ "$(jq -r 'select(.type == "message") | .text' "$T/out" | paste -s -d' ')" = "m5 m4 m3 m2 m1" ] ||
	fail "not delivered in reverse (the test is void): $(cat "$T/out")"
expect_not_in "$T/err" "could not be decrypted"
expect_exit 0 ctl bob history "$chat"
[ "$(grep -o 'm[1-5]$' "$T/out" | paste -s -d' ')" = "m1 m2 m3 m4 m5" ] ||
	fail "history not in the server's order: $(cat "$T/out")"

# ---- a gap past the bound: 2001 of alice's messages lost on the way, when
# bob has written with his newest ratchet key already (so his answers would
# not move alice to a new chain: only a new session gets them out of it).
expect_exit 0 ctl bob send "$chat" "bob's newest key"
expect_exit 0 ctl alice recv
expect_exit 0 ctl alice send "$chat" "same chain"
expect_exit 0 ctl bob recv
"$PROBE" skip "$T/alice" bob 1 2001 || fail "skip"
expect_exit 0 ctl alice send "$chat" "after the gap"
expect_exit 0 ctl bob recv
expect_in "$T/err" "more than 2000 messages after"
expect_in "$T/err" "a new secure session was started"
expect_not_in "$T/out" "after the gap"
# alice is told, and what she writes next is read.
expect_exit 0 ctl alice recv
expect_in "$T/out" "could not decrypt"
expect_exit 0 ctl alice send "$chat" "yes, after the gap"
expect_exit 0 ctl bob recv
expect_in "$T/out" "yes, after the gap"
expect_not_in "$T/err" "could not be decrypted"
expect_exit 0 ctl bob send "$chat" "and back"
expect_exit 0 ctl alice recv
expect_in "$T/out" "and back"
stop_server
exit 0
