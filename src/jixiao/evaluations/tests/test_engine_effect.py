"""Closing an event changes what the scoring engine computes for the cycle."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jixiao.evaluations import ballots
from jixiao.evaluations.closing import event_close
from jixiao.evaluations.tests.helpers import World, full_ballot, issue
from jixiao.facts.models import IndicatorResult
from jixiao.organisation.models import Layer
from jixiao.organisation.tests.factories import OfficialFactory, UnitFactory
from jixiao.results.models import EntityResult
from jixiao.results.services import run_compute
from jixiao.schemes.models import Component, ComponentSource, GradeLevel, GradingPolicy, GradingRule, Subject
from jixiao.schemes.tests.factories import IndicatorFactory, SchemeFactory

pytestmark = pytest.mark.django_db


def _scheme(world: World) -> None:
    """Teams: indicators 100. Officials: duty (the team's score) 70 + 德能勤绩廉 from peers 30;
    grades 15:80:4:1 with "more than a third negative votes → 基本称职"."""
    category = world.unit.category
    scheme = SchemeFactory(cycle=world.cycle, category=category)
    annual = Component.objects.create(scheme=scheme, code="annual", name="年度实绩", weight=Decimal("100"))
    Component.objects.create(
        scheme=scheme, code="duty", name="履职", weight=Decimal("70"), subject=Subject.OFFICIAL,
        source=ComponentSource.TEAM,
    )  # fmt: skip
    Component.objects.create(
        scheme=scheme, code="quality", name="德能勤绩廉", weight=Decimal("30"), subject=Subject.OFFICIAL,
        source=ComponentSource.RATINGS, group_weights={"peers": 100},
    )  # fmt: skip
    policy = GradingPolicy.objects.create(scheme=scheme, subject=Subject.OFFICIAL)
    for order, (label, quota) in enumerate(
        [("优秀", "15"), ("称职", None), ("基本称职", "4"), ("不称职", "1")], 1
    ):
        GradeLevel.objects.create(
            policy=policy, code=f"l{order}", label=label, order=order,
            quota_percent=None if quota is None else Decimal(quota),
        )  # fmt: skip
    GradingRule.objects.create(
        policy=policy, rule_type="negative_votes",
        params={"more_than": "1/3", "labels": ["基本称职", "不称职"], "grade": "基本称职"},
    )  # fmt: skip
    leaf = IndicatorFactory(component=annual, rule_type="completion", rule_params={"cap": 1.0})
    units = [world.unit, *(UnitFactory(category=category) for _ in range(4))]
    for i, unit in enumerate(units):
        IndicatorResult.objects.create(cycle=world.cycle, unit=unit, indicator=leaf, value=80 + i, target=100)
        if unit != world.unit:
            OfficialFactory(unit=unit, layer=Layer.HEAD)


def test_closing_an_event_with_over_a_third_negative_votes_makes_the_head_basically_competent(
    world: World,
) -> None:
    _scheme(world)
    before = EntityResult.objects.get(run=run_compute(cycle=world.cycle, actor=None), official=world.head)
    assert before.grade != "基本称职"

    codes = issue(world, world.peers, 6)
    for n, code in enumerate(codes):  # 3 × 基本称职 of 6 votes: one half > one third
        vote = "basic" if n < 3 else "competent"
        ballots.ballot_submit(
            code=code, data=full_ballot(world.peers, choice="2" if n < 3 else "1", vote=vote)
        )
    event_close(actor=world.office, event=world.event)

    after = EntityResult.objects.get(run=run_compute(cycle=world.cycle, actor=None), official=world.head)
    assert after.grade == "基本称职"
    assert after.explanation["grade"]["decision"]["code"].endswith("vote_share")
    assert after.components["quality"] == pytest.approx(80.0)  # (3 × 75 + 3 × 85) / 6
    assert after.total != before.total
