"""Canonical SHA-256 digests of a run's typed input and output, computed column by column.

A scoring run is published with two digests: ``input_digest`` (the scheme, the entities and every
fact table) and ``results_digest`` (every results frame and the grade decisions). They are defined
over the *typed* tables, not over a JSON text, so that a province (10 M ratings, 110,000 entities,
~1 GB of stream) hashes in seconds from the frames the engine reads, and the same digest comes out
whether the frames were read from the database or from an exported bundle JSON. docs/scoring.md ("Digests")
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

import functools
import hashlib
import queue
import struct
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
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
_SMALL = 1 << 16  # updates below this are gathered into one buffer before being queued


class _Stream:
    """SHA-256 over blobs (u64 LE length + bytes) and u64 counts.

    With ``threaded`` the updates run in a thread of their own, in the order they were given:
    ``hashlib`` releases the GIL on large buffers, so the next column is prepared (Polars and
    NumPy release it too) while the previous one is hashed. A province input is ~1 GB of stream.
    """

    def __init__(self, threaded: bool = False) -> None:
        self.sha = hashlib.sha256()
        self._small = bytearray()
        self._queue: queue.Queue[memoryview | None] | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        if threaded:
            self._queue = queue.Queue(maxsize=8)
            self._thread = threading.Thread(target=self._drain, name="digest-sha256", daemon=True)
            self._thread.start()

    def _drain(self) -> None:
        assert self._queue is not None
        while (view := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self.sha.update(view)
                except BaseException as exc:  # re-raised by hexdigest
                    self._error = exc

    def _update(self, view: memoryview) -> None:
        if self._small:
            small, self._small = memoryview(bytes(self._small)), bytearray()
            self._update_now(small)
        self._update_now(view)

    def _update_now(self, view: memoryview) -> None:
        if self._queue is None:
            self.sha.update(view)
        else:
            self._queue.put(view)

    def count(self, n: int) -> None:
        self._small += _U64.pack(n)

    def blob(self, data: bytes | np.ndarray[Any, Any]) -> None:
        # A contiguous array hashes through the buffer protocol, without a copy.
        view = memoryview(data) if isinstance(data, bytes) else data.data
        self.count(view.nbytes)
        if view.nbytes < _SMALL:
            self._small += view
        else:
            self._update(view.cast("B"))

    def text(self, value: str) -> None:
        self.blob(value.encode("utf-8"))

    def close(self) -> None:
        """Stop the hashing thread (the digest so far stays readable)."""
        if self._small:
            small, self._small = memoryview(bytes(self._small)), bytearray()
            self._update_now(small)
        if self._thread is not None and self._queue is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = self._queue = None

    def hexdigest(self) -> str:
        self.close()
        if self._error is not None:
            raise self._error
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


# A column's hashed form: its tag and the blobs after the tag (validity, then values or lengths
# and bytes). Built either from a Series (``_parts``) or from sorted dense codes (``_Coded``).
_Parts = tuple[str, list["bytes | np.ndarray[Any, Any]"]]


def _tag(name: str, dtype: pl.DataType) -> str:
    if dtype.is_float():
        return "f64"
    if dtype.is_integer():
        return "i64"
    if dtype == pl.Boolean:
        return "bool"
    if dtype in (pl.String, pl.Categorical, pl.Null) or isinstance(dtype, pl.Enum):
        return "str"
    raise BundleError(f"digest.{name}", f"cannot hash a column of type {dtype}")


def _valid(series: pl.Series) -> np.ndarray[Any, Any]:
    if not series.null_count():
        return np.ones(series.len(), np.uint8)
    return _array(series.is_not_null().cast(pl.UInt8), np.uint8)


def _joined(strings: pl.Series) -> bytes:
    """The concatenated UTF-8 bytes of the present rows (as bytes: no Python str in between)."""
    if not strings.len():
        return b""
    joined = strings.str.join("", ignore_nulls=True).cast(pl.Binary).item()
    return bytes(joined or b"")


def _parts(series: pl.Series) -> _Parts:
    """Return the hashed form of a column (floats made canonical)."""
    tag = _tag(series.name, series.dtype)
    if tag == "f64":
        # NumPy: a null is NaN; NaN and ±inf are null, and x + 0.0 turns -0.0 into 0.0 (only).
        values = np.array(series.cast(pl.Float64).to_numpy(), dtype=np.dtype("<f8"))
        finite = np.isfinite(values)
        np.copyto(values, 0.0, where=~finite)
        values += 0.0
        return tag, [finite.view(np.uint8), values]
    if tag == "i64":
        return tag, [_valid(series), _array(series.cast(pl.Int64).fill_null(0), np.dtype("<i8").type)]
    if tag == "bool":
        return tag, [_valid(series), _array(series.fill_null(False).cast(pl.UInt8), np.uint8)]
    strings = series.cast(pl.String)
    lengths = _array(strings.str.len_bytes().fill_null(0).cast(pl.UInt64), np.dtype("<u8").type)
    return tag, [_valid(strings), lengths, _joined(strings)]


def _write(stream: _Stream, name: str, parts: _Parts) -> None:
    stream.text(name)
    stream.text(parts[0])
    for blob in parts[1]:
        stream.blob(blob)


def full_frame(frame: pl.DataFrame, columns: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Return ``frame`` with exactly ``columns`` in that order and dtype (missing ones all null).

    Float columns are canonical (NaN/±inf → null, -0.0 → 0.0), as the engine reads them anyway
    (a null float and NaN are both "missing"). A string column given as ``pl.Enum`` (keys an
    adapter encoded: the engine and the digests read them by their codes) stays one; a
    Categorical one becomes strings. The values, hence the digest, are the same either way.
    """
    out = []
    for name, dtype in columns.items():
        if name in frame.columns:
            series = frame.get_column(name)
            keep_enum = dtype == pl.String and isinstance(series.dtype, pl.Enum)
            if series.dtype != dtype and not keep_enum:
                series = series.cast(dtype)
        else:
            series = pl.Series(name, [None] * frame.height, dtype=dtype)
        out.append(canonical_floats(series) if dtype.is_float() else series)
    return pl.DataFrame(out, schema={s.name: s.dtype for s in out})


