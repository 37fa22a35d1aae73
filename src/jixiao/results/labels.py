"""Chinese (translatable) labels for the engine's stable reason codes, for explanations."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

DECISIONS: dict[str, StrOrPromise] = {
    "quota.top": _("按名次进入较高等次名额"),
    "quota.bottom": _("按名次落入末位等次名额"),
    "fill": _("未触发任何规则，按比例确定为中间等次"),
    "ceiling": _("受等次上限限制"),
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
