"""``jixiao compute --cycle 2025`` (from the database, stores a run) or
``jixiao compute --bundle cycle.json --out results.json`` (no database: an auditor's recomputation)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jixiao.scoring.bundle import canonical_json, compute_bundle
from jixiao.scoring.errors import ScoringError


class Command(BaseCommand):
    help = "Score a cycle: from the database (stores an immutable run) or from a cycle bundle file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cycle", type=int, help="the cycle's year, e.g. 2025")
        parser.add_argument("--bundle", type=Path, help="a cycle bundle JSON file (no database needed)")
        parser.add_argument("--out", type=Path, help="where to write the results JSON (with --bundle)")
        parser.add_argument("--note", default="", help="a note stored with the run")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["bundle"]:
            self._from_bundle(options["bundle"], options["out"])
        elif options["cycle"]:
            self._from_database(options["cycle"], options["note"])
        else:
            raise CommandError("give --cycle YEAR or --bundle FILE --out FILE")

    def _from_bundle(self, path: Path, out: Path | None) -> None:
        started = time.perf_counter()
        try:
            bundle = json.loads(path.read_bytes())
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(f"cannot read bundle {path}: {exc}") from exc
        try:
            results = compute_bundle(bundle)
        except ScoringError as exc:
            raise CommandError(str(exc)) from exc
        if out is not None:
            out.write_bytes(canonical_json(results))
        self.stdout.write(
            f"bundle_digest  {results['bundle_digest']}\nresults_digest {results['results_digest']}\n"
            f"entities {len(results['entities']['entity'])} in {time.perf_counter() - started:.2f}s"
        )

    def _from_database(self, year: int, note: str) -> None:
        from jixiao.jobs.models import JobKind, JobStatus
        from jixiao.jobs.services import JobBusy, job_run_here
        from jixiao.results.models import ScoringRun
        from jixiao.results.preflight import preflight
        from jixiao.schemes.models import Cycle

        cycle = Cycle.objects.filter(year=year).first()
        if cycle is None:
            raise CommandError(f"没有 {year} 年度的考核周期 / no cycle {year}")
        problems = preflight(cycle)
        for problem in problems:
            if not problem.is_error:
                self.stderr.write(f"提醒：{problem.message}")
        errors = [p.message for p in problems if p.is_error]
        if errors:
            raise CommandError("计分前检查未通过，未计分：\n" + "\n".join(f"错误：{m}" for m in errors))
        try:
            # The same lock as the runs page: a console run never overlaps a run from the UI.
            job = job_run_here(kind=JobKind.COMPUTE, actor=None, cycle=cycle, params={"note": note})
        except JobBusy as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        except ValidationError as exc:  # a closed cycle
            raise CommandError(" ".join(exc.messages)) from exc
        if job.status != JobStatus.SUCCEEDED:
            raise CommandError(job.message)
        run = ScoringRun.objects.filter(cycle=cycle).order_by("-number").first()
        assert run is not None
        self.stdout.write(
            f"run {run} · {run.entity_count} entities · {run.seconds:.2f}s\n"
            f"input_digest  {run.input_digest}\noutput_digest {run.output_digest}"
        )
