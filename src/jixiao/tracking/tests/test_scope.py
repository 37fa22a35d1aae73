"""Every tracking page with another unit's ids: never a 200 for a unit-bound role; the auditor
never writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse

from jixiao.accounts.models import Role
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.tracking.evidence import evidence_upload
from jixiao.tracking.models import ProgressReport
from jixiao.tracking.tests.factories import DeclaredIndicatorFactory, ProgressReportFactory


@pytest.fixture(autouse=True)
def media(tmp_path: Path) -> Iterator[Path]:
    with override_settings(MEDIA_ROOT=tmp_path):
        yield tmp_path


@pytest.fixture
def foreign(db: None) -> list[str]:
    """URLs of one unit's indicator, report, evidence and pages."""
    indicator = DeclaredIndicatorFactory(lead_department=UnitFactory())
    declaration = indicator.declaration
    report = ProgressReportFactory(indicator=indicator)
    evidence = evidence_upload(
        actor=UserFactory(role=Role.OFFICE),
        cycle=declaration.cycle,
        unit=declaration.unit,
        uploads=[SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n")],
    )[0]
    report.evidence.add(evidence)
    return [
        reverse("tracking:unit", args=[declaration.unit_id]),
        reverse("tracking:evidence_library", args=[declaration.unit_id]),
        reverse("tracking:report", args=[indicator.pk]),
        reverse("tracking:grade", args=[report.pk]),
        reverse("tracking:evidence_download", args=[evidence.pk]),
    ]


@pytest.mark.parametrize("role", [Role.LIAISON, Role.LEAD_DEPT, Role.OFFICIAL])
def test_a_unit_bound_role_never_opens_another_units_tracking_objects(foreign: list[str], role: Role) -> None:
    client = Client()
    client.force_login(UserFactory(role=role, unit=UnitFactory()))
    answers = {url: client.get(url).status_code for url in foreign}
    assert answers == dict.fromkeys(foreign, 404)
    posts = {url: client.post(url, {}).status_code for url in foreign}
    assert all(status in {403, 404, 405} for status in posts.values()), posts


def test_the_auditor_reads_but_never_writes(foreign: list[str]) -> None:
    client = Client()
    client.force_login(UserFactory(role=Role.AUDITOR))
    assert all(client.get(url).status_code == 200 for url in foreign)
    before = ProgressReport.objects.get().status
    for url in [*foreign, reverse("tracking:policy")]:
        assert client.post(
            url, {"grade": "completed", "progress_percent": "100", "submit": "1"}
        ).status_code in {
            403,
            405,
        }
    assert ProgressReport.objects.get().status == before
