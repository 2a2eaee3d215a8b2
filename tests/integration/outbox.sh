# The outbox: a message written while the server is away (or whose reply never
# came) stays in the local store as pending, survives the process, and is sent
# again the next time this home connects, exactly once, in order.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
expect_exit 0 ctl alice send "$chat" "one"

stop_server
expect_exit 3 ctl alice send "$chat" "two, while the server is down"
expect_exit 3 ctl alice send "$chat" "three, also"
expect_exit 0 "$CHATCTL" --home "$T/alice" --json history "$chat"
[ "$(jq -r '[.[].state] | join(",")' "$T/out")" = "sent,pending,pending" ] || fail "states: $(cat "$T/out")"

# Back up: any connection of alice's home sends the outbox first.
restart_server
expect_exit 0 ctl alice recv
expect_exit 0 "$CHATCTL" --home "$T/alice" --json history "$chat"
[ "$(jq -r '[.[].state] | join(",")' "$T/out")" = "sent,sent,sent" ] || fail "not resent: $(cat "$T/out")"
[ "$(jq -r '[.[].seq] | join(",")' "$T/out")" = "1,2,3" ] || fail "order: $(cat "$T/out")"
expect_exit 0 ctl bob --json recv
[ "$(jq -r .text "$T/out" | tr '\n' '|')" = "one|two, while the server is down|three, also|" ] ||
	fail "bob got: $(cat "$T/out")"
# Sent again by a second program at the same time: still once.
expect_exit 0 ctl alice recv
expect_exit 0 ctl bob recv
[ -s "$T/out" ] && fail "delivered twice: $(cat "$T/out")"

# A SIGKILLed server loses nothing it confirmed.
expect_exit 0 ctl alice send "$chat" "confirmed before the crash"
kill_server
start_server "$port"
expect_exit 0 ctl bob recv
expect_in "$T/out" "confirmed before the crash"

# A message that can no longer be sent (its writer was removed from the group
# while it waited) is marked failed, and the program that found out says so.
expect_exit 0 ctl bob create --name club alice
club=$(cat "$T/out")
expect_exit 0 ctl alice recv
stop_server
expect_exit 3 ctl alice send "$club" "too late"
restart_server
expect_exit 0 ctl bob remove "$club" alice
expect_exit 0 ctl alice --json recv
[ "$(jq -r 'select(.type == "sendFailed") | .chatId' "$T/out")" = "$club" ] || fail "no sendFailed: $(cat "$T/out")"
expect_in "$T/err" "cannot be sent and is marked failed"
expect_exit 0 "$CHATCTL" --home "$T/alice" --json history "$club"
[ "$(jq -r '.[] | select(.text == "too late") | .state' "$T/out")" = failed ] || fail "state: $(cat "$T/out")"
# Reported once: it is not sent again.
expect_exit 0 ctl alice recv
expect_not_in "$T/err" "marked failed"
