"""Step ``supervision``: the 督查督办 list of every cycle, so that each supervision deduction of the
demo has its task, its rating and its reports behind it (after the facts and the 2026 year).

- Past cycles (2024, 2025): every deduction the facts step wrote with source 督查督办 becomes a
  rated task of its unit (the rating level that deducts those points) and its source names the
  task; as many tasks again were finished on time (rated 按时办结, no deduction). Scores do not
  move: the same points are deducted, now with a task behind each.
- The open 2026 cycle, as of the demo's today (29 October): tasks in every state — assigned and
  not yet signed, being handled (some due within days: yellow; some overdue: red), reported done
  and waiting for the rating, rated (some with a deduction) — with progress reports, one extension
  approved and one waiting. The first liaison's unit leads a task in each state.

At the province scale the same shape for every unit (about 100,000 tasks), bulk-inserted.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from jixiao.accounts.models import User
from jixiao.demo.pipeline import Context
from jixiao.demo.year2026 import DEMO_TODAY
from jixiao.facts.models import Adjustment, AdjustmentKind
from jixiao.organisation.models import Unit
from jixiao.schemes.models import Cycle
from jixiao.supervision.models import (
    ExtensionRequest,
    ExtensionStatus,
    Priority,
    RatingLevel,
    SupervisionBulletin,
    SupervisionTask,
    TaskReport,
    TaskSource,
    TaskStatus,
)
from jixiao.supervision.services import deduction_reason, deduction_source, task_number

SOURCE = "督查督办"  # what the facts step writes on its supervision deductions
LEVELS: tuple[tuple[str, Decimal], ...] = (
    ("按时办结", Decimal("0")),
    ("办结质量不高", Decimal("0.5")),
    ("逾期办结", Decimal("1")),
    ("逾期较长", Decimal("1.5")),
    ("多次催办仍滞后", Decimal("2")),
    ("未办结", Decimal("3")),
)
TITLES: tuple[str, ...] = (
    "老旧小区改造年度任务", "重点项目按期开工", "营商环境投诉问题整改", "信访积案化解",
    "安全生产隐患排查整治", "河湖长制巡查问题整改", "政务服务事项网上可办", "农村人居环境整治",
    "高标准农田建设", "招商引资签约项目落地", "中央环保督察反馈问题整改", "城市内涝点改造",
    "义务教育学位扩容", "养老服务设施建设", "审计发现问题整改", "12345热线工单办理",
)  # fmt: skip
SOURCES = (TaskSource.MEETING, TaskSource.INSTRUCTION, TaskSource.DOCUMENT)
# 2026 tasks per unit and state: (status, deadline offset from the demo's today in days, progress)
OPEN_SHAPE: tuple[tuple[str, int, int], ...] = (
    (TaskStatus.ASSIGNED, 30, 0),
    (TaskStatus.SIGNED, 45, 60),  # green
    (TaskStatus.SIGNED, 2, 80),  # yellow: due in two days
    (TaskStatus.SIGNED, -12, 70),  # red: overdue
    (TaskStatus.SUBMITTED, 10, 100),
    (TaskStatus.RATED, -40, 100),
)


def _at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def run(ctx: Context) -> None:
    using = ctx.using
    office = User.objects.using(using).filter(username="kaohe").first()
    leader = User.objects.using(using).filter(username="lingdao").first()
    liaison = User.objects.using(using).filter(username="liaison1").first()
    rng = ctx.rng("supervision")
    for cycle in Cycle.objects.using(using).order_by("year"):
        levels = _levels(ctx, cycle)
        if cycle.year < DEMO_TODAY.year:
            _past(ctx, cycle, levels, office, leader, rng)
        else:
            _open(ctx, cycle, levels, office, leader, liaison, rng)


def _levels(ctx: Context, cycle: Cycle) -> dict[Decimal, RatingLevel]:
    pks = ctx.allocate(RatingLevel, len(LEVELS))
    rows = [
        RatingLevel(id=pk, cycle_id=cycle.pk, label=label, deduction=points, order=i)
        for i, ((label, points), pk) in enumerate(zip(LEVELS, pks, strict=True), start=1)
    ]
    ctx.insert(RatingLevel, rows)
    return {row.deduction: row for row in rows}


def _task(
    cycle: Cycle, serial: int, pk: int, unit_id: int, rng: random.Random, **fields: object
) -> SupervisionTask:
    source = SOURCES[serial % len(SOURCES)]
    return SupervisionTask(
        id=pk,
        cycle_id=cycle.pk,
        serial=serial,
        number=task_number(cycle.year, serial),
        title=f"{TITLES[rng.randrange(len(TITLES))]}",
        source=source,
        source_detail={
            TaskSource.MEETING: "市委常委会议定事项",
            TaskSource.INSTRUCTION: "市领导批示件",
            TaskSource.DOCUMENT: "省政府督查通知",
        }[source],
        lead_unit_id=unit_id,
        priority=Priority.HIGH if serial % 5 == 0 else Priority.NORMAL,
        **fields,
    )


def _past(
    ctx: Context,
    cycle: Cycle,
    levels: dict[Decimal, RatingLevel],
    office: User | None,
    leader: User | None,
    rng: random.Random,
) -> None:
    deductions = list(
        Adjustment.objects.using(ctx.using)
        .filter(cycle=cycle, source=SOURCE, kind=AdjustmentKind.DEDUCTION, unit__isnull=False)
        .order_by("pk")
    )
    on_time = list(
        Unit.objects.using(ctx.using).filter(is_active=True).order_by("pk").values_list("pk", flat=True)
    )
    rng.shuffle(on_time)
    on_time = on_time[: max(len(deductions), 1)]
    pks = ctx.allocate(SupervisionTask, len(deductions) + len(on_time))
    tasks: list[SupervisionTask] = []
    end = date(cycle.year, 12, 31)
    for serial, pk in enumerate(pks, start=1):
        assigned = date(cycle.year, 1, 1) + timedelta(days=rng.randrange(60, 240))
        deadline = min(assigned + timedelta(days=rng.randrange(30, 90)), end)
        deduction = deductions[serial - 1] if serial <= len(deductions) else None
        points = Decimal(str(deduction.points)) if deduction is not None else Decimal(0)
        level = levels.get(points) or levels[Decimal("1")]
        unit_id = deduction.unit_id if deduction is not None else on_time[serial - len(deductions) - 1]
        task = _task(
            cycle, serial, pk, unit_id or 0, rng,
            assigned_on=assigned, deadline=deadline, status=TaskStatus.RATED, progress=100 if points == 0 else 80,
            signed_at=_at(assigned + timedelta(days=1)), finished_on=deadline if points == 0 else None,
            rating_id=level.pk, rated_at=_at(deadline + timedelta(days=7)), rated_by=office,
            leader=leader if serial % 3 == 1 else None, created_by=office,
            adjustment_id=deduction.pk if deduction is not None else None,
        )  # fmt: skip
        tasks.append(task)
        if deduction is not None:
            deduction.source = deduction_source(task)
            deduction.reason = deduction_reason(task, level)
    ctx.insert(SupervisionTask, tasks)
    Adjustment.objects.using(ctx.using).bulk_update(deductions, ["source", "reason"], batch_size=2000)
    ctx.log(f"supervision {cycle.year}: {len(tasks):,} rated tasks, {len(deductions):,} with a deduction")


def _open(
    ctx: Context,
    cycle: Cycle,
    levels: dict[Decimal, RatingLevel],
    office: User | None,
    leader: User | None,
    liaison: User | None,
    rng: random.Random,
) -> None:
    units = list(
        Unit.objects.using(ctx.using).filter(is_active=True).order_by("pk").values_list("pk", flat=True)
    )
    first = liaison.unit_id if liaison is not None and liaison.unit_id else None
    # Every unit leads two tasks, the first liaison's unit one in every state.
    plan: list[tuple[int, tuple[str, int, int]]] = [
        (u, OPEN_SHAPE[rng.randrange(len(OPEN_SHAPE))]) for u in units for _ in range(2)
    ]
    if first is not None:
        plan = [(first, shape) for shape in OPEN_SHAPE] + [(u, s) for u, s in plan if u != first]
    pks = ctx.allocate(SupervisionTask, len(plan))
    tasks: list[SupervisionTask] = []
    reports: list[TaskReport] = []
    adjustments: list[Adjustment] = []
    late = levels[Decimal("1")]
    report_pks = iter(ctx.allocate(TaskReport, 2 * len(plan)))
    adjustment_pks = iter(ctx.allocate(Adjustment, len(plan)))
    for serial, ((unit_id, (status, offset, progress)), pk) in enumerate(
        zip(plan, pks, strict=True), start=1
    ):
        deadline = DEMO_TODAY + timedelta(days=offset)
        assigned = min(deadline, DEMO_TODAY) - timedelta(days=rng.randrange(20, 90))
        rated = status == TaskStatus.RATED
        level = late if rated and serial % 2 == 0 else levels[Decimal("0")]
        task = _task(
            cycle, serial, pk, unit_id, rng,
            assigned_on=assigned, deadline=deadline, status=status, progress=progress,
            signed_at=None if status == TaskStatus.ASSIGNED else _at(assigned + timedelta(days=1)),
            finished_on=deadline - timedelta(days=3) if status in (TaskStatus.SUBMITTED, TaskStatus.RATED) else None,
            rating_id=level.pk if rated else None, rated_at=_at(deadline + timedelta(days=5)) if rated else None,
            rated_by=office if rated else None, leader=leader if serial % 3 == 1 else None, created_by=office,
        )  # fmt: skip
        if rated and level.deduction > 0:
            adjustment = Adjustment(
                id=next(adjustment_pks), cycle_id=cycle.pk, unit_id=unit_id, kind=AdjustmentKind.DEDUCTION,
                points=float(level.deduction), component="", source=deduction_source(task),
                reason=deduction_reason(task, level), entered_by=office,
            )  # fmt: skip
            adjustments.append(adjustment)
            task.adjustment_id = adjustment.pk
        tasks.append(task)
        if status != TaskStatus.ASSIGNED:
            steps = (progress // 2, progress) if progress else (0,)
            for i, value in enumerate(steps):
                reports.append(
                    TaskReport(
                        id=next(report_pks),
                        task_id=pk,
                        unit_id=unit_id,
                        progress=value,
                        text=(
                            "已制定工作方案，明确责任人和时间节点" if i == 0 else "按方案推进，完成阶段任务"
                        ),
                        final=status in (TaskStatus.SUBMITTED, TaskStatus.RATED) and i == len(steps) - 1,
                    )
                )
    ctx.insert(Adjustment, adjustments)
    ctx.insert(SupervisionTask, tasks)
    ctx.insert(TaskReport, reports)
    extensions = [t for t in tasks if t.status == TaskStatus.SIGNED and t.deadline < DEMO_TODAY][:2]
    if extensions:
        pks_x = ctx.allocate(ExtensionRequest, len(extensions))
        rows = []
        for i, (task, xpk) in enumerate(zip(extensions, pks_x, strict=True)):
            rows.append(
                ExtensionRequest(
                    id=xpk,
                    task_id=task.pk,
                    reason="涉及跨部门审批，需延长办理时限",
                    old_deadline=task.deadline,
                    new_deadline=task.deadline + timedelta(days=30),
                    status=ExtensionStatus.PENDING if i == 0 else ExtensionStatus.REJECTED,
                    decided_by=None if i == 0 else office,
                    decided_at=None if i == 0 else _at(task.deadline),
                    comment="" if i == 0 else "时限已明确，不予延期",
                )
            )
        ctx.insert(ExtensionRequest, rows)
    ctx.log(
        f"supervision {cycle.year}: {len(tasks):,} tasks, {len(reports):,} reports, {len(adjustments):,} deductions"
    )
    _bulletins(ctx, cycle, office)


def _bulletins(ctx: Context, cycle: Cycle, office: User | None) -> None:
    """September's bulletin issued (with its PDF), October's a draft the office is still writing."""
    if ctx.scale.name == "province":
        return  # a province's bulletins are made from the UI (the PDF job)
    from django.core.files.base import ContentFile

    from jixiao.supervision.bulletin import bulletin_pdf

    september = SupervisionBulletin.objects.using(ctx.using).create(
        cycle=cycle,
        month=date(DEMO_TODAY.year, 9, 1),
        highlights="市住建局老旧小区改造提前一个月完成年度任务，做法已在全市推广。",
        concerns="部分事项逾期未办结，请牵头单位于下月 10 日前报送整改措施。",
    )
    september.file.save("demo-2026-09.pdf", ContentFile(bulletin_pdf(bulletin=september)), save=False)
    september.generated_at = september.published_at = _at(date(DEMO_TODAY.year, 10, 8))
    september.generated_by = september.published_by = office
    september.save()
    SupervisionBulletin.objects.using(ctx.using).create(cycle=cycle, month=date(DEMO_TODAY.year, 10, 1))
