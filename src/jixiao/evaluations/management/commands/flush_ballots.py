"""Periodic flush of the ballot buffer (cron / systemd timer), e.g. every few minutes.

Never moves fewer than max(k, ``flush_batch``) ballots of one rater group at once, so running it often does not
shrink the anonymity set; closing an event flushes the remainder.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from jixiao.evaluations.ballots import ballots_flush
from jixiao.evaluations.models import EvaluationEvent, EventStatus


class Command(BaseCommand):
    help = "Move buffered ballots of open events into the ballot tables in shuffled batches."

    def handle(self, *args: Any, **options: Any) -> None:
        moved = 0
        for event_id in EvaluationEvent.objects.filter(status=EventStatus.OPEN).values_list("pk", flat=True):
            while (n := ballots_flush(event_id=event_id)) > 0:
                moved += n
        self.stdout.write(f"flushed {moved} ballots")
