# chat-tui's first start, with an empty home and no --server: Enter takes the
# default URL; a user name typed where the URL is asked is not taken for one;
# a server that cannot be reached has the URL asked again, the name kept, and
# the next answer registers. No answer leaves the prompts stuck.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_server

# first NAME: chat-tui on the empty home $T/NAME, without --server.
first() {
	$TMUX_CMD new-session -d -s "$1" -x 100 -y 30 \
		"env LANG=C.UTF-8 ASAN_OPTIONS=log_path=$T/asan.$1 $TUI --home $T/$1; echo \"[exit \$?]\"; sleep 30"
	tui_wait "$1" "the server's URL (Enter for ws://127.0.0.1:8700/)"
}

# Enter: the default (not registering there: a test must not touch port 8700).
first ann
tui_keys ann Enter
tui_wait ann "first start on ws://127.0.0.1:8700/: your user name"
tui_keys ann C-c
tui_wait ann "[exit 0]"

# A name where the URL is asked: said so, asked again.
first bob
tui_type bob "bob"
tui_keys bob Enter
tui_wait bob "'bob' is not a server URL"
tui_wait bob "the server's URL (Enter for ws://127.0.0.1:8700/)"
# Nothing listens on port 1: the URL is asked again, Enter would retry it.
tui_type bob "ws://127.0.0.1:1/"
tui_keys bob Enter
tui_wait bob "your user name"
tui_type bob "bob"
tui_keys bob Enter
tui_wait bob "cannot register bob on ws://127.0.0.1:1/"
tui_wait bob "the server's URL (Enter for ws://127.0.0.1:1/)"
# The right URL: registers as bob without asking the name again.
tui_type bob "$URL"
tui_keys bob Enter
tui_wait bob "registered as bob"
tui_wait bob "[online] bob"
expect_exit 0 ctl carol register carol
expect_exit 0 ctl carol create bob
tui_keys bob C-c
tui_wait bob "[exit 0]"
tui_check_asan
stop_server
