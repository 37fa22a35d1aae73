"""The COPY / executemany path used for large sheets gives the same result as bulk_create."""

from __future__ import annotations

import io
from datetime import date

import pytest

from jixiao.organisation.excel import persist, registry_import, write_workbook
from jixiao.organisation.excel.specs import SHEETS_BY_NAME
from jixiao.organisation.models import Layer, Official, Tenure
from jixiao.organisation.tests.factories import OfficialFactory, PositionFactory, TenureFactory, UnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def always_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(persist, "FAST_PATH_MIN_ROWS", 0)


def workbook(sheets: dict[str, list[list[object]]]) -> io.BytesIO:
    handle = io.BytesIO()
    write_workbook(handle, [(SHEETS_BY_NAME[name], rows) for name, rows in sheets.items()], notes=False)
    handle.seek(0)
    return handle


def test_large_sheet_path_inserts_new_and_updates_existing_officials() -> None:
    unit = UnitFactory(code="U1")
    OfficialFactory(code="G1", name="旧名", unit=unit, layer=Layer.MEMBER)
    rows = [
        ["G1", "新名", "女", date(1980, 1, 2), "U1", "班子正职", "", "", "否"],
        ["G2", "张三", None, None, "U1", "other", "正处级", "局长", None],
    ]
    result = registry_import(actor=None, source=workbook({"领导干部": rows}))
    assert result.ok, result.errors
    assert [(c.created, c.updated) for c in result.counts] == [(1, 1)]
    g1, g2 = Official.objects.order_by("code")
    assert (g1.name, g1.gender, g1.birth_date, g1.layer, g1.is_active) == (
        "新名",
        "F",
        date(1980, 1, 2),
        "head",
        False,
    )
    assert (g2.gender, g2.birth_date, g2.rank, g2.is_active) == ("", None, "正处级", True)


def test_large_sheet_path_closes_a_tenure_before_opening_the_next() -> None:
    post = PositionFactory(unit=UnitFactory(code="U1"), title="局长")
    TenureFactory(position=post, official=OfficialFactory(code="G1"), start=date(2019, 1, 1), end=None)
    OfficialFactory(code="G2")
    rows = [
        ["U1", "局长", "G1", date(2019, 1, 1), date(2023, 12, 31)],
        ["U1", "局长", "G2", date(2024, 1, 1), None],
    ]
    result = registry_import(actor=None, source=workbook({"任职": rows}))
    assert result.ok, result.errors
    assert list(Tenure.objects.order_by("start").values_list("official__code", "end")) == [
        ("G1", date(2023, 12, 31)),
        ("G2", None),
    ]
