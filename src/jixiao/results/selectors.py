"""Reads of scoring runs and results, scoped to who may see them.

The office, leaders and auditors see every result; a liaison sees their unit's team and
officials; an official sees their own result (the person a score concerns may read its
explanation) and their team's.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.db import connection
from django.db.models import Case, F, IntegerField, Min, OrderBy, Q, QuerySet, Value, When
from django.db.models.functions import Collate
from django.utils.translation import gettext

from jixiao.accounts.models import Role, User
from jixiao.organisation.models import UnitCategory
from jixiao.results import labels
from jixiao.results.models import EntityResult, ResultSubject, RunDetail, ScoringRun
from jixiao.results.services import indicator_names
from jixiao.schemes.config_forms import rating_item_choices
from jixiao.schemes.models import Component, Cycle, RaterGroup, Subject
from jixiao.scoring.bundle import _clean
from jixiao.scoring.explain import explain
from jixiao.scoring.scheme import Scheme, parse_scheme
from jixiao.scoring.types import Results

DETAIL_CACHE_RUNS = 4  # runs whose frames a process keeps (a province run: a few hundred MB)


def runs(*, cycle: Cycle | None = None) -> QuerySet[ScoringRun]:
    qs = ScoringRun.objects.select_related("cycle", "created_by")
    return qs.filter(cycle=cycle) if cycle is not None else qs


def latest_run(*, cycle: Cycle) -> ScoringRun | None:
    return ScoringRun.objects.filter(cycle=cycle).order_by("-number").first()


def visible_results(*, user: User, run: ScoringRun) -> QuerySet[EntityResult]:
    """Results of ``run`` that ``user`` may read."""
    qs = EntityResult.objects.filter(run=run).select_related("unit", "official")
    if user.sees_all_units:
        return qs
    if user.role == Role.OFFICIAL:
        mine = Q(subject="official", official_id=user.official_id) if user.official_id else Q(pk__in=[])
        team = Q(subject="unit", unit_id=user.unit_id) if user.unit_id else Q(pk__in=[])
        return qs.filter(mine | team)
    if user.unit_id is None:
        return qs.none()
    return qs.filter(unit_id=user.unit_id)


def may_see_rankings(user: User) -> bool:
    return user.sees_all_units


def category_order(codes: list[str]) -> list[str]:
    """Engine category codes (``county``, ``county:official``) in the configured order of their
    unit category (``UnitCategory.order``, then code): 县市 first, not alphabetical."""
    order = dict(UnitCategory.objects.values_list("code", "order"))
    return sorted(codes, key=lambda c: (order.get(c.split(":")[0], len(order) + 1_000_000), c))


def categories(*, run: ScoringRun, subject: str) -> list[str]:
    """The run's categories of ``subject`` in the configured order."""
    return category_order(
        list(
            EntityResult.objects.filter(run=run, subject=subject)
            .values_list("category", flat=True)
            .distinct()
            .order_by()
        )
    )


def valid_category(requested: str, available: list[str]) -> str:
    """``requested`` if available; else the same unit category's (``county`` ⇄ ``county:official``
    when switching between teams and officials); else the first available ("" for none)."""
    if requested in available:
        return requested
    base = requested.split(":")[0]
    same = [c for c in available if c.split(":")[0] == base]
    return same[0] if same else (available[0] if available else "")


def category_names(*, codes: list[str]) -> dict[str, str]:
    """Engine category codes (``dept`` or ``dept:official``) → the category's Chinese name."""
    names = dict(UnitCategory.objects.values_list("code", "name"))
    return {code: names.get(code.split(":")[0], code) for code in codes}


def component_names(*, run: ScoringRun, category: str) -> dict[str, str]:
    """Component codes of the scheme behind an engine category → their names."""
    code, _, suffix = category.partition(":")
    subject = Subject.OFFICIAL if suffix else Subject.TEAM
    return dict(
        Component.objects.filter(
            scheme__cycle_id=run.cycle_id, scheme__category__code=code, subject=subject
        ).values_list("code", "name")
    )


def all_component_names(*, run: ScoringRun) -> dict[str, str]:
    """Component codes of every scheme of the run's cycle → names (for a sheet of all categories)."""
    return {code: name for per in _component_names(run.cycle_id).values() for code, name in per.items()}


