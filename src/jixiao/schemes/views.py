"""Scheme pages: cycles, schemes with components and grading policies, the indicator tree editor
and the indicator library (M2, M3).

Everyone logged in reads; a unit-scoped user (liaison, lead department, official) sees only the
schemes of their unit's category or those naming their unit as lead unit, and gets a 404 for
others. Only the office configures (everything else, auditors included, gets 403 on every form).

The tree editor works with htmx: add/edit/move/delete answer an htmx request with the re-rendered
tree fragment (``#tree-editor``) and a plain POST with a redirect, so it also works without JS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from jixiao.accounts.audit import snapshot
from jixiao.accounts.models import User
from jixiao.accounts.permissions import office_required, request_user
from jixiao.schemes import lifecycle, services, tree_services
from jixiao.schemes.forms import (
    ComponentForm,
    CycleForm,
    CycleReopenForm,
    GradeLevelForm,
    GradingPolicyForm,
    GradingRuleForm,
    IndicatorForm,
    LibraryEntryForm,
    LibraryPickForm,
    SchemeCopyForm,
    SchemeForm,
)
from jixiao.schemes.models import (
    MAX_LEVEL,
    Component,
    Cycle,
    CycleStage,
    CycleStatus,
    GradeLevel,
    GradingPolicy,
    GradingRule,
    IndicatorNode,
    LibraryEntry,
    LibraryKind,
    Scheme,
    ZoneWeight,
)
from jixiao.schemes.rule_types import INDICATOR_RULES
from jixiao.schemes.selectors import (
    ComponentTree,
    TreeNode,
    component_weight_checks,
    find_tree_node,
    indicator_forest,
    level1_of,
    stage_timeline,
    tree_paging,
    weight_problems,
)
from jixiao.web import crud
from jixiao.web.crud import post_action

M = TypeVar("M", bound=models.Model)
View = Callable[..., HttpResponse]


def office_only(view: View) -> View:
    """Login first (anonymous → login page), then only the office (others → 403)."""
    return login_required(office_required(view))


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _visible_schemes(user: User) -> QuerySet[Scheme]:
    """Schemes ``user`` may read: all for office/leaders/auditors, else their category's and
    those where their unit leads an indicator."""
    schemes = Scheme.objects.select_related("cycle", "category")
    if user.sees_all_units:
        return schemes
    if user.unit_id is None:
        return schemes.none()
    return schemes.filter(
        Q(category__units__pk=user.unit_id) | Q(indicators__lead_unit_id=user.unit_id)
    ).distinct()


def _scheme_for_read(request: HttpRequest, pk: int) -> Scheme:
    return get_object_or_404(_visible_schemes(request_user(request)), pk=pk)


def _save_form(
    request: HttpRequest,
    *,
    form: forms.ModelForm[M],
    before: dict[str, Any] | None,
    title: str,
    success_url: str,
    cancel_url: str,
) -> HttpResponse:
    """Validate a bound (POST) or show an unbound ModelForm; save via the audited services."""
    return crud.save_model_form(
        request,
        form=form,
        before=before,
        template="schemes/form.html",
        context={"title": title, "cancel_url": cancel_url},
        success_url=success_url,
        save=services.scheme_part_save,
    )


def _delete(
    request: HttpRequest, *, instance: models.Model, success_url: str, cancel_url: str
) -> HttpResponse:
    return crud.confirm_delete(
        request,
        instance=instance,
        template="schemes/confirm_delete.html",
        success_url=success_url,
        cancel_url=cancel_url,
        delete=services.scheme_part_delete,
    )


# --- cycles ------------------------------------------------------------------------------------


def _indicators_with_zone_weights() -> QuerySet[IndicatorNode]:
    # The weight check reads each node's zone weights: one query for all, none per scheme.
    return IndicatorNode.objects.select_related("lead_unit").prefetch_related(
        Prefetch("zone_weights", queryset=ZoneWeight.objects.select_related("zone"))
    )


def _stage_label(stage: str | None) -> str:
    return str(CycleStage(stage).label) if stage else ""


@login_required
def cycle_list(request: HttpRequest) -> HttpResponse:
    cycles = Cycle.objects.annotate(scheme_count=models.Count("schemes"))
    return render(request, "schemes/cycle_list.html", {"cycles": cycles})


@office_only
def cycle_create(request: HttpRequest) -> HttpResponse:
    form = CycleForm(request.POST or None)
    url = reverse("schemes:cycle_list")
    return _save_form(
        request, form=form, before=None, title=_("新建考核周期"), success_url=url, cancel_url=url
    )


@office_only
def cycle_edit(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_object_or_404(Cycle, pk=pk)
    before = snapshot(cycle)
    url = reverse("schemes:cycle_detail", args=[cycle.pk])
    form = CycleForm(request.POST or None, instance=cycle)
    return _save_form(
        request, form=form, before=before, title=_("编辑考核周期"), success_url=url, cancel_url=url
    )


@login_required
def cycle_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_object_or_404(Cycle, pk=pk)
    user = request_user(request)
    schemes = list(
        _visible_schemes(user)
        .filter(cycle=cycle)
        .prefetch_related(
            Prefetch("components", queryset=Component.objects.order_by("order", "id")),
            Prefetch("indicators", queryset=_indicators_with_zone_weights()),
        )
        .order_by("category__order", "category__code")
    )
    # The weight check reads the prefetched rows: no query per scheme.
    rows = [{"scheme": s, "problems": weight_problems(scheme=s)} for s in schemes]
    can_manage = user.is_office and user.can_write
    return render(
        request,
        "schemes/cycle_detail.html",
        {
            "cycle": cycle,
            "rows": rows,
            "stages": stage_timeline(cycle=cycle, allows=lifecycle.STAGE_ALLOWS),
            "next_stage": _stage_label(lifecycle.next_stage(cycle.stage)),
            "previous_stage": _stage_label(lifecycle.previous_stage(cycle.stage)),
            "can_move_stage": can_manage and cycle.status == CycleStatus.OPEN,
            "previous": tree_services.previous_cycle(cycle=cycle),
            "cycle_locked": lifecycle.is_locked(cycle),
            "can_edit": user.is_office and user.can_write and not lifecycle.is_locked(cycle),
            "can_manage": user.is_office and user.can_write,
        },
    )


@office_only
@require_POST
def cycle_copy(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_object_or_404(Cycle, pk=pk)
    return post_action(
        request,
        lambda: tree_services.cycle_copy_previous(actor=request_user(request), cycle=cycle),
        done=lambda copies: _("已复制 %(n)s 个方案") % {"n": len(copies)},
        to=reverse("schemes:cycle_detail", args=[cycle.pk]),
    )


def _cycle_action(request: HttpRequest, pk: int, action: Callable[..., Cycle], done: str) -> HttpResponse:
    cycle = get_object_or_404(Cycle, pk=pk)
    return post_action(
        request,
        lambda: action(actor=request_user(request), cycle=cycle),
        done=done % {"cycle": cycle.name},
        to=reverse("schemes:cycle_detail", args=[cycle.pk]),
    )


@office_only
@require_POST
def cycle_open(request: HttpRequest, pk: int) -> HttpResponse:
    return _cycle_action(request, pk, lifecycle.cycle_open, _("%(cycle)s已开始"))


@office_only
@require_POST
def cycle_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _cycle_action(request, pk, lifecycle.cycle_close, _("%(cycle)s已结束，数据已锁定为只读"))


@office_only
def cycle_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_object_or_404(Cycle, pk=pk)
    form = CycleReopenForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                lifecycle.cycle_reopen(
                    actor=request_user(request), cycle=cycle, reason=form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("%(cycle)s已重新开启") % {"cycle": cycle.name})
                return redirect("schemes:cycle_detail", pk=cycle.pk)
        messages.error(request, _("保存失败，请更正下列错误"))
    return render(
        request,
        "schemes/form.html",
        {
            "form": form,
            "title": _("重新开启%(cycle)s") % {"cycle": cycle.name},
            "cancel_url": reverse("schemes:cycle_detail", args=[cycle.pk]),
            "submit_label": _("重新开启"),
        },
    )


@office_only
def cycle_delete(request: HttpRequest, pk: int) -> HttpResponse:
    cycle = get_object_or_404(Cycle, pk=pk)
    detail = reverse("schemes:cycle_detail", args=[cycle.pk])
    if request.method == "POST":
        try:
            lifecycle.cycle_delete(actor=request_user(request), cycle=cycle)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(detail)
        messages.success(request, _("已删除：%(obj)s") % {"obj": cycle})
        return redirect("schemes:cycle_list")
    return render(
        request,
        "schemes/confirm_delete.html",
        {
            "object": cycle,
            "cancel_url": detail,
            "dependants": lifecycle.cycle_dependants(cycle),
            "scheme_count": cycle.schemes.count(),
        },
    )


# --- schemes -----------------------------------------------------------------------------------


@office_only
def scheme_create(request: HttpRequest, cycle_pk: int) -> HttpResponse:
    cycle = get_object_or_404(Cycle, pk=cycle_pk)
    url = reverse("schemes:cycle_detail", args=[cycle.pk])
    form = SchemeForm(request.POST or None, instance=Scheme(cycle=cycle))
    return _save_form(
        request, form=form, before=None, title=_("新建考核方案"), success_url=url, cancel_url=url
    )


@office_only
def scheme_edit(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = get_object_or_404(Scheme, pk=pk)
    before = snapshot(scheme)
    url = reverse("schemes:scheme_detail", args=[scheme.pk])
    form = SchemeForm(request.POST or None, instance=scheme)
    return _save_form(
        request, form=form, before=before, title=_("编辑考核方案"), success_url=url, cancel_url=url
    )


@office_only
def scheme_delete(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = get_object_or_404(Scheme, pk=pk)
    return _delete(
        request,
        instance=scheme,
        success_url=reverse("schemes:cycle_detail", args=[scheme.cycle_id]),
        cancel_url=reverse("schemes:scheme_detail", args=[scheme.pk]),
    )


@office_only
def scheme_copy(request: HttpRequest, pk: int) -> HttpResponse:
    """Copy one scheme into a chosen cycle (not closed) and unit category."""
    source = get_object_or_404(Scheme.objects.select_related("cycle", "category"), pk=pk)
    form = SchemeCopyForm(request.POST or None, initial={"category": source.category_id})
    if request.method == "POST":
        if form.is_valid():
            try:
                copy = services.scheme_copy(
                    actor=request_user(request),
                    source=source,
                    cycle=form.cleaned_data["cycle"],
                    category=form.cleaned_data["category"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("已复制为：%(s)s") % {"s": copy.name})
                return redirect("schemes:scheme_detail", pk=copy.pk)
        messages.error(request, _("复制失败，请更正下列错误"))
    return render(
        request,
        "schemes/form.html",
        {
            "form": form,
            "title": _("复制方案：%(s)s") % {"s": source.name},
            "cancel_url": _scheme_url(source.pk),
            "submit_label": _("复制"),
        },
    )


def _ordered_forest(scheme: Scheme, components: list[Component]) -> list[ComponentTree]:
    """Every component (sub-components after their parent), each with its level-1 indicators."""
    by_component = {tree.component.pk: tree for tree in indicator_forest(scheme=scheme)}
    ordered: list[ComponentTree] = []
    for top in (c for c in components if c.parent_id is None):
        for comp in [top, *(c for c in components if c.parent_id == top.pk)]:
            ordered.append(by_component.get(comp.pk) or ComponentTree(comp, []))
    return ordered


def _label_rules(items: list[TreeNode]) -> None:
    # Nodes store a rule code without model choices; the label comes from the rule catalogue.
    for item in items:
        spec = INDICATOR_RULES.get(item.node.rule_type)
        item.node.rule_label = spec.label if spec else item.node.rule_type  # type: ignore[attr-defined]
        _label_rules(item.children)


def _tree_context(
    request: HttpRequest, scheme: Scheme, flash: str = "", focus: int | None = None
) -> dict[str, Any]:
    user = request_user(request)
    # One read of the components and of the indicators serves the tree and the weight check.
    prefetch_related_objects(
        [scheme],
        Prefetch("components", queryset=Component.objects.order_by("order", "id")),
        Prefetch("indicators", queryset=_indicators_with_zone_weights()),
    )
    components = list(scheme.components.all())
    forest = _ordered_forest(scheme, components)
    for tree in forest:
        _label_rules(tree.roots)
    locked = lifecycle.is_locked(scheme.cycle)
    return {
        **tree_paging(forest, open_root=_open_root(request, forest, focus)),
        "scheme": scheme,
        "forest": forest,
        "problems": weight_problems(scheme=scheme),
        "cycle_locked": locked,
        "can_edit": user.is_office and user.can_write and not locked,
        "can_copy": user.is_office and user.can_write,
        "max_level": MAX_LEVEL,
        "flash": flash,
    }


@login_required
def scheme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scheme = _scheme_for_read(request, pk)
    context = _tree_context(request, scheme)
    components = list(scheme.components.all())
    component_rows = [
        (comp, depth)
        for top in components
        if top.parent_id is None
        for comp, depth in [(top, 0), *((c, 1) for c in components if c.parent_id == top.pk)]
    ]
    policies = scheme.grading_policies.prefetch_related("levels", "rules")
    return render(
        request,
        "schemes/scheme_detail.html",
        {
            **context,
            "component_rows": component_rows,
            "component_checks": component_weight_checks(scheme=scheme),
            "policies": policies,
        },
    )


@login_required
def scheme_tree(request: HttpRequest, pk: int) -> HttpResponse:
    """The tree editor fragment alone (htmx refresh and "cancel")."""
    scheme = _scheme_for_read(request, pk)
    return render(request, "schemes/_tree.html", _tree_context(request, scheme))


# --- components and grading policies -----------------------------------------------------------


def _scheme_url(scheme_id: int, anchor: str = "") -> str:
    return reverse("schemes:scheme_detail", args=[scheme_id]) + (f"#{anchor}" if anchor else "")


@office_only
def component_create(request: HttpRequest, scheme_pk: int) -> HttpResponse:
    scheme = get_object_or_404(Scheme, pk=scheme_pk)
    component = Component(scheme=scheme)
    parent_pk = request.GET.get("parent", "")
    initial = {"parent": int(parent_pk)} if parent_pk.isdigit() else {}
    form = ComponentForm(request.POST or None, instance=component, scheme=scheme, initial=initial)
    url = _scheme_url(scheme.pk, "components")
    return _save_form(
        request, form=form, before=None, title=_("新增考核构成"), success_url=url, cancel_url=url
    )


@office_only
def component_edit(request: HttpRequest, pk: int) -> HttpResponse:
    component = get_object_or_404(Component.objects.select_related("scheme"), pk=pk)
    before = snapshot(component)
    form = ComponentForm(request.POST or None, instance=component, scheme=component.scheme)
    url = _scheme_url(component.scheme_id, "components")
    return _save_form(
        request, form=form, before=before, title=_("编辑考核构成"), success_url=url, cancel_url=url
    )


@office_only
def component_delete(request: HttpRequest, pk: int) -> HttpResponse:
    component = get_object_or_404(Component, pk=pk)
    url = _scheme_url(component.scheme_id, "components")
    return _delete(request, instance=component, success_url=url, cancel_url=url)


@office_only
def policy_create(request: HttpRequest, scheme_pk: int) -> HttpResponse:
    scheme = get_object_or_404(Scheme, pk=scheme_pk)
    form = GradingPolicyForm(request.POST or None, instance=GradingPolicy(scheme=scheme), scheme=scheme)
    url = _scheme_url(scheme.pk, "grading")
    return _save_form(
        request, form=form, before=None, title=_("新增等次政策"), success_url=url, cancel_url=url
    )


@office_only
def policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(GradingPolicy.objects.select_related("scheme"), pk=pk)
    before = snapshot(policy)
    form = GradingPolicyForm(request.POST or None, instance=policy, scheme=policy.scheme)
    url = _scheme_url(policy.scheme_id, "grading")
    return _save_form(
        request, form=form, before=before, title=_("编辑等次政策"), success_url=url, cancel_url=url
    )


@office_only
def policy_delete(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(GradingPolicy, pk=pk)
    url = _scheme_url(policy.scheme_id, "grading")
    return _delete(request, instance=policy, success_url=url, cancel_url=url)


@office_only
def level_create(request: HttpRequest, policy_pk: int) -> HttpResponse:
    policy = get_object_or_404(GradingPolicy, pk=policy_pk)
    next_order = (policy.levels.aggregate(m=models.Max("order"))["m"] or 0) + 1
    form = GradeLevelForm(
        request.POST or None, instance=GradeLevel(policy=policy), initial={"order": next_order}
    )
    url = _scheme_url(policy.scheme_id, "grading")
    return _save_form(request, form=form, before=None, title=_("新增等次"), success_url=url, cancel_url=url)


@office_only
def level_edit(request: HttpRequest, pk: int) -> HttpResponse:
    level = get_object_or_404(GradeLevel.objects.select_related("policy"), pk=pk)
    before = snapshot(level)
    form = GradeLevelForm(request.POST or None, instance=level)
    url = _scheme_url(level.policy.scheme_id, "grading")
    return _save_form(request, form=form, before=before, title=_("编辑等次"), success_url=url, cancel_url=url)


@office_only
def level_delete(request: HttpRequest, pk: int) -> HttpResponse:
    level = get_object_or_404(GradeLevel.objects.select_related("policy"), pk=pk)
    url = _scheme_url(level.policy.scheme_id, "grading")
    return _delete(request, instance=level, success_url=url, cancel_url=url)


@office_only
def rule_create(request: HttpRequest, policy_pk: int) -> HttpResponse:
    policy = get_object_or_404(GradingPolicy, pk=policy_pk)
    form = GradingRuleForm(request.POST or None, instance=GradingRule(policy=policy))
    url = _scheme_url(policy.scheme_id, "grading")
    return _save_form(
        request, form=form, before=None, title=_("新增等次规则"), success_url=url, cancel_url=url
    )


@office_only
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(GradingRule.objects.select_related("policy"), pk=pk)
    before = snapshot(rule)
    form = GradingRuleForm(request.POST or None, instance=rule)
    url = _scheme_url(rule.policy.scheme_id, "grading")
    return _save_form(
        request, form=form, before=before, title=_("编辑等次规则"), success_url=url, cancel_url=url
    )


@office_only
@require_POST
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(GradingRule.objects.select_related("policy"), pk=pk)
    before = snapshot(rule)
    rule.enabled = not rule.enabled
    try:
        services.scheme_part_save(actor=request_user(request), instance=rule, before=before)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        state = _("启用") if rule.enabled else _("停用")
        messages.success(request, _("规则“%(r)s”已%(s)s") % {"r": rule, "s": state})
    return redirect(_scheme_url(rule.policy.scheme_id, "grading"))


@office_only
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(GradingRule.objects.select_related("policy"), pk=pk)
    url = _scheme_url(rule.policy.scheme_id, "grading")
    return _delete(request, instance=rule, success_url=url, cancel_url=url)


# --- the indicator tree editor -----------------------------------------------------------------


def _placement(request: HttpRequest, scheme: Scheme) -> tuple[IndicatorNode | None, Component | None, str]:
    """Where a new node goes, from ``?parent=`` or ``?component=``; and the slot to show its form."""
    parent_pk = request.GET.get("parent", "")
    if parent_pk.isdigit():
        parent = get_object_or_404(IndicatorNode, pk=int(parent_pk), scheme=scheme)
        return parent, parent.component, f"n-{parent.pk}"
    component = get_object_or_404(Component, pk=request.GET.get("component", "0") or 0, scheme=scheme)
    return None, component, f"c-{component.pk}"


def _open_root(request: HttpRequest, forest: list[ComponentTree], focus: int | None) -> int | None:
    """The level-1 node whose subtree is shown: the one holding ``focus`` (the node just written),
    else ``?node=`` of the request or, for htmx, of the page it came from."""
    if focus is not None:
        return level1_of(forest, focus)
    raw = request.GET.get("node", "")
    if not raw and _is_htmx(request) and request.htmx.current_url:  # type: ignore[attr-defined]
        raw = parse_qs(urlsplit(request.htmx.current_url).query).get("node", [""])[0]  # type: ignore[attr-defined]
    return int(raw) if raw.isdigit() else None


def _tree_saved(
    request: HttpRequest, scheme: Scheme, message: str, anchor: str = "", node: int | None = None
) -> HttpResponse:
    """After a tree write: for htmx the fresh fragment (or, for ``node``, only its row and the
    sums it changed), for a plain POST a redirect to the node's page and anchor."""
    if _is_htmx(request):
        context = _tree_context(request, scheme, flash=message, focus=node)
        if node is not None and request.GET.get("row") == "1":
            found = find_tree_node(context["forest"], node)
            if found is not None:
                parent = (
                    None
                    if found.node.parent_id is None
                    else find_tree_node(context["forest"], found.node.parent_id)
                )
                return render(
                    request, "schemes/_node_saved.html", {**context, "item": found, "parent": parent}
                )
        return render(request, "schemes/_tree.html", context)
    messages.success(request, message)
    page = ""
    if node is not None:
        root = level1_of(indicator_forest(scheme=scheme), node)
        page = f"?node={root}" if root is not None else ""
    return redirect(reverse("schemes:scheme_detail", args=[scheme.pk]) + page + f"#{anchor or 'tree-editor'}")


