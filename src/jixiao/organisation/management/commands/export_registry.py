"""``jixiao export-registry --out FILE``: export the whole registry in the import format (audited)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from jixiao.accounts.models import User
from jixiao.organisation.excel import registry_export


class Command(BaseCommand):
    help = "导出名册为 Excel 文件（格式与导入模板相同）"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--out", required=True, help="xlsx file to write")
        parser.add_argument(
            "--as",
            dest="username",
            default="",
            help="export what this user may see; recorded in the audit log",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options["username"]:
            actor = User.objects.filter(username=options["username"]).first()
            if actor is None:
                raise CommandError(_("找不到用户：%(name)s") % {"name": options["username"]})
        counts = registry_export(actor=actor, target=options["out"])
        for sheet, n in counts.items():
            self.stdout.write(_("%(sheet)s：%(n)s 行") % {"sheet": sheet, "n": n})
