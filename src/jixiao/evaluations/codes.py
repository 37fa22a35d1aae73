"""One-time ballot codes: generation, the peppered hash we store, and the printable A4 sheet.

A code is ``secrets.token_urlsafe(16)`` (128 random bits). Only HMAC-SHA-256(pepper, code) is
stored, so a database copy cannot be turned back into codes; the pepper comes from the
``JIXIAO_BALLOT_PEPPER`` environment variable, falling back to SECRET_KEY. The code travels in
the URL fragment (``/evaluations/b/#<code>``), which browsers never send to the server, so no
access log, proxy or Referer header ever carries it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string

CODE_BYTES = 16  # 128 bits
PEPPER_ENV = "JIXIAO_BALLOT_PEPPER"


def _pepper() -> bytes:
    return (os.environ.get(PEPPER_ENV) or settings.SECRET_KEY).encode()


def secret_key_material() -> bytes:
    """The server-side secret the code hashes and the sealed ballot buffer are keyed from."""
    return _pepper()


def new_code() -> str:
    """Return a fresh random code (22 URL-safe characters)."""
    return secrets.token_urlsafe(CODE_BYTES)


def code_hash(code: str) -> str:
    """Return the hex digest stored for ``code``; surrounding blanks are ignored."""
    return hmac.new(_pepper(), code.strip().encode(), hashlib.sha256).hexdigest()


def looks_like_code(code: str) -> bool:
    """Cheap shape check before touching the database (URL-safe base64, sane length)."""
    code = code.strip()
    return 16 <= len(code) <= 64 and all(c.isalnum() or c in "-_" for c in code)


@dataclass(frozen=True)
class PrintedCode:
    code: str
    name: str  # the named rater, or "" for codes handed out at random


def codes_pdf(*, event_name: str, group_name: str, ballot_url: str, codes: Sequence[PrintedCode]) -> bytes:
    """Return an A4 PDF with one cut-out card per code: QR code of ``ballot_url#code`` and the code."""
    import segno
    from weasyprint import HTML

    cards = []
    for printed in codes:
        link = f"{ballot_url}#{printed.code}"
        qr = segno.make(link, error="m")
        cards.append(
            {
                "qr": qr.svg_data_uri(scale=3, border=1),
                "code": printed.code,
                "name": printed.name,
            }
        )
    html = render_to_string(
        "evaluations/codes_pdf.html",
        {"event_name": event_name, "group_name": group_name, "ballot_url": ballot_url, "cards": cards},
    )
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
