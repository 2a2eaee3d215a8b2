# chat-tui, the everyday path: first start registers, a message from chatctl
# shows up (its chat listed with an unread count, opened with Tab), typing sends (emoji and CJK intact), receipts
# move our message to delivered and read, another chat's message raises its
# unread count, Tab switches to it, and /commands answer, wrong ones with usage.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register bob carol

# An empty home and --user: registers without asking.
tui_start alice 100x40 --user alice
tui_wait alice "registered as alice"
tui_wait alice "[online] alice"

# bob writes: the chat appears, Tab opens it, the message in it.
expect_exit 0 ctl bob create alice
c=$(cat "$T/out")
expect_exit 0 ctl bob send "$c" "hello alice"
tui_wait alice "1 bob (1)"
tui_keys alice Tab
tui_wait alice "bob: hello alice"
tui_wait alice "1 bob"

# alice types back; bob gets it byte for byte.
tui_type alice "hi bob 😀 漢字 é"
tui_keys alice Enter
tui_wait alice "alice: hi bob 😀 漢字 é (sent)"
# (Everything bob receives is kept in bob.all: the read receipt of alice's
# screen may come with it.)
i=0
until ctl bob --json recv >"$T/bob.out" 2>/dev/null && cat "$T/bob.out" >>"$T/bob.all" &&
	grep -q "hi bob" "$T/bob.all"; do
	i=$((i + 1)); [ $i -gt 50 ] && fail "bob never got alice's message"; sleep 0.1
done
[ "$(jq -r 'select(.type == "message") | .text' "$T/bob.all")" = "hi bob 😀 漢字 é" ] ||
	fail "bob got: $(cat "$T/bob.all")"
# bob's device stored it (delivered); bob reads the chat (read).
tui_wait alice "(delivered)"
expect_exit 0 ctl bob read "$c"
tui_wait alice "é (read)"
# alice's screen marked bob's message read: bob learns it.
i=0
until grep -q '"status":"read"' "$T/bob.all"; do
	ctl bob --json recv >>"$T/bob.all" 2>/dev/null
	i=$((i + 1)); [ $i -gt 50 ] && fail "no read receipt from alice's screen"; sleep 0.1
done

# A new group from carol, with a message: its unread count, and Tab to it.
expect_exit 0 ctl carol create --name climbing alice bob
g=$(cat "$T/out")
expect_exit 0 ctl carol send "$g" "saturday at 10?"
tui_wait alice "climbing (1)"
tui_keys alice Tab
tui_wait alice "carol: saturday at 10?"
tui_wait alice "carol created the group"
tui_wait_gone alice "climbing (1)"
# Alt-2 goes back to the second chat of the list (bob's, now older).
tui_keys alice M-2
tui_wait alice "bob: hello alice"

# Commands: help from the table, a wrong argument shows the usage, an unknown one says so.
tui_type alice "/help"
tui_keys alice Enter
tui_wait alice "chats:  /create USER  /group NAME USER...  /open CHAT"
tui_wait alice "chat-tui:  /help [COMMAND]  /bell on|off  /reconnect  /quit"
tui_wait alice "keys: Enter sends"
tui_type alice "/help group"
tui_keys alice Enter
tui_wait alice "usage: /group NAME USER...  (make a group NAME with these users)"
tui_type alice "/add"
tui_keys alice Enter
tui_wait alice "usage: /add USER..."
tui_type alice "/frobnicate"
tui_keys alice Enter
tui_wait alice "unknown command /frobnicate; /help lists them"
# Tab completes a command's name.
tui_type alice "/memb"
tui_keys alice Tab Enter
tui_wait alice "members:"
tui_wait alice "  bob"

# /verify shows the same safety number bob's chatctl shows; /devices lists ours.
expect_exit 0 ctl bob verify alice
num=$(cat "$T/out")
tui_type alice "/verify bob"
tui_keys alice Enter
# (The line wraps in the pane: its start, and its last group.)
tui_wait alice "safety number with bob: $(echo "$num" | cut -d' ' -f1-4)"
tui_wait alice "$(echo "$num" | cut -d' ' -f12)"
tui_type alice "/devices"
tui_keys alice Enter
tui_wait alice "(this device)"

# First start without --user: chat-tui asks for the name; a taken one is asked again.
tui_start dave 100x30
tui_wait dave "your user name"
tui_type dave "bob"
tui_keys dave Enter
tui_wait dave "registration failed: server refused: user 'bob' is taken"
tui_type dave "dave"
tui_keys dave Enter
tui_wait dave "registered as dave"
tui_wait dave "[online] dave"

# No --server either: it asks for the URL first.
$TMUX_CMD new-session -d -s eve -x 100 -y 30 \
	"env LANG=C.UTF-8 ASAN_OPTIONS=log_path=$T/asan.eve $TUI --home $T/eve; echo \"[exit \$?]\"; sleep 30"
tui_wait eve "the server's URL"
tui_type eve "$URL"
tui_keys eve Enter
tui_wait eve "your user name"
tui_type eve "eve"
tui_keys eve Enter
tui_wait eve "[online] eve"
tui_keys eve C-c
tui_wait eve "[exit 0]"

# /quit leaves with status 0; no sanitizer report.
tui_type alice "/quit"
tui_keys alice Enter
tui_wait alice "[exit 0]"
tui_check_asan
stop_server
