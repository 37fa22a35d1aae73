"""The frozen content of a submitted declaration (:attr:`DeclarationVersion.snapshot`).

A snapshot is a JSON list of indicator dicts, one per :class:`DeclaredIndicator` of the
declaration at submission, ordered by framework node order, then ``order``, then id; a level-4
indicator follows the level-3 one it hangs under only by that order (use ``under`` to nest).
Each dict holds plain JSON values only (numbers as strings, so that ``Decimal`` round-trips
exactly; dates as ISO strings; ids as ints; uids as strings)::

    {
      "uid": "8c1e…",                # DeclaredIndicator.uid, stable across versions: the diff key
      "under": "41aa…" | None,       # uid of the level-3 declared indicator a level-4 one hangs under
      "parent_id": 17,               # framework IndicatorNode id
      "parent_name": "经济发展",       # framework node name at submission
      "level": 3 | 4,                # 3 without ``under``, 4 with it
      "name": "规上工业增加值增速",
      "measure": "%",
      "target": "8.5000" | None,
      "target_text": "…",
      "rule_type": "ratio",
      "rule_params": {...},          # as stored (validated by schemes.rule_types)
      "weight": "20.00",
      "lead_department_id": 5 | None,
      "lead_department_name": "发改委" | "",
      "evidence_required": "…",
      "kind": "base" | "dynamic",
      "is_long_term": false,
      "is_core": true,
      "library_entry_id": 3 | None,
      "last_year_actual": "7.9000" | None,
      "last_year_target": "8.0000" | None,
      "higher_target": "8.0000" | None,
      "effective_from": "2026-07-01" | None,
      "task_id": 4 | None,
      "order": 0,
      "milestones": [{"due": "2026-06-30", "expected_percent": "50.00", "note": "…"}, …]  # by due
    }

:func:`snapshot_of` builds it from the database, :func:`restore` writes one back as the working
copy (a withdrawn change request); :func:`by_uid` indexes one for a diff;
:data:`COMPARED_FIELDS` names the fields a reviewer's diff compares (everything but ids/order).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from jixiao.declarations.models import Declaration, DeclaredIndicator, Milestone

#: The fields a diff between two snapshots compares (display order).
COMPARED_FIELDS: tuple[str, ...] = (
    "parent_name",
    "name",
    "measure",
    "target",
    "target_text",
    "rule_type",
    "rule_params",
    "weight",
    "lead_department_name",
    "evidence_required",
    "kind",
    "is_long_term",
    "is_core",
    "last_year_actual",
    "last_year_target",
    "higher_target",
    "effective_from",
    "milestones",
)


def _num(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def indicator_dict(indicator: DeclaredIndicator) -> dict[str, Any]:
    """One indicator as a snapshot dict (see the module docstring). Reads ``parent``,
    ``under``, ``lead_department`` and ``milestones``: prefetch them for many."""
    return {
        "uid": str(indicator.uid),
        "under": str(indicator.under.uid) if indicator.under_id and indicator.under else None,
        "parent_id": indicator.parent_id,
        "parent_name": indicator.parent.name,
        "level": 4 if indicator.under_id else 3,
        "name": indicator.name,
        "measure": indicator.measure,
        "target": _num(indicator.target),
        "target_text": indicator.target_text,
        "rule_type": indicator.rule_type,
        "rule_params": dict(indicator.rule_params or {}),
        "weight": _num(indicator.weight),
        "lead_department_id": indicator.lead_department_id,
        "lead_department_name": indicator.lead_department.name if indicator.lead_department else "",
        "evidence_required": indicator.evidence_required,
        "kind": indicator.kind,
        "is_long_term": indicator.is_long_term,
        "is_core": indicator.is_core,
        "library_entry_id": indicator.library_entry_id,
        "last_year_actual": _num(indicator.last_year_actual),
        "last_year_target": _num(indicator.last_year_target),
        "higher_target": _num(indicator.higher_target),
        "effective_from": _day(indicator.effective_from),
        "task_id": indicator.task_id,
        "order": indicator.order,
        "milestones": [
            {"due": m.due.isoformat(), "expected_percent": str(m.expected_percent), "note": m.note}
            for m in sorted(indicator.milestones.all(), key=lambda m: m.due)
        ],
    }


def snapshot_of(declaration: Declaration) -> list[dict[str, Any]]:
    """The declaration's current indicators as a snapshot list (a constant number of queries)."""
    rows = (
        DeclaredIndicator.objects.filter(declaration=declaration)
        .select_related("parent", "under", "lead_department")
        .prefetch_related("milestones")
        .order_by("parent__level", "parent__order", "parent_id", "under_id", "order", "id")
    )
    # Level 3 before level 4 (under_id None sorts first on PostgreSQL and SQLite alike only with
    # nulls first; sort in Python to be sure): each level-3 row, then the level-4 rows under it.
    items = list(rows)
    tops = [i for i in items if i.under_id is None]
    subs: dict[int, list[DeclaredIndicator]] = {}
    for i in items:
        if i.under_id is not None:
            subs.setdefault(i.under_id, []).append(i)
    ordered: list[DeclaredIndicator] = []
    for top in tops:
        ordered.append(top)
        ordered.extend(subs.pop(top.pk, []))
    for rest in subs.values():  # orphans cannot exist (CASCADE), kept for safety
        ordered.extend(rest)
    return [indicator_dict(i) for i in ordered]


