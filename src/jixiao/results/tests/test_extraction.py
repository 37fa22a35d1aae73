"""The fact COPYs through concurrent psql sessions give the frames the connection's COPY gives."""

from __future__ import annotations

import shutil

import pytest
from django.db import connection, transaction
from django.test import override_settings

from jixiao.facts.models import Adjustment, EvaluationScore
from jixiao.results import engine_io
from jixiao.results.services import cycle_meta, run_compute
from jixiao.results.tests.test_compute import cycle_with_facts as _fixture
from jixiao.scoring.digests import input_digest

cycle_with_facts = _fixture  # the same world, here in a committed (transactional) database

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the psql path is for PostgreSQL"),
    pytest.mark.skipif(shutil.which("psql") is None, reason="no psql client installed"),
]


def _load(cycle: object, *, psql: bool) -> tuple[engine_io.RunInput, str]:
    with override_settings(JIXIAO_EXTRACT_PSQL=psql), transaction.atomic():
        loaded = engine_io.load_run_input(cycle)  # type: ignore[arg-type]
    inp = engine_io.cycle_input(*loaded)
    return loaded, input_digest(inp, loaded.scheme, cycle_meta(cycle))  # type: ignore[arg-type]


def test_psql_sessions_read_the_same_frames_and_digest_as_the_connection(
    cycle_with_facts: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    used: list[int] = []
    real = engine_io._PsqlCopies.result

    def spy(self: engine_io._PsqlCopies) -> object:
        frames = real(self)
        used.append(0 if frames is None else len(frames))
        return frames

    monkeypatch.setattr(engine_io._PsqlCopies, "result", spy)
    cycle = cycle_with_facts["cycle"]
    unit = cycle_with_facts["units"][0]
    EvaluationScore.objects.create(
        cycle=cycle, unit=unit, rater_group="public", item="overall", score=61.5, ballots=3
    )  # an aggregate row, a comma and a quote in free text, a null indicator
    Adjustment.objects.create(
        cycle=cycle, unit=unit, kind="bonus", points=1.5, source='市委, "督查"', reason="x\ny"
    )
    fast, fast_digest = _load(cycle, psql=True)
    slow, slow_digest = _load(cycle, psql=False)
    for name in ("indicator_results", "ratings", "votes", "adjustments", "previous", "routine"):
        assert getattr(fast.facts, name).equals(getattr(slow.facts, name)), name
    assert fast.declared.equals(slow.declared)
    assert fast.scheme == slow.scheme
    for name in ("id", "category", "zone"):
        assert (getattr(fast.units, name) == getattr(slow.units, name)).all(), name
    for name in ("id", "unit", "layer", "category"):
        assert (getattr(fast.officials, name) == getattr(slow.officials, name)).all(), name
    assert fast.facts.ratings.height == 23
    assert fast_digest == slow_digest
    # The four fact tables, the units, the officials and the declared leaves came through psql in
    # one extraction, and only when asked; no routine grades: the scheme has no routine component.
    assert used == [7]


def test_a_transaction_that_wrote_reads_its_own_rows(cycle_with_facts: dict) -> None:
    """Rows only this transaction sees (not committed) cannot be read by other sessions: the
    connection reads them itself."""
    cycle = cycle_with_facts["cycle"]
    with transaction.atomic():
        EvaluationScore.objects.create(
            cycle=cycle, unit=cycle_with_facts["units"][1], rater_group="public", item="overall", score=1
        )
        facts = engine_io.load_facts(cycle)
    assert facts.ratings.height == 21


def test_run_compute_through_psql_matches_the_connection_bit_for_bit(cycle_with_facts: dict) -> None:
    cycle = cycle_with_facts["cycle"]
    with override_settings(JIXIAO_EXTRACT_PSQL=True):
        fast = run_compute(cycle=cycle, actor=None)
    with override_settings(JIXIAO_EXTRACT_PSQL=False):
        slow = run_compute(cycle=cycle, actor=None)
    assert (fast.input_digest, fast.output_digest) == (slow.input_digest, slow.output_digest)
