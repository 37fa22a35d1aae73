"""Typed readers for scheme parameters: every reader names the offending place and key.

Scheme data arrives as JSON-able dicts; these helpers turn a bad value into a
:class:`SchemeError` that says which indicator / category / rule and which key, instead of a
``KeyError`` deep inside the engine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from jixiao.scoring.errors import SchemeError


def number(where: str, params: Mapping[str, Any], key: str, default: float | None = None) -> float:
    """Return ``params[key]`` as a finite float (or ``default`` when absent and a default exists)."""
    if key not in params or params[key] is None:
        if default is None:
            raise SchemeError(where, f"parameter {key!r} is required", param=key, problem="required")
        return default
    value = params[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SchemeError(
            where, f"parameter {key!r} must be a finite number, got {value!r}", param=key, problem="number"
        )
    return float(value)


def optional_number(where: str, params: Mapping[str, Any], key: str) -> float | None:
    """Return ``params[key]`` as a float, or None when absent or null."""
    if params.get(key) is None:
        return None
    return number(where, params, key)


def non_negative(where: str, params: Mapping[str, Any], key: str, default: float | None = None) -> float:
    """Return ``params[key]`` as a float ≥ 0."""
    value = number(where, params, key, default)
    if value < 0:
        raise SchemeError(
            where, f"parameter {key!r} must be ≥ 0, got {value!r}", param=key, problem="negative"
        )
    return value


def share(where: str, params: Mapping[str, Any], key: str, default: float | None = None) -> Fraction:
    """Return a share in [0, 1] as an exact Fraction.

    Accepts a number (``0.15`` is read through its decimal text, so it is exactly 3/20) or a
    string ``"1/3"`` so that thresholds such as "more than one third" stay exact.
    """
    raw = params.get(key)
    if raw is None:
        if default is None:
            raise SchemeError(where, f"parameter {key!r} is required", param=key, problem="required")
        return Fraction(str(default))
    try:
        if isinstance(raw, bool):
            raise ValueError
        if isinstance(raw, str):
            value = Fraction(raw)
        elif isinstance(raw, int | float) and math.isfinite(raw):
            value = Fraction(str(raw))
        else:
            raise ValueError
    except (ValueError, ZeroDivisionError):
        raise SchemeError(
            where, f"parameter {key!r} must be a number or 'a/b', got {raw!r}", param=key, problem="number"
        ) from None
    if not 0 <= value <= 1:
        raise SchemeError(
            where, f"parameter {key!r} must lie in [0, 1], got {raw!r}", param=key, problem="share"
        )
    return value


def flag(where: str, params: Mapping[str, Any], key: str, default: bool) -> bool:
    """Return ``params[key]`` as a bool."""
    value = params.get(key, default)
    if not isinstance(value, bool):
        raise SchemeError(
            where, f"parameter {key!r} must be true or false, got {value!r}", param=key, problem="bool"
        )
    return value


def text(where: str, params: Mapping[str, Any], key: str, default: str | None = None) -> str:
    """Return ``params[key]`` as a non-empty string."""
    value = params.get(key, default)
    if not isinstance(value, str) or not value:
        raise SchemeError(
            where, f"parameter {key!r} must be a non-empty string, got {value!r}", param=key, problem="text"
        )
    return value


def optional_text(where: str, params: Mapping[str, Any], key: str) -> str | None:
    """Return ``params[key]`` as a string, or None when absent or null."""
    if params.get(key) is None:
        return None
    return text(where, params, key)


def choice(where: str, params: Mapping[str, Any], key: str, allowed: Sequence[str], default: str) -> str:
    """Return ``params[key]``, which must be one of ``allowed``."""
    value = params.get(key, default)
    if value not in allowed:
        raise SchemeError(
            where,
            f"parameter {key!r} must be one of {list(allowed)}, got {value!r}",
            param=key,
            problem="choice",
        )
    return str(value)


def mapping(where: str, params: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """Return ``params[key]`` as a dict (empty when absent)."""
    value = params.get(key, {})
    if not isinstance(value, Mapping):
        raise SchemeError(
            where, f"parameter {key!r} must be an object, got {value!r}", param=key, problem="object"
        )
    return value


def sequence(where: str, params: Mapping[str, Any], key: str) -> Sequence[Any]:
    """Return ``params[key]`` as a list (empty when absent)."""
    value = params.get(key, [])
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise SchemeError(
            where, f"parameter {key!r} must be a list, got {value!r}", param=key, problem="list"
        )
    return value


def weight_map(
    where: str, params: Mapping[str, Any], key: str, positive_total: bool = True
) -> dict[str, float]:
    """Return ``params[key]`` as ``{code: weight}`` with weights ≥ 0 (and a positive total)."""
    raw = mapping(where, params, key)
    out: dict[str, float] = {}
    for code, _ in sorted(raw.items()):
        out[str(code)] = non_negative(f"{where}.{key}", raw, code)
    if positive_total and out and sum(out.values()) <= 0:
        raise SchemeError(where, f"weights in {key!r} must not all be zero", param=key, problem="all_zero")
    return out


def known_keys(where: str, params: Mapping[str, Any], allowed: Sequence[str]) -> None:
    """Reject unknown keys, so that a misspelt parameter is not silently ignored."""
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise SchemeError(
            where,
            f"unknown parameter(s) {unknown}; allowed: {sorted(allowed)}",
            param=unknown[0],
            problem="unknown",
        )


def grade_points(where: str, raw: object) -> dict[str, float]:
    """Return ``raw`` as ``{label: points}`` with finite points in 0..100 (SchemeError otherwise)."""
    if not isinstance(raw, Mapping) or not raw:
        raise SchemeError(where, "'grade_points' must map at least one grade label to points 0–100",
                          param="grade_points", problem="empty")  # fmt: skip
    out: dict[str, float] = {}
    for label, points in sorted(raw.items()):
        bad = isinstance(points, bool) or not isinstance(points, int | float)
        if bad or not math.isfinite(points) or not 0 <= points <= 100:
            raise SchemeError(where, f"grade_points[{label!r}] must be a number in 0..100, got {points!r}",
                              param="grade_points", problem="points")  # fmt: skip
        out[str(label)] = float(points)
    return out
