#!/usr/bin/env python3
# seeds.py - writes the starting corpus of each fuzz target into
# tests/fuzz/corpus/NAME/ (run from the top of the tree). The keys are those of
# fuzz-keys.h, computed with the "cryptography" package, so that frames can
# carry real sender keys and get past the key checks. Files are small and
# named for what they hold; libFuzzer adds its own finds under build/fuzz/.
# (corpus/ratchet/ is not written here: fuzz-ratchet.c writes it itself, run
# with RATCHET_WRITE_SEEDS=tests/fuzz/corpus/ratchet, as its seeds are ratchet output;
# likewise corpus/senderkey/, with SENDERKEY_WRITE_SEEDS=tests/fuzz/corpus/senderkey.)
import base64, os, json, hashlib
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives import serialization as S

RAW = (S.Encoding.Raw, S.PublicFormat.Raw)
b64 = lambda b: base64.b64encode(b).decode()

def signer(tag): return Ed25519PrivateKey.from_private_bytes(bytes([tag]) * 32)

def identity(tag):
    sk = signer(tag)
    x = bytearray([(tag + 0x40) & 0xff] * 32)
    x[0] &= 248; x[31] &= 127; x[31] |= 64
    xk = X25519PrivateKey.from_private_bytes(bytes(x))
    ik, xpk = sk.public_key().public_bytes(*RAW), xk.public_key().public_bytes(*RAW)
    return {"identityKey": b64(ik), "exchangeKey": b64(xpk),
            "exchangeKeySig": b64(sk.sign(b"chat-xkey-v1" + xpk))}

ALICE, BOB, CAROL, TABLET = identity(1), identity(2), identity(3), identity(4)
DIRECT, GROUP = "1010101010101010", "1111111111111111"
A_MSG, B_MSG = "a" * 32, "b" * 32

def mid(n): return hashlib.sha256(str(n).encode()).hexdigest()[:32]
def j(o): return json.dumps(o, separators=(",", ":"))

