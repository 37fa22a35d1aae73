"""The one evidence store (佐证材料) of the product: check an upload by its content, keep it through
Django's storage API under a random name, read photos' EXIF time and place, make thumbnails.

Storage: ``Evidence.file`` uses the ``default`` storage of ``settings.STORAGES`` — local files
under ``var/media`` unless a django-storages backend is configured there. Files are never served
by a media URL: :mod:`jixiao.tracking.views` streams them to a user who may see them.

Accepted (by content, never by the name's extension): PDF; Word/Excel/PowerPoint (docx/xlsx/pptx,
whose zip must hold the document's own parts; old doc/xls/ppt compound files); JPEG, PNG, WebP and
HEIC photos (opened with Pillow; pillow-heif for HEIC). Anything else, a damaged image, or a file
above ``JIXIAO_EVIDENCE_MAX_BYTES`` (default 20 MiB) is refused with a Chinese message before a
byte is stored. Files written by a service that then fails are deleted again
(:func:`files_kept_only_on_success`), so a failed transaction leaves no orphan file.

The same file (by SHA-256) uploaded twice by a unit in a cycle is stored once: the second upload
returns the first row (less paperwork, less volume — offices are told to cut 过度留痕).
"""

from __future__ import annotations

import hashlib
import io
import secrets
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import PurePath
from typing import Any

import filetype
import pillow_heif
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User
from jixiao.hygiene import CONTROL_CHARACTERS
from jixiao.organisation.models import Unit
from jixiao.schemes.models import Cycle
from jixiao.tracking.models import Evidence

pillow_heif.register_heif_opener()

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# A photo larger than this many pixels is refused before it is decoded (a decompression bomb).
MAX_PIXELS = 80_000_000
THUMBNAIL_SIZE = (320, 320)
# A zip-based Office document whose parts unpack to more than this is refused (a zip bomb).
MAX_UNZIPPED_BYTES = 300 * 1024 * 1024
MAX_ZIP_ENTRIES = 10_000

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic"}
# content type → (extension of the stored name, what the page calls it)
ACCEPTED: dict[str, tuple[str, str]] = {
    "application/pdf": ("pdf", "PDF"),
    DOCX: ("docx", "Word"),
    XLSX: ("xlsx", "Excel"),
    PPTX: ("pptx", "PowerPoint"),
    "application/msword": ("doc", "Word"),
    "application/vnd.ms-excel": ("xls", "Excel"),
    "application/vnd.ms-powerpoint": ("ppt", "PowerPoint"),
    "image/jpeg": ("jpg", "JPEG"),
    "image/png": ("png", "PNG"),
    "image/webp": ("webp", "WebP"),
    "image/heic": ("heic", "HEIC"),
}
# The part a zip must hold to be that Office document.
_OOXML_PARTS = {DOCX: "word/document.xml", XLSX: "xl/workbook.xml", PPTX: "ppt/presentation.xml"}
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
# The stream names (UTF-16LE in the compound file's directory) that tell doc, xls and ppt apart.
_OLE_STREAMS = {
    "application/msword": "WordDocument".encode("utf-16-le"),
    "application/vnd.ms-excel": "Workbook".encode("utf-16-le"),
    "application/vnd.ms-powerpoint": "PowerPoint Document".encode("utf-16-le"),
}
_OLE_OLD_EXCEL = "Book".encode("utf-16-le")


class EvidenceRejected(ValidationError):
    """An upload that is not kept (type, size, damage); the message says why, in Chinese."""


