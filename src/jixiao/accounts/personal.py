"""Personal data masked by role (个人信息最小化), and the logged view of unmasked data (查询留痕).

The one mechanism every page and export uses: :func:`shown` gives a value as ``user`` may see it
(the template tag ``{% personal value "birth_date" %}`` and the registry export call it), and
:func:`sensitive_view_record` writes the audit entry (VIEW_SENSITIVE: who, what, when) of every
page or file that shows unmasked personal data.

Who needs unmasked data: the office, for registry work (birth dates of officials, which the
appointment rules read), and the system admin for the phone of the account being edited (the one
form that shows it). Everyone else — leaders, auditors, liaisons, lead departments, officials,
the security and audit admins — sees ``1985-**-**`` and ``138****1234``; the audit log masks
them for every reader.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import Any

from django.db import models

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, Role, User


class Kind(StrEnum):
    """What a personal value is, which decides how it is masked."""

    DATE = "date"  # a birth date: the year stays (ages and age bands still work)
    PHONE = "phone"  # a mobile number: the first three and last four digits stay
    ID = "id"  # an ID-like number: the first six (region) and the last four stay


# Model fields (by attribute name) that hold personal data, and their kind: the audit log, the
# export and the pages mask these.
PERSONAL_FIELDS: dict[str, Kind] = {
    "birth_date": Kind.DATE,
    "phone": Kind.PHONE,
    "id_number": Kind.ID,
}
MASK = "*"
_ISO_DATE = re.compile(r"^(\d{4})-\d{2}-\d{2}")


def sees_personal_data(user: User | None) -> bool:
    """Whether ``user`` sees personal data unmasked: the office (registry work) and the console
    (``None``, e.g. ``jixiao export``). A superuser is a technician's account, not the office's
    registry work, but keeps the office's pages; it sees what the office sees."""
    if user is None:
        return True
    return user.is_authenticated and user.is_active and (user.is_superuser or user.role == Role.OFFICE)


def mask_date(value: date | str | None) -> str:
    """``1985-03-01`` → ``1985-**-**``; empty stays empty."""
    if value in (None, ""):
        return ""
    text = value.isoformat() if isinstance(value, date) else str(value)
    found = _ISO_DATE.match(text)
    return f"{found[1]}-{MASK * 2}-{MASK * 2}" if found else MASK * len(text)


def mask_phone(value: str | None) -> str:
    """``13812341234`` → ``138****1234``; a short value is masked whole."""
    text = (value or "").strip()
    if len(text) < 8:
        return MASK * len(text)
    return text[:3] + MASK * (len(text) - 7) + text[-4:]


def mask_id(value: str | None) -> str:
    """``110101198503011234`` → ``110101********1234``; a short value is masked whole."""
    text = (value or "").strip()
    if len(text) < 12:
        return MASK * len(text)
    return text[:6] + MASK * (len(text) - 10) + text[-4:]


def mask(value: Any, kind: Kind | str) -> str:
    """``value`` masked as ``kind``."""
    kind = Kind(kind)
    if kind == Kind.DATE:
        return mask_date(value)
    if kind == Kind.PHONE:
        return mask_phone(None if value is None else str(value))
    return mask_id(None if value is None else str(value))


def shown(user: User | None, value: Any, kind: Kind | str) -> Any:
    """``value`` as ``user`` may see it: unchanged for :func:`sees_personal_data`, else masked."""
    if value in (None, ""):
        return value
    return value if sees_personal_data(user) else mask(value, kind)


def sensitive_view_record(
    *,
    actor: User | None,
    fields: Iterable[str],
    where: str,
    obj: models.Model | None = None,
    object_type: str = "",
    count: int | None = None,
) -> None:
    """Audit that ``actor`` saw unmasked personal ``fields`` on the page or file ``where`` (a URL
    name), of ``obj`` or of ``count`` rows of ``object_type`` — the 查询留痕 of every view."""
    changes: dict[str, Any] = {"fields": sorted(fields), "where": where}
    if count is not None:
        changes["rows"] = count
    audit_record(
        actor=actor,
        action=AuditAction.VIEW_SENSITIVE,
        obj=obj,
        object_type=object_type,
        changes=changes,
    )
