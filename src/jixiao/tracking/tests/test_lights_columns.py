"""The columnar light rules equal :func:`light_for` row by row (no database)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from jixiao.tracking.lights import LightRules, Point, light_for
from jixiao.tracking.lights_columns import LEAF_SCHEMA, MILESTONE_SCHEMA, lights_frame, plain
from jixiao.tracking.models import Interpolation, ProgressGrade

YEAR = 2026
START, END = date(YEAR, 1, 1), date(YEAR, 12, 31)

percents = st.integers(0, 10_000)  # hundredths
days = st.dates(min_value=date(YEAR - 1, 12, 1), max_value=date(YEAR + 1, 1, 31))
# Dates near the day of the lights (offsets in days), so that the boundaries (a milestone on
# the day, at the end of the yellow window, the start on the day) are hit often.
offsets = st.integers(-5, 65)


def _leaf(on: date) -> st.SearchStrategy[dict[str, object]]:
    near = offsets.map(lambda d: on + timedelta(days=d))
    return st.fixed_dictionaries(
        {
            "effective_from": st.none() | days | near,
            "reported_c": st.none() | st.integers(-500, 12_000),
            "grade": st.sampled_from(["", ProgressGrade.COMPLETED.value, ProgressGrade.BEHIND.value])
            | st.none(),
            # milestones: unique dates, any percents (a schedule may even fall back)
            "milestones": st.dictionaries(days | near, percents, max_size=5),
        }
    )


rules = st.builds(
    LightRules,
    yellow_days=st.integers(0, 60),
    red_share=st.integers(0, 10_000).map(lambda c: Decimal(c) / 100),
    interpolation=st.sampled_from(Interpolation.values),
)


def _by_row(row: dict[str, object], on: date, rules: LightRules) -> tuple[str, Decimal, Decimal | None, str]:
    effective = row["effective_from"]
    start = max(effective, START) if isinstance(effective, date) else START
    reported = row["reported_c"]
    milestones = row["milestones"]
    assert isinstance(milestones, dict)
    v = light_for(
        milestones=[Point(d, Decimal(p) / 100) for d, p in milestones.items()],
        start=start,
        end=END,
        on=on,
        reported=None if reported is None else Decimal(str(reported)) / 100,
        completed=row["grade"] == ProgressGrade.COMPLETED,
        rules=rules,
    )
    return v.color.value, v.expected, v.reported, v.reason[:200]


@settings(max_examples=300, deadline=None)
@given(data=st.data(), on=days, rules=rules)
def test_the_columnar_rules_equal_light_for_on_every_leaf(
    data: st.DataObject, on: date, rules: LightRules
) -> None:
    rows = data.draw(st.lists(_leaf(on), min_size=1, max_size=12))
    leaves = pl.DataFrame(
        [
            {
                "indicator_id": n,
                "unit_id": n % 3,
                "category_id": 1,
                "lead_department_id": None,
                "effective_from": r["effective_from"],
                "reported_c": r["reported_c"],
                "grade": r["grade"],
            }
            for n, r in enumerate(rows)
        ],
        schema=LEAF_SCHEMA,
    )
    milestones = pl.DataFrame(
        [
            {"indicator_id": n, "due": d, "percent_c": p}
            for n, r in enumerate(rows)
            for d, p in r["milestones"].items()  # type: ignore[attr-defined]
        ],
        schema=MILESTONE_SCHEMA,
    )
    got = lights_frame(leaves, milestones, year=YEAR, on=on, rules=rules)
    columnar = [
        (
            r["color"],
            Decimal(r["expected_c"]) / 100,
            None if r["reported_c"] is None else Decimal(r["reported_c"]) / 100,
            r["reason"],
        )
        for r in got.iter_rows(named=True)
    ]
    assert got["indicator_id"].to_list() == list(range(len(rows)))
    assert columnar == [_by_row(r, on, rules) for r in rows]


def test_plain_percents_drop_trailing_zeros() -> None:
    values = pl.Series("c", [8000, 6250, 5, 0, -150, 12345], dtype=pl.Int64)
    assert pl.select(plain(pl.lit(values))).to_series().to_list() == [
        "80",
        "62.5",
        "0.05",
        "0",
        "-1.5",
        "123.45",
    ]


def test_a_schedule_starting_after_the_year_has_no_targets() -> None:
    leaves = pl.DataFrame(
        [{"indicator_id": 1, "unit_id": 1, "category_id": 1, "lead_department_id": None,
          "effective_from": END + timedelta(days=5), "reported_c": None, "grade": None}],
        schema=LEAF_SCHEMA,
    )  # fmt: skip
    got = lights_frame(leaves, pl.DataFrame(schema=MILESTONE_SCHEMA), year=YEAR, on=END, rules=LightRules())
    assert got.row(0, named=True)["color"] == "green"
