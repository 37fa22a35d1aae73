"""The generator's context and step type: what every step receives and how it writes rows.

Determinism: a step never touches the global ``random`` module; it asks the context for its own
``random.Random`` seeded from the run's seed and the step's name, so adding a step later does not
change what earlier steps produce. Primary keys are allocated here (max existing + 1) so that
parents and children can be written in one bulk insert without reading ids back.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple, TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)

# Large batches keep round trips few; Django lowers the size on SQLite to fit its variable limit.
BATCH_SIZE = 5000
# The generated world is "as of" this date: current tenures started before it.
REFERENCE_DATE = date(2025, 1, 1)


@dataclass(frozen=True)
class Scale:
    """How big the generated world is."""

    name: str
    prefectures: int
    counties_per_prefecture: int
    departments_per_prefecture: int  # prefecture departments taken from catalog.DEPARTMENTS (≤ 94)
    units: int  # total units; what counties and prefecture departments leave is county departments
    officials: int  # total official rows, retired predecessors included


SCALES: dict[str, Scale] = {
    "tiny": Scale("tiny", 1, 2, 7, 9, 110),
    "prefecture": Scale("prefecture", 1, 8, 94, 102, 1700),
    "province": Scale("province", 14, 8, 94, 10_000, 100_000),
}


class UnitRow(NamedTuple):
    """A generated unit, kept for later steps (results, ballots …) without re-reading the database."""

    id: int
    code: str
    name: str
    category: str  # category code
    kind: str  # county | prefecture_dept | county_dept
    region_id: int


class OfficialRow(NamedTuple):
    id: int
    unit_id: int
    layer: str
    is_active: bool


@dataclass
class Context:
    """State shared by the steps of one generator run."""

    seed: int
    scale: Scale
    using: str = "default"
    log: Callable[[str], None] = lambda message: None
    # Optional parts a step may be asked for (``jixiao generate --tracking`` adds "tracking").
    flags: frozenset[str] = frozenset()
    ids: dict[str, dict[Any, int]] = field(default_factory=dict)
    units: list[UnitRow] = field(default_factory=list)
    officials: list[OfficialRow] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    timings: dict[str, float] = field(default_factory=dict)
    touched: set[type[models.Model]] = field(default_factory=set)
    _next_id: dict[type[models.Model], int] = field(default_factory=dict)

    def rng(self, name: str) -> random.Random:
        """Return a generator seeded by the run's seed and ``name`` (stable across Python runs)."""
        return random.Random(f"jixiao-demo:{self.seed}:{name}")

    def id_map(self, name: str) -> dict[Any, int]:
        """Return the named id map (created empty on first use)."""
        return self.ids.setdefault(name, {})

    def allocate(self, model: type[models.Model], count: int) -> range:
        """Reserve ``count`` primary keys for ``model`` and return them."""
        if model not in self._next_id:
            top = model._default_manager.using(self.using).aggregate(top=models.Max("pk"))["top"]
            self._next_id[model] = (top or 0) + 1
        start = self._next_id[model]
        self._next_id[model] = start + count
        return range(start, start + count)

    def insert(self, model: type[M], rows: Iterable[M]) -> int:
        """Bulk-insert ``rows`` (no save(), no signals, no audit) and return how many were written."""
        written = 0
        chunk: list[M] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= BATCH_SIZE * 4:
                written += self._flush(model, chunk)
                chunk = []
        if chunk:
            written += self._flush(model, chunk)
        return written

    def _flush(self, model: type[M], chunk: Sequence[M]) -> int:
        model._default_manager.using(self.using).bulk_create(chunk, batch_size=BATCH_SIZE)
        self.counts[model._meta.label] += len(chunk)
        self.touched.add(model)
        return len(chunk)


@dataclass(frozen=True)
class Step:
    """A named generator step; ``run`` reads and extends the context."""

    name: str
    run: Callable[[Context], None]
    description: str = ""
