"""Reads of the engine's input tables, scoped to the user."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, ExpressionWrapper, F, FloatField, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Cast

from jixiao.accounts.models import Role, User
from jixiao.accounts.permissions import scope_to_units, sees_raw_ratings
from jixiao.facts.models import Adjustment, EvaluationScore, IndicatorResult, VoteCount
from jixiao.organisation.models import Official, Unit
from jixiao.schemes.models import Cycle, IndicatorNode


def may_see_entry_grids(user: User) -> bool:
    """Who uses the indicator entry grids: the office and lead departments enter, leaders and the
    auditor follow progress. A liaison or an official enters no indicator result."""
    return user.is_office or user.role in {Role.AUDITOR, Role.LEADER, Role.LEAD_DEPT}


def enterable_leaves(*, user: User, cycle: Cycle) -> QuerySet[IndicatorNode]:
    """Leaf indicators of ``cycle`` the user may see in the entry list: all of them for the
    office, leaders and the auditor, a lead department's own, none for others. Without the
    counts entered (:func:`entered_counts`, for one page): counting them for every leaf reads
    all the cycle's results (1.4 million in a province)."""
    leaves = IndicatorNode.objects.filter(scheme__cycle=cycle, children__isnull=True).select_related(
        "scheme__category", "lead_unit", "component"
    )
    if not may_see_entry_grids(user):
        return leaves.none()
    if not (user.is_office or user.role in {Role.AUDITOR, Role.LEADER}):
        leaves = leaves.filter(lead_unit_id=user.unit_id) if user.unit_id else leaves.none()
    return leaves.order_by("scheme__category__order", "component__order", "code", "id")


