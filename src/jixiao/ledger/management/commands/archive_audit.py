"""``jixiao archive-audit``: move audit entries older than the retention into an SM3-digested archive.

The retention (JIXIAO_AUDIT_RETENTION_DAYS, at least 180 days as 等保 level 3 asks) is enforced by
the service: nothing younger is touched, and the archived rows stay verifiable by ``jixiao verify``
through their ledger entries and the archive's digest.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _


class Command(BaseCommand):
    help = "Archive audit entries older than JIXIAO_AUDIT_RETENTION_DAYS (never younger than 180 days)."

    def handle(self, *args: Any, **options: Any) -> None:
        from jixiao.ledger.services import audit_archive, retention_days

        archive = audit_archive()
        if archive is None:
            self.stdout.write(_("没有早于 %(days)d 天的审计日志，无需归档。") % {"days": retention_days()})
            return
        self.stdout.write(
            _("已归档 %(n)d 条审计日志（#%(a)d–#%(b)d）到 %(file)s，SM3 %(digest)s")
            % {
                "n": archive.count,
                "a": archive.first_id,
                "b": archive.last_id,
                "file": archive.file,
                "digest": archive.digest,
            }
        )
