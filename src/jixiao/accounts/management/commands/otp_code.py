"""``jixiao otp-code USERNAME``: the current second-factor code of a *demo* account.

The demo's privileged logins need a TOTP code; their keys are fixed and published
(``second_factor.demo_key``), so this prints what an authenticator app would show.
Refused for any account whose key is not the demo key, and whenever JIXIAO_PRODUCTION=1.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice

from jixiao.accounts.second_factor import current_code, demo_key
from jixiao.config.env import env_bool


class Command(BaseCommand):
    help = "Print the current two-factor code of a demo account (demo only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        if env_bool("JIXIAO_PRODUCTION", False):
            raise CommandError("生产环境不提供验证码 / not available with JIXIAO_PRODUCTION=1")
        username = options["username"]
        device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
        if device is None or device.key != demo_key(username):
            raise CommandError(
                f"{username} 不是带演示验证器的演示账号 / not a demo account with the demo key"
            )
        self.stdout.write(current_code(device))
