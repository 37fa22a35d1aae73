"""URLs of the declaration pages (目标申报, 目标公布, 动态任务), mounted at /declarations/."""

from __future__ import annotations

from django.urls import URLPattern, path

from jixiao.declarations import views_drafting as views

app_name = "declarations"

urlpatterns: list[URLPattern] = [
    path("", views.home, name="home"),
    path("start/", views.start, name="declaration_start"),
    path("<int:pk>/", views.detail, name="declaration_detail"),
    path("<int:pk>/indicators/new/", views.indicator_create, name="indicator_create"),
    path("<int:pk>/library/", views.library_pull, name="library_pull"),
    path("<int:pk>/carry-over/", views.carry_over, name="carry_over"),
    path("<int:pk>/submit/", views.submit, name="declaration_submit"),
    path("<int:pk>/versions/", views.versions, name="version_list"),
    path("<int:pk>/change/", views.change_request, name="change_request"),
    path("<int:pk>/change/withdraw/", views.change_withdraw, name="change_withdraw"),
    path("<int:pk>/publish/", views.publish_one, name="declaration_publish"),
    path("indicators/<int:pk>/edit/", views.indicator_edit, name="indicator_edit"),
    path("indicators/<int:pk>/delete/", views.indicator_delete, name="indicator_delete"),
    path("versions/<int:pk>/", views.version_detail, name="version_detail"),
    path("publication/", views.publication_page, name="publication"),
    path("publication/publish/", views.publish_all, name="publish_all"),
    path("publication/export.<slug:fmt>", views.publication_export, name="publication_export"),
    path("publication/pdf/", views.publication_pdf_start, name="publication_pdf_start"),
    path("publication/pdf/<int:pk>/", views.publication_pdf, name="publication_pdf"),
    path("publication/pdf/<int:pk>/status/", views.publication_pdf_status, name="publication_pdf_status"),
    path("led/", views.led, name="led"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/new/", views.task_create, name="task_create"),
]
