from __future__ import annotations

from django.urls import path

from jixiao.organisation import views

app_name = "organisation"
urlpatterns = [
    path("units/", views.unit_list, name="unit_list"),
    path("officials/", views.official_list, name="official_list"),
    path("registry/", views.registry, name="registry"),
]
