from __future__ import annotations

from django.urls import path

from jixiao.facts import views

app_name = "facts"
urlpatterns = [
    path("indicators/", views.indicator_list, name="indicator_list"),
    path("indicators/<int:pk>/", views.indicator_results, name="indicator_results"),
    path("adjustments/", views.adjustment_list, name="adjustment_list"),
    path("adjustments/new/", views.adjustment_create, name="adjustment_create"),
    path("adjustments/<int:pk>/delete/", views.adjustment_delete, name="adjustment_delete"),
]
