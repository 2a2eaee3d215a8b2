# Last seen: when a user was last connected, or that they are online now, shown
# to contacts only; a user may hide it, and then sees nobody else's either.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
# Strangers see nothing: bob has not taken part in a chat with alice.
expect_exit 0 ctl alice --json lastseen bob
[ "$(jq -c '[.online, .lastSeen]' "$T/out")" = "[null,null]" ] || fail "shown to a stranger: $(cat "$T/out")"
# bob writes to alice: she is his contact now, and he hers (she made the chat).
expect_exit 0 ctl alice create bob
expect_exit 0 ctl bob create alice
expect_exit 0 ctl alice --json lastseen bob
[ "$(jq -r .online "$T/out")" = false ] || fail "online: $(cat "$T/out")"
jq -r .lastSeen "$T/out" | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' || fail "lastSeen: $(cat "$T/out")"

# While bob listens he is online. (Wait for his receiving session: the
# send-only one of "ctl bob create" above logs "via=auth send-only".)
"$CHATCTL" --home "$T/bob" --server "$URL" listen >/dev/null 2>&1 &
bob=$!
i=0
while ! grep -q "auth device=bob/1 via=auth$" "$T/server.log"; do
	i=$((i + 1)); [ $i -gt 100 ] && fail "bob never connected"; sleep 0.05
done
expect_exit 0 ctl alice lastseen bob
expect_in "$T/out" "bob: online"
kill -TERM $bob
wait $bob

# bob hides it: alice sees nothing, and bob sees nobody else's, but his own.
expect_exit 0 ctl bob privacy --hide-last-seen on
expect_exit 0 ctl alice --json lastseen bob
[ "$(jq -c '[.online, .lastSeen]' "$T/out")" = "[null,null]" ] || fail "not hidden: $(cat "$T/out")"
expect_exit 0 ctl bob lastseen alice
expect_in "$T/out" "alice: hidden"
expect_exit 0 ctl bob lastseen bob
expect_in "$T/out" "bob: "
expect_not_in "$T/out" "hidden"
expect_exit 0 ctl bob privacy --hide-last-seen off
expect_exit 0 ctl alice lastseen bob
expect_in "$T/out" "bob: last seen"

expect_exit 4 ctl alice lastseen nobody; expect_in "$T/err" "unknown_user"
expect_exit 2 ctl alice privacy --hide-last-seen maybe
