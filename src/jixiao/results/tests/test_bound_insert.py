"""insert_bound stores what save(force_insert=True) stores: bytes, JSON (nested, unicode, floats)."""

from __future__ import annotations

import pytest

from jixiao.bound_insert import insert_bound
from jixiao.results.models import RunDetail, ScoringRun
from jixiao.schemes.tests.factories import CycleFactory

pytestmark = pytest.mark.django_db


def test_a_run_detail_inserted_with_bound_parameters_reads_back_equal() -> None:
    cycle = CycleFactory(year=2031)
    blobs = {name: bytes(range(256)) * (i + 1) + b"\x00'\\" for i, name in enumerate(RunDetail.FRAMES)}
    decisions = {"U1": {"grade": "优秀", "score": 81.71316666666667, "steps": [0.1, None, 1e-07]}}
    scheme = {"name": "周期", "categories": [{"code": "county", "weight": 12.5}]}
    runs = [ScoringRun.objects.create(cycle=cycle, number=n, engine_version="t") for n in (1, 2)]
    insert_bound(RunDetail(run=runs[0], decisions=decisions, scheme=scheme, **blobs))
    RunDetail(run=runs[1], decisions=decisions, scheme=scheme, **blobs).save(force_insert=True)
    bound, saved = (RunDetail.objects.get(run=run) for run in runs)
    for name in RunDetail.FRAMES:
        assert bytes(getattr(bound, name)) == bytes(getattr(saved, name)) == blobs[name]
    assert bound.decisions == saved.decisions == decisions
    assert bound.scheme == saved.scheme == scheme
