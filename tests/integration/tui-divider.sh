# chat-tui's unread divider and date separators: a chat opened with unread
# messages shows "── N unread ──" before the first of them, which stays
# while the chat is open (read or not) and goes when another is opened;
# Alt-u and /unread bring it back into view. Messages of another day are
# preceded by that day ("── Tuesday, 2026-12-01 ──") and their times say
# the day ("2026-11-20 14:03" for older than a week).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register alice bob
expect_exit 0 ctl bob create alice
b=$(cat "$T/out")
expect_exit 0 ctl bob send "$b" "an old one"
expect_exit 0 ctl bob send "$b" "read long ago"
expect_exit 0 ctl alice recv
expect_exit 0 ctl alice read "$b"
# Those two were sent on other days: the store's times, set back to 30
# days and one day ago.
now=$(date +%s)
old=$((now - 30 * 86400))
yday=$((now - 86400))
sqlite3 "$T/alice/store.db" \
	"UPDATE messages SET sent_at = ${old}000 WHERE text = 'an old one';
	 UPDATE messages SET sent_at = ${yday}000 WHERE text = 'read long ago';" ||
	fail "cannot set the times back"
# 40 unread: more than the pane holds.
i=1
while [ $i -le 40 ]; do
	printf '{"jsonrpc":"2.0","id":%d,"method":"send","params":{"chat":"%s","text":"news %d"}}\n' \
		"$i" "$b" "$i"
	i=$((i + 1))
done >"$T/rpc.in"
ctl bob rpc <"$T/rpc.in" >"$T/rpc.out" 2>&1 || fail "rpc send failed: $(tail -3 "$T/rpc.out")"

TZ=UTC
export TZ
tui_start alice 100x30
tui_wait alice "[online] alice"
tui_wait alice "bob (40)"
tui_keys alice Tab
# Opened at the first unread, below the divider, after the days before.
tui_wait alice "── 40 unread ──"
tui_wait alice "bob: news 1"
tui_pane alice | grep -q "news 40" && fail "opened past the first unread message"
tui_screen alice | grep -qF "── $(date -u -d "@$yday" +"%A, %Y-%m-%d") ──" ||
	fail "no date separator for the day before: $(tui_screen alice)"
tui_screen alice | grep -qF "$(date -u -d "@$yday" +"%a %H:%M") bob: read long ago" ||
	fail "a time of another day without its day: $(tui_screen alice)"
# The sender's colour starts at the name, after a time with a day in it.
esc=$(printf '\033')
$TMUX_CMD capture-pane -e -p -t alice >"$T/screen"
grep "read long ago" "$T/screen" | grep -q "${esc}\[[0-9;]*3[0-7]mbob" ||
	fail "bob's name is not in its colour: $(grep 'read long ago' "$T/screen" | od -c | head -8)"
# The divider in its colour (bold red by default), the days' in theirs (cyan).
grep "40 unread" "$T/screen" | grep -q "${esc}\[[0-9;]*31m" ||
	fail "the divider is not red: $(grep '40 unread' "$T/screen" | od -c | head -4)"
grep "$(date -u -d "@$yday" +"%A")" "$T/screen" | grep -q "${esc}\[[0-9;]*36m" ||
	fail "the date separator is not cyan"
# Today's messages: under today's separator, times alone.
today=$(date -u +"%A, %Y-%m-%d")
tui_screen alice | grep -qF "── $today ──" || fail "no separator for today"

# To the newest (all read now): the divider stays, off screen.
tui_keys alice Escape
tui_wait alice "bob: news 40"
tui_wait_gone alice "── 40 unread ──"
tui_wait_gone alice "bob (40)"
# Alt-u: back to it.
tui_keys alice M-u
tui_wait alice "── 40 unread ──"
tui_keys alice Escape
tui_wait_gone alice "── 40 unread ──"
tui_type alice "/unread"
tui_keys alice Enter
tui_wait alice "── 40 unread ──"

# Scrolled back to the start: older than a week, the whole date.
tui_keys alice PageUp PageUp
tui_wait alice "$(date -u -d "@$old" +"%Y-%m-%d %H:%M") bob: an old one"
tui_wait alice "── $(date -u -d "@$old" +"%A, %Y-%m-%d") ──"
# Opening another chat and coming back: no divider any more (all read).
tui_type alice "/create @me"
tui_keys alice Enter
tui_wait alice "notes to self"
tui_type alice "/open bob"
tui_keys alice Enter
tui_wait alice "bob: news 40"
tui_type alice "/unread"
tui_keys alice Enter
tui_wait alice "no unread divider"
tui_screen alice | grep -q "unread ──" && fail "the divider came back with nothing unread"
tui_keys alice C-c
tui_wait alice "[exit 0]"
tui_check_asan
stop_server
