"""Staff pages: surveys, links, QR codes and posters, rate-any-time events and tokens, the sample
monitor, third-party import, pushing into the facts and the opinion inbox."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jixiao.accounts.audit import audit_record
from jixiao.accounts.models import AuditAction, Role, User
from jixiao.accounts.permissions import (
    can_edit_unit,
    office_or_auditor,
    office_required,
    request_user,
    sees_raw_ratings,
    write_required,
)
from jixiao.organisation.models import Unit
from jixiao.schemes.config_forms import rating_item_choices
from jixiao.schemes.lifecycle import is_locked
from jixiao.schemes.models import RaterGroup
from jixiao.schemes.selectors import cycle_for_page
from jixiao.surveys import engine, monitor, ratetime, selectors, services, thirdparty
from jixiao.surveys.forms import (
    EventForm,
    PolicyForm,
    PushForm,
    SurveyForm,
    TargetForm,
    ThirdPartyForm,
    TokenForm,
)
from jixiao.surveys.models import EventChannel, ServiceToken, Survey, SurveyTarget, ThirdPartyImport
from jixiao.surveys.poster import poster_pdf, public_link, qr_svg
from jixiao.web.paging import paginate
from jixiao.web.workbooks import Limits


@login_required
def survey_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    cycle = cycle_for_page(request.GET.get("year"), has="surveys")
    surveys = selectors.visible_surveys(user)
    return render(
        request,
        "surveys/survey_list.html",
        {
            "cycle": cycle,
            "page": paginate(request, surveys.filter(cycle=cycle) if cycle else surveys.none()),
            "group_names": dict(RaterGroup.objects.filter(cycle=cycle).values_list("code", "name")),
            "push_form": PushForm() if user.is_office else None,
        },
    )


@login_required
@office_required
@write_required
def survey_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    form = SurveyForm(request.POST or None, with_units=True)
    if request.method == "POST" and form.is_valid():
        try:
            survey = services.survey_create(
                actor=user,
                data=form.data_object(),
                unit_ids=[u.pk for u in form.cleaned_data.get("units", [])],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("已创建调查“%(t)s”") % {"t": survey.title})
            return redirect("surveys:survey_detail", pk=survey.pk)
    return render(request, "surveys/survey_form.html", {"form": form, "survey": None})


@login_required
@office_required
@write_required
def survey_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    survey = get_object_or_404(Survey, pk=pk)
    form = SurveyForm(request.POST or None, survey=survey)
    if request.method == "POST" and form.is_valid():
        try:
            services.survey_update(actor=user, survey=survey, data=form.data_object())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("surveys:survey_detail", pk=survey.pk)
    return render(request, "surveys/survey_form.html", {"form": form, "survey": survey})


def _visible_survey(user: User, pk: int) -> Survey:
    survey = selectors.visible_surveys(user).filter(pk=pk).first()
    if survey is None:
        raise Http404
    return survey


@login_required
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    survey = _visible_survey(user, pk)
    targets = list(selectors.visible_targets(user, survey))
    stats = selectors.survey_stats(survey, unit_id=None if user.sees_all_units else user.unit_id)
    rows = [
        (t, public_link(request, t), stats.by_target.get(t.pk, 0), stats.suspect_by_target.get(t.pk, 0))
        for t in targets
    ]
    # A closed cycle's survey offers no change (the services refuse them anyway).
    locked = is_locked(survey.cycle)
    may_change = user.is_office and user.can_write and not locked
    return render(
        request,
        "surveys/survey_detail.html",
        {
            "survey": survey,
            "rater_group_name": RaterGroup.objects.filter(cycle_id=survey.cycle_id, code=survey.rater_group)
            .values_list("name", flat=True)
            .first()
            or survey.rater_group,
            "item_names": dict(rating_item_choices()),
            "rows": rows,
            "stats": stats,
            # Suspect counts hint at who stuffed a link: the office and the auditor only.
            "show_suspect": office_or_auditor(user),
            # Citizens' ratings of a unit and its leaders are raw ratings: the office and the
            # auditor only; the unit reads them through the results pages (withheld below k).
            "show_ratings": sees_raw_ratings(user),
            "target_form": TargetForm() if may_change else None,
            "may_change": may_change,
            "cycle_locked": locked,
        },
    )


@login_required
@office_required
@write_required
@require_POST
def target_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    survey = get_object_or_404(Survey, pk=pk)
    form = TargetForm(request.POST)
    if form.is_valid():
        try:
            services.target_add(
                actor=user,
                survey=survey,
                unit=form.cleaned_data["unit"],
                official=form.cleaned_data["official"],
                service_point=form.cleaned_data["service_point"],
            )
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, _("已添加调查点"))
    else:
        messages.error(request, _("请选择单位"))
    return redirect("surveys:survey_detail", pk=survey.pk)


@login_required
@office_required
@write_required
@require_POST
def target_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    target = get_object_or_404(SurveyTarget, pk=pk)
    try:
        services.target_set_active(actor=request_user(request), target=target, active=not target.is_active)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("surveys:survey_detail", pk=target.survey_id)


def _visible_target(user: User, pk: int) -> SurveyTarget:
    target = get_object_or_404(SurveyTarget.objects.select_related("survey", "unit", "official"), pk=pk)
    if not (user.sees_all_units or target.unit_id == user.unit_id):
        raise Http404
    return target


@login_required
def target_qr(request: HttpRequest, pk: int) -> HttpResponse:
    target = _visible_target(request_user(request), pk)
    response = HttpResponse(qr_svg(public_link(request, target)), content_type="image/svg+xml")
    response["Content-Disposition"] = f'inline; filename="qr-{target.token}.svg"'
    return response


@login_required
def target_poster(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    target = _visible_target(user, pk)
    pdf = poster_pdf(request, target)
    audit_record(actor=user, action=AuditAction.EXPORT, obj=target, object_repr=f"调查海报 {target}"[:200])
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="poster-{target.token}.pdf"'
    return response


@login_required
@office_required
@write_required
@require_POST
def push_to_facts(request: HttpRequest) -> HttpResponse:
    form = PushForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择考核周期"))
        return redirect("surveys:survey_list")
    try:
        report = engine.cycle_push_to_facts(cycle=form.cleaned_data["cycle"], actor=request_user(request))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(
            request,
            _("已计入测评得分：%(s)d 份调查 %(a)d 条答题，随时评 %(r)d 条")
            % {"s": report.surveys, "a": report.survey_rows, "r": report.rating_rows},
        )
    return redirect("surveys:survey_list")


@login_required
def event_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    may_record = user.is_office or (user.role == Role.LIAISON and user.unit_id is not None)
    form = (
        EventForm(unit_id=None if user.is_office else user.unit_id) if may_record and user.can_write else None
    )
    return render(
        request,
        "surveys/event_list.html",
        {
            "page": paginate(request, selectors.visible_events(user)),
            "form": form,
            "now": timezone.now(),
            # One citizen's rating of a named official or unit: the office and the auditor only.
            "show_ratings": sees_raw_ratings(user),
        },
    )


@login_required
@write_required
def event_create(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not (user.is_office or (user.role == Role.LIAISON and user.unit_id is not None)):
        raise PermissionDenied
    form = EventForm(request.POST or None, unit_id=None if user.is_office else user.unit_id)
    link = None
    if request.method == "POST" and form.is_valid():
        unit: Unit = form.cleaned_data["unit"]
        if not can_edit_unit(user, unit.pk):
            raise PermissionDenied
        try:
            recorded = ratetime.event_record(
                unit=unit,
                official=form.cleaned_data["official"],
                service=form.cleaned_data["service"],
                channel=form.cleaned_data["channel"],
                contact=form.cleaned_data["contact"],
                actor=user,
                base_url=request.build_absolute_uri("/").rstrip("/"),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("已登记服务事件，评价链接 %(d)d 天内有效")
                % {"d": ratetime.rating_policy().link_valid_days},
            )
            # A link sent by SMS/WeChat goes to the citizen only: the rated unit must not hold it.
            link = recorded.link if form.cleaned_data.get("channel") == EventChannel.NONE else None
            form = EventForm(unit_id=None if user.is_office else user.unit_id)
    return render(request, "surveys/event_form.html", {"form": form, "link": link})


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not office_or_auditor(user):
        raise PermissionDenied
    tokens = ServiceToken.objects.select_related("unit", "created_by").order_by("-created_at")
    return render(
        request,
        "surveys/token_list.html",
        {"tokens": tokens, "form": TokenForm() if user.is_office and user.can_write else None},
    )


@login_required
@office_required
@write_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写名称并选择单位"))
        return redirect("surveys:token_list")
    token, raw = services.service_token_create(
        actor=request_user(request), name=form.cleaned_data["name"], unit=form.cleaned_data["unit"]
    )
    # The raw token is shown once, on this response only, and never stored.
    return render(request, "surveys/token_created.html", {"token": token, "raw": raw})


@login_required
@office_required
@write_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ServiceToken, pk=pk)
    services.service_token_revoke(actor=request_user(request), token=token)
    messages.success(request, _("已吊销令牌 %(t)s") % {"t": token})
    return redirect("surveys:token_list")


@login_required
def sample_monitor(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not user.sees_all_units:
        raise PermissionDenied
    policy = ratetime.rating_policy()
    form = PolicyForm(instance=policy) if user.is_office and user.can_write else None
    result = monitor.undersampled(policy=policy)
    return render(
        request,
        "surveys/monitor.html",
        {
            "result": result,
            "policy": policy,
            "form": form,
            "page": paginate(request, result.flags, per_page=100),
        },
    )


@login_required
@office_required
@write_required
@require_POST
def policy_edit(request: HttpRequest) -> HttpResponse:
    policy = ratetime.rating_policy()
    form = PolicyForm(request.POST, instance=policy)
    if form.is_valid():
        services.rating_policy_update(actor=request_user(request), policy=policy, values=form.values())
        messages.success(request, _("已保存随时评设置"))
    else:
        messages.error(request, "；".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("surveys:monitor")


@login_required
def thirdparty_import(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not office_or_auditor(user):
        raise PermissionDenied
    form = ThirdPartyForm(request.POST or None, request.FILES or None) if user.is_office else None
    errors: list[thirdparty.CellError] = []
    if request.method == "POST":
        if form is None or not user.can_write:
            raise PermissionDenied
        if form.is_valid():
            upload = form.cleaned_data["file"]
            outcome = thirdparty.third_party_import(
                actor=user,
                cycle=form.cleaned_data["cycle"],
                # At most one byte past the limit: the import then refuses it by its size.
                content=upload.read(Limits.from_settings().max_bytes + 1),
                filename=upload.name or "",
                rater_group=form.cleaned_data["rater_group"],
            )
            errors = outcome.errors
            if outcome.record is not None:
                messages.success(
                    request,
                    _("已导入 %(n)d 行，样本 %(s)d 份（来源 %(src)s）")
                    % {"n": outcome.record.rows, "s": outcome.record.samples, "src": outcome.record.source},
                )
                return redirect("surveys:thirdparty")
    imports = ThirdPartyImport.objects.select_related("cycle", "created_by")[:50]
    return render(request, "surveys/thirdparty.html", {"form": form, "errors": errors, "imports": imports})


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    if not selectors.may_read_inbox(user):
        raise PermissionDenied
    unit_param = request.GET.get("unit", "")
    unit_id = int(unit_param) if unit_param.isdigit() and user.sees_all_units else None
    units = (
        Unit.objects.filter(is_active=True).order_by("code") if user.sees_all_units else Unit.objects.none()
    )
    return render(
        request,
        "surveys/inbox.html",
        {
            "page": paginate(request, selectors.inbox(user, unit_id), per_page=50),
            "units": units,
            "unit_id": unit_id,
        },
    )
