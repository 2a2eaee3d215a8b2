# @yourself names no chat (notes to yourself do not exist yet): it is refused
# with a clear message, never resolved to a chat with someone else.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol
expect_exit 0 ctl bob create alice

# One direct chat (with alice): @bob must not pick it.
expect_exit 2 ctl bob send @bob "note to self"
expect_in "$T/err" "notes to yourself are not supported yet"
expect_exit 0 ctl alice --json recv
expect_not_in "$T/out" "note to self"
expect_exit 2 ctl bob history @bob
expect_in "$T/err" "notes to yourself are not supported yet"

# Two direct chats: still refused as such, not "more than one chat".
expect_exit 0 ctl bob create carol
expect_exit 2 ctl bob history @bob
expect_in "$T/err" "notes to yourself are not supported yet"
expect_not_in "$T/err" "more than one"

# Opening a chat with yourself says the same, before asking the server.
expect_exit 2 ctl bob create bob
expect_in "$T/err" "notes to yourself are not supported yet"

# The chats with others still resolve.
expect_exit 0 ctl bob send @alice "hi alice"
expect_exit 0 ctl alice recv
expect_in "$T/out" "hi alice"