def _tree_refused(request: HttpRequest, scheme: Scheme, error: ValidationError) -> HttpResponse:
    """A tree write the service refused (a closed cycle): the message, nothing changed."""
    message = " ".join(error.messages)
    if _is_htmx(request):
        return render(request, "schemes/_tree.html", _tree_context(request, scheme, flash=message))
    messages.error(request, message)
    return redirect(_scheme_url(scheme.pk, "tree-editor"))


def _node_form(
    request: HttpRequest, *, scheme: Scheme, form: forms.Form, slot: str, title: str, row: int | None = None
) -> HttpResponse:
    """Show a node form: into its slot for htmx (errors re-target the slot), else as a page.
    With ``row`` a saved htmx form replaces only that node's row."""
    action = request.get_full_path()
    if row is not None and "row=1" not in action:
        action += ("&" if "?" in action else "?") + "row=1"
    context = {
        "scheme": scheme,
        "form": form,
        "slot": slot,
        "title": title,
        "action": action,
        "use_htmx": _is_htmx(request),
        "target": f"#node-{row}" if row is not None else "#tree-editor",
    }
    if _is_htmx(request):
        response = render(request, "schemes/_node_form.html", context)
        if request.method == "POST":
            # The form failed: put it back, with its errors, where it was instead of the tree.
            response = reswap(retarget(response, f"#slot-{slot}"), "innerHTML")
        return response
    return render(request, "schemes/node_form_page.html", context)


