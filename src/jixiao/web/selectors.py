"""Reads for the home page: each role's to-dos, and the office's registry summary and chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.apps import apps
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from jixiao.accounts.models import AuditAction, AuditLog, LoginThrottle, Role, User
from jixiao.accounts.permissions import scope_to_units
from jixiao.evaluations.models import EvaluationEvent, EventStatus
from jixiao.facts.models import Adjustment, IndicatorResult
from jixiao.jobs.models import Job
from jixiao.jobs.periodic import PERIODIC
from jixiao.ledger.selectors import verification_last
from jixiao.organisation.models import Official, Unit, UnitCategory
from jixiao.results.models import EntityResult, ResultSubject, ScoringRun
from jixiao.schemes.models import Component, Cycle, CycleStatus, IndicatorNode, Scheme
from jixiao.schemes.selectors import weight_problems
from jixiao.surveys.models import SampleReminder


def worker_last_seen_seconds(*, now: datetime | None = None) -> int | None:
    """Seconds since a worker last started a periodic job (None if none ever did), for /healthz.

    Only ``jixiao worker`` starts periodic jobs (it queues one every minute), whereas a scoring job
    also runs in-process from ``jixiao compute``: so a recent periodic start proves a live worker."""
    last = Job.objects.filter(kind__in=[p.kind for p in PERIODIC]).aggregate(last=Max("started_at"))["last"]
    if last is None:
        return None
    return max(0, int(((now or timezone.now()) - last).total_seconds()))


def dashboard_summary(*, user: User) -> dict[str, Any]:
    """Return the counts and per-category breakdown the home page shows, scoped to ``user``."""
    units = scope_to_units(user, Unit.objects.all(), unit_path="")
    officials = scope_to_units(user, Official.objects.all())
    categories = list(
        UnitCategory.objects.filter(units__in=units)
        .annotate(unit_count=Count("units", distinct=True), official_count=Count("units__officials"))
        .order_by("order")
    )
    return {
        "unit_count": units.count(),
        "official_count": officials.count(),
        "categories": categories,
        "cycles": list(Cycle.objects.all()[:5]),
        "chart": {
            "labels": [c.name for c in categories],
            "units": [c.unit_count for c in categories],
            "officials": [c.official_count for c in categories],
        },
    }


# ---------------------------------------------------------------------------------------------
# The home page's to-dos, per role. Every query is bounded whatever the size of the facts: lists
# are sliced (LIMIT), existence is EXISTS, and the only counts run over one indicator's results
# (at most one row per unit, through the (indicator, unit) unique index) or one scheme's leaves.

TODO_LIMIT = 8  # items shown per to-do group; one more is fetched to know there are more


@dataclass(frozen=True)
class Todo:
    """One thing to do: what, where to do it, by when (if known), and whether it is urgent."""

    text: str
    url: str = ""
    due: datetime | date | None = None
    urgent: bool = False
    at: datetime | None = None  # when a past event happened (shown as a time, not a deadline)

    @property
    def due_format(self) -> str:
        """The ``date`` filter's format of :attr:`due`: a deadline day (a notification's) has no time."""
        return "Y-m-d H:i" if isinstance(self.due, datetime) else "Y-m-d"


@dataclass(frozen=True)
class TodoGroup:
    title: str
    items: list[Todo]
    more: bool = False  # more items exist than are listed
    link: str = ""  # the page with all of them
    empty: str = ""  # said when there is nothing to do


def _bounded(items: list[Any]) -> tuple[list[Any], bool]:
    return items[:TODO_LIMIT], len(items) > TODO_LIMIT


def _year_url(name: str, cycle: Cycle) -> str:
    return f"{reverse(name)}?{urlencode({'year': cycle.year})}"


def home_todos(*, user: User) -> list[TodoGroup]:
    """Return the to-do groups of ``user``'s home page, for their role and unit."""
    if user.is_office:
        groups = _office_todos()
    elif user.role == Role.LEAD_DEPT:
        groups = _lead_todos(user)
    elif user.role == Role.LIAISON:
        groups = _liaison_todos(user)
    elif user.role == Role.OFFICIAL:
        groups = _official_todos(user)
    elif user.role == Role.AUDITOR:
        groups = _auditor_todos()
    elif user.role == Role.SYSADMIN:
        groups = _system_admin_todos()
    elif user.role == Role.SECADMIN:
        groups = _security_admin_todos()
    elif user.role == Role.AUDITADMIN:
        groups = _audit_admin_todos()
    else:
        groups = [_runs_to_read(_("待阅考核结果"))]
    reviews = _review_todos(user)
    if reviews is not None:
        groups = [reviews, *groups]
    notifications = _notifications(user)
    return [notifications, *groups] if notifications is not None else groups