def write(target, name, data):
    d = os.path.join("tests/fuzz/corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

# ---- bodies: text, receipt, attachments (also the plaintext of frame modes 1, 2)
def receipt(status, ids, at=1795000000456):
    return bytes([2, status]) + at.to_bytes(8, "big") + b"".join(bytes.fromhex(i) for i in ids)

att = {"blobId": "5e" * 16, "name": "photo.jpg", "type": "image/jpeg", "size": 1000,
       "encSize": 24 + 1000 + 17, "key": b64(bytes(32)), "sha256": "ab" * 32}
bodies = {
    "text": b"\x01hello, bob",
    "text-empty": b"\x01",
    "text-not-utf8": b"\x01\xff\xfe",
    "text-nul": b"\x01a\x00b",
    "receipt-delivered": receipt(1, [B_MSG]),
    "receipt-read-mine": receipt(2, [A_MSG]),
    "receipt-ten": receipt(1, [B_MSG] + [mid(i) for i in range(9)]),
    "receipt-short": b"\x02\x01\x00",
    "receipt-bad-status": receipt(7, [B_MSG]),
    "attach": b"\x03" + j({"text": "look", "attachments": [att]}).encode(),
    "attach-bad-encsize": b"\x03" + j({"text": "", "attachments": [dict(att, encSize=5)]}).encode(),
    "attach-nul": b'\x03{"text":"\\u0000","attachments":[]}',
    "unknown-kind": b"\x7fwhatever",
    "empty": b"",
}
def pad(p):
    b = 256
    while b < len(p) + 1: b *= 2
    return p + b"\x80" + b"\0" * (min(b, 66544) - len(p) - 1)
for name, body in bodies.items():
    write("body", name, body)
    write("body", name + ".padded", pad(body))
write("body", "bad-padding", b"\x01hi" + b"\0" * 253)

# frame modes 1 (newMessage) and 2 (receipt): a selector byte, then the body.
# Selector: who = b % 3 (alice/1, bob/2, carol/1), group = (b / 3) % 2.
for name, body in bodies.items():
    write("frame", "sealed-message-alice-" + name, b"1" + bytes([0]) + body)
    write("frame", "sealed-receipt-alice-" + name, b"2" + bytes([0]) + body)
write("frame", "sealed-receipt-tablet-read", b"2" + bytes([1]) + receipt(2, [A_MSG]))
write("frame", "sealed-message-carol-group", b"1" + bytes([5]) + bodies["text"])
# A receipt in the group about a message of the direct chat: ignored, not news.
write("frame", "sealed-receipt-alice-other-chat", b"2" + bytes([3]) + receipt(1, [B_MSG]))

# ---- frames from the server (frame mode 0: '0', then frames by lines)
def sender(user, dev, keys): return dict({"user": user, "deviceId": dev}, **keys)
def new_message(chat, m, who, ct, seq=5, nonce=bytes(24)):
    return {"type": "newMessage", "chatId": chat, "messageId": m, "seq": seq,
            "sentAt": 1795000000123, "sender": who, "nonce": b64(nonce), "ciphertext": b64(ct)}
frames = {
    "hello": {"type": "hello", "protocol": 1, "server": "chat-server/0.1.0",
              "challenge": b64(bytes(32)), "limits": {"maxFrame": 1048576, "maxBlob": 1000}},
    "hello-v2": {"type": "hello", "protocol": 2, "challenge": b64(bytes(32))},
    "junk-message": new_message(DIRECT, mid(1), sender("alice", 1, ALICE), os.urandom(64)),
    "short-ciphertext": new_message(DIRECT, mid(2), sender("alice", 1, ALICE), b"12345678"),
    "changed-key": new_message(DIRECT, mid(3), sender("alice", 1, CAROL), os.urandom(64)),
    "new-device": new_message(DIRECT, mid(4), sender("alice", 2, dict(TABLET,
                              approverKey=ALICE["identityKey"], approval=b64(bytes(64)))), os.urandom(64)),
    "unknown-chat": new_message("2222222222222222", mid(5), sender("alice", 1, ALICE), os.urandom(300)),
    "junk-receipt": {"type": "receipt", "chatId": DIRECT, "receiptId": mid(6), "sentAt": 1,
                     "sender": sender("alice", 1, ALICE), "nonce": b64(bytes(24)),
                     "ciphertext": b64(os.urandom(272))},
    "chat-update": {"type": "chatUpdate", "chatId": GROUP, "updateId": mid(7), "seq": 3,
                    "sentAt": 1795000000456, "kind": "group", "name": "climbing", "actor": "alice",
                    "operation": "add", "users": ["dave"],
                    "participants": ["alice", "bob", "carol", "dave"], "admins": ["alice"]},
    "missed": {"type": "missed", "count": 3, "oldest": 1795000000000},
    "drained": {"type": "drained", "pending": 0},
    "linked": {"type": "linked", "user": "bob", "deviceId": 3},
    "error-null-id": {"id": None, "ok": False, "error": {"code": "bad_request", "message": "x"}},
    "rate-limited": {"id": 1, "ok": False, "error": {"code": "rate_limited", "message": "x",
                                                     "retryAfterMs": 120}},
}
for name, f in frames.items():
    write("frame", name, "0" + j(f))
# Sequences: a request caused by one frame, answered by the next (ids start at 1).
write("frame", "unknown-chat-then-getchat",
      "0" + j(frames["unknown-chat"]) + "\n" + j({"id": 1, "ok": True, "chatId": "2222222222222222",
      "kind": "group", "name": "new", "participants": ["alice", "bob"], "admins": ["alice"],
      "createdAt": 1}))
write("frame", "hello-then-auth", "0" + j(frames["hello"]) + "\n" +
      j({"id": 1, "ok": True, "user": "bob", "deviceId": 1}) + "\n" + j(frames["drained"]))
write("frame", "nul-in-chat-id", '0{"type":"newMessage","chatId":"1010101010101010\\u0000x",'
      '"messageId":"' + mid(8) + '","seq":1,"sentAt":1,"sender":{"user":"alice","deviceId":1}}')
write("frame", "surrogate", '0{"type":"chatUpdate","chatId":"' + GROUP + '","actor":"\\ud800"}')
write("frame", "not-json", "0{\"type\":")
write("frame", "binaryish", b"0\x00\xff\xfe{}")

# Frame mode 3: a getKeys of alice, carol and dave is under way (id 1).
def approved(tag, user, by):
    d = identity(tag)
    ik, xk = base64.b64decode(d["identityKey"]), base64.b64decode(d["exchangeKey"])
    sig = signer(by).sign(b"chat-device-v1" + user.encode() + b"\0" + ik + xk)
    return dict(d, approverKey=identity(by)["identityKey"], approval=b64(sig))
def dev(n, keys, name="x"): return dict({"deviceId": n, "name": name, "approverKey": None,
                                         "approval": None}, **keys)
def keys_reply(users): return "3" + j({"id": 1, "ok": True, "users": users})
write("frame", "keys-same", keys_reply([{"user": "alice", "devices": [dev(1, ALICE)]},
      {"user": "carol", "devices": [dev(1, CAROL)]}, {"user": "dave", "devices": [dev(1, identity(7))]}]))
write("frame", "keys-new-approved", keys_reply([{"user": "alice", "devices": [dev(1, ALICE),
      dict(approved(8, "alice", 1), deviceId=2, name="phone")]},
      {"user": "carol", "devices": [dev(1, CAROL)]}, {"user": "dave", "devices": []}]))
write("frame", "keys-bad-approval", keys_reply([{"user": "alice", "devices": [dev(1, ALICE),
      dict(approved(8, "alice", 3), deviceId=2)]}]))
write("frame", "keys-changed", keys_reply([{"user": "alice", "devices": [dev(1, identity(9))]}]))
write("frame", "keys-removed", keys_reply([{"user": "alice", "devices": [dev(1, ALICE)]},
      {"user": "carol", "devices": []}]))
write("frame", "keys-refused", "3" + j({"id": 1, "ok": False,
      "error": {"code": "unknown_user", "message": "no user named 'dave'"}}))

# ---- frames to the server (wire: a byte picking the connection, then lines)
# '0' (48 % 4 = 0): not authenticated; '1' alice/1; '2' bob/1; '3' carol/1;
# 0x80: not authenticated, then signed in as alice/1 by the target itself.
SERVER = "127.0.0.1:8700"
def env(user, dev, ct=bytes(272)): return {"user": user, "deviceId": dev, "nonce": b64(bytes(24)),
                                           "ciphertext": b64(ct)}
# A stage 2 envelope (issue 13): no nonce.
def env2(user, dev, ct=bytes(312)): return {"user": user, "deviceId": dev, "ciphertext": b64(ct)}
reqs = {
    "0-register": {"id": 1, "type": "register", "user": "dave", "deviceName": "laptop",
                   "server": SERVER, "signature": b64(bytes(64)), **identity(5)},
    "0-register-other-server": {"id": 1, "type": "register", "user": "dave", "server": "evil:1",
                                "signature": b64(bytes(64)), **identity(5)},
    "0-auth": {"id": 1, "type": "auth", "user": "alice", "deviceId": 1, "server": SERVER,
               "signature": b64(bytes(64))},
    "0-link": {"id": 1, "type": "linkDevice", "user": "alice", "deviceName": "phone",
               "server": SERVER, "linkMac": b64(bytes(32)), "signature": b64(bytes(64)),
               **identity(6)},
    "0-getkeys": {"id": 1, "type": "getKeys", "users": ["alice"]},
    "1-getkeys": {"id": 1, "type": "getKeys", "users": ["bob", "carol"]},
    "1-create-direct": {"id": 2, "type": "createChat", "participants": ["carol"]},
    "1-create-group": {"id": 2, "type": "createChat", "name": "g", "participants": ["bob", "carol"]},
    "1-getchat": {"id": 3, "type": "getChat", "chatId": GROUP},
    "1-send": {"id": 4, "type": "sendMessage", "chatId": DIRECT, "messageId": mid(10),
               "envelopes": [env("bob", 1), env("bob", 2)]},
    "1-send-mismatch": {"id": 4, "type": "sendMessage", "chatId": DIRECT, "messageId": mid(11),
                        "envelopes": [env("bob", 1)]},
    "1-send-short": {"id": 4, "type": "sendMessage", "chatId": DIRECT, "messageId": mid(12),
                     "envelopes": [env("bob", 1, b"x"), env("bob", 2)]},
    "2-send-group": {"id": 4, "type": "sendMessage", "chatId": GROUP, "messageId": mid(13),
                     "envelopes": [env("alice", 1), env("carol", 1), env("bob", 2)]},
    "1-send-stage2": {"id": 4, "type": "sendMessage", "chatId": DIRECT, "messageId": mid(15),
                      "envelopes": [env2("bob", 1), env("bob", 2)]},
    "1-receipt-stage2": {"id": 5, "type": "sendReceipt", "chatId": DIRECT, "receiptId": mid(16),
                         "envelopes": [env2("bob", 2)]},
    "1-receipt": {"id": 5, "type": "sendReceipt", "chatId": DIRECT, "receiptId": mid(14),
                  "envelopes": [env("bob", 2)]},
    "2-ack": {"id": 6, "type": "ack", "messageIds": [mid(10), mid(13)]},
    "1-add": {"id": 7, "type": "modifyChatParticipants", "chatId": GROUP, "operation": "ADD",
              "users": ["dave"]},
    "1-remove": {"id": 7, "type": "modifyChatParticipants", "chatId": GROUP, "operation": "REMOVE",
                 "users": ["carol"]},
    "3-leave": {"id": 7, "type": "modifyChatParticipants", "chatId": GROUP, "operation": "REMOVE",
                "users": ["carol"]},
    "1-target": {"id": 8, "type": "getAttachmentTarget", "size": 1000},
    "1-download": {"id": 9, "type": "getAttachmentDownload", "blobId": "5e" * 16},
    "1-lastseen": {"id": 10, "type": "getLastSeen", "users": ["bob", "carol"]},
    "1-privacy": {"id": 11, "type": "setPrivacy", "hideLastSeen": True},
    "2-getlink": {"id": 12, "type": "getLink"},
    "2-approve": {"id": 13, "type": "approveLink", "identityKey": identity(6)["identityKey"],
                  "approval": b64(bytes(64))},
    "2-remove-device": {"id": 14, "type": "removeDevice", "deviceId": 5},
    "1-unknown": {"id": 15, "type": "frobnicate"},
}
for name, r in reqs.items():
    write("wire", name, name[0] + j(r))
write("wire", "signed-in-then-send", b"\x80" + j(reqs["1-send"]).encode() + b"\n" +
      j(reqs["1-getkeys"]).encode())
write("wire", "1-send-then-resend", "1" + j(reqs["1-send"]) + "\n" + j(reqs["1-send"]))
write("wire", "1-target-2e64", '1{"id":8,"type":"getAttachmentTarget","size":18446744073709551616}')
write("wire", "1-nul-user", '1{"id":1,"type":"getKeys","users":["bob\\u0000x"]}')
write("wire", "1-surrogate", '1{"id":2,"type":"createChat","name":"\\ud800","participants":["bob"]}')
write("wire", "0-not-json", "0{\"id\":1,")
write("wire", "1-deep", "1" + "[" * 2000)

# Prekeys (PROTOCOL.md, "uploadPrekeys"): alice/1's signed prekey, signed by
# her identity key (or forged, by bob's), and one-time prekeys.
def spk(sid, signer_tag=1):
    key = bytes([0x55]) * 32
    sig = signer(signer_tag).sign(b"chat-spk-v1" + sid.to_bytes(4, "big") + key)
    return {"id": sid, "key": b64(key), "sig": b64(sig)}
def opks(first, n): return [{"id": first + i, "key": b64(bytes([i]) * 32)} for i in range(n)]
upload = {"id": 20, "type": "uploadPrekeys", "signedPrekey": spk(7), "oneTimePrekeys": opks(1, 3)}
write("wire", "1-prekeys-upload-then-bundles", "1" + j(upload) + "\n" +
      j({"id": 21, "type": "getPrekeyBundle", "user": "alice"}) + "\n" +
      j({"id": 22, "type": "getPrekeyBundle", "user": "alice", "deviceId": 1}))
write("wire", "1-prekeys-forged", "1" + j(dict(upload, signedPrekey=spk(7, 2))))
write("wire", "1-prekeys-without-spk", "1" + j({"id": 20, "type": "uploadPrekeys",
                                                  "oneTimePrekeys": opks(1, 2)}))
write("wire", "1-prekeys-id-2e32", "1" + j({"id": 20, "type": "uploadPrekeys",
                                              "signedPrekey": dict(spk(7), id=4294967296)}))
write("wire", "2-prekeys-bundle-device", '2{"id":23,"type":"getPrekeyBundle","user":"bob","deviceId":2}')
