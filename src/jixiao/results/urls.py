from __future__ import annotations

from django.urls import path

from jixiao.results import views

app_name = "results"
urlpatterns = [
    path("", views.ranking, name="ranking"),
    path("runs/", views.run_list, name="run_list"),
    path("compare/", views.compare, name="compare"),
    path("export.xlsx", views.export_xlsx, name="export"),
    path("entity/<int:pk>/", views.breakdown, name="breakdown"),
]
