"""The project's URLs plus the benchmark's baseline view (registered nowhere else)."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from jixiao.config.urls import urlpatterns as project

BARE_TABLE = "bench_bare_row"


@csrf_exempt
def bare_insert(request: HttpRequest) -> HttpResponse:
    """The floor: validate one small form and insert one row, through the same middleware."""
    raw = request.POST.get("score", "")
    if request.method != "POST" or not raw.isdigit() or int(raw) > 100:
        return HttpResponseBadRequest("bad")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {BARE_TABLE} (score, created_at) VALUES (%s, %s)", [int(raw), timezone.now()]
        )
    return HttpResponse(status=303, headers={"Location": "/bench/bare/done"})


urlpatterns = [path("bench/bare/", bare_insert), *project]
