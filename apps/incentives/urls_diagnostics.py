"""Pages of the process diagnostics and of the competitor analysis under /incentives/ (the
navigation's `diagnostics` and `competitors`), the drill-downs and the competitor registry."""

from django.urls import path

from . import views_diagnostics as views

urlpatterns = [
    path("diagnostics/", views.diagnostics_page, name="diagnostics"),
    path("competitors/", views.competitors_page, name="competitors"),
    path("competitors/lost-deals/", views.lost_deals_page, name="competitor_lost_deals"),
    path("competitors/mentions/", views.mentions_page, name="competitor_mentions"),
    path("competitors/registry/", views.competitor_list, name="competitor_list"),
    path("competitors/registry/new/", views.competitor_create, name="competitor_create"),
    path("competitors/registry/<int:pk>/edit/", views.competitor_edit, name="competitor_edit"),
]
