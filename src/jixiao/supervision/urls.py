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
    path("bulletins/", views.bulletin_list, name="bulletin_list"),
    path("bulletins/generate/", views.bulletin_generate, name="bulletin_generate"),
    path("bulletins/<int:pk>/", views.bulletin_detail, name="bulletin_detail"),
    path("bulletins/<int:pk>/pdf/", views.bulletin_download, name="bulletin_download"),
    path("bulletins/<int:pk>/publish/", views.bulletin_publish, name="bulletin_publish"),
    path("jobs/<int:pk>/", views.job_status, name="job_status"),
]
