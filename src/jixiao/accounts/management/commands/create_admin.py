"""``jixiao create-admin ROLE USERNAME``: the first system, security or audit admin (三权分立).

ROLE is ``sysadmin`` (系统管理员), ``secadmin`` (安全管理员) or ``auditadmin`` (安全审计员).
Prints a generated initial password once (to be changed at first login). Creating is refused
while an active account of that role exists; ``--reset`` gives an existing administrator a new
initial password (the pages never reset an administrator's password: a system admin who could
would act as the others).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jixiao.accounts.models import ADMIN_ROLES, Role
from jixiao.accounts.services import admin_bootstrap


class Command(BaseCommand):
    help = "Create the first system, security or audit admin (or --reset one's password); print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", choices=sorted(str(r) for r in ADMIN_ROLES))
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="display name (姓名)")
        parser.add_argument("--reset", action="store_true", help="new initial password for an existing admin")

    def handle(self, *args: Any, **options: Any) -> None:
        role = Role(options["role"])
        try:
            issued = admin_bootstrap(
                username=options["username"],
                role=role,
                display_name=options["name"] or str(role.label),
                reset=options["reset"],
            )
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write(f"{role.label}账户：{issued.user.username}")
        self.stdout.write(f"初始密码（只显示这一次，首次登录须修改）：{issued.password}")
