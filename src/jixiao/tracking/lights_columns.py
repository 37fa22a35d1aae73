"""The light rules of :func:`jixiao.tracking.lights.light_for`, on columns (Polars).

The daily job lights a whole province at once (1.4 M declared leaves); calling ``light_for`` per
leaf in Python, with ``Decimal``, is most of a minute. Here the same rules run as a few joins
and group-bys over every leaf and milestone of a batch. Percentages are integers of hundredths
(cents: 24.72 % is 2472), which the database's two decimals are exactly, so that every
comparison and the rounding of expected progress (half up, as ``Decimal.quantize``) are exact:
the result equals ``light_for`` row by row, reasons included (proved by
``tests/test_lights_columns.py`` with hypothesis, and on stored data on SQLite and PostgreSQL).

No database here: frames in, frames out.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import polars as pl
from django.utils.translation import gettext as _

from jixiao.tracking.models import Interpolation, Light, ProgressGrade

if TYPE_CHECKING:  # the service module imports this one
    from jixiao.tracking.lights import LightRules

FULL = 10_000  # 100 % in hundredths

#: The leaves' columns: the indicator, where its light is filed, when its schedule starts
#: (None: the cycle's 1 January) and its latest counted report (None: nothing reported).
LEAF_SCHEMA: dict[str, pl.DataType] = {
    "indicator_id": pl.Int64(),
    "unit_id": pl.Int64(),
    "category_id": pl.Int64(),
    "lead_department_id": pl.Int64(),
    "effective_from": pl.Date(),
    "reported_c": pl.Int64(),  # hundredths of a percent
    "grade": pl.String(),
}
MILESTONE_SCHEMA: dict[str, pl.DataType] = {
    "indicator_id": pl.Int64(),
    "due": pl.Date(),
    "percent_c": pl.Int64(),
}
#: The lights: LEAF_SCHEMA's first four columns, then these.
LIGHT_COLUMNS = ("color", "expected_c", "reported_c", "reason")


def cents(value: Decimal) -> int:
    """``value`` (percent) in hundredths; refuses more than two decimals, which would not be exact."""
    scaled = value * 100
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than two decimals")
    return int(scaled)


def plain(column: pl.Expr) -> pl.Expr:
    """Hundredths as :func:`jixiao.tracking.lights._plain` writes the percent: at most 2
    decimals, no trailing zeros (8000 → "80", 6250 → "62.5", 5 → "0.05")."""
    size = column.abs()
    whole = (size // 100).cast(pl.String)
    part = size % 100
    decimals = (
        pl.when(part == 0)
        .then(pl.lit(""))
        .when(part % 10 == 0)
        .then(pl.lit(".") + (part // 10).cast(pl.String))
        .otherwise(pl.lit(".") + part.cast(pl.String).str.zfill(2))
    )
    sign = pl.when(column < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str([sign, whole, decimals])


_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


def sentence(template: str, values: dict[str, pl.Expr]) -> pl.Expr:
    """``template % values`` (``%(name)s`` and ``%%``) for every row: the translated sentence
    is split once and its pieces concatenated column-wise."""
    pieces: list[pl.Expr] = []
    at = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > at:
            pieces.append(pl.lit(template[at : match.start()]))
        pieces.append(pl.lit("%") if match.group(1) is None else values[match.group(1)])
        at = match.end()
    if at < len(template):
        pieces.append(pl.lit(template[at:]))
    return pl.concat_str(pieces) if pieces else pl.lit("")


def _round_half_up(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """numerator / denominator (> 0) rounded half away from zero, as ``Decimal.quantize``."""
    size = (2 * numerator.abs() + denominator) // (2 * denominator)
    return pl.when(numerator < 0).then(-size).otherwise(size)


def lights_frame(
    leaves: pl.DataFrame, milestones: pl.DataFrame, *, year: int, on: date, rules: LightRules
) -> pl.DataFrame:
    """Every leaf's light on ``on``: ``indicator_id``, ``unit_id``, ``category_id``,
    ``lead_department_id``, ``color``, ``expected_c`` and ``reported_c`` (hundredths) and
    ``reason``, one row per leaf in the leaves' order. ``leaves`` has :data:`LEAF_SCHEMA`,
    ``milestones`` :data:`MILESTONE_SCHEMA` (unique per indicator and date, as the database
    keeps them)."""
    first, end = date(year, 1, 1), date(year, 12, 31)
    share = cents(rules.red_share)
    soon = on + timedelta(days=rules.yellow_days)
    step = rules.interpolation == Interpolation.STEP

    base = leaves.with_row_index("_row").with_columns(
        start=pl.max_horizontal(pl.col("effective_from"), pl.lit(first)).fill_null(pl.lit(first)),
        progress=pl.col("reported_c").fill_null(0),
    )
    # The schedule (lights.schedule): (start, 0), the milestones inside (start, end], and
    # (end, 100 %) unless the last of them falls on the end. Dates are unique per indicator.
    starts = base.select("indicator_id", due=pl.col("start"), percent_c=pl.lit(0, pl.Int64))
    inside = (
        milestones.join(base.select("indicator_id", "start"), on="indicator_id")
        .filter((pl.col("due") > pl.col("start")) & (pl.col("due") <= pl.lit(end)))
        .select("indicator_id", "due", "percent_c")
    )
    points = pl.concat([starts, inside])
    ends = (
        points.group_by("indicator_id")
        .agg(last=pl.col("due").max())
        .filter(pl.col("last") < pl.lit(end))
        .select("indicator_id", due=pl.lit(end), percent_c=pl.lit(FULL, pl.Int64))
    )
    points = (
        pl.concat([points, ends])
        .sort("indicator_id", "due")
        .with_columns(
            before_due=pl.col("due").shift(1).over("indicator_id"),
            before_c=pl.col("percent_c").shift(1).over("indicator_id"),
        )
        .join(base.select("indicator_id", "progress"), on="indicator_id")
    )
    # Targets are every point after the start (their before_* are set). Within a group Polars
    # keeps the frame's order (by date), so first() is the earliest, last() the latest.
    target = pl.col("before_due").is_not_null()
    ahead = target & (pl.col("due") > pl.lit(on))
    missed = pl.col("progress") < pl.col("percent_c")
    overdue = target & (pl.col("due") < pl.lit(on)) & missed
    coming = target & (pl.col("due") >= pl.lit(on)) & (pl.col("due") <= pl.lit(soon)) & missed
    per = points.group_by("indicator_id").agg(
        last_c=pl.col("percent_c").last(),
        seg_due=pl.col("due").filter(ahead).first(),
        seg_before_due=pl.col("before_due").filter(ahead).first(),
        seg_c=pl.col("percent_c").filter(ahead).first(),
        seg_before_c=pl.col("before_c").filter(ahead).first(),
        over_due=pl.col("due").filter(overdue).last(),
        over_c=pl.col("percent_c").filter(overdue).last(),
        soon_due=pl.col("due").filter(coming).first(),
        soon_c=pl.col("percent_c").filter(coming).first(),
    )
    frame = base.join(per, on="indicator_id", how="left").sort("_row")

    # Expected progress (lights.expected_progress).
    if step:
        between = pl.col("seg_before_c")
    else:
        span = (pl.col("seg_due") - pl.col("seg_before_due")).dt.total_days()
        done = (pl.lit(on) - pl.col("seg_before_due")).dt.total_days()
        between = _round_half_up(
            pl.col("seg_before_c") * span + (pl.col("seg_c") - pl.col("seg_before_c")) * done, span
        )
    expected = (
        pl.when(pl.lit(on) <= pl.col("start"))
        .then(pl.lit(0, pl.Int64))
        .when(pl.col("seg_due").is_not_null())
        .then(between)
        .otherwise(pl.col("last_c").fill_null(0))
    )
    frame = frame.with_columns(expected_c=expected.cast(pl.Int64))

    progress = pl.col("progress")
    done_ = (pl.col("grade") == ProgressGrade.COMPLETED.value).fill_null(False) | (progress >= FULL)
    before_start = pl.lit(on) < pl.col("start")
    late = pl.col("over_due").is_not_null()
    behind = (pl.col("expected_c") > 0) & (progress * 10_000 < pl.col("expected_c") * share)
    near = pl.col("soon_due").is_not_null()
    color = (
        pl.when(done_ | before_start)
        .then(pl.lit(Light.GREEN.value))
        .when(late | behind)
        .then(pl.lit(Light.RED.value))
        .when(near)
        .then(pl.lit(Light.YELLOW.value))
        .otherwise(pl.lit(Light.GREEN.value))
    )
    reason = (
        pl.when(done_)
        .then(pl.lit(_("已完成")))
        .when(before_start)
        .then(pl.lit(_("尚未起算")))
        .when(late)
        .then(
            sentence(
                _("%(due)s 节点应完成 %(percent)s%%，已逾期未完成"),
                {"due": pl.col("over_due").dt.strftime("%Y-%m-%d"), "percent": plain(pl.col("over_c"))},
            )
        )
        .when(behind)
        .then(
            sentence(
                _("实际进度 %(progress)s%% 低于应完成进度 %(expected)s%% 的 %(share)s%%"),
                {
                    "progress": plain(progress),
                    "expected": plain(pl.col("expected_c")),
                    "share": pl.lit(_plain_int(share)),
                },
            )
        )
        .when(near)
        .then(
            sentence(
                _("%(due)s 节点应完成 %(percent)s%%，还差 %(gap)s 个百分点"),
                {
                    "due": pl.col("soon_due").dt.strftime("%Y-%m-%d"),
                    "percent": plain(pl.col("soon_c")),
                    "gap": plain(pl.col("soon_c") - progress),
                },
            )
        )
        .otherwise(pl.lit(_("按进度推进")))
    )
    return frame.select(
        "indicator_id",
        "unit_id",
        "category_id",
        "lead_department_id",
        color.alias("color"),
        "expected_c",
        "reported_c",
        reason.str.slice(0, 200).alias("reason"),  # the column's max_length, as the row path cut it
    )


def _plain_int(value: int) -> str:
    return str(pl.select(plain(pl.lit(value, pl.Int64))).item())


def unit_lights_frame(lights: pl.DataFrame, units: pl.DataFrame) -> pl.DataFrame:
    """Each unit's counts and worst light (lights.unit_color): ``units`` (``unit_id``,
    ``category_id``: every tracked unit, green when it has no leaf) joined with the counts of
    ``lights`` (:func:`lights_frame`)."""
    counts = lights.group_by("unit_id").agg(
        green=(pl.col("color") == Light.GREEN.value).sum(),
        yellow=(pl.col("color") == Light.YELLOW.value).sum(),
        red=(pl.col("color") == Light.RED.value).sum(),
    )
    return (
        units.join(counts, on="unit_id", how="left")
        .with_columns(pl.col("green", "yellow", "red").fill_null(0).cast(pl.Int64))
        .with_columns(
            color=pl.when(pl.col("red") > 0)
            .then(pl.lit(Light.RED.value))
            .when(pl.col("yellow") > 0)
            .then(pl.lit(Light.YELLOW.value))
            .otherwise(pl.lit(Light.GREEN.value))
        )
        .select("unit_id", "category_id", "green", "yellow", "red", "color")
    )