def entered_counts(leaf_ids: list[int]) -> dict[int, int]:
    """Leaf indicator id → how many units have a result for it (one query, by the unique index
    on indicator and unit)."""
    rows = (
        IndicatorResult.objects.filter(indicator_id__in=leaf_ids, unit__isnull=False)
        .values("indicator_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["indicator_id"]: row["n"] for row in rows}


def result_grid(*, indicator: IndicatorNode) -> list[tuple[Unit, IndicatorResult | None]]:
    """Every unit of the indicator's category with its result (or None), by unit code."""
    units = list(
        Unit.objects.filter(category_id=indicator.scheme.category_id, is_active=True).order_by("code")
    )
    results = {r.unit_id: r for r in IndicatorResult.objects.filter(indicator=indicator, unit__isnull=False)}
    return [(u, results.get(u.pk)) for u in units]


def adjustments_for(*, user: User, cycle: Cycle) -> QuerySet[Adjustment]:
    """Adjustments of ``cycle`` the user may see: their unit's (and its officials') or all."""
    qs = Adjustment.objects.filter(cycle=cycle).select_related(
        "unit", "official__unit", "indicator", "entered_by"
    )
    if user.sees_all_units:
        return qs
    if user.unit_id is None:
        return qs.none()
    # The unit's officials by id (a unit has about ten), not through a join: "unit = X OR
    # official.unit = X" across the join read the cycle's every adjustment (48,000 in a
    # province); two id lists are two index scans (unit_id, official_id).
    officials = list(Official.objects.filter(unit_id=user.unit_id).values_list("pk", flat=True))
    return qs.filter(Q(unit_id=user.unit_id) | Q(official_id__in=officials))


def visible_units(*, user: User) -> QuerySet[Unit]:
    return scope_to_units(user, Unit.objects.all(), unit_path="")


def evaluation_scores(
    *, user: User, cycle: Cycle, rater_group: str = "", entity_type: str = ""
) -> QuerySet[EvaluationScore]:
    """The score rows of ``cycle`` (optionally of one rater group, of units or of officials only).
    Raw ratings: empty for anyone but the office and the auditor
    (:func:`~jixiao.accounts.permissions.sees_raw_ratings`)."""
    qs = EvaluationScore.objects.filter(cycle=cycle)
    if not sees_raw_ratings(user):
        qs = qs.none()
    if rater_group:
        qs = qs.filter(rater_group=rater_group)
    if entity_type == "unit":
        qs = qs.filter(unit__isnull=False)
    elif entity_type == "official":
        qs = qs.filter(official__isnull=False)
    return qs


def evaluation_score_summary(
    *,
    user: User,
    cycle: Cycle,
    rater_group: str = "",
    entity_type: str = "",
    entities: ScoredEntities | None = None,
) -> QuerySet[Any, Mapping[str, Any]]:
    """Scores of ``cycle`` grouped per entity, rater group and item: rows, ballots and the
    ballot-weighted mean (a row may aggregate many ballots); only those of ``entities`` when
    given (one page of :func:`scored_entities`). Raw ratings: empty for anyone but the office
    and the auditor (:func:`~jixiao.accounts.permissions.sees_raw_ratings`)."""
    qs = evaluation_scores(user=user, cycle=cycle, rater_group=rater_group, entity_type=entity_type)
    if entities is not None:
        qs = qs.filter(Q(unit_id__in=entities.unit_ids) | Q(official_id__in=entities.official_ids))
    weighted = ExpressionWrapper(F("score") * F("ballots"), output_field=FloatField())
    return (
        qs.values(
            "unit_id",
            "unit__code",
            "unit__name",
            "official_id",
            "official__code",
            "official__name",
            "official__unit__name",
            "rater_group",
            "item",
        )
        .annotate(rows=Count("id"), ballot_total=Sum("ballots"), weighted_total=Sum(weighted))
        .annotate(
            mean=ExpressionWrapper(
                F("weighted_total") / Cast(F("ballot_total"), FloatField()), output_field=FloatField()
            )
        )
        .order_by("unit__code", "official__code", "rater_group", "item")
    )


@dataclass(frozen=True)
class ScoredEntities:
    """One page of the entities that have scores: units (by code) first, then officials (by
    code); ``next_after`` is the cursor of the next page (``u:<code>`` or ``o:<code>``), or None."""

    unit_ids: list[int]
    official_ids: list[int]
    next_after: str | None


def scored_entities(
    *,
    scores: QuerySet[EvaluationScore],
    after: str = "",
    query: str = "",
    entity_type: str = "",
    limit: int,
) -> ScoredEntities:
    """The next ``limit`` entities after the cursor ``after`` that have a row in ``scores``, units
    before officials, each by code; ``query`` keeps those whose code starts with it or whose name
    contains it; ``entity_type`` ("unit" or "official") reads only that kind. Reads at most
    ``limit + 1`` entities of each kind, each an index probe of the scores (by unit or official,
    cycle and rater group): the cost does not grow with the number of scores, unlike grouping
    all of them."""
    kind, _sep, code = after.partition(":")
    units: list[tuple[int, str]] = []
    if kind != "o" and entity_type != "official":
        unit_qs = Unit.objects.filter(Exists(scores.filter(unit_id=OuterRef("pk"))))
        if kind == "u":
            unit_qs = unit_qs.filter(code__gt=code)
        if query:
            unit_qs = unit_qs.filter(Q(code__startswith=query) | Q(name__contains=query))
        units = list(unit_qs.order_by("code").values_list("pk", "code")[: limit + 1])
    officials: list[tuple[int, str]] = []
    if len(units) <= limit and entity_type != "unit":
        official_qs = Official.objects.filter(Exists(scores.filter(official_id=OuterRef("pk"))))
        if kind == "o":
            official_qs = official_qs.filter(code__gt=code)
        if query:
            official_qs = official_qs.filter(Q(code__startswith=query) | Q(name__contains=query))
        officials = list(official_qs.order_by("code").values_list("pk", "code")[: limit + 1 - len(units)])
    page = [("u", pk, c) for pk, c in units] + [("o", pk, c) for pk, c in officials]
    more = len(page) > limit
    page = page[:limit]
    return ScoredEntities(
        unit_ids=[pk for k, pk, _c in page if k == "u"],
        official_ids=[pk for k, pk, _c in page if k == "o"],
        next_after=f"{page[-1][0]}:{page[-1][2]}" if more and page else None,
    )


def vote_counts_for(*, user: User, cycle: Cycle) -> QuerySet[VoteCount]:
    """Vote counts of ``cycle``: all of them for the office and the auditor, none for anyone else
    (an official must not read his colleagues' votes, nor a liaison his leaders')."""
    qs = VoteCount.objects.filter(cycle=cycle).select_related("official__unit")
    if not sees_raw_ratings(user):
        qs = qs.none()
    return qs.order_by("official__unit__code", "official__code")
