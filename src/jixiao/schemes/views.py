"""Scheme pages (placeholder until the UI lands)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def cycle_list(request: HttpRequest) -> HttpResponse:
    return render(request, "web/base.html")


@login_required
def cycle_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "web/base.html")


@login_required
def library_list(request: HttpRequest) -> HttpResponse:
    return render(request, "web/base.html")
