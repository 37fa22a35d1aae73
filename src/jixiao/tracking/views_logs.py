"""Pages of the officials' weekly work logs (周纪实, /worklogs/): the official, the head of the
official's leadership team and the office read them; nobody else (see tracking.worklogs)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jixiao.accounts.permissions import allowed_only, request_user, write_required
from jixiao.declarations.models import DeclaredIndicator
from jixiao.hygiene import NOTE_MAX_LENGTH
from jixiao.organisation.models import Official
from jixiao.tracking import worklogs
from jixiao.tracking.models import WorkLog
from jixiao.web.paging import paginate
from jixiao.web.widgets import searchable


class WorkLogForm(forms.Form):
    week = forms.DateField(
        label=gettext_lazy("周次"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("选择该周任意一天；每周一篇，再次填写即修改"),
    )
    text = forms.CharField(
        label=gettext_lazy("本周工作纪实"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=gettext_lazy("本周做了什么、推进了哪些指标、遇到什么困难"),
    )
    indicators = forms.ModelMultipleChoiceField(
        label=gettext_lazy("相关指标"),
        queryset=DeclaredIndicator.objects.none(),
        required=False,
        widget=searchable(forms.SelectMultiple()),
    )

    def __init__(self, *args: Any, official: Official, week: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["indicators"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = worklogs.unit_indicators(official=official, cycle=worklogs.cycle_for_week(week))


@login_required
@allowed_only(worklogs.may_use_worklogs)
def log_list(request: HttpRequest) -> HttpResponse:
    """周纪实: the logs the user may read, newest week first."""
    user = request_user(request)
    logs = worklogs.visible_logs(user=user)
    return render(
        request,
        "tracking/worklogs/log_list.html",
        {
            "page": paginate(request, logs),
            "may_write": worklogs.author(user) is not None,
            "heads_unit": worklogs.headed_unit(user) is not None,
        },
    )


def _week(raw: str | None) -> date:
    try:
        return worklogs.monday(date.fromisoformat(raw or ""))
    except ValueError:
        return worklogs.monday(timezone.localdate())


@login_required
@write_required
def log_write(request: HttpRequest) -> HttpResponse:
    """Write this week's log (or the week of ``?week=``); writing again edits it."""
    user = request_user(request)
    official = worklogs.author(user)
    if official is None:
        raise PermissionDenied
    week = _week(request.POST.get("week") if request.method == "POST" else request.GET.get("week"))
    existing = WorkLog.objects.filter(official=official, week=week).first()
    if request.method == "POST":
        form = WorkLogForm(request.POST, official=official, week=week)
        if form.is_valid():
            try:
                log = worklogs.worklog_save(
                    actor=user,
                    week=form.cleaned_data["week"],
                    text=form.cleaned_data["text"],
                    indicator_ids=[i.pk for i in form.cleaned_data["indicators"]],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("本周纪实已保存"))
                return redirect("worklogs:log_detail", pk=log.pk)
    else:
        initial: dict[str, Any] = {"week": week}
        if existing is not None:
            initial.update(text=existing.text, indicators=list(existing.indicators.all()))
        form = WorkLogForm(initial=initial, official=official, week=week)
    return render(
        request,
        "tracking/worklogs/log_form.html",
        {"form": form, "week": week, "existing": existing, "official": official},
    )


@login_required
@allowed_only(worklogs.may_use_worklogs)
def log_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    log = get_object_or_404(worklogs.visible_logs(user=user), pk=pk)
    return render(
        request,
        "tracking/worklogs/log_detail.html",
        {
            "log": log,
            "indicators": list(log.indicators.all()),
            "evidence": list(log.evidence.all()),
            "may_edit": user.official_id == log.official_id and worklogs.author(user) is not None,
        },
    )
