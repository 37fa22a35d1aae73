"""Demo data: a year of public surveys and rate-any-time ratings at prefecture scale, pushed into
the engine's facts. Called by the demo pipeline as ``demo_survey_year(cycle, rng)``."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.db import connection

from jixiao.organisation.models import Official, Unit
from jixiao.schemes.models import Cycle, RaterGroup
from jixiao.surveys.antiabuse import address_digest, limit_window
from jixiao.surveys.deidentify import deidentify
from jixiao.surveys.engine import PushReport, cycle_bounds, cycle_push_to_facts
from jixiao.surveys.models import (
    DEFAULT_LIMIT_HOURS,
    DEFAULT_RATING_TAGS,
    DEFAULT_SCALE,
    DEFAULT_SURVEY_TAGS,
    EventChannel,
    EventOrigin,
    ServiceEvent,
    ServiceRating,
    Survey,
    SurveyQuestion,
    SurveyResponse,
    SurveyTarget,
)
from jixiao.surveys.ratetime import rating_policy
from jixiao.surveys.services import new_link_token

BATCH = 5_000
OPINIONS = (
    "窗口工作人员很耐心，一次就办好了。",
    "排队时间太长，希望增加窗口。",
    "材料清单不清楚，跑了两趟。有问题可以打我电话13812345678。",
    "网上办理很方便，点赞！",
    "办事指南和实际要求不一致，建议更新。",
    "工作人员态度生硬，邮箱反馈 someone@example.com 没有回复。",
)
SERVICES = ("营业执照办理", "不动产登记", "社保卡补办", "户籍迁移", "企业走访", "信访接待", "医保报销")


# One link per cycle gets a burst of answers from one address within an hour, as an office that
# asks its staff to "help" would: the answers beyond the survey's address limit are marked suspect
# and stay out of the facts, so the survey page shows the anti-stuffing rule at work.
STUFFED_ANSWERS = 12
STUFFING_ADDRESS = "10.20.30.40"


@dataclass(frozen=True)
class DemoSurveyReport:
    surveys: int
    answers: int
    events: int
    ratings: int
    facts: PushReport
    suspect: int = 0


def _insert_answers(
    cycle: Cycle, targets: list[SurveyTarget], rng: np.random.Generator, answers: int, start: datetime
) -> None:
    """``answers`` answers drawn in NumPy (not row by row) plus the stuffing burst, written with one
    ``executemany`` per batch (the ORM's per-row preparation took most of the demo's start)."""
    points = np.array([o["points"] for o in DEFAULT_SCALE])
    # Each unit's public standing shifts the odds over 很满意 … 不满意.
    standing = rng.normal(0.0, 0.6, len(targets))
    base = np.array([1.2, 0.9, 0.0, -1.2, -2.0])
    slope = np.array([1.0, 0.5, 0.0, -0.5, -1.0])
    which = rng.integers(0, len(targets), answers)
    seconds = rng.integers(0, 365 * 86_400, answers)
    logits = base[None, :] + standing[which][:, None] * slope[None, :]
    cdf = np.cumsum(np.exp(logits), axis=1)
    cdf /= cdf[:, -1:]
    level = np.minimum((rng.random(answers)[:, None] > cdf).sum(axis=1), len(base) - 1)
    with_opinion = rng.random(answers) < 0.03
    opinion_of = rng.integers(len(OPINIONS), size=answers)
    tags = list(DEFAULT_SURVEY_TAGS)
    tag_count = rng.integers(0, 3, answers)
    tag_order = np.argsort(rng.random((answers, len(tags))), axis=1)
    opinions = [deidentify(o) for o in OPINIONS]
    survey_of = [t.survey_id for t in targets]
    target_of = [t.pk for t in targets]
    rows: list[tuple[int, int, str, str, str, str | None, datetime]] = []
    for i in range(answers):
        t = int(which[i])
        picked = [tags[int(k)] for k in tag_order[i, : int(tag_count[i])]]
        rows.append(
            (
                survey_of[t],
                target_of[t],
                f'{{"overall":{int(points[level[i]])}}}',
                json.dumps(picked, ensure_ascii=False),
                opinions[int(opinion_of[i])] if with_opinion[i] else "",
                None,
                start + timedelta(seconds=int(seconds[i])),
            )
        )
    burst_at = start + timedelta(days=int(rng.integers(30, 300)))
    address = address_digest(STUFFING_ADDRESS)
    for k in range(STUFFED_ANSWERS):
        rows.append(
            (
                survey_of[0],
                target_of[0],
                '{"overall":100}',
                "[]",
                "",
                address,
                burst_at + timedelta(minutes=4 * k),
            )
        )
    table = SurveyResponse._meta.db_table
    json_cast = "::jsonb" if connection.vendor == "postgresql" else ""
    sql = (
        f"INSERT INTO {table} (survey_id, target_id, points, tags, opinion, address, created_at, "
        "limit_window, device, bucket, suspect, suspect_reason, is_valid) "
        f"VALUES (%s, %s, %s{json_cast}, %s{json_cast}, %s, %s, %s, %s, NULL, 0, FALSE, '', TRUE)"
    )
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        for offset in range(0, len(rows), BATCH * 4):
            chunk = rows[offset : offset + BATCH * 4]
            cursor.executemany(
                sql,
                [
                    (*row[:6], adapt(row[6]), limit_window(row[6].timestamp(), DEFAULT_LIMIT_HOURS))
                    for row in chunk
                ],
            )


def _when(rng: np.random.Generator, start: datetime, n: int, days: int = 365) -> list[datetime]:
    seconds = rng.integers(0, days * 86_400, n)
    return [start + timedelta(seconds=int(s)) for s in seconds]


def demo_survey_year(
    cycle: Cycle, rng: np.random.Generator, *, answers: int = 100_000, events: int = 6_000
) -> DemoSurveyReport:
    """Create a survey (one question on the default 100/80/60/30/0 scale) with a link for every
    active unit, ``answers`` answers over the cycle's year (bulk inserts), ``events`` service events
    of units and officials with ratings for about 80% of them, then push all of it into the facts
    (rater group "public", created if the cycle lacks it). Returns the counts."""
    RaterGroup.objects.get_or_create(
        cycle=cycle, code="public", defaults={"name": "群众与服务对象", "order": 4}
    )
    units = list(Unit.objects.filter(is_active=True).order_by("code").values_list("pk", "name"))
    start, end = cycle_bounds(cycle)
    if not units:
        return DemoSurveyReport(0, 0, 0, 0, cycle_push_to_facts(cycle=cycle))
    surveys = Survey.objects.bulk_create(
        [
            Survey(
                cycle=cycle,
                title=f"{cycle.year}年{name}群众满意度调查",
                scale=[dict(o) for o in DEFAULT_SCALE],
            )
            for _pk, name in units
        ]
    )
    SurveyQuestion.objects.bulk_create(
        [
            SurveyQuestion(survey=s, item="overall", text="您对本单位的服务总体是否满意？", order=1)
            for s in surveys
        ]
    )
    targets = SurveyTarget.objects.bulk_create(
        [
            SurveyTarget(survey=s, unit_id=pk, token=new_link_token())
            for s, (pk, _name) in zip(surveys, units, strict=True)
        ]
    )
    _insert_answers(cycle, targets, rng, answers, start)

    officials = list(
        Official.objects.filter(is_active=True, unit__is_active=True).values_list("pk", "unit_id")
    )
    unit_ids = [pk for pk, _name in units]
    occurred = _when(rng, start, events)
    valid_days = rating_policy().link_valid_days
    event_rows = []
    ratings: list[tuple[int, ServiceRating]] = []  # (event index, rating without its event yet)
    for i in range(events):
        if officials and rng.random() < 0.5:
            official_id, unit_id = officials[int(rng.integers(len(officials)))]
        else:
            official_id, unit_id = None, unit_ids[int(rng.integers(len(unit_ids)))]
        event = ServiceEvent(
            unit_id=unit_id,
            official_id=official_id,
            service=SERVICES[int(rng.integers(len(SERVICES)))],
            occurred_at=occurred[i],
            channel=EventChannel.SMS,
            origin=EventOrigin.API,
            token_hash=secrets.token_hex(32),  # demo links are never sent: no token exists for them
            expires_at=occurred[i] + timedelta(days=valid_days),
        )
        event_rows.append(event)
        if rng.random() >= 0.8:
            continue
        # Rated within two days, but inside the cycle's year so every rating reaches the facts.
        # Decided before the insert, so the events are written once with rated_at (no bulk_update).
        at = min(occurred[i] + timedelta(hours=float(rng.uniform(0.5, 48))), end - timedelta(seconds=1))
        event.rated_at = at
        score = int(np.clip(np.round(rng.normal(8.3, 1.6)), 1, 10))
        rating = ServiceRating(
            unit_id=unit_id,
            official_id=official_id,
            score=score,
            tags=[DEFAULT_RATING_TAGS[int(rng.integers(len(DEFAULT_RATING_TAGS)))]],
            opinion=deidentify(OPINIONS[int(rng.integers(len(OPINIONS)))]) if rng.random() < 0.05 else "",
            created_at=at,
        )
        ratings.append((i, rating))
    created = ServiceEvent.objects.bulk_create(event_rows, batch_size=BATCH)
    rating_rows = []
    for i, rating in ratings:
        rating.event = created[i]
        rating_rows.append(rating)
    ServiceRating.objects.bulk_create(rating_rows, batch_size=BATCH)
    report = cycle_push_to_facts(cycle=cycle)  # marks the burst's surplus suspect first
    suspect = SurveyResponse.objects.filter(target=targets[0], suspect=True).count()
    stored = answers + STUFFED_ANSWERS
    return DemoSurveyReport(len(surveys), stored, len(created), len(rating_rows), report, suspect)
