# make run after its chat-server died (killed, crashed) starts a new one, even
# where the dead one is left a zombie that nobody reaps (its pid still answers
# kill -0): a dead server is not "running".
. "$(dirname "$0")/lib.sh"
repo=$(cd "$(dirname "$0")/../.." && pwd)
start_server
addr=127.0.0.1:$port
stop_server

run() {
	BIN=$BIN RUN_DIR="$T/state" RUN_ADDR=$addr RUN_USER=x sh "$repo/scripts/run.sh" \
		</dev/null >"$T/run.out" 2>&1
}
run
old=$(cat "$T/state/chat-server.pid" 2>/dev/null)
[ -n "$old" ] && kill -0 "$old" 2>/dev/null || fail "no server started: $(cat "$T/run.out")"
kill -9 "$old"
wait_until 10 "the server is still alive" dead "$old"

run
new=$(cat "$T/state/chat-server.pid" 2>/dev/null)
# Ours to stop, whatever happens (keeping the test's status for cleanup).
trap 'st=$?; kill "$new" 2>/dev/null; (exit $st); cleanup' EXIT
[ -n "$new" ] && [ "$new" != "$old" ] || fail "no new server: $(cat "$T/run.out")"
expect_in "$T/run.out" "run: chat-server on ws://$addr/"
kill -0 "$new" 2>/dev/null || fail "the new server is not running"
kill "$new"
