"""Pipeline pages under /opportunities/: deals and the board (urls_deals), products and quotes
(urls_quotes), pipeline figures (urls_figures). The parts share the "opportunities" namespace."""

from django.urls import include, path

app_name = "opportunities"

urlpatterns = [
    path("", include("apps.opportunities.urls_deals")),
    path("", include("apps.opportunities.urls_quotes")),
    path("", include("apps.opportunities.urls_figures")),
]
