"""URLs of the declarations pages."""

from __future__ import annotations

from django.urls import URLPattern, path

app_name = "declarations"

urlpatterns: list[URLPattern] = []
_ = path
