"""Pagination that keeps the other query parameters, and keyset pages for lists of millions of rows.

``paginate`` counts every row (``COUNT(*)``): right for lists of thousands. A list over the facts
of a province (10 million ratings) cannot count on every request: ``KeysetPage`` carries one page
of rows, the cursor of the next page and a total that is an estimate beyond ``EXACT_BELOW`` rows
(PostgreSQL's planner estimate, shown as "约 1,050 万条"), exact below it or on another database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

T = TypeVar("T")
# Below this many rows (by the planner's estimate) the list is counted exactly: a few milliseconds.
EXACT_BELOW = 10_000


def paginate(request: HttpRequest, items: Any, *, per_page: int = 25) -> Page[Any]:
    """Return the requested page; an out-of-range or junk page number yields the nearest page."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    """One page of a list read after a cursor: ``next_after`` is the cursor of the next page
    (``None`` on the last), ``total`` the number of rows of the whole list, ``approximate`` when
    it is the planner's estimate rather than a count (``None`` when not counted at all)."""

    rows: list[T]
    next_after: str | None
    is_first: bool
    total: int | None  # None: not known (not counted)
    approximate: bool

    @property
    def total_text(self) -> str:
        """The total for people: "共 1,234 条", or "约 1,050 万条" for an estimate ("" unknown)."""
        if self.total is None:
            return ""
        if self.approximate:
            if self.total >= 10_000:
                return _("约 %(n)s 万条") % {"n": f"{round(self.total / 10_000):,}"}
            return _("约 %(n)s 条") % {"n": f"{self.total:,}"}
        return _("共 %(n)s 条") % {"n": f"{self.total:,}"}

    def __iter__(self) -> Iterator[T]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def estimated_count(queryset: QuerySet[Any, Any], *, exact_below: int = EXACT_BELOW) -> tuple[int, bool]:
    """(rows of ``queryset``, whether the number is an estimate). On PostgreSQL the planner's
    estimate (``EXPLAIN``, no row read) when it is ``exact_below`` or more; else ``count()``."""
    connection = connections[queryset.db]
    if connection.vendor == "postgresql":
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        estimate = int(plan[0]["Plan"]["Plan Rows"])
        if estimate >= exact_below:
            return estimate, True
    return queryset.count(), False
