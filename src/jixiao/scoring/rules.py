"""Indicator scoring rules (M3): each turns one leaf indicator's facts into a *rate*.

A rate is the share of the leaf's full marks earned: 1.0 is full marks, 0.0 nothing; a rule may
allow more than 1.0 (a capped bonus). The leaf's score on the 0–100 scale is ``100 * rate``
and the tree roll-up weighs it (see compose.py).

Every rule is data: ``{"type": "<name>", "params": {...}}`` on a leaf. ``parse_rule`` validates
the params into a frozen dataclass and raises :class:`SchemeError` naming the indicator; ``apply``
is vectorised over all entities that have a result for the leaf. Rules marked *group* compare an
entity with the others of its category on the same leaf (rank, best, average). A missing value
(NaN) always earns rate 0; the engine marks it ``missing`` in the explanation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from jixiao.scoring import params as P
from jixiao.scoring.errors import FactsError, SchemeError

F64 = NDArray[np.float64]
BoolArr = NDArray[np.bool_]


@dataclass(frozen=True)
class LeafFacts:
    """The facts of one leaf for the entities that reported it (NaN/None = absent)."""

    value: F64
    label: NDArray[np.object_]
    target: F64
    last_year: F64


@dataclass(frozen=True)
class RuleOutput:
    """Rates earned and whether the leaf vetoes excellence (一票否优) for each row."""

    rate: F64
    veto: BoolArr


@dataclass(frozen=True)
class Completion:
    """完成率: rate = actual / target (or target / actual when lower is better).

    Below ``floor`` (a ratio) the rate is 0; above ``cap`` it is capped. ``target`` is the
    default when the fact row has none.
    """

    target: float | None
    cap: float
    floor: float
    lower_is_better: bool


@dataclass(frozen=True)
class Steps:
    """分档: the rate of the highest step whose ``min`` is ≤ the value (or the completion ratio)."""

    steps: tuple[tuple[float, float], ...]  # (min, rate), sorted by min descending
    on: str  # "value" | "ratio"
    below: float
    target: float | None


@dataclass(frozen=True)
class ThresholdDeduction:
    """达标扣分: full marks at ``threshold``; each unit short costs ``per_unit`` of the rate."""

    threshold: float | None  # None: use the row's target
    per_unit: float
    min_rate: float
    lower_is_better: bool


@dataclass(frozen=True)
class BonusDeduction:
    """加减分: rate = base + per_unit * value, the change capped at ±cap, then clamped."""

    base: float
    per_unit: float
    cap: float | None
    min_rate: float
    max_rate: float | None


@dataclass(frozen=True)
class GradeMap:
    """定性评价: a grade label (优/良/中/差, 很满意…) mapped to a rate."""

    rates: Mapping[str, float]


@dataclass(frozen=True)
class RankPoints:
    """名次计分: 1st, 2nd… in the category get ``points[0]``, ``points[1]``…, later ranks ``floor``.

    Equal values share the better rank (1, 1, 3). Rate = points / ``full`` (default max points).
    """

    points: tuple[float, ...]
    floor: float
    full: float
    lower_is_better: bool


@dataclass(frozen=True)
class BestProportion:
    """与最优比: rate = value / best value in the category (best / value when lower is better)."""

    cap: float
    lower_is_better: bool


@dataclass(frozen=True)
class YoyImprovement:
    """同比提升: rate = base + per_point * growth in percent over last year, clamped."""

    base: float
    per_point: float
    min_rate: float
    max_rate: float
    lower_is_better: bool


@dataclass(frozen=True)
class VsAverage:
    """与平均值比: value / category average, scored by tiers of that ratio."""

    tiers: tuple[tuple[float, float], ...]  # (min_ratio, rate), sorted descending
    below: float
    lower_is_better: bool


@dataclass(frozen=True)
class Veto:
    """一票否优: a yes (value ≠ 0) flags the entity as not eligible for the top grade.

    ``triggered_rate`` is the rate kept when triggered (default 0: the leaf's points are lost).
    """

    triggered_rate: float


RuleParams = (
    Completion
    | Steps
    | ThresholdDeduction
    | BonusDeduction
    | GradeMap
    | RankPoints
    | BestProportion
    | YoyImprovement
    | VsAverage
    | Veto
)


def _pairs(where: str, raw: Mapping[str, Any], key: str) -> tuple[tuple[float, float], ...]:
    items = P.sequence(where, raw, key)
    if not items:
        raise SchemeError(
            where, f"parameter {key!r} must list at least one [min, rate] pair", param=key, problem="empty"
        )
    pairs: list[tuple[float, float]] = []
    for item in items:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise SchemeError(
                where,
                f"parameter {key!r} entries must be [min, rate], got {item!r}",
                param=key,
                problem="pair",
            )
        pair = {"min": item[0], "rate": item[1]}
        try:
            pairs.append((P.number(where, pair, "min"), P.non_negative(where, pair, "rate")))
        except SchemeError as exc:
            raise SchemeError(where, exc.message, param=key, problem="pair") from exc
    mins = [m for m, _ in pairs]
    if len(set(mins)) != len(mins):
        raise SchemeError(where, f"parameter {key!r} repeats a threshold", param=key, problem="repeated")
    ordered = tuple(sorted(pairs, key=lambda p: -p[0]))
    # Rates must move one way as the threshold rises (up for higher-is-better, down for a count of
    # incidents); a rate that rises and then falls is an entry mistake, not a policy.
    rates = [rate for _, rate in reversed(ordered)]
    steps_up = [b - a for a, b in pairwise(rates)]
    if any(d > 0 for d in steps_up) and any(d < 0 for d in steps_up):
        raise SchemeError(
            where, f"parameter {key!r}: rates must not rise and fall again", param=key, problem="order"
        )
    return ordered


def _below_fits(
    where: str, raw: Mapping[str, Any], pairs: tuple[tuple[float, float], ...], key: str
) -> float:
    """Return ``below`` (the rate under the lowest step), which must not beat the lowest step in
    the direction the steps go."""
    below = P.non_negative(where, raw, "below", 0.0)
    rates = [rate for _, rate in reversed(pairs)]
    rising = len(rates) > 1 and rates[-1] > rates[0]
    if rising and below > rates[0]:
        raise SchemeError(
            where,
            f"parameter 'below' must not exceed the lowest {key!r} rate",
            param="below",
            problem="below",
        )
    return below


def _parse(where: str, kind: str, raw: Mapping[str, Any]) -> RuleParams:
    lib = "lower_is_better"
    if kind == "completion":
        P.known_keys(where, raw, ["target", "cap", "floor", lib])
        target = _positive_target(where, raw)
        top, bottom = P.non_negative(where, raw, "cap", 1.0), P.non_negative(where, raw, "floor", 0.0)
        if top < bottom:
            raise SchemeError(
                where, "parameter 'cap' must not be below 'floor'", param="cap", problem="cap_floor"
            )
        return Completion(target, top, bottom, P.flag(where, raw, lib, False))
    if kind == "steps":
        P.known_keys(where, raw, ["steps", "on", "below", "target"])
        steps = _pairs(where, raw, "steps")
        return Steps(
            steps,
            P.choice(where, raw, "on", ["value", "ratio"], "value"),
            _below_fits(where, raw, steps, "steps"),
            _positive_target(where, raw),
        )
    if kind == "threshold_deduction":
        P.known_keys(where, raw, ["threshold", "per_unit", "min_rate", lib])
        per_unit = P.non_negative(where, raw, "per_unit")
        return ThresholdDeduction(
            P.optional_number(where, raw, "threshold"),
            per_unit,
            P.non_negative(where, raw, "min_rate", 0.0),
            P.flag(where, raw, lib, False),
        )
    if kind == "bonus_deduction":
        P.known_keys(where, raw, ["base", "per_unit", "cap", "min_rate", "max_rate"])
        cap = raw.get("cap")
        lo = P.non_negative(where, raw, "min_rate", 0.0)
        hi = None if raw.get("max_rate") is None else P.non_negative(where, raw, "max_rate")
        if hi is not None and lo > hi:
            raise SchemeError(
                where, "parameter 'min_rate' must not exceed 'max_rate'", param="min_rate", problem="min_max"
            )
        return BonusDeduction(
            P.non_negative(where, raw, "base", 0.0),
            P.number(where, raw, "per_unit"),
            None if cap is None else P.non_negative(where, raw, "cap"),
            lo,
            hi,
        )
    if kind == "grade_map":
        P.known_keys(where, raw, ["map"])
        rates = P.weight_map(where, raw, "map")
        if not rates:
            raise SchemeError(
                where, "parameter 'map' must map at least one label to a rate", param="map", problem="empty"
            )
        return GradeMap(rates)
    if kind == "rank_points":
        P.known_keys(where, raw, ["points", "floor", "full", lib])
        seq = P.sequence(where, raw, "points")
        if not seq:
            raise SchemeError(
                where, "parameter 'points' must list at least one value", param="points", problem="empty"
            )
        points = tuple(P.non_negative(where, {"points": v}, "points") for v in seq)
        if any(b > a for a, b in pairwise(points)):
            raise SchemeError(
                where, "parameter 'points' must not rise with the rank", param="points", problem="order"
            )
        full = P.non_negative(where, raw, "full", max(points))
        if full <= 0:
            raise SchemeError(where, "parameter 'full' must be > 0", param="full", problem="positive")
        floor = P.non_negative(where, raw, "floor", 0.0)
        if floor > points[-1]:
            raise SchemeError(
                where,
                "parameter 'floor' must not exceed the last rank's points",
                param="floor",
                problem="floor",
            )
        return RankPoints(points, floor, full, P.flag(where, raw, lib, False))
    if kind == "best_proportion":
        P.known_keys(where, raw, ["cap", lib])
        return BestProportion(P.non_negative(where, raw, "cap", 1.0), P.flag(where, raw, lib, False))
    if kind == "yoy_improvement":
        P.known_keys(where, raw, ["base", "per_point", "min_rate", "max_rate", lib])
        lo, hi = P.non_negative(where, raw, "min_rate", 0.0), P.non_negative(where, raw, "max_rate", 1.0)
        if lo > hi:
            raise SchemeError(
                where, "parameter 'min_rate' must not exceed 'max_rate'", param="min_rate", problem="min_max"
            )
        return YoyImprovement(
            P.non_negative(where, raw, "base", 0.6),
            P.number(where, raw, "per_point", 0.04),
            lo,
            hi,
            P.flag(where, raw, lib, False),
        )
    if kind == "vs_average":
        P.known_keys(where, raw, ["tiers", "below", lib])
        tiers = _pairs(where, raw, "tiers")
        return VsAverage(tiers, _below_fits(where, raw, tiers, "tiers"), P.flag(where, raw, lib, False))
    if kind == "veto":
        P.known_keys(where, raw, ["triggered_rate"])
        return Veto(P.non_negative(where, raw, "triggered_rate", 0.0))
    raise SchemeError(where, f"unknown rule type {kind!r}; known: {sorted(RULE_TYPES)}", problem="rule_type")


def _positive_target(where: str, raw: Mapping[str, Any]) -> float | None:
    target = P.optional_number(where, raw, "target")
    if target is not None and target <= 0:
        raise SchemeError(where, "parameter 'target' must be > 0", param="target", problem="positive")
    return target


RULE_TYPES = (
    "completion", "steps", "threshold_deduction", "bonus_deduction", "grade_map",
    "rank_points", "best_proportion", "yoy_improvement", "vs_average", "veto",
)  # fmt: skip
GROUP_RULES = ("rank_points", "best_proportion", "vs_average")


def parse_rule(indicator: str, rule: Any) -> tuple[str, RuleParams]:
    """Validate a leaf's ``{"type", "params"}`` and return (type, typed params)."""
    where = f"indicator {indicator}"
    if not isinstance(rule, Mapping):
        raise SchemeError(where, f"rule must be an object with 'type' and 'params', got {rule!r}")
    kind = rule.get("type")
    if not isinstance(kind, str):
        raise SchemeError(where, "rule 'type' is required")
    raw = rule.get("params", {})
    if not isinstance(raw, Mapping):
        raise SchemeError(where, "rule 'params' must be an object")
    return kind, _parse(where, kind, raw)


# --- vectorised application ---------------------------------------------------------------


def _targets(where: str, facts: LeafFacts, default: float | None) -> F64:
    target = facts.target.copy()
    if default is not None:
        target[np.isnan(target)] = default
    has_value = ~np.isnan(facts.value)
    if np.any(has_value & np.isnan(target)):
        raise FactsError(where, "a result has no target and the rule has no default 'target'")
    if np.any(has_value & (target <= 0)):
        raise FactsError(where, "targets must be > 0")
    return target


def _completion_ratio(where: str, facts: LeafFacts, target_default: float | None, lower: bool) -> F64:
    target = _targets(where, facts, target_default)
    value = facts.value
    with np.errstate(divide="ignore", invalid="ignore"):
        if lower:
            # Lower is better (costs, incidents): reaching zero is the best possible result.
            return np.where(value <= 0, np.inf, target / value)
        return value / target


def _clean(rate: F64, facts: LeafFacts) -> F64:
    out = np.where(np.isnan(facts.value), 0.0, rate)
    return np.asarray(out, dtype=np.float64)


def _no_veto(n: int) -> BoolArr:
    return np.zeros(n, dtype=np.bool_)


def _step_rate(x: F64, steps: tuple[tuple[float, float], ...], below: float) -> F64:
    rate = np.full(x.shape, below, dtype=np.float64)
    # steps are sorted by min descending: assign from the lowest step upwards so the highest wins.
    for minimum, step_rate in reversed(steps):
        rate = np.where(x >= minimum, step_rate, rate)
    return rate


def apply_rule(indicator: str, params: RuleParams, facts: LeafFacts) -> RuleOutput:
    """Return the rate (and veto flags) of every row of ``facts`` for one leaf."""
    where = f"indicator {indicator}"
    n = facts.value.shape[0]
    value = facts.value
    present = ~np.isnan(value)
    if isinstance(params, Completion):
        ratio = _completion_ratio(where, facts, params.target, params.lower_is_better)
        rate = np.where(ratio < params.floor, 0.0, np.minimum(ratio, params.cap))
        return RuleOutput(_clean(rate, facts), _no_veto(n))
    if isinstance(params, Steps):
        x = _completion_ratio(where, facts, params.target, False) if params.on == "ratio" else value
        return RuleOutput(_clean(_step_rate(x, params.steps, params.below), facts), _no_veto(n))
    if isinstance(params, ThresholdDeduction):
        threshold = _targets(where, facts, None) if params.threshold is None else np.full(n, params.threshold)
        short = value - threshold if params.lower_is_better else threshold - value
        rate = np.maximum(params.min_rate, 1.0 - params.per_unit * np.maximum(short, 0.0))
        return RuleOutput(_clean(rate, facts), _no_veto(n))
    if isinstance(params, BonusDeduction):
        change = params.per_unit * value
        if params.cap is not None:
            change = np.clip(change, -params.cap, params.cap)
        rate = np.maximum(params.base + change, params.min_rate)
        if params.max_rate is not None:
            rate = np.minimum(rate, params.max_rate)
        return RuleOutput(_clean(rate, facts), _no_veto(n))
    if isinstance(params, GradeMap):
        rate = np.zeros(n, dtype=np.float64)
        for i, label in enumerate(facts.label.tolist()):
            if label is None:
                continue
            if label not in params.rates:
                raise FactsError(
                    where, f"grade label {label!r} is not in the rule's map {sorted(params.rates)}"
                )
            rate[i] = params.rates[label]
        return RuleOutput(rate, _no_veto(n))
    if isinstance(params, RankPoints):
        # Competition ranking: 1 + number of present values strictly better.
        key = -value[present] if not params.lower_is_better else value[present]
        ranks = np.zeros(n, dtype=np.int64)
        ranks[present] = np.searchsorted(np.sort(key), key, side="left") + 1
        table = np.array((*params.points, params.floor), dtype=np.float64)
        idx = np.minimum(ranks - 1, len(params.points))
        return RuleOutput(_clean(table[idx] / params.full, facts), _no_veto(n))
    if isinstance(params, BestProportion):
        if np.any(value[present] < 0):
            raise FactsError(where, "best_proportion needs values ≥ 0")
        rate = np.zeros(n, dtype=np.float64)
        if np.any(present):
            with np.errstate(divide="ignore", invalid="ignore"):
                if params.lower_is_better:
                    best = float(np.min(value[present]))
                    rate = np.where(value <= best, 1.0, best / value)
                else:
                    best = float(np.max(value[present]))
                    rate = value / best if best > 0 else np.zeros(n)
        return RuleOutput(_clean(np.minimum(rate, params.cap), facts), _no_veto(n))
    if isinstance(params, YoyImprovement):
        last = facts.last_year
        has = present & ~np.isnan(last)
        with np.errstate(divide="ignore", invalid="ignore"):
            growth = np.where(
                last == 0,
                np.where(value > last, np.inf, np.where(value < last, -np.inf, 0.0)),
                100.0 * (value - last) / np.abs(last),
            )
        if params.lower_is_better:
            growth = -growth
        with np.errstate(invalid="ignore"):
            raw = np.where(
                np.isinf(growth), np.sign(growth) * np.inf, params.base + params.per_point * growth
            )
        rate = np.clip(np.where(np.isnan(raw), params.base, raw), params.min_rate, params.max_rate)
        return RuleOutput(np.where(has, rate, 0.0).astype(np.float64), _no_veto(n))
    if isinstance(params, VsAverage):
        rate = np.zeros(n, dtype=np.float64)
        if np.any(present):
            avg = float(np.mean(value[present]))
            with np.errstate(divide="ignore", invalid="ignore"):
                if avg == 0:
                    ratio = np.ones(n)
                elif params.lower_is_better:
                    ratio = np.where(value <= 0, np.inf, avg / value)
                else:
                    ratio = value / avg
            rate = _step_rate(ratio, params.tiers, params.below)
        return RuleOutput(_clean(rate, facts), _no_veto(n))
    # Veto
    triggered = present & (value != 0)
    return RuleOutput(_clean(np.where(triggered, params.triggered_rate, 1.0), facts), triggered)


RuleFn = Callable[[str, RuleParams, LeafFacts], RuleOutput]


# --- batched application: many leaves of one elementwise rule kind in one pass ----------------

# Rules whose rate of a row depends on that row and the params alone (no comparison with other
# rows): the leaves of one kind are scored together with their params as per-row columns. The
# operations are the ones ``apply_rule`` does, element by element, so the rates are bit-identical.
BATCHED_KINDS: tuple[type, ...] = (Completion, ThresholdDeduction, BonusDeduction, YoyImprovement, Veto)


def _column(params: list[Any], name: str, group: NDArray[np.int64]) -> F64:
    """Return ``params[group[i]].<name>`` per row, NaN where it is None."""
    values = [getattr(p, name) for p in params]
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)[group]


