from __future__ import annotations

import pytest

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, AuditLog
from jixiao.ledger.guards import AppendOnlyError
from jixiao.ledger.hashing import inclusion_proof, merkle_root, verify_inclusion
from jixiao.ledger.tests.helpers import tamper
from jixiao.ledger.verify import ledger_verify


def test_an_inclusion_proof_proves_every_entry_against_the_root() -> None:
    hashes = [f"{i:064x}" for i in range(1, 12)]
    root = merkle_root(hashes)
    for i, h in enumerate(hashes):
        assert verify_inclusion(h, i, len(hashes), inclusion_proof(hashes, i), root)
    assert not verify_inclusion(hashes[0], 1, len(hashes), inclusion_proof(hashes, 1), root)


@pytest.mark.django_db
def test_an_audit_row_changed_in_the_database_is_reported_with_its_entry() -> None:
    entry = audit_record(actor=None, action=AuditAction.EXPORT, object_type="x", object_id="1")
    assert ledger_verify(recompute=False).ok
    tamper("UPDATE accounts_auditlog SET object_repr = 'forged' WHERE id = %s", [entry.pk])
    problems = ledger_verify(recompute=False).problems
    assert any("已被改动" in p and str(entry.pk) in p for p in problems)


@pytest.mark.django_db
def test_the_application_cannot_update_or_delete_audit_rows() -> None:
    entry = audit_record(actor=None, action=AuditAction.EXPORT, object_type="x", object_id="1")
    with pytest.raises(AppendOnlyError):
        AuditLog.objects.filter(pk=entry.pk).update(object_repr="forged")
    with pytest.raises(AppendOnlyError):
        entry.delete()
