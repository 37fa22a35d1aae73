"""The two vendor spellings of "one row per JSON object entry / array element" in a FROM clause.

PostgreSQL (jsonb) and SQLite (JSON1) agree on everything else the bulk statements use.
"""

from __future__ import annotations

from django.db import connection


def each_object(column: str, alias: str) -> str:
    """FROM-clause item yielding ``alias.key`` (text) and ``alias.value`` (text/number) per entry."""
    if connection.vendor == "postgresql":
        return f"jsonb_each_text({column}) AS {alias}(key, value)"
    return f"json_each({column}) AS {alias}"


def each_element(column: str, alias: str) -> str:
    """FROM-clause item yielding ``alias.value`` per array element."""
    if connection.vendor == "postgresql":
        return f"jsonb_array_elements_text({column}) AS {alias}(value)"
    return f"json_each({column}) AS {alias}"
