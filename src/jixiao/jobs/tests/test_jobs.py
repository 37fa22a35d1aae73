"""Jobs: one active job per kind and cycle, progress and outcome recorded, stale jobs reaped,
periodic jobs queued once per interval, and a real run through the database worker."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from jixiao.jobs.models import Job, JobKind, JobStatus
from jixiao.jobs.periodic import PERIODIC, periodic_enqueue_due
from jixiao.jobs.services import STALE_AFTER, JobBusy, JobOutcome, failure_message, job_execute, job_start
from jixiao.schemes.tests.factories import CycleFactory

pytestmark = pytest.mark.django_db

DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_a_second_start_for_the_same_cycle_is_refused_while_the_first_is_queued(settings: Any) -> None:
    settings.TASKS = DUMMY
    cycle = CycleFactory(year=2025)
    first = job_start(kind=JobKind.COMPUTE, actor=None, cycle=cycle)
    with pytest.raises(JobBusy, match="已有“计分”任务在排队或进行中"):
        job_start(kind=JobKind.COMPUTE, actor=None, cycle=cycle)
    other = job_start(kind=JobKind.COMPUTE, actor=None, cycle=CycleFactory(year=2024))
    assert first.task_id and other.pk != first.pk
    assert Job.objects.filter(status=JobStatus.QUEUED).count() == 2


def test_the_database_refuses_two_active_jobs_of_one_cycle() -> None:
    cycle = CycleFactory(year=2025)
    Job.objects.create(kind=JobKind.COMPUTE, cycle=cycle, scope=f"cycle:{cycle.pk}", status=JobStatus.RUNNING)
    with pytest.raises(IntegrityError), transaction.atomic():
        Job.objects.create(kind=JobKind.COMPUTE, cycle=cycle, scope=f"cycle:{cycle.pk}")
    # A finished job does not hold the lock.
    Job.objects.update(status=JobStatus.SUCCEEDED)
    Job.objects.create(kind=JobKind.COMPUTE, cycle=cycle, scope=f"cycle:{cycle.pk}")


def test_a_job_whose_worker_died_is_reaped_so_a_new_start_is_possible(settings: Any) -> None:
    settings.TASKS = DUMMY
    cycle = CycleFactory(year=2025)
    stuck = job_start(kind=JobKind.COMPUTE, actor=None, cycle=cycle)
    Job.objects.filter(pk=stuck.pk).update(
        status=JobStatus.RUNNING, updated_at=timezone.now() - STALE_AFTER - timedelta(minutes=1)
    )
    job_start(kind=JobKind.COMPUTE, actor=None, cycle=cycle)
    stuck.refresh_from_db()
    assert stuck.status == JobStatus.FAILED and "任务中断" in stuck.message


def test_execute_records_progress_and_outcome_and_runs_only_once(settings: Any, monkeypatch: Any) -> None:
    settings.TASKS = DUMMY
    seen: list[tuple[int, str]] = []

    def handler(*, job: Job, progress: Any) -> JobOutcome:
        progress(40, "第二步")
        seen.append((Job.objects.get(pk=job.pk).progress, Job.objects.get(pk=job.pk).stage))
        return JobOutcome("完成 3 项", "/results/")

    monkeypatch.setattr("jixiao.jobs.services.import_string", lambda path: handler)
    job = job_start(kind=JobKind.PRUNE, actor=None)
    job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert seen == [(40, "第二步")]
    assert (job.status, job.progress, job.message, job.link) == (
        JobStatus.SUCCEEDED,
        100,
        "完成 3 项",
        "/results/",
    )
    assert job.started_at and job.finished_at
    assert job_execute(job_id=job.pk) is None  # a finished job is never run again
    assert len(seen) == 1


def test_an_unexpected_failure_is_reported_in_chinese_without_a_traceback() -> None:
    assert failure_message(KeyError("x")) == "任务失败：系统内部错误，已记入日志，请联系系统管理员"


def test_periodic_jobs_are_queued_once_per_interval(settings: Any) -> None:
    settings.TASKS = DUMMY
    now = timezone.now()
    first = periodic_enqueue_due(now=now)
    assert sorted(j.kind for j in first) == sorted(p.kind for p in PERIODIC)
    Job.objects.update(status=JobStatus.SUCCEEDED)
    assert periodic_enqueue_due(now=now + timedelta(seconds=30)) == []
    due = periodic_enqueue_due(now=now + timedelta(minutes=2))
    assert [j.kind for j in due] == [JobKind.SEND_OUTBOX]


def test_periodic_jobs_run_with_the_immediate_backend(settings: Any) -> None:
    settings.TASKS = IMMEDIATE
    periodic_enqueue_due()
    statuses = dict(Job.objects.values_list("kind", "status"))
    assert statuses == {p.kind.value: JobStatus.SUCCEEDED for p in PERIODIC}
    assert "条" in Job.objects.get(kind=JobKind.SEND_OUTBOX).message


@pytest.mark.django_db(transaction=True)
def test_the_worker_command_runs_queued_and_periodic_jobs_through_the_database() -> None:
    # settings.TASKS is the database backend: nothing runs until the worker claims it.
    job = job_start(kind=JobKind.FLUSH_BALLOTS, actor=None)
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED
    call_command("worker", once=True, verbosity=0)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.message == "0 张测评票已入库"
    assert Job.objects.filter(kind=JobKind.SEND_OUTBOX, status=JobStatus.SUCCEEDED).exists()
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == Job.objects.count()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_starts_of_one_cycle_yield_one_job(settings: Any) -> None:
    if connection.vendor != "postgresql":
        # The in-memory SQLite test database reports "table is locked" instead of waiting.
        pytest.skip("a concurrency test: run it with DATABASE_URL=postgres://…")
    settings.TASKS = DUMMY
    cycle = CycleFactory(year=2025)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def start() -> None:
        barrier.wait()
        try:
            job_start(kind=JobKind.COMPUTE, actor=None, cycle=cycle)
            outcomes.append("started")
        except JobBusy:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "started"]
    assert Job.objects.filter(kind=JobKind.COMPUTE).count() == 1


def test_starting_a_scoring_run_is_audited_but_periodic_housekeeping_is_not(settings: Any) -> None:
    from jixiao.accounts.models import AuditLog

    settings.TASKS = DUMMY
    periodic_enqueue_due()
    assert not AuditLog.objects.filter(object_type="jobs.job").exists()
    job = job_start(kind=JobKind.COMPUTE, actor=None, cycle=CycleFactory(year=2025))
    assert AuditLog.objects.get(object_type="jobs.job").object_id == str(job.pk)


def test_a_job_reaped_while_its_handler_ran_stays_failed(settings: Any, monkeypatch: Any) -> None:
    settings.TASKS = DUMMY
    reaped = "任务中断：后台进程已停止或重启，请重新开始"

    def handler(*, job: Job, progress: Any) -> JobOutcome:
        # The handler outlived STALE_AFTER: a new start reaped its row and took the lock.
        Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, message=reaped, stage="中断")
        successor = job_start(kind=JobKind.COMPUTE, actor=None, cycle=job.cycle)
        progress(90, "写入结果")
        seen.append(successor.pk)
        return JobOutcome("计分完成", "/results/")

    seen: list[int] = []
    monkeypatch.setattr("jixiao.jobs.services.import_string", lambda path: handler)
    job = job_start(kind=JobKind.COMPUTE, actor=None, cycle=CycleFactory(year=2025))
    returned = job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.message, job.stage, job.progress, job.link) == (
        JobStatus.FAILED,
        reaped,
        "中断",
        0,
        "",
    )
    assert returned is not None and returned.status == JobStatus.FAILED
    assert Job.objects.get(pk=seen[0]).status == JobStatus.QUEUED  # the successor keeps the lock


def test_an_integrity_error_other_than_a_busy_job_is_not_reported_as_busy(
    settings: Any, monkeypatch: Any
) -> None:
    settings.TASKS = DUMMY

    def broken_audit(**kwargs: Any) -> None:
        # A real violation of another constraint inside the start (jobs_progress_0_100).
        Job.objects.create(kind=JobKind.PRUNE, progress=101)

    monkeypatch.setattr("jixiao.jobs.services.audit_record", broken_audit)
    with pytest.raises(IntegrityError):
        job_start(kind=JobKind.COMPUTE, actor=None, cycle=CycleFactory(year=2025))
    assert not Job.objects.exists()


def test_prune_removes_old_succeeded_and_failed_periodic_jobs_but_keeps_scoring_runs() -> None:
    from jixiao.jobs.periodic import KEEP_FINISHED, prune_job

    old = timezone.now() - KEEP_FINISHED - timedelta(hours=1)
    recent = timezone.now() - timedelta(hours=1)
    cycle = CycleFactory(year=2025)
    rows = {
        "old_ok": (JobKind.SEND_OUTBOX, JobStatus.SUCCEEDED, old, ""),
        "old_failed": (JobKind.SEND_OUTBOX, JobStatus.FAILED, old, ""),
        "recent_failed": (JobKind.FLUSH_BALLOTS, JobStatus.FAILED, recent, ""),
        "old_compute_failed": (JobKind.COMPUTE, JobStatus.FAILED, old, f"cycle:{cycle.pk}"),
    }
    ids = {
        name: Job.objects.create(kind=kind, status=status, finished_at=at, scope=scope).pk
        for name, (kind, status, at, scope) in rows.items()
    }
    job = Job.objects.create(kind=JobKind.PRUNE, status=JobStatus.RUNNING)
    outcome = prune_job(job=job, progress=lambda percent, stage: None)
    kept = set(Job.objects.exclude(pk=job.pk).values_list("pk", flat=True))
    assert kept == {ids["recent_failed"], ids["old_compute_failed"]}
    assert outcome.message.startswith("清理任务记录 2 条")
