# The message features of every day, end to end, as people use them: two people
# and a group of three, each with a second device, through chatctl and chat-tui
# interchangeably (one device of a user in chat-tui, the other in chatctl),
# with a server restart in the middle and devices offline while things happen.
#
#   alice: alice (chat-tui)   alice2 (chatctl, offline through the direct chat)
#   bob:   bob (chatctl)      bob2 (chat-tui)
#   carol: carol (chatctl)    carol2 (chatctl, offline until the very end)
#
# Replies, reactions, typing, edits, delete for everyone and for me, mentions,
# group administration, notes to self, search, disappearing messages and
# blocking; each one done on one program and seen on the others, and the
# offline devices catch up on all of it.
# timeout: 300
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register alice bob carol
link_device alice2 alice alice
link_device bob2 bob bob
link_device carol2 carol carol
# hist HOME CHAT: HOME's history of CHAT as JSON, in $T/out.
hist() {
	expect_exit 0 "$CHATCTL" --home "$T/$1" --json history "$2"
}
# msg_id HOME CHAT TEXT: the id of the message with TEXT in HOME's history.
msg_id() {
	hist "$1" "$2"
	jq -r --arg t "$3" '[.[] | select(.text == $t)][0].messageId // empty' "$T/out"
}

tui_start alice 100x30
tui_start bob2 100x30
tui_wait alice "[online] alice"
tui_wait bob2 "[online] bob"

### Two people: alice in chat-tui, bob in chatctl and on his second device.
tui_type alice "/create bob"
tui_keys alice Enter
tui_wait alice "│ bob"
tui_type alice "lunch at noon?"
tui_keys alice Enter
tui_wait alice "alice: lunch at noon?"

# (The chat list shows the message as soon as it is stored, before it is
# sent: recv until it is there.)
i=0
until ctl bob --json recv >"$T/out" 2>"$T/err" && grep -q '"type":"message"' "$T/out"; do
	i=$((i + 1)); [ $i -gt 50 ] && break; sleep 0.1
done
d=$(jq -r 'select(.type=="message") | .chatId' "$T/out")
m1=$(jq -r 'select(.type=="message") | .messageId' "$T/out")
[ -n "$d" ] && [ -n "$m1" ] || fail "bob did not get alice's message: $(cat "$T/out")"
jq -e 'select(.type=="message") | .text == "lunch at noon?" and .sender == "alice"' "$T/out" >/dev/null ||
	fail "bob got: $(cat "$T/out")"

# A reply from bob's second device in chat-tui, quoting alice's message.
tui_wait bob2 "alice (1)"
tui_type bob2 "/open alice"
tui_keys bob2 Enter
tui_wait bob2 "alice: lunch at noon?"
tui_type bob2 "/reply 1 yes, at the usual place"
tui_keys bob2 Enter
# Drawn with its quote on a row above: "bob: > alice: lunch at noon?".
tui_wait bob2 "bob: > alice: lunch at noon?"
tui_wait alice "bob: > alice: lunch at noon?"
tui_wait alice "yes, at the usual place"

# A reaction from bob's chatctl, counted on alice's screen.
expect_exit 0 ctl bob react "$d" "$m1" "👍"
tui_wait alice "lunch at noon? (read)  [👍 1]"
tui_wait bob2 "[👍 1]"

# Typing from chatctl, in chat-tui's header; and gone when bob stops.
expect_exit 0 ctl bob typing "$d"
tui_wait alice "bob  typing…"
expect_exit 0 ctl bob typing --stop "$d"
tui_wait_gone alice "typing…"

# alice edits her question in chat-tui (message 2: the reply is the newest).
tui_type alice "/edit 2 lunch at one?"
tui_keys alice Enter
tui_wait alice "alice: lunch at one? (edited)"
tui_wait bob2 "alice: lunch at one? (edited)"

# bob sends to the wrong chat and deletes it for everyone, from chatctl.
expect_exit 0 ctl bob send "$d" "the code is 4711"
oops=$(cat "$T/out")
tui_wait alice "bob: the code is 4711"
expect_exit 0 ctl bob delete --for-everyone "$d" "$oops"
tui_wait alice "bob: message deleted"
tui_wait bob2 "bob: message deleted"
tui_screen alice | grep -q "4711" && fail "alice still shows the deleted text"

# Delete for me, on bob's chatctl device only: his chat-tui device keeps it.
expect_exit 0 ctl bob recv
reply=$(msg_id bob "$d" "yes, at the usual place")
[ -n "$reply" ] || fail "bob's device lacks his own reply: $(cat "$T/out")"
expect_exit 0 ctl bob delete "$d" "$reply"
hist bob "$d"
expect_not_in "$T/out" "usual place"
tui_screen bob2 | grep -q "yes, at the usual place" || fail "delete for me reached bob's other device"