def item_names() -> dict[str, str]:
    """Rating item codes → names: the conventional items, then the ballot forms' own items."""
    return {**{k: str(v) for k, v in labels.ITEMS.items()}, **dict(rating_item_choices())}


def rater_group_names(*, run: ScoringRun) -> dict[str, str]:
    return dict(RaterGroup.objects.filter(cycle_id=run.cycle_id).values_list("code", "name"))


# The columns a ranking may be sorted by (``?sort=total``, ``?sort=-total`` for descending).
RANKING_SORTS = ("rank", "total", "code", "name", "grade")
DEFAULT_SORT = "rank"
# Names are sorted in pinyin order on PostgreSQL (ICU), not by code point (the database's C.UTF-8).
NAME_COLLATION = "zh-Hans-x-icu"


def valid_sort(requested: str) -> str:
    """``requested`` (``total``, ``-name``…) when it names a sortable column, else by rank."""
    return requested if requested.lstrip("-") in RANKING_SORTS else DEFAULT_SORT


def ranking(
    *, run: ScoringRun, subject: str, category: str, query: str = "", sort: str = DEFAULT_SORT
) -> QuerySet[EntityResult]:
    """One category's results in the order ``sort`` (:func:`valid_sort`; by rank the index on run,
    subject, category and rank serves the filter, the order and the page's count; any other column
    is a top-N sort of at most one category's rows, 30,000 at province scale); ties keep the rank
    order, then the row's id, so that paging is stable. ``query`` keeps the units, or the officials,
    whose code starts with it or whose name contains it."""
    qs = EntityResult.objects.filter(run=run, subject=subject, category=category)
    entity = "official" if subject == ResultSubject.OFFICIAL else "unit"
    if query:
        qs = qs.filter(
            Q(**{f"{entity}__code__startswith": query}) | Q(**{f"{entity}__name__contains": query})
        )
    # The explanation is read by the breakdown, not the ranking.
    qs = qs.select_related("unit", "official").defer("stored_explanation")
    return qs.order_by(*_ranking_order(run=run, category=category, entity=entity, sort=valid_sort(sort)))


def _ranking_order(*, run: ScoringRun, category: str, entity: str, sort: str) -> list[OrderBy]:
    column, descending = sort.lstrip("-"), sort.startswith("-")
    tie = [F("rank").asc(nulls_last=True), F("pk").asc()]
    key: Any
    if column == "rank":
        return [F("rank").desc(nulls_last=True) if descending else tie[0], tie[1]]
    if column == "total":
        key = F("total")
    elif column == "code":
        key = F(f"{entity}__code")
    elif column == "name":
        key = F(f"{entity}__name")
        if connection.vendor == "postgresql":
            key = Collate(key, NAME_COLLATION)
    else:  # grade: in the order of the category's grade levels (best first), no grade last
        levels = grade_levels(run=run, category=category)
        key = Case(
            *[When(grade=label, then=Value(i)) for i, label in enumerate(levels)],
            default=Value(len(levels)),
            output_field=IntegerField(),
        )
    return [key.desc(nulls_last=True) if descending else key.asc(nulls_last=True), *tie]


def grade_levels(*, run: ScoringRun, category: str) -> list[str]:
    """The grade labels of ``category`` in the run's scheme, best first (the levels' order);
    for a run stored without its scheme, the grades given in the category by their best rank."""
    levels = _run_grade_levels(run.pk, run.created_at.isoformat()).get(category)
    if levels is not None:
        return levels
    best = (
        EntityResult.objects.filter(run=run, category=category)
        .exclude(grade="")
        .values("grade")
        .annotate(best=Min("rank"))
        .order_by("best", "grade")
    )
    return [row["grade"] for row in best]


@functools.lru_cache(maxsize=DETAIL_CACHE_RUNS * 4)
def _run_grade_levels(run_id: int, created_at: str) -> dict[str, list[str]]:
    """Engine category code → grade labels best first, from the run's stored scheme (a run never
    changes: keyed by id and creation time, as :func:`_explainer`)."""
    scheme = RunDetail.objects.filter(run_id=run_id).values_list("scheme", flat=True).first()
    out: dict[str, list[str]] = {}
    for category in (scheme or {}).get("categories", []):
        levels = (category.get("grading") or {}).get("levels") or []
        out[str(category.get("code", ""))] = [str(level.get("label", "")) for level in levels]
    return out


