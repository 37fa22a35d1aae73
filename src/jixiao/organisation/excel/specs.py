"""What the registry workbook looks like: one :class:`SheetSpec` per sheet, in import order.

The template, the export, the reader and the validator all read these specs, so a column is
declared once: its Chinese header, its type, whether it is required, which choices it takes and
which sheet its codes refer to.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

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
from jixiao.web.workbooks import text_cap

YES = "是"
NO = "否"
NOTES_SHEET = "填写说明"


class Kind(enum.Enum):
    TEXT = "text"
    INT = "int"
    DATE = "date"
    BOOL = "bool"
    CHOICE = "choice"


class SheetKey(enum.Enum):
    """Stable names for sheets, independent of their (translatable) Chinese titles."""

    REGION = "region"
    CATEGORY = "category"
    ZONE = "zone"
    UNIT = "unit"
    TEAM = "team"
    OFFICIAL = "official"
    POSITION = "position"
    TENURE = "tenure"


@dataclass(frozen=True)
class Column:
    """One column: ``key`` names the value in code, ``header`` is what the user sees (Chinese).

    ``ref`` names the sheet whose codes this column refers to (its first key column), resolved
    against the database and the same workbook. ``choices`` are model TextChoices; a cell may hold
    either the Chinese label or the stored code.
    """

    key: str
    header: str
    kind: Kind = Kind.TEXT
    required: bool = False
    max_length: int | None = None
    choices: type[models.TextChoices] | None = None
    ref: SheetKey | None = None
    default: object = None
    help: str | Promise = ""
    example: object = None


@dataclass(frozen=True)
class SheetSpec:
    """One sheet. ``key`` lists the columns that identify a row (duplicates are errors)."""

    sheet: SheetKey
    name: str
    model: type[models.Model]
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    help: str | Promise = ""
    by_key: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {c.key: c for c in self.columns})

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]


def _max(model: type[models.Model], name: str) -> int:
    """The field's max_length, or the import cap for a field without one (a TextField)."""
    return text_cap(model, name)


def choice_lookup(choices: type[models.TextChoices]) -> dict[str, str]:
    """Return ``{label or code: code}`` so that either spelling is accepted on import."""
    lookup: dict[str, str] = {}
    for value, label in choices.choices:
        lookup[str(value)] = str(value)
        lookup[str(label)] = str(value)
    return lookup


def choice_labels(choices: type[models.TextChoices]) -> dict[str, str]:
    """Return ``{code: Chinese label}``; exports write labels."""
    return {str(value): str(label) for value, label in choices.choices}


_LAYER_HELP = _("班子正职 / 班子成员 / 其他处级干部（也可填代码 head / member / other）")
_BOOL_HELP = _("是 / 否，留空为“是”")

SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec(
        SheetKey.REGION,
        "区域",
        Region,
        (
            Column("code", "区域代码", required=True, max_length=_max(Region, "code"), example="R01"),
            Column("name", "区域名称", required=True, max_length=_max(Region, "name"), example="示例市"),
            Column(
                "parent",
                "上级区域代码",
                ref=SheetKey.REGION,
                help=_("填写上级区域的代码；顶级区域留空"),
                example="",
            ),
        ),
        key=("code",),
        help=_("行政区域，可逐级嵌套"),
    ),
    SheetSpec(
        SheetKey.CATEGORY,
        "单位类别",
        UnitCategory,
        (
            Column("code", "类别代码", required=True, max_length=_max(UnitCategory, "code"), example="C01"),
            Column(
                "name", "类别名称", required=True, max_length=_max(UnitCategory, "name"), example="县市区"
            ),
            Column("order", "排序", kind=Kind.INT, default=0, help=_("非负整数，越小越靠前"), example=1),
            Column(
                "description",
                "说明",
                max_length=_max(UnitCategory, "description"),
                example="同类单位一起排名和定等次",
            ),
        ),
        key=("code",),
        help=_("同一类别的单位一起排名、定等次"),
    ),
    SheetSpec(
        SheetKey.ZONE,
        "功能区",
        FunctionZone,
        (
            Column("code", "功能区代码", required=True, max_length=_max(FunctionZone, "code"), example="Z01"),
            Column(
                "name",
                "功能区名称",
                required=True,
                max_length=_max(FunctionZone, "name"),
                example="工业转型区",
            ),
            Column("description", "说明", max_length=_max(FunctionZone, "description"), example=""),
        ),
        key=("code",),
    ),
    SheetSpec(
        SheetKey.UNIT,
        "单位",
        Unit,
        (
            Column("code", "单位代码", required=True, max_length=_max(Unit, "code"), example="U001"),
            Column(
                "name", "单位名称", required=True, max_length=_max(Unit, "name"), example="示例县人民政府"
            ),
            Column("short_name", "简称", max_length=_max(Unit, "short_name"), example="示例县"),
            Column("category", "类别代码", required=True, ref=SheetKey.CATEGORY, example="C01"),
            Column("region", "区域代码", required=True, ref=SheetKey.REGION, example="R01"),
            Column("function_zone", "功能区代码", ref=SheetKey.ZONE, example="Z01"),
            Column("is_active", "参加考核", kind=Kind.BOOL, default=True, help=_BOOL_HELP, example=YES),
        ),
        key=("code",),
        help=_("被考核单位；类别、区域、功能区按代码引用"),
    ),
    SheetSpec(
        SheetKey.TEAM,
        "领导班子",
        LeadershipTeam,
        (
            Column("unit", "单位代码", required=True, ref=SheetKey.UNIT, example="U001"),
            Column(
                "name",
                "班子名称",
                required=True,
                max_length=_max(LeadershipTeam, "name"),
                example="示例县领导班子",
            ),
        ),
        key=("unit",),
        help=_("每个单位一个领导班子"),
    ),
    SheetSpec(
        SheetKey.OFFICIAL,
        "领导干部",
        Official,
        (
            Column("code", "工号", required=True, max_length=_max(Official, "code"), example="G000001"),
            Column("name", "姓名", required=True, max_length=_max(Official, "name"), example="张三"),
            Column("gender", "性别", kind=Kind.CHOICE, choices=Gender, help=_("男 / 女"), example="男"),
            Column(
                "birth_date", "出生日期", kind=Kind.DATE, help=_("日期，如 1975-03-01"), example="1975-03-01"
            ),
            Column("unit", "单位代码", required=True, ref=SheetKey.UNIT, example="U001"),
            Column(
                "layer",
                "层级",
                kind=Kind.CHOICE,
                required=True,
                choices=Layer,
                help=_LAYER_HELP,
                example="班子正职",
            ),
            Column("rank", "职级", max_length=_max(Official, "rank"), example="正处级"),
            Column("title", "职务", max_length=_max(Official, "title"), example="县长"),
            Column("is_active", "在职", kind=Kind.BOOL, default=True, help=_BOOL_HELP, example=YES),
        ),
        key=("code",),
        help=_("领导干部名册；单位与层级描述现任职务"),
    ),
    SheetSpec(
        SheetKey.POSITION,
        "职务",
        Position,
        (
            Column("unit", "单位代码", required=True, ref=SheetKey.UNIT, example="U001"),
            Column("title", "职务名称", required=True, max_length=_max(Position, "title"), example="县长"),
            Column(
                "layer",
                "层级",
                kind=Kind.CHOICE,
                required=True,
                choices=Layer,
                help=_LAYER_HELP,
                example="班子正职",
            ),
            Column("portfolio", "分管工作", max_length=_max(Position, "portfolio"), example="全面工作"),
        ),
        key=("unit", "title"),
        help=_("单位的职位；职位长期存在，继任者继承该职位的历史"),
    ),
    SheetSpec(
        SheetKey.TENURE,
        "任职",
        Tenure,
        (
            Column("unit", "单位代码", required=True, ref=SheetKey.UNIT, example="U001"),
            Column(
                "title", "职务名称", required=True, help=_("须为“职务”表或系统中已有的职务"), example="县长"
            ),
            Column("official", "工号", required=True, ref=SheetKey.OFFICIAL, example="G000001"),
            Column("start", "任职开始", kind=Kind.DATE, required=True, example="2021-06-01"),
            Column(
                "end",
                "任职结束",
                kind=Kind.DATE,
                help=_("在任留空；同一职务只能有一名在任人员，结束日期不得早于开始日期"),
                example="",
            ),
        ),
        key=("unit", "title", "official", "start"),
        help=_("某人在某职务上的任职经历；按 单位代码+职务名称+工号+任职开始 识别"),
    ),
)

SHEETS_BY_NAME: dict[str, SheetSpec] = {s.name: s for s in SHEETS}
SHEETS_BY_KEY: dict[SheetKey, SheetSpec] = {s.sheet: s for s in SHEETS}
