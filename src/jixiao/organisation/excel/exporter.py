"""Exporting the registry in the import format, scoped to what the user may see, and audited.

Birth dates are masked (``1985-**-**``) for every role but the office (:mod:`accounts.personal`);
the office's unmasked export is also a logged view of personal data (VIEW_SENSITIVE)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from jixiao.accounts import personal
from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, Role, User
from jixiao.accounts.permissions import scope_to_units
from jixiao.organisation.excel.specs import NO, SHEETS_BY_KEY, YES, SheetKey, choice_labels
from jixiao.organisation.excel.writer import SheetRows, write_workbook
from jixiao.organisation.models import (
    FunctionZone,
    Gender,
    Layer,
    LeadershipTeam,
    Official,
    Position,
    Region,
    Tenure,
    Unit,
    UnitCategory,
)

_CHUNK = 10_000


def can_export(user: User) -> bool:
    """Office, leaders and auditors export everything; a liaison exports their own unit."""
    return user.is_active and (
        user.sees_all_units or (user.role == Role.LIAISON and user.unit_id is not None)
    )


def _yes_no(value: bool) -> str:
    return YES if value else NO


def _rows(queryset: QuerySet[Any, Any], fields: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    return queryset.values_list(*fields).iterator(chunk_size=_CHUNK)


def export_rows(user: User | None) -> list[SheetRows]:
    """Return each sheet's rows in import form. ``user`` ``None`` (the console) sees everything.

    Regions, categories and function zones are shared reference data and always exported in
    full; units, teams, officials, posts and tenures follow the user's unit scope.
    """
    gender = choice_labels(Gender)
    layer = choice_labels(Layer)

    def scoped(queryset: QuerySet[Any, Any], path: str) -> QuerySet[Any, Any]:
        return queryset if user is None else scope_to_units(user, queryset, path)

    def units() -> Iterable[tuple[Any, ...]]:
        fields = (
            "code",
            "name",
            "short_name",
            "category__code",
            "region__code",
            "function_zone__code",
            "is_active",
        )
        for *head, active in _rows(scoped(Unit.objects.order_by("code"), ""), fields):
            yield (*head, _yes_no(active))

    def officials() -> Iterable[tuple[Any, ...]]:
        fields = ("code", "name", "gender", "birth_date", "unit__code", "layer", "rank", "title", "is_active")
        for code, name, g, birth, unit, lay, rank, title, active in _rows(
            scoped(Official.objects.order_by("code"), "unit"), fields
        ):
            yield (
                code,
                name,
                gender.get(g, g),
                personal.shown(user, birth, personal.Kind.DATE),
                unit,
                layer.get(lay, lay),
                rank,
                title,
                _yes_no(active),
            )

    def positions() -> Iterable[tuple[Any, ...]]:
        for unit, title, lay, portfolio in _rows(
            scoped(Position.objects.order_by("unit__code", "title"), "unit"),
            ("unit__code", "title", "layer", "portfolio"),
        ):
            yield (unit, title, layer.get(lay, lay), portfolio)

    tenures = _rows(
        scoped(Tenure.objects.order_by("position__unit__code", "position__title", "start"), "position__unit"),
        ("position__unit__code", "position__title", "official__code", "start", "end"),
    )
    return [
        (
            SHEETS_BY_KEY[SheetKey.REGION],
            _rows(Region.objects.order_by("code"), ("code", "name", "parent__code")),
        ),
        (
            SHEETS_BY_KEY[SheetKey.CATEGORY],
            _rows(UnitCategory.objects.order_by("order", "code"), ("code", "name", "order", "description")),
        ),
        (
            SHEETS_BY_KEY[SheetKey.ZONE],
            _rows(FunctionZone.objects.order_by("code"), ("code", "name", "description")),
        ),
        (SHEETS_BY_KEY[SheetKey.UNIT], units()),
        (
            SHEETS_BY_KEY[SheetKey.TEAM],
            _rows(scoped(LeadershipTeam.objects.order_by("unit__code"), "unit"), ("unit__code", "name")),
        ),
        (SHEETS_BY_KEY[SheetKey.OFFICIAL], officials()),
        (SHEETS_BY_KEY[SheetKey.POSITION], positions()),
        (SHEETS_BY_KEY[SheetKey.TENURE], tenures),
    ]


def registry_export(*, actor: User | None, target: str | IO[bytes]) -> dict[str, int]:
    """Write the registry visible to ``actor`` to ``target`` and audit it (action EXPORT).
    Returns the number of rows written per sheet."""
    counts = write_workbook(target, export_rows(actor))
    scope = "all" if actor is None or actor.sees_all_units else f"unit:{actor.unit_id}"
    unmasked = personal.sees_personal_data(actor)
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="organisation.registry",
        object_repr=_("名册导出"),
        changes={"scope": scope, "counts": counts, "masked": not unmasked},
    )
    officials = counts.get(SHEETS_BY_KEY[SheetKey.OFFICIAL].name, 0)
    if unmasked and actor is not None:
        personal.sensitive_view_record(
            actor=actor,
            fields=["birth_date"],
            where="registry_io:export",
            object_type="organisation.official",
            count=officials,
        )
    return counts