# alice's second device was offline through all of it: it catches up, in order,
# with the edit applied, the reaction counted, the reply's quote and the
# deleted message as deleted.
expect_exit 0 ctl alice2 recv
hist alice2 "$d"
jq -e --arg m "$m1" '.[] | select(.messageId==$m) | .text == "lunch at one?" and .edited == true
	and .reactions == [{"emoji":"👍","count":1,"users":["bob"]}]' "$T/out" >/dev/null ||
	fail "alice2's history of the question: $(cat "$T/out")"
jq -e --arg m "$m1" '.[] | select(.text=="yes, at the usual place") | .replyTo.id == $m
	and .replyTo.sender == "alice"' "$T/out" >/dev/null || fail "alice2's reply: $(cat "$T/out")"
jq -e --arg o "$oops" '.[] | select(.messageId==$o) | .deleted == true and .text == ""' "$T/out" >/dev/null ||
	fail "alice2's deleted message: $(cat "$T/out")"
expect_not_in "$T/out" "4711"
expect_exit 0 "$CHATCTL" --home "$T/alice2" --json search usual place
[ "$(jq -r '.[0].text' "$T/out")" = "yes, at the usual place" ] || fail "alice2's search: $(cat "$T/out")"

### A group of three, made while the server is away.
stop_server
tui_wait alice "reconnecting"
expect_exit 3 ctl carol create --name trio alice bob
restart_server
expect_exit 0 ctl carol create --name trio alice bob
g=$(cat "$T/out")
tui_wait alice "[online] alice" 40
tui_wait bob2 "[online] bob" 40
# Written while the server is away again: pending in carol's outbox, sent
# when it is back.
stop_server
expect_exit 3 ctl carol send "$g" "plans for friday?"
hist carol "$g"
[ "$(jq -r '[.[] | select(.text=="plans for friday?") | .state] | join(",")' "$T/out")" = pending ] ||
	fail "carol's outbox: $(cat "$T/out")"
restart_server
expect_exit 0 ctl carol recv
tui_wait alice "trio" 40
tui_wait bob2 "trio" 40

# Administration from chatctl, seen in chat-tui.
expect_exit 0 ctl carol promote "$g" bob
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob rename "$g" "friday crew"
expect_exit 0 ctl bob describe "$g" "who brings what"
tui_wait alice "friday crew" # the rename reached alice's chat list
tui_type alice "/open friday crew"
tui_keys alice Enter
tui_wait alice "carol: plans for friday?"
tui_wait alice "carol made bob an admin"
tui_wait alice 'bob renamed the group to "friday crew"'
tui_wait alice 'bob changed the description to "who brings what"'

# A mention from chat-tui: flagged for carol, not for bob.
tui_type alice "@carol can you book the table?"
tui_keys alice Enter
tui_wait alice "alice: @carol can you book the table?"
expect_exit 0 ctl carol --json recv
jq -e 'select(.type=="message" and .text=="@carol can you book the table?") | .mentionsMe == true' \
	"$T/out" >/dev/null || fail "carol's mention: $(cat "$T/out")"
expect_exit 0 ctl bob --json recv
jq -e 'select(.type=="message" and .text=="@carol can you book the table?") | .mentionsMe == false' \
	"$T/out" >/dev/null || fail "bob's copy of the mention: $(cat "$T/out")"
mention=$(jq -r 'select(.type=="message" and .text=="@carol can you book the table?") | .messageId' "$T/out")

# alice corrects it from her other device (chatctl); her chat-tui shows it.
expect_exit 0 ctl alice2 recv
expect_exit 0 ctl alice2 edit "$g" "$mention" "@carol can you book for four?"
tui_wait alice "alice: @carol can you book for four? (edited)"
tui_wait bob2 "friday crew"

# A reaction from bob's chat-tui to carol's question.
tui_type bob2 "/open friday crew"
tui_keys bob2 Enter
tui_wait bob2 "alice: @carol can you book for four? (edited)"
tui_type bob2 "/react 2 🎉"
tui_keys bob2 Enter
tui_wait alice "carol: plans for friday?  [🎉 1]"
expect_exit 0 ctl carol --json recv
jq -e -s '.[] | select(.type=="reaction") | .user == "bob" and .emoji == "🎉"' "$T/out" >/dev/null ||
	fail "carol did not get bob's reaction: $(cat "$T/out")"

# Search in chat-tui finds the edited text, not the old one.
tui_type alice "/search four"
tui_keys alice Enter
tui_wait alice "1. friday crew, "
tui_wait alice "you: @carol can you book for [four]?"
tui_type alice "/search table"
tui_keys alice Enter
tui_wait alice "no message here has all these words"

