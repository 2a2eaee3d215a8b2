#!/usr/bin/env python3
# Independent computation of docs/PROTOCOL.md's worked examples: Python's
# hashlib/hmac and the "cryptography" package (X25519, ChaCha20-Poly1305);
# HChaCha20 (for XChaCha20) written out here from draft-irtf-cfrg-xchacha.
import hashlib, hmac, struct
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

def rotl(v, c): return ((v << c) & 0xffffffff) | (v >> (32 - c))
def qr(x, a, b, c, d):
    x[a] = (x[a] + x[b]) & 0xffffffff; x[d] = rotl(x[d] ^ x[a], 16)
    x[c] = (x[c] + x[d]) & 0xffffffff; x[b] = rotl(x[b] ^ x[c], 12)
    x[a] = (x[a] + x[b]) & 0xffffffff; x[d] = rotl(x[d] ^ x[a], 8)
    x[c] = (x[c] + x[d]) & 0xffffffff; x[b] = rotl(x[b] ^ x[c], 7)
def hchacha20(key, nonce16):
    x = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]
    x += list(struct.unpack('<8I', key)) + list(struct.unpack('<4I', nonce16))
    for _ in range(10):
        qr(x, 0, 4, 8, 12); qr(x, 1, 5, 9, 13); qr(x, 2, 6, 10, 14); qr(x, 3, 7, 11, 15)
        qr(x, 0, 5, 10, 15); qr(x, 1, 6, 11, 12); qr(x, 2, 7, 8, 13); qr(x, 3, 4, 9, 14)
    return struct.pack('<8I', *(x[0:4] + x[12:16]))
def xchacha_encrypt(key, nonce24, pt, ad):
    sub = hchacha20(key, nonce24[:16])
    return ChaCha20Poly1305(sub).encrypt(b'\0' * 4 + nonce24[16:], pt, ad)

# HChaCha20 self-check: draft-irtf-cfrg-xchacha-03 section 2.2.1.
k = bytes(range(32)); n = bytes.fromhex('000000090000004a0000000031415927')
assert hchacha20(k, n).hex() == '82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc'
# XChaCha20-Poly1305 self-check: the draft's A.3.1 (also in test_crypto.c).
pt = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it."
ad = bytes.fromhex('50515253c0c1c2c3c4c5c6c7')
key = bytes(range(0x80, 0xa0)); nonce = bytes(range(0x40, 0x58))
ct = xchacha_encrypt(key, nonce, pt, ad)
assert ct[-16:].hex() == 'c0875924c1c7987947deafd8780acf49', ct[-16:].hex()

def hkdf(salt, ikm, info, L):
    if salt is None: salt = b'\0' * 32      # RFC 5869 2.2: HashLen zeros
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, t, i = b'', b'', 1
    while len(out) < L:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest(); out += t; i += 1
    return prk, out[:L]

def pad(pt):
    b = 256
    while b < len(pt) + 1: b *= 2
    b = min(b, 66544)
    return pt + b'\x80' + b'\0' * (b - len(pt) - 1)

# RFC 7748 6.1 keys: alice (sender, device 1) and bob (recipient, device 2).
a_sk = bytes.fromhex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')
b_sk = bytes.fromhex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb')
A = X25519PrivateKey.from_private_bytes(a_sk); B = X25519PrivateKey.from_private_bytes(b_sk)
from cryptography.hazmat.primitives import serialization as S
raw = lambda k: k.public_key().public_bytes(S.Encoding.Raw, S.PublicFormat.Raw)
a_pk, b_pk = raw(A), raw(B)
shared = A.exchange(X25519PublicKey.from_public_bytes(b_pk))
assert shared == B.exchange(X25519PublicKey.from_public_bytes(a_pk))
info = b'chat-e2e-v1 key' + a_pk + b_pk
prk, key = hkdf(None, shared, info, 32)
# HMAC keys are zero-padded to the block: no salt, empty salt and 32 zero bytes agree.
assert hkdf(b'', shared, info, 32)[1] == key

def ad_of(label, chat, mid, su, sd, ru, rd):
    return b'\0'.join(x.encode() for x in [label, chat, mid, su, str(sd), ru, str(rd)])

chat = '9f1c0a6e2b7d4c13'; mid = '4be0a1f3c2d94e6f8a7b6c5d4e3f2a1b'
AD = ad_of('chat-e2e-v2', chat, mid, 'alice', 1, 'bob', 2)
nonce = bytes(range(24))
plain = b'\x01hi'
ct = xchacha_encrypt(key, nonce, pad(plain), AD)
print('a_pk', a_pk.hex()); print('b_pk', b_pk.hex()); print('shared', shared.hex())
print('info', info.hex()); print('prk', prk.hex()); print('key', key.hex())
print('AD', AD.hex()); print('AD len', len(AD))
print('padded len', len(pad(plain)))
print('ct len', len(ct)); print('ct', ct.hex())
print('sha256(ct)', hashlib.sha256(ct).hexdigest())

