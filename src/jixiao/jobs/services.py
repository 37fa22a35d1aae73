"""Starting and running background jobs: the one place in the product that enqueues work.

``job_start`` writes the :class:`Job` row (the database refuses a second active job of the same
kind and scope: :class:`JobBusy`) and hands its id to django-tasks; the worker (``jixiao worker``)
calls :func:`job_execute`, which runs the kind's handler with a progress callback and records the
outcome. The console runs the same handler in-process under the same lock (``job_run_here``).

A handler is ``handler(*, job, progress) -> JobOutcome`` registered in :data:`HANDLERS` by dotted
path (so this low package imports no app that does the work).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, Role, User
from jixiao.hygiene import MESSAGE_MAX_LENGTH, truncate_text
from jixiao.jobs.models import ACTIVE_STATUSES, Job, JobKind, JobStatus
from jixiao.schemes.models import Cycle

logger = logging.getLogger(__name__)

# A job whose row has not moved for this long lost its worker (killed, machine restarted): the
# next start marks it failed instead of refusing for ever. A province run updates every stage
# within a minute, so an hour is far beyond any live job.
STALE_AFTER = timedelta(hours=1)

Progress = Callable[[int, str], None]


@dataclass(frozen=True)
class JobOutcome:
    message: str
    link: str = ""


class Handler(Protocol):
    def __call__(self, *, job: Job, progress: Progress) -> JobOutcome: ...


HANDLERS: Mapping[str, str] = {
    # Scoring, then the new run's explanation blocks (results.explanation_blocks).
    JobKind.COMPUTE: "jixiao.results.explanation_blocks.compute_job",
    JobKind.FLUSH_BALLOTS: "jixiao.jobs.periodic.flush_ballots_job",
    JobKind.SEND_OUTBOX: "jixiao.jobs.periodic.send_outbox_job",
    JobKind.SAMPLE_MONITOR: "jixiao.jobs.periodic.sample_monitor_job",
    JobKind.PRUNE: "jixiao.jobs.periodic.prune_job",
    JobKind.VERIFY_LEDGER: "jixiao.jobs.periodic.verify_ledger_job",
    JobKind.TRACKING_LIGHTS: "jixiao.tracking.lights.tracking_lights_job",
    JobKind.MONTHLY_RANKING: "jixiao.tracking.ranking.ranking_job",
    JobKind.RACE_RANKING: "jixiao.tracking.race.race_job",
    JobKind.BULLETIN: "jixiao.tracking.bulletin.bulletin_job",
    JobKind.TRACKING_REMINDERS: "jixiao.tracking.reminders.reminders_job",
    JobKind.PUBLICATION_PDF: "jixiao.declarations.publication.publication_pdf_job",
    JobKind.SUPERVISION_REMINDERS: "jixiao.supervision.reminders.reminders_job",
    JobKind.SUPERVISION_BULLETIN: "jixiao.supervision.bulletin.bulletin_job",
    JobKind.RANKING_XLSX: "jixiao.results.ranking_export.ranking_xlsx_job",
}
# Kinds whose end (success or failure) is worth telling the office about in its inbox.
NOTIFY_OFFICE = frozenset(
    {
        JobKind.COMPUTE,
        JobKind.MONTHLY_RANKING,
        JobKind.RACE_RANKING,
        JobKind.BULLETIN,
        JobKind.SUPERVISION_BULLETIN,
    }
)


# Housekeeping queued by the worker itself every few minutes: its Job rows are the record (an audit
# entry a minute would bury the people's actions).
# The daily verification keeps its own row (ledger.Verification).
UNAUDITED = frozenset(
    {
        JobKind.SEND_OUTBOX,
        JobKind.FLUSH_BALLOTS,
        JobKind.SAMPLE_MONITOR,
        JobKind.PRUNE,
        JobKind.VERIFY_LEDGER,
        JobKind.TRACKING_LIGHTS,
        JobKind.TRACKING_REMINDERS,
        JobKind.SUPERVISION_REMINDERS,
    }
)


class JobBusy(ValidationError):
    """A job of this kind and scope is already queued or running."""


def scope_of(cycle: Cycle | None) -> str:
    return f"cycle:{cycle.pk}" if cycle is not None else ""


def _reap_stale(kind: str, scope: str) -> None:
    cutoff = timezone.now() - STALE_AFTER
    Job.objects.filter(kind=kind, scope=scope, status__in=ACTIVE_STATUSES, updated_at__lt=cutoff).update(
        status=JobStatus.FAILED,
        finished_at=timezone.now(),
        message=_("任务中断：后台进程已停止或重启，请重新开始"),
    )


def _busy_message(kind: str, cycle: Cycle | None) -> str:
    if cycle is not None:
        return _("%(cycle)s已有“%(kind)s”任务在排队或进行中，请等它完成后再开始") % {
            "cycle": cycle.name,
            "kind": JobKind(kind).label,
        }
    return _("已有“%(kind)s”任务在排队或进行中") % {"kind": JobKind(kind).label}


def _active_exists(kind: str, scope: str) -> bool:
    return Job.objects.filter(kind=kind, scope=scope, status__in=ACTIVE_STATUSES).exists()


def _create(*, kind: str, actor: User | None, cycle: Cycle | None, params: Mapping[str, Any]) -> Job:
    scope = scope_of(cycle)
    _reap_stale(kind, scope)
    if _active_exists(kind, scope):
        raise JobBusy(_busy_message(kind, cycle), code="job_busy")
    try:
        with transaction.atomic():
            job = Job.objects.create(
                kind=kind,
                cycle=cycle,
                scope=scope,
                params=dict(params),
                created_by=actor if actor is not None and actor.pk else None,
                stage=_("等待后台执行"),
            )
            if kind not in UNAUDITED:
                audit_record(
                    actor=actor, action=AuditAction.CREATE, obj=job, changes={"kind": kind, **params}
                )
    except IntegrityError:
        # A start that raced ours past the check above and won the active-job constraint
        # (jobs_one_active_per_kind_scope; on PostgreSQL our insert waited for its commit, so it
        # is visible now). Any other integrity error is a bug and is not disguised as "busy".
        if _active_exists(kind, scope):
            raise JobBusy(_busy_message(kind, cycle), code="job_busy") from None
        raise
    return job


def job_start(
    *, kind: str, actor: User | None, cycle: Cycle | None = None, params: Mapping[str, Any] | None = None
) -> Job:
    """Queue a job for the worker and return it; raise :class:`JobBusy` when one of the same kind
    and scope is already queued or running."""
    from jixiao.jobs.tasks import run_job  # the task module imports this one

    job = _create(kind=kind, actor=actor, cycle=cycle, params=params or {})
    try:
        result = run_job.enqueue(job.pk)
    except Exception:
        logger.exception("could not enqueue job %s", job.pk)
        _finish(job, JobStatus.FAILED, _("无法提交后台任务，请联系系统管理员"), source=JobStatus.QUEUED)
        raise
    Job.objects.filter(pk=job.pk).update(task_id=str(result.id))
    job.task_id = str(result.id)
    return job


def job_run_here(
    *, kind: str, actor: User | None, cycle: Cycle | None = None, params: Mapping[str, Any] | None = None
) -> Job:
    """Run a job in this process (the console) under the same lock; return it finished."""
    job = _create(kind=kind, actor=actor, cycle=cycle, params=params or {})
    job_execute(job_id=job.pk)
    job.refresh_from_db()
    return job


def _progress(job: Job) -> Progress:
    def report(percent: int, stage: str) -> None:
        percent = max(0, min(100, int(percent)))
        # Only while running: a job reaped as stale keeps the stage that says why it failed.
        Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            progress=percent, stage=stage[:100], updated_at=timezone.now()
        )
        job.progress, job.stage = percent, stage

    return report


def _finish(
    job: Job, status: JobStatus, message: str, link: str = "", *, source: JobStatus = JobStatus.RUNNING
) -> bool:
    """Record the outcome of ``job`` if it is still in ``source``; return whether it was.

    A job reaped as stale (FAILED by :func:`_reap_stale` while its handler was still going, its
    lock perhaps already taken by a new start) keeps that outcome: ``job`` is reloaded instead."""
    now = timezone.now()
    # A failure's message can quote a whole workbook's errors: keep the row and its pages small.
    message = truncate_text(message, MESSAGE_MAX_LENGTH)
    fields = {"status": status, "message": message, "link": link, "finished_at": now}
    if status == JobStatus.SUCCEEDED:
        fields.update(progress=100, stage=_("已完成"))
    if not Job.objects.filter(pk=job.pk, status=source).update(**fields, updated_at=now):
        logger.warning("job %s was no longer %s when it ended as %s; kept as it was", job.pk, source, status)
        job.refresh_from_db()
        return False
    for name, value in fields.items():
        setattr(job, name, value)
    return True


def failure_message(exc: BaseException) -> str:
    """A Chinese sentence for a job that failed with ``exc`` (never a traceback)."""
    if isinstance(exc, ValidationError):
        return "；".join(str(m) for m in exc.messages)
    describe = getattr(exc, "describe", None)
    if callable(describe):
        return str(describe())
    return _("任务失败：系统内部错误，已记入日志，请联系系统管理员")


def _notify_office(job: Job) -> None:
    if job.kind not in NOTIFY_OFFICE:
        return
    from jixiao.notifications.services import notify

    office = User.objects.filter(is_active=True, role=Role.OFFICE)
    cycle = job.cycle.name if job.cycle_id and job.cycle else ""
    if job.status == JobStatus.SUCCEEDED:
        title = _("%(cycle)s%(kind)s已完成") % {"cycle": cycle, "kind": job.get_kind_display()}
    else:
        title = _("%(cycle)s%(kind)s失败") % {"cycle": cycle, "kind": job.get_kind_display()}
    notify(recipients=office, cause=f"job:{job.pk}", title=title, body=job.message, link=job.link)


def job_execute(*, job_id: int) -> Job | None:
    """Run a queued job (the worker calls this); return it, or None when it is not queued any
    more (already run, or reaped as stale)."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now, updated_at=now, stage=_("开始")
    )
    if not claimed:
        return None
    job = Job.objects.select_related("cycle", "created_by").get(pk=job_id)
    handler: Handler = import_string(HANDLERS[job.kind])
    try:
        outcome = handler(job=job, progress=_progress(job))
    except Exception as exc:
        if not isinstance(exc, ValidationError) and not callable(getattr(exc, "describe", None)):
            logger.exception("job %s (%s) failed", job.pk, job.kind)
        _finish(job, JobStatus.FAILED, failure_message(exc))
    else:
        _finish(job, JobStatus.SUCCEEDED, outcome.message, outcome.link)
    _notify_office(job)
    return job
