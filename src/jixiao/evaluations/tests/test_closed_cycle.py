"""Closing an evaluation writes its cycle's facts, so a closed cycle refuses it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jixiao.evaluations.closing import event_close
from jixiao.evaluations.models import EvaluationEvent, EventStatus
from jixiao.evaluations.services import event_create
from jixiao.evaluations.tests.helpers import World
from jixiao.facts.models import EvaluationScore
from jixiao.schemes.lifecycle import CycleLocked
from jixiao.schemes.models import Cycle, CycleStatus


def _close_cycle(world: World) -> None:
    Cycle.objects.filter(pk=world.cycle.pk).update(status=CycleStatus.CLOSED)


def test_closed_cycle_refuses_closing_an_evaluation_into_its_facts(world: World) -> None:
    _close_cycle(world)
    status = EvaluationEvent.objects.get(pk=world.event.pk).status
    with pytest.raises(CycleLocked):
        event_close(actor=world.office, event=world.event)
    assert EvaluationEvent.objects.get(pk=world.event.pk).status == status != EventStatus.CLOSED
    assert not EvaluationScore.objects.exists()


def test_closed_cycle_refuses_a_new_evaluation_event(world: World) -> None:
    _close_cycle(world)
    with pytest.raises(CycleLocked):
        event_create(
            actor=world.office, cycle=world.cycle, name="补测", closes_at=timezone.now() + timedelta(days=3)
        )
    assert EvaluationEvent.objects.count() == 1
