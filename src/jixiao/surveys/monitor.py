"""The sample monitor: entities with too few valid ratings in the window (样本不足提醒).

Threshold and window come from :class:`RatingPolicy` (defaults 30 ratings in 183 days). A unit
counts every valid rate-any-time rating of its services (its officials' included) and, when the
policy says so, every valid survey answer on its links. An official counts the ratings and answers
that name them, and is monitored once they have a service event or a survey link: officials who
never serve the public are not expected to collect ratings.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from jixiao.organisation.models import Official, Unit
from jixiao.surveys.models import (
    RatingPolicy,
    SampleReminder,
    ServiceEvent,
    ServiceRating,
    SurveyResponse,
    SurveyTarget,
)
from jixiao.surveys.ratetime import rating_policy


@dataclass(frozen=True)
class Flag:
    kind: str  # "unit" or "official"
    entity_id: int
    name: str
    unit_name: str
    count: int
    threshold: int


@dataclass(frozen=True)
class MonitorResult:
    start: datetime
    end: datetime
    threshold: int
    flags: list[Flag]
    monitored: int


def undersampled(*, now: datetime | None = None, policy: RatingPolicy | None = None) -> MonitorResult:
    """Return every monitored unit and official with fewer valid ratings than the threshold in the
    window ending ``now``, fewest first."""
    policy = policy or rating_policy()
    end = now or timezone.now()
    start = end - timedelta(days=policy.monitor_window_days)
    ratings = ServiceRating.objects.filter(is_valid=True, created_at__gte=start, created_at__lt=end)
    unit_counts: Counter[int] = Counter(
        dict(ratings.values_list("unit_id").annotate(n=Count("id")).values_list("unit_id", "n"))
    )
    official_counts: Counter[int] = Counter(
        dict(
            ratings.filter(official__isnull=False)
            .values_list("official_id")
            .annotate(n=Count("id"))
            .values_list("official_id", "n")
        )
    )
    if policy.count_survey_answers:
        answers = (
            # Suspect answers (stuffing) are not counted anywhere, so not towards a sample either.
            SurveyResponse.objects.filter(
                is_valid=True, suspect=False, created_at__gte=start, created_at__lt=end
            )
            .values("target__unit_id", "target__official_id")
            .annotate(n=Count("id"))
            .values_list("target__unit_id", "target__official_id", "n")
        )
        for unit_id, official_id, n in answers:
            unit_counts[unit_id] += n
            if official_id is not None:
                official_counts[official_id] += n
    monitored_officials = set(
        ServiceEvent.objects.filter(occurred_at__gte=start, occurred_at__lt=end, official__isnull=False)
        .values_list("official_id", flat=True)
        .distinct()
    ) | set(
        SurveyTarget.objects.filter(official__isnull=False, is_active=True).values_list(
            "official_id", flat=True
        )
    )
    threshold = policy.monitor_threshold
    flags: list[Flag] = []
    units = Unit.objects.filter(is_active=True).values_list("pk", "name")
    for pk, name in units:
        if unit_counts[pk] < threshold:
            flags.append(Flag("unit", pk, name, name, unit_counts[pk], threshold))
    officials = Official.objects.filter(pk__in=monitored_officials, is_active=True).values_list(
        "pk", "name", "unit__name"
    )
    for pk, name, unit_name in officials:
        if official_counts[pk] < threshold:
            flags.append(Flag("official", pk, name, unit_name, official_counts[pk], threshold))
    flags.sort(key=lambda f: (f.count, f.kind != "unit", f.unit_name, f.name))
    return MonitorResult(start, end, threshold, flags, len(units) + len(officials))


@transaction.atomic
def reminders_record(*, now: datetime | None = None) -> tuple[MonitorResult, int]:
    """Record a reminder for every flagged entity (once per entity per day); return the result and
    how many reminders are new."""
    result = undersampled(now=now)
    start: date = timezone.localdate(result.start)
    end: date = timezone.localdate(result.end)
    rows = [
        SampleReminder(
            unit_id=f.entity_id if f.kind == "unit" else None,
            official_id=f.entity_id if f.kind == "official" else None,
            window_start=start,
            window_end=end,
            count=f.count,
            threshold=f.threshold,
        )
        for f in result.flags
    ]
    before = SampleReminder.objects.filter(window_end=end).count()
    SampleReminder.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
    return result, SampleReminder.objects.filter(window_end=end).count() - before
