# chat-tui: edits and deletes. bob's edit and delete from chatctl are drawn
# ("(edited)" after the new text, "message deleted" in place of the
# message); /edit and /delete! from the screen reach bob as an edit and a
# delete; /delete takes a message off this screen only.
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
expect_exit 0 ctl bob send "$c" "or lunch"
m2=$(cat "$T/out")
tui_wait alice "1 bob (2)"
tui_keys alice Tab
tui_wait alice "bob: or lunch"

# From chatctl: drawn changed.
expect_exit 0 ctl bob edit "$c" "$m1" "dinner at 9?"
tui_wait alice "bob: dinner at 9? (edited)"
expect_exit 0 ctl bob delete --for-everyone "$c" "$m2"
tui_wait alice "bob: message deleted"

# From the screen: alice's own message, edited, then deleted for everyone.
tui_type alice "/reply 2 yes, 9"
tui_keys alice Enter
tui_wait alice "yes, 9 (sent)"
tui_type alice "/edit 1 yes, 9 works"
tui_keys alice Enter
tui_wait alice "yes, 9 works (edited)"
i=0
until ctl bob --json recv >"$T/bob.out" 2>/dev/null && cat "$T/bob.out" >>"$T/bob.all" &&
	grep -q '"type":"edit"' "$T/bob.all"; do
	i=$((i + 1)); [ $i -gt 50 ] && fail "bob never got alice's edit: $(cat "$T/bob.all")"; sleep 0.1
done
jq -e -s '.[] | select(.type=="edit") | .text == "yes, 9 works" and .status == "applied"' \
	"$T/bob.all" >/dev/null || fail "bob got: $(cat "$T/bob.all")"
# Someone else's message cannot be edited.
tui_type alice "/edit 3 mine now"
tui_keys alice Enter
tui_wait alice "not yours"
tui_type alice "/delete! 1"
tui_keys alice Enter
tui_wait alice "alice: message deleted"
i=0
until ctl bob --json recv >"$T/bob.out" 2>/dev/null && cat "$T/bob.out" >>"$T/bob.all" &&
	grep -q '"type":"delete"' "$T/bob.all"; do
	i=$((i + 1)); [ $i -gt 50 ] && fail "bob never got alice's delete: $(cat "$T/bob.all")"; sleep 0.1
done
# /delete: bob's first message leaves alice's screen (and store) only.
tui_type alice "/delete 3"
tui_keys alice Enter
tui_wait_gone alice "dinner at 9"
expect_exit 0 ctl bob --json history "$c"
jq -e --arg m "$m1" '.[] | select(.messageId==$m) | .text == "dinner at 9?"' "$T/out" >/dev/null ||
	fail "bob lost his message: $(cat "$T/out")"
tui_type alice "/quit"
tui_keys alice Enter
tui_wait alice "[exit 0]"
tui_check_asan
stop_server
