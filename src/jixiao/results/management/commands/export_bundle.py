"""``jixiao export-bundle --cycle 2025 --out cycle.json``: the self-contained cycle bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction
from jixiao.scoring.bundle import bundle_digest, canonical_json


class Command(BaseCommand):
    help = "Write a cycle's scheme, entities and facts as a cycle bundle (JSON) for recomputation."

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--cycle", type=int)
        # The input a run scored, rebuilt bit for bit from what the run stored (not today's data).
        group.add_argument("--run", type=int)
        parser.add_argument("--out", type=Path, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        from django.db import models

        from jixiao.ledger.models import RunInput
        from jixiao.ledger.services import run_bundle
        from jixiao.results.models import ScoringRun
        from jixiao.results.services import cycle_bundle
        from jixiao.schemes.models import Cycle

        obj: models.Model
        if options["run"] is not None:
            run = ScoringRun.objects.filter(pk=options["run"]).first()
            if run is None:
                raise CommandError(f"no run {options['run']}")
            if not RunInput.objects.filter(run=run).exists():
                raise CommandError(f"run {run.pk} has no stored input (computed before inputs were kept)")
            bundle, obj = run_bundle(run), run
        else:
            cycle = Cycle.objects.filter(year=options["cycle"]).first()
            if cycle is None:
                raise CommandError(f"no cycle {options['cycle']}")
            bundle, obj = cycle_bundle(cycle), cycle
        options["out"].write_bytes(canonical_json(bundle))
        audit_record(
            actor=None,
            action=AuditAction.EXPORT,
            obj=obj,
            changes={"format": "cycle-bundle", "file": str(options["out"])},
        )
        # The run's input digest: columnar over the typed input (docs/scoring.md, "Digests").
        self.stdout.write(f"bundle_digest {bundle_digest(bundle)} → {options['out']}")