def _review_todos(user: User) -> TodoGroup | None:
    """ "待审核目标": declarations waiting at a review stage the user decides (one bounded query)."""
    from jixiao.declarations.review_selectors import pending_reviews, reviews_anything

    if not reviews_anything(user):
        return None
    rows, more = _bounded(pending_reviews(user, TODO_LIMIT + 1))
    items = [
        Todo(
            _("%(u)s（%(s)s，第 %(v)d 版）")
            % {"u": d.unit.name, "s": d.stage.name if d.stage else "", "v": d.version},
            reverse("review:declaration", args=[d.pk]),
            at=d.submitted_at,
        )
        for d in rows
    ]
    title = _("待审核目标 %(n)s") % {"n": f"{len(rows)}+" if more else len(rows)}
    return TodoGroup(title, items, more, link=reverse("review:queue"), empty=_("没有待审核的目标申报"))


def _notifications(user: User) -> TodoGroup | None:
    """Unread notifications, when the notifications app is installed."""
    if not apps.is_installed("jixiao.notifications"):
        return None
    from jixiao.notifications.selectors import unread_for

    rows, more = _bounded(list(unread_for(user)[: TODO_LIMIT + 1]))
    items = [Todo(str(n.title), n.link or "", n.due) for n in rows]
    return TodoGroup(_("未读通知"), items, more, empty=_("没有未读通知"))


# The indicator fields the scheme weight checks read (schemes.selectors.weight_problems).
WEIGHT_NODE_FIELDS = (
    "id",
    "scheme_id",
    "parent_id",
    "component_id",
    "level",
    "order",
    "code",
    "name",
    "weight",
)


