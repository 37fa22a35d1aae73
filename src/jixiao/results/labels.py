"""Chinese (translatable) labels for the engine's stable reason codes, for explanations.

``grade_text`` turns an explanation's grade decision into one sentence ("排名第1，但因一票否优项
“安全生产”不得评为一等，按比例评为二等"); the code tables below name every code the engine
emits (tests/test_no_raw_codes.py fails on a page showing one of them raw).
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from jixiao.facts.models import AdjustmentKind, SanctionLevel

DECISIONS: dict[str, StrOrPromise] = {
    "quota.top": _("按名次进入较高等次名额"),
    "quota.bottom": _("按名次落入末位等次名额"),
    "fill": _("未触发任何规则，按比例确定为中间等次"),
    "ceiling": _("受等次上限限制"),  # runs of engine 1.0, before the ceiling was named
    "ceiling.sanction": _("受处分影响，等次不高于上限"),
    "ceiling.veto": _("一票否优：不得评为最高等次"),
    "ceiling.team_head": _("班子等次限制正职等次"),
    "ceiling.team_cap": _("班子等次限制成员优秀比例"),
    "no_grade.adjustment": _("不确定等次（如试用期、长期请假、正在接受调查）"),
    "no_grade.sanction": _("受处分，不确定等次"),
    "forced.sanction": _("受处分或问责，直接确定等次"),
    "forced.falsification": _("弄虚作假，直接确定等次"),
    "forced.hard_rule.bottom_share": _("处于类别末位比例，直接确定等次"),
    "forced.hard_rule.target_below": _("有量化指标得分率低于阈值，直接确定等次"),
    "forced.hard_rule.vote_share": _("基本称职及不称职票超过规定比例，直接确定等次"),
    "forced.hard_rule.last_place_twice": _("连续两年末位，直接确定等次"),
}

FLAGS: dict[str, StrOrPromise] = {
    "last_place": _("本年末位（约谈提醒）"),
    "last_place_twice": _("连续两年末位（建议调整）"),
    "top_twice": _("连续两年第一或优秀（可推荐优秀干部）"),
}

# Hard rules and sanction effects as shown on the grading policy (the engine's codes).
EFFECTS: dict[str, StrOrPromise] = {
    "ceiling": _("等次不高于"),
    "forced": _("直接确定等次"),
    "no_grade": _("不确定等次"),
}


def decision_label(code: str) -> StrOrPromise:
    """Return the label of ``code``, falling back to its nearest known prefix."""
    while code:
        if code in DECISIONS:
            return DECISIONS[code]
        code = code.rpartition(".")[0]
    return _("未知")


# Rating items with conventional codes; a scheme may use others, which are shown as they are.
ITEMS: dict[str, StrOrPromise] = {
    "de": _("德"),
    "neng": _("能"),
    "qin": _("勤"),
    "ji": _("绩"),
    "lian": _("廉"),
    "overall": _("总体评价"),
    "satisfaction": _("满意度"),
}

STATUSES: dict[str, StrOrPromise] = {
    "used": _("采用"),
    "withheld": _("票数不足，不予计入"),
    "ok": _("正常"),
    "missing": _("未填报"),
    "falsified": _("弄虚作假，该项零分"),
}

TIE_BREAK: dict[str, StrOrPromise] = {"total": _("总分"), "id": _("编号")}

ADJUSTMENT_KINDS: dict[str, StrOrPromise] = {
    **{k.value: k.label for k in AdjustmentKind},
    "debt": _("债务率超限"),  # the engine's name of debt_over_limit
}
SANCTION_LEVELS: dict[str, StrOrPromise] = {k.value: k.label for k in SanctionLevel}


def _ratio(value: Any) -> str:
    """``"3/20"`` (a Fraction's text) or a number → "15%"."""
    try:
        share = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return str(value)
    percent = share * 100
    if (percent * 10).denominator == 1:  # 15%, 2.5%
        return f"{float(percent):g}%"
    return f"{share.numerator}/{share.denominator}"  # 1/3 stays exact


def _listed(values: list[str]) -> str:
    return "、".join(f"“{v}”" for v in values)


def constraint_text(constraint: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """What a ceiling constraint is, in words ("一票否优项“安全生产”", "处分（警告）"…)."""
    code = constraint.get("code", "")
    if code == "ceiling.veto":
        items = [names.get(i, i) for i in constraint.get("indicators", [])]
        items += [r for r in constraint.get("reasons", []) if r]
        return gettext("一票否优项%(items)s") % {"items": _listed(items)} if items else gettext("一票否优")
    if code == "ceiling.sanction":
        level = constraint.get("level", "")
        return gettext("处分（%(level)s）") % {"level": SANCTION_LEVELS.get(level, level)}
    if code == "ceiling.team_head":
        return gettext("所在班子等次为%(grade)s，正职") % {"grade": constraint.get("team_grade", "")}
    if code == "ceiling.team_cap":
        return gettext("所在班子等次为%(grade)s，成员最高等次名额限 %(cap)s 名且已用满") % {
            "grade": constraint.get("team_grade", ""),
            "cap": constraint.get("cap", ""),
        }
    return str(decision_label(code))


def _forced_text(code: str, d: Mapping[str, Any], names: Mapping[str, str]) -> str:
    if code == "forced.hard_rule.vote_share":
        return gettext("基本称职及不称职票 %(votes)s 张，占 %(of)s 张的比例超过 %(share)s") % {
            "votes": d.get("votes", ""), "of": d.get("of", ""), "share": _ratio(d.get("more_than", "")),
        }  # fmt: skip
    if code == "forced.hard_rule.target_below":
        indicator = d.get("indicator", "")
        return gettext("指标“%(indicator)s”得分率 %(rate)s 低于 %(threshold)s") % {
            "indicator": names.get(indicator, indicator),
            "rate": f"{float(d.get('rate', 0)):.0%}", "threshold": f"{float(d.get('threshold', 0)):.0%}",
        }  # fmt: skip
    if code == "forced.hard_rule.bottom_share":
        component = d.get("component")
        where = names.get(component, component) if component else gettext("总分")
        return gettext("%(where)s处于类别末位 %(share)s（%(of)s 个中的后 %(count)s 个）") % {
            "where": where, "share": _ratio(d.get("share", "")), "of": d.get("of", ""), "count": d.get("count", ""),
        }  # fmt: skip
    if code == "forced.sanction":
        level = d.get("level", "")
        return gettext("受处分（%(level)s）") % {"level": SANCTION_LEVELS.get(level, level)}
    if code == "forced.falsification":
        return gettext("弄虚作假")
    if code == "forced.hard_rule.last_place_twice":
        return gettext("连续两年末位")
    return str(decision_label(code))


def grade_text(x: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """One sentence saying how the grade of explanation ``x`` was decided, for the breakdown.

    ``names`` maps indicator and component codes to their names. When a constraint bound, the
    sentence names it and the grade it kept ("排名第1，但因一票否优项“X”不得评为一等，按比例评为二等").
    """
    grade = x.get("grade") or {}
    label, d = grade.get("label"), grade.get("decision") or {}
    code = str(d.get("code", ""))
    rank = (x.get("rank") or {}).get("rank")
    ranked = gettext("排名第%(rank)s") % {"rank": rank} if rank else gettext("未排名")
    if code == "no_grade.sanction" and d.get("level"):
        level = d["level"]
        return gettext("受处分（%(level)s），不确定等次") % {"level": SANCTION_LEVELS.get(level, level)}
    if code == "no_grade.adjustment" and d.get("reason") not in (None, "", "unspecified"):
        return gettext("不确定等次：%(reason)s") % {"reason": d["reason"]}
    if code.startswith("no_grade"):
        return str(decision_label(code))
    if "binding" in d:
        outcome = d.get("outcome", "")
        how = {
            "quota.top": gettext("按比例评为"),
            "fill": gettext("按比例评为"),
            "ceiling": gettext("按等次上限评为"),
        }.get(outcome, gettext("评为"))
        binding = d["binding"]
        if binding.get("code") == "ceiling.team_cap":
            text = gettext(
                "%(ranked)s，但所在班子等次为%(team)s，其成员评为%(denied)s的名额（%(cap)s 名）已满，%(how)s%(grade)s"
            ) % {
                "ranked": ranked, "team": binding.get("team_grade", ""), "denied": d.get("denied", ""),
                "cap": binding.get("cap", ""), "how": how, "grade": label,
            }  # fmt: skip
        else:
            text = gettext("%(ranked)s，但因%(why)s不得评为%(denied)s，%(how)s%(grade)s") % {
                "ranked": ranked, "why": constraint_text(binding, names), "denied": d.get("denied", ""),
                "how": how, "grade": label,
            }  # fmt: skip
        if "forced" in d:
            text += gettext("（%(forced)s）") % {"forced": _forced_text(d["forced"], d, names)}
        return text
    if code == "quota.top":
        text = gettext("%(ranked)s，按比例（%(ratio)s，%(of)s 个中 %(places)s 个名额）评为%(grade)s") % {
            "ranked": ranked, "ratio": _ratio(d.get("ratio", "")), "of": d.get("of", ""),
            "places": d.get("places", ""), "grade": label,
        }  # fmt: skip
    elif code == "quota.bottom":
        text = gettext("%(ranked)s，按末位比例（%(ratio)s，%(of)s 个中 %(places)s 个）评为%(grade)s") % {
            "ranked": ranked, "ratio": _ratio(d.get("ratio", "")), "of": d.get("of", ""),
            "places": d.get("places", ""), "grade": label,
        }  # fmt: skip
    elif code == "fill":
        text = gettext("%(ranked)s，未触发任何规则，按比例评为%(grade)s") % {"ranked": ranked, "grade": label}
    elif code.startswith("forced"):
        text = gettext("%(why)s，直接确定为%(grade)s") % {"why": _forced_text(code, d, names), "grade": label}
    else:
        text = gettext("%(rule)s，评为%(grade)s") % {"rule": decision_label(code), "grade": label}
    idle = [constraint_text(c, names) for c in d.get("constraints", [])]
    if idle:
        text += gettext("（另有%(what)s，未影响等次）") % {"what": "、".join(idle)}
    return text
