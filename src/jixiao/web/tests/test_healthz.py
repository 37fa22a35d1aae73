"""/healthz: the database and the job worker, as JSON, without login or anything sensitive."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jixiao.jobs.models import Job, JobKind, JobStatus

pytestmark = pytest.mark.django_db


def _periodic_job_started(seconds_ago: int) -> None:
    Job.objects.create(
        kind=JobKind.SEND_OUTBOX,
        status=JobStatus.SUCCEEDED,
        started_at=timezone.now() - timedelta(seconds=seconds_ago),
        finished_at=timezone.now(),
    )


def test_healthy_when_the_worker_ran_recently(client: Client) -> None:
    _periodic_job_started(seconds_ago=30)
    response = client.get(reverse("web:healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["database"] == "ok"
    assert body["worker"] == "ok"
    assert 30 <= body["worker_last_seen_seconds"] < 60
    assert response["Cache-Control"] == "no-store"


def test_unhealthy_when_no_worker_ever_ran(client: Client) -> None:
    response = client.get(reverse("web:healthz"))
    assert response.status_code == 503
    assert response.json() == {
        "ok": False,
        "database": "ok",
        "worker": "stale",
        "worker_last_seen_seconds": None,
    }


def test_a_compute_job_from_the_command_line_does_not_count_as_a_worker(client: Client) -> None:
    Job.objects.create(kind=JobKind.COMPUTE, status=JobStatus.SUCCEEDED, started_at=timezone.now())
    assert client.get(reverse("web:healthz")).json()["worker"] == "stale"


def test_unhealthy_when_the_worker_stopped(client: Client) -> None:
    _periodic_job_started(seconds_ago=3600)
    response = client.get(reverse("web:healthz"))
    assert response.status_code == 503
    assert response.json()["worker"] == "stale"


def test_unhealthy_when_the_database_fails(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from jixiao.web import views

    monkeypatch.setattr(views, "_database_ok", lambda: False)
    response = client.get(reverse("web:healthz"))
    assert response.status_code == 503
    assert response.json()["database"] == "error"
