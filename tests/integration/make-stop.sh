# make stop finds the chat-server that make run started with another
# RUN_DIR (here a relative one, from another directory) on the same address,
# stops it and says where it ran, instead of "no chat-server of ours".
. "$(dirname "$0")/lib.sh"
repo=$(cd "$(dirname "$0")/../.." && pwd)
# A free port of our own: RUN_ADDR tells our server from anybody else's.
start_server
addr=127.0.0.1:$port
stop_server

mkdir "$T/work"
(cd "$T/work" && BIN=$BIN RUN_DIR=state RUN_ADDR=$addr RUN_USER=x sh "$repo/scripts/run.sh" \
	</dev/null >"$T/run.out" 2>&1)
pid=$(cat "$T/work/state/chat-server.pid" 2>/dev/null)
[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || fail "no server started: $(cat "$T/run.out")"
die() { kill "$pid" 2>/dev/null; fail "$@"; }

expect_exit 0 make -s -C "$repo" stop BUILD="$BIN" RUN_DIR="$T/elsewhere" RUN_ADDR="$addr"
grep -qF "chat-server stopped (it ran from $T/work/state)" "$T/out" || die "make stop: $(cat "$T/out")"
wait_until 10 "the server still runs" dead "$pid"
[ -e "$T/work/state/chat-server.pid" ] && fail "its pid file is left"

# Nothing of ours at all: said so, with both places looked at.
expect_exit 0 make -s -C "$repo" stop BUILD="$BIN" RUN_DIR="$T/elsewhere" RUN_ADDR="$addr"
expect_in "$T/out" "no chat-server of ours is running in $T/elsewhere or on $addr"
