"""One entity's explanation data without the run's whole frames.

The first breakdown of a run used to read and decode every frame of its ``RunDetail`` (2.4 s at
province scale: 108,000 entities, 1.4 million indicator rows). After the run, the scoring job
splits the frames into :class:`ExplanationBlock` rows of ``BLOCK_ENTITIES`` consecutive entities
(frames are sorted by entity id, so a block is a slice of each frame); a breakdown then reads the
one block holding its entity. A run without blocks (scored before they existed, or by
``run_compute`` called directly) is still explained from its ``RunDetail``.
"""

from __future__ import annotations

import functools
import io
import logging
from typing import Any

import polars as pl
from django.db import transaction

from jixiao.results.models import ExplanationBlock, ScoringRun
from jixiao.scoring.types import Results

logger = logging.getLogger(__name__)

# Entities per block: a province's 108,000 make 216 blocks of ~150 KB (decoded in a few ms).
BLOCK_ENTITIES = 500
BLOCK_CACHE = 64  # blocks a process keeps decoded (a breakdown's neighbours share its block)
# The frames a block holds (those of ``RunDetail`` an explanation reads).
BLOCK_FRAMES = ("entities", "components", "indicators", "raters", "adjustments")


def _parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", statistics=False)
    return buffer.getvalue()


def _slice(frame: pl.DataFrame, first: str, last: str) -> pl.DataFrame:
    column = frame.get_column("entity")
    start = int(column.search_sorted(first, side="left"))
    end = int(column.search_sorted(last, side="right"))
    return frame.slice(start, end - start)


def blocks_store(*, run: ScoringRun, results: Results | None = None) -> int:
    """Write the explanation blocks of ``run`` (replacing any) from ``results``, by default its
    ``RunDetail`` frames; return how many were written (0 for a run without detail)."""
    if results is None:
        from jixiao.results.selectors import run_frames

        results = run_frames(run)
        if results is None:
            return 0
    keys = results.entities.get_column("entity")
    if not keys.is_sorted():  # RunDetail's frames are; a caller's may not be
        results = Results(
            engine_version=results.engine_version, score_decimals=results.score_decimals,
            decisions=results.decisions,
            **{name: getattr(results, name).sort("entity", maintain_order=True) for name in BLOCK_FRAMES},
        )  # fmt: skip
        keys = results.entities.get_column("entity")
    entity_ids = keys.to_list()
    blocks: list[ExplanationBlock] = []
    for start in range(0, len(entity_ids), BLOCK_ENTITIES):
        members = entity_ids[start : start + BLOCK_ENTITIES]
        first, last = members[0], members[-1]
        frames = {name: _parquet(_slice(getattr(results, name), first, last)) for name in BLOCK_FRAMES}
        decisions = {e: results.decisions[e] for e in members if e in results.decisions}
        blocks.append(ExplanationBlock(run=run, first=first, last=last, decisions=decisions, **frames))
    with transaction.atomic():
        ExplanationBlock.objects.filter(run=run).delete()
        ExplanationBlock.objects.bulk_create(blocks, batch_size=20)
    return len(blocks)


def entity_results(run: ScoringRun, entity: str) -> Results | None:
    """The rows of ``entity``'s block as :class:`Results` (every frame, the block's decisions),
    or None when the run has no blocks (or none holds ``entity``)."""
    block = _block(run.pk, run.created_at.isoformat(), entity)
    if block is None:
        return None
    frames, decisions = block
    return Results(
        engine_version=run.engine_version,
        score_decimals=int(run.parameters.get("score_decimals", 0)),
        decisions=decisions,
        **frames,
    )


def _block(
    run_id: int, created_at: str, entity: str
) -> tuple[dict[str, pl.DataFrame], dict[str, Any]] | None:
    """(frames, decisions) of the block holding ``entity``; cached by block (runs never change)."""
    bounds = (
        ExplanationBlock.objects.filter(run_id=run_id, first__lte=entity, last__gte=entity)
        .values_list("pk", flat=True)
        .first()
    )
    return None if bounds is None else _decoded(bounds, created_at)


@functools.lru_cache(maxsize=BLOCK_CACHE)
def _decoded(block_id: int, created_at: str) -> tuple[dict[str, pl.DataFrame], dict[str, Any]]:
    block = ExplanationBlock.objects.get(pk=block_id)
    frames = {name: pl.read_parquet(io.BytesIO(bytes(getattr(block, name)))) for name in BLOCK_FRAMES}
    return frames, dict(block.decisions)


def compute_job(*, job: Any, progress: Any) -> Any:
    """The scoring job (``jobs.services.HANDLERS``): ``results.services.compute_job``, then the
    new run's explanation blocks, so that its first breakdowns read a block, not the frames. A
    failure here leaves the run as stored (its breakdowns read the frames) and is only logged."""
    from django.utils.translation import gettext as _

    from jixiao.results.selectors import latest_run
    from jixiao.results.services import compute_job as scoring_job

    outcome = scoring_job(job=job, progress=progress)
    run = latest_run(cycle=job.cycle)  # the job's lock: no other run of the cycle since
    if run is not None:
        progress(99, _("准备计分说明"))
        try:
            blocks_store(run=run)
        except Exception:
            logger.exception("explanation blocks of run %s not written", run.pk)
    return outcome
