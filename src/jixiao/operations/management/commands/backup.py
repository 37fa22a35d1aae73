from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction
from jixiao.operations.backup import BackupError, backup_create


class Command(BaseCommand):
    help = "备份数据库和附件（含 SHA-256/SM3 清单）。Back up the database and media with a digest manifest."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, default=None, help="新的备份目录（默认 var/backups/<时间>）")

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"] or (
            Path(settings.VAR_DIR) / "backups" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        )
        try:
            result = backup_create(out_dir=out)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        audit_record(
            actor=None,
            action=AuditAction.EXPORT,
            object_type="backup",
            object_repr=str(out),
            changes={"files": [{"name": f["name"], "sm3": f["sm3"]} for f in result.files]},
        )
        for f in result.files:
            self.stdout.write(f"{f['name']}  {f['size']:>12,} 字节  SM3 {f['sm3']}")
        self.stdout.write(self.style.SUCCESS(f"备份完成：{out}"))
