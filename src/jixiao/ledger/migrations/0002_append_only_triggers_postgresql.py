"""PostgreSQL: refuse UPDATE and DELETE on the audit log and the ledger tables at the database.

The application guard (``ledger.guards``) cannot stop raw SQL or another client; this trigger can.
Two changes stay allowed: an UPDATE that only sets ``actor_id`` to NULL (deleting a user), and a
DELETE inside a transaction that ran ``SET LOCAL jixiao.audit_archiving = 'on'`` (the archiver,
after it has written the rows to a chained archive file). SQLite keeps the application guard only.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

TABLES = ("accounts_auditlog", "ledger_ledgerentry", "ledger_checkpoint", "ledger_runinput", "ledger_auditarchive")

FUNCTION = """
CREATE OR REPLACE FUNCTION jixiao_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND to_jsonb(NEW) -> 'actor_id' = 'null'::jsonb
       AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;  -- a deleted user's entries keep their actor_name
    END IF;
    IF TG_OP = 'DELETE' AND current_setting('jixiao.audit_archiving', true) = 'on' THEN
        RETURN OLD;  -- the archiver, after writing the rows to a chained archive
    END IF;
    RAISE EXCEPTION 'jixiao: % on % is refused: rows are append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def _forwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, None)  # no parameters: its % are PL/pgSQL placeholders
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION jixiao_append_only()"
        )


def _backwards(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS jixiao_append_only()")


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0001_chain_checkpoints_run_inputs"),
        ("accounts", "0005_admin_roles"),
    ]

    operations = [migrations.RunPython(_forwards, _backwards)]
