"""Rankings, breakdowns, run history and comparison, and the Excel export of results."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction
from jixiao.accounts.permissions import request_user
from jixiao.results import exports, labels, selectors
from jixiao.results.models import EntityResult, ResultSubject, ScoringRun
from jixiao.schemes.rule_types import INDICATOR_RULES
from jixiao.schemes.selectors import cycle_for_page


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
    request_user(request)
    cycle = cycle_for_page(request.GET.get("year"), has="results")
    return render(request, "results/run_list.html", {"cycle": cycle, "runs": selectors.runs(cycle=cycle)})


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
    category = request.GET.get("category") or (categories[0] if categories else "")
    rows = list(selectors.ranking(run=run, subject=subject, category=category))
    previous = selectors.previous_by_entity(run=run, subject=subject)
    table = [(r, previous.get((r.official_id or 0) if subject == "official" else r.unit_id)) for r in rows]
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
            "subjects": ResultSubject.choices,
        },
    )


@login_required
def breakdown(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    result = get_object_or_404(EntityResult.objects.select_related("run__cycle", "unit", "official"), pk=pk)
    if not selectors.visible_results(user=user, run=result.run).filter(pk=pk).exists():
        raise Http404
    if result.subject == ResultSubject.OFFICIAL and result.official_id != user.official_id:
        # An official's explanation is personal data: reading it is audited.
        audit_record(actor=user, action=AuditAction.VIEW_SENSITIVE, obj=result)
    x = selectors.entity_explanation(result)
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
                **{k: str(v) for k, v in labels.ITEMS.items()},
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
    old, new = (get_object_or_404(ScoringRun, pk=int(i)) for i in ids)
    return render(
        request,
        "results/compare.html",
        {"old": old, "new": new, "changes": selectors.compare(old=old, new=new)},
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
