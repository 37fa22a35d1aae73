from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "jixiao.accounts"
    verbose_name = _("账户与审计")

    def ready(self) -> None:
        # Login/logout signals feed the audit log; importing registers the receivers.
        from jixiao.accounts import audit_signals, login_state  # noqa: F401
