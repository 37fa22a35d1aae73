"""A rater group below its minimum number of ballots (k) never reaches the facts or a results page.

Closing writes no score and no vote of such a group (docs/threat-model-ballots.md, "Groups below
k"); the engine renormalises over the groups that remain, and the breakdown lists the group as
withheld without any number of it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jixiao.accounts.models import AuditLog, Role
from jixiao.evaluations import ballots, services
from jixiao.evaluations.closing import event_close
from jixiao.evaluations.models import EventGroup, FormKind, TallyLine
from jixiao.evaluations.tests.helpers import full_ballot
from jixiao.facts.models import EvaluationScore, IndicatorResult, VoteCount
from jixiao.organisation.models import Layer, Official
from jixiao.organisation.tests.factories import OfficialFactory, UnitFactory, UserFactory
from jixiao.results.models import EntityResult
from jixiao.results.services import run_compute
from jixiao.schemes.models import (
    Component,
    ComponentSource,
    Cycle,
    GradeLevel,
    GradingPolicy,
    RaterGroup,
    Subject,
)
from jixiao.schemes.tests.factories import CycleFactory, IndicatorFactory, SchemeFactory

pytestmark = pytest.mark.django_db

PUBLIC_K = 5


def _cycle_with_scheme() -> tuple[Cycle, Official]:
    """Officials: the team's score 70 + 德能勤绩廉 30 from peers and the public, half each."""
    cycle = CycleFactory(year=2025)
    RaterGroup.objects.create(cycle=cycle, code="peers", name="同级互评", min_ballots=1, order=1)
    RaterGroup.objects.create(cycle=cycle, code="public", name="服务对象", min_ballots=PUBLIC_K, order=2)
    unit = UnitFactory(name="市财政局", short_name="财政局")
    head = OfficialFactory(unit=unit, layer=Layer.HEAD, name="张局长", title="局长")
    scheme = SchemeFactory(cycle=cycle, category=unit.category)
    annual = Component.objects.create(scheme=scheme, code="annual", name="年度实绩", weight=Decimal("100"))
    Component.objects.create(
        scheme=scheme, code="duty", name="履职", weight=Decimal("70"), subject=Subject.OFFICIAL,
        source=ComponentSource.TEAM,
    )  # fmt: skip
    Component.objects.create(
        scheme=scheme, code="quality", name="德能勤绩廉", weight=Decimal("30"), subject=Subject.OFFICIAL,
        source=ComponentSource.RATINGS, group_weights={"peers": 50, "public": 50},
    )  # fmt: skip
    policy = GradingPolicy.objects.create(scheme=scheme, subject=Subject.OFFICIAL)
    for order, (label, quota) in enumerate([("优秀", "15"), ("称职", None), ("基本称职", "5")], 1):
        GradeLevel.objects.create(
            policy=policy, code=f"l{order}", label=label, order=order,
            quota_percent=None if quota is None else Decimal(quota),
        )  # fmt: skip
    leaf = IndicatorFactory(component=annual, rule_type="completion", rule_params={"cap": 1.0})
    IndicatorResult.objects.create(cycle=cycle, unit=unit, indicator=leaf, value=90, target=100)
    return cycle, head


def _close_with_one_public_ballot(cycle: Cycle, head: Official) -> None:
    """Three peers rate 良 (85) and vote 称职; one citizen rates 优 (95) and votes 优秀."""
    office = UserFactory(role=Role.OFFICE)
    event = services.event_create(
        actor=office, cycle=cycle, name="民主测评", closes_at=timezone.now() + timedelta(days=1)
    )
    services.event_set_groups(
        actor=office, event=event, expected={rg.pk: 10 for rg in RaterGroup.objects.filter(cycle=cycle)}
    )
    services.event_set_ratees(
        actor=office, event=event, units=[head.unit], kinds=list(FormKind.values),
        forms=services.default_forms_ensure(),
    )  # fmt: skip
    event = services.event_open(actor=office, event=event)
    groups = {
        g.rater_group.code: g for g in EventGroup.objects.filter(event=event).select_related("rater_group")
    }
    for code, n, choice, vote in (("peers", 3, "1", "competent"), ("public", 1, "0", "excellent")):
        for issued in services.codes_issue(actor=office, group=groups[code], count=n):
            ballots.ballot_submit(code=issued.code, data=full_ballot(groups[code], choice=choice, vote=vote))
    event_close(actor=office, event=event)


def test_closing_writes_no_score_and_no_vote_of_a_group_below_its_k() -> None:
    cycle, head = _cycle_with_scheme()
    _close_with_one_public_ballot(cycle, head)
    assert not EvaluationScore.objects.filter(cycle=cycle, rater_group="public").exists()
    assert EvaluationScore.objects.filter(cycle=cycle, rater_group="peers", official=head).exists()
    votes = VoteCount.objects.get(cycle=cycle, official=head)
    assert (votes.excellent, votes.competent) == (0, 3)  # the lone citizen's 优秀 is not counted
    # The lone citizen's ballot never left the buffer: discarded at closing, counted in the audit.
    assert not TallyLine.objects.filter(group__rater_group__code="public").exists()
    entry = AuditLog.objects.filter(object_type="evaluations.evaluationevent").latest("id")
    assert entry.changes["withheld_ballots"] == {"public": 1}


def test_the_breakdown_shows_a_group_below_k_as_withheld_and_scores_without_it(client: Client) -> None:
    cycle, head = _cycle_with_scheme()
    _close_with_one_public_ballot(cycle, head)
    result = EntityResult.objects.get(run=run_compute(cycle=cycle, actor=None), official=head)
    assert result.components["quality"] == pytest.approx(85.0)  # peers only, weights renormalised
    client.force_login(UserFactory(role=Role.OFFICE))
    html = client.get(reverse("results:breakdown", args=[result.pk])).content.decode()
    section = html[html.index("测评得分") :]
    public_row = next(r for r in re.findall(r"<tr>.*?</tr>", section) if "服务对象" in r)
    assert "样本不足，不予显示" in public_row
    assert "95" not in public_row


def test_imported_ratings_below_k_are_withheld_on_the_breakdown_without_their_mean(client: Client) -> None:
    cycle, head = _cycle_with_scheme()
    EvaluationScore.objects.bulk_create(
        [
            *(EvaluationScore(cycle=cycle, official=head, rater_group="peers", item=i, score=80, ballots=3)
              for i in ("de", "neng", "qin", "ji", "lian")),
            *(EvaluationScore(cycle=cycle, official=head, rater_group="public", item=i, score=97.5)
              for i in ("de", "neng", "qin", "ji", "lian")),
        ]
    )  # fmt: skip
    result = EntityResult.objects.get(run=run_compute(cycle=cycle, actor=None), official=head)
    assert result.components["quality"] == pytest.approx(80.0)
    client.force_login(UserFactory(role=Role.LIAISON, unit=head.unit))  # the head's own liaison
    html = client.get(reverse("results:breakdown", args=[result.pk])).content.decode()
    section = html[html.index("测评得分") :]
    public_rows = [r for r in re.findall(r"<tr>.*?</tr>", section) if "服务对象" in r]
    assert public_rows and all("样本不足，不予显示" in r for r in public_rows)
    assert "97.5" not in html and "97.50" not in html