# A receipt: delivered (1), at 1795000000456 ms, about message mid, under the
# receipt id in the message-id slot.
rid = '7d2c0b5e9a8f4d3c2b1a09f8e7d6c5b4'
rbody = bytes([2, 1]) + (1795000000456).to_bytes(8, 'big') + bytes.fromhex(mid)
print('receipt pt', rbody.hex(), len(rbody))
RAD = ad_of('chat-e2e-v2', chat, rid, 'bob', 2, 'alice', 1)
print('receipt AD', RAD.hex())
# the reverse direction key: info with bob first
_, rkey = hkdf(None, shared, b'chat-e2e-v1 key' + b_pk + a_pk, 32)
rct = xchacha_encrypt(rkey, bytes(range(24, 48)), pad(rbody), RAD)
print('receipt key', rkey.hex())
print('receipt ct sha256', hashlib.sha256(rct).hexdigest(), len(rct))

# Legacy v1 of the same message: unpadded, label v1.
AD1 = ad_of('chat-e2e-v1', chat, mid, 'alice', 1, 'bob', 2)
ct1 = xchacha_encrypt(key, nonce, plain, AD1)
print('v1 ct', ct1.hex(), len(ct1))

# Safety number: a = alice's list (device 1, ik = 32 x 0x07), b = bob's
# (device 1: 32 x 0x09, device 2: 32 x 0x0b); alice sorts first.
la = (1).to_bytes(4, 'big') + b'\x07' * 32
lb = (1).to_bytes(4, 'big') + b'\x09' * 32 + (2).to_bytes(4, 'big') + b'\x0b' * 32
h = hashlib.sha512(b'chat-safety-v1' + la + b'\0' + lb).digest()
bits = int.from_bytes(h[:30], 'big')
groups = [(bits >> (240 - 20 * (g + 1))) & 0xfffff for g in range(12)]
print('sha512[:30]', h[:30].hex())
print('groups20', [hex(g) for g in groups[:2]])
print('safety', ' '.join('%05d' % (g % 100000) for g in groups))

# Sender keys (common/senderkey.h): key id 0x01020304, iteration 0, chain key
# 32 x 0x5c, signing seed 32 x 0x5d; AD chat id 16 x 0x11, message id
# 16 x 0x22, alice device 1; plaintext pad("hello, group") (256 bytes).
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization
sk_ck = b'\x5c' * 32
sk_sign = Ed25519PrivateKey.from_private_bytes(b'\x5d' * 32)
sk_pk = sk_sign.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
sk_mk = hmac.new(sk_ck, b'\x01', hashlib.sha256).digest()
sk_ck1 = hmac.new(sk_ck, b'\x02', hashlib.sha256).digest()
_, sk_kn = hkdf(None, sk_mk, b'chat-sk-v1 msg', 56)
sk_hdr = struct.pack('>II', 0x01020304, 0)
SKAD = (b'chat-sk-v1' + struct.pack('>H', 16) + b'\x11' * 16 + struct.pack('>H', 16) + b'\x22' * 16
        + struct.pack('>H', 5) + b'alice' + struct.pack('>I', 1) + sk_hdr)
sk_ct = xchacha_encrypt(sk_kn[:32], sk_kn[32:], pad(b'hello, group'), SKAD)
sk_sig = sk_sign.sign(SKAD + sk_hdr + sk_ct)
sk_msg = sk_hdr + sk_ct + sk_sig
print('sk sign pk', sk_pk.hex())
print('sk distribution', (b'\x04' + sk_hdr + sk_ck + sk_pk).hex())
print('sk mk0', sk_mk.hex(), 'ck1', sk_ck1.hex())
print('sk ct[:16]', sk_ct[:16].hex(), 'sig', sk_sig.hex())
print('sk message', len(sk_msg), 'bytes, sha256', hashlib.sha256(sk_msg).hexdigest())
# The second message, the same plaintext and AD fields (iteration 1).
_, sk_kn1 = hkdf(None, hmac.new(sk_ck1, b'\x01', hashlib.sha256).digest(), b'chat-sk-v1 msg', 56)
sk_hdr1 = struct.pack('>II', 0x01020304, 1)
SKAD1 = SKAD[:-8] + sk_hdr1
sk_ct1 = xchacha_encrypt(sk_kn1[:32], sk_kn1[32:], pad(b'hello, group'), SKAD1)
sk_msg1 = sk_hdr1 + sk_ct1 + sk_sign.sign(SKAD1 + sk_hdr1 + sk_ct1)
print('sk second message sha256', hashlib.sha256(sk_msg1).hexdigest())

