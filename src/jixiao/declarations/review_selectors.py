"""Reads of the review: queues, one declaration's review page, the comments a liaison revises by.

Scoping: the office, leaders and the auditor read every declaration's review; a lead department
(业务主管部门) only declarations with at least one indicator it leads; everyone else none. A queue
lists what the user may *decide* now: declarations waiting at a stage of the user's reviewer role
(a lead department: only those it leads).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from jixiao.accounts.models import Role, User
from jixiao.declarations import ambition, review
from jixiao.declarations.diff import SnapshotDiff, diff_last_year, diff_versions, number_text, value_text
from jixiao.declarations.models import (
    Declaration,
    DeclarationStatus,
    DeclarationVersion,
    DeclaredIndicator,
    IndicatorComment,
    ReviewDecision,
    ReviewerRole,
    ReviewStage,
)
from jixiao.schemes.models import Cycle

QUEUE_SEARCH_MAX = 50


def reads_reviews(user: User) -> bool:
    """The office, leaders, the auditor and lead departments open review pages (the predicate of
    the review views and of the navigation entry)."""
    if not user.is_authenticated:
        return False
    return user.is_office or user.role in {Role.LEADER, Role.AUDITOR, Role.LEAD_DEPT}


def reviews_anything(user: User) -> bool:
    """True when ``user`` acts for some reviewer role (has a queue to work through)."""
    return bool(review.reviewer_roles(user))


def _leads(user: User) -> Exists:
    return Exists(
        DeclaredIndicator.objects.filter(declaration_id=OuterRef("pk"), lead_department_id=user.unit_id)
    )


def readable_declarations(user: User) -> QuerySet[Declaration]:
    """The declarations whose review ``user`` may read (see the module docstring)."""
    qs = Declaration.objects.all()
    if user.is_office or user.role in {Role.LEADER, Role.AUDITOR}:
        return qs
    if user.role == Role.LEAD_DEPT and user.unit_id is not None:
        return qs.filter(_leads(user))
    return qs.none()


def review_queue(*, user: User, query: str = "") -> QuerySet[Declaration]:
    """The declarations waiting for ``user``'s decision, oldest submission first, with unit,
    category, stage and cycle joined and the indicator count annotated (one query per page)."""
    roles = review.reviewer_roles(user)
    if not roles:
        return Declaration.objects.none()
    qs = Declaration.objects.filter(status__in=review.IN_REVIEW, stage__isnull=False, stage__role__in=roles)
    if user.role == Role.LEAD_DEPT:
        # A department that has decided the current version at its stage waits for the others.
        decided = ReviewDecision.objects.filter(
            version__declaration_id=OuterRef("pk"),
            version__number=OuterRef("version"),
            stage_id=OuterRef("stage_id"),
            department_id=user.unit_id,
        )
        qs = qs.filter(_leads(user)).exclude(Exists(decided))
    query = query.strip()[:QUEUE_SEARCH_MAX]
    if query:
        qs = qs.filter(Q(unit__name__icontains=query) | Q(unit__code__iexact=query))
    counts = (
        DeclaredIndicator.objects.filter(declaration_id=OuterRef("pk"))
        .order_by()
        .values("declaration_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        qs.select_related("unit__category", "stage", "cycle")
        .annotate(indicator_count=Coalesce(Subquery(counts), 0))
        .order_by("submitted_at", "pk")
    )


def review_stages(cycle: Cycle) -> list[ReviewStage]:
    """``cycle``'s review stages in order."""
    return list(ReviewStage.objects.filter(cycle=cycle).order_by("order"))


def stage_usage(cycle: Cycle) -> dict[int, int]:
    """Stage id → how many declarations of ``cycle`` wait at it now."""
    rows = (
        Declaration.objects.filter(cycle=cycle, stage__isnull=False)
        .order_by()
        .values("stage_id")
        .annotate(n=Count("pk"))
    )
    return {r["stage_id"]: r["n"] for r in rows}


def comments_for(declaration: Declaration) -> dict[str, list[IndicatorComment]]:
    """Indicator uid (str) → the reviewers' comments on the declaration's last submitted version,
    in stage order (``decision.stage`` and ``decision.reviewer`` joined): what the liaison reads
    next to each indicator when revising a returned declaration. Ambition reasons are included
    (``is_ambition_reason``)."""
    out: dict[str, list[IndicatorComment]] = defaultdict(list)
    if not declaration.version:
        return {}
    rows = (
        IndicatorComment.objects.filter(
            decision__version__declaration=declaration, decision__version__number=declaration.version
        )
        .select_related("decision__stage", "decision__reviewer")
        .order_by("decision__stage__order", "id")
    )
    for row in rows:
        out[str(row.indicator_uid)].append(row)
    return dict(out)


def return_decision(declaration: Declaration) -> ReviewDecision | None:
    """The decision that sent the declaration's last version back, when it was sent back."""
    if declaration.status != DeclarationStatus.RETURNED or not declaration.version:
        return None
    return (
        ReviewDecision.objects.filter(
            version__declaration=declaration, version__number=declaration.version, outcome="return"
        )
        .select_related("stage", "reviewer")
        .first()
    )


