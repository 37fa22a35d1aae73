"""Feed hostile workbooks to every import and count what goes wrong.

    .venv/bin/python bench/hostile_workbooks.py [--n 2] [--kinds far_cell,zip_bomb] [--no-cli]

Generates ``n`` files of each hostile kind (jixiao.web.tests.hostile; the copies differ in their
sheet name's spelling and padding) for each import — registry, the four kinds of facts, third-party
samples, bulk accounts — and runs each in process (the service call) and, for the imports with a
command, as ``jixiao import-registry`` / ``jixiao import-facts`` in a subprocess, so a crash of the
reader (a signal, no Python error) is visible as a worker death. A fresh SQLite database in a
temporary folder holds the fixtures; nothing leaves this machine.

Prints: N tried / worker deaths / partial writes / max RSS / max seconds, in process and CLI, and
a control line: the bare reader (python-calamine, unguarded) on the 1.7 KB far-cell file in a
subprocess, the crash the guard prevents.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
TMP = Path(tempfile.mkdtemp(prefix="jixiao_hostile_"))
os.environ["DATABASE_URL"] = f"sqlite:///{TMP / 'bench.sqlite3'}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jixiao.config.settings")
os.environ["JIXIAO_VAR_DIR"] = str(TMP)

import django  # noqa: E402 - the environment above must be set first

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db.models import Model  # noqa: E402

from jixiao.accounts.bulk import HEADERS as ACCOUNT_HEADERS  # noqa: E402
from jixiao.accounts.bulk import SHEET as ACCOUNT_SHEET  # noqa: E402
from jixiao.accounts.bulk import accounts_import  # noqa: E402
from jixiao.accounts.models import AuditLog, Role, User  # noqa: E402
from jixiao.facts.excel import FactKind, facts_import  # noqa: E402
from jixiao.facts.excel.specs import SHEETS_BY_KIND  # noqa: E402
from jixiao.facts.models import Adjustment, EvaluationScore, IndicatorResult, VoteCount  # noqa: E402
from jixiao.organisation.excel import registry_import  # noqa: E402
from jixiao.organisation.excel.specs import SHEETS_BY_KEY, SheetKey  # noqa: E402
from jixiao.organisation.models import Official, Unit, UnitCategory  # noqa: E402
from jixiao.organisation.tests.factories import UserFactory  # noqa: E402
from jixiao.schemes.models import Cycle  # noqa: E402
from jixiao.schemes.tests.factories import CycleFactory  # noqa: E402
from jixiao.surveys.models import ThirdPartyImport  # noqa: E402
from jixiao.surveys.tests.factories import RaterGroupFactory  # noqa: E402
from jixiao.surveys.thirdparty import COLUMNS as THIRD_PARTY_COLUMNS  # noqa: E402
from jixiao.surveys.thirdparty import third_party_import  # noqa: E402
from jixiao.web.tests import hostile  # noqa: E402

WATCHED: tuple[type[Model], ...] = (AuditLog, Unit, UnitCategory, Official, IndicatorResult, EvaluationScore)
WATCHED += (VoteCount, Adjustment, ThirdPartyImport, User)
CLI_TIMEOUT = 120


def _counts() -> tuple[int, ...]:
    return tuple(m._default_manager.count() for m in WATCHED)


def _targets(cycle: Cycle, office: User) -> dict[str, tuple[str, list[str], object, list[str] | None]]:
    """name → (sheet, headers, in-process call, CLI arguments before the file or None)."""
    unit = SHEETS_BY_KEY[SheetKey.UNIT]
    out: dict[str, tuple[str, list[str], object, list[str] | None]] = {
        "registry": (
            unit.name,
            [c.header for c in unit.columns],
            lambda data: registry_import(actor=None, source=io.BytesIO(data)).errors,
            ["import-registry"],
        ),
        "third_party": (
            "第三方测评",
            [h for _k, h, _a in THIRD_PARTY_COLUMNS],
            lambda data: (
                third_party_import(actor=office, cycle=cycle, content=data, filename="x.xlsx").errors
            ),
            None,
        ),
        "accounts": (
            ACCOUNT_SHEET,
            list(ACCOUNT_HEADERS),
            lambda data: accounts_import(actor=office, source=io.BytesIO(data)).errors,
            None,
        ),
    }
    for kind in FactKind:
        spec = SHEETS_BY_KIND[kind]
        out[f"facts_{kind.value}"] = (
            spec.name,
            list(spec.headers),
            lambda data, kind=kind: (
                facts_import(actor=None, cycle=cycle, kind=kind, source=io.BytesIO(data)).errors
            ),
            ["import-facts", "--cycle", str(cycle.year), "--kind", kind.value],
        )
    return out


_CHILD = """
import atexit, os, sys

def _peak():
    # VmHWM is the peak of this process image only (ru_maxrss of a child would include the
    # parent's pages it was forked with).
    with open("/proc/self/status") as status, open(os.environ["BENCH_RSS_FILE"], "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM")))

