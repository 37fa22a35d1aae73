"""Registry pages (placeholder until the UI lands)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def unit_list(request: HttpRequest) -> HttpResponse:
    return render(request, "web/base.html")


@login_required
def official_list(request: HttpRequest) -> HttpResponse:
    return render(request, "web/base.html")


@login_required
def registry(request: HttpRequest) -> HttpResponse:
    return render(request, "web/base.html")
