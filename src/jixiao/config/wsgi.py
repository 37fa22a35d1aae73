"""WSGI entry point for gunicorn."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jixiao.config.settings")
application = get_wsgi_application()


def _refuse_demo_accounts() -> None:
    # The settings already refused DEBUG and weak keys; accounts live in the database, so they are
    # checked here, once, before the first request is served.
    from django.conf import settings

    if settings.PRODUCTION:
        from jixiao.config.production import refuse
        from jixiao.web.checks import demo_account_errors

        refuse(demo_account_errors())


_refuse_demo_accounts()
