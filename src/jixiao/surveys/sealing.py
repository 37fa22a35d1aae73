"""Sealing a contact (phone number, WeChat openid) while its rating link waits to be sent.

The contact is needed only until the message is handed to the gateway; the outbox keeps it sealed
and empties the field right after sending (or when the link expires). The ``cryptography`` package
is not a dependency, so sealing uses the standard library only: a keystream from HMAC-SHA256 in
counter mode keyed by a key derived from ``SECRET_KEY`` (encrypt), then HMAC-SHA256 over nonce and
ciphertext with a second derived key (authenticate). This is the textbook encrypt-then-MAC
construction with HMAC as the PRF; swap in AES-GCM or SM4 when ``cryptography`` is added.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Final

from django.conf import settings

_NONCE_BYTES: Final = 16
_TAG_BYTES: Final = 32
_VERSION: Final = b"\x01"


class SealBroken(Exception):
    """The sealed text was altered or sealed with another key."""


def _keys() -> tuple[bytes, bytes]:
    secret = settings.SECRET_KEY.encode()
    enc = hashlib.sha256(b"jixiao.surveys.sealing.enc|" + secret).digest()
    mac = hashlib.sha256(b"jixiao.surveys.sealing.mac|" + secret).digest()
    return enc, mac


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = []
    for counter in range((length + 31) // 32):
        blocks.append(hmac.new(key, nonce + counter.to_bytes(8, "big"), hashlib.sha256).digest())
    return b"".join(blocks)[:length]


def seal(plaintext: str) -> str:
    """Return ``plaintext`` encrypted and authenticated, as URL-safe base64 text."""
    enc, mac = _keys()
    nonce = secrets.token_bytes(_NONCE_BYTES)
    data = plaintext.encode()
    body = bytes(a ^ b for a, b in zip(data, _keystream(enc, nonce, len(data)), strict=True))
    tag = hmac.new(mac, _VERSION + nonce + body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(_VERSION + nonce + body + tag).decode()


def unseal(sealed: str) -> str:
    """Return the plaintext of :func:`seal`'s output; raise :class:`SealBroken` if it was altered."""
    enc, mac = _keys()
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
    except ValueError as exc:
        raise SealBroken(str(exc)) from exc
    if len(raw) < 1 + _NONCE_BYTES + _TAG_BYTES or raw[:1] != _VERSION:
        raise SealBroken("bad format")
    nonce, body, tag = raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES : -_TAG_BYTES], raw[-_TAG_BYTES:]
    if not hmac.compare_digest(tag, hmac.new(mac, raw[:-_TAG_BYTES], hashlib.sha256).digest()):
        raise SealBroken("tag mismatch")
    return bytes(a ^ b for a, b in zip(body, _keystream(enc, nonce, len(body)), strict=True)).decode()
