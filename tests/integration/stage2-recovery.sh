# A device whose session state is lost (its sessions gone) or old (a home
# restored from a backup) cannot read what comes under the session its peer
# has. It says so, keeps the message as undecryptable, and starts a new
# session: its undecryptable receipt is the first message of it. The sender
# is told which message was lost, and what it sends next is read.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl alice create bob
chat=$(cat "$T/out")
expect_exit 0 ctl alice send "$chat" "hello"
expect_exit 0 ctl bob recv
expect_exit 0 ctl bob send "$chat" "hello back"
expect_exit 0 ctl alice recv
cp -r "$T/bob" "$T/bob-backup"
for n in 1 2; do
	expect_exit 0 ctl alice send "$chat" "a$n"
	expect_exit 0 ctl bob recv
	expect_exit 0 ctl bob send "$chat" "b$n"
	expect_exit 0 ctl alice recv
done

# recover HOW WHAT: bob's home loses its state (HOW), alice writes WHAT.
recover() {
	expect_exit 0 ctl alice send "$chat" "$2"
	lost=$(sqlite3 "$T/alice/store.db" "SELECT message_id FROM messages WHERE text = '$2'")
	expect_exit 0 ctl bob recv
	expect_not_in "$T/out" "$2"
	expect_in "$T/err" "could not be decrypted"
	expect_in "$T/err" "a new secure session was started: ask alice to send it again"
	# alice hears which message bob's device lost.
	expect_exit 0 ctl alice --json recv
	[ "$(jq -r 'select(.type == "receipt") | "\(.status) \(.messageId)"' "$T/out")" = "undecryptable $lost" ] ||
		fail "$1: alice was not told: $(cat "$T/out")"
	# And what she sends now, bob reads; and the other way.
	expect_exit 0 ctl alice send "$chat" "again after $1"
	expect_exit 0 ctl bob recv
	expect_in "$T/out" "again after $1"
	expect_not_in "$T/err" "could not be decrypted"
	expect_exit 0 ctl bob send "$chat" "bob after $1"
	expect_exit 0 ctl alice recv
	expect_in "$T/out" "bob after $1"
}

# A backup from before the last exchanges.
rm -rf "$T/bob"
cp -r "$T/bob-backup" "$T/bob"
recover restore "lost to the backup"
# Every session gone.
sqlite3 "$T/bob/store.db" "DELETE FROM dr_sessions"
recover loss "lost to the loss"
expect_exit 0 ctl bob history "$chat"
[ "$(grep -c "\[this message could not be decrypted\]" "$T/out")" -eq 2 ] ||
	fail "history: $(cat "$T/out")"
stop_server
exit 0
