"""``jixiao verify``: check the hash chain, the checkpoints and every run; exit 1 on any problem."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Verify the audit ledger (SM3 chain, Merkle checkpoints) and recompute every stored run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-recompute", action="store_true", help="only the chain and checkpoints")

    def handle(self, *args: Any, **options: Any) -> None:
        from jixiao.ledger.services import verification_record

        _row, report = verification_record(recompute=not options["no_recompute"])
        summary = _("已校验 %(entries)d 个账本条目、重算 %(runs)d 个计分批次，用时 %(seconds).2f 秒。") % {
            "entries": report.entries,
            "runs": report.runs,
            "seconds": report.seconds,
        }
        self.stdout.write(summary)
        for note in report.other_engine:
            self.stdout.write(note)
        if report.ok:
            self.stdout.write(_("校验通过：账本与数据一致。"))
            return
        for problem in report.problems:
            self.stderr.write(problem)
        self.stderr.write(_("校验未通过：发现 %(n)d 处问题。") % {"n": len(report.problems)})
        sys.exit(1)
