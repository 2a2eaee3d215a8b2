# engines/redis.sh - a Redis server of the test's own, sourced by a test after
# lib.sh: on 127.0.0.1, on a free port, its files and log in $T/redis, no
# persistence (the bus keeps nothing there that the store does not hold:
# a restart loses the pub/sub messages in flight, which is what the tests
# about it want). Stopped by lib.sh's cleanup.
#
#   redis_have         redis-server and redis-cli are installed
#   start_redis        start; sets REDIS_PORT
#   stop_redis         stop (SHUTDOWN NOSAVE): every client is cut off
#   restart_redis      start again on the same port (empty)
#   redis_url          redis://127.0.0.1:PORT
#   redis_cli ARGS...  redis-cli on it
REDIS_DIR=""
# ENGINES: this directory (set by whoever sources it from elsewhere).
: "${ENGINES:=$(dirname "$0")/engines}"
. "$ENGINES/port.sh"
REDIS_PORT=""

redis_have() {
	command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1
}

redis_die() {
	if command -v fail >/dev/null 2>&1; then
		fail "$*"
	fi
	echo "FAIL: $*" >&2
	exit 1
}

redis_cli() {
	redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}

# redis_start_on PORT: 1 if it did not come up (the port was taken, say).
redis_start_on() {
	rm -f "$REDIS_DIR/redis.pid"
	: >"$REDIS_DIR/log"
	redis-server --bind 127.0.0.1 --port "$1" --dir "$REDIS_DIR" --daemonize yes \
		--pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/log" \
		--save "" --appendonly no >/dev/null 2>&1 || return 1
	redis_n=0
	while [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" != PONG ]; do
		redis_n=$((redis_n + 1))
		[ $redis_n -lt 100 ] || return 1
		grep -q "Address already in use\|Could not create server TCP" "$REDIS_DIR/log" && return 1
		sleep 0.05
	done
	# The one we started answers, not another on that port.
	[ -s "$REDIS_DIR/redis.pid" ] &&
		redis-cli -h 127.0.0.1 -p "$1" info server | tr -d '\r' |
		grep -qx "process_id:$(cat "$REDIS_DIR/redis.pid")"
}

start_redis() {
	redis_have || redis_die "Redis is not installed (redis-server, redis-cli)"
	REDIS_DIR=$T/redis
	mkdir -p "$REDIS_DIR"
	redis_n2=0
	while :; do
		redis_n2=$((redis_n2 + 1))
		REDIS_PORT=$(free_port)
		redis_start_on "$REDIS_PORT" && break
		[ $redis_n2 -lt 8 ] || redis_die "Redis did not start: $(tail -n 5 "$REDIS_DIR/log")"
	done
	command -v cleanup_hook >/dev/null 2>&1 && cleanup_hook stop_redis
	return 0
}

stop_redis() {
	[ -n "$REDIS_DIR" ] && [ -s "$REDIS_DIR/redis.pid" ] || return 0
	redis_pid=$(cat "$REDIS_DIR/redis.pid")
	redis_cli shutdown nosave >/dev/null 2>&1 || kill "$redis_pid" 2>/dev/null
	redis_n=0
	while kill -0 "$redis_pid" 2>/dev/null; do
		redis_n=$((redis_n + 1))
		[ $redis_n -lt 200 ] || { kill -9 "$redis_pid" 2>/dev/null; break; }
		sleep 0.05
	done
	rm -f "$REDIS_DIR/redis.pid"
}

restart_redis() {
	stop_redis
	redis_start_on "$REDIS_PORT" ||
		redis_die "Redis did not start again on $REDIS_PORT: $(tail -n 5 "$REDIS_DIR/log")"
}

redis_url() {
	echo "redis://127.0.0.1:$REDIS_PORT"
}
