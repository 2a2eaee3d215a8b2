# chat-tui's look and its configuration file: a file given with --config
# applies its good lines and says each bad one (FILE:LINE) without refusing
# to start; colours distinguish senders (a palette colour per name), own
# messages and the divider, and go with NO_COLOR; a direct chat's header
# says whether the other user is online or when they were last seen.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register alice bob
expect_exit 0 ctl bob create alice
b=$(cat "$T/out")
expect_exit 0 ctl bob send "$b" "hello alice"

cat >"$T/tui.conf" <<'CONF'
# alice's look
color.self = bold magenta
bogus = 1
palette = cyan   # every sender cyan
color.time = none
key.next_chat = C-o
color.mention = purple
CONF
tui_start alice 100x30 --config "$T/tui.conf"
tui_wait alice "[online] alice"
tui_wait alice "tui.conf:3: unknown key 'bogus' (the rest"
tui_wait alice "tui.conf:7: 'purple' is not a colour"
# Tab is no longer the next chat; C-o is.
tui_keys alice Tab
sleep 0.3
tui_pane alice | grep -q "bob: hello alice" && fail "Tab still opens the next chat"
tui_keys alice C-o
tui_wait alice "bob: hello alice"
tui_type alice "hi bob"
tui_keys alice Enter
tui_wait alice "alice: hi bob"
esc=$(printf '\033')
$TMUX_CMD capture-pane -e -p -t alice >"$T/screen"
# bob in the palette's cyan (36), alice's own line in bold magenta (35).
grep "hello alice" "$T/screen" | grep -q "${esc}\[[0-9;]*36m *bob" ||
	fail "bob's name is not cyan: $(grep 'hello alice' "$T/screen" | od -c | head -5)"
grep "hi bob" "$T/screen" | grep -q "${esc}\[[0-9;]*35m" ||
	fail "alice's own message is not magenta: $(grep 'hi bob' "$T/screen" | od -c | head -5)"
grep "hi bob" "$T/screen" | grep -q "${esc}\[1m\|${esc}\[1;" ||
	fail "alice's own message is not bold"
# Read by bob: the state in its own colour (blue), the text still magenta.
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob read "$b"
tui_wait alice "alice: hi bob (read)"
$TMUX_CMD capture-pane -e -p -t alice >"$T/screen"
grep "hi bob" "$T/screen" | grep -q "${esc}\[[0-9;]*34m\(${esc}\[[0-9;]*m\)*(read)" ||
	fail "the read state is not blue: $(grep 'hi bob' "$T/screen" | od -c | head -8)"

# Presence: bob listening is online; gone, he was last seen today.
tui_wait alice "bob  last seen today"
"$CHATCTL" --home "$T/bob" --server "$URL" listen >"$T/listen.out" 2>&1 &
listener=$!
sleep 1
# The header asks again when the chat is opened (and each minute).
tui_type alice "/create @me"
tui_keys alice Enter
tui_wait alice "notes to self"
tui_keys alice C-o
tui_wait alice "bob  online"
kill "$listener"
wait "$listener" 2>/dev/null
sleep 0.5
tui_keys alice C-o
tui_wait alice "notes to self"
tui_keys alice C-o
tui_wait alice "bob  last seen today $(date +%H:)"
tui_keys alice C-c
tui_wait alice "[exit 0]"

# NO_COLOR: no colour at all, the rest the same.
# A second session keeps tmux's server up meanwhile (the last one's end
# stops it, and a new session can race its going).
$TMUX_CMD new-session -d -s keep "sleep 300"
$TMUX_CMD kill-session -t alice
TUI="env NO_COLOR=1 $BIN/chat-tui"
tui_start alice 100x30
tui_wait alice "[online] alice"
tui_type alice "/open bob"
tui_keys alice Enter
tui_wait alice "alice: hi bob"
$TMUX_CMD capture-pane -e -p -t alice >"$T/screen"
grep -q "${esc}\[[0-9;]*3[0-7]m\|${esc}\[[0-9;]*38;5" "$T/screen" &&
	fail "colours with NO_COLOR: $(grep "${esc}\[[0-9;]*3[0-7]m" "$T/screen" | od -c | head)"
grep -q "${esc}\[[0-9;]*1m" "$T/screen" || fail "NO_COLOR took the bold away too"
tui_keys alice C-c
tui_wait alice "[exit 0]"
tui_check_asan
stop_server
