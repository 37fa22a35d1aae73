"""SM3 (GB/T 32905) and the RFC 6962 Merkle tree over it. No Django: pure functions.

``cryptography`` ships SM3 in its bundled OpenSSL (checked: SM3("abc") = 66c7f0f4…8f4ba8e0), so
no pure-Python fallback (gmssl, ~1000× slower) is needed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from jixiao.sm3 import Sm3Stream, sm3

__all__ = ["GENESIS", "Sm3Stream", "sm3"]  # re-exported: the ledger's modules import them from here

GENESIS = "0" * 64  # the "previous hash" of the first entry
LEAF, NODE = b"\x00", b"\x01"  # RFC 6962 domain separation of leaves and inner nodes


def canonical(value: Any) -> bytes:
    """Canonical UTF-8 JSON: sorted keys, no spaces (NaN allowed: an old JSON column may hold one)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(prev_hash: str, kind: str, object_id: str, content_digest: str) -> str:
    """Return hex SM3(previous hash || canonical [kind, object id, content digest])."""
    return sm3(bytes.fromhex(prev_hash), canonical([kind, object_id, content_digest])).hex()


def leaf_hash(entry: str) -> bytes:
    return sm3(LEAF, bytes.fromhex(entry))


def _largest_power_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(leaves: Sequence[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = _largest_power_below(len(leaves))
    return sm3(NODE, _mth(leaves[:k]), _mth(leaves[k:]))


def merkle_root(entry_hashes: Sequence[str]) -> str:
    """Return the hex RFC 6962 Merkle tree hash over the entries' hashes (the leaves' data)."""
    if not entry_hashes:
        return sm3().hex()
    return _mth([leaf_hash(h) for h in entry_hashes]).hex()


def _path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = _largest_power_below(len(leaves))
    if m < k:
        return [*_path(m, leaves[:k]), _mth(leaves[k:])]
    return [*_path(m - k, leaves[k:]), _mth(leaves[:k])]


def inclusion_proof(entry_hashes: Sequence[str], index: int) -> list[str]:
    """Return the audit path (hex) proving leaf ``index`` is in the tree of ``entry_hashes``."""
    if not 0 <= index < len(entry_hashes):
        raise IndexError(index)
    return [p.hex() for p in _path(index, [leaf_hash(h) for h in entry_hashes])]


def verify_inclusion(entry: str, index: int, size: int, proof: Sequence[str], root: str) -> bool:
    """Check an inclusion proof (RFC 9162 §2.1.3.2) knowing only the entry, the size and the root."""
    if index >= size:
        return False
    fn, sn = index, size - 1
    r = leaf_hash(entry)
    for p_hex in proof:
        p = bytes.fromhex(p_hex)
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = sm3(NODE, p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = sm3(NODE, r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r.hex() == root
