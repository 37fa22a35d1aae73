"""Survey answers and rate-any-time ratings into the engine's facts (EvaluationScore).

One row per counted answer with ``ballots = 1``: a survey's rows carry ``source = "survey:<survey
id>"``, a cycle's ratings ``source = "rate:<cycle id>"``. Each push deletes that source's rows and
inserts them again with one ``INSERT … SELECT`` in the same transaction, so re-running is idempotent
and a failure leaves the previous rows in place.

A counted answer is valid and not suspect: each push first re-applies the survey's anti-stuffing
limits (``antiabuse.survey_mark_suspects``), then leaves suspect answers out (docs/surveys.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User
from jixiao.facts.models import EvaluationScore
from jixiao.schemes.lifecycle import assert_cycle_editable
from jixiao.schemes.models import Cycle, RaterGroup
from jixiao.surveys.antiabuse import survey_mark_suspects, surveys_mark_suspects
from jixiao.surveys.models import ServiceRating, Survey, SurveyResponse, SurveyTarget
from jixiao.surveys.ratetime import rating_policy
from jixiao.surveys.sqljson import each_object

_COLUMNS = "cycle_id, unit_id, official_id, rater_group, item, score, ballots, source"


def survey_source(survey_id: int) -> str:
    return f"survey:{survey_id}"


def rating_source(cycle_id: int) -> str:
    return f"rate:{cycle_id}"


def _require_group(cycle: Cycle, code: str) -> None:
    if not RaterGroup.objects.filter(cycle=cycle, code=code).exists():
        raise ValidationError(
            _("%(cycle)s没有代码为“%(code)s”的评价主体，请先在考核方案中添加")
            % {"cycle": cycle.name, "code": code}
        )


def _replace(sources: list[str], sql: str, params: list[Any]) -> int:
    # One DELETE for all sources: each is a scan of the facts table when it has no index on source.
    EvaluationScore.objects.filter(source__in=sources).delete()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _surveys_sql(where: str) -> str:
    return (
        f"INSERT INTO {EvaluationScore._meta.db_table} ({_COLUMNS}) "
        "SELECT s.cycle_id, CASE WHEN t.official_id IS NULL THEN t.unit_id END, t.official_id, "
        "s.rater_group, e.key, CAST(e.value AS DOUBLE PRECISION), 1, "
        "%s || CAST(s.id AS TEXT) "
        f"FROM {SurveyResponse._meta.db_table} r JOIN {SurveyTarget._meta.db_table} t ON t.id = r.target_id "
        f"JOIN {Survey._meta.db_table} s ON s.id = r.survey_id "
        f"CROSS JOIN {each_object('r.points', 'e')} "
        f"WHERE {where} AND r.is_valid AND NOT r.suspect"
    )


@transaction.atomic
def survey_push_to_facts(*, survey: Survey) -> int:
    """Replace the facts of ``survey`` by one row per counted (valid, not suspect) answer and
    question; return the rows written. Raises CycleLocked when the survey's cycle is closed."""
    assert_cycle_editable(survey.cycle_id)
    _require_group(survey.cycle, survey.rater_group)
    survey_mark_suspects(survey=survey)
    return _replace([survey_source(survey.pk)], _surveys_sql("r.survey_id = %s"), ["survey:", survey.pk])


def surveys_push_to_facts(*, surveys: list[Survey]) -> int:
    """:func:`survey_push_to_facts` for many surveys of one cycle with one DELETE and one INSERT."""
    if not surveys:
        return 0
    assert_cycle_editable(surveys[0].cycle_id)
    for group in {s.rater_group for s in surveys}:
        _require_group(surveys[0].cycle, group)
    ids = [s.pk for s in surveys]
    surveys_mark_suspects(survey_ids=ids)
    placeholders = ", ".join(["%s"] * len(ids))
    return _replace(
        [survey_source(pk) for pk in ids], _surveys_sql(f"r.survey_id IN ({placeholders})"), ["survey:", *ids]
    )


def cycle_bounds(cycle: Cycle) -> tuple[datetime, datetime]:
    """The cycle's calendar year in the project's time zone, as [start, end)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    return datetime(cycle.year, 1, 1, tzinfo=zone), datetime(cycle.year + 1, 1, 1, tzinfo=zone)


@transaction.atomic
def ratings_push_to_facts(*, cycle: Cycle) -> int:
    """Replace the cycle's rate-any-time facts: one row per valid rating in the cycle's year, the
    10-point score × 10 on the policy's item. Returns the rows written. Raises CycleLocked when
    the cycle is closed."""
    assert_cycle_editable(cycle)
    policy = rating_policy()
    _require_group(cycle, policy.rater_group)
    source = rating_source(cycle.pk)
    start, end = cycle_bounds(cycle)
    sql = (
        f"INSERT INTO {EvaluationScore._meta.db_table} ({_COLUMNS}) "
        "SELECT %s, CASE WHEN r.official_id IS NULL THEN r.unit_id END, r.official_id, %s, "
        "CASE WHEN r.official_id IS NULL THEN %s ELSE %s END, r.score * 10.0, 1, %s "
        f"FROM {ServiceRating._meta.db_table} r "
        "WHERE r.is_valid AND r.created_at >= %s AND r.created_at < %s"
    )
    params: list[object] = [
        cycle.pk,
        policy.rater_group,
        policy.unit_item,
        policy.official_item,
        source,
        start,
        end,
    ]
    return _replace([source], sql, params)


@dataclass(frozen=True)
class PushReport:
    surveys: int
    survey_rows: int
    rating_rows: int


@transaction.atomic
def cycle_push_to_facts(*, cycle: Cycle, actor: User | None = None) -> PushReport:
    """Push every survey of ``cycle`` and its ratings into the facts in one transaction; audited."""
    surveys = list(Survey.objects.filter(cycle=cycle).select_related("cycle"))
    survey_rows = surveys_push_to_facts(surveys=surveys)
    rating_rows = ratings_push_to_facts(cycle=cycle)
    report = PushReport(surveys=len(surveys), survey_rows=survey_rows, rating_rows=rating_rows)
    audit_record(
        actor=actor,
        action=AuditAction.IMPORT,
        obj=cycle,
        object_repr=f"{cycle.name} 群众评价计入测评得分",
        changes={"surveys": report.surveys, "survey_rows": survey_rows, "rating_rows": rating_rows},
    )
    return report
