# chat-tui: replies and reactions. bob's reply and reaction from chatctl are
# drawn (the quote above the reply, counts after the text); /reply and
# /react from the screen reach bob as a reply and a reaction, and /react N -
# takes the reaction back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register bob

tui_start alice 100x30 --user alice
tui_wait alice "[online] alice"
expect_exit 0 ctl bob create alice
c=$(cat "$T/out")
expect_exit 0 ctl bob send "$c" "dinner at 8?"
m1=$(cat "$T/out")
tui_wait alice "1 bob (1)"
tui_keys alice Tab
tui_wait alice "bob: dinner at 8?"

# From the screen: a reply to the newest message, and a reaction to it.
tui_type alice "/reply 1 sounds good"
tui_keys alice Enter
tui_wait alice "> bob: dinner at 8?"
tui_wait alice "sounds good (sent)"
tui_type alice "/react 2 🍝"
tui_keys alice Enter
tui_wait alice "bob: dinner at 8?  [🍝 1]"
i=0
until ctl bob --json recv >"$T/bob.out" 2>/dev/null && cat "$T/bob.out" >>"$T/bob.all" &&
	grep -q '"type":"reaction"' "$T/bob.all"; do
	i=$((i + 1)); [ $i -gt 50 ] && fail "bob never got alice's reaction: $(cat "$T/bob.all")"; sleep 0.1
done
jq -e -s --arg m "$m1" '.[] | select(.type=="message") | .text == "sounds good" and .replyTo.id == $m' \
	"$T/bob.all" >/dev/null || fail "bob got: $(cat "$T/bob.all")"

# bob reacts from chatctl: drawn as a count; alice takes hers back.
expect_exit 0 ctl bob react "$c" "$m1" "🍝"
tui_wait alice "[🍝 2]"
tui_type alice "/react 2 -"
tui_keys alice Enter
tui_wait alice "bob: dinner at 8?  [🍝 1]"
tui_type alice "/react 9 x"
tui_keys alice Enter
tui_wait alice "no message 9 in this chat"
tui_type alice "/quit"
tui_keys alice Enter
tui_wait alice "[exit 0]"
tui_check_asan
stop_server
