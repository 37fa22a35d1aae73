"""Demo data: a year of public surveys and rate-any-time ratings at prefecture scale, pushed into
the engine's facts. Called by the demo pipeline as ``demo_survey_year(cycle, rng)``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from jixiao.organisation.models import Official, Unit
from jixiao.schemes.models import Cycle, RaterGroup
from jixiao.surveys.deidentify import deidentify
from jixiao.surveys.engine import PushReport, cycle_bounds, cycle_push_to_facts
from jixiao.surveys.models import (
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


@dataclass(frozen=True)
class DemoSurveyReport:
    surveys: int
    answers: int
    events: int
    ratings: int
    facts: PushReport


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
    points = np.array([o["points"] for o in DEFAULT_SCALE])
    # Each unit's public standing shifts the odds over 很满意 … 不满意.
    standing = rng.normal(0.0, 0.6, len(targets))
    base = np.array([1.2, 0.9, 0.0, -1.2, -2.0])
    which = rng.integers(0, len(targets), answers)
    when = _when(rng, start, answers)
    tags = list(DEFAULT_SURVEY_TAGS)
    rows: list[SurveyResponse] = []
    for i in range(answers):
        t = int(which[i])
        logits = base + standing[t] * np.array([1.0, 0.5, 0.0, -0.5, -1.0])
        p = np.exp(logits) / np.exp(logits).sum()
        level = int(rng.choice(5, p=p))
        opinion = deidentify(OPINIONS[int(rng.integers(len(OPINIONS)))]) if rng.random() < 0.03 else ""
        picked = [tags[int(k)] for k in rng.choice(len(tags), size=int(rng.integers(0, 3)), replace=False)]
        rows.append(
            SurveyResponse(
                survey_id=targets[t].survey_id,
                target_id=targets[t].pk,
                points={"overall": int(points[level])},
                tags=picked,
                opinion=opinion,
                created_at=when[i],
            )
        )
        if len(rows) == BATCH:
            SurveyResponse.objects.bulk_create(rows)
            rows = []
    SurveyResponse.objects.bulk_create(rows)

    officials = list(
        Official.objects.filter(is_active=True, unit__is_active=True).values_list("pk", "unit_id")
    )
    unit_ids = [pk for pk, _name in units]
    occurred = _when(rng, start, events)
    valid_days = rating_policy().link_valid_days
    event_rows = []
    for i in range(events):
        if officials and rng.random() < 0.5:
            official_id, unit_id = officials[int(rng.integers(len(officials)))]
        else:
            official_id, unit_id = None, unit_ids[int(rng.integers(len(unit_ids)))]
        event_rows.append(
            ServiceEvent(
                unit_id=unit_id,
                official_id=official_id,
                service=SERVICES[int(rng.integers(len(SERVICES)))],
                occurred_at=occurred[i],
                channel=EventChannel.SMS,
                origin=EventOrigin.API,
                token_hash=secrets.token_hex(32),  # demo links are never sent: no token exists for them
                expires_at=occurred[i] + timedelta(days=valid_days),
            )
        )
    created = ServiceEvent.objects.bulk_create(event_rows, batch_size=BATCH)
    rating_rows = []
    rated = []
    for event in created:
        if rng.random() >= 0.8:
            continue
        # Rated within two days, but inside the cycle's year so every rating reaches the facts.
        at = min(event.occurred_at + timedelta(hours=float(rng.uniform(0.5, 48))), end - timedelta(seconds=1))
        score = int(np.clip(np.round(rng.normal(8.3, 1.6)), 1, 10))
        event.rated_at = at
        rated.append(event)
        rating_rows.append(
            ServiceRating(
                event=event,
                unit_id=event.unit_id,
                official_id=event.official_id,
                score=score,
                tags=[DEFAULT_RATING_TAGS[int(rng.integers(len(DEFAULT_RATING_TAGS)))]],
                opinion=deidentify(OPINIONS[int(rng.integers(len(OPINIONS)))]) if rng.random() < 0.05 else "",
                created_at=at,
            )
        )
    ServiceEvent.objects.bulk_update(rated, ["rated_at"], batch_size=BATCH)
    ServiceRating.objects.bulk_create(rating_rows, batch_size=BATCH)
    report = cycle_push_to_facts(cycle=cycle)
    return DemoSurveyReport(len(surveys), answers, len(created), len(rating_rows), report)
