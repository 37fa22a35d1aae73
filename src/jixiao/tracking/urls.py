"""URLs of the tracking pages."""

from __future__ import annotations

from django.urls import URLPattern, path

app_name = "tracking"

urlpatterns: list[URLPattern] = []
_ = path
