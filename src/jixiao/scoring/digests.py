"""Canonical SHA-256 digests of a run's typed input and output, computed column by column.

A scoring run is published with two digests: ``input_digest`` (the scheme, the entities and every
fact table) and ``results_digest`` (every results frame and the grade decisions). They are defined
over the *typed* tables, not over a JSON text, so that a province (10 M ratings, 110,000 entities)
hashes in about a second from the frames the engine reads, and the same digest comes out whether the
frames were read from the database or from an exported bundle JSON. docs/scoring.md ("Digests")
specifies the byte stream exactly, so that an auditor can reimplement it without this code.

The stream fed to SHA-256 is a sequence of *blobs* (``u64 little-endian byte length`` + bytes) and
``u64`` counts:

- header: blob ``"jixiao.cycle-input"`` (or ``"jixiao.cycle-results"``), blob ``DIGEST_SCHEME``,
  blob of the canonical JSON of the small metadata (``{"cycle", "scheme"}`` / ``{"decisions",
  "engine_version", "score_decimals"}``);
- then every table in a fixed order: blob name, u64 column count, u64 row count, then every column
  in a fixed order: blob name, blob dtype tag (``f64``/``i64``/``bool``/``str``), blob validity (one
  byte per row, 1 = present, 0 = null), and the values:

  - ``f64``: blob of the rows as IEEE-754 float64 LE; NaN and ±inf count as null, -0.0 as 0.0,
    and a null row is written as 0.0;
  - ``i64``: blob of the rows as int64 LE (null → 0);
  - ``bool``: blob of one byte per row, 0/1 (null → 0);
  - ``str``: blob of the UTF-8 byte length of every row as u64 LE (null → 0), then blob of the
    concatenated UTF-8 bytes of the present rows.

Input tables (entities and facts) are first brought to their full declared columns (a missing
nullable column is all null) and sorted by all their columns in that order (nulls last), so that the
digest does not depend on the order of the source rows, just as the engine's results do not.
Results frames are hashed as they are: their order is part of the results.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from jixiao.scoring.errors import BundleError
from jixiao.scoring.types import (
    ADJUSTMENT_COLUMNS,
    DECLARED_COLUMNS,
    INDICATOR_RESULT_COLUMNS,
    PREVIOUS_COLUMNS,
    RATING_COLUMNS,
    ROUTINE_COLUMNS,
    VOTE_COLUMNS,
    CycleInput,
    Facts,
    Officials,
    Results,
    Units,
)

DIGEST_SCHEME = "jixiao.columnar-sha256/1"
INPUT_TAG = "jixiao.cycle-input"
RESULTS_TAG = "jixiao.cycle-results"
V1_FACT_TABLES: dict[str, dict[str, pl.DataType]] = {
    "indicator_results": INDICATOR_RESULT_COLUMNS, "ratings": RATING_COLUMNS, "votes": VOTE_COLUMNS,
    "adjustments": ADJUSTMENT_COLUMNS, "previous": PREVIOUS_COLUMNS,
}  # fmt: skip
FACT_TABLES: dict[str, dict[str, pl.DataType]] = {**V1_FACT_TABLES, "routine": ROUTINE_COLUMNS}
ZONE_COLUMNS: dict[str, pl.DataType] = {"id": pl.String(), "zone": pl.String()}
UNIT_COLUMNS: dict[str, pl.DataType] = {"id": pl.String(), "category": pl.String()}
OFFICIAL_COLUMNS: dict[str, pl.DataType] = {
    "id": pl.String(), "unit": pl.String(), "layer": pl.String(), "category": pl.String(),
}  # fmt: skip
RESULT_FRAMES = ("entities", "components", "indicators", "raters", "adjustments")

_U64 = struct.Struct("<Q")


class _Stream:
    """SHA-256 over blobs (u64 LE length + bytes) and u64 counts."""

    def __init__(self) -> None:
        self.sha = hashlib.sha256()

    def count(self, n: int) -> None:
        self.sha.update(_U64.pack(n))

    def blob(self, data: bytes | np.ndarray[Any, Any]) -> None:
        # A contiguous array hashes through the buffer protocol, without a copy.
        view = memoryview(data) if isinstance(data, bytes) else data.data
        self.count(view.nbytes)
        self.sha.update(view)

    def text(self, value: str) -> None:
        self.blob(value.encode("utf-8"))

    def hexdigest(self) -> str:
        return self.sha.hexdigest()


def _json(value: Any) -> bytes:
    from jixiao.scoring.bundle import canonical_json  # bundle imports this module

    return canonical_json(value)


def canonical_floats(series: pl.Series) -> pl.Series:
    """Return a Float64 column with NaN/±inf as null and -0.0 as 0.0 (the digest's float values)."""
    s = series.cast(pl.Float64)
    value = pl.when(s == 0.0).then(pl.lit(0.0, pl.Float64)).otherwise(s)  # -0.0 == 0.0: one zero
    return pl.select(pl.when(s.is_finite()).then(value).alias(s.name)).to_series()


def _array(series: pl.Series, dtype: type[np.generic]) -> np.ndarray[Any, Any]:
    return np.ascontiguousarray(series.to_numpy(), dtype=dtype)


def _column(stream: _Stream, name: str, series: pl.Series) -> None:
    dtype = series.dtype
    if dtype.is_float():
        series = canonical_floats(series)
    stream.text(name)
    valid = series.is_not_null()
    if dtype.is_float():
        tag, values = "f64", _array(series.fill_null(0.0), np.dtype("<f8").type)
    elif dtype.is_integer():
        tag, values = "i64", _array(series.cast(pl.Int64).fill_null(0), np.dtype("<i8").type)
    elif dtype == pl.Boolean:
        tag, values = "bool", _array(series.fill_null(False).cast(pl.UInt8), np.uint8)
    elif dtype in (pl.String, pl.Categorical, pl.Null) or isinstance(dtype, pl.Enum):
        tag, values = "str", None
    else:
        raise BundleError(f"digest.{name}", f"cannot hash a column of type {dtype}")
    stream.text(tag)
    stream.blob(_array(valid.cast(pl.UInt8), np.uint8))
    if values is not None:
        stream.blob(values)
        return
    strings = series.cast(pl.String)
    stream.blob(_array(strings.str.len_bytes().fill_null(0).cast(pl.UInt64), np.dtype("<u8").type))
    joined = strings.str.join("", ignore_nulls=True).item() if strings.len() else ""
    stream.blob(str(joined or "").encode("utf-8"))


def _table(stream: _Stream, name: str, frame: pl.DataFrame, order: pl.Series | None = None) -> None:
    stream.text(name)
    stream.count(frame.width)
    stream.count(frame.height)
    for series in frame.iter_columns():
        # Gathered one column at a time: a sorted copy of 10 M ratings never exists whole.
        _column(stream, series.name, series if order is None else series.gather(order))


def full_frame(frame: pl.DataFrame, columns: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Return ``frame`` with exactly ``columns`` in that order and dtype (missing ones all null).

    Float columns are canonical (NaN/±inf → null, -0.0 → 0.0), as the engine reads them anyway
    (a null float and NaN are both "missing"); Enum/Categorical keys become strings.
    """
    out = []
    for name, dtype in columns.items():
        if name in frame.columns:
            series = frame.get_column(name)
            if series.dtype != dtype:
                series = series.cast(dtype)
        else:
            series = pl.Series(name, [None] * frame.height, dtype=dtype)
        out.append(canonical_floats(series) if dtype.is_float() else series)
    return pl.DataFrame(out, schema=dict(columns))


def _dense(series: pl.Series, hint: pl.Series | None) -> tuple[pl.Series, int]:
    """Return every row's rank among the column's sorted distinct values (nulls last) and the radix.

    ``hint`` (sorted distinct strings, e.g. the entity ids) saves finding the distinct values of a
    10 M-row column; a value outside it falls back to the general path.
    """
    if series.dtype == pl.String:
        uniq = hint if hint is not None else series.unique().drop_nulls().sort()
        try:
            codes = series.cast(pl.Enum(uniq.to_list()), strict=False).to_physical()
        except pl.exceptions.PolarsError:
            codes = None
        if codes is None or codes.null_count() != series.null_count():
            if hint is None:
                raise BundleError(f"digest.{series.name}", "cannot encode the column")
            return _dense(series, None)
    else:
        uniq = series.unique().drop_nulls().sort()
        codes = uniq.search_sorted(series, side="left")
    n = uniq.len()
    codes = codes.cast(pl.UInt64)
    if series.null_count():
        codes = pl.select(pl.when(series.is_null()).then(pl.lit(n, pl.UInt64)).otherwise(codes)).to_series()
    return codes, n + 1


def _order(frame: pl.DataFrame, hints: Mapping[str, pl.Series] | None = None) -> pl.Series | None:
    """Return the row order that sorts ``frame`` by all its columns in order (nulls last).

    Each column becomes its dense rank (``_dense``); the ranks are packed in mixed radix into as
    few uint64 words as fit, and one arg-sort of the words orders the rows: several times faster
    than a multi-column sort of strings. Rows that tie are equal in every column.
    """
    if frame.height < 2:
        return None
    words: list[pl.Series] = []
    acc: pl.Series | None = None
    radix = 1
    for series in frame.iter_columns():
        codes, n = _dense(series, (hints or {}).get(series.name))
        if acc is not None and radix * n < 1 << 63:
            acc, radix = acc * n + codes, radix * n
        else:
            if acc is not None:
                words.append(acc)
            acc, radix = codes, n
    assert acc is not None
    words.append(acc)
    if len(words) == 1:
        order = words[0].arg_sort()
    else:
        keys = pl.DataFrame({f"w{i}": w for i, w in enumerate(words)})
        order = keys.with_row_index("_row").sort(keys.columns).get_column("_row")
    return order


def _entities(units: Units, officials: Officials) -> tuple[pl.DataFrame, pl.DataFrame]:
    u = pl.DataFrame({c: pl.Series(c, getattr(units, c).tolist(), dtype=pl.String) for c in UNIT_COLUMNS})
    o = pl.DataFrame(
        {c: pl.Series(c, getattr(officials, c).tolist(), dtype=pl.String) for c in OFFICIAL_COLUMNS}
    )
    return u, o


def input_digest(
    inp: CycleInput, scheme_raw: Mapping[str, Any], cycle: Mapping[str, Any] | None = None
) -> str:
    """Return the hex SHA-256 of a run's input (``scheme_raw`` is the scheme dict ``inp`` was
    parsed from; ``cycle`` the bundle's free metadata). Independent of the order of any rows."""
    stream = _Stream()
    stream.text(INPUT_TAG)
    stream.text(DIGEST_SCHEME)
    stream.blob(_json({"cycle": dict(cycle or {}), "scheme": scheme_raw}))
    units, officials = _entities(inp.units, inp.officials)
    ids = pl.concat([units.get_column("id"), officials.get_column("id")]).sort()
    hints = {"entity": ids} if ids.n_unique() == ids.len() else {}
    _table(stream, "units", units, _order(units))
    _table(stream, "officials", officials, _order(officials))
    for name, columns in V1_FACT_TABLES.items():
        frame = full_frame(getattr(inp.facts, name), columns)
        _table(stream, name, frame, _order(frame, hints))
    # Version 2 input (zones, declared leaves, routine reports): three more tables, only when one
    # of them has a row, so that an input without them keeps its version 1 digest.
    zones = _zones(inp.units)
    declared = full_frame(inp.declared, DECLARED_COLUMNS)
    routine = full_frame(inp.facts.routine, ROUTINE_COLUMNS)
    if zones.height or declared.height or routine.height:
        _table(stream, "unit_zones", zones, _order(zones))
        _table(stream, "declared", declared, _order_by_key(declared, ["entity", "code"], hints))
        _table(stream, "routine", routine, _order(routine, hints))
    return stream.hexdigest()


def _zones(units: Units) -> pl.DataFrame:
    """Return (id, zone) of the units that have a zone (non-empty)."""
    zone = np.asarray(units.zone)
    if zone.size == 0:
        return pl.DataFrame(schema=ZONE_COLUMNS)
    frame = pl.DataFrame({"id": pl.Series(np.asarray(units.id).tolist(), dtype=pl.String),
                          "zone": pl.Series(zone.tolist(), dtype=pl.String)})  # fmt: skip
    return frame.filter(pl.col("zone").is_not_null() & (pl.col("zone") != ""))


def _order_by_key(frame: pl.DataFrame, key: list[str], hints: Mapping[str, pl.Series]) -> pl.Series | None:
    """Return the order sorting ``frame`` by all its columns, given that ``key`` (its leading
    columns) is usually unique: sort by the key; if any rows tie on it, sort by every column."""
    if frame.height < 2:
        return None
    order = frame.select(key).with_row_index("_row").sort(key).get_column("_row")
    sorted_key = frame.select(key).gather(order)
    ties = pl.all_horizontal(pl.col(c).eq_missing(pl.col(c).shift(1)) for c in key)
    if sorted_key.select(ties.any()).item():
        return _order(frame, hints)
    return order


def results_digest(results: Results) -> str:
    """Return the hex SHA-256 of a run's results (every frame as it is, then the decisions).

    The explanations are not hashed: they are a deterministic function of the results and the
    scheme, which the input digest covers.
    """
    stream = _Stream()
    stream.text(RESULTS_TAG)
    stream.text(DIGEST_SCHEME)
    stream.blob(_json({
        "decisions": dict(results.decisions), "engine_version": results.engine_version,
        "score_decimals": results.score_decimals,
    }))  # fmt: skip
    for name in RESULT_FRAMES:
        _table(stream, name, getattr(results, name))
    return stream.hexdigest()


def canonical_facts(facts: Facts) -> Facts:
    """Return ``facts`` with every table in its full declared columns and dtypes (``full_frame``),
    the version 2 table ``routine`` included."""
    return Facts(**{name: full_frame(getattr(facts, name), cols) for name, cols in FACT_TABLES.items()})


__all__ = ["DIGEST_SCHEME", "FACT_TABLES", "V1_FACT_TABLES", "canonical_facts", "full_frame", "input_digest",
           "results_digest"]  # fmt: skip
