from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from jixiao.evaluations import ballots
from jixiao.evaluations.closing import event_close
from jixiao.evaluations.models import Ballot, BallotCode, PendingBallot
from jixiao.evaluations.tests.helpers import full_ballot, issue, make_world

THREADS = 8

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises every writing transaction, so there is no race to test; run on PostgreSQL",
    ),
]


def _race(target: object, n: int) -> list[str]:
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            result = target()  # type: ignore[operator]
            outcome = "ok" if result is None else str(result)
        except ballots.BallotError as error:
            outcome = type(error).__name__
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_eight_parallel_submits_of_one_code_store_exactly_one_ballot() -> None:
    world = make_world(flush_batch=100)
    [code] = issue(world, world.peers, 1)
    data = full_ballot(world.peers)
    outcomes = _race(lambda: ballots.ballot_submit(code=code, data=data), THREADS)
    assert sorted(outcomes) == ["CodeUsed"] * (THREADS - 1) + ["ok"]
    assert PendingBallot.objects.count() + Ballot.objects.count() == 1
    assert BallotCode.objects.get().used


def test_parallel_submits_of_different_codes_all_count_and_flush_exactly_once() -> None:
    world = make_world(flush_batch=3)
    codes = issue(world, world.peers, THREADS)
    data = full_ballot(world.peers)
    it = iter(codes)
    lock = threading.Lock()

    def submit() -> None:
        with lock:
            code = next(it)
        ballots.ballot_submit(code=code, data=data)

    assert _race(submit, THREADS) == ["ok"] * THREADS
    assert PendingBallot.objects.count() + Ballot.objects.count() == THREADS
    event_close(actor=world.office, event=world.event)
    assert Ballot.objects.count() == THREADS and PendingBallot.objects.count() == 0
