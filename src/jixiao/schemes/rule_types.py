"""The catalogue of indicator scoring rules: labels and parameter fields for people.

The rules themselves, their parameter names and their validation belong to the scoring engine
(:mod:`jixiao.scoring.rules`); this module only labels them for forms and turns the engine's
validation error into a message naming the indicator. A leaf earns a *rate* (1.0 = full marks);
its weight in the tree turns the rate into points.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from jixiao.scoring.errors import SchemeError
from jixiao.scoring.rules import RULE_TYPES, parse_rule

ParamKind = Literal["number", "pairs", "number_list", "grade_map", "bool", "choice"]


@dataclass(frozen=True)
class Param:
    name: str
    label: StrOrPromise
    kind: ParamKind
    required: bool = False
    help: StrOrPromise = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleSpec:
    code: str
    label: StrOrPromise
    help: StrOrPromise
    params: tuple[Param, ...]


_LIB = Param("lower_is_better", _("越低越好"), "bool", help=_("如事故数、成本类指标"))

INDICATOR_RULES: dict[str, RuleSpec] = {
    spec.code: spec
    for spec in (
        RuleSpec(
            "completion",
            _("完成率计分"),
            _("得分率 = 实际值 / 目标值；低于下限得 0，高于封顶按封顶计"),
            (
                Param("target", _("默认目标值"), "number", help=_("结果未填目标时使用")),
                Param("floor", _("下限完成率"), "number", help=_("如 0.6")),
                Param("cap", _("封顶完成率"), "number", help=_("如 1.2；默认 1")),
                _LIB,
            ),
        ),
        RuleSpec(
            "steps",
            _("分档计分"),
            _("实际值（或完成率）达到某一门槛即得该档得分率"),
            (
                Param("steps", _("门槛与得分率"), "pairs", True, _("每行“门槛, 得分率”，如 100, 1")),
                Param(
                    "on",
                    _("比较对象"),
                    "choice",
                    choices=("value", "ratio"),
                    help=_("value 实际值；ratio 完成率"),
                ),
                Param("below", _("未达最低档得分率"), "number"),
                Param("target", _("默认目标值"), "number"),
            ),
        ),
        RuleSpec(
            "threshold_deduction",
            _("达标线性扣分"),
            _("达到门槛得满分，每差 1 个单位扣减若干得分率"),
            (
                Param("threshold", _("门槛"), "number", help=_("不填则用结果的目标值")),
                Param("per_unit", _("每差 1 扣减得分率"), "number", True),
                Param("min_rate", _("最低得分率"), "number"),
                _LIB,
            ),
        ),
        RuleSpec(
            "bonus_deduction",
            _("加减分项"),
            _("得分率 = 基础 + 每单位得分率 × 实际值，增减封顶"),
            (
                Param("base", _("基础得分率"), "number"),
                Param("per_unit", _("每单位得分率"), "number", True, _("扣分项填负数")),
                Param("cap", _("增减上限"), "number"),
                Param("min_rate", _("最低得分率"), "number"),
                Param("max_rate", _("最高得分率"), "number"),
            ),
        ),
        RuleSpec(
            "grade_map",
            _("定性等次计分"),
            _("评定等次对应得分率，如 好=1、较好=0.85、一般=0.7、较差=0.5"),
            (Param("map", _("等次→得分率"), "grade_map", True),),
        ),
        RuleSpec(
            "rank_points",
            _("组内名次计分"),
            _("按类别内名次得分，如第 1–5 名 60/57/54/51/48，其后得保底分"),
            (
                Param("points", _("各名次分数"), "number_list", True),
                Param("floor", _("其余名次分数"), "number"),
                Param("full", _("满分"), "number", help=_("默认取最高名次分")),
                _LIB,
            ),
        ),
        RuleSpec(
            "best_proportion",
            _("与最优值比例"),
            _("得分率 = 实际值 / 类别内最优值"),
            (Param("cap", _("封顶得分率"), "number"), _LIB),
        ),
        RuleSpec(
            "yoy_improvement",
            _("同比进位"),
            _("得分率 = 基础 + 每提高 1 个百分点的得分率 × 同比增幅"),
            (
                Param("base", _("持平得分率"), "number"),
                Param("per_point", _("每百分点得分率"), "number"),
                Param("min_rate", _("最低得分率"), "number"),
                Param("max_rate", _("最高得分率"), "number"),
                _LIB,
            ),
        ),
        RuleSpec(
            "vs_average",
            _("与平均值分档比较"),
            _("实际值与类别平均值之比，按分档取得分率"),
            (
                Param("tiers", _("比值门槛与得分率"), "pairs", True, _("每行“比值, 得分率”，如 1.1, 1")),
                Param("below", _("未达最低档得分率"), "number"),
                _LIB,
            ),
        ),
        RuleSpec(
            "veto",
            _("一票否优"),
            _("结果为“是”时该对象不得评为最高等次"),
            (Param("triggered_rate", _("触发时保留得分率"), "number"),),
        ),
    )
}

assert set(INDICATOR_RULES) == set(RULE_TYPES), "the catalogue must label every engine rule"


class RuleParamError(ValueError):
    """A rule's parameters do not fit the engine; the message says which and why.

    ``param`` is the offending parameter's name ("" when the rule as a whole is wrong), so that a
    form can put the message on that field."""

    def __init__(self, message: str, *, param: str = "") -> None:
        super().__init__(message)
        self.param = param


# The engine's problem codes (jixiao.scoring.params / rules) in words; %(field)s is the field's label.
_PROBLEMS: dict[str, StrOrPromise] = {
    "required": _("“%(field)s”必须填写"),
    "number": _("“%(field)s”应为数字"),
    "negative": _("“%(field)s”不能为负数"),
    "share": _("“%(field)s”应在 0 与 1 之间"),
    "bool": _("“%(field)s”应为是或否"),
    "choice": _("“%(field)s”的取值不在可选范围内"),
    "pair": _("“%(field)s”每行应为“门槛, 得分率”两个数，得分率不能为负"),
    "list": _("“%(field)s”格式不正确"),
    "object": _("“%(field)s”格式不正确"),
    "text": _("“%(field)s”格式不正确"),
    "all_zero": _("“%(field)s”的得分率不能全为 0"),
    "unknown": _("不认识的参数“%(field)s”"),
    "empty": _("“%(field)s”至少要填一项"),
    "repeated": _("“%(field)s”中有重复的门槛"),
    "order": _("“%(field)s”的得分率应随门槛单向变化，不能先升后降"),
    "below": _("“%(field)s”不能高于最低一档的得分率"),
    "positive": _("“%(field)s”必须大于 0"),
    "cap_floor": _("“%(field)s”不能低于“%(other)s”"),
    "min_max": _("“%(field)s”不能高于“%(other)s”"),
    "floor": _("“%(field)s”不能高于最后一个名次的分数"),
}
# The parameter the joint checks compare with, per (rule, problem).
_OTHER: dict[tuple[str, str], str] = {
    ("completion", "cap_floor"): "floor",
    ("bonus_deduction", "min_max"): "max_rate",
    ("yoy_improvement", "min_max"): "max_rate",
}
_ORDER_POINTS = _("“%(field)s”应从第 1 名起逐名不增")


def param_label(rule_type: str, param: str) -> str:
    """The Chinese label of ``rule_type``'s parameter ``param`` (the name itself if unknown)."""
    spec = INDICATOR_RULES.get(rule_type)
    for p in spec.params if spec else ():
        if p.name == param:
            return str(p.label)
    return param


