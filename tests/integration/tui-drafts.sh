# chat-tui keeps each chat's unsent input: switching chats keeps what was
# typed (text and cursor) for that chat, the list marks a chat with a draft
# (✎), coming back restores it, and a restart keeps it (chat-tui.drafts in
# the home). A /command being typed goes along to the next chat instead.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register bob carol
tui_start alice 100x30 --user alice
tui_wait alice "[online] alice"
expect_exit 0 ctl bob create alice
b=$(cat "$T/out")
expect_exit 0 ctl bob send "$b" "hello from bob"
tui_wait alice "bob (1)"
expect_exit 0 ctl carol create alice
c=$(cat "$T/out")
expect_exit 0 ctl carol send "$c" "hello from carol"
tui_wait alice "carol (1)"

# carol's chat is first (newest): open bob's, type, move the cursor back.
tui_type alice "/open bob"
tui_keys alice Enter
tui_wait alice "bob: hello from bob"
tui_type alice "half a thought"
tui_keys alice Left Left Left
tui_keys alice Tab
tui_wait alice "carol: hello from carol"
# The input line is empty in carol's chat, and bob's chat is marked.
tui_wait alice "bob ✎"
tui_screen alice | tail -1 | grep -q "half a thought" && fail "the draft followed to another chat"
tui_type alice "for carol"
tui_keys alice Tab
tui_wait alice "bob: hello from bob"
tui_wait alice "carol ✎"
tui_screen alice | tail -1 | grep -qF "half a thought" || fail "bob's draft is gone: $(tui_screen alice | tail -2)"
# The cursor came back where it was: three clusters from the end.
tui_type alice "X"
tui_wait alice "half a thouXght"
tui_screen alice | grep -q "bob ✎" && fail "the open chat is marked as having a draft"

# Sent: no draft left for bob.
tui_keys alice Enter
tui_wait alice "alice: half a thouXght"

# A restart keeps carol's draft.
tui_keys alice C-c
tui_wait alice "[exit 0]"
[ -f "$T/alice/chat-tui.drafts" ] || fail "no drafts file in the home"
# A second session keeps tmux's server up meanwhile (the last one's end
# stops it, and a new session can race its going).
$TMUX_CMD new-session -d -s keep "sleep 300"
$TMUX_CMD kill-session -t alice
tui_start alice 100x30
tui_wait alice "[online] alice"
tui_wait alice "carol ✎"
tui_screen alice | grep -q "bob ✎" && fail "a sent message's draft came back"
tui_type alice "/open carol"
tui_keys alice Enter
tui_wait alice "carol: hello from carol"
tui_screen alice | tail -1 | grep -qF "for carol" || fail "carol's draft did not survive a restart: $(tui_screen alice | tail -2)"
tui_keys alice C-c
tui_wait alice "[exit 0]"
tui_check_asan
stop_server
