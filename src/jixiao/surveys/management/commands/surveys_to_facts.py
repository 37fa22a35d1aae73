"""Push a cycle's survey answers and rate-any-time ratings into the engine's facts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from jixiao.schemes.models import Cycle
from jixiao.surveys.engine import cycle_push_to_facts


class Command(BaseCommand):
    help = "把某年度的调查答卷和随时评评价计入测评得分（可重复运行，结果相同）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("year", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        cycle = Cycle.objects.filter(year=options["year"]).first()
        if cycle is None:
            raise CommandError(f"no cycle for {options['year']}")
        try:
            report = cycle_push_to_facts(cycle=cycle)
        except ValidationError as exc:  # a closed cycle, a missing rater group
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            f"{report.surveys} surveys: {report.survey_rows} answer rows; {report.rating_rows} rating rows"
        )
