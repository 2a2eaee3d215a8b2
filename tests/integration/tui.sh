# tui.sh - for the chat-tui tests, sourced after lib.sh: each user's chat-tui
# runs in a window of a tmux server private to the test ($T/tmux.sock), of a
# fixed size, in a UTF-8 locale; the test types into it with send-keys and
# reads the screen with capture-pane. lib.sh's cleanup kills the tmux server.
TUI="$BIN/chat-tui"
TMUX_CMD="tmux -S $T/tmux.sock"

# tui_start NAME [COLSxROWS] [ARGS...]: chat-tui with the home $T/NAME on the
# test server, in the tmux session NAME.
tui_start() {
	name=$1
	size=${2:-100x30}
	shift
	[ $# -gt 0 ] && shift
	# shellcheck disable=SC2086
	$TMUX_CMD new-session -d -s "$name" -x "${size%x*}" -y "${size#*x}" \
		"env LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=screen-256color ASAN_OPTIONS=log_path=$T/asan.$name \
		$TUI --home $T/$name --server $URL $*; echo \"[exit \$?]\"; sleep 30" ||
		fail "tmux cannot start chat-tui"
}

# tui_keys NAME KEYS...: tmux send-keys (C-j, Enter, Tab, PageUp, M-1...).
tui_keys() {
	name=$1
	shift
	$TMUX_CMD send-keys -t "$name" "$@"
}

# tui_type NAME TEXT: types TEXT literally (no key names).
tui_type() {
	$TMUX_CMD send-keys -t "$1" -l "$2"
}

# tui_screen NAME: the screen as text.
tui_screen() {
	$TMUX_CMD capture-pane -p -t "$1"
}

# tui_pane NAME: the screen right of the chat list (whose rows show each
# chat's last message too), for what must be in the open chat itself.
tui_pane() {
	tui_screen "$1" | sed 's/^[^│]*│//'
}

# tui_wait_pane NAME TEXT: until the pane right of the chat list shows TEXT.
tui_wait_pane() {
	i=0
	while ! tui_pane "$1" | grep -qF -- "$2"; do
		i=$((i + 1))
		[ $i -gt 200 ] && { tui_screen "$1" >&2; fail "$1's pane never showed '$2'"; }
		sleep 0.05
	done
}

# tui_wait NAME TEXT [SECONDS]: until the screen shows TEXT (fixed string).
tui_wait() {
	i=0
	limit=$((${3:-10} * 20))
	while ! tui_screen "$1" | grep -qF -- "$2"; do
		i=$((i + 1))
		if [ $i -gt $limit ]; then
			echo "--- screen of $1:" >&2
			tui_screen "$1" >&2
			fail "$1's screen never showed '$2'"
		fi
		sleep 0.05
	done
}

# tui_wait_gone NAME TEXT: until the screen no longer shows TEXT.
tui_wait_gone() {
	i=0
	while tui_screen "$1" | grep -qF -- "$2"; do
		i=$((i + 1))
		[ $i -gt 200 ] && { tui_screen "$1" >&2; fail "$1's screen still shows '$2'"; }
		sleep 0.05
	done
}

# tui_check_asan: a sanitizer report of any chat-tui fails the test.
tui_check_asan() {
	for f in "$T"/asan.*; do
		[ -e "$f" ] || continue
		echo "--- $f" >&2
		cat "$f" >&2
		fail "sanitizer report from chat-tui"
	done
}
