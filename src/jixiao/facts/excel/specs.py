"""What each facts workbook looks like: one :class:`FactSheet` per kind of fact.

The template, the parser and the notes sheet all read these specs, so a column is declared once:
its Chinese header, its type, whether it is required, and the example the template shows.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from jixiao.declarations.models import DeclaredIndicator
from jixiao.facts.models import (
    Adjustment,
    AdjustmentKind,
    EvaluationScore,
    IndicatorResult,
    SanctionLevel,
    VoteCount,
)
from jixiao.organisation.models import Unit
from jixiao.schemes.models import IndicatorNode
from jixiao.web.workbooks import text_cap

NOTES_SHEET = "填写说明"
# "#123" names an indicator by its primary key, for indicators without a code.
PK_PREFIX = "#"
SCORE_MIN = 0.0
SCORE_MAX = 100.0


class FactKind(enum.Enum):
    """The importable kinds; the value is what URLs and the command line use."""

    RESULTS = "results"
    SCORES = "scores"
    VOTES = "votes"
    ADJUSTMENTS = "adjustments"
    DECLARED = "declared"  # the annual values of the units' own declared targets (申报指标)


class Cell(enum.Enum):
    TEXT = "text"
    NUMBER = "number"
    COUNT = "count"  # a non-negative integer
    CHOICE = "choice"


class EntityType(models.TextChoices):
    """对象类型: a unit (its leadership team) or an official."""

    UNIT = "unit", _("单位")
    OFFICIAL = "official", _("干部")


# Spellings accepted for 对象类型 besides the labels and codes.
ENTITY_ALIASES = {"班子": "unit", "领导班子": "unit", "领导干部": "official"}


@dataclass(frozen=True)
class Column:
    """One column: ``key`` names the value in code, ``header`` is what the user sees."""

    key: str
    header: str
    cell: Cell = Cell.TEXT
    required: bool = False
    max_length: int | None = None
    choices: type[models.TextChoices] | None = None
    default: object = None
    minimum: float | None = None
    maximum: float | None = None
    help: str | Promise = ""
    example: object = None


@dataclass(frozen=True)
class FactSheet:
    """The sheet of one kind. ``office_only`` kinds are refused to lead departments."""

    kind: FactKind
    name: str
    model: type[models.Model]
    columns: tuple[Column, ...]
    office_only: bool = True
    help: str | Promise = ""
    by_key: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {c.key: c for c in self.columns})

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def header(self, key: str) -> str:
        return self.by_key[key].header


def _max(model: type[models.Model], name: str) -> int:
    """The field's max_length, or the import cap for a field without one (a TextField)."""
    return text_cap(model, name)


def choice_lookup(choices: type[models.TextChoices]) -> dict[str, str]:
    """Return ``{label or code: code}`` so that either spelling is accepted on import."""
    lookup: dict[str, str] = {}
    for value, label in choices.choices:
        lookup[str(value)] = str(value)
        lookup[str(label)] = str(value)
    if choices is EntityType:
        lookup.update(ENTITY_ALIASES)
    return lookup


_ENTITY_HELP = _("单位 / 干部：单位指其领导班子")
_ENTITY_CODE_HELP = _("对象类型为“单位”时填单位代码，为“干部”时填干部工号")
_INDICATOR_HELP = _("指标编号；没有编号的指标填 #加系统编号（如 #123）。须为本周期方案的末级指标")

# Columns the declared template fills in so the clerk sees what each row is; the import skips them.
DECLARED_INFO_COLUMNS = frozenset({"unit_name", "node", "target_name", "measure"})
_FOR_CHECKING = _("仅供核对，导入时不读取")

DECLARED_SHEET = FactSheet(
    FactKind.DECLARED,
    "申报指标完成情况",
    IndicatorResult,
    (
        Column("unit", "单位代码", required=True, help=_("申报该指标的单位的代码"), example="U001"),
        Column("unit_name", "单位名称", max_length=_max(Unit, "name"), help=_FOR_CHECKING, example="某县"),
        Column(
            "code",
            "申报指标编号",
            required=True,
            help=_("模板中列出的编号：框架指标编号-序号，四级指标再加 .序号（如 1.1.1-3.1）"),
            example="1.1.1-1",
        ),
        Column(
            "node",
            "框架指标",
            max_length=_max(IndicatorNode, "name"),
            help=_FOR_CHECKING,
            example="地区生产总值",
        ),
        Column(
            "target_name",
            "申报指标",
            max_length=_max(DeclaredIndicator, "name"),
            help=_FOR_CHECKING,
            example="税收收入",
        ),
        Column(
            "measure",
            "计量单位",
            max_length=_max(DeclaredIndicator, "measure"),
            help=_FOR_CHECKING,
            example="亿元",
        ),
        Column("value", "实际值", Cell.NUMBER, help=_("数字；定性指标可留空"), example=12.5),
        Column(
            "grade",
            "等次/是否",
            max_length=_max(IndicatorResult, "grade"),
            help=_("定性指标须填该指标计分规则中的等次"),
            example="",
        ),
        Column("target", "目标值", Cell.NUMBER, help=_("留空则不设目标值；模板已填申报的目标值"), example=12),
        Column("evidence", "佐证说明", max_length=_max(IndicatorResult, "evidence"), example="财政局年报"),
    ),
    office_only=False,
    help=_(
        "按 单位代码+申报指标编号 识别：已有的完成情况被更新。实际值、等次/是否、佐证说明均为空的行不导入"
        "（也不清除已录入的值）。牵头部门只能导入本部门牵头的申报指标"
    ),
)

