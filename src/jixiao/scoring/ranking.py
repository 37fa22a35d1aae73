"""Ranking within each category, with a deterministic tie-break.

Order: higher total (rounded to the scheme's ``score_decimals``, see ``round_scores``), then each of the category's
``tie_break`` components (rounded the same way, higher first), then entity id ascending
(code-point order). Ranks run 1…n with no shared places.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from jixiao.scoring.frames import EntityTable
from jixiao.scoring.scheme import Scheme

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


SNAP_DECIMALS = 9  # floating-point noise (~1e-13) is absorbed before rounding to what is published


def round_scores(values: F64, decimals: int) -> F64:
    """Round as published: snap to 9 decimals, then round half-even to ``decimals`` places.

    The snap makes two computations of the same mathematical value that differ in the last bit
    (different summation order) round the same way even when the value sits on a rounding edge.
    """
    snapped = np.round(values, SNAP_DECIMALS)
    return np.asarray(np.round(snapped, decimals), dtype=np.float64)


def rank_within_categories(scheme: Scheme, ents: EntityTable, total: F64, components: F64) -> tuple[I64, I64]:
    """Return (rank, category size) for every entity; ``total`` is already rounded."""
    rank = np.zeros(ents.size, dtype=np.int64)
    size = np.zeros(ents.size, dtype=np.int64)
    for ci, category in enumerate(scheme.categories):
        members = np.flatnonzero(ents.category == ci)
        if members.size == 0:
            continue
        codes = category.component_codes()
        keys: list[NDArray[np.generic]] = [members]  # entity index order is id order
        for code in reversed(category.tie_break):
            keys.append(-round_scores(components[members, codes.index(code)], scheme.score_decimals))
        keys.append(-total[members])
        order = members[np.lexsort(tuple(keys))]
        rank[order] = np.arange(1, members.size + 1)
        size[members] = members.size
    return rank, size
