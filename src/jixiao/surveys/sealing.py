"""Sealing a contact (phone number, WeChat openid) while its rating link waits to be sent.

The contact is needed only until the message is handed to the gateway; the outbox keeps it sealed
and empties the field right after sending (or when the link expires). Sealing is AES-256-GCM from
the ``cryptography`` package (authenticated encryption: an altered or foreign ciphertext is
refused), keyed by a key derived from ``SECRET_KEY`` so that no second secret has to be managed.

``JIXIAO_SEAL_CIPHER=sm4`` seals with SM4-GCM instead (GB/T 32907 block cipher, GCM as in
RFC 8998; key derived with SM3) for 密评 (docs/sm-crypto.md). The first byte names the cipher,
so switching the setting keeps every earlier seal readable.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from jixiao.sm3 import sm3

_NONCE_BYTES: Final = 12
_TAG_BYTES: Final = 16
_VERSION: Final = b"\x02"  # AES-256-GCM
_VERSION_SM4: Final = b"\x03"  # SM4-GCM


class SealBroken(Exception):
    """The sealed text was altered or sealed with another key."""


def _aead() -> AESGCM:
    key = hashlib.sha256(b"jixiao.surveys.sealing.aes-gcm|" + settings.SECRET_KEY.encode()).digest()
    return AESGCM(key)


def _sm4_key() -> bytes:
    return sm3(b"jixiao.surveys.sealing.sm4-gcm|", settings.SECRET_KEY.encode())[:16]  # 128-bit SM4 key


def _sm4_encrypt(nonce: bytes, data: bytes, associated: bytes) -> bytes:
    encryptor = Cipher(algorithms.SM4(_sm4_key()), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(associated)
    return encryptor.update(data) + encryptor.finalize() + encryptor.tag


def _sm4_decrypt(nonce: bytes, body: bytes, associated: bytes) -> bytes:
    decryptor = Cipher(algorithms.SM4(_sm4_key()), modes.GCM(nonce, body[-_TAG_BYTES:])).decryptor()
    decryptor.authenticate_additional_data(associated)
    return decryptor.update(body[:-_TAG_BYTES]) + decryptor.finalize()


def seal(plaintext: str) -> str:
    """Return ``plaintext`` encrypted and authenticated, as URL-safe base64 text."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    if getattr(settings, "JIXIAO_SEAL_CIPHER", "aes") == "sm4":
        body = _sm4_encrypt(nonce, plaintext.encode(), _VERSION_SM4)
        return base64.urlsafe_b64encode(_VERSION_SM4 + nonce + body).decode()
    body = _aead().encrypt(nonce, plaintext.encode(), _VERSION)
    return base64.urlsafe_b64encode(_VERSION + nonce + body).decode()


def unseal(sealed: str) -> str:
    """Return the plaintext of :func:`seal`'s output; raise :class:`SealBroken` if it was altered."""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
    except ValueError as exc:
        raise SealBroken(str(exc)) from exc
    version = raw[:1]
    if len(raw) < 1 + _NONCE_BYTES + _TAG_BYTES or version not in {_VERSION, _VERSION_SM4}:
        raise SealBroken("bad format")
    nonce, body = raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :]
    try:
        if version == _VERSION_SM4:
            return _sm4_decrypt(nonce, body, version).decode()
        return _aead().decrypt(nonce, body, _VERSION).decode()
    except InvalidTag as exc:
        raise SealBroken("tag mismatch") from exc
