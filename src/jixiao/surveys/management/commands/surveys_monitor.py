"""Flag units and officials with too few valid ratings in the window and record reminders."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from jixiao.surveys.monitor import reminders_record


class Command(BaseCommand):
    help = "样本监测：列出有效评价不足的单位和干部，并记录提醒（每天每个对象一条）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="只列出，不记录提醒")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dry_run"]:
            from jixiao.surveys.monitor import undersampled

            result, created = undersampled(), 0
        else:
            result, created = reminders_record()
        for flag in result.flags:
            self.stdout.write(
                f"{flag.kind}\t{flag.entity_id}\t{flag.unit_name}\t{flag.name}\t{flag.count}/{flag.threshold}"
            )
        self.stdout.write(
            f"{len(result.flags)} of {result.monitored} below {result.threshold} valid ratings "
            f"({result.start:%Y-%m-%d}..{result.end:%Y-%m-%d}); {created} new reminders"
        )
