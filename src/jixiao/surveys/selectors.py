"""Reads for the staff pages, scoped to the user: surveys and their statistics, events, the inbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import CharField, Count, QuerySet, Value

from jixiao.accounts.models import Role, User
from jixiao.accounts.permissions import scope_to_units
from jixiao.surveys.models import (
    ServiceEvent,
    ServiceRating,
    Survey,
    SurveyResponse,
    SurveyTarget,
    SuspectReason,
)
from jixiao.surveys.sqljson import each_element, each_object

INBOX_ROLES = {Role.OFFICE, Role.AUDITOR, Role.LEADER, Role.LIAISON}


def may_read_inbox(user: User) -> bool:
    return user.is_office or user.role in INBOX_ROLES


def visible_surveys(user: User) -> QuerySet[Survey]:
    """Surveys the user may see: all for roles that see every unit, else those with a link of
    their unit."""
    # An aggregate drops Meta.ordering (GROUP BY), so the order is explicit.
    surveys = (
        Survey.objects.select_related("cycle")
        .annotate(target_count=Count("targets", distinct=True))
        .order_by("-created_at", "-id")
    )
    if user.sees_all_units:
        return surveys
    if user.unit_id is None:
        return surveys.none()
    return surveys.filter(targets__unit_id=user.unit_id).distinct()


def visible_targets(user: User, survey: Survey) -> QuerySet[SurveyTarget]:
    targets = SurveyTarget.objects.filter(survey=survey).select_related("unit", "official")
    return scope_to_units(user, targets).order_by("unit__code", "service_point", "id")


@dataclass
class QuestionStats:
    item: str
    text: str
    answers: int = 0
    mean: float | None = None
    distribution: list[tuple[str, int, int]] = field(default_factory=list)  # label, count, percent


@dataclass
class SurveyStats:
    responses: int
    by_target: dict[int, int]
    questions: list[QuestionStats]
    tags: list[tuple[str, int]]
    opinions: int
    # Suspect answers (可疑答卷): kept, not counted above, not pushed to the facts.
    suspect: int = 0
    suspect_by_target: dict[int, int] = field(default_factory=dict)
    suspect_by_reason: list[tuple[str, int]] = field(default_factory=list)


def survey_stats(survey: Survey, unit_id: int | None = None) -> SurveyStats:
    """Counted (valid, not suspect) answers per link, per-question distribution on the scale and mean
    points, tag counts, and the suspect answers per link and per reason; limited to one unit's links
    when ``unit_id`` is given. Aggregated in SQL."""
    rt = SurveyResponse._meta.db_table
    tt = SurveyTarget._meta.db_table
    scope = "r.survey_id = %s AND r.is_valid"
    params: list[Any] = [survey.pk]
    if unit_id is not None:
        scope += " AND t.unit_id = %s"
        params.append(unit_id)
    where = scope + " AND NOT r.suspect"
    base = f"FROM {rt} r JOIN {tt} t ON t.id = r.target_id"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.target_id, r.suspect_reason, COUNT(*) {base} WHERE {scope} AND r.suspect "
            "GROUP BY r.target_id, r.suspect_reason",
            params,
        )
        suspect_rows = cursor.fetchall()
        cursor.execute(
            f"SELECT r.target_id, COUNT(*), SUM(CASE WHEN r.opinion <> '' THEN 1 ELSE 0 END) {base} WHERE {where} GROUP BY r.target_id",
            params,
        )
        rows = cursor.fetchall()
        cursor.execute(
            f"SELECT e.key, CAST(e.value AS INTEGER), COUNT(*) {base} CROSS JOIN {each_object('r.points', 'e')} "
            f"WHERE {where} GROUP BY e.key, CAST(e.value AS INTEGER)",
            params,
        )
        cells = cursor.fetchall()
        cursor.execute(
            f"SELECT g.value, COUNT(*) {base} CROSS JOIN {each_element('r.tags', 'g')} WHERE {where} GROUP BY g.value",
            params,
        )
        tags = sorted(((str(tag), int(n)) for tag, n in cursor.fetchall()), key=lambda x: (-x[1], x[0]))
    by_target = {int(t): int(n) for t, n, _o in rows}
    suspect_by_target: dict[int, int] = {}
    by_reason: dict[str, int] = {}
    for target_id, reason, n in suspect_rows:
        suspect_by_target[int(target_id)] = suspect_by_target.get(int(target_id), 0) + int(n)
        by_reason[str(reason)] = by_reason.get(str(reason), 0) + int(n)
    label_of: dict[int, str] = {}
    for option in survey.scale:
        if option["points"] is not None:
            label_of.setdefault(int(option["points"]), str(option["label"]))
    counts: dict[str, dict[int, int]] = {}
    for item, points, n in cells:
        counts.setdefault(str(item), {})[int(points)] = int(n)
    questions = []
    for question in survey.questions.all():
        per = counts.get(question.item, {})
        total = sum(per.values())
        stats = QuestionStats(question.item, question.text, total)
        if total:
            stats.mean = sum(p * n for p, n in per.items()) / total
            stats.distribution = [
                (label_of.get(p, str(p)), per.get(p, 0), round(100 * per.get(p, 0) / total))
                for p in sorted(set(label_of) | set(per), reverse=True)
            ]
        questions.append(stats)
    return SurveyStats(
        responses=sum(by_target.values()),
        by_target=by_target,
        questions=questions,
        tags=tags,
        opinions=sum(int(o or 0) for _t, _n, o in rows),
        suspect=sum(int(n) for _t, _r, n in suspect_rows),
        suspect_by_target=suspect_by_target,
        suspect_by_reason=sorted(
            ((str(SuspectReason(r).label), n) for r, n in by_reason.items()), key=lambda x: -x[1]
        ),
    )


def visible_events(user: User) -> QuerySet[ServiceEvent]:
    events = ServiceEvent.objects.select_related("unit", "official", "rating")
    return scope_to_units(user, events).order_by("-occurred_at", "-id")


def inbox(user: User, unit_id: int | None = None) -> QuerySet[Any]:
    """Opinions (already de-identified) about the user's units, newest first: rows of
    (kind, unit id, unit name, created_at, opinion, target or service)."""
    answers = SurveyResponse.objects.filter(is_valid=True).exclude(opinion="")
    ratings = ServiceRating.objects.filter(is_valid=True).exclude(opinion="")
    if not user.sees_all_units:
        if user.unit_id is None:
            return SurveyResponse.objects.none().values_list("opinion")
        unit_id = user.unit_id
    if unit_id is not None:
        answers = answers.filter(target__unit_id=unit_id)
        ratings = ratings.filter(unit_id=unit_id)
    survey_rows = answers.values_list(
        Value("survey", output_field=CharField()),
        "target__unit_id",
        "target__unit__name",
        "created_at",
        "opinion",
        "target__survey__title",
    )
    rating_rows = ratings.values_list(
        Value("rate", output_field=CharField()),
        "unit_id",
        "unit__name",
        "created_at",
        "opinion",
        "event__service",
    )
    return survey_rows.union(rating_rows, all=True).order_by("-created_at")
