"""Input hygiene shared by models, forms, services, the API and the middleware: text limits and
control characters.

Why: PostgreSQL refuses NUL in text (a NUL in any field was a 500), and unbounded text let a
100 KB workbook store 100 MB of notes that made two list pages 210 MB. Every free-text field
therefore has a length limit (enforced by its form, by :func:`clean_text` in services that write
text not coming through a form, and by the API schema), and no input may hold a control
character other than tab, line feed and carriage return
(:class:`jixiao.web.middleware.ControlCharacterMiddleware` refuses the request with a 400).

This module imports nothing of the apps, so models of any app can use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

NOTE_MAX_LENGTH = 2_000
"""Notes, reasons, opinions, evidence: a paragraph or a few."""

OPINION_MAX_LENGTH = 500
"""Anonymous opinions on ballots, surveys and ratings (the forms' ``maxlength`` says the same):
cut, not refused, server-side, so an anonymous answer is never lost over its length."""

DESCRIPTION_MAX_LENGTH = 10_000
"""Long descriptions (a scheme's notes, an indicator's description, a survey's introduction)."""

MESSAGE_MAX_LENGTH = 10_000
"""Text the system writes itself (job results, notifications): truncated, never refused."""

# C0 controls except \t \n \r, DEL, and the C1 controls: never typed by a person, and NUL breaks
# PostgreSQL text. Lone surrogates (a JSON "\udce2" decodes to one) are no characters at all and
# cannot be encoded to UTF-8 for the database: refused with them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

CONTROL_CHARACTER_MESSAGE = _("输入内容含有不允许的控制字符（如空字符 NUL），请删除后重新提交。")


def has_control_characters(value: str) -> bool:
    """Return True when ``value`` holds a control character other than tab, LF and CR."""
    return CONTROL_CHARACTERS.search(value) is not None


def validate_no_control_characters(value: object) -> None:
    """Django validator: raise ValidationError when a string holds a control character."""
    if isinstance(value, str) and has_control_characters(value):
        raise ValidationError(CONTROL_CHARACTER_MESSAGE, code="control_characters")


def text_validators(max_length: int) -> list[Callable[[Any], None]]:
    """The validators of a bounded free-text model field (for ``full_clean`` and ModelForms)."""
    return [MaxLengthValidator(max_length), validate_no_control_characters]


def clean_text(value: str, *, max_length: int, label: str) -> str:
    """Return ``value`` stripped; raise ValidationError (Chinese, naming ``label``) when it is
    longer than ``max_length`` characters or holds a control character.

    For services that write text not coming through a form (imports, CLI, API)."""
    value = value.strip()
    if has_control_characters(value):
        raise ValidationError(
            _("“%(label)s”含有不允许的控制字符（如空字符 NUL），请删除后重试。") % {"label": label}
        )
    if len(value) > max_length:
        raise ValidationError(
            _("“%(label)s”最多 %(max)d 个字，现为 %(n)d 个字。")
            % {"label": label, "max": max_length, "n": len(value)}
        )
    return value


def truncate_text(value: str, max_length: int) -> str:
    """Return ``value`` cut to ``max_length`` characters, ending in "…" when cut."""
    return value if len(value) <= max_length else value[: max_length - 1] + "…"
