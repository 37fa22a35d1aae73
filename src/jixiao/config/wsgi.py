"""WSGI entry point for gunicorn."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jixiao.config.settings")
application = get_wsgi_application()


def _refuse_unsafe_start() -> None:
    # The settings already refused DEBUG and weak keys; accounts live in the database, so they are
    # checked here, once, before the first request is served. gunicorn runs no system checks, so
    # the CJK font (without one every PDF prints boxes) is checked here too.
    from django.conf import settings

    from jixiao.config.production import refuse

    problems: list[str] = []
    if settings.PRODUCTION:
        from jixiao.web.checks import demo_account_errors

        problems += demo_account_errors()
    if settings.JIXIAO_REQUIRE_CJK_FONT:
        from jixiao.web.fonts import cjk_font_problems

        problems += cjk_font_problems()
    refuse(problems)


_refuse_unsafe_start()
