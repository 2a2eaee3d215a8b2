# chat-tui marks read only what the user has seen: no chat opens by itself
# (not on start, not when a new chat arrives), so nothing is marked read and
# no read receipt goes out until the user opens the chat; a chat with more
# unread messages than the pane holds opens at the first unread one, and is
# marked read only once the user has paged down to the newest.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server
register alice bob carol

# no_read_receipt USER: USER's device got no read receipt (yet).
no_read_receipt() {
	ctl "$1" --json recv >>"$T/$1.all" 2>/dev/null
	! grep -q '"status":"read"' "$T/$1.all" || fail "$1 got a read receipt: $(cat "$T/$1.all")"
}

# read_receipt USER: waits for a read receipt to USER.
read_receipt() {
	i=0
	until grep -q '"status":"read"' "$T/$1.all"; do
		ctl "$1" --json recv >>"$T/$1.all" 2>/dev/null
		i=$((i + 1)); [ $i -gt 50 ] && fail "no read receipt to $1"; sleep 0.1
	done
}

expect_exit 0 ctl bob create alice
b=$(cat "$T/out")
expect_exit 0 ctl bob send "$b" "first from bob"
expect_exit 0 ctl bob send "$b" "second from bob"

# On start: the list with the count, no chat open, nothing read.
tui_start alice 100x30
tui_wait alice "[online] alice"
tui_wait alice "bob (2)"
tui_wait alice "no chat open"
sleep 1
tui_pane alice | grep -q "first from bob" && fail "a chat opened by itself"
no_read_receipt bob

# A new chat arrives: listed with its count, not opened.
expect_exit 0 ctl carol create alice
c=$(cat "$T/out")
expect_exit 0 ctl carol send "$c" "hello from carol"
tui_wait alice "carol (1)"
sleep 1
tui_pane alice | grep -q "hello from carol" && fail "the new chat opened by itself"
tui_wait alice "bob (2)"
no_read_receipt carol

# The user opens bob's chat (second in the list): shown, read, bob learns it.
tui_keys alice M-2
tui_wait alice "bob: second from bob"
tui_wait_gone alice "bob (2)"
read_receipt bob

# 60 unread in carol's chat, more than the pane holds: it opens at the first
# unread one, still unread; PgDn to the newest marks it read.
i=1
while [ $i -le 60 ]; do
	printf '{"jsonrpc":"2.0","id":%d,"method":"send","params":{"chat":"%s","text":"line %d"}}\n' \
		"$i" "$c" "$i"
	i=$((i + 1))
done | ctl carol rpc >"$T/rpc.out" 2>&1 || fail "rpc: $(cat "$T/rpc.out")"
tui_wait alice "carol (61)"
tui_keys alice M-1
tui_wait alice "carol: hello from carol"
tui_wait alice "new messages below"
sleep 1
tui_pane alice | grep -q "carol: line 60" && fail "opened at the newest, not the first unread"
tui_wait alice "carol (61)"
no_read_receipt carol
n=0
until tui_pane alice | grep -q "carol: line 60"; do
	n=$((n + 1)); [ $n -gt 10 ] && fail "PgDn never reached line 60"
	tui_keys alice PageDown
	sleep 0.2
done
tui_wait_gone alice "carol (61)"
read_receipt carol

tui_keys alice C-c
tui_wait alice "[exit 0]"
tui_check_asan
stop_server
