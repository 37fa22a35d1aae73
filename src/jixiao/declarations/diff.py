"""Differences a reviewer reads: a version against the previous one, and against last year.

Two snapshots (:mod:`jixiao.declarations.snapshot`) are compared indicator by indicator. Between
versions of one declaration an indicator is matched by its ``uid`` (stable across versions).
Against last year's published targets it is matched by ``uid`` (a target carried over keeps
it), else by library entry, else by name. Each change is given in words: the field's Chinese
label and both values as people read them (numbers without trailing zeros, yes/no, rule names),
never a raw code or a dict.

Pure functions over snapshot dicts; no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jixiao.schemes.models import IndicatorKind
from jixiao.schemes.rule_types import INDICATOR_RULES, params_text

# The fields compared, in display order, with their labels (the snapshot's COMPARED_FIELDS).
FIELD_LABELS: dict[str, Any] = {
    "parent_name": gettext_lazy("上级指标"),
    "name": gettext_lazy("指标名称"),
    "measure": gettext_lazy("计量单位"),
    "target": gettext_lazy("目标值"),
    "target_text": gettext_lazy("目标说明"),
    "rule_type": gettext_lazy("计分规则"),
    "rule_params": gettext_lazy("规则参数"),
    "weight": gettext_lazy("权重"),
    "lead_department_name": gettext_lazy("牵头部门"),
    "evidence_required": gettext_lazy("佐证材料要求"),
    "kind": gettext_lazy("类型"),
    "is_long_term": gettext_lazy("潜绩指标"),
    "is_core": gettext_lazy("核心指标"),
    "last_year_actual": gettext_lazy("上年实际"),
    "last_year_target": gettext_lazy("上年目标"),
    "higher_target": gettext_lazy("上级下达目标"),
    "effective_from": gettext_lazy("起算日期"),
    "milestones": gettext_lazy("节点目标"),
}
COMPARED: tuple[str, ...] = tuple(FIELD_LABELS)
# Against last year only what a target says is compared (last year's own figures are history).
YEAR_COMPARED: tuple[str, ...] = ("target", "measure", "rule_type", "weight", "lead_department_name")
_NUMBERS = frozenset({"target", "weight", "last_year_actual", "last_year_target", "higher_target"})
_FLAGS = frozenset({"is_long_term", "is_core"})


def number_text(value: Any) -> str:
    """A decimal string for people: "8.5000" → "8.5", "20.00" → "20"; "" for None."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not number.is_finite():
        return str(value)
    text = format(number.normalize(), "f")
    return text


def _same_number(a: Any, b: Any) -> bool:
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except (InvalidOperation, ValueError):
        return bool(a == b)


def _milestones_text(value: Any) -> str:
    if not isinstance(value, list) or not value:
        return ""
    parts = []
    for m in value:
        if isinstance(m, Mapping):
            text = f"{m.get('due', '')} {number_text(m.get('expected_percent'))}%"
            if m.get("note"):
                text += f" {m['note']}"
            parts.append(text)
    return "；".join(parts)


def value_text(name: str, value: Any, item: Mapping[str, Any] | None = None) -> str:
    """The value of snapshot field ``name`` in words (``item`` gives the rule for its params)."""
    if name in _NUMBERS:
        return number_text(value)
    if name in _FLAGS:
        return str(_("是") if value else _("否"))
    if name == "kind":
        try:
            return str(IndicatorKind(value).label)
        except ValueError:
            return ""
    if name == "rule_type":
        spec = INDICATOR_RULES.get(str(value))
        return str(spec.label) if spec else ""
    if name == "rule_params":
        rule = str((item or {}).get("rule_type", ""))
        return params_text(rule, value) if isinstance(value, Mapping) else ""
    if name == "milestones":
        return _milestones_text(value)
    return "" if value is None else str(value)


def _equal(name: str, a: Any, b: Any) -> bool:
    if name in _NUMBERS:
        if a in (None, "") or b in (None, ""):
            return a in (None, "") and b in (None, "")
        return _same_number(a, b)
    return bool(a == b)


