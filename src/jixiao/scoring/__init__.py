"""Jixiao scoring core: pure, columnar, no Django.

Entry point: :func:`jixiao.scoring.engine.compute` takes a :class:`~jixiao.scoring.types.CycleInput`
and returns :class:`~jixiao.scoring.types.Results`. :mod:`jixiao.scoring.bundle` converts a
JSON-able cycle bundle to and from those types. See docs/scoring.md.
"""

from __future__ import annotations

ENGINE_VERSION = "1.2.0"  # 1.2: declared leaves, zone weights, routine components, low_ambition ceiling

__all__ = ["ENGINE_VERSION"]
