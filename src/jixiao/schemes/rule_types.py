"""The catalogue of indicator scoring rules: labels and parameter fields for people.

The rules themselves, their parameter names and their validation belong to the scoring engine
(:mod:`jixiao.scoring.rules`); this module only labels them for forms and turns the engine's
validation error into a message naming the indicator. A leaf earns a *rate* (1.0 = full marks);
its weight in the tree turns the rate into points.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    """A rule's parameters do not fit the engine; the message says which and why."""


def validate_rule_params(rule_type: str, params: Mapping[str, Any], *, indicator: str = "") -> dict[str, Any]:
    """Return ``params`` with empty values dropped if the engine accepts them; raise otherwise."""
    if rule_type not in INDICATOR_RULES:
        raise RuleParamError(_("未知的计分规则：%(rule)s") % {"rule": rule_type})
    cleaned = {k: v for k, v in params.items() if v not in ("", None)}
    try:
        parse_rule(indicator or "?", {"type": rule_type, "params": cleaned})
    except SchemeError as exc:
        raise RuleParamError(_("计分规则参数有误（%(detail)s）") % {"detail": exc.message}) from exc
    return cleaned