def _message(rule_type: str, exc: SchemeError) -> str:
    template = _PROBLEMS.get(exc.problem)
    if exc.problem == "order" and exc.param == "points":
        template = _ORDER_POINTS
    if template is None or not exc.param:
        return str(_("计分规则参数有误（%(detail)s）") % {"detail": exc.message})
    other = _OTHER.get((rule_type, exc.problem), "")
    return str(template) % {
        "field": param_label(rule_type, exc.param),
        "other": param_label(rule_type, other),
    }


def validate_rule_params(rule_type: str, params: Mapping[str, Any], *, indicator: str = "") -> dict[str, Any]:
    """Return ``params`` with empty values dropped if the engine accepts them; raise otherwise.

    The engine checks each parameter and the parameters together (a cap below the floor, steps
    whose rates rise and fall, a minimum above the maximum); the error names the field in Chinese.
    """
    if rule_type not in INDICATOR_RULES:
        raise RuleParamError(_("未知的计分规则：%(rule)s") % {"rule": rule_type})
    cleaned = {k: v for k, v in params.items() if v not in ("", None)}
    try:
        parse_rule(indicator or "?", {"type": rule_type, "params": cleaned})
    except SchemeError as exc:
        raise RuleParamError(_message(rule_type, exc), param=exc.param) from exc
    return cleaned


