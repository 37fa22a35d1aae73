"""Sealing a contact (phone number, WeChat openid) while its rating link waits to be sent.

The contact is needed only until the message is handed to the gateway; the outbox keeps it sealed
and empties the field right after sending (or when the link expires). Sealing is AES-256-GCM from
the ``cryptography`` package (authenticated encryption: an altered or foreign ciphertext is
refused), keyed by a key derived from ``SECRET_KEY`` so that no second secret has to be managed.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_NONCE_BYTES: Final = 12
_VERSION: Final = b"\x02"


class SealBroken(Exception):
    """The sealed text was altered or sealed with another key."""


def _aead() -> AESGCM:
    key = hashlib.sha256(b"jixiao.surveys.sealing.aes-gcm|" + settings.SECRET_KEY.encode()).digest()
    return AESGCM(key)


def seal(plaintext: str) -> str:
    """Return ``plaintext`` encrypted and authenticated, as URL-safe base64 text."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    body = _aead().encrypt(nonce, plaintext.encode(), _VERSION)
    return base64.urlsafe_b64encode(_VERSION + nonce + body).decode()


def unseal(sealed: str) -> str:
    """Return the plaintext of :func:`seal`'s output; raise :class:`SealBroken` if it was altered."""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
    except ValueError as exc:
        raise SealBroken(str(exc)) from exc
    if len(raw) < 1 + _NONCE_BYTES + 16 or raw[:1] != _VERSION:
        raise SealBroken("bad format")
    try:
        return _aead().decrypt(raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :], _VERSION).decode()
    except InvalidTag as exc:
        raise SealBroken("tag mismatch") from exc
