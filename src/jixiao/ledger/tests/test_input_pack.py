"""The packed run input (ledger.services.input_pack): tables encoded in threads, same bytes."""

from __future__ import annotations

import io
import struct

import numpy as np
import polars as pl
import pytest

from jixiao.ledger import services
from jixiao.ledger.models import RunInput
from jixiao.scoring.types import DECLARED_COLUMNS, Facts, Officials, Units


def _input() -> tuple[Units, Officials, Facts, pl.DataFrame]:
    units = Units(np.array(["U1", "U2"]), np.array(["county", "county"]), np.array(["Z1", ""]))
    officials = Officials(np.array(["O1"]), np.array(["U1"]), np.array(["head"]), np.array(["heads"]))
    facts = Facts(
        ratings=pl.DataFrame(
            {"entity": ["O1", "O1"], "group": ["org", "peer"], "item": ["de", "de"], "score": [95.0, None]}
        ),
        votes=pl.DataFrame({"entity": ["O1"], "label": ["优秀"], "count": [3]}),
    )
    declared = pl.DataFrame({"entity": ["U1"], "code": ["D1"], "parent": ["county.A"], "weight": [1.0],
                             "component": ["annual"], "rule": ["completion"], "params": ["{}"],
                             "low_ambition": [False]}, schema=DECLARED_COLUMNS)  # fmt: skip
    return units, officials, facts, declared


def test_the_packed_tables_are_the_tables_encoded_one_after_the_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    units, officials, facts, declared = _input()
    cycle, scheme = {"code": "2025"}, {"categories": []}
    packed = services.input_pack(
        cycle=cycle, scheme=scheme, units=units, officials=officials, facts=facts, declared=declared
    )
    monkeypatch.setattr(services, "PACK_THREADS", 1)  # one table after the other
    again = services.input_pack(
        cycle=cycle, scheme=scheme, units=units, officials=officials, facts=facts, declared=declared
    )
    assert packed.tables == again.tables and packed.digest == again.digest
    assert packed.digest == services.input_digest_of(cycle, scheme, packed.tables)
    # The length-prefixed Parquet of every table, in RunInput.TABLES order.
    view, at, names = memoryview(packed.tables), 0, []
    while at < len(view):
        (size,) = struct.unpack(">Q", view[at : at + 8])
        names.append(pl.read_parquet(io.BytesIO(view[at + 8 : at + 8 + size])).columns)
        at += 8 + size
    assert len(names) == len(RunInput.TABLES)
    u, o, f, d = services.input_unpack(packed.tables)
    assert u.id.tolist() == ["U1", "U2"] and u.zone.tolist() == ["Z1", ""]
    assert o.unit.tolist() == ["U1"]
    assert f.ratings.equals(facts.ratings) and f.votes.equals(facts.votes)
    assert d.equals(declared)
