from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jixiao.evaluations import ballots
from jixiao.evaluations.closing import event_close
from jixiao.evaluations.models import Ballot, BallotAnswer, BallotCode, EventStatus, PendingBallot
from jixiao.evaluations.tests.helpers import World, full_ballot, issue

pytestmark = pytest.mark.django_db


def _stored() -> int:
    return Ballot.objects.count() + PendingBallot.objects.count()


def test_a_complete_ballot_is_stored_once_and_uses_the_code_up(world: World) -> None:
    [code] = issue(world, world.peers, 1)
    ballots.ballot_submit(code=code, data=full_ballot(world.peers))
    assert _stored() == 1
    assert BallotCode.objects.get().used


def test_an_incomplete_ballot_is_refused_stores_nothing_and_keeps_the_code_usable(world: World) -> None:
    [code] = issue(world, world.peers, 1)
    data = full_ballot(world.peers)
    missing_key = next(k for k in data if k.startswith("a-"))
    del data[missing_key]
    with pytest.raises(ballots.IncompleteBallot) as caught:
        ballots.ballot_submit(code=code, data=data)
    assert "1 项未填写" in str(caught.value)
    assert len(caught.value.missing) == 1
    assert _stored() == 0
    assert not BallotCode.objects.get().used
    ballots.ballot_submit(code=code, data=full_ballot(world.peers))
    assert _stored() == 1


def test_a_missing_overall_vote_makes_the_ballot_incomplete(world: World) -> None:
    [code] = issue(world, world.peers, 1)
    data = full_ballot(world.peers)
    del data[ballots.vote_field(world.event.ratees.get(official=world.head).pk)]
    with pytest.raises(ballots.IncompleteBallot, match="张局长·总体评价"):
        ballots.ballot_submit(code=code, data=data)


def test_a_reused_code_gets_a_clear_answer_and_never_a_second_ballot(world: World) -> None:
    [code] = issue(world, world.peers, 1)
    ballots.ballot_submit(code=code, data=full_ballot(world.peers))
    with pytest.raises(ballots.CodeUsed, match="已经使用过"):
        ballots.ballot_submit(code=code, data=full_ballot(world.peers, choice="3"))
    assert _stored() == 1


def test_an_unknown_or_malformed_code_is_refused(world: World) -> None:
    issue(world, world.peers, 1)
    for code in ("", "x", "A" * 22, "<script>alert(1)</script>"):
        with pytest.raises(ballots.CodeInvalid):
            ballots.ballot_submit(code=code, data=full_ballot(world.peers))
    assert _stored() == 0


def test_codes_expire_with_the_event_deadline(world: World) -> None:
    [code] = issue(world, world.peers, 1)
    world.event.closes_at = timezone.now() - timedelta(minutes=1)
    world.event.save()
    with pytest.raises(ballots.EventNotOpen, match="已经结束"):
        ballots.ballot_submit(code=code, data=full_ballot(world.peers))


def test_a_closed_event_accepts_no_ballot_its_codes_are_gone(world: World) -> None:
    first, second = issue(world, world.peers, 2)
    ballots.ballot_submit(code=first, data=full_ballot(world.peers))
    event_close(actor=world.office, event=world.event)
    # Closing deletes the event's codes (threat model, "Code linkage"): an unused one is unknown.
    with pytest.raises(ballots.CodeInvalid):
        ballots.ballot_submit(code=second, data=full_ballot(world.peers))
    assert Ballot.objects.count() == 1


def test_a_closing_event_refuses_ballots_inside_the_locking_transaction(world: World) -> None:
    [code] = issue(world, world.peers, 1)
    row = ballots.code_check(code)  # the code was fine when the rater opened the ballot …
    world.event.status = EventStatus.CLOSING  # … then the office started closing
    world.event.save()
    with pytest.raises(ballots.EventNotOpen):
        ballots.ballot_submit(code=code, data=full_ballot(world.peers))
    assert not BallotCode.objects.get(pk=row.pk).used


def test_unknown_answers_are_kept_without_points(world: World) -> None:
    [code] = issue(world, world.peers, 1)
    ballots.ballot_submit(
        code=code, data=full_ballot(world.peers, choice=ballots.UNKNOWN, vote=ballots.UNKNOWN)
    )
    ballots.ballots_flush(event_id=world.event.pk, force=True)
    assert BallotAnswer.objects.count() > 0
    assert set(BallotAnswer.objects.values_list("points", "choice")) == {(None, None)}


def test_the_ballot_lists_every_ratee_of_the_group_with_its_form(world: World) -> None:
    layout = ballots.ballot_layout(world.peers.pk)
    assert [r.name for r in layout.ratees] == ["财政局领导班子", "张局长", "副局长1", "副局长2"]
    team, head = layout.ratees[0], layout.ratees[1]
    assert not team.has_vote and team.items[0].code == "overall"
    assert head.has_vote and [i.label for i in head.items] == ["德", "能", "勤", "绩", "廉"]
    assert [(p.label, p.points) for p in head.scale] == [("好", 95), ("较好", 85), ("一般", 75), ("较差", 65)]
