from __future__ import annotations

from django.urls import path

from jixiao.schemes import views

app_name = "schemes"
urlpatterns = [
    path("", views.cycle_list, name="cycle_list"),
    path("cycles/new/", views.cycle_create, name="cycle_create"),
    path("cycles/<int:pk>/", views.cycle_detail, name="cycle_detail"),
    path("cycles/<int:pk>/edit/", views.cycle_edit, name="cycle_edit"),
    path("cycles/<int:pk>/copy/", views.cycle_copy, name="cycle_copy"),
    path("cycles/<int:pk>/open/", views.cycle_open, name="cycle_open"),
    path("cycles/<int:pk>/close/", views.cycle_close, name="cycle_close"),
    path("cycles/<int:pk>/reopen/", views.cycle_reopen, name="cycle_reopen"),
    path("cycles/<int:pk>/delete/", views.cycle_delete, name="cycle_delete"),
    path("cycles/<int:cycle_pk>/schemes/new/", views.scheme_create, name="scheme_create"),
    path("s/<int:pk>/", views.scheme_detail, name="scheme_detail"),
    path("s/<int:pk>/edit/", views.scheme_edit, name="scheme_edit"),
    path("s/<int:pk>/delete/", views.scheme_delete, name="scheme_delete"),
    path("s/<int:pk>/copy/", views.scheme_copy, name="scheme_copy"),
    path("s/<int:pk>/tree/", views.scheme_tree, name="scheme_tree"),
    path("s/<int:scheme_pk>/components/new/", views.component_create, name="component_create"),
    path("components/<int:pk>/edit/", views.component_edit, name="component_edit"),
    path("components/<int:pk>/delete/", views.component_delete, name="component_delete"),
    path("s/<int:scheme_pk>/policies/new/", views.policy_create, name="policy_create"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("policies/<int:pk>/delete/", views.policy_delete, name="policy_delete"),
    path("policies/<int:policy_pk>/levels/new/", views.level_create, name="level_create"),
    path("levels/<int:pk>/edit/", views.level_edit, name="level_edit"),
    path("levels/<int:pk>/delete/", views.level_delete, name="level_delete"),
    path("policies/<int:policy_pk>/rules/new/", views.rule_create, name="rule_create"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("s/<int:scheme_pk>/indicators/new/", views.indicator_add, name="indicator_add"),
    path("s/<int:scheme_pk>/indicators/library/", views.indicator_library, name="indicator_library"),
    path("indicators/<int:pk>/edit/", views.indicator_edit, name="indicator_edit"),
    path("indicators/<int:pk>/move/", views.indicator_move, name="indicator_move"),
    path("indicators/<int:pk>/delete/", views.indicator_delete, name="indicator_delete"),
    path("library/", views.library_list, name="library_list"),
    path("library/new/", views.library_create, name="library_create"),
    path("library/<int:pk>/edit/", views.library_edit, name="library_edit"),
    path("library/<int:pk>/delete/", views.library_delete, name="library_delete"),
]
