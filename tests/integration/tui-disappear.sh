# timeout: 180
# chat-tui: disappearing messages. /disappear sets the open chat's timer
# (the header shows "⏱ 30s", the history "alice set disappearing messages
# to 30 seconds"); a duration out of range is refused on the screen; bob's
# message sent after it vanishes from the screen 30 s after it was sent,
# without a restart, while the one sent before stays; bob turning it off is
# drawn too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register bob

tui_start alice 100x30 --user alice
tui_wait alice "[online] alice"
expect_exit 0 ctl bob create alice
c=$(cat "$T/out")
expect_exit 0 ctl bob send "$c" "kept forever"
tui_wait alice "1 bob (1)"
tui_keys alice Tab
tui_wait alice "bob: kept forever"

tui_type alice "/disappear 10s"
tui_keys alice Enter
tui_wait alice "30s to 90d"
tui_type alice "/disappear 30s"
tui_keys alice Enter
tui_wait alice "* alice set disappearing messages to 30 seconds"
tui_wait alice "⏱ 30s"
i=0
until ctl bob --json recv >"$T/bob.out" 2>/dev/null && cat "$T/bob.out" >>"$T/bob.all" &&
	grep -q '"type":"timer"' "$T/bob.all"; do
	i=$((i + 1)); [ $i -gt 50 ] && fail "bob never got the change: $(cat "$T/bob.all")"; sleep 0.1
done
expect_exit 0 ctl bob send "$c" "this one vanishes"
tui_wait alice "bob: this one vanishes"
# Gone from the screen 30 s after it was sent (the sweep runs every second).
i=0
while tui_screen alice | grep -qF "this one vanishes"; do
	i=$((i + 1))
	[ $i -gt 800 ] && { tui_screen alice >&2; fail "the expired message is still shown"; }
	sleep 0.05
done
[ $i -gt 300 ] || fail "the message vanished after $i/20 s, before its 30 s"
tui_wait alice "bob: kept forever"

expect_exit 0 ctl bob disappear "$c" off
tui_wait alice "* bob turned off disappearing messages"
tui_wait_gone alice "⏱"
tui_type alice "/quit"
tui_keys alice Enter
tui_wait alice "[exit 0]"
tui_check_asan
stop_server
