"""Read a query into a Polars frame, and copy a frame into a table, in bulk.

Why: a set-based job (the tracking lights' daily recompute) reads a few hundred thousand rows at a
time and writes as many; Django's cursor hands rows over one Python tuple at a time and its
``bulk_create`` builds one model instance per row. On PostgreSQL both directions go through COPY
in CSV instead (parameters are bound on the client by psycopg, which COPY needs); elsewhere the
ordinary cursor.

This module imports nothing of the apps, so any app can use it (``results/engine_io.py`` has its
own, older, readers with concurrent ``psql`` sessions for the scoring run).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import polars as pl
from django.db import connection

Schema = dict[str, pl.DataType]


def read_frame(sql: str, params: Sequence[Any], schema: Schema) -> pl.DataFrame:
    """The rows of ``sql`` (``%s`` placeholders) as a frame with ``schema`` (its columns in the
    query's order). Decimal columns are best selected as scaled integers (``CAST(ROUND(x * 100)
    AS BIGINT)``): SQLite stores them as floating point."""
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        buffer = io.BytesIO()
        with (
            connection.connection.cursor() as cursor,
            cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", list(params)) as copy,
        ):
            for chunk in copy:
                buffer.write(chunk)
        data = buffer.getvalue()
        if not data:
            return pl.DataFrame(schema=schema)
        return pl.read_csv(data, has_header=False, new_columns=list(schema), schema=schema)
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        rows = cursor.fetchall()
    return pl.DataFrame(rows, schema=schema, orient="row")


def copy_into(table: str, frame: pl.DataFrame) -> None:
    """COPY ``frame`` into ``table`` (its columns named as the frame's; PostgreSQL only; nulls are
    empty unquoted fields, as CSV COPY reads them)."""
    if frame.is_empty():
        return
    columns = ", ".join(connection.ops.quote_name(c) for c in frame.columns)
    data = frame.write_csv(include_header=False).encode()
    connection.ensure_connection()
    with (
        connection.connection.cursor() as cursor,
        cursor.copy(f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN (FORMAT csv)") as copy,
    ):
        copy.write(data)
