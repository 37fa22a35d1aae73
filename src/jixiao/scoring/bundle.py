"""The cycle bundle: a self-contained, JSON-able dict of one cycle's scheme, entities and facts.

Format (docs/bundle.schema.json is the JSON Schema)::

    {"format": "jixiao.cycle-bundle", "version": 2,
     "cycle": {...free metadata: code, name, year...},
     "scheme": {...see scheme.py / docs/scoring.md...},
     "units": {"id": [...], "category": [...], "zone": [...]},
     "officials": {"id": [...], "unit": [...], "layer": [...], "category": [...]},
     "declared": {"entity": [...], "code": [...], "parent": [...], "weight": [...], ...},
     "facts": {"indicator_results": {column: [...]}, "ratings": {...}, "votes": {...},
               "adjustments": {...}, "previous": {...}, "routine": {...}}}

Version 1 (no ``units.zone``, ``declared`` or ``facts.routine``) is still read.

Tables are columnar (one list per column, equal lengths) so that ten million ratings stay compact.
``canonical_json`` (sorted keys, no spaces, UTF-8, no NaN) and ``digest`` (SHA-256 of it) serve
small dicts; a run's ``bundle_digest`` and ``results_digest`` are the columnar digests of
``digests.py`` over the typed input and results, so the database path (frames, no JSON) and an
exported bundle give the same digests. ``results_to_dict`` is deterministic, so the same bundle
always gives byte-identical results JSON.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from jixiao.scoring.digests import DIGEST_SCHEME, canonical_facts, full_frame, input_digest, results_digest
from jixiao.scoring.engine import compute
from jixiao.scoring.errors import BundleError, ScoringError
from jixiao.scoring.explain import explain_all_with, finite, gc_paused
from jixiao.scoring.scheme import Scheme, parse_scheme
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

FORMAT = "jixiao.cycle-bundle"
RESULTS_FORMAT = "jixiao.cycle-results"
VERSION = 2  # 2: units.zone, declared leaves, facts.routine (docs/scoring.md "Bundle")
READ_VERSIONS = (1, 2)
RESULTS_VERSION = 2  # 2: bundle_digest / results_digest are columnar (digests.py), named by "digest"
FACT_TABLES: dict[str, dict[str, pl.DataType]] = {
    "indicator_results": INDICATOR_RESULT_COLUMNS, "ratings": RATING_COLUMNS, "votes": VOTE_COLUMNS,
    "adjustments": ADJUSTMENT_COLUMNS, "previous": PREVIOUS_COLUMNS, "routine": ROUTINE_COLUMNS,
}  # fmt: skip
V2_ONLY = ("routine",)
REQUIRED: dict[str, tuple[str, ...]] = {
    "indicator_results": ("entity", "indicator"), "ratings": ("entity", "group", "item", "score"),
    "votes": ("entity", "label", "count"), "adjustments": ("entity", "kind"), "previous": ("entity",),
    "routine": ("entity", "period", "grade"),
}  # fmt: skip


def _table(
    where: str, raw: Any, columns: Mapping[str, pl.DataType], required: tuple[str, ...]
) -> pl.DataFrame:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise BundleError(where, "must be an object of columns (lists)")
    unknown = sorted(set(raw) - set(columns))
    if unknown:
        raise BundleError(where, f"unknown column(s) {unknown}; allowed: {sorted(columns)}")
    lengths = {len(v) if isinstance(v, list) else -1 for v in raw.values()}
    if -1 in lengths or len(lengths) > 1:
        raise BundleError(where, "every column must be a list, all of the same length")
    if raw and (missing := [c for c in required if c not in raw]):
        raise BundleError(where, f"missing column(s) {missing}")
    try:
        return pl.DataFrame({c: pl.Series(c, raw[c], dtype=t) for c, t in columns.items() if c in raw},
                            schema={c: t for c, t in columns.items() if c in raw} or None)  # fmt: skip
    except (TypeError, pl.exceptions.PolarsError) as exc:
        raise BundleError(where, f"column of the wrong type: {exc}") from None


def _strings(where: str, raw: Mapping[str, Any], name: str) -> np.ndarray[Any, np.dtype[np.str_]]:
    values = raw.get(name, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise BundleError(f"{where}.{name}", "must be a list of strings")
    return np.array(values, dtype=np.str_)


def load_bundle(bundle: Mapping[str, Any]) -> CycleInput:
    """Validate a bundle dict (already parsed from JSON) and return the typed engine input."""
    if not isinstance(bundle, Mapping) or bundle.get("format") != FORMAT:
        raise BundleError("bundle", f"'format' must be {FORMAT!r}")
    version = bundle.get("version")
    if version not in READ_VERSIONS or isinstance(version, bool):
        raise BundleError(
            "bundle", f"unsupported version {version!r}; this engine reads {list(READ_VERSIONS)}"
        )
    keys = {"format", "version", "cycle", "scheme", "units", "officials", "facts"}
    unknown = sorted(set(bundle) - (keys | {"declared"} if version >= 2 else keys))
    if unknown:
        raise BundleError("bundle", f"unknown key(s) {unknown} (for version {version})")
    scheme = parse_scheme(bundle.get("scheme", {}))
    units, officials = bundle.get("units", {}), bundle.get("officials", {})
    if not isinstance(units, Mapping) or not isinstance(officials, Mapping):
        raise BundleError("bundle", "'units' and 'officials' must be objects of columns")
    facts_raw = bundle.get("facts", {})
    allowed = [t for t in FACT_TABLES if version >= 2 or t not in V2_ONLY]
    if not isinstance(facts_raw, Mapping) or set(facts_raw) - set(allowed):
        raise BundleError(
            "facts", f"must be an object with tables among {sorted(allowed)} (version {version})"
        )
    tables = {name: _table(f"facts.{name}", facts_raw.get(name), cols, REQUIRED[name])
              for name, cols in FACT_TABLES.items()}  # fmt: skip
    unit_columns = {"id", "category", "zone"} if version >= 2 else {"id", "category"}
    if set(units) - unit_columns:
        raise BundleError(
            "units", f"unknown column(s) {sorted(set(units) - unit_columns)} (version {version})"
        )
    declared = _table("declared", bundle.get("declared"), DECLARED_COLUMNS,
                      ("entity", "code", "parent", "weight", "component", "rule"))  # fmt: skip
    zone = _strings("units", units, "zone") if "zone" in units else np.array([], dtype=np.str_)
    unit_ids = _strings("units", units, "id")
    if zone.size and zone.shape != unit_ids.shape:
        raise BundleError("units.zone", "must have one value per unit")
    return cycle_input(
        scheme,
        Units(unit_ids, _strings("units", units, "category"), zone),
        Officials(*(_strings("officials", officials, c) for c in ("id", "unit", "layer", "category"))),
        Facts(**tables),
        declared,
    )


def cycle_input(
    scheme: Scheme | Mapping[str, Any], units: Units, officials: Officials, facts: Facts,
    declared: pl.DataFrame | None = None,
) -> CycleInput:  # fmt: skip
    """Return the engine input from a scheme (parsed or its dict), entities, fact frames and the
    entities' declared leaves (``DECLARED_COLUMNS``; None = none).

    Every fact table (and ``declared``) is brought to its full declared columns and dtypes with
    canonical floats (``digests.full_frame``: NaN/±inf → null, -0.0 → 0.0), so that frames read
    from the database and frames loaded from an exported bundle are identical, column for column.
    """
    parsed = scheme if isinstance(scheme, Scheme) else parse_scheme(scheme)
    table = full_frame(declared if declared is not None else pl.DataFrame(), DECLARED_COLUMNS)
    return CycleInput(scheme=parsed, units=units, officials=officials, facts=canonical_facts(facts),
                      declared=table)  # fmt: skip


_PLAIN = frozenset({str, int, bool, type(None)})  # JSON scalars that never need cleaning
_NUMBERS = frozenset({float, int, bool, type(None)})


def _finite(x: float) -> bool:
    return x - x == 0.0  # False for NaN and ±inf; math.isfinite without the call


def _clean_list(value: list[Any]) -> list[Any]:
    types = set(map(type, value))  # one C-speed pass decides the common homogeneous cases
    if types <= _PLAIN:
        return value
    if types <= _NUMBERS:
        try:
            # A finite sum proves every float finite (NaN and inf propagate); zeros and None are
            # filtered out. On overflow fall through to the element-wise check.
            if float not in types or math.isfinite(sum(filter(None, value))):
                return value
        except OverflowError:
            pass
        return [x if type(x) is not float or _finite(x) else None for x in value]
    out: list[Any] | None = None
    for i, v in enumerate(value):
        c = _clean(v)
        if out is None:
            if c is v:
                continue
            out = value[:i]
        out.append(c)
    return value if out is None else out


def _clean_dict(value: dict[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] | None = None
    for i, (k, v) in enumerate(value.items()):
        t = type(v)  # scalars inline: explanations hold millions of small dicts
        plain = t is str or t is int or t is bool or v is None or (t is float and _finite(v))
        c = v if plain else _clean(v)
        if out is None:
            if c is v and type(k) is str:
                continue
            out = {kk: vv for kk, vv in itertools.islice(value.items(), i)}  # clean so far
        out[str(k)] = c
    return value if out is None else out


def _clean(value: Any) -> Any:
    """Make a value canonical-JSON safe: NaN/inf → None, numpy scalars → Python, keys → str.

    Parts that are already canonical (dicts with str keys, lists) are returned as they are, not
    copied: a province bundle holds 10 M ratings and a results dict millions of rows.
    """
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return value
    if t is float:
        return value if _finite(value) else None
    if t is list:
        return _clean_list(value)
    if t is dict:
        return _clean_dict(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Mapping):
        return _clean_dict(dict(value)) if not isinstance(value, dict) else _clean_dict(value)
    if isinstance(value, list | tuple):
        return _clean_list(list(value))
    return value


def _columns(frame: pl.DataFrame) -> dict[str, list[Any]]:
    return {s.name: s.to_list() for s in finite(frame).iter_columns()}


def results_to_dict(results: Results, scheme: Scheme, explanations: bool = True) -> dict[str, Any]:
    """Return the results as a JSON-able dict (columnar tables, optional per-entity explanations)."""
    out: dict[str, Any] = {
        "format": RESULTS_FORMAT, "version": RESULTS_VERSION, "engine_version": results.engine_version,
        "score_decimals": results.score_decimals,
        "entities": _columns(results.entities), "components": _columns(results.components),
        "indicators": _columns(results.indicators), "raters": _columns(results.raters),
        "adjustments": _columns(results.adjustments), "decisions": _clean(dict(results.decisions)),
    }  # fmt: skip
    if explanations:
        out["explanations"] = explain_all_with(results, scheme, _clean, columns=out)
    return out


def _dumps(value: Any) -> bytes:
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise BundleError("canonical_json", f"value is not JSON-able: {exc}") from None
    return text.encode("utf-8")


def canonical_json(value: Any) -> bytes:
    """Return the canonical UTF-8 JSON of ``value``: sorted keys, no spaces, no NaN."""
    with gc_paused():  # json.dumps(sort_keys=True) allocates an item list per dict
        return _dumps(_clean(value))


def digest(value: Any) -> str:
    """Return the hex SHA-256 of ``canonical_json(value)``."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def bundle_digest(bundle: Mapping[str, Any]) -> str:
    """Return the input digest of a bundle dict (``digests.input_digest`` of ``load_bundle``)."""
    cycle = bundle.get("cycle") or {}
    if not isinstance(cycle, Mapping):
        raise BundleError("cycle", "must be an object")
    return input_digest(load_bundle(bundle), bundle.get("scheme", {}), cycle)


def compute_bundle(bundle: Mapping[str, Any], explanations: bool = True) -> dict[str, Any]:
    """Load, compute and serialise: bundle dict → results dict (with the digests of both).

    ``bundle_digest`` is ``digests.input_digest`` of the loaded input (with the bundle's scheme
    dict and ``cycle`` metadata), ``results_digest`` is ``digests.results_digest``; ``digest``
    names the scheme (``DIGEST_SCHEME``).
    """
    with gc_paused():
        inp = load_bundle(bundle)
        cycle = bundle.get("cycle") or {}
        if not isinstance(cycle, Mapping):
            raise BundleError("cycle", "must be an object")
        results = compute(inp)
        out = results_to_dict(results, inp.scheme, explanations)
        out["bundle_digest"] = input_digest(inp, bundle.get("scheme", {}), cycle)
        out["results_digest"] = results_digest(results)
        out["digest"] = DIGEST_SCHEME
    return out


__all__ = [
    "FORMAT", "READ_VERSIONS", "RESULTS_VERSION", "VERSION", "BundleError", "ScoringError", "bundle_digest", "canonical_json",
    "compute_bundle",
    "cycle_input", "digest", "input_digest", "load_bundle", "results_digest", "results_to_dict",
]  # fmt: skip
