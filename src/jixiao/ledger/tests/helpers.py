from __future__ import annotations

from django.db import connection


def tamper(sql: str, params: list[object]) -> None:
    """Run ``sql`` as an attacker with the database's superuser would: on PostgreSQL past the
    append-only trigger (``session_replication_role = replica`` disables triggers)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("RESET session_replication_role")
