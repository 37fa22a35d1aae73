"""The periodic jobs that were cron commands (``flush-ballots``, ``surveys-send-outbox``,
``surveys-monitor``) and the daily ``verify``, and when each is due.

django-tasks has no scheduler; ``jixiao worker`` calls :func:`periodic_enqueue_due` between
batches. Whether a kind is due is read from its last :class:`Job` row, so a restart does not
re-run everything. The due check and the enqueue are not one atomic step: with two workers, the
active-job constraint (``jobs_one_active_per_kind_scope``) guarantees only that two runs of a
kind never overlap — the second enqueue is refused while the first is queued or running. Two
workers that both read "due" before either queued can still run a kind twice in one interval
when the first run has already ended by the time the second enqueues. That is harmless: each
periodic job is idempotent (the outbox and the ballot buffer are claimed row by row, reminders
are recorded once per entity and day, pruning deletes what is old). The old commands still work
for a cron set-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.jobs.models import Job, JobKind, JobStatus
from jixiao.jobs.services import JobBusy, JobOutcome, Progress, job_start


@dataclass(frozen=True)
class Periodic:
    kind: JobKind
    every: timedelta


PERIODIC: tuple[Periodic, ...] = (
    # Rating links should reach people within a minute of the service they rate.
    Periodic(JobKind.SEND_OUTBOX, timedelta(minutes=1)),
    # Each flush moves at least an event's batch size, so flushing often never shrinks anonymity.
    Periodic(JobKind.FLUSH_BALLOTS, timedelta(minutes=5)),
    # Reminders are recorded once per entity per day anyway.
    Periodic(JobKind.SAMPLE_MONITOR, timedelta(hours=6)),
    Periodic(JobKind.PRUNE, timedelta(days=1)),
    # The daily check of the audit ledger (等保: integrity of audit records), shown on the home page.
    Periodic(JobKind.VERIFY_LEDGER, timedelta(days=1)),
    # Lights move with the calendar (a milestone comes near or passes) even when nobody reports.
    Periodic(JobKind.TRACKING_LIGHTS, timedelta(days=1)),
    # Due and overdue reports, ungraded reports, race explanations: each notified once per due
    # date (notify's cause and due), so hourly only decides how soon after midnight they arrive.
    Periodic(JobKind.TRACKING_REMINDERS, timedelta(hours=1)),
    # Supervision deadlines: before (to the lead unit) and overdue (to the office and the leader).
    Periodic(JobKind.SUPERVISION_REMINDERS, timedelta(hours=1)),
)
# Finished periodic jobs (a row a minute, succeeded or failed) and the queue's own rows are kept
# this long.
KEEP_FINISHED = timedelta(days=7)


def periodic_enqueue_due(*, now: datetime | None = None) -> list[Job]:
    """Queue every periodic job whose last run started at least its interval ago; return them."""
    now = now or timezone.now()
    queued: list[Job] = []
    for periodic in PERIODIC:
        last = (
            Job.objects.filter(kind=periodic.kind)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
        )
        last_at = last.first()
        if last_at is not None and last_at > now - periodic.every:
            continue
        try:
            queued.append(job_start(kind=periodic.kind, actor=None))
        except JobBusy:
            continue  # still running from the last interval
    return queued


def flush_ballots_job(*, job: Job, progress: Progress) -> JobOutcome:
    from jixiao.evaluations.ballots import ballots_flush
    from jixiao.evaluations.models import EvaluationEvent, EventStatus

    moved = 0
    for event_id in EvaluationEvent.objects.filter(status=EventStatus.OPEN).values_list("pk", flat=True):
        while (n := ballots_flush(event_id=event_id)) > 0:
            moved += n
    return JobOutcome(_("%(n)d 张测评票已入库") % {"n": moved})


def send_outbox_job(*, job: Job, progress: Progress) -> JobOutcome:
    from jixiao.surveys.ratetime import outbox_deliver

    report = outbox_deliver(limit=500)
    return JobOutcome(
        _("发送 %(sent)d 条，失败 %(failed)d 条，过期 %(expired)d 条")
        % {"sent": report.sent, "failed": report.failed, "expired": report.expired}
    )


def sample_monitor_job(*, job: Job, progress: Progress) -> JobOutcome:
    from jixiao.surveys.monitor import reminders_record

    result, created = reminders_record()
    return JobOutcome(
        _("%(flagged)d 个对象有效评价不足，新增提醒 %(new)d 条")
        % {"flagged": len(result.flags), "new": created}
    )


def prune_job(*, job: Job, progress: Progress) -> JobOutcome:
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - KEEP_FINISHED
    periodic_kinds = [p.kind for p in PERIODIC]
    # A failed periodic job is as frequent as a succeeded one (an SMS gateway down for a day fails
    # a row a minute); scoring runs and other people's jobs are kept whatever their outcome.
    jobs, _detail = Job.objects.filter(
        kind__in=periodic_kinds,
        status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED],
        finished_at__lt=cutoff,
    ).delete()
    tasks, _detail = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return JobOutcome(_("清理任务记录 %(jobs)d 条、队列记录 %(tasks)d 条") % {"jobs": jobs, "tasks": tasks})


def verify_ledger_job(*, job: Job, progress: Progress) -> JobOutcome:
    from jixiao.ledger.services import verification_record

    row, report = verification_record()
    if not report.ok:
        # A failed job shows on the jobs page; the problems are kept on the verification row.
        raise ValidationError(_("账本校验未通过：发现 %(n)d 处问题") % {"n": len(report.problems)})
    return JobOutcome(
        _("账本校验通过：%(e)d 个条目，重算 %(r)d 个计分批次，用时 %(s).1f 秒")
        % {"e": row.entries, "r": row.runs, "s": row.seconds}
    )
