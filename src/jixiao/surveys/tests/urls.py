"""The project's URLs plus the API, as config/urls.py will have them."""

from __future__ import annotations

from django.urls import include, path

from jixiao.config.urls import urlpatterns as project

urlpatterns = [path("api/", include("jixiao.surveys.api_urls")), *project]
