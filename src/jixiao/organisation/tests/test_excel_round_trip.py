from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest

from jixiao.organisation.excel import registry_export, registry_import, template_rows, write_workbook
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
from jixiao.organisation.tests.factories import (
    CategoryFactory,
    FunctionZoneFactory,
    OfficialFactory,
    PositionFactory,
    RegionFactory,
    TeamFactory,
    TenureFactory,
    UnitFactory,
)

pytestmark = pytest.mark.django_db


def registry_snapshot() -> dict[str, Any]:
    """Everything the workbook carries, keyed by natural keys (ids differ after re-import)."""
    return {
        "regions": sorted(Region.objects.values_list("code", "name", "parent__code")),
        "categories": sorted(UnitCategory.objects.values_list("code", "name", "order", "description")),
        "zones": sorted(FunctionZone.objects.values_list("code", "name", "description")),
        "units": sorted(
            Unit.objects.values_list(
                "code",
                "name",
                "short_name",
                "category__code",
                "region__code",
                "function_zone__code",
                "is_active",
            )
        ),
        "teams": sorted(LeadershipTeam.objects.values_list("unit__code", "name")),
        "officials": sorted(
            Official.objects.values_list(
                "code", "name", "gender", "birth_date", "unit__code", "layer", "rank", "title", "is_active"
            )
        ),
        "positions": sorted(Position.objects.values_list("unit__code", "title", "layer", "portfolio")),
        "tenures": sorted(
            Tenure.objects.values_list(
                "position__unit__code", "position__title", "official__code", "start", "end"
            ),
            key=str,
        ),
    }


def build_registry() -> None:
    province = RegionFactory(code="R1", name="示例省")
    city = RegionFactory(code="R2", name="示例市", parent=province)
    zone = FunctionZoneFactory(code="Z1", name="生态保护区", description="以生态为主")
    county = UnitFactory(
        code="001",
        name="甲县人民政府",
        short_name="甲县",
        category=CategoryFactory(code="C1", order=2, description="县市区"),
        region=city,
        function_zone=zone,
    )
    bureau = UnitFactory(
        code="U2", name="财政局", category=CategoryFactory(code="C2"), region=city, is_active=False
    )
    TeamFactory(unit=county, name="甲县领导班子")
    head = OfficialFactory(
        code="G1",
        name="王五",
        gender=Gender.MALE,
        birth_date=date(1970, 5, 4),
        unit=county,
        layer=Layer.HEAD,
        title="县长",
    )
    predecessor = OfficialFactory(
        code="G2", name="=SUM(A1)", unit=bureau, layer=Layer.OTHER, is_active=False, rank=""
    )
    OfficialFactory(code="G3", name="李四", gender=Gender.FEMALE, unit=bureau)
    post = PositionFactory(unit=county, title="县长", layer=Layer.HEAD, portfolio="全面工作")
    TenureFactory(position=post, official=predecessor, start=date(2015, 1, 1), end=date(2020, 12, 31))
    TenureFactory(position=post, official=head, start=date(2021, 1, 1), end=None)


def test_export_then_import_into_an_empty_registry_restores_everything() -> None:
    build_registry()
    before = registry_snapshot()
    exported = io.BytesIO()
    registry_export(actor=None, target=exported)
    for model in (Tenure, Position, Official, LeadershipTeam, Unit, UnitCategory, FunctionZone):
        model.objects.all().delete()
    Region.objects.filter(parent__isnull=False).delete()
    Region.objects.all().delete()

    exported.seek(0)
    result = registry_import(actor=None, source=exported)

    assert result.ok, result.errors
    assert registry_snapshot() == before
    assert {c.sheet: (c.created, c.updated) for c in result.counts}["任职"] == (2, 0)


def test_reimporting_an_export_updates_every_row_and_changes_nothing() -> None:
    build_registry()
    before = registry_snapshot()
    exported = io.BytesIO()
    registry_export(actor=None, target=exported)
    exported.seek(0)

    result = registry_import(actor=None, source=exported)

    assert result.ok, result.errors
    assert result.total_created == 0
    assert result.total_updated == sum(len(v) for v in before.values())
    assert registry_snapshot() == before


def test_the_template_imports_as_one_consistent_example() -> None:
    template = io.BytesIO()
    write_workbook(template, template_rows())
    template.seek(0)

    result = registry_import(actor=None, source=template)

    assert result.ok, result.errors
    tenure = Tenure.objects.select_related("position__unit", "official").get()
    assert (tenure.position.unit.code, tenure.position.title, tenure.official.code) == (
        "U001",
        "县长",
        "G000001",
    )
    assert Official.objects.get().layer == Layer.HEAD


def test_a_successor_closes_the_predecessors_tenure_and_inherits_the_post() -> None:
    build_registry()
    post = Position.objects.get(title="县长")
    successor = OfficialFactory(code="G9", unit=post.unit)
    exported = io.BytesIO()
    registry_export(actor=None, target=exported)
    # Rewrite the tenure sheet: close G1's open tenure and open G9's.
    sheets = _read_rows(exported)
    tenures = sheets["任职"]
    tenures = [r if r[2] != "G1" else [*r[:4], date(2024, 3, 31)] for r in tenures]
    tenures.append(["001", "县长", successor.code, date(2024, 4, 1), None])
    updated = io.BytesIO()
    from jixiao.organisation.excel.specs import SHEETS_BY_NAME

    write_workbook(updated, [(SHEETS_BY_NAME["任职"], tenures)], notes=False)
    updated.seek(0)

    result = registry_import(actor=None, source=updated)

    assert result.ok, result.errors
    assert [(t.official.code, t.end) for t in post.tenures.order_by("start")] == [
        ("G2", date(2020, 12, 31)),
        ("G1", date(2024, 3, 31)),
        ("G9", None),
    ]


def _read_rows(handle: io.BytesIO) -> dict[str, list[list[Any]]]:
    from jixiao.organisation.excel.reader import read_workbook

    handle.seek(0)
    out = {}
    for name, sheet in read_workbook(handle).items():
        out[name] = [list(r) for r in zip(*sheet.columns, strict=True)] if sheet.columns else []
    return out
