"""``jixiao import-registry FILE``: import a registry workbook; every error printed, exit 1 on any."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from jixiao.accounts.models import User
from jixiao.organisation.excel import registry_import


class Command(BaseCommand):
    help = "导入名册 Excel 文件（区域、单位、干部、职务、任职等）；有任何错误则不写入"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="xlsx file")
        parser.add_argument("--as", dest="username", default="", help="username recorded in the audit log")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("找不到文件：%(path)s") % {"path": path})
        actor = None
        if options["username"]:
            actor = User.objects.filter(username=options["username"]).first()
            if actor is None:
                raise CommandError(_("找不到用户：%(name)s") % {"name": options["username"]})
        result = registry_import(actor=actor, source=str(path), filename=path.name)
        if not result.ok:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(
                _("发现 %(n)s 处错误，未写入任何数据") % {"n": len(result.errors)}, returncode=1
            )
        for counts in result.counts:
            self.stdout.write(
                _("%(sheet)s：新增 %(created)s，更新 %(updated)s")
                % {"sheet": counts.sheet, "created": counts.created, "updated": counts.updated}
            )
