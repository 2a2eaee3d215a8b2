# A send that cannot reach the server says the message is kept and how it
# will go (with --json: its id and state, so a script does not send it
# twice); outbox lists what waits, retry sends it now (or a failed one
# again), discard drops it.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")

stop_server
expect_exit 3 ctl alice send "$chat" "while the server is down"
expect_in "$T/err" "is kept: it goes out with this home's next connection"
expect_in "$T/err" "chatctl retry "
expect_exit 3 ctl alice --json send "$chat" "a second one"
[ "$(jq -r .state "$T/out")" = pending ] || fail "no state: $(cat "$T/out")"
[ "$(jq -r .error.code "$T/out")" = 3 ] || fail "no error code: $(cat "$T/out")"
[ "$(jq -r .chatId "$T/out")" = "$chat" ] || fail "no chat id: $(cat "$T/out")"
second=$(jq -r .messageId "$T/out")
expect_exit 0 ctl alice --json history "$chat"
[ "$(jq -r '.[] | select(.text == "a second one") | .messageId' "$T/out")" = "$second" ] ||
	fail "the id printed is not the message's: $(cat "$T/out")"

# The outbox, with no server.
expect_exit 0 ctl alice outbox
[ "$(count_lines "$T/out")" = 2 ] || fail "outbox: $(cat "$T/out")"
expect_in "$T/out" "pending"
expect_in "$T/out" "$(printf '%.8s' "$second") alice: a second one"
expect_exit 0 ctl alice --json outbox
[ "$(jq -r '[.[].state] | join(",")' "$T/out")" = "pending,pending" ] || fail "$(cat "$T/out")"
first=$(jq -r '.[0].messageId' "$T/out")

# Discard one (by its prefix): it is gone, and never sent.
expect_exit 0 ctl alice discard "$(printf '%.8s' "$second")"
expect_in "$T/out" "discarded $second"
expect_exit 0 ctl alice --json outbox
[ "$(jq -r '[.[].messageId] | join(",")' "$T/out")" = "$first" ] || fail "$(cat "$T/out")"

# retry, server still down: exit 3, still pending.
expect_exit 3 ctl alice retry
expect_exit 0 ctl alice --json outbox
[ "$(jq -r '.[0].state' "$T/out")" = pending ] || fail "$(cat "$T/out")"

# Back up: retry sends what is pending, and prints it.
restart_server
expect_exit 0 ctl alice retry
expect_in "$T/out" "alice: while the server is down"
expect_exit 0 ctl alice outbox
[ -s "$T/out" ] && fail "outbox not empty: $(cat "$T/out")"
expect_exit 0 ctl bob --json recv
[ "$(jq -r .text "$T/out" | tr '\n' '|')" = "while the server is down|" ] ||
	fail "bob got: $(cat "$T/out")"

# A failed message (bob removed alice from the group meanwhile) is sent
# again by retry once the cause is gone.
expect_exit 0 ctl bob create --name club alice
club=$(cat "$T/out")
expect_exit 0 ctl alice recv
expect_exit 0 ctl bob remove "$club" alice
expect_exit 4 ctl alice send "$club" "am I still in?"
expect_in "$T/err" "is marked failed and is not sent again"
expect_exit 0 ctl alice --json outbox
failed=$(jq -r '.[] | select(.state == "failed") | .messageId' "$T/out")
[ -n "$failed" ] || fail "no failed message: $(cat "$T/out")"
# retry with no MESSAGE leaves failed ones alone, and says so.
expect_exit 0 ctl alice retry
expect_in "$T/err" "1 failed message is not sent again"
expect_exit 0 ctl bob add "$club" alice
expect_exit 0 ctl alice recv
expect_exit 0 ctl alice retry "$(printf '%.8s' "$failed")"
expect_in "$T/out" "alice: am I still in?"
expect_exit 0 ctl bob recv
expect_in "$T/out" "am I still in?"

# Only what waits to be sent can be retried or discarded.
expect_exit 2 ctl alice retry "$failed"
expect_in "$T/err" "is not waiting to be sent"
expect_exit 2 ctl alice discard "$failed"
expect_in "$T/err" "is not waiting to be sent"
expect_exit 4 ctl alice discard ffff0000ffff0000
expect_in "$T/err" "no message"
