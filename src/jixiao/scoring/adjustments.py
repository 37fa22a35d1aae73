"""Adjustments (M6, M10, M19): deductions, bonuses, debt, falsification, vetoes, sanctions.

Parsed into per-entity columns; what they do is scheme data (the category's adjustment policy
and grading policy):

- ``deduction`` points (督查扣分) are subtracted from ``deduction_component`` (None: from the total),
  summed per entity and capped at ``deduction_cap``; a component never goes below 0.
- ``bonus`` points are added to ``bonus_component`` (None: the total), capped at ``bonus_cap``.
- ``debt``: points = percentage points of the debt ratio over its limit; the total is multiplied
  by ``max(0, 1 - debt_rate_per_point * points)`` (2% of the score per point by default).
- ``falsification``: the named leaf ``indicator`` scores 0 (and the grade may be forced).
- ``veto_excellent`` (一票否优): the best grade allowed is the policy's ``veto_ceiling``.
- ``sanction`` with ``level``: the heaviest level (the policy's order) applies its effect.
- ``no_grade`` with ``reason``: 不确定等次, no grade this cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

from jixiao.scoring.errors import FactsError
from jixiao.scoring.frames import EntityTable, column, encode, floats, require
from jixiao.scoring.scheme import Scheme
from jixiao.scoring.types import ADJUSTMENT_KINDS

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
BoolArr = NDArray[np.bool_]
POINT_KINDS = ("deduction", "bonus", "debt")


@dataclass(frozen=True)
class EntityAdjustments:
    """Per-entity adjustment columns and the canonical detail table."""

    deduction: F64  # capped sum of deduction points
    bonus: F64  # capped sum of bonus points
    debt_points: F64
    veto: BoolArr
    sanction: I64  # index of the heaviest sanction level in the category's list, -1 none
    no_grade: BoolArr
    no_grade_reason: NDArray[np.object_]
    falsified: BoolArr
    falsified_pairs: tuple[I64, I64]  # (entity, leaf node)
    detail: pl.DataFrame  # entity (index), kind, level, indicator, points, source, reason


def parse_adjustments(
    scheme: Scheme, ents: EntityTable, frame: pl.DataFrame, leaf_node: Callable[[pl.Series, str], I64]
) -> EntityAdjustments:
    """Validate the adjustments table and reduce it to per-entity columns."""
    where = "adjustments"
    require(frame, ["entity", "kind"], where)
    e = encode(frame.get_column("entity"), ents.id_enum, f"{where}.entity")
    kind = encode(frame.get_column("kind"), ADJUSTMENT_KINDS, f"{where}.kind")
    points = floats(frame, "points", where)
    texts = {
        name: column(frame, name, pl.String(), where).fill_null("").to_numpy().astype(np.str_)
        for name in ("level", "indicator", "source", "reason")
    }
    order = np.lexsort(
        (texts["reason"], texts["source"], texts["indicator"], texts["level"], points, kind, e)
    )
    e, kind, points = e[order], kind[order], points[order]
    texts = {k: v[order] for k, v in texts.items()}
    is_point = np.isin(kind, [ADJUSTMENT_KINDS.index(k) for k in POINT_KINDS])
    if np.any(is_point & ~(np.isfinite(points) & (points >= 0))):
        raise FactsError(f"{where}.points", "deduction, bonus and debt rows need points ≥ 0")
    n = ents.size
    cats = scheme.categories
    ded_cap = np.array(
        [np.inf if c.adjustments.deduction_cap is None else c.adjustments.deduction_cap for c in cats]
    )
    bonus_cap = np.array(
        [np.inf if c.adjustments.bonus_cap is None else c.adjustments.bonus_cap for c in cats]
    )

    def total(name: str) -> F64:
        sel = kind == ADJUSTMENT_KINDS.index(name)
        return np.bincount(e[sel], weights=points[sel], minlength=n).astype(np.float64)

    deduction = np.minimum(total("deduction"), ded_cap[ents.category])
    bonus = np.minimum(total("bonus"), bonus_cap[ents.category])
    debt = total("debt")
    veto = np.zeros(n, dtype=np.bool_)
    veto[e[kind == ADJUSTMENT_KINDS.index("veto_excellent")]] = True
    sanction = np.full(n, -1, dtype=np.int64)
    for i in np.flatnonzero(kind == ADJUSTMENT_KINDS.index("sanction")).tolist():
        grading = cats[int(ents.category[e[i]])].grading
        levels = [s.level for s in grading.sanctions]
        level = str(texts["level"][i])
        if level not in levels:
            raise FactsError(
                f"{where}.level", f"sanction level {level!r} of {ents.ids[e[i]]!r} is not in {levels}"
            )
        sanction[e[i]] = max(int(sanction[e[i]]), levels.index(level))
    no_grade = np.zeros(n, dtype=np.bool_)
    reason = np.full(n, None, dtype=np.object_)
    for i in np.flatnonzero(kind == ADJUSTMENT_KINDS.index("no_grade")).tolist():
        if not no_grade[e[i]]:
            no_grade[e[i]], reason[e[i]] = True, str(texts["reason"][i]) or "unspecified"
    fals = kind == ADJUSTMENT_KINDS.index("falsification")
    enabled = np.array([c.adjustments.falsification_enabled for c in cats], dtype=np.bool_)
    fals &= enabled[ents.category[e]]
    f_ent = e[fals]
    f_node = leaf_node(
        pl.Series(texts["indicator"][fals], dtype=pl.String), f"{where}.indicator (falsification)"
    )
    falsified = np.zeros(n, dtype=np.bool_)
    falsified[f_ent] = True
    detail = pl.DataFrame({
        "entity": e, "kind": np.array(ADJUSTMENT_KINDS)[kind], "level": texts["level"],
        "indicator": texts["indicator"], "points": points, "source": texts["source"], "reason": texts["reason"],
    })  # fmt: skip
    return EntityAdjustments(
        deduction, bonus, debt, veto, sanction, no_grade, reason, falsified,
        (f_ent, f_node), detail,
    )  # fmt: skip
