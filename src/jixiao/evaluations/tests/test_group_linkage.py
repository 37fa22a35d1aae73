"""Ballot secrecy inside every group: an attacker reading the database cannot single out a small group's ballot.

Groups of 1, 2 and k voters (k = 3 here, flush batch 2) submit; the attacks of
:mod:`jixiao.evaluations.tests.attacks` read every table as raw rows — group columns, used
codes, ``xmin``, ``ctid``, sequences and ``pg_stat_user_tables`` — before and after closing
(docs/threat-model-ballots.md, "Groups below k" and "Code linkage"). PostgreSQL only: SQLite has
no transaction ids or physical row positions to attack.
"""

from __future__ import annotations

import pytest
from django.db import connection

from jixiao.accounts.models import AuditLog, Role
from jixiao.evaluations import ballots, services
from jixiao.evaluations.closing import event_close
from jixiao.evaluations.models import (
    Ballot,
    BallotCode,
    EvaluationEvent,
    EventGroup,
    PendingBallot,
    TallyLine,
    VoteTally,
)
from jixiao.evaluations.selectors import progress, results
from jixiao.evaluations.tests import attacks
from jixiao.evaluations.tests.helpers import full_ballot, open_event
from jixiao.facts.models import EvaluationScore
from jixiao.organisation.models import Layer
from jixiao.organisation.tests.factories import OfficialFactory, UnitFactory, UserFactory
from jixiao.schemes.models import RaterGroup
from jixiao.schemes.tests.factories import CycleFactory

K = 3
FLUSH = 2
SIZES = {"one": 1, "two": 2, "k": K, "many": 7}

pg_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="xmin, ctid and pg_stat_user_tables are PostgreSQL's; SQLite rows have none of them",
)


def _event() -> tuple[EvaluationEvent, dict[str, EventGroup], object]:
    office = UserFactory(role=Role.OFFICE)
    cycle = CycleFactory(year=2025)
    for order, code in enumerate(SIZES, 1):
        RaterGroup.objects.create(cycle=cycle, code=code, name=f"评价主体{order}", min_ballots=K, order=order)
    unit = UnitFactory(name="市财政局", short_name="财政局")
    OfficialFactory(unit=unit, layer=Layer.HEAD, name="张局长", title="局长")
    event, groups = open_event(office=office, cycle=cycle, unit=unit, flush_batch=FLUSH)
    return event, groups, office


def _submit_all(groups: dict[str, EventGroup], office: object) -> dict[str, list[bool]]:
    """Submit every group's ballots (interleaved); return per group whether a counter attack worked."""
    codes = {
        name: [p.code for p in services.codes_issue(actor=office, group=groups[name], count=n)]  # type: ignore[arg-type]
        for name, n in SIZES.items()
    }
    hits: dict[str, list[bool]] = {name: [] for name in SIZES}
    for i in range(max(SIZES.values())):
        for name, group in groups.items():
            if i < len(codes[name]):
                before = attacks.counters()
                ballots.ballot_submit(
                    code=codes[name][i],
                    data=full_ballot(group, choice=str(i % 4), opinion=f"意见-{name}-{i}"),
                )
                after = attacks.counters()
                hits[name].append(
                    attacks.insert_counters_moved(before, after, group)
                    or attacks.sequences_moved(before, after)
                )
    return hits


@pg_only
@pytest.mark.django_db(transaction=True)
def test_no_attack_on_the_raw_tables_singles_out_a_group_below_k_before_or_after_closing() -> None:
    attacks.SEEN.clear()
    event, groups, office = _event()
    hits = _submit_all(groups, office)
    for name in SIZES:
        assert not any(hits[name]), f"a submit of group {name} moved a counter of fewer than k ballots"
    # Before closing: groups of 1 and 2 have not reached the ballot tables at all.
    assert not Ballot.objects.filter(group__in=[groups["one"], groups["two"]]).exists()
    for name, group in groups.items():
        for attack, run in attacks.STATIC_ATTACKS.items():
            assert not run(group), f"before closing: {attack} on group {name}"

    event_close(actor=None, event=event)
    assert not PendingBallot.objects.exists() and not BallotCode.objects.filter(event=event).exists()
    for name, group in groups.items():
        for attack, run in attacks.STATIC_ATTACKS.items():
            assert not run(group), f"after closing: {attack} on group {name}"
    assert Ballot.objects.filter(group=groups["k"]).count() == K
    assert Ballot.objects.filter(group=groups["many"]).count() == SIZES["many"]


