"""Navigation for the base template, filtered by the user's role.

Each entry names the permission predicate its view enforces (the same function, imported from
where the view takes it), so a link is shown exactly when its page answers: a role never sees a
link that ends on a 403, nor a page it cannot use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from jixiao.accounts.models import User
from jixiao.accounts.permissions import (
    is_admin_role,
    is_security_admin,
    office_or_auditor,
    reads_audit_log,
    sees_accounts,
    sees_raw_ratings,
)
from jixiao.declarations.review_selectors import reviews_anything
from jixiao.facts.selectors import may_see_entry_grids
from jixiao.supervision.selectors import may_see_supervision
from jixiao.tracking.selectors import grades_reports
from jixiao.tracking.views import reports_for_own_unit, sees_all_lights
from jixiao.tracking.worklogs import may_use_worklogs

Predicate = Callable[[User], bool]


def anyone(user: User) -> bool:
    """Every signed-in user: the page scopes what it lists to the user's unit."""
    return True


def office(user: User) -> bool:
    """What ``accounts.permissions.office_required`` lets through."""
    return user.is_office


def appraisal(predicate: Predicate) -> Predicate:
    """An appraisal page: never for the three administrators (``AdminBoundaryMiddleware``)."""

    def allowed(user: User) -> bool:
        return not is_admin_role(user) and predicate(user)

    allowed.__doc__ = predicate.__doc__
    return allowed


# (url name, label, who may use the page: the predicate its view enforces)
NAV: list[tuple[str, Any, Predicate]] = [
    ("web:home", _("首页"), anyone),
    ("organisation:unit_list", _("单位"), appraisal(anyone)),
    ("organisation:official_list", _("领导干部"), appraisal(anyone)),
    ("organisation:registry", _("基础数据"), appraisal(office_or_auditor)),
    ("schemes:cycle_list", _("考核方案"), appraisal(anyone)),
    ("schemes:library_list", _("指标库"), appraisal(anyone)),
    ("declarations:home", _("目标申报"), appraisal(anyone)),
    ("declarations:publication", _("目标公布"), appraisal(anyone)),
    ("facts:indicator_list", _("指标录入"), appraisal(may_see_entry_grids)),
    ("review:queue", _("目标审核"), appraisal(reviews_anything)),
    ("facts:adjustment_list", _("加减分"), appraisal(anyone)),
    ("tracking:home", _("进展填报"), appraisal(reports_for_own_unit)),
    ("tracking:grading", _("进展评定"), appraisal(grades_reports)),
    ("tracking:lights", _("红黄绿灯"), appraisal(sees_all_lights)),
    ("results:ranking", _("考核结果"), appraisal(anyone)),
    ("race:ranking_list", _("排名赛马"), appraisal(anyone)),
    ("supervision:task_list", _("督查督办"), appraisal(may_see_supervision)),
    ("worklogs:log_list", _("周纪实"), appraisal(may_use_worklogs)),
    ("evaluations:event_list", _("民主测评"), office),
    ("surveys:survey_list", _("群众评价"), appraisal(anyone)),
    ("accounts:user_list", _("用户"), sees_accounts),
    ("accounts:audit_log", _("审计日志"), reads_audit_log),
    ("accounts:security", _("安全管理"), is_security_admin),
]


def nav_links(user: User) -> list[tuple[str, Any]]:
    """Return (url, label) of every navigation entry ``user`` may use, in menu order."""
    return [(reverse(name), label) for name, label, allowed in NAV if allowed(user)]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_authenticated:
        return {"nav_items": [], "sees_raw_ratings": False}
    items = []
    for url, label in nav_links(user):
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"url": url, "label": label, "active": active})
    return {"nav_items": items, "sees_raw_ratings": sees_raw_ratings(user)}
