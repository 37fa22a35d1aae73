"""红黄绿灯: the light rules as one pure function, and the service that stores them in bulk.

:func:`light_for` decides one declared indicator's light from its schedule and its latest
reported progress, without the database: expected progress by date runs from 0 at the start of
the indicator's year (or its effective date) through the unit's milestones to 100 at the end of
the year, linearly or by steps between milestones (the cycle's :class:`TrackingPolicy`); with no
milestones it is linear over the year. Then, in this order:

- green when the indicator is reported complete (≥ 100 %, or graded 已完成);
- red when a milestone (or the end of the year) is overdue and its progress not reached;
- red when reported progress is below ``red_share`` % of expected;
- yellow when a milestone falls within ``yellow_days`` days and its progress is not reached;
- green otherwise.

:func:`lights_recompute` applies the same rules, on columns (:mod:`.lights_columns`, equal to
``light_for`` row by row), to every tracked indicator of a cycle (or of a few units), writes only
the :class:`IndicatorLight` and :class:`UnitLight` rows that changed, set-based
(:mod:`.lights_store`), and is called after each report and grade (one unit) and by the daily
job ``tracking_lights`` (every unit).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.schemes.models import Cycle
from jixiao.tracking.lights_store import store_batch
from jixiao.tracking.models import IndicatorLight, Interpolation, Light, UnitLight
from jixiao.tracking.models.policy import DEFAULT_RED_SHARE, DEFAULT_YELLOW_DAYS

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
# The order of badness: a unit's light is its worst indicator's.
SEVERITY = {Light.GREEN: 0, Light.YELLOW: 1, Light.RED: 2}
# Units recomputed per transaction by the daily job (about 140 indicators each at province scale:
# ~70,000 lights, a few seconds of locks at most).
UNITS_PER_BATCH = 500


@dataclass(frozen=True)
class LightRules:
    """The policy numbers the rules need (from :class:`TrackingPolicy`, or its defaults)."""

    yellow_days: int = DEFAULT_YELLOW_DAYS
    red_share: Decimal = DEFAULT_RED_SHARE  # percent of expected progress
    interpolation: str = Interpolation.LINEAR


@dataclass(frozen=True)
class Point:
    """A milestone: by ``due``, ``percent`` done."""

    due: date
    percent: Decimal


@dataclass(frozen=True)
class Verdict:
    """A light with its reasons: expected and reported progress (percent) and why, in Chinese."""

    color: Light
    expected: Decimal
    reported: Decimal | None
    reason: str


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def schedule(milestones: Iterable[Point], *, start: date, end: date) -> list[Point]:
    """The points expected progress runs through: (start, 0), the milestones inside the year in
    date order, and (end, 100) unless a milestone falls on the end itself."""
    inside = sorted((p for p in milestones if start < p.due <= end), key=lambda p: p.due)
    points = [Point(start, Decimal(0)), *inside]
    if points[-1].due < end:
        points.append(Point(end, HUNDRED))
    return points


def expected_progress(
    points: Sequence[Point], on: date, *, interpolation: str = Interpolation.LINEAR
) -> Decimal:
    """Expected progress (percent, 2 decimals) on ``on`` along ``points`` (see :func:`schedule`)."""
    if on <= points[0].due:
        return _q(points[0].percent)
    for before, after in pairwise(points):
        if on < after.due:
            if interpolation == Interpolation.STEP:
                return _q(before.percent)
            span = Decimal((after.due - before.due).days)
            done = Decimal((on - before.due).days)
            return _q(before.percent + (after.percent - before.percent) * done / span)
    return _q(points[-1].percent)


def light_for(
    *,
    milestones: Iterable[Point],
    start: date,
    end: date,
    on: date,
    reported: Decimal | None,
    completed: bool = False,
    rules: LightRules = LightRules(),
) -> Verdict:
    """The light of one indicator on ``on`` (rules in the module docstring). ``reported`` is the
    latest reported progress in percent (None: nothing reported yet, counted as 0); ``completed``
    is the lead department's grade 已完成. Pure: no database, no clock."""
    points = schedule(milestones, start=start, end=end)
    expected = expected_progress(points, on, interpolation=rules.interpolation)
    progress = reported if reported is not None else Decimal(0)
    if completed or progress >= HUNDRED:
        return Verdict(Light.GREEN, expected, reported, _("已完成"))
    if on < start:
        return Verdict(Light.GREEN, expected, reported, _("尚未起算"))
    targets = points[1:]  # the milestones and the year's end
    overdue = [p for p in targets if p.due < on and progress < p.percent]
    if overdue:
        last = overdue[-1]
        return Verdict(
            Light.RED,
            expected,
            reported,
            _("%(due)s 节点应完成 %(percent)s%%，已逾期未完成")
            % {"due": f"{last.due:%Y-%m-%d}", "percent": _plain(last.percent)},
        )
    threshold = expected * rules.red_share / HUNDRED
    if expected > 0 and progress < threshold:
        return Verdict(
            Light.RED,
            expected,
            reported,
            _("实际进度 %(progress)s%% 低于应完成进度 %(expected)s%% 的 %(share)s%%")
            % {"progress": _plain(progress), "expected": _plain(expected), "share": _plain(rules.red_share)},
        )
    soon = on + timedelta(days=rules.yellow_days)
    coming = [p for p in targets if on <= p.due <= soon and progress < p.percent]
    if coming:
        first = coming[0]
        return Verdict(
            Light.YELLOW,
            expected,
            reported,
            _("%(due)s 节点应完成 %(percent)s%%，还差 %(gap)s 个百分点")
            % {
                "due": f"{first.due:%Y-%m-%d}",
                "percent": _plain(first.percent),
                "gap": _plain(first.percent - progress),
            },
        )
    return Verdict(Light.GREEN, expected, reported, _("按进度推进"))