@pg_only
@pytest.mark.django_db(transaction=True)
def test_the_answers_of_a_group_of_one_appear_nowhere_after_closing() -> None:
    event, groups, office = _event()
    _submit_all(groups, office)
    event_close(actor=None, event=event)
    for name in ("one", "two"):
        group = groups[name]
        assert not attacks.answers_anywhere(group, f"意见-{name}-"), name
        assert not TallyLine.objects.filter(group=group).exists()
        assert not VoteTally.objects.filter(group=group).exists()
        assert not EvaluationScore.objects.filter(rater_group=name).exists()
    assert attacks.answers_anywhere(groups["k"], "意见-k-")  # the attack does see a group at k
    entry = AuditLog.objects.filter(object_type="evaluations.evaluationevent").latest("id")
    assert entry.changes["withheld_ballots"] == {"one": 1, "two": 2}
    # Participation survives as counts only; the results page withholds both groups.
    event.refresh_from_db()
    shown = {p.group.rater_group.code: (p.issued, p.received) for p in progress(event)}
    assert shown == {name: (n, n) for name, n in SIZES.items()}
    for res in results(event):
        for g in res.groups:
            assert g.withheld == (g.group.rater_group.code in ("one", "two"))
        assert not any(o.startswith(("意见-one", "意见-two")) for o in res.opinions)


@pytest.mark.django_db
def test_a_group_moves_from_the_buffer_only_in_batches_of_at_least_its_k() -> None:
    event, groups, office = _event()
    [only] = [p.code for p in services.codes_issue(actor=office, group=groups["one"], count=1)]  # type: ignore[arg-type]
    ballots.ballot_submit(code=only, data=full_ballot(groups["one"]))
    assert ballots.ballots_flush(event_id=event.pk) == 0
    assert ballots.ballots_flush(event_id=event.pk, force=True) == 0  # even forced: below k
    assert PendingBallot.objects.count() == 1 and not Ballot.objects.exists()
    codes = [p.code for p in services.codes_issue(actor=office, group=groups["k"], count=K + 1)]  # type: ignore[arg-type]
    for i, code in enumerate(codes[:K]):
        ballots.ballot_submit(code=code, data=full_ballot(groups["k"]))
        # flush_batch (2) is reached at the second ballot, but k (3) is not: nothing moves
        assert Ballot.objects.filter(group=groups["k"]).count() == (K if i == K - 1 else 0)
    ballots.ballot_submit(code=codes[K], data=full_ballot(groups["k"]))
    # the last ballot goes in with K - 1 earlier ones taken back: a batch of K, K + 1 ballots in all
    assert ballots.ballots_flush(event_id=event.pk, force=True) == 1
    assert Ballot.objects.filter(group=groups["k"]).count() == K + 1


@pytest.mark.django_db
def test_a_pair_rated_by_fewer_than_k_keeps_no_tally_line_and_shows_withheld() -> None:
    """Two staff ballots (k = 2), one of them all 不了解: one rating per item is below k."""
    from jixiao.evaluations.tests.helpers import issue, make_world

    world = make_world(flush_batch=1, min_ballots=2)
    first, second = issue(world, world.staff, 2)
    ballots.ballot_submit(code=first, data=full_ballot(world.staff, choice="0"))
    unknown = {k: (ballots.UNKNOWN if k.startswith("a-") else v) for k, v in full_ballot(world.staff).items()}
    ballots.ballot_submit(code=second, data=unknown)
    event_close(actor=None, event=world.event)
    assert not TallyLine.objects.filter(group=world.staff).exists()
    assert not VoteTally.objects.filter(group=world.staff).exists()
    assert not EvaluationScore.objects.filter(rater_group="staff").exists()
    world.event.refresh_from_db()
    for res in results(world.event):
        assert all(g.withheld for g in res.groups if g.group == world.staff)
