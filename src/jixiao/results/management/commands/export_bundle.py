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
        parser.add_argument("--cycle", type=int, required=True)
        parser.add_argument("--out", type=Path, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        from jixiao.results.services import cycle_bundle
        from jixiao.schemes.models import Cycle

        cycle = Cycle.objects.filter(year=options["cycle"]).first()
        if cycle is None:
            raise CommandError(f"no cycle {options['cycle']}")
        bundle = cycle_bundle(cycle)
        options["out"].write_bytes(canonical_json(bundle))
        audit_record(
            actor=None,
            action=AuditAction.EXPORT,
            obj=cycle,
            changes={"format": "cycle-bundle", "file": str(options["out"])},
        )
        # The run's input digest: columnar over the typed input (docs/scoring.md, "Digests").
        self.stdout.write(f"bundle_digest {bundle_digest(bundle)} → {options['out']}")
