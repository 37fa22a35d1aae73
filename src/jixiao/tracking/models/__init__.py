"""Tracking through the year (M5): evidence, monthly progress reports and their grades, the
red/yellow/green lights, officials' weekly work logs; the monthly ranking, quarterly bulletin and
race live in :mod:`.race`. One module per thing held; this package only re-exports them."""

from __future__ import annotations

from jixiao.tracking.models.evidence import Evidence
from jixiao.tracking.models.lights import IndicatorLight, Light, UnitLight
from jixiao.tracking.models.logs import WorkLog
from jixiao.tracking.models.policy import Interpolation, TrackingPolicy
from jixiao.tracking.models.race import (
    Bulletin,
    ExplanationStatus,
    MonthlyRanking,
    MonthlyRankingRow,
    RaceExplanation,
    RaceRound,
    RankingSpan,
)
from jixiao.tracking.models.reports import ProgressGrade, ProgressReport, ReportStatus

__all__ = [
    "Bulletin",
    "Evidence",
    "ExplanationStatus",
    "IndicatorLight",
    "Interpolation",
    "Light",
    "MonthlyRanking",
    "MonthlyRankingRow",
    "ProgressGrade",
    "ProgressReport",
    "RaceExplanation",
    "RaceRound",
    "RankingSpan",
    "ReportStatus",
    "TrackingPolicy",
    "UnitLight",
    "WorkLog",
]