def previous_by_entity(
    *, run: ScoringRun, subject: str, entity_ids: list[int] | None = None
) -> dict[int, EntityResult]:
    """Last year's results keyed by unit pk (teams) or official pk, for the change column; only
    those of ``entity_ids`` when given (the page shown: a province has 98,000 officials)."""
    last = ScoringRun.objects.filter(cycle__year=run.cycle.year - 1).order_by("-number").first()
    if last is None:
        return {}
    rows = EntityResult.objects.filter(run=last, subject=subject).only(
        "unit_id", "official_id", "rank", "grade"
    )
    if subject == "official":
        if entity_ids is not None:
            rows = rows.filter(official_id__in=entity_ids)
        return {r.official_id: r for r in rows if r.official_id is not None}
    if entity_ids is not None:
        rows = rows.filter(unit_id__in=entity_ids)
    return {r.unit_id: r for r in rows}


@dataclass(frozen=True)
class FieldChange:
    """One changed outcome of an entity: its label, before and after (None: absent)."""

    label: str
    before: Any
    after: Any
    number: bool  # a score: shown to the scheme's decimals


@dataclass(frozen=True)
class Change:
    result: EntityResult  # in the new run
    fields: list[FieldChange]
    reasons: list[str]  # which inputs or rules changed, in words


_Outcome = tuple[
    int, float | None, int | None, str, dict[str, Any], str
]  # pk, total, rank, grade, comps, category


def _outcomes(run: ScoringRun) -> dict[str, _Outcome]:
    """Entity key → the run's outcome, read as plain values (no model instances)."""
    rows = EntityResult.objects.filter(run=run).values_list(
        "pk", "unit_id", "official_id", "total", "rank", "grade", "components", "category"
    )
    return {
        (f"O{official}" if official is not None else f"U{unit}"): (pk, total, rank, grade, comps, category)
        for pk, unit, official, total, rank, grade, comps, category in rows
    }


def _component_names(cycle_id: int) -> dict[str, dict[str, str]]:
    """Engine category code → component code → name, for every scheme of the cycle (one query)."""
    names: dict[str, dict[str, str]] = {}
    rows = Component.objects.filter(scheme__cycle_id=cycle_id).values_list(
        "scheme__category__code", "subject", "code", "name"
    )
    for category, subject, code, name in rows:
        key = f"{category}:official" if subject == Subject.OFFICIAL else category
        names.setdefault(key, {})[code] = name
    return names


def compare(*, old: ScoringRun, new: ScoringRun) -> list[Change]:
    """The entities whose total, rank, grade or a component differs between two runs, with the
    differences and the reasons (``change_reasons``), in category order then rank."""
    before, after = _outcomes(old), _outcomes(new)
    changed: dict[str, list[FieldChange]] = {}
    moved: set[str] = set()  # entities whose total changed (an official's team among them)
    names = _component_names(new.cycle_id)
    for key, (_pk, total, rank, grade, comps, category) in after.items():
        prev = before.get(key)
        p_total, p_rank, p_grade, p_comps = prev[1:5] if prev else (None, None, "", {})
        fields: list[FieldChange] = []
        if p_total != total:
            moved.add(key)
            fields.append(FieldChange(gettext("总分"), p_total, total, True))
        if p_rank != rank:
            fields.append(FieldChange(gettext("名次"), p_rank, rank, False))
        if p_grade != grade:
            fields.append(FieldChange(gettext("等次"), p_grade or None, grade or None, False))
        if prev is not None:
            comp_names = names.get(category, {})
            for comp, value in comps.items():
                if p_comps.get(comp) != value:
                    fields.append(FieldChange(comp_names.get(comp, comp), p_comps.get(comp), value, True))
        if fields:
            changed[key] = fields
    reasons = change_reasons(old=old, new=new, entities=list(changed), total_changed=moved)
    results = {
        r.entity_key: r
        for r in EntityResult.objects.filter(pk__in=[after[k][0] for k in changed]).select_related(
            "unit", "official"
        )
    }
    order = {c: i for i, c in enumerate(category_order(sorted({r.category for r in results.values()})))}
    out = [
        Change(
            results[k],
            fields,
            reasons.get(k) or [gettext("本身输入未变，名次或等次随同类别其他对象变化")],
        )
        for k, fields in changed.items()
    ]
    out.sort(
        key=lambda c: (c.result.subject != "unit", order[c.result.category], c.result.rank or 0, c.result.pk)
    )
    return out


