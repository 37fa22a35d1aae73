"""Reads of background jobs."""

from __future__ import annotations

from django.db.models import QuerySet

from jixiao.jobs.models import ACTIVE_STATUSES, Job, JobKind
from jixiao.schemes.models import Cycle


def active_job(*, kind: str, cycle: Cycle | None) -> Job | None:
    """The queued or running job of ``kind`` for ``cycle``, if any."""
    scope = f"cycle:{cycle.pk}" if cycle is not None else ""
    return Job.objects.filter(kind=kind, scope=scope, status__in=ACTIVE_STATUSES).first()


def latest_job(*, kind: str, cycle: Cycle | None) -> Job | None:
    scope = f"cycle:{cycle.pk}" if cycle is not None else ""
    return Job.objects.filter(kind=kind, scope=scope).order_by("-created_at", "-id").first()


def compute_jobs(*, cycle: Cycle) -> QuerySet[Job]:
    return Job.objects.filter(kind=JobKind.COMPUTE, cycle=cycle).select_related("created_by")
