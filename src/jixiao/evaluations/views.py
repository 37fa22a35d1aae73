"""Pages: the office's events, forms and results, and the public (no login) ballot.

The ballot's code never appears in a URL the server sees: the printed link carries it in the
fragment (``/evaluations/b/#code``), a few lines of script move it into a POST body, and every
later step posts it again in a hidden field. ``sensitive_post_parameters`` keeps it out of
Django's error reports.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_POST

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction
from jixiao.accounts.permissions import office_required, request_user, write_required
from jixiao.evaluations import ballots, closing, selectors, services
from jixiao.evaluations.codes import codes_pdf
from jixiao.evaluations.forms import BallotFormForm, EventForm, IssueCodesForm, RateesForm
from jixiao.evaluations.models import BallotForm, EvaluationEvent, EventGroup, EventStatus, FormKind, Vote
from jixiao.schemes.lifecycle import is_locked
from jixiao.schemes.models import RaterGroup
from jixiao.schemes.selectors import cycle_for_page

# --- the public ballot -----------------------------------------------------------------------

# Rendered blank ballots of open events, per process, keyed by (event key, group id); see
# ballots.ballot_layout for why they cannot go stale.
_CARDS: dict[tuple[uuid.UUID, int], SafeString] = {}
_CARDS_MAX = 500


def _private(response: HttpResponse) -> HttpResponse:
    """Ballot pages hold a code: never cache them, never send a Referer to another site.

    Not ``no-referrer``: with it browsers post forms with ``Origin: null``, which Django's CSRF
    check rightly refuses. A Referer never carries the fragment anyway.
    """
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


def _problem(request: HttpRequest, error: ballots.BallotError) -> HttpResponse:
    return _private(
        render(
            request,
            "evaluations/ballot_problem.html",
            {"message": str(error), "used": isinstance(error, ballots.CodeUsed)},
            status=error.status,
        )
    )


def _ballot_rows(
    layout: ballots.BallotLayout, posted: dict[str, str], missing: set[str]
) -> list[dict[str, Any]]:
    """The ballot as template rows: one card per ratee, one radio group per question."""
    rows = []
    for ratee in layout.ratees:
        questions = []
        for item in ratee.items:
            name = ballots.answer_field(ratee.pk, item.code)
            options = [(str(p.index), p.label, False) for p in ratee.scale]
            if ratee.unknown_label:
                options.append((ballots.UNKNOWN, ratee.unknown_label, True))
            questions.append(
                _question(
                    name, item.label, item.hint, options, posted, f"{ratee.name}·{item.label}" in missing
                )
            )
        if ratee.has_vote:
            name = ballots.vote_field(ratee.pk)
            options = [(str(v.value), str(v.label), False) for v in Vote]
            if ratee.unknown_label:
                options.append((ballots.UNKNOWN, ratee.unknown_label, True))
            label = _("总体评价")
            questions.append(_question(name, label, "", options, posted, f"{ratee.name}·{label}" in missing))
        opinion = None
        if ratee.has_opinion:
            field = ballots.opinion_field(ratee.pk)
            opinion = {"name": field, "value": posted.get(field, "")}
        rows.append(
            {"name": ratee.name, "subtitle": ratee.subtitle, "questions": questions, "opinion": opinion}
        )
    return rows


def _question(
    name: str,
    label: str,
    hint: str,
    options: list[tuple[str, str, bool]],
    posted: dict[str, str],
    missing: bool,
) -> dict[str, Any]:
    chosen = posted.get(name)
    return {
        "name": name,
        "label": label,
        "hint": hint,
        "missing": missing,
        "options": [
            {"value": v, "label": lbl, "unknown": unk, "checked": v == chosen} for v, lbl, unk in options
        ],
    }


@require_GET
def ballot_start(request: HttpRequest) -> HttpResponse:
    """The link target: a tiny page whose script posts the fragment's code to ``ballot_open``."""
    return _private(render(request, "evaluations/ballot_start.html"))


@sensitive_variables("code")
@sensitive_post_parameters("code")
@never_cache
@require_POST
def ballot_open(request: HttpRequest) -> HttpResponse:
    code = request.POST.get("code", "").strip()
    try:
        row = ballots.code_check(code)
    except ballots.BallotError as error:
        return _problem(request, error)
    layout = ballots.ballot_layout(row.group_id, event_key=row.event.key)
    cache_key = (row.event.key, row.group_id)
    cards = _CARDS.get(cache_key)
    if cards is None:
        # The blank cards are the same for every rater of the group: render them once.
        cards = mark_safe(
            render_to_string("evaluations/_ballot_cards.html", {"rows": _ballot_rows(layout, {}, set())})
        )
        if len(_CARDS) >= _CARDS_MAX:
            _CARDS.clear()
        _CARDS[cache_key] = cards
    context = {"layout": layout, "code": code, "cards": cards, "error": ""}
    return _private(render(request, "evaluations/ballot_form.html", context))


