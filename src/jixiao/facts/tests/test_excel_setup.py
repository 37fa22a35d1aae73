"""Builders shared by the facts Excel tests: a small cycle with two categories, and workbooks.

Holds no tests of its own; the ``test_excel_`` prefix keeps it next to the files that use it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import openpyxl

from jixiao.accounts.models import Role, User
from jixiao.organisation.models import Official, Unit
from jixiao.organisation.tests.factories import CategoryFactory, OfficialFactory, UnitFactory, UserFactory
from jixiao.schemes.models import Cycle, IndicatorNode, RaterGroup
from jixiao.schemes.tests.factories import CycleFactory, IndicatorFactory, SchemeFactory

RESULT_HEADERS = ["指标编号", "单位代码", "实际值", "等次/是否", "目标值", "上年值", "佐证说明"]
SCORE_HEADERS = ["对象类型", "单位代码/干部工号", "评价主体", "评价项目", "得分", "票数", "来源"]
VOTE_HEADERS = ["干部工号", "优秀", "称职", "基本称职", "不称职"]
ADJUSTMENT_HEADERS = [
    "对象类型",
    "单位代码/干部工号",
    "类型",
    "分值",
    "处分类型",
    "涉及指标编号",
    "扣减构成",
    "来源",
    "事由",
]


@dataclass
class World:
    """Cycle 2025. Category A (units UA1, UA2; official G1) and B (unit UB1; official G2) each
    have a scheme; both schemes have a leaf coded 1.1 led by STATS. Scheme A also has the branch
    1 (parent of its 1.1), a leaf 1.2 led by OTHER and a leaf without a code."""

    cycle: Cycle
    ua1: Unit
    ua2: Unit
    ub1: Unit
    stats: Unit
    other: Unit
    g1: Official
    g2: Official
    branch: IndicatorNode
    leaf: IndicatorNode
    leaf_b: IndicatorNode
    other_leaf: IndicatorNode
    uncoded: IndicatorNode
    office: User
    lead: User


def build_world() -> World:
    cycle = CycleFactory(year=2025)
    cat_a, cat_b, cat_dept = (
        CategoryFactory(code="CA"),
        CategoryFactory(code="CB"),
        CategoryFactory(code="CD"),
    )
    ua1 = UnitFactory(code="UA1", category=cat_a)
    ua2 = UnitFactory(code="UA2", category=cat_a)
    ub1 = UnitFactory(code="UB1", category=cat_b)
    stats = UnitFactory(code="STATS", category=cat_dept)
    other = UnitFactory(code="OTHER", category=cat_dept)
    scheme_a = SchemeFactory(cycle=cycle, category=cat_a)
    scheme_b = SchemeFactory(cycle=cycle, category=cat_b)
    branch = IndicatorFactory(component__scheme=scheme_a, code="1")
    leaf = IndicatorFactory(component=branch.component, parent=branch, code="1.1", lead_unit=stats)
    other_leaf = IndicatorFactory(component=branch.component, parent=branch, code="1.2", lead_unit=other)
    uncoded = IndicatorFactory(component=branch.component, parent=branch, code="", lead_unit=stats)
    leaf_b = IndicatorFactory(component__scheme=scheme_b, code="1.1", lead_unit=stats)
    RaterGroup.objects.create(cycle=cycle, code="public", name="公众", order=1)
    RaterGroup.objects.create(cycle=cycle, code="peers", name="同级", order=2)
    return World(
        cycle=cycle,
        ua1=ua1,
        ua2=ua2,
        ub1=ub1,
        stats=stats,
        other=other,
        g1=OfficialFactory(code="G1", unit=ua1),
        g2=OfficialFactory(code="G2", unit=ub1),
        branch=branch,
        leaf=leaf,
        leaf_b=leaf_b,
        other_leaf=other_leaf,
        uncoded=uncoded,
        office=UserFactory(role=Role.OFFICE),
        lead=UserFactory(role=Role.LEAD_DEPT, unit=stats),
    )


Sheets = dict[str, list[list[Any]]]


def xlsx(sheets: Sheets, name: str = "facts.xlsx") -> io.BytesIO:
    """Return an in-memory workbook with ``sheets`` (header on row 1, data from row 2)."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        ws = workbook.create_sheet(title)
        for row in rows:
            ws.append(row)
    handle = io.BytesIO()
    workbook.save(handle)
    handle.seek(0)
    handle.name = name
    return handle


def results_file(*rows: list[Any]) -> io.BytesIO:
    return xlsx({"指标完成情况": [RESULT_HEADERS, *rows]})


def scores_file(*rows: list[Any]) -> io.BytesIO:
    return xlsx({"测评得分": [SCORE_HEADERS, *rows]})


def votes_file(*rows: list[Any]) -> io.BytesIO:
    return xlsx({"测评票数": [VOTE_HEADERS, *rows]})


def adjustments_file(*rows: list[Any]) -> io.BytesIO:
    return xlsx({"加减分与否决": [ADJUSTMENT_HEADERS, *rows]})