def grade_labels_missing(params: Mapping[str, Any], labels_in_use: Iterable[str]) -> list[str]:
    """The grade labels entered in the facts that a 定性等次 rule's map does not score, sorted."""
    mapped = params.get("map")
    known = set(mapped) if isinstance(mapped, Mapping) else set()
    return sorted({label for label in labels_in_use if label and label not in known})


def grade_map_message(missing: Iterable[str]) -> str:
    """The message for :func:`grade_labels_missing`, naming the field and the labels."""
    return str(
        _("“%(field)s”缺少已录入的等次：%(labels)s")
        % {"field": param_label("grade_map", "map"), "labels": "、".join(missing)}
    )


def rule_param_problems(
    rule_type: str, params: Mapping[str, Any], *, node: Any = None, labels_in_use: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """Return ``(parameter, message)`` for what is wrong with a rule's parameters, checked one by
    one and together; with ``node`` (an ``IndicatorNode``) a 定性等次 map must also score every
    grade already entered for it. Empty when the parameters work."""
    try:
        cleaned = validate_rule_params(rule_type, params)
    except RuleParamError as exc:
        return [(exc.param, str(exc))]
    if rule_type != "grade_map":
        return []
    labels = list(labels_in_use)
    if node is not None and node.pk:
        from jixiao.facts.models import IndicatorResult  # facts depend on schemes, not the reverse

        labels += (
            IndicatorResult.objects.filter(indicator=node)
            .exclude(grade="")
            .values_list("grade", flat=True)
            .distinct()
        )
    missing = grade_labels_missing(cleaned, labels)
    return [("map", grade_map_message(missing))] if missing else []


_CHOICE_LABELS: dict[str, StrOrPromise] = {"value": _("实际值"), "ratio": _("完成率")}


def _number_text(value: Any) -> str:
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if isinstance(value, int | float):
        return f"{value:g}"
    return str(value)


def params_text(rule_type: str, params: Mapping[str, Any]) -> str:
    """A rule's parameters in words for people, e.g. "默认目标值 100；封顶完成率 1.2" ("" if none).

    Pairs read "门槛→得分率", lists and grade maps are joined with "、"; choices and yes/no are
    their Chinese names; an unknown parameter keeps its name (the catalogue labels every engine one).
    """
    spec = INDICATOR_RULES.get(rule_type)
    kinds = {p.name: p.kind for p in spec.params} if spec else {}
    parts: list[str] = []
    for name, value in params.items():
        kind = kinds.get(name)
        if kind == "pairs" and isinstance(value, list | tuple):
            text = "、".join(
                "→".join(_number_text(x) for x in pair)
                if isinstance(pair, list | tuple)
                else _number_text(pair)
                for pair in value
            )
        elif isinstance(value, Mapping):
            text = "、".join(f"{k} {_number_text(v)}" for k, v in value.items())
        elif isinstance(value, list | tuple):
            text = "、".join(_number_text(x) for x in value)
        elif kind == "choice":
            text = str(_CHOICE_LABELS.get(str(value), value))
        else:
            text = _number_text(value)
        parts.append(f"{param_label(rule_type, name)} {text}")
    return "；".join(parts)
