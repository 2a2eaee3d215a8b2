# Notes to self (PROTOCOL.md, "Notes to self"): "@me" (or "@" and your own
# name) is a direct chat whose only member is you, one per user on the
# server. With one device a note is stored by the server with no envelope
# (there is no one to encrypt it for); a device linked later sees only what
# is written after it joined. From two devices each note reaches the other,
# and no other user ever sees one. Before this, "send @bob" as bob reached
# alice (issue 10): it still must not.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob

# A chat with alice exists: "@bob" as bob must not find it.
expect_exit 0 ctl alice --json create bob
ab=$(jq -r .chatId "$T/out")

# One device: the note is sent and kept; the chat shows as notes to self.
expect_exit 0 ctl bob send @me "buy milk"
expect_exit 0 ctl bob --json history @me
[ "$(jq -r '.[] | .text' "$T/out")" = "buy milk" ] || fail "bob's notes: $(cat "$T/out")"
[ "$(jq -r '.[0].state' "$T/out")" = sent ] || fail "note not sent: $(cat "$T/out")"
self=$(jq -r '.[0].chatId' "$T/out")
[ "$self" != "$ab" ] || fail "@me is the chat with alice"
expect_exit 0 ctl bob --json chats
[ "$(jq -r --arg c "$self" '.[] | select(.chatId==$c) | [.kind, (.participants | join(","))] | join(" ")' "$T/out")" = "self bob" ] ||
	fail "chats: $(cat "$T/out")"
expect_exit 0 ctl bob chats
expect_in "$T/out" "$self  self    notes to self"
# "@bob" is the same chat, and create @me finds it again.
expect_exit 0 ctl bob history @bob
expect_in "$T/out" "buy milk"
expect_exit 0 ctl bob create @me
[ "$(cat "$T/out")" = "$self" ] || fail "create @me: $(cat "$T/out")"

# alice saw nothing of it.
expect_exit 0 ctl alice --json recv
expect_not_in "$T/out" "buy milk"
[ "$(server_sql "SELECT count(*) FROM chat_members WHERE chat_id='$self'")" = 1 ] ||
	fail "members of the self chat on the server"

# A second device: notes go both ways between bob's devices, with --json.
link_device bobpc bob bob
expect_exit 0 ctl bobpc send @me "from the pc"
expect_exit 0 ctl bob --json recv
jq -e -s --arg c "$self" '[.[] | select(.type=="message")] | length == 1 and .[0].chatId == $c and
	.[0].text == "from the pc" and .[0].sender == "bob" and .[0].outgoing == true' "$T/out" >/dev/null ||
	fail "bob got: $(cat "$T/out")"
expect_exit 0 ctl bob send @me "from the phone"
expect_exit 0 ctl bobpc --json recv
jq -e -s --arg c "$self" '[.[] | select(.type=="message")] | length == 1 and .[0].chatId == $c and
	.[0].text == "from the phone"' "$T/out" >/dev/null || fail "bobpc got: $(cat "$T/out")"
expect_exit 0 ctl bobpc --json chats
[ "$(jq -r --arg c "$self" '.[] | select(.chatId==$c) | .kind' "$T/out")" = self ] ||
	fail "bobpc's chats: $(cat "$T/out")"
expect_exit 0 ctl bobpc history @me
expect_in "$T/out" "from the pc"
expect_in "$T/out" "from the phone"

# Still nothing for alice; after a server restart the notes are all there.
expect_exit 0 ctl alice --json recv
expect_not_in "$T/out" "from the"
restart_server
expect_exit 0 ctl bob --json history @me
[ "$(jq -r '[.[] | .text] | join("|")' "$T/out")" = "buy milk|from the pc|from the phone" ] ||
	fail "bob's notes after a restart: $(cat "$T/out")"