# X3DH and the Double Ratchet (common/x3dh.h, common/ratchet.h): every secret
# 32 copies of one byte. Alice: IK_A 0x0a, EK_A 0xea, first ratchet key 0xa1;
# Bob: identityKey seed 0x1b, IK_B 0x0b, SPK 0x5b (id 7), OPK 0x6b (id 42).
# AD fields as raw bytes: chat id 16 x 0x11, message id 16 x 0x22, alice/1 to
# bob/2; plaintext "hello, Bob", unpadded (the ratchet alone).
xpriv = lambda b: X25519PrivateKey.from_private_bytes(bytes([b]) * 32)
xdh = lambda k, p: k.exchange(X25519PublicKey.from_public_bytes(p))
dr_ika, dr_eka, dr_dhs = xpriv(0x0a), xpriv(0xea), xpriv(0xa1)
dr_ikb, dr_spk, dr_opk = xpriv(0x0b), xpriv(0x5b), xpriv(0x6b)
dr_idb = Ed25519PrivateKey.from_private_bytes(b'\x1b' * 32)
dr_idb_pk = dr_idb.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
dr_xsig = dr_idb.sign(b'chat-xkey-v1' + raw(dr_ikb))
dr_spksig = dr_idb.sign(b'chat-spk-v1' + struct.pack('>I', 7) + raw(dr_spk))
dr_dh = [xdh(dr_ika, raw(dr_spk)), xdh(dr_eka, raw(dr_ikb)), xdh(dr_eka, raw(dr_spk)), xdh(dr_eka, raw(dr_opk))]
_, dr_sk = hkdf(None, b'\xff' * 32 + b''.join(dr_dh), b'chat-x3dh-v1', 32)
# Bob's side gives the same SK.
dr_dhb = [xdh(dr_spk, raw(dr_ika)), xdh(dr_ikb, raw(dr_eka)), xdh(dr_spk, raw(dr_eka)), xdh(dr_opk, raw(dr_eka))]
assert hkdf(None, b'\xff' * 32 + b''.join(dr_dhb), b'chat-x3dh-v1', 32)[1] == dr_sk
_, dr_okm = hkdf(dr_sk, xdh(dr_dhs, raw(dr_spk)), b'chat-dr-v1 root', 64)
dr_rk, dr_cks = dr_okm[:32], dr_okm[32:]
dr_mk = hmac.new(dr_cks, b'\x01', hashlib.sha256).digest()
_, dr_kn = hkdf(None, dr_mk, b'chat-dr-v1 msg', 56)
dr_hdr = raw(dr_dhs) + struct.pack('>II', 0, 0)
f16 = lambda b: struct.pack('>H', len(b)) + b
DRAD = (b'chat-dr-v1' + f16(raw(dr_ika) + raw(dr_ikb)) + dr_hdr + f16(b'\x11' * 16) + f16(b'\x22' * 16)
        + f16(b'alice') + struct.pack('>I', 1) + f16(b'bob') + struct.pack('>I', 2))
dr_ct = xchacha_encrypt(dr_kn[:32], dr_kn[32:], b'hello, Bob', DRAD)
# The same message as Alice's first envelope: a 0x22 prekey message.
dr_env = b'\x22' + raw(dr_eka) + struct.pack('>IBI', 7, 1, 42) + dr_hdr + dr_ct
print('dr IK_A', raw(dr_ika).hex(), 'EK_A', raw(dr_eka).hex())
print('dr identityKey_B', dr_idb_pk.hex(), 'IK_B', raw(dr_ikb).hex())
print('dr exchangeKeySig_B', dr_xsig.hex())
print('dr SPK', raw(dr_spk).hex(), 'sig', dr_spksig.hex())
print('dr OPK', raw(dr_opk).hex())
print('dr SK', dr_sk.hex())
print('dr RK', dr_rk.hex(), 'CKs', dr_cks.hex())
print('dr mk0', dr_mk.hex(), 'key', dr_kn[:32].hex(), 'nonce', dr_kn[32:].hex())
print('dr AD', len(DRAD), DRAD.hex())
print('dr header', dr_hdr.hex())
print('dr ct', dr_ct.hex())
print('dr 0x22 envelope', len(dr_env), dr_env.hex())
print('dr 0x22 envelope sha256', hashlib.sha256(dr_env).hexdigest())
