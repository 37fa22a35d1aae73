"""The codes a clerk sees for a unit's declared targets (申报指标编号), and the index that
resolves them.

A declared target has no code of its own: the declaration lists it under a framework node of the
office's tree. Its code is that node's code and its place there: the unit's second level-3
target under node ``2.1`` is ``2.1-2``, the first level-4 target under that one ``2.1-2.1``.
A framework node without a code, or whose code repeats in its scheme, is written ``#<pk>``
(as the results import names such indicators), so a code names one target of one unit. The
code follows the declaration's order (``order``, then creation), the order the entry grid and
the published list show; the template and the import compute it the same way, from all of the
unit's targets whoever asks, so a lead department's file uses the office's codes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from jixiao.declarations.models import DeclaredIndicator
from jixiao.facts.excel.specs import PK_PREFIX
from jixiao.schemes.models import Cycle, IndicatorNode

# SQLite refuses more than 32,766 bound parameters per statement; stay well below it.
_IN_CHUNK = 900
GRADE_MAP_RULE = "grade_map"


@dataclass(frozen=True)
class DeclaredTarget:
    """One declared target of one unit, with what the import checks: ``leaf`` (no level-4 target
    under it), ``published`` (its declaration has a published version) and, for a qualitative
    target (定性等次计分), the grades it accepts."""

    pk: int
    unit_id: int
    code: str
    leaf: bool
    published: bool
    lead_department_id: int | None
    grades: tuple[str, ...] = ()


def _node_refs(cycle: Cycle) -> dict[int, str]:
    """Framework node pk → the code its declared targets are numbered under."""
    nodes = list(IndicatorNode.objects.filter(scheme__cycle=cycle).values_list("pk", "code", "scheme_id"))
    repeats = Counter((scheme, code) for _pk, code, scheme in nodes if code)
    return {
        pk: code if code and repeats[(scheme, code)] == 1 else f"{PK_PREFIX}{pk}"
        for pk, code, scheme in nodes
    }


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), _IN_CHUNK):
        yield ids[i : i + _IN_CHUNK]


Row = tuple[int, int, int, int | None, int, int | None, str, int | None]


def _rows(cycle: Cycle, unit_ids: Iterable[int] | None) -> list[Row]:
    qs = DeclaredIndicator.objects.filter(declaration__cycle=cycle).values_list(
        "pk",
        "declaration__unit_id",
        "parent_id",
        "under_id",
        "order",
        "lead_department_id",
        "rule_type",
        "declaration__published_version",
    )
    if unit_ids is None:
        return list(qs)
    rows: list[Row] = []
    for chunk in _chunks(sorted(set(unit_ids))):
        rows.extend(qs.filter(declaration__unit_id__in=chunk))
    return rows


def _rate(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def _grades(pks: list[int]) -> dict[int, tuple[str, ...]]:
    """The grade labels of the qualitative targets among ``pks`` (their rule's ``map``)."""
    out: dict[int, tuple[str, ...]] = {}
    for chunk in _chunks(pks):
        for pk, params in DeclaredIndicator.objects.filter(pk__in=chunk).values_list("pk", "rule_params"):
            grades = (params or {}).get("map") if isinstance(params, dict) else None
            # Best grade first: PostgreSQL's jsonb does not keep the map's key order.
            out[pk] = (
                tuple(sorted((str(g) for g in grades), key=lambda g: (-_rate(grades[g]), g)))
                if isinstance(grades, dict)
                else ()
            )
    return out


def declared_targets(
    *, cycle: Cycle, unit_ids: Iterable[int] | None = None
) -> dict[tuple[int, str], DeclaredTarget]:
    """Every declared target of ``cycle`` (of the units in ``unit_ids`` when given), published or
    not, leaf or not, by (unit pk, code). Three queries per 900 units, whatever their targets."""
    rows = _rows(cycle, unit_ids)
    refs = _node_refs(cycle)
    has_children = {row[3] for row in rows if row[3] is not None}
    # (order, pk) within each level-3 slot (unit, framework node) and under each level-3 target.
    tops: dict[tuple[int, int], list[tuple[int, int]]] = {}
    subs: dict[int, list[tuple[int, int]]] = {}
    for pk, unit, parent, under, order, _lead, _rule, _published in rows:
        if under is None:
            tops.setdefault((unit, parent), []).append((order, pk))
        else:
            subs.setdefault(under, []).append((order, pk))
    codes: dict[int, str] = {}
    for (_unit, parent), items in tops.items():
        for n, (_order, pk) in enumerate(sorted(items), start=1):
            codes[pk] = f"{refs.get(parent, f'{PK_PREFIX}{parent}')}-{n}"
    for under, items in subs.items():
        for n, (_order, pk) in enumerate(sorted(items), start=1):
            # A level-4 target whose level-3 one is missing cannot be; name it by its pk then.
            codes[pk] = f"{codes.get(under, f'{PK_PREFIX}{under}')}.{n}"
    grades = _grades([r[0] for r in rows if r[6] == GRADE_MAP_RULE])
    return {
        (unit, codes[pk]): DeclaredTarget(
            pk=pk,
            unit_id=unit,
            code=codes[pk],
            leaf=pk not in has_children,
            published=published is not None,
            lead_department_id=lead,
            grades=grades.get(pk, ()),
        )
        for pk, unit, _parent, _under, _order, lead, _rule, published in rows
    }


def code_of(targets: dict[tuple[int, str], DeclaredTarget]) -> dict[int, str]:
    """Declared pk → its code, from :func:`declared_targets`."""
    return {t.pk: t.code for t in targets.values()}
