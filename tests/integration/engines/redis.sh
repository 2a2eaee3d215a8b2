# engines/redis.sh - a Redis for the cluster tests, sourced after lib.sh:
# redis-server on 127.0.0.1, on a free port, its files under $T/redis, no
# persistence (--save "" --appendonly no), in the foreground of a
# background job whose pid is kept. It stops when the test ends, whatever
# way it ends.
#
#   start_redis     start it (a free port the first time, the same port
#                   after); sets REDIS_PORT, REDIS_PID and REDIS_URL
#                   (redis://127.0.0.1:PORT)
#   stop_redis      stop it (SIGTERM, then SIGKILL after 5 s)
#   restart_redis   stop it and start it again on the same port: a Redis
#                   that went away and came back, empty
#   redis_cli ARGS  redis-cli against it
REDIS_PORT=""
REDIS_PID=""
REDIS_URL=""

# Redis renames its process ("redis-server 127.0.0.1:PORT"), so lib.sh's
# cleanup, which looks for $T in command lines, would not find it: it is
# stopped here first, and lib.sh's cleanup keeps the exit status.
trap 'redis_rc=$?; stop_redis; (exit $redis_rc); cleanup' EXIT
trap 'stop_redis; exit 1' INT TERM

# redis_try PORT: start on PORT; 0 once it accepts connections, 1 if it
# exited (the port was taken).
redis_try() {
	mkdir -p "$T/redis"
	: >"$T/redis/redis.log"
	redis-server --bind 127.0.0.1 --port "$1" --save "" --appendonly no \
		--dir "$T/redis" --daemonize no --logfile "$T/redis/redis.log" &
	REDIS_PID=$!
	rt=0
	while ! grep -q "Ready to accept connections" "$T/redis/redis.log"; do
		if ! kill -0 "$REDIS_PID" 2>/dev/null; then
			REDIS_PID=""
			return 1
		fi
		rt=$((rt + 1))
		[ $rt -gt 200 ] && fail "redis-server did not start: $(tail -n 5 "$T/redis/redis.log")"
		sleep 0.05
	done
	REDIS_PORT=$1
	REDIS_URL="redis://127.0.0.1:$1"
	return 0
}

start_redis() {
	command -v redis-server >/dev/null || fail "redis-server is not installed (make deps)"
	if [ -n "$REDIS_PORT" ]; then
		# The same port again: a restart. The old socket may linger a moment.
		rs=0
		until redis_try "$REDIS_PORT"; do
			rs=$((rs + 1)); [ $rs -gt 50 ] && fail "redis-server did not start again on $REDIS_PORT"
			sleep 0.1
		done
		return
	fi
	rn=0
	while :; do
		# A port from 20000 to 59999 that nothing listens on (a race with
		# another process is caught by redis_try and tried again).
		rp=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
		redis_try "$rp" && return
		rn=$((rn + 1)); [ $rn -gt 20 ] && fail "no free port for redis-server"
	done
}

stop_redis() {
	[ -n "$REDIS_PID" ] || return 0
	kill "$REDIS_PID" 2>/dev/null
	rk=0
	while kill -0 "$REDIS_PID" 2>/dev/null && [ $rk -lt 100 ]; do
		# A zombie of ours: reaped by wait.
		grep -q '^[0-9]* (.*) Z' "/proc/$REDIS_PID/stat" 2>/dev/null && break
		rk=$((rk + 1)); sleep 0.05
	done
	kill -9 "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=""
}

restart_redis() {
	stop_redis
	start_redis
}

redis_cli() {
	redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}
