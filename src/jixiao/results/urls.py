from __future__ import annotations

from django.urls import path

from jixiao.results import views

app_name = "results"
urlpatterns = [
    path("", views.ranking, name="ranking"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/start/", views.run_start, name="run_start"),
    path("runs/jobs/<int:pk>/", views.job_status, name="job_status"),
    path("compare/", views.compare, name="compare"),
    path("export.xlsx", views.export_xlsx, name="export"),
    path("ranking/export/", views.ranking_export_start, name="ranking_export"),
    path("ranking/export/<int:pk>/", views.ranking_export_file, name="ranking_export_file"),
    path("ranking/export/<int:pk>/status/", views.ranking_export_status, name="ranking_export_status"),
    path("entity/<int:pk>/", views.breakdown, name="breakdown"),
]
