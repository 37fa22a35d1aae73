"""URLs of the monthly ranking, quarterly race and bulletin pages (/race/)."""

from __future__ import annotations

from django.urls import path
from django.views.generic import RedirectView

from jixiao.tracking import views_race as views

app_name = "race"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="race:ranking_list", query_string=True), name="home"),
    path("rankings/", views.ranking_list, name="ranking_list"),
    path("rankings/compute/", views.ranking_compute, name="ranking_compute"),
    path("rankings/<int:pk>/", views.ranking_detail, name="ranking_detail"),
    path("rankings/<int:pk>/publish/", views.ranking_publish, name="ranking_publish"),
    path("jobs/<int:pk>/", views.job_status, name="job_status"),
    path("rounds/", views.round_list, name="round_list"),
    path("rounds/open/", views.round_open, name="round_open"),
    path("rounds/<int:pk>/", views.round_detail, name="round_detail"),
    path("explanations/<int:pk>/", views.explanation_detail, name="explanation_detail"),
    path("explanations/<int:pk>/review/", views.explanation_review, name="explanation_review"),
    path("bulletins/", views.bulletin_list, name="bulletin_list"),
    path("bulletins/generate/", views.bulletin_generate, name="bulletin_generate"),
    path("bulletins/<int:pk>/", views.bulletin_detail, name="bulletin_detail"),
    path("bulletins/<int:pk>/pdf/", views.bulletin_download, name="bulletin_download"),
    path("bulletins/<int:pk>/publish/", views.bulletin_publish, name="bulletin_publish"),
]
