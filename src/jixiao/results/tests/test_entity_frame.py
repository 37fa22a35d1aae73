"""The column-wise EntityResult rows (entity_frame, one COPY) are entity_rows' values, and the
stored rows read back the same whichever path wrote them."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest

from jixiao.results import engine_io
from jixiao.results.models import EntityResult, ScoringRun
from jixiao.results.services import entity_frame, entity_rows, write_frame, write_rows
from jixiao.results.tests.test_compute import cycle_with_facts as _fixture
from jixiao.scoring.engine import compute

cycle_with_facts = _fixture
pytestmark = pytest.mark.django_db

FIELDS = ("subject", "unit_id", "official_id", "category", "total", "components", "rank", "grade", "flags")


def _results(cycle: object) -> object:
    return compute(engine_io.cycle_input(*engine_io.load_run_input(cycle)))  # type: ignore[arg-type]


def test_entity_frame_gives_entity_rows_values(cycle_with_facts: dict) -> None:
    results = _results(cycle_with_facts["cycle"])
    # A NaN total, a flag and an entity without components: the edge cases of the JSON text.
    entities = results.entities.with_columns(  # type: ignore[attr-defined]
        pl.when(pl.int_range(pl.len()) == 0).then(float("nan")).otherwise(pl.col("total")).alias("total"),
        (pl.int_range(pl.len()) == 1).alias("flag_top_twice"),
    )
    first = entities.get_column("entity")[2]
    components = results.components.filter(pl.col("entity") != first)  # type: ignore[attr-defined]
    results = type(results)(**{**results.__dict__, "entities": entities, "components": components})  # type: ignore[attr-defined]
    expected = [row for rows in entity_rows(results) for row in rows]  # type: ignore[arg-type]
    got = [
        (*row[:5], json.loads(row[5]), *row[6:8], json.loads(row[8]))
        for row in entity_frame(results).iter_rows()  # type: ignore[arg-type]
    ]
    assert len(got) == len(expected) > 2
    for mine, theirs in zip(got, expected, strict=True):
        assert mine[0] == theirs[0] and mine[1:4] == theirs[1:4] and mine[5:] == theirs[5:]
        assert (mine[4] is None and theirs[4] is None) or mine[4] == theirs[4]
    assert got[0][4] is None and got[1][8] == ["top_twice"] and got[2][5] == {}


def test_write_frame_stores_what_write_rows_stores(cycle_with_facts: dict) -> None:
    cycle = cycle_with_facts["cycle"]
    results = _results(cycle)
    runs = [ScoringRun.objects.create(cycle=cycle, number=n, engine_version="t") for n in (1, 2)]
    assert write_frame(runs[0], entity_frame(results)) == write_rows(runs[1], entity_rows(results))  # type: ignore[arg-type]
    framed, rowed = (
        list(EntityResult.objects.filter(run=run).order_by("id").values_list(*FIELDS)) for run in runs
    )
    assert len(framed) == len(rowed) > 0
    for a, b in zip(framed, rowed, strict=True):
        assert a[:4] == b[:4] and a[5:] == b[5:]
        assert a[4] == b[4] or (a[4] is None and b[4] is None) or (math.isnan(a[4]) and math.isnan(b[4]))