@dataclass(frozen=True)
class FieldChange:
    """One field of one indicator that differs: its label and both values in words."""

    field: str
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class IndicatorChange:
    """An indicator present on both sides whose compared fields differ."""

    uid: str
    name: str
    changes: list[FieldChange]


@dataclass
class SnapshotDiff:
    """Added and removed indicators (their names) and the changed ones, in the newer order."""

    added: list[Mapping[str, Any]] = field(default_factory=list)
    removed: list[Mapping[str, Any]] = field(default_factory=list)
    changed: list[IndicatorChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    @property
    def added_rows(self) -> list[tuple[str, str]]:
        """(name, target in words with its measure) of each added indicator."""
        return [
            (str(i.get("name", "")), f"{number_text(i.get('target'))} {i.get('measure') or ''}".strip())
            for i in self.added
        ]

    def changed_uids(self) -> set[str]:
        """The uids of the newer side that are new or changed (the review page marks them)."""
        return {str(i.get("uid")) for i in self.added} | {c.uid for c in self.changed}


def _changes(before: Mapping[str, Any], after: Mapping[str, Any], fields: Iterable[str]) -> list[FieldChange]:
    out = []
    for name in fields:
        a, b = before.get(name), after.get(name)
        if name == "rule_params" and before.get("rule_type") != after.get("rule_type"):
            pass  # compare in words below: the same numbers mean other things under another rule
        elif _equal(name, a, b):
            continue
        a_text, b_text = value_text(name, a, before), value_text(name, b, after)
        if a_text == b_text:
            continue
        out.append(FieldChange(name, str(FIELD_LABELS[name]), a_text, b_text))
    return out


def diff_versions(before: Iterable[Mapping[str, Any]], after: Iterable[Mapping[str, Any]]) -> SnapshotDiff:
    """The difference from snapshot ``before`` to ``after`` (indicators matched by uid)."""
    old = {str(i.get("uid")): i for i in before}
    new_items = list(after)
    new_uids = {str(i.get("uid")) for i in new_items}
    result = SnapshotDiff()
    for item in new_items:
        prior = old.get(str(item.get("uid")))
        if prior is None:
            result.added.append(item)
            continue
        changes = _changes(prior, item, COMPARED)
        if changes:
            result.changed.append(IndicatorChange(str(item.get("uid")), str(item.get("name", "")), changes))
    result.removed = [i for uid, i in old.items() if uid not in new_uids]
    return result


def _match_last_year(
    item: Mapping[str, Any],
    by_uid: dict[str, Mapping[str, Any]],
    by_library: dict[Any, Mapping[str, Any]],
    by_name: dict[str, Mapping[str, Any]],
) -> Mapping[str, Any] | None:
    found = by_uid.get(str(item.get("uid")))
    if found is None and item.get("library_entry_id") is not None:
        found = by_library.get(item.get("library_entry_id"))
    if found is None:
        found = by_name.get(str(item.get("name", "")).strip())
    return found


def diff_last_year(
    last_year: Iterable[Mapping[str, Any]], current: Iterable[Mapping[str, Any]]
) -> SnapshotDiff:
    """This year's snapshot against last year's published one: new targets, dropped ones, and
    changed targets (matched by uid, else library entry, else name; each last-year target
    matches at most once)."""
    previous = list(last_year)
    by_uid = {str(i.get("uid")): i for i in previous}
    by_library = {i.get("library_entry_id"): i for i in previous if i.get("library_entry_id") is not None}
    by_name = {str(i.get("name", "")).strip(): i for i in previous}
    used: set[int] = set()
    result = SnapshotDiff()
    for item in current:
        prior = _match_last_year(item, by_uid, by_library, by_name)
        if prior is None or id(prior) in used:
            result.added.append(item)
            continue
        used.add(id(prior))
        changes = _changes(prior, item, YEAR_COMPARED)
        if changes:
            result.changed.append(IndicatorChange(str(item.get("uid")), str(item.get("name", "")), changes))
    result.removed = [i for i in previous if id(i) not in used]
    return result