def _number(value: Any, decimals: int) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{value:.0f}"
    return str(value)


def _changed_rows(a: pl.DataFrame, b: pl.DataFrame, keys: list[str], values: list[str]) -> pl.DataFrame:
    """Rows of ``a`` and ``b`` (full join on ``keys``) where any of ``values`` differs (null-safe)."""
    joined = a.select(*keys, *values).join(
        b.select(*keys, *values), on=keys, how="full", suffix="_new", coalesce=True
    )
    differs = pl.any_horizontal(~pl.col(v).eq_missing(pl.col(f"{v}_new")) for v in values)
    return joined.filter(differs)


def change_reasons(
    *, old: ScoringRun, new: ScoringRun, entities: list[str], total_changed: Collection[str] = ()
) -> dict[str, list[str]]:
    """Entity key → what changed between the runs' inputs for it, in words: indicator values and
    targets, evaluation means, adjustments, its category's scheme (weights, rules, grading) and,
    for an official, the team's score. Read from the runs' frames (``RunDetail``); {} without them.
    """
    a = _explainer(old.pk, old.created_at.isoformat())
    b = _explainer(new.pk, new.created_at.isoformat())
    if a is None or b is None or not entities:
        return {}
    decimals = int(new.parameters.get("score_decimals", 2))
    wanted = pl.Series(entities, dtype=pl.String)
    out: dict[str, list[str]] = {}

    def frame(x: _Explainer, name: str) -> pl.DataFrame:
        f: pl.DataFrame = getattr(x.results, name)
        return f.filter(pl.col("entity").is_in(wanted.implode()))

    rows = _changed_rows(frame(a, "indicators"), frame(b, "indicators"), ["entity", "indicator"],
                         ["value", "label", "target"])  # fmt: skip
    for r in rows.iter_rows(named=True):
        name = b.names.get(r["indicator"], a.names.get(r["indicator"], r["indicator"]))
        before = r["label"] if r["label"] is not None else _number(r["value"], decimals)
        after = r["label_new"] if r["label_new"] is not None else _number(r["value_new"], decimals)
        if before != after:
            text = gettext("指标“%(name)s”实际值 %(a)s → %(b)s") % {"name": name, "a": before, "b": after}
        else:
            text = gettext("指标“%(name)s”目标值 %(a)s → %(b)s") % {
                "name": name, "a": _number(r["target"], decimals), "b": _number(r["target_new"], decimals),
            }  # fmt: skip
        out.setdefault(r["entity"], []).append(text)
    groups = rater_group_names(run=new)
    items = item_names()
    rows = _changed_rows(frame(a, "raters"), frame(b, "raters"), ["entity", "component", "group", "item"],
                         ["ratings", "mean", "status"])  # fmt: skip
    for r in rows.iter_rows(named=True):
        if r["status"] != "used" or r["status_new"] != "used":
            # A group below its minimum ballots k is withheld on every page: its mean and count
            # would let a reader recover a lone rater's score, so the reason names it only.
            out.setdefault(r["entity"], []).append(
                gettext("评价主体“%(group)s”的“%(item)s”：样本不足，不予显示")
                % {"group": groups.get(r["group"], r["group"]), "item": items.get(r["item"], r["item"])}
            )
            continue
        out.setdefault(r["entity"], []).append(
            gettext("评价主体“%(group)s”的“%(item)s”平均分 %(a)s → %(b)s（%(n)s 份）")
            % {"group": groups.get(r["group"], r["group"]), "item": items.get(r["item"], r["item"]),
               "a": _number(r["mean"], decimals), "b": _number(r["mean_new"], decimals),
               "n": r["ratings_new"] if r["ratings_new"] is not None else 0}
        )  # fmt: skip
    adjust = ["kind", "level", "indicator", "points", "reason"]
    for x, verb in ((a, gettext("撤销")), (b, gettext("新增"))):
        other = b if x is a else a
        mine, theirs = (
            frame(x, "adjustments").select("entity", *adjust),
            frame(other, "adjustments").select("entity", *adjust),
        )
        for r in mine.join(theirs, on=["entity", *adjust], how="anti", nulls_equal=True).iter_rows(
            named=True
        ):
            kind = str(labels.ADJUSTMENT_KINDS.get(r["kind"], r["kind"]))
            out.setdefault(r["entity"], []).append(
                f"{verb}{kind}" + (f"：{r['reason']}" if r["reason"] else "")
            )
    scheme_reasons = _scheme_reasons(a, b)
    category = dict(
        b.results.entities.filter(pl.col("entity").is_in(wanted.implode()))
        .select("entity", "category")
        .iter_rows()
    )
    team = dict(
        b.results.entities.filter(pl.col("entity").is_in(wanted.implode()))
        .select("entity", "unit")
        .iter_rows()
    )
    for e in entities:
        out.setdefault(e, []).extend(scheme_reasons.get(category.get(e, ""), []))
        if team.get(e) in total_changed:
            out[e].append(gettext("所在班子得分变化"))
    return {e: reasons for e, reasons in out.items() if reasons}


