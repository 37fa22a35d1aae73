"""What validation needs from the database, loaded once per import as plain dicts.

Codes in a file resolve to primary keys by dict lookups; no check queries the database per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from jixiao.facts.excel.specs import PK_PREFIX
from jixiao.organisation.models import Official, Unit, UnitCategory
from jixiao.schemes.models import Cycle, IndicatorNode, RaterGroup

# SQLite refuses more than 32,766 bound parameters per statement; stay well below it.
_IN_CHUNK = 900
# Above this many distinct codes one full scan beats many IN (...) queries.
_SCAN_ALL_ABOVE = 20 * _IN_CHUNK


@dataclass(frozen=True)
class UnitRef:
    pk: int
    category_id: int


@dataclass(frozen=True)
class OfficialRef:
    pk: int
    unit_id: int


def units_by_code() -> dict[str, UnitRef]:
    """Every unit, by code (a prefecture has hundreds, a province a few thousand)."""
    return {code: UnitRef(pk, cat) for code, pk, cat in Unit.objects.values_list("code", "pk", "category_id")}


def officials_by_code(codes: Iterable[str]) -> dict[str, OfficialRef]:
    """The officials whose codes are in ``codes``, by code."""
    wanted = sorted(set(codes))
    rows = Official.objects.values_list("code", "pk", "unit_id")
    if len(wanted) > _SCAN_ALL_ABOVE:
        return {code: OfficialRef(pk, unit) for code, pk, unit in rows}
    found: dict[str, OfficialRef] = {}
    for i in range(0, len(wanted), _IN_CHUNK):
        for code, pk, unit in rows.filter(code__in=wanted[i : i + _IN_CHUNK]):
            found[code] = OfficialRef(pk, unit)
    return found


def rater_groups(cycle: Cycle) -> dict[str, str]:
    """``{code or name: code}`` of the cycle's rater groups."""
    lookup: dict[str, str] = {}
    for code, name in RaterGroup.objects.filter(cycle=cycle).values_list("code", "name"):
        lookup.setdefault(name, code)
    lookup.update({code: code for code in lookup.values()})
    return lookup


@dataclass(frozen=True)
class Leaf:
    """A leaf indicator of the cycle, with what the checks need."""

    pk: int
    code: str
    category_id: int
    lead_unit_id: int | None


@dataclass(frozen=True)
class IndicatorMiss:
    """Why an indicator reference failed; ``category`` is True when the indicator exists in the
    cycle but not in the scheme of the entity's category (the fault may lie with the entity)."""

    message: str
    category: bool = False


@dataclass
class IndicatorIndex:
    """The cycle's indicator tree as dicts: leaves by pk and by (category, code)."""

    by_pk: dict[int, Leaf] = field(default_factory=dict)
    by_code: dict[tuple[int, str], list[Leaf]] = field(default_factory=dict)
    leaf_codes: set[str] = field(default_factory=set)
    branch_codes: set[str] = field(default_factory=set)
    branch_pks: set[int] = field(default_factory=set)
    # Which categories' schemes hold a leaf code, and the categories' names, for messages.
    code_categories: dict[str, set[int]] = field(default_factory=dict)
    category_names: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, cycle: Cycle) -> IndicatorIndex:
        nodes = list(
            IndicatorNode.objects.filter(scheme__cycle=cycle).values_list(
                "pk", "code", "parent_id", "scheme__category_id", "lead_unit_id"
            )
        )
        parents = {parent for _pk, _code, parent, _cat, _lead in nodes if parent is not None}
        index = cls()
        index.category_names = dict(
            UnitCategory.objects.filter(schemes__cycle=cycle).values_list("pk", "name")
        )
        by_code: dict[tuple[int, str], list[Leaf]] = defaultdict(list)
        for pk, code, _parent, category, lead in nodes:
            if pk in parents:
                index.branch_pks.add(pk)
                if code:
                    index.branch_codes.add(code)
                continue
            leaf = Leaf(pk, code, category, lead)
            index.by_pk[pk] = leaf
            if code:
                by_code[(category, code)].append(leaf)
                index.leaf_codes.add(code)
                index.code_categories.setdefault(code, set()).add(category)
        index.by_code = dict(by_code)
        return index

    def other_category(self, text: str, categories: set[int], entity: str, category_id: int) -> str:
        """ "指标 X 属于 Y 类方案，不适用于单位 Z（W）": the indicator exists, in another scheme."""
        names = "、".join(sorted(self.category_names.get(c, "?") for c in categories))
        return _("指标“%(code)s”属于“%(home)s”类方案，不适用于%(entity)s（“%(category)s”类）") % {
            "code": text,
            "home": names,
            "entity": entity,
            "category": self.category_names.get(category_id, "?"),
        }

    def resolve(self, text: str, category_id: int, entity: str = "") -> Leaf | IndicatorMiss:
        """Return the leaf that ``text`` (a code or ``#pk``) names in the scheme of
        ``category_id``, or why there is none; ``entity`` (e.g. 单位“U001 某县”) names the row's
        unit or official when the indicator belongs to another category's scheme."""
        entity = entity or _("该对象")
        if text.startswith(PK_PREFIX):
            digits = text[len(PK_PREFIX) :].strip()
            pk = int(digits) if digits.isdigit() else -1
            leaf = self.by_pk.get(pk)
            if leaf is None:
                return self._missing(pk in self.branch_pks, text)
            if leaf.category_id != category_id:
                return IndicatorMiss(self.other_category(text, {leaf.category_id}, entity, category_id), True)
            return leaf
        candidates = self.by_code.get((category_id, text), [])
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            return IndicatorMiss(
                _("编号“%(code)s”对应多个指标，请改用 #系统编号（%(pks)s）")
                % {"code": text, "pks": "、".join(f"{PK_PREFIX}{c.pk}" for c in candidates)}
            )
        if text in self.leaf_codes:
            return IndicatorMiss(
                self.other_category(text, self.code_categories.get(text, set()), entity, category_id), True
            )
        return self._missing(text in self.branch_codes, text)

    @staticmethod
    def _missing(is_branch: bool, text: str) -> IndicatorMiss:
        if is_branch:
            return IndicatorMiss(_("指标“%(code)s”不是末级指标，只能为末级指标导入") % {"code": text})
        return IndicatorMiss(_("本周期的考核方案中没有编号为“%(code)s”的指标") % {"code": text})
