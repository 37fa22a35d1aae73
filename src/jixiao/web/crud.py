"""The audited flows every page shares: save a ModelForm, confirm a delete, run a one-button action.

Writes go through accounts.services (validated, audited, atomic); these helpers only carry the
request/response plumbing so each app's views stay one call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import ProtectedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from jixiao.accounts.permissions import request_user
from jixiao.accounts.services import instance_create, instance_delete, instance_update

M = TypeVar("M", bound=models.Model)
R = TypeVar("R")


def post_action(
    request: HttpRequest,
    action: Callable[[], R],
    *,
    done: str | Callable[[R], str],
    to: str,
) -> HttpResponse:
    """Run a one-button POST's service call ``action``; a refusal (``ValidationError``) becomes the
    page's error message, success the message ``done`` (or ``done(result)``), then redirect to
    ``to`` either way: the buttons of a detail page have no form to redisplay."""
    try:
        result = action()
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, done if isinstance(done, str) else done(result))
    return redirect(to)


def save_model_form(
    request: HttpRequest,
    *,
    form: forms.ModelForm[M],
    before: dict[str, Any] | None,
    template: str,
    context: dict[str, Any],
    success_url: str,
    save: Callable[..., object] | None = None,
) -> HttpResponse:
    """Render ``form``; on a valid POST create (``before is None``) or update its instance,
    audited, and redirect; on errors redisplay with messages and save nothing. ``save``, when
    given, is the app's audited service called as ``save(actor=, instance=, before=)`` instead."""
    if request.method == "POST":
        if form.is_valid():
            obj = form.save(commit=False)
            try:
                if save is not None:
                    save(actor=request_user(request), instance=obj, before=before)
                elif before is None:
                    instance_create(actor=request_user(request), instance=obj)
                else:
                    instance_update(actor=request_user(request), instance=obj, before=before)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("已保存：%(obj)s") % {"obj": obj})
                return redirect(success_url)
        messages.error(request, _("保存失败，请更正下列错误"))
    return render(request, template, {"form": form, **context})


def confirm_delete(
    request: HttpRequest,
    *,
    instance: models.Model,
    template: str,
    success_url: str,
    cancel_url: str,
    context: dict[str, Any] | None = None,
    delete: Callable[..., object] | None = None,
) -> HttpResponse:
    """Confirm (GET) and delete (POST) ``instance``, audited; refuse when other records need it
    or the app's service ``delete(actor=, instance=)`` (used instead when given) refuses."""
    if request.method == "POST":
        try:
            (delete or instance_delete)(actor=request_user(request), instance=instance)
        except ProtectedError:
            messages.error(request, _("“%(obj)s”仍被其他记录引用，不能删除") % {"obj": instance})
            return redirect(cancel_url)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect(cancel_url)
        messages.success(request, _("已删除：%(obj)s") % {"obj": instance})
        return redirect(success_url)
    return render(request, template, {"object": instance, "cancel_url": cancel_url, **(context or {})})
