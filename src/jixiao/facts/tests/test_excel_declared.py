"""The Excel template and import of the declared targets' annual values (申报指标完成情况): rows
named by unit code and declared-target code, checked like the entry grid, written all or nothing."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from jixiao.accounts.models import AuditAction, AuditLog, Role, User
from jixiao.declarations.models import Declaration, DeclaredIndicator
from jixiao.facts.excel import FactKind, ImportResult, facts_import
from jixiao.facts.excel.declared_codes import declared_targets
from jixiao.facts.models import IndicatorResult
from jixiao.organisation.models import Unit
from jixiao.organisation.tests.factories import CategoryFactory, UnitFactory, UserFactory
from jixiao.results.engine_io import declared_key, load_declared, load_facts, unit_key
from jixiao.schemes.models import Cycle, CycleStatus, IndicatorNode
from jixiao.schemes.tests.factories import CycleFactory, IndicatorFactory, SchemeFactory

pytestmark = pytest.mark.django_db

SHEET = "申报指标完成情况"
HEADERS = [
    "单位代码",
    "单位名称",
    "申报指标编号",
    "框架指标",
    "申报指标",
    "计量单位",
    "实际值",
    "等次/是否",
    "目标值",
    "佐证说明",
]
# Column letters of the headers above, for the cells a test fills in.
VALUE, GRADE, TARGET = "G", "H", "I"


class Setting:
    """Cycle 2026. County CTY1 (category 县区) declared under framework node 1.1: 税收收入 (1.1-1,
    led by FIN), 营商环境 (1.1-2, a level-3 target with the level-4 1.1-2.1 群众满意度, graded,
    led by STATS). County CTY2 declared 1.1-1 too but has not published it. FIN and STATS are
    lead departments."""

    def __init__(self) -> None:
        self.cycle = CycleFactory(year=2026, status=CycleStatus.OPEN)
        county = CategoryFactory(code="XQ", name="县区")
        self.scheme = SchemeFactory(cycle=self.cycle, category=county)
        self.node = IndicatorFactory(component__scheme=self.scheme, code="1.1", name="经济发展")
        self.unit = UnitFactory(code="CTY1", name="一号县", category=county)
        self.draft_unit = UnitFactory(code="CTY2", name="二号县", category=county)
        dept = CategoryFactory(code="BM", name="部门")
        self.fin = UnitFactory(code="FIN", name="财政局", category=dept)
        self.stats = UnitFactory(code="STATS", name="统计局", category=dept)
        declaration = Declaration.objects.create(
            cycle=self.cycle, unit=self.unit, version=1, published_version=1
        )
        self.tax = self._target(
            declaration, "税收收入", order=1, lead=self.fin, target=Decimal("120"), measure="亿元"
        )
        self.env = self._target(declaration, "营商环境", order=2, lead=self.stats)
        self.satisfaction = self._target(
            declaration,
            "群众满意度",
            order=1,
            lead=self.stats,
            under=self.env,
            rule_type="grade_map",
            rule_params={"map": {"好": 1, "较好": 0.8, "一般": 0.6}},
        )
        draft = Declaration.objects.create(cycle=self.cycle, unit=self.draft_unit)
        self.unpublished = self._target(draft, "草稿指标", order=1, lead=self.fin)
        self.office = UserFactory(role=Role.OFFICE)
        self.fin_user = UserFactory(role=Role.LEAD_DEPT, unit=self.fin)
        self.stats_user = UserFactory(role=Role.LEAD_DEPT, unit=self.stats)

    def _target(
        self,
        declaration: Declaration,
        name: str,
        *,
        order: int,
        lead: Unit,
        under: DeclaredIndicator | None = None,
        rule_type: str = "completion",
        rule_params: dict[str, Any] | None = None,
        target: Decimal | None = None,
        measure: str = "",
    ) -> DeclaredIndicator:
        return DeclaredIndicator.objects.create(
            declaration=declaration,
            parent=self.node,
            under=under,
            name=name,
            rule_type=rule_type,
            rule_params=rule_params or {},
            weight=Decimal(50),
            lead_department=lead,
            order=order,
            target=target,
            measure=measure,
        )


@pytest.fixture
def s() -> Setting:
    return Setting()


def workbook(*rows: list[Any], sheet: str = SHEET, headers: list[str] = HEADERS) -> io.BytesIO:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    ws.append(headers)
    for row in rows:
        ws.append(row)
    handle = io.BytesIO()
    book.save(handle)
    handle.seek(0)
    return handle


def row(unit: str, code: str, value: Any = None, grade: Any = None, target: Any = None) -> list[Any]:
    return [unit, "", code, "", "", "", value, grade, target, None]


def run(s: Setting, source: io.BytesIO, actor: User | None = None) -> ImportResult:
    return facts_import(actor=actor or s.office, cycle=s.cycle, kind=FactKind.DECLARED, source=source)


def where(result: ImportResult) -> list[tuple[str, int | None, str]]:
    return [(e.sheet, e.row, e.column) for e in result.errors]


def nothing_written() -> bool:
    return (
        not IndicatorResult.objects.exists()
        and not AuditLog.objects.filter(action=AuditAction.IMPORT).exists()
    )


def test_codes_follow_the_framework_node_and_the_declaration_order(s: Setting) -> None:
    codes = {t.pk: (t.code, t.leaf, t.published) for t in declared_targets(cycle=s.cycle).values()}
    assert codes == {
        s.tax.pk: ("1.1-1", True, True),
        s.env.pk: ("1.1-2", False, True),
        s.satisfaction.pk: ("1.1-2.1", True, True),
        s.unpublished.pk: ("1.1-1", True, False),
    }


def test_a_framework_node_without_a_unique_code_is_named_by_its_number(s: Setting) -> None:
    IndicatorNode.objects.filter(pk=s.node.pk).update(code="")
    codes = {t.pk: t.code for t in declared_targets(cycle=s.cycle, unit_ids=[s.unit.pk]).values()}
    assert codes[s.tax.pk] == f"#{s.node.pk}-1"


def _download(client: Client, user: User, query: str = "year=2026") -> openpyxl.Workbook:
    client.force_login(user)
    response = client.get(reverse("facts:import_template", args=["declared"]) + "?" + query)
    assert response.status_code == 200
    data = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return openpyxl.load_workbook(io.BytesIO(data))


def _rows(book: openpyxl.Workbook) -> list[list[Any]]:
    return [list(r) for r in book[SHEET].iter_rows(min_row=2, values_only=True)]


def test_the_template_lists_each_published_leaf_with_its_codes_target_and_stored_value(
    client: Client, s: Setting
) -> None:
    IndicatorResult.objects.create(cycle=s.cycle, unit=s.unit, declared=s.satisfaction, grade="较好")
    book = _download(client, s.office)
    assert [c.value for c in book[SHEET][1]] == HEADERS
    assert _rows(book) == [
        ["CTY1", "一号县", "1.1-1", "经济发展", "税收收入", "亿元", None, None, 120, None],
        ["CTY1", "一号县", "1.1-2.1", "经济发展", "群众满意度", None, None, "较好", None, None],
    ]
    # The graded target's grade cell offers its grades; the ids of the database appear nowhere.
    validations = book[SHEET].data_validations.dataValidation
    assert [(str(v.sqref), v.formula1) for v in validations] == [("H3", '"好,较好,一般"')]
    assert "填写说明" in book.sheetnames and "对照表" not in book.sheetnames


def test_a_lead_department_gets_the_targets_it_leads_and_one_unit_can_be_asked_for(
    client: Client, s: Setting
) -> None:
    assert [r[2] for r in _rows(_download(client, s.fin_user))] == ["1.1-1"]
    assert [r[2] for r in _rows(_download(client, s.stats_user))] == ["1.1-2.1"]
    other = Declaration.objects.create(
        cycle=s.cycle, unit=UnitFactory(category=s.unit.category), published_version=1
    )
    s._target(other, "别县指标", order=1, lead=s.fin)
    assert len(_rows(_download(client, s.office))) == 3
    assert [r[0] for r in _rows(_download(client, s.office, f"year=2026&unit={s.unit.pk}"))] == [
        "CTY1",
        "CTY1",
    ]


def test_the_filled_template_imports_and_the_engine_reads_the_values(client: Client, s: Setting) -> None:
    book = _download(client, s.office)
    ws = book[SHEET]
    ws[f"{VALUE}2"] = 131.5
    ws[f"{GRADE}3"] = "好"
    handle = io.BytesIO()
    book.save(handle)
    handle.seek(0)
    handle.name = "declared.xlsx"
    response = client.post(reverse("facts:import", args=["declared"]), {"cycle": 2026, "file": handle})
    assert response.status_code == 200, response.content.decode()
    assert "新增 2 条" in response.content.decode()
    tax = IndicatorResult.objects.get(declared=s.tax, unit=s.unit)
    assert (tax.value, tax.target, tax.entered_by) == (131.5, 120, s.office)
    assert IndicatorResult.objects.get(declared=s.satisfaction).grade == "好"
    entry = AuditLog.objects.get(action=AuditAction.IMPORT)
    assert entry.changes["kind"] == "declared" and entry.changes["created"] == 2
    assert {c["code"] for c in entry.changes["changed"]} == {"1.1-1", "1.1-2.1"}
    # The engine: the leaves are the declared ones, and the results are keyed by their codes.
    leaves = load_declared(s.cycle)  # the published ones only: not CTY2's draft
    assert set(leaves["code"].to_list()) == {declared_key(d.pk) for d in (s.tax, s.env, s.satisfaction)}
    facts = load_facts(s.cycle).indicator_results
    got = {(r["indicator"], r["value"], r["label"]) for r in facts.iter_rows(named=True)}
    assert got == {(declared_key(s.tax.pk), 131.5, None), (declared_key(s.satisfaction.pk), None, "好")}
    assert set(facts["entity"].to_list()) == {unit_key(s.unit.pk)}


def test_reimporting_updates_changed_rows_and_skips_blank_and_unchanged_ones(s: Setting) -> None:
    assert run(s, workbook(row("CTY1", "1.1-1", 100, target=120))).ok
    result = run(
        s,
        workbook(row("CTY1", "1.1-1", 100, target=120), row("CTY1", "1.1-2.1", target=5)),
    )
    assert result.ok and (result.total_created, result.total_updated) == (0, 0)
    result = run(s, workbook(row("CTY1", "1.1-1", "1,250", target=120)))
    assert (result.total_created, result.total_updated) == (0, 1)
    assert IndicatorResult.objects.get().value == 1250
    assert not IndicatorResult.objects.filter(declared=s.satisfaction).exists()


def test_every_bad_row_is_reported_at_its_row_and_column_and_nothing_is_written(s: Setting) -> None:
    result = run(
        s,
        workbook(
            row("CTY1", "1.1-1", 10),  # good, still not written
            row("NOPE", "1.1-1", 10),
            row("CTY1", "9.9-9", 10),
            row("CTY2", "1.1-1", 10),
            row("CTY1", "1.1-1", "很多"),
            row("CTY1", "1.1-2.1", grade="优秀"),
            row("CTY1", "1.1-2", 10),
            row("FIN", "1.1-1", 10),
            row("CTY1", "1.1-1", 11),
            row(None, None, 1),  # type: ignore[arg-type]
        ),
    )
    assert [(e.row, e.column, e.message) for e in result.errors] == [
        (3, "单位代码", "单位代码“NOPE”不存在"),
        (4, "申报指标编号", "单位“CTY1”的申报中没有编号为“9.9-9”的指标，请使用模板中列出的编号"),
        (5, "申报指标编号", "单位“CTY2”的申报指标“1.1-1”尚未公布，公布后才能导入完成情况"),
        (6, "申报指标编号", "与第 2 行重复"),
        (6, "实际值", "“很多”不是数字"),
        (7, "等次/是否", "“优秀”不是该指标的等次，可选：好、较好、一般"),
        (8, "申报指标编号", "申报指标“1.1-2”下设四级指标，请填写其下的四级指标"),
        (9, "单位代码", "单位“FIN”本周期没有申报指标"),
        (10, "申报指标编号", "与第 2 行重复"),
        (11, "单位代码", "必填项不能为空"),
        (11, "申报指标编号", "必填项不能为空"),
    ]
    assert {e.sheet for e in result.errors} == {SHEET}
    assert nothing_written()


def test_a_lead_department_imports_what_it_leads_and_not_another_departments_target(s: Setting) -> None:
    result = run(s, workbook(row("CTY1", "1.1-1", 10), row("CTY1", "1.1-2.1", grade="好")), actor=s.fin_user)
    assert where(result) == [(SHEET, 3, "申报指标编号")]
    assert result.errors[0].message == "您的单位不是申报指标“1.1-2.1”的牵头部门，不能导入"
    assert nothing_written()
    assert run(s, workbook(row("CTY1", "1.1-1", 10)), actor=s.fin_user).ok
    assert IndicatorResult.objects.get().entered_by == s.fin_user


@pytest.mark.parametrize("role", [Role.LIAISON, Role.AUDITOR, Role.OFFICIAL])
def test_a_liaison_an_auditor_or_an_official_may_not_import(client: Client, s: Setting, role: Role) -> None:
    user = UserFactory(role=role, unit=s.unit)
    with pytest.raises(PermissionDenied):
        run(s, workbook(row("CTY1", "1.1-1", 10)), actor=user)
    client.force_login(user)
    response = client.post(
        reverse("facts:import", args=["declared"]),
        {"cycle": 2026, "file": workbook(row("CTY1", "1.1-1", 10))},
    )
    assert response.status_code == 403
    assert nothing_written()


def test_a_closed_cycle_refuses_the_import_and_hides_the_upload(client: Client, s: Setting) -> None:
    Cycle.objects.filter(pk=s.cycle.pk).update(status=CycleStatus.CLOSED)
    s.cycle.refresh_from_db()
    result = run(s, workbook(row("CTY1", "1.1-1", 10)))
    assert [e.message for e in result.errors] == ["2026 年度考核已结束，数据只读；如需修改请由考核办重新开启"]
    assert nothing_written()
    client.force_login(s.office)
    page = client.get(reverse("facts:declared_results", args=[s.unit.pk]) + "?year=2026").content.decode()
    assert "declared-import" not in page


def test_the_entry_pages_link_the_template_and_the_upload_and_errors_come_back_with_the_form(
    client: Client, s: Setting
) -> None:
    client.force_login(s.office)
    page = client.get(reverse("facts:declared_results", args=[s.unit.pk]) + "?year=2026").content.decode()
    assert reverse("facts:import_template", args=["declared"]) in page and 'name="unit"' in page
    assert "1.1-2.1" in page  # the grid shows the codes the template uses
    listing = client.get(reverse("facts:declared_unit_list") + "?year=2026").content.decode()
    assert "declared-import" in listing and "县区" in listing
    bad = workbook(row("CTY1", "9.9-9", 10))
    bad.name = "bad.xlsx"
    response = client.post(
        reverse("facts:import", args=["declared"]), {"cycle": 2026, "unit": s.unit.pk, "file": bad}
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "没有编号为“9.9-9”的指标" in html and 'id="reimport"' in html
    assert reverse("facts:declared_results", args=[s.unit.pk]) in html


def test_the_command_imports_declared_values_and_prints_every_error(s: Setting, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.xlsx", tmp_path / "bad.xlsx"
    good.write_bytes(workbook(row("CTY1", "1.1-1", 10)).getvalue())
    bad.write_bytes(workbook(row("CTY1", "1.1-1", "x"), row("NOPE", "1.1-1", 1)).getvalue())
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_facts", str(bad), cycle=2026, kind="declared", stderr=err)
    assert "第 2 行" in err.getvalue() or "2" in err.getvalue()
    assert err.getvalue().count("\n") == 2 and nothing_written()
    out = io.StringIO()
    call_command("import_facts", str(good), cycle=2026, kind="declared", stdout=out)
    assert "申报指标完成情况：新增 1，更新 0" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("import_facts", str(good), cycle=2026, kind="declared", username=s.stats_user.username)


def _book(*rows: list[Any], title: str = SHEET, merge: str = "") -> io.BytesIO:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = title
    for r in rows:
        ws.append(r)
    if merge:
        ws.merge_cells(merge)
    handle = io.BytesIO()
    book.save(handle)
    handle.seek(0)
    return handle


def test_a_workbook_without_the_sheet_names_the_sheets_it_has(s: Setting) -> None:
    book = openpyxl.load_workbook(_book(HEADERS, row("CTY1", "1.1-1", 10), title="Sheet1"))
    book.create_sheet("Sheet2")
    handle = io.BytesIO()
    book.save(handle)
    handle.seek(0)
    result = run(s, handle)
    assert [(e.sheet, e.row, e.column, e.message) for e in result.errors] == [
        ("", None, "", "文件中没有名为“申报指标完成情况”的工作表（现有工作表：Sheet1、Sheet2）")
    ]
    assert nothing_written()


def test_a_merged_header_that_hides_a_required_column_is_reported_on_the_header_row(s: Setting) -> None:
    result = run(s, _book(HEADERS, row("CTY1", "1.1-1", 10), merge="B1:C1"))  # hides 申报指标编号
    assert [(e.sheet, e.row, e.column, e.message) for e in result.errors] == [
        (SHEET, 1, "申报指标编号", "缺少列“申报指标编号”")
    ]
    assert nothing_written()


def test_a_formula_without_a_computed_value_is_refused_not_read_as_a_blank_row(s: Setting) -> None:
    result = run(s, _book(HEADERS, row("CTY1", "1.1-1", 10), row("CTY1", "1.1-2.1", "=1+1")))
    assert [(e.sheet, e.row, e.column) for e in result.errors] == [(SHEET, 3, "G")]
    assert "公式且没有计算结果" in result.errors[0].message
    assert nothing_written()


def test_a_template_larger_than_a_worksheet_asks_for_a_category_or_unit(
    client: Client, s: Setting, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jixiao.facts.excel import declared_kind

    monkeypatch.setattr(declared_kind, "MAX_TEMPLATE_ROWS", 1)
    client.force_login(s.office)
    response = client.get(reverse("facts:import_template", args=["declared"]) + "?year=2026", follow=True)
    assert response.redirect_chain[-1][0] == reverse("facts:declared_unit_list") + "?year=2026"
    assert "共 2 行，超过一个工作表的容量" in response.content.decode()
    one = client.get(reverse("facts:import_template", args=["declared"]) + f"?year=2026&unit={s.unit.pk}")
    assert one.status_code == 302  # CTY1 alone still has 2 rows
