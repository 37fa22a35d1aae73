"""Step ``year2026_tracking``: the 2026 year so far — monthly reports with evidence, grades,
red/yellow/green lights and officials' weekly logs (after :mod:`jixiao.demo.year2026`).

- 月度进展: one report per declared target and month from January (a dynamic target from its
  effective month) to October, the demo's current month (:data:`~jixiao.demo.year2026.DEMO_TODAY`
  is 29 October 2026). Progress follows the target's milestones at a pace of its own: most units
  keep up, some lag behind, a quarter of the units lag on some targets badly. January–September
  are graded by the target's lead department (按进度推进 / 进度滞后 / 已完成 with a quality
  comment); October's are submitted and wait for the grade; a few October reports of lagging
  units are missing or still drafts (overdue);
- 佐证材料: per unit and month a one-page PDF ledger attached to up to three of the month's reports
  (uploaded once, attached to several), and site photos (JPEG with EXIF time and GPS position, a
  thumbnail) on some reports; all written through Django's default storage (``var/media``);
- 红黄绿灯 per target and per unit as of the demo date (:func:`recompute_lights_hook` first, the
  demo's own rule otherwise);
- 周纪实: weekly logs of the team members of three units (the first county, 市财政局, 市生态环境局),
  attached to their unit's targets, some with a photo.

The quarterly race and the monthly ranking are left to their services (:func:`race_round_hook`,
:func:`monthly_ranking_hook`).
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from jixiao.accounts.models import Role, User
from jixiao.declarations.models import DeclaredIndicator
from jixiao.demo import evidence_files
from jixiao.demo.pipeline import Context
from jixiao.demo.year2026 import DEMO_TODAY, YEAR, aware, demo_uuid, expected_percent
from jixiao.organisation.models import Layer, Official, Unit
from jixiao.schemes.models import Cycle
from jixiao.tracking.models import (
    Evidence,
    IndicatorLight,
    Light,
    ProgressGrade,
    ProgressReport,
    ReportStatus,
    UnitLight,
    WorkLog,
)

LAST_MONTH = DEMO_TODAY.month  # October: submitted, not yet graded
REPORT_DAY = 25  # a month's report is due on the 25th
RED_SHARE = Decimal("0.8")  # red below 80 % of the expected progress
YELLOW_DAYS = 3  # yellow within 3 days of a milestone not yet reached
LAGGARD_UNITS = 0.25
MISSING_LAST = 0.1  # of a lagging unit's targets: October not reported (overdue) …
DRAFT_LAST = 0.1  # … or only drafted
CENT = Decimal("0.01")
LOG_UNITS = ("liaison1", "liaison2", "ganbu")  # the demo accounts whose units keep weekly logs

ACTIONS = (
    "召开专题调度会研究推进措施",
    "对照节点目标开展自查",
    "协调解决项目用地和资金问题",
    "完成阶段性现场核查",
    "督促责任科室倒排工期",
    "向分管领导专题汇报进展",
    "组织业务培训和经验交流",
    "梳理问题清单并逐项整改",
)
LAGS = ("项目前期手续办理", "资金拨付进度", "阴雨天气", "上级政策调整", "配套条件未落实")
QUALITY = {
    ProgressGrade.COMPLETED: ("提前完成全年目标，佐证材料齐全。", "已完成，成效明显。"),
    ProgressGrade.ON_SCHEDULE: (
        "进展符合节点要求，材料规范。",
        "按计划推进，数据与台账一致。",
        "进度正常，继续保持。",
    ),
    ProgressGrade.BEHIND: ("进度滞后于节点要求，请制定赶超措施。", "完成进度偏慢，佐证材料不够充分。"),
}
LOG_TEXTS = (
    "牵头推进{name}，{action}，形成工作清单{n}项。",
    "到基层调研{name}落实情况，{action}。",
    "参加全市{name}推进会，会后{action}。",
    "围绕{name}开展督导检查，发现问题{n}个，已明确整改时限。",
)
RACE_EXPLANATIONS = (
    "三季度部分指标进度滞后，主要是重点项目前期手续办理周期较长、资金到位偏慢。下一步将实行挂图作战，"
    "逐项明确责任人和完成时限，确保四季度完成全年目标。",
    "本单位排名靠后的原因是对节点要求把握不准、佐证材料报送不及时。已召开专题会议复盘，建立周调度机制。",
    "受汛期灾害影响，部分工程停工近一个月。已调整施工组织，增加作业面，力争11月底前追回进度。",
)
# Where the photos were taken: around the demo prefecture (an invented place in western Hunan).
BASE_LATITUDE, BASE_LONGITUDE = Decimal("28.3100"), Decimal("109.7400")


def recompute_lights_hook(ctx: Context, cycle: Cycle, as_of: date) -> bool:
    """Recompute the cycle's lights as of ``as_of`` with the tracking service
    (``tracking.lights.lights_recompute``, its rule and the cycle's policy); True when it did.

    On another database than the default one the service (which writes to the default) is not
    used and the demo writes lights by its own rule (:func:`_light`)."""
    if ctx.using != "default":
        return False
    from jixiao.tracking.lights import lights_recompute

    lights_recompute(cycle=cycle, on=as_of)
    return True


def monthly_ranking_hook(ctx: Context, cycle: Cycle, months: list[date]) -> bool:
    """Compute and publish the monthly rankings of ``months`` (``tracking.ranking``, from the
    graded reports written above) as the office account; True when it did."""
    from jixiao.tracking import ranking

    office = User.objects.using(ctx.using).filter(username="kaohe").first()
    if ctx.using != "default" or office is None:
        return False
    for month in months:
        for stored in ranking.rankings_compute(cycle=cycle, period=ranking.month(month), actor=office):
            ranking.ranking_publish(actor=office, ranking=stored)
    return True


def bulletin_hook(ctx: Context, cycle: Cycle, quarter: int) -> bool:
    """Make the quarter's bulletin (通报: rankings, lights, the race's explanations) as the office
    and issue it (印发, so every unit sees it), through ``tracking.bulletin``; True when it did."""
    from jixiao.jobs.services import job_execute
    from jixiao.tracking import bulletin

    office = User.objects.using(ctx.using).filter(username="kaohe").first()
    if ctx.using != "default" or office is None:
        return False
    made, job = bulletin.bulletin_start(actor=office, cycle=cycle, quarter=quarter)
    job_execute(job_id=job.pk)  # no worker runs during the build
    made.refresh_from_db()
    if made.file:
        bulletin.bulletin_publish(actor=office, bulletin=made)
    return True


def race_round_hook(ctx: Context, cycle: Cycle, quarter: int) -> bool:
    """Open the quarterly race (赛马) of ``quarter`` for every category, rank it at once and file
    some of the bottom three's explanations (:data:`RACE_EXPLANATIONS`; one accepted, the rest
    waiting for the office); True when it did.

    ``race_open`` refuses a deadline that is not after the real today (the demo's date is in the
    past by the time anyone runs it), so the deadline is two weeks after the later of the two."""
    from jixiao.jobs.services import job_execute
    from jixiao.organisation.models import UnitCategory
    from jixiao.tracking import race as races
    from jixiao.tracking.models import RaceExplanation

    office = User.objects.using(ctx.using).filter(username="kaohe").first()
    if ctx.using != "default" or office is None:
        return False
    categories = list(UnitCategory.objects.filter(units__isnull=False).distinct().order_by("order", "pk"))
    if not categories:
        return False
    deadline = max(DEMO_TODAY, timezone.localdate()) + timedelta(days=14)
    rounds, job = races.race_open(
        actor=office, cycle=cycle, quarter=quarter, categories=categories, bottom_count=3, deadline=deadline
    )
    if job is not None:
        job_execute(job_id=job.pk)  # no worker runs during the build: rank here
    liaisons = {u.unit_id: u for u in User.objects.filter(role=Role.LIAISON, unit_id__isnull=False)}
    explanations = RaceExplanation.objects.filter(race__in=rounds).order_by(
        "race__category__order", "rank", "pk"
    )
    for index, explanation in enumerate(explanations):
        if index % 3 == 2:
            continue  # every third stays owed: the race page shows who has not explained yet
        filed = races.explanation_submit(
            actor=liaisons.get(explanation.unit_id, office),
            explanation=explanation,
            text=RACE_EXPLANATIONS[index % len(RACE_EXPLANATIONS)],
        )
        if index == 0:
            races.explanation_review(actor=office, explanation=filed, accept=True, comment="")
    return True


@dataclass
class _Target:
    pk: int
    unit_id: int
    name: str
    measure: str
    target: Decimal | None
    lead_id: int | None
    start: date
    milestones: list[tuple[date, Decimal]]
    category_id: int
    pace: float = 1.0
    reports: list[ProgressReport] = field(default_factory=list)


def _targets(cycle: Cycle, using: str) -> list[_Target]:
    rows = (
        DeclaredIndicator.objects.using(using)
        .filter(declaration__cycle=cycle)
        .select_related("declaration__unit")
        .prefetch_related("milestones")
        .order_by("declaration__unit__code", "order", "pk")
    )
    return [
        _Target(
            pk=d.pk,
            unit_id=d.declaration.unit_id,
            name=d.name,
            measure=d.measure,
            target=d.target,
            lead_id=d.lead_department_id,
            start=d.effective_from or date(YEAR, 1, 1),
            milestones=[(m.due, m.expected_percent) for m in d.milestones.all()],
            category_id=d.declaration.unit.category_id,
        )
        for d in rows
    ]


def _month_end(month: int) -> date:
    return (date(YEAR, month, 28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _grade(progress: Decimal, expected: Decimal) -> str:
    if progress >= 100:
        return ProgressGrade.COMPLETED
    return ProgressGrade.ON_SCHEDULE if progress >= expected * Decimal("0.95") else ProgressGrade.BEHIND


def _narrative(
    rng: random.Random, t: _Target, month: int, progress: Decimal, behind: bool
) -> tuple[str, Decimal | None]:
    value = None
    if t.target is not None and t.measure in ("亿元", "项", "人", "万亩"):
        value = (t.target * progress / 100).quantize(Decimal("1") if t.measure in ("项", "人") else CENT)
    done = f"累计完成{value}{t.measure}，" if value is not None else ""
    text = f"{month}月，{t.name}{done}完成全年目标进度的{progress.normalize():f}%；{rng.choice(ACTIONS)}。"
    if behind:
        text += f"受{rng.choice(LAGS)}影响进度滞后，已制定赶进度措施，下月集中攻坚。"
    return text, value


def _pace(rng: random.Random, laggard: bool) -> tuple[float, bool]:
    """(pace against the schedule, whether the target falls short of the October node only)."""
    draw = rng.random()
    red, yellow = (0.3, 0.3) if laggard else (0.0, 0.15)
    if draw < red:
        return rng.uniform(0.5, 0.76), False
    if draw < red + yellow:
        return rng.uniform(1.03, 1.06), True
    return rng.uniform(1.06, 1.2), False


def _short_of_next_node(rng: random.Random, t: _Target) -> Decimal | None:
    """October progress between the last passed milestone and the next one (yellow, not red)."""
    passed = [pct for due, pct in t.milestones if due < DEMO_TODAY]
    coming = [pct for due, pct in t.milestones if due >= DEMO_TODAY]
    if not passed or not coming or coming[0] - passed[-1] < 2:
        return None
    return Decimal(str(rng.uniform(float(passed[-1]) + 0.5, float(coming[0]) - 0.5))).quantize(CENT)


def _store(name: str, content: bytes) -> str:
    return default_storage.save(name, ContentFile(content))


@dataclass
class _Files:
    evidence: list[Evidence] = field(default_factory=list)
    uploaded: list[tuple[Evidence, date]] = field(default_factory=list)
    photos: dict[tuple[int, int], list[int]] = field(default_factory=lambda: defaultdict(list))


def _evidence(
    ctx: Context,
    rng: random.Random,
    files: _Files,
    *,
    cycle: Cycle,
    unit: Unit,
    day: date,
    kind: str,
    title: str,
    lines: list[str],
    uploader: User | None,
) -> int:
    pk = ctx.allocate(Evidence, 1)[0]
    name = demo_uuid(rng).hex
    folder = f"evidence/{day:%Y/%m}"
    thumb = ""
    latitude = longitude = None
    taken = None
    if kind == "pdf":
        content = evidence_files.pdf_bytes(title, lines)
        stored = _store(f"{folder}/{name}.pdf", content)
        original, content_type = f"{title}.pdf", "application/pdf"
    else:
        taken = aware(day, rng.randint(9, 16), rng.randint(0, 59))
        latitude = (BASE_LATITUDE + Decimal(rng.uniform(-0.4, 0.4))).quantize(Decimal("0.000001"))
        longitude = (BASE_LONGITUDE + Decimal(rng.uniform(-0.5, 0.5))).quantize(Decimal("0.000001"))
        content = evidence_files.photo_bytes(
            rng, taken_at=taken.replace(tzinfo=None), latitude=latitude, longitude=longitude
        )
        stored = _store(f"{folder}/{name}.jpg", content)
        thumb = _store(f"evidence/thumbs/{day:%Y/%m}/{name}.jpg", evidence_files.thumbnail_bytes(content))
        original, content_type = f"{title}.jpg", "image/jpeg"
        files.photos[(unit.pk, day.month)].append(pk)
    evidence = Evidence(
        id=pk,
        cycle_id=cycle.pk,
        unit_id=unit.pk,
        file=stored,
        original_name=original[:200],
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        thumbnail=thumb,
        taken_at=taken,
        latitude=latitude,
        longitude=longitude,
        uploaded_by=uploader,
    )
    files.evidence.append(evidence)
    files.uploaded.append((evidence, day))
    return pk


def run(ctx: Context) -> None:
    if ctx.scale.name == "province":
        return
    using = ctx.using
    cycle = Cycle.objects.using(using).filter(year=YEAR).first()
    if cycle is None:
        return
    rng = ctx.rng("year2026:tracking")
    targets = _targets(cycle, using)
    units = {u.pk: u for u in Unit.objects.using(using).filter(pk__in={t.unit_id for t in targets})}
    users = {
        u.username: u
        for u in User.objects.using(using).filter(
            username__in=["liaison1", "liaison2", "tongji", "kaohe", "ganbu"]
        )
    }
    liaison_of = {u.unit_id: u for name, u in users.items() if name.startswith("liaison") and u.unit_id}
    tongji = users.get("tongji")
    office = users.get("kaohe")
    laggards = set(rng.sample(sorted(units), round(len(units) * LAGGARD_UNITS)))

    reports: list[ProgressReport] = []
    files = _Files()
    links: list[tuple[int, int]] = []  # (report pk, evidence pk)
    by_unit_month: dict[tuple[int, int], list[ProgressReport]] = defaultdict(list)
    for t in targets:
        t.pace, stalls = _pace(rng, t.unit_id in laggards)
        previous = Decimal(0)
        for month in range(t.start.month, LAST_MONTH + 1):
            last = month == LAST_MONTH
            lagging = t.unit_id in laggards
            if last and lagging and rng.random() < MISSING_LAST:
                continue  # overdue: not reported
            as_of = date(YEAR, month, REPORT_DAY)
            expected = expected_percent(as_of, t.start, t.milestones)
            noisy = float(expected) * t.pace * rng.uniform(0.97, 1.03)
            progress = max(
                previous, min(Decimal(100), Decimal(str(noisy)).quantize(CENT, rounding=ROUND_HALF_UP))
            )
            if last and stalls and (stalled := _short_of_next_node(rng, t)) is not None:
                progress = max(previous, stalled)  # past milestones met, October's node not yet
            previous = progress
            grade = (
                "" if last else _grade(progress, expected_percent(_month_end(month), t.start, t.milestones))
            )
            behind = progress < expected
            narrative, value = _narrative(rng, t, month, progress, behind)
            draft = last and lagging and rng.random() < DRAFT_LAST
            grader = (
                tongji if tongji and t.lead_id == tongji.unit_id else office if t.lead_id is None else None
            )
            report = ProgressReport(
                id=ctx.allocate(ProgressReport, 1)[0],
                indicator_id=t.pk,
                period=date(YEAR, month, 1),
                value_to_date=value,
                progress_percent=progress,
                narrative=narrative,
                status=ReportStatus.DRAFT
                if draft
                else ReportStatus.SUBMITTED
                if last
                else ReportStatus.GRADED,
                submitted_by=liaison_of.get(t.unit_id),
                submitted_at=None
                if draft
                else aware(as_of - timedelta(days=rng.randint(0, 4)), rng.randint(9, 17)),
                grade=grade,
                quality_comment=rng.choice(QUALITY[ProgressGrade(grade)]) if grade else "",
                graded_by=grader if grade else None,
                graded_at=aware(_month_end(month) + timedelta(days=rng.randint(2, 6)), 15) if grade else None,
            )
            reports.append(report)
            t.reports.append(report)
            by_unit_month[(t.unit_id, month)].append(report)

    # Evidence: a monthly ledger per unit attached to up to three reports; photos on some reports.
    for (unit_id, month), month_reports in sorted(by_unit_month.items()):
        unit = units[unit_id]
        day = date(YEAR, month, REPORT_DAY - 2)
        uploader = liaison_of.get(unit_id)
        short = unit.short_name or unit.name
        chosen = rng.sample(month_reports, min(3, len(month_reports)))
        ledger = _evidence(
            ctx,
            rng,
            files,
            cycle=cycle,
            unit=unit,
            day=day,
            kind="pdf",
            title=f"{short}{YEAR}年{month}月目标任务推进台账",
            lines=[
                f"单位：{unit.name}",
                f"月份：{YEAR}年{month}月",
                *(f"{r.narrative[:40]}" for r in chosen),
            ],
            uploader=uploader,
        )
        links += [(r.pk, ledger) for r in chosen]
        if rng.random() < 0.4:
            report = rng.choice(month_reports)
            photo = _evidence(
                ctx,
                rng,
                files,
                cycle=cycle,
                unit=unit,
                day=day - timedelta(days=rng.randint(1, 10)),
                kind="photo",
                title=f"{short}{month}月现场照片",
                lines=[],
                uploader=uploader,
            )
            links.append((report.pk, photo))

    ctx.insert(Evidence, files.evidence)
    ctx.insert(ProgressReport, reports)
    through = ProgressReport.evidence.through
    ctx.insert(through, [through(progressreport_id=r, evidence_id=e) for r, e in links])
    _logs(ctx, rng, cycle, targets, units, users, files)
    for evidence, day in files.uploaded:
        evidence.uploaded_at = aware(day, 11)
    Evidence.objects.using(using).bulk_update([e for e, _ in files.uploaded], ["uploaded_at"], batch_size=500)

    if not recompute_lights_hook(ctx, cycle, DEMO_TODAY):
        _write_lights(ctx, cycle, targets)
    # Q3's months: the ranking pages show month-over-month movement (all nine months took ~25 s).
    monthly_ranking_hook(ctx, cycle, [date(YEAR, m, 1) for m in (7, 8, 9)])
    race_round_hook(ctx, cycle, 3)
    bulletin_hook(ctx, cycle, 3)


def _light(t: _Target) -> tuple[str, Decimal, Decimal | None, str]:
    """(colour, expected %, reported %, reason) of one target as of the demo date."""
    expected = expected_percent(DEMO_TODAY, t.start, t.milestones)
    done = [r for r in t.reports if r.status != ReportStatus.DRAFT]
    reported = done[-1].progress_percent if done else None
    if not done or done[-1].period.month != LAST_MONTH:
        return Light.RED, expected, reported, f"{LAST_MONTH}月进展逾期未报送"
    assert reported is not None
    if reported < expected * RED_SHARE:
        return Light.RED, expected, reported, f"实际进度{reported}%，低于应完成进度{expected}%的80%"
    near = [
        (due, pct)
        for due, pct in t.milestones
        if DEMO_TODAY <= due <= DEMO_TODAY + timedelta(days=YELLOW_DAYS)
    ]
    for due, pct in near:
        if reported < pct:
            return (
                Light.YELLOW,
                expected,
                reported,
                f"{due.month}月{due.day}日节点应完成{pct}%，当前{reported}%",
            )
    if reported < expected:
        return Light.YELLOW, expected, reported, f"进度滞后：应完成{expected}%，实际{reported}%"
    return Light.GREEN, expected, reported, "已完成全年目标" if reported >= 100 else "按进度推进"


def _write_lights(ctx: Context, cycle: Cycle, targets: list[_Target]) -> None:
    rows: list[IndicatorLight] = []
    tally: dict[int, dict[str, int]] = defaultdict(lambda: {Light.GREEN: 0, Light.YELLOW: 0, Light.RED: 0})
    category: dict[int, int] = {}
    for t in targets:
        color, expected, reported, reason = _light(t)
        rows.append(
            IndicatorLight(
                indicator_id=t.pk,
                cycle_id=cycle.pk,
                unit_id=t.unit_id,
                category_id=t.category_id,
                lead_department_id=t.lead_id,
                color=color,
                expected_percent=expected,
                reported_percent=reported,
                reason=reason,
                as_of=DEMO_TODAY,
            )
        )
        tally[t.unit_id][color] += 1
        category[t.unit_id] = t.category_id
    ctx.insert(IndicatorLight, rows)
    ctx.insert(
        UnitLight,
        [
            UnitLight(
                cycle_id=cycle.pk,
                unit_id=unit_id,
                category_id=category[unit_id],
                green=c[Light.GREEN],
                yellow=c[Light.YELLOW],
                red=c[Light.RED],
                color=Light.RED if c[Light.RED] else Light.YELLOW if c[Light.YELLOW] else Light.GREEN,
                as_of=DEMO_TODAY,
            )
            for unit_id, c in sorted(tally.items())
        ],
    )


def _logs(
    ctx: Context,
    rng: random.Random,
    cycle: Cycle,
    targets: list[_Target],
    units: dict[int, Unit],
    users: dict[str, User],
    files: _Files,
) -> None:
    """Weekly logs of the team (head and members) of the log units, Monday 5 January – 26 October."""
    first_new = len(files.evidence)
    unit_ids = sorted(
        {u.unit_id for n in LOG_UNITS if (u := users.get(n)) and u.unit_id and u.unit_id in units}
    )
    officials = list(
        Official.objects.using(ctx.using)
        .filter(unit_id__in=unit_ids, is_active=True, layer__in=[Layer.HEAD, Layer.MEMBER])
        .order_by("unit_id", "code")
    )
    by_unit: dict[int, list[_Target]] = defaultdict(list)
    for t in targets:
        by_unit[t.unit_id].append(t)
    logs: list[WorkLog] = []
    stamps: list[tuple[WorkLog, date]] = []
    indicator_links: list[tuple[int, int]] = []
    evidence_links: list[tuple[int, int]] = []
    weeks = []
    week = date(YEAR, 1, 5)
    while week <= DEMO_TODAY - timedelta(days=3):
        weeks.append(week)
        week += timedelta(days=7)
    for official in officials:
        mine = by_unit.get(official.unit_id, [])
        if not mine:
            continue
        for week in weeks:
            if rng.random() < 0.15:
                continue  # a week without a log (leave, holidays)
            pk = ctx.allocate(WorkLog, 1)[0]
            picked = rng.sample(mine, min(len(mine), rng.randint(1, 2)))
            text = "".join(
                rng.choice(LOG_TEXTS).format(name=t.name, action=rng.choice(ACTIONS), n=rng.randint(2, 9))
                for t in picked
            )
            log = WorkLog(id=pk, cycle_id=cycle.pk, official_id=official.pk, week=week, text=text)
            logs.append(log)
            stamps.append((log, week + timedelta(days=4)))
            indicator_links += [(pk, t.pk) for t in picked]
            if rng.random() < 0.2:
                photo = _evidence(
                    ctx,
                    rng,
                    files,
                    cycle=cycle,
                    unit=units[official.unit_id],
                    day=week + timedelta(days=rng.randint(0, 4)),
                    kind="photo",
                    title=f"{official.name}工作纪实照片{week:%m%d}",
                    lines=[],
                    uploader=None,
                )
                evidence_links.append((pk, photo))
    # The log photos are new evidence rows (run() inserted the reports' before calling this).
    ctx.insert(Evidence, files.evidence[first_new:])
    ctx.insert(WorkLog, logs)
    ind = WorkLog.indicators.through
    ctx.insert(ind, [ind(worklog_id=w, declaredindicator_id=i) for w, i in indicator_links])
    ev = WorkLog.evidence.through
    ctx.insert(ev, [ev(worklog_id=w, evidence_id=e) for w, e in evidence_links])
    for log, day in stamps:
        log.created_at = log.updated_at = aware(day, 17, 30)
    WorkLog.objects.using(ctx.using).bulk_update(
        [log for log, _ in stamps], ["created_at", "updated_at"], batch_size=500
    )
