"""De-identifying free-text opinions before they are stored or shown (去标识化).

Opinions are fed back verbatim to the unit they concern, so the citizen must not be traceable
through what they typed: resident ID numbers, mobile and landline numbers and e-mail addresses are
replaced by a bracketed placeholder. ID numbers are matched before phone numbers because an
18-digit ID contains 11-digit runs that look like a mobile number.
"""

from __future__ import annotations

import re
from typing import Final

ID_PLACEHOLDER: Final = "[身份证号已隐去]"
PHONE_PLACEHOLDER: Final = "[电话已隐去]"
EMAIL_PLACEHOLDER: Final = "[邮箱已隐去]"

# 18-digit resident ID (last char may be X) or the old 15-digit one, not inside a longer digit run.
_ID = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
# Mobile: optional +86/0086/86, 1[3-9] and 9 digits, spaces or dashes allowed between groups.
_MOBILE = re.compile(r"(?<!\d)(?:(?:\+|00)?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)")
# Landline: area code 0xx/0xxx, then 7–8 digits, optional extension.
_LANDLINE = re.compile(r"(?<!\d)(?:\(?0\d{2,3}\)?[\s-]?)\d{7,8}(?:[\s-]?(?:转|ext\.?)\s?\d{1,6})?(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Full-width digits and @ typed on Chinese keyboards become ASCII first, so they are caught too.
_FULLWIDTH = str.maketrans("０１２３４５６７８９＠Ｘｘ＋－", "0123456789@Xx+-")

MAX_OPINION_CHARS: Final = 500


def deidentify(text: str) -> str:
    """Return ``text`` with ID numbers, phone numbers and e-mail addresses replaced by placeholders,
    whitespace trimmed and cut to :data:`MAX_OPINION_CHARS` characters."""
    text = text.translate(_FULLWIDTH).strip()[:MAX_OPINION_CHARS]
    if not text:
        return ""
    text = _EMAIL.sub(EMAIL_PLACEHOLDER, text)
    text = _ID.sub(ID_PLACEHOLDER, text)
    text = _MOBILE.sub(PHONE_PLACEHOLDER, text)
    return _LANDLINE.sub(PHONE_PLACEHOLDER, text)