def _plain(value: Decimal) -> str:
    """A percent for a sentence: at most 2 decimals, no trailing zeros (80, 62.5)."""
    text = f"{_q(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def unit_color(colors: Iterable[Light | str]) -> Light:
    """A unit's light: its worst indicator's (green when it has none)."""
    worst = Light.GREEN
    for c in colors:
        if SEVERITY[Light(c)] > SEVERITY[worst]:
            worst = Light(c)
    return worst


# ---------------------------------------------------------------------------------------------
# The service: store the lights of a cycle's tracked indicators


def rules_for(cycle: Cycle) -> LightRules:
    """The cycle's light rules (its :class:`TrackingPolicy`, else the defaults)."""
    from jixiao.tracking.selectors import policy_for

    policy = policy_for(cycle)
    return LightRules(
        yellow_days=policy.yellow_days, red_share=policy.red_share, interpolation=policy.interpolation
    )


def _batches(ids: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def lights_recompute(
    *,
    cycle: Cycle,
    on: date | None = None,
    unit_ids: Iterable[int] | None = None,
    progress: Callable[[int, str], None] | None = None,
) -> int:
    """Recompute and store the lights of ``cycle``'s tracked indicators as of ``on`` (today by
    default) for ``unit_ids`` (by default every unit with a tracked declaration or with stored
    lights, which it loses when its declaration left tracking); return how many indicator lights
    were computed. Set-based (:mod:`jixiao.tracking.lights_store`): a few queries per batch of
    :data:`UNITS_PER_BATCH` units, only the changed lights written; each batch is one transaction."""
    from jixiao.tracking.selectors import TRACKED_STATUSES, tracked_declarations

    on = on or timezone.localdate()
    rules = rules_for(cycle)
    statuses = [str(s) for s in TRACKED_STATUSES]
    if unit_ids is None:
        tracked = set(tracked_declarations(cycle).values_list("unit_id", flat=True))
        lit = set(UnitLight.objects.filter(cycle=cycle).values_list("unit_id", flat=True))
        lit |= set(IndicatorLight.objects.filter(cycle=cycle).values_list("unit_id", flat=True).distinct())
        units = sorted(tracked | lit)
    else:
        units = sorted(set(unit_ids))
    computed = 0
    for n, batch in enumerate(_batches(units, UNITS_PER_BATCH)):
        with transaction.atomic():
            computed += store_batch(cycle=cycle, statuses=statuses, unit_ids=batch, on=on, rules=rules)[0]
        if progress is not None:
            done = min(len(units), (n + 1) * UNITS_PER_BATCH)
            progress(int(100 * done / max(len(units), 1)), _("已计算 %(n)d 个单位") % {"n": done})
    return computed


def tracking_lights_job(*, job: Any, progress: Callable[[int, str], None]) -> Any:
    """The daily job (and the one queued after a policy change): recompute the lights of the job's
    cycle, or of every open cycle in the tracking stage."""
    from jixiao.jobs.services import JobOutcome
    from jixiao.schemes.models import CycleStage, CycleStatus

    if job.cycle_id is not None:
        cycles = list(Cycle.objects.filter(pk=job.cycle_id))
    else:
        cycles = list(Cycle.objects.filter(stage=CycleStage.TRACKING, status=CycleStatus.OPEN))
    written = sum(lights_recompute(cycle=c, progress=progress) for c in cycles)
    return JobOutcome(_("已重算 %(c)d 个周期的 %(n)d 个指标灯") % {"c": len(cycles), "n": written})
