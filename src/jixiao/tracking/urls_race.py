"""URLs of the race pages."""

from __future__ import annotations

from django.urls import URLPattern, path

app_name = "race"

urlpatterns: list[URLPattern] = []
_ = path
