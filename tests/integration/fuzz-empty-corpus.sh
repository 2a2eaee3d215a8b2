# A fuzz target's replayer (make unit runs one per tests/fuzz/corpus/NAME)
# takes an empty corpus directory, as a new target has before its seeds:
# nothing to run is a pass, not undefined behaviour (qsort of NULL).
. "$(dirname "$0")/lib.sh"
mkdir "$T/corpus"
n=0
for t in "$BIN"/tests/fuzz-*; do
	case $t in *.d) continue ;; esac
	n=$((n + 1))
	expect_exit 0 "$t" "$T/corpus"
	expect_not_in "$T/err" "runtime error"
done
[ "$n" -gt 0 ] || fail "no fuzz replayer in $BIN/tests (make SAN=1 tests)"
exit 0
