from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from jixiao.accounts.models import AuditLog
from jixiao.evaluations import ballots
from jixiao.evaluations.closing import event_close, tally_digest
from jixiao.evaluations.models import EventStatus, TallyLine, VotesMode, VoteTally
from jixiao.evaluations.tests.helpers import World, full_ballot, issue
from jixiao.facts.models import EvaluationScore, VoteCount

pytestmark = pytest.mark.django_db


def _vote(world: World, codes: list[str], group: str, choice: str, vote: str) -> None:
    g = world.peers if group == "peers" else world.staff
    for code in codes:
        ballots.ballot_submit(
            code=code, data=full_ballot(g, choice=choice, vote=vote, opinion="希望加强调研")
        )


def test_closing_tallies_means_with_unknown_excluded_and_counts_votes(world: World) -> None:
    codes = issue(world, world.peers, 4)
    _vote(world, codes[:2], "peers", "0", "excellent")  # 95
    _vote(world, codes[2:3], "peers", "2", "basic")  # 75
    _vote(world, codes[3:], "peers", ballots.UNKNOWN, ballots.UNKNOWN)  # 不了解: excluded
    event = event_close(actor=world.office, event=world.event)
    assert event.status == EventStatus.CLOSED
    head = world.event.ratees.get(official=world.head)
    line = TallyLine.objects.get(event=event, ratee=head, group=world.peers, item="de")
    assert (line.rated, line.unknown) == (3, 1)
    assert line.mean == pytest.approx((95 + 95 + 75) / 3)
    votes = VoteTally.objects.get(event=event, ratee=head, group=world.peers)
    assert (votes.excellent, votes.competent, votes.basic, votes.incompetent, votes.unknown) == (
        2,
        0,
        1,
        0,
        1,
    )


def test_closing_writes_one_fact_per_rated_answer_and_the_vote_counts(world: World) -> None:
    codes = issue(world, world.peers, 3) + issue(world, world.staff, 2)
    _vote(world, codes[:3], "peers", "1", "competent")
    _vote(world, codes[3:], "staff", ballots.UNKNOWN, "incompetent")
    event_close(actor=world.office, event=world.event)
    facts = EvaluationScore.objects.filter(source=f"evaluation:{world.event.pk}")
    # 3 peer ballots × (team 5 items + 3 officials × 5 items); the staff answers were all 不了解
    assert facts.count() == 3 * 20
    assert set(facts.values_list("ballots", "score", "rater_group")) == {(1, 85.0, "peers")}
    assert facts.filter(unit=world.unit, item="overall").count() == 3
    assert facts.filter(official=world.head, item="de").count() == 3
    head = VoteCount.objects.get(cycle=world.cycle, official=world.head)
    assert (head.excellent, head.competent, head.basic, head.incompetent) == (0, 3, 0, 2)
    assert head.source == f"evaluation:{world.event.pk}"


@pytest.mark.parametrize(
    ("mode", "expected"), [(VotesMode.REPLACE, (0, 2, 0, 0)), (VotesMode.ADD, (5, 7, 0, 0))]
)
def test_existing_vote_counts_are_replaced_or_added_to(
    world: World, mode: str, expected: tuple[int, ...]
) -> None:
    VoteCount.objects.create(
        cycle=world.cycle, official=world.head, excellent=5, competent=5, source="民主测评"
    )
    world.event.votes_mode = mode
    world.event.save()
    _vote(world, issue(world, world.peers, 2), "peers", "0", "competent")
    event_close(actor=world.office, event=world.event)
    head = VoteCount.objects.get(cycle=world.cycle, official=world.head)
    assert (head.excellent, head.competent, head.basic, head.incompetent) == expected
    assert head.source.endswith(f"evaluation:{world.event.pk}")


def test_an_event_cannot_be_closed_twice(world: World) -> None:
    _vote(world, issue(world, world.peers, 1), "peers", "0", "competent")
    event_close(actor=world.office, event=world.event)
    with pytest.raises(ValidationError):
        event_close(actor=world.office, event=world.event)
    assert EvaluationScore.objects.count() == 20


def test_the_tally_digest_is_in_the_audit_log_and_reproducible(world: World) -> None:
    _vote(world, issue(world, world.peers, 3), "peers", "1", "competent")
    event = event_close(actor=world.office, event=world.event)
    entry = AuditLog.objects.filter(
        object_type="evaluations.evaluationevent", object_id=str(event.pk)
    ).first()
    assert entry is not None and entry.changes["tally_sha256"] == event.tally_digest
    assert len(event.tally_digest) == 64 and tally_digest(event) == event.tally_digest
    TallyLine.objects.filter(event=event).update(mean=90)  # tampering shows
    assert tally_digest(event) != event.tally_digest


def test_closing_with_an_empty_buffer_and_no_ballots_still_freezes_the_event(world: World) -> None:
    event = event_close(actor=world.office, event=world.event)
    assert event.status == EventStatus.CLOSED and not TallyLine.objects.exists()


def test_compact_facts_carry_exactly_the_same_ratings_as_one_row_per_answer(world: World) -> None:
    from collections import Counter

    from jixiao.evaluations.closing import events_close

    codes = issue(world, world.peers, 5)
    for n, code in enumerate(codes):
        ballots.ballot_submit(code=code, data=full_ballot(world.peers, choice=str(n % 3), vote="competent"))
    events_close(actor=world.office, events=[world.event], compact_facts=True)
    rows = EvaluationScore.objects.filter(source=world.event.source)
    expanded: Counter[tuple[object, ...]] = Counter()
    for official, unit, item, score, n in rows.values_list(
        "official_id", "unit_id", "item", "score", "ballots"
    ):
        expanded[(official, unit, item, score)] += n
    assert rows.count() == 20 * 3  # 20 (ratee, item) pairs × 3 distinct scores
    assert sum(expanded.values()) == 5 * 20
    assert expanded[(world.head.pk, None, "de", 95.0)] == 2  # ballots 0 and 3 chose 好
