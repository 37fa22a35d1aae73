"""Internal columnar helpers: the canonical entity table and string → code encoding.

Entities are put in id order once, and every fact table is encoded to integer codes against
that order, so that results do not depend on the order of the input rows (bit for bit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from jixiao.scoring.errors import FactsError
from jixiao.scoring.scheme import LAYERS, Scheme
from jixiao.scoring.types import Officials, Units

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]
UNIT, OFFICIAL = 0, 1
NO_LAYER = -1


@dataclass(frozen=True)
class EntityTable:
    """All entities in id order: kind, category index, layer index and team (unit) index."""

    ids: NDArray[np.str_]
    kind: I64
    category: I64  # index into scheme.categories
    layer: I64  # index into LAYERS, NO_LAYER for units
    team: I64  # entity index of the official's unit, -1 for units
    zone: I64  # index into scheme.zones() (officials: their unit's), -1 = none or not weighted

    @property
    def size(self) -> int:
        """Return the number of entities."""
        return int(self.ids.shape[0])

    @cached_property
    def id_enum(self) -> pl.Enum:
        """Return the ids as a ``pl.Enum`` (built once: every fact table encodes against it)."""
        return pl.Enum(pl.Series(self.ids, dtype=pl.String))


def _strings(where: str, values: NDArray[np.str_], n: int) -> NDArray[np.str_]:
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise FactsError(where, f"expected {n} values, got shape {arr.shape}")
    return arr.astype(np.str_)


def build_entities(scheme: Scheme, units: Units, officials: Officials) -> EntityTable:
    """Validate units and officials and return them as one id-ordered table."""
    nu, no = int(np.asarray(units.id).shape[0]), int(np.asarray(officials.id).shape[0])
    unit_ids = _strings("units.id", units.id, nu)
    unit_cat = _strings("units.category", units.category, nu)
    off_ids = _strings("officials.id", officials.id, no)
    ids = np.concatenate([unit_ids, off_ids])
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    if ids.size > 1 and np.any(ids[1:] == ids[:-1]):
        dup = ids[1:][ids[1:] == ids[:-1]][0]
        raise FactsError("entities", f"id {dup!r} is used twice (units and officials share one id space)")
    codes = [c.code for c in scheme.categories]
    subjects = np.array([c.subject for c in scheme.categories])
    cat_all = np.concatenate([unit_cat, _strings("officials.category", officials.category, no)])
    category = encode(pl.Series(cat_all), codes, "entities.category")
    kind = np.concatenate([np.full(nu, UNIT), np.full(no, OFFICIAL)]).astype(np.int64)
    wrong = subjects[category] != np.where(kind == UNIT, "unit", "official")
    if np.any(wrong):
        i = int(np.flatnonzero(wrong)[0])
        raise FactsError("entities", f"entity {np.concatenate([unit_ids, off_ids])[i]!r} is in category "
                         f"{cat_all[i]!r} whose subject is {subjects[category[i]]!r}")  # fmt: skip
    layer = np.concatenate([
        np.full(nu, NO_LAYER, dtype=np.int64),
        encode(pl.Series(_strings("officials.layer", officials.layer, no)), list(LAYERS), "officials.layer"),
    ])  # fmt: skip
    team_codes = encode(
        pl.Series(_strings("officials.unit", officials.unit, no)), list(ids), "officials.unit"
    )
    team_in = np.concatenate([np.full(nu, -1, dtype=np.int64), team_codes])
    # team indices point into the sorted table; the team must be a unit.
    team = team_in[order]
    kind, category, layer = kind[order], category[order], layer[order]
    zone = _zones(scheme, units, nu)[np.minimum(order, max(nu, 1) - 1)] if nu else np.full(ids.size, -1)
    zone = np.where(kind == UNIT, zone, -1)
    zone = np.where(kind == OFFICIAL, zone[np.maximum(team, 0)], zone).astype(np.int64)
    bad = (kind == OFFICIAL) & (kind[np.maximum(team, 0)] != UNIT)
    if np.any(bad):
        raise FactsError(
            "officials.unit", f"official {ids[np.flatnonzero(bad)[0]]!r} has a team that is not a unit"
        )
    return EntityTable(ids, kind, category, layer, team, zone)


def _zones(scheme: Scheme, units: Units, nu: int) -> I64:
    """Return each unit's zone index into ``scheme.zones()`` (-1: no zone, or one no category weighs)."""
    raw = np.asarray(units.zone)
    if raw.size == 0:
        return np.full(nu, -1, dtype=np.int64)
    if raw.shape != (nu,):
        raise FactsError("units.zone", f"expected {nu} values (or none), got shape {raw.shape}")
    zones = scheme.zones()
    if not zones:
        return np.full(nu, -1, dtype=np.int64)
    codes = pl.Series(raw.astype(np.str_)).cast(pl.Enum(list(zones)), strict=False).to_physical()
    return np.asarray(codes.cast(pl.Int64).fill_null(-1).to_numpy(), dtype=np.int64)


