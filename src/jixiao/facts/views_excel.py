"""Excel import pages for the engine's facts, template downloads, and the score and vote lists."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from typing import IO, Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from jixiao.accounts.permissions import raw_ratings_required, request_user, sees_raw_ratings
from jixiao.facts import selectors
from jixiao.facts.excel import (
    SHEETS,
    SHEETS_BY_KIND,
    XLSX_CONTENT_TYPE,
    FactKind,
    facts_import,
    may_import,
    write_template,
)
from jixiao.facts.excel.declared_kind import TemplateTooLarge
from jixiao.facts.excel.template import Prefill, declared_prefill, results_prefill
from jixiao.facts.models import VoteCount
from jixiao.schemes.config_forms import rating_item_choices
from jixiao.schemes.models import Component, Cycle, RaterGroup
from jixiao.schemes.selectors import cycle_for_page
from jixiao.web.paging import KeysetPage, estimated_count, paginate

# Beyond this an upload is refused before it is read (200,000 score rows are about 8 MB).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# The score list shows this many entities (each with its rows per rater group and item) a page.
SCORE_ENTITIES_PER_PAGE = 10
# The result page lists at most this many errors; the console command prints them all.
MAX_ERRORS_SHOWN = 2_000


def _kind(value: str) -> FactKind:
    try:
        return FactKind(value)
    except ValueError:
        raise Http404 from None


class FactsUploadForm(forms.Form):
    cycle = forms.ModelChoiceField(
        label=gettext_lazy("考核周期"), queryset=Cycle.objects.all(), to_field_name="year", empty_label=None
    )
    file = forms.FileField(
        label=gettext_lazy("Excel 文件（.xlsx）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xlsm," + XLSX_CONTENT_TYPE}),
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("文件过大（上限 %(mb)s MB）") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


@login_required
@require_http_methods(["GET", "POST"])
def import_view(request: HttpRequest, kind: str) -> HttpResponse:
    """GET: cycle chooser and upload form. POST: import, then the counts or every error."""
    fact_kind = _kind(kind)
    user = request_user(request)
    if not may_import(user, fact_kind):
        raise PermissionDenied
    spec = SHEETS_BY_KIND[fact_kind]
    current = cycle_for_page(request.GET.get("year"), has="facts")
    form = FactsUploadForm(
        request.POST or None, request.FILES or None, initial={"cycle": current.year if current else None}
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        cycle = form.cleaned_data["cycle"]
        result = facts_import(
            actor=user, cycle=cycle, kind=fact_kind, source=cast(IO[bytes], upload), filename=upload.name
        )
        unit = _int(request.POST.get("unit"))
        return render(
            request,
            "facts/import_result.html",
            {
                "spec": spec,
                "cycle": cycle,
                "result": result,
                "filename": upload.name,
                "errors_shown": result.errors[:MAX_ERRORS_SHOWN],
                "errors_hidden": max(0, len(result.errors) - MAX_ERRORS_SHOWN),
                # After errors the same form again, for the corrected file.
                "form": FactsUploadForm(initial={"cycle": cycle.year}),
                "unit": unit,
                "back": _back(fact_kind, cycle, unit),
            },
            status=200 if result.ok else 422,
        )
    others = [s for s in SHEETS if s.kind is not fact_kind and may_import(user, s.kind)]
    return render(request, "facts/import.html", {"form": form, "spec": spec, "others": others})


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _back(kind: FactKind, cycle: Cycle, unit: int | None) -> str:
    """Where the declared values came from: the unit's grid, or the list of units."""
    if kind is not FactKind.DECLARED:
        return ""
    if unit is not None:
        return reverse("facts:declared_results", args=[unit]) + f"?year={cycle.year}"
    return reverse("facts:declared_unit_list") + f"?year={cycle.year}"


