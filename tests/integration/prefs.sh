# timeout: 120
# Chat preferences (libchat(3), "Chat preferences"; chatctl(1) mute, pin,
# archive): this device's own. chats shows each chat's last message, its
# time and unread count, pinned chats first (the newest pin first); a mute
# for a while ends by itself, and messages of a muted chat say so in
# recv --json and in rpc's notifications; archived chats are hidden unless
# --archived or --all, and a new message from someone else un-archives the
# chat unless it is muted. rpc's methods of the same names answer with the
# same JSON as chatctl --json.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol dave

chat_with() {
	expect_exit 0 ctl alice create "$1"
	cat "$T/out"
}
b=$(chat_with bob)
c=$(chat_with carol)
d=$(chat_with dave)
expect_exit 0 ctl bob send "$b" "hello from bob
on two	lines"
sleep 0.01
expect_exit 0 ctl carol send "$c" "from carol"
sleep 0.01
expect_exit 0 ctl dave send "$d" "from dave"
expect_exit 0 ctl alice recv

# The last message: one line, its sender and time; unread counted.
expect_exit 0 ctl alice --json chats
jq -e --arg b "$b" '.[] | select(.chatId == $b) | .lastMessage.sender == "bob"
	and .lastMessage.text == "hello from bob on two lines" and (.lastMessage.at | test("^20"))
	and .unread == 1 and .pinned == false and .muted == false and .mutedUntil == null
	and .archived == false' "$T/out" >/dev/null || fail "bob's chat: $(cat "$T/out")"
[ "$(jq -r 'map(.chatId) | join(" ")' "$T/out")" = "$d $c $b" ] ||
	fail "not newest first: $(cat "$T/out")"
expect_exit 0 ctl alice chats
grep -F "$b" "$T/out" | grep -Eq '\(1 unread\)  [0-9]{2}:[0-9]{2}  bob: hello from bob on two lines$' ||
	fail "bob's chat line: $(cat "$T/out")"
# Her own message is the last one too; a chat with none shows none.
expect_exit 0 ctl alice send "$b" "hi bob"
expect_exit 0 ctl alice chats
expect_in "$T/out" "alice: hi bob"
expect_exit 0 ctl alice create @alice
expect_exit 0 ctl alice --json chats
jq -e '.[] | select(.kind == "self") | .lastMessage == null' "$T/out" >/dev/null ||
	fail "notes to self: $(cat "$T/out")"

# Pinned first, the newest pin first; unpinned back in activity order.
expect_exit 0 ctl alice --json pin "$c"
jq -e --arg c "$c" '.chatId == $c and .pinned == true' "$T/out" >/dev/null || fail "pin: $(cat "$T/out")"
expect_exit 0 ctl alice pin "$d"
expect_in "$T/out" "$d pinned"
expect_exit 0 ctl alice --json chats
[ "$(jq -r 'map(.chatId) | .[0:2] | join(" ")' "$T/out")" = "$d $c" ] ||
	fail "pins first: $(cat "$T/out")"
expect_exit 0 ctl alice pin "$c"
expect_exit 0 ctl alice unpin "$d"
expect_in "$T/out" "$d unpinned"
expect_exit 0 ctl alice --json chats
[ "$(jq -r 'map(.chatId) | join(" ")' "$T/out" | cut -d' ' -f1,3,4)" = "$c $b $d" ] ||
	fail "after unpin: $(cat "$T/out")"
expect_exit 0 ctl alice chats
head -n 1 "$T/out" | grep -qF "$c  direct  [pinned] alice,carol" || fail "pin marker: $(cat "$T/out")"
expect_exit 0 ctl alice unpin "$c"

# Mute: bad durations are usage errors; for a while it ends by itself.
expect_exit 2 ctl alice mute "$d" 1x
expect_in "$T/err" "no duration"
expect_exit 2 ctl alice mute "$d" off
expect_exit 2 ctl alice mute "$d" 2y
expect_exit 4 ctl alice mute ffffffffffffffff
expect_exit 0 ctl alice --json chats
jq -e --arg d "$d" '.[] | select(.chatId == $d) | .muted == false' "$T/out" >/dev/null ||
	fail "a refused mute muted: $(cat "$T/out")"
expect_exit 0 ctl alice --json mute "$d" 3s
jq -e --arg d "$d" '.chatId == $d and .muted == true and (.mutedUntil | test("^20.*Z$"))' \
	"$T/out" >/dev/null || fail "mute 3s: $(cat "$T/out")"
