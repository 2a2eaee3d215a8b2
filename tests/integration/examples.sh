# The programs of examples/ (quoted in libchat(3)), built as a user builds
# them, on homes registered with chatctl: send-lines sends standard input's
# lines in order and exits once all are confirmed; echo-bot answers each
# message, through a restart of the server, until SIGTERM; poll-chat, on its
# own poll() loop, sends what it reads and prints what comes, made safe for
# a terminal.
. "$(dirname "$0")/lib.sh"
EX=$BIN/examples
for p in send-lines echo-bot poll-chat; do
	[ -x "$EX/$p" ] || fail "$EX/$p is not built (make builds examples/)"
done
expect_exit 2 "$EX/send-lines"
expect_in "$T/err" "usage: send-lines CHAT [HOME]"
expect_exit 2 "$EX/echo-bot" one two
expect_exit 2 "$EX/poll-chat"

start_server
register alice bot
expect_exit 0 ctl alice create bot

# The bot is not running: the lines wait in its inbox. An empty line is
# skipped, a last line without its newline is sent.
printf 'one\n\ntwo\nthree' >"$T/lines"
expect_exit 0 "$EX/send-lines" @bot "$T/alice" <"$T/lines"
[ "$(count_lines "$T/out")" -eq 3 ] || fail "send-lines printed: $(cat "$T/out")"
grep -qvE '^[0-9a-f]{32}$' "$T/out" && fail "not message ids: $(cat "$T/out")"
# Confirmed means committed by the server: nothing left in the outbox.
expect_exit 0 ctl alice outbox
[ -s "$T/out" ] && fail "left in the outbox: $(cat "$T/out")"
# A chat that does not resolve is said so, and nothing is sent.
expect_exit 1 "$EX/send-lines" @nobody "$T/alice" <"$T/lines"
expect_in "$T/err" "send-lines: @nobody:"

"$EX/echo-bot" "$T/bot" >"$T/bot.out" 2>"$T/bot.err" &
bot=$!
# got N: alice has received N answers so far (into $T/got, in order).
got() {
	ctl alice --json recv >>"$T/got" 2>>"$T/recv.err" || return 1
	[ "$(jq -r 'select(.type == "message") | .text' "$T/got" | wc -l)" -ge "$1" ]
}
: >"$T/got"
wait_until 30 'no answers: $(cat "$T/bot.err")' got 3
[ "$(jq -r 'select(.type == "message") | .sender + ":" + .text' "$T/got" | tr '\n' '|')" = \
	"bot:one|bot:two|bot:three|" ] ||
	fail "answers: $(cat "$T/got")"
expect_in "$T/bot.err" "echo-bot: online as bot"

# Through a restart of the server: it notices, tries again, answers.
restart_server
wait_until 20 'echo-bot never retried: $(cat "$T/bot.err")' grep -q "again in" "$T/bot.err"

# poll-chat as alice, its input a pipe kept open: each line goes out as it
# comes, the bot's answer comes back and is printed.
mkfifo "$T/in"
"$EX/poll-chat" @bot "$T/alice" <"$T/in" >"$T/poll.out" 2>"$T/poll.err" &
poll=$!
exec 3>"$T/in"
echo "after the restart" >&3
wait_until 30 'poll-chat printed no answer: $(cat "$T/poll.err" "$T/bot.err")' \
	grep -qx "bot: after the restart" "$T/poll.out"
# Escape sequences and other controls are not printed as they are.
printf 'clear \033[2J and bell \007\n' >&3
wait_until 30 'poll-chat printed no second answer: $(cat "$T/poll.err")' \
	grep -qx "bot: clear ?\[2J and bell ?" "$T/poll.out"
exec 3>&-
wait $poll || fail "poll-chat at the end of its input: $(cat "$T/poll.err")"

kill -TERM $bot
wait $bot || fail "echo-bot did not stop cleanly on SIGTERM: $(cat "$T/bot.err")"
# One answer per message, no answer to its own answers: 5 in all.
[ "$(count_lines "$T/bot.out")" -eq 5 ] || fail "echo-bot answered: $(cat "$T/bot.out")"
exit 0
