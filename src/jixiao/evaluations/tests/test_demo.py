from __future__ import annotations

import random

import pytest

from jixiao.evaluations.demo import demo_closed_event
from jixiao.evaluations.models import Ballot, EventStatus
from jixiao.facts.models import EvaluationScore, VoteCount
from jixiao.organisation.models import Layer
from jixiao.organisation.tests.factories import OfficialFactory, UnitFactory
from jixiao.schemes.models import RaterGroup
from jixiao.schemes.tests.factories import CycleFactory

pytestmark = pytest.mark.django_db


def test_the_demo_hook_creates_and_closes_a_realistic_event_deterministically() -> None:
    cycle = CycleFactory(year=2025)
    for order, code in enumerate(["org", "leaders", "peers", "public"]):
        RaterGroup.objects.create(cycle=cycle, code=code, name=code, order=order, min_ballots=3)
    for _ in range(5):
        unit = UnitFactory()
        OfficialFactory(unit=unit, layer=Layer.HEAD)
        OfficialFactory(unit=unit, layer=Layer.MEMBER)
        OfficialFactory(unit=unit, layer=Layer.MEMBER)
    event = demo_closed_event(cycle, random.Random(2025))
    assert event.status == EventStatus.CLOSED and len(event.tally_digest) == 64
    assert 34 <= Ballot.objects.filter(event=event).count() <= 40
    assert event.ratees.count() == 3 * 4  # three units: team, head, two members
    assert EvaluationScore.objects.filter(source=event.source).count() > 1000
    assert VoteCount.objects.filter(cycle=cycle).count() == 9
