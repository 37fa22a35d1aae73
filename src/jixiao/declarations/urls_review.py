"""URLs of the review pages (/review/)."""

from __future__ import annotations

from django.urls import path

from jixiao.declarations import views_review as views

app_name = "review"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("stages/", views.stages, name="stages"),
    path("stages/<int:cycle_pk>/add/", views.stage_add, name="stage_add"),
    path("stages/<int:cycle_pk>/preset/", views.stage_preset, name="stage_preset"),
    path("stages/s/<int:pk>/remove/", views.stage_remove, name="stage_remove"),
    path("stages/s/<int:pk>/move/", views.stage_move, name="stage_move"),
    path("d/<int:pk>/", views.declaration_review, name="declaration"),
    path("d/<int:pk>/decide/", views.declaration_decide, name="decide"),
]
