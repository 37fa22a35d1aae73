"""``{{ rule|grading_params }}``: a grading rule's parameters in words, never as a dict.

Shares read as percentages, ``1/3`` stays a fraction, components by their names, indicator rule
types and sanction levels by their Chinese labels, sanctions and team caps one clause each.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.translation import gettext

from jixiao.facts.models import SanctionLevel
from jixiao.schemes.models import GradingRule
from jixiao.schemes.rule_types import INDICATOR_RULES, params_text

register = template.Library()


def _share(value: Any) -> str:
    if isinstance(value, int | float):
        return f"{value * 100:g}%"
    return str(value)


def _sanction(row: Mapping[str, Any]) -> str:
    level = dict(SanctionLevel.choices).get(row.get("level", ""), row.get("level", ""))
    effect = row.get("effect")
    if effect == "ceiling":
        return gettext("%(level)s：等次不高于%(grade)s") % {"level": level, "grade": row.get("grade", "")}
    if effect == "forced":
        return gettext("%(level)s：直接确定为%(grade)s") % {"level": level, "grade": row.get("grade", "")}
    return gettext("%(level)s：不确定等次") % {"level": level}


def _team_cap(team_grade: str, cap: Mapping[str, Any]) -> str:
    parts = []
    if cap.get("member_share") is not None:
        parts.append(gettext("成员最高等次不超过 %(share)s") % {"share": _share(cap["member_share"])})
    if cap.get("head_ceiling"):
        parts.append(gettext("正职不高于%(grade)s") % {"grade": cap["head_ceiling"]})
    return gettext("班子%(grade)s：%(what)s") % {"grade": team_grade, "what": "，".join(parts) or "—"}


def grading_params_text(params: Mapping[str, Any], components: Mapping[str, str]) -> str:
    """The parameters of a grading rule in words (``components``: component code → name)."""
    parts: list[str] = []
    if "share" in params:
        parts.append(gettext("末位 %(share)s") % {"share": _share(params["share"])})
    if params.get("component"):
        code = params["component"]
        parts.append(gettext("按“%(name)s”排名") % {"name": components.get(code, code)})
    if "threshold" in params:
        parts.append(gettext("得分率低于 %(rate)s") % {"rate": _share(params["threshold"])})
    if params.get("rule_types"):
        names = [str(INDICATOR_RULES[r].label) if r in INDICATOR_RULES else r for r in params["rule_types"]]
        parts.append(gettext("计入：%(rules)s") % {"rules": "、".join(names)})
    if params.get("labels"):
        parts.append(gettext("计入的票：%(labels)s") % {"labels": "、".join(map(str, params["labels"]))})
    if "more_than" in params:
        parts.append(gettext("超过 %(share)s") % {"share": _share(params["more_than"])})
    if "min_count" in params:
        parts.append(gettext("目标偏低指标达到 %(n)s 项") % {"n": params["min_count"]})
    if params.get("grade"):
        if "min_count" in params:
            parts.append(gettext("最高为%(grade)s") % {"grade": params["grade"]})
        else:
            parts.append(gettext("确定为%(grade)s") % {"grade": params["grade"]})
    parts += [_sanction(row) for row in params.get("sanctions", [])]
    caps = params.get("team_caps", {})
    rows = caps.items() if isinstance(caps, Mapping) else ((c.get("team", ""), c) for c in caps)
    parts += [_team_cap(str(grade), cap) for grade, cap in rows]
    return "；".join(parts)


@register.filter
def grading_params(rule: GradingRule) -> str:
    params = rule.params or {}
    # Only a rule ranked on a component names one: no query for the others.
    components = (
        dict(rule.policy.scheme.components.values_list("code", "name")) if params.get("component") else {}
    )
    return grading_params_text(params, components)


@register.filter
def rule_label(rule_type: str | None) -> str:
    """``{{ node.rule_type|rule_label }}``: an indicator rule's Chinese name ("—" for none)."""
    if not rule_type:
        return "—"
    spec = INDICATOR_RULES.get(rule_type)
    return str(spec.label) if spec else rule_type


@register.filter
def rule_params(params: Mapping[str, Any] | None, rule_type: str | None) -> str:
    """``{{ node.rule_params|rule_params:node.rule_type }}``: the parameters in words."""
    return params_text(rule_type or "", params or {})


@register.filter
def name_in(code: str, names: Mapping[str, str]) -> str:
    """``{{ code|name_in:names }}``: the name of ``code`` in ``names`` (the code if unknown)."""
    return str(names.get(code, code))


@register.filter
def grade_points(points: Mapping[str, Any] | None) -> str:
    """``{{ component.grade_points|grade_points }}``: a routine component's points per monthly
    grade in words ("已完成 100 分；按进度推进 90 分 …"), "" when it has none."""
    from jixiao.tracking.models import ProgressGrade  # tracking depends on schemes, not the reverse

    if not points:
        return ""
    return "；".join(
        gettext("%(grade)s %(points)s 分") % {"grade": label, "points": f"{float(points[code]):g}"}
        for code, label in ProgressGrade.choices
        if code in points
    )
