"""Sorting helpers for large integer keys, chosen by measurement (docs/scoring.md, Performance).

On the 2-core machine we measure on, Polars' single-threaded sort of 10 M int64 *values* takes
~0.25 s of CPU where NumPy's in-place ``ndarray.sort`` takes ~0.8 s and ``np.argsort`` ~2 s. So
an argsort is done as a value sort: the row index is packed into the low bits of the key, which
also makes it stable (ties keep row order) and therefore equal, index for index, to
``np.argsort(key, kind="stable")``. Already sorted keys (an adapter reading in key order) are
recognised by one linear pass and not sorted at all.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from numpy.typing import NDArray

I64 = NDArray[np.int64]
PACK_BITS = 62  # key bits + index bits; keeps the packed values non-negative int64


def is_sorted(values: I64) -> bool:
    """Return whether ``values`` is ascending (ties allowed)."""
    return values.size < 2 or bool(np.all(values[1:] >= values[:-1]))


def sort_values(values: I64) -> I64:
    """Return ``values`` sorted ascending (a new array, or ``values`` itself when already sorted)."""
    if is_sorted(values):
        return values
    out: I64 = pl.Series(values, dtype=pl.Int64).sort(multithreaded=False).to_numpy(writable=True)
    return out


def stable_argsort(key: I64) -> I64:
    """Return ``np.argsort(key, kind="stable")`` for non-negative int64 keys, usually faster."""
    n = key.size
    if is_sorted(key):
        return np.arange(n, dtype=np.int64)
    idx_bits = max(int(n - 1).bit_length(), 1)
    top = int(key.max())
    if int(key.min()) < 0 or top.bit_length() + idx_bits > PACK_BITS:
        return np.argsort(key, kind="stable").astype(np.int64)
    packed = key << idx_bits
    packed |= np.arange(n, dtype=np.int64)
    packed = sort_values(packed)
    packed &= (1 << idx_bits) - 1
    return packed


def unique_inverse(key: I64) -> tuple[I64, I64]:
    """Return ``np.unique(key, return_inverse=True)`` for non-negative int64 keys (1-D)."""
    if key.size == 0:
        return key.copy(), np.zeros(0, dtype=np.int64)
    order = stable_argsort(key)
    ordered = key[order]
    new = np.empty(key.size, dtype=np.bool_)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    inverse = np.empty(key.size, dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse
