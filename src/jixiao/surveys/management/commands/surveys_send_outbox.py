"""Send pending rating links (run every minute from cron or a timer)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from jixiao.surveys.ratetime import outbox_deliver


class Command(BaseCommand):
    help = "发送待发的随时评评价链接；发送后删除联系方式，过期未发的同样删除"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        report = outbox_deliver(limit=options["limit"])
        self.stdout.write(f"sent {report.sent}, failed {report.failed}, expired {report.expired}")
