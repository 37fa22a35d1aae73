"""Who hears that a cycle entered a stage (called by :func:`jixiao.schemes.lifecycle` after a
stage move, inside its transaction).

- 单位申报: every active liaison of an active unit — 请填报本单位年度目标;
- 目标审核: the reviewers of the cycle's first review stage (the office, the leaders, or the
  lead-department accounts that lead any of the cycle's declared targets);
- 过程跟踪: every active liaison of an active unit — monthly reporting starts.

Each notice goes once per cycle and stage (cause ``cycle:<pk>:stage:<stage>``), so moving back and
forth never repeats it; the recipients are one query.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from jixiao.accounts.models import Role, User
from jixiao.declarations.models import DeclaredIndicator, ReviewerRole, ReviewStage
from jixiao.schemes.models import Cycle, CycleStage


def _liaisons() -> QuerySet[User]:
    return User.objects.filter(is_active=True, role=Role.LIAISON, unit__is_active=True)


def _first_reviewers(cycle: Cycle) -> QuerySet[User] | None:
    first = ReviewStage.objects.filter(cycle=cycle).order_by("order").first()
    if first is None:
        return None
    users = User.objects.filter(is_active=True)
    if first.role == ReviewerRole.OFFICE:
        return users.filter(role=Role.OFFICE)
    if first.role == ReviewerRole.LEADER:
        return users.filter(role=Role.LEADER)
    leads = DeclaredIndicator.objects.filter(declaration__cycle=cycle, lead_department__isnull=False).values(
        "lead_department_id"
    )
    return users.filter(role=Role.LEAD_DEPT, unit_id__in=leads)


def notify_stage_entered(*, cycle: Cycle, stage: str) -> int:
    """Notify whoever must act now that ``cycle`` entered ``stage`` (once per cycle and stage);
    return how many notifications were created."""
    from jixiao.notifications.services import notify

    recipients: QuerySet[User] | None
    if stage == CycleStage.DECLARATION:
        recipients = _liaisons()
        title = _("%(cycle)s进入“单位申报”阶段，请填报本单位年度目标") % {"cycle": cycle.name}
        link = reverse("declarations:home")
    elif stage == CycleStage.REVIEW:
        recipients = _first_reviewers(cycle)
        title = _("%(cycle)s进入“目标审核”阶段，请审核各单位申报的目标") % {"cycle": cycle.name}
        link = reverse("review:queue")
    elif stage == CycleStage.TRACKING:
        recipients = _liaisons()
        title = _("%(cycle)s进入“过程跟踪”阶段，请按月填报目标进展") % {"cycle": cycle.name}
        link = reverse("tracking:home")
    else:
        return 0
    if recipients is None:
        return 0
    created = notify(
        recipients=recipients.select_related(None).order_by("pk"),
        cause=f"cycle:{cycle.pk}:stage:{stage}",
        title=title,
        link=link,
    )
    return len(created)
