"""Excel import and export of the registry, mounted at /org/io/."""

from __future__ import annotations

from django.urls import path

from jixiao.organisation import views_excel

app_name = "registry_io"
urlpatterns = [
    path("import/", views_excel.import_view, name="import"),
    path("template/", views_excel.template_view, name="template"),
    path("export/", views_excel.export_view, name="export"),
]
