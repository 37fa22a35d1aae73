"""PostgreSQL refuses raw UPDATE/DELETE on the audit log and the ledger, except the two sanctioned ones."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, AuditLog
from jixiao.ledger.models import LedgerEntry
from jixiao.ledger.services import audit_archive
from jixiao.ledger.verify import ledger_verify
from jixiao.organisation.tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the append-only trigger is PostgreSQL's; SQLite has the application guard only",
    ),
]


def _raw(sql: str, params: list[object]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_raw_update_or_delete_of_an_audit_row_or_ledger_entry_is_refused() -> None:
    entry = audit_record(actor=None, action=AuditAction.EXPORT, object_type="x", object_id="1")
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE accounts_auditlog SET object_repr = 'forged' WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("DELETE FROM accounts_auditlog WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE ledger_ledgerentry SET content_digest = %s", ["0" * 64])
    assert ledger_verify(recompute=False).ok


def test_deleting_a_user_clears_the_actor_of_their_entries() -> None:
    user = UserFactory()
    entry = audit_record(actor=user, action=AuditAction.EXPORT, object_type="x", object_id="1")
    user.delete()
    row = AuditLog.objects.get(pk=entry.pk)
    assert row.actor_id is None and row.actor_name == user.username
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE accounts_auditlog SET actor_id = NULL, object_repr = 'x' WHERE id = %s", [entry.pk])


def test_the_archiver_alone_may_delete_old_audit_rows(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    entry = audit_record(actor=None, action=AuditAction.EXPORT, object_type="x", object_id="1")
    archive = audit_archive(now=timezone.now() + timedelta(days=400))
    assert archive is not None and not AuditLog.objects.filter(pk=entry.pk).exists()
    assert LedgerEntry.objects.filter(kind="audit", object_id=str(entry.pk)).exists()
    assert ledger_verify(recompute=False).ok
