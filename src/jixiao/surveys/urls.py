from __future__ import annotations

from django.urls import path

from jixiao.surveys import public, views

app_name = "surveys"
urlpatterns = [
    # Public, anonymous
    path("s/<slug:token>/", public.survey_page, name="public_survey"),
    path("s/<slug:token>/thanks/", public.thanks_page, name="public_thanks"),
    # The token travels in the fragment (/surveys/r/#<token>) and in POST bodies, never in a path;
    # an old-form link is exchanged once for a session and a redirect to the token-free page.
    path("r/", public.rate_page, name="public_rate"),
    path("r/<slug:token>/", public.rate_legacy, name="public_rate_legacy"),
    # Staff
    path("", views.survey_list, name="survey_list"),
    path("new/", views.survey_create, name="survey_create"),
    path("push/", views.push_to_facts, name="push_to_facts"),
    path("<int:pk>/", views.survey_detail, name="survey_detail"),
    path("<int:pk>/edit/", views.survey_edit, name="survey_edit"),
    path("<int:pk>/targets/add/", views.target_add, name="target_add"),
    path("targets/<int:pk>/toggle/", views.target_toggle, name="target_toggle"),
    path("targets/<int:pk>/qr.svg", views.target_qr, name="target_qr"),
    path("targets/<int:pk>/poster.pdf", views.target_poster, name="target_poster"),
    path("events/", views.event_list, name="event_list"),
    path("events/new/", views.event_create, name="event_create"),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/new/", views.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("monitor/", views.sample_monitor, name="monitor"),
    path("monitor/policy/", views.policy_edit, name="policy_edit"),
    path("third-party/", views.thirdparty_import, name="thirdparty"),
    path("inbox/", views.inbox, name="inbox"),
]