def _scheme_reasons(a: _Explainer, b: _Explainer) -> dict[str, list[str]]:
    """Engine category code → what changed in its scheme between two runs, in words."""
    before = {c["code"]: c for c in a.raw_scheme.get("categories", [])}
    out: dict[str, list[str]] = {}
    for cat in b.raw_scheme.get("categories", []):
        prev = before.get(cat["code"])
        if prev is None or prev == cat:
            continue
        reasons: list[str] = []
        old_nodes = {n["code"]: n for n in prev.get("indicators", [])}
        for node in cat.get("indicators", []):
            was = old_nodes.get(node["code"])
            name = node.get("name", node["code"])
            if was is None:
                reasons.append(gettext("新增指标“%(name)s”") % {"name": name})
            elif was.get("weight") != node.get("weight"):
                reasons.append(gettext("指标“%(name)s”权重 %(a)s → %(b)s") % {
                    "name": name, "a": was.get("weight"), "b": node.get("weight")})  # fmt: skip
            elif was.get("rule") != node.get("rule"):
                reasons.append(gettext("指标“%(name)s”的计分规则已修改") % {"name": name})
        if prev.get("components") != cat.get("components"):
            reasons.append(gettext("构成或其权重已修改"))
        if prev.get("grading") != cat.get("grading"):
            reasons.append(gettext("等次政策已修改"))
        rest = {k for k in {*prev, *cat} if k not in ("indicators", "components", "grading")}
        if any(prev.get(k) != cat.get(k) for k in rest):
            reasons.append(gettext("考核方案的计分选项已修改"))
        out[cat["code"]] = reasons
    return out


@dataclass(frozen=True)
class _RunScheme:
    """The scheme a run scored, its indicator names and (parsed on first use) typed scheme."""

    names: dict[str, str]
    raw_scheme: dict[str, Any]

    @functools.cached_property
    def scheme(self) -> Scheme:
        """The parsed scheme, parsed when first explained (a comparison never needs it: ~0.3 s
        for the demo prefecture's sixteen schemes)."""
        return parse_scheme(self.raw_scheme)


@dataclass(frozen=True)
class _Explainer(_RunScheme):
    results: Results  # every frame sorted by entity


@functools.lru_cache(maxsize=DETAIL_CACHE_RUNS * 4)
def _run_scheme(run_id: int, created_at: str) -> _RunScheme | None:
    """The run's scheme without its frames (the breakdown of an entity read from its block), or
    None for a run without detail; cached as :func:`_explainer`."""
    raw = RunDetail.objects.filter(run_id=run_id).values_list("scheme", flat=True).first()
    return None if raw is None else _RunScheme(indicator_names(raw), raw)


