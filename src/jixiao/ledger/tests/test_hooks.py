"""The run and the closing record themselves in the ledger; a change in the database is reported."""

from __future__ import annotations

import pytest

from jixiao.evaluations import ballots
from jixiao.evaluations.closing import event_close
from jixiao.evaluations.models import TallyLine
from jixiao.evaluations.tests.helpers import World, full_ballot, issue
from jixiao.ledger.models import RunInput
from jixiao.ledger.tests.helpers import tamper
from jixiao.ledger.verify import ledger_verify
from jixiao.results.models import EntityResult
from jixiao.results.services import run_compute

pytestmark = pytest.mark.django_db


def test_a_computed_run_verifies_and_a_total_changed_by_sql_is_reported_with_its_row(
    cycle_with_facts: dict[str, object],
) -> None:
    run = run_compute(cycle=cycle_with_facts["cycle"], actor=None)  # type: ignore[arg-type]
    assert RunInput.objects.filter(run=run).exists()
    assert ledger_verify().ok
    row = EntityResult.objects.filter(run=run).order_by("id").first()
    assert row is not None
    tamper("UPDATE results_entityresult SET total = total + 7.5 WHERE id = %s", [row.pk])
    problems = ledger_verify().problems
    assert any(f"编号 {run.pk}" in p and f"结果行 {row.pk}" in p for p in problems)
    assert any("对象内容与入链时不符" in p for p in problems)


def test_a_stored_run_input_changed_by_sql_is_reported(cycle_with_facts: dict[str, object]) -> None:
    run = run_compute(cycle=cycle_with_facts["cycle"], actor=None)  # type: ignore[arg-type]
    stored = RunInput.objects.get(run=run)
    tables = bytearray(stored.tables)
    tables[-20] ^= 0xFF
    tamper(f"UPDATE {RunInput._meta.db_table} SET tables = %s WHERE run_id = %s", [bytes(tables), run.pk])
    problems = ledger_verify().problems
    assert any(f"编号 {run.pk}" in p and "保存的输入已被改动" in p for p in problems)


def test_a_tally_line_changed_by_sql_is_reported(world: World) -> None:
    codes = issue(world, world.peers, 2)
    for code in codes:
        ballots.ballot_submit(
            code=code, data=full_ballot(world.peers, choice="0", vote="excellent", opinion="")
        )
    event = event_close(actor=world.office, event=world.event)
    assert ledger_verify(recompute=False).ok
    line = TallyLine.objects.filter(event=event).first()
    assert line is not None
    tamper(f"UPDATE {TallyLine._meta.db_table} SET mean = mean - 1 WHERE id = %s", [line.pk])
    problems = ledger_verify(recompute=False).problems
    assert any("测评计票" in p and str(event.pk) in p for p in problems)
