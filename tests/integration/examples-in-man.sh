# libchat(3) quotes the programs of examples/ as they are: changed in one
# place and not the other, this fails (scripts/man-examples.sh rewrites the
# page's copies). No server: the page and the files only.
root=$(cd "$(dirname "$0")/../.." && pwd)
sh "$root/scripts/man-examples.sh" --check