@functools.lru_cache(maxsize=DETAIL_CACHE_RUNS)
def _explainer(run_id: int, created_at: str) -> _Explainer | None:
    """The run's frames, parsed scheme and indicator names, or None for a run without detail.

    Keyed by the run's id and creation time: a run never changes, and an id reused by a database
    that was rolled back (tests) comes with another time.
    """
    detail = RunDetail.objects.select_related("run").filter(run_id=run_id).first()
    if detail is None:
        return None
    frames = {name: pl.read_parquet(io.BytesIO(bytes(getattr(detail, name)))) for name in RunDetail.FRAMES}
    results = Results(
        engine_version=detail.run.engine_version,
        score_decimals=int(detail.run.parameters.get("score_decimals", 0)),
        decisions=detail.decisions,
        **frames,
    )
    return _Explainer(indicator_names(detail.scheme), detail.scheme, results)


def run_frames(run: ScoringRun) -> Results | None:
    """The whole run's frames (``RunDetail``), or None for a run without detail."""
    explainer = _explainer(run.pk, run.created_at.isoformat())
    return explainer.results if explainer is not None else None


def _rows_of(frame: pl.DataFrame, entity: str) -> pl.DataFrame:
    """The rows of ``entity`` in a frame sorted by entity (binary search, then a slice)."""
    column = frame.get_column("entity")
    start = int(column.search_sorted(entity, side="left"))
    end = int(column.search_sorted(entity, side="right"))
    return frame.slice(start, end - start)


WITHHELD = "withheld"


def _withhold_small_groups(explanation: dict[str, Any], scheme: Scheme | None) -> dict[str, Any]:
    """Apply the minimum group size k to the rater rows a page shows; return ``explanation``.

    A row the engine withheld (fewer ballots than the group's k) keeps its status but loses its
    mean and counts: a single rater's score must not be readable on a results page. A rater group
    that weighs in a ratings component of the entity's category but has no row at all is listed
    as withheld too: closing an evaluation does not write a group below k into the facts
    (docs/threat-model-ballots.md), so for the engine it simply has no usable ratings.
    """
    raters: list[dict[str, Any]] = []
    for row in explanation.get("raters", []):
        if row.get("status") == WITHHELD:
            row = {**row, "ratings": None, "kept": None, "mean": None}
        raters.append(row)
    if scheme is not None:
        present = {(r.get("component"), r.get("group")) for r in raters}
        try:
            category = scheme.category(str(explanation.get("category", "")))
        except KeyError:
            category = None
        for component in category.components if category is not None else ():
            if component.source != "ratings":
                continue
            for group, weight in component.groups.items():
                if weight > 0 and (component.code, group) not in present:
                    raters.append(
                        {"component": component.code, "group": group, "item": "", "ratings": None,
                         "kept": None, "mean": None, "status": WITHHELD}
                    )  # fmt: skip
    explanation["raters"] = raters
    return explanation


def shown_explanation(result: EntityResult) -> dict[str, Any]:
    """The explanation a results page may show: :func:`entity_explanation` with every rater
    group below its k withheld (:func:`_withhold_small_groups`)."""
    run = result.run
    scheme = _run_scheme(run.pk, run.created_at.isoformat())
    return _withhold_small_groups(entity_explanation(result), scheme.scheme if scheme else None)


def entity_explanation(result: EntityResult) -> dict[str, Any]:
    """The explanation of ``result`` (``jixiao.scoring.explain.explain`` plus indicator names).

    Rebuilt from the entity's explanation block (``explanation_blocks``: one block read), else
    from the run's ``RunDetail`` (frames cached per process for a few runs); a run stored before
    ``RunDetail`` existed falls back to its stored JSON.
    """
    from jixiao.results import explanation_blocks

    run = result.run
    scheme = _run_scheme(run.pk, run.created_at.isoformat())
    if scheme is None:
        return dict(result.stored_explanation)
    entity = result.entity_key
    mine = explanation_blocks.entity_results(run, entity)
    if mine is None:
        full = run_frames(run)
        assert full is not None  # the run has detail (its scheme was found)
        mine = Results(
            engine_version=full.engine_version,
            score_decimals=full.score_decimals,
            decisions=full.decisions,
            **{name: _rows_of(getattr(full, name), entity) for name in RunDetail.FRAMES},
        )
    explanation: dict[str, Any] = dict(_clean(explain(mine, scheme.scheme, entity)))
    for indicator in explanation["indicators"]:
        # Names are for people; the digest covers the codes they stand for.
        indicator["name"] = scheme.names.get(indicator["indicator"], indicator["indicator"])
    return explanation
