"""The audit log for people: object types by their model's name, changes field by field.

An entry stores ``object_type`` as a model label (``accounts.user``) and ``changes`` as JSON: a
``diff`` (``{field: [old, new]}``), a ``snapshot`` (``{field: value}``) or a service's own counts
(``{"rows": 120, "format": "xlsx"}``). ``object_type_label`` gives the model's verbose name (用户)
and ``change_rows`` one ``(label, text)`` per key: the field's verbose name, choice values by
their labels, related ids by the object's name, rater group codes by their names, yes/no and
numbers formatted; keys that are not fields are named by ``KEYS``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from jixiao.accounts.models import AuditLog
from jixiao.accounts.personal import PERSONAL_FIELDS, mask

# What services record besides model fields (counts, digests, files).
KEYS: dict[str, StrOrPromise] = {
    "accounts": _("账号数"),
    "bottom_units": _("需作复盘说明的单位数"),
    "carried_over": _("沿用上年目标数"),
    "category": _("类别"),
    "comment": _("意见"),
    "change_request": _("目标变更"),
    "computed": _("计算月份"),
    "devices": _("验证设备"),
    "files": _("文件数"),
    "flagged_passed": _("目标偏低仍予通过"),
    "from_year": _("沿用年度"),
    "generated": _("生成"),
    "indicator_comments": _("指标意见数"),
    "late": _("逾期"),
    "library": _("指标库条目"),
    "masked": _("已脱敏"),
    "next_stage": _("下一审核环节"),
    "waiting_departments": _("尚待审核的业务主管部门数"),
    "declaration_status": _("申报状态"),
    "opened": _("开启"),
    "published": _("公布"),
    "recovery_codes": _("备用验证码数"),
    "replaced": _("替换"),
    "review": _("审核"),
    "review_stages": _("审核环节"),
    "second_factor": _("第二重验证"),
    "seconds": _("秒数"),
    "sha256": _("SHA-256 摘要"),
    "stage_plan": _("阶段计划"),
    "stages": _("审核环节"),
    "what": _("内容"),
    "ballots": _("测评票数"),
    "codes": _("测评码数"),
    "copied_from": _("复制自"),
    "fields": _("查看的字段"),
    "where": _("页面"),
    "counts": _("数量"),
    "created": _("新增"),
    "descendants": _("下级指标数"),
    "entities": _("对象数"),
    "evaluation_scores": _("写入测评得分条数"),
    "evaluation_scores_in_set": _("本批写入测评得分条数"),
    "events_in_set": _("本批测评活动数"),
    "file": _("文件"),
    "format": _("格式"),
    "group": _("评价主体"),
    "groups": _("评价主体"),
    "indicators": _("指标数"),
    "input_digest": _("输入摘要"),
    "kinds": _("类型"),
    "matrix_pairs": _("测评关系数"),
    "named": _("实名"),
    "output_digest": _("结果摘要"),
    "prefix": _("前缀"),
    "questions": _("题目数"),
    "ratees": _("被测评对象数"),
    "rating_rows": _("随时评条数"),
    "reason": _("理由"),
    "rows": _("行数"),
    "samples": _("样本数"),
    "schemes": _("方案数"),
    "scope": _("范围"),
    "service": _("服务"),
    "source": _("来源"),
    "survey_rows": _("调查答卷数"),
    "surveys": _("调查数"),
    "tally_sha256": _("计票摘要 SHA-256"),
    "units": _("单位数"),
    "updated": _("更新"),
    "withheld_groups": _("低于最少人数未计入的评价主体数"),
    "withheld_ballots": _("低于最少人数未计入、已销毁的测评票数"),
    "year": _("年度"),
}
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_LONG_DECIMAL = re.compile(r"-?\d+\.\d{3,}")
# The ``source`` of an evaluation's facts (``EvaluationEvent.source``): named by the event.
_EVALUATION_SOURCE = re.compile(r"evaluation:(\d+)")
VALUES: dict[str, StrOrPromise] = {"xlsx": _("Excel 表格"), "pdf": _("PDF 文件"), "csv": _("CSV 文件")}


def _model(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def object_type_label(entry: AuditLog) -> str:
    """The verbose name of the entry's model (``accounts.user`` → 用户), or "" for none."""
    model = _model(entry.object_type) if entry.object_type else None
    return str(model._meta.verbose_name) if model is not None else ""


