from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "jixiao.web"
    verbose_name = _("门户")

    def ready(self) -> None:
        from jixiao.web import checks  # noqa: F401  (registers the production checks)
