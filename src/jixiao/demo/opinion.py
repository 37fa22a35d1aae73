"""Demo steps that use the evaluation and survey apps' own services: a closed democratic
evaluation event and a year of public survey answers and rate-any-time ratings per cycle.

They run after the ``facts`` step, at the tiny and prefecture scales only: the province scale is
for the scoring benchmark, whose ratings come from the ``facts`` step in bulk.
"""

from __future__ import annotations

import numpy as np

from jixiao.demo.pipeline import Context
from jixiao.evaluations.demo import demo_closed_event
from jixiao.schemes.models import Cycle
from jixiao.surveys.demo import demo_survey_year

# Answers per cycle at each scale. The sources speak of 100,000+ a year for a prefecture; the demo
# writes 30,000 (≈ 300 per unit, far above every minimum sample) so that its first start stays
# quick: 100,000 took a third of the start on a loaded 2-core machine.
SURVEY_ANSWERS = {"tiny": 600, "prefecture": 30_000}
SERVICE_EVENTS = {"tiny": 60, "prefecture": 6_000}


def _cycles(ctx: Context) -> list[Cycle]:
    return list(Cycle.objects.using(ctx.using).order_by("year"))


def run_evaluations(ctx: Context) -> None:
    """One closed democratic-evaluation event per cycle (~40 anonymous ballots)."""
    if ctx.scale.name not in SURVEY_ANSWERS:
        return
    for cycle in _cycles(ctx):
        event = demo_closed_event(cycle, ctx.rng(f"evaluation:{cycle.year}"))
        ctx.log(f"  {cycle.year}: {event.name}")


def run_surveys(ctx: Context) -> None:
    """A satisfaction survey per unit and a year of answers and ratings, pushed into the facts."""
    answers = SURVEY_ANSWERS.get(ctx.scale.name)
    if answers is None:
        return
    for cycle in _cycles(ctx):
        rng = np.random.default_rng(ctx.seed * 10_000 + cycle.year)
        report = demo_survey_year(cycle, rng, answers=answers, events=SERVICE_EVENTS[ctx.scale.name])
        ctx.log(
            f"  {cycle.year}: {report.surveys} 份问卷 / surveys, {report.answers:,} 条回答 / answers"
            f"（{report.suspect} 条可疑 / suspect）, {report.events:,} 次服务 / service events, "
            f"{report.ratings:,} 条随时评 / ratings → {report.facts.survey_rows + report.facts.rating_rows:,}"
            " 条事实 / facts"
        )