muted_at=$(date +%s)
expect_exit 0 ctl alice chats
grep -F "$d" "$T/out" | grep -qF "[muted]" || fail "mute marker: $(cat "$T/out")"
# A message of a muted chat says so; others do not.
expect_exit 0 ctl dave send "$d" "while muted"
expect_exit 0 ctl bob send "$b" "not muted"
expect_exit 0 ctl alice --json recv
jq -e -s '[.[] | select(.text == "while muted")][0].muted == true' "$T/out" >/dev/null ||
	fail "muted event: $(cat "$T/out")"
jq -e -s '[.[] | select(.text == "not muted")][0] | has("muted") | not' "$T/out" >/dev/null ||
	fail "unmuted event: $(cat "$T/out")"
[ $(($(date +%s) - muted_at)) -lt 3 ] || echo "prefs.sh: slow machine, the 3 s mute ran out early" >&2
muted() { ctl alice --json chats | jq -e --arg d "$d" '.[] | select(.chatId == $d) | .muted' >/dev/null; }
i=0
while muted; do
	i=$((i + 1)); [ $i -gt 200 ] && fail "the 3 s mute never ended"
	sleep 0.05
done
[ $(($(date +%s) - muted_at)) -ge 2 ] || fail "the 3 s mute ended early"
expect_exit 0 ctl alice --json chats
jq -e --arg d "$d" '.[] | select(.chatId == $d) | .mutedUntil == null' "$T/out" >/dev/null ||
	fail "expired mute: $(cat "$T/out")"
expect_exit 0 ctl alice mute "$d"
expect_in "$T/out" "$d muted"
expect_exit 0 ctl alice --json chats
jq -e --arg d "$d" '.[] | select(.chatId == $d) | .mutedUntil == "forever"' "$T/out" >/dev/null ||
	fail "mute for ever: $(cat "$T/out")"
expect_exit 0 ctl alice --json unmute "$d"
jq -e '.muted == false and .mutedUntil == null' "$T/out" >/dev/null || fail "unmute: $(cat "$T/out")"

# Archive: hidden from chats, shown by --archived (only) and --all.
expect_exit 0 ctl alice --json archive "$c"
jq -e '.archived == true' "$T/out" >/dev/null || fail "archive: $(cat "$T/out")"
expect_exit 0 ctl alice chats
expect_not_in "$T/out" "$c"
expect_in "$T/out" "$b"
expect_exit 0 ctl alice chats --archived
expect_in "$T/out" "$c"
expect_in "$T/out" "[archived]"
[ "$(count_lines "$T/out")" = 1 ] || fail "--archived: $(cat "$T/out")"
expect_exit 0 ctl alice --json chats --all
[ "$(jq length "$T/out")" = 4 ] || fail "--all: $(cat "$T/out")"
# Her own message leaves it archived; carol's un-archives it.
expect_exit 0 ctl alice send "$c" "from the archive"
expect_exit 0 ctl alice chats --archived
expect_in "$T/out" "$c"
expect_exit 0 ctl carol send "$c" "wake up"
expect_exit 0 ctl alice recv
expect_exit 0 ctl alice chats
expect_in "$T/out" "$c"
expect_in "$T/out" "carol: wake up"
# Archived and muted: it stays archived.
expect_exit 0 ctl alice archive "$c"
expect_exit 0 ctl alice mute "$c"
expect_exit 0 ctl carol send "$c" "still there?"
expect_exit 0 ctl alice recv
expect_exit 0 ctl alice chats --archived
expect_in "$T/out" "carol: still there?"
expect_exit 0 ctl alice unarchive "$c"
expect_in "$T/out" "$c unarchived"
expect_exit 0 ctl alice chats
expect_in "$T/out" "$c"

