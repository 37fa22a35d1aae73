"""Test helpers: a small open evaluation event: one unit's team, its head and two members, two rater groups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from jixiao.accounts.models import Role, User
from jixiao.evaluations import ballots, services
from jixiao.evaluations.models import EvaluationEvent, EventGroup, FormKind
from jixiao.organisation.models import Layer, Official, Unit
from jixiao.organisation.tests.factories import OfficialFactory, UnitFactory, UserFactory
from jixiao.schemes.models import Cycle, RaterGroup
from jixiao.schemes.tests.factories import CycleFactory


@dataclass
class World:
    office: User
    cycle: Cycle
    unit: Unit
    head: Official
    members: list[Official]
    event: EvaluationEvent
    peers: EventGroup
    staff: EventGroup


def open_event(
    *, office: User, cycle: Cycle, unit: Unit, flush_batch: int, name: str = "民主测评"
) -> tuple[EvaluationEvent, dict[str, EventGroup]]:
    """An open event over ``unit`` with every rater group of ``cycle`` (10 expected ballots each)
    and the default forms; its groups by rater-group code."""
    event = services.event_create(
        actor=office,
        cycle=cycle,
        name=name,
        closes_at=timezone.now() + timedelta(days=1),
        flush_batch=flush_batch,
    )
    services.event_set_groups(
        actor=office, event=event, expected={rg.pk: 10 for rg in RaterGroup.objects.filter(cycle=cycle)}
    )
    services.event_set_ratees(
        actor=office,
        event=event,
        units=[unit],
        kinds=list(FormKind.values),
        forms=services.default_forms_ensure(),
    )
    event = services.event_open(actor=office, event=event)
    groups = {
        g.rater_group.code: g for g in EventGroup.objects.filter(event=event).select_related("rater_group")
    }
    return event, groups


def make_world(*, flush_batch: int = 3, min_ballots: int = 1) -> World:
    office = UserFactory(role=Role.OFFICE)
    cycle = CycleFactory(year=2025)
    RaterGroup.objects.create(cycle=cycle, code="peers", name="同级互评", min_ballots=min_ballots, order=1)
    RaterGroup.objects.create(cycle=cycle, code="staff", name="干部职工", min_ballots=min_ballots, order=2)
    unit = UnitFactory(name="市财政局", short_name="财政局")
    head = OfficialFactory(unit=unit, layer=Layer.HEAD, name="张局长", title="局长")
    members = [OfficialFactory(unit=unit, layer=Layer.MEMBER, name=f"副局长{i}") for i in (1, 2)]
    event, groups = open_event(
        office=office,
        cycle=cycle,
        unit=unit,
        flush_batch=flush_batch,
        name="2025年度市财政局领导班子和领导干部民主测评",
    )
    return World(office, cycle, unit, head, members, event, groups["peers"], groups["staff"])


def full_ballot(
    group: EventGroup, *, choice: str = "0", vote: str = "competent", opinion: str = ""
) -> dict[str, str]:
    """Answer every question of ``group``'s ballot with the same ``choice`` and ``vote``."""
    layout = ballots.ballot_layout(group.pk)
    data: dict[str, str] = {}
    for ratee in layout.ratees:
        for item in ratee.items:
            data[ballots.answer_field(ratee.pk, item.code)] = choice
        if ratee.has_vote:
            data[ballots.vote_field(ratee.pk)] = vote
        if opinion and ratee.has_opinion:
            data[ballots.opinion_field(ratee.pk)] = opinion
    return data


def issue(world: World, group: EventGroup, n: int) -> list[str]:
    return [p.code for p in services.codes_issue(actor=world.office, group=group, count=n)]
