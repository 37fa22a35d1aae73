"""Excel import and export of the registry (filled by the registry import/export work)."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "registry_io"
urlpatterns: list[URLPattern] = []
