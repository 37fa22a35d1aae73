"""Top-level URL map: one include per app."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("jixiao.accounts.urls")),
    path("org/", include("jixiao.organisation.urls")),
    path("org/io/", include("jixiao.organisation.urls_excel")),
    path("schemes/", include("jixiao.schemes.urls")),
    path("facts/", include("jixiao.facts.urls")),
    path("declarations/", include("jixiao.declarations.urls_drafting")),
    path("review/", include("jixiao.declarations.urls_review")),
    path("tracking/", include("jixiao.tracking.urls")),
    path("race/", include("jixiao.tracking.urls_race")),
    path("worklogs/", include("jixiao.tracking.urls_logs")),
    path("supervision/", include("jixiao.supervision.urls")),
    path("results/", include("jixiao.results.urls")),
    path("evaluations/", include("jixiao.evaluations.urls")),
    path("surveys/", include("jixiao.surveys.urls")),
    path("api/", include("jixiao.surveys.api_urls")),
    path("notifications/", include("jixiao.notifications.urls")),
    path("", include("jixiao.web.urls")),
]
