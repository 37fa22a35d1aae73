"""URLs of the review pages."""

from __future__ import annotations

from django.urls import URLPattern, path

app_name = "review"

urlpatterns: list[URLPattern] = []
_ = path
