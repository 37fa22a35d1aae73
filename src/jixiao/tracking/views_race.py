"""Pages of the monthly ranking, the quarterly race and the quarterly bulletin (/race/)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from jixiao.accounts.models import Role
from jixiao.accounts.permissions import can_edit_unit, office_required, request_user, write_required
from jixiao.hygiene import DESCRIPTION_MAX_LENGTH, OPINION_MAX_LENGTH
from jixiao.jobs.models import Job, JobKind
from jixiao.jobs.selectors import active_job, latest_job
from jixiao.organisation.models import UnitCategory
from jixiao.schemes.lifecycle import is_locked
from jixiao.schemes.models import Cycle
from jixiao.schemes.selectors import cycle_for_page
from jixiao.tracking import bulletin as bulletins
from jixiao.tracking import race as races
from jixiao.tracking import ranking as rankings
from jixiao.tracking.models import Evidence, ExplanationStatus, RaceExplanation, RankingSpan
from jixiao.tracking.models.race import DEFAULT_BOTTOM_COUNT
from jixiao.web.crud import post_action
from jixiao.web.paging import paginate
from jixiao.web.widgets import searchable

RACE_JOBS = (JobKind.MONTHLY_RANKING, JobKind.RACE_RANKING, JobKind.BULLETIN)
QUARTERS = [(q, gettext_lazy("第%(q)d季度") % {"q": q}) for q in range(1, 5)]


def _cycle(request: HttpRequest) -> Cycle | None:
    year = request.POST.get("year") if request.method == "POST" else request.GET.get("year")
    return cycle_for_page(year)


def _job(kind: str, cycle: Cycle | None) -> Job | None:
    if cycle is None:
        return None
    return active_job(kind=kind, cycle=cycle) or latest_job(kind=kind, cycle=cycle)


def _months(cycle: Cycle) -> list[tuple[str, str]]:
    today = timezone.localdate()
    last = 12 if cycle.year < today.year else (today.month if cycle.year == today.year else 0)
    return [(f"{cycle.year}-{m:02d}", _("%(m)d月") % {"m": m}) for m in range(last, 0, -1)]


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """/race/: the monthly rankings (the query string kept)."""
    query = request.GET.urlencode()
    return redirect(reverse("race:ranking_list") + (f"?{query}" if query else ""))


# --- monthly ranking ------------------------------------------------------------------------------


@login_required
def ranking_list(request: HttpRequest) -> HttpResponse:
    """月度排名: the rankings of a cycle the user may see, by month and category."""
    user = request_user(request)
    cycle = _cycle(request)
    items = rankings.visible_rankings(user=user).filter(cycle=cycle, span=RankingSpan.MONTH)
    chosen = rankings.parse_month(request.GET.get("month", ""))
    if chosen is not None:
        items = items.filter(period=chosen)
    office = user.is_office and cycle is not None
    return render(
        request,
        "tracking/race/ranking_list.html",
        {
            "cycle": cycle,
            "page": paginate(request, items),
            "month": f"{chosen:%Y-%m}" if chosen else "",
            "months": _months(cycle) if cycle else [],
            "job": _job(JobKind.MONTHLY_RANKING, cycle) if office else None,
            "may_compute": office and user.can_write and not is_locked(cycle),
        },
    )


@login_required
@office_required
@write_required
@require_POST
def ranking_compute(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    cycle = _cycle(request)
    if cycle is None:
        raise Http404
    chosen = rankings.parse_month(request.POST.get("month", ""))
    if chosen is None:
        messages.error(request, _("请选择月份"))
    else:
        return post_action(
            request,
            lambda: rankings.ranking_start(actor=user, cycle=cycle, period=chosen),
            done=_("已开始计算 %(m)s 月度排名，完成后会通知考核办") % {"m": f"{chosen:%Y-%m}"},
            to=reverse("race:ranking_list") + f"?year={cycle.year}",
        )
    return redirect(reverse("race:ranking_list") + f"?year={cycle.year}")


@login_required
def ranking_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One category's ranking of a month (or a race's quarter): rank, score, movement; paged."""
    user = request_user(request)
    ranking = get_object_or_404(rankings.visible_rankings(user=user), pk=pk)
    page = paginate(request, rankings.ranking_rows(ranking=ranking), per_page=50)
    return render(
        request,
        "tracking/race/ranking_detail.html",
        {
            "ranking": ranking,
            "cycle": ranking.cycle,
            "page": page,
            "may_publish": user.is_office
            and user.can_write
            and not ranking.is_published
            and not is_locked(ranking.cycle),
            "own_unit": user.unit_id if not user.sees_all_units else None,
        },
    )


