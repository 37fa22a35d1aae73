from __future__ import annotations

from django.urls import path

from jixiao.evaluations import views

app_name = "evaluations"
urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("new/", views.event_create, name="event_create"),
    path("<int:pk>/", views.event_detail, name="event_detail"),
    path("<int:pk>/edit/", views.event_edit, name="event_edit"),
    path("<int:pk>/progress/", views.event_progress, name="event_progress"),
    path("<int:pk>/open/", views.event_open, name="event_open"),
    path("<int:pk>/close/", views.event_close, name="event_close"),
    path("<int:pk>/groups/<int:group_pk>/codes.pdf", views.codes_issue, name="codes_issue"),
    path("<int:pk>/results/", views.event_results, name="event_results"),
    path("forms/", views.form_list, name="form_list"),
    path("forms/new/", views.form_edit, name="form_create"),
    path("forms/<int:pk>/", views.form_edit, name="form_edit"),
    # Public, no login: the code travels in the fragment and in POST bodies, never in a URL.
    path("b/", views.ballot_start, name="ballot_start"),
    path("b/open/", views.ballot_open, name="ballot_open"),
    path("b/submit/", views.ballot_submit, name="ballot_submit"),
    path("b/thanks/", views.ballot_thanks, name="ballot_thanks"),
]
