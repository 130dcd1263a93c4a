"""Pages of the KPI scorecards and scoring schemes under /incentives/ (namespace "incentives")."""

from django.urls import path

from . import views_scorecards as views

urlpatterns = [
    path("scorecards/", views.scorecard_list, name="scorecard_list"),
    path("scorecards/ranking/", views.scorecard_ranking, name="scorecard_ranking"),
    path("scorecards/publish/", views.scorecards_publish, name="scorecards_publish"),
    path("scorecards/<int:pk>/", views.scorecard_detail, name="scorecard_detail"),
    path("scorecards/<int:pk>/assess/", views.scorecard_assess, name="scorecard_assess"),
    path("scorecards/<int:pk>/publish/", views.scorecard_publish, name="scorecard_publish"),
    path("schemes/", views.scheme_list, name="scheme_list"),
    path("schemes/new/", views.scheme_create, name="scheme_create"),
    path("schemes/<int:pk>/", views.scheme_detail, name="scheme_detail"),
    path("schemes/<int:pk>/edit/", views.scheme_edit, name="scheme_edit"),
    path("schemes/<int:pk>/deactivate/", views.scheme_deactivate, name="scheme_deactivate"),
    path("schemes/<int:pk>/recompute/", views.scheme_recompute, name="scheme_recompute"),
]
