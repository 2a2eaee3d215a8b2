#!/bin/sh
# man-examples.sh - man/libchat.3 quotes the programs of examples/ as they
# are, so that what the page shows is what `make check` builds and runs.
#
# In the page, a comment line just before an .EX ... .EE block says what the
# block is:
#	.\" examples/NAME.c
# the whole file (this script writes the block), or
#	.\" excerpt of examples/NAME.c
# lines of that file, in a row, as they are there (written by hand, checked).
#
#	sh scripts/man-examples.sh          rewrite every whole-file block
#	sh scripts/man-examples.sh --check  exit 1 if a block and its file differ
#
# In a block, tabs are expanded (man's tab stops are not C's), and the
# characters groff would change are escaped: \ - ' ` ^ ~ and a leading dot.
set -eu
cd "$(dirname "$0")/.."
page=man/libchat.3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/man-examples.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# roff FILE: FILE as it goes between .EX and .EE.
roff() {
	expand -t 8 "$1" | sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/'/\\\\(aq/g" \
		-e 's/`/\\(ga/g' -e 's/\^/\\(ha/g' -e 's/~/\\(ti/g' -e 's/^\./\\\&./'
}

# Every file the page names, in its quoted form, beside the others.
for f in $(sed -n 's/^\.\\" \(excerpt of \)\{0,1\}\(examples\/[A-Za-z0-9_-]*\.c\)$/\2/p' "$page" | sort -u); do
	[ -f "$f" ] || { echo "man-examples: $page quotes $f, which is not there" >&2; exit 1; }
	mkdir -p "$tmp/$(dirname "$f")"
	roff "$f" >"$tmp/$f"
done

# The page with each whole-file block written anew; each excerpt checked.
awk -v dir="$tmp" -v page="$page" '
function fail(msg) { print "man-examples: " page ":" NR ": " msg > "/dev/stderr"; bad = 1 }
mode == "" && /^\.\\" (excerpt of )?examples\/[A-Za-z0-9_-]*\.c$/ {
	print
	file = $NF
	mode = ($2 == "excerpt") ? "excerpt" : "whole"
	if ((getline line) <= 0 || line != ".EX") {
		fail("no .EX after the line that names " file)
		exit 1
	}
	print line
	text = ""
	next
}
mode != "" && $0 == ".EE" {
	if (mode == "whole") {
		while ((getline l < (dir "/" file)) > 0)
			print l
		close(dir "/" file)
	} else {
		whole = ""
		while ((getline l < (dir "/" file)) > 0)
			whole = whole l "\n"
		close(dir "/" file)
		printf "%s", text
		if (index(whole, text) == 0)
			fail("the excerpt before this line is not in " file " as it is now")
	}
	print
	mode = ""
	next
}
mode == "excerpt" { text = text $0 "\n"; next }
mode == "whole" { next }
{ print }
END {
	if (mode != "") fail("no .EE for the block of " file)
	exit bad
}' "$page" >"$tmp/page" || exit 1

if [ "${1:-}" = --check ]; then
	if ! cmp -s "$tmp/page" "$page"; then
		echo "man-examples: $page does not quote examples/ as they are now:" >&2
		diff "$page" "$tmp/page" | head -n 20 >&2
		echo "man-examples: run sh scripts/man-examples.sh, and read what it changed" >&2
		exit 1
	fi
else
	cp "$tmp/page" "$page"
fi
