# A group of 100 members: every member receives a message, and a 101st is refused.
. "$(dirname "$0")/lib.sh"
start_server
users=""
i=1
while [ $i -le 100 ]; do users="$users u$i"; i=$((i + 1)); done
# Register in parallel: 100 processes, two at a time.
echo $users | tr ' ' '\n' | xargs -P 2 -I{} sh -c \
	'"$0" --home "$1/{}" --server "$2" register {} >/dev/null' "$CHATCTL" "$T" "$URL" ||
	fail "registration"
others=$(echo $users | cut -d' ' -f2-)
expect_exit 0 ctl u1 create --name "hundred" $others
g=$(cat "$T/out")
expect_exit 0 ctl u1 send "$g" "to all one hundred"
# Each member's device has exactly the create update and the message waiting.
echo $others | tr ' ' '\n' | xargs -P 2 -I{} sh -c \
	'out=$("$0" --home "$1/{}" --json recv) && echo "$out" | grep -q "to all one hundred" && echo ok' \
	"$CHATCTL" "$T" > "$T/oks" || fail "a member did not receive it"
[ "$(count_lines "$T/oks")" -eq 99 ] || fail "only $(count_lines "$T/oks") of 99 received it"
# The creator's own device has the create update waiting; then nothing is left.
expect_exit 0 ctl u1 --json recv
expect_in "$T/out" '"operation":"create"'
[ "$(server_sql "SELECT count(*) FROM inbox")" -eq 0 ] || fail "inbox not drained"

register u101
expect_exit 4 ctl u1 add "$g" u101
expect_in "$T/err" "100"
expect_exit 2 ctl u101 create --name "too big" $users
expect_in "$T/err" "100"
