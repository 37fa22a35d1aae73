"""Each template has its sheet with the headers, an example row and a 填写说明 sheet; filled
with real codes it imports back."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from jixiao.declarations.models import Declaration, DeclaredIndicator
from jixiao.facts.excel import SHEETS, FactKind, FactSheet, facts_import, write_template
from jixiao.facts.tests.test_excel_setup import World, build_world
from jixiao.organisation.excel.reader import read_workbook

pytestmark = pytest.mark.django_db


def template(kind: FactKind) -> io.BytesIO:
    handle = io.BytesIO()
    write_template(handle, kind)
    handle.seek(0)
    return handle


@pytest.mark.parametrize("spec", SHEETS, ids=lambda s: s.kind.value)
def test_a_template_has_the_headers_an_example_row_and_the_notes(spec: FactSheet) -> None:
    sheets = read_workbook(template(spec.kind))
    assert list(sheets) == [spec.name, "填写说明"]
    data = sheets[spec.name]
    assert data.headers == spec.headers
    assert data.row_numbers == [2]
    notes = sheets["填写说明"]
    described = {v for column in notes.columns for v in column if v}
    assert set(spec.headers) <= described


@pytest.mark.parametrize("kind", list(FactKind))
def test_the_example_row_with_this_cycles_codes_imports(kind: FactKind) -> None:
    world: World = build_world()
    # The examples name unit U001, official G000001 and indicator 1.1.1; make them exist.
    world.ua1.code = "U001"
    world.ua1.save()
    world.g1.code = "G000001"
    world.g1.save()
    world.leaf.code = "1.1.1"
    world.leaf.save()
    if kind is FactKind.DECLARED:
        # The declared example names U001's first own target under framework node 1.1.1.
        declaration = Declaration.objects.create(
            cycle=world.cycle, unit=world.ua1, version=1, published_version=1
        )
        DeclaredIndicator.objects.create(
            declaration=declaration,
            parent=world.leaf,
            name="税收收入",
            rule_type="completion",
            weight=Decimal(100),
        )
    result = facts_import(actor=world.office, cycle=world.cycle, kind=kind, source=template(kind))
    assert result.ok, [str(e) for e in result.errors]
    assert result.total_created == 1
