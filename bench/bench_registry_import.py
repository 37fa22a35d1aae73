"""Benchmark: import a large officials workbook end to end, and compare with django-import-export.

    uv run python bench/bench_registry_import.py [--rows 200000] [--units 1000] [--slice 2000]

Uses a throwaway SQLite file under /tmp, or, when DATABASE_URL points at PostgreSQL, a throwaway
database ``<name>_bench_<pid>`` on that server (created, migrated and dropped here), so a
development database is never filled with benchmark rows.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))


def _setup_database() -> tuple[str, Any]:
    """Point DATABASE_URL at a throwaway database; return a description and a cleanup callable."""
    url = os.environ.get("DATABASE_URL", "")
    if not url or url.startswith("sqlite"):
        fd, path = tempfile.mkstemp(prefix="jixiao-bench-", suffix=".sqlite3", dir="/tmp")
        os.close(fd)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"

        def drop_sqlite() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(path + suffix).unlink(missing_ok=True)

        return f"SQLite {path}", drop_sqlite
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'jixiao'}_bench_{os.getpid()}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))

    def drop_pg() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"PostgreSQL {name}", drop_pg


def _official_rows(n: int, units: int, prefix: str = "B") -> Iterator[tuple[Any, ...]]:
    layers = ["班子正职", "班子成员", "其他处级干部"]
    surnames = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨"
    born = date(1965, 1, 1)
    for i in range(n):
        yield (
            f"{prefix}{i:07d}",
            f"{surnames[i % 16]}{i % 997}",
            "男" if i % 3 else "女",
            born + timedelta(days=i % 9000),
            f"U{i % units:04d}",
            layers[0] if i % units == i % 50 == 0 else layers[1 + i % 2],
            "副处级",
            "副局长",
            "是",
        )


def _write_workbook(path: str, rows: int, units: int) -> float:
    from jixiao.organisation.excel.specs import SHEETS_BY_KEY, SheetKey
    from jixiao.organisation.excel.writer import write_workbook

    spec = SHEETS_BY_KEY
    started = time.perf_counter()
    write_workbook(
        path,
        [
            (spec[SheetKey.REGION], [("R01", "基准市", None)]),
            (spec[SheetKey.CATEGORY], [("C01", "县市区", 1, "")]),
            (
                spec[SheetKey.UNIT],
                [(f"U{u:04d}", f"基准单位{u}", "", "C01", "R01", None, "是") for u in range(units)],
            ),
            (spec[SheetKey.OFFICIAL], _official_rows(rows, units)),
        ],
        notes=False,
    )
    return time.perf_counter() - started


def _import_export_seconds(path: str, slice_rows: int) -> tuple[float, int]:
    """Time django-import-export on the first ``slice_rows`` officials (recoded so they are new)."""
    import python_calamine
    import tablib
    from import_export import fields, resources, widgets

    from jixiao.organisation.models import Gender, Layer, Official, Unit

    class LabelWidget(widgets.Widget):  # type: ignore[misc]  # untyped library base class
        def __init__(self, choices: Any) -> None:
            super().__init__()
            self.lookup = {str(label): str(value) for value, label in choices.choices}

        def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
            return self.lookup.get(value, value or "")

    class YesNoWidget(widgets.Widget):  # type: ignore[misc]
        def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
            return value != "否"

    class OfficialResource(resources.ModelResource):  # type: ignore[misc]
        code = fields.Field(attribute="code", column_name="工号")
        name = fields.Field(attribute="name", column_name="姓名")
        gender = fields.Field(attribute="gender", column_name="性别", widget=LabelWidget(Gender))
        birth_date = fields.Field(attribute="birth_date", column_name="出生日期", widget=widgets.DateWidget())
        unit = fields.Field(
            attribute="unit", column_name="单位代码", widget=widgets.ForeignKeyWidget(Unit, "code")
        )
        layer = fields.Field(attribute="layer", column_name="层级", widget=LabelWidget(Layer))
        rank = fields.Field(attribute="rank", column_name="职级")
        title = fields.Field(attribute="title", column_name="职务")
        is_active = fields.Field(attribute="is_active", column_name="在职", widget=YesNoWidget())

        class Meta:
            model = Official
            import_id_fields = ("code",)
            fields = ("code", "name", "gender", "birth_date", "unit", "layer", "rank", "title", "is_active")

    started = time.perf_counter()
    sheet = python_calamine.load_workbook(path).get_sheet_by_name("领导干部")
    rows = sheet.to_python(nrows=slice_rows + 1)
    dataset = tablib.Dataset(headers=rows[0])
    for row in rows[1:]:
        dataset.append(["X" + row[0][1:], *row[1:]])
    result = OfficialResource().import_data(dataset, dry_run=False, raise_errors=True, use_transactions=True)
    seconds = time.perf_counter() - started
    assert not result.has_errors() and not result.has_validation_errors()
    return seconds, len(rows) - 1


def _openpyxl_read_seconds(path: str) -> float:
    import openpyxl

    started = time.perf_counter()
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    for ws in workbook.worksheets:
        for _row in ws.iter_rows(values_only=True):
            pass
    workbook.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=200_000, help="officials rows (default 200000)")
    parser.add_argument("--units", type=int, default=1_000, help="units referenced (default 1000)")
    parser.add_argument(
        "--slice", type=int, default=2_000, help="rows for django-import-export (default 2000)"
    )
    parser.add_argument("--skip-openpyxl", action="store_true", help="skip the (slow) openpyxl read")
    args = parser.parse_args()

    where, cleanup = _setup_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jixiao.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from jixiao.organisation.excel import registry_import
    from jixiao.organisation.excel.reader import read_workbook
    from jixiao.organisation.models import Official

    try:
        call_command("migrate", verbosity=0)
        print(f"database: {where}")
        path = tempfile.mktemp(prefix="jixiao-bench-", suffix=".xlsx", dir="/tmp")
        generated = _write_workbook(path, args.rows, args.units)
        size_mb = Path(path).stat().st_size / 1e6
        print(
            f"workbook: {args.rows:,} officials + {args.units:,} units, {size_mb:.1f} MB, written in {generated:.2f} s"
        )

        started = time.perf_counter()
        read_workbook(path)
        calamine_s = time.perf_counter() - started
        print(f"read (python-calamine, normalised columns): {calamine_s:.2f} s")
        if not args.skip_openpyxl:
            openpyxl_s = _openpyxl_read_seconds(path)
            print(
                f"read (openpyxl read-only):                  {openpyxl_s:.2f} s  ({openpyxl_s / calamine_s:.1f}× calamine)"
            )

        started = time.perf_counter()
        result = registry_import(actor=None, source=path, filename="bench.xlsx")
        ours_new = time.perf_counter() - started
        assert result.ok, result.errors[:5]
        assert Official.objects.count() == args.rows
        print(
            f"import, all new (parse+validate+write): {ours_new:.2f} s  ({args.rows / ours_new:,.0f} rows/s)"
        )

        started = time.perf_counter()
        result = registry_import(actor=None, source=path, filename="bench.xlsx")
        ours_update = time.perf_counter() - started
        assert result.ok and result.total_created == 0, result.counts
        print(f"import, all existing (updates):         {ours_update:.2f} s")

        ie_seconds, ie_rows = _import_export_seconds(path, args.slice)
        scaled = ie_seconds * args.rows / ie_rows
        print(
            f"django-import-export: {ie_rows:,} rows in {ie_seconds:.2f} s → {scaled:,.1f} s scaled to {args.rows:,}"
        )
        print(f"ratio (django-import-export scaled / ours, new rows): {scaled / ours_new:.1f}×")
        print(f"vendor={connection.vendor} cores={os.cpu_count()}")
        Path(path).unlink(missing_ok=True)
    finally:
        cleanup()


if __name__ == "__main__":
    main()