def by_uid(snapshot: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Index a snapshot by indicator uid (for diffs)."""
    return {str(item["uid"]): item for item in snapshot}


#: Snapshot fields copied back onto a working row as they are (the rest need converting).
_PLAIN_FIELDS = (
    "name", "measure", "target_text", "rule_type", "evidence_required", "kind", "is_long_term",
    "is_core", "order",
)  # fmt: skip
_NUMBER_FIELDS = ("target", "weight", "last_year_actual", "last_year_target", "higher_target")
_ID_FIELDS = ("parent_id", "lead_department_id", "library_entry_id", "task_id")


def _decimal(text: Any) -> Decimal | None:
    return None if text in (None, "") else Decimal(str(text))


def rows_not_in(declaration: Declaration, items: list[dict[str, Any]]) -> list[DeclaredIndicator]:
    """The working rows of ``declaration`` whose uid the snapshot ``items`` lacks."""
    wanted = {str(item["uid"]) for item in items}
    return [r for r in DeclaredIndicator.objects.filter(declaration=declaration) if str(r.uid) not in wanted]


def restore(declaration: Declaration, items: list[dict[str, Any]]) -> None:
    """Make ``declaration``'s working copy the snapshot ``items`` again (call holding the
    declaration's lock; check :func:`rows_not_in` first, they are deleted): rows keep their id by
    uid (so their reports, evidence and annual values stay attached), rows the working copy lost
    are recreated with their uid, and every row's fields, nesting and milestones are the
    snapshot's."""
    rows = {str(r.uid): r for r in DeclaredIndicator.objects.filter(declaration=declaration)}
    extra = rows_not_in(declaration, items)
    restored: dict[str, DeclaredIndicator] = {}
    for item in items:
        uid = str(item["uid"])
        row = rows.get(uid) or DeclaredIndicator(declaration=declaration, uid=uid)
        for name in _PLAIN_FIELDS:
            setattr(row, name, item.get(name, getattr(row, name)))
        for name in _NUMBER_FIELDS:
            setattr(row, name, _decimal(item.get(name)))
        for name in _ID_FIELDS:
            setattr(row, name, item.get(name))
        row.rule_params = dict(item.get("rule_params") or {})
        row.effective_from = (
            date.fromisoformat(item["effective_from"]) if item.get("effective_from") else None
        )
        row.under = None  # nested below once every row exists
        row.save()
        restored[uid] = row
    for item in items:
        if item.get("under"):
            row = restored[str(item["uid"])]
            row.under = restored[str(item["under"])]
            row.save(update_fields=["under"])
    DeclaredIndicator.objects.filter(pk__in=[r.pk for r in extra], under__isnull=False).delete()
    DeclaredIndicator.objects.filter(pk__in=[r.pk for r in extra]).delete()
    Milestone.objects.filter(indicator__declaration=declaration).delete()
    Milestone.objects.bulk_create(
        [
            Milestone(
                indicator=restored[str(item["uid"])],
                due=date.fromisoformat(m["due"]),
                expected_percent=Decimal(str(m["expected_percent"])),
                note=m.get("note", ""),
            )
            for item in items
            for m in item.get("milestones") or []
        ]
    )
