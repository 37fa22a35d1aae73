from __future__ import annotations

import pytest
from django.core.management import call_command

from jixiao.evaluations import ballots
from jixiao.evaluations.models import Ballot, BallotAnswer, BallotVote, PendingBallot
from jixiao.evaluations.tests.helpers import World, full_ballot, issue

pytestmark = pytest.mark.django_db


def test_ballots_wait_in_the_buffer_until_a_full_batch_can_move(world: World) -> None:
    codes = issue(world, world.peers, 5)  # the fixture's flush_batch is 3
    for code in codes[:2]:
        ballots.ballot_submit(code=code, data=full_ballot(world.peers))
    assert (PendingBallot.objects.count(), Ballot.objects.count()) == (2, 0)
    ballots.ballot_submit(code=codes[2], data=full_ballot(world.peers))
    assert (PendingBallot.objects.count(), Ballot.objects.count()) == (0, 3)
    ballots.ballot_submit(code=codes[3], data=full_ballot(world.peers))
    assert (PendingBallot.objects.count(), Ballot.objects.count()) == (1, 3)


def test_an_unforced_flush_never_moves_fewer_than_the_batch(world: World) -> None:
    [code] = issue(world, world.peers, 1)
    ballots.ballot_submit(code=code, data=full_ballot(world.peers))
    assert ballots.ballots_flush(event_id=world.event.pk) == 0
    call_command("flush_ballots")
    assert PendingBallot.objects.count() == 1
    assert ballots.ballots_flush(event_id=world.event.pk, force=True) == 1
    assert PendingBallot.objects.count() == 0


def test_flushed_ballots_get_fresh_random_ids_and_keep_their_content(world: World) -> None:
    world.event.flush_batch = 100
    world.event.save()
    codes = issue(world, world.staff, 4)
    for n, code in enumerate(codes):
        ballots.ballot_submit(code=code, data=full_ballot(world.staff, choice=str(n), vote="excellent"))
    pending_ids = set(PendingBallot.objects.values_list("id", flat=True))
    assert ballots.ballots_flush(event_id=world.event.pk, force=True) == 4
    ballot_ids = set(Ballot.objects.values_list("id", flat=True))
    assert len(ballot_ids) == 4 and not (ballot_ids & pending_ids)
    assert all(b.version == 4 for b in ballot_ids)  # UUID4: random, no clock, no sequence
    points = sorted(set(BallotAnswer.objects.values_list("points", flat=True)))
    assert points == [65.0, 75.0, 85.0, 95.0]
    assert set(BallotVote.objects.values_list("vote", flat=True)) == {"excellent"}


def test_the_flush_shuffles_the_arrival_order(world: World) -> None:
    """Over many flushes, the stored order is not the arrival order (a permutation test)."""
    world.event.flush_batch = 1000
    world.event.save()
    codes = issue(world, world.peers, 8)
    for n, code in enumerate(codes):
        # choice n % 4 on every item marks the arrival position (0..3) within pairs
        ballots.ballot_submit(code=code, data=full_ballot(world.peers, choice=str(n % 4)))
    orders = set()
    for _attempt in range(5):
        pending = list(PendingBallot.objects.values_list("id", "payload"))
        ballots.ballots_flush(event_id=world.event.pk, force=True)
        stored = [
            int(BallotAnswer.objects.filter(ballot=b).values_list("choice", flat=True).first() or 0)
            for b in Ballot.objects.all()  # heap order ≈ insertion order
        ]
        orders.add(tuple(stored))
        # put them back into the buffer to flush again
        Ballot.objects.all().delete()
        PendingBallot.objects.bulk_create(PendingBallot(event=world.event, payload=p) for _i, p in pending)
    assert len(orders) > 1
