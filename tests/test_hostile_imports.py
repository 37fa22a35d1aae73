"""Every workbook import refuses every hostile workbook with a clear Chinese message and writes
nothing: registry, the four kinds of facts, third-party samples and bulk accounts."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from jixiao.accounts.bulk import HEADERS as ACCOUNT_HEADERS
from jixiao.accounts.bulk import SHEET as ACCOUNT_SHEET
from jixiao.accounts.bulk import accounts_import
from jixiao.accounts.models import AuditLog, Role, User
from jixiao.facts.excel import FactKind, facts_import
from jixiao.facts.excel.specs import SHEETS_BY_KIND
from jixiao.facts.models import Adjustment, EvaluationScore, IndicatorResult, VoteCount
from jixiao.organisation.excel import registry_import
from jixiao.organisation.excel.specs import SHEETS_BY_KEY, SheetKey
from jixiao.organisation.models import Official, Unit, UnitCategory
from jixiao.organisation.tests.factories import UnitFactory, UserFactory
from jixiao.schemes.tests.factories import CycleFactory
from jixiao.surveys.models import ThirdPartyImport
from jixiao.surveys.tests.factories import RaterGroupFactory
from jixiao.surveys.thirdparty import COLUMNS as THIRD_PARTY_COLUMNS
from jixiao.surveys.thirdparty import third_party_import
from jixiao.web.tests import hostile

pytestmark = pytest.mark.django_db

WATCHED: tuple[type[Model], ...] = (
    AuditLog,
    Unit,
    UnitCategory,
    Official,
    IndicatorResult,
    EvaluationScore,
    VoteCount,
    Adjustment,
    ThirdPartyImport,
    User,
)


@dataclass(frozen=True)
class Target:
    sheet: str
    headers: list[str]
    run: Callable[[bytes], list[str]]


def _registry(data: bytes) -> list[str]:
    return [e.message for e in registry_import(actor=None, source=io.BytesIO(data), filename="x.xlsx").errors]


def _facts(kind: FactKind, data: bytes) -> list[str]:
    cycle = CycleFactory(year=2025)
    return [
        e.message for e in facts_import(actor=None, cycle=cycle, kind=kind, source=io.BytesIO(data)).errors
    ]


def _third_party(data: bytes) -> list[str]:
    cycle = CycleFactory(year=2025)
    RaterGroupFactory(cycle=cycle, code="third_party")
    office = UserFactory(role=Role.OFFICE)
    outcome = third_party_import(actor=office, cycle=cycle, content=data, filename="x.xlsx")
    return [e.message for e in outcome.errors]


def _accounts(data: bytes) -> list[str]:
    admin = UserFactory(role=Role.SYSADMIN)  # 三权分立: the system admin opens accounts
    return [e.message for e in accounts_import(actor=admin, source=io.BytesIO(data)).errors]


def _unit_sheet() -> tuple[str, list[str]]:
    spec = SHEETS_BY_KEY[SheetKey.UNIT]
    return spec.name, [c.header for c in spec.columns]


TARGETS: dict[str, Target] = {
    "registry": Target(*_unit_sheet(), _registry),
    **{
        f"facts_{kind.value}": Target(
            SHEETS_BY_KIND[kind].name,
            list(SHEETS_BY_KIND[kind].headers),
            functools.partial(_facts, kind),
        )
        for kind in FactKind
    },
    "third_party": Target("第三方测评", [h for _k, h, _a in THIRD_PARTY_COLUMNS], _third_party),
    "accounts": Target(ACCOUNT_SHEET, list(ACCOUNT_HEADERS), _accounts),
}


@functools.cache
def _file(kind: str, target: str) -> bytes:
    t = TARGETS[target]
    return hostile.KINDS[kind][0](t.sheet, t.headers)


def _counts() -> dict[str, int]:
    return {m.__name__: m._default_manager.count() for m in WATCHED}


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("kind", sorted(hostile.KINDS))
def test_a_hostile_workbook_is_refused_with_a_clear_message_and_nothing_is_written(
    kind: str, target: str
) -> None:
    data = _file(kind, target)
    before = _counts()
    # The fixtures of each target add a cycle, a group or an office user first; count after them.
    messages = TARGETS[target].run(data)
    after = _counts()
    assert messages, f"{kind} was accepted by {target}"
    word = hostile.KINDS[kind][1]
    assert any(word in m for m in messages), messages
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in messages), messages
    written = {k: after[k] - before[k] for k in after if after[k] != before[k] and k not in ("User",)}
    assert written == {}, written
    assert after["AuditLog"] == before["AuditLog"]


def test_the_formula_refusal_names_the_sheet_row_column_and_cell() -> None:
    t = TARGETS["facts_results"]
    messages = t.run(hostile.formula_without_value(t.sheet, t.headers))
    assert messages == [
        f"工作表“{t.sheet}”第 5 行 D 列（D5）是公式且没有计算结果，请在 Excel 中重新计算并保存后再导入"
    ]


def test_a_far_cell_is_refused_by_its_address_before_the_reader_allocates_the_sheet() -> None:
    messages = TARGETS["registry"].run(_file("far_cell", "registry"))
    assert len(messages) == 1 and "XFD1048576" in messages[0] and "200,000" in messages[0]


def test_a_huge_declared_dimension_is_not_trusted_and_real_rows_still_import() -> None:
    UnitFactory(code="X")  # creates the category and region the row refers to
    unit = Unit.objects.get(code="X")
    name, headers = _unit_sheet()
    row = [
        hostile.text_cell(f"{chr(65 + i)}2", v)
        for i, v in enumerate(["U9", "九号单位", "", unit.category.code, unit.region.code, "", "是"])
        if v
    ]
    rows = hostile.header_row(headers) + b'<row r="2">' + b"".join(row) + b"</row>"
    data = hostile.book(name, hostile.sheet_xml(rows, "A1:XFD1048576"))
    result = registry_import(actor=None, source=io.BytesIO(data))
    assert result.errors == ()
    assert Unit.objects.filter(code="U9").exists()


def test_a_cell_longer_than_the_model_field_is_reported_with_row_and_column_and_nothing_written() -> None:
    name = SHEETS_BY_KEY[SheetKey.CATEGORY].name
    headers = [c.header for c in SHEETS_BY_KEY[SheetKey.CATEGORY].columns]
    limit = UnitCategory._meta.get_field("description").max_length or 2000  # follows the model
    cells = [
        hostile.text_cell("A2", "C9"),
        hostile.text_cell("B2", "九类"),
        hostile.text_cell("D2", "长" * (limit + 1)),
    ]
    rows = hostile.header_row(headers) + b'<row r="2">' + b"".join(cells) + b"</row>"
    result = registry_import(actor=None, source=io.BytesIO(hostile.book(name, hostile.sheet_xml(rows))))
    assert [(e.sheet, e.row, e.column) for e in result.errors] == [(name, 2, "说明")]
    assert str(limit + 1) in result.errors[0].message and str(limit) in result.errors[0].message
    assert not UnitCategory.objects.filter(code="C9").exists()


def test_an_over_long_account_name_follows_the_model_field_length() -> None:
    limit = User._meta.get_field("display_name").max_length
    assert limit is not None
    unit = UnitFactory(code="U1")
    cells = [
        hostile.text_cell("A2", unit.code),
        hostile.text_cell("C2", "名" * (limit + 1)),
        hostile.text_cell("E2", str(Role.LIAISON.label)),
    ]
    rows = hostile.header_row(list(ACCOUNT_HEADERS)) + b'<row r="2">' + b"".join(cells) + b"</row>"
    users = User.objects.count()
    messages = _accounts(hostile.book(ACCOUNT_SHEET, hostile.sheet_xml(rows)))
    assert any(str(limit) in m for m in messages), messages
    assert User.objects.count() == users + 1  # only the system admin of the fixture


@pytest.mark.parametrize(
    "kind", ["far_cell", "zip_bomb", "formula_without_value", "encrypted", "oversized_upload"]
)
def test_the_upload_pages_answer_a_hostile_workbook_with_the_message_not_a_server_error(
    client: Client, kind: str
) -> None:
    office, admin = UserFactory(role=Role.OFFICE), UserFactory(role=Role.SYSADMIN)
    cycle = CycleFactory(year=2025)
    RaterGroupFactory(cycle=cycle, code="third_party")
    for url, target, extra in (
        (reverse("registry_io:import"), "registry", {}),
        (reverse("facts:import", args=["results"]), "facts_results", {"cycle": cycle.year}),
        (reverse("surveys:thirdparty"), "third_party", {"cycle": cycle.pk, "rater_group": "third_party"}),
        (reverse("accounts:user_import"), "accounts", {}),
    ):
        client.force_login(admin if target == "accounts" else office)  # accounts: 三权分立
        upload = io.BytesIO(_file(kind, target))
        upload.name = "hostile.xlsx"
        before = _counts()
        response = client.post(url, {"file": upload, **extra})
        assert response.status_code in (200, 422), response.status_code
        assert hostile.KINDS[kind][1] in response.content.decode()
        assert _counts() == before
