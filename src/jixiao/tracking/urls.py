"""URLs of the tracking pages (/tracking/)."""

from __future__ import annotations

from django.urls import URLPattern, path

from jixiao.tracking import views

app_name = "tracking"

urlpatterns: list[URLPattern] = [
    path("", views.home, name="home"),
    path("units/<int:pk>/", views.unit_dashboard, name="unit"),
    path("units/<int:pk>/evidence/", views.evidence_library, name="evidence_library"),
    path("indicators/<int:pk>/report/", views.report, name="report"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("evidence/<int:pk>/thumb/", views.evidence_thumbnail, name="evidence_thumbnail"),
    path("grading/", views.grading, name="grading"),
    path("reports/<int:pk>/grade/", views.grade, name="grade"),
    path("lights/", views.lights, name="lights"),
    path("policy/", views.policy, name="policy"),
]
