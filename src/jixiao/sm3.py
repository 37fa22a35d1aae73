"""SM3 (GB/T 32905): the one place the product computes it (passwords, seal keys, the ledger,
backup manifests). ``cryptography`` ships SM3 in its bundled OpenSSL (SM3("abc") = 66c7f0f4…8f4ba8e0,
tested in accounts/tests/test_sm_crypto.py), so no pure-Python implementation is needed. No Django."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes

SM3_DIGEST_BYTES = 32


def sm3(*parts: bytes) -> bytes:
    """The SM3 digest (32 bytes) of the concatenated ``parts``."""
    h = hashes.Hash(hashes.SM3())
    for part in parts:
        h.update(part)
    return h.finalize()


class Sm3Stream:
    """An incremental SM3 (for digests over many rows or a file read in chunks)."""

    def __init__(self) -> None:
        self._h = hashes.Hash(hashes.SM3())

    def update(self, data: bytes) -> None:
        self._h.update(data)

    def hexdigest(self) -> str:
        return self._h.finalize().hex()