# -- sorting by all columns ----------------------------------------------------------------------
#
# Every column becomes an order-preserving code (``_Coded``: 0 … null-1 for its values in
# ascending order, ``null`` for a null, so nulls sort last), and the codes are packed into one
# uint64 word per row as bit fields, first column highest. When they fit (ratings, votes,
# adjustments, entities), sorting the words sorts the rows, and the sorted words *are* the sorted
# table: each column is decoded from its bit field, sequentially, without gathering the rows by
# an order (a gather of 10 M rows costs more than the sort). Rows that tie are equal in every
# column. Tables whose codes cannot fit (1.4 M distinct indicator codes, 2 M declared codes) are
# sorted by Polars, whose multi-column sort breaks the first column's ties only where there are
# some; their entity column is sorted as its Enum.


_NO_CODES: np.ndarray[Any, Any] = np.zeros(0, np.uint64)


class _Coded:
    """A column as order-preserving codes, and how to hash the column from codes in sorted order."""

    def __init__(self, name: str, codes: np.ndarray[Any, Any], null: int, has_null: bool) -> None:
        self.name, self.codes, self.null, self.has_null = name, codes, null, has_null
        self.bits = max(int(null).bit_length(), 1)

    def valid(self, codes: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        if not self.has_null:
            return np.ones(codes.size, np.uint8)
        valid: np.ndarray[Any, Any] = (codes != self.null).view(np.uint8)
        return valid

    def parts(self, codes: np.ndarray[Any, Any]) -> _Parts:
        raise NotImplementedError


class _Table(_Coded):
    """Codes index a table of the values (numbers: the hashed value, 0 for the null code)."""

    def __init__(self, name: str, codes: np.ndarray[Any, Any], table: np.ndarray[Any, Any], tag: str,
                 has_null: bool) -> None:  # fmt: skip
        super().__init__(name, codes, table.size - 1, has_null)
        self.table, self.tag = table, tag

    def parts(self, codes: np.ndarray[Any, Any]) -> _Parts:
        return self.tag, [self.valid(codes), self.table[codes]]


class _Dictionary:
    """Sorted distinct strings (e.g. the entity ids) and what coding and hashing by them needs."""

    def __init__(self, values: pl.Series) -> None:
        self.size = values.len()
        self.enum = pl.Enum(values)
        self.values = pl.concat([values, pl.Series([None], dtype=pl.String)])  # the null code: one past
        self.lengths = _array(self.values.str.len_bytes().fill_null(0).cast(pl.UInt64), np.dtype("<u8").type)
        self._encoded: list[bytes] | None = None

    def encoded(self) -> list[bytes]:
        """Every value's UTF-8 bytes (b"" for the null code), made once."""
        if self._encoded is None:
            self._encoded = [v.encode() for v in self.values.to_list()[:-1]] + [b""]
        return self._encoded


class _Strings(_Coded):
    """Codes index a dictionary of the sorted distinct strings."""

    def __init__(
        self, name: str, codes: np.ndarray[Any, Any], dictionary: _Dictionary, has_null: bool
    ) -> None:
        super().__init__(name, codes, dictionary.size, has_null)
        self.dictionary = dictionary

    def parts(self, codes: np.ndarray[Any, Any]) -> _Parts:
        return "str", [self.valid(codes), self.dictionary.lengths[codes], self._joined(codes)]

    def _joined(self, codes: np.ndarray[Any, Any]) -> bytes:
        starts = np.flatnonzero(codes[1:] != codes[:-1]) + 1
        if starts.size * 8 > codes.size:
            return _joined(self.dictionary.values.gather(pl.Series(codes.astype(np.uint32))))
        # Few runs (a leading sorted column): repeat each run's bytes, no gather of every row.
        counts = np.diff(starts, prepend=0, append=codes.size).tolist()
        encoded = self.dictionary.encoded()
        firsts = codes[np.concatenate(([0], starts))].tolist()
        return b"".join([encoded[k] * c for k, c in zip(firsts, counts, strict=True)])


def _u64(series: pl.Series) -> np.ndarray[Any, Any]:
    return np.asarray(series.to_numpy(), dtype=np.uint64)


def _with_nulls(codes: pl.Series, series: pl.Series, null: int) -> np.ndarray[Any, Any]:
    """Return ``codes`` as uint64 with ``null`` where ``series`` is null."""
    if not series.null_count():
        return _u64(codes)
    return np.where(_array(series.is_null(), np.bool_), np.uint64(null), _u64(codes.fill_null(0)))


_ENUM_MAX = 1 << 18  # above this many distinct strings a binary search beats the Enum cast


def _code_strings(series: pl.Series, hint: _Dictionary | None) -> _Coded:
    """``hint``: the dictionary of e.g. the entity ids, if it covers the column; a value outside
    it falls back to finding the column's own distinct values. A ``pl.Enum`` column is coded
    from its physical codes (see :func:`_enum_codes`)."""
    if isinstance(series.dtype, pl.Enum):
        return _enum_codes(series, hint)
    nulls = series.null_count()
    if hint is None and series.len() > 1 << 20:
        # The distinct values of a sample of the rows, if they are all of them, save a pass.
        sample = series.gather_every(series.len() >> 14).unique().drop_nulls().sort()
        if sample.len() <= 1 << 10:
            hint = _Dictionary(sample)
    if hint is not None:
        physical = series.cast(hint.enum, strict=False).to_physical()
        if physical.null_count() == nulls:
            return _Strings(series.name, _with_nulls(physical, series, hint.size), hint, nulls > 0)
    values = series.unique().drop_nulls().sort()
    dictionary = _Dictionary(values)
    if values.len() <= _ENUM_MAX:
        physical = series.cast(dictionary.enum).to_physical()
    else:
        physical = values.search_sorted(series, side="left")
    return _Strings(series.name, _with_nulls(physical, series, dictionary.size), dictionary, nulls > 0)


def _enum_codes(series: pl.Series, hint: _Dictionary | None) -> _Coded:
    """Code an Enum column without its strings: its physical codes when its categories are the
    hint's (sorted) values, else through the rank of each category among the used ones."""
    categories = series.dtype.categories if isinstance(series.dtype, pl.Enum) else pl.Series(dtype=pl.String)
    nulls = series.null_count()
    physical = series.to_physical()
    if hint is not None and hint.size == categories.len() and hint.values.head(hint.size).equals(categories):
        return _Strings(series.name, _with_nulls(physical, series, hint.size), hint, nulls > 0)
    if categories.len() <= _ENUM_MAX and categories.is_sorted():
        # Sorted categories (an adapter's small Enums) are a dictionary as they are: unused
        # values change no byte (only present values are hashed).
        dictionary = _Dictionary(categories)
        return _Strings(series.name, _with_nulls(physical, series, dictionary.size), dictionary, nulls > 0)
    used = physical.unique().drop_nulls().sort()
    values = categories.gather(used)
    order = values.arg_sort()  # the used categories in string order
    dictionary = _Dictionary(values.gather(order))
    rank = np.zeros(categories.len(), np.uint64)
    rank[_array(used.gather(order).cast(pl.Int64), np.int64)] = np.arange(order.len(), dtype=np.uint64)
    codes = rank[_array(physical.fill_null(0).cast(pl.Int64), np.int64)]
    if nulls:
        codes[_array(series.is_null(), np.bool_)] = dictionary.size
    return _Strings(series.name, codes, dictionary, nulls > 0)


_SCALE = 100  # floats with at most two decimals (scores, weights) are coded as integers
_SPAN = 1 << 22
_EXACT = float(1 << 52)


def _code_floats(series: pl.Series) -> _Coded:
    """Code a canonical float column. Values that are exactly k/100 within a small span are coded
    as k - min (``(k + min) / 100`` gives back the very same double); others by their sorted
    distinct values."""
    nulls = series.null_count()
    values = series.to_numpy()  # NaN for null (canonical: there is no other NaN)
    present = values if not nulls else values[~np.isnan(values)]
    if present.size:
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = np.multiply(present, _SCALE)
            np.rint(scaled, out=scaled)
            low, high = scaled.min(), scaled.max()
            # Integers below 2**52: k - min and (k + min) / 100 are exact.
            small = low > -_EXACT and high < _EXACT and high - low < _SPAN
            exact = small and np.array_equal(scaled / _SCALE, present)
        if exact:
            table = np.empty(int(high - low) + 2, np.dtype("<f8"))
            table[:-1] = (np.arange(table.size - 1) + low) / _SCALE
            table[-1] = 0.0
            if nulls:
                scaled = np.rint(values * _SCALE)
            np.subtract(scaled, low, out=scaled)
            if nulls:
                np.copyto(scaled, table.size - 1, where=np.isnan(scaled))
            return _Table(series.name, scaled.astype(np.uint64), table, "f64", nulls > 0)
    distinct = series.unique().drop_nulls().sort()
    table = np.append(distinct.to_numpy(), 0.0).astype(np.dtype("<f8"))
    codes = _with_nulls(distinct.search_sorted(series, side="left"), series, distinct.len())
    return _Table(series.name, codes, table, "f64", nulls > 0)


def _code_ints(series: pl.Series) -> _Coded:
    nulls = series.null_count()
    series = series.cast(pl.Int64)
    low, high = series.min(), series.max()
    if low is None or high is None:
        return _Table(
            series.name, np.zeros(series.len(), np.uint64), np.zeros(1, np.dtype("<i8")), "i64", True
        )
    assert isinstance(low, int) and isinstance(high, int)
    if high - low < _SPAN and low > -(2**62) and high < 2**62:  # high + 1 (the null) fits int64
        table = np.append(np.arange(low, high + 1, dtype=np.int64), 0).astype(np.dtype("<i8"))
        codes = _u64(series.fill_null(high + 1) - low)
        return _Table(series.name, codes, table, "i64", nulls > 0)
    distinct = series.unique().drop_nulls().sort()
    table = np.append(distinct.to_numpy(), 0).astype(np.dtype("<i8"))
    codes = _with_nulls(distinct.search_sorted(series, side="left"), series, distinct.len())
    return _Table(series.name, codes, table, "i64", nulls > 0)


def _code(series: pl.Series, hint: _Dictionary | None) -> _Coded:
    """Return the column's order-preserving codes (its floats canonical, as ``full_frame`` gives)."""
    tag = _tag(series.name, series.dtype)
    if tag == "f64":
        return _code_floats(series.cast(pl.Float64))
    if tag == "i64":
        return _code_ints(series)
    if tag == "bool":
        codes = _u64(series.cast(pl.UInt8).fill_null(2))
        return _Table(series.name, codes, np.array([0, 1, 0], np.uint8), "bool", series.null_count() > 0)
    return _code_strings(series if isinstance(series.dtype, pl.Enum) else series.cast(pl.String), hint)


def _pack(coded: Sequence[_Coded]) -> tuple[np.ndarray[Any, Any], list[int]]:
    """Pack the codes into one uint64 per row, first column in the high bits; return the shifts.
    The columns' own codes are dropped (a province's ratings: 80 MB a column)."""
    shifts, shift = [], 0
    for c in reversed(coded):
        shifts.append(shift)
        shift += c.bits
    shifts.reverse()
    word = np.zeros(coded[0].codes.size, np.uint64)
    for c, s in zip(coded, shifts, strict=True):
        np.bitwise_or(word, c.codes << np.uint64(s) if s else c.codes, out=word)
        c.codes = _NO_CODES
    return word, shifts


def _field(word: np.ndarray[Any, Any], shift: int, bits: int, top: bool) -> np.ndarray[Any, Any]:
    """The bit field of every word (``top``: the highest field, nothing above it to mask)."""
    field: np.ndarray[Any, Any] = np.right_shift(word, np.uint64(shift))
    if not top:
        np.bitwise_and(field, np.uint64((1 << bits) - 1), out=field)
    return field


Hints = Mapping[str, _Dictionary]
_CODERS = 4  # threads coding one table's columns


def _estimated_bits(series: pl.Series, hint: _Dictionary | None) -> int:
    """A cheap estimate of the column's code width, from the distinct values of a sample."""
    if series.dtype == pl.Boolean:
        return 2
    if hint is not None:
        return hint.size.bit_length()
    sample = series.gather_every(max(series.len() >> 16, 1))
    distinct = sample.n_unique()
    if distinct * 8 > sample.len():
        return series.len().bit_length() + 1
    return (distinct * 4 + 2).bit_length()


def _sorted_columns(frame: pl.DataFrame, hints: Hints) -> Iterator[tuple[str, _Parts]]:
    """Yield the hashed form of every column of ``frame`` sorted by all its columns (nulls last)."""
    n = frame.height
    if n < 2:
        for series in frame.iter_columns():
            yield series.name, _parts(series)
        return
    columns = frame.get_columns()
    if sum(_estimated_bits(series, hints.get(series.name)) for series in columns) <= 64:
        # The columns are coded side by side (10 M ratings: four columns of ~0.15 s each).
        with ThreadPoolExecutor(max_workers=min(len(columns), _CODERS)) as pool:
            coded = list(pool.map(lambda series: _code(series, hints.get(series.name)), columns))
        if sum(c.bits for c in coded) <= 64:
            yield from _decoded(coded, _pack(coded))
            return
        del coded
    yield from _multisorted(frame, hints)


def _decoded(
    coded: Sequence[_Coded], packed: tuple[np.ndarray[Any, Any], list[int]]
) -> Iterator[tuple[str, _Parts]]:
    """Sort the packed words; yield every column decoded from its bit field (the sorted table)."""
    word, shifts = packed
    word.sort()
    for i, (c, s) in enumerate(zip(coded, shifts, strict=True)):
        yield c.name, c.parts(_field(word, s, c.bits, i == 0))


def _multisorted(frame: pl.DataFrame, hints: Hints) -> Iterator[tuple[str, _Parts]]:
    """The table sorted by Polars (a multi-column sort breaks the ties of the first column only
    where there are some): for tables whose codes do not fit one word, e.g. 1.4 M distinct
    indicator codes. A hinted column is sorted as its Enum (the hint is in sorted order)."""
    keys, enums = [], {}
    for series in frame.iter_columns():
        hint = hints.get(series.name)
        if isinstance(series.dtype, pl.Enum) and not (hint is not None and series.dtype == hint.enum):
            series = series.cast(pl.String)  # sorted by its text, as the digest specifies
        if hint is not None and series.dtype == hint.enum:
            enums[series.name] = hint
        elif hint is not None and series.dtype == pl.String:
            enum = series.cast(hint.enum, strict=False)
            if enum.null_count() == series.null_count():
                enums[series.name] = hint
                series = enum
        keys.append(series)
    columns = pl.DataFrame(keys).sort(frame.columns, nulls_last=True).get_columns()
    del keys
    while columns:
        series = columns.pop(0)  # each sorted column is let go once hashed
        dictionary = enums.get(series.name)
        if dictionary is None:
            yield series.name, _parts(series)
            continue
        physical = series.to_physical()
        coded = _Strings(
            series.name, _with_nulls(physical, series, dictionary.size), dictionary, series.null_count() > 0
        )
        yield series.name, coded.parts(coded.codes)


class _Ahead:
    """The columns of one sorted table, prepared in a thread of its own a few columns ahead of
    the reader, so that the big tables are sorted side by side (Polars and NumPy release the GIL)
    while the stream is hashed in order. ``cancel`` stops a producer whose reader gave up."""

    def __init__(self, columns: Callable[[], Iterator[tuple[str, _Parts]]], depth: int = 1) -> None:
        self._queue: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(columns,), name="digest-table", daemon=True)
        self._thread.start()

    def _run(self, columns: Callable[[], Iterator[tuple[str, _Parts]]]) -> None:
        try:
            for column in columns():
                if not self._put((True, column)):
                    return
            self._put((False, None))
        except BaseException as exc:  # re-raised in the reader
            self._put((False, exc))

    def _put(self, entry: tuple[bool, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[tuple[str, _Parts]]:
        while True:
            more, item = self._queue.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item

    def cancel(self) -> None:
        self._stop.set()


def _write_table(
    stream: _Stream, name: str, width: int, height: int, columns: Iterable[tuple[str, _Parts]]
) -> None:
    stream.text(name)
    stream.count(width)
    stream.count(height)
    for column, parts in columns:
        _write(stream, column, parts)


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
    units, officials = _entities(inp.units, inp.officials)
    ids = pl.concat([units.get_column("id"), officials.get_column("id")]).sort()
    hints = {"entity": _Dictionary(ids)} if ids.n_unique() == ids.len() else {}
    tables: list[tuple[str, pl.DataFrame, Hints]] = [("units", units, {}), ("officials", officials, {})]
    tables += [
        (name, full_frame(getattr(inp.facts, name), cols), hints) for name, cols in V1_FACT_TABLES.items()
    ]
    # Version 2 input (zones, declared leaves, routine reports): three more tables, only when one
    # of them has a row, so that an input without them keeps its version 1 digest.
    tail = [("unit_zones", _zones(inp.units), {}), ("declared", full_frame(inp.declared, DECLARED_COLUMNS), hints),
            ("routine", full_frame(inp.facts.routine, ROUTINE_COLUMNS), hints)]  # fmt: skip
    if any(frame.height for _, frame, _ in tail):
        tables += tail
    stream = _Stream(threaded=True)
    ahead = [_Ahead(functools.partial(_sorted_columns, frame, h)) for _, frame, h in tables]
    try:
        stream.text(INPUT_TAG)
        stream.text(DIGEST_SCHEME)
        stream.blob(_json({"cycle": dict(cycle or {}), "scheme": scheme_raw}))
        for (name, frame, _), columns in zip(tables, ahead, strict=True):
            _write_table(stream, name, frame.width, frame.height, columns)
    finally:
        for producer in ahead:
            producer.cancel()
        stream.close()
    return stream.hexdigest()


def _zones(units: Units) -> pl.DataFrame:
    """Return (id, zone) of the units that have a zone (non-empty)."""
    zone = np.asarray(units.zone)
    if zone.size == 0:
        return pl.DataFrame(schema=ZONE_COLUMNS)
    frame = pl.DataFrame({"id": pl.Series(np.asarray(units.id).tolist(), dtype=pl.String),
                          "zone": pl.Series(zone.tolist(), dtype=pl.String)})  # fmt: skip
    return frame.filter(pl.col("zone").is_not_null() & (pl.col("zone") != ""))


def results_digest(results: Results) -> str:
    """Return the hex SHA-256 of a run's results (every frame as it is, then the decisions).

    The explanations are not hashed: they are a deterministic function of the results and the
    scheme, which the input digest covers.
    """
    frames = [getattr(results, name) for name in RESULT_FRAMES]
    # The frames' columns are prepared in threads while the decisions' JSON is built and the
    # stream is hashed in its own thread (a province: ~1 GB of columns, 108,000 decisions).
    ahead = [_Ahead(functools.partial(_plain_columns, frame)) for frame in frames]
    stream = _Stream(threaded=True)
    try:
        stream.text(RESULTS_TAG)
        stream.text(DIGEST_SCHEME)
        stream.blob(_json({
            "decisions": dict(results.decisions), "engine_version": results.engine_version,
            "score_decimals": results.score_decimals,
        }))  # fmt: skip
        for name, frame, columns in zip(RESULT_FRAMES, frames, ahead, strict=True):
            _write_table(stream, name, frame.width, frame.height, columns)
    finally:
        for producer in ahead:
            producer.cancel()
        stream.close()
    return stream.hexdigest()


def _plain_columns(frame: pl.DataFrame) -> Iterator[tuple[str, _Parts]]:
    for series in frame.iter_columns():
        yield series.name, _parts(series)


def canonical_facts(facts: Facts) -> Facts:
    """Return ``facts`` with every table in its full declared columns and dtypes (``full_frame``),
    the version 2 table ``routine`` included."""
    return Facts(**{name: full_frame(getattr(facts, name), cols) for name, cols in FACT_TABLES.items()})


__all__ = ["DIGEST_SCHEME", "FACT_TABLES", "V1_FACT_TABLES", "canonical_facts", "full_frame", "input_digest",
           "results_digest"]  # fmt: skip
