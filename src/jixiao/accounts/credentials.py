"""Handing the initial passwords of a bulk import to the office: once, sealed, audited.

Where the passwords wait between the import and the downloads — the choice and why:
the import's response cannot carry two files, so the passwords must outlive that request for a
moment. They are kept **sealed in the importing office's own session**: Fernet (AES-128-CBC +
HMAC-SHA-256) under a key derived from SECRET_KEY, with a time limit of
:data:`WINDOW_SECONDS`. Each format (PDF, Excel) can be downloaded once; after the second
download, after the window or at logout the sealed blob is gone. We preferred this to a database
row because nothing new is written to a table (a backup or a replica never sees even the
ciphertext outside the session table, which expires), only the browser that ran the import can
fetch the files, and there is no clean-up job to forget. The session table holds ciphertext only:
a copy of the database without SECRET_KEY reveals no password. The audit log records each
download (how many accounts, which format), never a password.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.bulk import Credential
from jixiao.accounts.models import AuditAction, User
from jixiao.web.workbooks import safe_workbook

SESSION_KEY = "jixiao.accounts.credentials"
WINDOW_SECONDS = 15 * 60
FORMATS = ("pdf", "xlsx")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"jixiao.accounts.credentials:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


@dataclass(frozen=True)
class Pending:
    """What the import page may say about sealed passwords: never the passwords themselves."""

    count: int
    formats: tuple[str, ...]
    expires_at: float  # Unix time

    @property
    def minutes_left(self) -> int:
        return max(0, int((self.expires_at - time.time()) // 60))


def seal(session: SessionBase, credentials: Sequence[Credential]) -> None:
    """Keep ``credentials`` sealed in ``session`` for one download of each format."""
    token = _fernet().encrypt(json.dumps([asdict(c) for c in credentials]).encode()).decode("ascii")
    session[SESSION_KEY] = {
        "token": token,
        "count": len(credentials),
        "formats": list(FORMATS),
        "expires_at": time.time() + WINDOW_SECONDS,
    }


def pending(session: SessionBase) -> Pending | None:
    """Return what is still downloadable, or None (and drop an expired seal)."""
    entry = session.get(SESSION_KEY)
    if not entry:
        return None
    if entry["expires_at"] < time.time() or not entry["formats"]:
        del session[SESSION_KEY]
        return None
    return Pending(entry["count"], tuple(entry["formats"]), entry["expires_at"])


def _unseal_once(session: SessionBase, fmt: str) -> list[Credential] | None:
    if pending(session) is None:
        return None
    entry = dict(session[SESSION_KEY])
    if fmt not in entry["formats"]:
        return None
    entry["formats"] = [f for f in entry["formats"] if f != fmt]
    if entry["formats"]:
        session[SESSION_KEY] = entry
    else:
        del session[SESSION_KEY]
    try:
        raw = _fernet().decrypt(entry["token"].encode("ascii"), ttl=WINDOW_SECONDS)
    except InvalidToken:
        return None
    return [Credential(**item) for item in json.loads(raw)]


def credentials_pdf(credentials: Sequence[Credential], *, login_url: str) -> bytes:
    """Return an A4 PDF with one cut-out notice per account (unit, name, role, username, initial
    password, where to log in)."""
    from weasyprint import HTML

    html = render_to_string(
        "accounts/credentials_pdf.html",
        {"credentials": credentials, "login_url": login_url, "issued": timezone.localtime()},
    )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def credentials_xlsx(credentials: Sequence[Credential], *, login_url: str) -> bytes:
    """Return the accounts and initial passwords as a workbook with Chinese headers."""
    buffer = io.BytesIO()
    workbook = safe_workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    header = workbook.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1})
    ws = workbook.add_worksheet(_("初始密码"))
    titles = [_("单位代码"), _("单位名称"), _("姓名"), _("角色"), _("用户名"), _("初始密码"), _("手机号")]
    for col, (title, width) in enumerate(zip(titles, (12, 28, 14, 16, 18, 16, 14), strict=True)):
        ws.set_column(col, col, width)
        ws.write_string(0, col, title, header)
    for row, c in enumerate(credentials, start=1):
        ws.write_row(
            row, 0, [c.unit_code, c.unit_name, c.display_name, c.role, c.username, c.password, c.phone]
        )
    note = len(credentials) + 2
    ws.write_string(
        note, 0, _("登录地址：%(url)s；首次登录须修改密码。本表含密码，分发后请销毁。") % {"url": login_url}
    )
    workbook.close()
    return buffer.getvalue()


def credentials_download(*, actor: User, session: SessionBase, fmt: str, login_url: str) -> bytes | None:
    """Return the sealed passwords as ``fmt`` (``pdf`` or ``xlsx``) — once per format — and audit
    the export; None when that file was already downloaded or the window has passed."""
    credentials = _unseal_once(session, fmt)
    if credentials is None:
        return None
    render = credentials_pdf if fmt == "pdf" else credentials_xlsx
    content = render(credentials, login_url=login_url)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="accounts.user",
        object_repr=_("初始密码（%(n)s 个账户）") % {"n": len(credentials)},
        changes={"file": f"initial-passwords.{fmt}", "accounts": len(credentials)},
    )
    return content
