#!/bin/sh
# make install, then build and run a program against the installed SDK the way
# a user would: pkg-config libchat, the shared library, the one public header.
set -eu
root=$(mktemp -d "${TMPDIR:-/tmp}/chat-install.XXXXXX")
trap 'rm -rf "$root"' EXIT
prefix=/opt/chat
make --no-print-directory -s install PREFIX=$prefix DESTDIR="$root" >/dev/null
for f in bin/chatctl bin/chat-tui share/man/man1/chat-tui.1 sbin/chat-server lib/libchat.a lib/libchat.so lib/libchat.so.1 \
         include/chat.h lib/pkgconfig/libchat.pc share/man/man1/chatctl.1 \
         share/man/man3/libchat.3 share/man/man8/chat-server.8 \
         share/doc/libchat/examples/send-lines.c share/doc/libchat/examples/echo-bot.c \
         share/doc/libchat/examples/daemon-bot.c; do
	[ -e "$root$prefix/$f" ] || { echo "install-check: $f not installed" >&2; exit 1; }
done
cat > "$root/use.c" <<'C'
#include <chat.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
	struct chat_opts o = CHAT_OPTS_INIT(.home = argv[1]);
	char err[256];
	int rc;
	struct chat_client *c;

	(void)argc;
	c = chat_client_new(&o, NULL, &rc, err, sizeof err);
	if (c == NULL) { fprintf(stderr, "%s\n", err); return 1; }
	printf("%s %s %d\n", chat_version(), chat_strerror(CHAT_ERR_KEY_CHANGED),
	       chat_client_user(c) == NULL);
	chat_client_destroy(c);
	return 0;
}
C
# The .pc file names the final prefix; point pkg-config at the staged copy.
pc="$root/pc"
mkdir -p "$pc"
sed "s|^prefix=.*|prefix=$root$prefix|; s|^libdir=.*|libdir=$root$prefix/lib|; s|^includedir=.*|includedir=$root$prefix/include|" \
	"$root$prefix/lib/pkgconfig/libchat.pc" > "$pc/libchat.pc"
cc -std=c11 -Wall -Wextra -Werror $(PKG_CONFIG_PATH="$pc" pkg-config --cflags libchat) \
	"$root/use.c" -o "$root/use" $(PKG_CONFIG_PATH="$pc" pkg-config --libs libchat)
out=$(LD_LIBRARY_PATH="$root$prefix/lib" "$root/use" "$root/home")
[ "$out" = "$(sed -n 's/^VERSION *:= *//p' Makefile) a contact's key changed 1" ] ||
	{ echo "install-check: unexpected output: $out" >&2; exit 1; }
# It must be the installed shared library that ran, not a static copy.
LD_LIBRARY_PATH="$root$prefix/lib" ldd "$root/use" | grep -q "$root$prefix/lib/libchat.so.1" ||
	{ echo "install-check: not linked to the installed libchat.so" >&2; exit 1; }
# The programs libchat(3) quotes, as installed, built as the page says:
# each with the one header and the one library, nothing of the source tree.
for src in "$root$prefix"/share/doc/libchat/examples/*.c; do
	ex="$root/$(basename "$src" .c)"
	# daemon-bot talks to chatctl daemon with cJSON, as its header says.
	extra=""
	grep -q '^#include <cjson/cJSON.h>' "$src" && extra=$(pkg-config --cflags --libs libcjson)
	cc -std=c11 -Wall -Wextra -Werror $(PKG_CONFIG_PATH="$pc" pkg-config --cflags libchat) \
		"$src" -o "$ex" $(PKG_CONFIG_PATH="$pc" pkg-config --libs libchat) $extra ||
		{ echo "install-check: $src does not build against the installed libchat" >&2; exit 1; }
done
# One of them run: a home not registered is refused with libchat's words.
if echo hi | LD_LIBRARY_PATH="$root$prefix/lib" "$root/send-lines" 0123456789abcdef "$root/home" 2>"$root/err"; then
	echo "install-check: send-lines sent from a home not registered" >&2
	exit 1
fi
grep -q "not registered" "$root/err" ||
	{ echo "install-check: send-lines said: $(cat "$root/err")" >&2; exit 1; }
echo "install-check: ok"
