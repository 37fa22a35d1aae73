"""``jixiao archive-audit`` keeps everything younger than the retention."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, AuditLog

pytestmark = pytest.mark.django_db


def test_archive_audit_keeps_entries_younger_than_the_retention(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    audit_record(actor=None, action=AuditAction.EXPORT, object_type="x", object_id="1")
    out = StringIO()
    call_command("archive_audit", stdout=out)
    assert "无需归档" in out.getvalue()
    assert AuditLog.objects.count() == 1
