"""The django-tasks task that carries a job's id to the worker."""

from __future__ import annotations

from django_tasks import task

from jixiao.jobs.services import job_execute


@task()
def run_job(job_id: int) -> None:
    """Run the :class:`~jixiao.jobs.models.Job` ``job_id`` (see ``jobs.services.job_execute``)."""
    job_execute(job_id=job_id)