def encode_raw(
    series: pl.Series, categories: Sequence[str] | pl.Enum, where: str
) -> NDArray[np.unsignedinteger[Any]]:
    """Return the index of every value in ``categories`` as the narrowest unsigned integers.

    ``categories`` may be given as a ``pl.Enum`` (``EntityTable.id_enum``: built once, not per
    table). Unknown or null values raise FactsError naming ``where``. A ``pl.Enum`` column
    (pre-encoded keys, as an adapter may pass them) is read by its physical codes: free when its
    categories are ``categories`` in order, else one lookup per category and a gather; its unused
    categories need not be known.
    """
    target = categories if isinstance(categories, pl.Enum) else pl.Enum(list(categories))
    dtype = series.dtype  # read once: for an Enum it builds the categories each time
    if isinstance(dtype, pl.Enum):
        return _encode_enum(series, dtype, target, where)
    s = series if dtype == pl.String else series.cast(pl.String)
    if s.null_count():
        raise FactsError(where, "must not be null")
    try:
        codes = s.cast(target).to_physical().to_numpy()
    except pl.exceptions.PolarsError:
        unknown = sorted(set(s.unique().to_list()) - set(target.categories.to_list()))[:5]
        raise FactsError(where, f"unknown value(s) {unknown}") from None
    return np.asarray(codes)


def _encode_enum(
    series: pl.Series, dtype: pl.Enum, target: pl.Enum, where: str
) -> NDArray[np.unsignedinteger[Any]]:
    if series.null_count():
        raise FactsError(where, "must not be null")
    physical = np.asarray(series.to_physical().to_numpy())
    known = dtype.categories
    if known.len() == target.categories.len() and known.equals(target.categories):
        return physical
    lookup = known.cast(target, strict=False).to_physical().cast(pl.Int64).fill_null(-1)
    codes: NDArray[np.int64] = np.asarray(lookup.to_numpy())[physical]
    if codes.size and codes.min() < 0:
        unknown = sorted(set(known.gather(pl.Series(np.unique(physical[codes < 0]))).to_list()))[:5]
        raise FactsError(where, f"unknown value(s) {unknown}")
    return codes.astype(np.uint32)


def encode(series: pl.Series, categories: Sequence[str] | pl.Enum, where: str) -> I64:
    """Return the index of every value in ``categories`` as int64 (see ``encode_raw``)."""
    return encode_raw(series, categories, where).astype(np.int64)


def column(frame: pl.DataFrame, name: str, dtype: pl.DataType, where: str) -> pl.Series:
    """Return ``frame[name]`` cast to ``dtype``, or an all-null column when the frame lacks it."""
    if name not in frame.columns:
        return pl.Series(name, [None] * frame.height, dtype=dtype)
    try:
        return frame.get_column(name).cast(dtype)
    except pl.exceptions.PolarsError:
        raise FactsError(f"{where}.{name}", f"cannot be read as {dtype}") from None


def floats(frame: pl.DataFrame, name: str, where: str) -> F64:
    """Return a Float64 column as NumPy with NaN for nulls."""
    return np.asarray(column(frame, name, pl.Float64(), where).fill_null(np.nan).to_numpy(), dtype=np.float64)


def require(frame: pl.DataFrame, names: Sequence[str], where: str) -> None:
    """Raise FactsError unless ``frame`` has the columns ``names``."""
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise FactsError(where, f"missing column(s) {missing}")