def _office_todos() -> list[TodoGroup]:
    now = timezone.now()
    cycles = list(
        Cycle.objects.filter(status__in=[CycleStatus.DRAFT, CycleStatus.OPEN])
        .annotate(has_run=Exists(ScoringRun.objects.filter(cycle_id=OuterRef("pk"))))
        .order_by("year")[: TODO_LIMIT + 1]
    )
    cycle_items: list[Todo] = []
    for cycle in cycles:
        url = reverse("schemes:cycle_detail", args=[cycle.pk])
        if cycle.status == CycleStatus.DRAFT:
            cycle_items.append(Todo(_("%(c)s尚在筹备：完成方案后开启") % {"c": cycle.name}, url))
        elif not cycle.has_run:
            cycle_items.append(
                Todo(_("%(c)s进行中，尚未计分") % {"c": cycle.name}, _year_url("results:run_list", cycle))
            )
    cycle_rows, cycle_more = _bounded(cycle_items)

    schemes = (
        Scheme.objects.filter(cycle__status__in=[CycleStatus.DRAFT, CycleStatus.OPEN])
        .select_related("cycle")
        .prefetch_related(
            Prefetch("components", queryset=Component.objects.order_by("order", "id")),
            # Only what the weight sums read: the nodes' rule parameters and lead units (JSON
            # decoded for every node of every scheme) were most of the dashboard's CPU time.
            Prefetch("indicators", queryset=IndicatorNode.objects.only(*WEIGHT_NODE_FIELDS)),
        )
        .order_by("cycle__year", "category__order", "category__code")
    )
    weight_items = []
    for scheme in schemes:
        problems = weight_problems(scheme=scheme)
        if problems:
            first = problems[0]
            weight_items.append(
                Todo(
                    _("%(s)s：%(n)s 处权重合计不是 100（如“%(where)s”合计 %(total)s）")
                    % {
                        "s": scheme.name,
                        "n": len(problems),
                        "where": first.where,
                        "total": number_format(first.total.normalize()),
                    },
                    reverse("schemes:scheme_detail", args=[scheme.pk]),
                    urgent=True,
                )
            )
    weight_rows, weight_more = _bounded(weight_items)

    events = list(
        EvaluationEvent.objects.filter(status__in=[EventStatus.OPEN, EventStatus.CLOSING]).order_by(
            "closes_at"
        )[: TODO_LIMIT + 1]
    )
    event_items = []
    for event in events:
        url = reverse("evaluations:event_detail", args=[event.pk])
        if event.status == EventStatus.CLOSING:
            event_items.append(Todo(_("%(e)s：正在计票") % {"e": event.name}, url, event.closes_at))
        elif event.closes_at <= now:
            event_items.append(
                Todo(
                    _("%(e)s：已到截止时间，可结束并计票") % {"e": event.name},
                    url,
                    event.closes_at,
                    urgent=True,
                )
            )
        else:
            event_items.append(Todo(_("%(e)s：测评进行中") % {"e": event.name}, url, event.closes_at))
    event_rows, event_more = _bounded(event_items)

    latest_window = (
        SampleReminder.objects.order_by("-window_end").values_list("window_end", flat=True).first()
    )
    sample_items: list[Todo] = []
    sample_more = False
    if latest_window is not None:
        reminders = list(
            SampleReminder.objects.filter(window_end=latest_window)
            .select_related("unit", "official__unit")
            .order_by("count", "id")[: TODO_LIMIT + 1]
        )
        rows, sample_more = _bounded(reminders)
        monitor = reverse("surveys:monitor")
        sample_items = [
            Todo(
                _("%(who)s：有效评价 %(n)s 条，少于 %(t)s 条")
                % {"who": _reminder_name(r), "n": r.count, "t": r.threshold},
                monitor,
            )
            for r in rows
        ]
    return [
        TodoGroup(
            _("考核周期"),
            cycle_rows,
            cycle_more,
            reverse("schemes:cycle_list"),
            _("没有待开启或待计分的周期"),
        ),
        TodoGroup(
            _("方案权重问题"), weight_rows, weight_more, empty=_("筹备和进行中的方案权重均已合计为 100")
        ),
        TodoGroup(
            _("民主测评"), event_rows, event_more, reverse("evaluations:event_list"), _("没有进行中的测评")
        ),
        TodoGroup(
            _("样本不足提醒"), sample_items, sample_more, reverse("surveys:monitor"), _("没有样本不足的对象")
        ),
        _verification_todos(),
        *_supervision_office_todos(),
    ]


def _supervision_office_todos() -> list[TodoGroup]:
    """督查事项 reported done and waiting for the rating, and extension requests to decide."""
    from jixiao.supervision.models import ExtensionRequest, ExtensionStatus, SupervisionTask, TaskStatus

    cycle = _open_cycle()
    if cycle is None:
        return []
    link = _year_url("supervision:task_list", cycle)
    waiting = list(
        SupervisionTask.objects.filter(cycle=cycle, status=TaskStatus.SUBMITTED)
        .select_related("lead_unit")
        .order_by("finished_on", "pk")[: TODO_LIMIT + 1]
    )
    rows, more = _bounded(waiting)
    extensions = list(
        ExtensionRequest.objects.filter(task__cycle=cycle, status=ExtensionStatus.PENDING)
        .select_related("task__lead_unit")
        .order_by("requested_at", "pk")[: TODO_LIMIT + 1]
    )
    rows_x, more_x = _bounded(extensions)
    return [
        TodoGroup(
            _("督查事项待评定"),
            [
                Todo(
                    f"{t.number} {t.title}（{t.lead_unit.name}）",
                    reverse("supervision:task_detail", args=[t.pk]),
                    t.finished_on,
                )
                for t in rows
            ],
            more,
            link + "&status=submitted",
            _("没有待评定的督查事项"),
        ),
        TodoGroup(
            _("督查事项延期申请"),
            [
                Todo(
                    _("%(t)s：申请延至 %(d)s") % {"t": x.task.title, "d": f"{x.new_deadline:%Y-%m-%d}"},
                    reverse("supervision:task_detail", args=[x.task_id]),
                    x.requested_at,
                    urgent=True,
                )
                for x in rows_x
            ],
            more_x,
            link,
            _("没有待审批的延期申请"),
        ),
    ]


