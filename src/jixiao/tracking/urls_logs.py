"""URLs of the worklogs pages."""

from __future__ import annotations

from django.urls import URLPattern, path

app_name = "worklogs"

urlpatterns: list[URLPattern] = []
_ = path
