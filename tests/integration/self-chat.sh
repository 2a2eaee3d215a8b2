# @yourself is your notes to self (PROTOCOL.md, "Notes to self"), never a
# chat with someone else: "send @bob" as bob once reached alice (issue 10),
# and with two direct chats said "matches more than one chat".
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol
expect_exit 0 ctl bob create alice
ba=$(cat "$T/out")

# One direct chat (with alice): @bob must not pick it.
expect_exit 0 ctl bob send @bob "note to self"
expect_exit 0 ctl alice --json recv
expect_not_in "$T/out" "note to self"
expect_exit 0 ctl bob --json history @bob
[ "$(jq -r '.[] | .text' "$T/out")" = "note to self" ] || fail "bob's notes: $(cat "$T/out")"
[ "$(jq -r '.[0].chatId' "$T/out")" != "$ba" ] || fail "@bob is the chat with alice"
expect_exit 0 ctl bob history "$ba"
expect_not_in "$T/out" "note to self"

# Two direct chats: @bob is still the notes, not "more than one chat".
expect_exit 0 ctl bob create carol
expect_exit 0 ctl bob history @bob
expect_in "$T/out" "note to self"
expect_not_in "$T/err" "more than one"

# "create bob" as bob is the same chat.
expect_exit 0 ctl bob --json history @me
self=$(jq -r '.[0].chatId' "$T/out")
expect_exit 0 ctl bob create bob
[ "$(cat "$T/out")" = "$self" ] || fail "create bob: $(cat "$T/out"), notes are $self"

# The chats with others still resolve.
expect_exit 0 ctl bob send @alice "hi alice"
expect_exit 0 ctl alice recv
expect_in "$T/out" "hi alice"
expect_not_in "$T/out" "note to self"