def _supervision_unit_todos(user: User, cycle: Cycle | None) -> TodoGroup | None:
    """The unit's supervision tasks still being handled, the ones to sign and the nearest
    deadlines first (bounded)."""
    from jixiao.supervision.lights import task_light, yellow_days
    from jixiao.supervision.models import OPEN_STATUSES, SupervisionTask, TaskStatus

    if cycle is None or user.unit_id is None:
        return None
    tasks = list(
        SupervisionTask.objects.filter(
            cycle=cycle, lead_unit_id=user.unit_id, status__in=OPEN_STATUSES
        ).order_by("deadline", "pk")[: TODO_LIMIT + 1]
    )
    rows, more = _bounded(tasks)
    today, days = timezone.localdate(), yellow_days(cycle.pk)
    items = []
    for t in rows:
        light = task_light(t, on=today, days=days)
        verb = _("待签收") if t.status == TaskStatus.ASSIGNED else light.reason
        items.append(
            Todo(
                f"{t.number} {t.title}：{verb}",
                reverse("supervision:task_detail", args=[t.pk]),
                t.deadline,
                urgent=light.color != "green",
            )
        )
    return TodoGroup(
        _("本单位牵头的督查事项"),
        items,
        more,
        _year_url("supervision:task_list", cycle),
        _("没有正在办理的督查事项"),
    )


def _verification_todos() -> TodoGroup:
    """The last ledger verification: a failure is urgent (something changed the records)."""
    last = verification_last()
    items: list[Todo] = []
    if last is not None and last.ok:
        items.append(Todo(_("最近一次账本校验通过：%(e)s 个条目，重算 %(r)s 个计分批次")
                          % {"e": last.entries, "r": last.runs}, at=last.at))  # fmt: skip
    elif last is not None:
        items.append(Todo(_("最近一次账本校验未通过：发现 %(n)s 处问题，请联系安全审计员")
                          % {"n": len(last.problems)}, at=last.at, urgent=True))  # fmt: skip
    return TodoGroup(_("账本校验"), items, empty=_("尚未进行账本校验"))


def _reminder_name(reminder: SampleReminder) -> str:
    if reminder.official is not None:
        return f"{reminder.official.unit.name} {reminder.official.name}"
    return reminder.unit.name if reminder.unit is not None else ""


def _open_cycle() -> Cycle | None:
    return Cycle.objects.filter(status=CycleStatus.OPEN).order_by("-year").first()


