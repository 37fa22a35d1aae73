from __future__ import annotations

from django.urls import path

from jixiao.schemes import views

app_name = "schemes"
urlpatterns = [
    path("", views.cycle_list, name="cycle_list"),
    path("cycles/<int:pk>/", views.cycle_detail, name="cycle_detail"),
    path("library/", views.library_list, name="library_list"),
]
