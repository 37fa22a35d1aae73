"""Reads of scoring runs and results, scoped to who may see them.

The office, leaders and auditors see every result; a liaison sees their unit's team and
officials; an official sees their own result (the person a score concerns may read its
explanation) and their team's.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.db.models import Q, QuerySet

from jixiao.accounts.models import Role, User
from jixiao.organisation.models import UnitCategory
from jixiao.results.models import EntityResult, RunDetail, ScoringRun
from jixiao.results.services import indicator_names
from jixiao.schemes.models import Component, Cycle, RaterGroup, Subject
from jixiao.scoring.bundle import _clean
from jixiao.scoring.explain import explain
from jixiao.scoring.scheme import Scheme, parse_scheme
from jixiao.scoring.types import Results

DETAIL_CACHE_RUNS = 4  # runs whose frames a process keeps (a province run: a few hundred MB)


def runs(*, cycle: Cycle | None = None) -> QuerySet[ScoringRun]:
    qs = ScoringRun.objects.select_related("cycle", "created_by")
    return qs.filter(cycle=cycle) if cycle is not None else qs


def latest_run(*, cycle: Cycle) -> ScoringRun | None:
    return ScoringRun.objects.filter(cycle=cycle).order_by("-number").first()


def visible_results(*, user: User, run: ScoringRun) -> QuerySet[EntityResult]:
    """Results of ``run`` that ``user`` may read."""
    qs = EntityResult.objects.filter(run=run).select_related("unit", "official")
    if user.sees_all_units:
        return qs
    if user.role == Role.OFFICIAL:
        mine = Q(subject="official", official_id=user.official_id) if user.official_id else Q(pk__in=[])
        team = Q(subject="unit", unit_id=user.unit_id) if user.unit_id else Q(pk__in=[])
        return qs.filter(mine | team)
    if user.unit_id is None:
        return qs.none()
    return qs.filter(unit_id=user.unit_id)


def may_see_rankings(user: User) -> bool:
    return user.sees_all_units


def categories(*, run: ScoringRun, subject: str) -> list[str]:
    return list(
        EntityResult.objects.filter(run=run, subject=subject)
        .values_list("category", flat=True)
        .distinct()
        .order_by("category")
    )


def category_names(*, codes: list[str]) -> dict[str, str]:
    """Engine category codes (``dept`` or ``dept:official``) → the category's Chinese name."""
    names = dict(UnitCategory.objects.values_list("code", "name"))
    return {code: names.get(code.split(":")[0], code) for code in codes}


def component_names(*, run: ScoringRun, category: str) -> dict[str, str]:
    """Component codes of the scheme behind an engine category → their names."""
    code, _, suffix = category.partition(":")
    subject = Subject.OFFICIAL if suffix else Subject.TEAM
    return dict(
        Component.objects.filter(
            scheme__cycle_id=run.cycle_id, scheme__category__code=code, subject=subject
        ).values_list("code", "name")
    )


def rater_group_names(*, run: ScoringRun) -> dict[str, str]:
    return dict(RaterGroup.objects.filter(cycle_id=run.cycle_id).values_list("code", "name"))


def ranking(*, run: ScoringRun, subject: str, category: str) -> QuerySet[EntityResult]:
    return (
        EntityResult.objects.filter(run=run, subject=subject, category=category)
        .select_related("unit", "official__unit")
        .order_by("rank", "pk")
    )


def previous_by_entity(*, run: ScoringRun, subject: str) -> dict[int, EntityResult]:
    """Last year's results keyed by unit pk (teams) or official pk, for the change column."""
    last = ScoringRun.objects.filter(cycle__year=run.cycle.year - 1).order_by("-number").first()
    if last is None:
        return {}
    rows = EntityResult.objects.filter(run=last, subject=subject)
    if subject == "official":
        return {r.official_id: r for r in rows if r.official_id is not None}
    return {r.unit_id: r for r in rows}


@dataclass(frozen=True)
class Change:
    result: EntityResult
    before: EntityResult | None
    fields: dict[str, tuple[Any, Any]]


def compare(*, old: ScoringRun, new: ScoringRun) -> list[Change]:
    """Every entity whose total, rank or grade differs between two runs, with the differences."""

    def key(r: EntityResult) -> tuple[str, int]:
        return (r.subject, r.official_id or r.unit_id)

    before = {key(r): r for r in EntityResult.objects.filter(run=old)}
    changes: list[Change] = []
    for result in (
        EntityResult.objects.filter(run=new)
        .select_related("unit", "official")
        .order_by("subject", "category", "rank")
    ):
        prev = before.get(key(result))
        fields: dict[str, tuple[Any, Any]] = {}
        for name in ("total", "rank", "grade"):
            a, b = (getattr(prev, name) if prev else None), getattr(result, name)
            if a != b:
                fields[name] = (a, b)
        if prev is not None:
            for comp, value in result.components.items():
                if prev.components.get(comp) != value:
                    fields[f"component:{comp}"] = (prev.components.get(comp), value)
        if fields:
            changes.append(Change(result, prev, fields))
    return changes


@dataclass(frozen=True)
class _Explainer:
    results: Results  # every frame sorted by entity
    scheme: Scheme
    names: dict[str, str]


@functools.lru_cache(maxsize=DETAIL_CACHE_RUNS)
def _explainer(run_id: int, created_at: str) -> _Explainer | None:
    """The run's frames, parsed scheme and indicator names, or None for a run without detail.

    Keyed by the run's id and creation time: a run never changes, and an id reused by a database
    that was rolled back (tests) comes with another time.
    """
    detail = RunDetail.objects.select_related("run").filter(run_id=run_id).first()
    if detail is None:
        return None
    frames = {name: pl.read_parquet(io.BytesIO(bytes(getattr(detail, name)))) for name in RunDetail.FRAMES}
    results = Results(
        engine_version=detail.run.engine_version,
        score_decimals=int(detail.run.parameters.get("score_decimals", 0)),
        decisions=detail.decisions,
        **frames,
    )
    return _Explainer(results, parse_scheme(detail.scheme), indicator_names(detail.scheme))


def _rows_of(frame: pl.DataFrame, entity: str) -> pl.DataFrame:
    """The rows of ``entity`` in a frame sorted by entity (binary search, then a slice)."""
    column = frame.get_column("entity")
    start = int(column.search_sorted(entity, side="left"))
    end = int(column.search_sorted(entity, side="right"))
    return frame.slice(start, end - start)


def entity_explanation(result: EntityResult) -> dict[str, Any]:
    """The explanation of ``result`` (``jixiao.scoring.explain.explain`` plus indicator names).

    Rebuilt from the run's ``RunDetail`` (frames cached per process for a few runs); a run stored
    before ``RunDetail`` existed falls back to its stored JSON.
    """
    run = result.run
    explainer = _explainer(run.pk, run.created_at.isoformat())
    if explainer is None:
        return dict(result.stored_explanation)
    entity = result.entity_key
    full = explainer.results
    mine = Results(
        engine_version=full.engine_version,
        score_decimals=full.score_decimals,
        decisions=full.decisions,
        **{name: _rows_of(getattr(full, name), entity) for name in RunDetail.FRAMES},
    )
    explanation: dict[str, Any] = dict(_clean(explain(mine, explainer.scheme, entity)))
    for indicator in explanation["indicators"]:
        # Names are for people; the digest covers the codes they stand for.
        indicator["name"] = explainer.names.get(indicator["indicator"], indicator["indicator"])
    return explanation
