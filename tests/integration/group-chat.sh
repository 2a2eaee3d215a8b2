# Group chats: create, add, remove, leave, with the visibility rules: a member
# added sees what is sent from then on, a member removed or gone sees nothing
# after; every member sees messages and changes in one server order.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob carol dave

expect_exit 0 ctl alice --json create --name "climbing" bob carol
g=$(jq -r .chatId "$T/out")
[ "$(jq -r .kind "$T/out")" = group ] || fail "kind: $(cat "$T/out")"
[ "$(jq -r '.participants | join(",")' "$T/out")" = "alice,bob,carol" ] || fail "participants"
expect_exit 0 ctl alice send "$g" "hello group"

# Every member learns of the group (an update) and gets the message, in order.
for u in bob carol; do
	expect_exit 0 ctl $u --json recv
	[ "$(jq -r .type "$T/out" | tr '\n' ' ')" = "chatUpdate message " ] || fail "$u got: $(cat "$T/out")"
	[ "$(jq -r 'select(.type=="chatUpdate") | .operation' "$T/out")" = create ] || fail "$u: operation"
	[ "$(jq -r 'select(.type=="message") | .text' "$T/out")" = "hello group" ] || fail "$u: text"
	[ "$(jq -r 'select(.type=="message") | .senderDevice' "$T/out")" = 1 ] || fail "$u: senderDevice"
done
expect_exit 0 ctl bob members "$g"
expect_in "$T/out" "alice (admin)"
expect_in "$T/out" "bob"
expect_exit 0 ctl bob --json members "$g"
[ "$(jq -r '.participants[] | select(.admin) | .user' "$T/out")" = alice ] || fail "admins: $(cat "$T/out")"

# Only admins add; dave joins and sees nothing from before.
expect_exit 4 ctl bob add "$g" dave;       expect_in "$T/err" "not_admin"
expect_exit 4 ctl alice add "$g" bob;      expect_in "$T/err" "already_member"
expect_exit 4 ctl alice remove "$g" dave;  expect_in "$T/err" "not_member"
expect_exit 4 ctl alice add "$g" dave nobody; expect_in "$T/err" "unknown_user"
expect_exit 0 ctl alice add "$g" dave
expect_in "$T/out" "dave"
expect_exit 0 ctl bob send "$g" "welcome dave"
expect_exit 0 ctl dave --json recv
[ "$(jq -r .type "$T/out" | tr '\n' ' ')" = "chatUpdate message " ] || fail "dave got: $(cat "$T/out")"
expect_not_in "$T/out" "hello group"
expect_in "$T/out" "welcome dave"

# alice removes carol: carol learns it, then gets nothing more and cannot send.
expect_exit 0 ctl alice remove "$g" carol
expect_exit 0 ctl alice send "$g" "after carol"
expect_exit 0 ctl carol --json recv
expect_in "$T/out" '"operation":"remove"'
expect_not_in "$T/out" "after carol"
expect_exit 4 ctl carol send "$g" "let me back"

# bob leaves; the rest go on.
expect_exit 0 ctl bob leave "$g"
expect_exit 0 ctl alice send "$g" "after bob"
expect_exit 0 ctl bob --json recv
expect_not_in "$T/out" "after bob"
expect_exit 4 ctl bob add "$g" carol

# Everyone who stayed sees one order: dave's history is a run of seq numbers.
expect_exit 0 ctl dave --json recv
expect_exit 0 ctl dave --json history "$g"
seqs=$(jq -r '.[].seq' "$T/out" | tr '\n' ' ')
sorted=$(jq -r '.[].seq' "$T/out" | sort -n | tr '\n' ' ')
[ "$seqs" = "$sorted" ] || fail "dave's history out of order: $seqs"
expect_in "$T/out" "after bob"
expect_in "$T/out" "bob left"

# A direct chat's members are fixed; a chat that does not exist is refused.
expect_exit 0 ctl alice create bob
direct=$(cat "$T/out")
expect_exit 4 ctl alice add "$direct" carol
expect_exit 4 ctl alice add ffffffffffffffff carol
# A name is required for a group, and a group has at most 100 members.
expect_exit 2 ctl alice create bob carol;   expect_in "$T/err" "--name"
