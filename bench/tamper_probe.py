"""Probe: does ``jixiao verify`` detect every tampering done straight in the database?

    .venv/bin/python bench/tamper_probe.py [--attempts 5] [--seed 5]

On a throwaway SQLite database (in a temporary directory, removed afterwards) it generates the
tiny demo, computes the latest cycle, then for each kind (an audit row, a tally line, a result
total, a stored run input) changes ``--attempts`` random rows one at a time with raw SQL, runs the
verification, and undoes the change. Prints attempts / detected per kind and verify's seconds.
Bounded by the attempt count; loopback only (no network). This is not a test.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=5)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jixiao-tamper-") as tmp:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/probe.sqlite3"
        os.environ["JIXIAO_VAR_DIR"] = tmp
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jixiao.config.settings")
        import django

        django.setup()
        _probe(args.attempts, args.seed)


def _probe(attempts: int, seed: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from jixiao.demo.generator import generate
    from jixiao.evaluations.closing import event_close
    from jixiao.evaluations.models import EvaluationEvent, EventStatus, TallyLine
    from jixiao.ledger.verify import ledger_verify
    from jixiao.results.services import run_compute
    from jixiao.schemes.models import Cycle

    call_command("migrate", verbosity=0)
    generate(scale="tiny", seed=seed)
    if not TallyLine.objects.exists():  # the demo may leave its events open: close one
        event = EvaluationEvent.objects.filter(status=EventStatus.OPEN).first()
        if event is not None:
            event_close(actor=None, event=event)
    cycle = Cycle.objects.order_by("-year").first()
    assert cycle is not None
    run = run_compute(cycle=cycle, actor=None)
    started = time.perf_counter()
    baseline = ledger_verify()
    seconds = time.perf_counter() - started
    assert baseline.ok, baseline.problems

    rng = random.Random(seed)

    def ids(sql: str) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return [r[0] for r in cursor.fetchall()]

    # (kind, candidate ids, tamper SQL, undo SQL, recompute needed)
    probes = [
        ("审计日志", ids("SELECT id FROM accounts_auditlog"),
         "UPDATE accounts_auditlog SET object_repr = object_repr || 'x' WHERE id = %s",
         "UPDATE accounts_auditlog SET object_repr = substr(object_repr, 1, length(object_repr) - 1) WHERE id = %s"),
        ("计票行", ids("SELECT id FROM evaluations_tallyline"),
         "UPDATE evaluations_tallyline SET mean = mean + 0.5 WHERE id = %s",
         "UPDATE evaluations_tallyline SET mean = mean - 0.5 WHERE id = %s"),
        ("计分结果", ids(f"SELECT id FROM results_entityresult WHERE run_id = {run.pk}"),
         "UPDATE results_entityresult SET total = total + 7.5 WHERE id = %s",
         "UPDATE results_entityresult SET total = total - 7.5 WHERE id = %s"),
        ("运行输入", ids(f"SELECT run_id FROM ledger_runinput WHERE run_id = {run.pk}") * attempts,
         "", None),  # one byte of the stored Parquet tables flipped (below)
    ]  # fmt: skip
    print(f"demo: tiny seed {seed}; verify (chain + recompute) {seconds:.2f} s, "
          f"{baseline.entries} entries, {baseline.runs} runs")  # fmt: skip
    total = found = 0
    for kind, candidates, sql, undo in probes:
        picked = rng.sample(candidates, min(attempts, len(candidates))) if undo else candidates[:attempts]
        detected = 0
        for pk in picked:
            with connection.cursor() as cursor:
                if undo is None:
                    cursor.execute("SELECT tables FROM ledger_runinput WHERE run_id = %s", [pk])
                    before = bytes(cursor.fetchone()[0])
                    changed = bytearray(before)
                    changed[rng.randrange(len(changed))] ^= 1 << rng.randrange(8)
                    cursor.execute(
                        "UPDATE ledger_runinput SET tables = %s WHERE run_id = %s", [bytes(changed), pk]
                    )
                else:
                    cursor.execute(sql, [pk])
            detected += not ledger_verify().ok
            with connection.cursor() as cursor:
                if undo is None:
                    cursor.execute("UPDATE ledger_runinput SET tables = %s WHERE run_id = %s", [before, pk])
                else:
                    cursor.execute(undo, [pk])
        total, found = total + len(picked), found + detected
        print(f"{kind}: attempts {len(picked)} / detected {detected}")
    print(f"all: attempts {total} / detected {found}")
    assert ledger_verify().ok, "undoing every change should verify again"


if __name__ == "__main__":
    main()
