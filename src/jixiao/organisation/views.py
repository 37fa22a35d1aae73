"""Registry pages: lists, details and the office's create/edit/delete forms (M1).

Reads go through :mod:`jixiao.organisation.selectors` (scoped: a liaison sees only their unit and
gets a 404 for anything else); every write goes through the audited services in
:mod:`jixiao.accounts.services`. Only the office configures the registry; auditors only read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, NamedTuple, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from jixiao.accounts import personal
from jixiao.accounts.audit import snapshot
from jixiao.accounts.permissions import office_or_auditor, office_required, request_user
from jixiao.accounts.services import instance_update
from jixiao.organisation import selectors, services
from jixiao.organisation.forms import (
    AppointForm,
    CategoryForm,
    FunctionZoneForm,
    OfficialForm,
    PositionForm,
    RegionForm,
    TeamForm,
    TenureEndForm,
    UnitForm,
)
from jixiao.organisation.models import (
    FunctionZone,
    Layer,
    LeadershipTeam,
    Official,
    Position,
    Region,
    Tenure,
    Unit,
    UnitCategory,
)
from jixiao.web import crud
from jixiao.web.paging import paginate

M = TypeVar("M", bound=models.Model)
View = Callable[..., HttpResponse]
PER_PAGE = 25


def office_only(view: View) -> View:
    """Login first (anonymous → login page), then only the office (others → 403)."""
    return login_required(office_required(view))


def _filters(request: HttpRequest) -> selectors.RegistryFilters:
    get = request.GET
    return selectors.RegistryFilters(
        query=get.get("q", "").strip(),
        category=get.get("category", ""),
        region=get.get("region", ""),
        zone=get.get("zone", ""),
        layer=get.get("layer", ""),
    )


def _save_form(
    request: HttpRequest,
    *,
    form_class: type[forms.ModelForm[M]],
    instance: M,
    title: str,
    success_url: str,
    cancel_url: str,
    prepare: Callable[[M], None] | None = None,
) -> HttpResponse:
    """Show a ModelForm; on a valid POST create or update ``instance`` (audited) and redirect."""
    before = None if instance.pk is None else snapshot(instance)
    form = (
        form_class(request.POST, instance=instance)
        if request.method == "POST"
        else form_class(instance=instance)
    )
    if prepare is not None and request.method == "POST" and form.is_valid():
        prepare(form.instance)
    return crud.save_model_form(
        request,
        form=form,
        before=before,
        template="organisation/form.html",
        context={"title": title, "cancel_url": cancel_url},
        success_url=success_url,
    )


def _delete(
    request: HttpRequest, *, instance: models.Model, success_url: str, cancel_url: str
) -> HttpResponse:
    """Confirm (GET) and delete (POST) ``instance``; refuse when other records still need it."""
    return crud.confirm_delete(
        request,
        instance=instance,
        template="organisation/confirm_delete.html",
        success_url=success_url,
        cancel_url=cancel_url,
    )


# --- lists and details -------------------------------------------------------------------------


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    page = paginate(request, selectors.unit_list(user=user, filters=_filters(request)), per_page=PER_PAGE)
    return render(
        request,
        "organisation/unit_list.html",
        {"page": page, "choices": selectors.filter_choices(), "filters": _filters(request)},
    )


@login_required
def unit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    unit = selectors.unit_get(user=user, pk=pk)
    team = LeadershipTeam.objects.filter(unit=unit).first()
    return render(
        request,
        "organisation/unit_detail.html",
        {
            "unit": unit,
            "team": team,
            "officials": selectors.unit_officials(unit=unit),
            "positions": selectors.unit_positions(unit=unit),
        },
    )


@login_required
def official_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    filters = _filters(request)
    page = paginate(request, selectors.official_list(user=user, filters=filters), per_page=PER_PAGE)
    return render(
        request,
        "organisation/official_list.html",
        {"page": page, "choices": selectors.filter_choices(), "filters": filters, "layers": Layer.choices},
    )


@login_required
def official_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    official = selectors.official_get(user=user, pk=pk)
    if official.birth_date is not None and personal.sees_personal_data(user):
        personal.sensitive_view_record(
            actor=user, obj=official, fields=["birth_date"], where="organisation:official_detail"
        )
    return render(
        request,
        "organisation/official_detail.html",
        {"official": official, "tenures": selectors.official_tenures(official=official)},
    )


def _io_links() -> list[tuple[str, str]]:
    """Links to the Excel import/export pages, skipping any not wired up yet."""
    links = []
    for name, label in [
        ("registry_io:import", _("Excel 导入")),
        ("registry_io:template", _("下载导入模板")),
        ("registry_io:export", _("导出 Excel")),
    ]:
        try:
            links.append((reverse(name), label))
        except NoReverseMatch:
            continue
    return links


@login_required
def registry(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not office_or_auditor(user):
        raise PermissionDenied
    return render(
        request,
        "organisation/registry.html",
        {"overview": selectors.registry_overview(), "io_links": _io_links()},
    )


# --- regions, categories, function zones -------------------------------------------------------


def _registry_url(section: str) -> str:
    return reverse("organisation:registry") + f"#{section}"


class _ReferenceViews(NamedTuple):
    create: Callable[..., HttpResponse]
    edit: Callable[..., HttpResponse]
    delete: Callable[..., HttpResponse]


def _reference_views(
    model: type[models.Model],
    form_class: type[forms.ModelForm[Any]],
    section: str,
    new_title: StrOrPromise,
    edit_title: StrOrPromise,
) -> _ReferenceViews:
    """Create, edit and delete views for a small reference table edited on the registry page
    (regions, unit categories, function zones): the office only, audited, back to its section."""

    @office_only
    def create(request: HttpRequest) -> HttpResponse:
        url = _registry_url(section)
        return _save_form(
            request,
            form_class=form_class,
            instance=model(),
            title=str(new_title),
            success_url=url,
            cancel_url=url,
        )

    @office_only
    def edit(request: HttpRequest, pk: int) -> HttpResponse:
        url = _registry_url(section)
        instance = get_object_or_404(model, pk=pk)
        return _save_form(
            request,
            form_class=form_class,
            instance=instance,
            title=str(edit_title),
            success_url=url,
            cancel_url=url,
        )

    @office_only
    def delete(request: HttpRequest, pk: int) -> HttpResponse:
        url = _registry_url(section)
        return _delete(request, instance=get_object_or_404(model, pk=pk), success_url=url, cancel_url=url)

    return _ReferenceViews(create, edit, delete)


region_create, region_edit, region_delete = _reference_views(
    Region, RegionForm, "regions", gettext_lazy("新增区域"), gettext_lazy("编辑区域")
)
category_create, category_edit, category_delete = _reference_views(
    UnitCategory, CategoryForm, "categories", gettext_lazy("新增单位类别"), gettext_lazy("编辑单位类别")
)
zone_create, zone_edit, zone_delete = _reference_views(
    FunctionZone, FunctionZoneForm, "zones", gettext_lazy("新增功能区"), gettext_lazy("编辑功能区")
)


# --- units and teams ---------------------------------------------------------------------------


@office_only
def unit_create(request: HttpRequest) -> HttpResponse:
    url = reverse("organisation:unit_list")
    return _save_form(
        request, form_class=UnitForm, instance=Unit(), title=_("新增单位"), success_url=url, cancel_url=url
    )


@office_only
def unit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    unit = get_object_or_404(Unit, pk=pk)
    url = reverse("organisation:unit_detail", args=[unit.pk])
    return _save_form(
        request, form_class=UnitForm, instance=unit, title=_("编辑单位"), success_url=url, cancel_url=url
    )


@office_only
def unit_delete(request: HttpRequest, pk: int) -> HttpResponse:
    unit = get_object_or_404(Unit, pk=pk)
    return _delete(
        request,
        instance=unit,
        success_url=reverse("organisation:unit_list"),
        cancel_url=reverse("organisation:unit_detail", args=[unit.pk]),
    )


@office_only
def team_edit(request: HttpRequest, unit_pk: int) -> HttpResponse:
    unit = get_object_or_404(Unit, pk=unit_pk)
    team = LeadershipTeam.objects.filter(unit=unit).first() or LeadershipTeam(
        unit=unit, name=_("%(unit)s领导班子") % {"unit": unit.name}
    )
    url = reverse("organisation:unit_detail", args=[unit.pk])
    return _save_form(
        request, form_class=TeamForm, instance=team, title=_("领导班子"), success_url=url, cancel_url=url
    )


# --- officials, positions, tenures -------------------------------------------------------------


@office_only
def official_create(request: HttpRequest) -> HttpResponse:
    official = Official()
    unit_pk = request.GET.get("unit", "")
    if unit_pk.isdigit():
        official.unit = get_object_or_404(Unit, pk=int(unit_pk))
    url = reverse("organisation:official_list")
    return _save_form(
        request,
        form_class=OfficialForm,
        instance=official,
        title=_("新增领导干部"),
        success_url=url,
        cancel_url=url,
    )


@office_only
def official_edit(request: HttpRequest, pk: int) -> HttpResponse:
    official = get_object_or_404(Official, pk=pk)
    url = reverse("organisation:official_detail", args=[official.pk])
    if request.method == "GET" and official.birth_date is not None:
        # The office's form shows the birth date unmasked: 查询留痕.
        personal.sensitive_view_record(
            actor=request_user(request),
            obj=official,
            fields=["birth_date"],
            where="organisation:official_edit",
        )
    return _save_form(
        request,
        form_class=OfficialForm,
        instance=official,
        title=_("编辑领导干部"),
        success_url=url,
        cancel_url=url,
    )


@office_only
def official_delete(request: HttpRequest, pk: int) -> HttpResponse:
    official = get_object_or_404(Official, pk=pk)
    return _delete(
        request,
        instance=official,
        success_url=reverse("organisation:official_list"),
        cancel_url=reverse("organisation:official_detail", args=[official.pk]),
    )


def _unit_url(unit_id: int) -> str:
    return reverse("organisation:unit_detail", args=[unit_id]) + "#positions"


@office_only
def position_create(request: HttpRequest, unit_pk: int) -> HttpResponse:
    unit = get_object_or_404(Unit, pk=unit_pk)
    url = _unit_url(unit.pk)

    def attach(position: Position) -> None:
        position.unit = unit

    return _save_form(
        request,
        form_class=PositionForm,
        instance=Position(unit=unit),
        title=_("新增职务：%(unit)s") % {"unit": unit},
        success_url=url,
        cancel_url=url,
        prepare=attach,
    )


@office_only
def position_edit(request: HttpRequest, pk: int) -> HttpResponse:
    position = get_object_or_404(Position.objects.select_related("unit"), pk=pk)
    url = _unit_url(position.unit_id)
    return _save_form(
        request,
        form_class=PositionForm,
        instance=position,
        title=_("编辑职务"),
        success_url=url,
        cancel_url=url,
    )


@office_only
def position_delete(request: HttpRequest, pk: int) -> HttpResponse:
    position = get_object_or_404(Position.objects.select_related("unit"), pk=pk)
    url = _unit_url(position.unit_id)
    return _delete(request, instance=position, success_url=url, cancel_url=url)


@office_only
def tenure_appoint(request: HttpRequest, position_pk: int) -> HttpResponse:
    position = get_object_or_404(Position.objects.select_related("unit"), pk=position_pk)
    url = _unit_url(position.unit_id)
    holder = position.tenures.filter(end__isnull=True).select_related("official").first()
    form = AppointForm(request.POST or None, position=position)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.tenure_appoint(
                    actor=request_user(request),
                    position=position,
                    official=form.cleaned_data["official"],
                    start=form.cleaned_data["start"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("任职已登记"))
                return redirect(url)
        messages.error(request, _("保存失败，请更正下列错误"))
    title = _("任命继任者：%(pos)s") if holder else _("任命：%(pos)s")
    return render(
        request,
        "organisation/form.html",
        {"form": form, "title": title % {"pos": position}, "cancel_url": url, "holder": holder},
    )


@office_only
def tenure_end(request: HttpRequest, pk: int) -> HttpResponse:
    tenure = get_object_or_404(Tenure.objects.select_related("position", "official"), pk=pk)
    url = _unit_url(tenure.position.unit_id)
    form = TenureEndForm(request.POST or None, tenure=tenure, initial={"end": date.today()})
    if request.method == "POST":
        if form.is_valid():
            before = snapshot(tenure)
            tenure.end = form.cleaned_data["end"]
            try:
                instance_update(actor=request_user(request), instance=tenure, before=before)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("已结束任职：%(t)s") % {"t": tenure.official})
                return redirect(url)
        messages.error(request, _("保存失败，请更正下列错误"))
    return render(
        request,
        "organisation/form.html",
        {"form": form, "title": _("结束任职：%(t)s") % {"t": tenure}, "cancel_url": url},
    )


@office_only
def tenure_delete(request: HttpRequest, pk: int) -> HttpResponse:
    tenure = get_object_or_404(Tenure.objects.select_related("position"), pk=pk)
    url = _unit_url(tenure.position.unit_id)
    return _delete(request, instance=tenure, success_url=url, cancel_url=url)