@sensitive_variables("code")
@sensitive_post_parameters("code")
@never_cache
@require_POST
def ballot_submit(request: HttpRequest) -> HttpResponse:
    code = request.POST.get("code", "").strip()
    try:
        ballots.ballot_submit(code=code, data=request.POST.dict())
    except ballots.IncompleteBallot as error:
        row = ballots.code_check(code)
        layout = ballots.ballot_layout(row.group_id, event_key=row.event.key)
        context = {
            "layout": layout,
            "code": code,
            "rows": _ballot_rows(layout, request.POST.dict(), set(error.missing)),
            "error": str(error),
        }
        return _private(render(request, "evaluations/ballot_form.html", context, status=error.status))
    except ballots.BallotError as error:
        return _problem(request, error)
    return _private(redirect("evaluations:ballot_thanks", permanent=False))


@require_GET
def ballot_thanks(request: HttpRequest) -> HttpResponse:
    return _private(render(request, "evaluations/ballot_thanks.html"))


# --- the office: events ----------------------------------------------------------------------


@login_required
@office_required
def event_list(request: HttpRequest) -> HttpResponse:
    cycle = cycle_for_page(request.GET.get("year"), has="evaluations")
    events = selectors.events().filter(cycle=cycle) if cycle else selectors.events().none()
    return render(request, "evaluations/event_list.html", {"events": events, "cycle": cycle})


@login_required
@office_required
@write_required
def event_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = EventForm(request.POST or None, initial={"closes_at": timezone.localtime() + timedelta(days=7)})
    if request.method == "POST" and form.is_valid():
        try:
            event = services.event_create_with_cycle_groups(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("已创建测评活动，请选择被测评对象和评价主体"))
            return redirect("evaluations:event_edit", pk=event.pk)
    return render(request, "evaluations/event_form.html", {"form": form})


def _matrix_pairs(request: HttpRequest) -> set[tuple[int, int]]:
    pairs = set()
    for key in request.POST:
        if key.startswith("m-"):
            _m, ratee, group = key.split("-", 2)
            if ratee.isdigit() and group.isdigit():
                pairs.add((int(ratee), int(group)))
    return pairs


@login_required
@office_required
@write_required
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    event = get_object_or_404(EvaluationEvent.objects.select_related("cycle"), pk=pk)
    if event.status not in {EventStatus.DRAFT, EventStatus.OPEN}:
        messages.error(request, _("测评活动已结束，不能修改"))
        return redirect("evaluations:event_detail", pk=pk)
    defaults = services.default_forms_ensure()
    section = request.POST.get("section", "")
    basics = EventForm(
        request.POST if section == "basics" else None,
        editing=True,
        initial={
            "name": event.name,
            "closes_at": timezone.localtime(event.closes_at),
            "flush_batch": event.flush_batch,
            "votes_mode": event.votes_mode,
        },
    )
    ratees_form = RateesForm(
        request.POST if section == "ratees" else None,
        initial={f"form_{k}": f for k, f in defaults.items()},
    )
    rater_groups = list(RaterGroup.objects.filter(cycle_id=event.cycle_id))
    current = {g.rater_group_id: g for g in EventGroup.objects.filter(event=event)}
    try:
        if section == "basics" and basics.is_valid():
            services.event_update(actor=user, event=event, **basics.cleaned_data)
            messages.success(request, _("已保存"))
            return redirect("evaluations:event_edit", pk=pk)
        if section == "groups":
            expected: dict[int, int | None] = {}
            for rg in rater_groups:
                raw = request.POST.get(f"g-{rg.pk}-expected", "").strip()
                on = request.POST.get(f"g-{rg.pk}-on") == "on"
                expected[rg.pk] = (int(raw) if raw.isdigit() else 0) if on else None
            services.event_set_groups(actor=user, event=event, expected=expected)
            messages.success(request, _("已保存评价主体"))
            return redirect("evaluations:event_edit", pk=pk)
        if section == "ratees" and ratees_form.is_valid():
            n = services.event_set_ratees(
                actor=user,
                event=event,
                units=ratees_form.cleaned_data["units"],
                kinds=ratees_form.cleaned_data["kinds"],
                forms=ratees_form.chosen_forms(),
            )
            messages.success(request, _("已设置 %(n)d 个被测评对象") % {"n": n})
            return redirect("evaluations:event_edit", pk=pk)
        if section == "matrix":
            services.event_set_matrix(actor=user, event=event, pairs=_matrix_pairs(request))
            messages.success(request, _("已保存测评关系"))
            return redirect("evaluations:event_edit", pk=pk)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    groups = list(EventGroup.objects.filter(event=event).select_related("rater_group"))
    ratees = selectors.ratees(event)
    matrix = [(r, selectors.ratee_label(r), [(g, g in r.groups.all()) for g in groups]) for r in ratees]
    return render(
        request,
        "evaluations/event_edit.html",
        {
            "event": event,
            "basics": basics,
            "ratees_form": ratees_form,
            "group_rows": [(rg, current.get(rg.pk)) for rg in rater_groups],
            "groups": groups,
            "matrix": matrix,
        },
    )


