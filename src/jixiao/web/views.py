"""The dashboard and health check."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from jixiao.accounts.permissions import request_user
from jixiao.web import selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    return render(request, "web/home.html", {"summary": selectors.dashboard_summary(user=user)})


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})
