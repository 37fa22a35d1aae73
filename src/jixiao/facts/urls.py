from __future__ import annotations

from django.urls import path

from jixiao.facts import declared_views, views, views_excel

app_name = "facts"
urlpatterns = [
    path("indicators/", views.indicator_list, name="indicator_list"),
    path("indicators/<int:pk>/", views.indicator_results, name="indicator_results"),
    path("declared/", declared_views.declared_unit_list, name="declared_unit_list"),
    path("declared/<int:unit_pk>/", declared_views.declared_results, name="declared_results"),
    path("adjustments/", views.adjustment_list, name="adjustment_list"),
    path("adjustments/new/", views.adjustment_create, name="adjustment_create"),
    path("adjustments/<int:pk>/delete/", views.adjustment_delete, name="adjustment_delete"),
    path("scores/", views_excel.score_list, name="score_list"),
    path("votes/", views_excel.vote_list, name="vote_list"),
    # <kind> is results, scores, votes or adjustments (FactKind).
    path("import/<slug:kind>/", views_excel.import_view, name="import"),
    path("import/<slug:kind>/template/", views_excel.template_view, name="import_template"),
]
