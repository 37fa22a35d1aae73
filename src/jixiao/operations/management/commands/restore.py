from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jixiao.operations.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = "从备份目录恢复（先核对清单）。Restore a backup directory after checking its manifest."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument("--database-url", default=None, help="恢复到的数据库（默认当前配置的数据库）")
        parser.add_argument("--force", action="store_true", help="目标库非空时也覆盖")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            done = backup_restore(
                directory=options["directory"], database_url=options["database_url"], force=options["force"]
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"恢复完成：数据库 {done['database']}，附件 {done['media_files']} 个（备份时间 {done['created_at']}）"
            )
        )