def _flag(params: list[Any], name: str, group: NDArray[np.int64]) -> BoolArr:
    return np.array([bool(getattr(p, name)) for p in params], dtype=np.bool_)[group]


def apply_batched(params: list[RuleParams], group: NDArray[np.int64], facts: LeafFacts) -> RuleOutput | None:
    """Return the rates of rows of several leaves sharing one kind in ``BATCHED_KINDS``
    (``group[i]``: the index into ``params`` of row ``i``), equal to ``apply_rule`` leaf by leaf.

    None when some row would raise (a missing or non-positive target): the caller then applies the
    rules leaf by leaf, so that the error names the same leaf as before.
    """
    kind = type(params[0])
    value = facts.value
    present = ~np.isnan(value)
    n = value.shape[0]
    if kind is Completion:
        default = _column(params, "target", group)
        target = np.where(np.isnan(facts.target), default, facts.target)
        if np.any(present & (np.isnan(target) | (target <= 0))):
            return None
        lower = _flag(params, "lower_is_better", group)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(lower, np.where(value <= 0, np.inf, target / value), value / target)
        floor, cap = _column(params, "floor", group), _column(params, "cap", group)
        rate = np.where(ratio < floor, 0.0, np.minimum(ratio, cap))
        return RuleOutput(_clean(rate, facts), _no_veto(n))
    if kind is ThresholdDeduction:
        fixed = _column(params, "threshold", group)
        from_target = np.array([p.threshold is None for p in params], dtype=np.bool_)[group]  # type: ignore[union-attr]
        target = facts.target
        if np.any(from_target & present & (np.isnan(target) | (target <= 0))):
            return None
        threshold = np.where(from_target, target, fixed)
        lower = _flag(params, "lower_is_better", group)
        short = np.where(lower, value - threshold, threshold - value)
        per_unit, min_rate = _column(params, "per_unit", group), _column(params, "min_rate", group)
        rate = np.maximum(min_rate, 1.0 - per_unit * np.maximum(short, 0.0))
        return RuleOutput(_clean(rate, facts), _no_veto(n))
    if kind is BonusDeduction:
        change = _column(params, "per_unit", group) * value
        cap = _column(params, "cap", group)
        change = np.where(np.isnan(cap), change, np.clip(change, -cap, cap))
        rate = np.maximum(_column(params, "base", group) + change, _column(params, "min_rate", group))
        top = _column(params, "max_rate", group)
        rate = np.where(np.isnan(top), rate, np.minimum(rate, top))
        return RuleOutput(_clean(rate, facts), _no_veto(n))
    if kind is YoyImprovement:
        last = facts.last_year
        has = present & ~np.isnan(last)
        with np.errstate(divide="ignore", invalid="ignore"):
            growth = np.where(
                last == 0,
                np.where(value > last, np.inf, np.where(value < last, -np.inf, 0.0)),
                100.0 * (value - last) / np.abs(last),
            )
        growth = np.where(_flag(params, "lower_is_better", group), -growth, growth)
        base = _column(params, "base", group)
        with np.errstate(invalid="ignore"):
            raw = np.where(
                np.isinf(growth),
                np.sign(growth) * np.inf,
                base + _column(params, "per_point", group) * growth,
            )
        rate = np.clip(np.where(np.isnan(raw), base, raw), _column(params, "min_rate", group),
                       _column(params, "max_rate", group))  # fmt: skip
        return RuleOutput(np.where(has, rate, 0.0).astype(np.float64), _no_veto(n))
    if kind is Veto:
        triggered = present & (value != 0)
        rate = np.where(triggered, _column(params, "triggered_rate", group), 1.0)
        return RuleOutput(_clean(rate, facts), triggered)
    raise ValueError(f"rule kind {kind.__name__} is not batched")