@login_required
@office_required
@write_required
@require_POST
def ranking_publish(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    ranking = get_object_or_404(rankings.visible_rankings(user=user), pk=pk)
    return post_action(
        request,
        lambda: rankings.ranking_publish(actor=user, ranking=ranking),
        done=_("排名已公布，本类别单位可以查看"),
        to=reverse("race:ranking_detail", args=[ranking.pk]),
    )


@login_required
@office_required
def job_status(request: HttpRequest, pk: int) -> HttpResponse:
    """A ranking, race or bulletin job's progress panel (polled by htmx while active)."""
    job = get_object_or_404(Job.objects.select_related("cycle", "created_by"), pk=pk, kind__in=RACE_JOBS)
    response = render(request, "tracking/race/_job.html", {"job": job})
    if getattr(request, "htmx", False) and not job.is_active:
        response["HX-Refresh"] = "true"
    return response


# --- the quarterly race -------------------------------------------------------------------------


class RaceForm(forms.Form):
    quarter = forms.TypedChoiceField(label=gettext_lazy("季度"), choices=QUARTERS, coerce=int)
    categories = forms.ModelMultipleChoiceField(
        label=gettext_lazy("类别"),
        queryset=UnitCategory.objects.none(),
        widget=searchable(forms.SelectMultiple()),
    )
    bottom_count = forms.IntegerField(
        label=gettext_lazy("末位单位数"),
        min_value=1,
        max_value=20,
        initial=DEFAULT_BOTTOM_COUNT,
        help_text=gettext_lazy("排名最后的这些单位须提交复盘说明"),
    )
    deadline = forms.DateField(
        label=gettext_lazy("复盘说明截止日期"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, cycle: Cycle, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["categories"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = UnitCategory.objects.filter(schemes__cycle=cycle).order_by("order", "pk")
        if not self.is_bound:
            field.initial = list(field.queryset)
            self.fields["deadline"].initial = timezone.localdate() + timedelta(days=10)


def _round_page(request: HttpRequest, cycle: Cycle | None, form: RaceForm | None) -> HttpResponse:
    user = request_user(request)
    items = races.visible_rounds(user=user).filter(cycle=cycle)
    office = user.is_office and cycle is not None
    return render(
        request,
        "tracking/race/round_list.html",
        {
            "cycle": cycle,
            "page": paginate(request, items),
            "form": form,
            "job": _job(JobKind.RACE_RANKING, cycle) if office else None,
        },
    )


@login_required
def round_list(request: HttpRequest) -> HttpResponse:
    """季度赛马: the races of a cycle; the office opens a quarter's race here."""
    user = request_user(request)
    cycle = _cycle(request)
    form = None
    if user.is_office and user.can_write and cycle is not None and not is_locked(cycle):
        form = RaceForm(cycle=cycle)
    return _round_page(request, cycle, form)


@login_required
@office_required
@write_required
@require_POST
def round_open(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    cycle = _cycle(request)
    if cycle is None:
        raise Http404
    form = RaceForm(request.POST, cycle=cycle)
    if form.is_valid():
        try:
            races.race_open(
                actor=user,
                cycle=cycle,
                quarter=form.cleaned_data["quarter"],
                categories=list(form.cleaned_data["categories"]),
                bottom_count=form.cleaned_data["bottom_count"],
                deadline=form.cleaned_data["deadline"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("已发起季度赛马，后台排名完成后将通知末位单位"))
            return redirect(reverse("race:round_list") + f"?year={cycle.year}")
    return _round_page(request, cycle, form)


@login_required
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One category's race: the bottom units, their explanations' states, overdue in red."""
    user = request_user(request)
    race = get_object_or_404(races.visible_rounds(user=user), pk=pk)
    explanations = list(races.round_explanations(race=race))
    readable = {
        e.pk
        for e in explanations
        if races.sees_every_race(user) or (user.unit_id is not None and e.unit_id == user.unit_id)
    }
    return render(
        request,
        "tracking/race/round_detail.html",
        {"race": race, "cycle": race.cycle, "explanations": explanations, "readable": readable},
    )


class ExplanationForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("复盘说明"),
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=gettext_lazy("排名靠后的原因、差距分析与下一步措施"),
    )
    evidence = forms.ModelMultipleChoiceField(
        label=gettext_lazy("佐证材料"),
        queryset=Evidence.objects.none(),
        required=False,
        widget=searchable(forms.SelectMultiple()),
        help_text=gettext_lazy("可选；材料先在本单位佐证材料库上传"),
    )

    def __init__(self, *args: Any, explanation: RaceExplanation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["evidence"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = races.unit_evidence(explanation=explanation)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("审核结论"),
        choices=[("accept", gettext_lazy("通过")), ("return", gettext_lazy("退回修改"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=gettext_lazy("审核意见"),
        max_length=OPINION_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("退回时必填"),
    )


def _explanation_page(
    request: HttpRequest,
    explanation: RaceExplanation,
    form: ExplanationForm | None = None,
    review: ReviewForm | None = None,
) -> HttpResponse:
    user = request_user(request)
    locked = is_locked(explanation.race.cycle)
    may_file = (
        not locked
        and explanation.status in (ExplanationStatus.PENDING, ExplanationStatus.RETURNED)
        and (user.role == Role.LIAISON or user.is_office)
        and can_edit_unit(user, explanation.unit_id)
    )
    may_review = (
        not locked and user.is_office and user.can_write and explanation.status == ExplanationStatus.SUBMITTED
    )
    if may_file and form is None:
        form = ExplanationForm(
            explanation=explanation,
            initial={"text": explanation.text, "evidence": list(explanation.evidence.all())},
        )
    if may_review and review is None:
        review = ReviewForm()
    return render(
        request,
        "tracking/race/explanation_detail.html",
        {
            "e": explanation,
            "race": explanation.race,
            "cycle": explanation.race.cycle,
            "form": form if may_file else None,
            "review": review if may_review else None,
            "evidence": list(explanation.evidence.all()),
        },
    )


@login_required
@write_required
def explanation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """复盘说明: read it; the unit's liaison files it (POST), within the deadline or late."""
    user = request_user(request)
    explanation = get_object_or_404(races.visible_explanations(user=user), pk=pk)
    if request.method != "POST":
        return _explanation_page(request, explanation)
    if not can_edit_unit(user, explanation.unit_id):
        raise Http404
    form = ExplanationForm(request.POST, explanation=explanation)
    if form.is_valid():
        try:
            races.explanation_submit(
                actor=user,
                explanation=explanation,
                text=form.cleaned_data["text"],
                evidence_ids=[e.pk for e in form.cleaned_data["evidence"]],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("复盘说明已提交，等待考核办审核"))
            return redirect("race:explanation_detail", pk=explanation.pk)
    return _explanation_page(request, explanation, form=form)


@login_required
@office_required
@write_required
@require_POST
def explanation_review(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    explanation = get_object_or_404(races.visible_explanations(user=user), pk=pk)
    review = ReviewForm(request.POST)
    if review.is_valid():
        try:
            races.explanation_review(
                actor=user,
                explanation=explanation,
                accept=review.cleaned_data["decision"] == "accept",
                comment=review.cleaned_data["comment"],
            )
        except ValidationError as exc:
            review.add_error(None, exc)
        else:
            messages.success(request, _("审核结果已保存"))
            return redirect("race:explanation_detail", pk=explanation.pk)
    return _explanation_page(request, explanation, review=review)


# --- the quarterly bulletin ---------------------------------------------------------------------


@login_required
def bulletin_list(request: HttpRequest) -> HttpResponse:
    """季度通报: issued bulletins for everyone; drafts and generation for the office."""
    user = request_user(request)
    cycle = _cycle(request)
    office = user.is_office and cycle is not None
    return render(
        request,
        "tracking/race/bulletin_list.html",
        {
            "cycle": cycle,
            "page": paginate(request, bulletins.visible_bulletins(user=user).filter(cycle=cycle)),
            "quarters": QUARTERS,
            "may_generate": office and user.can_write and not is_locked(cycle),
            "job": _job(JobKind.BULLETIN, cycle) if office else None,
        },
    )


@login_required
@office_required
@write_required
@require_POST
def bulletin_generate(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    cycle = _cycle(request)
    if cycle is None:
        raise Http404
    raw = request.POST.get("quarter", "")
    if raw not in {"1", "2", "3", "4"}:
        messages.error(request, _("请选择季度"))
    else:
        return post_action(
            request,
            lambda: bulletins.bulletin_start(actor=user, cycle=cycle, quarter=int(raw)),
            done=_("已开始生成季度通报，完成后会通知考核办"),
            to=reverse("race:bulletin_list") + f"?year={cycle.year}",
        )
    return redirect(reverse("race:bulletin_list") + f"?year={cycle.year}")


@login_required
def bulletin_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    bulletin = get_object_or_404(bulletins.visible_bulletins(user=user), pk=pk)
    context = bulletins.bulletin_context(bulletin=bulletin)
    context["may_publish"] = (
        user.is_office
        and user.can_write
        and bool(bulletin.file)
        and not bulletin.is_published
        and not is_locked(bulletin.cycle)
    )
    return render(request, "tracking/race/bulletin_detail.html", context)


@login_required
def bulletin_download(request: HttpRequest, pk: int) -> FileResponse:
    """The bulletin's PDF, for whoever may read the bulletin; every download is audited."""
    user = request_user(request)
    bulletin = get_object_or_404(bulletins.visible_bulletins(user=user), pk=pk)
    if not bulletin.file:
        raise Http404
    bulletins.bulletin_download_record(actor=user, bulletin=bulletin)
    name = _("%(year)s年第%(q)d季度通报.pdf") % {"year": bulletin.cycle.year, "q": bulletin.quarter}
    return FileResponse(
        bulletin.file.open("rb"), as_attachment=True, filename=name, content_type="application/pdf"
    )


@login_required
@office_required
@write_required
@require_POST
def bulletin_publish(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    bulletin = get_object_or_404(bulletins.visible_bulletins(user=user), pk=pk)
    return post_action(
        request,
        lambda: bulletins.bulletin_publish(actor=user, bulletin=bulletin),
        done=_("季度通报已印发"),
        to=reverse("race:bulletin_detail", args=[bulletin.pk]),
    )
