"""A breakdown reads its entity's explanation block, not the run's whole frames."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from jixiao.results import explanation_blocks, selectors
from jixiao.results.models import EntityResult, ExplanationBlock, ScoringRun

pytestmark = pytest.mark.django_db


def test_every_explanation_read_from_the_blocks_equals_the_one_from_the_frames(
    scored: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    run: ScoringRun = scored["run"]
    results = list(EntityResult.objects.filter(run=run).select_related("run"))
    from_frames = {r.pk: selectors.shown_explanation(r) for r in results}
    monkeypatch.setattr(explanation_blocks, "BLOCK_ENTITIES", 4)  # several blocks, some split by kind
    written = explanation_blocks.blocks_store(run=run)
    assert written == ExplanationBlock.objects.filter(run=run).count() == -(-len(results) // 4)

    def frames_not_read(run: ScoringRun) -> None:
        raise AssertionError("the run's frames were read")

    monkeypatch.setattr(selectors, "run_frames", frames_not_read)
    for r in results:
        assert selectors.shown_explanation(r) == from_frames[r.pk]


def test_a_breakdown_with_blocks_reads_one_block_and_shows_the_same_page(
    scored: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, run = scored["client"], scored["run"]
    result = EntityResult.objects.filter(run=run, subject="official").order_by("rank").first()
    assert result is not None
    before = client.get(reverse("results:breakdown", args=[result.pk]))
    explanation_blocks.blocks_store(run=run)
    monkeypatch.setattr(selectors, "run_frames", lambda run: pytest.fail("frames read"))
    after = client.get(reverse("results:breakdown", args=[result.pk]))
    assert after.status_code == 200 and after.context["x"] == before.context["x"]


def test_the_scoring_job_writes_the_new_runs_blocks(scored: dict[str, Any]) -> None:
    from jixiao.jobs.models import JobKind, JobStatus
    from jixiao.jobs.services import job_run_here

    job = job_run_here(kind=JobKind.COMPUTE, actor=None, cycle=scored["cycle"])
    assert job.status == JobStatus.SUCCEEDED
    run = selectors.latest_run(cycle=scored["cycle"])
    assert run is not None and run.number == 2
    blocks = ExplanationBlock.objects.filter(run=run)
    assert blocks.exists() and not ExplanationBlock.objects.filter(run=scored["run"]).exists()
