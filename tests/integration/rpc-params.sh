# rpc refuses a param it does not know, or of the wrong type, with -32602
# naming it, instead of dropping it (a send with "attach" went without its
# file and said ok); send takes "attach", and outbox/retry/discard exist.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
echo "the file" > "$T/f.txt"

cat > "$T/in" <<IN
{"jsonrpc":"2.0","id":1,"method":"send","params":{"chat":"@bob","text":"x","attachments":["$T/f.txt"]}}
{"jsonrpc":"2.0","id":2,"method":"send","params":{"chat":"@bob","text":"x","attach":"$T/f.txt"}}
{"jsonrpc":"2.0","id":3,"method":"history","params":{"chat":"@bob","limit":"2"}}
{"jsonrpc":"2.0","id":4,"method":"history","params":{"chat":"@bob","limit":1.5}}
{"jsonrpc":"2.0","id":5,"method":"whoami","params":{"all":true}}
{"jsonrpc":"2.0","id":6,"method":"send","params":{"chat":42,"text":"x"}}
{"jsonrpc":"2.0","id":7,"method":"add","params":{"chat":"@bob","users":["carol",7]}}
{"jsonrpc":"2.0","id":8,"method":"history","params":{"chat":"@bob","limit":1e300}}
{"jsonrpc":"2.0","id":9,"method":"send","params":{"chat":"@bob","text":"with a file","attach":["$T/f.txt"]}}
{"jsonrpc":"2.0","id":10,"method":"outbox"}
{"jsonrpc":"2.0","id":11,"method":"retry","params":{"message":"ffff0000"}}
IN
(cat "$T/in"; sleep 1) | ctl alice rpc > "$T/out" 2>"$T/err" || fail "rpc exited $?: $(cat "$T/err")"
r() { grep "\"id\":$1[,}]" "$T/out" | head -n 1; }
# code N MESSAGE: the reply to N is an error -32602 that says MESSAGE.
code() {
	[ "$(r "$1" | jq -r .error.code)" = -32602 ] || fail "reply $1: $(r "$1")"
	r "$1" | jq -r .error.message | grep -qF -- "$2" || fail "reply $1: $(r "$1")"
}
code 1 "unknown param 'attachments' for send (it takes: chat, text, attach)"
code 2 "params.attach must be an array of 1 to 10 strings"
code 3 "params.limit must be an integer from 1 to 1000000"
code 4 "params.limit must be an integer"
code 5 "unknown param 'all' for whoami (it takes none)"
code 6 "params.chat must be a string"
code 7 "params.users must be an array of 1 to 100 strings"
code 8 "params.limit must be an integer"
[ "$(r 9 | jq -r '.result.attachments[0].name')" = f.txt ] || fail "send with attach: $(r 9)"
[ "$(r 10 | jq -r '.result | length')" = 0 ] || fail "outbox: $(r 10)"
[ "$(r 11 | jq -r .error.code)" = 4 ] || fail "retry of nothing: $(r 11)"

# Nothing of the refused sends went out; the one with the file did, with it.
expect_exit 0 ctl bob --json recv
[ "$(jq -r .text "$T/out" | tr '\n' '|')" = "with a file|" ] || fail "bob got: $(cat "$T/out")"
id=$(jq -r .messageId "$T/out")
expect_exit 0 ctl bob download "$id"
cmp "$(cat "$T/out")" "$T/f.txt" || fail "the file differs"

# A string holding U+0000 is refused whole, not cut at the NUL: "a\u0000b"
# must not go out as "a".
printf '%s\n' '{"jsonrpc":"2.0","id":12,"method":"send","params":{"chat":"@bob","text":"a\u0000b"}}' \
	'{"jsonrpc":"2.0","id":13,"method":"send","params":{"chat":"@bob","text":"x\ud800"}}' >"$T/in"
(cat "$T/in"; sleep 1) | ctl alice rpc > "$T/out" 2>"$T/err" || fail "rpc exited $?: $(cat "$T/err")"
code 12 "a string holds U+0000"
code 13 "a string holds a lone surrogate"
expect_exit 0 ctl bob --json recv
[ ! -s "$T/out" ] || fail "bob got: $(cat "$T/out")"
