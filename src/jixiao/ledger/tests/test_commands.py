"""``jixiao verify``, ``jixiao ledger-roots`` and ``jixiao export-bundle --run`` on the tiny demo."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from jixiao.demo.generator import generate
from jixiao.ledger.models import Checkpoint, RunInput, Verification
from jixiao.ledger.tests.helpers import tamper
from jixiao.organisation.tests.factories import UnitFactory
from jixiao.results.models import EntityResult, ScoringRun
from jixiao.results.services import run_compute
from jixiao.schemes.models import Cycle
from jixiao.scoring.bundle import bundle_digest

pytestmark = pytest.mark.django_db


def _demo_run() -> ScoringRun:
    generate(scale="tiny", seed=5)
    cycle = Cycle.objects.order_by("-year").first()
    assert cycle is not None
    return run_compute(cycle=cycle, actor=None)


def test_verify_passes_on_the_demo_and_fails_naming_the_row_after_one_tamper() -> None:
    run = _demo_run()
    out = StringIO()
    call_command("verify", stdout=out)
    assert "校验通过" in out.getvalue()
    assert Verification.objects.get().ok

    roots = StringIO()
    call_command("ledger_roots", checkpoint=True, stdout=roots)
    checkpoint = Checkpoint.objects.get()
    assert checkpoint.root in roots.getvalue()

    row = EntityResult.objects.filter(run=run).order_by("id").first()
    assert row is not None
    tamper("UPDATE results_entityresult SET total = total + 7.5 WHERE id = %s", [row.pk])
    err = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("verify", stdout=StringIO(), stderr=err)
    assert exit_.value.code == 1
    assert f"结果行 {row.pk}" in err.getvalue() and "校验未通过" in err.getvalue()
    last = Verification.objects.order_by("-at", "-id").first()
    assert last is not None and not last.ok and last.problems


def test_export_bundle_of_a_run_is_its_stored_input_after_the_cycle_changed(tmp_path: Path) -> None:
    run = _demo_run()
    unit = EntityResult.objects.filter(run=run, unit__isnull=False).select_related("unit").first()
    assert unit is not None and unit.unit is not None
    UnitFactory(category=unit.unit.category, code="NEW-UNIT")  # the cycle's data moves on
    by_run, by_cycle = tmp_path / "run.json", tmp_path / "cycle.json"
    call_command("export_bundle", run=run.pk, out=by_run, stdout=StringIO())
    call_command("export_bundle", cycle=run.cycle.year, out=by_cycle, stdout=StringIO())
    assert bundle_digest(json.loads(by_run.read_bytes())) == run.input_digest
    assert bundle_digest(json.loads(by_cycle.read_bytes())) != run.input_digest
    assert RunInput.objects.get(run=run).digest


def test_a_run_of_another_engine_version_is_checked_on_its_input_and_named_not_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # After an upgrade of the engine, old runs keep their published results: today's engine may
    # round or explain differently, so verify checks their stored input and says so.
    run = _demo_run()
    monkeypatch.setattr("jixiao.scoring.ENGINE_VERSION", "9.9.9")
    out = StringIO()
    call_command("verify", stdout=out)
    text = out.getvalue()
    assert "校验通过" in text
    assert f"由计分引擎 {run.engine_version} 计算，当前为 9.9.9" in text
    assert "重算 0 个计分批次" in text
