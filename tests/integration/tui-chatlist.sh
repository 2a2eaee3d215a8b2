# timeout: 120
# chat-tui's chat list (chat-tui(1), "THE CHAT LIST"): each chat on two rows,
# its name with the unread count and the time of its last message, then its
# markers (* pinned, z muted) and that message, "sender: text", cut to the
# list's width; pinned chats first; /archive hides the open chat, /archived
# shows the archived ones (and back), and a new message brings an archived
# chat back. What chat-tui sets is what chatctl lists (one store).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register alice bob carol dave

# Her notes to self first, so the oldest chat, last in the list: the first
# /pin would make them otherwise (the settings go to her other devices by
# them), and they would move the rows this test counts.
expect_exit 0 ctl alice create @me
for u in bob carol dave; do
	expect_exit 0 ctl alice create "$u"
	eval "$u=\$(cat \"\$T/out\")"
done
expect_exit 0 ctl bob send "$bob" "first from bob"
expect_exit 0 ctl carol send "$carol" "news from carol"
expect_exit 0 ctl dave send "$dave" "dave here"

# The list is the left 25 columns of a 100-column screen (a quarter).
list() { tui_screen alice | cut -c1-25; }
# list_wait REGEX: until the list shows a line matching REGEX (grep -E).
list_wait() {
	i=0
	until list | grep -Eq -- "$1"; do
		i=$((i + 1))
		[ $i -gt 200 ] && { tui_screen alice >&2; fail "the list never showed /$1/"; }
		sleep 0.05
	done
}
list_wait_gone() {
	i=0
	while list | grep -Eq -- "$1"; do
		i=$((i + 1))
		[ $i -gt 200 ] && { tui_screen alice >&2; fail "the list still shows /$1/"; }
		sleep 0.05
	done
}
# row N: the list's row N (from 1).
row() { list | sed -n "$1p"; }

tui_start alice 100x30
# Newest first, each with its unread count, its time today (HH:MM) and its
# last message under it.
list_wait "^1 dave \(1\) +[0-9]{2}:[0-9]{2} *$"
list_wait "^2 carol \(1\) +[0-9]{2}:[0-9]{2}"
list_wait "^3 bob \(1\) +[0-9]{2}:[0-9]{2}"
row 2 | grep -q "^  dave: dave here *$" || fail "dave's preview: $(list)"
row 4 | grep -q "^  carol: news from carol" || fail "carol's preview: $(list)"

# A long message is cut to the list's width, on one line.
expect_exit 0 ctl carol send "$carol" "a very long line that goes on and on well past the list's edge
and a second line"
list_wait "^1 carol \(2\)"
row 2 | grep -q "^  carol: a very long line" || fail "long preview: $(list)"
# Cut at the list's edge (its 25 columns), the pane's border right after it.
tui_screen alice | sed -n 2p | grep -q "^  carol: a very long line│" ||
	fail "the preview is not cut at the list's edge: $(tui_screen alice)"
tui_screen alice | grep -q "second line" && fail "the preview's second line shows: $(tui_screen alice)"

# Open bob (third), read it: the count goes; /pin puts it first, marked.
tui_keys alice M-3
tui_wait alice "bob: first from bob"
list_wait "^3 bob +[0-9]{2}:[0-9]{2}"
tui_type alice "/pin"
tui_keys alice Enter
list_wait "^1 bob +[0-9]{2}:[0-9]{2}"
row 2 | grep -q "^  \* bob: first from bob" || fail "pin marker: $(list)"
# A newer message elsewhere does not move it down.
expect_exit 0 ctl dave send "$dave" "again"
list_wait "^2 dave \(2\)"
row 1 | grep -q "^1 bob" || fail "pinned chat moved: $(list)"
# /mute: marked; chatctl sees it (one store).
tui_type alice "/mute 1h"
tui_keys alice Enter
list_wait "^  \* z bob: first from bob"
tui_wait alice "muted until"
expect_exit 0 ctl alice --json chats
jq -e --arg b "$bob" '.[0].chatId == $b and .[0].pinned and .[0].muted' "$T/out" >/dev/null ||
	fail "chatctl after /pin, /mute: $(cat "$T/out")"
tui_type alice "/unmute"
tui_keys alice Enter
list_wait "^  \* bob: first from bob"
# A mute for a while ends on the screen too, with nothing else happening.
tui_type alice "/mute 2s"
tui_keys alice Enter
list_wait "^  \* z bob: first from bob"
i=0
until list | grep -q "^  \* bob: first from bob"; do
	i=$((i + 1)); [ $i -gt 400 ] && fail "the 2 s mute stayed on the list: $(list)"
	sleep 0.05
done
tui_type alice "/unpin"
tui_keys alice Enter
list_wait "^3 bob"

# /archive hides the open chat; /archived shows the archived ones; again the others.
list_wait "^2 carol"
tui_keys alice M-2
tui_wait alice "and a second line"
tui_type alice "/archive"
tui_keys alice Enter
list_wait_gone "carol"
list_wait "^1 dave"
tui_type alice "/archived"
tui_keys alice Enter
list_wait "^archived:"
list_wait "^1 carol"
list | grep -q "dave" && fail "the archived view shows dave: $(list)"
tui_type alice "/archived"
tui_keys alice Enter
list_wait_gone "^archived:"
list_wait "^1 dave"
list | grep -q "carol" && fail "carol not hidden: $(list)"
# A new message from carol brings the chat back, on top.
expect_exit 0 ctl carol send "$carol" "back again"
list_wait "^1 carol"
list_wait "^  carol: back again"

# /help lists the commands under the chat list's topic.
tui_type alice "/help"
tui_keys alice Enter
tui_wait alice "chat list:  /mute [DURATION|forever]  /unmute  /pin  /unpin  /archive"
tui_wait alice "/unarchive  /archived"
tui_check_asan