def _lead_todos(user: User) -> list[TodoGroup]:
    """The lead department's indicators of the open cycle that still lack results, with how
    many units each still needs (per indicator: one count over at most one row per unit)."""
    cycle = _open_cycle()
    title = _("待录入的指标完成情况")
    if cycle is None or user.unit_id is None:
        return [TodoGroup(title, [], empty=_("当前没有进行中的考核周期"))]
    entered = (
        IndicatorResult.objects.filter(indicator_id=OuterRef("pk"), unit__isnull=False)
        .order_by()
        .values("indicator_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    expected = (
        Unit.objects.filter(category_id=OuterRef("scheme__category_id"), is_active=True)
        .order_by()
        .values("category_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    leaves = (
        IndicatorNode.objects.filter(scheme__cycle=cycle, lead_unit_id=user.unit_id)
        .exclude(Exists(IndicatorNode.objects.filter(parent_id=OuterRef("pk"))))
        .annotate(
            entered=Coalesce(Subquery(entered), 0),
            expected=Coalesce(Subquery(expected), 0),
        )
        .select_related("scheme__category")
        .order_by("scheme__category__order", "code", "id")
    )
    missing = [leaf for leaf in leaves if leaf.entered < leaf.expected]
    rows, more = _bounded(missing)
    items = [
        Todo(
            _("%(i)s（%(c)s）：已录 %(done)s / %(all)s 个单位")
            % {
                "i": leaf.name,
                "c": leaf.scheme.category.name,
                "done": leaf.entered,
                "all": leaf.expected,
            },
            reverse("facts:indicator_results", args=[leaf.pk]),
            urgent=True,
        )
        for leaf in rows
    ]
    return [
        TodoGroup(
            title + f" · {cycle.name}",
            items,
            more,
            _year_url("facts:indicator_list", cycle),
            _("本周期牵头的指标均已录入"),
        )
    ]


def _unit_result(user: User) -> TodoGroup:
    """The user's unit's result in the latest run of the latest closed (published) cycle."""
    title = _("本单位考核结果")
    run = (
        ScoringRun.objects.filter(cycle__status=CycleStatus.CLOSED)
        .select_related("cycle")
        .order_by("-cycle__year", "-number")
        .first()
    )
    result = (
        EntityResult.objects.filter(run=run, subject=ResultSubject.UNIT, unit_id=user.unit_id).first()
        if run is not None and user.unit_id is not None
        else None
    )
    if run is None or result is None:
        return TodoGroup(title, [], empty=_("暂无已发布的结果"))
    return TodoGroup(title, [_result_todo(run, result)])


def _result_todo(run: ScoringRun, result: EntityResult) -> Todo:
    decimals = int(run.parameters.get("score_decimals", 2))
    total = (
        "—" if result.total is None else number_format(round(result.total, decimals), decimal_pos=decimals)
    )
    return Todo(
        _("%(c)s：总分 %(t)s，类别内第 %(r)s 名，等次 %(g)s")
        % {"c": run.cycle.name, "t": total, "r": result.rank or "—", "g": result.grade or _("不确定等次")},
        reverse("results:breakdown", args=[result.pk]),
    )


def _liaison_todos(user: User) -> list[TodoGroup]:
    cycle = _open_cycle()
    groups: list[TodoGroup] = []
    title = _("本单位尚缺的指标完成情况")
    unit = Unit.objects.filter(pk=user.unit_id).only("pk", "category_id").first() if user.unit_id else None
    if cycle is None or unit is None:
        groups.append(TodoGroup(title, [], empty=_("当前没有进行中的考核周期")))
    else:
        leaves = list(
            IndicatorNode.objects.filter(scheme__cycle=cycle, scheme__category_id=unit.category_id)
            .exclude(Exists(IndicatorNode.objects.filter(parent_id=OuterRef("pk"))))
            .exclude(Exists(IndicatorResult.objects.filter(indicator_id=OuterRef("pk"), unit_id=unit.pk)))
            .select_related("lead_unit", "scheme")
            .order_by("code", "id")[: TODO_LIMIT + 1]
        )
        rows, more = _bounded(leaves)
        items = [
            Todo(
                _("%(i)s：待%(lead)s录入")
                % {"i": leaf.name, "lead": leaf.lead_unit.name if leaf.lead_unit else _("考核办")},
                reverse("schemes:scheme_detail", args=[leaf.scheme_id]),
            )
            for leaf in rows
        ]
        link = reverse("schemes:scheme_detail", args=[rows[0].scheme_id]) if rows else ""
        groups.append(
            TodoGroup(f"{title} · {cycle.name}", items, more, link, _("本单位的指标完成情况均已录入"))
        )
        adjustments = list(
            Adjustment.objects.filter(cycle=cycle)
            .filter(Q(unit_id=unit.pk) | Q(official__unit_id=unit.pk))
            .select_related("official")
            .order_by("-created_at")[: TODO_LIMIT + 1]
        )
        rows_a, more_a = _bounded(adjustments)
        groups.append(
            TodoGroup(
                _("涉及本单位的加减分与否决（请核对）"),
                [
                    Todo(
                        f"{a.get_kind_display()}"
                        + (f" {number_format(a.points)} " + str(_("分")) if a.points is not None else "")
                        + (f" · {a.official.name}" if a.official else "")
                        + f"：{a.reason[:60]}",
                        _year_url("facts:adjustment_list", cycle),
                        a.created_at,
                    )
                    for a in rows_a
                ],
                more_a,
                _year_url("facts:adjustment_list", cycle),
                _("本周期没有涉及本单位的加减分"),
            )
        )
    if unit is not None:
        reminder = SampleReminder.objects.filter(unit_id=unit.pk).order_by("-window_end").first()
        if reminder is not None:
            groups.append(
                TodoGroup(
                    _("群众评价样本"),
                    [
                        Todo(
                            _("截至 %(d)s 有效评价 %(n)s 条，少于 %(t)s 条：请登记服务事项、发放评价链接")
                            % {"d": reminder.window_end, "n": reminder.count, "t": reminder.threshold},
                            reverse("surveys:event_list"),
                            urgent=True,
                        )
                    ],
                )
            )
    supervision = _supervision_unit_todos(user, cycle)
    if supervision is not None:
        groups.append(supervision)
    groups.append(_unit_result(user))
    declaration = _declaration_todo(user, cycle)
    return [declaration, *groups] if declaration is not None else groups


def _declaration_todo(user: User, cycle: Cycle | None) -> TodoGroup | None:
    """目标申报：待提交 / 被退回 / 变更中 for the liaison's unit (one bounded query)."""
    if cycle is None or user.unit_id is None:
        return None
    from jixiao.declarations.models import DeclarationStatus
    from jixiao.declarations.selectors import liaison_todo
    from jixiao.schemes.models import CycleStage

    declaration = liaison_todo(user=user, cycle=cycle)
    url = _year_url("declarations:home", cycle)
    if declaration is None:
        if cycle.stage != CycleStage.DECLARATION:
            return None
        items = [Todo(_("目标申报：本单位尚未开始申报"), url)]
    elif declaration.status == DeclarationStatus.RETURNED:
        items = [Todo(_("目标申报：被退回，请修改后重新提交"), url, urgent=True)]
    elif declaration.status == DeclarationStatus.CHANGING:
        items = [Todo(_("目标申报：变更中，修改后请提交审核"), url)]
    elif declaration.status == DeclarationStatus.DRAFT:
        items = [Todo(_("目标申报：待提交"), url)]
    else:
        return None
    return TodoGroup(_("目标申报"), items, link=url)


def _official_todos(user: User) -> list[TodoGroup]:
    title = _("我的考核结果")
    if user.official_id is None:
        return [TodoGroup(title, [], empty=_("账户尚未关联干部信息，请联系考核办"))]
    result = (
        EntityResult.objects.filter(subject=ResultSubject.OFFICIAL, official_id=user.official_id)
        .select_related("run__cycle")
        .order_by("-run__cycle__year", "-run__number")
        .first()
    )
    if result is None:
        return [TodoGroup(title, [], empty=_("暂无计分结果"))]
    return [TodoGroup(title, [_result_todo(result.run, result)])]


def _runs_to_read(title: str) -> TodoGroup:
    runs = list(ScoringRun.objects.select_related("cycle").order_by("-created_at", "-id")[: TODO_LIMIT + 1])
    rows, more = _bounded(runs)
    items = [
        Todo(
            _("%(c)s 第 %(n)s 批计分：%(e)s 个对象")
            % {"c": run.cycle.name, "n": run.number, "e": run.entity_count},
            _year_url("results:ranking", run.cycle),
            at=run.created_at,
        )
        for run in rows
    ]
    return TodoGroup(title, items, more, reverse("results:run_list"), _("暂无计分结果"))


SENSITIVE_ACTIONS = (
    AuditAction.EXPORT,
    AuditAction.PASSWORD_RESET,
    AuditAction.VIEW_SENSITIVE,
    AuditAction.IMPORT,
)


def _auditor_todos() -> list[TodoGroup]:
    entries = list(
        AuditLog.objects.filter(action__in=SENSITIVE_ACTIONS).order_by("-at", "-id")[: TODO_LIMIT + 1]
    )
    rows, more = _bounded(entries)
    audit = reverse("accounts:audit_log")
    items = [
        Todo(f"{e.actor_name or _('系统')} {e.get_action_display()} {e.object_repr}", audit, at=e.at)
        for e in rows
    ]
    return [
        TodoGroup(_("近期导出、导入与重置密码"), items, more, audit, _("暂无记录")),
        _runs_to_read(_("最近的计分批次")),
    ]


# The three administrators' to-dos: accounts, roles and the audit log only, never appraisal data.


def _account_item(account: User, url: str, text: str) -> Todo:
    return Todo(f"{account.display_name or account.username}（{account.username}）{text}", url)


def _system_admin_todos() -> list[TodoGroup]:
    users = reverse("accounts:user_list")
    waiting = list(
        User.objects.filter(is_active=True, must_change_password=True, last_login__isnull=True).order_by(
            "-date_joined", "-pk"
        )[: TODO_LIMIT + 1]
    )
    rows, more = _bounded(waiting)
    return [
        TodoGroup(
            _("已开通、尚未首次登录的账户"),
            [_account_item(a, reverse("accounts:user_edit", args=[a.pk]), _("待首次登录")) for a in rows],
            more,
            users,
            _("没有待首次登录的账户"),
        )
    ]


# A privileged role is the security admin's to give; new accounts are checked within this window.
RECENT_ACCOUNT_DAYS = 30


def _security_admin_todos() -> list[TodoGroup]:
    users = reverse("accounts:user_list")
    since = timezone.now() - timedelta(days=RECENT_ACCOUNT_DAYS)
    recent = list(
        User.objects.filter(is_active=True, date_joined__gte=since)
        .exclude(role__in=[Role.SYSADMIN, Role.SECADMIN, Role.AUDITADMIN])
        .order_by("-date_joined", "-pk")[: TODO_LIMIT + 1]
    )
    rows, more = _bounded(recent)
    granted = list(
        User.objects.filter(is_active=True, role=Role.OFFICE, audit_log_granted=True).order_by("pk")[
            : TODO_LIMIT + 1
        ]
    )
    granted_rows, granted_more = _bounded(granted)
    security = reverse("accounts:security")
    locked, locked_more = _bounded(
        list(
            LoginThrottle.objects.filter(locked_until__gt=timezone.now()).order_by("-locked_until")[
                : TODO_LIMIT + 1
            ]
        )
    )
    return [
        TodoGroup(
            _("当前被锁定的登录（用户名 + 来源地址）"),
            [
                Todo(
                    _("%(user)s 自 %(address)s 连续失败 %(n)d 次")
                    % {"user": t.username, "address": t.address, "n": t.failures},
                    security,
                    due=t.locked_until,
                )
                for t in locked
            ],
            locked_more,
            security,
            _("没有被锁定的登录"),
        ),
        TodoGroup(
            _("近 %(days)d 天新开通的账户（核对角色）") % {"days": RECENT_ACCOUNT_DAYS},
            [
                _account_item(a, reverse("accounts:user_role", args=[a.pk]), str(a.get_role_display()))
                for a in rows
            ],
            more,
            users,
            _("没有新开通的账户"),
        ),
        TodoGroup(
            _("已授权查阅审计日志的考核办账户"),
            [
                _account_item(a, reverse("accounts:user_role", args=[a.pk]), _("可查阅审计日志"))
                for a in granted_rows
            ],
            granted_more,
            users,
            _("没有考核办账户被授权查阅审计日志"),
        ),
    ]


def _audit_admin_todos() -> list[TodoGroup]:
    audit = reverse("accounts:audit_log")
    groups = []
    for title, actions, empty in (
        (_("近期导出、导入与重置密码"), SENSITIVE_ACTIONS, _("暂无记录")),
        (_("近期授权与登录失败"), (AuditAction.GRANT, AuditAction.LOGIN_FAILED), _("暂无记录")),
    ):
        entries = list(AuditLog.objects.filter(action__in=actions).order_by("-at", "-id")[: TODO_LIMIT + 1])
        rows, more = _bounded(entries)
        items = [
            Todo(f"{e.actor_name or _('系统')} {e.get_action_display()} {e.object_repr}", audit, at=e.at)
            for e in rows
        ]
        groups.append(TodoGroup(title, items, more, audit, empty))
    return groups
