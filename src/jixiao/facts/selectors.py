"""Reads of the engine's input tables, scoped to the user."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Count, ExpressionWrapper, F, FloatField, Q, QuerySet, Sum
from django.db.models.functions import Cast

from jixiao.accounts.models import Role, User
from jixiao.accounts.permissions import scope_to_units, sees_raw_ratings
from jixiao.facts.models import Adjustment, EvaluationScore, IndicatorResult, VoteCount
from jixiao.organisation.models import Unit
from jixiao.schemes.models import Cycle, IndicatorNode


def may_see_entry_grids(user: User) -> bool:
    """Who uses the indicator entry grids: the office and lead departments enter, leaders and the
    auditor follow progress. A liaison or an official enters no indicator result."""
    return user.is_office or user.role in {Role.AUDITOR, Role.LEADER, Role.LEAD_DEPT}


def enterable_leaves(*, user: User, cycle: Cycle) -> QuerySet[IndicatorNode]:
    """Leaf indicators of ``cycle`` the user may see in the entry list, with counts entered: all
    of them for the office, leaders and the auditor, a lead department's own, none for others."""
    leaves = IndicatorNode.objects.filter(scheme__cycle=cycle, children__isnull=True).select_related(
        "scheme__category", "lead_unit", "component"
    )
    if not may_see_entry_grids(user):
        return leaves.none()
    if not (user.is_office or user.role in {Role.AUDITOR, Role.LEADER}):
        leaves = leaves.filter(lead_unit_id=user.unit_id) if user.unit_id else leaves.none()
    return leaves.annotate(entered=Count("results", filter=Q(results__unit__isnull=False))).order_by(
        "scheme__category__order", "component__order", "code", "id"
    )


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
    return qs.filter(Q(unit_id=user.unit_id) | Q(official__unit_id=user.unit_id))


def visible_units(*, user: User) -> QuerySet[Unit]:
    return scope_to_units(user, Unit.objects.all(), unit_path="")


def evaluation_score_summary(
    *, user: User, cycle: Cycle, rater_group: str = "", entity_type: str = ""
) -> QuerySet[Any, Mapping[str, Any]]:
    """Scores of ``cycle`` grouped per entity, rater group and item: rows, ballots and the
    ballot-weighted mean (a row may aggregate many ballots). Raw ratings: empty for anyone but
    the office and the auditor (:func:`~jixiao.accounts.permissions.sees_raw_ratings`)."""
    qs = EvaluationScore.objects.filter(cycle=cycle)
    if not sees_raw_ratings(user):
        qs = qs.none()
    if rater_group:
        qs = qs.filter(rater_group=rater_group)
    if entity_type == "unit":
        qs = qs.filter(unit__isnull=False)
    elif entity_type == "official":
        qs = qs.filter(official__isnull=False)
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


def vote_counts_for(*, user: User, cycle: Cycle) -> QuerySet[VoteCount]:
    """Vote counts of ``cycle``: all of them for the office and the auditor, none for anyone else
    (an official must not read his colleagues' votes, nor a liaison his leaders')."""
    qs = VoteCount.objects.filter(cycle=cycle).select_related("official__unit")
    if not sees_raw_ratings(user):
        qs = qs.none()
    return qs.order_by("official__unit__code", "official__code")
