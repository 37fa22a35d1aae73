"""A closed cycle refuses closing an evaluation into its facts and every change to its events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jixiao.evaluations import services
from jixiao.evaluations.closing import event_close
from jixiao.evaluations.models import (
    BallotCode,
    EvaluationEvent,
    EventGroup,
    EventRatee,
    EventStatus,
    FormKind,
)
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


LOCKED = "2025 年度考核已结束，数据只读；如需修改请由考核办重新开启"


def _draft(world: World) -> EvaluationEvent:
    """A second event of the world's cycle, still a draft with its groups and ratees set."""
    draft = services.event_create_with_cycle_groups(
        actor=world.office, cycle=world.cycle, name="补测", closes_at=timezone.now() + timedelta(days=3)
    )
    services.event_set_ratees(
        actor=world.office,
        event=draft,
        units=[world.unit],
        kinds=[FormKind.TEAM],
        forms=services.default_forms_ensure(),
    )
    return draft


def _writes(world: World, draft: EvaluationEvent) -> dict[str, Callable[[], object]]:
    office, event = world.office, world.event
    ratee = EventRatee.objects.filter(event=draft).first()
    group = EventGroup.objects.filter(event=draft).first()
    assert ratee is not None and group is not None
    return {
        "event_update": lambda: services.event_update(
            actor=office,
            event=event,
            name="改名",
            closes_at=event.closes_at,
            flush_batch=event.flush_batch,
            votes_mode=event.votes_mode,
        ),
        "event_set_groups": lambda: services.event_set_groups(
            actor=office, event=event, expected={world.peers.rater_group_id: 99}
        ),
        "event_set_ratees": lambda: services.event_set_ratees(
            actor=office,
            event=draft,
            units=[world.unit],
            kinds=list(FormKind.values),
            forms=services.default_forms_ensure(),
        ),
        "event_set_matrix": lambda: services.event_set_matrix(
            actor=office, event=draft, pairs={(ratee.pk, group.pk)}
        ),
        "event_open": lambda: services.event_open(actor=office, event=draft),
        "codes_issue": lambda: services.codes_issue(actor=office, group=world.peers, count=3),
    }


@pytest.mark.parametrize(
    "write",
    ["event_update", "event_set_groups", "event_set_ratees", "event_set_matrix", "event_open", "codes_issue"],
)
def test_closed_cycle_refuses_every_change_to_its_evaluation_events(world: World, write: str) -> None:
    draft = _draft(world)
    writes = _writes(world, draft)
    before = (
        list(EvaluationEvent.objects.order_by("pk").values_list("name", "status")),
        list(EventGroup.objects.order_by("pk").values_list("rater_group_id", "expected_ballots")),
        list(EventRatee.objects.order_by("pk").values_list("pk", flat=True)),
        list(EventRatee.groups.through.objects.order_by("pk").values_list("eventratee_id", "eventgroup_id")),
        BallotCode.objects.count(),
    )
    _close_cycle(world)
    with pytest.raises(CycleLocked, match=LOCKED):
        writes[write]()
    after = (
        list(EvaluationEvent.objects.order_by("pk").values_list("name", "status")),
        list(EventGroup.objects.order_by("pk").values_list("rater_group_id", "expected_ballots")),
        list(EventRatee.objects.order_by("pk").values_list("pk", flat=True)),
        list(EventRatee.groups.through.objects.order_by("pk").values_list("eventratee_id", "eventgroup_id")),
        BallotCode.objects.count(),
    )
    assert after == before


def test_closed_cycle_refusals_show_the_chinese_message_on_the_event_pages(
    client: Client, world: World
) -> None:
    draft = _draft(world)
    _close_cycle(world)
    client.force_login(world.office)
    edit = reverse("evaluations:event_edit", args=[world.event.pk])
    posts = {
        "basics": client.post(
            edit,
            {
                "section": "basics",
                "name": "改名",
                "closes_at": timezone.localtime(world.event.closes_at).strftime("%Y-%m-%dT%H:%M"),
                "flush_batch": world.event.flush_batch,
                "votes_mode": world.event.votes_mode,
            },
            follow=True,
        ),
        "open": client.post(reverse("evaluations:event_open", args=[draft.pk]), follow=True),
        "codes": client.post(
            reverse("evaluations:codes_issue", args=[world.event.pk, world.peers.pk]),
            {"count": 3},
            follow=True,
        ),
    }
    for name, response in posts.items():
        assert response.status_code == 200, name
        assert LOCKED in response.content.decode(), name
    assert EvaluationEvent.objects.get(pk=world.event.pk).name != "改名"
    assert EvaluationEvent.objects.get(pk=draft.pk).status == EventStatus.DRAFT
    assert not BallotCode.objects.filter(group=world.peers).exists()


def test_a_closed_cycles_event_page_offers_no_change_and_says_why(client: Client, world: World) -> None:
    _close_cycle(world)
    client.force_login(world.office)
    page = client.get(reverse("evaluations:event_detail", args=[world.event.pk])).content.decode()
    assert 'id="cycle-locked"' in page
    assert reverse("evaluations:event_edit", args=[world.event.pk]) not in page
    assert reverse("evaluations:codes_issue", args=[world.event.pk, world.peers.pk]) not in page
