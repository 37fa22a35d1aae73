"""The ambition check (目标先进性审核) a reviewer sees for every declared target.

Nantong asks that targets "高点定位" and lowers the grade of units whose targets were set too
low (避高就低); Golmud's rule is "就高不就低" for targets the province or prefecture also sets.
Per target the check shows last year's actual and target, this year's target, the growth asked
over last year's actual, and the higher-level target, and flags a target set below last year's
actual or below the higher-level target. For a lower-is-better rule (``lower_is_better`` in
the rule parameters: accidents, costs) "below" reads "above".

Pure functions over snapshot dicts (:mod:`jixiao.declarations.snapshot`); no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

# Growth is shown with one decimal place (a percentage of last year's actual).
GROWTH_PLACES = Decimal("0.1")


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def lower_is_better(rule_params: Mapping[str, Any] | None) -> bool:
    """True when the rule scores a lower value better (the rule parameter ``lower_is_better``)."""
    return bool((rule_params or {}).get("lower_is_better"))


@dataclass(frozen=True)
class AmbitionRow:
    """One target's ambition check: the figures shown and the flags raised."""

    uid: str
    name: str
    measure: str
    last_year_actual: Decimal | None
    last_year_target: Decimal | None
    target: Decimal | None
    growth_percent: Decimal | None  # growth asked over last year's actual, in per cent
    higher_target: Decimal | None
    lower_is_better: bool
    below_last_actual: bool
    below_higher: bool

    @property
    def flagged(self) -> bool:
        """True when the target needs a reason to pass (避高就低)."""
        return self.below_last_actual or self.below_higher

    @property
    def reasons(self) -> list[str]:
        """The flags in words (Chinese), for the review page and the stored reason's context."""
        words: list[str] = []
        if self.below_last_actual:
            words.append(_("目标劣于上年实际") if self.lower_is_better else _("目标低于上年实际"))
        if self.below_higher:
            words.append(_("目标劣于上级下达目标") if self.lower_is_better else _("目标低于上级下达目标"))
        return words


def _worse(target: Decimal, reference: Decimal, lower_better: bool) -> bool:
    return target > reference if lower_better else target < reference


def growth_percent(target: Decimal | None, last_actual: Decimal | None) -> Decimal | None:
    """The growth of ``target`` over ``last_actual`` in per cent, one decimal place; None when
    either is missing or last year's actual is zero (no meaningful ratio)."""
    if target is None or last_actual is None or last_actual == 0:
        return None
    return ((target - last_actual) / abs(last_actual) * 100).quantize(GROWTH_PLACES)


def check_indicator(item: Mapping[str, Any]) -> AmbitionRow:
    """The ambition check of one snapshot dict (``target``, ``last_year_actual``,
    ``last_year_target``, ``higher_target`` as decimal strings or None; ``rule_params``)."""
    target = _decimal(item.get("target"))
    last_actual = _decimal(item.get("last_year_actual"))
    higher = _decimal(item.get("higher_target"))
    lower_better = lower_is_better(item.get("rule_params"))
    return AmbitionRow(
        uid=str(item.get("uid", "")),
        name=str(item.get("name", "")),
        measure=str(item.get("measure", "") or ""),
        last_year_actual=last_actual,
        last_year_target=_decimal(item.get("last_year_target")),
        target=target,
        growth_percent=growth_percent(target, last_actual),
        higher_target=higher,
        lower_is_better=lower_better,
        below_last_actual=target is not None
        and last_actual is not None
        and _worse(target, last_actual, lower_better),
        below_higher=target is not None and higher is not None and _worse(target, higher, lower_better),
    )


def check(snapshot: Iterable[Mapping[str, Any]]) -> list[AmbitionRow]:
    """The ambition check of every indicator of a snapshot, in the snapshot's order."""
    return [check_indicator(item) for item in snapshot]


def flagged_uids(snapshot: Iterable[Mapping[str, Any]]) -> set[str]:
    """The uids of the snapshot's targets that the check flags."""
    return {row.uid for row in check(snapshot) if row.flagged}
