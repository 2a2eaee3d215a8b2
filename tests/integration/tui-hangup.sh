# chat-tui when its terminal goes away: `tmux kill-session` under `make run`
# ends chat-tui at once (no process left behind spinning on the dead
# terminal; its store closed: no sanitizer report of a leaked connection), and the
# chat-server that scripts/run.sh started is nobody's child: it keeps running
# for the next terminal, and run.sh stop still stops it. A SIGHUP or SIGTERM
# sent to chat-tui ends it cleanly too (exit 0, no sanitizer report).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
# run.sh starts its server detached (not this shell's child): stop it
# whatever happens (by its pid file: run.sh stop would look further, for
# servers of other RUN_DIRs on the address), then lib.sh's cleanup, with the
# test's status.
trap 'st=$?; [ -s "$T/run/chat-server.pid" ] && kill "$(cat "$T/run/chat-server.pid")" 2>/dev/null; (exit $st); cleanup' EXIT
# No leak check for the chat-tui run.sh starts: LeakSanitizer's check at exit
# (it stops the process's threads under ptrace) was seen to hang for good when
# that exit races the teardown of the tmux pane, once closing the store got
# quick (no checkpoint since #12). Its leaks on a hangup are checked below,
# in the nohup and signal cases.
RUN="env BIN=$BIN RUN_DIR=$T/run RUN_ADDR=127.0.0.1:0 ASAN_OPTIONS=log_path=$T/asan.run:detect_leaks=0"

# alive PID: the process exists and is not a zombie.
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	[ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# ppid PID: its parent's pid.
ppid() {
	sed 's/.*) . \([0-9]*\).*/\1/' "/proc/$1/stat"
}

# tui_pid SESSION: the pid of the chat-tui running in the tmux session.
tui_pid() {
	pane=$($TMUX_CMD list-panes -t "$1" -F '#{pane_pid}')
	ps -o pid=,comm= --ppid "$pane" | awk '$2 == "chat-tui" { print $1 }'
}

$TMUX_CMD new-session -d -s alice -x 100 -y 30 \
	"$RUN RUN_USER=alice sh $(dirname "$0")/../../scripts/run.sh; sleep 30" ||
	fail "tmux"
tui_wait alice "[online] alice" 20
tui=$(tui_pid alice)
server=$(cat "$T/run/chat-server.pid")
[ -n "$tui" ] && alive "$tui" || fail "no chat-tui process found"
alive "$server" || fail "no chat-server running"
[ "$(ppid "$server")" != "$tui" ] || fail "chat-server is chat-tui's child"
[ -e "$T/run/homes/alice/store.db-wal" ] || fail "no WAL while chat-tui runs (store file renamed?)"

# gone PID HOME: chat-tui PID ends within 5 s. (The store keeps its WAL on
# close, so its files do not tell a clean close; ASan's logs, checked at the
# end, tell a store left open.)
gone() {
	i=0
	while alive "$1"; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			ps -o pid,stat,pcpu,time,comm -p "$1" >&2
			kill -9 "$1"
			fail "chat-tui still runs 5 s after its terminal went away"
		fi
		sleep 0.05
	done
}

# The terminal goes away.
$TMUX_CMD kill-session -t alice
gone "$tui" "$T/run/homes/alice"
alive "$server" || fail "chat-server died with the terminal"
[ "$(ppid "$server")" != "$tui" ] || fail "chat-server is still chat-tui's child"
env BIN="$BIN" RUN_DIR="$T/run" RUN_ADDR=127.0.0.1:0 sh "$(dirname "$0")/../../scripts/run.sh" stop >"$T/out"
expect_in "$T/out" "chat-server stopped"
i=0
while alive "$server"; do
	i=$((i + 1)); [ $i -gt 100 ] && fail "chat-server still runs after run.sh stop"; sleep 0.05
done

# With SIGHUP ignored (nohup, or a parent that ignores it) the hung-up
# terminal itself ends chat-tui: poll says so, reads fail.
start_server
register bob
$TMUX_CMD new-session -d -s nohup -x 100 -y 30 \
	"trap '' HUP; env LANG=C.UTF-8 ASAN_OPTIONS=log_path=$T/asan.nohup $TUI --home $T/bob --server $URL; sleep 30"
tui_wait nohup "[online] bob"
tui=$(tui_pid nohup)
$TMUX_CMD kill-session -t nohup
gone "$tui" "$T/bob"

# SIGHUP and SIGTERM: a clean end, status 0.
for sig in HUP TERM; do
	tui_start "u$sig" 100x30 --user "u$(echo $sig | tr A-Z a-z)"
	tui_wait "u$sig" "[online] u"
	kill -"$sig" "$(tui_pid "u$sig")"
	tui_wait "u$sig" "[exit 0]"
done
tui_check_asan
stop_server