@dataclass
class ReviewRow:
    """One indicator on the review page: its snapshot dict, its ambition check, whether it is new
    or changed since the previous version, and the comments it received on this version."""

    item: dict[str, Any]
    check: ambition.AmbitionRow
    changed: bool
    comments: list[IndicatorComment] = field(default_factory=list)

    @property
    def uid(self) -> str:
        return str(self.item.get("uid", ""))

    @property
    def target(self) -> str:
        return number_text(self.item.get("target"))

    @property
    def last_year_actual(self) -> str:
        return number_text(self.item.get("last_year_actual"))

    @property
    def last_year_target(self) -> str:
        return number_text(self.item.get("last_year_target"))

    @property
    def higher_target(self) -> str:
        return number_text(self.item.get("higher_target"))

    @property
    def weight(self) -> str:
        return number_text(self.item.get("weight"))

    @property
    def growth(self) -> str:
        g = self.check.growth_percent
        return "" if g is None else number_text(g)

    @property
    def rule(self) -> str:
        return value_text("rule_type", self.item.get("rule_type"))


@dataclass(frozen=True)
class HistoryComment:
    indicator: str  # the indicator's name in that version
    comment: IndicatorComment


@dataclass(frozen=True)
class HistoryDecision:
    decision: ReviewDecision
    comments: list[HistoryComment]


@dataclass(frozen=True)
class HistoryVersion:
    version: DeclarationVersion
    decisions: list[HistoryDecision]


def _history(versions: list[DeclarationVersion]) -> list[HistoryVersion]:
    out = []
    for v in reversed(versions):
        names = {str(i.get("uid")): str(i.get("name", "")) for i in v.snapshot}
        out.append(
            HistoryVersion(
                v,
                [
                    HistoryDecision(
                        d, [HistoryComment(names.get(str(c.indicator_uid), ""), c) for c in d.comments.all()]
                    )
                    for d in v.decisions.all()
                ],
            )
        )
    return out


@dataclass
class ReviewPage:
    declaration: Declaration
    version: DeclarationVersion | None
    versions: list[DeclarationVersion]
    rows: list[ReviewRow]
    previous_diff: SnapshotDiff | None
    last_year_diff: SnapshotDiff | None
    last_year: Cycle | None
    history: list[HistoryVersion]  # every version, newest first, with its decisions and comments
    stages: list[ReviewStage]
    waiting: list[str] = field(default_factory=list)  # lead departments yet to approve (their stage)

    @property
    def flagged(self) -> list[ReviewRow]:
        return [r for r in self.rows if r.check.flagged]


def last_year_snapshot(declaration: Declaration) -> tuple[Cycle | None, list[dict[str, Any]] | None]:
    """Last year's cycle and the unit's published targets of it (the published version's
    snapshot), or (cycle, None) when it published none."""
    previous = Cycle.objects.filter(year=declaration.cycle.year - 1).first()
    if previous is None:
        return None, None
    old = Declaration.objects.filter(cycle=previous, unit_id=declaration.unit_id).first()
    if old is None or old.published_version is None:
        return previous, None
    version = DeclarationVersion.objects.filter(declaration=old, number=old.published_version).first()
    return previous, (list(version.snapshot) if version is not None else None)


def review_page(declaration: Declaration, number: int | None = None) -> ReviewPage:
    """Everything the review page of ``declaration`` shows, for version ``number`` (the last
    submitted one by default): a constant number of queries whatever the size."""
    decisions = ReviewDecision.objects.select_related("stage", "reviewer", "department").prefetch_related(
        Prefetch("comments", queryset=IndicatorComment.objects.order_by("id"))
    )
    versions = list(
        DeclarationVersion.objects.filter(declaration=declaration)
        .select_related("submitted_by")
        .prefetch_related(Prefetch("decisions", queryset=decisions.order_by("stage__order", "id")))
        .order_by("number")
    )
    by_number = {v.number: v for v in versions}
    version = by_number.get(number if number is not None else declaration.version)
    if version is None and versions:
        version = versions[-1]
    rows: list[ReviewRow] = []
    previous_diff = last_year_diff = None
    previous_cycle: Cycle | None = None
    if version is not None:
        snapshot = list(version.snapshot)
        prior = by_number.get(version.number - 1)
        previous_diff = diff_versions(prior.snapshot, snapshot) if prior is not None else None
        marked = previous_diff.changed_uids() if previous_diff is not None else set()
        comments: dict[str, list[IndicatorComment]] = defaultdict(list)
        for decision in version.decisions.all():
            for c in decision.comments.all():
                comments[str(c.indicator_uid)].append(c)
        rows = [
            ReviewRow(
                item,
                ambition.check_indicator(item),
                str(item.get("uid")) in marked,
                comments[str(item.get("uid"))],
            )
            for item in snapshot
        ]
        previous_cycle, old = last_year_snapshot(declaration)
        last_year_diff = diff_last_year(old, snapshot) if old is not None else None
    return ReviewPage(
        declaration=declaration,
        version=version,
        versions=versions,
        rows=rows,
        previous_diff=previous_diff,
        last_year_diff=last_year_diff,
        last_year=previous_cycle,
        history=_history(versions),
        stages=review_stages(declaration.cycle),
        waiting=_waiting(declaration),
    )


def _waiting(declaration: Declaration) -> list[str]:
    """The names of the lead departments that have still to approve the version under review at
    its 业务主管部门 stage (empty at any other stage)."""
    stage = declaration.stage
    if declaration.status not in review.IN_REVIEW or stage is None or stage.role != ReviewerRole.LEAD_DEPT:
        return []
    return list(
        review.departments_waiting(declaration, stage, declaration.version).values_list("name", flat=True)
    )


def pending_reviews(user: User, limit: int) -> list[Declaration]:
    """Up to ``limit`` declarations waiting for ``user``'s decision (home page to-dos: one query)."""
    return list(review_queue(user=user)[:limit])
