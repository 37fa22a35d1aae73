from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "jixiao.ledger"
    verbose_name = _("防篡改账本")
