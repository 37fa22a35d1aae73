"""PBKDF2-HMAC-SM3, the password hasher for 密评 (GB/T 39786 level 3: 登录口令以 SM3 保护).

The same construction as Django's PBKDF2-SHA256 (PBKDF2, RFC 8018, with a random salt and the
same iteration count) with HMAC over SM3 (GB/T 32905) instead of SHA-256, computed by
``cryptography`` (OpenSSL's SM3, built into its wheels; no pure-Python SM3 is needed). The encoded
form is ``pbkdf2_sm3$<iterations>$<salt>$<base64 digest>``, so Django verifies and upgrades it like
any other hash. Chosen by ``JIXIAO_PASSWORD_HASHER=sm3`` (docs/sm-crypto.md).
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from jixiao.sm3 import SM3_DIGEST_BYTES


def pbkdf2_sm3(password: bytes, salt: bytes, iterations: int, length: int = SM3_DIGEST_BYTES) -> bytes:
    """Return PBKDF2-HMAC-SM3 of ``password`` (``length`` bytes)."""
    return PBKDF2HMAC(algorithm=hashes.SM3(), length=length, salt=salt, iterations=iterations).derive(
        password
    )


class PBKDF2SM3PasswordHasher(PBKDF2PasswordHasher):
    algorithm = "pbkdf2_sm3"

    def encode(self, password: str, salt: str, iterations: int | None = None) -> str:
        if password is None or not salt or "$" in salt:
            raise ValueError("a password and a salt without '$' are required")
        iterations = iterations or self.iterations
        digest = pbkdf2_sm3(password.encode(), salt.encode(), iterations)
        return f"{self.algorithm}${iterations}${salt}${base64.b64encode(digest).decode('ascii').strip()}"
