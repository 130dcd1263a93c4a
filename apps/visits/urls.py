"""Visit pages under /visits/: plans, records and the calendar (urls_visits), weekly sales
reports and visit figures (urls_reports). The parts share the "visits" namespace."""

from django.urls import include, path

app_name = "visits"

urlpatterns = [
    path("", include("apps.visits.urls_visits")),
    path("", include("apps.visits.urls_reports")),
]
