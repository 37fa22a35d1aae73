"""The evidence store: type by content, size limit, photos' EXIF, thumbnails, no orphan files,
and the authorised download."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from PIL import Image

from jixiao.accounts.models import Role
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.tracking.evidence import (
    DOCX,
    PPTX,
    XLSX,
    EvidenceRejected,
    detect_type,
    evidence_store,
    evidence_upload,
    files_kept_only_on_success,
    inspect,
)
from jixiao.tracking.models import Evidence
from jixiao.tracking.tests.factories import TrackingCycleFactory

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(tmp_path: Path) -> Iterator[Path]:
    with override_settings(MEDIA_ROOT=tmp_path):
        yield tmp_path


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def photo(fmt: str = "JPEG", *, exif: bool = True, size: tuple[int, int] = (800, 600)) -> bytes:
    image = Image.new("RGB", size, (30, 120, 200))
    out = io.BytesIO()
    kwargs: dict[str, Any] = {}
    if exif:
        data = Image.Exif()
        data[0x0132] = "2026:05:12 09:30:00"  # DateTime
        data[0x8825] = {  # GPS IFD: 36°25'N 94°54'E (Golmud)
            1: "N",
            2: (36.0, 25.0, 12.0),
            3: "E",
            4: (94.0, 54.0, 0.0),
        }
        kwargs["exif"] = data
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def office_zip(part: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(part, "<x/>")
    return out.getvalue()


def ole(stream: str) -> bytes:
    return bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504 + stream.encode("utf-16-le") + b"\0" * 64


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PDF, "application/pdf"),
        (office_zip("word/document.xml"), DOCX),
        (office_zip("xl/workbook.xml"), XLSX),
        (office_zip("ppt/presentation.xml"), PPTX),
        (ole("WordDocument"), "application/msword"),
        (ole("Workbook"), "application/vnd.ms-excel"),
        (photo(), "image/jpeg"),
        (photo("PNG", exif=False), "image/png"),
        (photo("WEBP", exif=False), "image/webp"),
    ],
)
def test_accepted_types_are_recognised_by_content(data: bytes, expected: str) -> None:
    assert detect_type(data) == expected


def test_a_heic_photo_is_accepted_with_a_thumbnail() -> None:
    import pillow_heif

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 10)).save(out, "HEIF")
    found = inspect(out.getvalue(), "照片.heic")
    assert pillow_heif is not None and found.content_type == "image/heic" and found.thumbnail


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"MZ\x90\x00 an executable", "报告.pdf"),  # the name says PDF, the content does not
        (b"<html><script>alert(1)</script></html>", "照片.jpg"),
        (office_zip("content.xml"), "表格.xlsx"),  # a zip without the workbook part
        (b"PK\x03\x04 broken zip", "文档.docx"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "坏图.png"),  # a damaged image
        (b"", "空.pdf"),
    ],
)
def test_other_or_damaged_content_is_refused_with_a_chinese_message(data: bytes, name: str) -> None:
    with pytest.raises(EvidenceRejected) as refused:
        inspect(data, name)
    message = refused.value.messages[0]
    assert name in message and "未能上传" in message


@override_settings(JIXIAO_EVIDENCE_MAX_BYTES=1024 * 1024)
def test_an_oversized_file_is_refused_naming_the_limit() -> None:
    with pytest.raises(EvidenceRejected, match="超过 1 MB 的上限"):
        inspect(PDF + b"0" * 1024 * 1024, "大文件.pdf")


@pytest.mark.django_db
@override_settings(JIXIAO_EVIDENCE_MAX_BYTES=1024 * 1024)
def test_an_oversized_upload_is_refused_before_it_is_read(media: Path) -> None:
    big = SimpleUploadedFile("大文件.pdf", PDF + b"0" * 1024 * 1024)
    with pytest.raises(EvidenceRejected, match="超过 1 MB"):
        evidence_upload(
            actor=UserFactory(role=Role.OFFICE),
            cycle=TrackingCycleFactory(),
            unit=UnitFactory(),
            uploads=[big],
        )
    assert stored_files(media) == []


def test_a_photo_keeps_its_exif_time_and_place_and_gets_a_small_thumbnail() -> None:
    found = inspect(photo(), "现场.jpg")
    assert found.taken_at is not None
    assert found.taken_at.replace(tzinfo=None) == datetime(2026, 5, 12, 9, 30)
    assert found.latitude == Decimal("36.420000") and found.longitude == Decimal("94.900000")
    assert found.thumbnail is not None
    with Image.open(io.BytesIO(found.thumbnail)) as thumb:
        assert max(thumb.size) <= 320


@pytest.mark.django_db
def test_a_stored_file_gets_a_random_name_and_the_same_file_is_stored_once(media: Path) -> None:
    cycle, unit = TrackingCycleFactory(), UnitFactory()
    user = UserFactory(role=Role.LIAISON, unit=unit)
    first = evidence_upload(
        actor=user, cycle=cycle, unit=unit, uploads=[SimpleUploadedFile("../../etc/现场照片.jpg", photo())]
    )[0]
    assert first.original_name == "现场照片.jpg"
    assert first.content_type == "image/jpeg" and first.thumbnail
    assert "现场" not in first.file.name and first.file.name.endswith(".jpg")
    assert len(Path(first.file.name).stem) == 32
    again = evidence_upload(
        actor=user, cycle=cycle, unit=unit, uploads=[SimpleUploadedFile("再传.jpg", photo())]
    )[0]
    assert again.pk == first.pk
    assert len(stored_files(media)) == 2  # the photo and its thumbnail


@pytest.mark.django_db
def test_one_bad_file_in_an_upload_keeps_nothing(media: Path) -> None:
    cycle, unit = TrackingCycleFactory(), UnitFactory()
    user = UserFactory(role=Role.LIAISON, unit=unit)
    uploads = [SimpleUploadedFile("好.pdf", PDF), SimpleUploadedFile("坏.exe", b"MZ\x90\x00")]
    with pytest.raises(EvidenceRejected):
        evidence_upload(actor=user, cycle=cycle, unit=unit, uploads=uploads)
    assert Evidence.objects.count() == 0
    assert stored_files(media) == []


@pytest.mark.django_db
def test_a_transaction_that_fails_after_storing_leaves_no_orphan_file(media: Path) -> None:
    cycle, unit = TrackingCycleFactory(), UnitFactory()
    with pytest.raises(RuntimeError), files_kept_only_on_success() as saved, transaction.atomic():
        evidence_store(
            actor=None, cycle=cycle, unit=unit, upload=SimpleUploadedFile("a.pdf", PDF), saved=saved
        )
        assert stored_files(media)
        raise RuntimeError("later step failed")
    assert stored_files(media) == []
    assert Evidence.objects.count() == 0


@pytest.mark.django_db
def test_download_streams_the_file_with_its_name_and_nosniff() -> None:
    cycle, unit = TrackingCycleFactory(), UnitFactory()
    user = UserFactory(role=Role.LIAISON, unit=unit)
    ev = evidence_upload(
        actor=user, cycle=cycle, unit=unit, uploads=[SimpleUploadedFile("工作总结.pdf", PDF)]
    )[0]
    client = Client()
    client.force_login(user)
    response = client.get(reverse("tracking:evidence_download", args=[ev.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment") and "filename*=utf-8''" in disposition
    assert "private" in response["Cache-Control"]


@pytest.mark.django_db
def test_another_units_evidence_is_a_404_and_there_is_no_public_url() -> None:
    cycle, mine, other = TrackingCycleFactory(), UnitFactory(), UnitFactory()
    theirs = evidence_upload(
        actor=UserFactory(role=Role.OFFICE),
        cycle=cycle,
        unit=other,
        uploads=[SimpleUploadedFile("x.pdf", PDF)],
    )[0]
    client = Client()
    client.force_login(UserFactory(role=Role.LIAISON, unit=mine))
    assert client.get(reverse("tracking:evidence_download", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("tracking:evidence_thumbnail", args=[theirs.pk])).status_code == 404
    assert Client().get(reverse("tracking:evidence_download", args=[theirs.pk])).status_code == 302
    assert client.get("/media/" + (theirs.file.name or "")).status_code == 404


@pytest.mark.django_db
def test_the_lead_department_opens_evidence_attached_to_reports_it_grades() -> None:
    from jixiao.tracking.tests.factories import DeclaredIndicatorFactory, ProgressReportFactory

    lead = UnitFactory()
    indicator = DeclaredIndicatorFactory(lead_department=lead)
    unit = indicator.declaration.unit
    ev = evidence_upload(
        actor=UserFactory(role=Role.OFFICE),
        cycle=indicator.declaration.cycle,
        unit=unit,
        uploads=[SimpleUploadedFile("x.pdf", PDF)],
    )[0]
    loose = evidence_upload(
        actor=UserFactory(role=Role.OFFICE),
        cycle=indicator.declaration.cycle,
        unit=unit,
        uploads=[SimpleUploadedFile("y.pdf", PDF + b"%other")],
    )[0]
    ProgressReportFactory(indicator=indicator).evidence.add(ev)
    client = Client()
    client.force_login(UserFactory(role=Role.LEAD_DEPT, unit=lead))
    assert client.get(reverse("tracking:evidence_download", args=[ev.pk])).status_code == 200
    assert client.get(reverse("tracking:evidence_download", args=[loose.pk])).status_code == 404


@pytest.mark.django_db
def test_the_library_page_shows_the_units_volume_and_refuses_a_bad_file_in_chinese() -> None:
    cycle, unit = TrackingCycleFactory(), UnitFactory()
    user = UserFactory(role=Role.LIAISON, unit=unit)
    client = Client()
    client.force_login(user)
    url = reverse("tracking:evidence_library", args=[unit.pk])
    response = client.post(url, {"uploads": [SimpleUploadedFile("病毒.exe", b"MZ\x90\x00")]})
    assert response.status_code == 200
    assert "文件类型不支持" in response.content.decode()
    response = client.post(url, {"uploads": [SimpleUploadedFile("总结.pdf", PDF)]}, follow=True)
    page = response.content.decode()
    assert "总结.pdf" in page and "共 1 份材料" in page
    assert cycle.year == 2026


def test_a_volume_of_small_files_reads_at_least_a_tenth_of_a_megabyte() -> None:
    from decimal import Decimal

    from jixiao.tracking.selectors import Volume

    assert Volume(files=14, bytes=14 * 1500).megabytes == Decimal("0.1")
    assert Volume(files=0, bytes=0).megabytes == 0
    assert Volume(files=2, bytes=3 * 1024 * 1024).megabytes == Decimal("3.0")