atexit.register(_peak)
from jixiao.cli import main
main(["jixiao", *sys.argv[1:]])
"""


def _run_cli(args: list[str], path: Path) -> tuple[int, float, int]:
    """Return (return code, seconds, peak RSS in MB) of the command in a fresh process. A process
    killed by a signal runs no atexit hook, so its peak reads 0 and its code is negative."""
    rss_file = TMP / "rss.txt"
    rss_file.unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, *args, str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "BENCH_RSS_FILE": str(rss_file), "PYTHONPATH": str(ROOT / "src")},
            timeout=CLI_TIMEOUT,
            check=False,
        )
        code = done.returncode
    except subprocess.TimeoutExpired:
        code = -9
    peak = int(rss_file.read_text()) // 1024 if rss_file.exists() else 0
    return code, time.perf_counter() - started, peak


def _control(path: Path) -> str:
    """The unguarded reader on the far-cell file, in a subprocess (expected to die)."""
    code = (
        "import sys, python_calamine as c; wb = c.load_workbook(sys.argv[1]); "
        "wb.get_sheet_by_index(0).to_python(skip_empty_area=False)"
    )
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, timeout=CLI_TIMEOUT, check=False
        )
        verdict = f"exit {done.returncode}" + (
            " (killed by a signal: worker death)" if done.returncode < 0 else ""
        )
    except subprocess.TimeoutExpired:
        verdict = "timed out"
    return f"control, bare calamine on far_cell ({path.stat().st_size} B): {verdict}, {time.perf_counter() - started:.2f} s"


def _overhead(rows: int = 200_000, columns: int = 10) -> str:
    """The guard's scan against the whole read of a clean workbook of ``rows`` × ``columns``."""
    from jixiao.organisation.excel.reader import read_workbook
    from jixiao.web.workbooks import check_workbook, safe_workbook

    buffer = io.BytesIO()
    book = safe_workbook(buffer, {"constant_memory": True})
    sheet = book.add_worksheet("s")
    for r in range(rows):
        sheet.write_row(r, 0, [f"U{r}", r * 1.5, "名称", r, "说明", 1, 2, 3, "x", r])
    book.close()
    data = buffer.getvalue()
    started = time.perf_counter()
    check_workbook(data)
    scan = time.perf_counter() - started
    started = time.perf_counter()
    read_workbook(io.BytesIO(data))
    whole = time.perf_counter() - started
    return (
        f"clean {rows:,} × {columns} workbook ({len(data) / 1e6:.1f} MB): guard scan {scan:.2f} s, "
        f"read with the guard {whole:.2f} s (bare calamine ≈ {whole - scan:.2f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2, help="files of each kind per import")
    parser.add_argument("--kinds", default=",".join(hostile.KINDS))
    parser.add_argument("--no-cli", action="store_true")
    parser.add_argument(
        "--overhead", action="store_true", help="also time the guard on a clean 200,000-row file"
    )
    options = parser.parse_args()
    kinds = [k for k in options.kinds.split(",") if k]

    call_command("migrate", verbosity=0)
    cycle = CycleFactory(year=2025)
    RaterGroupFactory(cycle=cycle, code="third_party")
    office = UserFactory(role=Role.OFFICE)
    targets = _targets(cycle, office)

    tried = deaths = partial = accepted = 0
    max_s = 0.0
    cli_tried = cli_deaths = cli_ok = 0
    cli_s, cli_rss = 0.0, 0
    worst = ""
    for kind in kinds:
        maker = hostile.KINDS[kind][0]
        for name, (sheet, headers, call, cli) in targets.items():
            for copy in range(options.n):
                data = maker(sheet if copy % 2 == 0 else f" {sheet} ", headers)
                before = _counts()
                started = time.perf_counter()
                try:
                    errors = call(data)  # type: ignore[operator]
                except BaseException as exc:
                    errors, deaths = [exc], deaths + 1
                seconds = time.perf_counter() - started
                tried += 1
                if seconds > max_s:
                    max_s, worst = seconds, f"{kind} → {name}"
                if not errors:
                    accepted += 1
                if _counts() != before:
                    partial += 1
                if cli is None or options.no_cli or copy:
                    continue
                path = TMP / f"{kind}-{name}.xlsx"
                path.write_bytes(data)
                before = _counts()
                code, seconds, rss = _run_cli(cli, path)
                cli_tried += 1
                cli_deaths += code < 0 or code not in (0, 1)
                cli_ok += code == 0
                partial += _counts() != before
                cli_s, cli_rss = max(cli_s, seconds), max(cli_rss, rss)
                path.unlink()

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"kinds: {', '.join(kinds)}; imports: {', '.join(targets)}; {options.n} file(s) each")
    print(
        f"in process: {tried} tried / {deaths} worker deaths / {partial} partial writes / "
        f"max RSS {rss} MB / max seconds {max_s:.2f} ({worst}); accepted as success: {accepted}"
    )
    if not options.no_cli:
        print(
            f"CLI: {cli_tried} tried / {cli_deaths} worker deaths (signal or crash exit) / "
            f"max RSS {cli_rss} MB / max seconds {cli_s:.2f}; exited 0 (success): {cli_ok}"
        )
    if options.overhead:
        print(_overhead())
    if "far_cell" in kinds:
        path = TMP / "far_cell.xlsx"
        path.write_bytes(hostile.far_cell("单位", ["a"]))
        print(_control(path))


if __name__ == "__main__":
    main()
