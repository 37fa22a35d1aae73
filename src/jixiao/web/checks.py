"""Production refuses to serve while demo accounts keep their published password or no CJK font exists."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.db import DatabaseError

from jixiao.config.production import demo_account_problems
from jixiao.web.fonts import cjk_font_problems


def demo_usernames_with_demo_password() -> list[str]:
    """Demo usernames that exist and still open with the demo password (checked, not guessed)."""
    from jixiao.accounts.models import User
    from jixiao.demo.accounts import DEMO_ACCOUNTS
    from jixiao.demo.catalog import DEMO_PASSWORD

    names = [account.username for account in DEMO_ACCOUNTS]
    return [
        user.username
        for user in User.objects.filter(username__in=names)
        if user.check_password(DEMO_PASSWORD)
    ]


def demo_account_errors() -> list[str]:
    try:
        return demo_account_problems(demo_usernames_with_demo_password())
    except DatabaseError:  # no database yet (before `migrate`): nothing to refuse
        return []


@register(Tags.security, deploy=True)
def check_demo_accounts(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not settings.PRODUCTION:
        return []
    return [Error(problem, id="jixiao.E001") for problem in demo_account_errors()]


@register("fonts", deploy=True)
def check_cjk_font(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``check --deploy`` reports it; the web server (config/wsgi.py) and ``jixiao worker`` refuse
    to start on it. Other commands (backup, migrate, restore) still run on a server without fonts."""
    if not settings.JIXIAO_REQUIRE_CJK_FONT:
        return []
    return [Error(problem, id="jixiao.E002") for problem in cjk_font_problems()]
