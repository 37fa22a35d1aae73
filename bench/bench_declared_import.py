"""Benchmark: the declared targets' annual values (申报指标完成情况) template and import at
province size, against the obvious library path (an openpyxl read of the same file).

    PYTHONPATH=src python bench/bench_declared_import.py [--units 10000] [--per-unit 10]

The database is a throwaway one (bench_registry_import's: a SQLite file under /tmp, or with
DATABASE_URL at PostgreSQL a ``<name>_bench_<pid>`` database created and dropped here). Prints
wall and CPU seconds (this process only; PostgreSQL's own work is in the wall time) and the load;
the ratios are of CPU seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_registry_import import _openpyxl_read_seconds, _setup_database

T = TypeVar("T")


def _timed(label: str, fn: Callable[[], T]) -> tuple[T, float]:
    """Run ``fn``, print its wall and CPU seconds, return its result and the CPU seconds (on a
    shared machine at load 10+ the wall time mostly measures the other processes)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<44} {wall:7.2f} s wall  {cpu:7.2f} s CPU")
    return out, cpu


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def _build(units: int, per_unit: int) -> tuple[Any, Any]:
    """A cycle with one county scheme of ``per_unit`` framework nodes and ``units`` units, each
    with a published declaration holding one target under every node; return (cycle, office)."""
    from jixiao.accounts.models import Role
    from jixiao.declarations.models import Declaration, DeclaredIndicator
    from jixiao.organisation.models import Unit
    from jixiao.organisation.tests.factories import CategoryFactory, RegionFactory, UserFactory
    from jixiao.schemes.models import CycleStatus
    from jixiao.schemes.tests.factories import ComponentFactory, CycleFactory, IndicatorFactory, SchemeFactory

    cycle = CycleFactory(year=2025, status=CycleStatus.OPEN)
    category, region = CategoryFactory(code="XQ", name="县区"), RegionFactory()
    scheme = SchemeFactory(cycle=cycle, category=category)
    component = ComponentFactory(scheme=scheme)
    nodes = [
        IndicatorFactory(component=component, code=f"{i // 5 + 1}.{i % 5 + 1}", order=i)
        for i in range(per_unit)
    ]
    Unit.objects.bulk_create(
        [Unit(code=f"C{n:05d}", name=f"第{n}县", category=category, region=region) for n in range(units)],
        batch_size=2_000,
    )
    unit_ids = list(Unit.objects.filter(category=category).order_by("code").values_list("pk", flat=True))
    Declaration.objects.bulk_create(
        [Declaration(cycle=cycle, unit_id=u, version=1, published_version=1) for u in unit_ids],
        batch_size=2_000,
    )
    declarations = list(Declaration.objects.filter(cycle=cycle).values_list("pk", flat=True))
    DeclaredIndicator.objects.bulk_create(
        [
            DeclaredIndicator(
                declaration_id=d,
                parent=node,
                name=f"申报指标{i}",
                measure="万元",
                rule_type="completion",
                weight=Decimal(10),
                target=Decimal(100 + i),
                order=i,
            )
            for d in declarations
            for i, node in enumerate(nodes)
        ],
        batch_size=5_000,
    )
    return cycle, UserFactory(role=Role.OFFICE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--units", type=int, default=10_000, help="units (default 10000)")
    parser.add_argument("--per-unit", type=int, default=10, help="declared leaves per unit (default 10)")
    args = parser.parse_args()

    where, cleanup = _setup_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jixiao.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from jixiao.facts.excel import FactKind, facts_import, write_template
    from jixiao.facts.excel.template import declared_prefill
    from jixiao.facts.models import IndicatorResult
    from jixiao.organisation.excel.reader import read_workbook

    path = tempfile.mktemp(prefix="jixiao-bench-declared-", suffix=".xlsx", dir="/tmp")
    try:
        call_command("migrate", verbosity=0)
        rows = args.units * args.per_unit
        print(f"database: {where}; {args.units:,} units × {args.per_unit} declared leaves = {rows:,} rows")
        print(_load())
        (cycle, office), _s = _timed("setup (bulk rows)", lambda: _build(args.units, args.per_unit))

        prefill, _s = _timed(
            "template rows (declared_prefill)", lambda: declared_prefill(user=office, cycle=cycle)
        )
        assert len(prefill.rows) == rows
        value_at = prefill.keys.index("value")
        for n, row in enumerate(prefill.rows):
            row[value_at] = 90.0 + n % 20  # the clerk fills in every row
        _none, _s = _timed(
            "template write (xlsxwriter)", lambda: write_template(path, FactKind.DECLARED, prefill)
        )
        print(f"workbook: {Path(path).stat().st_size / 1e6:.1f} MB")

        _none, calamine_s = _timed("read (calamine, normalised columns)", lambda: read_workbook(path))
        _wall, openpyxl_s = _timed(
            "read (openpyxl read-only, values only)", lambda: _openpyxl_read_seconds(path)
        )

        def run() -> Any:
            result = facts_import(
                actor=office, cycle=cycle, kind=FactKind.DECLARED, source=path, filename="b.xlsx"
            )
            assert result.ok, result.errors[:5]
            return result

        first, new_s = _timed("import, all new (read+check+write+audit)", run)
        assert first.total_created == rows and IndicatorResult.objects.count() == rows
        again, _same_s = _timed("import again, unchanged (skipped)", run)
        assert again.total_created == again.total_updated == 0
        for row in prefill.rows:
            row[value_at] += 1
        write_template(path, FactKind.DECLARED, prefill)
        changed, update_s = _timed("import, every value changed (updates)", run)
        assert changed.total_updated == rows
        print(f"rows per CPU second, all new: {rows / new_s:,.0f}; updates: {rows / update_s:,.0f}")
        print(f"ratio, CPU: openpyxl read alone / our whole import (new rows): {openpyxl_s / new_s:.2f}×")
        print(f"ratio, CPU: openpyxl read / calamine read: {openpyxl_s / calamine_s:.1f}×")
        print(f"vendor={connection.vendor} cores={os.cpu_count()}; {_load()}")
    finally:
        Path(path).unlink(missing_ok=True)
        cleanup()


if __name__ == "__main__":
    main()
