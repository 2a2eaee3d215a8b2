#!/bin/sh
# Runs every integration test (tests/integration/*.sh but lib.sh and run.sh),
# each in its own process with its own server, and prints one line per test and
# a closing "N passed, N failed" line. Exit status 1 if any failed.
: "${BIN:?BIN must point at the build directory}"
dir=$(dirname "$0")
pass=0
failed=0
for t in "$dir"/*.sh; do
	name=$(basename "$t" .sh)
	case $name in lib|run|tui) continue ;; esac
	log=$(mktemp)
	# 120 s a script, or what its own "# timeout: N" line says.
	limit=$(sed -n 's/^# timeout: \([0-9][0-9]*\)$/\1/p' "$t" | head -n 1)
	if BIN=$BIN timeout "${limit:-120}" sh "$t" >"$log" 2>&1; then
		echo "ok   $name"
		pass=$((pass + 1))
	else
		echo "FAIL $name"
		sed 's/^/     /' "$log"
		failed=$((failed + 1))
	fi
	rm -f "$log"
done
echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