def _detail_context(event: EvaluationEvent) -> dict[str, Any]:
    ratees = selectors.ratees(event)
    # A closed cycle's event offers no change (the services refuse them anyway).
    locked = is_locked(event.cycle)
    return {
        "event": event,
        "progress": selectors.progress(event),
        "ratees": [(r, selectors.ratee_label(r)) for r in ratees],
        "forms": {r.form for r in ratees},
        "issue_form": IssueCodesForm(),
        "can_issue": event.status in {EventStatus.DRAFT, EventStatus.OPEN} and not locked,
        "cycle_locked": locked,
        "ballot_url": reverse("evaluations:ballot_start"),
    }


@login_required
@office_required
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(EvaluationEvent.objects.select_related("cycle"), pk=pk)
    return render(request, "evaluations/event_detail.html", _detail_context(event))


@login_required
@office_required
def event_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The polled fragment: counts of used codes per group, nothing else."""
    event = get_object_or_404(EvaluationEvent, pk=pk)
    return render(
        request, "evaluations/_progress.html", {"event": event, "progress": selectors.progress(event)}
    )


@login_required
@office_required
@write_required
@require_POST
def event_open(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(EvaluationEvent, pk=pk)
    try:
        services.event_open(actor=request_user(request), event=event)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("测评已开始，测评码现在可以使用"))
    return redirect("evaluations:event_detail", pk=pk)


@login_required
@office_required
@write_required
@require_POST
def event_close(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(EvaluationEvent, pk=pk)
    try:
        event = closing.event_close(actor=request_user(request), event=event)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("evaluations:event_detail", pk=pk)
    messages.success(request, _("测评已结束并完成计票，结果已写入考核数据"))
    return redirect("evaluations:event_results", pk=pk)


@login_required
@office_required
@write_required
@require_POST
def codes_issue(request: HttpRequest, pk: int, group_pk: int) -> HttpResponse:
    """Create codes for a group and return them as a printable PDF — once: only hashes are kept."""
    user = request_user(request)
    group = get_object_or_404(
        EventGroup.objects.select_related("event", "rater_group"), pk=group_pk, event_id=pk
    )
    form = IssueCodesForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("evaluations:event_detail", pk=pk)
    names = form.cleaned_data["name_list"]
    try:
        printed = services.codes_issue(
            actor=user, group=group, count=form.cleaned_data.get("count") or 0, names=names
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("evaluations:event_detail", pk=pk)
    pdf = codes_pdf(
        event_name=group.event.name,
        group_name=group.rater_group.name,
        ballot_url=request.build_absolute_uri(reverse("evaluations:ballot_start")),
        codes=printed,
    )
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        obj=group.event,
        changes={"file": "codes.pdf", "group": group.rater_group.code, "codes": len(printed)},
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="ballot-codes-{pk}-{group.rater_group.code}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@office_required
def event_results(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(EvaluationEvent.objects.select_related("cycle"), pk=pk)
    if event.status != EventStatus.CLOSED:
        raise Http404
    return render(
        request,
        "evaluations/event_results.html",
        {"event": event, "results": selectors.results(event), "vote_labels": selectors.VOTE_LABELS},
    )


# --- the office: ballot forms ----------------------------------------------------------------


@login_required
@office_required
def form_list(request: HttpRequest) -> HttpResponse:
    return render(request, "evaluations/form_list.html", {"forms": selectors.forms(), "kinds": FormKind})


@login_required
@office_required
@write_required
def form_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(BallotForm, pk=pk) if pk else BallotForm(kind=FormKind.MEMBER, has_vote=True)
    form = BallotFormForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            services.ballot_form_save(
                actor=request_user(request),
                form=form.save(commit=False),
                scale=form.cleaned_data["scale_text"],
                items=form.cleaned_data["items_text"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("已保存测评表"))
            return redirect("evaluations:form_list")
    return render(request, "evaluations/form_edit.html", {"form": form, "instance": instance})
