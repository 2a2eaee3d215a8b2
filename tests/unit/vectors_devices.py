#!/usr/bin/env python3
"""Independent known answers for tests/unit/test_devices.c and the worked
examples of docs/PROTOCOL.md ("Session", "Devices"). Not run by make: it needs
the cryptography package (pip install cryptography), which the build does not.
Each printed value appears, byte for byte, in the test and in PROTOCOL.md."""
import base64
import hashlib
import hmac

from cryptography.hazmat.primitives import serialization as S
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey


def raw(k):
    return k.public_key().public_bytes(S.Encoding.Raw, S.PublicFormat.Raw)


seed, xsk = bytes(range(0, 32)), bytes(range(32, 64))
challenge, binding = bytes(range(64, 96)), bytes(range(96, 128))
sk = Ed25519PrivateKey.from_private_bytes(seed)
ask = Ed25519PrivateKey.from_private_bytes(bytes(range(128, 160)))
ik, aik = raw(sk), raw(ask)
xk = raw(X25519PrivateKey.from_private_bytes(xsk))
print("identityKey", ik.hex())
print("exchangeKey", xk.hex())
print("approverKey", aik.hex())

# Session signatures: label || challenge || serverName || 0x00 || binding.
for label, server, b in [("chat-auth-v2", "127.0.0.1:8700", b""),
                         ("chat-auth-v2", "chat.example.org:443", binding),
                         ("chat-register-v2", "127.0.0.1:8700", b""),
                         ("chat-link-v2", "[::1]:8700", b"")]:
    msg = label.encode() + challenge + server.encode() + b"\0" + b
    print(label, server, "binding" if b else "no binding")
    print("  message  ", msg.hex())
    print("  signature", sk.sign(msg).hex())
    print("  base64   ", base64.b64encode(sk.sign(msg)).decode())

# Link code and MAC.
secret = bytes([0x57, 0xe6, 0x5d, 0x56, 0xc8, 0x8f, 0x23, 0x9e, 0x4f, 0x03])
code = base64.b32encode(secret).decode()
print("code", "-".join(code[i:i + 4] for i in range(0, 16, 4)))
label = b"chat-link-code-v2"
prk = hmac.new(bytes(32), secret, hashlib.sha256).digest()       # HKDF-Extract
key = hmac.new(prk, label + b"\x01", hashlib.sha256).digest()    # HKDF-Expand, L = 32
msg = label + b"alice" + b"\0" + ik + xk
mac = hmac.new(key, msg, hashlib.sha256).digest()
print("linkKey", key.hex())
print("linkMessage", msg.hex())
print("linkMac", mac.hex(), base64.b64encode(mac).decode())

# Approval: "chat-device-v1" || user || 0x00 || identityKey || exchangeKey.
msg = b"chat-device-v1" + b"alice\0" + ik + xk
print("approvalMessage", msg.hex())
print("approval", ask.sign(msg).hex())