# rpc: the same methods, the same JSON; errors are coded.
expect_exit 0 ctl dave send "$d" "for the rpc"
cat >"$T/in" <<IN
{"jsonrpc":"2.0","id":1,"method":"mute","params":{"chat":"$d","duration":"1h"}}
{"jsonrpc":"2.0","id":2,"method":"pin","params":{"chat":"@dave"}}
{"jsonrpc":"2.0","id":3,"method":"archive","params":{"chat":"$b"}}
{"jsonrpc":"2.0","id":4,"method":"mute","params":{"chat":"$d","duration":"soon"}}
{"jsonrpc":"2.0","id":5,"method":"pin","params":{"chat":"ffffffffffffffff"}}
{"jsonrpc":"2.0","id":6,"method":"unarchive","params":{}}
{"jsonrpc":"2.0","id":7,"method":"chats"}
{"jsonrpc":"2.0","id":8,"method":"mute","params":{"chat":"$c","duration":"forever"}}
{"jsonrpc":"2.0","id":9,"method":"unpin","params":{"chat":"$d","extra":1}}
{"jsonrpc":"2.0","id":10,"method":"chats","params":{"all":1}}
{"jsonrpc":"2.0","id":11,"method":"chats","params":{"archived":true}}
{"jsonrpc":"2.0","id":12,"method":"chats","params":{"archived":1}}
IN
(cat "$T/in"; sleep 2) | ctl alice rpc >"$T/rpc" 2>"$T/err" || fail "rpc exited $?: $(cat "$T/err")"
r() { grep "\"id\":$1[,}]" "$T/rpc" | head -n 1; }
r 1 | jq -e --arg d "$d" '.result.chatId == $d and .result.muted == true
	and (.result.mutedUntil | test("Z$"))' >/dev/null || fail "rpc mute: $(r 1)"
r 2 | jq -e '.result.pinned == true and .result.lastMessage.sender == "dave"' >/dev/null ||
	fail "rpc pin: $(r 2)"
r 3 | jq -e '.result.archived == true' >/dev/null || fail "rpc archive: $(r 3)"
[ "$(r 4 | jq -r .error.code)" = -32602 ] || fail "rpc bad duration: $(r 4)"
[ "$(r 5 | jq -r .error.code)" = 4 ] || fail "rpc no such chat: $(r 5)"
[ "$(r 6 | jq -r .error.code)" = -32602 ] || fail "rpc no chat: $(r 6)"
# chats as chatctl lists them: archived ones with all or archived 1.
r 7 | jq -e --arg d "$d" --arg b "$b" '.result[0].chatId == $d and .result[0].pinned == true
	and (.result | map(select(.archived or .chatId == $b)) | length == 0)' >/dev/null ||
	fail "rpc chats: $(r 7)"
r 10 | jq -e '.result | length == 4 and (map(select(.archived)) | length == 1)' >/dev/null ||
	fail "rpc chats all: $(r 10)"
[ "$(r 11 | jq -r .error.code)" = -32602 ] || fail "rpc chats archived:true: $(r 11)"
r 12 | jq -e --arg b "$b" '.result | length == 1 and .[0].chatId == $b' >/dev/null ||
	fail "rpc chats archived: $(r 12)"
r 8 | jq -e '.result.mutedUntil == "forever"' >/dev/null || fail "rpc mute forever: $(r 8)"
[ "$(r 9 | jq -r .error.code)" = -32602 ] || fail "rpc unknown param: $(r 9)"
grep '"method":"message"' "$T/rpc" | jq -e 'select(.params.text == "for the rpc") | .params.muted == true' \
	>/dev/null || fail "rpc's notification of a muted chat: $(cat "$T/rpc")"
# What rpc set is what chatctl lists.
expect_exit 0 ctl alice --json chats --all
jq -e --arg b "$b" --arg d "$d" '(.[0].chatId == $d) and (.[] | select(.chatId == $b) | .archived)' \
	"$T/out" >/dev/null || fail "after rpc: $(cat "$T/out")"

# --help of the new commands: usage, exit 0, no home needed.
expect_exit 0 "$CHATCTL" --home "$T/none" mute --help
expect_in "$T/out" "usage: chatctl mute CHAT [DURATION|forever]"
expect_exit 0 "$CHATCTL" --home "$T/none" chats --help
expect_in "$T/out" "[--archived] [--all]"
expect_exit 2 ctl alice unpin
expect_in "$T/err" "name the chat"

# Sync: alice's other device learns her settings through her notes to self
# (PROTOCOL.md, "Chat settings"), the newest change winning; both ways.
link_device alice2 alice alice
expect_exit 0 ctl bob send "$b" "for both of alice's devices"
expect_exit 0 ctl alice2 recv
expect_exit 0 ctl alice recv
expect_exit 0 ctl alice2 --json chats --all
jq -e --arg b "$b" '.[] | select(.chatId == $b) | .pinned == false' "$T/out" >/dev/null ||
	fail "alice2 before: $(cat "$T/out")"
expect_exit 0 ctl alice pin "$b"
[ -s "$T/err" ] && fail "pin: $(cat "$T/err")"
expect_exit 0 ctl alice mute "$b" 2h
expect_exit 0 ctl alice2 recv
expect_not_in "$T/out" "{"
expect_exit 0 ctl alice2 --json chats --all
jq -e --arg b "$b" '.[0].chatId == $b and .[0].pinned and .[0].muted and .[0].archived == false
	and (.[0].mutedUntil | test("Z$"))' "$T/out" >/dev/null || fail "alice2 after: $(cat "$T/out")"