def max_bytes() -> int:
    """The size limit of one evidence file (``JIXIAO_EVIDENCE_MAX_BYTES``)."""
    return int(getattr(settings, "JIXIAO_EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES))


def kind_label(content_type: str) -> str:
    """What a page calls a stored file's type (PDF, Word, JPEG …)."""
    return ACCEPTED.get(content_type, ("", _("文件")))[1]


@dataclass(frozen=True)
class Inspected:
    """What the content check found: the type and, for photos, a thumbnail and the EXIF data."""

    content_type: str
    extension: str
    thumbnail: bytes | None = None
    taken_at: datetime | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None


def _refuse(name: str, reason: str) -> EvidenceRejected:
    return EvidenceRejected(_("“%(name)s”未能上传：%(reason)s") % {"name": name, "reason": reason})


def _accepted_list() -> str:
    return _("PDF、Word、Excel、PowerPoint 文档和 JPEG、PNG、WebP、HEIC 照片")


def detect_type(data: bytes) -> str | None:
    """The content type of ``data`` when it is one the store accepts, else None."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        return _ooxml_type(data)
    if data.startswith(_OLE_MAGIC):
        for content_type, stream in _OLE_STREAMS.items():
            if stream in data:
                return content_type
        return "application/vnd.ms-excel" if _OLE_OLD_EXCEL in data else None
    guess = filetype.guess(data[:8192])
    if guess is not None and guess.mime in IMAGE_TYPES:
        return str(guess.mime)
    return None


def _ooxml_type(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES or sum(e.file_size for e in entries) > MAX_UNZIPPED_BYTES:
                return None
            names = {e.filename for e in entries}
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    for content_type, part in _OOXML_PARTS.items():
        if part in names:
            return content_type
    return None


def _ratio(value: Any) -> Decimal:
    return Decimal(str(float(value)))


def _degrees(dms: Any, ref: Any) -> Decimal | None:
    try:
        d, m, s = (_ratio(v) for v in dms)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = d + m / 60 + s / 3600
    if str(ref).upper().startswith(("S", "W")):
        value = -value
    return value.quantize(Decimal("0.000001"))


def _exif(image: Image.Image) -> tuple[datetime | None, Decimal | None, Decimal | None]:
    """(taken at, latitude, longitude) from a photo's EXIF, each None when absent or unreadable."""
    exif = image.getexif()
    taken: datetime | None = None
    raw = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal) or exif.get(
        ExifTags.Base.DateTime
    )
    if isinstance(raw, str):
        try:
            taken = timezone.make_aware(datetime.strptime(raw.strip("\x00 "), "%Y:%m:%d %H:%M:%S"))
        except ValueError:
            taken = None
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    lat = lon = None
    if gps:
        lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef, "N"))
        lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef, "E"))
        if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
            lat = lon = None
    return taken, lat, lon


