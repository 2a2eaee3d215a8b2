# A text that begins with '-' is text (chatctl(1), send), after the chat or
# after '--'; --attach is still an option, and a misspelt one is not sent.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob

expect_exit 0 ctl alice send @bob "-5 degrees"
expect_exit 0 ctl alice send @bob -- "--attach is a word"
expect_exit 0 ctl alice send -- @bob "-x"
echo data > "$T/f.txt"
expect_exit 0 ctl alice send @bob "-with a file" --attach "$T/f.txt"
expect_exit 0 ctl bob --json recv
[ "$(jq -r .text "$T/out" | tr '\n' '|')" = "-5 degrees|--attach is a word|-x|-with a file|" ] ||
	fail "bob got: $(cat "$T/out")"
[ "$(jq -r 'select(.attachments) | .attachments[0].name' "$T/out")" = f.txt ] ||
	fail "no file: $(cat "$T/out")"

# An option before the chat is still an option: a wrong one is refused.
expect_exit 2 ctl alice send --bogus @bob hi
expect_in "$T/err" "unknown option '--bogus'"
# A misspelt option after the text is not taken for a second text silently.
expect_exit 2 ctl alice send @bob hi --atach "$T/f.txt"
expect_in "$T/err" "--atach"
