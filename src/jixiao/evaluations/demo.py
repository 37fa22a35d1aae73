"""Demo hook: one realistic, closed democratic evaluation for the demo prefecture.

Called by the demo pipeline (jixiao.demo) after the registry, schemes and facts exist:
``demo_closed_event(cycle, rng)``. Everything goes through the real services (codes, ballots,
the shuffled flush, closing), so the demo shows exactly what production stores.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.core.management.color import no_style
from django.db import connection
from django.utils import timezone

from jixiao.accounts.models import AuditLog
from jixiao.evaluations import ballots, services
from jixiao.evaluations.closing import event_close
from jixiao.evaluations.models import EvaluationEvent, EventGroup, FormKind, Vote
from jixiao.facts.models import EvaluationScore, VoteCount
from jixiao.organisation.models import Layer, Official, Unit
from jixiao.schemes.models import Cycle, RaterGroup

DEMO_UNITS = 3
# Ballots per rater group (codes of the cycle's RaterGroups); about forty in all.
DEMO_GROUP_BALLOTS = {"leaders": 4, "peers": 12, "public": 24}
OPINIONS = (
    "希望进一步加强调查研究，多到基层听取意见。",
    "工作作风扎实，服务意识强。",
    "建议提高文件办理效率。",
    "廉洁自律方面表现良好。",
    "对民生实事推进力度还可以更大。",
)


def _units(cycle: Cycle, rng: random.Random) -> list[Unit]:
    """Pick a few active units that have a head and at least one member."""
    with_head = set(
        Official.objects.filter(is_active=True, layer=Layer.HEAD).values_list("unit_id", flat=True)
    )
    with_member = set(
        Official.objects.filter(is_active=True, layer=Layer.MEMBER).values_list("unit_id", flat=True)
    )
    candidates = list(
        Unit.objects.filter(is_active=True, pk__in=with_head & with_member).order_by("code")[:60]
    )
    return rng.sample(candidates, min(DEMO_UNITS, len(candidates)))


def _answers(layout: ballots.BallotLayout, rng: random.Random, strength: dict[int, float]) -> dict[str, str]:
    """A plausible ballot: answers drift with each ratee's strength; a few 不了解 and opinions."""
    data: dict[str, str] = {}
    for ratee in layout.ratees:
        s = strength.setdefault(ratee.pk, rng.gauss(0.0, 1.0))
        for item in ratee.items:
            if ratee.unknown_label and rng.random() < 0.05:
                data[ballots.answer_field(ratee.pk, item.code)] = ballots.UNKNOWN
                continue
            level = min(len(ratee.scale) - 1, max(0, round(rng.gauss(0.9 - 0.6 * s, 0.8))))
            data[ballots.answer_field(ratee.pk, item.code)] = str(level)
        if ratee.has_vote:
            roll = rng.gauss(s, 1.0)
            vote = Vote.EXCELLENT if roll > 0.9 else Vote.COMPETENT if roll > -1.3 else Vote.BASIC
            data[ballots.vote_field(ratee.pk)] = vote.value
        if ratee.has_opinion and rng.random() < 0.1:
            data[ballots.opinion_field(ratee.pk)] = rng.choice(OPINIONS)
    return data


def _sequences_past_explicit_ids() -> None:
    """The demo pipeline writes facts with explicit ids and resets sequences only at its end;
    closing inserts through the sequences, so move them past the existing rows first."""
    statements = connection.ops.sequence_reset_sql(no_style(), [EvaluationScore, VoteCount, AuditLog])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def demo_closed_event(cycle: Cycle, rng: random.Random) -> EvaluationEvent:
    """Create, fill in (~40 ballots) and close one evaluation event in ``cycle``; return it.

    Rates the teams, heads and members of a few units by the cycle's rater groups named in
    DEMO_GROUP_BALLOTS (those that exist). Votes are added to the officials' existing counts.
    """
    _sequences_past_explicit_ids()
    forms = services.default_forms_ensure()
    units = _units(cycle, rng)
    event = services.event_create(
        actor=None,
        cycle=cycle,
        name=f"{cycle.year}年度部分单位领导班子和领导干部民主测评",
        closes_at=timezone.now() + timedelta(days=1),
        flush_batch=10,
        votes_mode="add",
    )
    groups = {g.code: g for g in RaterGroup.objects.filter(cycle=cycle, code__in=DEMO_GROUP_BALLOTS)}
    services.event_set_groups(
        actor=None, event=event, expected={g.pk: DEMO_GROUP_BALLOTS[code] for code, g in groups.items()}
    )
    services.event_set_ratees(
        actor=None,
        event=event,
        units=units,
        kinds=[FormKind.TEAM, FormKind.HEAD, FormKind.MEMBER],
        forms=forms,
    )
    event = services.event_open(actor=None, event=event)
    strength: dict[int, float] = {}
    for group in EventGroup.objects.filter(event=event).select_related("rater_group"):
        layout = ballots.ballot_layout(group.pk)
        expected = group.expected_ballots
        codes = services.codes_issue(actor=None, group=group, count=expected)
        for printed in codes[: max(1, expected - rng.randint(0, 2))]:  # a rater or two stays away
            ballots.ballot_submit(code=printed.code, data=_answers(layout, rng, strength))
    return event_close(actor=None, event=event)
