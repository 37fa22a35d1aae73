"""The demo's 2026 year in progress: framework, declarations and their review, reports with
evidence files, lights and weekly logs (steps ``year2026`` and ``year2026_tracking``)."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.db.models import Count, Sum
from django.utils import timezone
from PIL import Image

from jixiao.declarations.models import (
    ChangeRequest,
    Declaration,
    DeclarationStatus,
    DeclarationVersion,
    DeclaredIndicator,
    DynamicTask,
    IndicatorComment,
    ReviewDecision,
    ReviewOutcome,
    ReviewStage,
)
from jixiao.demo.generator import generate, reset_database
from jixiao.demo.year2026 import CORE_CAP, DEMO_TODAY, REVIEW_STAGES, YEAR
from jixiao.organisation.models import Unit
from jixiao.schemes.models import Cycle, CycleStage, CycleStatus, IndicatorKind, IndicatorNode, Scheme
from jixiao.schemes.rule_types import validate_rule_params
from jixiao.tracking.models import (
    Evidence,
    ExplanationStatus,
    IndicatorLight,
    MonthlyRanking,
    ProgressReport,
    RaceExplanation,
    RaceRound,
    ReportStatus,
    UnitLight,
    WorkLog,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def demo() -> None:
    generate(scale="tiny", seed=2025)


def test_2026_is_open_in_tracking_on_the_2025_framework_and_2025_is_in_evaluation(demo: None) -> None:
    cycle = Cycle.objects.get(year=YEAR)
    assert (cycle.status, cycle.stage) == (CycleStatus.OPEN, CycleStage.TRACKING)
    assert set(Cycle.objects.filter(year__lt=YEAR).values_list("stage", flat=True)) == {CycleStage.EVALUATION}
    assert Cycle.objects.get(year=2025).status == CycleStatus.OPEN  # scored by the demo afterwards

    schemes = Scheme.objects.filter(cycle=cycle)
    assert schemes.count() == 8
    assert all(s.copied_from is not None and s.copied_from.cycle.year == 2025 for s in schemes)
    annual = IndicatorNode.objects.filter(scheme__cycle=cycle, component__code="annual")
    assert set(annual.values_list("level", flat=True)) == {1, 2}  # the framework
    assert (
        annual.filter(level=2).count()
        == IndicatorNode.objects.filter(scheme__cycle__year=2025, component__code="annual", level=2).count()
    )
    # The office's common trees are copied whole.
    assert IndicatorNode.objects.filter(scheme__cycle=cycle, component__code="self", level=4).exists()
    assert list(ReviewStage.objects.filter(cycle=cycle).values_list("order", "name", "role")) == [
        (order, name, role) for order, name, role, _ in REVIEW_STAGES
    ]


def test_every_unit_declares_5_to_12_targets_with_weights_of_100_per_framework_node(demo: None) -> None:
    cycle = Cycle.objects.get(year=YEAR)
    assert Declaration.objects.filter(cycle=cycle).count() == Unit.objects.filter(is_active=True).count()
    base = DeclaredIndicator.objects.filter(declaration__cycle=cycle, kind=IndicatorKind.BASE)
    per_unit = Counter(base.values_list("declaration_id", flat=True))
    assert min(per_unit.values()) >= 5 and max(per_unit.values()) <= 12
    sums = base.values("declaration_id", "parent_id").annotate(total=Sum("weight"))
    assert {row["total"] for row in sums} == {Decimal("100.00")}
    for item in base.select_related("parent", "parent__component"):
        assert item.parent.level == 2 and item.parent.component.code == "annual"
        assert item.parent.scheme.cycle_id == cycle.pk
        validate_rule_params(item.rule_type, item.rule_params, indicator=item.name)
        assert item.target is not None and item.measure and item.target_text
        dues = list(item.milestones.values_list("due", "expected_percent"))
        assert len(dues) == 5 and dues[-1][1] == Decimal(100)
    core = Counter(base.filter(is_core=True).values_list("declaration_id", flat=True))
    assert max(core.values()) <= CORE_CAP
    assert base.exclude(lead_department=None).exists()


def test_declarations_went_through_review_some_sent_back_once_and_a_few_flagged_low(demo: None) -> None:
    cycle = Cycle.objects.get(year=YEAR)
    declarations = Declaration.objects.filter(cycle=cycle)
    statuses = set(declarations.values_list("status", flat=True))
    assert statuses == {DeclarationStatus.PUBLISHED, DeclarationStatus.CHANGING}
    assert all(d.published_at is not None and d.published_version for d in declarations)

    returns = ReviewDecision.objects.filter(version__declaration__cycle=cycle, outcome=ReviewOutcome.RETURN)
    assert returns.exists()
    for decision in returns.select_related("version"):
        assert decision.version.number == 1 and decision.stage.order == 2
        uids = {item["uid"] for item in decision.version.snapshot}
        comments = IndicatorComment.objects.filter(decision=decision)
        assert comments.exists() and {str(c.indicator_uid) for c in comments} <= uids
        v2 = DeclarationVersion.objects.get(declaration=decision.version.declaration, number=2)
        approvals = v2.decisions.filter(outcome=ReviewOutcome.APPROVE)
        assert set(approvals.values_list("stage__order", flat=True)) == set(range(1, len(REVIEW_STAGES) + 1))
        assert v2.submitted_at > decision.decided_at
    once = declarations.annotate(n=Count("versions")).filter(n=1, status=DeclarationStatus.PUBLISHED)
    assert once.exists()
    for declaration in once:
        decided = ReviewDecision.objects.filter(version__declaration=declaration)
        # One decision per stage, the 业务部门 stage one per lead department of the unit's reviewed
        # targets (a dynamic task's indicators came after the review).
        leads = set(
            DeclaredIndicator.objects.filter(
                declaration=declaration, lead_department__isnull=False, task__isnull=True
            ).values_list("lead_department_id", flat=True)
        )
        assert set(decided.filter(stage__order=1).values_list("department_id", flat=True)) == (
            leads or {None}
        )
        assert decided.exclude(stage__order=1).count() == len(REVIEW_STAGES) - 1

    low = DeclaredIndicator.objects.filter(declaration__cycle=cycle, low_ambition=True)
    assert low.exists()
    for item in low:
        assert item.ambition_reason and item.last_year_actual is not None
        assert item.target is not None and item.target < item.last_year_actual

    changing = declarations.get(status=DeclarationStatus.CHANGING)
    assert changing.stage is not None and changing.stage.order == 2
    assert changing.version == changing.published_version + 1  # type: ignore[operator]
    assert ChangeRequest.objects.filter(declaration=changing, status="open").exists()

    task = DynamicTask.objects.get(cycle=cycle)
    assert task.effective_from.month == 6 and task.units.exists()
    dynamic = DeclaredIndicator.objects.filter(task=task)
    assert dynamic.count() == task.units.count()
    assert all(d.kind == IndicatorKind.DYNAMIC and d.effective_from == task.effective_from for d in dynamic)


def test_reports_run_january_to_october_with_evidence_files_in_storage(demo: None) -> None:
    cycle = Cycle.objects.get(year=YEAR)
    reports = ProgressReport.objects.filter(indicator__declaration__cycle=cycle)
    months = {p.month for p in reports.values_list("period", flat=True)}
    assert months == set(range(1, DEMO_TODAY.month + 1))
    assert not reports.filter(period__month__lt=DEMO_TODAY.month).exclude(status=ReportStatus.GRADED).exists()
    assert (
        reports.filter(status=ReportStatus.GRADED).exclude(grade="").count()
        == reports.filter(status=ReportStatus.GRADED).count()
    )
    assert reports.filter(period__month=DEMO_TODAY.month, status=ReportStatus.SUBMITTED).exists()
    dynamic = reports.filter(indicator__kind=IndicatorKind.DYNAMIC)
    assert min(p.month for p in dynamic.values_list("period", flat=True)) == 6

    evidence = Evidence.objects.filter(cycle=cycle)
    assert {"application/pdf", "image/jpeg"} <= set(evidence.values_list("content_type", flat=True))
    for item in evidence:
        assert default_storage.exists(item.file.name)
        with default_storage.open(item.file.name) as handle:
            content = handle.read()
        assert len(content) == item.size
        if item.content_type == "application/pdf":
            assert content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")
        else:
            exif = Image.open(io.BytesIO(content)).getexif()
            assert exif.get_ifd(0x8769)[0x9003] and exif.get_ifd(0x8825)[2]
            assert item.taken_at is not None and item.latitude is not None
            assert item.thumbnail and default_storage.exists(item.thumbnail.name)
    # A file uploaded once is attached to several reports.
    shared = evidence.annotate(n=Count("reports")).filter(n__gt=1)
    assert shared.exists()

    logs = WorkLog.objects.filter(cycle=cycle)
    assert logs.exists() and logs.filter(indicators__isnull=False).exists()
    assert logs.filter(evidence__isnull=False).exists()
    assert max(logs.values_list("week", flat=True)) <= DEMO_TODAY


def test_lights_of_all_three_colours_per_target_and_per_unit(demo: None) -> None:
    cycle = Cycle.objects.get(year=YEAR)
    lights = IndicatorLight.objects.filter(cycle=cycle)
    assert lights.count() == DeclaredIndicator.objects.filter(declaration__cycle=cycle).count()
    assert set(lights.values_list("color", flat=True)) == {"green", "yellow", "red"}
    assert all(light.reason for light in lights)
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for unit_id, color in lights.values_list("unit_id", "color"):
        counts[unit_id][color] += 1
    for unit_light in UnitLight.objects.filter(cycle=cycle):
        mine = counts[unit_light.unit_id]
        assert (unit_light.green, unit_light.yellow, unit_light.red) == (
            mine["green"],
            mine["yellow"],
            mine["red"],
        )
        worst = "red" if mine["red"] else "yellow" if mine["yellow"] else "green"
        assert unit_light.color == worst
    published = MonthlyRanking.objects.filter(cycle=cycle, published_at__isnull=False)
    assert {p.month for p in published.values_list("period", flat=True)} == {7, 8, 9}


def test_the_same_seed_gives_the_same_year() -> None:
    def fingerprint() -> list[tuple[object, ...]]:
        return list(
            DeclaredIndicator.objects.order_by("declaration__unit__code", "order", "name").values_list(
                "declaration__unit__code", "name", "target", "weight", "rule_type", "light__color"
            )
        )

    generate(scale="tiny", seed=7)
    first = fingerprint()
    reset_database()
    generate(scale="tiny", seed=7)
    assert fingerprint() == first


def test_the_third_quarter_race_is_ranked_with_explanations_filed_accepted_and_owed(demo: None) -> None:
    cycle = Cycle.objects.get(year=YEAR)
    rounds = RaceRound.objects.filter(cycle=cycle, quarter=3)
    assert rounds.exists() and not rounds.filter(opened_at__isnull=True).exists()
    assert all(r.ranking is not None and r.ranking.is_published for r in rounds)
    assert all(r.deadline > timezone.localdate() for r in rounds)
    explanations = RaceExplanation.objects.filter(race__in=rounds)
    statuses = set(explanations.values_list("status", flat=True))
    assert {ExplanationStatus.ACCEPTED, ExplanationStatus.SUBMITTED, ExplanationStatus.PENDING} <= statuses
    assert all(e.text for e in explanations.exclude(status=ExplanationStatus.PENDING))


def test_the_year_has_stage_dates_zone_weights_and_an_issued_third_quarter_bulletin(demo: None) -> None:
    from jixiao.schemes.models import CycleStagePlan, ZoneWeight
    from jixiao.schemes.selectors import zone_weight_problems
    from jixiao.tracking.models import Bulletin

    cycle = Cycle.objects.get(year=YEAR)
    plans = CycleStagePlan.objects.filter(cycle=cycle)
    assert set(plans.values_list("stage", flat=True)) == set(CycleStage.values)
    tracking = plans.get(stage=CycleStage.TRACKING)
    assert tracking.opens_on is not None and tracking.closes_on is not None
    assert tracking.opens_on <= DEMO_TODAY <= tracking.closes_on  # the demo's today is in tracking
    weights = ZoneWeight.objects.filter(node__scheme__cycle=cycle).select_related("node__scheme", "zone")
    assert weights.exists() and {w.zone.code for w in weights} == {"ecological"}
    for scheme in {w.node.scheme for w in weights}:
        assert zone_weight_problems(scheme=scheme) == []  # the zone's siblings still sum to 100
    bulletin = Bulletin.objects.get(cycle=cycle, quarter=3)
    assert bulletin.is_published and bulletin.file and default_storage.exists(bulletin.file.name)
    assert default_storage.open(bulletin.file.name).read(5) == b"%PDF-"