SHEETS: tuple[FactSheet, ...] = (
    FactSheet(
        FactKind.RESULTS,
        "指标完成情况",
        IndicatorResult,
        (
            Column("indicator", "指标编号", required=True, help=_INDICATOR_HELP, example="1.1.1"),
            Column(
                "unit",
                "单位代码",
                required=True,
                help=_("须属于该指标所在方案的单位类别"),
                example="U001",
            ),
            Column("value", "实际值", Cell.NUMBER, help=_("数字；定性指标可留空"), example=95.5),
            Column(
                "grade",
                "等次/是否",
                max_length=_max(IndicatorResult, "grade"),
                help=_("定性指标的等次（如 好/较好/一般）或 是/否"),
                example="",
            ),
            Column("target", "目标值", Cell.NUMBER, example=100),
            Column("last_year", "上年值", Cell.NUMBER, example=90),
            Column(
                "evidence", "佐证说明", max_length=_max(IndicatorResult, "evidence"), example="统计局年报"
            ),
        ),
        office_only=False,
        help=_("按 指标编号+单位代码 识别：已有的完成情况被更新。牵头单位只能导入本单位牵头的指标"),
    ),
    FactSheet(
        FactKind.SCORES,
        "测评得分",
        EvaluationScore,
        (
            Column(
                "entity_type",
                "对象类型",
                Cell.CHOICE,
                required=True,
                choices=EntityType,
                help=_ENTITY_HELP,
                example="单位",
            ),
            Column("entity", "单位代码/干部工号", required=True, help=_ENTITY_CODE_HELP, example="U001"),
            Column(
                "rater_group",
                "评价主体",
                required=True,
                help=_("本周期已设置的评价主体代码（或名称）"),
                example="public",
            ),
            Column(
                "item",
                "评价项目",
                required=True,
                max_length=_max(EvaluationScore, "item"),
                help=_("评价项目代码，如 overall"),
                example="overall",
            ),
            Column(
                "score",
                "得分",
                Cell.NUMBER,
                required=True,
                minimum=SCORE_MIN,
                maximum=SCORE_MAX,
                help=_("0–100 的数字"),
                example=92.5,
            ),
            Column(
                "ballots",
                "票数",
                Cell.COUNT,
                default=1,
                minimum=1,
                help=_("该得分汇总的票数，正整数，留空为 1"),
                example=120,
            ),
            Column("source", "来源", max_length=_max(EvaluationScore, "source"), example="第三方调查"),
        ),
        help=_("每行新增一条测评得分；同一文件不能重复导入"),
    ),
    FactSheet(
        FactKind.VOTES,
        "测评票数",
        VoteCount,
        (
            Column("official", "干部工号", required=True, example="G000001"),
            Column("excellent", "优秀", Cell.COUNT, default=0, help=_("非负整数，留空为 0"), example=30),
            Column("competent", "称职", Cell.COUNT, default=0, example=12),
            Column("basic", "基本称职", Cell.COUNT, default=0, example=1),
            Column("incompetent", "不称职", Cell.COUNT, default=0, example=0),
            Column("source", "来源", max_length=_max(VoteCount, "source"), example="年度民主测评"),
        ),
        help=_("按 干部工号 识别：本周期已有的票数被更新"),
    ),
    FactSheet(
        FactKind.ADJUSTMENTS,
        "加减分与否决",
        Adjustment,
        (
            Column(
                "entity_type",
                "对象类型",
                Cell.CHOICE,
                required=True,
                choices=EntityType,
                help=_ENTITY_HELP,
                example="单位",
            ),
            Column("entity", "单位代码/干部工号", required=True, help=_ENTITY_CODE_HELP, example="U001"),
            Column(
                "kind",
                "类型",
                Cell.CHOICE,
                required=True,
                choices=AdjustmentKind,
                help=_("扣分、加分、一票否优、处分/问责、不确定等次、弄虚作假、债务率超限"),
                example="扣分",
            ),
            Column(
                "points",
                "分值",
                Cell.NUMBER,
                help=_("扣分、加分、债务率超限必填"),
                example=0.5,
            ),
            Column(
                "sanction",
                "处分类型",
                Cell.CHOICE,
                choices=SanctionLevel,
                help=_("类型为“处分/问责”时必填"),
                example="",
            ),
            Column(
                "indicator",
                "涉及指标编号",
                help=_("类型为“弄虚作假”时必填；格式同指标编号"),
                example="",
            ),
            Column(
                "component",
                "扣减构成",
                max_length=_max(Adjustment, "component"),
                help=_("扣减的考核构成代码，可留空"),
                example="",
            ),
            Column(
                "source",
                "来源",
                required=True,
                max_length=_max(Adjustment, "source"),
                help=_("如 督查督办、审计、纪检"),
                example="督查督办",
            ),
            Column(
                "reason",
                "事由",
                required=True,
                max_length=_max(Adjustment, "reason"),
                example="重点工作未按期完成",
            ),
        ),
        help=_("每行新增一条记录；同一文件不能重复导入"),
    ),
    DECLARED_SHEET,
)

SHEETS_BY_KIND: dict[FactKind, FactSheet] = {s.kind: s for s in SHEETS}
