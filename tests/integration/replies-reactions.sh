# Replies and reactions end to end (PROTOCOL.md, "Replies and reactions"):
# alice and bob in a direct chat, then a group of three where carol has a
# second device that is offline while it all happens and catches up after a
# server restart. Every device ends with the same quotes and the same
# reactions, one per person per message, the latest winning; reactions are
# never messages of the history.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol

# ---- direct -----------------------------------------------------------------
expect_exit 0 ctl alice --json create bob
d=$(jq -r .chatId "$T/out")
expect_exit 0 ctl alice send "$d" "are we still on for tonight? I was thinking of the place by the river, the one with the long tables"
m1=$(cat "$T/out")
expect_exit 0 ctl bob recv

# bob replies (the message by a prefix, as history prints it) and reacts.
expect_exit 0 ctl bob reply "$d" "$(echo "$m1" | cut -c1-8)" "-yes, 8 works"
r1=$(cat "$T/out")
expect_exit 0 ctl bob react "$d" "$m1" "👍"

expect_exit 0 ctl alice --json recv
[ "$(jq -r "select(.type != \"receipt\") | .type" "$T/out" | tr "\n" " ")" = "message reaction " ] || fail "alice got: $(cat "$T/out")"
jq -e -s --arg m "$m1" '.[] | select(.type=="message") | .text == "-yes, 8 works" and .replyTo.id == $m
	and .replyTo.sender == "alice" and (.replyTo.preview | length) <= 100
	and (.replyTo.preview | startswith("are we still on for tonight?"))' "$T/out" >/dev/null ||
	fail "the reply as received: $(cat "$T/out")"
jq -e -s --arg m "$m1" '.[] | select(.type=="reaction") | .target == $m and .user == "bob" and .emoji == "👍"' \
	"$T/out" >/dev/null || fail "the reaction as received: $(cat "$T/out")"

# alice reacts, changes her mind; bob's reaction stays. History: two messages.
expect_exit 0 ctl alice react "$d" "$r1" "❤"
expect_exit 0 ctl alice react "$d" "$m1" "😂"
expect_exit 0 ctl alice react "$d" "$m1" "👍"
expect_exit 0 ctl alice --json history "$d"
[ "$(jq length "$T/out")" = 2 ] || fail "reactions listed as messages: $(cat "$T/out")"
[ "$(jq -c --arg m "$m1" '.[] | select(.messageId==$m) | .reactions' "$T/out")" = \
	'[{"emoji":"👍","count":2,"users":["alice","bob"]}]' ] || fail "alice's m1: $(cat "$T/out")"
expect_exit 0 ctl alice --json chats
[ "$(jq -r --arg d "$d" '.[] | select(.chatId==$d) | .messages' "$T/out")" = 2 ] || fail "count: $(cat "$T/out")"
expect_exit 0 ctl alice history "$d"
expect_in "$T/out" "bob: > alice: are we still on for tonight?"
expect_in "$T/out" "    -yes, 8 works  ❤ 1"
expect_in "$T/out" "👍 2"

# bob sees the same, and takes his back: alice sees 👍 1.
expect_exit 0 ctl bob --json recv
[ "$(jq -r 'select(.type=="reaction") | .emoji' "$T/out" | tr '\n' ' ')" = "❤ 😂 👍 " ] ||
	fail "bob's reaction events: $(cat "$T/out")"
expect_exit 0 ctl bob --json history "$d"
[ "$(jq -c --arg m "$m1" '.[] | select(.messageId==$m) | .reactions' "$T/out")" = \
	'[{"emoji":"👍","count":2,"users":["alice","bob"]}]' ] || fail "bob's m1: $(cat "$T/out")"
expect_exit 0 ctl bob react --remove "$d" "$m1"
expect_exit 0 ctl alice recv
expect_in "$T/out" "bob took back their reaction to"
expect_exit 0 ctl alice --json history "$d"
[ "$(jq -c --arg m "$m1" '.[] | select(.messageId==$m) | .reactions' "$T/out")" = \
	'[{"emoji":"👍","count":1,"users":["alice"]}]' ] || fail "after removal: $(cat "$T/out")"

# A reaction written with the server down shows at once; discarded, the one
# in force shows again.
stop_server
expect_exit 3 ctl alice react "$d" "$m1" "🙈"
expect_exit 0 ctl alice --json history "$d"
[ "$(jq -c --arg m "$m1" '.[] | select(.messageId==$m) | [.reactions[].emoji]' "$T/out")" = '["🙈"]' ] ||
	fail "alice's pending reaction: $(cat "$T/out")"
expect_exit 0 ctl alice --json outbox
expect_exit 0 ctl alice discard "$(jq -r '.[0].messageId' "$T/out")"
expect_exit 0 ctl alice --json history "$d"
[ "$(jq -c --arg m "$m1" '.[] | select(.messageId==$m) | [.reactions[].emoji]' "$T/out")" = '["👍"]' ] ||
	fail "alice's discarded reaction: $(cat "$T/out")"
start_server "$port"

# Refused before anything is sent: a message not in the store, a bad emoji.
expect_exit 4 ctl bob reply "$d" 0123456789abcdef0123456789abcdef "to nothing"
expect_exit 2 ctl bob react "$d" "$m1" "$(printf 'a\tb')"
expect_exit 2 ctl bob react "$d" "$m1" "123456789012345678901234567890123"
expect_exit 2 ctl bob react --remove "$d" "$m1" "👍"
expect_exit 0 ctl bob outbox
[ "$(count_lines "$T/out")" = 0 ] || fail "left in the outbox: $(cat "$T/out")"

# rpc: reply and react, answered with the stored message.
printf '%s\n' \
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"reply\",\"params\":{\"chat\":\"$d\",\"message\":\"$r1\",\"text\":\"see you\"}}" \
	"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"react\",\"params\":{\"chat\":\"$d\",\"message\":\"$r1\",\"emoji\":\"🎉\"}}" \
	>"$T/rpc.in"
expect_exit 0 ctl alice rpc <"$T/rpc.in"
jq -e -s --arg r "$r1" '.[] | select(.id==1) | .result.replyTo.id == $r and .result.replyTo.sender == "bob"' \
	"$T/out" >/dev/null || fail "rpc reply: $(cat "$T/out")"
jq -e -s '.[] | select(.id==2) | .result.messageId | length == 32' "$T/out" >/dev/null || fail "rpc react: $(cat "$T/out")"
expect_exit 0 ctl bob --json history "$d"
[ "$(jq -c --arg r "$r1" '.[] | select(.messageId==$r) | [.reactions[].emoji]' "$T/out")" = '["❤"]' ] ||
	fail "bob before receiving: $(cat "$T/out")"
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob --json history "$d"
[ "$(jq -c --arg r "$r1" '.[] | select(.messageId==$r) | .reactions' "$T/out")" = \
	'[{"emoji":"🎉","count":1,"users":["alice"]}]' ] || fail "bob's r1 after rpc: $(cat "$T/out")"

# ---- bodies made by hand (chat-probe seal, as alice's client would seal them)
# A reaction that arrives before its message (the server numbered it first)
# waits for it; malformed replies and reactions are undecryptable: reported
# once, kept as such, acked.
hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
id() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
x=$(id); rx=$(id); b1=$(id); b2=$(id); b3=$(id)
long=$(head -c 101 /dev/zero | tr '\0' p)
seal() { "$PROBE" seal "$T/alice" "$d" "$1" "$2" || fail "seal: $1 $2"; }
{
	echo "{\"id\":1,\"type\":\"sendMessage\",\"chatId\":\"$d\",\"messageId\":\"$rx\",\"envelopes\":$(seal "$rx" "06$(hex "{\"target\":\"$x\",\"emoji\":\"🌅\"}")")}"
	echo "{\"id\":2,\"type\":\"sendMessage\",\"chatId\":\"$d\",\"messageId\":\"$x\",\"envelopes\":$(seal "$x" "01$(hex "the sun came up")")}"
	echo "{\"id\":3,\"type\":\"sendMessage\",\"chatId\":\"$d\",\"messageId\":\"$b1\",\"envelopes\":$(seal "$b1" "06$(hex "{\"target\":\"$x\",\"emoji\":\"123456789012345678901234567890123\"}")")}"
	echo "{\"id\":4,\"type\":\"sendMessage\",\"chatId\":\"$d\",\"messageId\":\"$b2\",\"envelopes\":$(seal "$b2" "05$(hex "{\"text\":\"hi\",\"replyTo\":{\"id\":\"$x\",\"sender\":\"bob\",\"preview\":\"$long\"}}")")}"
	echo "{\"id\":5,\"type\":\"sendMessage\",\"chatId\":\"$d\",\"messageId\":\"$b3\",\"envelopes\":$(seal "$b3" "06$(hex "{\"target\":\"$x\",\"emoji\":\"a\\u0007\"}")")}"
} >"$T/in"
"$PROBE" raw --home "$T/alice" "$URL" <"$T/in" >"$T/raw.out" 2>&1 || fail "probe: $(cat "$T/raw.out")"
[ "$(grep -c '"ok":true' "$T/raw.out")" = 6 ] || fail "the server refused: $(cat "$T/raw.out")"
expect_exit 0 ctl bob --json recv
[ "$(jq -r "select(.type != \"receipt\" and .undecryptable != true) | .type" "$T/out" | tr '\n' ' ')" = \
	"reaction message " ] || fail "bob got: $(cat "$T/out")"
jq -e -s --arg x "$x" '.[] | select(.messageId==$x) | .reactions == [{"emoji":"🌅","count":1,"users":["alice"]}]' \
	"$T/out" >/dev/null || fail "the message, when it came: $(cat "$T/out")"
for m in "$b1" "$b2" "$b3"; do
	[ "$(grep -c "$m" "$T/err")" = 1 ] || fail "$m not reported once: $(cat "$T/err")"
done
expect_in "$T/err" "its reaction does not read"
expect_in "$T/err" "its reply does not read"
expect_exit 0 ctl bob --json history "$d"
[ "$(jq -c --arg x "$x" '.[] | select(.messageId==$x) | .reactions' "$T/out")" = \
	'[{"emoji":"🌅","count":1,"users":["alice"]}]' ] || fail "the early reaction: $(cat "$T/out")"
[ "$(jq '[.[] | select(.undecryptable == true)] | length' "$T/out")" = 3 ] || fail "malformed: $(cat "$T/out")"
expect_exit 0 ctl bob recv
[ ! -s "$T/out" ] && [ ! -s "$T/err" ] || fail "came again: $(cat "$T/out" "$T/err")"

# ---- group, with carol's second device offline --------------------------------
link_device carol2 carol carol
expect_exit 0 ctl alice --json create --name trip bob carol
g=$(jq -r .chatId "$T/out")
expect_exit 0 ctl alice send "$g" "plan: leave at 9"
gm=$(cat "$T/out")
for h in bob carol carol2; do expect_exit 0 ctl $h recv; done
# From here carol2 receives nothing until the end.
expect_exit 0 ctl bob react "$g" "$gm" "👍"
expect_exit 0 ctl carol react "$g" "$gm" "❤"
restart_server
expect_exit 0 ctl carol recv
expect_exit 0 ctl carol reply "$g" "$gm" "I'll bring snacks"
gr=$(cat "$T/out")
expect_exit 0 ctl carol react "$g" "$gm" "👍"
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob react "$g" "$gr" "🍪"

# Everyone who was online, and carol2 once it comes back, sees the same.
gm_want='[{"emoji":"👍","count":2,"users":["bob","carol"]}]'
for h in alice bob carol carol2; do
	expect_exit 0 ctl $h recv
	expect_exit 0 ctl $h --json history "$g"
	[ "$(jq '[.[] | select(.type=="message")] | length' "$T/out")" = 2 ] || fail "$h's history: $(cat "$T/out")"
	[ "$(jq -c --arg m "$gm" '.[] | select(.messageId==$m) | .reactions' "$T/out")" = "$gm_want" ] ||
		fail "$h sees on gm: $(cat "$T/out")"
	jq -e --arg r "$gr" --arg m "$gm" '.[] | select(.messageId==$r) | .replyTo.id == $m and
		.replyTo.sender == "alice" and .replyTo.preview == "plan: leave at 9" and
		.reactions == [{"emoji":"🍪","count":1,"users":["bob"]}]' "$T/out" >/dev/null ||
		fail "$h sees the reply: $(cat "$T/out")"
done
# carol's own reply is hers on both her devices.
expect_exit 0 ctl carol2 --json history "$g"
[ "$(jq -r --arg r "$gr" '.[] | select(.messageId==$r) | .outgoing' "$T/out")" = true ] ||
	fail "carol2: the reply is not hers: $(cat "$T/out")"

# A message of another chat is not this chat's to quote or react to.
expect_exit 2 ctl bob reply "$d" "$gm" "wrong chat"
expect_in "$T/err" "not in this chat"
expect_exit 2 ctl bob react "$d" "$gm" "👍"

# Written while the server is down: a reply and a change of reaction wait in
# the outbox (the reaction shows here at once), and go out in order with the
# next connection; everyone ends with the change.
stop_server
expect_exit 3 ctl bob reply "$g" "$gr" "and I'll bring cups"
expect_exit 3 ctl bob react "$g" "$gm" "🚗"
expect_exit 0 ctl bob --json outbox
[ "$(jq -r '.[].type' "$T/out" | tr '\n' ' ')" = "message reaction " ] || fail "bob's outbox: $(cat "$T/out")"
jq -e --arg m "$gm" '.[] | select(.type=="reaction") | .target == $m and .emoji == "🚗" and
	.state == "pending"' "$T/out" >/dev/null || fail "bob's pending reaction: $(cat "$T/out")"
expect_exit 0 ctl bob outbox
expect_in "$T/out" "bob reacts 🚗 to"
expect_exit 0 ctl bob --json history "$g"
[ "$(jq -c --arg m "$gm" '.[] | select(.messageId==$m) | [.reactions[] | [.emoji, .users]]' "$T/out")" = \
	'[["👍",["carol"]],["🚗",["bob"]]]' ] || fail "bob's own pending reaction: $(cat "$T/out")"
start_server "$port"
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob outbox
[ "$(count_lines "$T/out")" = 0 ] || fail "bob's outbox after: $(cat "$T/out")"
for h in alice bob carol carol2; do
	expect_exit 0 ctl $h recv
	expect_exit 0 ctl $h --json history "$g"
	[ "$(jq -c --arg m "$gm" '.[] | select(.messageId==$m) | [.reactions[] | [.emoji, .users]]' "$T/out")" = \
		'[["👍",["carol"]],["🚗",["bob"]]]' ] || fail "$h after bob's outbox: $(cat "$T/out")"
	[ "$(jq -r '.[-1] | .text + "/" + .replyTo.sender' "$T/out")" = "and I'll bring cups/carol" ] ||
		fail "$h's last: $(cat "$T/out")"
done

# A reaction to a message a device never had (carol3 joins after it): kept,
# shown nowhere, acked; and carol3 cannot react to what it does not have.
link_device carol3 carol carol
expect_exit 0 ctl alice react "$g" "$gm" "🎉"
expect_exit 0 ctl carol3 --json recv
jq -e -s --arg m "$gm" '.[] | select(.type=="reaction") | .target == $m' "$T/out" >/dev/null ||
	fail "carol3 got: $(cat "$T/out")"
expect_exit 0 ctl carol3 --json history "$g"
[ "$(jq '[.[] | select(.type=="message")] | length' "$T/out")" = 0 ] || fail "carol3's history: $(cat "$T/out")"
expect_exit 0 ctl carol3 --json recv
[ "$(count_lines "$T/out")" = 0 ] || fail "carol3 got it again: $(cat "$T/out")"
expect_exit 4 ctl carol3 react "$g" "$gm" "👍"
# A reply to that message shows its quote there all the same.
expect_exit 0 ctl bob reply "$g" "$gm" "9 is early"
expect_exit 0 ctl carol3 --json recv
expect_exit 0 ctl carol3 --json history "$g"
jq -e --arg m "$gm" '.[-1] | .text == "9 is early" and .replyTo.id == $m and
	.replyTo.sender == "alice" and .replyTo.preview == "plan: leave at 9"' "$T/out" >/dev/null ||
	fail "carol3's reply without its message: $(cat "$T/out")"
expect_exit 0 ctl carol3 history "$g"
expect_in "$T/out" "bob: > alice: plan: leave at 9"

stop_server