def _inspect_image(data: bytes, name: str, content_type: str) -> Inspected:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise _refuse(name, _("照片像素过大（超过 %(n)d 万像素）") % {"n": MAX_PIXELS // 10_000})
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            taken, lat, lon = _exif(image)
            thumb = ImageOps.exif_transpose(image).convert("RGB")
            thumb.thumbnail(THUMBNAIL_SIZE)
            out = io.BytesIO()
            thumb.save(out, "JPEG", quality=80)
    except EvidenceRejected:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise _refuse(name, _("照片已损坏或无法识别")) from exc
    return Inspected(content_type, IMAGE_TYPES[content_type], out.getvalue(), taken, lat, lon)


def inspect(data: bytes, name: str) -> Inspected:
    """Check ``data`` (the whole upload) by content; return what was found or raise
    :class:`EvidenceRejected` with the reason."""
    if len(data) == 0:
        raise _refuse(name, _("文件是空的"))
    if len(data) > max_bytes():
        raise _refuse(name, _too_big())
    content_type = detect_type(data)
    if content_type is None:
        raise _refuse(name, _("文件类型不支持或内容与类型不符，只接受%(list)s") % {"list": _accepted_list()})
    if content_type in IMAGE_TYPES:
        return _inspect_image(data, name, content_type)
    return Inspected(content_type, ACCEPTED[content_type][0])


def _too_big() -> str:
    return _("文件超过 %(mb)s MB 的上限，请压缩或拆分后再上传") % {"mb": _mb(max_bytes())}


def _mb(n: int) -> str:
    value = Decimal(n) / Decimal(1024 * 1024)
    text = f"{value.quantize(Decimal('0.1')):f}"
    return text[:-2] if text.endswith(".0") else text


def clean_name(name: str) -> str:
    """The original file name for the page and the download: no directories, no control
    characters, at most 200 characters (keeping the extension)."""
    base = PurePath(name.replace("\\", "/")).name or _("未命名文件")
    base = CONTROL_CHARACTERS.sub("", base).strip() or _("未命名文件")
    if len(base) > 200:
        suffix = PurePath(base).suffix[:20]
        base = base[: 200 - len(suffix)] + suffix
    return base


def storage() -> Storage:
    """The storage evidence files live in (the ``default`` storage)."""
    return Evidence._meta.get_field("file").storage


@contextmanager
def files_kept_only_on_success() -> Iterator[list[str]]:
    """Collect the names of files a service stores; delete them again when the block raises, so a
    failed transaction leaves no orphan file. Use it outside the service's ``transaction.atomic``."""
    saved: list[str] = []
    try:
        yield saved
    except BaseException:
        for stored in saved:
            storage().delete(stored)
        raise


def _random_name(folder: str, extension: str) -> str:
    today = timezone.localdate()
    return f"{folder}/{today:%Y/%m}/{secrets.token_hex(16)}.{extension}"


def read_upload(upload: UploadedFile[Any]) -> bytes:
    """The upload's bytes, refusing an oversized one before reading it."""
    name = clean_name(upload.name or "")
    if upload.size is not None and upload.size > max_bytes():
        raise _refuse(name, _too_big())
    upload.seek(0)
    data = upload.read(max_bytes() + 1)
    if len(data) > max_bytes():
        raise _refuse(name, _too_big())
    return bytes(data)


def evidence_store(
    *, actor: User | None, cycle: Cycle, unit: Unit, upload: UploadedFile[Any], saved: list[str]
) -> Evidence:
    """Check and keep one upload of ``unit`` in ``cycle``; return its Evidence row (the existing
    one when the unit already holds the same file). Names of stored files are appended to
    ``saved`` (see :func:`files_kept_only_on_success`). Call inside the caller's transaction."""
    name = clean_name(upload.name or "")
    data = read_upload(upload)
    found = inspect(data, name)
    digest = hashlib.sha256(data).hexdigest()
    same = Evidence.objects.filter(cycle=cycle, unit=unit, sha256=digest).first()
    if same is not None:
        return same
    store = storage()
    stored = store.save(_random_name("evidence", found.extension), ContentFile(data))
    saved.append(stored)
    thumb = ""
    if found.thumbnail is not None:
        thumb = store.save(_random_name("evidence/thumbs", "jpg"), ContentFile(found.thumbnail))
        saved.append(thumb)
    evidence = Evidence.objects.create(
        cycle=cycle,
        unit=unit,
        file=stored,
        original_name=name,
        content_type=found.content_type,
        size=len(data),
        sha256=digest,
        thumbnail=thumb,
        taken_at=found.taken_at,
        latitude=found.latitude,
        longitude=found.longitude,
        uploaded_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=evidence,
        changes={
            "original_name": name,
            "content_type": found.content_type,
            "size": len(data),
            "unit": unit.pk,
        },
    )
    return evidence


def evidence_upload(
    *, actor: User, cycle: Cycle, unit: Unit, uploads: list[UploadedFile[Any]]
) -> list[Evidence]:
    """Add files to a unit's evidence library (all or none); return their rows."""
    from jixiao.accounts.permissions import can_edit_unit
    from jixiao.schemes.lifecycle import assert_cycle_editable

    if not can_edit_unit(actor, unit.pk):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    assert_cycle_editable(cycle)
    with files_kept_only_on_success() as saved, transaction.atomic():
        return [evidence_store(actor=actor, cycle=cycle, unit=unit, upload=u, saved=saved) for u in uploads]