@login_required
@require_GET
def template_view(request: HttpRequest, kind: str) -> HttpResponseBase:
    """The template of one kind: headers, an example row and the notes sheet; the results and
    declared-values templates instead list the rows the user may import (``?year=``, and for the
    declared values optionally ``category=`` or ``unit=``).

    For those who may import that kind, and for the readers of raw ratings (the office and the
    auditor); nobody else needs the layout of the score and vote sheets.
    """
    spec = SHEETS_BY_KIND[_kind(kind)]
    user = request_user(request)
    if not (may_import(user, spec.kind) or sees_raw_ratings(user)):
        raise PermissionDenied
    prefill: Prefill | None = None
    if spec.kind is FactKind.RESULTS and may_import(user, spec.kind):
        # The results template lists the user's own indicators and units, by their real codes.
        cycle = cycle_for_page(request.GET.get("year"), has="indicators")
        prefill = results_prefill(user=user, cycle=cycle) if cycle is not None else None
    elif spec.kind is FactKind.DECLARED and may_import(user, spec.kind):
        # One row per published declared leaf the user enters, of one category or unit if asked.
        cycle = cycle_for_page(request.GET.get("year"))
        if cycle is not None:
            try:
                prefill = declared_prefill(
                    user=user,
                    cycle=cycle,
                    category_id=_int(request.GET.get("category")),
                    unit_id=_int(request.GET.get("unit")),
                )
            except TemplateTooLarge as exc:
                messages.error(
                    request,
                    _("共 %(n)s 行，超过一个工作表的容量；请选择一个单位类别或单位后再下载")
                    % {"n": f"{exc.rows:,}"},
                )
                return redirect(reverse("facts:declared_unit_list") + f"?year={cycle.year}")
    handle = tempfile.TemporaryFile()  # noqa: SIM115  # FileResponse closes (and so deletes) it
    write_template(handle, spec.kind, prefill)
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=_("%(sheet)s导入模板.xlsx") % {"sheet": spec.name},
        content_type=XLSX_CONTENT_TYPE,
    )


@login_required
@raw_ratings_required
@require_GET
def score_list(request: HttpRequest) -> HttpResponse:
    """Evaluation scores aggregated per entity, rater group and item, a page of entities at a
    time after a cursor (``after``): a province holds ten million ratings, which are neither
    grouped nor counted whole for one page (the total is the planner's estimate there)."""
    user = request_user(request)
    cycle = cycle_for_page(request.GET.get("year"), has="facts")
    group = request.GET.get("group", "")
    entity = request.GET.get("entity", "")
    after = request.GET.get("after", "")
    query = request.GET.get("q", "").strip()
    groups: list[tuple[str, str]] = []
    page: KeysetPage[Mapping[str, Any]] = KeysetPage([], None, True, 0, False)
    if cycle is not None:
        scores = selectors.evaluation_scores(user=user, cycle=cycle, rater_group=group, entity_type=entity)
        entities = selectors.scored_entities(
            scores=scores, after=after, query=query, entity_type=entity, limit=SCORE_ENTITIES_PER_PAGE
        )
        rows = selectors.evaluation_score_summary(
            user=user, cycle=cycle, rater_group=group, entity_type=entity, entities=entities
        )
        # The total is of the records (the filters, not the search, narrow it): none while searching.
        total, approximate = estimated_count(scores) if not query else (None, False)
        page = KeysetPage(list(rows), entities.next_after, not after, total, approximate)
        groups = list(RaterGroup.objects.filter(cycle=cycle).values_list("code", "name"))
    return render(
        request,
        "facts/score_list.html",
        {
            "cycle": cycle,
            "page": page,
            "groups": groups,
            "group_names": dict(groups),
            # Items are rating items, or a ratings component's code when it is rated as a whole.
            "item_names": {
                **dict(Component.objects.filter(scheme__cycle=cycle).values_list("code", "name")),
                **dict(rating_item_choices()),
            },
            "can_import": may_import(user, FactKind.SCORES),
        },
    )


@login_required
@raw_ratings_required
@require_GET
def vote_list(request: HttpRequest) -> HttpResponse:
    """Vote counts (优秀/称职/基本称职/不称职) per official."""
    user = request_user(request)
    cycle = cycle_for_page(request.GET.get("year"), has="facts")
    items = selectors.vote_counts_for(user=user, cycle=cycle) if cycle else VoteCount.objects.none()
    return render(
        request,
        "facts/vote_list.html",
        {
            "cycle": cycle,
            "page": paginate(request, items, per_page=50),
            "can_import": may_import(user, FactKind.VOTES),
        },
    )