# The settings are no message: not in the notes' history, not counted.
expect_exit 0 ctl alice2 --json history @me
[ "$(jq length "$T/out")" = 0 ] || fail "alice2's notes: $(cat "$T/out")"
# Back: alice2 unpins and archives; alice gets it.
expect_exit 0 ctl alice2 unpin "$b"
expect_exit 0 ctl alice2 archive "$b"
expect_exit 0 ctl alice recv
expect_exit 0 ctl alice --json chats --all
jq -e --arg b "$b" '.[] | select(.chatId == $b) | .pinned == false and .archived and .muted' \
	"$T/out" >/dev/null || fail "alice after alice2's change: $(cat "$T/out")"

# Offline: the change is made here, and waits in the outbox (shown as such)
# for the next command that connects; alice2 gets it then.
kill_server
expect_exit 0 ctl alice --timeout 2 pin "$b"
expect_in "$T/err" "your other devices learn it when chatctl next connects"
expect_exit 0 ctl alice --json chats --all
jq -e --arg b "$b" '.[0].chatId == $b and .[0].pinned' "$T/out" >/dev/null || fail "offline pin: $(cat "$T/out")"
expect_exit 0 ctl alice --json outbox
jq -e '.[] | select(.type == "settings") | .state == "pending"' "$T/out" >/dev/null || fail "outbox: $(cat "$T/out")"
expect_exit 0 ctl alice outbox
expect_in "$T/out" "* chat settings for your other devices [pending]"
restart_server
expect_exit 0 ctl alice recv
expect_exit 0 ctl alice --json outbox
[ "$(jq length "$T/out")" = 0 ] || fail "outbox after reconnecting: $(cat "$T/out")"
expect_exit 0 ctl alice2 recv
expect_exit 0 ctl alice2 --json chats --all
jq -e --arg b "$b" '.[0].chatId == $b and .[0].pinned' "$T/out" >/dev/null ||
	fail "alice2 after the outbox: $(cat "$T/out")"

# No notes to self yet (carol never made them): the first change makes
# them, and her other device, which learns of the notes only with the
# settings, applies them.
link_device carol2 carol carol
expect_exit 0 ctl alice send "$c" "for both of carol's devices"
expect_exit 0 ctl carol2 recv
expect_exit 0 ctl carol recv
expect_exit 0 ctl carol --json chats --all
jq -e 'map(select(.kind == "self")) | length == 0' "$T/out" >/dev/null ||
	fail "carol has notes to self already: $(cat "$T/out")"
expect_exit 0 ctl carol mute "$c"
[ -s "$T/err" ] && fail "carol's mute: $(cat "$T/err")"
expect_exit 0 ctl carol pin "$c"
[ -s "$T/err" ] && fail "carol's pin: $(cat "$T/err")"
expect_exit 0 ctl carol2 recv
expect_exit 0 ctl carol2 --json chats --all
jq -e --arg c "$c" '.[] | select(.chatId == $c) | .pinned and .mutedUntil == "forever"' \
	"$T/out" >/dev/null || fail "carol2 after carol's first settings: $(cat "$T/out")"
expect_exit 0 ctl carol2 --json history @me
[ "$(jq length "$T/out")" = 0 ] || fail "carol2's notes: $(cat "$T/out")"

# Offline with no notes to self (dave): the change is owed, and the next
# connection makes the notes and sends it.
link_device dave2 dave dave
expect_exit 0 ctl alice send "$d" "for both of dave's devices"
expect_exit 0 ctl dave2 recv
expect_exit 0 ctl dave recv
kill_server
expect_exit 0 ctl dave --timeout 2 archive "$d"
expect_in "$T/err" "your other devices learn it when chatctl next connects"
restart_server
expect_exit 0 ctl dave recv
expect_exit 0 ctl dave2 recv
expect_exit 0 ctl dave2 --json chats --all
jq -e --arg d "$d" '.[] | select(.chatId == $d) | .archived' "$T/out" >/dev/null ||
	fail "dave2 after dave's offline archive: $(cat "$T/out")"
# Sent once: nothing owed any more, no second notes to self.
expect_exit 0 ctl dave recv
expect_exit 0 ctl dave --json chats --all
jq -e 'map(select(.kind == "self")) | length == 1' "$T/out" >/dev/null ||
	fail "dave's notes to self: $(cat "$T/out")"
