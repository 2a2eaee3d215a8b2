# libchat publishes its device's prekeys (PROTOCOL.md, "Prekeys"): after
# `chatctl register` and one command, bob's bundle has a signed prekey that
# verifies under his identity key and a one-time prekey, and two bundles
# carry different one-time prekeys.
. "$(dirname "$0")/lib.sh"
start_server
register alice bob
expect_exit 0 ctl bob recv

raw() { # raw HOME OUT: stdin's frames as HOME's device
	"$PROBE" raw --home "$1" --wait 300 "$URL" > "$2" 2>&1 || fail "probe: $(cat "$2")"
}
printf '{"id":1,"type":"getPrekeyBundle","user":"bob"}\n{"id":2,"type":"getPrekeyBundle","user":"bob"}\n' |
	raw "$T/alice" "$T/b.out"
dev() { # dev ID FIELD: FIELD of bob's device in reply ID
	jq -r "select(.id == $1) | .devices[0].$2 // \"none\"" "$T/b.out"
}
spk_id=$(dev 1 signedPrekey.id)
[ "$spk_id" != none ] || fail "no signed prekey in bob's bundle: $(cat "$T/b.out")"
"$PROBE" verify-spk "$(dev 1 identityKey)" "$spk_id" "$(dev 1 signedPrekey.key)" \
	"$(dev 1 signedPrekey.sig)" || fail "bob's signed prekey does not verify"
k1=$(dev 1 oneTimePrekey.id)
k2=$(dev 2 oneTimePrekey.id)
[ "$k1" != none ] && [ "$k2" != none ] || fail "a bundle without a one-time prekey: $k1 $k2"
[ "$k1" != "$k2" ] || fail "one-time prekey $k1 handed out twice"
[ "$(dev 1 oneTimePrekey.key)" != "$(dev 2 oneTimePrekey.key)" ] || fail "two bundles, one key"
