"""Answer scales and question lists as data: parsing the office's text form and validating it.

A scale is a list of ``{"label": str, "points": int | None}``; ``points`` is 0–100 or ``None`` for
an option that is shown but not counted (不了解). Pure functions: no database.
"""

from __future__ import annotations

import re
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_OPTIONS: Final = 10
MAX_TAGS: Final = 20
MAX_TAG_CHARS: Final = 20
_ITEM = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def validate_scale(options: Any) -> list[dict[str, Any]]:
    """Return ``options`` as a clean scale; raise ValidationError listing every problem."""
    errors: list[str] = []
    if not isinstance(options, list) or not 2 <= len(options) <= MAX_OPTIONS:
        raise ValidationError(_("量表须有 2 至 %(n)d 个选项") % {"n": MAX_OPTIONS})
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, option in enumerate(options, start=1):
        label = str(option.get("label", "")).strip() if isinstance(option, dict) else ""
        points = option.get("points") if isinstance(option, dict) else None
        if not label:
            errors.append(_("第 %(i)d 个选项没有名称") % {"i": i})
        elif label in seen:
            errors.append(_("选项“%(label)s”重复") % {"label": label})
        seen.add(label)
        if points is not None and (
            isinstance(points, bool) or not isinstance(points, int) or not 0 <= points <= 100
        ):
            errors.append(_("选项“%(label)s”的分值须为 0–100 的整数") % {"label": label})
        clean.append({"label": label, "points": points})
    if sum(1 for o in clean if o["points"] is not None) < 2:
        errors.append(_("至少两个选项须计分"))
    if errors:
        raise ValidationError(errors)
    return clean


def parse_scale_text(text: str) -> list[dict[str, Any]]:
    """Parse lines ``很满意=100`` (``不了解=`` for an option not counted) into a validated scale."""
    options: list[dict[str, Any]] = []
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        label, sep, raw = line.replace("＝", "=").partition("=")
        raw = raw.strip()
        if not sep:
            errors.append(_("第 %(n)d 行应写成“选项=分值”") % {"n": number})
            continue
        if raw == "":
            options.append({"label": label.strip(), "points": None})
        elif raw.isdigit():
            options.append({"label": label.strip(), "points": int(raw)})
        else:
            errors.append(_("第 %(n)d 行的分值“%(raw)s”不是整数") % {"n": number, "raw": raw})
    if errors:
        raise ValidationError(errors)
    return validate_scale(options)


def scale_text(options: list[dict[str, Any]]) -> str:
    return "\n".join(f"{o['label']}={'' if o['points'] is None else o['points']}" for o in options)


def parse_tags(text: str) -> list[str]:
    """Parse one tag per line (or separated by commas); raise ValidationError when too many or too long."""
    tags: list[str] = []
    for raw in re.split(r"[\n,，、]", text):
        tag = raw.strip()
        if tag and tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValidationError(_("标签最多 %(n)d 个") % {"n": MAX_TAGS})
    too_long = [t for t in tags if len(t) > MAX_TAG_CHARS]
    if too_long:
        raise ValidationError(_("标签“%(t)s”超过 %(n)d 个字") % {"t": too_long[0], "n": MAX_TAG_CHARS})
    return tags


def parse_questions(text: str) -> list[tuple[str, str]]:
    """Parse lines ``overall|您对本单位的总体评价`` into (item code, question text) pairs."""
    questions: list[tuple[str, str]] = []
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        item, sep, question = line.replace("｜", "|").partition("|")
        item, question = item.strip(), question.strip()
        if not sep or not question:
            errors.append(_("第 %(n)d 行应写成“项目代码|题目”") % {"n": number})
        elif not _ITEM.match(item):
            errors.append(
                _("第 %(n)d 行的项目代码“%(item)s”只能用小写字母、数字和下划线") % {"n": number, "item": item}
            )
        elif any(item == q[0] for q in questions):
            errors.append(_("项目代码“%(item)s”重复") % {"item": item})
        else:
            questions.append((item, question[:200]))
    if not questions and not errors:
        errors.append(_("至少需要一道题目"))
    if errors:
        raise ValidationError(errors)
    return questions


def questions_text(questions: list[tuple[str, str]]) -> str:
    return "\n".join(f"{item}|{text}" for item, text in questions)
