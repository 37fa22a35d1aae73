"""Monthly reports: drafting, submitting with evidence, stage and scope rules, grading."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse

from jixiao.accounts.models import AuditLog, Role
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.schemes.lifecycle import CycleLocked, StageClosed
from jixiao.schemes.models import Cycle, CycleStage, CycleStatus
from jixiao.tracking.evidence import EvidenceRejected, evidence_upload
from jixiao.tracking.models import (
    IndicatorLight,
    Light,
    ProgressGrade,
    ProgressReport,
    ReportStatus,
    UnitLight,
)
from jixiao.tracking.reports import progress_from, report_grade, report_save
from jixiao.tracking.tests.factories import DeclaredIndicatorFactory, MilestoneFactory

PDF = b"%PDF-1.4\n%%EOF\n"
JUNE = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def media(tmp_path: Path) -> Iterator[Path]:
    with override_settings(MEDIA_ROOT=tmp_path):
        yield tmp_path


@pytest.fixture
def setup(db: None) -> dict[str, object]:
    lead = UnitFactory(name="发改委")
    indicator = DeclaredIndicatorFactory(lead_department=lead, target=Decimal("200"))
    MilestoneFactory(indicator=indicator, due=date(2026, 6, 30), expected_percent=Decimal("50"))
    unit = indicator.declaration.unit
    return {
        "indicator": indicator,
        "liaison": UserFactory(role=Role.LIAISON, unit=unit),
        "lead": UserFactory(role=Role.LEAD_DEPT, unit=lead),
        "other": UserFactory(role=Role.LIAISON, unit=UnitFactory()),
    }


def save(setup: dict[str, object], **kw: object) -> ProgressReport:
    args: dict[str, object] = {
        "actor": setup["liaison"],
        "indicator": setup["indicator"],
        "period": date(2026, 6, 1),
        "value_to_date": Decimal("90"),
        "progress_percent": None,
        "narrative": "完成项目签约 3 个",
        "submit": True,
        "today": JUNE,
    }
    args.update(kw)
    return report_save(**args)  # type: ignore[arg-type]


def test_progress_is_computed_from_the_value_and_the_target() -> None:
    assert progress_from(Decimal("90"), Decimal("200")) == Decimal("45.00")
    assert progress_from(Decimal("90"), None) is None
    assert progress_from(Decimal("5000"), Decimal("1")) == Decimal("999.99")


def test_a_submitted_report_with_new_and_reused_evidence_recomputes_the_lights(
    setup: dict[str, object],
) -> None:
    indicator = setup["indicator"]
    kept = evidence_upload(
        actor=setup["liaison"],  # type: ignore[arg-type]
        cycle=indicator.declaration.cycle,  # type: ignore[attr-defined]
        unit=indicator.declaration.unit,  # type: ignore[attr-defined]
        uploads=[SimpleUploadedFile("旧材料.pdf", PDF)],
    )[0]
    report = save(setup, uploads=[SimpleUploadedFile("新材料.pdf", PDF + b"new")], attach=[kept.pk])
    assert report.status == ReportStatus.SUBMITTED and report.progress_percent == Decimal("45.00")
    assert report.submitted_by == setup["liaison"] and report.period == date(2026, 6, 1)
    assert sorted(e.original_name for e in report.evidence.all()) == ["新材料.pdf", "旧材料.pdf"]
    light = IndicatorLight.objects.get(indicator=indicator)  # type: ignore[misc]
    assert light.color == Light.GREEN and light.reported_percent == Decimal("45.00")
    assert UnitLight.objects.filter(unit=indicator.declaration.unit).exists()  # type: ignore[attr-defined]
    assert AuditLog.objects.filter(object_type="tracking.progressreport").exists()


def test_a_draft_needs_no_progress_but_a_submission_does(setup: dict[str, object]) -> None:
    draft = save(setup, value_to_date=None, submit=False)
    assert draft.status == ReportStatus.DRAFT
    with pytest.raises(ValidationError, match="报送前请填写完成进度"):
        save(setup, value_to_date=None)


def test_the_same_month_is_updated_not_duplicated(setup: dict[str, object]) -> None:
    save(setup, submit=False)
    save(setup, value_to_date=Decimal("100"))
    assert ProgressReport.objects.count() == 1
    assert ProgressReport.objects.get().progress_percent == Decimal("50.00")


def test_a_bad_file_keeps_nothing_of_the_report(setup: dict[str, object], media: Path) -> None:
    with pytest.raises(EvidenceRejected):
        save(setup, uploads=[SimpleUploadedFile("好.pdf", PDF), SimpleUploadedFile("坏.jpg", b"not a photo")])
    assert ProgressReport.objects.count() == 0
    assert [p for p in media.rglob("*") if p.is_file()] == []


def test_another_units_evidence_cannot_be_attached(setup: dict[str, object]) -> None:
    other_unit = setup["other"].unit  # type: ignore[attr-defined]
    theirs = evidence_upload(
        actor=setup["other"],  # type: ignore[arg-type]
        cycle=setup["indicator"].declaration.cycle,  # type: ignore[attr-defined]
        unit=other_unit,
        uploads=[SimpleUploadedFile("他人.pdf", PDF)],
    )[0]
    with pytest.raises(ValidationError, match="不属于本单位"):
        save(setup, attach=[theirs.pk])


def test_another_units_liaison_and_the_lead_department_cannot_report(setup: dict[str, object]) -> None:
    with pytest.raises(PermissionDenied):
        save(setup, actor=setup["other"])
    with pytest.raises(PermissionDenied):
        save(setup, actor=setup["lead"])


def test_reports_are_refused_outside_the_tracking_stage_and_in_a_closed_cycle(
    setup: dict[str, object],
) -> None:
    cycle = Cycle.objects.get()
    Cycle.objects.filter(pk=cycle.pk).update(stage=CycleStage.PUBLICATION)
    with pytest.raises(StageClosed, match="过程跟踪"):
        save(setup)
    Cycle.objects.filter(pk=cycle.pk).update(stage=CycleStage.TRACKING, status=CycleStatus.CLOSED)
    with pytest.raises(CycleLocked):
        save(setup)


def test_a_future_month_or_another_year_is_refused(setup: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="尚未到来"):
        save(setup, period=date(2026, 8, 1))
    with pytest.raises(ValidationError, match="2026"):
        save(setup, period=date(2025, 12, 1))


def test_the_lead_department_grades_and_a_graded_report_is_final_for_the_unit(
    setup: dict[str, object],
) -> None:
    report = save(setup)
    graded = report_grade(
        actor=setup["lead"],  # type: ignore[arg-type]
        report=report,
        grade=ProgressGrade.ON_SCHEDULE,
        quality_comment="材料齐全",
        today=JUNE,
    )
    assert graded.status == ReportStatus.GRADED and graded.graded_by == setup["lead"]
    assert graded.quality_comment == "材料齐全"
    with pytest.raises(ValidationError, match="已由牵头部门评定"):
        save(setup)


def test_only_the_indicators_lead_department_or_the_office_grades(setup: dict[str, object]) -> None:
    report = save(setup)
    for actor in (
        setup["liaison"],
        UserFactory(role=Role.LEAD_DEPT, unit=UnitFactory()),
        UserFactory(role=Role.AUDITOR),
    ):
        with pytest.raises(PermissionDenied):
            report_grade(actor=actor, report=report, grade=ProgressGrade.BEHIND, quality_comment="")  # type: ignore[arg-type]
    office = UserFactory(role=Role.OFFICE)
    assert (
        report_grade(actor=office, report=report, grade=ProgressGrade.BEHIND, quality_comment="").grade
        == "behind"
    )


def test_a_draft_cannot_be_graded(setup: dict[str, object]) -> None:
    report = save(setup, submit=False)
    with pytest.raises(ValidationError, match="尚未报送"):
        report_grade(actor=setup["lead"], report=report, grade=ProgressGrade.BEHIND, quality_comment="")  # type: ignore[arg-type]


def test_the_report_page_keeps_what_was_typed_when_the_submission_fails(setup: dict[str, object]) -> None:
    client = Client()
    client.force_login(setup["liaison"])  # type: ignore[arg-type]
    url = reverse("tracking:report", args=[setup["indicator"].pk])  # type: ignore[attr-defined]
    response = client.post(
        url, {"period": "2026-06", "narrative": "本月推进顺利", "progress_percent": "abc", "submit": "1"}
    )
    page = response.content.decode()
    assert response.status_code == 200 and "本月推进顺利" in page
    assert ProgressReport.objects.count() == 0


def test_another_units_indicator_page_is_a_404(setup: dict[str, object]) -> None:
    client = Client()
    client.force_login(setup["other"])  # type: ignore[arg-type]
    indicator = setup["indicator"]
    assert client.get(reverse("tracking:report", args=[indicator.pk])).status_code == 404  # type: ignore[attr-defined]
    unit_pk = indicator.declaration.unit_id  # type: ignore[attr-defined]
    assert client.get(reverse("tracking:unit", args=[unit_pk])).status_code == 404
    assert client.get(reverse("tracking:evidence_library", args=[unit_pk])).status_code == 404


def test_the_grading_queue_lists_only_reports_of_indicators_the_department_leads(
    setup: dict[str, object],
) -> None:
    save(setup)
    mine = DeclaredIndicatorFactory(name="别人牵头的指标")
    mine_report = ProgressReport.objects.create(
        indicator=mine, period=date(2026, 5, 1), status=ReportStatus.SUBMITTED, progress_percent=Decimal(10)
    )
    client = Client()
    client.force_login(setup["lead"])  # type: ignore[arg-type]
    page = client.get(reverse("tracking:grading")).content.decode()
    assert setup["indicator"].name in page and "别人牵头的指标" not in page  # type: ignore[attr-defined]
    assert client.get(reverse("tracking:grade", args=[mine_report.pk])).status_code == 404
