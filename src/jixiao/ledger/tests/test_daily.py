"""The worker verifies the ledger once a day."""

from __future__ import annotations

import pytest

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction
from jixiao.jobs.models import Job, JobKind, JobStatus
from jixiao.jobs.periodic import periodic_enqueue_due
from jixiao.jobs.services import job_execute, job_run_here
from jixiao.ledger.models import Verification
from jixiao.ledger.tests.helpers import tamper

pytestmark = pytest.mark.django_db


def test_the_daily_verification_is_queued_runs_and_fails_once_a_row_was_changed() -> None:
    audit_record(actor=None, action=AuditAction.EXPORT, object_type="x", object_id="1")
    queued = [j for j in periodic_enqueue_due() if j.kind == JobKind.VERIFY_LEDGER]
    assert len(queued) == 1
    assert not [j for j in periodic_enqueue_due() if j.kind == JobKind.VERIFY_LEDGER]  # once a day
    job = job_execute(job_id=queued[0].pk) or Job.objects.get(pk=queued[0].pk)  # an eager backend ran it
    assert job is not None and job.status == JobStatus.SUCCEEDED and "通过" in job.message
    assert Verification.objects.get().ok

    tamper(
        "UPDATE accounts_auditlog SET object_repr = 'forged' WHERE id = (SELECT min(id) FROM accounts_auditlog)",
        [],
    )
    failed = job_run_here(kind=JobKind.VERIFY_LEDGER, actor=None)
    assert failed.status == JobStatus.FAILED and "未通过" in failed.message
