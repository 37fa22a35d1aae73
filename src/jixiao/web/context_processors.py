"""Navigation for the base template, filtered by the user's role."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jixiao.accounts.models import User

# (url name, label, office only)
_NAV: list[tuple[str, Any, bool]] = [
    ("web:home", _("首页"), False),
    ("organisation:unit_list", _("单位"), False),
    ("organisation:official_list", _("领导干部"), False),
    ("organisation:registry", _("基础数据"), True),
    ("schemes:cycle_list", _("考核方案"), False),
    ("schemes:library_list", _("指标库"), False),
    ("facts:indicator_list", _("指标录入"), False),
    ("facts:adjustment_list", _("加减分"), False),
    ("results:ranking", _("考核结果"), False),
    ("evaluations:event_list", _("民主测评"), True),
    ("surveys:survey_list", _("群众评价"), False),
    ("accounts:audit_log", _("审计日志"), True),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for name, label, office_only in _NAV:
        if office_only and not (user.is_office or user.role == "auditor"):
            continue
        url = reverse(name)
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"url": url, "label": label, "active": active})
    return {"nav_items": items}
