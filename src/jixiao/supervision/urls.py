"""URLs of 督查督办 (/supervision/)."""

from __future__ import annotations

from django.urls import URLPattern, path

from jixiao.supervision import views

app_name = "supervision"

urlpatterns: list[URLPattern] = [
    path("", views.task_list, name="task_list"),
    path("new/", views.task_create, name="task_create"),
    path("levels/", views.levels, name="levels"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("tasks/<int:pk>/sign/", views.task_sign, name="task_sign"),
    path("tasks/<int:pk>/report/", views.task_report, name="task_report"),
    path("tasks/<int:pk>/extension/", views.extension_request, name="extension_request"),
    path("tasks/<int:pk>/rate/", views.task_rate, name="task_rate"),
    path("extensions/<int:pk>/decide/", views.extension_decide, name="extension_decide"),
]