def _field(model: type[models.Model] | None, key: str) -> models.Field[Any, Any] | None:
    if model is None:
        return None
    try:
        found: Any = model._meta.get_field(key)
    except FieldDoesNotExist:
        found = next((f for f in model._meta.concrete_fields if f.attname == key), None)
    return found if isinstance(found, models.Field) else None


def _group_names() -> dict[str, str]:
    """Codes a service records outside a model field → names: rater group codes (counts per group
    are recorded by code), then every choice value of the project's models (``kinds``, ``status``)."""
    names: dict[str, str] = {}
    for model in apps.get_models():
        if not model.__module__.startswith("jixiao."):
            continue
        for field in model._meta.concrete_fields:
            for value, label in field.flatchoices if field.choices else ():
                names.setdefault(str(value), str(label))
    group = apps.get_model("schemes", "RaterGroup")
    names.update((str(code), str(name)) for code, name in group._default_manager.values_list("code", "name"))
    return names


Names = Mapping[str, str]


def _scalar(value: Any, field: models.Field[Any, Any] | None, names: Names) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    if field is not None and field.choices:
        for choice, label in field.flatchoices:
            if str(choice) == str(value):
                return str(label)
    if field is not None and field.is_relation and field.related_model is not None and str(value).isdigit():
        related = field.related_model._default_manager.filter(pk=value).first()
        return str(related) if related is not None else f"#{value}"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    text = str(value)
    when = parse_datetime(text) if _ISO_TIME.match(text) else None
    if when is not None:  # recorded in UTC (isoformat): shown in local time
        return timezone.localtime(when).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(when) else text[:16]
    if _LONG_DECIMAL.fullmatch(text):
        return f"{float(text):.2f}"
    if source := _EVALUATION_SOURCE.fullmatch(text):
        event = apps.get_model("evaluations", "EvaluationEvent")._default_manager.filter(pk=source[1]).first()
        return str(event) if event is not None else gettext("测评活动 #%(id)s") % {"id": source[1]}
    return str(VALUES.get(text, names.get(text, text)))


def _text(value: Any, field: models.Field[Any, Any] | None, names: Names) -> str:
    if isinstance(value, Mapping):
        return "；".join(
            f"{_key_label(str(k), None, names)} {_text(v, None, names)}" for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        if field is not None and len(value) == 2:  # a diff: [old, new]
            return f"{_scalar(value[0], field, names)} → {_scalar(value[1], field, names)}"
        return "、".join(_text(v, field, names) for v in value) or "—"
    return _scalar(value, field, names)


def _key_label(key: str, model: type[models.Model] | None, names: Names) -> str:
    field = _field(model, key)
    if field is not None:
        return str(field.verbose_name)
    if key in KEYS:
        return str(KEYS[key])
    return names.get(key, key)


def change_rows(entry: AuditLog, names: Names | None = None) -> list[tuple[str, str]]:
    """``(label, text)`` per recorded change of ``entry``, in the order recorded."""
    names = _group_names() if names is None else names
    changes = entry.changes
    if not isinstance(changes, Mapping):
        return [("", _text(changes, None, names))] if changes else []
    model = _model(entry.object_type) if entry.object_type else None
    return [
        (_key_label(str(k), model, names), _text(_masked(str(k), v), _field(model, str(k)), names))
        for k, v in changes.items()
    ]


def _masked(key: str, value: Any) -> Any:
    """Personal data (phones, birth dates) masked for every reader of the audit log: the audit
    admin sees no personal data beyond the log itself, and nobody reads the log for a phone."""
    kind = PERSONAL_FIELDS.get(key)
    if kind is None:
        return value
    if isinstance(value, list | tuple):
        return [None if v in (None, "") else mask(v, kind) for v in value]
    return None if value in (None, "") else mask(value, kind)


@dataclass(frozen=True)
class AuditRow:
    entry: AuditLog
    object_type: str
    changes: list[tuple[str, str]]


def audit_rows(entries: Iterable[AuditLog]) -> list[AuditRow]:
    """The page's entries with their object type's name and their changes in words (one query
    for the rater group names, one per related object named in a change)."""
    names = _group_names()
    return [AuditRow(e, object_type_label(e), change_rows(e, names)) for e in entries]
