"""Rankings, breakdowns, run history and comparison, and the Excel export of results."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, User
from jixiao.accounts.permissions import office_required, request_user, write_required
from jixiao.jobs import services as jobs
from jixiao.jobs.models import Job, JobKind
from jixiao.jobs.selectors import active_job, latest_job
from jixiao.results import exports, labels, ranking_export, selectors
from jixiao.results.models import EntityResult, RankingExport, ResultSubject, ScoringRun
from jixiao.results.preflight import preflight
from jixiao.schemes.models import Cycle, CycleStatus
from jixiao.schemes.rule_types import INDICATOR_RULES
from jixiao.schemes.selectors import cycle_for_page
from jixiao.web.paging import paginate

# Rows of a ranking page: the default and the sizes a user may choose.
RANKING_PAGE_SIZE = 100
RANKING_PAGE_SIZES = ("50", "100", "200", "500")


def _run(request: HttpRequest) -> ScoringRun:
    run_id = request.GET.get("run", "")
    if run_id.isdigit():
        return get_object_or_404(ScoringRun.objects.select_related("cycle"), pk=int(run_id))
    cycle = cycle_for_page(request.GET.get("year"), has="results")
    run = selectors.latest_run(cycle=cycle) if cycle else None
    if run is None:
        raise Http404(_("该周期尚未计分"))
    return run


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    cycle = cycle_for_page(request.GET.get("year"), has="results")
    job = None
    if user.is_office and cycle is not None:
        job = active_job(kind=JobKind.COMPUTE, cycle=cycle) or latest_job(kind=JobKind.COMPUTE, cycle=cycle)
    return render(
        request,
        "results/run_list.html",
        {"cycle": cycle, "runs": selectors.runs(cycle=cycle), "job": job},
    )


@login_required
@office_required
@write_required
def run_start(request: HttpRequest) -> HttpResponse:
    """计分: GET shows the pre-flight check; POST queues the scoring job when no error stands and
    every warning was acknowledged."""
    user = request_user(request)
    year = request.POST.get("year") if request.method == "POST" else request.GET.get("year")
    # Without a year, scoring is about the cycle in progress (its first run included), not the
    # latest one that already has results, which may be last year's closed cycle.
    if year:
        cycle = cycle_for_page(year, has="results")
    else:
        open_cycle = Cycle.objects.filter(status=CycleStatus.OPEN).order_by("-year").first()
        cycle = open_cycle or cycle_for_page(None, has="results")
    if cycle is None:
        raise Http404
    problems = preflight(cycle)
    errors = [p for p in problems if p.is_error]
    warnings = [p for p in problems if not p.is_error]
    runs_url = reverse("results:run_list") + f"?year={cycle.year}"
    if request.method == "POST":
        if errors:
            messages.error(request, _("计分前检查发现错误，未开始计分，请先修正"))
        elif warnings and request.POST.get("acknowledge") != "1":
            messages.error(request, _("请勾选“我已了解以上提醒”后再开始计分"))
        else:
            try:
                jobs.job_start(kind=JobKind.COMPUTE, actor=user, cycle=cycle, params={"note": _("页面计分")})
            except ValidationError as exc:  # another run of the cycle is queued or running
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("已开始计分，完成后会通知考核办"))
            return redirect(runs_url)
    return render(
        request,
        "results/run_start.html",
        {
            "cycle": cycle,
            "errors": errors,
            "warnings": warnings,
            "runs_url": runs_url,
            "running": active_job(kind=JobKind.COMPUTE, cycle=cycle),
        },
    )


@login_required
@office_required
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The scoring job's progress panel (polled by htmx every 2 s while the job is active)."""
    job = get_object_or_404(Job.objects.select_related("cycle"), pk=pk, kind=JobKind.COMPUTE)
    response = render(request, "results/_job.html", {"job": job})
    if getattr(request, "htmx", False) and not job.is_active:
        # The run list below the panel changed: reload the page once (it renders without polling).
        response["HX-Refresh"] = "true"
    return response


