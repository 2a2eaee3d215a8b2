# chatctl search: full-text search of the home's own store, through the real
# programs. Words, prefixes, case and accents; newest first; --chat and
# --limit; text and --json (with the snippet); an attachment's message found
# by its text; what the user types never fails as a query (quotes, operators,
# unbalanced parentheses); rpc's search; and no server needed.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol
expect_exit 0 ctl alice create bob
cb=$(cat "$T/out")
expect_exit 0 ctl alice create carol
cc=$(cat "$T/out")

expect_exit 0 ctl alice send @bob "Lunch on Friday at the Café?"
expect_exit 0 ctl alice send @bob "nothing to see"
echo "holiday pictures" >"$T/beach.txt"
expect_exit 0 ctl alice send @bob "the photos from Lisbon" --attach "$T/beach.txt"
expect_exit 0 ctl alice send @carol "lunch with carol,
friday too"
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob send @alice "friday works"
expect_exit 0 ctl alice recv

# alice's own messages and what she received: newest first, every chat.
expect_exit 0 ctl alice search friday
[ "$(wc -l <"$T/out")" -eq 3 ] || fail "friday: $(cat "$T/out")"
head -n 1 "$T/out" | grep -q "bob: \[friday\] works" || fail "newest first: $(cat "$T/out")"
expect_in "$T/out" "alice: Lunch on [Friday] at the Café?"
expect_in "$T/out" "$cc"
# One line a hit, the text's line breaks as spaces.
expect_in "$T/out" "alice: lunch with carol, [friday] too"
# Prefixes, case and accents; every word needed.
expect_exit 0 ctl alice --json search LUN cafe
[ "$(jq length "$T/out")" = 1 ] || fail "LUN cafe: $(cat "$T/out")"
[ "$(jq -r '.[0].chatId' "$T/out")" = "$cb" ] || fail "chat: $(cat "$T/out")"
[ "$(jq -r '.[0].snippet' "$T/out")" = "[Lunch] on Friday at the [Café]?" ] ||
	fail "snippet: $(cat "$T/out")"
[ "$(jq -r '.[0].text' "$T/out")" = "Lunch on Friday at the Café?" ] || fail "text: $(cat "$T/out")"
# --chat and --limit.
expect_exit 0 ctl alice --json search --chat @carol friday
[ "$(jq -r 'map(.chatId) | unique | join(",")' "$T/out")" = "$cc" ] || fail "--chat: $(cat "$T/out")"
expect_exit 0 ctl alice --json search friday --limit 2
[ "$(jq length "$T/out")" = 2 ] || fail "--limit: $(cat "$T/out")"
expect_exit 0 ctl alice --json search --chat "$cb" lunch
[ "$(jq length "$T/out")" = 1 ] || fail "--chat by id: $(cat "$T/out")"

# bob's store: what he received, an attachment's message by its text.
expect_exit 0 ctl bob --json search lisbon
[ "$(jq -r '.[0].sender' "$T/out")" = alice ] || fail "bob: $(cat "$T/out")"
[ "$(jq -r '.[0].attachments[0].name' "$T/out")" = beach.txt ] || fail "attachment: $(cat "$T/out")"
expect_exit 0 ctl bob search carol
[ -s "$T/out" ] && fail "bob found carol's chat: $(cat "$T/out")"

# Whatever is typed is words, never a query error.
for q in '"lunch' 'NEAR(' 'AND' '*' 'lunch OR' '(' ')' '^lunch' 'text:lunch' "'" '-lunch' '"'; do
	expect_exit 0 ctl alice search "$q"
done
expect_exit 0 ctl alice --json search 'NEAR(' '"friday'
[ "$(jq length "$T/out")" = 0 ] || fail "NEAR( friday: $(cat "$T/out")"
expect_exit 0 ctl alice --json search '"lunch' 'AND' 'carol'
[ "$(jq length "$T/out")" = 0 ] || fail "AND is a word: $(cat "$T/out")"
expect_exit 0 ctl alice --json search '(lunch' 'carol)'
[ "$(jq -r '.[0].chatId' "$T/out")" = "$cc" ] || fail "(lunch carol): $(cat "$T/out")"
expect_exit 0 ctl alice --json search '*'
[ "$(jq length "$T/out")" = 0 ] || fail "*: $(cat "$T/out")"
# Usage errors: no words, bad options, a chat not here.
expect_exit 2 ctl alice search
expect_exit 2 ctl alice search "  "
expect_exit 2 ctl alice search x --limit 0
expect_exit 2 ctl alice --json search " "
jq -e .error "$T/out" >/dev/null || fail "no --json error: $(cat "$T/out")"
expect_exit 4 ctl alice search --chat @nobody x
expect_exit 4 ctl alice search --chat ffffffffffffffff x

# rpc.
cat >"$T/in" <<IN
{"jsonrpc":"2.0","id":1,"method":"search","params":{"words":"friday","chat":"@bob"}}
{"jsonrpc":"2.0","id":2,"method":"search","params":{"words":"friday","limit":1}}
{"jsonrpc":"2.0","id":3,"method":"search","params":{"words":" "}}
{"jsonrpc":"2.0","id":4,"method":"search","params":{"chat":"@bob"}}
{"jsonrpc":"2.0","id":5,"method":"search","params":{"words":"NEAR( \"x"}}
IN
ctl alice rpc <"$T/in" >"$T/out" 2>"$T/err" || fail "rpc exited $?: $(cat "$T/err")"
r() { grep "\"id\":$1[,}]" "$T/out" | head -n 1; }
[ "$(r 1 | jq '.result | length')" = 2 ] || fail "rpc search: $(r 1)"
[ "$(r 1 | jq -r '.result[0].snippet')" = "[friday] works" ] || fail "rpc snippet: $(r 1)"
[ "$(r 2 | jq '.result | length')" = 1 ] || fail "rpc limit: $(r 2)"
[ "$(r 3 | jq -r .error.code)" = -32602 ] || fail "rpc no words: $(r 3)"
[ "$(r 4 | jq -r .error.code)" = -32602 ] || fail "rpc missing words: $(r 4)"
[ "$(r 5 | jq '.result | length')" = 0 ] || fail "rpc odd words: $(r 5)"

# The store only: no server needed.
stop_server
expect_exit 0 ctl alice search lisbon
expect_in "$T/out" "alice: the photos from [Lisbon]"
