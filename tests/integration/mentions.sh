# Mentions (PROTOCOL.md, "Mentions"; libchat(3), MENTIONS): "@name" in a
# group's text names a member; every device finds it in the text itself (no
# wire change). The one named gets "mentionsMe": true and the text output's
# "[mention]"; the others see who was named; "@" in an address, a non-member's
# name and a longer word are no mention. The sender's own device lists the
# mentions too, before and after the server has it.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol bobby

expect_exit 0 ctl alice --json create --name "trip" bob carol bobby
g=$(jq -r .chatId "$T/out")
expect_exit 0 ctl alice send "$g" "@Bob, can you book? cc @carol."
expect_exit 0 ctl alice send "$g" "mail bob@example.org or ask @dave, not @bobb"
expect_exit 0 ctl alice --json history "$g"
jq -e '.[0].mentions == ["bob", "carol"] and .[0].mentionsMe == false and
	.[1].mentions == [] and .[1].mentionsMe == false' "$T/out" >/dev/null ||
	fail "alice's own view: $(cat "$T/out")"

# bob is named in the first, not in the second (an address, no "@bob" word).
expect_exit 0 ctl bob --json recv
jq -e -s '[.[] | select(.type=="message")] | length == 2 and .[0].mentionsMe == true and
	.[0].mentions == ["bob", "carol"] and .[1].mentionsMe == false' "$T/out" >/dev/null ||
	fail "bob got: $(cat "$T/out")"
expect_exit 0 ctl bob history "$g"
expect_in "$T/out" "alice: @Bob, can you book? cc @carol. [mention]"
expect_not_in "$T/out" "not @bobb [mention]"

# bobby is a prefix of no one's word here: "@Bob," is bob, "@bobb" nobody.
expect_exit 0 ctl bobby --json recv
jq -e -s '[.[] | select(.type=="message") | .mentionsMe] == [false, false]' "$T/out" >/dev/null ||
	fail "bobby got: $(cat "$T/out")"

# bobby answers naming bobby and alice: alice and bobby flagged, bob not.
expect_exit 0 ctl bobby send "$g" "@alice ok, and @bobby (me) drives"
expect_exit 0 ctl alice --json recv
jq -e -s '[.[] | select(.type=="message")][0] | .mentionsMe == true and .mentions == ["alice", "bobby"]' \
	"$T/out" >/dev/null || fail "alice got: $(cat "$T/out")"
expect_exit 0 ctl bob --json recv
jq -e -s '[.[] | select(.type=="message")][0] | .mentionsMe == false' "$T/out" >/dev/null ||
	fail "bob flagged for @bobby: $(cat "$T/out")"

# The flag survives a restart of the server (it is in the text, not on the wire).
restart_server
expect_exit 0 ctl carol --json recv
jq -e -s '[.[] | select(.type=="message") | .mentionsMe] == [true, false, false]' "$T/out" >/dev/null ||
	fail "carol got: $(cat "$T/out")"
expect_exit 0 ctl bob history "$g"
[ "$(grep -c '\[mention\]' "$T/out")" = 1 ] || fail "bob's history: $(cat "$T/out")"
