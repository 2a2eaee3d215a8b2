# chat-tui's notifications: a message in a chat that is not open shows a
# desktop notification through notify-send when it is on PATH with a D-Bus
# session (here a fake one that writes down its arguments), with the
# sender (and the group) as the title and the text, cleaned of control
# characters, as the body; the open chat does not notify; /bell off leaves
# only mentions; an unfocused terminal (focus reports) notifies for the
# open chat too, and marks nothing read until it has the focus back. With
# "notify = osc" in the configuration the terminal
# gets an OSC 777 notification (read from the pane's raw output).
# A muted chat (/mute) notifies no more, but for a mention of the user.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register bob carol
mkdir -p "$T/bin"
cat >"$T/bin/notify-send" <<FAKE
#!/bin/sh
for a in "\$@"; do printf '%s|' "\$a"; done >>"$T/notify.log"
echo >>"$T/notify.log"
FAKE
chmod +x "$T/bin/notify-send"
: >"$T/notify.log"
TUI="env DBUS_SESSION_BUS_ADDRESS=unix:path=$T/no-bus PATH=$T/bin:$PATH $BIN/chat-tui"
tui_start alice 100x30 --user alice
tui_wait alice "[online] alice"
expect_exit 0 ctl bob create alice
b=$(cat "$T/out")
expect_exit 0 ctl carol create alice
c=$(cat "$T/out")

# A chat not open: notified.
expect_exit 0 ctl bob send "$b" "hello from bob"
wait_until 10 "no notification: $(cat "$T/notify.log")" grep -qF -- "-a|chat-tui|--|bob|hello from bob|" "$T/notify.log"
tui_type alice "/open bob"
tui_keys alice Enter
tui_wait alice "bob: hello from bob"
sleep 1.1
# The open chat: seen, not notified.
expect_exit 0 ctl bob send "$b" "you see this one"
tui_wait alice "bob: you see this one"
sleep 1.1
grep -q "you see this one" "$T/notify.log" && fail "the open chat notified"
# Escapes in a message do not reach the notification.
expect_exit 0 ctl carol send "$c" "$(printf 'evil\033]0;owned\007 text')"
wait_until 10 "carol's message not notified: $(cat "$T/notify.log")" grep -q "carol|evil" "$T/notify.log"
grep -q "$(printf '\033')\|$(printf '\007')" "$T/notify.log" && fail "a control character reached notify-send: $(od -c "$T/notify.log" | tail -5)"
grep -qF "carol|evil ]0;owned  text|" "$T/notify.log" || fail "the text was not cleaned as expected: $(cat "$T/notify.log")"

# /bell off: only a mention gets through, titled with the group.
tui_type alice "/bell off"
tui_keys alice Enter
tui_wait alice "bell off"
sleep 1.1
expect_exit 0 ctl carol send "$c" "not important"
expect_exit 0 ctl carol --json create --name trip alice bob
g=$(jq -r .chatId "$T/out")
tui_wait alice "trip"
sleep 1.1
expect_exit 0 ctl carol send "$g" "@alice bring the map"
wait_until 10 "the mention was not notified: $(cat "$T/notify.log")" grep -qF "|carol in trip|@alice bring the map|" "$T/notify.log"
grep -q "not important" "$T/notify.log" && fail "/bell off still notified a plain message"
tui_type alice "/bell on"
tui_keys alice Enter
tui_wait alice "bell on"

# /mute: carol's chat is quiet, but for a mention.
tui_type alice "/open carol"
tui_keys alice Enter
tui_wait alice "carol: not important"
tui_type alice "/mute"
tui_keys alice Enter
tui_wait alice "muted: only mentions of you ring"
tui_type alice "/open bob"
tui_keys alice Enter
tui_wait alice "bob: you see this one"
sleep 1.1
expect_exit 0 ctl carol send "$c" "muted chatter"
expect_exit 0 ctl bob send "$b" "about the muted one"
sleep 1.1
expect_exit 0 ctl carol send "$c" "@alice but this"
wait_until 10 "the mention in a muted chat was not notified: $(cat "$T/notify.log")" \
	grep -qF "|carol|@alice but this|" "$T/notify.log"
grep -q "muted chatter" "$T/notify.log" && fail "a muted chat notified: $(cat "$T/notify.log")"

# The terminal says it lost the focus (CSI O, as tmux passes it on): the
# open chat notifies, and what arrives is not marked read until the focus
# comes back (CSI I).
tui_type alice "/open bob"
tui_keys alice Enter
tui_wait alice "bob: you see this one"
tui_type alice "$(printf '\033[O')"
sleep 1.1
expect_exit 0 ctl bob send "$b" "while you were away"
tui_wait alice "bob: while you were away"
wait_until 10 "the open chat of an unfocused terminal did not notify: $(cat "$T/notify.log")" \
	grep -qF "|bob|while you were away|" "$T/notify.log"
tui_wait alice "bob (1)"
tui_type alice "$(printf '\033[I')"
tui_wait_gone alice "bob (1)"
tui_screen alice | tail -1 | grep -q "[[IO]" && fail "a focus report was typed into the input line"
tui_keys alice C-c
tui_wait alice "[exit 0]"
# A second session keeps tmux's server up meanwhile (the last one's end
# stops it, and a new session can race its going).
$TMUX_CMD new-session -d -s keep "sleep 300"
$TMUX_CMD kill-session -t alice

# The terminal's own notification: OSC 777, seen in the pane's raw output.
printf 'notify = osc\nnotify.bell = yes\n' >"$T/osc.conf"
TUI="$BIN/chat-tui"
tui_start alice 100x30 --config "$T/osc.conf"
tui_wait alice "[online] alice"
$TMUX_CMD pipe-pane -O -t alice "cat >>$T/raw"
tui_type alice "/open trip"
tui_keys alice Enter
tui_wait alice "carol: @alice bring the map"
expect_exit 0 ctl bob send "$b" "over the terminal"
wait_until 10 "no OSC 777 in the output: $(od -c "$T/raw" | grep -n '7   7   7' | head -3)" \
	grep -qF "$(printf '\033]777;notify;bob;over the terminal\033\\')" "$T/raw"
grep -q "$(printf '\007')" "$T/raw" || fail "notify.bell = yes did not ring"
tui_keys alice C-c
tui_wait alice "[exit 0]"
tui_check_asan
stop_server
