"""Mounted by config/urls.py as ``path("api/", include("jixiao.surveys.api_urls"))``:
the API lives at /api/surveys/v1/…, its OpenAPI schema at /api/surveys/openapi.json and the
interactive docs at /api/surveys/docs."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from jixiao.surveys.api import api

urlpatterns: list[URLPattern | URLResolver] = [path("surveys/", api.urls)]
