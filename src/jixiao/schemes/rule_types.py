"""The catalogue of indicator scoring rules and grading rules, with their parameters.

The rules are *computed* by :mod:`jixiao.scoring`; this module describes them so that schemes can
store them as data and forms can validate and label their parameters before anything is saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ParamKind = Literal["number", "number_list", "grade_map", "bool", "label"]


@dataclass(frozen=True)
class Param:
    name: str
    label: str | Promise
    kind: ParamKind
    required: bool = True
    minimum: float | None = None


@dataclass(frozen=True)
class RuleSpec:
    code: str
    label: str | Promise
    help: str | Promise
    params: tuple[Param, ...]


_MAX = Param("max_points", _("满分"), "number", minimum=0)

INDICATOR_RULES: dict[str, RuleSpec] = {
    spec.code: spec
    for spec in (
        RuleSpec(
            "completion_ratio",
            _("完成率线性计分"),
            _("得分 = 满分 × 实际/目标，低于下限得 0，高于上限封顶"),
            (
                _MAX,
                Param("floor", _("下限完成率"), "number", False, 0),
                Param("cap", _("封顶完成率"), "number", False, 0),
            ),
        ),
        RuleSpec(
            "steps",
            _("分档计分"),
            _("实际值达到某一门槛即得对应分数（门槛与分数一一对应，由低到高）"),
            (Param("thresholds", _("门槛"), "number_list"), Param("points", _("分数"), "number_list")),
        ),
        RuleSpec(
            "threshold_deduction",
            _("达标线性扣分"),
            _("达到目标得满分，每差 1 个单位扣若干分，扣完为止"),
            (_MAX, Param("per_unit", _("每差 1 扣分"), "number", minimum=0)),
        ),
        RuleSpec(
            "bonus_deduction",
            _("加减分项"),
            _("实际值为加（正）或减（负）的分数，分别封顶"),
            (
                Param("bonus_cap", _("加分上限"), "number", minimum=0),
                Param("deduction_cap", _("扣分上限"), "number", minimum=0),
            ),
        ),
        RuleSpec(
            "grade_map",
            _("定性等次计分"),
            _("评定等次对应分数，例如 好=100、较好=85、一般=70、较差=50"),
            (Param("grades", _("等次→分数"), "grade_map"),),
        ),
        RuleSpec(
            "rank_points",
            _("组内排名计分"),
            _("按组内名次得分，例如第 1–5 名 60/57/54/51/48，其后得保底分"),
            (
                Param("points", _("各名次分数"), "number_list"),
                Param("floor_points", _("其余名次分数"), "number", minimum=0),
            ),
        ),
        RuleSpec(
            "proportion_of_best",
            _("与最优值比例计分"),
            _("得分 = 满分 × 实际/组内最优"),
            (_MAX,),
        ),
        RuleSpec(
            "yoy_improvement",
            _("同比进位计分"),
            _("与上年相比每提高 1 个单位加若干分，退步扣分，封顶"),
            (
                _MAX,
                Param("base_points", _("持平得分"), "number", minimum=0),
                Param("per_unit", _("每提高 1 得分"), "number", minimum=0),
            ),
        ),
        RuleSpec(
            "tiered_average",
            _("与平均值分档比较"),
            _("按实际值相对组内平均值的比例分档计分"),
            (
                Param("ratios", _("相对平均值比例门槛"), "number_list"),
                Param("points", _("分数"), "number_list"),
            ),
        ),
        RuleSpec(
            "veto_excellent",
            _("一票否优"),
            _("为“是”时该单位不得评为最高等次"),
            (),
        ),
    )
}


class RuleParamError(ValueError):
    """A rule's parameters do not fit its specification; the message says which and why."""


def _as_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RuleParamError(_("参数 %(name)s 应为数字") % {"name": name})
    return float(value)


def validate_rule_params(rule_type: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Return the parameters cleaned for ``rule_type``; raise :class:`RuleParamError` otherwise."""
    spec = INDICATOR_RULES.get(rule_type)
    if spec is None:
        raise RuleParamError(_("未知的计分规则：%(rule)s") % {"rule": rule_type})
    known = {p.name for p in spec.params}
    unknown = sorted(set(params) - known)
    if unknown:
        raise RuleParamError(_("规则不接受参数：%(names)s") % {"names": ", ".join(unknown)})
    cleaned: dict[str, Any] = {}
    for param in spec.params:
        if param.name not in params or params[param.name] in ("", None):
            if param.required:
                raise RuleParamError(_("缺少参数：%(label)s") % {"label": param.label})
            continue
        value = params[param.name]
        if param.kind == "number":
            number = _as_number(str(param.label), value)
            if param.minimum is not None and number < param.minimum:
                raise RuleParamError(
                    _("参数 %(label)s 不能小于 %(min)s") % {"label": param.label, "min": param.minimum}
                )
            cleaned[param.name] = number
        elif param.kind == "number_list":
            if not isinstance(value, list) or not value:
                raise RuleParamError(_("参数 %(label)s 应为非空数字列表") % {"label": param.label})
            cleaned[param.name] = [_as_number(str(param.label), v) for v in value]
        elif param.kind == "grade_map":
            if not isinstance(value, dict) or not value:
                raise RuleParamError(_("参数 %(label)s 应为“等次: 分数”对照") % {"label": param.label})
            cleaned[param.name] = {str(k): _as_number(str(k), v) for k, v in value.items()}
        else:
            cleaned[param.name] = value
    if rule_type in {"steps", "tiered_average"}:
        keys = "thresholds" if rule_type == "steps" else "ratios"
        if len(cleaned[keys]) != len(cleaned["points"]):
            raise RuleParamError(_("门槛与分数的个数必须相同"))
        if cleaned[keys] != sorted(cleaned[keys]):
            raise RuleParamError(_("门槛必须由低到高排列"))
    return cleaned
