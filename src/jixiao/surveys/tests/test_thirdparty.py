"""Third-party survey results from Excel: every error located, nothing written on any error."""

from __future__ import annotations

import io

import pytest
import xlsxwriter

from jixiao.accounts.models import AuditLog, Role
from jixiao.facts.models import EvaluationScore
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.schemes.tests.factories import CycleFactory
from jixiao.surveys.models import ThirdPartyImport
from jixiao.surveys.tests.factories import RaterGroupFactory
from jixiao.surveys.thirdparty import third_party_import

pytestmark = pytest.mark.django_db
HEADER = ["单位代码", "评价项目", "样本量", "满意度得分"]


def workbook(rows: list[list[object]], header: list[str] = HEADER, sheet: str = "第三方测评") -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = book.add_worksheet(sheet)
    ws.write_row(0, 0, header)
    for r, row in enumerate(rows, start=1):
        ws.write_row(r, 0, row)
    book.close()
    return buffer.getvalue()


@pytest.fixture
def setting() -> dict[str, object]:
    cycle = CycleFactory(year=2025)
    RaterGroupFactory(cycle=cycle, code="third_party")
    return {
        "cycle": cycle,
        "units": [UnitFactory(code="A01"), UnitFactory(code="A02")],
        "office": UserFactory(role=Role.OFFICE),
    }


def _run(setting: dict[str, object], content: bytes, **kwargs: object) -> object:
    return third_party_import(
        actor=setting["office"], cycle=setting["cycle"], content=content, filename="firm.xlsx", **kwargs
    )  # type: ignore[arg-type]


def test_a_good_file_lands_as_facts_with_sample_size_as_ballots_and_a_digest_source(
    setting: dict[str, object],
) -> None:
    content = workbook([["A01", "overall", 420, 86.5], ["A02", "overall", 380, 91]])
    outcome = _run(setting, content)
    assert outcome.errors == []  # type: ignore[attr-defined]
    record = ThirdPartyImport.objects.get()
    rows = EvaluationScore.objects.filter(source=record.source).order_by("unit__code")
    assert record.source.startswith("third-party:") and len(record.source) == len("third-party:") + 12
    assert list(rows.values_list("rater_group", "item", "score", "ballots")) == [
        ("third_party", "overall", 86.5, 420),
        ("third_party", "overall", 91.0, 380),
    ]
    assert AuditLog.objects.filter(action="import", object_type="surveys.thirdpartyimport").count() == 1
    _run(setting, content)  # the same file again replaces its rows
    assert EvaluationScore.objects.count() == 2


def test_every_bad_cell_is_reported_with_sheet_row_and_column_and_nothing_is_written(
    setting: dict[str, object],
) -> None:
    content = workbook(
        [
            ["A01", "overall", 420, 86.5],
            ["ZZZ", "overall", 10, 50],
            ["A02", "Overall!", 0, 101],
            ["A01", "overall", 5.5, "高"],
        ]
    )
    outcome = _run(setting, content)
    found = {(e.sheet, e.row, e.column[0], e.message.split("“")[0]) for e in outcome.errors}  # type: ignore[attr-defined]
    assert ("第三方测评", 3, "A", "没有代码为") in found
    assert ("第三方测评", 4, "B", "评价项目代码") in found
    assert ("第三方测评", 4, "C", "样本量须为正整数，现为") in found
    assert ("第三方测评", 4, "D", "满意度得分须为 0–100 的数，现为") in found
    assert ("第三方测评", 5, "C", "样本量须为正整数，现为") in found
    assert ("第三方测评", 5, "D", "满意度得分须为 0–100 的数，现为") in found
    assert not EvaluationScore.objects.exists() and not ThirdPartyImport.objects.exists()


def test_a_duplicate_unit_and_item_is_an_error(setting: dict[str, object]) -> None:
    outcome = _run(setting, workbook([["A01", "overall", 1, 80], ["A01", "overall", 2, 70]]))
    assert [(e.row, "重复" in e.message) for e in outcome.errors] == [(3, True)]  # type: ignore[attr-defined]


def test_a_missing_column_is_reported_on_the_header_row(setting: dict[str, object]) -> None:
    outcome = _run(setting, workbook([["A01", "overall", 1]], header=HEADER[:3]))
    assert [(e.row, e.column) for e in outcome.errors] == [(1, "满意度得分")]  # type: ignore[attr-defined]


def test_a_file_that_is_not_a_workbook_is_reported(setting: dict[str, object]) -> None:
    outcome = _run(setting, b"not a workbook")
    assert len(outcome.errors) == 1 and "Excel" in outcome.errors[0].message  # type: ignore[attr-defined]


def test_the_rater_group_must_exist_in_the_cycle(setting: dict[str, object]) -> None:
    outcome = _run(setting, workbook([["A01", "overall", 1, 80]]), rater_group="media")
    assert "media" in outcome.errors[0].message  # type: ignore[attr-defined]
    assert not EvaluationScore.objects.exists()
