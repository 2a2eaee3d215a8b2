# A misspelt command gets the nearest one's name, exit 2 (usage), and runs
# nothing: chatctl sned, help sned, device lnk; --json says it in the error
# object. A word near nothing gets the usage, as before. (rpc's methods:
# daemon.sh, rpc-commands.sh.)
. "$(dirname "$0")/lib.sh"
expect_exit 2 "$CHATCTL" --home "$T/none" sned @bob hi
[ "$(cat "$T/err")" = 'chatctl: unknown command "sned"; did you mean "send"?' ] ||
	fail "sned: $(cat "$T/err")"
[ -e "$T/none" ] && fail "a misspelt command opened the home"
expect_exit 2 "$CHATCTL" --home "$T/none" histroy @bob
expect_in "$T/err" 'did you mean "history"?'
expect_exit 2 "$CHATCTL" --home "$T/none" help membres
expect_in "$T/err" 'did you mean "members"?'
expect_exit 2 "$CHATCTL" --home "$T/none" device lnik alice
expect_in "$T/err" 'unknown device command "lnik"; did you mean "link"?'
expect_exit 2 "$CHATCTL" --home "$T/none" --json sned
[ "$(jq -r .error.code "$T/out")" = 2 ] || fail "json: $(cat "$T/out")"
jq -r .error.message "$T/out" | grep -q 'did you mean "send"' || fail "json: $(cat "$T/out")"
# Nothing near: the usage, no guess.
expect_exit 2 "$CHATCTL" --home "$T/none" frobnicate
expect_not_in "$T/err" "did you mean"
expect_in "$T/err" "usage: chatctl"
exit 0
