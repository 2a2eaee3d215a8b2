#!/bin/sh
# Runs every integration test (tests/integration/*.sh but lib.sh, run.sh and
# tui.sh; or the ones named on its command line), each in its own process
# with its own server, JOBS at a time (3 by default: the tests mostly wait,
# on timers and fsync, so two at a time took the suite from 11 to 6 minutes
# on two cores, and three, with the cluster scripts, from 8.2 to 6), and
# prints one line per test,
# in name order, with its seconds, then "N passed, N failed" (", N skipped"
# if any were: see below). A failed test's output follows its line. Exit
# status 1 if any failed.
#
# Each script may say "# timeout: N" (seconds; 120 if not). The longest are
# started first, so two workers finish together.
#
# Skipped, and printed "skip NAME (why)": under CHAT_TEST_STORE=pg, a script
# that says "# store: sqlite (why)" (it is about SQLite itself: its file, its
# commits failed on purpose); and a script that exits 0 after printing a line
# "skip: why" (an engine it needs, PostgreSQL or Redis, is not installed).
: "${BIN:?BIN must point at the build directory}"
dir=$(dirname "$0")

# sh run.sh --one OUTDIR SCRIPT: one test, its result in OUTDIR/NAME.{log,rc,s}.
if [ "${1:-}" = --one ]; then
	name=$(basename "$3" .sh)
	if [ "${CHAT_TEST_STORE:-sqlite}" != sqlite ]; then
		why=$(sed -n 's/^# store: sqlite (\(.*\))$/\1/p' "$3" | head -n 1)
		if [ -n "$why" ]; then
			echo "$why" >"$2/$name.skip"
			exit 0
		fi
	fi
	limit=$(sed -n 's/^# timeout: \([0-9][0-9]*\)$/\1/p' "$3" | head -n 1)
	start=$(date +%s)
	BIN=$BIN timeout "${limit:-120}" sh "$3" >"$2/$name.log" 2>&1
	rc=$?
	echo $rc >"$2/$name.rc"
	echo $(($(date +%s) - start)) >"$2/$name.s"
	if [ $rc -eq 0 ] && grep -q '^skip: ' "$2/$name.log"; then
		sed -n 's/^skip: //p' "$2/$name.log" | head -n 1 >"$2/$name.skip"
	fi
	exit 0
fi

# sh run.sh NAME...: those scripts only (names without .sh).
scripts() {
	if [ $# -gt 0 ]; then
		for n in "$@"; do echo "$dir/${n%.sh}.sh"; done
	else
		ls "$dir"/*.sh
	fi
}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT INT TERM
for t in $(scripts "$@"); do
	name=$(basename "$t" .sh)
	case $name in lib | run | tui) continue ;; esac
	limit=$(sed -n 's/^# timeout: \([0-9][0-9]*\)$/\1/p' "$t" | head -n 1)
	echo "${limit:-120} $t"
done | sort -k1,1nr -k2 | cut -d' ' -f2- |
	BIN=$BIN xargs -n 1 -P "${JOBS:-3}" sh "$0" --one "$out"

pass=0
failed=0
skipped=0
for t in $(scripts "$@"); do
	name=$(basename "$t" .sh)
	case $name in lib | run | tui) continue ;; esac
	if [ -f "$out/$name.skip" ]; then
		echo "skip $name ($(cat "$out/$name.skip"))"
		skipped=$((skipped + 1))
	elif [ "$(cat "$out/$name.rc" 2>/dev/null)" = 0 ]; then
		echo "ok   $name ($(cat "$out/$name.s") s)"
		pass=$((pass + 1))
	else
		echo "FAIL $name (exit $(cat "$out/$name.rc" 2>/dev/null || echo "?: never ran"))"
		sed 's/^/     /' "$out/$name.log" 2>/dev/null
		failed=$((failed + 1))
	fi
done
if [ $skipped -gt 0 ]; then
	echo "$pass passed, $failed failed, $skipped skipped"
else
	echo "$pass passed, $failed failed"
fi
[ "$failed" -eq 0 ]