@login_required
def ranking(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    try:
        run = _run(request)
    except Http404:
        return render(
            request, "results/no_run.html", {"cycle": cycle_for_page(request.GET.get("year"), has="results")}
        )
    if not selectors.may_see_rankings(user):
        # Liaisons and officials go straight to the results that concern them.
        mine = selectors.visible_results(user=user, run=run)
        return render(request, "results/mine.html", {"run": run, "results": mine})
    subject = request.GET.get("subject", ResultSubject.UNIT)
    if subject not in ResultSubject.values:
        raise Http404
    categories = selectors.categories(run=run, subject=subject)
    category = selectors.valid_category(request.GET.get("category", ""), categories)
    query = request.GET.get("q", "").strip()
    sort = selectors.valid_sort(request.GET.get("sort", ""))
    size = (
        int(size_text)
        if (size_text := request.GET.get("size", "")) in RANKING_PAGE_SIZES
        else RANKING_PAGE_SIZE
    )
    # One page of the category: a province's largest has 30,000 officials (4.7 MB rendered whole).
    page = paginate(
        request,
        selectors.ranking(run=run, subject=subject, category=category, query=query, sort=sort),
        per_page=size,
    )
    rows = list(page)
    official = subject == ResultSubject.OFFICIAL
    ids = [(r.official_id or 0) if official else r.unit_id for r in rows]
    previous = selectors.previous_by_entity(run=run, subject=subject, entity_ids=ids)
    table = [(r, previous.get(i)) for r, i in zip(rows, ids, strict=True)]
    component_codes = list(rows[0].components) if rows else []
    names = selectors.component_names(run=run, category=category)
    return render(
        request,
        "results/ranking.html",
        {
            "run": run,
            "subject": subject,
            "categories": list(selectors.category_names(codes=categories).items()),
            "category": category,
            "components": [(c, names.get(c, c)) for c in component_codes],
            "table": table,
            "page": page,
            "total_line": _total_line(page, subject=subject, searching=bool(query)),
            "sorts": _sort_links(request, sort),
            "sort": sort,
            "export_inline": page.paginator.count <= ranking_export.INLINE_ROWS or bool(query),
            "export": ranking_export.latest_export(user=user, run=run),
            "sizes": [int(x) for x in RANKING_PAGE_SIZES],
            "size": size,
            "subjects": ResultSubject.choices,
            "decimals": int(run.parameters.get("score_decimals", 2)),
        },
    )


# The direction of a column's first click: scores and grades best first, the rest ascending.
FIRST_DESCENDING = frozenset({"total"})


def _sort_links(request: HttpRequest, sort: str) -> dict[str, dict[str, str]]:
    """Sortable column → its header link (the page's other parameters kept, back to page 1) and
    its state ("ascending", "descending" or "" for aria-sort)."""
    current, descending = sort.lstrip("-"), sort.startswith("-")
    links: dict[str, dict[str, str]] = {}
    for column in selectors.RANKING_SORTS:
        if column == current:
            state = "descending" if descending else "ascending"
            target = column if descending else f"-{column}"
        else:
            state = ""
            target = f"-{column}" if column in FIRST_DESCENDING else column
        params = request.GET.copy()
        params.pop("page", None)
        params["sort"] = target
        links[column] = {"href": f"?{params.urlencode()}", "state": state}
    return links


def _total_line(page: Page[EntityResult], *, subject: str, searching: bool) -> str:
    """ "本类别共 15,111 名干部，本页第 201–300 条" (numbers grouped for people)."""
    n = f"{page.paginator.count:,}"
    if searching:
        line = _("找到 %(n)s 条") % {"n": n}
    elif subject == ResultSubject.OFFICIAL:
        line = _("本类别共 %(n)s 名干部") % {"n": n}
    else:
        line = _("本类别共 %(n)s 个领导班子") % {"n": n}
    if page.paginator.num_pages > 1:
        line += _("，本页第 %(a)s–%(b)s 条") % {"a": f"{page.start_index():,}", "b": f"{page.end_index():,}"}
    return line


@login_required
def breakdown(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    result = get_object_or_404(EntityResult.objects.select_related("run__cycle", "unit", "official"), pk=pk)
    if not selectors.visible_results(user=user, run=result.run).filter(pk=pk).exists():
        raise Http404
    if result.subject == ResultSubject.OFFICIAL and result.official_id != user.official_id:
        # An official's explanation is personal data: reading it is audited.
        audit_record(actor=user, action=AuditAction.VIEW_SENSITIVE, obj=result)
    x = selectors.shown_explanation(result)  # rater groups below k withheld
    components = selectors.component_names(run=result.run, category=result.category)
    indicator_names = {i["indicator"]: i.get("name", i["indicator"]) for i in x.get("indicators", [])}
    decimals = int(result.run.parameters.get("score_decimals", 2))
    return render(
        request,
        "results/breakdown.html",
        {
            "result": result,
            "x": x,
            "grade_text": labels.grade_text(x, {**components, **indicator_names}),
            "decimals": decimals,
            "value_decimals": f"-{decimals}",  # floatformat: no trailing zeros
            "flag_labels": [labels.FLAGS.get(f, f) for f in result.flags],
            "names": {
                **{k: str(v) for k, v in labels.ADJUSTMENT_KINDS.items()},
                **{k: str(v) for k, v in labels.SANCTION_LEVELS.items()},
                **indicator_names,
                **selectors.item_names(),
                **{k: str(v) for k, v in labels.STATUSES.items()},
                **{k: str(v) for k, v in labels.TIE_BREAK.items()},
                **{code: str(spec.label) for code, spec in INDICATOR_RULES.items()},
                **selectors.rater_group_names(run=result.run),
                **components,
            },
        },
    )


@login_required
def compare(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not selectors.may_see_rankings(user):
        raise PermissionDenied
    ids = [request.GET.get(key, "") for key in ("old", "new")]
    if not all(i.isdigit() for i in ids):
        raise Http404
    old, new = (get_object_or_404(ScoringRun.objects.select_related("cycle"), pk=int(i)) for i in ids)
    changes = selectors.compare(old=old, new=new)
    return render(
        request,
        "results/compare.html",
        {
            "old": old,
            "new": new,
            "changes": changes,
            "category_names": selectors.category_names(codes=sorted({c.result.category for c in changes})),
            "decimals": int(new.parameters.get("score_decimals", 2)),
        },
    )


@login_required
def export_xlsx(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    run = _run(request)
    results = selectors.visible_results(user=user, run=run).order_by("subject", "category", "rank")
    content = exports.results_workbook(run=run, results=results)
    audit_record(
        actor=user, action=AuditAction.EXPORT, obj=run, changes={"rows": results.count(), "format": "xlsx"}
    )
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="results-{run.cycle.year}-{run.number}.xlsx"'
    return response


@login_required
@require_POST
def ranking_export_start(request: HttpRequest) -> HttpResponse:
    """导出本类别 Excel: the whole category in the page's order, sent at once when small, else made
    by the worker (the page then shows its progress and the download link)."""
    user = request_user(request)
    if not selectors.may_see_rankings(user):
        raise PermissionDenied
    run = _run_of_post(request)
    subject = request.POST.get("subject", ResultSubject.UNIT)
    if subject not in ResultSubject.values:
        raise Http404
    category = request.POST.get("category", "")
    if category not in selectors.categories(run=run, subject=subject):
        raise Http404
    sort = selectors.valid_sort(request.POST.get("sort", ""))
    rows = selectors.ranking(run=run, subject=subject, category=category).count()
    if rows <= ranking_export.INLINE_ROWS:
        content = ranking_export.ranking_export_inline(
            actor=user, run=run, subject=subject, category=category, sort=sort
        )
        response = HttpResponse(content, content_type=ranking_export.XLSX)
        response["Content-Disposition"] = (
            f'attachment; filename="{ranking_export.filename(run=run, category=category)}"'
        )
        return response
    try:
        ranking_export.ranking_export_start(
            actor=user, run=run, subject=subject, category=category, sort=sort, rows=rows
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已开始在后台生成 Excel，完成后可在本页下载"))
    return redirect(f"{reverse('results:ranking')}?{request.GET.urlencode()}")


def _run_of_post(request: HttpRequest) -> ScoringRun:
    run_id = request.POST.get("run", "")
    if not run_id.isdigit():
        raise Http404
    return get_object_or_404(ScoringRun.objects.select_related("cycle"), pk=int(run_id))


def _own_ranking_export(user: User, pk: int) -> RankingExport:
    export = get_object_or_404(RankingExport.objects.select_related("run__cycle", "job__created_by"), pk=pk)
    if export.requested_by_id != user.pk or not selectors.may_see_rankings(user):
        raise Http404  # another user's export: as if it did not exist
    return export


@login_required
def ranking_export_file(request: HttpRequest, pk: int) -> HttpResponse:
    """Download a background ranking workbook (its requester only)."""
    user = request_user(request)
    export = _own_ranking_export(user, pk)
    if not export.file:
        raise Http404
    response = HttpResponse(
        ranking_export.ranking_export_download(actor=user, export=export), content_type=ranking_export.XLSX
    )
    name = ranking_export.filename(run=export.run, category=export.category)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def ranking_export_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The background ranking export's job panel (polled by htmx while it runs)."""
    export = _own_ranking_export(request_user(request), pk)
    if export.job is None:
        raise Http404
    response = render(
        request,
        "web/_job_panel.html",
        {"job": export.job, "status_url": reverse("results:ranking_export_status", args=[export.pk])},
    )
    if getattr(request, "htmx", False) and not export.job.is_active:
        response["HX-Refresh"] = "true"
    return response
