"""The pre-flight check (计分前检查): everything that would make a scoring run fail or mislead,
in Chinese, with where to fix it. A pure read; the runs page and ``jixiao compute --cycle`` show
the same list, and an error refuses the run while a warning only asks to be acknowledged.

Checked: a closed cycle; a cycle without schemes; weights not summing to 100 at any level
(``schemes.selectors.weight_problems``); a leaf without a rule; rule parameters that cannot work,
one by one and together (``schemes.rule_types``); grades entered that a 定性等次 map does not
score; results whose target is 0 or missing where the rule divides by it; a category with no
assessed unit; facts about units this cycle does not assess; units without published targets
where the framework expects each unit's declared leaves; and, last, the engine's own scheme
validation as a safety net. A framework node that published declared leaves hang under is a slot
(the units' own targets carry the rules), not a leaf without a rule.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from jixiao.declarations.models import Declaration, DeclaredIndicator
from jixiao.facts.models import Adjustment, EvaluationScore, IndicatorResult
from jixiao.organisation.models import Unit
from jixiao.schemes.lifecycle import CycleLocked, assert_cycle_editable
from jixiao.schemes.models import Cycle, IndicatorNode, Scheme
from jixiao.schemes.rule_types import (
    INDICATOR_RULES,
    grade_labels_missing,
    grade_map_message,
    param_label,
    rule_param_problems,
)
from jixiao.schemes.selectors import weight_problems
from jixiao.scoring.errors import ScoringError

# What the checks read of an indicator (a province has ~50,000: the other columns are not loaded).
_NODE_FIELDS = (
    "scheme",
    "parent",
    "component",
    "level",
    "name",
    "weight",
    "order",
    "rule_type",
    "rule_params",
)
ERROR = "error"
WARNING = "warning"
SAMPLE = 3  # unit names quoted per problem ("如 甲县、乙县、丙县")


@dataclass(frozen=True)
class Problem:
    severity: str  # ERROR refuses the run; WARNING must be acknowledged
    code: str  # what kind of problem (stable, for tests and filters)
    message: str  # Chinese: names the category, component, indicator and field
    link: str  # where to fix it

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


def _path(node: IndicatorNode, nodes: dict[int, IndicatorNode]) -> str:
    names = [node.name]
    parent = node.parent_id
    while parent is not None and parent in nodes:
        names.append(nodes[parent].name)
        parent = nodes[parent].parent_id
    return " › ".join(reversed(names))


def _where(scheme: Scheme, node: IndicatorNode, nodes: dict[int, IndicatorNode]) -> str:
    return _("%(category)s · %(component)s · 指标“%(path)s”") % {
        "category": scheme.category.name,
        "component": node.component.name,
        "path": _path(node, nodes),
    }


def _uses_target(node: IndicatorNode) -> bool:
    """Whether the leaf's rule divides by (or compares with) the result's target, with no default."""
    params = node.rule_params or {}
    rule = node.rule_type
    if rule == "completion" or (rule == "steps" and params.get("on") == "ratio"):
        return params.get("target") in (None, "")
    return rule == "threshold_deduction" and params.get("threshold") in (None, "")


def _units(names: list[str]) -> str:
    return "、".join(names[:SAMPLE]) + ("等" if len(names) > SAMPLE else "")


def _edit(node: IndicatorNode) -> str:
    return reverse("schemes:indicator_edit", args=[node.pk])


def _scheme_problems(
    scheme: Scheme, leaves: list[IndicatorNode], nodes: dict[int, IndicatorNode]
) -> list[Problem]:
    out: list[Problem] = []
    scheme_link = reverse("schemes:scheme_detail", args=[scheme.pk])
    for weight in weight_problems(scheme=scheme):
        out.append(
            Problem(
                ERROR,
                "weights",
                _("%(category)s方案：“%(where)s”下一级的权重合计为 %(total)s，应为 100")
                % {"category": scheme.category.name, "where": weight.where, "total": f"{weight.total:g}"},
                scheme_link,
            )
        )
    for leaf in leaves:
        if not leaf.rule_type:
            out.append(
                Problem(
                    ERROR,
                    "no_rule",
                    _("%(where)s：末级指标未设置计分规则（字段“计分规则”）")
                    % {"where": _where(scheme, leaf, nodes)},
                    _edit(leaf),
                )
            )
            continue
        for _param, message in rule_param_problems(leaf.rule_type, leaf.rule_params or {}):
            out.append(
                Problem(ERROR, "rule_params", f"{_where(scheme, leaf, nodes)}：{message}", _edit(leaf))
            )
    return out


def _grade_problems(
    scheme_of: dict[int, Scheme],
    leaves: dict[int, IndicatorNode],
    nodes: dict[int, IndicatorNode],
    cycle: Cycle,
) -> list[Problem]:
    maps = [pk for pk, leaf in leaves.items() if leaf.rule_type == "grade_map"]
    if not maps:
        return []
    used: dict[int, set[str]] = defaultdict(set)
    rows = (
        IndicatorResult.objects.filter(cycle=cycle, indicator_id__in=maps)
        .exclude(grade="")
        .values_list("indicator_id", "grade")
        .distinct()
    )
    for indicator_id, grade in rows:
        used[indicator_id].add(grade)
    out = []
    for pk, labels in sorted(used.items()):
        leaf = leaves[pk]
        missing = grade_labels_missing(leaf.rule_params or {}, labels)
        if missing:
            where = _where(scheme_of[leaf.scheme_id], leaf, nodes)
            link = reverse("schemes:indicator_edit", args=[pk])
            out.append(Problem(ERROR, "grade_map", f"{where}：{grade_map_message(missing)}", link))
    return out


def _target_problems(
    scheme_of: dict[int, Scheme],
    leaves: dict[int, IndicatorNode],
    nodes: dict[int, IndicatorNode],
    cycle: Cycle,
) -> list[Problem]:
    needing = [pk for pk, leaf in leaves.items() if _uses_target(leaf)]
    if not needing:
        return []
    bad = (
        IndicatorResult.objects.filter(cycle=cycle, indicator_id__in=needing, value__isnull=False)
        .filter(Q(target__lte=0) | Q(target__isnull=True))
        .values("indicator_id")
        .annotate(n=Count("id"), zero=Count("id", filter=Q(target__lte=0)))
        .order_by("indicator_id")
    )
    out = []
    for row in bad:
        pk = row["indicator_id"]
        leaf = leaves[pk]
        names = list(
            IndicatorResult.objects.filter(cycle=cycle, indicator_id=pk, value__isnull=False)
            .filter(Q(target__lte=0) | Q(target__isnull=True))
            .order_by("unit__code")
            .values_list("unit__name", flat=True)[: SAMPLE + 1]
        )
        field = param_label(
            leaf.rule_type, "threshold" if leaf.rule_type == "threshold_deduction" else "target"
        )
        message = _(
            "%(where)s：%(n)d 个单位的“目标值”为 0、负数或未填（如 %(units)s），该规则需要大于 0 的目标值；"
            "请在录入中补正目标值，或在规则中填写“%(field)s”"
        ) % {
            "where": _where(scheme_of[leaf.scheme_id], leaf, nodes),
            "n": row["n"],
            "units": _units(names),
            "field": field,
        }
        out.append(Problem(ERROR, "target", message, reverse("facts:indicator_results", args=[pk])))
    return out


def _slots(cycle: Cycle) -> set[int]:
    """Framework nodes that published declared leaves hang under (``engine_io.declared_slots``)."""
    from jixiao.results.engine_io import declared_slots

    return declared_slots(cycle)


def _declaration_problems(cycle: Cycle, schemes: list[Scheme], slots: set[int]) -> list[Problem]:
    """A category whose framework expects declared leaves (some node holds published ones, or
    some unit of the category has a declaration) warns about its units without published targets:
    they have nothing under those nodes."""
    out: list[Problem] = []
    expecting_by_slot = {n.scheme_id for s in schemes for n in s.indicators.all() if n.pk in slots}
    declaring = set(
        # .order_by(): the model's default ordering would join the category and unit into the
        # DISTINCT and return every declaration (10,000 in a province) instead of the categories.
        Declaration.objects.filter(cycle=cycle)
        .values_list("unit__category_id", flat=True)
        .order_by()
        .distinct()
    )
    published = set(
        Declaration.objects.filter(cycle=cycle, published_version__isnull=False).values_list(
            "unit_id", flat=True
        )
    )
    for scheme in schemes:
        if scheme.pk not in expecting_by_slot and scheme.category_id not in declaring:
            continue
        missing = list(
            Unit.objects.filter(is_active=True, category_id=scheme.category_id)
            .exclude(pk__in=published)
            .order_by("code")
            .values_list("name", flat=True)
        )
        if missing:
            out.append(
                Problem(
                    WARNING,
                    "no_declaration",
                    _(
                        "类别“%(category)s”的框架指标需要各单位申报目标，但 %(n)d 个单位尚未公布目标"
                        "（如 %(units)s），这些单位在相应框架指标下没有申报指标，将按未填报计分"
                    )
                    % {"category": scheme.category.name, "n": len(missing), "units": _units(missing)},
                    reverse("schemes:cycle_detail", args=[cycle.pk]) + "#stages",
                )
            )
    return out


def _declared_rule_problems(cycle: Cycle) -> list[Problem]:
    """Published declared leaves whose rule is unknown or whose parameters cannot work: one
    problem per distinct (rule, parameters), naming a few units and targets."""
    leaves = DeclaredIndicator.objects.filter(
        declaration__cycle=cycle, declaration__published_version__isnull=False, children__isnull=True
    )
    out: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    link = reverse("facts:declared_unit_list") + f"?year={cycle.year}"
    for rule_type, params in leaves.values_list("rule_type", "rule_params").distinct().order_by("rule_type"):
        key = (rule_type, repr(sorted((params or {}).items())))
        if key in seen:
            continue
        seen.add(key)
        if rule_type in INDICATOR_RULES:
            messages = [message for _param, message in rule_param_problems(rule_type, params or {})]
        else:
            messages = [_("计分规则未设置或不在规则库中")]
        if not messages:
            continue
        examples = list(
            leaves.filter(rule_type=rule_type, rule_params=params)
            .order_by("declaration__unit__code", "id")
            .values_list("declaration__unit__name", "name")[: SAMPLE + 1]
        )
        named = _units([f"{unit}“{name}”" for unit, name in examples])
        for message in messages:
            out.append(
                Problem(
                    ERROR,
                    "declared_rule",
                    _("申报指标（如 %(leaves)s）：%(m)s") % {"leaves": named, "m": message},
                    link,
                )
            )
    return out


def _entity_problems(cycle: Cycle, schemes: list[Scheme]) -> list[Problem]:
    out: list[Problem] = []
    assessed = {s.category_id for s in schemes}
    counts = dict(
        Unit.objects.filter(is_active=True, category_id__in=assessed)
        .values_list("category_id")
        .annotate(n=Count("id"))
        .values_list("category_id", "n")
    )
    for scheme in schemes:
        if not counts.get(scheme.category_id):
            out.append(
                Problem(
                    WARNING,
                    "no_entities",
                    _("类别“%(category)s”没有参加考核的单位，%(scheme)s不会产生结果")
                    % {"category": scheme.category.name, "scheme": scheme.name},
                    reverse("organisation:unit_list"),
                )
            )
    outside = ~Q(unit__is_active=True, unit__category_id__in=assessed)
    for model, label, link in (
        (IndicatorResult, _("指标结果"), reverse("facts:indicator_list")),
        (EvaluationScore, _("测评得分"), reverse("facts:score_list")),
        (Adjustment, _("加减分"), reverse("facts:adjustment_list")),
    ):
        rows = model.objects.filter(cycle=cycle, unit__isnull=False).filter(outside)
        n = rows.count()
        if n:
            names = list(
                rows.order_by("unit__code").values_list("unit__name", flat=True).distinct()[: SAMPLE + 1]
            )
            out.append(
                Problem(
                    WARNING,
                    "unknown_entities",
                    _(
                        "%(n)d 条%(what)s属于本周期不参加考核的单位（如 %(units)s：已停用或其类别没有考核方案），计分时将忽略"
                    )
                    % {"n": n, "what": label, "units": _units(names)},
                    link,
                )
            )
    return out


_INDICATOR_WHERE = re.compile(r"^indicator I(\d+)$")


def describe_scoring_error(exc: ScoringError, cycle: Cycle | None = None) -> str:
    """The engine's refusal in Chinese: the indicator by its category, component and path (never
    its internal id) and the parameter by its label."""
    match = _INDICATOR_WHERE.match(exc.where)
    where = exc.where
    rule = ""
    if match:
        node = (
            IndicatorNode.objects.select_related("scheme__category", "component")
            .filter(pk=int(match[1]))
            .first()
        )
        if node is not None:
            nodes = {
                n.pk: n
                for n in IndicatorNode.objects.filter(scheme_id=node.scheme_id).only("name", "parent_id")
            }
            where, rule = _where(node.scheme, node, nodes), node.rule_type
    if exc.param and rule in INDICATOR_RULES:
        return _("%(where)s：参数“%(field)s”有误（%(detail)s）") % {
            "where": where,
            "field": param_label(rule, exc.param),
            "detail": exc.message,
        }
    return _("计分引擎拒绝计算：%(where)s：%(detail)s") % {"where": where, "detail": exc.message}


def preflight(cycle: Cycle, *, engine: bool = True) -> list[Problem]:
    """Return every problem of ``cycle`` that a scoring run would trip over, errors first.

    ``engine=False`` skips the last check (the engine parsing the whole scheme, ~1.5 s at
    prefecture scale): the scoring job passes it, because ``run_compute`` parses the scheme anyway
    and its refusal is reported in the same words."""
    try:
        assert_cycle_editable(cycle)
    except CycleLocked as exc:
        return [
            Problem(ERROR, "closed", " ".join(exc.messages), reverse("schemes:cycle_detail", args=[cycle.pk]))
        ]
    schemes = list(
        Scheme.objects.filter(cycle=cycle)
        .select_related("category")
        .prefetch_related(
            "components", Prefetch("indicators", queryset=IndicatorNode.objects.only(*_NODE_FIELDS))
        )
        .order_by("category__order", "category__code")
    )
    if not schemes:
        return [
            Problem(
                ERROR,
                "no_scheme",
                _("%(cycle)s还没有考核方案，无法计分") % {"cycle": cycle.name},
                reverse("schemes:cycle_detail", args=[cycle.pk]),
            )
        ]
    problems: list[Problem] = []
    scheme_of = {s.pk: s for s in schemes}
    components = {c.pk: c for s in schemes for c in s.components.all()}
    nodes: dict[int, IndicatorNode] = {}
    for scheme in schemes:
        for node in scheme.indicators.all():
            node.component = components[node.component_id]
            nodes[node.pk] = node
    parents = {n.parent_id for n in nodes.values() if n.parent_id is not None}
    slots = _slots(cycle)
    leaves = {pk: n for pk, n in nodes.items() if pk not in parents and pk not in slots}
    by_scheme: dict[int, list[IndicatorNode]] = defaultdict(list)
    for leaf in sorted(leaves.values(), key=lambda n: (n.level, n.order, n.pk)):
        by_scheme[leaf.scheme_id].append(leaf)
    for scheme in schemes:
        problems += _scheme_problems(scheme, by_scheme[scheme.pk], nodes)
    problems += _grade_problems(scheme_of, leaves, nodes, cycle)
    problems += _target_problems(scheme_of, leaves, nodes, cycle)
    problems += _entity_problems(cycle, schemes)
    problems += _declaration_problems(cycle, schemes, slots)
    problems += _declared_rule_problems(cycle)
    if engine and not any(p.is_error for p in problems):
        problems += _engine_problems(cycle)
    return sorted(problems, key=lambda p: p.severity != ERROR)


def _engine_problems(cycle: Cycle) -> list[Problem]:
    from jixiao.results.engine_io import scheme_dict
    from jixiao.scoring.scheme import parse_scheme

    raw: dict[str, Any] = scheme_dict(cycle)
    try:
        parse_scheme(raw)
    except ScoringError as exc:
        return [
            Problem(
                ERROR,
                "engine",
                describe_scoring_error(exc, cycle),
                reverse("schemes:cycle_detail", args=[cycle.pk]),
            )
        ]
    return []
