"""``jixiao create-office USERNAME``: the first office account of a new installation.

Prints a generated initial password once (the user must change it at first login). Refused once
an active office account exists: the office then opens every other account in the product.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jixiao.accounts.services import office_bootstrap


class Command(BaseCommand):
    help = "Create the first assessment-office account and print its initial password once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="考核办", help="display name (姓名)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            issued = office_bootstrap(username=options["username"], display_name=options["name"])
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write(f"考核办账户：{issued.user.username}")
        self.stdout.write(f"初始密码（只显示这一次，首次登录须修改）：{issued.password}")
