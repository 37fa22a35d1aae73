"""The dashboard and health check."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from jixiao.accounts.permissions import request_user
from jixiao.web import selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role's own to-dos; the office also gets the registry summary and chart below them."""
    user = request_user(request)
    context: dict[str, Any] = {"todos": selectors.home_todos(user=user)}
    if user.is_office:
        context["summary"] = selectors.dashboard_summary(user=user)
    return render(request, "web/home.html", context)


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
