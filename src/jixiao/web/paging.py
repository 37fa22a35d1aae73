"""Pagination that keeps the other query parameters."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest


def paginate(request: HttpRequest, items: Any, *, per_page: int = 25) -> Page[Any]:
    """Return the requested page; an out-of-range or junk page number yields the nearest page."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))