@office_only
def indicator_add(request: HttpRequest, scheme_pk: int) -> HttpResponse:
    scheme = get_object_or_404(Scheme, pk=scheme_pk)
    parent, component, slot = _placement(request, scheme)
    form = IndicatorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.node_fields()
        try:
            node = tree_services.indicator_create(
                actor=request_user(request),
                scheme=scheme,
                parent=parent,
                component=component,
                name=data["name"],
                weight=data["weight"],
                rule_type=data["rule_type"],
                rule_params=data["rule_params"],
                target_text=data["target_text"],
                code=data["code"],
                kind=data["kind"],
                is_long_term=data["is_long_term"],
                lead_unit=data["lead_unit"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _tree_saved(
                request, scheme, _("已添加指标：%(n)s") % {"n": node.name}, f"node-{node.pk}", node=node.pk
            )
    under = parent.name if parent else (component.name if component else "")
    return _node_form(
        request, scheme=scheme, form=form, slot=slot, title=_("在“%(p)s”下添加指标") % {"p": under}
    )


@office_only
def indicator_library(request: HttpRequest, scheme_pk: int) -> HttpResponse:
    scheme = get_object_or_404(Scheme, pk=scheme_pk)
    parent, component, slot = _placement(request, scheme)
    form = LibraryPickForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        entry: LibraryEntry = form.cleaned_data["entry"]
        try:
            node = services.indicator_add_child(
                actor=request_user(request),
                scheme=scheme,
                parent=parent,
                component=component,
                name=entry.name,
                weight=form.cleaned_data["weight"],
                target_text=entry.description,
                library_entry=entry,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _tree_saved(
                request,
                scheme,
                _("已从指标库添加：%(n)s") % {"n": node.name},
                f"node-{node.pk}",
                node=node.pk,
            )
    under = parent.name if parent else (component.name if component else "")
    return _node_form(
        request, scheme=scheme, form=form, slot=slot, title=_("从指标库添加到“%(p)s”") % {"p": under}
    )


@office_only
def indicator_edit(request: HttpRequest, pk: int) -> HttpResponse:
    node = get_object_or_404(IndicatorNode.objects.select_related("scheme"), pk=pk)
    form = IndicatorForm(request.POST or None, node=node)
    if request.method == "POST" and form.is_valid():
        try:
            services.indicator_update(actor=request_user(request), node=node, fields=form.node_fields())
        except ValidationError as exc:
            # The service failed before saving; reload so the page shows what is stored.
            node.refresh_from_db()
            form.add_error(None, exc)
        else:
            return _tree_saved(
                request,
                node.scheme,
                _("已保存指标：%(n)s") % {"n": node.name},
                f"node-{node.pk}",
                node=node.pk,
            )
    return _node_form(
        request,
        scheme=node.scheme,
        form=form,
        slot=f"n-{node.pk}",
        title=_("编辑指标：%(n)s") % {"n": node.name},
        # A saved edit swaps only this node's row (the reader stays where they were).
        row=node.pk,
    )


@office_only
@require_POST
def indicator_move(request: HttpRequest, pk: int) -> HttpResponse:
    node = get_object_or_404(IndicatorNode.objects.select_related("scheme"), pk=pk)
    direction = -1 if request.POST.get("direction") == "up" else 1
    try:
        services.indicator_move(actor=request_user(request), node=node, direction=direction)
    except ValidationError as exc:
        return _tree_refused(request, node.scheme, exc)
    return _tree_saved(
        request, node.scheme, _("已调整顺序：%(n)s") % {"n": node.name}, f"node-{node.pk}", node=node.pk
    )


@office_only
def indicator_delete(request: HttpRequest, pk: int) -> HttpResponse:
    node = get_object_or_404(IndicatorNode.objects.select_related("scheme"), pk=pk)
    if request.method != "POST":
        return render(
            request,
            "schemes/confirm_delete.html",
            {"object": node, "cancel_url": _scheme_url(node.scheme_id, f"node-{node.pk}"), "subtree": True},
        )
    scheme, name = node.scheme, node.name
    try:
        services.indicator_delete(actor=request_user(request), node=node)
    except ValidationError as exc:
        return _tree_refused(request, scheme, exc)
    return _tree_saved(request, scheme, _("已删除指标：%(n)s") % {"n": name})


# --- the library -------------------------------------------------------------------------------


@login_required
def library_list(request: HttpRequest) -> HttpResponse:
    entries = list(LibraryEntry.objects.select_related("function_zone"))
    for entry in entries:
        spec = INDICATOR_RULES.get(entry.rule_type)
        entry.rule_label = spec.label if spec else entry.rule_type  # type: ignore[attr-defined]
    groups = [(value, label, [e for e in entries if e.kind == value]) for value, label in LibraryKind.choices]
    return render(request, "schemes/library_list.html", {"groups": groups})


def _library_save(request: HttpRequest, *, entry: LibraryEntry, title: str) -> HttpResponse:
    before = None if entry.pk is None else snapshot(entry)
    url = reverse("schemes:library_list")
    form = LibraryEntryForm(request.POST or None, instance=entry)
    if request.method == "POST":
        if form.is_valid():
            try:
                tree_services.library_entry_save(
                    actor=request_user(request), entry=form.apply_rule(), before=before
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("已保存：%(obj)s") % {"obj": entry})
                return redirect(url + f"#{entry.kind}")
        messages.error(request, _("保存失败，请更正下列错误"))
    return render(request, "schemes/library_form.html", {"form": form, "title": title, "cancel_url": url})


@office_only
def library_create(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    entry = LibraryEntry(kind=kind if kind in LibraryKind.values else LibraryKind.BASIC)
    return _library_save(request, entry=entry, title=_("新增指标库条目"))


@office_only
def library_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _library_save(request, entry=get_object_or_404(LibraryEntry, pk=pk), title=_("编辑指标库条目"))


@office_only
def library_delete(request: HttpRequest, pk: int) -> HttpResponse:
    url = reverse("schemes:library_list")
    return _delete(request, instance=get_object_or_404(LibraryEntry, pk=pk), success_url=url, cancel_url=url)
