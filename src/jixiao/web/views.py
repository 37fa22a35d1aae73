"""The dashboard and health check."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
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
    """Monitoring (docs/operations.md): 200 when the database answers and the worker is alive, else 503.

    No login and nothing sensitive: states and an age in seconds, no names, counts or errors."""
    database = _database_ok()
    worker_age = selectors.worker_last_seen_seconds() if database else None
    worker = worker_age is not None and worker_age <= settings.JIXIAO_HEALTHZ_WORKER_MAX_AGE_SECONDS
    body = {
        "ok": database and worker,
        "database": "ok" if database else "error",
        "worker": "ok" if worker else "stale",
        "worker_last_seen_seconds": worker_age,
    }
    response = JsonResponse(body, status=200 if body["ok"] else 503)
    response["Cache-Control"] = "no-store"
    return response


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return False
    return True
