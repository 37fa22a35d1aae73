"""``jixiao import-facts --cycle 2025 --kind results|scores|votes|adjustments|declared FILE``.

Every error is printed as "sheet row column: message"; the exit status is 1 on any.
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from jixiao.accounts.models import User
from jixiao.facts.excel import FactKind, facts_import
from jixiao.schemes.models import Cycle


class Command(BaseCommand):
    help = "导入考核事实 Excel 文件（指标完成情况、测评得分、测评票数、加减分与否决、申报指标完成情况）；有任何错误则不写入"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="xlsx file")
        parser.add_argument("--cycle", required=True, type=int, help="the cycle's year, e.g. 2025")
        parser.add_argument("--kind", required=True, choices=[k.value for k in FactKind])
        parser.add_argument(
            "--as",
            dest="username",
            default="",
            help="import as this user (recorded in the audit log, and their permissions apply)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(_("找不到文件：%(path)s") % {"path": path})
        cycle = Cycle.objects.filter(year=options["cycle"]).first()
        if cycle is None:
            raise CommandError(_("找不到 %(year)s 年度的考核周期") % {"year": options["cycle"]})
        actor = None
        if options["username"]:
            actor = User.objects.filter(username=options["username"]).first()
            if actor is None:
                raise CommandError(_("找不到用户：%(name)s") % {"name": options["username"]})
        try:
            result = facts_import(
                actor=actor, cycle=cycle, kind=FactKind(options["kind"]), source=path, filename=path.name
            )
        except PermissionDenied:
            raise CommandError(_("该用户无权导入此类数据")) from None
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