### Notes to self: bob's chatctl writes, his chat-tui device has them.
expect_exit 0 ctl bob send @me "buy bread"
tui_type bob2 "/open @me"
tui_keys bob2 Enter
tui_wait bob2 "bob: buy bread"
expect_exit 0 ctl alice2 recv
expect_not_in "$T/out" "buy bread"

### After one more restart, carol's second device, offline all along, has the
### group as everyone else sees it.
restart_server
expect_exit 0 ctl carol2 recv
hist carol2 "$g"
[ "$(jq -r '[.[] | select(.type == "message") | .text] | join("|")' "$T/out")" = \
	"plans for friday?|@carol can you book for four?" ] || fail "carol2's group history: $(cat "$T/out")"
jq -e '.[] | select(.text=="@carol can you book for four?") | .edited == true and .mentionsMe == true' \
	"$T/out" >/dev/null || fail "carol2's mention: $(cat "$T/out")"
jq -e '.[] | select(.text=="plans for friday?") | .reactions == [{"emoji":"🎉","count":1,"users":["bob"]}]
	and .outgoing == true' "$T/out" >/dev/null || fail "carol2's own message: $(cat "$T/out")"
expect_exit 0 "$CHATCTL" --home "$T/carol2" --json chats
jq -e --arg g "$g" '.[] | select(.chatId==$g) | .name == "friday crew"' "$T/out" >/dev/null ||
	fail "carol2's chats: $(cat "$T/out")"
expect_exit 0 "$CHATCTL" --home "$T/carol2" --json members "$g"
jq -e '[.participants[] | select(.admin) | .user] | sort == ["bob","carol"]' "$T/out" >/dev/null ||
	fail "carol2's admins: $(cat "$T/out")"

### Disappearing messages, turned on in chat-tui: chatctl and the other
### device keep the timer, and a message vanishes from every screen and
### history; bob turns it off from chatctl.
tui_wait alice "[online] alice" 40 # back after the restart
tui_wait bob2 "[online] bob" 40
tui_type alice "/open bob"
tui_keys alice Enter
tui_type alice "/disappear 30s"
tui_keys alice Enter
tui_wait alice "* alice set disappearing messages to 30 seconds"
tui_wait alice "⏱ 30s"
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob chats
expect_in "$T/out" "disappearing 30s"
tui_type bob2 "/open alice"
tui_keys bob2 Enter
tui_wait bob2 "* alice set disappearing messages to 30 seconds"
expect_exit 0 ctl bob send "$d" "this one vanishes"
sent=$(date +%s)
tui_wait alice "bob: this one vanishes"
tui_wait bob2 "bob: this one vanishes"
left=$((sent + 30 - $(date +%s)))
[ $left -gt 0 ] && sleep $left
tui_wait_gone alice "this one vanishes"
tui_wait_gone bob2 "this one vanishes"
hist bob "$d"
expect_not_in "$T/out" "this one vanishes"
expect_in "$T/out" "lunch at one?" # what came before the timer stays
expect_exit 0 ctl bob disappear "$d" off
tui_wait alice "* bob turned off disappearing messages"
tui_wait_gone alice "⏱"

### Blocking: bob blocks carol from chatctl; his chat-tui device knows at
### once, and nothing of hers reaches either of his devices while the others
### get it; he unblocks her from chat-tui, and her next message comes.
expect_exit 0 ctl bob block carol
tui_type bob2 "/blocked"
tui_keys bob2 Enter
tui_wait bob2 "blocked (1): carol"
expect_exit 0 ctl carol send "$g" "anyone for tennis?"
expect_exit 0 ctl alice2 recv
expect_in "$T/out" "anyone for tennis?"
expect_exit 0 ctl bob recv
expect_not_in "$T/out" "anyone for tennis?"
tui_type bob2 "/open friday crew"
tui_keys bob2 Enter
tui_wait bob2 "alice: @carol can you book for four? (edited)"
sleep 0.5
tui_screen bob2 >"$T/screen"
expect_not_in "$T/screen" "anyone for tennis?"
tui_type bob2 "/unblock carol"
tui_keys bob2 Enter
tui_wait bob2 "unblock: done"
expect_exit 0 ctl carol send "$g" "tennis at five, then"
tui_wait bob2 "carol: tennis at five, then"
expect_exit 0 ctl bob recv
expect_in "$T/out" "tennis at five, then"
expect_not_in "$T/out" "anyone for tennis?"

tui_keys alice C-c
tui_keys bob2 C-c
tui_wait alice "[exit 0]"
tui_wait bob2 "[exit 0]"
tui_check_asan
stop_server
